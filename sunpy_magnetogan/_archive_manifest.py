"""
The records and manifest of an archive run (`sunpy_magnetogan.archive`), apart from the
Dask scheduling: one `ArchiveRecord` per input and run, appended to the JSON-lines
manifest by the client (`ManifestWriter`), read back by `read_manifest`; `verify_output`
tells a complete output file from a missing or damaged one.

Private module: the public names are exported by `sunpy_magnetogan.archive`.
"""

import dataclasses
import datetime
import json
import logging
import os
import warnings
from pathlib import Path

__all__ = ["MANIFEST_NAME", "ArchiveRecord", "ManifestWriter", "read_manifest", "utc_now", "verify_output"]

log = logging.getLogger("sunpy_magnetogan.archive")

#: File name of the manifest in the output directory.
MANIFEST_NAME = "manifest.jsonl"


@dataclasses.dataclass(frozen=True)
class ArchiveRecord:
    """
    What happened to one input file in one run.

    Attributes
    ----------
    input : str
        Absolute path of the input file.
    output : str
        Absolute path of its magnetogram FITS file.
    status : {"done", "skipped", "failed"}
        Generated in this run; already there and valid; or failed (see ``error``).
    error : str or None
        ``"<ExceptionType>: <message>"`` of a failed file.
    duration_s : float or None
        Seconds the worker spent on the file (reading, model, writing).
    worker : str or None
        Address of the worker that made it.
    warnings : tuple of str
        Warnings raised while making it (partial disk, bad pixels...).
    model : str
        The model name (or weights file) asked for.
    run_id : str
        Identifier of the run.
    time : str
        UTC time the record was written, ISO 8601.

    Examples
    --------
    >>> from sunpy_magnetogan.archive import ArchiveRecord
    >>> record = ArchiveRecord(input="/data/aia_304.fits", output="/out/aia_304_magnetogram.fits", status="done")
    >>> record.status, record.error
    ('done', None)
    """

    input: str
    output: str
    status: str
    error: str | None = None
    duration_s: float | None = None
    worker: str | None = None
    warnings: tuple = ()
    model: str = ""
    run_id: str = ""
    time: str = ""

    def to_dict(self):
        """
        The record as a JSON-friendly dict.

        Returns
        -------
        dict
        """
        values = dataclasses.asdict(self)
        values["warnings"] = list(self.warnings)
        return values


def verify_output(path):
    """
    Whether an output file is a complete, readable magnetogram FITS file.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    bool
        True if it opens as FITS, its primary HDU holds a 2-D image, and its ``CHECKSUM``
        and ``DATASUM`` keywords (when present) match its bytes.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.archive import verify_output
    >>> from sunpy_magnetogan.sample import SAMPLE_HMI
    >>> sunpy.map.Map(SAMPLE_HMI).save(tmp_path / "ok.fits")
    >>> _ = (tmp_path / "cut.fits").write_bytes((tmp_path / "ok.fits").read_bytes()[:5000])
    >>> verify_output(tmp_path / "ok.fits"), verify_output(tmp_path / "cut.fits")
    (True, False)
    """
    from astropy.io import fits

    path = Path(path)
    if not path.is_file():
        return False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with fits.open(path, memmap=False) as hdul:
                hdu = hdul[0]
                data = hdu.data
                if data is None or data.ndim != 2:
                    return False
                header = hdu.header
                if "DATASUM" in header and hdu.verify_datasum() != 1:
                    return False
                if "CHECKSUM" in header and hdu.verify_checksum() != 1:
                    return False
    except Exception as exc:  # a damaged file can fail in many ways; each means "redo it"
        log.info("output %s does not verify (%s: %s); it will be made again", path, type(exc).__name__, exc)
        return False
    return True


def read_manifest(output_dir):
    """
    All records of the manifest of an output directory, oldest first.

    Parameters
    ----------
    output_dir : str or os.PathLike
        The output directory of `generate_archive`.

    Returns
    -------
    list of ArchiveRecord
        One per line (a line cut short by a crash is skipped).

    Examples
    --------
    >>> from sunpy_magnetogan.archive import read_manifest
    >>> read_manifest(tmp_path)  # no run yet: an empty manifest
    []
    >>> records = read_manifest("magnetograms/")  # doctest: +SKIP
    >>> [r.input for r in records if r.status == "failed"]  # doctest: +SKIP
    """
    path = Path(output_dir) / MANIFEST_NAME
    if not path.is_file():
        return []
    records = []
    fields = {f.name for f in dataclasses.fields(ArchiveRecord)}
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                values = json.loads(line)
                values = {k: v for k, v in values.items() if k in fields}
                values["warnings"] = tuple(values.get("warnings") or ())
                records.append(ArchiveRecord(**values))
            except (ValueError, TypeError) as exc:
                log.warning("skipping unreadable line %d of %s: %s", number, path, exc)
    return records


class ManifestWriter:
    """Append-only JSON-lines manifest: one ``write`` and ``fsync`` per record."""

    def __init__(self, path):
        self.path = Path(path)

    def append(self, record):
        line = (json.dumps(record.to_dict(), sort_keys=True) + "\n").encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)


def utc_now():
    """The current UTC time, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")

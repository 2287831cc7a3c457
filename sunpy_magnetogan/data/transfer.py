"""
Resumable downloads of archive files.

`fetch_files` downloads a list of `DownloadJob` into a directory so that an interrupted
run can simply be started again:

* every file is written to ``<name>.part`` and renamed to ``<name>`` only once it is
  complete (and its size checked when the archive states it);
* each completed file is then recorded in the `~sunpy_magnetogan.data.manifest.DownloadManifest`;
* on (re)start, left-over ``*.part`` files are deleted and the files the manifest lists
  as complete (and that are on disk with the recorded size) are skipped.

The transfers themselves are made by a *downloader*: a callable that takes a list of
``(job, part_path)`` and yields ``(job, error_or_None)`` as each one finishes.
`ParfiveDownloader` (the default) uses `parfive`, as `sunpy.net.Fido` does; tests inject
fakes. The ``fetch`` workflow that plans the jobs is `sunpy_magnetogan.data.download`.
"""

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from sunpy_magnetogan._io import sha256_file
from sunpy_magnetogan.data.manifest import DownloadManifest
from sunpy_magnetogan.exceptions import DataFetchError

__all__ = [
    "PARTIAL_SUFFIX",
    "DownloadJob",
    "FetchSummary",
    "ParfiveDownloader",
    "fetch_files",
    "partial_path",
    "remove_partial_files",
]

log = logging.getLogger("sunpy_magnetogan.data.download")

#: Ending of a file still being downloaded.
PARTIAL_SUFFIX = ".part"
#: File name of the downloads manifest inside a fetch directory.
MANIFEST_FILE = "downloads.jsonl"


@dataclass(frozen=True)
class DownloadJob:
    """
    One file to download.

    Parameters
    ----------
    key : str
        The record key (`~sunpy_magnetogan.data.pairing.Record.key`); keys the manifest.
    url : str
        Where to get it.
    filename : str
        Path relative to the download directory, e.g. ``"files/aia304/2011/01/x.fits"``.
    size : int, optional
        Exact expected size in bytes; a file of another size is refused.

    Examples
    --------
    >>> from sunpy_magnetogan.data import DownloadJob
    >>> job = DownloadJob("hmi.M_720s[2011.01.01_00:00:00_TAI]", "https://example.org/hmi.fits",
    ...                   "files/hmi_los/2011/01/hmi.fits", size=1024)
    >>> job.filename
    'files/hmi_los/2011/01/hmi.fits'
    """

    key: str
    url: str
    filename: str
    size: int | None = None


@dataclass
class FetchSummary:
    """
    What `fetch_files` did.

    Attributes
    ----------
    downloaded : list of str
        Keys downloaded in this run.
    skipped : list of str
        Keys already complete (from an earlier run).
    failed : dict
        ``{key: error message}`` for the files that failed (retried on the next run).
    removed_partials : int
        Left-over ``.part`` files deleted at the start.

    Examples
    --------
    >>> import shutil
    >>> from sunpy_magnetogan.data import DownloadJob, fetch_files
    >>> from sunpy_magnetogan.sample import SAMPLE_HMI
    >>> def copy_downloader(batch):  # stands in for parfive: copies instead of downloading
    ...     for job, part in batch:
    ...         _ = shutil.copy(SAMPLE_HMI, part)
    ...         yield job, None
    >>> jobs = [DownloadJob("hmi-1", "https://example.org/hmi1.fits", "files/hmi1.fits")]
    >>> summary = fetch_files(jobs, tmp_path / "downloads", downloader=copy_downloader)
    >>> summary.downloaded, summary.skipped, summary.failed
    (['hmi-1'], [], {})
    """

    downloaded: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)
    removed_partials: int = 0

    @property
    def ok(self):
        """True when no file failed."""
        return not self.failed


def partial_path(path):
    """
    The temporary name a file is downloaded to: ``<path>.part``.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    return path.with_name(path.name + PARTIAL_SUFFIX)


def remove_partial_files(directory):
    """
    Delete every ``*.part`` file under a directory (left by an interrupted download).

    Parameters
    ----------
    directory : str or os.PathLike

    Returns
    -------
    int
        How many files were deleted.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return 0
    n = 0
    for part in directory.rglob(f"*{PARTIAL_SUFFIX}"):
        if part.is_file():
            part.unlink()
            n += 1
    if n:
        log.info("deleted %d partial files left in %s by an interrupted download", n, directory)
    return n


class ParfiveDownloader:
    """
    Downloads batches of files with `parfive` (the downloader `sunpy.net.Fido` uses).

    Parameters
    ----------
    max_conn : int, optional
        Parallel connections (the JSOC asks for 1).
    max_splits : int, optional
        Parallel ranges per file.
    progress : bool, optional
        Show parfive's progress bars.

    Examples
    --------
    >>> from sunpy_magnetogan.data import ParfiveDownloader, fetch_files
    >>> downloader = ParfiveDownloader(max_conn=1)  # the JSOC asks for one connection
    >>> summary = fetch_files(jobs, "downloads", downloader=downloader)  # doctest: +SKIP
    """

    def __init__(self, *, max_conn=4, max_splits=1, progress=False):
        self.max_conn = int(max_conn)
        self.max_splits = int(max_splits)
        self.progress = bool(progress)

    def __call__(self, items):
        """
        Download ``(job, part_path)`` items; yield ``(job, error_or_None)`` for each.

        Parameters
        ----------
        items : list of tuple
            `DownloadJob` and the path to write it to.

        Yields
        ------
        tuple
            ``(job, None)`` when ``part_path`` holds the complete file, or
            ``(job, exception)``.
        """
        import parfive

        downloader = parfive.Downloader(
            max_conn=self.max_conn, max_splits=self.max_splits, progress=self.progress, overwrite=True
        )
        for job, part in items:
            downloader.enqueue_file(job.url, path=Path(part).parent, filename=Path(part).name)
        results = downloader.download()
        errors = {error.url: error.exception for error in results.errors}
        for job, part in items:
            if job.url in errors:
                yield job, errors[job.url]
            elif Path(part).is_file():
                yield job, None
            else:
                yield job, DataFetchError(f"parfive reported no error but wrote no file for {job.url}")


def _finish(job, part, final, error, manifest, summary):
    """Check a finished transfer, move it into place and record it."""
    if error is None and not part.is_file():
        error = DataFetchError("the downloader wrote no file")
    if error is None and job.size is not None and part.stat().st_size != job.size:
        error = DataFetchError(f"size {part.stat().st_size} bytes, the archive states {job.size} bytes")
    if error is not None:
        part.unlink(missing_ok=True)
        manifest.record_failed(job.key, url=job.url, error=error)
        summary.failed[job.key] = str(error)
        log.warning("download of %s failed: %s", job.url, error)
        return
    digest = sha256_file(part)
    os.replace(part, final)
    manifest.record_done(job.key, url=job.url, path=final, sha256=digest)
    summary.downloaded.append(job.key)
    log.debug("downloaded %s -> %s", job.url, final)


def fetch_files(jobs, directory, *, manifest=None, downloader=None, batch_size=16):
    """
    Download files so that an interrupted run resumes where it stopped.

    Parameters
    ----------
    jobs : iterable of DownloadJob
        The files; ``job.filename`` is relative to ``directory``.
    directory : str or os.PathLike
        The download directory.
    manifest : `~sunpy_magnetogan.data.manifest.DownloadManifest`, optional
        ``directory / "downloads.jsonl"`` by default.
    downloader : callable, optional
        Takes a list of ``(job, part_path)`` and yields ``(job, error_or_None)``
        (`ParfiveDownloader` by default).
    batch_size : int, optional
        Files handed to the downloader at a time; a killed run loses at most the
        transfers of one batch.

    Returns
    -------
    FetchSummary

    Notes
    -----
    A file is never left half-written under its final name: transfers go to
    ``<name>.part`` and are renamed when complete. If the downloader raises (e.g.
    ``KeyboardInterrupt``), the files already finished are recorded, the ``.part``
    files of the batch are deleted and the exception propagates; calling
    `fetch_files` again with the same jobs downloads only what is missing.

    Examples
    --------
    >>> import shutil
    >>> from sunpy_magnetogan.data import DownloadJob, fetch_files
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> def copy_downloader(batch):  # stands in for parfive: copies instead of downloading
    ...     for job, part in batch:
    ...         _ = shutil.copy(SAMPLE_AIA304, part)
    ...         yield job, None
    >>> jobs = [DownloadJob("aia-1", "https://example.org/aia1.fits", "files/aia1.fits")]
    >>> fetch_files(jobs, tmp_path, downloader=copy_downloader).downloaded
    ['aia-1']
    >>> fetch_files(jobs, tmp_path, downloader=copy_downloader).skipped  # a second run resumes
    ['aia-1']
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    manifest = manifest if manifest is not None else DownloadManifest(directory / MANIFEST_FILE)
    summary = FetchSummary(removed_partials=remove_partial_files(directory))
    pending = []
    seen = set()
    for job in jobs:
        if job.key in seen:
            continue
        seen.add(job.key)
        if manifest.is_complete(job.key):
            summary.skipped.append(job.key)
        else:
            pending.append(job)
    if summary.skipped:
        log.info("%d files already downloaded, %d to fetch", len(summary.skipped), len(pending))
    if not pending:
        return summary
    downloader = downloader if downloader is not None else ParfiveDownloader()
    batch_size = max(1, int(batch_size))
    for start in range(0, len(pending), batch_size):
        items = []
        for job in pending[start : start + batch_size]:
            final = directory / job.filename
            final.parent.mkdir(parents=True, exist_ok=True)
            part = partial_path(final)
            part.unlink(missing_ok=True)
            items.append((job, part))
        paths = {job.key: (part, directory / job.filename) for job, part in items}
        try:
            for job, error in downloader(items):
                part, final = paths[job.key]
                _finish(job, part, final, error, manifest, summary)
        finally:
            # Whatever was not finished (interrupted, or never reported) is not kept.
            for _, part in items:
                part.unlink(missing_ok=True)
        for job, _ in items:
            if job.key not in summary.failed and job.key not in summary.downloaded:
                summary.failed[job.key] = "the downloader did not report this file"
                manifest.record_failed(job.key, url=job.url, error=summary.failed[job.key])
    return summary


# --- URL resolution (needs the network) ----------------------------------------------

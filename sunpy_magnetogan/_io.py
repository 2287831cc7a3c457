"""
Small I/O helpers shared across the package (private: not part of the public API).

One home for what several modules used to write again each: atomic write-then-rename,
file hashing, the choice of a torch device, the list of maps a function accepts, and the
name of a generated magnetogram file.

Importing this module is cheap (standard library only): torch and ``sunpy.map`` load only
in the functions that need them, so that the command line and the weights cache can use it.
"""

import contextlib
import csv
import hashlib
import io
import os
import tempfile
from pathlib import Path

from sunpy_magnetogan.exceptions import DeviceError, InputMapError

__all__ = [
    "as_maps",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_csv",
    "atomic_write_text",
    "fsync_dir",
    "magnetogram_path",
    "resolve_device",
    "sha256_file",
    "shared_outputs",
]


@contextlib.contextmanager
def atomic_path(path, *, suffix=".tmp"):
    """
    Write a file atomically: yield a temporary path beside ``path``, then rename it into
    place when the block succeeds (or delete it when the block raises).

    A reader sees the old file or the new one, never a half-written file, and concurrent
    writers never share a temporary file.

    Parameters
    ----------
    path : str or os.PathLike
        The final file; its directory is created if needed.
    suffix : str, optional
        Ending of the temporary file's name (``.<name>.<pid>.<random><suffix>``), so that a
        clean-up can find the leftovers of an interrupted write.

    Yields
    ------
    pathlib.Path
        The temporary file to write (it exists, empty).

    Examples
    --------
    >>> from sunpy_magnetogan._io import atomic_path
    >>> with atomic_path(tmp_path / "a.txt") as tmp:
    ...     _ = tmp.write_text("hello")
    >>> (tmp_path / "a.txt").read_text(), sorted(p.name for p in tmp_path.iterdir())
    ('hello', ['a.txt'])
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # The writer's process id in the name tells whose leftover a stray temporary file is.
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=suffix, dir=path.parent)
    os.close(fd)
    tmp = Path(tmp)
    # mkstemp creates the file private (0600); published files are world-readable.
    tmp.chmod(0o644)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_bytes(path, data):
    """
    Write bytes to a file atomically (`atomic_path`).

    Parameters
    ----------
    path : str or os.PathLike
    data : bytes
    """
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path, text):
    """
    Write text (UTF-8) to a file atomically (`atomic_path`).

    Parameters
    ----------
    path : str or os.PathLike
    text : str
    """
    atomic_write_bytes(path, text.encode())


def atomic_write_csv(path, rows, *, fieldnames=None):
    """
    Write a CSV file atomically (`atomic_path`).

    Parameters
    ----------
    path : str or os.PathLike
    rows : iterable
        Dicts when ``fieldnames`` is given (written under a header row), else sequences
        (the first is the header, if any).
    fieldnames : sequence of str, optional
        The columns of dict rows.

    Examples
    --------
    >>> from sunpy_magnetogan._io import atomic_write_csv
    >>> atomic_write_csv(tmp_path / "a.csv", [{"x": 1, "y": 2}], fieldnames=["x", "y"])
    >>> (tmp_path / "a.csv").read_text().splitlines()
    ['x,y', '1,2']
    """
    buffer = io.StringIO(newline="")
    if fieldnames is None:
        csv.writer(buffer).writerows(rows)
    else:
        writer = csv.DictWriter(buffer, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)
    atomic_write_text(path, buffer.getvalue())


def fsync_dir(directory):
    """
    Flush a directory's entries to disk, so that a rename in it survives a power cut.

    Parameters
    ----------
    directory : str or os.PathLike
        Ignored where the platform cannot open directories (Windows).
    """
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def sha256_file(path, *, chunk_size=1 << 20):
    """
    SHA-256 hash of a file, read in chunks so that memory use stays small.

    Parameters
    ----------
    path : str or os.PathLike
        The file.
    chunk_size : int, optional
        Bytes read at a time.

    Returns
    -------
    str
        64 lower-case hexadecimal digits.

    Examples
    --------
    >>> from sunpy_magnetogan._io import sha256_file
    >>> _ = (tmp_path / "hello.txt").write_bytes(b"hello")
    >>> sha256_file(tmp_path / "hello.txt")[:16]
    '2cf24dba5fb0a30e'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def resolve_device(device=None, *, local_rank=None):
    """
    The torch device to run on (inference and training alike).

    Parameters
    ----------
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; None or ``"auto"`` picks CUDA when
        available, else the CPU.
    local_rank : int, optional
        Rank of this process on its node: a CUDA device without an index becomes GPU
        ``local_rank`` (distributed training). None leaves the index unset.

    Returns
    -------
    torch.device

    Raises
    ------
    sunpy_magnetogan.exceptions.DeviceError
        If the device name is not one torch knows, or CUDA is asked for but not available
        (a `RuntimeError` too).

    Examples
    --------
    >>> from sunpy_magnetogan._io import resolve_device
    >>> resolve_device("cpu")
    device(type='cpu')
    """
    # lazy: torch loads in seconds; the command line and the weights cache import this module.
    import torch

    if device is None or (isinstance(device, str) and device == "auto"):
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        device = torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise DeviceError(f"unknown device {device!r}: use 'cpu', 'cuda' or 'cuda:N'") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise DeviceError(
            f"device={str(device)!r} was requested but torch sees no CUDA GPU; use device='cpu'"
        )
    if device.type not in ("cpu", "cuda"):
        raise DeviceError(f"device {str(device)!r} is not supported: use 'cpu', 'cuda' or 'cuda:N'")
    if device.type == "cuda" and device.index is None and local_rank is not None:
        device = torch.device("cuda", local_rank)
    return device


def as_maps(maps, *, sort=False):
    """
    A list of single maps from maps and/or files a function was given.

    Parameters
    ----------
    maps : iterable
        `~sunpy.map.GenericMap` objects and/or anything ``sunpy.map.Map`` reads (paths).
    sort : bool, optional
        Sort the maps by their reference date.

    Returns
    -------
    list of `~sunpy.map.GenericMap`

    Raises
    ------
    InputMapError
        If an item is not one map (e.g. a file holding several).
    ValueError
        If no maps are given.
    """
    # lazy: sunpy.map loads in seconds; this module is also used where no map is read.
    import sunpy.map

    out = []
    for item in maps:
        smap = item if isinstance(item, sunpy.map.GenericMap) else sunpy.map.Map(item)
        if not isinstance(smap, sunpy.map.GenericMap):
            raise InputMapError(f"{item!r} is not a single map")
        out.append(smap)
    if not out:
        raise ValueError("no maps were given")
    return sorted(out, key=lambda m: m.reference_date.jd) if sort else out


def magnetogram_path(output_dir, label):
    """
    The file a generated magnetogram of an input is written to.

    Parameters
    ----------
    output_dir : pathlib.Path
        The output directory.
    label : str
        The input's file name or label; its FITS/JPEG 2000 extension is dropped and
        characters other than letters, digits, ``.``, ``_`` and ``-`` become ``_``.

    Returns
    -------
    pathlib.Path
        ``output_dir / "<stem>_magnetogram.fits"``.

    Examples
    --------
    >>> from pathlib import Path
    >>> from sunpy_magnetogan._io import magnetogram_path
    >>> magnetogram_path(Path("out"), "aia 304.fits").as_posix()
    'out/aia_304_magnetogram.fits'
    """
    stem = Path(label).name
    for suffix in (".fits", ".fts", ".fit", ".jp2", ".gz"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in stem)
    return output_dir / f"{safe}_magnetogram.fits"


def shared_outputs(outputs):
    """
    The output files that several inputs would write, so that a batch can refuse them.

    Parameters
    ----------
    outputs : iterable of (pathlib.Path, object)
        ``(output path, shown)`` per input, in input order: the file its result goes to
        (see `magnetogram_path`) and how messages show the input.

    Returns
    -------
    dict
        ``{output path: [shown, ...]}`` for every output path that two or more inputs
        share, in input order; empty when all outputs are distinct.

    Examples
    --------
    >>> from pathlib import Path
    >>> from sunpy_magnetogan._io import magnetogram_path, shared_outputs
    >>> names = ["a/x.fits", "b/x.jp2", "c/y.fits"]
    >>> clashes = shared_outputs((magnetogram_path(Path("out"), n), n) for n in names)
    >>> {out.name: shown for out, shown in clashes.items()}
    {'x_magnetogram.fits': ['a/x.fits', 'b/x.jp2']}
    """
    by_output = {}
    for out, shown in outputs:
        by_output.setdefault(out, []).append(shown)
    return {out: shown for out, shown in by_output.items() if len(shown) > 1}

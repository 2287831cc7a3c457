"""
Where downloaded weights are cached, offline mode and cache locks.

The cache directory is chosen, first match wins, from

1. the ``cache_dir`` argument of the function called;
2. the ``SUNPY_MAGNETOGAN_CACHE`` environment variable;
3. ``<sunpy data directory>/magnetogan``, where the sunpy data directory is the per-user
   data directory sunpy itself uses (``AppDirs("sunpy", "sunpy").user_data_dir``, e.g.
   ``~/.local/share/sunpy`` on Linux, ``~/Library/Application Support/sunpy`` on macOS);
   it is the default of sunpy's ``[downloads] sample_dir`` setting.

The same directory holds ``user_models.json``, the models registered with
``persist=True`` (or ``sunpy-magnetogan models register``).

Offline mode (no network access; only embedded, local and cached files are used) is on when
the ``offline`` argument is True, or, when that argument is None, when the
``SUNPY_MAGNETOGAN_OFFLINE`` environment variable is set to anything but an empty string,
``0``, ``false``, ``no`` or ``off``.
"""

import contextlib
import logging
import os
import tempfile
from pathlib import Path

import filelock
from sunpy.extern.appdirs import AppDirs

from sunpy_magnetogan._io import atomic_path  # noqa: F401 - re-exported: its home was this module
from sunpy_magnetogan.exceptions import CacheError, OutputPathError

__all__ = [
    "CACHE_ENV",
    "LOCK_TIMEOUT",
    "OFFLINE_ENV",
    "cache_lock",
    "default_cache_dir",
    "ensure_dir",
    "ensure_writable_dir",
    "resolve_cache_dir",
    "resolve_offline",
    "sunpy_data_dir",
]

log = logging.getLogger(__name__)

#: Environment variable that overrides the default cache directory.
CACHE_ENV = "SUNPY_MAGNETOGAN_CACHE"
#: Environment variable that turns offline mode on (``1``) when no argument says otherwise.
OFFLINE_ENV = "SUNPY_MAGNETOGAN_OFFLINE"
#: Seconds to wait for another process to finish writing the same cache entry.
LOCK_TIMEOUT = 900.0

_FALSE_WORDS = {"", "0", "false", "no", "off"}


def sunpy_data_dir():
    """
    The per-user data directory of sunpy.

    Returns
    -------
    pathlib.Path
        ``AppDirs("sunpy", "sunpy").user_data_dir``, the directory sunpy uses for its own
        data (the default of its ``[downloads] sample_dir`` setting).
    """
    return Path(AppDirs("sunpy", "sunpy").user_data_dir)


def default_cache_dir():
    """
    The cache directory used when neither an argument nor the environment names one.

    Returns
    -------
    pathlib.Path
        ``sunpy_data_dir() / "magnetogan"``.

    Examples
    --------
    >>> from sunpy_magnetogan.weights import default_cache_dir
    >>> default_cache_dir().name
    'magnetogan'
    """
    return sunpy_data_dir() / "magnetogan"


def resolve_cache_dir(cache_dir=None):
    """
    The weights cache directory: the argument, else ``$SUNPY_MAGNETOGAN_CACHE``, else the
    default (see the module docstring). The directory is not created.

    Parameters
    ----------
    cache_dir : str or os.PathLike, optional
        Explicit directory; ``~`` is expanded.

    Returns
    -------
    pathlib.Path
        An absolute path.

    Examples
    --------
    >>> from sunpy_magnetogan.weights import resolve_cache_dir
    >>> resolve_cache_dir(tmp_path / "weights") == (tmp_path / "weights").resolve()
    True
    """
    if cache_dir is None:
        cache_dir = os.environ.get(CACHE_ENV) or default_cache_dir()
    return Path(cache_dir).expanduser().absolute()


def resolve_offline(offline=None):
    """
    Whether offline mode is on.

    Parameters
    ----------
    offline : bool or None, optional
        Explicit choice; None defers to ``$SUNPY_MAGNETOGAN_OFFLINE``.

    Returns
    -------
    bool

    Examples
    --------
    >>> from sunpy_magnetogan.weights import resolve_offline
    >>> resolve_offline(True), resolve_offline(False)  # None reads $SUNPY_MAGNETOGAN_OFFLINE
    (True, False)
    """
    if offline is not None:
        return bool(offline)
    return os.environ.get(OFFLINE_ENV, "").strip().lower() not in _FALSE_WORDS


def ensure_dir(path):
    """
    Create a directory (and its parents) if needed.

    Parameters
    ----------
    path : str or os.PathLike
        The directory.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    sunpy_magnetogan.exceptions.CacheError
        If it cannot be created; the message names it.
    """
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise CacheError(f"cannot create the weights cache directory {path}: {exc}") from exc
    return path


def ensure_writable_dir(path, *, what="output folder"):
    """
    Create a folder if needed and prove that files can be written into it.

    Commands call this before any work starts, so that a typo in an output path costs
    nothing (not an hour of inference, then a traceback).

    Parameters
    ----------
    path : str or os.PathLike
        The folder.
    what : str, optional
        How messages name it.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    sunpy_magnetogan.exceptions.OutputPathError
        If the path is a file, or the folder cannot be created or written (permissions,
        read-only file system); the message names it.

    Examples
    --------
    >>> from sunpy_magnetogan.weights.cache import ensure_writable_dir
    >>> ensure_writable_dir(tmp_path / "out").is_dir()
    True
    >>> _ = (tmp_path / "file.txt").write_text("")
    >>> ensure_writable_dir(tmp_path / "file.txt")
    Traceback (most recent call last):
    ...
    sunpy_magnetogan.exceptions.OutputPathError: the output folder ... is a file; give a folder
    """
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise OutputPathError(f"the {what} {path} is a file; give a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        # A real write: permission bits say nothing to root or on a read-only mount.
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise OutputPathError(f"cannot write into the {what} {path}: {exc.strerror or exc}") from exc
    return path


@contextlib.contextmanager
def cache_lock(target, *, timeout=LOCK_TIMEOUT):
    """
    Hold an inter-process lock on a cache entry (the file ``<target>.lock``).

    Parameters
    ----------
    target : str or os.PathLike
        The cache file to protect; its directory must exist.
    timeout : float, optional
        Seconds to wait for another process that holds the lock.

    Yields
    ------
    None

    Raises
    ------
    sunpy_magnetogan.exceptions.CacheError
        If the lock file cannot be created or the lock is not obtained in time.
    """
    lock_path = f"{os.fspath(target)}.lock"
    lock = filelock.FileLock(lock_path, timeout=timeout)
    try:
        lock.acquire()
    except filelock.Timeout as exc:
        raise CacheError(
            f"another process has held the cache lock {lock_path} for more than {timeout:g} s; "
            "if no other sunpy-magnetogan process is running, delete that file"
        ) from exc
    except OSError as exc:
        raise CacheError(f"cannot create the cache lock {lock_path}: {exc}") from exc
    try:
        yield
    finally:
        lock.release()

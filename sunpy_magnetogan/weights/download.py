"""
Download of weights files into the cache, with hash verification, mirrors and locking.

`fetch_file` returns a cached file only after checking its SHA-256 hash. On a miss it takes
an inter-process lock on the cache entry (``<cache>/<filename>.lock``), looks again (another
process may have finished the same download meanwhile), then downloads with `pooch`
into a private temporary directory inside the cache, trying each URL in turn. `pooch`
checks the hash before it keeps a file; the file is checked once more and only then renamed
into place with `os.replace`, so the cache never holds a partial or unverified file under
its final name, and a failed or refused download leaves nothing behind.
"""

import logging
import os
import shutil
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from sunpy_magnetogan._io import sha256_file
from sunpy_magnetogan.exceptions import CacheError, DownloadError, HashMismatchError
from sunpy_magnetogan.weights.cache import LOCK_TIMEOUT, cache_lock, ensure_dir

__all__ = ["DEFAULT_TIMEOUT", "fetch_file"]

log = logging.getLogger(__name__)

#: Seconds a download may wait for the server to connect or to send the next bytes.
DEFAULT_TIMEOUT = 30.0
_TMP_PREFIX = ".download-"


def _downloader(url, *, progress, timeout):
    import pooch

    scheme = urlsplit(url).scheme.lower()
    if scheme in ("http", "https"):
        return pooch.HTTPDownloader(progressbar=progress, timeout=timeout)
    if scheme == "ftp":
        return pooch.FTPDownloader(progressbar=progress, timeout=timeout)
    if scheme == "doi":
        return pooch.DOIDownloader(progressbar=progress, timeout=timeout)
    raise DownloadError(f"cannot download {url!r}: unsupported URL scheme {scheme!r}")


def _describe_error(exc):
    """A one-line description of why one download attempt failed."""
    import requests

    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        response = exc.response
        return f"HTTP error {response.status_code} {response.reason or ''}".rstrip()
    if isinstance(exc, requests.exceptions.ChunkedEncodingError):
        return f"transfer truncated (the connection closed before the whole file arrived): {exc}"
    if isinstance(exc, requests.Timeout):
        return f"timed out: {exc}"
    if isinstance(exc, requests.ConnectionError):
        return f"connection failed (no network, or the server is down): {exc}"
    return f"{type(exc).__name__}: {exc}"


def _remove_stale_downloads(cache_dir, filename):
    # Called under the entry's lock: no other process is downloading this file, so any
    # temporary directory left for it is from a process that was killed.
    for stale in cache_dir.glob(f"{_TMP_PREFIX}{filename}-*"):
        log.debug("removing stale partial download %s", stale)
        shutil.rmtree(stale, ignore_errors=True)


def _verified(path, sha256):
    try:
        return path.is_file() and sha256_file(path) == sha256
    except OSError:
        return False


def fetch_file(
    *, urls, sha256, filename, cache_dir, offline=False, progress=False, label=None, timeout=DEFAULT_TIMEOUT
):
    """
    A verified cached copy of a file, downloading it if needed.

    Parameters
    ----------
    urls : sequence of str
        Download locations, tried in order until one gives a file with the right hash.
    sha256 : str
        Expected SHA-256 hash (64 lower-case hex digits).
    filename : str
        Name of the file in the cache (a bare name, already validated by `ModelCard`).
    cache_dir : str or os.PathLike
        The cache directory (created if needed).
    offline : bool, optional
        Never use the network; a missing file raises `CacheError`.
    progress : bool, optional
        Show a `tqdm` progress bar while downloading.
    label : str, optional
        How to name the file in messages (e.g. ``"model 'default'"``); default: its name.
    timeout : float, optional
        Seconds to wait for the server to connect or to send more bytes.

    Returns
    -------
    pathlib.Path
        ``cache_dir / filename``, whose hash is ``sha256``.

    Raises
    ------
    sunpy_magnetogan.exceptions.CacheError
        Offline and the file is not cached (or its cached copy was corrupt and has been
        removed), or the cache cannot be written.
    sunpy_magnetogan.exceptions.HashMismatchError
        No URL gave a file with the right hash and at least one gave a wrong file (which
        was deleted).
    sunpy_magnetogan.exceptions.DownloadError
        No URL could be downloaded (no network, HTTP errors, truncated transfers); the
        message lists each URL with its error.
    """
    cache_dir = Path(cache_dir)
    target = cache_dir / filename
    label = label or repr(filename)
    # A hit needs no lock, so a read-only cache works; the file is only ever replaced
    # whole (os.replace), so a reader sees the old or the new file, never a mix.
    if _verified(target, sha256):
        log.debug("using cached %s: %s", label, target)
        return target
    if offline:
        if target.exists():
            with cache_lock(target):
                if _verified(target, sha256):
                    return target
                target.unlink(missing_ok=True)
            raise CacheError(
                f"the cached file {target} of {label} does not have its expected sha256 and has "
                "been removed; offline mode is on, so it cannot be downloaded again"
            )
        raise CacheError(
            f"{label} is not in the weights cache {cache_dir} (no file {target.name}) and "
            "offline mode is on (offline=True or SUNPY_MAGNETOGAN_OFFLINE); download it while "
            "online with `sunpy-magnetogan models fetch`, or copy the file there"
        )
    urls = tuple(urls)
    if not urls:
        raise DownloadError(f"{label} is not cached in {cache_dir} and its model card lists no URL")
    ensure_dir(cache_dir)
    with cache_lock(target, timeout=LOCK_TIMEOUT):
        if target.exists():
            if _verified(target, sha256):
                log.debug("another process downloaded %s meanwhile", label)
                return target
            log.warning("cached %s at %s has the wrong sha256; removing it", label, target)
            target.unlink(missing_ok=True)
        _remove_stale_downloads(cache_dir, filename)
        return _download_locked(urls, sha256, filename, target, label, progress, timeout)


def _download_locked(urls, sha256, filename, target, label, progress, timeout):
    import pooch
    import requests

    errors = []
    mismatched = []
    for url in urls:
        log.info("downloading %s from %s", label, url)
        try:
            # A private directory per attempt: whatever happens, nothing from the attempt
            # stays behind but a verified file renamed into place.
            with tempfile.TemporaryDirectory(
                prefix=f"{_TMP_PREFIX}{filename}-", dir=target.parent, ignore_cleanup_errors=True
            ) as tmpdir:
                got = pooch.retrieve(
                    url,
                    known_hash=f"sha256:{sha256}",
                    fname=filename,
                    path=tmpdir,
                    progressbar=progress,
                    downloader=_downloader(url, progress=progress, timeout=timeout),
                )
                actual = sha256_file(got)
                if actual != sha256:  # pooch checked already; this guards against its changes
                    raise ValueError(f"hash {actual} does not match the known hash {sha256}")
                os.replace(got, target)
        except ValueError as exc:
            if "hash" not in str(exc).lower():
                errors.append((url, f"{type(exc).__name__}: {exc}"))
                continue
            mismatched.append(url)
            errors.append((url, f"wrong file: its sha256 is not the model card's {sha256} (deleted)"))
        except requests.RequestException as exc:
            errors.append((url, _describe_error(exc)))
        except (OSError, DownloadError) as exc:
            errors.append((url, f"{type(exc).__name__}: {exc}"))
        else:
            log.info("saved %s to %s", label, target)
            return target
    details = "\n".join(f"  {url}: {why}" for url, why in errors)
    tried = f"{len(urls)} URL{'s' if len(urls) > 1 else ''}"
    if mismatched:
        raise HashMismatchError(
            f"refusing {label}: no download matched the expected sha256 {sha256} "
            f"({len(mismatched)} of {tried} served a different file, which was deleted):\n{details}"
        )
    raise DownloadError(f"could not download {label} from any of its {tried}:\n{details}")

"""
The download manifest: which files of a fetch are complete, so that a fetch resumes.

The manifest is a JSON-lines file (one JSON object per line) to which entries are only
ever *appended*; the last entry of a key wins. Each append is one ``write`` of a whole
line on a file opened in append mode, flushed and ``fsync``-ed, under a file lock (so two
processes fetching into the same directory do not interleave). A process killed in the
middle of an append leaves at most one torn last line, which the reader skips.

An entry records::

    {"key": ..., "status": "done" | "failed", "url": ..., "path": <relative to the
     manifest's directory>, "size": <bytes>, "sha256": ..., "error": ..., "time": <ISO>}

A file counts as complete only if its latest entry is ``"done"`` *and* the file is on
disk with the recorded size; anything else is downloaded again.
"""

import datetime
import json
import logging
import os
from pathlib import Path

from filelock import FileLock

from sunpy_magnetogan._io import sha256_file

#: The old name of `sunpy_magnetogan._io.sha256_file`, kept importable.
sha256sum = sha256_file

__all__ = ["DownloadManifest"]

log = logging.getLogger(__name__)


class DownloadManifest:
    """
    An append-only record of completed (and failed) downloads.

    Parameters
    ----------
    path : str or os.PathLike
        The JSON-lines file; created on the first append. Paths in entries are stored
        relative to its directory, so a fetch directory can be moved as a whole.

    Examples
    --------
    >>> from sunpy_magnetogan.data.manifest import DownloadManifest
    >>> manifest = DownloadManifest(tmp_path / "downloads.jsonl")
    >>> (tmp_path / "a.fits").write_bytes(b"abc")
    3
    >>> manifest.record_done("rec-1", url="https://example.org/a.fits", path=tmp_path / "a.fits")
    >>> DownloadManifest(tmp_path / "downloads.jsonl").is_complete("rec-1")
    True
    """

    def __init__(self, path):
        self.path = Path(path)
        self.root = self.path.parent
        self._entries = {}
        self.n_torn_lines = 0
        self._load()

    def _load(self):
        if not self.path.is_file():
            return
        with self.path.open("rb") as f:
            for number, raw in enumerate(f, start=1):
                line = raw.strip()
                if not line:
                    continue
                try:
                    entry = json.loads(line)
                    key = entry["key"]
                except (ValueError, KeyError, TypeError):
                    # A torn line from an interrupted append: the file it describes is
                    # treated as not downloaded.
                    self.n_torn_lines += 1
                    log.warning("skipping unreadable line %d of %s (interrupted write?)", number, self.path)
                    continue
                self._entries[key] = entry

    def __len__(self):
        return len(self._entries)

    def __contains__(self, key):
        return key in self._entries

    def __iter__(self):
        return iter(self._entries.values())

    def entry(self, key):
        """The latest entry of a key (dict), or None."""
        entry = self._entries.get(key)
        return None if entry is None else dict(entry)

    def path_of(self, key):
        """
        Absolute path of a downloaded file.

        Parameters
        ----------
        key : str

        Returns
        -------
        pathlib.Path or None
            None when the key has no ``"done"`` entry.
        """
        entry = self._entries.get(key)
        if entry is None or entry.get("status") != "done":
            return None
        return self.root / entry["path"]

    def is_complete(self, key):
        """
        Whether a key's file was downloaded completely and is still on disk.

        Parameters
        ----------
        key : str

        Returns
        -------
        bool
            True if the latest entry is ``"done"`` and the file exists with the recorded size.
        """
        path = self.path_of(key)
        if path is None or not path.is_file():
            return False
        size = self._entries[key].get("size")
        return size is None or path.stat().st_size == int(size)

    def completed_keys(self):
        """Keys whose files are complete (set of str)."""
        return {key for key in self._entries if self.is_complete(key)}

    def record_done(self, key, *, url, path, sha256=None):
        """
        Append a ``"done"`` entry for a file that is complete at its final path.

        Parameters
        ----------
        key : str
            The record's key.
        url : str
            Where it came from.
        path : str or os.PathLike
            The file (inside the manifest's directory tree).
        sha256 : str, optional
            Its hash; computed when not given.
        """
        path = Path(path)
        size = path.stat().st_size
        digest = sha256 or sha256_file(path)
        self._append(
            {
                "key": key,
                "status": "done",
                "url": url,
                "path": self._relative(path),
                "size": size,
                "sha256": digest,
            }
        )

    def record_failed(self, key, *, url, error):
        """
        Append a ``"failed"`` entry (the file will be tried again on the next run).

        Parameters
        ----------
        key, url : str
        error : str or Exception
            What went wrong.
        """
        self._append({"key": key, "status": "failed", "url": url, "path": "", "error": str(error)})

    def _relative(self, path):
        path = Path(path).resolve()
        try:
            return path.relative_to(self.root.resolve()).as_posix()
        except ValueError:
            return str(path)

    def _append(self, entry):
        entry = {**entry, "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")}
        line = json.dumps(entry, sort_keys=True).encode() + b"\n"
        self.root.mkdir(parents=True, exist_ok=True)
        with FileLock(str(self.path) + ".lock"):
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                # If the previous writer was killed mid-line, start on a fresh line.
                size = os.fstat(fd).st_size
                if size:
                    with self.path.open("rb") as f:
                        f.seek(size - 1)
                        if f.read(1) != b"\n":
                            line = b"\n" + line
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
        self._entries[entry["key"]] = entry

"""
The on-disk layout of training-ready EUV / magnetogram pairs.

Synthetic pairs and prepared real SDO pairs are written in the same layout, so the trainer
and the evaluation read both the same way::

    DATASET/
      dataset.json            format, version, grid, free-form attrs (source, normalisation...)
      manifest.csv            one row per pair: pair_id, split, then the pair's metadata
      <split>/<pair_id>.npz   euv  float32 (N, N) normalised to [-1, 1], off-disk -1
                              mag  float32 (N, N) line-of-sight field in Gauss, off-disk 0
                              disk bool    (N, N) valid on-disk pixels

Each pair file is written to a temporary name and renamed into place, and its manifest row
is appended only afterwards, so an interrupted writer never leaves a half-written pair that
a reader would use; reopening the store and adding the remaining pairs resumes the job.
"""

import csv
import json
import logging
import os
import re
from pathlib import Path

import astropy.units as u
import numpy as np
from sunpy.coordinates import sun

from sunpy_magnetogan._io import atomic_path, atomic_write_csv, atomic_write_text
from sunpy_magnetogan.exceptions import InvalidDataError, MagnetoGANError
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.solar_cycle import cycle_frame

__all__ = ["FORMAT_NAME", "FORMAT_VERSION", "PairStore", "pair_cycle_frame"]

log = logging.getLogger(__name__)

FORMAT_NAME = "sunpy-magnetogan-pairs"
FORMAT_VERSION = 1
_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_BASE_COLUMNS = ("pair_id", "split")


class PairStore:
    """
    A directory of training-ready pairs (see the module docstring for the layout).

    Use `PairStore.create` to start a new store and `PairStore.open` to read or extend
    one; the constructor is not meant to be called directly.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.pairs import PairStore
    >>> store = PairStore.create(tmp_path / "pairs", grid_size=16, attrs={"source": "doc"})
    >>> disk = np.ones((16, 16), dtype=bool)
    >>> store.add("p0", euv=np.zeros((16, 16)), mag=np.ones((16, 16)), disk=disk, split="train")
    >>> reopened = PairStore.open(tmp_path / "pairs")
    >>> reopened.ids("train"), float(reopened.load("p0")["mag"].mean())
    (['p0'], 1.0)
    """

    def __init__(self, path, info, rows):
        self.path = Path(path)
        self.info = info
        self._rows = rows
        self._index = {row["pair_id"]: row for row in rows}

    @property
    def grid_size(self):
        """Number of pixels along each axis of every array in the store."""
        return int(self.info["grid_size"])

    @property
    def attrs(self):
        """Free-form dataset attributes (source, normalisation settings, ...)."""
        return self.info.get("attrs", {})

    @classmethod
    def create(cls, path, *, grid_size, attrs=None, exist_ok=False):
        """
        Create a new, empty store.

        Parameters
        ----------
        path : str or os.PathLike
            Directory to create (its parents are created too).
        grid_size : int
            Size N of the N x N arrays the store will hold.
        attrs : dict, optional
            JSON-serialisable attributes saved in ``dataset.json``.
        exist_ok : bool, optional
            If True and a store with the same grid size already exists there, open it
            (to resume writing) instead of failing.

        Returns
        -------
        PairStore
        """
        path = Path(path)
        if (path / "dataset.json").exists():
            if not exist_ok:
                raise FileExistsError(
                    f"a pair store already exists at {path}; use PairStore.open or exist_ok=True"
                )
            store = cls.open(path)
            if store.grid_size != grid_size:
                raise MagnetoGANError(f"the store at {path} has grid size {store.grid_size}, not {grid_size}")
            return store
        path.mkdir(parents=True, exist_ok=True)
        info = {
            "format": FORMAT_NAME,
            "version": FORMAT_VERSION,
            "grid_size": int(grid_size),
            "attrs": attrs or {},
        }
        atomic_write_text(path / "dataset.json", json.dumps(info, indent=2, sort_keys=True))
        return cls(path, info, [])

    @classmethod
    def open(cls, path):
        """
        Open an existing store.

        Parameters
        ----------
        path : str or os.PathLike
            The store's directory.

        Returns
        -------
        PairStore

        Raises
        ------
        FileNotFoundError
            If ``path`` holds no ``dataset.json``.
        MagnetoGANError
            If the directory is not a pair store of a supported version.
        """
        path = Path(path)
        info_file = path / "dataset.json"
        if not info_file.is_file():
            raise FileNotFoundError(f"no pair store at {path} (dataset.json is missing)")
        info = json.loads(info_file.read_text())
        if info.get("format") != FORMAT_NAME or info.get("version") != FORMAT_VERSION:
            raise MagnetoGANError(
                f"{path} is not a {FORMAT_NAME} v{FORMAT_VERSION} store "
                f"(format={info.get('format')!r}, version={info.get('version')!r})"
            )
        rows = []
        manifest = path / "manifest.csv"
        if manifest.is_file():
            with manifest.open(newline="") as f:
                for row in csv.DictReader(f):
                    # Rows whose file is gone (e.g. deleted by hand) are not served.
                    if (path / row["split"] / f"{row['pair_id']}.npz").is_file():
                        rows.append(row)
        return cls(path, info, rows)

    def __len__(self):
        return len(self._rows)

    def __contains__(self, pair_id):
        return pair_id in self._index

    def __repr__(self):
        splits = {}
        for row in self._rows:
            splits[row["split"]] = splits.get(row["split"], 0) + 1
        return f"<PairStore {self.path} grid={self.grid_size} pairs={splits}>"

    def ids(self, split=None):
        """
        Pair identifiers in the order they were added.

        Parameters
        ----------
        split : str, optional
            Only the pairs of this split (e.g. ``"train"``, ``"test"``).

        Returns
        -------
        list of str
        """
        return [row["pair_id"] for row in self._rows if split is None or row["split"] == split]

    def meta(self, pair_id):
        """The manifest row of a pair, as a dict of strings."""
        return dict(self._index[pair_id])

    def add(self, pair_id, *, euv, mag, disk, split, meta=None):
        """
        Write one pair.

        Parameters
        ----------
        pair_id : str
            Unique identifier (letters, digits, ``_ . -``); it names the file.
        euv : numpy.ndarray
            Normalised EUV image, shape ``(N, N)``, values in [-1, 1].
        mag : numpy.ndarray
            Line-of-sight field in Gauss, shape ``(N, N)``, finite.
        disk : numpy.ndarray
            Boolean on-disk mask, shape ``(N, N)``.
        split : str
            The split the pair belongs to (e.g. ``"train"``).
        meta : dict, optional
            Extra manifest columns (date, observer, sources...); values become strings.
        """
        if not _ID_PATTERN.match(pair_id) or not _ID_PATTERN.match(split):
            raise ValueError(f"pair_id and split must be simple names, got {pair_id!r} / {split!r}")
        if pair_id in self._index:
            raise MagnetoGANError(f"pair {pair_id!r} is already in the store at {self.path}")
        shape = (self.grid_size, self.grid_size)
        arrays = {
            "euv": np.asarray(euv, dtype=np.float32),
            "mag": np.asarray(mag, dtype=np.float32),
            "disk": np.asarray(disk, dtype=bool),
        }
        for name, array in arrays.items():
            if array.shape != shape:
                raise InvalidDataError(f"{name} has shape {array.shape}, the store holds {shape} arrays")
            if not np.all(np.isfinite(array)):
                raise InvalidDataError(f"{name} of pair {pair_id!r} has non-finite values")
        target = self.path / split / f"{pair_id}.npz"
        target.parent.mkdir(exist_ok=True)
        with atomic_path(target) as tmp, tmp.open("wb") as f:
            np.savez(f, **arrays)
        row = {"pair_id": pair_id, "split": split, **{k: str(v) for k, v in (meta or {}).items()}}
        self._append_manifest(row)
        self._rows.append(row)
        self._index[pair_id] = row
        log.debug("wrote pair %s to %s", pair_id, target)

    def _append_manifest(self, row):
        manifest = self.path / "manifest.csv"
        columns = list(_BASE_COLUMNS) + sorted(k for k in row if k not in _BASE_COLUMNS)
        if manifest.is_file():
            with manifest.open(newline="") as f:
                header = next(csv.reader(f), None)
            if header is not None and set(columns) <= set(header):
                with manifest.open("a", newline="") as f:
                    csv.DictWriter(f, fieldnames=header, restval="").writerow(row)
                    f.flush()
                    os.fsync(f.fileno())
                return
            # A new column appeared: rewrite the manifest with the union of columns.
            columns = list(dict.fromkeys((header or []) + columns))
        rows = [*self._rows, row]
        text_rows = [columns] + [[r.get(c, "") for c in columns] for r in rows]
        atomic_write_csv(manifest, text_rows)

    def load(self, pair_id):
        """
        Read one pair.

        Parameters
        ----------
        pair_id : str
            Its identifier.

        Returns
        -------
        dict
            ``euv`` (float32), ``mag`` (float32, Gauss), ``disk`` (bool), each ``(N, N)``,
            and ``meta`` (the manifest row).
        """
        try:
            row = self._index[pair_id]
        except KeyError:
            raise KeyError(f"no pair {pair_id!r} in the store at {self.path}") from None
        with np.load(self.path / row["split"] / f"{pair_id}.npz") as npz:
            out = {name: npz[name] for name in ("euv", "mag", "disk")}
        out["meta"] = dict(row)
        return out


def pair_cycle_frame(meta, grid_size):
    """
    The cycle frame of a stored pair's pixels (`~sunpy_magnetogan.solar_cycle.cycle_frame`).

    Parameters
    ----------
    meta : dict
        The pair's manifest row: ``date``, and the observer's heliographic latitude in
        degrees as ``crlt_obs`` or ``hglt_obs`` (when neither is recorded, the Earth's B0
        angle at the date: an observer on the Sun-Earth line is assumed).
    grid_size : int
        The store's grid size.

    Returns
    -------
    `~sunpy_magnetogan.solar_cycle.CycleFrame`

    Raises
    ------
    MagnetoGANError
        If the pair has no date.

    Examples
    --------
    >>> from sunpy_magnetogan.pairs import pair_cycle_frame
    >>> frame = pair_cycle_frame({"date": "2023-05-01T00:00:00", "crlt_obs": "-4.1"}, 64)
    >>> frame.sign.shape, sorted(set(frame.sign.ravel().tolist()))  # cycle 25 on the disk, 0 off it
    ((64, 64), [-1.0, 0.0])
    """
    if not meta.get("date"):
        raise MagnetoGANError(f"pair {meta.get('pair_id')!r} has no date: its cycle frame cannot be known")
    recorded = meta.get("crlt_obs") or meta.get("hglt_obs")
    b0 = float(recorded) * u.deg if recorded not in (None, "") else sun.B0(meta["date"])
    return cycle_frame(ModelGrid(grid_size).latitude_array(b0), meta["date"])

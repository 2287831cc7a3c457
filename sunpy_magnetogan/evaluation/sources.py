"""
Where the pairs of an evaluation come from: FITS files in two directories
(`MapFilePairs`) or a pair store with predictions made on demand (`StorePairs`).

Both are lazy sequences of `~sunpy_magnetogan.evaluation.EvaluationPair`, read one pair at a
time, for `~sunpy_magnetogan.evaluation.evaluate_pairs`.
"""

import logging
from collections.abc import Sequence
from pathlib import Path

from sunpy_magnetogan.evaluation.datasets import EvaluationPair
from sunpy_magnetogan.exceptions import MagnetoGANError
from sunpy_magnetogan.validation import read_map

__all__ = ["FITS_PATTERNS", "MapFilePairs", "StorePairs"]

log = logging.getLogger(__name__)

#: File name patterns that `MapFilePairs` matches by default.
FITS_PATTERNS = ("*.fits", "*.fts", "*.fit", "*.fits.gz", "*.fts.gz")


class MapFilePairs(Sequence):
    """
    Pairs of FITS magnetograms with the same file name in two directories, read lazily.

    Parameters
    ----------
    truth_dir : str or os.PathLike
        Directory of the observed magnetograms.
    generated_dir : str or os.PathLike
        Directory of the generated magnetograms.
    input_dir : str or os.PathLike, optional
        Directory of the EUV inputs with the same file names (for the figures).
    patterns : tuple of str, optional
        Glob patterns of the files to match (FITS by default).

    Raises
    ------
    FileNotFoundError
        If a directory does not exist.
    MagnetoGANError
        If no file name is found in both directories.

    Notes
    -----
    Files present in only one directory are skipped with a log message. Pair ids are the
    file names without extension. Files are read with `sunpy_magnetogan.validation.read_map`,
    so an unreadable file raises `~sunpy_magnetogan.exceptions.CorruptFileError`.

    Examples
    --------
    >>> import shutil
    >>> from sunpy_magnetogan.evaluation import MapFilePairs, evaluate_pairs
    >>> from sunpy_magnetogan.sample import SAMPLE_HMI
    >>> for folder in ("truth", "generated"):
    ...     (tmp_path / folder).mkdir()
    ...     _ = shutil.copy(SAMPLE_HMI, tmp_path / folder / "20140205_1200.fits")
    >>> pairs = MapFilePairs(tmp_path / "truth", tmp_path / "generated")
    >>> len(pairs), pairs[0].pair_id
    (1, '20140205_1200')
    >>> round(float(evaluate_pairs(pairs, nan_policy="omit")["cc"][0]), 3)  # a map against itself
    1.0
    """

    def __init__(self, truth_dir, generated_dir, *, input_dir=None, patterns=FITS_PATTERNS):
        self.truth_dir = Path(truth_dir)
        self.generated_dir = Path(generated_dir)
        self.input_dir = None if input_dir is None else Path(input_dir)
        for d in (self.truth_dir, self.generated_dir, self.input_dir):
            if d is not None and not d.is_dir():
                raise FileNotFoundError(f"no such directory: {d}")
        truth = self._names(self.truth_dir, patterns)
        generated = self._names(self.generated_dir, patterns)
        self.names = sorted(truth & generated)
        for name in sorted(truth ^ generated):
            where = "truth" if name in truth else "generated"
            log.warning("%s is only in the %s directory; skipped", name, where)
        if not self.names:
            raise MagnetoGANError(
                f"no file name ({', '.join(patterns)}) is in both {self.truth_dir} and {self.generated_dir}"
            )

    @staticmethod
    def _names(directory, patterns):
        return {p.name for pattern in patterns for p in directory.glob(pattern) if p.is_file()}

    def __len__(self):
        return len(self.names)

    def __getitem__(self, index):
        name = self.names[index]
        input_map = None
        if self.input_dir is not None and (self.input_dir / name).is_file():
            input_map = read_map(self.input_dir / name)
        pair_id = name.split(".")[0]
        return EvaluationPair(
            read_map(self.truth_dir / name), read_map(self.generated_dir / name), input_map, pair_id
        )


class StorePairs(Sequence):
    """
    Pairs from a `~sunpy_magnetogan.pairs.PairStore`, with predictions made on demand.

    Parameters
    ----------
    store : `~sunpy_magnetogan.pairs.PairStore`
        The data set (``mag`` is the truth in Gauss, ``euv`` the input, ``disk`` the mask).
    predict : callable
        ``predict(euv) -> field``: takes the normalised EUV array ``(N, N)`` and returns the
        generated field ``(N, N)`` in Gauss (array or Quantity), e.g. a wrapper around a
        trained generator.
    split : str, optional
        Only the pairs of this split (all by default).
    with_meta : bool, optional
        Call ``predict(euv, meta)`` with the pair's manifest row (date, observer...), for
        models that need them (e.g. the cycle frame of
        `~sunpy_magnetogan.pairs.pair_cycle_frame`).

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.evaluation import StorePairs, evaluate_pairs
    >>> from sunpy_magnetogan.grid import disk_mask, ModelGrid
    >>> from sunpy_magnetogan.pairs import PairStore
    >>> store = PairStore.create(tmp_path / "pairs", grid_size=64)
    >>> disk = disk_mask(ModelGrid(64))
    >>> mag = np.where(disk, np.random.default_rng(0).normal(0, 100, disk.shape), 0).astype("float32")
    >>> euv = np.where(disk, np.tanh(np.abs(mag) / 100), -1).astype("float32")
    >>> store.add("p0", euv=euv, mag=mag, disk=disk, split="test")
    >>> pairs = StorePairs(store, lambda euv: 100 * euv, split="test")  # a (poor) stand-in model
    >>> table = evaluate_pairs(pairs)
    >>> str(table["pair_id"][0]), bool(table["cc"][0] < 0.5)
    ('p0', True)
    """

    def __init__(self, store, predict, *, split=None, with_meta=False):
        self.store = store
        self.predict = predict
        self.ids = list(store.ids(split))
        self.with_meta = bool(with_meta)

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, index):
        pair_id = self.ids[index]
        item = self.store.load(pair_id)
        generated = self.predict(item["euv"], item["meta"]) if self.with_meta else self.predict(item["euv"])
        return EvaluationPair(item["mag"], generated, item["euv"], pair_id, item["disk"])

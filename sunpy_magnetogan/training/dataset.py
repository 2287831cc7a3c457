"""
A torch dataset over a `~sunpy_magnetogan.pairs.PairStore`, and the sampler that feeds it.

The same layout holds synthetic pairs and prepared real observations, so training code
does not care which it gets. Randomness (pair order, crop position, flips) is a pure
function of ``(seed, step)`` computed by `StepBatchSampler`, never of hidden global state:
a run resumed at step ``s`` sees exactly the batches the uninterrupted run would have seen,
on any number of data-loading workers.
"""

import logging
import queue
import threading

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler

from sunpy_magnetogan.exceptions import TrainingConfigError
from sunpy_magnetogan.pairs import PairStore, pair_cycle_frame
from sunpy_magnetogan.training.config import NORTH_SOUTH, RANDOM_FLIPS

__all__ = ["PairDataset", "StepBatchSampler", "prefetch", "training_loader"]

log = logging.getLogger(__name__)


def _block_mean(array, factor):
    if factor == 1:
        return array
    n = array.shape[0] // factor
    return array.reshape(n, factor, n, factor).mean(axis=(1, 3), dtype=np.float64).astype(np.float32)


class PairDataset(Dataset):
    """
    EUV / magnetogram pairs of one split, resampled to the model's finest level and cropped.

    Parameters
    ----------
    store : `~sunpy_magnetogan.pairs.PairStore` or str or os.PathLike
        The pair store (or its directory).
    split : str, optional
        Which pairs to serve (``"train"``, ``"test"``...).
    image_size : int, optional
        Size of the model's finest level. Pairs on a finer grid are block-averaged down
        by an integer factor (the magnetogram in Gauss, which conserves flux); by default
        the store's grid size.
    crop_size : int, optional
        Side of the square crops served by sampler keys (see `__getitem__`); None serves
        whole images.
    crop_alignment : int, optional
        Crop corners are multiples of this (use ``2**(n_levels - 1)`` so that a crop
        downsampled to each pyramid level is exactly the crop of that level).
    random_flips : bool or {"north-south"}, optional
        True: mirror sampled pairs left-right and/or up-down at random. Both images flip
        together, so a pair stays consistent, but the flipped Sun obeys the mirror images
        of Hale's and Joy's laws (with ``cycle_frame``, each flip also reverses the sign
        of the field, which restores Hale's order, but an east-west mirror breaks Joy's).
        ``"north-south"``: up-down mirrors only (the grid is solar north up), half the
        time; with ``cycle_frame`` the field is reversed, and the mirrored pair obeys Hale's
        and Joy's laws exactly as the Sun does (the leading polarity stays the one nearer
        the equator), so it doubles the data without teaching anything false.
    cycle_frame : bool, optional
        Serve the magnetogram in the even-cycle frame: multiplied by the frame sign of each
        pixel (`~sunpy_magnetogan.pairs.pair_cycle_frame`, from the pair's date and
        observer latitude), for models that predict that frame.
    seed : int, optional
        Base seed of the per-sample crop and flip draws.
    max_pairs : int, optional
        Serve only the first ``max_pairs`` pairs of the split.

    Notes
    -----
    An item is a dict of float32 tensors ``euv`` ``(1, S, S)`` (normalised to [-1, 1]),
    ``mag`` ``(1, S, S)`` (Gauss) and ``disk`` ``(1, S, S)`` (1 on the disk, 0 off it),
    with ``S = crop_size`` for sampled keys and ``image_size`` for plain indices.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.grid import ModelGrid, disk_mask
    >>> from sunpy_magnetogan.pairs import PairStore
    >>> from sunpy_magnetogan.training import PairDataset
    >>> store = PairStore.create(tmp_path / "pairs", grid_size=64)
    >>> disk = disk_mask(ModelGrid(64))
    >>> store.add("p0", euv=np.where(disk, 0.0, -1.0), mag=np.zeros((64, 64)), disk=disk, split="train")
    >>> dataset = PairDataset(store, image_size=32, crop_size=16, crop_alignment=4)
    >>> len(dataset), dataset[0]["euv"].shape, dataset[(0, 7)]["mag"].shape  # whole image, then a crop
    (1, torch.Size([1, 32, 32]), torch.Size([1, 16, 16]))
    """

    def __init__(
        self,
        store,
        *,
        split="train",
        image_size=None,
        crop_size=None,
        crop_alignment=1,
        random_flips=False,
        seed=0,
        max_pairs=None,
        cycle_frame=False,
    ):
        self.store = store if isinstance(store, PairStore) else PairStore.open(store)
        self.split = split
        self.ids = self.store.ids(split)
        if max_pairs is not None:
            self.ids = self.ids[:max_pairs]
        grid = self.store.grid_size
        self.image_size = int(image_size or grid)
        if self.image_size > grid or grid % self.image_size:
            raise TrainingConfigError(
                f"the pair store at {self.store.path} has {grid} px pairs, which cannot be block-averaged "
                f"to the model's {self.image_size} px (it must divide the store's grid size)"
            )
        self.factor = grid // self.image_size
        self.crop_size = None if crop_size is None else int(crop_size)
        if self.crop_size is not None and not 1 <= self.crop_size <= self.image_size:
            raise TrainingConfigError(
                f"crop_size {crop_size} must be between 1 and image_size {self.image_size}"
            )
        self.crop_alignment = int(crop_alignment)
        if random_flips not in RANDOM_FLIPS:
            raise TrainingConfigError(
                f"random_flips must be True, False or {NORTH_SOUTH!r}, got {random_flips!r}"
            )
        self.random_flips = random_flips
        self.seed = int(seed)
        self.cycle_frame = bool(cycle_frame)
        self._frame_signs = {}  # pair id -> int8 sign map, computed once per pair

    def __len__(self):
        return len(self.ids)

    def __repr__(self):
        return (
            f"<PairDataset split={self.split!r} pairs={len(self)} image_size={self.image_size} "
            f"crop_size={self.crop_size} store={self.store.path}>"
        )

    def load_full(self, index):
        """
        One pair at the model's finest resolution, without crop or flip.

        Parameters
        ----------
        index : int
            Position in the split.

        Returns
        -------
        euv, mag, disk : numpy.ndarray
            float32 ``(image_size, image_size)`` arrays: normalised EUV, field in Gauss,
            on-disk fraction (0 or 1, fractional on block-averaged edges).
        """
        pair = self.store.load(self.ids[index])
        euv = _block_mean(pair["euv"], self.factor)
        field = pair["mag"]
        if self.cycle_frame:
            pair_id = self.ids[index]
            if pair_id not in self._frame_signs:
                frame = pair_cycle_frame(pair["meta"], self.store.grid_size)
                self._frame_signs[pair_id] = frame.sign.astype(np.int8)
            field = field * self._frame_signs[pair_id]
        mag = _block_mean(field, self.factor)
        disk = _block_mean(pair["disk"].astype(np.float32), self.factor)
        return euv, mag, disk

    def __getitem__(self, key):
        """
        Parameters
        ----------
        key : int or tuple of int
            A plain index serves the whole image; ``(index, sample_number)`` (as
            `StepBatchSampler` yields) serves a random crop and flips drawn from
            ``numpy.random.default_rng([seed, sample_number])``.

        Returns
        -------
        dict of torch.Tensor
            ``euv``, ``mag`` and ``disk``, each ``(1, S, S)`` float32.
        """
        if isinstance(key, tuple):
            index, sample_number = key
            rng = np.random.default_rng([self.seed, int(sample_number)])
        else:
            index, rng = key, None
        arrays = list(self.load_full(index))
        if rng is not None:
            if self.crop_size is not None and self.crop_size < self.image_size:
                positions = (self.image_size - self.crop_size) // self.crop_alignment + 1
                top, left = (rng.integers(0, positions, size=2) * self.crop_alignment).tolist()
                window = (slice(top, top + self.crop_size), slice(left, left + self.crop_size))
                arrays = [a[window] for a in arrays]
            if self.random_flips:
                flip_lr, flip_ud = rng.random(2) < 0.5
                if self.random_flips == NORTH_SOUTH:
                    flip_lr = False
                if flip_lr:
                    arrays = [a[:, ::-1] for a in arrays]
                if flip_ud:
                    arrays = [a[::-1, :] for a in arrays]
                if self.cycle_frame and flip_lr != flip_ud:
                    arrays[1] = -arrays[1]
        euv, mag, disk = (torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))[None] for a in arrays)
        return {"euv": euv, "mag": mag, "disk": disk}


class StepBatchSampler(Sampler):
    """
    Batches of ``(index, sample_number)`` keys for the training steps ``start_step`` to ``steps - 1``.

    Global sample number ``k = step * batch_size * world_size + rank * batch_size + j``
    is the ``k % n``-th entry of a permutation of the ``n`` pairs that is redrawn every
    epoch from ``default_rng([seed, k // n])``; each process (rank) takes its own slice of
    every global batch, so the ranks of a data-parallel run see different pairs and the
    union is the same as for one process with the global batch.

    Parameters
    ----------
    n_items : int
        Number of pairs in the dataset.
    batch_size : int
        Pairs per step and per process.
    steps : int
        Index of the step after the last one.
    start_step : int, optional
        First step (a resumed run's checkpoint step).
    seed : int, optional
        Seed of the permutations.
    rank, world_size : int, optional
        This process's rank among ``world_size`` data-parallel processes.

    Examples
    --------
    >>> from sunpy_magnetogan.training import StepBatchSampler
    >>> sampler = StepBatchSampler(n_items=5, batch_size=2, steps=3, seed=0)
    >>> len(sampler), [index for index, _ in sampler.batch(0)], [n for _, n in sampler.batch(1)]
    (3, [2, 4], [2, 3])
    >>> resumed = StepBatchSampler(n_items=5, batch_size=2, steps=3, start_step=1, seed=0)
    >>> next(iter(resumed)) == sampler.batch(1)  # a resumed run sees the same batches
    True
    """

    def __init__(self, n_items, batch_size, steps, *, start_step=0, seed=0, rank=0, world_size=1):
        if n_items < 1:
            raise TrainingConfigError("the training split is empty: there is nothing to train on")
        self.n_items = int(n_items)
        self.batch_size = int(batch_size)
        self.steps = int(steps)
        self.start_step = int(start_step)
        self.seed = int(seed)
        self.rank = int(rank)
        self.world_size = int(world_size)
        self._epoch_cache = {}

    def __len__(self):
        return max(0, self.steps - self.start_step)

    def _permutation(self, epoch):
        if epoch not in self._epoch_cache:
            self._epoch_cache = {epoch: np.random.default_rng([self.seed, epoch]).permutation(self.n_items)}
        return self._epoch_cache[epoch]

    def batch(self, step):
        """
        The keys of this process's batch at a step.

        Parameters
        ----------
        step : int
            Training step.

        Returns
        -------
        list of tuple of int
            ``batch_size`` keys ``(index, sample_number)``.
        """
        first = (step * self.world_size + self.rank) * self.batch_size
        keys = []
        for k in range(first, first + self.batch_size):
            epoch, position = divmod(k, self.n_items)
            keys.append((int(self._permutation(epoch)[position]), k))
        return keys

    def __iter__(self):
        for step in range(self.start_step, self.steps):
            yield self.batch(step)


def prefetch(iterable, *, depth=2):
    """Iterate over ``iterable`` in a background thread, keeping ``depth`` items ready."""
    items = queue.Queue(maxsize=depth)
    stop = threading.Event()
    done = object()

    def put(entry):
        while not stop.is_set():
            try:
                items.put(entry, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce():
        try:
            for item in iterable:
                if not put((item, None)):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            put((done, exc))
            return
        put((done, None))

    thread = threading.Thread(target=produce, name="batch-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, error = items.get()
            if item is done:
                if error is not None:
                    raise error
                return
            yield item
    finally:
        stop.set()
        thread.join(timeout=5)


def training_loader(dataset, train_config, *, start_step=0, rank=0, world_size=1, device="cpu"):
    """
    The batches of a training run from ``start_step`` on, this rank's share of each.

    Parameters
    ----------
    dataset : `PairDataset`
        The training pairs.
    train_config : `~sunpy_magnetogan.training.TrainConfig`
        Its ``batch_size``, ``steps``, ``seed`` and ``num_workers`` are used.
    start_step : int, optional
        The first step (of a resumed run).
    rank, world_size : int, optional
        This process's place in a data-parallel run.
    device : str or torch.device, optional
        The training device: on CUDA the batches are page-locked and, without workers,
        read ahead in a thread.

    Returns
    -------
    iterable of dict
        One batch of stacked tensors per step (see `PairDataset`).
    """
    cfg = train_config
    sampler = StepBatchSampler(
        len(dataset),
        cfg.batch_size,
        cfg.steps,
        start_step=start_step,
        seed=cfg.seed,
        rank=rank,
        world_size=world_size,
    )
    cuda = torch.device(device).type == "cuda"
    workers = {"prefetch_factor": 4} if cfg.num_workers > 0 else {}
    loader = DataLoader(
        dataset,
        batch_sampler=sampler,
        num_workers=cfg.num_workers,
        # Page-locked batches: the host-to-GPU copies of the trainer run asynchronously.
        pin_memory=cuda,
        # A private generator: creating the loader must not consume the global RNG,
        # or a resumed run would drift from the uninterrupted one.
        generator=torch.Generator().manual_seed(cfg.seed),
        **workers,
    )
    if cuda and cfg.num_workers == 0:
        # Read and pin the next batches in a thread while the GPU computes (the batches
        # and their order are those of the loader; only the timing changes).
        return prefetch(loader, depth=2)
    return loader

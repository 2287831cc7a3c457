"""
Synthetic training and benchmark data on disk, in the layout used for real data.

`write_synthetic_dataset` observes synthetic Suns (`~sunpy_magnetogan.synthetic.observe_pair`),
puts each EUV image and its magnetogram on the model grid with the same preprocessing as
real maps (`~sunpy_magnetogan.preprocess.prepare_euv_map`,
`~sunpy_magnetogan.preprocess.prepare_magnetogram_map`) and stores them in a
`~sunpy_magnetogan.pairs.PairStore`. `write_time_series` writes one Sun seen by several
observers at a cadence, with the ground-truth active-region table and Carrington maps, for
farside and tracking evaluation. `open_synthetic_dataset` and `read_region_truth` read
them back. Writing is resumable: pairs already in the store are skipped.

The fixed benchmark split
-------------------------
`BENCHMARK_SPLIT` is the one definition of which synthetic Suns (seeds) and dates are used
for training and which are held out. Every synthetic Sun is independent, so held-out
*seeds* test generalisation to new active regions; held-out *dates* (the whole year 2014,
near the maximum of cycle 24, absent from training) test a part of the cycle the model has
not seen. Dates are drawn per seed from a stream of their own
(`~sunpy_magnetogan.synthetic.seeding.component_rng`), so the list is fixed by this
module alone.

================  =============  ==========================  =====  =========  ==========
split             seeds          dates                       per    observer   EUV
                                                             seed
================  =============  ==========================  =====  =========  ==========
``train``         0-199          1998-06-01 .. 2018-12-31,   8      SDO        AIA
                                 not 2014
``train_euvi``    200-259        as ``train``                8      STEREO     EUVI
``val``           300-319        as ``train``                4      SDO        AIA
``test``          1000-1039      2014 (held out)             4      SDO        AIA
``test_euvi``     1100-1119      2014 (held out)             4      STEREO     EUVI
``test_cycle25``  2000-2019      2022-01-01 .. 2024-12-31    4      SDO        AIA
``test_overlap``  2100-2119      2019-01-01 .. 2021-12-31    4      SDO        AIA
``test_solo``     2200-2219      2022-01-01 .. 2026-12-31    4      Solar      EUI/FSI
                                                                    Orbiter
================  =============  ==========================  =====  =========  ==========

"STEREO" observers are drawn per pair at a Stonyhurst longitude of 30-180 deg east or west
of Earth and 0.96-1.05 AU. Training dates cover cycles 23 and 24, so both Hale orders and the
2008-2009 overlap of two cycles. ``test_cycle25`` (cycle 25 only) and ``test_overlap``
(2019-2021, where old-cycle regions near the equator and new-cycle regions at high
latitude coexist) test that a model follows the cycle given by the date
(`~sunpy_magnetogan.solar_cycle`), which an EUV image cannot show.

``test_solo`` observes from Solar Orbiter's orbit (`~sunpy_magnetogan.synthetic.solo_observer`:
0.29-0.96 AU, latitude up to 17 deg in 2025-2026, 38 of the 80 views more than 90 deg
from Earth) with the EUI Full Sun Imager in 304 A and, as truth, the PHI Full
Disc Telescope (`~sunpy_magnetogan.synthetic.observe_fsi`,
`~sunpy_magnetogan.synthetic.observe_phi`): 512 px windows around the disk, binned on board
as little as holds it. The PHI-like truth is put on the HMI scale with a factor of 1
(`~sunpy_magnetogan.data.solo.phi_to_hmi`; the synthetic field is HMI-like) before it is
put on the model grid.

`BENCHMARK_SERIES` fixes the time series for tracking: seeds 3000-3004, 28 days from
2014-03-01 at a daily cadence, seen from SDO (AIA), a STEREO-like observer at 90 deg west
and the far side (EUVI), with ground-truth region tables and Carrington maps.
"""

import logging
import multiprocessing
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, field
from functools import partial
from itertools import groupby, islice
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.table import QTable, vstack
from tqdm.auto import tqdm

from sunpy_magnetogan.data.inputs import SYNTHETIC_PREPARATION, prepare_input_map
from sunpy_magnetogan.data.solo import is_phi_fdt_blos, phi_to_hmi
from sunpy_magnetogan.exceptions import MagnetoGANError
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.normalization import EUVNormalization, QuietSunNormalization
from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.preprocess import prepare_magnetogram_map
from sunpy_magnetogan.solar_cycle import days_since_epoch, time_from_days
from sunpy_magnetogan.synthetic.observe import observe_pair
from sunpy_magnetogan.synthetic.observers import (
    farside_observer,
    observer_view,
    sdo_observer,
    solo_observer,
    stereo_observer,
)
from sunpy_magnetogan.synthetic.seeding import component_rng
from sunpy_magnetogan.synthetic.sources import MSH, FluxModel
from sunpy_magnetogan.synthetic.sun import SyntheticSun

__all__ = [
    "BENCHMARK_SERIES",
    "BENCHMARK_SPLIT",
    "GENERATOR",
    "SeriesSpec",
    "SplitSpec",
    "open_synthetic_dataset",
    "read_region_truth",
    "write_synthetic_dataset",
    "write_time_series",
]

log = logging.getLogger(__name__)

#: Value of the ``generator`` attribute of synthetic stores.
GENERATOR = "sunpy_magnetogan.synthetic"


@dataclass(frozen=True)
class SplitSpec:
    """
    Which synthetic Suns, dates and observers make up a split.

    Parameters
    ----------
    seeds : tuple of int
        The synthetic Suns.
    start, end : str
        Range of observation dates (ISO).
    dates_per_seed : int
        Dates drawn uniformly (to the minute) in the range for each seed.
    observer : str
        ``"sdo"``, ``"farside"``, ``"solo"`` (`~sunpy_magnetogan.synthetic.solo_observer`),
        ``"stereo"`` (longitude 30-180 deg east or west and 0.96-1.05 AU drawn per pair) or
        ``"stereo:<lon>"`` (Stonyhurst degrees, 0.97 AU).
    instrument : {"AIA", "EUVI", "FSI"}
        The EUV imager (FSI: Solar Orbiter EUI, with PHI/FDT-like truth).
    exclude : tuple of tuple of str
        Date ranges ``(start, end)`` left out (held-out dates of another split).
    """

    seeds: tuple
    start: str
    end: str
    dates_per_seed: int
    observer: str = "sdo"
    instrument: str = "AIA"
    exclude: tuple = ()

    def items(self, name):
        """
        The pairs of the split.

        Parameters
        ----------
        name : str
            The split's name (it keys the random dates, so two splits with the same seeds
            get different dates).

        Returns
        -------
        list of tuple
            ``(seed, time, label, observer)``: ``time`` an `~astropy.time.Time`, ``label``
            the observer's name in pair identifiers, ``observer`` a callable giving its
            `~astropy.coordinates.SkyCoord` at a time.
        """
        start, end = days_since_epoch(self.start), days_since_epoch(self.end)
        windows = [(days_since_epoch(a), days_since_epoch(b)) for a, b in self.exclude]
        out = []
        for seed in self.seeds:
            rng = component_rng(seed, "benchmark-dates", name)
            days = []
            while len(days) < self.dates_per_seed:
                d = np.round((start + (end - start) * rng.random()) * 1440.0) / 1440.0
                if not any(a <= d <= b for a, b in windows):
                    days.append(d)
            for d in sorted(days):
                label, observer = _observer(self.observer, rng)
                out.append((int(seed), time_from_days(d), label, observer))
        return out


@dataclass(frozen=True)
class SeriesSpec:
    """
    A time series of one synthetic Sun seen by several observers.

    Parameters
    ----------
    seed : int
        The Sun.
    start : str
        First time (ISO).
    steps : int
        Number of times.
    cadence : `~astropy.units.Quantity`
        Time between steps.
    observers : tuple of tuple
        ``(observer, instrument)`` pairs, observer as in `SplitSpec`.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import SeriesSpec
    >>> spec = SeriesSpec(seed=3000, start="2014-03-01T00:00", steps=3, observers=(("sdo", "AIA"),))
    >>> spec.times().isot
    array(['2014-03-01T00:00:00.000', '2014-03-02T00:00:00.000',
           '2014-03-03T00:00:00.000'], dtype='<U23')
    """

    seed: int
    start: str
    steps: int
    cadence: u.Quantity = field(default=1 * u.day)
    observers: tuple = (("sdo", "AIA"), ("stereo:90", "EUVI"), ("farside", "EUVI"))

    def times(self):
        """The observation times, an `~astropy.time.Time` array."""
        start = days_since_epoch(self.start)
        return time_from_days(start + np.arange(self.steps) * self.cadence.to_value(u.day))


# Training dates span cycle 23 (odd) and cycle 24 (even) with the 2008-2009 minimum, where
# both cycles emerge flux, so a model sees both Hale orders and one overlap of cycles.
_TRAIN_DATES = ("1998-06-01", "2018-12-31")
_HELD_OUT = (("2014-01-01", "2014-12-31"),)

#: The fixed benchmark split (see the module docstring).
BENCHMARK_SPLIT = {
    "train": SplitSpec(tuple(range(0, 200)), *_TRAIN_DATES, 8, exclude=_HELD_OUT),
    "train_euvi": SplitSpec(
        tuple(range(200, 260)), *_TRAIN_DATES, 8, observer="stereo", instrument="EUVI", exclude=_HELD_OUT
    ),
    "val": SplitSpec(tuple(range(300, 320)), *_TRAIN_DATES, 4, exclude=_HELD_OUT),
    "test": SplitSpec(tuple(range(1000, 1040)), "2014-01-01", "2014-12-31", 4),
    "test_euvi": SplitSpec(
        tuple(range(1100, 1120)), "2014-01-01", "2014-12-31", 4, observer="stereo", instrument="EUVI"
    ),
    "test_cycle25": SplitSpec(tuple(range(2000, 2020)), "2022-01-01", "2024-12-31", 4),
    "test_overlap": SplitSpec(tuple(range(2100, 2120)), "2019-01-01", "2021-12-31", 4),
    "test_solo": SplitSpec(
        tuple(range(2200, 2220)), "2022-01-01", "2026-12-31", 4, observer="solo", instrument="FSI"
    ),
}

#: The fixed tracking time series (see the module docstring).
BENCHMARK_SERIES = tuple(SeriesSpec(seed, "2014-03-01T00:00", 28) for seed in range(3000, 3005))


def _observer(spec, rng):
    """(label, function of time giving the SkyCoord) of an observer specification."""
    if spec == "sdo":
        return "sdo", sdo_observer
    if spec == "farside":
        return "farside", farside_observer
    if spec == "solo":
        return "solo", solo_observer
    if spec == "stereo":
        lon = rng.choice([-1.0, 1.0]) * rng.uniform(30.0, 180.0)
        distance = rng.uniform(0.96, 1.05)
    elif spec.startswith("stereo:"):
        lon, distance = float(spec.split(":", 1)[1]), 0.97
    else:
        raise ValueError(
            f"unknown observer {spec!r}: use 'sdo', 'farside', 'solo', 'stereo' or 'stereo:<lon>'"
        )
    return _stereo_label(lon), partial(_stereo_at, lon=lon, distance=distance)


def _stereo_at(time, *, lon, distance):
    return stereo_observer(time, lon * u.deg, distance=distance * u.AU)


def _stereo_label(lon):
    """``stereoW090.0`` / ``stereoE045.5``: Stonyhurst longitude west (+) or east (-)."""
    return f"stereo{'W' if lon >= 0 else 'E'}{abs(lon):05.1f}"


def _pair_id(seed, time, label, instrument):
    stamp = time.strftime("%Y%m%dT%H%M")
    return f"s{seed:05d}_{stamp}_{label}_{instrument.lower()}"


#: Reference of the PHI-to-HMI factor (1) of the synthetic PHI/FDT truth.
_PHI_TO_HMI = "synthetic PHI/FDT truth of an HMI-like synthetic Sun (sunpy_magnetogan.synthetic)"


def _prepare(euv, mag, grid, normalization=None):
    # The one input preparation of training and inference (sunpy_magnetogan.data.inputs).
    prepared_euv = prepare_input_map(
        euv, grid=grid, normalization=normalization, preparation=SYNTHETIC_PREPARATION
    )
    if is_phi_fdt_blos(mag):  # PHI-like truth of a synthetic (HMI-like) Sun
        mag = phi_to_hmi(mag, factor=1.0, reference=_PHI_TO_HMI)
    prepared_mag = prepare_magnetogram_map(mag, grid=grid)
    disk = prepared_euv.disk & prepared_mag.disk
    euv_data = np.where(disk, prepared_euv.data, np.float32(-1.0))
    mag_data = np.where(disk, prepared_mag.data, np.float32(0.0))
    return euv_data, mag_data, disk


def _meta(seed, time, label, observer, instrument):
    l0, b0, distance = observer_view(observer, time)
    return {
        "date": time.isot,
        "observer": label,
        "instrument": instrument,
        "seed": seed,
        "hgln_obs": f"{observer.lon.to_value(u.deg):.6f}",
        "hglt_obs": f"{observer.lat.to_value(u.deg):.6f}",
        "dsun_obs": f"{distance.to_value(u.m):.6e}",
        "crln_obs": f"{l0:.6f}",
        "crlt_obs": f"{b0:.6f}",
        "source": "synthetic",
        "euv_source": f"synthetic {instrument} 304",
        "mag_source": "synthetic PHI/FDT (HMI scale)" if instrument == "FSI" else "synthetic HMI",
    }


def _resolve_splits(split):
    if isinstance(split, dict):
        return dict(split)
    if split == "benchmark":
        return dict(BENCHMARK_SPLIT)
    if split in BENCHMARK_SPLIT:
        return {split: BENCHMARK_SPLIT[split]}
    raise ValueError(f"split must be 'benchmark', one of {sorted(BENCHMARK_SPLIT)} or a dict of SplitSpec")


@dataclass(frozen=True)
class _PairWriter:
    """Observes synthetic pairs and adds them, on the model grid, to a store."""

    store: PairStore
    npix: int
    grid: ModelGrid
    euv_normalization: object
    flux_model: FluxModel

    def sun(self, seed):
        """The synthetic Sun of ``seed`` with the store's flux model."""
        return SyntheticSun(seed, flux_model=self.flux_model)

    def observe(self, sun, seed, time, label, observer, instrument):
        """One pair observed (`observe_pair`) and prepared (`_prepare`): ``euv``, ``mag``, ``disk``, ``meta``."""
        euv, mag = observe_pair(sun, time, observer, instrument=instrument, npix=self.npix)
        euv_data, mag_data, disk = _prepare(euv, mag, self.grid, self.euv_normalization)
        return {
            "euv": euv_data,
            "mag": mag_data,
            "disk": disk,
            "meta": _meta(seed, time, label, observer, instrument),
        }

    def add(self, pair_id, split, sun, seed, time, label, observer, instrument):
        """Observe one pair (`observe`) and store it."""
        self.store.add(pair_id, split=split, **self.observe(sun, seed, time, label, observer, instrument))


def _observe_seed(npix, grid_size, euv_normalization, flux_model, jobs):
    """
    The pairs of one synthetic Sun, observed here or in a worker process (see `write_synthetic_dataset`).

    ``jobs`` is a list of ``(pair_id, split, seed, time, label, observer, instrument)`` of
    one seed; the result is a list of ``(pair_id, split, pair)`` with ``pair`` as
    `_PairWriter.observe` returns it. The arrays are the same as a serial run's: every
    random draw is keyed by the seed, time, observer and instrument.
    """
    writer = _PairWriter(None, npix, ModelGrid(grid_size), euv_normalization, flux_model)
    sun = writer.sun(jobs[0][2])
    return [(job[0], job[1], writer.observe(sun, *job[2:])) for job in jobs]


def _flux_model_attrs(flux_model):
    """A flux model as the JSON-compatible dict a store's attributes keep (tuples as lists)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(flux_model).items()}


def _pair_writer(path, *, npix, grid_size, euv_normalization, flux_model=None, **contents):
    """
    Create a store of synthetic pairs, or reopen one to resume writing it, and its writer.

    The store's attributes are the generator, ``npix``, ``contents`` (what the store
    holds), the EUV normalisation (`~sunpy_magnetogan.normalization.QuietSunNormalization`
    if None), the input preparation and the Suns' flux model (the default
    `~sunpy_magnetogan.synthetic.FluxModel` if None). A store written by another
    generator, or whose EUV images were normalised otherwise, or whose Suns had another
    flux model (stores without the attribute were written with the default one), is
    refused: resuming it would mix two kinds of pairs.
    """
    euv_normalization = euv_normalization or QuietSunNormalization()
    flux_model = flux_model or FluxModel()
    attrs = {
        "generator": GENERATOR,
        "npix": int(npix),
        **contents,
        "magnetogram": "synthetic HMI, "
        + ("radial-field approximation" if flux_model.radial else "inclined sunspot and plage fields")
        + ", Gauss",
        "euv_normalization": euv_normalization.to_dict(),
        "input_preparation": SYNTHETIC_PREPARATION.to_dict(),
        "flux_model": _flux_model_attrs(flux_model),
    }
    store = PairStore.create(path, grid_size=grid_size, attrs=attrs, exist_ok=True)
    if store.attrs.get("generator") != GENERATOR:
        raise MagnetoGANError(f"{path} holds a pair store that was not written by {GENERATOR}")
    stored = store.attrs.get("euv_normalization", EUVNormalization().to_dict())
    if stored != attrs["euv_normalization"]:
        raise MagnetoGANError(
            f"{path} holds pairs normalised with {stored}, not {attrs['euv_normalization']}; "
            "write them to a new directory"
        )
    stored = store.attrs.get("flux_model", _flux_model_attrs(FluxModel()))
    if stored != attrs["flux_model"]:
        changed = sorted(k for k in attrs["flux_model"] if stored.get(k) != attrs["flux_model"][k])
        raise MagnetoGANError(
            f"{path} holds pairs of Suns with another flux model (differing in {', '.join(changed)}); "
            "write them to a new directory"
        )
    return _PairWriter(store, int(npix), ModelGrid(grid_size), euv_normalization, flux_model)


def write_synthetic_dataset(
    path,
    *,
    split="benchmark",
    npix=512,
    grid_size=512,
    max_pairs=None,
    euv_normalization=None,
    progress=False,
    flux_model=None,
    workers=1,
):
    """
    Generate synthetic EUV / magnetogram pairs and store them on the model grid.

    Parameters
    ----------
    path : str or os.PathLike
        Directory of the `~sunpy_magnetogan.pairs.PairStore` (created, or reopened to
        resume: pairs already there are skipped).
    split : str or dict, optional
        ``"benchmark"`` (every split of `BENCHMARK_SPLIT`), one split name of it, or a
        dict ``{name: SplitSpec}``.
    npix : int, optional
        Size of the synthetic instrument images before preprocessing.
    grid_size : int, optional
        Size of the model grid the pairs are stored on.
    max_pairs : int, optional
        Stop after writing this many new pairs (for quick subsets).
    euv_normalization : optional
        The EUV normalisation applied to the stored EUV images
        (`~sunpy_magnetogan.normalization.QuietSunNormalization` by default). It is
        recorded in the store's attributes (``euv_normalization``), from where training
        copies it into every checkpoint; a store cannot mix two normalisations.
    progress : bool, optional
        Show a tqdm progress bar of the pairs (those already in the store count as done).
    flux_model : `~sunpy_magnetogan.synthetic.FluxModel`, optional
        The Suns' flux model (the calibrated default if None), e.g. with inclined sunspot
        fields; recorded in the store's attributes (``flux_model``).
    workers : int, optional
        Processes that observe the pairs, one synthetic Sun at a time each; this process
        alone writes the store, in the same order and with the same arrays as with 1 (the
        default, no worker process). The workers are started with ``spawn``: a script that
        asks for more than one must call this under ``if __name__ == "__main__":``.

    Returns
    -------
    `~sunpy_magnetogan.pairs.PairStore`
        The store (reopened, with every pair written so far).

    Raises
    ------
    MagnetoGANError
        If ``path`` holds a store of another generator, EUV normalisation or flux model, or
        a worker process stops.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic.dataset import SplitSpec, write_synthetic_dataset
    >>> spec = {"train": SplitSpec((1,), "2014-01-01", "2014-01-31", 1)}
    >>> store = write_synthetic_dataset(tmp_path / "syn", split=spec, npix=128, grid_size=64)
    >>> len(store), store.attrs["generator"]
    (1, 'sunpy_magnetogan.synthetic')
    """
    if int(workers) != workers or workers < 1:
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    splits = _resolve_splits(split)
    writer = _pair_writer(
        path,
        npix=npix,
        grid_size=grid_size,
        euv_normalization=euv_normalization,
        splits={name: asdict(spec) for name, spec in splits.items()},
        flux_model=flux_model,
        benchmark=split == "benchmark" or (isinstance(split, str) and split in BENCHMARK_SPLIT),
    )
    store = writer.store
    items = [
        (name, spec, _pair_id(seed, time, label, spec.instrument), seed, time, label, observer_at)
        for name, spec in splits.items()
        for seed, time, label, observer_at in spec.items(name)
    ]
    missing = [item for item in items if item[2] not in store]
    jobs = [
        (pair_id, name, seed, time, label, observer_at(time), spec.instrument)
        for name, spec, pair_id, seed, time, label, observer_at in missing[:max_pairs]
    ]
    with tqdm(
        total=len(items) - len(missing) + len(jobs),
        initial=len(items) - len(missing),
        desc="synthetic pairs",
        unit="pair",
        disable=not progress,
    ) as bar:
        for pair_id, name, pair in _observed_pairs(writer, jobs, workers):
            store.add(pair_id, split=name, **pair)
            bar.update(1)
            log.info("wrote synthetic pair %s (%s)", pair_id, name)
    return PairStore.open(path)


def _observed_pairs(writer, jobs, workers):
    """
    Yield ``(pair_id, split, pair)`` for ``jobs`` in order, observed here or by ``workers`` processes.

    Consecutive jobs of one seed go to one process, which builds that Sun once.
    """
    groups = [list(group) for _, group in groupby(jobs, key=lambda job: job[2])]
    observe = partial(
        _observe_seed, writer.npix, writer.grid.size, writer.euv_normalization, writer.flux_model
    )
    if workers <= 1 or len(groups) <= 1:
        for group in groups:
            yield from observe(group)
        return
    workers = min(workers, len(groups))
    # spawn: the workers start clean, whatever threads (torch, OpenMP) this process runs.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        # At most two Suns per worker in flight: finished pairs wait in memory only until
        # the Suns before them are written.
        queue = iter(groups)
        pending = deque(pool.submit(observe, group) for group in islice(queue, 2 * workers))
        while pending:
            try:
                results = pending.popleft().result()
            except BrokenProcessPool as err:
                raise MagnetoGANError(
                    "a worker process stopped before its pairs were observed (the pairs written so far "
                    "are kept); a script that asks for workers > 1 must call the writer under "
                    "`if __name__ == '__main__':`, since every worker imports the script anew"
                ) from err
            following = next(queue, None)
            if following is not None:
                pending.append(pool.submit(observe, following))
            yield from results


def write_time_series(
    path,
    series=BENCHMARK_SERIES,
    *,
    npix=512,
    grid_size=512,
    truth_shape=(180, 360),
    euv_normalization=None,
    flux_model=None,
):
    """
    Write time series of synthetic Suns seen by several observers, with ground truth.

    Every time step gives one pair per observer (split ``"series"``), the active regions
    of that time are appended to ``regions.ecsv`` (Carrington position and flux of each,
    `~sunpy_magnetogan.synthetic.SyntheticSun.active_regions`) and the whole-Sun radial
    field is saved as ``truth/s<seed>_<time>.fits`` (a Carrington map).

    Parameters
    ----------
    path : str or os.PathLike
        Directory of the store (created or resumed).
    series : SeriesSpec or sequence of SeriesSpec, optional
        What to write (`BENCHMARK_SERIES` by default).
    npix, grid_size : int, optional
        Instrument image size and model-grid size.
    truth_shape : tuple of int, optional
        Shape of the ground-truth Carrington maps; None to skip them.
    euv_normalization : optional
        EUV normalisation of the stored images, as in `write_synthetic_dataset`.
    flux_model : `~sunpy_magnetogan.synthetic.FluxModel`, optional
        The Suns' flux model, as in `write_synthetic_dataset`.

    Returns
    -------
    `~sunpy_magnetogan.pairs.PairStore`

    Raises
    ------
    MagnetoGANError
        If ``path`` holds a store of another generator, EUV normalisation or flux model.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import SeriesSpec, write_time_series
    >>> spec = SeriesSpec(seed=3000, start="2014-03-01", steps=2, observers=(("sdo", "AIA"), ("farside", "EUVI")))
    >>> store = write_time_series(tmp_path / "series", spec, npix=64, grid_size=32, truth_shape=(18, 36))
    >>> len(store.ids("series")), sorted(p.name for p in (tmp_path / "series" / "truth").iterdir())[0]
    (4, 's03000_20140301T0000.fits')
    """
    if isinstance(series, SeriesSpec):
        series = (series,)
    writer = _pair_writer(
        path,
        npix=npix,
        grid_size=grid_size,
        euv_normalization=euv_normalization,
        flux_model=flux_model,
        series=[_series_dict(s) for s in series],
    )
    path = Path(path)
    tables = []
    for spec in series:
        sun = writer.sun(spec.seed)
        rng = component_rng(spec.seed, "series-observers")
        for time in spec.times():
            regions = sun.active_regions(time)
            regions["time"] = [time.isot] * len(regions)
            regions["seed"] = [spec.seed] * len(regions)
            tables.append(regions)
            if truth_shape is not None:
                truth = path / "truth" / f"s{spec.seed:05d}_{time.strftime('%Y%m%dT%H%M')}.fits"
                if not truth.exists():
                    truth.parent.mkdir(exist_ok=True)
                    sun.carrington_map(time, shape=truth_shape).save(truth)
            for observer_spec, instrument in spec.observers:
                label, observer_at = _observer(observer_spec, rng)
                observer = observer_at(time)
                pair_id = _pair_id(spec.seed, time, label, instrument)
                if pair_id in writer.store:
                    continue
                writer.add(pair_id, "series", sun, spec.seed, time, label, observer, instrument)
    if tables:
        table = vstack(tables, metadata_conflicts="silent")
        table.meta = {"generator": GENERATOR}
        table.write(path / "regions.ecsv", overwrite=True)
    return PairStore.open(path)


def _series_dict(spec):
    out = asdict(spec)
    out["cadence"] = f"{spec.cadence.to_value(u.day)} d"
    return out


def open_synthetic_dataset(path):
    """
    Open a store written by `write_synthetic_dataset` or `write_time_series`.

    Parameters
    ----------
    path : str or os.PathLike
        The store's directory.

    Returns
    -------
    `~sunpy_magnetogan.pairs.PairStore`

    Raises
    ------
    MagnetoGANError
        If the store was not written by the synthetic generator.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import SplitSpec, open_synthetic_dataset, write_synthetic_dataset
    >>> spec = {"test": SplitSpec((1000,), "2014-03-01", "2014-03-31", 1)}
    >>> _ = write_synthetic_dataset(tmp_path / "syn", split=spec, npix=64, grid_size=32)
    >>> store = open_synthetic_dataset(tmp_path / "syn")
    >>> store.ids("test")
    ['s01000_20140303T1647_sdo_aia']
    """
    store = PairStore.open(path)
    if store.attrs.get("generator") != GENERATOR:
        raise MagnetoGANError(f"{path} is a pair store but not a synthetic one (no generator={GENERATOR!r})")
    return store


def read_region_truth(path, *, seed=None):
    """
    The ground-truth active regions of a time series store.

    Parameters
    ----------
    path : str or os.PathLike
        Directory written by `write_time_series`.
    seed : int, optional
        Only this Sun.

    Returns
    -------
    `~astropy.table.QTable`
        One row per region and time (columns of
        `~sunpy_magnetogan.synthetic.SyntheticSun.active_regions` plus ``time`` and ``seed``).

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import SeriesSpec, read_region_truth, write_time_series
    >>> spec = SeriesSpec(seed=3000, start="2014-03-01", steps=2, observers=(("sdo", "AIA"),))
    >>> _ = write_time_series(tmp_path / "series", spec, npix=64, grid_size=32, truth_shape=None)
    >>> regions = read_region_truth(tmp_path / "series", seed=3000)
    >>> sorted(set(regions.colnames) & {"flux", "lon", "lat", "time", "seed"})
    ['flux', 'lat', 'lon', 'seed', 'time']
    """
    with u.add_enabled_units([MSH]):
        table = QTable.read(Path(path) / "regions.ecsv")
    if seed is not None:
        table = table[table["seed"] == seed]
    return table

"""
Pairing of EUV and magnetogram records by time, and the train/test split.

Everything here works on lists of `Record` objects (what an archive search returned, or
a list made by hand) and needs no network:

* `select_nearest` picks, for each synoptic time (00:00 and 12:00 UT by default), the
  record closest in time within a tolerance;
* `pair_records` pairs each selected EUV (AIA 304) record with the magnetogram (HMI)
  record nearest to it in time, within a pairing tolerance, and assigns the split;
* `select_farside` does the selection alone for EUVI, which has no magnetogram;
* `SplitRule` is the paper's split (training 2011-2019 without September and October,
  test September and October), configurable.

The resulting `PairPlan` list is written as ``pairs.csv`` by the fetch step and read by
the preparation step.
"""

import csv
import logging
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.time import Time

from sunpy_magnetogan._io import atomic_write_csv
from sunpy_magnetogan.data.cadence import synoptic_times

__all__ = [
    "PairPlan",
    "Record",
    "SplitRule",
    "pair_records",
    "read_plan",
    "read_records",
    "select_farside",
    "select_nearest",
    "write_plan",
    "write_records",
]

log = logging.getLogger(__name__)

_RECORD_FIELDS = ("source", "key", "time", "provider", "fileid", "size", "url")


@dataclass(frozen=True)
class Record:
    """
    One observation found in an archive (not yet downloaded).

    Two records are equal when their ``source`` and ``key`` are.

    Parameters
    ----------
    source : str
        Name of the `~sunpy_magnetogan.data.query.DataSource` (``"aia304"``...).
    key : str
        Identifier unique within the archive (JSOC series and ``T_REC``, or VSO provider
        and ``fileid``); keys the download manifest.
    time : `~astropy.time.Time` or str
        Observation time (converted to UTC).
    provider : str, optional
        The archive or data provider (``"JSOC"``, ``"SDAC"``, ``"SSC"``...).
    fileid : str, optional
        The archive's own identifier (``T_REC`` or VSO ``fileid``).
    size : int, optional
        File size in bytes as the archive states it (informational: VSO sizes are
        rounded, so they are not used to verify downloads).
    url : str, optional
        Direct download URL, when known without an export or data request.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> from sunpy_magnetogan.data import Record
    >>> start = Time("2011-01-01T00:00")
    >>> records = [Record("aia304", f"aia-{i}", start + i * 6 * u.h) for i in range(4)]
    >>> records[1].time.isot, records[1] == Record("aia304", "aia-1", start)  # equal by source and key
    ('2011-01-01T06:00:00.000', True)
    """

    source: str
    key: str
    time: Time = field(compare=False)
    provider: str = field(default="", compare=False)
    fileid: str = field(default="", compare=False)
    size: int | None = field(default=None, compare=False)
    url: str | None = field(default=None, compare=False)

    def __post_init__(self):
        time = Time(self.time)
        if not time.isscalar:
            raise ValueError(f"a Record has one time, got {len(time)}")
        object.__setattr__(self, "time", time.utc)
        if self.size is not None:
            object.__setattr__(self, "size", int(self.size))

    def to_dict(self):
        """The record as a dict of strings (for CSV files)."""
        return {
            "source": self.source,
            "key": self.key,
            "time": self.time.isot,
            "provider": self.provider,
            "fileid": self.fileid,
            "size": "" if self.size is None else str(self.size),
            "url": self.url or "",
        }

    @classmethod
    def from_dict(cls, row):
        """Inverse of `to_dict`."""
        size = row.get("size") or None
        return cls(
            source=row["source"],
            key=row["key"],
            time=Time(row["time"], scale="utc"),
            provider=row.get("provider", "") or "",
            fileid=row.get("fileid", "") or "",
            size=None if size is None else int(size),
            url=row.get("url") or None,
        )


@dataclass(frozen=True)
class SplitRule:
    """
    Which split an observation time belongs to.

    The default is the paper's: observations from 2011 to 2019, September and October
    for testing, the other months for training. Times outside the years belong to no
    split (they are not used).

    Parameters
    ----------
    test_months : tuple of int
        Months (1-12) of the test split.
    first_year, last_year : int or None
        Years included (both ends); None for no limit.
    validation_months : tuple of int
        Months of an optional validation split (``"val"``), taken out of training.

    Examples
    --------
    >>> from sunpy_magnetogan.data.pairing import SplitRule
    >>> rule = SplitRule()
    >>> rule("2014-09-15T12:00"), rule("2014-03-01T00:00"), rule("2020-01-01T00:00")
    ('test', 'train', None)
    """

    test_months: tuple = (9, 10)
    first_year: int | None = 2011
    last_year: int | None = 2019
    validation_months: tuple = ()

    def __post_init__(self):
        test = tuple(int(m) for m in self.test_months)
        val = tuple(int(m) for m in self.validation_months)
        for m in test + val:
            if not 1 <= m <= 12:
                raise ValueError(f"months must be in 1..12, got {m}")
        if set(test) & set(val):
            raise ValueError(f"months {sorted(set(test) & set(val))} are both test and validation months")
        if self.first_year is not None and self.last_year is not None and self.last_year < self.first_year:
            raise ValueError(f"last_year {self.last_year} is before first_year {self.first_year}")
        object.__setattr__(self, "test_months", test)
        object.__setattr__(self, "validation_months", val)

    def __call__(self, time):
        """
        The split of an observation time.

        Parameters
        ----------
        time : `~astropy.time.Time` or str

        Returns
        -------
        str or None
            ``"train"``, ``"test"``, ``"val"``, or None outside the years.
        """
        dt = Time(time).utc.datetime
        if self.first_year is not None and dt.year < self.first_year:
            return None
        if self.last_year is not None and dt.year > self.last_year:
            return None
        if dt.month in self.test_months:
            return "test"
        if dt.month in self.validation_months:
            return "val"
        return "train"

    def to_dict(self):
        """The rule as a JSON-friendly dict."""
        return {
            "test_months": list(self.test_months),
            "first_year": self.first_year,
            "last_year": self.last_year,
            "validation_months": list(self.validation_months),
        }

    @classmethod
    def from_dict(cls, d):
        """Inverse of `to_dict`."""
        return cls(
            test_months=tuple(d.get("test_months", (9, 10))),
            first_year=d.get("first_year"),
            last_year=d.get("last_year"),
            validation_months=tuple(d.get("validation_months", ())),
        )


@dataclass(frozen=True)
class PairPlan:
    """
    One planned training pair (or far-side input): what to download and where it goes.

    Attributes
    ----------
    pair_id : str
        Identifier, e.g. ``"sdo_20110101_0000"`` (the pair's file name in the store).
    split : str
        ``"train"``, ``"test"``, ``"val"`` or ``"farside"``.
    target : `~astropy.time.Time`
        The synoptic time the pair stands for.
    euv : Record
        The EUV image.
    mag : Record or None
        The magnetogram (None for far-side inputs).

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> from sunpy_magnetogan.data import Record, select_farside
    >>> records = [Record("euvi304_a", f"euvi-{i}", Time("2014-09-14T00:10") + i * 12 * u.h) for i in range(3)]
    >>> plan = select_farside(records, prefix="euvi304_a")[0]
    >>> plan.pair_id, plan.split, plan.mag is None
    ('euvi304_a_20140914_0000', 'farside', True)
    """

    pair_id: str
    split: str
    target: Time
    euv: Record
    mag: Record | None = None

    @property
    def time_difference(self):
        """`~astropy.units.Quantity`: ``|t_mag - t_euv|`` in seconds (NaN without a magnetogram)."""
        if self.mag is None:
            return np.nan * u.s
        return abs((self.mag.time - self.euv.time).to(u.s))

    @property
    def records(self):
        """The records to download (list of Record)."""
        return [r for r in (self.euv, self.mag) if r is not None]


def _as_seconds(quantity, name):
    value = u.Quantity(quantity)
    if not value.unit.is_equivalent(u.s) or not value.value >= 0:
        raise ValueError(f"{name} must be a non-negative time, got {quantity}")
    return float(value.to_value(u.s))


def select_nearest(records, targets, *, tolerance):
    """
    For each target time, the record nearest in time within a tolerance.

    Each record is used for at most one target: when two targets claim the same
    record, the nearer target keeps it.

    Parameters
    ----------
    records : iterable of Record
        Candidate records (any order).
    targets : `~astropy.time.Time`
        1-D array of target times.
    tolerance : `~astropy.units.Quantity`
        Largest accepted ``|t_record - t_target|``.

    Returns
    -------
    dict
        ``{target index: Record}`` for the targets that got a record.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> from sunpy_magnetogan.data import Record
    >>> start = Time("2011-01-01T00:00")
    >>> records = [Record("aia304", f"aia-{i}", start + i * 6 * u.h) for i in range(4)]
    >>> from sunpy_magnetogan.data import select_nearest
    >>> chosen = select_nearest(records, Time(["2011-01-01T00:05", "2011-01-01T12:00"]), tolerance=30 * u.min)
    >>> {index: record.key for index, record in chosen.items()}
    {0: 'aia-0', 1: 'aia-2'}
    """
    tol = _as_seconds(tolerance, "tolerance")
    records = sorted(records, key=lambda r: r.time.unix)
    targets = Time(targets)
    if targets.isscalar:
        targets = targets.reshape((1,))
    if not records or len(targets) == 0:
        return {}
    times = np.array([r.time.unix for r in records])
    target_times = targets.utc.unix
    idx = np.searchsorted(times, target_times)
    chosen = {}
    for i, (t, j) in enumerate(zip(target_times, idx, strict=True)):
        candidates = [k for k in (j - 1, j) if 0 <= k < len(times)]
        k = min(candidates, key=lambda c: abs(times[c] - t))
        dt = abs(times[k] - t)
        if dt <= tol:
            chosen[i] = (k, dt)
    # A record claimed by several targets stays with the nearest one.
    owner = {}
    for i, (k, dt) in chosen.items():
        if k not in owner or dt < chosen[owner[k]][1]:
            owner[k] = i
    return {i: records[k] for k, i in sorted(owner.items(), key=lambda item: item[1])}


def _pair_id(prefix, target):
    return f"{prefix}_{target.utc.strftime('%Y%m%d_%H%M')}"


def _targets_for(records, hours, start=None, end=None):
    if not records:
        return Time([], format="unix", scale="utc")
    times = Time([r.time for r in records])
    start = Time(start) if start is not None else Time(times.min().strftime("%Y-%m-%d"), scale="utc")
    end = Time(end) if end is not None else times.max() + 1 * u.day
    return synoptic_times(start, end, hours=hours)


def pair_records(
    euv_records,
    mag_records,
    *,
    hours=(0, 12),
    tolerance=30 * u.min,
    pair_tolerance=15 * u.min,
    split_rule=None,
    prefix="sdo",
    start=None,
    end=None,
):
    """
    Pair EUV and magnetogram records at the synoptic times and assign their split.

    For each synoptic time, the EUV record nearest to it (within ``tolerance``) is
    chosen, then the magnetogram record nearest to *that EUV record* (within
    ``pair_tolerance``). Times without both, and times the split rule leaves out, give
    no pair. Each record is used at most once.

    Parameters
    ----------
    euv_records, mag_records : iterable of Record
        Candidates (e.g. AIA 304 and HMI records from `~sunpy_magnetogan.data.query.search_records`).
    hours : sequence of int, optional
        Synoptic hours (UT).
    tolerance : `~astropy.units.Quantity`, optional
        Largest distance between a synoptic time and its EUV record.
    pair_tolerance : `~astropy.units.Quantity`, optional
        Largest distance between the EUV and magnetogram records of a pair.
    split_rule : SplitRule, optional
        The paper's split by default.
    prefix : str, optional
        Start of the pair identifiers.
    start, end : `~astropy.time.Time` or str, optional
        Range of synoptic times; by default the days the EUV records cover.

    Returns
    -------
    list of PairPlan
        Sorted by time.

    Examples
    --------
    >>> from sunpy_magnetogan.data.pairing import Record, pair_records
    >>> aia = [Record("aia304", "a1", "2014-03-01T00:00:07"), Record("aia304", "a2", "2014-09-01T12:01:00")]
    >>> hmi = [Record("hmi_los", "h1", "2014-03-01T00:00:00"), Record("hmi_los", "h2", "2014-09-01T12:00:00")]
    >>> [(p.pair_id, p.split) for p in pair_records(aia, hmi)]
    [('sdo_20140301_0000', 'train'), ('sdo_20140901_1200', 'test')]
    """
    split_rule = SplitRule() if split_rule is None else split_rule
    pair_tol = _as_seconds(pair_tolerance, "pair_tolerance")
    euv_records = list(euv_records)
    targets = _targets_for(euv_records, hours, start, end)
    chosen = select_nearest(euv_records, targets, tolerance=tolerance)
    mags = sorted(mag_records, key=lambda r: r.time.unix)
    mag_times = np.array([r.time.unix for r in mags])
    used = set()
    plans = []
    for i, euv in chosen.items():
        target = targets[i]
        split = split_rule(target)
        if split is None or len(mags) == 0:
            continue
        j = np.searchsorted(mag_times, euv.time.unix)
        candidates = [k for k in (j - 1, j) if 0 <= k < len(mags) and k not in used]
        if not candidates:
            continue
        k = min(candidates, key=lambda c: abs(mag_times[c] - euv.time.unix))
        if abs(mag_times[k] - euv.time.unix) > pair_tol:
            log.debug("no magnetogram within %s s of %s", pair_tol, euv.time.isot)
            continue
        used.add(k)
        plans.append(PairPlan(_pair_id(prefix, target), split, target, euv, mags[k]))
    log.info("%d pairs from %d EUV and %d magnetogram records", len(plans), len(euv_records), len(mags))
    return plans


def select_farside(records, *, hours=(0, 12), tolerance=30 * u.min, prefix="euvi", start=None, end=None):
    """
    Select far-side EUV (EUVI) records at the synoptic times (no magnetogram, no split).

    Parameters
    ----------
    records : iterable of Record
        EUVI records.
    hours, tolerance, start, end
        As for `pair_records`.
    prefix : str, optional
        Start of the identifiers (e.g. the source name ``"euvi304_a"``).

    Returns
    -------
    list of PairPlan
        With ``split="farside"`` and ``mag=None``, sorted by time.

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> from sunpy_magnetogan.data import Record, select_farside
    >>> records = [Record("euvi304_b", f"b{i}", Time("2014-09-14T00:10") + i * 4 * u.h) for i in range(6)]
    >>> [plan.pair_id for plan in select_farside(records, prefix="euvi304_b")]  # one per synoptic time
    ['euvi304_b_20140914_0000', 'euvi304_b_20140914_1200']
    """
    records = list(records)
    targets = _targets_for(records, hours, start, end)
    chosen = select_nearest(records, targets, tolerance=tolerance)
    return [PairPlan(_pair_id(prefix, targets[i]), "farside", targets[i], rec) for i, rec in chosen.items()]


def write_records(path, records):
    """
    Write records to a CSV file (atomically: a reader never sees half a file).

    Parameters
    ----------
    path : str or os.PathLike
    records : iterable of Record
    """
    atomic_write_csv(path, [r.to_dict() for r in records], fieldnames=_RECORD_FIELDS)


def read_records(path):
    """
    Read records written by `write_records`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    list of Record
    """
    with Path(path).open(newline="") as f:
        return [Record.from_dict(row) for row in csv.DictReader(f)]


_PLAN_FIELDS = (
    "pair_id",
    "split",
    "target",
    "euv_source",
    "euv_key",
    "euv_time",
    "euv_provider",
    "euv_fileid",
    "mag_source",
    "mag_key",
    "mag_time",
    "mag_provider",
    "mag_fileid",
    "dt_s",
)


def write_plan(path, plans):
    """
    Write a list of `PairPlan` to a CSV file (``pairs.csv``), atomically.

    Parameters
    ----------
    path : str or os.PathLike
    plans : iterable of PairPlan

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> from sunpy_magnetogan.data import Record
    >>> start = Time("2011-01-01T00:00")
    >>> records = [Record("aia304", f"aia-{i}", start + i * 6 * u.h) for i in range(4)]
    >>> from sunpy_magnetogan.data import select_farside, write_plan
    >>> write_plan(tmp_path / "pairs.csv", select_farside([Record("euvi304_a", "e0", Time("2014-09-14T00:05"))]))
    >>> (tmp_path / "pairs.csv").read_text().splitlines()[0].split(",")[:3]
    ['pair_id', 'split', 'target']
    """
    rows = []
    for plan in plans:
        row = {"pair_id": plan.pair_id, "split": plan.split, "target": plan.target.isot}
        for prefix, rec in (("euv", plan.euv), ("mag", plan.mag)):
            row[f"{prefix}_source"] = rec.source if rec else ""
            row[f"{prefix}_key"] = rec.key if rec else ""
            row[f"{prefix}_time"] = rec.time.isot if rec else ""
            row[f"{prefix}_provider"] = rec.provider if rec else ""
            row[f"{prefix}_fileid"] = rec.fileid if rec else ""
        dt = plan.time_difference.to_value(u.s)
        row["dt_s"] = "" if not np.isfinite(dt) else f"{dt:.1f}"
        rows.append(row)
    atomic_write_csv(path, rows, fieldnames=_PLAN_FIELDS)


def read_plan(path):
    """
    Read a plan written by `write_plan`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    list of PairPlan

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.time import Time
    >>> from sunpy_magnetogan.data import Record
    >>> start = Time("2011-01-01T00:00")
    >>> records = [Record("aia304", f"aia-{i}", start + i * 6 * u.h) for i in range(4)]
    >>> from sunpy_magnetogan.data import read_plan, select_farside, write_plan
    >>> plans = select_farside([Record("euvi304_a", "e0", Time("2014-09-14T00:05"))])
    >>> write_plan(tmp_path / "pairs.csv", plans)
    >>> read_plan(tmp_path / "pairs.csv") == plans
    True
    """

    def record(row, prefix):
        if not row.get(f"{prefix}_key"):
            return None
        return Record(
            source=row[f"{prefix}_source"],
            key=row[f"{prefix}_key"],
            time=Time(row[f"{prefix}_time"], scale="utc"),
            provider=row.get(f"{prefix}_provider", ""),
            fileid=row.get(f"{prefix}_fileid", ""),
        )

    with Path(path).open(newline="") as f:
        return [
            PairPlan(
                row["pair_id"],
                row["split"],
                Time(row["target"], scale="utc"),
                record(row, "euv"),
                record(row, "mag"),
            )
            for row in csv.DictReader(f)
        ]

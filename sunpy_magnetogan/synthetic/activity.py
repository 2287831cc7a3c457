"""
Synthetic Suns sorted by activity level, for evaluations from solar minimum to maximum.

The activity of a synthetic Sun at a time is measured by its *relative emergence rate*

``R = activity * SolarCycle.emergence_rate(time)``

(`relative_activity`): the rate at which active regions emerge, 1 at the peak of a cycle of
amplitude 1 (`~sunpy_magnetogan.solar_cycle.SolarCycle.cycle_rate`). It plays the part of a
sunspot number: about 0.03 at the minima of 2008 and 2019, 0.75 at the maximum of cycle 24
(2013) and 1.1 at the maximum of cycle 23 (2001). `ACTIVITY_BINS` splits it into five bins
from minimum to maximum.

`activity_samples` draws, for every bin, synthetic Suns (seeds) and dates at which the
calibrated Sun (``activity=1``) has an ``R`` inside the bin: the dates come from the real
cycles 23-25 (1996-06-01 .. 2026-12-31), so every bin has the butterfly-diagram latitudes
and the polar fields of its phase of the cycle.

Seeds
-----
The samples use seeds ``ACTIVITY_SEED_START + 100 * bin + k`` (``k < 100``), i.e.
7000-7499, disjoint from every split of `~sunpy_magnetogan.synthetic.BENCHMARK_SPLIT`
(0-319 train/val, 1000-2219 test splits), from the tracking series (3000-3004) and from the
prior benchmark (4000-4007): the Suns are never seen in training. Their dates are drawn
from a stream of their own (``component_rng(seed, "activity-dates")``), so the samples are
fixed by this module alone.
"""

from dataclasses import dataclass

import numpy as np

from sunpy_magnetogan.solar_cycle import SolarCycle, days_since_epoch, time_from_days
from sunpy_magnetogan.synthetic.seeding import component_rng

__all__ = [
    "ACTIVITY_BINS",
    "ACTIVITY_DATES",
    "ACTIVITY_SEED_START",
    "ActivityBin",
    "ActivitySample",
    "activity_samples",
    "relative_activity",
]

#: First seed of the activity samples (seeds 7000-7499; see the module docstring).
ACTIVITY_SEED_START = 7000

#: Range of dates the samples are drawn from (cycles 23, 24 and 25).
ACTIVITY_DATES = ("1996-06-01", "2026-12-31")

_MAX_DRAWS = 100_000


@dataclass(frozen=True)
class ActivityBin:
    """
    A range of the relative emergence rate ``R`` (`relative_activity`).

    Parameters
    ----------
    name : str
        Short name (``"minimum"`` .. ``"maximum"``).
    low, high : float
        ``low <= R < high`` (dimensionless; 1 is the peak of a cycle of amplitude 1).

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic.activity import ACTIVITY_BINS
    >>> minimum = ACTIVITY_BINS[0]
    >>> minimum.name, 0.05 in minimum, 0.2 in minimum
    ('minimum', True, False)
    """

    name: str
    low: float
    high: float

    def __contains__(self, rate):
        return self.low <= rate < self.high


#: The five activity bins, from solar minimum to maximum.
ACTIVITY_BINS = (
    ActivityBin("minimum", 0.0, 0.1),
    ActivityBin("low", 0.1, 0.3),
    ActivityBin("moderate", 0.3, 0.55),
    ActivityBin("high", 0.55, 0.8),
    ActivityBin("maximum", 0.8, 2.0),
)


@dataclass(frozen=True)
class ActivitySample:
    """
    One synthetic Sun at one date, in one activity bin.

    Parameters
    ----------
    bin : int
        Index in the bins the sample was drawn for.
    name : str
        The bin's name.
    seed : int
        The `~sunpy_magnetogan.synthetic.SyntheticSun` seed.
    time : `~astropy.time.Time`
        The date (rounded to the minute).
    rate : float
        Its relative emergence rate ``R`` (dimensionless).

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic.activity import activity_samples
    >>> sample = activity_samples(1)[0]
    >>> sample.name, sample.seed, sample.rate < 0.1
    ('minimum', 7000, True)
    """

    bin: int
    name: str
    seed: int
    time: object
    rate: float


def relative_activity(time, *, activity=1.0, cycle=None):
    """
    Relative emergence rate of active regions of a synthetic Sun at a time.

    Parameters
    ----------
    time : `~astropy.time.Time`, str or float
        The time (floats: days since `~sunpy_magnetogan.solar_cycle.EPOCH`).
    activity : float, optional
        The Sun's ``activity`` multiplier (`~sunpy_magnetogan.synthetic.SyntheticSun`).
    cycle : `~sunpy_magnetogan.solar_cycle.SolarCycle`, optional
        The cycle (the default one otherwise).

    Returns
    -------
    float
        ``activity * cycle.emergence_rate(time)``, dimensionless.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic.activity import relative_activity
    >>> round(relative_activity("2008-12-01"), 2), round(relative_activity("2013-02-01"), 2)
    (0.03, 0.75)
    """
    cycle = cycle or SolarCycle()
    return float(activity) * cycle.emergence_rate(time)


def activity_samples(seeds_per_bin, *, bins=ACTIVITY_BINS, cycle=None, dates=ACTIVITY_DATES):
    """
    Held-out synthetic Suns and dates for every activity bin.

    Parameters
    ----------
    seeds_per_bin : int
        Suns per bin (at most 100).
    bins : sequence of ActivityBin, optional
        The bins (`ACTIVITY_BINS` by default; at most 5 with the documented seed range).
    cycle : `~sunpy_magnetogan.solar_cycle.SolarCycle`, optional
        The cycle used to compute ``R``.
    dates : tuple of str, optional
        ``(start, end)`` of the dates drawn (ISO).

    Returns
    -------
    list of ActivitySample
        ``seeds_per_bin`` samples per bin, bin by bin, lowest activity first. Sample ``k``
        of bin ``i`` has seed ``ACTIVITY_SEED_START + 100 * i + k`` and the first date of
        its own random stream at which ``R`` falls in the bin.

    Raises
    ------
    ValueError
        If ``seeds_per_bin`` is not in 1..100, or a bin has no date in the range.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic.activity import ACTIVITY_BINS, activity_samples
    >>> samples = activity_samples(1)
    >>> [s.name for s in samples]
    ['minimum', 'low', 'moderate', 'high', 'maximum']
    >>> [s.seed for s in samples]
    [7000, 7100, 7200, 7300, 7400]
    >>> all(b.low <= s.rate < b.high for s, b in zip(samples, ACTIVITY_BINS))
    True
    """
    if int(seeds_per_bin) != seeds_per_bin or not 1 <= seeds_per_bin <= 100:
        raise ValueError(f"seeds_per_bin must be an integer in 1..100, got {seeds_per_bin!r}")
    cycle = cycle or SolarCycle()
    start, end = (days_since_epoch(d) for d in dates)
    samples = []
    for index, activity_bin in enumerate(bins):
        for k in range(int(seeds_per_bin)):
            seed = ACTIVITY_SEED_START + 100 * index + k
            rng = component_rng(seed, "activity-dates")
            for _ in range(_MAX_DRAWS):
                day = np.round((start + (end - start) * rng.random()) * 1440.0) / 1440.0
                rate = relative_activity(day, cycle=cycle)
                if rate in activity_bin:
                    break
            else:
                raise ValueError(f"no date in {dates} has an activity in bin {activity_bin}")
            samples.append(ActivitySample(index, activity_bin.name, seed, time_from_days(day), rate))
    return samples

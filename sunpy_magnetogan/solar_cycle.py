"""
The solar activity cycle: dates, Hale's law and the butterfly diagram.

The one home of the cycle in the package. The synthetic Sun draws its flux emergence from
it, and the models use it at inference to know which Hale order the flux at a given
latitude and date follows (`cycle_frame`), which an EUV image cannot show.

* Cycle *n* starts at its minimum. `CYCLE_MINIMA` holds the published minima of cycles
  19-25 (13-month smoothed monthly sunspot number, WDC-SILSO, Royal Observatory of
  Belgium; the cycle 25 minimum of December 2019 as announced by the NASA/NOAA Solar Cycle
  25 Prediction Panel, September 2020); later cycles are extrapolated at 11 years.
* The emergence rate of each cycle follows Hathaway, Wilson & Reichmann (1994),
  ``f(t) ~ (t/b)^3 / (exp((t/b)^2) - 0.71)``, scaled to a peak of 1 at about 4.2 years
  after minimum and multiplied by the cycle's relative amplitude (`CYCLE_AMPLITUDES`:
  cycle 24 was weak). A cycle emerges flux from 0.8 years before its minimum, so old and
  new cycles overlap for a few years around each minimum.
* The mean emergence latitude drifts equatorward as ``28 deg * exp(-t / 7.5 yr)``
  (Hathaway 2011, Sol. Phys. 273, 221), with a spread of ``3.5 deg + 0.2 * mean``: the
  butterfly diagram.
* Hale's law: the leading polarity of northern active regions is positive in odd cycles
  and negative in even ones (cycle 24: negative, cycle 25: positive), opposite in the
  south (`north_leading_sign`).
* The polar fields have, at a cycle's minimum, the sign of that cycle's leading polarity
  in the same hemisphere and reverse near maximum (about 0.4 of the cycle length).

Times are handled as floating-point days since `EPOCH` internally; the public functions
accept anything `~sunpy.time.parse_time` understands.
"""

import astropy.units as u
import numpy as np
from astropy.time import Time
from sunpy.time import parse_time

__all__ = [
    "CYCLE_AMPLITUDES",
    "CYCLE_MINIMA",
    "EPOCH",
    "CycleFrame",
    "SolarCycle",
    "cycle_frame",
    "days_since_epoch",
    "time_from_days",
]

#: Reference time of the internal day count (J2000.0, UTC).
EPOCH = Time("2000-01-01T12:00:00", scale="utc")

#: Start (minimum) of the cycles whose dates are known, as decimal years: the minima of the
#: 13-month smoothed monthly sunspot number (WDC-SILSO): April 1954, October 1964, March
#: 1976, September 1986, August 1996, December 2008 and December 2019.
CYCLE_MINIMA = {19: 1954.3, 20: 1964.8, 21: 1976.2, 22: 1986.7, 23: 1996.6, 24: 2008.9, 25: 2019.9}

#: Relative strength of each known cycle (1 for cycles not listed).
CYCLE_AMPLITUDES = {21: 1.25, 22: 1.2, 23: 1.1, 24: 0.75, 25: 0.95}

_DAYS_PER_YEAR = 365.25
_HATHAWAY_C = 0.71
# (t/b)^3 / (exp((t/b)^2) - 0.71) peaks at t/b = 1.0816. t counts from 0.8 yr before the
# minimum (the first high-latitude regions of a cycle appear before it) and b puts the
# peak 4.2 yr after the minimum.
_HATHAWAY_XPEAK = 1.0815829
_HATHAWAY_LEAD = 0.8
_HATHAWAY_B = (4.2 + _HATHAWAY_LEAD) / _HATHAWAY_XPEAK
_HATHAWAY_FPEAK = _HATHAWAY_XPEAK**3 / (np.exp(_HATHAWAY_XPEAK**2) - _HATHAWAY_C)


def days_since_epoch(time):
    """
    Days since `EPOCH` of a time or an array of times.

    Parameters
    ----------
    time : `~astropy.time.Time`, str, float or numpy.ndarray
        Any time `~sunpy.time.parse_time` understands; plain numbers (or numeric arrays)
        are taken to be days since `EPOCH` already.

    Returns
    -------
    float or numpy.ndarray
        Days (float64).

    Examples
    --------
    >>> from sunpy_magnetogan.solar_cycle import days_since_epoch
    >>> days_since_epoch("2000-01-11T12:00:00")
    np.float64(10.0)
    """
    if isinstance(time, (float, int, np.floating, np.integer)):
        return float(time)
    if isinstance(time, np.ndarray) and np.issubdtype(time.dtype, np.number):
        return time.astype(np.float64)
    return np.asarray((parse_time(time) - EPOCH).to_value(u.day), dtype=np.float64)[()]


def time_from_days(days):
    """
    The `~astropy.time.Time` a number of days after `EPOCH`.

    Parameters
    ----------
    days : float or array-like
        Days since `EPOCH`.

    Returns
    -------
    `~astropy.time.Time`

    Examples
    --------
    >>> from sunpy_magnetogan.solar_cycle import time_from_days
    >>> time_from_days(10.0).isot
    '2000-01-11T12:00:00.000'
    """
    return EPOCH + np.asarray(days, dtype=np.float64) * u.day


def _decimal_year(days):
    return 2000.0 + (np.asarray(days) + 0.5) / _DAYS_PER_YEAR


class SolarCycle:
    """
    Emergence rate, butterfly latitudes, Hale polarity and polar field versus time.

    Parameters
    ----------
    amplitudes : dict, optional
        Relative amplitude per cycle number, overriding `CYCLE_AMPLITUDES`.
    polar_field : `~astropy.units.Quantity`
        Radial field at the poles at cycle minimum (about 6 G observed by HMI).

    Examples
    --------
    >>> from sunpy_magnetogan.solar_cycle import SolarCycle
    >>> cycle = SolarCycle()
    >>> cycle.cycle_number("2014-04-01"), cycle.north_leading_sign(24)
    (24, -1)
    >>> cycle.emergence_rate("2013-01-01") > 10 * cycle.emergence_rate("2019-12-01")
    True
    """

    @u.quantity_input
    def __init__(self, *, amplitudes=None, polar_field: u.G = 6 * u.G):
        self.amplitudes = dict(CYCLE_AMPLITUDES)
        self.amplitudes.update(amplitudes or {})
        self.polar_field = polar_field.to(u.G)

    def __repr__(self):
        return f"SolarCycle(polar_field={self.polar_field})"

    @staticmethod
    def cycle_start(number):
        """
        Start (minimum) of a cycle, in days since `EPOCH`.

        Parameters
        ----------
        number : int
            Cycle number (24 started in December 2008).

        Returns
        -------
        float
        """
        number = int(number)
        if number in CYCLE_MINIMA:
            year = CYCLE_MINIMA[number]
        elif number > max(CYCLE_MINIMA):
            year = CYCLE_MINIMA[max(CYCLE_MINIMA)] + 11.0 * (number - max(CYCLE_MINIMA))
        else:
            year = CYCLE_MINIMA[min(CYCLE_MINIMA)] - 11.0 * (min(CYCLE_MINIMA) - number)
        return (year - 2000.0) * _DAYS_PER_YEAR - 0.5

    def cycle_number(self, time):
        """
        The cycle that had started most recently at ``time``.

        Parameters
        ----------
        time : `~astropy.time.Time`, str or float
            The time (a float is days since `EPOCH`).

        Returns
        -------
        int
        """
        days = days_since_epoch(time)
        number = 24 + int(np.floor((_decimal_year(days) - CYCLE_MINIMA[24]) / 11.0)) + 1
        while self.cycle_start(number) > days:
            number -= 1
        return number

    def cycle_length(self, number):
        """Length of a cycle in days (to the next minimum)."""
        return self.cycle_start(number + 1) - self.cycle_start(number)

    def phase(self, time, number=None):
        """
        Years since the start of a cycle (the current one by default).

        Parameters
        ----------
        time : `~astropy.time.Time`, str or float
            The time.
        number : int, optional
            The cycle; the one returned by `cycle_number` by default.

        Returns
        -------
        float
            Years (negative before the cycle started).
        """
        days = days_since_epoch(time)
        number = self.cycle_number(days) if number is None else number
        return (days - self.cycle_start(number)) / _DAYS_PER_YEAR

    def cycle_rate(self, number, time):
        """
        Relative emergence rate of one cycle (1 at the peak of a cycle of amplitude 1).

        A cycle emerges flux from 0.8 years before its minimum (high-latitude regions of
        the new cycle overlap the end of the old one) to 14 years after; the rate peaks
        4.2 years after the minimum.

        Parameters
        ----------
        number : int
            The cycle.
        time : `~astropy.time.Time`, str, float or numpy.ndarray
            Time(s); floats are days since `EPOCH`.

        Returns
        -------
        numpy.ndarray or float
        """
        years = (np.asarray(days_since_epoch(time)) - self.cycle_start(number)) / _DAYS_PER_YEAR
        x = np.clip(years + _HATHAWAY_LEAD, 0.0, None) / _HATHAWAY_B
        shape = np.where(
            (years > -_HATHAWAY_LEAD) & (years < 14.0),
            x**3 / (np.exp(np.minimum(x**2, 50.0)) - _HATHAWAY_C),
            0.0,
        )
        return (self.amplitudes.get(number, 1.0) * shape / _HATHAWAY_FPEAK)[()]

    def emergence_rate(self, time):
        """
        Total relative emergence rate at a time (sum over the overlapping cycles).

        Parameters
        ----------
        time : `~astropy.time.Time`, str or float
            The time.

        Returns
        -------
        float
        """
        days = days_since_epoch(time)
        number = self.cycle_number(days)
        return float(self.cycle_rate(number, days) + self.cycle_rate(number + 1, days))

    def mean_latitude(self, number, time):
        """
        Mean unsigned emergence latitude of a cycle's regions at a time.

        Parameters
        ----------
        number : int
            The cycle.
        time : `~astropy.time.Time`, str, float or numpy.ndarray
            Time(s).

        Returns
        -------
        `~astropy.units.Quantity`
            Degrees.
        """
        years = (np.asarray(days_since_epoch(time)) - self.cycle_start(number)) / _DAYS_PER_YEAR
        return 28.0 * np.exp(-np.clip(years, -_HATHAWAY_LEAD, None) / 7.5) * u.deg

    def latitude_spread(self, number, time):
        """Standard deviation of the emergence latitude about `mean_latitude` (deg)."""
        return 3.5 * u.deg + 0.2 * self.mean_latitude(number, time)

    @staticmethod
    def north_leading_sign(number):
        """
        Sign of the leading polarity of northern active regions in a cycle (Hale's law).

        Parameters
        ----------
        number : int
            Cycle number.

        Returns
        -------
        int
            +1 for odd cycles, -1 for even cycles; the south has the opposite sign.
        """
        return 1 if int(number) % 2 else -1

    def north_polar_field(self, time):
        """
        Radial field at the north pole (the south pole has the opposite sign).

        At a minimum it has the sign of the starting cycle's northern leading polarity;
        it reverses at 40 % of the cycle length (near maximum).

        Parameters
        ----------
        time : `~astropy.time.Time`, str or float
            The time.

        Returns
        -------
        `~astropy.units.Quantity`
            Gauss.
        """
        days = days_since_epoch(time)
        number = self.cycle_number(days)
        x = np.clip((days - self.cycle_start(number)) / self.cycle_length(number), 0.0, 1.0)
        # x**0.757 = 0.5 at x = 0.4: the reversal.
        return self.polar_field * self.north_leading_sign(number) * np.cos(np.pi * x**0.757)

    def emergence_density(self, number, latitude, time):
        """
        Relative rate of flux emergence of one cycle at a latitude and time.

        The cycle's `cycle_rate` times the normal distribution of its unsigned emergence
        latitude (`mean_latitude`, `latitude_spread`), per degree.

        Parameters
        ----------
        number : int
            The cycle.
        latitude : `~astropy.units.Quantity`
            Heliographic latitude(s), either sign.
        time : `~astropy.time.Time`, str or float
            The time.

        Returns
        -------
        numpy.ndarray
            Same shape as ``latitude``, per degree.
        """
        lat = np.abs(np.asarray(latitude.to_value(u.deg), dtype=np.float64))
        mean = self.mean_latitude(number, time).to_value(u.deg)
        spread = self.latitude_spread(number, time).to_value(u.deg)
        gauss = np.exp(-0.5 * ((lat - mean) / spread) ** 2) / (np.sqrt(2 * np.pi) * spread)
        return self.cycle_rate(number, time) * gauss


#: Relative emergence density below which a latitude counts as free of new flux: there
#: (the polar caps, the equator at a quiet minimum) the field belongs to the cycle that
#: started most recently, the convention of the polar fields.
_DENSITY_FLOOR = 1e-3


class CycleFrame:
    """
    Which cycle, and so which Hale order, the flux at each latitude belongs to at a date.

    A model works in the *even-cycle frame*: the field multiplied by +1 where it belongs to
    an even cycle and by -1 where it belongs to an odd one. In that frame every cycle
    obeys the same Hale order (negative leading polarity in the north), so a model trained
    on one cycle applies to the next; its output is brought back with `sign`.

    Attributes
    ----------
    sign : numpy.ndarray
        +1 where the most likely cycle at that latitude is even, -1 where it is odd
        (float32, the shape of the latitudes; 0 where the latitude is NaN).
    probability : numpy.ndarray
        Probability that flux emerging at that latitude belongs to the most likely cycle,
        from the relative emergence densities of the overlapping cycles (0.5-1; 1 away from
        a minimum; NaN where the latitude is NaN).
    cycle : numpy.ndarray
        The most likely cycle (int; 0 where the latitude is NaN).

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.solar_cycle import cycle_frame
    >>> frame = cycle_frame([3, 40] * u.deg, "2009-06-01")  # cycle 24 began in December 2008
    >>> frame
    <CycleFrame cycles=[23, 24] shape=(2,)>
    >>> frame.sign.tolist(), (frame.probability > 0.5).tolist()
    ([-1.0, 1.0], [True, True])
    """

    def __init__(self, sign, probability, cycle):
        self.sign = sign
        self.probability = probability
        self.cycle = cycle

    def __repr__(self):
        cycles = sorted({int(c) for c in np.unique(self.cycle) if c})
        return f"<CycleFrame cycles={cycles} shape={self.sign.shape}>"


def cycle_frame(latitude, time, *, cycle=None):
    """
    The cycle frame of the flux at heliographic latitudes on a date.

    Around a minimum two cycles emerge flux at once, the old one near the equator and the
    new one at high latitude; each latitude is given to the cycle with the larger emergence
    density there (`SolarCycle.emergence_density`), and `CycleFrame.probability` says how
    clear-cut that is. Where neither cycle emerges flux (the polar caps) the flux belongs to
    the cycle that started most recently.

    Parameters
    ----------
    latitude : `~astropy.units.Quantity`
        Heliographic latitudes (any shape; NaN off the disk).
    time : `~astropy.time.Time` or str
        The observation date.
    cycle : `SolarCycle`, optional
        The cycle model; the default `SolarCycle()`.

    Returns
    -------
    CycleFrame

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.solar_cycle import cycle_frame
    >>> cycle_frame([20, -20] * u.deg, "2014-06-01").sign  # cycle 24: even
    array([1., 1.], dtype=float32)
    >>> cycle_frame([20, -20] * u.deg, "2023-06-01").sign  # cycle 25: odd
    array([-1., -1.], dtype=float32)
    >>> frame = cycle_frame([5, 35] * u.deg, "2020-06-01")  # old cycle low, new cycle high
    >>> frame.cycle.tolist(), frame.sign.tolist()
    ([24, 25], [1.0, -1.0])
    """
    cycle = cycle or SolarCycle()
    lat = u.Quantity(latitude, u.deg)
    days = days_since_epoch(time)
    current = cycle.cycle_number(days)
    candidates = (current - 1, current, current + 1)
    density = np.stack([cycle.emergence_density(n, lat, days) for n in candidates])
    peak = max(float(cycle.emergence_density(n, cycle.mean_latitude(n, days), days)) for n in candidates)
    density[1] += _DENSITY_FLOOR * peak if peak > 0 else 1.0
    best = np.argmax(density, axis=0)
    total = density.sum(axis=0)
    probability = np.take_along_axis(density, best[np.newaxis], axis=0)[0] / total
    number = np.asarray(candidates)[best]
    valid = np.isfinite(lat.to_value(u.deg))
    sign = np.where(valid, np.where(number % 2 == 0, 1.0, -1.0), 0.0).astype(np.float32)
    return CycleFrame(
        sign=sign,
        probability=np.where(valid, probability, np.nan).astype(np.float32),
        cycle=np.where(valid, number, 0),
    )

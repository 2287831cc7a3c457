"""
The solar activity cycle that drives flux emergence on the synthetic Sun.

A deliberately simple, documented model of the sunspot cycle:

* cycle *n* starts at its minimum (`CYCLE_MINIMA` for cycles 21-25, 11-year spacing
  beyond); cycles overlap, so two cycles can emerge flux at the same time;
* the emergence rate of each cycle follows Hathaway, Wilson & Reichmann (1994),
  ``f(t) ~ (t/b)^3 / (exp((t/b)^2) - 0.71)``, scaled to a peak of 1 at about 4.4 years
  after minimum and multiplied by the cycle's relative amplitude (`CYCLE_AMPLITUDES`:
  cycle 24 was weak);
* the mean emergence latitude drifts equatorward as ``28 deg * exp(-t / 7.5 yr)``
  (Hathaway 2011), with a spread of ``3.5 deg + 0.2 * mean``: the butterfly diagram;
* Hale's law: the leading polarity of northern active regions is positive in odd cycles
  and negative in even ones (cycle 24: negative), opposite in the south;
* the polar fields have, at a cycle's minimum, the sign of that cycle's leading polarity
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
    "SolarCycle",
    "days_since_epoch",
    "time_from_days",
]

#: Reference time of the internal day count (J2000.0, UTC).
EPOCH = Time("2000-01-01T12:00:00", scale="utc")

#: Start (minimum) of the cycles whose dates are known, as decimal years.
CYCLE_MINIMA = {21: 1976.2, 22: 1986.7, 23: 1996.6, 24: 2008.9, 25: 2019.9}

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
    >>> from sunpy_magnetogan.synthetic.cycle import SolarCycle
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

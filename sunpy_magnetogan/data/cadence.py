"""
The observation cadence: synoptic times (the paper's 00:00 and 12:00 UT) and the
calendar-month chunks that searches, index files and export requests are made in.

Used by the searches (`sunpy_magnetogan.data.query`), the pairing of their records
(`sunpy_magnetogan.data.pairing`) and the downloads (`sunpy_magnetogan.data.download`).
"""

import astropy.units as u
import numpy as np
from astropy.time import Time, TimeDelta

__all__ = ["SYNOPTIC_HOURS", "month_chunks", "synoptic_times"]

#: Hours (UT) of the paper's 12-hour cadence.
SYNOPTIC_HOURS = (0, 12)


def as_utc(time):
    """``time`` as a UTC `~astropy.time.Time`."""
    return Time(time, scale="utc")


def _utc_range(start, end):
    """``start`` and ``end`` as UTC times; raise `ValueError` if the end comes first."""
    start, end = as_utc(start), as_utc(end)
    if end < start:
        raise ValueError(f"the end {end.isot} is before the start {start.isot}")
    return start, end


def synoptic_times(start, end, *, hours=SYNOPTIC_HOURS):
    """
    The synoptic observation times (by default 00:00 and 12:00 UT) in a time range.

    Parameters
    ----------
    start, end : `~astropy.time.Time` or str
        The range, both ends included.
    hours : sequence of int, optional
        Hours of the day (UT).

    Returns
    -------
    `~astropy.time.Time`
        1-D, sorted, UTC.

    Examples
    --------
    >>> from sunpy_magnetogan.data.cadence import synoptic_times
    >>> synoptic_times("2011-01-01", "2011-01-02 06:00").isot.tolist()
    ['2011-01-01T00:00:00.000', '2011-01-01T12:00:00.000', '2011-01-02T00:00:00.000']
    """
    start, end = _utc_range(start, end)
    hours = sorted({int(h) for h in hours})
    if not hours or hours[0] < 0 or hours[-1] > 23:
        raise ValueError(f"hours must be integers in 0..23, got {hours}")
    first_day = Time(start.strftime("%Y-%m-%d"), scale="utc")
    n_days = int(np.floor((end - first_day).to_value(u.day))) + 1
    offsets = (np.arange(n_days)[:, None] * 24 + np.asarray(hours)[None, :]).ravel()
    times = first_day + TimeDelta(offsets * u.h)
    keep = (times >= start) & (times <= end)
    return times[keep]


def month_chunks(start, end):
    """
    Split a time range at calendar-month boundaries.

    Searches, index files and JSOC export requests are made one month at a time, so that
    an interrupted fetch resumes at the month it stopped in and no request is huge.

    Parameters
    ----------
    start, end : `~astropy.time.Time` or str
        The range, both ends included.

    Returns
    -------
    list of tuple
        ``(label, chunk_start, chunk_end)`` with ``label`` like ``"2011-01"``; the chunk
        ends are included and the chunks do not overlap.

    Examples
    --------
    >>> from sunpy_magnetogan.data import month_chunks
    >>> [label for label, _, _ in month_chunks("2011-01-15", "2011-03-02")]
    ['2011-01', '2011-02', '2011-03']
    """
    start, end = _utc_range(start, end)
    chunks = []
    year, month = start.datetime.year, start.datetime.month
    while True:
        month_start = Time(f"{year:04d}-{month:02d}-01", scale="utc")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        next_start = Time(f"{year:04d}-{month:02d}-01", scale="utc")
        if month_start > end:
            break
        lo = max(month_start, start)
        hi = min(next_start - TimeDelta(1 * u.s), end)
        chunks.append((month_start.strftime("%Y-%m"), lo, hi))
    return chunks

"""
Fido searches for the observations the models are trained and run on.

The paper uses SDO/AIA 304 A images and SDO/HMI line-of-sight magnetograms at a 12-hour
cadence (00:00 and 12:00 UT) for training, and STEREO/SECCHI EUVI 304 A images for the far
side. This module knows where each of them lives (`SOURCES`) and builds the
`sunpy.net.Fido` queries for a time range:

* **JSOC** (via ``drms``; the default for AIA and HMI): one query per calendar month with
  ``a.Sample(12 h)`` starting at 00:00 UT, so JSOC returns only the records at the
  synoptic times; fetching them needs a JSOC-registered e-mail address
  (``a.jsoc.Notify``).
* **VSO** (AIA and HMI mirrors, and the only route to EUVI): the VSO's ``sample`` option
  drifts forward from record to record, so instead each synoptic time gets its own short
  time window (``a.Time(t - w, t + w)``) and the month's windows are combined with ``|``.

Nothing here touches the network until `search_records` is called; the queries are plain
`sunpy.net.attr` objects that can be inspected (and are, in the tests). The pairing of
the records that come back is in `sunpy_magnetogan.data.pairing`.
"""

import logging
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.time import Time

from sunpy_magnetogan.data.cadence import SYNOPTIC_HOURS, as_utc, month_chunks, synoptic_times
from sunpy_magnetogan.data.pairing import Record
from sunpy_magnetogan.exceptions import DataFetchError

__all__ = [
    "PROVIDERS",
    "SOURCES",
    "SYNOPTIC_HOURS",
    "DataSource",
    "build_query",
    "month_chunks",
    "records_from_response",
    "search_records",
    "synoptic_times",
]

log = logging.getLogger(__name__)

#: Archives that `build_query` can address.
PROVIDERS = ("jsoc", "vso")


@dataclass(frozen=True)
class DataSource:
    """
    Where one kind of observation lives and how it is searched for.

    Parameters
    ----------
    name : str
        Short identifier used in file names and manifests (``"aia304"``...).
    kind : {"euv", "magnetogram"}
        The role of the data in a training pair.
    instrument : str
        Instrument name as the VSO knows it (``"AIA"``, ``"HMI"``, ``"EUVI"``).
    observatory : str
        ``"SDO"``, ``"STEREO_A"`` or ``"STEREO_B"``.
    wavelength : `~astropy.units.Quantity` or None
        Passband (304 A for the EUV sources; None for HMI).
    cadence : `~astropy.units.Quantity`
        Nominal cadence of the archive series (sets the default VSO window).
    jsoc_series, jsoc_segment : str or None
        JSOC series and data segment, when the data are in the JSOC.
    vso_physobs : str or None
        VSO physical observable (``"LOS_magnetic_field"`` selects HMI magnetograms).
    default_provider : {"jsoc", "vso"}
        The archive used unless told otherwise.

    Examples
    --------
    >>> from sunpy_magnetogan.data import SOURCES
    >>> source = SOURCES["hmi_los"]
    >>> source.instrument, source.kind, source.jsoc_series, source.cadence
    ('HMI', 'magnetogram', 'hmi.M_720s', <Quantity 720. s>)
    """

    name: str
    kind: str
    instrument: str
    observatory: str
    wavelength: u.Quantity | None
    cadence: u.Quantity
    jsoc_series: str | None = None
    jsoc_segment: str | None = None
    vso_physobs: str | None = None
    default_provider: str = "vso"

    @property
    def providers(self):
        """The archives this source can be searched in (tuple of str)."""
        return ("jsoc", "vso") if self.jsoc_series else ("vso",)

    @property
    def default_window(self):
        """
        Half-width of the VSO search window around each synoptic time.

        Enough for at least two records of the series (``max(cadence, 2 min)``), so that
        a single missing record does not lose the time.
        """
        return max(self.cadence.to(u.min), 2 * u.min)


#: The observations the package knows how to fetch, by name.
SOURCES = {
    "aia304": DataSource(
        name="aia304",
        kind="euv",
        instrument="AIA",
        observatory="SDO",
        wavelength=304 * u.AA,
        cadence=12 * u.s,
        jsoc_series="aia.lev1_euv_12s",
        jsoc_segment="image",
        default_provider="jsoc",
    ),
    "hmi_los": DataSource(
        name="hmi_los",
        kind="magnetogram",
        instrument="HMI",
        observatory="SDO",
        wavelength=None,
        cadence=720 * u.s,
        jsoc_series="hmi.M_720s",
        jsoc_segment="magnetogram",
        vso_physobs="LOS_magnetic_field",
        default_provider="jsoc",
    ),
    "euvi304_a": DataSource(
        name="euvi304_a",
        kind="euv",
        instrument="EUVI",
        observatory="STEREO_A",
        wavelength=304 * u.AA,
        cadence=10 * u.min,
    ),
    "euvi304_b": DataSource(
        name="euvi304_b",
        kind="euv",
        instrument="EUVI",
        observatory="STEREO_B",
        wavelength=304 * u.AA,
        cadence=10 * u.min,
    ),
}


def _source(source):
    if isinstance(source, DataSource):
        return source
    try:
        return SOURCES[source]
    except KeyError:
        raise ValueError(f"unknown data source {source!r}; known: {', '.join(SOURCES)}") from None


def build_query(source, start, end, *, provider=None, hours=SYNOPTIC_HOURS, window=None, notify=None):
    """
    The Fido query for one source over a time range (typically one month).

    Parameters
    ----------
    source : str or DataSource
        A key of `SOURCES` (``"aia304"``, ``"hmi_los"``, ``"euvi304_a"``, ``"euvi304_b"``).
    start, end : `~astropy.time.Time` or str
        The range, both ends included.
    provider : {"jsoc", "vso"}, optional
        The archive; the source's ``default_provider`` by default.
    hours : sequence of int, optional
        Synoptic hours (UT); the cadence is ``24 h / len(hours)`` and must be regular.
    window : `~astropy.units.Quantity`, optional
        VSO only: half-width of the window around each synoptic time
        (``source.default_window`` by default).
    notify : str, optional
        JSOC only: the JSOC-registered e-mail address export requests are made with
        (required to download, not to search).

    Returns
    -------
    `sunpy.net.attr.AttrAnd` or `sunpy.net.attr.AttrOr`
        Pass it to `sunpy.net.Fido.search`.

    Raises
    ------
    ValueError
        For an unknown source or provider, a provider the source is not in, irregular
        hours, or a range without synoptic times.

    Examples
    --------
    >>> from sunpy_magnetogan.data import build_query
    >>> query = build_query("aia304", "2011-01-01", "2011-01-31")  # AIA 304 at 00:00 and 12:00
    >>> type(query).__name__
    'AttrAnd'
    >>> from sunpy.net import Fido
    >>> result = Fido.search(query)  # doctest: +REMOTE_DATA
    """
    from sunpy.net import attrs as a

    src = _source(source)
    provider = (provider or src.default_provider).lower()
    if provider not in PROVIDERS:
        raise ValueError(f"provider must be one of {PROVIDERS}, got {provider!r}")
    if provider not in src.providers:
        raise ValueError(f"{src.name} data are not in the {provider.upper()} archive; use {src.providers}")
    times = synoptic_times(start, end, hours=hours)
    if len(times) == 0:
        raise ValueError(f"no synoptic time ({hours} UT) between {as_utc(start).isot} and {as_utc(end).isot}")
    if provider == "jsoc":
        hours_sorted = sorted({int(h) for h in hours})
        steps = np.diff([*hours_sorted, hours_sorted[0] + 24])
        if np.any(steps != steps[0]):
            raise ValueError(f"JSOC sampling needs regularly spaced hours, got {hours_sorted}")
        query = (
            a.Time(times[0], as_utc(end))
            & a.jsoc.Series(src.jsoc_series)
            & a.jsoc.Segment(src.jsoc_segment)
            & a.Sample(int(steps[0]) * u.h)
        )
        if src.wavelength is not None:
            query = query & a.Wavelength(src.wavelength)
        if notify:
            query = query & a.jsoc.Notify(notify)
        return query
    window = src.default_window if window is None else u.Quantity(window).to(u.min)
    if not window > 0 * u.min:
        raise ValueError(f"the search window must be positive, got {window}")
    common = a.Instrument(src.instrument)
    if src.observatory.startswith("STEREO"):
        common = common & a.Source(src.observatory)
    if src.wavelength is not None:
        common = common & a.Wavelength(src.wavelength)
    if src.vso_physobs:
        common = common & a.Physobs(src.vso_physobs)
    query = None
    for t in times:
        term = a.Time(t - window, t + window) & common
        query = term if query is None else query | term
    return query


def records_from_response(response, source):
    """
    Turn a Fido search result into `~sunpy_magnetogan.data.pairing.Record` objects.

    Parameters
    ----------
    response : `sunpy.net.fido_factory.UnifiedResponse` or `sunpy.net.base_client.QueryResponseTable`
        What `sunpy.net.Fido.search` returned (or one of its tables).
    source : str or DataSource
        The source the query was for.

    Returns
    -------
    list of Record
        Sorted by time, without duplicates. JSOC rows are keyed by their ``T_REC`` and
        VSO rows by provider and ``fileid``.
    """
    src = _source(source)
    # A single table has column names; a UnifiedResponse (or a list) holds tables.
    tables = [response] if hasattr(response, "colnames") else list(response)
    records = {}
    for table in tables:
        if table is None or len(table) == 0:
            continue
        names = set(table.colnames)
        for row in table:
            if "T_REC" in names:
                t_rec = str(row["T_REC"])
                if not t_rec or "MISSING" in t_rec.upper():
                    continue
                time = parse_trec(t_rec)
                record = Record(
                    source=src.name,
                    key=f"jsoc:{src.jsoc_series}:{t_rec}",
                    time=time,
                    provider="JSOC",
                    fileid=t_rec,
                )
            elif "fileid" in names:
                provider = str(row["Provider"]) if "Provider" in names else "VSO"
                fileid = str(row["fileid"])
                size = row["Size"] if "Size" in names else None
                record = Record(
                    source=src.name,
                    key=f"vso:{provider}:{fileid}",
                    time=as_utc(row["Start Time"]),
                    provider=provider,
                    fileid=fileid,
                    size=None if size is None else _size_bytes(size),
                )
            elif "url" in names and "Start Time" in names:
                url = str(row["url"])
                record = Record(
                    source=src.name,
                    key=f"url:{url}",
                    time=as_utc(row["Start Time"]),
                    provider=str(row["Provider"]) if "Provider" in names else "",
                    fileid=url,
                    url=url,
                )
            else:
                raise DataFetchError(
                    f"cannot read a search result with columns {sorted(names)} "
                    "(expected JSOC T_REC, VSO fileid, or url + Start Time)"
                )
            records[record.key] = record
    return sorted(records.values(), key=lambda r: r.time.unix)


def parse_trec(t_rec):
    """JSOC T_REC strings: ``2011.01.01_00:00:00_TAI`` or ``2011-01-01T00:00:02Z``."""
    from sunpy.time import parse_time

    text = t_rec.strip()
    if text.endswith("_TAI"):
        body = text[: -len("_TAI")].replace(".", "-", 2).replace("_", "T")
        return Time(body, scale="tai").utc
    if text.endswith("_UTC"):
        text = text[: -len("_UTC")].replace(".", "-", 2).replace("_", "T")
    return parse_time(text.rstrip("Z")).utc


def _size_bytes(size):
    """VSO sizes are in kB (a float or a Quantity); None when unknown."""
    value = size.to_value(u.byte) if isinstance(size, u.Quantity) else float(size) * 1000
    return int(value) if np.isfinite(value) and value > 0 else None


def search_records(source, start, end, *, provider=None, hours=SYNOPTIC_HOURS, window=None, notify=None):
    """
    Search an archive for one source over a time range (needs the network).

    Parameters
    ----------
    source, start, end, provider, hours, window, notify
        As for `build_query`.

    Returns
    -------
    records : list of Record
        The records found, sorted by time.
    response : `sunpy.net.fido_factory.UnifiedResponse`
        The raw Fido result (needed to fetch JSOC exports).

    Raises
    ------
    DataFetchError
        If the search fails (no network, archive error).

    Examples
    --------
    >>> from sunpy_magnetogan.data import search_records
    >>> records, response = search_records("aia304", "2011-01-01", "2011-01-31")  # doctest: +SKIP
    >>> records[0].source, records[0].time.isot  # doctest: +SKIP
    """
    from sunpy.net import Fido

    query = build_query(source, start, end, provider=provider, hours=hours, window=window, notify=notify)
    try:
        response = Fido.search(query)
    except Exception as exc:
        raise DataFetchError(
            f"the {_source(source).name} search for {as_utc(start).isot}..{as_utc(end).isot} failed: {exc}"
        ) from exc
    records = records_from_response(response, source)
    log.info("%s %s..%s: %d records", _source(source).name, as_utc(start).iso, as_utc(end).iso, len(records))
    return records, response

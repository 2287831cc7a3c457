"""
The ``fetch`` workflow: archive search results turned into download jobs, and the whole
``sunpy-magnetogan fetch`` run.

`resolve_download_jobs` turns a search result into `DownloadJob` objects (JSOC export or
VSO data request); the resumable transfers themselves (`fetch_files`, `ParfiveDownloader`,
the ``.part`` files) are in `sunpy_magnetogan.data.transfer` and re-exported here.

`fetch_dataset` is the whole ``sunpy-magnetogan fetch`` workflow: month-by-month archive
searches (cached in ``index/``), pairing and split (``pairs.csv``), URL resolution (JSOC
export or VSO data request) and the downloads themselves (``files/`` and
``downloads.jsonl``), each step resumable.
"""

import json
import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
from astropy.time import Time

from sunpy_magnetogan import __version__
from sunpy_magnetogan.data.manifest import DownloadManifest
from sunpy_magnetogan.data.pairing import (
    SplitRule,
    pair_records,
    read_records,
    select_farside,
    write_plan,
    write_records,
)
from sunpy_magnetogan.data.query import SOURCES, SYNOPTIC_HOURS, month_chunks, parse_trec, search_records
from sunpy_magnetogan.data.transfer import (
    MANIFEST_FILE,
    DownloadJob,
    FetchSummary,
    ParfiveDownloader,
    fetch_files,
    partial_path,
    remove_partial_files,
)
from sunpy_magnetogan.exceptions import DataFetchError

__all__ = [
    "DownloadJob",
    "FetchReport",
    "FetchSummary",
    "ParfiveDownloader",
    "fetch_dataset",
    "fetch_files",
    "partial_path",
    "remove_partial_files",
    "resolve_download_jobs",
]

log = logging.getLogger(__name__)

#: File names inside a fetch directory.
PLAN_FILE = "pairs.csv"
SETTINGS_FILE = "fetch.json"


_BRACKET = re.compile(r"\[([^\]]*)\]")


def _job_filename(record, name):
    t = record.time.utc.datetime
    return f"files/{record.source}/{t.year:04d}/{t.month:02d}/{Path(name).name}"


def _jsoc_jobs(block, wanted):
    """Stage a JSOC export for a search result and match its URLs to the wanted records."""
    by_time = {}
    for record in wanted.values():
        if record.key.startswith("jsoc:"):
            series = record.key.split(":")[1].lower()
            by_time[(series, round(record.time.unix))] = record
    if not by_time:
        return []
    try:
        requests = block.client.request_data(block)
        requests = list(requests) if isinstance(requests, list | tuple) else [requests]
        for request in requests:
            request.wait()
            if not request.has_succeeded():
                raise DataFetchError(f"the JSOC export {request.id} failed (status {request.status})")
    except DataFetchError:
        raise
    except Exception as exc:
        raise DataFetchError(f"the JSOC export request failed: {exc}") from exc
    jobs = []
    for request in requests:
        for _, row in request.urls.iterrows():
            record_string = str(row["record"])
            series = record_string.split("[", 1)[0].lower()
            match = _BRACKET.search(record_string)
            if match is None:
                continue
            record = by_time.get((series, round(parse_trec(match.group(1)).unix)))
            if record is not None:
                jobs.append(DownloadJob(record.key, str(row["url"]), _job_filename(record, row["filename"])))
    return jobs


def _vso_jobs(block, wanted):
    """Ask the VSO for the URLs of the wanted rows of a search result (no file transferred)."""
    import parfive
    from sunpy.net import Fido

    class _URLCollector(parfive.Downloader):
        # Fido hands every URL to the downloader's enqueue_file; keep them, fetch nothing.
        def __init__(self):
            super().__init__(progress=False)
            self.collected = []

        def enqueue_file(self, url, path=None, filename=None, **kwargs):
            self.collected.append((url, filename))

        def download(self):
            return parfive.Results()

    rows = [i for i, row in enumerate(block) if f"vso:{row['Provider']}:{row['fileid']}" in wanted]
    if not rows:
        return []
    collector = _URLCollector()
    try:
        Fido.fetch(block[rows], path="{file}", downloader=collector)
    except Exception as exc:
        raise DataFetchError(f"the VSO data request failed: {exc}") from exc
    by_name = {Path(rec.fileid).name: rec for rec in wanted.values()}
    jobs = []
    for url, filename in collector.collected:
        record = None
        # sunpy's VSO client names files with a partial(mk_filename, pattern, row).
        for arg in getattr(filename, "args", ()):
            if hasattr(arg, "colnames") or hasattr(arg, "keys"):
                try:
                    record = wanted.get(f"vso:{arg['Provider']}:{arg['fileid']}")
                except (KeyError, TypeError):
                    record = None
                if record is not None:
                    break
        name = filename(None, url) if callable(filename) else (filename or url.rsplit("/", 1)[-1])
        record = record or by_name.get(Path(str(name)).name)
        if record is not None:
            jobs.append(DownloadJob(record.key, url, _job_filename(record, str(name))))
    return jobs


def resolve_download_jobs(response, records):
    """
    Turn a Fido search result into download jobs for some of its records (needs the network).

    JSOC results are staged as an export request (``drms``; needs the JSOC-registered
    e-mail given with ``a.jsoc.Notify`` at search time) and the export's URLs matched to
    the records by series and ``T_REC``; VSO results go through a VSO data request whose
    URLs are collected without downloading. Records with a direct ``url`` need neither.

    Parameters
    ----------
    response : `sunpy.net.fido_factory.UnifiedResponse`
        The search result the records came from.
    records : iterable of `~sunpy_magnetogan.data.pairing.Record`
        The records wanted.

    Returns
    -------
    list of DownloadJob

    Raises
    ------
    DataFetchError
        If the export or data request fails.

    Examples
    --------
    >>> from sunpy_magnetogan.data import resolve_download_jobs, search_records
    >>> records, response = search_records("hmi_los", "2011-01-01", "2011-01-02",
    ...                                    notify="you@example.org")  # doctest: +SKIP
    >>> jobs = resolve_download_jobs(response, records)  # doctest: +SKIP
    """
    wanted = {r.key: r for r in records}
    jobs = [
        DownloadJob(r.key, r.url, _job_filename(r, r.url.rsplit("/", 1)[-1]))
        for r in wanted.values()
        if r.url
    ]
    tables = [response] if hasattr(response, "colnames") else list(response)
    for block in tables:
        if len(block) == 0:
            continue
        if "T_REC" in block.colnames:
            jobs += _jsoc_jobs(block, wanted)
        elif "fileid" in block.colnames:
            jobs += _vso_jobs(block, wanted)
    return jobs


# --- the fetch workflow ---------------------------------------------------------------


@dataclass
class FetchReport:
    """
    What `fetch_dataset` did.

    Attributes
    ----------
    directory : pathlib.Path
        The fetch directory.
    plans : list of `~sunpy_magnetogan.data.pairing.PairPlan`
        The planned pairs (also in ``pairs.csv``).
    downloaded, skipped : int
        Files downloaded now / already complete.
    failed : dict
        ``{record key: message}`` for files that could not be fetched (retried next run).

    Examples
    --------
    >>> from sunpy_magnetogan.data import fetch_dataset
    >>> report = fetch_dataset("aia_hmi_2011", "2011-01-01", "2011-01-31")  # doctest: +SKIP
    >>> report.downloaded, report.skipped, report.failed  # doctest: +SKIP
    """

    directory: Path
    plans: list
    downloaded: int = 0
    skipped: int = 0
    failed: dict = field(default_factory=dict)

    @property
    def n_files(self):
        """Number of distinct files the plan needs."""
        return len({r.key for p in self.plans for r in p.records})


def _index_path(directory, source, lo, hi):
    return directory / "index" / source / f"{lo.strftime('%Y%m%dT%H%M%S')}_{hi.strftime('%Y%m%dT%H%M%S')}.csv"


def fetch_dataset(
    directory,
    start,
    end,
    *,
    sources=("aia304", "hmi_los"),
    provider=None,
    notify=None,
    hours=SYNOPTIC_HOURS,
    tolerance=30 * u.min,
    pair_tolerance=15 * u.min,
    window=None,
    split_rule=None,
    download=True,
    searcher=None,
    resolver=None,
    downloader=None,
    batch_size=16,
):
    """
    Search, pair and download observations for a date range, resumably.

    With an EUV and a magnetogram source (AIA 304 + HMI, the default) this plans
    training pairs (`~sunpy_magnetogan.data.pairing.pair_records`) with the split;
    with a single EUVI source it selects far-side inputs
    (`~sunpy_magnetogan.data.pairing.select_farside`). The directory receives::

        fetch.json          the settings of the fetch
        index/<source>/...  one CSV of search results per month (searched once)
        pairs.csv           the plan: one row per pair
        downloads.jsonl     the download manifest
        files/<source>/<yyyy>/<mm>/...   the downloaded files

    Running it again with the same arguments re-uses the cached searches, skips the
    files already downloaded and fetches the rest.

    Parameters
    ----------
    directory : str or os.PathLike
        The fetch directory (created).
    start, end : `~astropy.time.Time` or str
        Date range, both ends included.
    sources : sequence of str, optional
        ``("aia304", "hmi_los")`` (pairs) or one of ``("euvi304_a",)``, ``("euvi304_b",)``.
    provider : {"jsoc", "vso"}, optional
        Archive for the SDO data (EUVI always comes from the VSO). JSOC by default.
    notify : str, optional
        JSOC-registered e-mail address (required to download from the JSOC).
    hours : sequence of int, optional
        Synoptic hours (UT).
    tolerance, pair_tolerance : `~astropy.units.Quantity`, optional
        See `~sunpy_magnetogan.data.pairing.pair_records`.
    window : `~astropy.units.Quantity`, optional
        VSO search half-window (see `~sunpy_magnetogan.data.query.build_query`).
    split_rule : `~sunpy_magnetogan.data.pairing.SplitRule`, optional
        The paper's split by default.
    download : bool, optional
        If False, only search and plan (a dry run).
    searcher : callable, optional
        ``searcher(source, start, end) -> list of Record``; the Fido search by default.
    resolver : callable, optional
        ``resolver(source, start, end, records) -> list of DownloadJob``; by default the
        month is searched again and `resolve_download_jobs` is used.
    downloader : callable, optional
        See `fetch_files`.
    batch_size : int, optional
        See `fetch_files`.

    Returns
    -------
    FetchReport

    Raises
    ------
    ValueError
        For an unknown source or an unusable combination of sources.
    DataFetchError
        If JSOC downloads are asked for without ``notify``, or a search fails.

    Examples
    --------
    >>> from sunpy_magnetogan.data import fetch_dataset
    >>> report = fetch_dataset("aia_hmi_2011", "2011-01-01", "2011-01-31",
    ...                        notify="you@example.org")  # doctest: +SKIP
    """
    directory = Path(directory)
    sources = tuple(sources)
    for name in sources:
        if name not in SOURCES:
            raise ValueError(f"unknown data source {name!r}; known: {', '.join(SOURCES)}")
    kinds = [SOURCES[name].kind for name in sources]
    if sorted(kinds) == ["euv", "magnetogram"]:
        euv_source = sources[kinds.index("euv")]
        mag_source = sources[kinds.index("magnetogram")]
    elif kinds == ["euv"]:
        euv_source, mag_source = sources[0], None
    else:
        raise ValueError(f"need one EUV and one magnetogram source, or one EUV source; got {sources}")

    def provider_of(name):
        return (
            provider if provider and provider in SOURCES[name].providers else SOURCES[name].default_provider
        )

    uses_jsoc = any(provider_of(name) == "jsoc" for name in sources)
    if download and uses_jsoc and not notify and resolver is None:
        raise DataFetchError(
            "downloads from the JSOC need a JSOC-registered e-mail address (notify=..., "
            "or --email on the command line); register at http://jsoc.stanford.edu/ajax/register_email.html, "
            "or use provider='vso'"
        )
    split_rule = SplitRule() if split_rule is None else split_rule
    start, end = Time(start, scale="utc"), Time(end, scale="utc")
    directory.mkdir(parents=True, exist_ok=True)
    settings = {
        "sources": list(sources),
        "start": start.isot,
        "end": end.isot,
        "providers": {name: provider_of(name) for name in sources},
        "hours": list(hours),
        "tolerance_s": float(u.Quantity(tolerance).to_value(u.s)),
        "pair_tolerance_s": float(u.Quantity(pair_tolerance).to_value(u.s)),
        "split_rule": split_rule.to_dict(),
        "sunpy_magnetogan": __version__,
    }
    (directory / SETTINGS_FILE).write_text(json.dumps(settings, indent=2, sort_keys=True))

    if searcher is None:

        def searcher(name, lo, hi):
            return search_records(
                name, lo, hi, provider=provider_of(name), hours=hours, window=window, notify=notify
            )[0]

    chunks = month_chunks(start, end)
    records = {}
    chunk_of = {}  # record key -> index of the month whose search found it
    for name in sources:
        found = []
        for i, (_, lo, hi) in enumerate(chunks):
            index = _index_path(directory, name, lo, hi)
            if index.is_file():
                chunk_records = read_records(index)
            else:
                chunk_records = list(searcher(name, lo, hi))
                write_records(index, chunk_records)
            for record in chunk_records:
                chunk_of.setdefault(record.key, i)
            found += chunk_records
        records[name] = found

    if mag_source is not None:
        plans = pair_records(
            records[euv_source],
            records[mag_source],
            hours=hours,
            tolerance=tolerance,
            pair_tolerance=pair_tolerance,
            split_rule=split_rule,
            prefix="sdo",
            start=start,
            end=end,
        )
    else:
        plans = select_farside(
            records[euv_source], hours=hours, tolerance=tolerance, prefix=euv_source, start=start, end=end
        )
    write_plan(directory / PLAN_FILE, plans)
    report = FetchReport(directory, plans)
    log.info("planned %d %s in %s", len(plans), "pairs" if mag_source else "far-side images", directory)
    if not download:
        return report

    if resolver is None:

        def resolver(name, lo, hi, wanted):
            _, response = search_records(
                name, lo, hi, provider=provider_of(name), hours=hours, window=window, notify=notify
            )
            return resolve_download_jobs(response, wanted)

    manifest = DownloadManifest(directory / MANIFEST_FILE)
    by_chunk = defaultdict(dict)
    for plan in plans:
        for record in plan.records:
            if manifest.is_complete(record.key):
                report.skipped += 1
                continue
            by_chunk[(record.source, chunk_of[record.key])][record.key] = record
    for (name, i), wanted in sorted(by_chunk.items()):
        label, lo, hi = chunks[i]
        try:
            jobs = [job for job in resolver(name, lo, hi, list(wanted.values())) if job.key in wanted]
        except DataFetchError as exc:
            log.error("%s %s: %s", name, label, exc)
            report.failed.update(dict.fromkeys(wanted, str(exc)))
            continue
        missing = set(wanted) - {job.key for job in jobs}
        report.failed.update(dict.fromkeys(missing, "no download URL from the archive"))
        if downloader is None:
            max_conn = 1 if provider_of(name) == "jsoc" else 4
            chunk_downloader = ParfiveDownloader(max_conn=max_conn)
        else:
            chunk_downloader = downloader
        summary = fetch_files(
            jobs, directory, manifest=manifest, downloader=chunk_downloader, batch_size=batch_size
        )
        report.downloaded += len(summary.downloaded)
        report.skipped += len(summary.skipped)
        report.failed.update(summary.failed)
    log.info(
        "fetch: %d downloaded, %d already there, %d failed",
        report.downloaded,
        report.skipped,
        len(report.failed),
    )
    return report

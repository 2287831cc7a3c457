"""
Resumable downloads of archive files, and the ``fetch`` workflow.

`fetch_files` downloads a list of `DownloadJob` into a directory so that an interrupted
run can simply be started again:

* every file is written to ``<name>.part`` and renamed to ``<name>`` only once it is
  complete (and its size checked when the archive states it);
* each completed file is then recorded in the `~sunpy_magnetogan.data.manifest.DownloadManifest`;
* on (re)start, left-over ``*.part`` files are deleted and the files the manifest lists
  as complete (and that are on disk with the recorded size) are skipped.

The transfers themselves are made by a *downloader*: a callable that takes a list of
``(job, part_path)`` and yields ``(job, error_or_None)`` as each one finishes.
`ParfiveDownloader` (the default) uses `parfive`, as `sunpy.net.Fido` does; tests inject
fakes.

`fetch_dataset` is the whole ``sunpy-magnetogan fetch`` workflow: month-by-month archive
searches (cached in ``index/``), pairing and split (``pairs.csv``), URL resolution (JSOC
export or VSO data request) and the downloads themselves (``files/`` and
``downloads.jsonl``), each step resumable.
"""

import json
import logging
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
from astropy.time import Time

from sunpy_magnetogan import __version__
from sunpy_magnetogan._io import sha256_file
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

PARTIAL_SUFFIX = ".part"
#: File names inside a fetch directory.
PLAN_FILE = "pairs.csv"
MANIFEST_FILE = "downloads.jsonl"
SETTINGS_FILE = "fetch.json"


@dataclass(frozen=True)
class DownloadJob:
    """
    One file to download.

    Parameters
    ----------
    key : str
        The record key (`~sunpy_magnetogan.data.pairing.Record.key`); keys the manifest.
    url : str
        Where to get it.
    filename : str
        Path relative to the download directory, e.g. ``"files/aia304/2011/01/x.fits"``.
    size : int, optional
        Exact expected size in bytes; a file of another size is refused.

    Examples
    --------
    >>> from sunpy_magnetogan.data import DownloadJob
    >>> job = DownloadJob("hmi.M_720s[2011.01.01_00:00:00_TAI]", "https://example.org/hmi.fits",
    ...                   "files/hmi_los/2011/01/hmi.fits", size=1024)
    >>> job.filename
    'files/hmi_los/2011/01/hmi.fits'
    """

    key: str
    url: str
    filename: str
    size: int | None = None


@dataclass
class FetchSummary:
    """
    What `fetch_files` did.

    Attributes
    ----------
    downloaded : list of str
        Keys downloaded in this run.
    skipped : list of str
        Keys already complete (from an earlier run).
    failed : dict
        ``{key: error message}`` for the files that failed (retried on the next run).
    removed_partials : int
        Left-over ``.part`` files deleted at the start.

    Examples
    --------
    >>> import shutil
    >>> from sunpy_magnetogan.data import DownloadJob, fetch_files
    >>> from sunpy_magnetogan.sample import SAMPLE_HMI
    >>> def copy_downloader(batch):  # stands in for parfive: copies instead of downloading
    ...     for job, part in batch:
    ...         _ = shutil.copy(SAMPLE_HMI, part)
    ...         yield job, None
    >>> jobs = [DownloadJob("hmi-1", "https://example.org/hmi1.fits", "files/hmi1.fits")]
    >>> summary = fetch_files(jobs, tmp_path / "downloads", downloader=copy_downloader)
    >>> summary.downloaded, summary.skipped, summary.failed
    (['hmi-1'], [], {})
    """

    downloaded: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    failed: dict = field(default_factory=dict)
    removed_partials: int = 0

    @property
    def ok(self):
        """True when no file failed."""
        return not self.failed


def partial_path(path):
    """
    The temporary name a file is downloaded to: ``<path>.part``.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    pathlib.Path
    """
    path = Path(path)
    return path.with_name(path.name + PARTIAL_SUFFIX)


def remove_partial_files(directory):
    """
    Delete every ``*.part`` file under a directory (left by an interrupted download).

    Parameters
    ----------
    directory : str or os.PathLike

    Returns
    -------
    int
        How many files were deleted.
    """
    directory = Path(directory)
    if not directory.is_dir():
        return 0
    n = 0
    for part in directory.rglob(f"*{PARTIAL_SUFFIX}"):
        if part.is_file():
            part.unlink()
            n += 1
    if n:
        log.info("deleted %d partial files left in %s by an interrupted download", n, directory)
    return n


class ParfiveDownloader:
    """
    Downloads batches of files with `parfive` (the downloader `sunpy.net.Fido` uses).

    Parameters
    ----------
    max_conn : int, optional
        Parallel connections (the JSOC asks for 1).
    max_splits : int, optional
        Parallel ranges per file.
    progress : bool, optional
        Show parfive's progress bars.

    Examples
    --------
    >>> from sunpy_magnetogan.data import ParfiveDownloader, fetch_files
    >>> downloader = ParfiveDownloader(max_conn=1)  # the JSOC asks for one connection
    >>> summary = fetch_files(jobs, "downloads", downloader=downloader)  # doctest: +SKIP
    """

    def __init__(self, *, max_conn=4, max_splits=1, progress=False):
        self.max_conn = int(max_conn)
        self.max_splits = int(max_splits)
        self.progress = bool(progress)

    def __call__(self, items):
        """
        Download ``(job, part_path)`` items; yield ``(job, error_or_None)`` for each.

        Parameters
        ----------
        items : list of tuple
            `DownloadJob` and the path to write it to.

        Yields
        ------
        tuple
            ``(job, None)`` when ``part_path`` holds the complete file, or
            ``(job, exception)``.
        """
        import parfive

        downloader = parfive.Downloader(
            max_conn=self.max_conn, max_splits=self.max_splits, progress=self.progress, overwrite=True
        )
        for job, part in items:
            downloader.enqueue_file(job.url, path=Path(part).parent, filename=Path(part).name)
        results = downloader.download()
        errors = {error.url: error.exception for error in results.errors}
        for job, part in items:
            if job.url in errors:
                yield job, errors[job.url]
            elif Path(part).is_file():
                yield job, None
            else:
                yield job, DataFetchError(f"parfive reported no error but wrote no file for {job.url}")


def _finish(job, part, final, error, manifest, summary):
    """Check a finished transfer, move it into place and record it."""
    if error is None and not part.is_file():
        error = DataFetchError("the downloader wrote no file")
    if error is None and job.size is not None and part.stat().st_size != job.size:
        error = DataFetchError(f"size {part.stat().st_size} bytes, the archive states {job.size} bytes")
    if error is not None:
        part.unlink(missing_ok=True)
        manifest.record_failed(job.key, url=job.url, error=error)
        summary.failed[job.key] = str(error)
        log.warning("download of %s failed: %s", job.url, error)
        return
    digest = sha256_file(part)
    os.replace(part, final)
    manifest.record_done(job.key, url=job.url, path=final, sha256=digest)
    summary.downloaded.append(job.key)
    log.debug("downloaded %s -> %s", job.url, final)


def fetch_files(jobs, directory, *, manifest=None, downloader=None, batch_size=16):
    """
    Download files so that an interrupted run resumes where it stopped.

    Parameters
    ----------
    jobs : iterable of DownloadJob
        The files; ``job.filename`` is relative to ``directory``.
    directory : str or os.PathLike
        The download directory.
    manifest : `~sunpy_magnetogan.data.manifest.DownloadManifest`, optional
        ``directory / "downloads.jsonl"`` by default.
    downloader : callable, optional
        Takes a list of ``(job, part_path)`` and yields ``(job, error_or_None)``
        (`ParfiveDownloader` by default).
    batch_size : int, optional
        Files handed to the downloader at a time; a killed run loses at most the
        transfers of one batch.

    Returns
    -------
    FetchSummary

    Notes
    -----
    A file is never left half-written under its final name: transfers go to
    ``<name>.part`` and are renamed when complete. If the downloader raises (e.g.
    ``KeyboardInterrupt``), the files already finished are recorded, the ``.part``
    files of the batch are deleted and the exception propagates; calling
    `fetch_files` again with the same jobs downloads only what is missing.

    Examples
    --------
    >>> import shutil
    >>> from sunpy_magnetogan.data import DownloadJob, fetch_files
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> def copy_downloader(batch):  # stands in for parfive: copies instead of downloading
    ...     for job, part in batch:
    ...         _ = shutil.copy(SAMPLE_AIA304, part)
    ...         yield job, None
    >>> jobs = [DownloadJob("aia-1", "https://example.org/aia1.fits", "files/aia1.fits")]
    >>> fetch_files(jobs, tmp_path, downloader=copy_downloader).downloaded
    ['aia-1']
    >>> fetch_files(jobs, tmp_path, downloader=copy_downloader).skipped  # a second run resumes
    ['aia-1']
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    manifest = manifest if manifest is not None else DownloadManifest(directory / MANIFEST_FILE)
    summary = FetchSummary(removed_partials=remove_partial_files(directory))
    pending = []
    seen = set()
    for job in jobs:
        if job.key in seen:
            continue
        seen.add(job.key)
        if manifest.is_complete(job.key):
            summary.skipped.append(job.key)
        else:
            pending.append(job)
    if summary.skipped:
        log.info("%d files already downloaded, %d to fetch", len(summary.skipped), len(pending))
    if not pending:
        return summary
    downloader = downloader if downloader is not None else ParfiveDownloader()
    batch_size = max(1, int(batch_size))
    for start in range(0, len(pending), batch_size):
        items = []
        for job in pending[start : start + batch_size]:
            final = directory / job.filename
            final.parent.mkdir(parents=True, exist_ok=True)
            part = partial_path(final)
            part.unlink(missing_ok=True)
            items.append((job, part))
        paths = {job.key: (part, directory / job.filename) for job, part in items}
        try:
            for job, error in downloader(items):
                part, final = paths[job.key]
                _finish(job, part, final, error, manifest, summary)
        finally:
            # Whatever was not finished (interrupted, or never reported) is not kept.
            for _, part in items:
                part.unlink(missing_ok=True)
        for job, _ in items:
            if job.key not in summary.failed and job.key not in summary.downloaded:
                summary.failed[job.key] = "the downloader did not report this file"
                manifest.record_failed(job.key, url=job.url, error=summary.failed[job.key])
    return summary


# --- URL resolution (needs the network) ----------------------------------------------

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

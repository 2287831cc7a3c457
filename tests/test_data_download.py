"""Resumable downloads: the manifest, fetch_files and the fetch workflow (no network)."""

import functools
import hashlib
import http.server
import json
import threading

import astropy.units as u
import numpy as np
import pytest
from astropy.time import Time, TimeDelta

from sunpy_magnetogan.data.download import (
    DownloadJob,
    ParfiveDownloader,
    fetch_dataset,
    fetch_files,
    partial_path,
)
from sunpy_magnetogan.data.manifest import DownloadManifest, sha256sum
from sunpy_magnetogan.data.pairing import Record, read_plan
from sunpy_magnetogan.data.query import synoptic_times
from sunpy_magnetogan.exceptions import DataFetchError


def _content(key):
    return f"contents of {key}\n".encode() * 50


class FakeDownloader:
    """Writes each file's content; can stop (as if killed) after a number of files."""

    def __init__(self, *, stop_after=None, wrong_size=(), fail=()):
        self.stop_after = stop_after
        self.wrong_size = set(wrong_size)
        self.fail = set(fail)
        self.calls = []

    def __call__(self, items):
        for job, part in items:
            if self.stop_after is not None and len(self.calls) == self.stop_after:
                part.write_bytes(_content(job.key)[:10])  # half-written, then interrupted
                raise KeyboardInterrupt
            self.calls.append(job.key)
            if job.key in self.fail:
                yield job, OSError("HTTP 503")
                continue
            data = _content(job.key)
            part.write_bytes(data[:-5] if job.key in self.wrong_size else data)
            yield job, None


def _jobs(n, size=True):
    return [
        DownloadJob(
            f"k{i}", f"fake://host/f{i}.fits", f"files/x/f{i}.fits", len(_content(f"k{i}")) if size else None
        )
        for i in range(n)
    ]


# --- manifest --------------------------------------------------------------------------


def test_manifest_records_and_survives_reopening(tmp_path):
    path = tmp_path / "f.fits"
    path.write_bytes(b"12345")
    manifest = DownloadManifest(tmp_path / "downloads.jsonl")
    manifest.record_failed("a", url="u", error="HTTP 500")
    assert not manifest.is_complete("a")
    manifest.record_done("a", url="u", path=path)
    reopened = DownloadManifest(tmp_path / "downloads.jsonl")
    assert reopened.is_complete("a")
    entry = reopened.entry("a")
    assert entry["status"] == "done"
    assert entry["path"] == "f.fits"  # relative to the manifest's directory
    assert entry["size"] == 5
    assert entry["sha256"] == hashlib.sha256(b"12345").hexdigest()
    assert reopened.completed_keys() == {"a"}
    # A file changed or removed behind the manifest's back is no longer complete.
    path.write_bytes(b"123")
    assert not DownloadManifest(tmp_path / "downloads.jsonl").is_complete("a")
    path.unlink()
    assert not reopened.is_complete("a")
    assert reopened.path_of("missing") is None


def test_manifest_skips_a_torn_last_line_and_appends_after_it(tmp_path):
    (tmp_path / "x").write_bytes(b"x")
    manifest = DownloadManifest(tmp_path / "m.jsonl")
    manifest.record_done("good", url="u", path=tmp_path / "x")
    with (tmp_path / "m.jsonl").open("ab") as f:
        f.write(b'{"key": "torn", "status": "do')  # a writer killed mid-line
    reopened = DownloadManifest(tmp_path / "m.jsonl")
    assert reopened.n_torn_lines == 1
    assert "torn" not in reopened
    reopened.record_done("after", url="u", path=tmp_path / "x")
    final = DownloadManifest(tmp_path / "m.jsonl")
    assert final.completed_keys() == {"good", "after"}
    assert final.n_torn_lines == 1
    lines = (tmp_path / "m.jsonl").read_text().splitlines()
    assert json.loads(lines[-1])["key"] == "after"


# --- fetch_files -----------------------------------------------------------------------


def test_fetch_files_writes_files_and_manifest(tmp_path):
    jobs = _jobs(5)
    summary = fetch_files(jobs, tmp_path, downloader=FakeDownloader(), batch_size=2)
    assert summary.ok
    assert sorted(summary.downloaded) == [j.key for j in jobs]
    manifest = DownloadManifest(tmp_path / "downloads.jsonl")
    for job in jobs:
        path = tmp_path / job.filename
        assert path.read_bytes() == _content(job.key)
        assert manifest.entry(job.key)["sha256"] == sha256sum(path)
    assert not list(tmp_path.rglob("*.part"))


def test_interrupted_fetch_resumes_without_partial_files(tmp_path):
    jobs = _jobs(7)
    first = FakeDownloader(stop_after=3)
    with pytest.raises(KeyboardInterrupt):
        fetch_files(jobs, tmp_path, downloader=first, batch_size=4)
    # Nothing half-written is kept, and the finished files are recorded.
    assert not list(tmp_path.rglob("*.part"))
    done = DownloadManifest(tmp_path / "downloads.jsonl").completed_keys()
    assert done == {"k0", "k1", "k2"}
    assert sorted(p.name for p in (tmp_path / "files" / "x").iterdir()) == ["f0.fits", "f1.fits", "f2.fits"]
    second = FakeDownloader()
    summary = fetch_files(jobs, tmp_path, downloader=second, batch_size=4)
    assert second.calls == ["k3", "k4", "k5", "k6"]  # only the missing files
    assert sorted(summary.skipped) == ["k0", "k1", "k2"]
    assert summary.ok
    for job in jobs:
        assert (tmp_path / job.filename).read_bytes() == _content(job.key)
    # A third run has nothing to do.
    third = FakeDownloader()
    assert len(fetch_files(jobs, tmp_path, downloader=third).skipped) == 7
    assert third.calls == []


def test_partial_file_left_by_a_killed_process_is_deleted_and_redone(tmp_path):
    jobs = _jobs(2)
    target = tmp_path / jobs[0].filename
    target.parent.mkdir(parents=True)
    partial_path(target).write_bytes(b"half")
    stray = tmp_path / "files" / "other.fits.part"
    stray.write_bytes(b"left over")
    summary = fetch_files(jobs, tmp_path, downloader=FakeDownloader())
    assert summary.removed_partials == 2
    assert target.read_bytes() == _content("k0")
    assert not stray.exists()


def test_wrong_size_and_errors_fail_and_are_retried(tmp_path):
    jobs = _jobs(3)
    summary = fetch_files(jobs, tmp_path, downloader=FakeDownloader(wrong_size={"k1"}, fail={"k2"}))
    assert set(summary.failed) == {"k1", "k2"}
    assert "size" in summary.failed["k1"]
    assert "503" in summary.failed["k2"]
    assert not (tmp_path / jobs[1].filename).exists()
    assert not list(tmp_path.rglob("*.part"))
    manifest = DownloadManifest(tmp_path / "downloads.jsonl")
    assert manifest.entry("k1")["status"] == "failed"
    retry = FakeDownloader()
    assert fetch_files(jobs, tmp_path, downloader=retry).ok
    assert retry.calls == ["k1", "k2"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def local_http_server(tmp_path):
    """An HTTP server on 127.0.0.1 serving a directory (no internet involved)."""
    served = tmp_path / "served"
    served.mkdir()
    handler = functools.partial(_QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    thread.join()


def test_parfive_downloader_against_a_local_server(tmp_path, local_http_server):
    pytest.importorskip("parfive")
    served, base = local_http_server
    (served / "a.fits").write_bytes(_content("a"))
    (served / "b.fits").write_bytes(_content("b"))
    jobs = [
        DownloadJob("a", f"{base}/a.fits", "files/a.fits", len(_content("a"))),
        DownloadJob("b", f"{base}/b.fits", "files/b.fits"),
        DownloadJob("c", f"{base}/missing.fits", "files/c.fits"),
    ]
    out = tmp_path / "out"
    summary = fetch_files(jobs, out, downloader=ParfiveDownloader(max_conn=2))
    assert sorted(summary.downloaded) == ["a", "b"]
    assert set(summary.failed) == {"c"}
    assert (out / "files" / "a.fits").read_bytes() == _content("a")
    assert not (out / "files" / "c.fits").exists()
    assert not list(out.rglob("*.part"))


# --- the fetch workflow ----------------------------------------------------------------


class FakeArchive:
    """Fabricated AIA (synoptic times + 9 s) and HMI (every 12 min) records, fake URLs."""

    def __init__(self):
        self.searches = []

    def search(self, source, start, end):
        self.searches.append((source, start.isot, end.isot))
        if source == "aia304":
            return [
                Record(source, f"aia:{t.isot}", t + 9 * u.s, provider="JSOC")
                for t in synoptic_times(start, end)
            ]
        n = int((end - start).to_value(u.min) // 12) + 1
        times = start + TimeDelta(np.arange(n) * 12 * u.min)
        return [Record(source, f"hmi:{t.isot}", t, provider="JSOC") for t in times]

    def resolve(self, source, start, end, records):
        return [
            DownloadJob(r.key, f"fake://{r.key}", f"files/{source}/{r.time.strftime('%Y%m%d_%H%M%S')}.fits")
            for r in records
        ]


def test_fetch_dataset_plans_pairs_and_resumes_after_interruption(tmp_path):
    archive = FakeArchive()
    kwargs = {"searcher": archive.search, "resolver": archive.resolve, "batch_size": 3}
    with pytest.raises(KeyboardInterrupt):
        fetch_dataset(
            tmp_path, "2014-08-31", "2014-09-01T23:59:59", downloader=FakeDownloader(stop_after=5), **kwargs
        )
    n_searches = len(archive.searches)
    assert n_searches == 4  # two sources x two months, each searched once
    assert not list(tmp_path.rglob("*.part"))

    downloader = FakeDownloader()
    report = fetch_dataset(tmp_path, "2014-08-31", "2014-09-01T23:59:59", downloader=downloader, **kwargs)
    assert len(archive.searches) == n_searches  # the month indexes were re-used
    assert [p.pair_id for p in report.plans] == [
        "sdo_20140831_0000",
        "sdo_20140831_1200",
        "sdo_20140901_0000",
        "sdo_20140901_1200",
    ]
    assert [p.split for p in report.plans] == ["train", "train", "test", "test"]
    assert report.n_files == 8
    assert report.skipped == 5
    assert report.downloaded == 3
    assert not report.failed
    assert len(downloader.calls) == 3
    plan = read_plan(tmp_path / "pairs.csv")
    manifest = DownloadManifest(tmp_path / "downloads.jsonl")
    for p in plan:
        assert manifest.is_complete(p.euv.key)
        assert manifest.is_complete(p.mag.key)
        assert manifest.path_of(p.mag.key).read_bytes() == _content(p.mag.key)
    settings = json.loads((tmp_path / "fetch.json").read_text())
    assert settings["sources"] == ["aia304", "hmi_los"]
    assert settings["split_rule"]["test_months"] == [9, 10]


def test_fetch_dataset_dry_run_and_argument_errors(tmp_path):
    archive = FakeArchive()
    report = fetch_dataset(
        tmp_path, "2014-03-01", "2014-03-01T23:59:59", searcher=archive.search, download=False
    )
    assert len(report.plans) == 2
    assert report.downloaded == 0
    assert not (tmp_path / "downloads.jsonl").exists()
    with pytest.raises(DataFetchError, match="e-mail"):
        fetch_dataset(tmp_path / "b", "2014-03-01", "2014-03-02", searcher=archive.search)
    with pytest.raises(ValueError, match="one EUV and one magnetogram"):
        fetch_dataset(tmp_path / "c", "2014-03-01", "2014-03-02", sources=("aia304", "euvi304_a"))
    with pytest.raises(ValueError, match="unknown data source"):
        fetch_dataset(tmp_path / "c", "2014-03-01", "2014-03-02", sources=("gong",))


def test_fetch_dataset_farside_selection(tmp_path):
    def search(source, start, end):
        times = Time(["2012-05-01T00:03:30", "2012-05-01T00:13:30", "2012-05-01T11:53:30"])
        return [Record(source, f"vso:SSC:{t.isot}", t, provider="SSC") for t in times]

    report = fetch_dataset(
        tmp_path, "2012-05-01", "2012-05-01T23:59:59", sources=("euvi304_b",), searcher=search, download=False
    )
    assert [(p.pair_id, p.euv.time.isot[11:19]) for p in report.plans] == [
        ("euvi304_b_20120501_0000", "00:03:30"),
        ("euvi304_b_20120501_1200", "11:53:30"),
    ]


# --- the fetch command -----------------------------------------------------------------


def test_fetch_command_passes_its_options(tmp_path, monkeypatch, capsys):
    import sunpy_magnetogan.data.download as download
    from sunpy_magnetogan.cli import main
    from sunpy_magnetogan.cli.fetch import parse_int_list, parse_years

    calls = []

    def fake_fetch(directory, start, end, **kwargs):
        calls.append((directory, start, end, kwargs))
        failed = {"k": "HTTP 500"} if kwargs["notify"] == "fail@example.org" else {}
        return download.FetchReport(tmp_path, [], downloaded=3, skipped=2, failed=failed)

    monkeypatch.setattr(download, "fetch_dataset", fake_fetch)
    argv = [
        "fetch",
        str(tmp_path),
        "--start",
        "2012-01-01",
        "--end",
        "2013-12-31",
        "--email",
        "me@example.org",
    ]
    assert (
        main(
            [*argv, "--test-months", "11", "--val-months", "6,7", "--years", "2012-2013", "--tolerance", "20"]
        )
        == 0
    )
    _, start, end, kwargs = calls[-1]
    assert (start, end) == ("2012-01-01", "2013-12-31")
    assert kwargs["sources"] == ("aia304", "hmi_los")
    assert kwargs["notify"] == "me@example.org"
    assert kwargs["tolerance"] == 20 * u.min
    assert kwargs["pair_tolerance"] == 15 * u.min
    rule = kwargs["split_rule"]
    assert (rule.test_months, rule.validation_months, rule.first_year, rule.last_year) == (
        (11,),
        (6, 7),
        2012,
        2013,
    )
    assert "downloaded: 3; already there: 2; failed: 0" in capsys.readouterr().out
    assert main(["fetch", str(tmp_path), "--source", "stereo-a", "--dry-run", "--years", "all"]) == 0
    assert calls[-1][3]["sources"] == ("euvi304_a",)
    assert calls[-1][3]["download"] is False
    assert calls[-1][3]["split_rule"].first_year is None
    assert main(["fetch", str(tmp_path), "--email", "fail@example.org"]) == 1
    assert parse_int_list(" 0, 12") == (0, 12)
    assert parse_int_list("") == ()
    assert parse_years("2014") == (2014, 2014)


# --- URL resolution with stand-ins for the JSOC and the VSO ------------------------------


def test_jsoc_export_urls_are_matched_to_records_by_series_and_time():
    pd = pytest.importorskip("pandas")
    from astropy.table import Table

    from sunpy_magnetogan.data.download import resolve_download_jobs
    from sunpy_magnetogan.data.query import records_from_response

    class Export:
        id, status = "JSOC_1", 0

        def __init__(self):
            self.waited = False
            self.urls = pd.DataFrame(
                {
                    "record": [
                        "hmi.M_720s[2014.03.01_00:00:00_TAI][3]{magnetogram}",
                        "hmi.M_720s[2014.03.01_12:00:00_TAI][3]",
                    ],
                    "filename": ["hmi.m_720s.20140301_000000_TAI.3.magnetogram.fits", "b.fits"],
                    "url": ["http://jsoc/a.fits", "http://jsoc/b.fits"],
                }
            )

        def wait(self):
            self.waited = True

        def has_succeeded(self):
            return self.waited

    class Client:
        def request_data(self, block):
            self.export = Export()
            return self.export

    table = Table({"T_REC": ["2014.03.01_00:00:00_TAI", "2014.03.01_12:00:00_TAI"]})
    table.client = Client()
    records = records_from_response(table, "hmi_los")
    jobs = resolve_download_jobs(table, records[:1])  # only the first is wanted
    assert table.client.export.waited
    assert [(j.key, j.url) for j in jobs] == [(records[0].key, "http://jsoc/a.fits")]
    assert jobs[0].filename == "files/hmi_los/2014/02/hmi.m_720s.20140301_000000_TAI.3.magnetogram.fits"


def test_vso_urls_are_collected_without_downloading(monkeypatch):
    pytest.importorskip("parfive")
    from astropy.table import QTable
    from sunpy.net import Fido

    from sunpy_magnetogan.data.download import resolve_download_jobs
    from sunpy_magnetogan.data.query import records_from_response

    table = QTable(
        {
            "Start Time": Time(["2012-05-01T00:05:30", "2012-05-01T12:05:30"]),
            "Provider": ["SSC", "SSC"],
            "fileid": ["/secchi/20120501_000530_n4euB.fts", "/secchi/20120501_120530_n4euB.fts"],
        }
    )
    records = records_from_response(table, "euvi304_b")
    fetched = []

    def fake_fetch(rows, *, path, downloader):
        # What sunpy's VSO client does: enqueue each URL with a file-name callback.
        fetched.append(len(rows))
        for row in rows:
            name = functools.partial(
                lambda pattern, r, resp, url: pattern.format(file=url.rsplit("/", 1)[-1]), path, row
            )
            downloader.enqueue_file(f"https://ssc.example{row['fileid']}", filename=name)
        return downloader.download()

    monkeypatch.setattr(Fido, "fetch", fake_fetch)
    jobs = resolve_download_jobs(table, records[1:])
    assert fetched == [1]  # only the wanted row was requested
    assert [(j.key, j.url, j.filename) for j in jobs] == [
        (
            "vso:SSC:/secchi/20120501_120530_n4euB.fts",
            "https://ssc.example/secchi/20120501_120530_n4euB.fts",
            "files/euvi304_b/2012/05/20120501_120530_n4euB.fts",
        )
    ]

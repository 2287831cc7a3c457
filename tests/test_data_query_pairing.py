"""Fido query construction, record parsing, pairing and the train/test split (no network)."""

import itertools

import astropy.units as u
import numpy as np
import pytest
from astropy.table import QTable, Table
from astropy.time import Time, TimeDelta

from sunpy_magnetogan.data.pairing import (
    PairPlan,
    Record,
    SplitRule,
    pair_records,
    read_plan,
    read_records,
    select_farside,
    select_nearest,
    write_plan,
    write_records,
)
from sunpy_magnetogan.data.query import (
    SOURCES,
    build_query,
    month_chunks,
    records_from_response,
    synoptic_times,
)


@pytest.fixture
def a():
    """``sunpy.net.attrs`` (building Fido queries needs the ``sunpy[net]`` extra)."""
    return pytest.importorskip("sunpy.net.attrs", reason="building Fido queries needs sunpy[net]")


def _attr(query, kind):
    found = [x for x in query.attrs if isinstance(x, kind)]
    assert len(found) == 1, f"expected one {kind.__name__} in {query}"
    return found[0]


# --- times and chunks ----------------------------------------------------------------


def test_synoptic_times_are_00_and_12_ut_within_the_range():
    times = synoptic_times("2011-12-31T06:00", "2012-01-02T00:00")
    assert times.isot.tolist() == [
        "2011-12-31T12:00:00.000",
        "2012-01-01T00:00:00.000",
        "2012-01-01T12:00:00.000",
        "2012-01-02T00:00:00.000",
    ]
    assert len(synoptic_times("2011-01-01", "2011-12-31T23:59:59")) == 2 * 365


def test_synoptic_times_other_hours_and_errors():
    times = synoptic_times("2014-03-01", "2014-03-01T23:00", hours=(6, 0, 18, 12))
    assert [t.datetime.hour for t in times] == [0, 6, 12, 18]
    with pytest.raises(ValueError, match="before the start"):
        synoptic_times("2014-03-02", "2014-03-01")
    with pytest.raises(ValueError, match="0..23"):
        synoptic_times("2014-03-01", "2014-03-02", hours=(24,))


def test_month_chunks_cover_the_range_without_overlap():
    chunks = month_chunks("2011-11-15T12:00", "2012-02-03")
    assert [label for label, _, _ in chunks] == ["2011-11", "2011-12", "2012-01", "2012-02"]
    assert chunks[0][1] == Time("2011-11-15T12:00")
    assert chunks[-1][2] == Time("2012-02-03")
    for (_, _, end), (_, start, _) in itertools.pairwise(chunks):
        assert (start - end).to_value(u.s) == pytest.approx(1.0)
    # Every synoptic time of the range falls in exactly one chunk.
    times = synoptic_times("2011-11-15T12:00", "2012-02-03")
    counts = sum(((times >= lo) & (times <= hi)).astype(int) for _, lo, hi in chunks)
    assert np.all(counts == 1)


# --- query construction --------------------------------------------------------------


def test_jsoc_aia_query_samples_304_at_12_hours_from_midnight(a):
    query = build_query("aia304", "2011-01-01T05:00", "2011-01-31T23:59:59", notify="me@example.org")
    time = _attr(query, a.Time)
    assert time.start.isot == "2011-01-01T12:00:00.000"  # first synoptic time in the range
    assert time.end.isot == "2011-01-31T23:59:59.000"
    assert _attr(query, a.jsoc.Series).value == "aia.lev1_euv_12s"
    assert _attr(query, a.jsoc.Segment).value == "image"
    assert _attr(query, a.Sample).value == pytest.approx(12 * 3600)
    wavelength = _attr(query, a.Wavelength)
    assert wavelength.min.to_value(u.AA) == pytest.approx(304)
    assert _attr(query, a.jsoc.Notify).value == "me@example.org"


def test_jsoc_hmi_query_has_no_wavelength_and_routes_to_jsoc(a):
    from sunpy.net import Fido
    from sunpy.net.jsoc import JSOCClient

    query = build_query("hmi_los", "2011-01-01", "2011-01-31T23:59:59")
    assert _attr(query, a.jsoc.Series).value == "hmi.M_720s"
    assert _attr(query, a.jsoc.Segment).value == "magnetogram"
    assert not [x for x in query.attrs if isinstance(x, a.Wavelength | a.jsoc.Notify)]
    assert Fido._check_registered_widgets(*query.attrs) == [JSOCClient]


def test_jsoc_query_with_six_hour_cadence_and_irregular_hours_refused(a):
    query = build_query("aia304", "2011-01-01", "2011-01-02", hours=(0, 6, 12, 18))
    assert _attr(query, a.Sample).value == pytest.approx(6 * 3600)
    with pytest.raises(ValueError, match="regularly spaced"):
        build_query("aia304", "2011-01-01", "2011-01-02", hours=(0, 10))


def test_vso_euvi_query_is_one_window_per_synoptic_time(a):
    from sunpy.net import Fido
    from sunpy.net.vso import VSOClient

    query = build_query("euvi304_b", "2012-05-01", "2012-05-03T23:59:59", window=15 * u.min)
    windows = query.attrs
    assert len(windows) == 6
    centres = []
    for window in windows:
        time = _attr(window, a.Time)
        assert (time.end - time.start).to(u.min).value == pytest.approx(30)
        centres.append(time.start + (time.end - time.start) / 2)
        assert _attr(window, a.Instrument).value == "EUVI"
        assert _attr(window, a.Source).value == "STEREO_B"
        assert _attr(window, a.Wavelength).min.to_value(u.AA) == pytest.approx(304)
        assert Fido._check_registered_widgets(*window.attrs) == [VSOClient]
    assert [c.datetime.hour for c in Time(centres)] == [0, 12] * 3
    assert all(c.datetime.minute == 0 for c in Time(centres))


def test_vso_query_for_sdo_uses_physobs_for_hmi(a):
    query = build_query("hmi_los", "2011-01-01", "2011-01-01T06:00", provider="vso")
    assert _attr(query, a.Physobs).value.upper() == "LOS_MAGNETIC_FIELD"
    assert _attr(query, a.Instrument).value == "HMI"
    default = SOURCES["hmi_los"].default_window
    time = _attr(query, a.Time)
    assert (time.end - time.start).to(u.min).value == pytest.approx(2 * default.to_value(u.min))


def test_query_errors_name_the_problem(a):
    with pytest.raises(ValueError, match="not in the JSOC"):
        build_query("euvi304_a", "2011-01-01", "2011-01-02", provider="jsoc")
    with pytest.raises(ValueError, match="unknown data source"):
        build_query("mdi", "2011-01-01", "2011-01-02")
    with pytest.raises(ValueError, match="no synoptic time"):
        build_query("aia304", "2011-01-01T01:00", "2011-01-01T02:00")
    with pytest.raises(ValueError, match="provider must be"):
        build_query("aia304", "2011-01-01", "2011-01-02", provider="ftp")


# --- search results -> records ---------------------------------------------------------


def test_jsoc_rows_become_records_in_utc():
    table = Table(
        {"T_REC": ["2011.01.01_12:00:00_TAI", "2011-01-01T00:00:02Z", "MISSING"], "WAVELNTH": [304, 304, 304]}
    )
    records = records_from_response(table, "aia304")
    assert [r.time.isot for r in records] == ["2011-01-01T00:00:02.000", "2011-01-01T11:59:26.000"]
    assert records[0].key == "jsoc:aia.lev1_euv_12s:2011-01-01T00:00:02Z"
    assert {r.provider for r in records} == {"JSOC"}


def test_vso_rows_become_records_and_duplicates_merge():
    table = QTable(
        {
            "Start Time": Time(["2012-05-01T12:05:30", "2012-05-01T00:05:30", "2012-05-01T00:05:30"]),
            "Provider": ["SSC", "SSC", "SSC"],
            "fileid": [
                "/a/20120501_120530_n4euB.fts",
                "/a/20120501_000530_n4euB.fts",
                "/a/20120501_000530_n4euB.fts",
            ],
            "Size": [8193.0, 8193.0, 8193.0] * u.Kibyte,
        }
    )
    records = records_from_response([table], "euvi304_b")
    assert len(records) == 2
    assert records[0].time.isot == "2012-05-01T00:05:30.000"
    assert records[0].key == "vso:SSC:/a/20120501_000530_n4euB.fts"
    assert records[0].size == 8193 * 1024


# --- pairing and split -------------------------------------------------------------------


def _aia_and_hmi(days, *, aia_offset=7 * u.s, skip_aia=(), hmi_gap=None):
    """AIA 304 records at the synoptic times (+offset) and HMI every 12 minutes."""
    targets = synoptic_times(days[0], Time(days[1]) + 1 * u.day - 1 * u.s)
    aia = [
        Record("aia304", f"aia-{i}", t + aia_offset, provider="JSOC")
        for i, t in enumerate(targets)
        if t.isot not in skip_aia
    ]
    start = Time(days[0]) - 1 * u.h
    n = int(((Time(days[1]) + 1 * u.day + 1 * u.h) - start).to_value(u.min) // 12)
    hmi_times = start + TimeDelta(np.arange(n) * 12 * u.min)
    hmi = [
        Record("hmi_los", f"hmi-{i}", t, provider="JSOC")
        for i, t in enumerate(hmi_times)
        if hmi_gap is None or not (hmi_gap[0] <= t <= hmi_gap[1])
    ]
    return targets, aia, hmi


def test_pairs_at_every_synoptic_time_with_the_paper_split():
    targets, aia, hmi = _aia_and_hmi(("2014-08-30", "2014-09-01"))
    plans = pair_records(aia, hmi)
    assert [p.pair_id for p in plans] == [
        "sdo_20140830_0000",
        "sdo_20140830_1200",
        "sdo_20140831_0000",
        "sdo_20140831_1200",
        "sdo_20140901_0000",
        "sdo_20140901_1200",
    ]
    assert [p.split for p in plans] == ["train"] * 4 + ["test"] * 2
    for plan, target in zip(plans, targets, strict=True):
        assert plan.target == target
        assert plan.time_difference <= 6 * u.min
        assert plan.mag.source == "hmi_los"
    assert len({p.mag.key for p in plans}) == len(plans)


def test_missing_records_and_tolerances_drop_pairs():
    _targets, aia, hmi = _aia_and_hmi(
        ("2014-03-01", "2014-03-02"),
        skip_aia=("2014-03-01T12:00:00.000",),
        hmi_gap=(Time("2014-03-02T11:00"), Time("2014-03-02T13:00")),
    )
    # An AIA image 40 minutes after 00:00 on 2014-03-02 is too far from the synoptic time.
    aia = [r for r in aia if not r.time.isot.startswith("2014-03-02T00")]
    aia.append(Record("aia304", "late", "2014-03-02T00:40:00"))
    plans = pair_records(aia, hmi)
    assert [p.pair_id for p in plans] == ["sdo_20140301_0000"]
    # With looser tolerances the late image is used, and the HMI gap is bridged.
    loose = pair_records(aia, hmi, tolerance=1 * u.h, pair_tolerance=2 * u.h)
    assert [p.pair_id for p in loose] == ["sdo_20140301_0000", "sdo_20140302_0000", "sdo_20140302_1200"]
    assert loose[1].euv.key == "late"


def test_select_nearest_gives_each_record_to_one_target():
    targets = Time(["2014-03-01T00:00", "2014-03-01T01:00"])
    records = [Record("aia304", "only", "2014-03-01T00:40")]
    chosen = select_nearest(records, targets, tolerance=1 * u.h)
    assert list(chosen) == [1]  # the nearer target keeps the record
    assert select_nearest([], targets, tolerance=1 * u.h) == {}
    with pytest.raises(ValueError, match="tolerance"):
        select_nearest(records, targets, tolerance=5 * u.m)


def test_split_rule_paper_default_and_configurable():
    rule = SplitRule()
    assert rule("2010-12-31T12:00") is None
    assert rule("2011-01-01T00:00") == "train"
    assert rule("2015-09-01T00:00") == "test"
    assert rule("2015-10-31T12:00") == "test"
    assert rule("2015-11-01T00:00") == "train"
    assert rule("2019-12-31T12:00") == "train"
    assert rule("2020-01-01T00:00") is None
    custom = SplitRule(test_months=(12,), first_year=None, last_year=None, validation_months=(6,))
    assert (custom("2009-12-01"), custom("2009-06-01"), custom("2009-09-01")) == ("test", "val", "train")
    assert SplitRule.from_dict(custom.to_dict()) == custom
    with pytest.raises(ValueError, match="both test and validation"):
        SplitRule(test_months=(9,), validation_months=(9,))
    with pytest.raises(ValueError, match="1..12"):
        SplitRule(test_months=(13,))


def test_pairs_outside_the_split_years_are_left_out():
    _, aia, hmi = _aia_and_hmi(("2019-12-31", "2020-01-01"))
    plans = pair_records(aia, hmi)
    assert [p.pair_id for p in plans] == ["sdo_20191231_0000", "sdo_20191231_1200"]


def test_select_farside_has_no_magnetogram():
    records = [
        Record("euvi304_a", f"e{i}", t) for i, t in enumerate(Time(["2012-05-01T00:05", "2012-05-01T11:58"]))
    ]
    plans = select_farside(records, prefix="euvi304_a")
    assert [(p.pair_id, p.split, p.mag) for p in plans] == [
        ("euvi304_a_20120501_0000", "farside", None),
        ("euvi304_a_20120501_1200", "farside", None),
    ]
    assert np.isnan(plans[0].time_difference.value)


def test_plan_and_records_round_trip_through_csv(tmp_path):
    _, aia, hmi = _aia_and_hmi(("2014-09-30", "2014-10-01"))
    plans = pair_records(aia, hmi) + select_farside(
        [Record("euvi304_a", "e", "2014-10-01T00:01")], prefix="x"
    )
    write_plan(tmp_path / "pairs.csv", plans)
    back = read_plan(tmp_path / "pairs.csv")
    assert [p.pair_id for p in back] == [p.pair_id for p in plans]
    assert [p.split for p in back] == [p.split for p in plans]
    assert all(isinstance(p, PairPlan) for p in back)
    assert back[0].euv == plans[0].euv
    assert back[0].mag == plans[0].mag
    assert abs((back[0].euv.time - plans[0].euv.time).to_value(u.s)) < 1e-3
    assert back[-1].mag is None
    write_records(
        tmp_path / "rec.csv", [*aia[:2], Record("x", "k", "2014-01-01", size=10, url="https://e/x")]
    )
    recs = read_records(tmp_path / "rec.csv")
    assert recs[-1].size == 10
    assert recs[-1].url == "https://e/x"
    assert recs[0].time == aia[0].time

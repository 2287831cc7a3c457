"""
Tests of Carrington tracking, co-rotating cutouts, the tracking figures and ``sunpy-magnetogan track``.

The truth is a synthetic Sun of Gaussian bipoles (tests/helpers_bipoles.py) that rotate
differentially, seen every 12 h by an SDO-like observer and a farside observer (Stonyhurst
longitude 180 deg): regions cross the limbs from one observer to the other, one is born, one
decays and two merge.
"""

from dataclasses import replace

import astropy.units as u
import matplotlib
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time
from ndcube import NDCube
from sunpy.coordinates import (
    HeliographicCarrington,
    HeliographicStonyhurst,
    RotatedSunFrame,
    transform_with_sun_center,
)
from sunpy.coordinates.sun import L0

from sunpy_magnetogan.cli import main
from sunpy_magnetogan.tracking import (
    ActiveRegionTracker,
    TrackingResult,
    corotating_cutout,
    detect_active_regions,
    make_synoptic_map,
    plot_flux_history,
    plot_tracks,
    track_active_regions,
    track_detections,
)

from .helpers_bipoles import (
    Bipole,
    earth_observer,
    magnetogram_map,
    rotate_bipoles,
    stonyhurst_observer,
)

matplotlib.use("Agg")

T0 = Time("2012-03-01T00:00:00")
CADENCE = 12 * u.hour
N_STEPS = 17  # 8 days
SDO = "SDO/bipole truth"
FAR = "STEREO/bipole truth"


def carrington(stonyhurst_lon):
    return (L0(T0) + stonyhurst_lon) % (360 * u.deg)


#: Truth regions: (name, bipole at T0, first day, last day). Stonyhurst longitudes at T0.
REGIONS = [
    # on the farside, crosses the SDO east limb after about 4.5 days
    ("crosser", Bipole(carrington(-150 * u.deg), 15 * u.deg, flux=3e22 * u.Mx), 0, 99),
    # on the frontside, crosses the SDO west limb onto the farside after about 3.5 days
    ("setter", Bipole(carrington(40 * u.deg), -20 * u.deg, flux=2e22 * u.Mx, leading_sign=-1), 0, 99),
    # emerges on the farside on day 3
    ("newborn", Bipole(carrington(150 * u.deg), 10 * u.deg, flux=2e22 * u.Mx), 3, 99),
    # decays on the frontside after day 3.5
    ("decayer", Bipole(carrington(-20 * u.deg), 25 * u.deg, flux=2e22 * u.Mx), 0, 3.5),
]
#: Two regions 24 deg apart in latitude that approach each other and merge by day 4.
MERGE_LON = carrington(-37 * u.deg)


def truth_at(t):
    """Named truth bipoles at time ``t`` (differentially rotated from T0)."""
    days = (t - T0).to_value(u.day)
    named = []
    for name, bp, first, last in REGIONS:
        if first <= days <= last + 1e-9:
            named.append((name, rotate_bipoles([bp], (t - T0).to(u.day))[0]))
    # the merging pair (frontside): each moves 3 deg/day towards latitude -5 deg
    shift = min(days, 4.0) * 3 * u.deg
    pair = [
        Bipole(MERGE_LON, 7 * u.deg - shift, flux=1.5e22 * u.Mx, width=1.2 * u.deg),
        Bipole(MERGE_LON, -17 * u.deg + shift, flux=1.5e22 * u.Mx, width=1.2 * u.deg),
    ]
    pair = rotate_bipoles(pair, (t - T0).to(u.day))
    if days >= 4.0:
        named.append(("merged", replace(pair[0], flux=3e22 * u.Mx)))
    else:
        named += [("merge_a", pair[0]), ("merge_b", pair[1])]
    return named


def times():
    return [T0 + k * CADENCE for k in range(N_STEPS)]


@pytest.fixture(scope="module")
def maps():
    out = []
    for t in times():
        bipoles = [bp for _, bp in truth_at(t)]
        out.append(magnetogram_map(bipoles, earth_observer(t), size=128))
        out.append(magnetogram_map(bipoles, stonyhurst_observer(t, 180 * u.deg), size=128))
    return out


@pytest.fixture(scope="module")
def detections(maps):
    return [detect_active_regions(m) for m in maps]


@pytest.fixture(scope="module")
def result(detections):
    # shuffled input: track_detections sorts by time
    order = np.random.default_rng(1).permutation(len(detections))
    return track_detections([detections[i] for i in order])


def truth_ids(result):
    """For each truth region name, the set of track IDs of the detections matched to it."""
    history = result.history
    ids = {}
    frame = HeliographicCarrington(observer="earth", obstime=T0)
    for row in history:
        truth = truth_at(row["time"])
        lons = u.Quantity([bp.lon for _, bp in truth])
        lats = u.Quantity([bp.lat for _, bp in truth])
        sep = SkyCoord(lons, lats, frame=frame).separation(SkyCoord(row["lon"], row["lat"], frame=frame))
        k = int(np.argmin(sep))
        ids.setdefault(truth[k][0], []).append((int(row["track_id"]), sep[k].to_value(u.deg), row))
    return ids


def test_result_tables(result):
    assert isinstance(result, TrackingResult)
    tracks, history = result
    assert isinstance(tracks, QTable)
    assert isinstance(history, QTable)
    assert history["unsigned_flux"].unit == u.Mx
    assert history["lon"].unit == u.deg
    assert np.all(np.diff(history["time"].jd) >= 0)
    assert set(history["track_id"]) == set(tracks["track_id"])
    assert set(history["observer"]) == {SDO, FAR}
    for row in tracks:
        assert row["n_detections"] == np.count_nonzero(history["track_id"] == row["track_id"])


def test_each_region_keeps_one_id_across_observers_and_limbs(result):
    ids = truth_ids(result)
    for name in ("crosser", "setter", "newborn", "decayer"):
        assert len({i for i, _, _ in ids[name]}) == 1, name
    # one track per truth region, merging pair included
    assert len(result.tracks) == len(REGIONS) + 2
    tracks = result.tracks
    crosser = tracks[tracks["track_id"] == ids["crosser"][0][0]][0]
    assert crosser["first_observer"] == FAR
    assert crosser["last_observer"] == SDO
    setter = tracks[tracks["track_id"] == ids["setter"][0][0]][0]
    assert setter["first_observer"] == SDO
    assert setter["last_observer"] == FAR


def test_farside_region_is_detected_before_it_crosses_the_east_limb(result):
    ids = truth_ids(result)
    rows = [row for _, _, row in ids["crosser"]]
    first_sdo = min(row["time"] for row in rows if row["observer"] == SDO)
    first = min(row["time"] for row in rows)
    assert first == T0
    assert (first_sdo - first) > 3 * u.day


def test_tracked_centroids_are_within_3_deg_of_the_truth(result):
    errors = [
        (sep, bool(row["near_limb"]))
        for name, entries in truth_ids(result).items()
        # once grouped, the approaching pair is one region whose centroid lies between them
        if name not in ("merge_a", "merge_b")
        for _, sep, row in entries
    ]
    assert len(errors) >= 55
    assert max(sep for sep, limb in errors if not limb) < 1
    # near the limb only part of a region is seen: its centroid is pulled onto the disk
    assert max(sep for sep, limb in errors if limb) < 4


def test_births_deaths_and_merges(result):
    ids = truth_ids(result)
    tracks = result.tracks
    newborn = tracks[tracks["track_id"] == ids["newborn"][0][0]][0]
    assert newborn["first_time"] == T0 + 3 * u.day
    assert newborn["first_observer"] == FAR
    decayer = tracks[tracks["track_id"] == ids["decayer"][0][0]][0]
    assert decayer["status"] == "ended"
    assert abs(decayer["last_time"] - (T0 + 3.5 * u.day)) < 1 * u.min
    a = ids["merge_a"][0][0]
    b = ids["merge_b"][0][0]
    assert a != b
    survivor = {i for i, _, _ in ids["merged"]}
    assert len(survivor) == 1
    assert survivor <= {a, b}
    (kept,) = survivor
    lost = b if kept == a else a
    lost_row = tracks[tracks["track_id"] == lost][0]
    assert lost_row["status"] == "merged"
    assert lost_row["merged_into"] == kept
    assert set(tracks["status"]) == {"active", "ended", "merged"}


def test_prediction_is_sunpy_differential_rotation():
    tracker = ActiveRegionTracker(rotation_model="howard")
    table = detect_active_regions(
        magnetogram_map([Bipole(carrington(0 * u.deg), 40 * u.deg)], earth_observer(T0), size=128)
    )
    tracker.update(table)
    later = T0 + 5 * u.day
    _, lon, lat = tracker.predict(later)
    with transform_with_sun_center():
        base = HeliographicCarrington(observer="earth", obstime=T0)
        rotated = RotatedSunFrame(lon=table["lon"], lat=table["lat"], base=base, rotated_time=later)
        expected = SkyCoord(rotated).transform_to(HeliographicCarrington(observer="earth", obstime=later))
    assert lon[0].to_value(u.deg) == pytest.approx(expected.lon[0].to_value(u.deg), abs=0.01)
    assert lat[0] == table["lat"][0]
    # at 40 deg latitude the surface lags the Carrington frame by about 1 deg/day
    drift = (lon[0] - table["lon"][0]).to_value(u.deg)
    assert -6 < drift < -4
    rigid = ActiveRegionTracker(rotation_model="rigid")
    rigid.update(table)
    assert rigid.predict(later)[1][0].to_value(u.deg) == pytest.approx(table["lon"][0].to_value(u.deg))


def test_gate_separates_jumps():
    first = detect_active_regions(
        magnetogram_map([Bipole(carrington(0 * u.deg), 10 * u.deg)], earth_observer(T0), size=128)
    )
    later = T0 + 12 * u.hour
    jumped = rotate_bipoles([Bipole(carrington(25 * u.deg), 10 * u.deg)], 0.5 * u.day)
    second = detect_active_regions(magnetogram_map(jumped, earth_observer(later), size=128))
    narrow = track_detections([first, second], gate=10 * u.deg)
    assert len(narrow.tracks) == 2
    assert narrow.tracks["parent"][1] == 0  # nothing near it was matched
    wide = track_detections([first, second], gate=40 * u.deg)
    assert len(wide.tracks) == 1
    assert wide.history["distance"][1] > 20 * u.deg


def test_region_keeps_its_id_after_a_half_rotation_unseen():
    # SDO only, daily: the region sets at the west limb and comes back at the east limb.
    bp = Bipole(carrington(30 * u.deg), 10 * u.deg)
    sequence = []
    for day in range(0, 24):
        t = T0 + day * u.day
        sequence.append(magnetogram_map(rotate_bipoles([bp], day * u.day), earth_observer(t), size=96))
    tracks, history = track_active_regions(sequence)
    assert len(tracks) == 1
    seen = history["time"] - T0
    assert seen.max() > 20 * u.day
    assert np.any(np.diff(seen.to_value(u.day)) > 10)
    short = track_active_regions(sequence, max_unseen=10 * u.day)
    assert len(short.tracks) == 2
    assert short.tracks["status"][0] == "ended"


def test_updates_must_come_in_time_order(detections):
    tracker = ActiveRegionTracker()
    tracker.update(detections[2])
    with pytest.raises(ValueError, match="time order"):
        tracker.update(detections[0])
    with pytest.raises(ValueError, match="observer_coordinate"):
        tracker.update(QTable({"lon": [1.0] * u.deg}, meta={"date": T0 + 2 * u.day}))
    with pytest.raises(ValueError, match="rotation_model"):
        ActiveRegionTracker(rotation_model="solid")


def test_empty_tracker_tables():
    tracker = ActiveRegionTracker()
    assert len(tracker.tracks) == 0
    assert "track_id" in tracker.tracks.colnames
    assert len(tracker.history) == 0
    assert tracker.history["unsigned_flux"].unit == u.Mx


# --------------------------------------------------------------------------- cutout


def test_corotating_cutout_follows_the_region(maps, result):
    ids = truth_ids(result)
    rows = [row for _, _, row in ids["crosser"]]
    start = rows[0]
    centre = SkyCoord(
        start["lon"], start["lat"], frame=HeliographicCarrington(observer="earth", obstime=start["time"])
    )
    sample = maps[::3]  # alternately SDO and farside maps, every 1.5 days
    assert {m.observatory for m in sample} == {"SDO", "STEREO"}
    cube = corotating_cutout(sample, centre, shape=(40, 40), width=20 * u.deg)
    assert isinstance(cube, NDCube)
    assert cube.data.shape == (len(sample), 40, 40)
    assert "time" in cube.wcs.world_axis_physical_types
    world = cube.axis_world_coords()
    times = next(w for w in world if isinstance(w, Time))
    assert np.all(np.diff(times.jd) >= 0)
    assert set(cube.meta["observers"]) == {SDO, FAR}
    # frames that see the region: its flux centroid stays at the middle of the grid
    yy, xx = np.mgrid[:40, :40]
    for k, frame in enumerate(cube.data):
        if cube.meta["coverage"][k] < 0.99:
            continue
        weight = np.abs(np.nan_to_num(frame))
        if weight.max() < 50:
            continue
        cx, cy = (weight * xx).sum() / weight.sum(), (weight * yy).sum() / weight.sum()
        assert abs(cx - 19.5) < 2, k
        assert abs(cy - 19.5) < 2, k
    # a frame from an observer that does not see the patch is empty and masked
    blind = int(np.argmin(cube.meta["coverage"]))
    assert cube.meta["coverage"][blind] == 0
    assert np.all(cube.mask[blind])
    single = cube[0]
    assert single.data.shape == (40, 40)


def test_helioprojective_cutout(maps):
    sdo_maps = maps[0:8:2]
    centre = SkyCoord(
        carrington(40 * u.deg), -20 * u.deg, frame=HeliographicCarrington(observer="earth", obstime=T0)
    )
    cube = corotating_cutout(sdo_maps, centre, shape=(32, 32), width=300 * u.arcsec, frame="helioprojective")
    assert cube.data.shape == (4, 32, 32)
    assert np.all(cube.meta["coverage"] > 0.9)
    with pytest.raises(ValueError, match="frame"):
        corotating_cutout(sdo_maps, centre, frame="stonyhurst")


# --------------------------------------------------------------------------- figures


def test_plot_tracks_draws_one_line_per_track(result):
    ax = plot_tracks(result)
    labels = [line.get_label() for line in ax.lines if line.get_label().startswith("track")]
    assert sorted(labels) == sorted(f"track {i}" for i in result.tracks["track_id"])
    merged = result.tracks["track_id"][result.tracks["status"] == "merged"][0]
    line = next(line for line in ax.lines if line.get_label() == f"track {merged}")
    assert line.get_linestyle() == "--"
    texts = {t.get_text().strip() for t in ax.texts}
    assert {str(i) for i in result.tracks["track_id"]} <= texts
    matplotlib.pyplot.close(ax.figure)


def test_plot_tracks_over_a_carrington_map(result, maps):
    synoptic = make_synoptic_map(maps[-2:], shape=(90, 180))
    ax = plot_tracks(result, background=synoptic)
    assert ax.images, "the Carrington map is drawn"
    assert len([line for line in ax.lines if line.get_label().startswith("track")]) == len(result.tracks)
    matplotlib.pyplot.close(ax.figure)


def test_plot_flux_history(result):
    ax = plot_flux_history(result)
    lines = [line for line in ax.lines if line.get_label().startswith("track")]
    assert len(lines) == len(result.tracks)
    assert ax.get_yscale() == "log"
    assert "Mx" in ax.get_ylabel()
    crosser = lines[0].get_ydata()
    assert np.all(crosser > 1e21)
    matplotlib.pyplot.close(ax.figure)


# --------------------------------------------------------------------------- command line


def test_track_command(maps, tmp_path, capsys):
    files = []
    for k, smap in enumerate(maps[:12]):
        path = tmp_path / f"map_{k:02d}.fits"
        smap.save(path)
        files.append(str(path))
    out = tmp_path / "out"
    assert main(["track", *files, "-o", str(out)]) == 0
    assert "12 map(s)" in capsys.readouterr().out
    for name in ("detections.ecsv", "tracks.ecsv", "flux_history.ecsv", "tracks.png", "flux_history.png"):
        assert (out / name).is_file(), name
    tracks = QTable.read(out / "tracks.ecsv")
    detections = QTable.read(out / "detections.ecsv")
    assert tracks["peak_unsigned_flux"].unit == u.Mx
    assert set(detections["track_id"]) == set(tracks["track_id"])
    assert set(detections["file"]) <= {p.split("/")[-1] for p in files}
    # existing outputs are kept unless --overwrite
    assert main(["track", *files, "-o", str(out), "--no-plots"]) == 1
    assert main(["track", *files, "-o", str(out), "--no-plots", "--overwrite"]) == 0
    # an unreadable file is a clean error
    bad = tmp_path / "bad.fits"
    bad.write_text("not a fits file")
    assert main(["track", str(bad), "-o", str(tmp_path / "bad_out")]) == 2


# --------------------------------------------------------------------------- time gaps


def observed_at_prediction(tracker, time, *, lat=10 * u.deg, size=96):
    """
    Detections of one bipole placed where ``tracker`` predicts its only track at ``time``,
    seen face-on (from the Stonyhurst longitude of that point): a region that a tracker
    matching before it ends stale tracks would associate, however long the gap.
    """
    _, lon, _ = tracker.predict(time)
    bipole = Bipole(lon[0], lat)
    point = SkyCoord(lon[0], lat, frame=HeliographicCarrington(observer="earth", obstime=time))
    observer = stonyhurst_observer(time, point.transform_to(HeliographicStonyhurst(obstime=time)).lon)
    return detect_active_regions(magnetogram_map([bipole], observer, size=size))


def first_detection(time, *, lat=10 * u.deg, size=96):
    return detect_active_regions(magnetogram_map([Bipole(L0(time), lat)], earth_observer(time), size=size))


def returns_at_prediction(tracker, last_seen, time, n_tracks):
    """
    Update ``tracker`` with `observed_at_prediction` at ``time`` and check the track count:
    with 2, the track last seen at ``last_seen`` has ended and a new one is active.

    Returns the track table.
    """
    tracker.update(observed_at_prediction(tracker, time))
    tracks = tracker.tracks
    assert len(tracks) == n_tracks
    if n_tracks == 2:
        assert list(tracks["status"]) == ["ended", "active"]
        assert tracks["last_time"][0] == last_seen
    return tracks


@pytest.mark.parametrize(
    ("gap", "max_unseen", "n_tracks"),
    [
        (1050 * u.day, 27 * u.day, 2),  # the 2021 -> 2024 link of issue #18
        (12 * u.day, 10 * u.day, 2),  # a data gap of days, longer than max_unseen
        (8 * u.day, 10 * u.day, 1),  # shorter: the region keeps its ID
    ],
)
def test_stale_tracks_end_before_matching(gap, max_unseen, n_tracks):
    # No magnetogram in the gap: only the next update can end the track, and it must do so
    # before it matches, even when a region sits exactly where the track is predicted.
    start = Time("2021-03-01T00:00:00")
    tracker = ActiveRegionTracker(max_unseen=max_unseen)
    tracker.update(first_detection(start))
    later = start + gap
    tracks = returns_at_prediction(tracker, start, later, n_tracks)
    if n_tracks == 2:
        assert tracks["first_time"][1] == later
        assert list(tracks["n_detections"]) == [1, 1]
        assert tracks["parent"][1] == 0
    else:
        assert tracks["n_detections"][0] == 2


@pytest.mark.parametrize(("back_after", "n_tracks"), [(4 * u.day, 2), (2.5 * u.day, 1)])
def test_max_gap_is_honoured_when_the_next_detection_comes_late(back_after, n_tracks):
    # Seen on day 0, missed on day 1 although visible (face-on), then no data until the
    # region is back: with max_gap = 2 days it had ended by day 3.
    start = Time("2012-03-01T00:00:00")
    tracker = ActiveRegionTracker(max_gap=2 * u.day)
    tracker.update(first_detection(start))
    miss = start + 1 * u.day
    empty = detect_active_regions(magnetogram_map([], earth_observer(miss), size=96))
    assert len(empty) == 0
    tracker.update(empty)
    assert tracker.tracks["status"][0] == "active"
    returns_at_prediction(tracker, start, start + back_after, n_tracks)


def test_track_detections_ends_a_track_across_a_gap_of_years():
    # The same through the functional interface, at the same Carrington longitude (rigid
    # model), three years apart.
    start = Time("2021-03-01T00:00:00")
    later = start + 1050 * u.day
    tracker = ActiveRegionTracker(rotation_model="rigid")
    first = first_detection(start)
    tracker.update(first)
    second = observed_at_prediction(tracker, later)
    tracks, history = track_detections([second, first], rotation_model="rigid")
    assert len(tracks) == 2
    assert list(history["track_id"]) == [1, 2]

"""
Speed and quality numbers of sunpy_magnetogan.tracking.

Prints:

- detection time on synthetic bipole magnetograms of several sizes, and on the real 4096 px
  HMI map when ../shared/data/real is present;
- the tracking scenario of issue 7 on a synthetic Sun of Gaussian bipoles (tests/helpers_bipoles):
  12 h cadence over 28 days, an SDO-like observer and a farside observer at Stonyhurst
  longitude 180 deg, regions of 1e22-5e22 Mx emerging at random times and places, a quarter
  of them decaying: how many farside-born regions are detected before they cross the east
  limb and keep one ID across the crossing, and the Carrington position error of the tracked
  centroids;
- synoptic-map build time and its correlation with the Carrington truth.

Run: ``python benchmarks/bench_tracking.py [--quick]``.
"""

import argparse
import sys
import time
from pathlib import Path

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from astropy.time import Time
from sunpy.coordinates import HeliographicCarrington
from sunpy.coordinates.sun import L0

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sunpy_magnetogan.tracking import (  # noqa: E402
    detect_active_regions,
    make_synoptic_map,
    track_detections,
)
from tests.helpers_bipoles import (  # noqa: E402
    RSUN_SDO,
    RSUN_STEREO,
    Bipole,
    carrington_truth_map,
    earth_observer,
    magnetogram_map,
    rotate_bipoles,
    stonyhurst_observer,
)

T0 = Time("2012-03-01T00:00:00")
REAL_HMI = ROOT.parent / "shared" / "data" / "real" / "hmi_m_720s_2011-12-17T055810.fits"


def timed(func, *args, repeat=3, **kwargs):
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        out = func(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, out


def bench_detection(sizes):
    bipoles = [
        Bipole((L0(T0) + 10 * u.deg) % (360 * u.deg), 15 * u.deg),
        Bipole((L0(T0) - 30 * u.deg) % (360 * u.deg), -20 * u.deg, flux=2e22 * u.Mx),
    ]
    print("detection time (best of 3)")
    for size in sizes:
        smap = magnetogram_map(bipoles, earth_observer(T0), size=size)
        seconds, table = timed(detect_active_regions, smap)
        print(
            f"  synthetic {size:5d} px: {seconds * 1e3:7.1f} ms  ({len(table)} regions, binning {table.meta['binning']})"
        )
    if REAL_HMI.is_file():
        hmi = sunpy.map.Map(REAL_HMI)
        seconds, table = timed(detect_active_regions, hmi, repeat=2)
        print(
            f"  real HMI  4096 px: {seconds * 1e3:7.1f} ms  ({len(table)} regions, "
            f"{int(np.sum(~table['near_limb']))} away from the limb, binning {table.meta['binning']})"
        )
    else:
        print(f"  real HMI map not found at {REAL_HMI}; skipped")


def random_regions(rng, n, days, min_separation=25 * u.deg):
    """
    Truth regions: (bipole at T0, birth day, death day), at least ``min_separation`` apart
    (closer regions are grouped into one by the detection, which is not a tracking error).
    """
    regions, centres = [], []
    while len(regions) < n:
        lon = rng.uniform(0, 360) * u.deg
        lat = rng.choice([-1, 1]) * rng.uniform(5, 30) * u.deg
        here = SkyCoord(lon, lat, frame=HeliographicCarrington(observer="earth", obstime=T0))
        if any(here.separation(c) < min_separation for c in centres):
            continue
        centres.append(here)
        bp = Bipole(
            lon=lon,
            lat=lat,
            flux=rng.uniform(1e22, 5e22) * u.Mx,
            tilt=rng.uniform(-5, 15) * u.deg,
            width=rng.uniform(1.2, 2.0) * u.deg,
            leading_sign=int(rng.choice([-1, 1])),
        )
        birth = rng.uniform(0, days - 5) if rng.random() < 0.5 else 0.0
        death = rng.uniform(birth + 8, days + 20) if rng.random() < 0.25 else days + 99
        regions.append((bp, birth, death))
    return regions


def truth_at(regions, t):
    days = (t - T0).to_value(u.day)
    return [
        (k, rotate_bipoles([bp], days * u.day)[0])
        for k, (bp, birth, death) in enumerate(regions)
        if birth <= days <= death
    ]


def stonyhurst_lon(bipole, t):
    return (((bipole.lon - L0(t)).to_value(u.deg) + 180) % 360) - 180


def bench_tracking(days=28.0, n_regions=14, size=128, seed=3):
    rng = np.random.default_rng(seed)
    regions = random_regions(rng, n_regions, days)
    times = [T0 + k * 12 * u.hour for k in range(int(days * 2) + 1)]
    start = time.perf_counter()
    maps = []
    for t in times:
        bipoles = [bp for _, bp in truth_at(regions, t)]
        maps.append(magnetogram_map(bipoles, earth_observer(t), size=size))
        maps.append(magnetogram_map(bipoles, stonyhurst_observer(t, 180 * u.deg), size=size))
    make_s = time.perf_counter() - start
    start = time.perf_counter()
    tables = [detect_active_regions(m) for m in maps]
    detect_s = time.perf_counter() - start
    start = time.perf_counter()
    tracks, history = track_detections(tables)
    track_s = time.perf_counter() - start
    print(
        f"tracking scenario: {len(maps)} maps of {size} px over {days:.0f} days, {n_regions} truth regions\n"
        f"  make maps {make_s:.1f} s, detect {detect_s:.1f} s ({detect_s / len(maps) * 1e3:.0f} ms/map), "
        f"track {track_s:.2f} s ({track_s / len(maps) * 1e3:.0f} ms/update); {len(tracks)} tracks"
    )

    # Match each detection to the nearest truth region at its time.
    frame = HeliographicCarrington(observer="earth", obstime=T0)
    matched = {}
    errors, limb_errors = [], []
    for row in history:
        truth = truth_at(regions, row["time"])
        if not truth:
            continue
        coords = SkyCoord(
            u.Quantity([bp.lon for _, bp in truth]), u.Quantity([bp.lat for _, bp in truth]), frame=frame
        )
        sep = coords.separation(SkyCoord(row["lon"], row["lat"], frame=frame)).to_value(u.deg)
        k = int(np.argmin(sep))
        (limb_errors if row["near_limb"] else errors).append(sep[k])
        matched.setdefault(truth[k][0], []).append((row["time"], int(row["track_id"]), str(row["observer"])))

    # Farside-born regions that cross the SDO east limb inside the window.
    eligible = kept = detected_before = 0
    for k, (bp, birth, death) in enumerate(regions):
        if bp.flux < 1e22 * u.Mx:
            continue
        t_birth = T0 + birth * u.day
        if abs(stonyhurst_lon(rotate_bipoles([bp], birth * u.day)[0], t_birth)) < 100:
            continue  # not born on the farside
        crossing = next(
            (
                t
                for t in times
                if t > t_birth
                and t.jd - T0.jd <= death
                and -90 <= stonyhurst_lon(rotate_bipoles([bp], (t - T0).to(u.day))[0], t) <= -60
            ),
            None,
        )
        if crossing is None or crossing.jd - T0.jd > days:
            continue
        eligible += 1
        rows = matched.get(k, [])
        before = [r for r in rows if r[0] < crossing]
        after = [r for r in rows if r[0] >= crossing]
        if before:
            detected_before += 1
        if before and after and len({r[1] for r in before + after}) == 1:
            kept += 1
    print(
        f"  farside-born regions crossing the east limb: {eligible}; detected before the crossing: "
        f"{detected_before}; one ID across the crossing: {kept}"
        + (f" ({100 * kept / eligible:.0f} %)" if eligible else "")
    )
    print(
        f"  Carrington position error of tracked centroids: median {np.median(errors):.2f} deg, "
        f"max {np.max(errors):.2f} deg (not near the limb, n={len(errors)}); "
        f"near the limb max {np.max(limb_errors) if limb_errors else float('nan'):.2f} deg (n={len(limb_errors)})"
    )


def bench_synoptic(size=512):
    spots = [(-60, 20), (-10, -15), (30, 25), (70, -10), (120, 15), (160, -25), (-150, 5), (-100, -20)]
    date = Time("2012-06-06T00:00:00")
    bipoles = [
        Bipole((L0(date) + lon * u.deg) % (360 * u.deg), lat * u.deg, width=3 * u.deg, separation=8 * u.deg)
        for lon, lat in spots
    ]
    front = magnetogram_map(bipoles, earth_observer(date), size=size, rsun=RSUN_SDO)
    far = magnetogram_map(bipoles, stonyhurst_observer(date, 180 * u.deg), size=size, rsun=RSUN_STEREO)
    truth = carrington_truth_map(bipoles, date=date, shape=(180, 360))
    for min_mu in (0.1, 0.0):
        seconds, synoptic = timed(make_synoptic_map, [front, far], min_mu=min_mu, repeat=2)
        data = synoptic.map.data
        covered = np.isfinite(data)
        cc = np.corrcoef(data[covered], truth.data[covered])[0, 1]
        print(
            f"synoptic map from 2 x {size} px maps (min_mu={min_mu}): {seconds:.2f} s, "
            f"{100 * covered.mean():.0f} % covered, CC with the truth {cc:.4f}"
        )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--quick", action="store_true", help="smaller sizes and a 10-day scenario")
    args = parser.parse_args(argv)
    bench_detection((128, 256) if args.quick else (128, 256, 512, 1024))
    bench_tracking(days=10.0 if args.quick else 28.0)
    bench_synoptic(256 if args.quick else 512)


if __name__ == "__main__":
    main()

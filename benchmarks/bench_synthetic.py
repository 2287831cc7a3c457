"""
Speed, reproducibility and realism of the synthetic Sun (sunpy_magnetogan.synthetic).

Prints:

1. the median time to generate a 512 px full-disk pair (AIA 304 + HMI, and EUVI 304 +
   HMI from a STEREO-like observer) for a new seed (nothing cached) and for a new time of
   a seed already used; target: under 1 s on 2 CPU cores;
2. a bit-for-bit reproducibility check of a pair;
3. the calibration against the real HMI magnetogram of 2011-12-17 (near the maximum of
   cycle 24) in ``../shared/data/real/``: the distribution of |B| on the disk, the total
   unsigned flux, and the areas of plage (|B| > 100 G) and of sunspots (|B| > 500 G), of
   the real map rebinned 8 x 8 (the plate scale of a 512 px image) and of synthetic HMI
   maps of the same date, observer and plate scale for several seeds;
4. the path of a figure showing synthetic AIA 304 and HMI beside the real AIA 304 and HMI
   files, at the same scale, with the |B| histograms (``benchmarks/output/``).

Run: ``python benchmarks/bench_synthetic.py [--seeds N]``
"""

import argparse
import statistics
import sys
import time
from pathlib import Path

import astropy.units as u
import matplotlib
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from sunpy.map import all_coordinates_from_map

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REAL_DATA_DIR, describe_machine, print_table

from sunpy_magnetogan.synthetic import (
    SyntheticSun,
    observe_hmi,
    observe_pair,
    sdo_observer,
    stereo_observer,
)
from sunpy_magnetogan.synthetic.sources import MSH_CM2

OUTPUT = Path(__file__).resolve().parent / "output"
REAL_HMI = "hmi_m_720s_2011-12-17T055810.fits"
REAL_AIA = "2021_06_01__00_01_29_132__SDO_AIA_AIA_304.jp2"
REAL_DATE = "2011-12-17T05:58:10"


def time_pairs(n):
    """Median seconds per 512 px pair: new seeds (cold) and new times of one seed (warm)."""
    results = []
    for label, instrument in (("AIA + HMI (SDO)", "AIA"), ("EUVI + HMI (STEREO, 75 deg W)", "EUVI")):
        cold, warm = [], []
        for k in range(n):
            sun = SyntheticSun(10_000 + k)
            date = f"2014-0{1 + k % 9}-15T00:00"
            observer = sdo_observer(date) if instrument == "AIA" else stereo_observer(date, 75 * u.deg)
            t0 = time.perf_counter()
            observe_pair(sun, date, observer, instrument=instrument, npix=512)
            cold.append(time.perf_counter() - t0)
            later = f"2014-0{1 + k % 9}-15T06:00"
            observer = sdo_observer(later) if instrument == "AIA" else stereo_observer(later, 75 * u.deg)
            t0 = time.perf_counter()
            observe_pair(sun, later, observer, instrument=instrument, npix=512)
            warm.append(time.perf_counter() - t0)
        results.append(
            {
                "pair (512 px)": label,
                "new seed median s": statistics.median(cold),
                "max s": max(cold),
                "new time median s": statistics.median(warm),
            }
        )
    return results


def check_reproducible():
    """True if two independent generations of the same pair are identical."""
    a = observe_pair(SyntheticSun(42), "2014-06-01T12:00", npix=512)
    other = SyntheticSun(42)
    other.sources("2014-01-01")
    b = observe_pair(other, "2014-06-01T12:00", npix=512)
    return all(np.array_equal(x.data, y.data, equal_nan=True) for x, y in zip(a, b, strict=True))


def _disk_stats(smap):
    """|B| statistics of the on-disk pixels of a (north-up or rolled) magnetogram map."""
    coords = all_coordinates_from_map(smap)
    rho = (np.hypot(coords.Tx, coords.Ty) / smap.rsun_obs).to_value(u.one)
    disk = (rho < 0.98) & np.isfinite(smap.data)
    b = np.abs(smap.data[disk])
    mu = np.sqrt(1 - rho[disk] ** 2)
    # Sky-plane pixel area at the Sun, and the surface area it covers (/ mu).
    pixel_cm = (smap.scale.axis1 * u.pix).to_value(u.rad) * (smap.dsun - smap.rsun_meters).to_value(u.cm)
    area = pixel_cm**2 / mu
    row = {
        f"p{q}": v
        for q, v in zip((50, 75, 90, 95, 99, 99.9), np.percentile(b, [50, 75, 90, 95, 99, 99.9]), strict=True)
    }
    row["flux Mx"] = float(np.sum(b) * pixel_cm**2)
    row[">100G %"] = 100 * float(np.mean(b > 100))
    row[">500G %"] = 100 * float(np.mean(b > 500))
    row["plage MSH"] = float(np.sum(area[b > 100]) / MSH_CM2)
    row["spot MSH"] = float(np.sum(area[b > 500]) / MSH_CM2)
    return row, b


def calibrate(n_seeds):
    """Rows comparing the real HMI (rebinned to the 512 px scale) with synthetic HMI maps."""
    path = REAL_DATA_DIR / REAL_HMI
    rows, samples = [], {}
    real = None
    if path.is_file():
        real = sunpy.map.Map(path).superpixel((8, 8) * u.pix, func=np.mean)
        row, samples["real"] = _disk_stats(real)
        rows.append({"map": "real HMI 2011-12-17 (8x8 rebin)", **row})
    else:
        print(f"(real HMI not found in {REAL_DATA_DIR}: calibration against it skipped)")
    synthetic = []
    for seed in range(n_seeds):
        smap = observe_hmi(SyntheticSun(seed), REAL_DATE, npix=512)
        row, b = _disk_stats(smap)
        synthetic.append(row)
        samples.setdefault("synthetic", []).append(b)
    keys = [k for k in synthetic[0] if k != "map"]
    rows.append(
        {
            "map": f"synthetic, median of {n_seeds} seeds",
            **{k: statistics.median(r[k] for r in synthetic) for k in keys},
        }
    )
    rows.append({"map": "synthetic, min", **{k: min(r[k] for r in synthetic) for k in keys}})
    rows.append({"map": "synthetic, max", **{k: max(r[k] for r in synthetic) for k in keys}})
    samples["synthetic"] = np.concatenate(samples["synthetic"])
    return rows, samples, real


def _limits(smap):
    from sunpy.map.maputils import coordinate_is_on_solar_disk

    disk = coordinate_is_on_solar_disk(all_coordinates_from_map(smap))
    return np.percentile(smap.data[disk & np.isfinite(smap.data)], [0.5, 99.5])


def realism_figure(samples, real_hmi, seed=3):
    """Synthetic AIA 304 / HMI beside the real files, same angular scale; |B| histograms."""
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from astropy.visualization import ImageNormalize, LinearStretch, SqrtStretch
    from matplotlib.colors import Normalize

    aia, hmi = observe_pair(SyntheticSun(seed), REAL_DATE, npix=512)
    panels = [(aia, f"synthetic AIA 304 (seed {seed}), sqrt"), (hmi, "synthetic HMI, +-150 G")]
    real_aia_path = REAL_DATA_DIR / REAL_AIA
    try:
        real_aia = sunpy.map.Map(real_aia_path)
        real_aia = sunpy.map.Map(real_aia.data.astype(np.float32), real_aia.meta).superpixel(
            (8, 8) * u.pix, func=np.mean
        )
        panels.append((real_aia, "real AIA 304, 2021-06-01 (JP2 display bytes)"))
    except Exception as exc:  # glymur or the file may be missing
        print(f"(real AIA 304 not shown: {exc})")
    if real_hmi is not None:
        panels.append((real_hmi.rotate(order=1, missing=np.nan), "real HMI, 2011-12-17, +-150 G"))
    fig = plt.figure(figsize=(18, 12))
    for k, (smap, title) in enumerate(panels):
        index = {0: 1, 1: 2, 2: 4, 3: 5}[k]
        ax = fig.add_subplot(2, 3, index, projection=smap)
        if smap.unit is not None and smap.unit.is_equivalent(u.G):
            norm = Normalize(-150, 150)
            cmap = "gray"
        else:
            _, high = _limits(smap)
            stretch = SqrtStretch() if "synthetic" in title else LinearStretch()
            norm = ImageNormalize(vmin=0, vmax=high, stretch=stretch, clip=True)
            cmap = "sdoaia304"
        smap.plot(axes=ax, norm=norm, cmap=cmap, title=title)
        corners = SkyCoord([-1100, 1100] * u.arcsec, [-1100, 1100] * u.arcsec, frame=smap.coordinate_frame)
        x, y = smap.wcs.world_to_pixel(corners)
        ax.set_xlim(*x)
        ax.set_ylim(*y)
    ax = fig.add_subplot(2, 3, 3)
    bins = np.logspace(-1, 3.6, 60)
    for name, b in samples.items():
        ax.hist(b, bins=bins, density=True, histtype="step", lw=2, label=name)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("|B| on the disk at the 512 px scale (G)")
    ax.set_ylabel("density")
    ax.legend()
    ax.set_title("|B| distributions, 2011-12-17")
    fig.tight_layout()
    OUTPUT.mkdir(exist_ok=True)
    path = OUTPUT / "synthetic_realism.png"
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--seeds", type=int, default=12, help="synthetic Suns in the calibration")
    parser.add_argument("--timing-runs", type=int, default=10, help="pairs per timing")
    args = parser.parse_args(argv)
    print(describe_machine())
    print("\n== Generation time of one 512 px full-disk pair (target < 1 s) ==")
    print_table(
        time_pairs(args.timing_runs), ["pair (512 px)", "new seed median s", "max s", "new time median s"]
    )
    print("\n== Reproducibility ==")
    print("pair for seed 42, 2014-06-01T12:00 bit-for-bit identical:", check_reproducible())
    print(
        f"\n== Calibration against the real HMI magnetogram ({REAL_DATE}, 512 px scale, disk within 0.98 R) =="
    )
    rows, samples, real = calibrate(args.seeds)
    columns = [
        "map",
        "p50",
        "p75",
        "p90",
        "p95",
        "p99",
        "p99.9",
        "flux Mx",
        ">100G %",
        ">500G %",
        "plage MSH",
        "spot MSH",
    ]
    print_table(rows, columns)
    print("(percentiles of |B| in G; flux = total unsigned line-of-sight flux on the disk; areas corrected")
    print(" for foreshortening; the real map also holds its noise, about 0.7 G at this scale)")
    path = realism_figure(samples, real)
    print(f"\nrealism figure: {path}")


if __name__ == "__main__":
    main()

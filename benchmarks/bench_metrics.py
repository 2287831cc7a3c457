"""
Speed of the evaluation metrics.

Prints the wall time of:

* evaluating 100 pairs of 512 px magnetogram maps (validation, per-pair geometry, every
  metric including fluxes, SSIM and the active-region / quiet-Sun variants), the target
  being under 30 s on 2 CPU cores;
* the same 100 pairs as model-grid arrays (geometry cached);
* the whole `run_evaluation` (tables, CSV, 4 comparison figures, flux scatter);
* the disk geometry and total unsigned flux of the real 4096 px HMI map, when
  ``../shared/data/real/`` is present.

Run: ``python benchmarks/bench_metrics.py [n_pairs]``.
"""

import sys
import tempfile
import time
from pathlib import Path

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from astropy.time import Time, TimeDelta
from scipy import ndimage
from sunpy.coordinates import HeliographicStonyhurst, Helioprojective

from sunpy_magnetogan.evaluation import EvaluationPair, evaluate_pairs, run_evaluation
from sunpy_magnetogan.grid import SOLAR_RADIUS, ModelGrid
from sunpy_magnetogan.metrics import disk_geometry, magnetic_flux

SIZE = 512
REAL_HMI = (
    Path(__file__).resolve().parent.parent.parent
    / "shared"
    / "data"
    / "real"
    / "hmi_m_720s_2011-12-17T055810.fits"
)


def make_pairs(n, size=SIZE, seed=0):
    """``n`` pairs of model-grid magnetogram maps from observers along the Earth's orbit."""
    rng = np.random.default_rng(seed)
    grid = ModelGrid(size)
    disk = grid.radius_array() <= 1.0
    start = Time("2014-01-01T00:00:00")
    pairs = []
    for i in range(n):
        date = start + TimeDelta(3.6525 * i * u.day)
        distance = (1 + 0.0167 * np.cos(2 * np.pi * i / 100)) * u.AU
        observer = SkyCoord(
            0 * u.deg,
            7 * np.sin(2 * np.pi * i / 100) * u.deg,
            distance,
            frame=HeliographicStonyhurst,
            obstime=date,
        )
        frame = Helioprojective(observer=observer, obstime=date, rsun=SOLAR_RADIUS)
        scale = np.arcsin(float(SOLAR_RADIUS / distance)) * u.rad.to(u.arcsec) / grid.radius_px
        header = sunpy.map.make_fitswcs_header(
            (size, size),
            SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=frame),
            scale=[scale, scale] * u.arcsec / u.pix,
            unit=u.G,
        )
        smooth = ndimage.gaussian_filter(rng.normal(0, 1, (size, size)), 8) * 8000
        truth = np.where(disk, smooth + rng.normal(0, 8, (size, size)), np.nan)
        generated = np.where(
            disk, 0.9 * ndimage.shift(smooth, (1, -1), order=1) + rng.normal(0, 30, (size, size)), np.nan
        )
        pairs.append(
            EvaluationPair(sunpy.map.Map(truth, header), sunpy.map.Map(generated, header), None, f"p{i:03d}")
        )
    return pairs


def main(n_pairs=100):
    pairs = make_pairs(n_pairs)
    t0 = time.perf_counter()
    table = evaluate_pairs(pairs)
    t_maps = time.perf_counter() - t0
    print(
        f"evaluate_pairs: {n_pairs} pairs of {SIZE} px maps: {t_maps:.2f} s ({1e3 * t_maps / n_pairs:.0f} ms/pair)"
    )
    print(f"  mean pixel CC {np.mean(table['cc']):.3f}, mean R1 {np.mean(table['r1']):.3f}")

    arrays = [
        EvaluationPair(np.nan_to_num(p.truth.data), np.nan_to_num(p.generated.data), None, p.pair_id)
        for p in pairs
    ]
    t0 = time.perf_counter()
    evaluate_pairs(arrays)
    t_arrays = time.perf_counter() - t0
    print(
        f"evaluate_pairs: {n_pairs} pairs of {SIZE} px arrays: {t_arrays:.2f} s ({1e3 * t_arrays / n_pairs:.0f} ms/pair)"
    )

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = run_evaluation(pairs, tmp, n_figures=4)
        t_run = time.perf_counter() - t0
    print(
        f"run_evaluation (tables, CSV, 4 comparison figures, flux scatter): {t_run:.2f} s, {len(result.files)} files"
    )

    if REAL_HMI.is_file():
        hmi = sunpy.map.Map(REAL_HMI)
        np.asarray(hmi.data)
        t0 = time.perf_counter()
        geometry = disk_geometry(hmi)
        t_geom = time.perf_counter() - t0
        t0 = time.perf_counter()
        flux = magnetic_flux(hmi, geometry=geometry)
        t_flux = time.perf_counter() - t0
        print(
            f"real HMI 4096 px: disk geometry {t_geom:.2f} s, flux sums {t_flux:.2f} s; "
            f"total unsigned flux {flux.total_unsigned:.4g}, net {flux.net:.3g}"
        )
    else:
        print(f"real HMI map not found at {REAL_HMI}; skipped")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)

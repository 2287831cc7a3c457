"""
Realism of the synthetic Sun: its field statistics beside published values and a real HMI map.

For four phases of cycle 24 (dates from `sunpy_magnetogan.solar_cycle.SolarCycle`):
minimum (the cycle's start, 2008.9), rising (2011-12-17T05:58, the date of the real HMI map),
maximum (4.2 years after the minimum, the peak of the emergence rate) and declining (7.5
years after the minimum), ``--seeds`` synthetic Suns (seeds 7500-7599: held out of every
split and of the activity bins) are observed by the synthetic HMI (SDO's view, ``--npix``
pixels, 2048 by default: 1 arcsec, the native HMI detector binned 2 x 2), and the same
statistics are measured on the real HMI magnetogram of 2011-12-17 in
``../shared/data/real`` binned to the same pixel size.

Statistics of a line-of-sight magnetogram, on the disk with mu > 0.1:

* ``flux``: total unsigned flux (|B_los| > 10 G; `sunpy_magnetogan.metrics.magnetic_flux`), Mx;
* ``ar_frac``: fraction of it inside the active-region mask (smoothed true |B| > 100 G at
  7 Mm: `sunpy_magnetogan.metrics.activity_masks`, the metrics' mask);
* ``qs``: area-weighted mean |B_los| of the quiet Sun (the rest of the disk), G, and
  ``qs_c`` the same at disk centre (mu > 0.9), and ``qs_lim`` near the limb (0.1 < mu < 0.3);
* ``plage``: mean |B_los| of active-region pixels with 50 G < |B_los| < 1000 G, G;
* ``umbra``: the strongest |B_los| at mu > 0.5, G (a sunspot's umbra when there is one);
* ``polar_N`` / ``polar_S``: mean B_r = B_los / mu over the visible pixels poleward of
  +-60 deg latitude (mu > 0.1), G;
* ``noise``: pixel-to-pixel noise of B_los near disk centre, G
  (`sunpy_magnetogan.synthetic.euv.estimate_field_noise`, the forward model's estimate);
* ``cap_flux`` (synthetic Suns only, whole sphere): unsigned flux of the dominant polarity
  poleward of 70 deg (mean of both hemispheres) on a 0.5 deg Carrington map of B_r, Mx.

Published values are printed with their sources; where none was found the table says so.
Nothing is fitted: this is a report (see the synthetic-Sun guide, section "Realism").

Run: ``python benchmarks/bench_realism.py --seeds 3 --npix 2048``
"""

import argparse
import json
import sys
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import sunpy.map
from sunpy.coordinates import HeliographicStonyhurst

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REAL_DATA_DIR, print_table

from sunpy_magnetogan.metrics import MetricSettings, activity_masks, disk_geometry, magnetic_flux
from sunpy_magnetogan.solar_cycle import SolarCycle, time_from_days
from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi
from sunpy_magnetogan.synthetic.euv import estimate_field_noise
from sunpy_magnetogan.synthetic.projection import geometry_from_wcs_map

REAL_HMI = "hmi_m_720s_2011-12-17T055810.fits"
REAL_DATE = "2011-12-17T05:58:10"
SEED_START = 7500

#: Published values (only those found with a source; see the synthetic-Sun guide).
PUBLISHED = {
    "flux": (
        "5.9e22 Mx (minimum) to 2.4e23 Mx (maximum), cycle 24; HMI features plus Hinode/SOT "
        "internetwork (Jin & Wang 2019, RAA 19, 69); maximum about twice minimum "
        "(Krivova & Solanki 2004, A&A, article aah4754)"
    ),
    "ar_frac": (
        "sunspot/pore features 29 % of the flux at maximum; enhanced network 18 % (min) / 50 % (max), "
        "quiet network 21 % / 9 %, internetwork > 55 % at minimum (Jin & Wang 2019)"
    ),
    "qs": (
        "no source found at HMI resolution; 17-21 G mean unsigned flux density of internetwork at "
        "0.5 arcsec cutoff, disk centre (Dominguez Cerdena et al. 2003, A&A 407, 741)"
    ),
    "plage": "no source found for the mean |B_los| of plage at HMI resolution",
    "umbra": (
        "mean daily maximum umbral field strength 2050 G, no cycle dependence, 2010-2015, IR and HMI "
        "(Livingston & Watson 2015, GRL 42, 9185); >= 4000 G in 0.2 % of 32 000 groups 1917-2004 "
        "(Livingston et al. 2006, Sol. Phys. 239, 41)"
    ),
    "polar": "no source found for the HMI polar B_r in G",
    "cap_flux": (
        "dominant polarity above 70 deg: up to about 1.3e22 Mx at the cycle 24/25 minimum, the other "
        "polarity about 0.5e22 Mx (Hinode SOT/SP polar vector fields 2012-2021, "
        "'Variations of the vector magnetic structures in the solar polar regions observed by Hinode')"
    ),
}

COLUMNS = (
    "map",
    "date",
    "flux",
    "ar_frac",
    "qs",
    "qs_c",
    "qs_lim",
    "plage",
    "umbra",
    "polar_N",
    "polar_S",
    "cap_flux",
    "noise",
)


def phase_dates(cycle=None):
    """The minimum, rising, maximum and declining dates of cycle 24 (ISO strings)."""
    cycle = cycle or SolarCycle()
    start = cycle.cycle_start(24)
    year = 365.25
    return {
        "minimum": time_from_days(start).isot,
        "rising": REAL_DATE,
        "maximum": time_from_days(start + 4.2 * year).isot,
        "declining": time_from_days(start + 7.5 * year).isot,
    }


def magnetogram_statistics(smap, settings=None):
    """The statistics of the module docstring of a line-of-sight magnetogram map."""
    settings = settings or MetricSettings()
    geometry = disk_geometry(smap)
    b = u.Quantity(smap.data, smap.unit).to_value(u.G).astype(np.float64)
    mu = geometry.mu
    disk = geometry.mask(settings.mu_min) & np.isfinite(b)
    area = np.where(disk, geometry.area.to_value(u.cm**2), 0.0)
    active, quiet = activity_masks(
        np.where(disk, b, 0.0),
        disk,
        threshold=settings.ar_threshold,
        sigma=geometry.smoothing_px(settings.ar_smoothing),
    )
    absb = np.abs(np.where(disk, b, 0.0))

    def mean_abs(mask):
        w = np.where(mask, area, 0.0)
        return float((w * absb).sum() / w.sum()) if w.sum() > 0 else np.nan

    total = magnetic_flux(smap, mu_min=settings.mu_min, threshold=settings.threshold)
    ar = magnetic_flux(smap, mask=active, mu_min=settings.mu_min, threshold=settings.threshold)
    plage = active & (absb > 50) & (absb < 1000)
    with np.errstate(invalid="ignore"):
        strong = np.where(disk & (mu > 0.5), absb, 0.0)
    coords = sunpy.map.all_coordinates_from_map(smap)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lat = coords.transform_to(HeliographicStonyhurst(obstime=smap.date)).lat.to_value(u.deg)
    br = np.where(disk, b / np.where(disk, mu, 1.0), np.nan)
    return {
        "flux": float(total.total_unsigned.to_value(u.Mx)),
        "ar_frac": float(ar.total_unsigned / total.total_unsigned),
        "qs": mean_abs(quiet),
        "qs_c": mean_abs(quiet & (mu > 0.9)),
        "qs_lim": mean_abs(quiet & (mu < 0.3)),
        "plage": mean_abs(plage),
        "umbra": float(strong.max()),
        "polar_N": float(np.nanmean(np.where(disk & (lat > 60), br, np.nan))),
        "polar_S": float(np.nanmean(np.where(disk & (lat < -60), br, np.nan))),
        "noise": estimate_field_noise(b, geometry_from_wcs_map(smap)),
    }


def polar_cap_flux(sun, time, *, shape=(360, 720), latitude=70.0):
    """Unsigned flux (Mx) of the dominant polarity poleward of ``latitude``, mean of both caps."""
    smap = sun.carrington_map(time, shape=shape)
    b = smap.data.astype(np.float64)
    lat = np.linspace(-90, 90, shape[0], endpoint=False) + 90.0 / shape[0]
    dlat, dlon = np.deg2rad(180.0 / shape[0]), np.deg2rad(360.0 / shape[1])
    rsun = (1 * u.R_sun).to_value(u.cm)
    area = (rsun**2 * np.cos(np.deg2rad(lat)) * dlat * dlon)[:, np.newaxis]
    caps = []
    for cap in (lat > latitude, lat < -latitude):
        flux = b[cap] * area[cap]
        caps.append(max(flux[flux > 0].sum(), -flux[flux < 0].sum()))
    return float(np.mean(caps))


def real_statistics(npix):
    path = REAL_DATA_DIR / REAL_HMI
    if not path.is_file():
        print(f"real HMI map skipped: {path} not found")
        return None
    hmi = sunpy.map.Map(path)
    factor = hmi.data.shape[0] // npix
    if factor > 1:
        hmi = hmi.superpixel((factor, factor) * u.pix, func=np.nanmean)
    return magnetogram_statistics(hmi)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=3, help="synthetic Suns per phase (1-100)")
    parser.add_argument(
        "--npix", type=int, default=2048, help="synthetic HMI image size (4096: native scale)"
    )
    parser.add_argument("--json", type=Path, help="write the rows and the published values as JSON")
    args = parser.parse_args()
    rows = []
    dates = phase_dates()
    print(f"phases of cycle 24: {dates}; seeds {SEED_START}-{SEED_START + args.seeds - 1}; {args.npix} px")
    for phase, date in dates.items():
        per_seed = []
        for seed in range(SEED_START, SEED_START + args.seeds):
            sun = SyntheticSun(seed)
            stats = magnetogram_statistics(observe_hmi(sun, date, npix=args.npix))
            stats["cap_flux"] = polar_cap_flux(sun, date)
            per_seed.append(stats)
        with warnings.catch_warnings():  # no active-region pixel at minimum: plage is NaN
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = {k: float(np.nanmean([s[k] for s in per_seed])) for k in per_seed[0]}
        rows.append({"map": f"synthetic {phase}", "date": date[:10], **mean})
        print(f"  {phase}: done", flush=True)
    real = real_statistics(args.npix)
    if real is not None:
        rows.append({"map": "real HMI", "date": REAL_DATE[:10], **real})
    print(
        f"\nsynthetic Suns (mean of {args.seeds}) and the real HMI map at {4096 // args.npix}x{4096 // args.npix} binning "
        "(flux Mx, fields G):"
    )
    print_table(rows, COLUMNS)
    print("\npublished values:")
    for key, text in PUBLISHED.items():
        print(f"  {key}: {text}")
    rate = {phase: SolarCycle().emergence_rate(date) for phase, date in dates.items()}
    print("\nrelative emergence rate R of the phases: " + ", ".join(f"{k} {v:.2f}" for k, v in rate.items()))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "published": PUBLISHED, "npix": args.npix}, indent=2))
        print(f"JSON: {args.json}")


if __name__ == "__main__":
    main()

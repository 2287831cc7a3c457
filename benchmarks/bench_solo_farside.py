"""
Farside magnetograms from Solar Orbiter-like EUI/FSI 304 A images, scored against PHI/FDT-like truth.

For ``--n`` views of held-out synthetic Suns (the ``test_euvi`` seeds 1100-1119, dates in
2014), each from a Solar Orbiter-like observer behind the Sun (Stonyhurst longitude 120 to
240 deg, latitude -30 to 30 deg, 0.8 to 1 AU: the synthetic EUVI plate scale keeps the
disk in the field of view from 0.8 AU on), the synthetic Sun is observed in 304 A and in
B_los from the same spacecraft; the images carry the keywords of the EUI/FSI level-2 and
PHI/FDT ``phi-fdt-blos`` products (`sunpy_magnetogan.data.solo`), so sunpy reads the EUV
image as an ``EUIMap``. The model generates a magnetogram from each EUI-like image, which
is scored against the PHI-like truth (put on the HMI scale with a factor of 1: the
synthetic truth is HMI-like):

* all Table 1 metrics (`sunpy_magnetogan.evaluation.summarize`);
* the detection rate of the truth regions holding more than ``--min-flux`` (1e22 Mx) of
  unsigned flux on the visible hemisphere at ``mu >= 0.3`` (their flux-weighted centre),
  and the relative error of the flux of the detections that show them (main detections,
  `sunpy_magnetogan.evaluation.tracking.attribute_detections`), on the generated maps and, as
  the ceiling, on the truth maps.

Run: ``python benchmarks/bench_solo_farside.py --n 20 --npix 256``

``--split test_solo`` scores instead the views of the benchmark split ``test_solo``
(`sunpy_magnetogan.synthetic.BENCHMARK_SPLIT`: seeds 2200-2219, four dates each in
2022-2026, from the analytic Solar Orbiter ephemeris `sunpy_magnetogan.synthetic.solo_observer`)
through the synthetic EUI/FSI and PHI/FDT instruments themselves
(``observe_pair(..., instrument="FSI")``: 512 px windows around the disk, binned on board
as little as holds it). The regions are then also split by where they are: on the far
side (their flux-weighted centre on the hemisphere hidden from the Earth) or not, and the
Table 1 metrics are also given for the views more than 90 deg from the Earth.

Run: ``python benchmarks/bench_solo_farside.py --split test_solo``
"""

import argparse
import sys
import time
from pathlib import Path

import astropy.units as u
import numpy as np
import sunpy.map
import torch
from astropy.time import Time
from sunpy.coordinates import HeliographicCarrington

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import describe_machine

from sunpy_magnetogan.data.solo import is_eui_fsi, is_phi_fdt_blos, phi_to_hmi
from sunpy_magnetogan.evaluation import evaluate_pairs, format_summary, summarize
from sunpy_magnetogan.evaluation.tracking import attribute_detections
from sunpy_magnetogan.generate import generate_magnetogram
from sunpy_magnetogan.synthetic import (
    BENCHMARK_SPLIT,
    SyntheticSun,
    observe_euvi,
    observe_hmi,
    observe_pair,
    sdo_observer,
    stereo_observer,
)
from sunpy_magnetogan.tracking import detect_active_regions
from tests.helpers_solo import EUI_FSI_KEYWORDS, PHI_FDT_BLOS_KEYWORDS, relabel


def views(n, rng):
    for k in range(n):
        seed = 1100 + k % 20
        when = Time("2014-01-01") + rng.uniform(0, 365) * u.day
        observer = stereo_observer(
            when,
            rng.uniform(120, 240) * u.deg,
            lat=rng.uniform(-30, 30) * u.deg,
            distance=rng.uniform(0.8, 1.0) * u.AU,
        )
        yield seed, Time(when.isot[:16]), observer


def _cos_angle(src, observer, when):
    """Cosine of the angle between each source and the sub-observer point."""
    obs = observer.transform_to(HeliographicCarrington(observer=observer, obstime=when))
    lon, lat = np.deg2rad(src.lon), np.deg2rad(src.lat)
    o_lon, o_lat = obs.lon.to_value(u.rad), obs.lat.to_value(u.rad)
    return np.sin(lat) * np.sin(o_lat) + np.cos(lat) * np.cos(o_lat) * np.cos(lon - o_lon)


def truth_regions(sun, when, observer, min_flux, *, farside=None):
    """
    IDs and visible unsigned flux (Mx) of the regions above ``min_flux`` seen at mu >= 0.3.

    With ``farside`` (a dict), ``farside[id]`` says whether the region's flux-weighted
    centre is on the hemisphere hidden from the Earth.
    """
    src = sun.sources(when, network=False)
    cos_angle = _cos_angle(src, observer, when)
    cos_earth = _cos_angle(src, sdo_observer(when), when) if farside is not None else None
    out = {}
    for rid in np.unique(src.region):
        member = (src.region == rid) & (cos_angle > 0)
        flux = np.abs(src.flux[member]).sum()
        if flux <= min_flux:
            continue
        centre = np.average(cos_angle[member], weights=np.abs(src.flux[member]))
        if centre >= 0.3:
            out[int(rid)] = float(flux)
            if farside is not None:
                region = src.region == rid
                farside[int(rid)] = bool(np.average(cos_earth[region], weights=np.abs(src.flux[region])) < 0)
    return out


def detected_flux(smap, regions, sun):
    """``{region ID: unsigned flux (Mx) of its main detection}`` for the detected truth regions."""
    table, labels = detect_active_regions(smap, return_labels=True)
    table = attribute_detections(table, labels, sun)
    main = table[table["truth_main"]]
    out = {}
    for rid in regions:
        rows = main[main["truth_id"] == rid]
        if len(rows):
            out[rid] = float(rows["unsigned_flux"].to_value(u.Mx).sum())
    return out


def truth_and_generated(fsi, phi, model):
    """The PHI-like truth on the HMI scale, and the magnetogram generated from the EUI-like image."""
    assert isinstance(fsi, sunpy.map.sources.EUIMap)
    assert is_eui_fsi(fsi)
    assert is_phi_fdt_blos(phi)
    truth = phi_to_hmi(phi, factor=1.0, reference="synthetic truth (HMI-like)")
    return truth, generate_magnetogram(fsi, model=model, device="cpu")


def found_flux(truth, generated, regions, sun):
    """`detected_flux` on the generated map and on the truth map, keyed ``"generated"``, ``"truth"``."""
    return {
        name: detected_flux(smap, regions, sun) for name, smap in (("generated", generated), ("truth", truth))
    }


def split_views(name):
    """The ``(seed, time, observer)`` views of a benchmark split."""
    for seed, when, _, observer_at in BENCHMARK_SPLIT[name].items(name):
        yield seed, when, observer_at(when)


def report_detections(errors, n_regions, label):
    for name in ("generated", "truth"):
        errs = np.asarray(errors[name])
        rate = errs.size / max(n_regions, 1)
        if errs.size:
            q1, med, q3 = np.percentile(errs, [25, 50, 75])
            flux = f"flux error median {med:+.2f} (IQR {q1:+.2f} .. {q3:+.2f}), mean |error| {np.mean(np.abs(errs)):.2f}"
        else:
            flux = "no detection"
        print(f"  {label:8} {name:9} detected {errs.size:3d} of {n_regions} ({rate:.0%}), {flux}")


def main_split(args):
    """Score a benchmark split seen by the synthetic EUI/FSI and PHI/FDT instruments."""
    pairs, far_pairs = [], []
    regions_by = {"all": 0, "farside": 0}
    errors = {key: {"generated": [], "truth": []} for key in regions_by}
    start = time.perf_counter()
    suns = {}
    for seed, when, observer in split_views(args.split):
        if seed not in suns:
            suns = {seed: SyntheticSun(seed)}
        sun = suns[seed]
        fsi, phi = observe_pair(sun, when, observer, instrument="FSI", npix=args.npix)
        truth, generated = truth_and_generated(fsi, phi, args.model)
        pairs.append((truth, generated))
        if abs(observer.lon.wrap_at(180 * u.deg).to_value(u.deg)) > 90:
            far_pairs.append((truth, generated))
        farside = {}
        regions = truth_regions(sun, when, observer, args.min_flux, farside=farside)
        found = found_flux(truth, generated, regions, sun)
        for key in regions_by:
            keep = [rid for rid in regions if key == "all" or farside[rid]]
            regions_by[key] += len(keep)
            for name, fluxes in found.items():
                errors[key][name] += [fluxes[rid] / regions[rid] - 1 for rid in keep if rid in fluxes]
    seconds = time.perf_counter() - start
    print(
        f"\nsplit {args.split}: {len(pairs)} EUI/FSI-like views, PHI/FDT-like truth, model {args.model!r}, "
        f"{args.npix} px ({seconds:.0f} s)"
    )
    print(format_summary(summarize(evaluate_pairs(pairs, reproject=True, nan_policy="omit"))))
    print(f"\n{len(far_pairs)} views more than 90 deg from the Earth (far side):")
    print(format_summary(summarize(evaluate_pairs(far_pairs, reproject=True, nan_policy="omit"))))
    print(f"\nregions above {args.min_flux:.0e} Mx at mu >= 0.3 (far side: centre hidden from the Earth)")
    print("(flux error: detected / visible truth flux - 1; the truth map's own detections are the ceiling)")
    for key in ("all", "farside"):
        report_detections(errors[key], regions_by[key], key)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--n", type=int, default=20, help="number of views (20)")
    parser.add_argument(
        "--npix",
        type=int,
        default=None,
        help="synthetic image size (256; 512 with --split, the split's size)",
    )
    parser.add_argument("--model", default="default", help="registered model (default)")
    parser.add_argument("--min-flux", type=float, default=1e22, help="regions above, Mx (1e22)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (1)")
    parser.add_argument("--seed", type=int, default=18, help="random views (18)")
    parser.add_argument(
        "--split", choices=sorted(BENCHMARK_SPLIT), help="score this benchmark split (test_solo) instead"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(describe_machine())
    if args.split:
        if BENCHMARK_SPLIT[args.split].instrument != "FSI":
            parser.error(f"{args.split} is not a Solar Orbiter split")
        args.npix = args.npix or 512
        return main_split(args)
    args.npix = args.npix or 256
    rng = np.random.default_rng(args.seed)
    pairs, n_regions = [], 0
    errors = {"generated": [], "truth": []}
    ratios = []
    start = time.perf_counter()
    for seed, when, observer in views(args.n, rng):
        sun = SyntheticSun(seed)
        euv = observe_euvi(sun, when, observer, npix=args.npix)
        exposure = float(euv.meta["exptime"])
        fsi = relabel(euv, {**EUI_FSI_KEYWORDS, "xposure": exposure}, scale=1 / exposure)
        phi = relabel(observe_hmi(sun, when, observer, npix=args.npix), PHI_FDT_BLOS_KEYWORDS)
        truth, generated = truth_and_generated(fsi, phi, args.model)
        pairs.append((truth, generated))
        regions = truth_regions(sun, when, observer, args.min_flux)
        n_regions += len(regions)
        found = found_flux(truth, generated, regions, sun)
        for name, fluxes in found.items():
            errors[name] += [flux / regions[rid] - 1 for rid, flux in fluxes.items()]
        ratios += [
            flux / found["truth"][rid] for rid, flux in found["generated"].items() if rid in found["truth"]
        ]
    seconds = time.perf_counter() - start
    summary = summarize(evaluate_pairs(pairs, reproject=True, nan_policy="omit"))
    print(f"\n{args.n} EUI/FSI-like farside views, model {args.model!r}, {args.npix} px ({seconds:.0f} s)")
    print(format_summary(summary))
    print(f"\nregions above {args.min_flux:.0e} Mx at mu >= 0.3: {n_regions}")
    print("(flux error: detected / visible truth flux - 1; the truth map's own detections are the ceiling)")
    report_detections(errors, n_regions, "all")
    if ratios:
        q1, med, q3 = np.percentile(ratios, [25, 50, 75])
        print(
            f"  generated / truth-map detection flux, same region: median {med:.2f} (IQR {q1:.2f} .. {q3:.2f})"
        )


if __name__ == "__main__":
    main()

"""
Does a non-radial field near the limb matter for ``B_los``? Radial against inclined sunspots.

The synthetic Sun's fields are radial by default (``B_los = mu B_r``). Real sunspot fields
fan out: vertical at the centre, 50-70 deg from the vertical in the penumbra, so near the
limb the limb-side penumbra shows the opposite polarity in ``B_los``. This script observes
the held-out activity Suns (`sunpy_magnetogan.synthetic.activity.activity_samples`) twice
with the same seeds, dates and noise: once radial, once with
``FluxModel(spot_inclination=..., plage_inclination=...)``. The EUV images are the same
(the EUV forward model sees the field's strength, not its inclination). It prints

* how much the inclination changes the truth: the pixel CC between the radial and inclined
  ``B_los``, the fraction of strong pixels (|B_los| > 100 G) whose sign flips, and the
  unsigned flux of the inclined map over the radial one per annulus of ``mu``;
* what it does to a model's scores (pair recipe of `~sunpy_magnetogan.evaluation.activity`):
  pixel CC, R1 and R2 against either truth, per activity bin.

Run: ``python benchmarks/bench_inclination.py --model default --seeds-per-bin 4``
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine, print_table
from bench_activity import load_predictor
from bench_default_model import with_frame

from sunpy_magnetogan.evaluation.activity import evaluate_activity, summarize_activity
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.metrics import MU_EDGES, flux_by_mu, grid_geometry, pixel_cc, sum_flux_by_mu
from sunpy_magnetogan.preprocess import prepare_magnetogram_map
from sunpy_magnetogan.synthetic import FluxModel, SyntheticSun, observe_hmi
from sunpy_magnetogan.synthetic.activity import activity_samples


def truth_change(samples, flux_model, size):
    """Per sample: CC radial vs inclined, the strong pixels' sign flips, and the flux tables by mu."""
    geometry, grid = grid_geometry(size), ModelGrid(size)
    rows, tables = [], []
    for sample in samples:
        maps = [
            observe_hmi(SyntheticSun(sample.seed, flux_model=model), sample.time, npix=size)
            for model in (None, flux_model)
        ]
        radial, inclined = (prepare_magnetogram_map(m, grid=grid) for m in maps)
        disk = radial.disk
        radial, inclined = radial.data, inclined.data
        strong = disk & (np.abs(radial) > 100)
        rows.append(
            {
                "bin": sample.name,
                "seed": sample.seed,
                "cc": pixel_cc(radial, inclined, mask=disk),
                "flipped": float((np.sign(radial[strong]) != np.sign(inclined[strong])).mean())
                if strong.any()
                else np.nan,
            }
        )
        tables.append(flux_by_mu(radial, inclined, geometry, mask=disk))
    return rows, sum_flux_by_mu(tables)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="default", help="registered model name or run directory")
    parser.add_argument("--seeds-per-bin", type=int, default=4, help="synthetic Suns per activity bin")
    parser.add_argument("--size", type=int, default=512, help="model-grid size in pixels")
    parser.add_argument(
        "--spot-inclination", type=float, default=1.0, help="tan of the sunspot inclination at one width"
    )
    parser.add_argument(
        "--plage-inclination", type=float, default=0.2, help="tan of the plage inclination at one width"
    )
    args = parser.parse_args()
    warnings.filterwarnings("ignore", message="AIA degradation correction skipped")
    print(describe_machine())
    inclined = FluxModel(spot_inclination=args.spot_inclination, plage_inclination=args.plage_inclination)
    print(
        f"inclined Sun: spot_inclination {args.spot_inclination}, plage_inclination {args.plage_inclination}"
    )
    samples = activity_samples(args.seeds_per_bin)

    t0 = time.perf_counter()
    rows, table = truth_change(samples, inclined, args.size)
    print(f"\nthe truth, radial against inclined ({len(rows)} Suns, {time.perf_counter() - t0:.0f} s):")
    bins = list(dict.fromkeys(r["bin"] for r in rows))
    print_table(
        [
            {
                "bin": name,
                "cc_radial_inclined": np.nanmean([r["cc"] for r in rows if r["bin"] == name]),
                "strong_px_flipped": np.nanmean([r["flipped"] for r in rows if r["bin"] == name]),
            }
            for name in bins
        ],
        ["bin", "cc_radial_inclined", "strong_px_flipped"],
    )
    print("\nunsigned flux (|B_los| > threshold, B_los / mu), inclined / radial, all Suns:")
    print_table(
        [
            {
                "mu": f"{low:.1f}-{high:.1f}",
                "flux_radial_Mx": float(ft.to_value(u.Mx)),
                "inclined_over_radial": ratio,
            }
            for low, high, ft, ratio in zip(
                table["mu_low"], table["mu_high"], table["flux_true"], table["ratio"], strict=True
            )
        ],
        ["mu", "flux_radial_Mx", "inclined_over_radial"],
    )
    print(f"(annuli edges {MU_EDGES}; the first annulus starts at the limb)")

    predict, euv_normalization, use_frame = load_predictor(args.model)
    scores = {}
    for label, model in (("radial", None), ("inclined", inclined)):
        t0 = time.perf_counter()
        scores[label] = summarize_activity(
            evaluate_activity(
                with_frame(predict, args.size, use_frame),
                samples,
                size=args.size,
                euv_normalization=euv_normalization,
                recipe="pair",
                flux_model=model,
            )
        )
        print(f"scored {args.model} against the {label} truth in {time.perf_counter() - t0:.0f} s")
    print(f"\n{args.model} per activity bin, against the radial and the inclined truth (pair recipe):")
    print_table(
        [
            {
                "bin": r["name"],
                "n": r["n"],
                **{f"{k}_radial": r[k] for k in ("cc", "r1", "r2")},
                **{f"{k}_inclined": i[k] for k in ("cc", "r1", "r2")},
            }
            for r, i in zip(scores["radial"], scores["inclined"], strict=True)
        ],
        ["bin", "n", "cc_radial", "cc_inclined", "r1_radial", "r1_inclined", "r2_radial", "r2_inclined"],
    )


if __name__ == "__main__":
    main()

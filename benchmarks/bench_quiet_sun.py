"""
Quiet-Sun checks of a generator on held-out synthetic pairs (issue #17).

For each pair of a split (``test`` by default) the generated and the true line-of-sight
field are compared in the quiet Sun (`sunpy_magnetogan.metrics.activity_masks`: smoothed
``|B|`` <= 100 G, ``mu > 0.2``):

* grid artefacts: `sunpy_magnetogan.metrics.checkerboard_ratio` of the 64 x 64 px quiet
  patches (``mu > 0.3``), generated and true, power at 2 and 4 px periods over the smooth
  spectrum around it (target: < 3); for reference the same on the real HMI magnetogram
  of 2011-12-17 in ``../shared/data/real`` (full resolution, and binned 8 x 8 to the
  model grid's scale);
* strength: mean quiet-Sun ``|B_los|`` generated / true (target: within 30 %), and the
  mean quiet-Sun ``|B_los| / mu`` by annulus of ``mu`` (`sunpy_magnetogan.metrics.quiet_sun_by_mu`):
  the generated / true ratio at disk centre (``mu`` 0.8-1) over the one at mid-disk
  (``mu`` 0.4-0.6); below 0.9 is a decline towards disk centre.

Run: ``python benchmarks/bench_quiet_sun.py --dataset DIR --model default`` (or ``--run RUN``
for a training run's newest checkpoint; ``--calibrated-strength`` applies a model's strength calibration).
"""

import argparse
import json
import sys
from itertools import pairwise
from pathlib import Path

import astropy.units as u
import numpy as np
import sunpy.map

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REAL_DATA_DIR, add_strength_argument, describe_machine
from bench_default_model import (
    add_source_arguments,
    store_predictor,
)

from sunpy_magnetogan.metrics import (
    activity_masks,
    checkerboard_ratio,
    combine_quiet_sun_by_mu,
    disk_geometry,
    grid_geometry,
    quiet_sun_by_mu,
    quiet_sun_patches,
)

PATCH = 64
MU_EDGES = (0.2, 0.4, 0.6, 0.8, 1.0)


def quiet_masks(truth, geometry, disk):
    """Quiet-Sun mask (mu > 0.2) and the stricter one patches are cut from (mu > 0.3)."""
    _, quiet = activity_masks(truth, mask=disk & geometry.mask(0.2))
    return quiet, quiet & geometry.mask(0.3)


def score_split(store, predict_pair, split, max_pairs):
    """Checkerboard ratios, quiet-Sun strength and its mu profile over one split."""
    geometry = grid_geometry(store.grid_size)
    generated_patches, true_patches, tables = [], [], []
    sum_gen = sum_true = 0.0
    ids = store.ids(split)[:max_pairs]
    for pair_id in ids:
        pair = store.load(pair_id)
        truth = pair["mag"]
        generated = predict_pair(pair["euv"], pair["meta"])
        quiet, patch_mask = quiet_masks(truth, geometry, pair["disk"])
        generated_patches += quiet_sun_patches(generated, patch_mask, size=PATCH)
        true_patches += quiet_sun_patches(truth, patch_mask, size=PATCH)
        tables.append(quiet_sun_by_mu(truth, generated, geometry, quiet, mu_edges=MU_EDGES))
        sum_gen += float(np.abs(generated[quiet]).sum())
        sum_true += float(np.abs(truth[quiet]).sum())
    combined = combine_quiet_sun_by_mu(tables)
    mean_true, mean_gen = combined["mean_true"].value, combined["mean_generated"].value
    ratio = combined["ratio"]
    result = {
        "pairs": len(ids),
        "patches": len(generated_patches),
        "checkerboard_generated": checkerboard_ratio(generated_patches) if generated_patches else None,
        "checkerboard_true": checkerboard_ratio(true_patches) if true_patches else None,
        "quiet_mean_ratio": sum_gen / sum_true,
        "mu_low": list(MU_EDGES[:-1]),
        "mu_high": list(MU_EDGES[1:]),
        "quiet_br_true_G": mean_true.tolist(),
        "quiet_br_generated_G": mean_gen.tolist(),
        "quiet_br_ratio": ratio.tolist(),
        "centre_over_mid": float(ratio[-1] / ratio[1]),
    }
    print(f"split {split!r}: {len(ids)} pairs, {len(generated_patches)} quiet patches of {PATCH} px")
    for label in ("generated", "true"):
        ratios = result[f"checkerboard_{label}"]
        text = "  ".join(f"{p} px: {r:7.2f}" for p, r in ratios.items()) if ratios else "no patch"
        print(f"  checkerboard ratio ({label:9}) {text}   (target < 3)")
    print(f"  quiet-Sun mean |B_los| generated / true: {result['quiet_mean_ratio']:.3f}   (target 0.7-1.3)")
    print("  mu            " + "  ".join(f"{lo:.1f}-{hi:.1f}" for lo, hi in pairwise(MU_EDGES)))
    print("  |B_r| true G  " + "  ".join(f"{v:7.1f}" for v in mean_true))
    print("  |B_r| gen. G  " + "  ".join(f"{v:7.1f}" for v in mean_gen))
    print("  ratio         " + "  ".join(f"{v:7.3f}" for v in ratio))
    print(
        f"  centre (mu 0.8-1) / mid-disk (0.4-0.6) ratio: {result['centre_over_mid']:.3f}"
        "   (>= 0.9: no decline towards disk centre)"
    )
    return result


def hmi_reference():
    """Checkerboard ratios of the real HMI magnetogram's quiet Sun, native and binned 8 x 8."""
    path = REAL_DATA_DIR / "hmi_m_720s_2011-12-17T055810.fits"
    if not path.is_file():
        print(f"HMI reference skipped: {path} not found")
        return None
    result = {}
    hmi = sunpy.map.Map(path)
    for label, smap, sigma in (
        ("native", hmi, 16.0),
        ("binned_8x8", hmi.superpixel((8, 8) * u.pix, func=np.nanmean), 2.0),
    ):
        geometry = disk_geometry(smap)
        data = np.asarray(smap.data, dtype=float)
        _, quiet = activity_masks(data, mask=geometry.mask(0.3) & np.isfinite(data), sigma=sigma)
        patches = quiet_sun_patches(data, quiet, size=PATCH)
        ratios = checkerboard_ratio(patches) if patches else None
        result[label] = ratios
        text = "  ".join(f"{p} px: {r:7.2f}" for p, r in ratios.items()) if ratios else "no patch"
        print(f"  HMI 2011-12-17 {label:10} ({len(patches):4d} patches) checkerboard ratio {text}")
    return result


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_source_arguments(parser)
    parser.add_argument("--splits", nargs="+", default=["test"], help="splits to score (default: test)")
    parser.add_argument("--max-pairs", type=int, default=40, help="at most this many pairs per split")
    add_strength_argument(parser)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    args = parser.parse_args()
    print(describe_machine())
    store, predict_pair = store_predictor(args, strength=args.calibrated_strength)
    results = {split: score_split(store, predict_pair, split, args.max_pairs) for split in args.splits}
    print("reference: real HMI quiet Sun")
    results["hmi_2011_12_17"] = hmi_reference()
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

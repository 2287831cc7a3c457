"""
Does a model know north from south and east from west? Mirror tests of its signs.

In the even-cycle frame (`~sunpy_magnetogan.solar_cycle.CycleFrame`) Hale's law is
antisymmetric under a north-south mirror of the Sun: a region mirrored into the other
hemisphere should get the opposite signs (Joy's tilt, the leading polarity nearer the
equator, mirrors with it). An east-west mirror swaps leading and following polarities,
so it should reverse the signs too (but it breaks Joy's tilt). For every pair of a store,
the script predicts the field of the image (``G(x)``), of its mirror images (``M G(M x)``
for the north-south mirror ``M``, the east-west one and both) and scores:

* the pixel CC between each mirrored prediction and the plain one: near -1 for a model
  that signs regions by their hemisphere and their east-west order, near +1 for one that
  ignores them;
* averages of the plain prediction with the mirrored ones, each mirror sign-corrected
  (``(G(x) - M G(M x)) / 2``; all four): the Table 1 metrics of the test-time average.

Run: ``python benchmarks/bench_symmetry.py --dataset DIR --model default [--split test] [--max-pairs N]``
"""

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine
from bench_default_model import add_source_arguments, source_predictor

from sunpy_magnetogan.evaluation import evaluate_pairs, summarize
from sunpy_magnetogan.metrics import pixel_cc
from sunpy_magnetogan.pairs import PairStore, pair_cycle_frame

#: The mirrors: (name, array view, sign of Hale's law under it in the even-cycle frame).
MIRRORS = (
    ("north-south", (slice(None, None, -1), slice(None)), -1.0),
    ("east-west", (slice(None), slice(None, None, -1)), -1.0),
    ("both (180 deg rotation)", (slice(None, None, -1), slice(None, None, -1)), 1.0),
)


def mirrored_predictions(predict, euv):
    """``G(x)`` and each ``sign * M G(M x)`` of `MIRRORS` (even-cycle frame)."""
    plain = predict(euv)
    return plain, [sign * predict(np.ascontiguousarray(euv[view]))[view] for _, view, sign in MIRRORS]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_source_arguments(parser)
    parser.add_argument("--split", default="test")
    parser.add_argument("--max-pairs", type=int, default=None)
    args = parser.parse_args()
    print(describe_machine())
    predict, _, use_frame = source_predictor(args)
    store = PairStore.open(args.dataset)
    ids = store.ids(args.split)[: args.max_pairs]
    agreement = {name: [] for name, _, _ in MIRRORS}
    variants = {"plain": [], "north-south average": [], "four-way average": []}
    for pid in ids:
        item = store.load(pid)
        truth, disk = item["mag"], item["disk"]
        frame = pair_cycle_frame(item["meta"], store.grid_size).sign if use_frame else 1.0
        plain, mirrored = mirrored_predictions(predict, item["euv"])
        for (name, _, sign), field in zip(MIRRORS, mirrored, strict=True):
            agreement[name].append(sign * pixel_cc(plain, field, mask=disk))  # CC of G(x) with M G(M x)
        fields = (plain, 0.5 * (plain + mirrored[0]), 0.25 * (plain + sum(mirrored)))
        for key, field in zip(variants, fields, strict=True):
            variants[key].append((truth, (field * frame).astype(np.float32)))
    print(f"{len(ids)} {args.split} pairs")
    print("pixel CC of the plain prediction with the mirrored one (mirrored back, sign not corrected):")
    for name, values in agreement.items():
        print(f"  {name}: {np.nanmean(values):+.3f}")
    print("test-time averages (sign-corrected mirrors), Table 1 metrics:")
    print("  field                  pixel CC  flux CC   R1      R2      generated / true flux")
    for key, pairs in variants.items():
        table = evaluate_pairs(pairs, nan_policy="omit")
        summary = {row["key"]: row["mean"] for row in summarize(table)}
        ratio = np.mean(np.asarray(table["flux_generated"] / table["flux_true"]))
        print(
            f"  {key:22s} {summary['cc']:.3f}     {summary['flux_cc']:.3f}     {summary['r1']:.3f}   "
            f"{summary['r2']:.3f}   {ratio:.3f}"
        )


if __name__ == "__main__":
    main()

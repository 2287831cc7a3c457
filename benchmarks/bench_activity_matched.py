"""
Held-out splits compared at the same activity: is a split's lower pixel CC the model's fault?

The synthetic splits sit at different phases of the cycle: ``test_overlap`` (2019-2021)
is a solar minimum, ``test`` and ``test_cycle25`` are mostly active years. On a quiet disk
most of the variance of ``B_los`` is in the quiet-Sun network, whose signs nothing in an EUV
image reveals, so the pixel CC that any EUV model can reach falls with activity. For each
split this script prints

- the model's pixel CC (its cycle frame applied, as ``generate_magnetogram`` does) and the
  CC of ``|B|`` (sign ignored);
- the active-region oracle of ``bench_polarity_bound.py`` (the true field, sign included,
  where the smoothed true ``|B|`` exceeds 50 G or 20 G, 0 G elsewhere), averaged over *all*
  pairs: a pair with no such pixel is scored 0 (an all-zero prediction has no skill), so the
  figure is an upper bound on the mean pixel CC of an EUV-only model;
- the model's pixel CC per activity bin (fraction of on-disk pixels with true ``|B|`` > 100 G),
  and the ``test`` split's CC re-weighted to each split's activity distribution.

Run: ``python benchmarks/bench_activity_matched.py --dataset DIR --model default``
(or ``--run RUN/checkpoints/step-N``); ``--json FILE`` keeps the per-pair figures.
"""

import argparse
import itertools
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine, print_table
from bench_default_model import add_source_arguments, store_predictor
from bench_polarity_bound import active_region_oracle

from sunpy_magnetogan.metrics import pixel_cc

#: Edges of the activity bins: fraction of on-disk pixels with true |B| > 100 G.
EDGES = (0.0, 0.002, 0.004, 0.008, 0.016, 1.0)
STRONG = 100.0  # G


def _cc_or_zero(truth, prediction, disk):
    """Pixel CC on the disk; 0 where the prediction is all zero (no skill)."""
    if not np.any(prediction[disk]):
        return 0.0
    value = pixel_cc(truth, prediction, mask=disk)
    return float(value) if np.isfinite(value) else 0.0


def score_pair(item, meta, predict_pair):
    """The figures of one stored pair (a dict)."""
    truth, disk = item["mag"], item["disk"]
    generated = predict_pair(item["euv"], meta)
    return {
        "pair_id": meta["pair_id"],
        "date": meta["date"],
        "strong_fraction": float(np.mean(np.abs(truth[disk]) > STRONG)),
        "cc": float(pixel_cc(truth, generated, mask=disk)),
        "cc_unsigned": float(pixel_cc(np.abs(truth), np.abs(generated), mask=disk)),
        "oracle_50": _cc_or_zero(truth, active_region_oracle(truth, disk, threshold=50.0), disk),
        "oracle_20": _cc_or_zero(truth, active_region_oracle(truth, disk, threshold=20.0), disk),
    }


def activity_bin(rows):
    """The activity bin index of each row."""
    return np.digitize([r["strong_fraction"] for r in rows], EDGES[1:-1])


def reweighted_cc(reference, rows):
    """Mean CC of ``reference`` rows re-weighted to the activity distribution of ``rows``."""
    ref_bins, bins = activity_bin(reference), activity_bin(rows)
    ref_cc = np.array([r["cc"] for r in reference])
    total, weight = 0.0, 0
    for b in np.unique(bins):
        if np.any(ref_bins == b):
            n = int(np.sum(bins == b))
            total += n * ref_cc[ref_bins == b].mean()
            weight += n
    covered = weight / len(rows)
    return (total / weight if weight else float("nan")), covered


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_source_arguments(parser)
    parser.add_argument("--splits", nargs="+", default=["test", "test_cycle25", "test_overlap"])
    parser.add_argument("--max-pairs", type=int, default=None, help="at most this many pairs per split")
    parser.add_argument("--json", type=Path, help="write the per-pair figures here")
    args = parser.parse_args()
    print(describe_machine())
    store, predict_pair = store_predictor(args)
    rows = {}
    for split in args.splits:
        rows[split] = [
            score_pair(store.load(pid), store.meta(pid), predict_pair)
            for pid in store.ids(split)[: args.max_pairs]
        ]
    reference = rows.get("test")
    summary = []
    for split, split_rows in rows.items():
        if not split_rows:
            continue
        matched, covered = reweighted_cc(reference, split_rows) if reference else (float("nan"), 0.0)
        summary.append(
            {
                "split": f"{split} ({len(split_rows)})",
                "strong px": f"{np.mean([r['strong_fraction'] for r in split_rows]):.4f}",
                "cc": f"{np.mean([r['cc'] for r in split_rows]):.3f}",
                "cc |B|": f"{np.mean([r['cc_unsigned'] for r in split_rows]):.3f}",
                "oracle 50 G": f"{np.mean([r['oracle_50'] for r in split_rows]):.3f}",
                "oracle 20 G": f"{np.mean([r['oracle_20'] for r in split_rows]):.3f}",
                "test at this activity": f"{matched:.3f} ({covered:.0%} of pairs in shared bins)",
            }
        )
    print_table(summary, list(summary[0]))
    print()
    per_bin = []
    for b, (lo, hi) in enumerate(itertools.pairwise(EDGES)):
        row = {"strong px": f"{lo:g}-{hi:g}"}
        for split, split_rows in rows.items():
            in_bin = [r["cc"] for r, k in zip(split_rows, activity_bin(split_rows), strict=True) if k == b]
            row[split] = f"{np.mean(in_bin):.3f} (n={len(in_bin)})" if in_bin else "-"
        per_bin.append(row)
    print("model pixel CC per activity bin (mean over the bin's pairs):")
    print_table(per_bin, list(per_bin[0]))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()

"""
Pick a training run's checkpoint on the validation split.

Scores every checkpoint of a run (and, with ``--model``, registered models) on the ``val``
pairs of a pair store by the rule the shipped models were chosen with: the largest mean
pixel CC plus total unsigned flux CC. Cycle-frame models get each pair's frame from its
date (``--cycle-frame`` applies it to a model trained without it).

Run: ``python benchmarks/select_checkpoint.py --dataset DIR --run RUN [--model default --cycle-frame]``
"""

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine
from bench_default_model import checkpoint_predictor, model_predictor, with_frame

from sunpy_magnetogan.evaluation import StorePairs, evaluate_pairs, summarize
from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.training.checkpoint import list_checkpoints, load_checkpoint


def score(store, predict, split, max_pairs):
    pairs = StorePairs(store, predict, split=split, with_meta=True)
    pairs.ids = pairs.ids[:max_pairs]
    summary = {row["key"]: row["mean"] for row in summarize(evaluate_pairs(pairs, nan_policy="omit"))}
    return summary["cc"], summary["flux_cc"], summary["r1"]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--run", type=Path, help="a training run directory (every checkpoint is scored)")
    parser.add_argument("--model", nargs="*", default=[], help="registered models to score as well")
    parser.add_argument(
        "--cycle-frame", action="store_true", help="apply the cycle frame to the --model ones"
    )
    parser.add_argument(
        "--min-step",
        type=int,
        default=0,
        help="score only the checkpoints of this step or later (default: all)",
    )
    parser.add_argument("--split", default="val")
    parser.add_argument("--max-pairs", type=int, default=None)
    args = parser.parse_args()
    print(describe_machine())
    store = PairStore.open(args.dataset)
    candidates = []
    for name in args.model:
        predict, _, use_frame = model_predictor(name)
        candidates.append((f"model {name}", predict, use_frame or args.cycle_frame))
    if args.run:
        for path in reversed(list_checkpoints(args.run / "checkpoints")):
            if int(path.name.rsplit("-", 1)[-1]) < args.min_step:
                continue
            predict, _, use_frame = checkpoint_predictor(load_checkpoint(path))
            candidates.append((path.name, predict, use_frame))
    rows = []
    print(f"{'candidate':<28}{'pixel CC':>10}{'flux CC':>10}{'R1':>8}{'score':>8}")
    for label, predict, use_frame in candidates:
        cc, flux_cc, r1 = score(
            store, with_frame(predict, store.grid_size, use_frame), args.split, args.max_pairs
        )
        rows.append((cc + flux_cc, label))
        print(f"{label:<28}{cc:>10.3f}{flux_cc:>10.3f}{r1:>8.3f}{cc + flux_cc:>8.3f}", flush=True)
    best = max(rows)
    print(f"best on {args.split!r}: {best[1]} (pixel CC + flux CC = {best[0]:.3f})")


if __name__ == "__main__":
    main()

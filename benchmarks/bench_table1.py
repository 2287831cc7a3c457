"""
The paper's Table 1 on the synthetic benchmark: pyramid vs single-scale pix2pix baselines.

Trains (or reuses) one run per preset with the same data, steps and seed, then evaluates
every run on the held-out ``test`` split (synthetic seeds 1000-1039, all in 2014) and
prints the Table 1 rows side by side: pixel CC, total unsigned flux CC, R1, R2,
RMSE-SSIM (Eq. 9, lower is better), PSNR, plus the binned (8 x 8) CC.

Data set (``--dataset``): made with
``sunpy_magnetogan.synthetic.write_synthetic_dataset(DIR, split="train", max_pairs=400)``
plus the ``test`` split (see benchmarks/README.md for the exact recipe).

Run: ``python benchmarks/bench_table1.py --dataset DIR --runs RUNS_DIR``
(add ``--train`` to train runs that are missing; each compact run takes 20-40 min on 2 cores).
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine
from bench_default_model import checkpoint_predictor, with_frame

from sunpy_magnetogan.evaluation import StorePairs, evaluate_pairs, summarize
from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.training import Trainer, get_preset
from sunpy_magnetogan.training.checkpoint import load_checkpoint

PRESETS = {
    "pix2pix-compact-imagegan": "pix2pix ImageGAN",
    "pix2pix-compact": "pix2pix Patch64",
    "default": "pyramid 64/32/16",
}
ROWS = ["cc", "flux_cc", "r1", "r2", "rmse_ssim", "psnr", "cc_binned"]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--runs", type=Path, required=True, help="folder holding one run folder per preset")
    parser.add_argument("--train", action="store_true", help="train the runs that are missing")
    parser.add_argument("--presets", nargs="+", default=list(PRESETS))
    parser.add_argument("--max-pairs", type=int, default=None, help="evaluate on the first N test pairs")
    args = parser.parse_args()
    print(describe_machine())
    store = PairStore.open(args.dataset)
    print(store)
    summaries = {}
    for preset in args.presets:
        run_dir = args.runs / preset
        model, train = get_preset(preset)
        if args.train and not (run_dir / "checkpoints").exists():
            t0 = time.perf_counter()
            Trainer(model, train, store, run_dir, device="cpu", progress=True).train()
            print(f"trained {preset}: {train.steps} steps in {time.perf_counter() - t0:.0f} s")
        checkpoint = load_checkpoint(run_dir)
        meta = checkpoint["meta"]
        predict, _, use_frame = checkpoint_predictor(checkpoint)
        pairs = StorePairs(
            store, with_frame(predict, store.grid_size, use_frame), split="test", with_meta=True
        )
        if args.max_pairs:
            pairs.ids = pairs.ids[: args.max_pairs]
        t0 = time.perf_counter()
        table = evaluate_pairs(pairs, nan_policy="omit")
        summary = summarize(table)
        summaries[preset] = {row["key"]: (row["mean"], row["std"]) for row in summary}
        print(
            f"{preset}: evaluated {len(pairs)} pairs in {time.perf_counter() - t0:.0f} s "
            f"(trained {meta['train_config']['steps']} steps, {meta.get('elapsed_s', float('nan')):.0f} s)"
        )
    labels = {row["key"]: row["metric"] for row in summary}
    header = f"{'metric':<34}" + "".join(f"{PRESETS.get(p, p):>24}" for p in args.presets)
    print()
    print(header)
    print("-" * len(header))
    for key in ROWS:
        cells = []
        for preset in args.presets:
            mean, std = summaries[preset][key]
            digits = 2 if key == "psnr" else 3
            cells.append(f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if np.isfinite(std) else ""))
        print(f"{labels[key]:<34}" + "".join(f"{c:>24}" for c in cells))


if __name__ == "__main__":
    main()

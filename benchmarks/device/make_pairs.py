"""
The pair store of the one-call GPU run: ``val`` and a larger ``train`` split, within a time budget.

``train`` keeps the benchmark's training dates (1998-06 to 2018-12 without 2014, cycles 23
and 24) on more synthetic Suns: seeds 0-199 (the benchmark's) and 400-999, which no other
split uses, ``--dates-per-seed`` dates each (6: 4800 pairs, the paper's count). ``val`` is
the benchmark's. The store is written in chunks of ``--chunk`` pairs, ``val`` first; once the
next chunk would overrun ``--seconds``, writing stops, and the store holds what was written
(a later run resumes it). Prints one JSON line: pairs per split, seconds, pairs per second.

Run: ``python benchmarks/device/make_pairs.py STORE [--workers N] [--seconds S]``
"""

import argparse
import json
import os
import time
from dataclasses import replace

from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.synthetic import BENCHMARK_SPLIT
from sunpy_magnetogan.synthetic.dataset import write_synthetic_dataset

#: Synthetic Suns of the training split: the benchmark's and 600 that no split uses.
TRAIN_SEEDS = (*range(0, 200), *range(400, 1000))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("store")
    parser.add_argument("--seeds", type=int, default=len(TRAIN_SEEDS), help="how many of the training Suns")
    parser.add_argument("--dates-per-seed", type=int, default=6)
    parser.add_argument("--workers", type=int, default=os.cpu_count())
    parser.add_argument("--seconds", type=float, default=240.0, help="time budget for writing")
    parser.add_argument("--chunk", type=int, default=640, help="pairs per writing call")
    args = parser.parse_args()
    splits = {
        "val": BENCHMARK_SPLIT["val"],
        "train": replace(
            BENCHMARK_SPLIT["train"], seeds=TRAIN_SEEDS[: args.seeds], dates_per_seed=args.dates_per_seed
        ),
    }
    wanted = sum(len(spec.seeds) * spec.dates_per_seed for spec in splits.values())
    start = time.perf_counter()
    written = 0
    while True:
        began = time.perf_counter()
        store = write_synthetic_dataset(args.store, split=splits, max_pairs=args.chunk, workers=args.workers)
        new = len(store) - written
        written = len(store)
        now = time.perf_counter()
        rate = new / (now - began) if new else 0.0
        if written >= wanted or new == 0 or now - start + args.chunk / rate > args.seconds:
            break
    store = PairStore.open(args.store)
    elapsed = time.perf_counter() - start
    summary = {
        "pairs": {name: len(store.ids(name)) for name in splits},
        "wanted": wanted,
        "seconds": round(elapsed, 1),
        "pairs_per_s": round(written / elapsed, 2),
        "workers": args.workers,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

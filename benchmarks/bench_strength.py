"""
The strength calibration of a generator: fitted on ``val``, scored on the held-out splits.

* Fits `sunpy_magnetogan.strength.fit_strength_calibration` (quantile mapping of the
  generated ``|B_los|`` onto the true one by annulus of ``mu``) on the ``val`` split of a
  pair store;
* on each held-out split, prints every Table 1 metric of the raw and of the calibrated
  field (`bench_default_model.synthetic_metrics`) and the quiet-Sun checks
  (`bench_quiet_sun.score_split`: mean strength, its profile in ``mu``, grid artefacts);
* ``--json`` writes the calibration (for the model card) and the figures.

Run: ``python benchmarks/bench_strength.py --dataset DIR --model default``
(``--run RUN`` for a training run's newest checkpoint).
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine
from bench_default_model import (
    add_source_arguments,
    store_predictor,
    synthetic_metrics,
)
from bench_quiet_sun import score_split

from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.strength import fit_strength_calibration


def fit_on(store, predict_pair, split, max_pairs, mu):
    """Fit the strength calibration on the pairs of one split."""

    def pairs():
        for pair_id in store.ids(split)[:max_pairs]:
            pair = store.load(pair_id)
            yield predict_pair(pair["euv"], pair["meta"]), pair["mag"], pair["disk"]

    return fit_strength_calibration(pairs(), mu)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_source_arguments(parser)
    parser.add_argument(
        "--fit-split", default="val", help="split the calibration is fitted on (default: val)"
    )
    parser.add_argument(
        "--splits",
        nargs="+",
        default=["test", "test_cycle25", "test_overlap"],
        help="held-out splits to score (default: test test_cycle25 test_overlap)",
    )
    parser.add_argument("--max-pairs", type=int, default=None, help="at most this many pairs per split")
    parser.add_argument("--json", type=Path, help="write the calibration and the figures as JSON")
    args = parser.parse_args()
    print(describe_machine())
    store, predict_pair = store_predictor(args)
    mu = ModelGrid(store.grid_size).mu_array()
    calibration = fit_on(store, predict_pair, args.fit_split, args.max_pairs, mu)
    print(f"strength calibration fitted on {args.fit_split!r}: {calibration.pixels} pixels")

    def calibrated(euv, meta):
        return calibration.apply(predict_pair(euv, meta), mu)

    results = {"calibration": calibration.to_dict()}
    for split in args.splits:
        if not store.ids(split):
            print(f"split {split!r}: no pairs in {args.dataset}, skipped")
            continue
        results[split] = {}
        for label, function in (("raw", predict_pair), ("calibrated", calibrated)):
            print(f"--- {label} strength")
            results[split][label] = {
                "metrics": synthetic_metrics(store, function, split, args.max_pairs),
                "quiet_sun": score_split(store, function, split, args.max_pairs),
            }
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

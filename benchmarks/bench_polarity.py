"""
Polarity of a generator across the solar cycle, and the calibration of its confidence.

* Fits the polarity calibration (`sunpy_magnetogan.polarity.fit_polarity_calibration`) on
  the ``val`` split of a pair store: the fraction of right signs against the predicted
  field strength, on pixels whose true field is at least 10 G and whose cycle is clear.
* On each held-out split (``test``: 2014; ``test_cycle25``: 2022-2024; ``test_overlap``:
  2019-2021), prints the fraction of right signs (true |B| >= 10 G and >= 100 G) and the
  expected calibration error of the confidence, and draws the reliability diagram
  (``benchmarks/output/polarity_reliability.png``).
* ``--json`` writes the calibration (for the model card) and the figures.

Run: ``python benchmarks/bench_polarity.py --dataset DIR --model default``
(``--run RUN`` for a training run's checkpoint; ``--cycle-frame`` for a model trained
without the frame on cycle-24 dates).
"""

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine
from bench_default_model import OUTPUT, add_source_arguments, source_predictor

from sunpy_magnetogan.evaluation_plots import plot_reliability
from sunpy_magnetogan.pairs import PairStore, pair_cycle_frame
from sunpy_magnetogan.polarity import (
    expected_calibration_error,
    fit_polarity_calibration,
    sign_is_right,
)


def split_predictions(store, predict, split, use_frame, max_pairs):
    """Yield ``(predicted, true, cycle_probability, disk)`` of each pair of a split."""
    for pair_id in store.ids(split)[:max_pairs]:
        pair = store.load(pair_id)
        frame = pair_cycle_frame(pair["meta"], store.grid_size)
        field = predict(pair["euv"])
        if use_frame:
            field = field * frame.sign
        yield field, pair["mag"], frame.probability, pair["disk"]


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_source_arguments(parser)
    parser.add_argument("--cycle-frame", action="store_true", help="apply the cycle frame to any model")
    parser.add_argument("--fit-split", default="val")
    parser.add_argument("--splits", nargs="+", default=["test", "test_cycle25", "test_overlap"])
    parser.add_argument("--max-pairs", type=int, default=None, help="at most this many pairs per split")
    parser.add_argument("--json", type=Path, help="write the calibration and the figures as JSON")
    args = parser.parse_args()
    print(describe_machine())
    predict, _, use_frame = source_predictor(args)
    use_frame = use_frame or args.cycle_frame
    store = PairStore.open(args.dataset)
    print(f"cycle frame: {'applied' if use_frame else 'not applied'}")

    calibration = fit_polarity_calibration(
        split_predictions(store, predict, args.fit_split, use_frame, args.max_pairs)
    )
    print(f"calibration fitted on {calibration.pixels} pixels of {args.fit_split!r}:")
    for lo, q in zip(calibration.field_edges, calibration.right_fraction, strict=True):
        print(f"  |B| >= {lo:6.0f} G: {q:.3f} right")

    results = {"calibration": calibration.to_dict(), "splits": {}}
    curves = {}
    print(f"{'split':<14}{'pairs':>6}{'right >=10 G':>14}{'right >=100 G':>15}{'ECE':>8}")
    for split in args.splits:
        if not store.ids(split):
            print(f"{split:<14} no pairs, skipped")
            continue
        stated, right_all, strong = [], [], []
        n = 0
        for predicted, true, cycle_probability, disk in split_predictions(
            store, predict, split, use_frame, args.max_pairs
        ):
            n += 1
            scored, right = sign_is_right(predicted, true, valid=disk)
            p = calibration.probability(predicted, cycle_probability)
            stated.append(p[scored])
            right_all.append(right[scored])
            strong.append(right[scored & (np.abs(true) >= 100)])
        stated, right_all, strong = (np.concatenate(x) for x in (stated, right_all, strong))
        ece = expected_calibration_error(stated, right_all)
        curves[split] = (stated, right_all)
        row = {
            "pairs": n,
            "right_10G": float(right_all.mean()),
            "right_100G": float(strong.mean()) if strong.size else None,
            "ece": ece,
            "scored_pixels": int(stated.size),
        }
        results["splits"][split] = row
        print(f"{split:<14}{n:>6}{row['right_10G']:>14.3f}{row['right_100G']:>15.3f}{ece:>8.3f}")

    OUTPUT.mkdir(exist_ok=True)
    figure = plot_reliability(curves, title="polarity confidence on held-out synthetic splits")
    figure.savefig(OUTPUT / "polarity_reliability.png", dpi=100)
    print(f"figure: {OUTPUT / 'polarity_reliability.png'}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

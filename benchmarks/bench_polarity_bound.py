"""
How well can ANY EUV-based model do on the synthetic benchmark? An oracle bound.

The synthetic Sun's EUV 304 A brightness depends on |B| and geometry only, never on the
sign of B (as in the real chromosphere, to first order). A model can therefore only infer
polarity statistically, from Hale's law (the leading, western part of a bipole has the
hemisphere's sign) and Joy's law. This script scores an *oracle* that knows the true |B|
exactly and assigns signs with Hale's law: every connected region of smoothed |B| > 20 G
gets the leading sign of its hemisphere west of its flux-weighted centroid and the
opposite sign east of it. No generator that sees only the EUV image can be expected to
beat it by much on pixel CC, whereas unsigned-flux metrics are not limited by the sign.

Run: ``python benchmarks/bench_polarity_bound.py --dataset DIR [--split test] [--max-pairs N]``
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine

from sunpy_magnetogan.evaluation import evaluate_pairs, format_summary, summarize
from sunpy_magnetogan.pairs import PairStore


def hale_oracle(field, *, threshold=20.0, sigma=4.0, north_leading=-1.0):
    """Signs assigned by Hale's law to the true |B| (see the module docstring)."""
    strength = np.abs(field)
    labels, n = ndimage.label(ndimage.gaussian_filter(strength, sigma) > threshold)
    centre = (field.shape[0] - 1) / 2
    out = np.zeros_like(field)
    index = np.arange(1, n + 1)
    weights = ndimage.sum(strength, labels, index)
    xs = ndimage.sum(strength * np.arange(field.shape[1])[np.newaxis, :], labels, index) / weights
    ys = ndimage.sum(strength * np.arange(field.shape[0])[:, np.newaxis], labels, index) / weights
    columns = np.broadcast_to(np.arange(field.shape[1]), field.shape)
    for k, cx, cy in zip(index, xs, ys, strict=True):
        region = labels == k
        lead = north_leading if cy > centre else -north_leading
        out[region] = strength[region] * np.where(columns[region] > cx, lead, -lead)
    return out


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, required=True)
    parser.add_argument("--split", default="test")
    parser.add_argument("--max-pairs", type=int, default=None)
    args = parser.parse_args()
    print(describe_machine())
    store = PairStore.open(args.dataset)
    ids = store.ids(args.split)[: args.max_pairs]
    pairs = []
    for pid in ids:
        item = store.load(pid)
        pairs.append((item["mag"], hale_oracle(item["mag"])))
    table = evaluate_pairs(pairs, nan_policy="omit")
    print(
        f"Hale's-law oracle (true |B|, signs from hemisphere and east/west) on {len(ids)} {args.split} pairs"
    )
    print(format_summary(summarize(table)))


if __name__ == "__main__":
    main()

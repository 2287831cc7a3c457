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

A second, looser bound needs no Hale's-law guess: the quiet-Sun network of the synthetic
Sun has mixed signs drawn from a hash of its supergranular cells, which nothing in the EUV
image reveals. For such pixels the best prediction is 0 G (any other value adds as much
error as it removes, on average). The "active-region oracle" therefore predicts the true
field, sign included, wherever the smoothed |B| exceeds a threshold (50 G: all active
regions and plage) and 0 G elsewhere: no model that sees only the EUV image can beat its
pixel CC, since it would have to know the signs of the network.

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
from sunpy_magnetogan.metrics import activity_masks, pixel_cc
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


def active_region_oracle(field, disk, *, threshold=50.0):
    """The true field in active regions and plage (smoothed |B| > threshold), 0 G elsewhere."""
    active, _ = activity_masks(field, disk, threshold=threshold)
    return np.where(active, field, 0.0)


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
    pairs, disks = [], []
    for pid in ids:
        item = store.load(pid)
        pairs.append((item["mag"], hale_oracle(item["mag"])))
        disks.append(item["disk"])
    table = evaluate_pairs(pairs, nan_policy="omit")
    print(
        f"Hale's-law oracle (true |B|, signs from hemisphere and east/west) on {len(ids)} {args.split} pairs"
    )
    print(format_summary(summarize(table)))
    print()
    for threshold in (50.0, 100.0):
        ccs = np.array(
            [
                pixel_cc(field, active_region_oracle(field, disk, threshold=threshold), mask=disk)
                for (field, _), disk in zip(pairs, disks, strict=True)
            ]
        )
        blank = np.isnan(ccs)  # no pixel above the threshold: an all-zero prediction
        ccs = ccs[~blank]
        print(
            f"Active-region oracle (true field where smoothed |B| > {threshold:g} G, 0 G elsewhere): pixel CC "
            f"{ccs.mean():.3f} +- {ccs.std():.3f} (median {np.median(ccs):.3f}); {np.mean(ccs >= 0.85):.0%} "
            f"of the images reach 0.85"
            + (f" ({blank.sum()} images without such pixels left out)" if blank.any() else "")
        )


if __name__ == "__main__":
    main()

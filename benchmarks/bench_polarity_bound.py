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

Both bounds above read only the true map, so the first is rough: a region is whatever
connected patch the threshold makes, split at its centroid. ``--sources`` scores two
bounds from the synthetic Sun's own sources instead (no pair store needed; the truth is
the split's HMI-like map, made as the pair recipe makes it):

* the *source Hale oracle* knows every active region's sunspots and plage fragments, their
  fluxes and positions, and gives each region the polarities Hale's law expects of it: the
  true ones, except in anti-Hale regions, whose signs it reverses (it also knows which
  cycle each region belongs to, and the orientation of the extra bipole of a complex
  region, which no image shows). The quiet-Sun network is left out (0 G). This is as
  well as a model that sees only the EUV image can do from Hale's law, and better;
* the *source active-region oracle*: the same with the true signs everywhere, i.e. the
  active regions exactly and no network;
* for comparison, a *local Hale rule* on the true ``|B|`` (no sources): every pixel above
  30 G (smoothed over 2 px) gets the leading sign of its latitude's cycle where it lies
  west of the ``|B|``-weighted centroid of its surroundings (a 16 px Gaussian), along
  Joy's tilt, and the following sign east of it.

Run: ``python benchmarks/bench_polarity_bound.py --dataset DIR [--split test] [--max-pairs N]``
or ``python benchmarks/bench_polarity_bound.py --sources [--split test] [--max-pairs N]``
"""

import argparse
import dataclasses
import sys
from pathlib import Path

import astropy.units as u
import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine

from sunpy_magnetogan.evaluation import evaluate_pairs, format_summary, summarize
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.metrics import activity_masks, pixel_cc
from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.preprocess import prepare_magnetogram_map
from sunpy_magnetogan.solar_cycle import cycle_frame
from sunpy_magnetogan.synthetic import BENCHMARK_SPLIT, FluxModel, SyntheticSun, observe_hmi, observer_view


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


def hale_sources(sun, time):
    """The active-region sources of ``sun`` at ``time`` with the signs Hale's law expects of them."""
    sources = sun.sources(time, network=False)
    regions = sun.active_regions(time, min_flux=0 * u.Mx)
    anti = np.isin(sources.region, np.asarray(regions["id"])[~np.asarray(regions["hale"], dtype=bool)])
    return dataclasses.replace(sources, flux=np.where(anti, -sources.flux, sources.flux)), sources


def local_hale_rule(field, latitude, time, *, sigma=16.0, threshold=30.0):
    """
    Signs for the true ``|B|`` from each pixel's place in its neighbourhood (module docstring).

    Parameters
    ----------
    field : numpy.ndarray
        The true field on the model grid (G; NaN off the disk).
    latitude : numpy.ndarray
        Heliographic latitude of every pixel (deg; NaN off the disk); rows run south to north.
    time : `~astropy.time.Time` or str
        The date (it sets each latitude's cycle).
    """
    strength = np.abs(np.nan_to_num(field))
    strength = np.where(ndimage.gaussian_filter(strength, 2.0) > threshold, strength, 0.0)
    rows, columns = np.indices(field.shape, dtype=np.float64)
    weight = ndimage.gaussian_filter(strength, sigma) + 1e-9
    dx = columns - ndimage.gaussian_filter(strength * columns, sigma) / weight
    dy = rows - ndimage.gaussian_filter(strength * rows, sigma) / weight
    lat = np.nan_to_num(latitude)
    hemisphere = np.sign(lat)
    # Joy's law as the synthetic Sun draws it: the leading side nearer the equator.
    tilt = np.deg2rad(FluxModel().joy_amplitude * np.sin(np.deg2rad(np.abs(lat))))
    west_of_centre = np.sign(dx * np.cos(tilt) - hemisphere * dy * np.sin(tilt))
    # Even-cycle frame: the leading polarity is negative in the north.
    return strength * -hemisphere * west_of_centre * cycle_frame(latitude * u.deg, time).sign


def source_oracles(split, max_pairs=None, npix=512):
    """
    Pixel CC of the source oracles (module docstring) on the pairs of a benchmark split.

    Returns
    -------
    dict of numpy.ndarray
        ``hale``, ``active`` and ``local_rule``: one CC per pair; ``anti_hale_share``: the
        share of the active regions' unsigned flux on the disk in anti-Hale regions.
    """
    grid = ModelGrid()
    out = {"hale": [], "active": [], "local_rule": [], "anti_hale_share": []}
    for seed, time, _, observer in BENCHMARK_SPLIT[split].items(split)[:max_pairs]:
        sun = SyntheticSun(seed)
        where = observer(time)
        truth = prepare_magnetogram_map(observe_hmi(sun, time, where, npix=npix), grid=grid)
        latitude = grid.latitude_array(observer_view(where, time)[1] * u.deg).to_value(u.deg)
        rule = local_hale_rule(truth.data, latitude, time)
        out["local_rule"].append(pixel_cc(truth.data, rule, mask=truth.disk))
        hale, active = hale_sources(sun, time)
        for key, sources in (("hale", hale), ("active", active)):
            oracle = prepare_magnetogram_map(
                observe_hmi(sun, time, where, npix=npix, noise=False, sources=sources), grid=grid
            )
            out[key].append(pixel_cc(truth.data, oracle.data, mask=truth.disk))
        out["anti_hale_share"].append(
            np.abs(active.flux[hale.flux != active.flux]).sum() / np.abs(active.flux).sum()
        )
    return {key: np.asarray(value) for key, value in out.items()}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--dataset", type=Path, help="pair store (the threshold oracles)")
    parser.add_argument("--sources", action="store_true", help="the source oracles instead (no store needed)")
    parser.add_argument("--split", default="test")
    parser.add_argument("--max-pairs", type=int, default=None)
    args = parser.parse_args()
    if args.dataset is None and not args.sources:
        parser.error("give --dataset DIR or --sources")
    print(describe_machine())
    if args.sources:
        ccs = source_oracles(args.split, args.max_pairs)
        n = len(ccs["hale"])
        print(f"Source oracles on {n} {args.split} pairs (pixel CC, mean +- std, median):")
        for key, label in (
            ("hale", "source Hale oracle"),
            ("active", "source active-region oracle"),
            ("local_rule", "local Hale rule on the true |B|"),
        ):
            values = ccs[key][np.isfinite(ccs[key])]  # NaN: nothing above the rule's threshold
            left_out = (
                f" ({n - values.size} pairs without a signed pixel left out)" if values.size < n else ""
            )
            print(f"  {label}: {values.mean():.3f} +- {values.std():.3f} ({np.median(values):.3f}){left_out}")
        share = ccs["anti_hale_share"]
        print(
            f"  active-region flux in anti-Hale regions: {share.mean():.1%} (median {np.median(share):.1%})"
        )
        return
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

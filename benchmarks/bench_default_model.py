"""
Quality of a generator on the held-out synthetic seeds and on the semi-real HMI pair.

* Table 1 metrics on the held-out splits of a pair store (``test``: seeds 1000-1039 in
  2014, never seen in training; ``test_cycle25``: cycle 25, 2022-2024; ``test_overlap``:
  2019-2021, old and new cycle together; any split with ``--splits``), for a training run
  (``--run``) or a registered model (``--model``, e.g. the shipped ``default``). Models
  with a cycle frame get each pair's frame from its date; ``--cycle-frame`` applies the
  frame to a model that was trained without it (a model trained on cycle-24 dates only
  predicts the even-cycle frame), ``--no-cycle-frame`` leaves it out; ``--calibrated-strength``
  applies a model's strength calibration (`sunpy_magnetogan.strength`), as
  ``generate_magnetogram(strength="calibrated")`` does;
* the centre-to-limb check on the same pairs: generated / true unsigned flux in annuli of
  ``mu`` (`sunpy_magnetogan.metrics.flux_by_mu`), which should not depend on ``mu``;
* the semi-real pair: the real HMI magnetogram of 2011-12-17 in ``../shared/data/real``,
  binned 8 x 8, with its AIA 304 A image made by the synthetic Sun's forward model
  (`sunpy_magnetogan.synthetic.euv304_from_magnetogram`); metrics and a comparison figure
  (saved to ``benchmarks/output/semireal_comparison.png``).

Run: ``python benchmarks/bench_default_model.py --dataset DIR --model default``
"""

import argparse
import json
import sys
from pathlib import Path

import astropy.units as u
import numpy as np
import sunpy.map
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REAL_DATA_DIR, add_strength_argument, describe_machine

from sunpy_magnetogan.data.inputs import SYNTHETIC_PREPARATION, prepare_input_map
from sunpy_magnetogan.evaluation import StorePairs, evaluate_pairs, format_summary, summarize
from sunpy_magnetogan.evaluation_plots import plot_comparison
from sunpy_magnetogan.generate import load_model
from sunpy_magnetogan.metrics import compare_maps, flux_by_mu, grid_geometry, sum_flux_by_mu
from sunpy_magnetogan.output import magnetogram_map
from sunpy_magnetogan.pairs import PairStore, pair_cycle_frame
from sunpy_magnetogan.preprocess import prepare_magnetogram_map

OUTPUT = Path(__file__).resolve().parent / "output"
KEYS = ("cc", "cc_binned", "flux_cc", "r1", "r2", "rmse_ssim", "rmse", "ssim", "psnr", "cc_ar", "flux_cc_ar")


def run_predictor(run):
    """``(predict(euv), euv_normalization, cycle_frame)`` of a run's newest (or given) checkpoint."""
    from sunpy_magnetogan.training.checkpoint import load_checkpoint

    return checkpoint_predictor(load_checkpoint(run))


def checkpoint_predictor(checkpoint):
    """``(predict(euv), euv_normalization, cycle_frame)`` of a checkpoint read by ``load_checkpoint``."""
    from sunpy_magnetogan.normalization import (
        EUVNormalization,
        MagnetogramNormalization,
        euv_normalization_from_dict,
    )
    from sunpy_magnetogan.training.checkpoint import generator_from_checkpoint

    generator, config = generator_from_checkpoint(checkpoint)
    meta = checkpoint["meta"]
    norm = MagnetogramNormalization.from_dict(meta["normalization"])
    euv = meta.get("euv_normalization")
    euv_norm = euv_normalization_from_dict(euv) if euv else EUVNormalization()

    def predict(euv):
        with torch.inference_mode():
            return norm.inverse(generator(torch.from_numpy(euv)[None, None])[-1][0, 0]).numpy()

    return predict, euv_norm, config.cycle_frame


def model_predictor(name, *, strength=False):
    """
    ``(predict(euv), euv_normalization, cycle_frame)`` of a registered model (frame sign not applied).

    With ``strength`` the model card's strength calibration is applied (as
    ``generate_magnetogram(strength="calibrated")`` does), when the card has one.
    """
    loaded = load_model(name, device="cpu")
    ones = np.ones(loaded.grid.shape, dtype=np.float32)
    calibration = loaded.strength if strength else None
    mu = loaded.grid.mu_array()

    def predict(euv):
        field = loaded.predict(euv[np.newaxis], frame=ones)[0]
        return field if calibration is None else calibration.apply(field, mu)

    return predict, loaded.euv_normalization, loaded.cycle_frame


def expected_field_predictor(name, grid_size):
    """
    ``(predict_pair(euv, meta), euv_normalization)``: a registered model's field times ``2p - 1``.

    ``p`` is the model card's calibrated polarity confidence, so the product is the
    field's expectation under the sign uncertainty (the least-squares field); 0 G where
    ``p`` is undefined. The cycle frame sign is applied.
    """
    loaded = load_model(name, device="cpu")
    if loaded.polarity is None:
        raise SystemExit(f"model {name!r} has no polarity calibration in its card")
    ones = np.ones(loaded.grid.shape, dtype=np.float32)

    def predict_pair(euv, meta):
        frame = pair_cycle_frame(meta, grid_size)
        field = loaded.predict(euv[np.newaxis], frame=ones)[0] * frame.sign
        probability = loaded.polarity.probability(field, frame.probability)
        return np.where(np.isfinite(probability), field * (2 * probability - 1), 0.0)

    return predict_pair, loaded.euv_normalization


def add_source_arguments(parser):
    """``--dataset`` (a pair store) and one of ``--run`` / ``--model`` (the generator to score)."""
    parser.add_argument("--dataset", type=Path, required=True, help="a pair store")
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--run", type=Path, help="a training run directory (its newest checkpoint) or one checkpoint"
    )
    source.add_argument("--model", help="a registered model name")


def source_predictor(args, *, strength=False):
    """``(predict(euv), euv_normalization, cycle_frame)`` of ``--run`` or ``--model`` (see `model_predictor`)."""
    return run_predictor(args.run) if args.run else model_predictor(args.model, strength=strength)


def store_predictor(args, *, strength=False):
    """``(store, predict_pair)``: the ``--dataset`` pair store and `with_frame` of `source_predictor`."""
    predict, _, use_frame = source_predictor(args, strength=strength)
    store = PairStore.open(args.dataset)
    return store, with_frame(predict, store.grid_size, use_frame)


def with_frame(predict, grid_size, use_frame):
    """``predict(euv, meta)``: the field in Gauss, multiplied by the pair's frame sign when ``use_frame``."""

    def predict_pair(euv, meta):
        field = predict(euv)
        return field * pair_cycle_frame(meta, grid_size).sign if use_frame else field

    return predict_pair


def synthetic_metrics(store, predict, split, max_pairs):
    pairs = StorePairs(store, predict, split=split, with_meta=True)
    pairs.ids = pairs.ids[:max_pairs]
    summary = summarize(evaluate_pairs(pairs, nan_policy="omit"))
    print(f"held-out synthetic split {split!r} ({len(pairs)} pairs, 512 px full disk):")
    print(format_summary(summary))
    return {row["key"]: [float(row["mean"]), float(row["std"])] for row in summary if row["key"] in KEYS}


def centre_to_limb(store, predict, max_pairs):
    """Generated / true unsigned flux in annuli of mu, summed over the test pairs."""
    geometry = grid_geometry(store.grid_size)
    ids = store.ids("test")[:max_pairs]
    tables = []
    for pair_id in ids:
        pair = store.load(pair_id)
        tables.append(
            flux_by_mu(pair["mag"], predict(pair["euv"], pair["meta"]), geometry, mask=pair["disk"])
        )
    totals = sum_flux_by_mu(tables)
    ratio = totals["ratio"]
    print(f"centre-to-limb: generated / true unsigned flux (B_los / mu) by mu, summed over {len(ids)} pairs:")
    print(
        "  mu      "
        + "  ".join(f"{lo:.1f}-{hi:.1f}" for lo, hi in zip(totals["mu_low"], totals["mu_high"], strict=True))
    )
    print("  ratio   " + "  ".join(f"{r:7.2f}" for r in ratio))
    print(
        f"  limb (first annulus) / disk centre (last): {ratio[0] / ratio[-1]:.2f} (1 when the model keeps mu)"
    )
    return {
        f"{lo:.1f}-{hi:.1f}": float(r)
        for lo, hi, r in zip(totals["mu_low"], totals["mu_high"], ratio, strict=True)
    }


def semireal_metrics(predict, euv_normalization, use_frame):
    from sunpy_magnetogan.synthetic import euv304_from_magnetogram

    path = REAL_DATA_DIR / "hmi_m_720s_2011-12-17T055810.fits"
    if not path.is_file():
        print(f"semi-real pair skipped: {path} not found")
        return None
    hmi = sunpy.map.Map(path).superpixel((8, 8) * u.pix, func=np.nanmean)
    aia = euv304_from_magnetogram(hmi, instrument="AIA", rng=0)
    euv = prepare_input_map(aia, normalization=euv_normalization, preparation=SYNTHETIC_PREPARATION)
    truth = prepare_magnetogram_map(hmi)
    meta = {"date": hmi.date.isot, "hglt_obs": hmi.observer_coordinate.lat.to_value(u.deg)}
    generated_field = predict(euv.data)
    if use_frame:
        generated_field = generated_field * pair_cycle_frame(meta, euv.data.shape[0]).sign
    generated = magnetogram_map(generated_field, euv.geometry, model_name="evaluated", valid=euv.disk)
    truth_map = magnetogram_map(truth.data, truth.geometry, model_name="HMI 2011-12-17", valid=truth.disk)
    metrics = compare_maps(truth_map, generated, nan_policy="omit")
    OUTPUT.mkdir(exist_ok=True)
    figure = plot_comparison(
        truth_map, generated, input=aia, title="semi-real pair: HMI 2011-12-17 and its synthetic AIA 304"
    )
    figure.savefig(OUTPUT / "semireal_comparison.png", dpi=100)
    print("semi-real pair (real HMI 2011-12-17 binned 8x8, synthetic AIA 304 from it):")
    keys = ("cc", "cc_binned", "r1", "r2", "rmse_ssim", "psnr", "flux_true", "flux_generated")
    for key in keys:
        value = metrics[key]
        print(
            f"  {key:<15} {value:.3e}" if isinstance(value, u.Quantity) else f"  {key:<15} {float(value):.3f}"
        )
    print(f"  figure: {OUTPUT / 'semireal_comparison.png'}")
    return {k: float(u.Quantity(metrics[k]).value) for k in keys}


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_source_arguments(parser)
    parser.add_argument("--max-pairs", type=int, default=None, help="at most this many pairs per split")
    parser.add_argument(
        "--splits",
        nargs="+",
        default=["test", "test_cycle25", "test_overlap"],
        help="held-out splits to score (default: test test_cycle25 test_overlap, those present)",
    )
    frame = parser.add_mutually_exclusive_group()
    frame.add_argument("--cycle-frame", action="store_true", help="apply the cycle frame to any model")
    frame.add_argument("--no-cycle-frame", action="store_true", help="never apply the cycle frame")
    add_strength_argument(parser)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON (for a model card)")
    args = parser.parse_args()
    print(describe_machine())
    predict, euv_normalization, use_frame = source_predictor(args, strength=args.calibrated_strength)
    use_frame = (use_frame or args.cycle_frame) and not args.no_cycle_frame
    print(f"cycle frame: {'applied' if use_frame else 'not applied'}")
    store = PairStore.open(args.dataset)
    stored = store.attrs.get("euv_normalization")
    if stored is not None and stored != euv_normalization.to_dict():
        parser.error(
            f"{args.dataset} holds EUV images normalised with {stored}, the model expects {euv_normalization.to_dict()}"
        )
    predict_pair = with_frame(predict, store.grid_size, use_frame)
    results = {}
    for split in args.splits:
        if not store.ids(split):
            print(f"split {split!r}: no pairs in {args.dataset}, skipped")
            continue
        key = "synthetic_test" if split == "test" else f"synthetic_{split}"
        results[key] = synthetic_metrics(store, predict_pair, split, args.max_pairs)
    if store.ids("test"):
        results["flux_ratio_by_mu"] = centre_to_limb(store, predict_pair, args.max_pairs)
    results["semi_real_hmi_2011_12_17"] = semireal_metrics(predict, euv_normalization, use_frame)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

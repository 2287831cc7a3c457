"""
Semi-real evaluation of a model over activity levels, from solar minimum to maximum.

* Held-out synthetic Suns (`sunpy_magnetogan.synthetic.activity.activity_samples`: seeds
  7000-7499, never in a training or benchmark split) at dates of cycles 23-25 sorted into
  five bins of the relative emergence rate ``R`` (a sunspot-number-like activity, 1 at the
  peak of a cycle of amplitude 1; `~sunpy_magnetogan.synthetic.activity.ACTIVITY_BINS`:
  minimum < 0.1, low 0.1-0.3, moderate 0.3-0.55, high 0.55-0.8, maximum >= 0.8). The
  synthetic HMI magnetogram is the truth; the model's input is the AIA 304 A image made
  from it by the package's forward model (``--recipe semireal``, default: the semi-real
  recipe of real maps) or the synthetic AIA image of the same Sun (``--recipe pair``: the
  training recipe).
* The known real pair: the HMI magnetogram of 2011-12-17 in ``../shared/data/real``, binned
  8 x 8, with its AIA 304 A image made by the forward model (as in
  ``bench_default_model.py``).

Every pair is scored with `sunpy_magnetogan.metrics.pair_metrics`; the table gives per bin
the mean true total unsigned flux (|B_los| > 10 G, mu > 0.1), pixel CC (mean and median),
binned CC, R1, R2 (mean and median),
generated / true total unsigned flux, RMSE-SSIM, PSNR and the quiet-Sun mean |B_los|
(generated / true; quiet Sun: smoothed true |B| < 100 G at 7 Mm, the metrics' mask).

Run: ``python benchmarks/bench_activity.py --model default --seeds-per-bin 4 --size 512``
(``--model`` also takes a training run or checkpoint directory).
"""

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import sunpy.map

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REAL_DATA_DIR, add_strength_argument, describe_machine, print_table
from bench_default_model import expected_field_predictor, model_predictor, run_predictor, with_frame

from sunpy_magnetogan.evaluation.activity import (
    evaluate_activity,
    quiet_sun_mean_field,
    semireal_inputs,
    summarize_activity,
)
from sunpy_magnetogan.metrics import grid_geometry, pair_metrics
from sunpy_magnetogan.synthetic.activity import ACTIVITY_BINS, activity_samples

REAL_HMI = "hmi_m_720s_2011-12-17T055810.fits"
COLUMNS = (
    "bin",
    "name",
    "n",
    "R",
    "flux_true_Mx",
    "cc",
    "cc_median",
    "cc_binned",
    "r1",
    "r2",
    "r2_median",
    "flux_ratio",
    "qs_true_G",
    "qs_ratio",
    "rmse_ssim",
    "psnr",
)


def load_predictor(model, *, strength=False):
    """
    ``(predict(euv), euv_normalization, cycle_frame)`` of a registered model or a run/checkpoint path.

    With ``strength`` a registered model's strength calibration is applied (as
    ``generate_magnetogram(strength="calibrated")`` does); a run has none.
    """
    if Path(model).exists():
        return run_predictor(Path(model))
    return model_predictor(model, strength=strength)


def real_pair(predict_pair, euv_normalization, size):
    """Metrics of the semi-real HMI 2011-12-17 pair, or None when the file is absent."""
    path = REAL_DATA_DIR / REAL_HMI
    if not path.is_file():
        print(f"real pair skipped: {path} not found")
        return None
    hmi = sunpy.map.Map(path).superpixel((8, 8) * u.pix, func=np.nanmean)
    euv, truth, disk = semireal_inputs(hmi, size=size, euv_normalization=euv_normalization, rng=0)
    meta = {"date": hmi.date.isot, "hglt_obs": hmi.observer_coordinate.lat.to_value(u.deg)}
    generated = np.where(disk, predict_pair(euv, meta), 0.0)
    geometry = grid_geometry(size)
    metrics = pair_metrics(truth, generated, geometry, mask=disk)
    qs_true, qs_gen = quiet_sun_mean_field(truth, generated, geometry, mask=disk)
    out = {
        k: float(u.Quantity(metrics[k]).value) for k in ("cc", "cc_binned", "r1", "r2", "rmse_ssim", "psnr")
    }
    out["flux_true"] = float(metrics["flux_true"].to_value(u.Mx))
    out["flux_generated"] = float(metrics["flux_generated"].to_value(u.Mx))
    out["flux_ratio"] = out["flux_generated"] / out["flux_true"]
    out["qs_true"], out["qs_generated"], out["qs_ratio"] = qs_true, qs_gen, qs_gen / qs_true
    return out


def table_rows(summary, real):
    rows = [
        {
            "bin": s["bin"],
            "name": s["name"],
            "n": s["n"],
            "R": s["rate"],
            "flux_true_Mx": s["flux_true"],
            "cc": s["cc"],
            "cc_median": s["cc_median"],
            "r2_median": s["r2_median"],
            "cc_binned": s["cc_binned"],
            "r1": s["r1"],
            "r2": s["r2"],
            "flux_ratio": s["flux_ratio"],
            "qs_true_G": s["qs_true"],
            "qs_ratio": s["qs_ratio"],
            "rmse_ssim": s["rmse_ssim"],
            "psnr": s["psnr"],
        }
        for s in summary
    ]
    if real is not None:
        rows.append(
            {
                "bin": "real",
                "name": "HMI 2011-12-17",
                "n": 1,
                "flux_true_Mx": real["flux_true"],
                **{
                    k: real[k]
                    for k in ("cc", "cc_binned", "r1", "r2", "flux_ratio", "qs_ratio", "rmse_ssim", "psnr")
                },
                "qs_true_G": real["qs_true"],
            }
        )
    return rows


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--model", default="default", help="registered model name or run/checkpoint directory"
    )
    parser.add_argument(
        "--seeds-per-bin", type=int, default=4, help="synthetic Suns per activity bin (1-100)"
    )
    parser.add_argument(
        "--size", type=int, default=512, help="model-grid (and instrument image) size in pixels"
    )
    parser.add_argument(
        "--recipe", choices=("semireal", "pair"), default="semireal", help="how the EUV input is made"
    )
    parser.add_argument("--no-real", action="store_true", help="skip the real HMI 2011-12-17 pair")
    add_strength_argument(parser)
    parser.add_argument(
        "--expected-field",
        action="store_true",
        help="score a registered model's field times 2p - 1 (p: its polarity confidence) instead",
    )
    parser.add_argument("--json", type=Path, help="write the per-pair rows and the per-bin summary as JSON")
    args = parser.parse_args()
    # Dates before SDO (1996-2010) have no AIA degradation table; the normalisation cancels it.
    warnings.filterwarnings("ignore", message="AIA degradation correction skipped")
    print(describe_machine())
    if args.expected_field:
        predict_pair, euv_normalization = expected_field_predictor(args.model, args.size)
        field = "expected field B (2p - 1)"
    else:
        predict, euv_normalization, use_frame = load_predictor(args.model, strength=args.calibrated_strength)
        predict_pair = with_frame(predict, args.size, use_frame)
        field = f"cycle frame {'applied' if use_frame else 'not applied'}"
    print(
        f"model {args.model}: {field}; recipe {args.recipe}; "
        f"{args.size} px grid; {args.seeds_per_bin} Suns per bin"
    )
    print("bins of R: " + ", ".join(f"{b.name} [{b.low}, {b.high})" for b in ACTIVITY_BINS))
    samples = activity_samples(args.seeds_per_bin)
    t0 = time.perf_counter()
    rows = evaluate_activity(
        predict_pair,
        samples,
        size=args.size,
        euv_normalization=euv_normalization,
        recipe=args.recipe,
    )
    elapsed = time.perf_counter() - t0
    summary = summarize_activity(rows)
    real = None if args.no_real else real_pair(predict_pair, euv_normalization, args.size)
    print(f"\nper activity bin (means over the Suns of each bin; {len(rows)} pairs in {elapsed:.0f} s):")
    print_table(table_rows(summary, real), COLUMNS)
    worst = [s["name"] for s in summary if s["r2"] >= 1]
    print(f"\nbins with mean R2 >= 1: {', '.join(worst) if worst else 'none'}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "model": args.model,
                    "recipe": args.recipe,
                    "size": args.size,
                    "seeds_per_bin": args.seeds_per_bin,
                    "bins": [{"name": b.name, "low": b.low, "high": b.high} for b in ACTIVITY_BINS],
                    "summary": summary,
                    "pairs": rows,
                    "semi_real_hmi_2011_12_17": real,
                },
                indent=2,
            )
        )
        print(f"JSON: {args.json}")


if __name__ == "__main__":
    main()

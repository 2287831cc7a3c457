"""
What an earlier magnetogram adds to the polarities of generated magnetograms.

On synthetic Suns seen over time (seeds ``--seeds``, dates ``--dates`` in cycle 25 by
default), two settings:

* ``farside``: the far side (an EUVI-like observer at Stonyhurst longitude 180 deg) with,
  as prior, the frontside HMI-like magnetogram of half a rotation earlier (13.6 days), when
  the far side's regions last faced Earth;
* ``frontside``: SDO with, as prior, the frontside magnetogram of one rotation earlier
  (27.3 days).

For each, the pixel CC against the truth of the pixels of regions that survived the lag
(true ``|B_los| >= 50 G`` now, and the prior sees the place), without and with the prior,
and the fraction of right signs there; the polarity confidence of prior-signed pixels is
calibrated on the first half of the seeds (``prior`` table of the model card, with
``--json``) and its expected calibration error measured on the second half.

Run: ``python benchmarks/bench_prior.py --model default``
"""

import argparse
import json
import sys
import time
from pathlib import Path

import astropy.units as u
import numpy as np
from astropy.time import Time

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import describe_machine

from sunpy_magnetogan.generate import generate_magnetogram, load_model
from sunpy_magnetogan.geometry import geometry_from_map
from sunpy_magnetogan.polarity import expected_calibration_error, fit_polarity_calibration, sign_is_right
from sunpy_magnetogan.preprocess import prepare_magnetogram_map
from sunpy_magnetogan.prior import apply_prior, prior_on_grid
from sunpy_magnetogan.synthetic import SyntheticSun, farside_observer, observe_pair, sdo_observer

SETTINGS = {"farside": (farside_observer, "EUVI", 13.6), "frontside": (sdo_observer, "AIA", 27.3)}
MIN_FIELD = 50.0


def cc(a, b):
    a, b = a - a.mean(), b - b.mean()
    return float(np.sum(a * b) / np.sqrt(np.sum(a * a) * np.sum(b * b)))


def sample(model, seed, date, setting):
    """Truth, field without and with the prior, smoothed prior and decided mask on the model grid."""
    observer, instrument, lag = SETTINGS[setting]
    sun = SyntheticSun(seed)
    t = Time(date)
    euv, truth = observe_pair(sun, t, observer(t), instrument=instrument, npix=512)
    t_prior = t - lag * u.day
    _, prior = observe_pair(sun, t_prior, sdo_observer(t_prior), instrument="AIA", npix=512)
    plain = generate_magnetogram(euv, model=model, device="cpu")
    true = prepare_magnetogram_map(truth, grid=model.grid).data
    prior_grid = prior_on_grid(prior, geometry_from_map(plain, model.grid))
    field, smoothed, decided = apply_prior(np.nan_to_num(plain.data), prior_grid)
    field = np.where(np.isfinite(plain.data), field, np.nan)
    return true, plain.data, field, smoothed, decided


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", default="default")
    parser.add_argument("--seeds", type=int, nargs="+", default=list(range(4000, 4008)))
    parser.add_argument("--dates", nargs="+", default=["2022-09-01T00:00", "2023-07-15T00:00"])
    parser.add_argument("--json", type=Path, help="write the prior calibration and the figures as JSON")
    args = parser.parse_args()
    print(describe_machine())
    model = load_model(args.model, device="cpu")
    half = len(args.seeds) // 2
    results = {}
    calibration_data, evaluation = [], []
    for setting in SETTINGS:
        rows = []
        t0 = time.perf_counter()
        for k, seed in enumerate(args.seeds):
            for date in args.dates:
                true, plain, field, smoothed, decided = sample(model, seed, date, setting)
                on = np.isfinite(plain) & np.isfinite(true)
                survived = on & (np.abs(true) >= MIN_FIELD) & np.isfinite(smoothed)
                if survived.sum() < 50:
                    continue
                rows.append(
                    (
                        cc(true[survived], plain[survived]),
                        cc(true[survived], field[survived]),
                        np.mean(np.sign(plain[survived]) == np.sign(true[survived])),
                        np.mean(np.sign(field[survived]) == np.sign(true[survived])),
                        decided[survived].mean(),
                    )
                )
                target = calibration_data if k < half else evaluation
                target.append((np.where(decided, smoothed, 0.0), true, np.ones_like(true), decided & on))
        rows = np.array(rows)
        results[setting] = {
            "samples": len(rows),
            "cc_without_prior": float(rows[:, 0].mean()),
            "cc_with_prior": float(rows[:, 1].mean()),
            "right_sign_without": float(rows[:, 2].mean()),
            "right_sign_with": float(rows[:, 3].mean()),
            "share_signed_by_prior": float(rows[:, 4].mean()),
            "lag_days": SETTINGS[setting][2],
        }
        r = results[setting]
        print(
            f"{setting:<10} lag {r['lag_days']:4.1f} d, {r['samples']} maps ({time.perf_counter() - t0:.0f} s): "
            f"CC of surviving-region pixels {r['cc_without_prior']:.3f} -> {r['cc_with_prior']:.3f}; "
            f"right signs {r['right_sign_without']:.3f} -> {r['right_sign_with']:.3f}; "
            f"{100 * r['share_signed_by_prior']:.0f} % of them signed by the prior"
        )
    calibration = fit_polarity_calibration(calibration_data)
    stated, right = [], []
    for smoothed, true, ones, decided in evaluation:
        scored, is_right = sign_is_right(smoothed, true, valid=decided)
        stated.append(calibration.probability(smoothed[scored], ones[scored]))
        right.append(is_right[scored])
    ece = expected_calibration_error(np.concatenate(stated), np.concatenate(right))
    print(f"prior-sign calibration: {calibration.right_fraction} (fitted on seeds {args.seeds[:half]})")
    print(f"ECE of prior-signed pixels on seeds {args.seeds[half:]}: {ece:.3f}")
    results["prior_calibration"] = calibration.to_dict()
    results["prior_ece"] = ece
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()

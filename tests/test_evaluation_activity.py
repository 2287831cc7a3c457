"""Activity bins of held-out synthetic Suns and the semi-real evaluation over them."""

import astropy.units as u
import numpy as np
import pytest

from sunpy_magnetogan.evaluation.activity import (
    ACTIVITY_KEYS,
    evaluate_activity,
    quiet_sun_mean_field,
    summarize_activity,
)
from sunpy_magnetogan.metrics import grid_geometry, magnetic_flux
from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi
from sunpy_magnetogan.synthetic.activity import (
    ACTIVITY_BINS,
    ACTIVITY_SEED_START,
    activity_samples,
    relative_activity,
)
from sunpy_magnetogan.synthetic.dataset import BENCHMARK_SERIES, BENCHMARK_SPLIT


def test_samples_are_held_out_and_in_their_bins():
    samples = activity_samples(3)
    assert len(samples) == 3 * len(ACTIVITY_BINS)
    used = {seed for spec in BENCHMARK_SPLIT.values() for seed in spec.seeds}
    used |= {spec.seed for spec in BENCHMARK_SERIES}
    seeds = [s.seed for s in samples]
    assert len(set(seeds)) == len(seeds)
    assert not used & set(seeds)
    assert min(seeds) >= ACTIVITY_SEED_START
    for sample in samples:
        activity_bin = ACTIVITY_BINS[sample.bin]
        assert sample.name == activity_bin.name
        assert activity_bin.low <= sample.rate < activity_bin.high
        assert sample.rate == pytest.approx(relative_activity(sample.time))
    # Fixed by the module alone: the same samples every time.
    assert [s.time.isot for s in activity_samples(3)] == [s.time.isot for s in samples]


def test_samples_refuse_bad_counts():
    with pytest.raises(ValueError, match="seeds_per_bin"):
        activity_samples(0)
    with pytest.raises(ValueError, match="seeds_per_bin"):
        activity_samples(101)


def test_bins_are_ordered_by_true_unsigned_flux():
    # Mean true total unsigned flux of 4 Suns per bin, on 128 px synthetic HMI maps.
    means = []
    samples = activity_samples(4)
    for index in range(len(ACTIVITY_BINS)):
        fluxes = [
            magnetic_flux(observe_hmi(SyntheticSun(s.seed), s.time, npix=128)).total_unsigned.to_value(u.Mx)
            for s in samples
            if s.bin == index
        ]
        means.append(np.mean(fluxes))
    assert np.all(np.diff(means) > 0), means
    assert means[-1] > 5 * means[0]


def test_quiet_sun_mean_field_ignores_active_regions():
    geometry = grid_geometry(64)
    truth = np.full((64, 64), 8.0)
    truth[28:36, 28:36] = 1500.0  # a spot: active region, not quiet Sun
    generated = 2.0 * truth
    true_mean, generated_mean = quiet_sun_mean_field(truth, generated, geometry)
    assert true_mean == pytest.approx(8.0)
    assert generated_mean == pytest.approx(16.0)


def test_evaluate_activity_one_row_per_bin_with_finite_metrics():
    samples = activity_samples(1)

    def predict(euv, meta):
        assert euv.shape == (64, 64)
        assert {"date", "hglt_obs"} <= set(meta)
        return 200.0 * euv

    rows = evaluate_activity(predict, samples, size=64)
    assert [row["seed"] for row in rows] == [s.seed for s in samples]
    summary = summarize_activity(rows)
    assert [row["name"] for row in summary] == [b.name for b in ACTIVITY_BINS]
    for row in summary:
        assert row["n"] == 1
        for key in ACTIVITY_KEYS:
            assert np.isfinite(row[key]), (row["name"], key)
    with pytest.raises(ValueError, match="recipe"):
        evaluate_activity(predict, samples, size=64, recipe="other")

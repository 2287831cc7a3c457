"""The strength calibration: a quantile mapping of |B| by mu that keeps the signs."""

import numpy as np
import pytest
import sunpy.map
import torch

from sunpy_magnetogan.exceptions import MagnetoGANError
from sunpy_magnetogan.generate import generate_magnetogram, load_model
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.metrics import grid_geometry, quiet_sun_by_mu
from sunpy_magnetogan.normalization import MagnetogramNormalization
from sunpy_magnetogan.sample import SAMPLE_AIA304
from sunpy_magnetogan.strength import StrengthCalibration, fit_strength_calibration
from sunpy_magnetogan.training import get_preset
from sunpy_magnetogan.weights import register_model, unregister_model

from .helpers_models import save_model


def _shrunk_model_pairs(n=3, size=96, seed=0):
    """True fields and a 'model' that shrinks them more towards disk centre, as L2 does."""
    mu = ModelGrid(size).mu_array()
    rng = np.random.default_rng(seed)
    disk = np.isfinite(mu)
    pairs = []
    for _ in range(n):
        true = np.where(disk, rng.laplace(scale=15.0, size=mu.shape) * mu, np.nan)
        generated = true * (1.2 - 0.8 * np.nan_to_num(mu))  # x1.1 at the limb, x0.4 at centre
        pairs.append((generated, true, disk))
    return pairs, mu


def test_fitted_mapping_restores_the_quiet_sun_profile_and_keeps_signs():
    pairs, mu = _shrunk_model_pairs()
    calibration = fit_strength_calibration(pairs[:2], mu)
    generated, true, disk = pairs[2]  # not fitted on
    calibrated = calibration.apply(generated, mu)
    geometry = grid_geometry(mu.shape[0])
    before = quiet_sun_by_mu(true, generated, geometry, disk)["ratio"]
    after = quiet_sun_by_mu(true, calibrated, geometry, disk)["ratio"]
    assert before[-1] < 0.6 * before[0]  # the raw field declines towards disk centre
    assert np.all(np.abs(after - 1) < 0.1)
    on = disk & (generated != 0)
    assert np.array_equal(np.sign(calibrated[on]), np.sign(generated[on]))
    assert np.all(np.isnan(calibrated[~disk]))


def test_mapping_is_monotone_in_strength_and_leaves_off_disk_pixels():
    pairs, mu = _shrunk_model_pairs(n=2)
    calibration = fit_strength_calibration(pairs, mu)
    strengths = np.linspace(0, 3000, 200)
    for m in (0.15, 0.5, 0.95):
        mapped = calibration.apply(strengths, np.full(strengths.shape, m))
        assert np.all(np.diff(mapped) >= 0)
    field = np.array([5.0, -5.0])
    assert calibration.apply(field, np.array([np.nan, 0.0])).tolist() == [5.0, -5.0]


def test_round_trip_and_validation():
    pairs, mu = _shrunk_model_pairs(n=1)
    calibration = fit_strength_calibration(pairs, mu)
    assert StrengthCalibration.from_dict(calibration.to_dict()) == calibration
    with pytest.raises(ValueError, match="non-decreasing"):
        StrengthCalibration(
            mu_centres=(0.5,), generated_quantiles=((0, 2, 1),), true_quantiles=((0, 1, 2),), pixels=3
        )
    with pytest.raises(MagnetoGANError, match="no valid pixel"):
        fit_strength_calibration(
            [(np.ones((8, 8)), np.ones((8, 8)), np.zeros((8, 8), bool))], np.full((8, 8), 0.5)
        )


@pytest.fixture
def calibrated_tiny_model(tmp_path):
    """A 128 px random compact model whose card doubles every strength."""
    torch.manual_seed(0)
    config, _ = get_preset("compact")
    generator, _ = config.build()
    doubling = StrengthCalibration(
        mu_centres=(0.5,), generated_quantiles=((0.0, 1.0, 1e4),), true_quantiles=((0.0, 2.0, 2e4),), pixels=1
    )
    # The table maps |B| -> 2 |B| on (0, 1e4) G, and keeps that ratio above.
    path = save_model(
        generator,
        config,
        tmp_path / "strength-tiny.safetensors",
        name="strength-tiny",
        magnetogram_normalization=MagnetogramNormalization(),
        calibration={"strength": doubling.to_dict()},
    )
    register_model(path, name="strength-tiny", persist=False, overwrite=True)
    yield "strength-tiny"
    unregister_model("strength-tiny")


def test_generate_applies_the_card_calibration_and_says_so(calibrated_tiny_model):
    aia = sunpy.map.Map(SAMPLE_AIA304)
    raw = generate_magnetogram(aia, model=calibrated_tiny_model, device="cpu")  # the default
    calibrated = generate_magnetogram(aia, model=calibrated_tiny_model, device="cpu", strength="calibrated")
    assert raw.meta["mganstrn"] == "raw"
    assert calibrated.meta["mganstrn"] == "calibrated"
    np.testing.assert_allclose(calibrated.data, 2 * raw.data, rtol=1e-5, atol=1e-4)


def test_generate_refuses_a_calibration_the_model_lacks(tiny_model):
    aia = sunpy.map.Map(SAMPLE_AIA304)
    assert load_model(tiny_model, device="cpu").strength is None
    out = generate_magnetogram(aia, model=tiny_model, device="cpu", strength="raw")
    assert out.meta["mganstrn"] == "raw"
    with pytest.raises(MagnetoGANError, match="no strength calibration"):
        generate_magnetogram(aia, model=tiny_model, device="cpu", strength="calibrated")
    with pytest.raises(ValueError, match="strength must be"):
        generate_magnetogram(aia, model=tiny_model, device="cpu", strength="loud")

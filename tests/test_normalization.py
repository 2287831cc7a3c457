"""Intensity normalisations: the magnetogram transform is exactly invertible."""

import astropy.units as u
import numpy as np
import pytest
import torch

from sunpy_magnetogan.exceptions import InvalidDataError
from sunpy_magnetogan.normalization import (
    EUVNormalization,
    MagnetogramNormalization,
    QuietSunNormalization,
    euv_normalization_from_dict,
)

KINDS = [
    MagnetogramNormalization(),
    MagnetogramNormalization(kind="linear"),
    MagnetogramNormalization(kind="asinh", saturation=4000 * u.G, softening=10 * u.G),
]


@pytest.mark.parametrize("norm", KINDS, ids=lambda n: f"{n.kind}-{n.saturation.value:g}")
def test_gauss_round_trip_within_half_gauss(norm):
    bsat = norm.saturation.to_value(u.G)
    field = np.linspace(-bsat, bsat, 200001, dtype=np.float32)
    normalised = norm.forward(field)
    assert normalised.min() >= -1
    assert normalised.max() <= 1
    assert np.all(np.diff(normalised) >= 0)  # monotonic
    assert np.max(np.abs(norm.inverse(normalised) - field)) < 0.5


@pytest.mark.parametrize("norm", KINDS, ids=lambda n: f"{n.kind}-{n.saturation.value:g}")
def test_saturation_and_sign_symmetry(norm):
    bsat = norm.saturation.to_value(u.G)
    assert norm.forward(np.float32(10 * bsat)) == 1.0
    assert norm.forward(np.float32(-10 * bsat)) == -1.0
    assert norm.inverse(np.float32(1.0)) == pytest.approx(bsat, rel=1e-5)
    b = np.float32(123.0)
    assert norm.forward(-b) == -norm.forward(b)


def test_torch_and_numpy_agree():
    norm = MagnetogramNormalization()
    field = np.linspace(-3500, 3500, 1001, dtype=np.float32)
    np_out = norm.forward(field)
    torch_out = norm.forward(torch.from_numpy(field))
    assert isinstance(torch_out, torch.Tensor)
    assert np.allclose(torch_out.numpy(), np_out, atol=1e-6)
    assert np.allclose(norm.inverse(torch_out).numpy(), norm.inverse(np_out), atol=1e-3)


def test_dict_round_trip_and_validation():
    norm = MagnetogramNormalization(kind="asinh", saturation=2500 * u.G, softening=40 * u.G)
    assert MagnetogramNormalization.from_dict(norm.to_dict()) == norm
    assert MagnetogramNormalization(saturation=0.3 * u.T).saturation == 3000 * u.G
    with pytest.raises(ValueError, match="kind"):
        MagnetogramNormalization(kind="zscale")
    with pytest.raises(ValueError, match="magnetic field"):
        MagnetogramNormalization(saturation=3000 * u.m)


def test_euv_normalization_limits_and_errors():
    norm = EUVNormalization()
    rng = np.random.default_rng(1)
    image = rng.uniform(0, 100, (64, 64)).astype(np.float32)
    disk = np.zeros((64, 64), bool)
    disk[8:56, 8:56] = True
    out, (low, high) = norm(image, disk)
    assert low == pytest.approx(np.percentile(image[disk], 1), rel=1e-5)
    assert high == pytest.approx(np.percentile(image[disk], 99), rel=1e-5)
    assert np.all(out[~disk] == -1)
    with pytest.raises(InvalidDataError, match="no finite pixel"):
        norm(image, np.zeros_like(disk))
    with pytest.raises(ValueError, match="stretch"):
        EUVNormalization(stretch="cubic")
    with pytest.raises(ValueError, match="lower < upper"):
        EUVNormalization(lower=99, upper=1)


@pytest.mark.parametrize("stretch", ["linear", "sqrt", "log"])
def test_euv_stretches_are_monotonic(stretch):
    norm = EUVNormalization(stretch=stretch, lower=0, upper=100)
    image = np.linspace(0, 1000, 4096, dtype=np.float32).reshape(64, 64)
    out, _ = norm(image, np.ones((64, 64), bool))
    assert np.all(np.diff(out.ravel()) >= 0)
    assert out.min() == -1
    assert out.max() == 1


def _disk_image(n_plage, *, gain=1.0, seed=0):
    """A 64 x 64 'disk' of quiet Sun (~100) with ``n_plage`` pixels of plage at 6x."""
    rng = np.random.default_rng(seed)
    image = rng.normal(100, 10, (64, 64)).clip(1).astype(np.float32)
    image.ravel()[:n_plage] = 600.0
    return gain * image, np.ones((64, 64), bool)


def test_quiet_sun_normalization_does_not_depend_on_activity_or_gain():
    norm = QuietSunNormalization()
    quiet, disk = _disk_image(20)
    active, _ = _disk_image(900)
    out_quiet, _ = norm(quiet, disk)
    out_active, _ = norm(active, disk)
    # The same plage (6x the quiet Sun) gets the same value at low and high activity...
    assert out_quiet.ravel()[0] == pytest.approx(out_active.ravel()[0], abs=0.02)
    expected = -1 + 2 * np.log(6 / 0.25) / np.log(10 / 0.25)
    assert out_quiet.ravel()[0] == pytest.approx(expected, abs=0.02)
    # ...whereas the paper's percentile stretch moves it with the activity.
    pct_quiet, _ = EUVNormalization()(quiet, disk)
    pct_active, _ = EUVNormalization()(active, disk)
    assert abs(pct_quiet.ravel()[-1] - pct_active.ravel()[-1]) > 0.1
    # An instrument with 3.7x the gain gives the same normalised image.
    scaled, _ = _disk_image(20, gain=3.7)
    assert np.allclose(norm(scaled, disk)[0], out_quiet, atol=1e-5)


def test_quiet_sun_normalization_range_masking_and_errors():
    norm = QuietSunNormalization(low=0.5, high=4.0)
    image, disk = _disk_image(20)
    disk[:4] = False
    image[10, 0] = 0.0  # dark (or clipped negative) pixels saturate at -1, no log(0)
    image[60, :5] = 600.0
    out, (low, high) = norm(image, disk)
    ref = np.median(image[disk])
    assert (low, high) == pytest.approx((0.5 * ref, 4.0 * ref), rel=1e-5)
    assert out.dtype == np.float32
    assert np.all(out[~disk] == -1)
    assert out.min() >= -1
    assert out.max() <= 1
    assert np.isfinite(out).all()
    assert np.all(out[60, :5] == 1.0)  # a 6x plage is beyond high=4
    assert out[10, 0] == -1.0
    with pytest.raises(InvalidDataError, match="no finite pixel"):
        norm(image, np.zeros_like(disk))
    with pytest.raises(InvalidDataError, match="blank"):
        norm(np.zeros_like(image), disk)
    with pytest.raises(InvalidDataError, match="blank"):
        norm(np.full_like(image, 7.0), disk)
    with pytest.raises(ValueError, match="low < 1 < high"):
        QuietSunNormalization(low=2.0)
    with pytest.raises(ValueError, match="percentile"):
        QuietSunNormalization(reference=100)


@pytest.mark.parametrize(
    "norm", [EUVNormalization(stretch="sqrt"), QuietSunNormalization(reference=40, high=8)]
)
def test_euv_normalization_dicts_round_trip(norm):
    assert euv_normalization_from_dict(norm.to_dict()) == norm


def test_euv_normalization_from_dict_legacy_and_unknown():
    # Cards written before there were kinds carry no "kind": they are percentile stretches.
    legacy = {"lower": 2.0, "upper": 98.0, "stretch": "linear"}
    assert euv_normalization_from_dict(legacy) == EUVNormalization(lower=2.0, upper=98.0)
    with pytest.raises(ValueError, match="unknown EUV normalisation kind 'zscale'"):
        euv_normalization_from_dict({"kind": "zscale"})

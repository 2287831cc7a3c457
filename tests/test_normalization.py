"""Intensity normalisations: the magnetogram transform is exactly invertible."""

import astropy.units as u
import numpy as np
import pytest
import torch

from sunpy_magnetogan.exceptions import InvalidDataError
from sunpy_magnetogan.normalization import EUVNormalization, MagnetogramNormalization

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

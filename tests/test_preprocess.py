"""prepare_euv_map / prepare_magnetogram_map: the arrays the networks see."""

import astropy.units as u
import numpy as np
import pytest
import sunpy.map

from sunpy_magnetogan.exceptions import BadPixelWarning, PartialDiskWarning
from sunpy_magnetogan.grid import ModelGrid, disk_mask
from sunpy_magnetogan.normalization import EUVNormalization
from sunpy_magnetogan.preprocess import prepare_euv_map, prepare_magnetogram_map

from .helpers_maps import make_observer, make_test_map


@pytest.mark.parametrize("size", [128, 256, 512])
def test_euv_output_range_and_background(size):
    prepared = prepare_euv_map(make_test_map(1024), grid=ModelGrid(size))
    data, disk = prepared.data, prepared.disk
    assert data.shape == (size, size)
    assert data.dtype == np.float32
    assert np.all(np.isfinite(data))
    assert data.min() >= -1
    assert data.max() <= 1
    assert np.all(data[~disk_mask(prepared.geometry.grid)] == -1)
    assert np.array_equal(disk, disk_mask(prepared.geometry.grid))
    assert prepared.report["disk_coverage"] == 1.0


def test_euv_percentile_stretch_matches_definition():
    smap = make_test_map(512)
    textured = smap.data * np.random.default_rng(0).uniform(0.5, 1.5, smap.data.shape).astype(np.float32)
    prepared = prepare_euv_map(
        sunpy.map.Map(textured, smap.meta), normalization=EUVNormalization(lower=5, upper=95)
    )
    on = prepared.data[prepared.disk]
    # 5 % of the disk at or below -1 + eps and 5 % at or above 1 - eps (ties aside).
    assert np.mean(on <= -1 + 1e-6) == pytest.approx(0.05, abs=0.03)
    assert np.mean(on >= 1 - 1e-6) <= 0.051


def test_nan_pixels_are_reported_and_masked():
    smap = make_test_map(512)
    data = smap.data.copy()
    data[250:262, 250:262] = np.nan  # 144 pixels at disk centre
    data[0:5, 0:5] = np.inf  # off disk: not reported
    with pytest.warns(BadPixelWarning, match="144 pixels"):
        prepared = prepare_euv_map(sunpy.map.Map(data, smap.meta))
    assert prepared.report["nonfinite_on_disk"] == 144
    assert np.all(np.isfinite(prepared.data))
    # The hole is masked on the grid, the rest of the disk is not.
    c = int(prepared.geometry.grid.center_px)
    assert not prepared.disk[c, c]
    assert prepared.disk.sum() > 0.99 * disk_mask(prepared.geometry.grid).sum()


def test_negative_pixels_are_clipped_not_propagated():
    smap = make_test_map(512)
    data = smap.data.copy()
    data[200:300, 200:300] = -1e4
    prepared = prepare_euv_map(sunpy.map.Map(data, smap.meta))
    assert prepared.report["negative_pixels"] == 10000
    assert np.all(np.isfinite(prepared.data))
    # Clipped to zero intensity, i.e. the darkest value, not something below -1.
    assert prepared.data.min() == -1.0


def test_partial_field_of_view_is_masked_with_warning():
    smap = make_test_map(1024)
    half = smap.submap([0, 0] * u.pix, top_right=[511, 1023] * u.pix)  # east half of the disk
    with pytest.warns(PartialDiskWarning, match="covers"):
        prepared = prepare_euv_map(half)
    assert 0.4 < prepared.report["disk_coverage"] < 0.6
    c = prepared.geometry.grid.center_px
    cols = np.nonzero(prepared.disk.any(axis=0))[0]
    assert cols.max() <= c + 2  # nothing west of the central meridian
    assert np.all(prepared.data[~prepared.disk] == -1)


def test_low_resolution_input_is_upsampled():
    prepared = prepare_euv_map(make_test_map(128, instrument="EUVI", observer=make_observer(-90 * u.deg)))
    assert prepared.geometry.input_pixels_per_model_pixel < 0.5
    assert prepared.data.shape == (512, 512)
    assert prepared.report["disk_coverage"] == 1.0


def test_magnetogram_on_grid_in_gauss_zero_off_disk():
    smap = make_test_map(
        1024, instrument="HMI", unit=u.G, background=1.0, amplitude=2000.0, features=[(0, 0)]
    )
    data = smap.data.copy()
    data[data == 0] = np.nan  # HMI has NaN off the disk: silently masked
    prepared = prepare_magnetogram_map(sunpy.map.Map(data, smap.meta))
    assert prepared.data.dtype == np.float32
    assert np.all(prepared.data[~prepared.disk] == 0)
    assert prepared.data.max() == pytest.approx(2000.0, rel=0.05)
    assert prepared.report["nonfinite_on_disk"] == 0

"""The map <-> model-grid geometry: coordinates survive the round trip."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from scipy import ndimage

from sunpy_magnetogan.geometry import geometry_from_map, resample_from_input, resample_to_input
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.output import magnetogram_map

from .helpers_maps import DEFAULT_FEATURES, make_observer, make_test_map

EARTH = make_observer()
SIXTY_OFF = make_observer(60 * u.deg, lat=3 * u.deg, distance=0.96 * u.AU)

CASES = [
    pytest.param(npix, roll, observer, id=f"{npix}px-roll{int(roll.value)}-{name}")
    for npix in (4096, 1024, 512)
    for roll in (0 * u.deg, 180 * u.deg)
    for name, observer in (("earth", EARTH), ("60deg", SIXTY_OFF))
]


def _feature_coords(smap):
    frame = smap.coordinate_frame
    return [SkyCoord(tx * u.arcsec, ty * u.arcsec, frame=frame) for tx, ty in DEFAULT_FEATURES]


def _centroid(image, x, y, half=6):
    """Intensity-weighted centroid (x, y) of the blob near (x, y), background removed."""
    x0, y0 = round(float(x)), round(float(y))
    cut = image[y0 - half : y0 + half + 1, x0 - half : x0 + half + 1].astype(float)
    cut = np.clip(
        cut - np.median(image[y0 - 3 * half : y0 + 3 * half, x0 - 3 * half : x0 + 3 * half]), 0, None
    )
    cy, cx = ndimage.center_of_mass(cut)
    return x0 - half + cx, y0 - half + cy


@pytest.mark.parametrize(("npix", "roll", "observer"), CASES)
def test_round_trip_within_half_model_pixel(npix, roll, observer):
    smap = make_test_map(npix, roll=roll, observer=observer)
    geometry = geometry_from_map(smap)
    image, coverage = resample_from_input(smap.data, geometry)
    out = magnetogram_map(image, geometry, model_name="test", valid=coverage)
    for coord in _feature_coords(smap):
        # Coordinate -> input pixel -> model pixel, and coordinate -> output-map pixel.
        x_in, y_in = smap.wcs.world_to_pixel(coord)
        mx, my = geometry.input_to_model(x_in, y_in)
        ox, oy = out.wcs.world_to_pixel(coord)
        assert np.hypot(mx - ox, my - oy) < 0.5
        # The resampled feature itself sits where the output WCS says it is.
        cx, cy = _centroid(image, ox, oy)
        assert np.hypot(cx - ox, cy - oy) < 0.5, f"feature at {coord} is off by {(cx - ox, cy - oy)} px"
    assert out.observer_coordinate.separation_3d(observer).to_value(u.m) < 1.0
    assert out.date.isot[:19] == smap.reference_date.isot[:19]
    assert np.allclose(out.rotation_matrix, np.eye(2))


def test_solar_north_is_up_after_roll():
    # A feature in the north (Ty > 0) must be in the top half of the grid whatever the roll.
    for roll in (0, 90, 180, 270) * u.deg:
        smap = make_test_map(512, roll=roll, features=[(0, 600)])
        geometry = geometry_from_map(smap)
        image, _ = resample_from_input(smap.data, geometry)
        y, x = np.unravel_index(np.argmax(image), image.shape)
        assert y > geometry.grid.center_px + 0.3 * geometry.grid.radius_px
        assert abs(x - geometry.grid.center_px) < 3


def test_disk_is_centred_with_fixed_radius():
    smap = make_test_map(1024, observer=SIXTY_OFF, offset=(120, -80), features=[])
    geometry = geometry_from_map(smap, ModelGrid(256))
    image, _ = resample_from_input(smap.data, geometry)
    on = image > 50
    cy, cx = ndimage.center_of_mass(on)
    radius = np.sqrt(on.sum() / np.pi)
    assert abs(cx - 127.5) < 0.3
    assert abs(cy - 127.5) < 0.3
    assert abs(radius - 0.4 * 256) < 0.5


def test_output_reprojected_to_input_lines_up():
    smap = make_test_map(512, roll=180 * u.deg, observer=SIXTY_OFF)
    geometry = geometry_from_map(smap)
    image, coverage = resample_from_input(smap.data, geometry)
    out = magnetogram_map(image, geometry, model_name="test", valid=coverage)
    back = out.reproject_to(smap.wcs)
    for coord in _feature_coords(smap):
        fx, fy = smap.wcs.world_to_pixel(coord)
        cx, cy = _centroid(np.nan_to_num(back.data), fx, fy)
        assert np.hypot(cx - fx, cy - fy) < 0.5
    both = np.isfinite(back.data) & (smap.data > 0)
    assert np.corrcoef(back.data[both], smap.data[both])[0, 1] > 0.95


def test_resample_to_input_inverts_resample_from_input():
    smap = make_test_map(512, roll=180 * u.deg)
    geometry = geometry_from_map(smap)
    image, _ = resample_from_input(smap.data, geometry)
    back = resample_to_input(image, geometry)
    assert back.shape == smap.data.shape
    for coord in _feature_coords(smap):
        fx, fy = smap.wcs.world_to_pixel(coord)
        cx, cy = _centroid(np.nan_to_num(back), fx, fy)
        assert np.hypot(cx - fx, cy - fy) < 0.5


def test_with_size_keeps_the_placement():
    smap = make_test_map(1024, roll=180 * u.deg, observer=SIXTY_OFF)
    geometry = geometry_from_map(smap)
    coarse = geometry.with_size(128)
    assert u.allclose(coarse.scale, geometry.scale * 4)
    # The same input pixel lands on corresponding coordinates of both grids.
    for coord in _feature_coords(smap):
        x_in, y_in = smap.wcs.world_to_pixel(coord)
        fine = np.array(geometry.input_to_model(x_in, y_in))
        small = np.array(coarse.input_to_model(x_in, y_in))
        expected = (fine - geometry.grid.center_px) / 4 + coarse.grid.center_px
        assert np.allclose(small, expected, atol=1e-6)
    assert geometry_from_map(smap, ModelGrid(128)).matrix == pytest.approx(coarse.matrix)


def test_block_averaging_conserves_the_mean():
    # Binning is area-weighted: a uniform disk keeps its value, and the total "flux" of a
    # blob scales with the pixel area.
    smap = make_test_map(4096, features=[(100, 100)], amplitude=1000.0, sigma=40 * u.arcsec)
    geometry = geometry_from_map(smap)
    image, _ = resample_from_input(smap.data, geometry)
    ratio = geometry.input_pixels_per_model_pixel**2
    blob_in = (smap.data - 100.0)[smap.data > 100.5].sum()
    blob_out = (image - 100.0)[image > 100.0].sum() * ratio
    assert blob_out == pytest.approx(blob_in, rel=0.02)
    assert np.median(image[image > 0]) == pytest.approx(100.0, abs=1e-3)

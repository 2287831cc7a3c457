"""The map pipeline on real SDO and STEREO files from ../shared/data/real/."""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from scipy import ndimage

from sunpy_magnetogan.data.inputs import prepare_input_map
from sunpy_magnetogan.exceptions import (
    CalibrationWarning,
    UnsupportedInstrumentError,
    UnsupportedProductError,
)
from sunpy_magnetogan.output import magnetogram_map
from sunpy_magnetogan.preprocess import prepare_euv_map, prepare_magnetogram_map

ON_DISK = [(0, 0), (-600, 300), (500, -500), (700, 500), (-200, -850)]


@pytest.fixture(scope="module")
def prepared_aia(real_aia304_map):
    # The Helioviewer byte scale is inverted first; offline, the degradation step is skipped.
    with pytest.warns(CalibrationWarning, match="degradation"):
        return prepare_input_map(real_aia304_map)


@pytest.fixture(scope="module")
def prepared_hmi(real_hmi_map):
    return prepare_magnetogram_map(real_hmi_map)


def test_real_aia_jp2_prepares_cleanly(real_aia304_map, prepared_aia):
    assert real_aia304_map.data.dtype == np.uint8  # the byte-scaled Helioviewer product
    with pytest.raises(UnsupportedProductError, match="byte-scaled"):
        prepare_euv_map(real_aia304_map)  # never read as if linear
    assert prepared_aia.report["product"].startswith("aia-helioviewer-jp2")
    data = prepared_aia.data
    assert data.shape == (512, 512)
    assert np.all(np.isfinite(data))
    assert -1 <= data.min()
    assert data.max() <= 1
    assert prepared_aia.report["disk_coverage"] == 1.0
    # A textured disk, not a constant: the central 98 % spans most of [-1, 1].
    assert np.ptp(np.percentile(data[prepared_aia.disk], [5, 95])) > 0.5


def test_real_aia_round_trip_and_observer(real_aia304_map, prepared_aia):
    geometry = prepared_aia.geometry
    out = magnetogram_map(np.zeros(geometry.grid.shape), geometry, model_name="test")
    assert out.observer_coordinate.separation_3d(real_aia304_map.observer_coordinate).to_value(u.m) < 1.0
    frame = real_aia304_map.coordinate_frame
    for tx, ty in ON_DISK:
        coord = SkyCoord(tx * u.arcsec, ty * u.arcsec, frame=frame)
        mx, my = geometry.input_to_model(*real_aia304_map.wcs.world_to_pixel(coord))
        ox, oy = out.wcs.world_to_pixel(coord)
        assert np.hypot(mx - ox, my - oy) < 0.5


def test_real_aia_brightest_region_is_where_the_wcs_says(real_aia304_map, prepared_aia):
    # The brightest smoothed patch of the prepared image, located through the output WCS,
    # is also bright in the original 4096 px image.
    geometry = prepared_aia.geometry
    smooth = ndimage.gaussian_filter(np.where(prepared_aia.disk, prepared_aia.data, -1), 3)
    y, x = np.unravel_index(np.argmax(smooth), smooth.shape)
    out = magnetogram_map(np.zeros(geometry.grid.shape), geometry, model_name="test")
    coord = out.wcs.pixel_to_world(x, y)
    xi, yi = (round(float(v)) for v in real_aia304_map.wcs.world_to_pixel(coord))
    patch = real_aia304_map.data[yi - 24 : yi + 25, xi - 24 : xi + 25].astype(float)
    disk_median = np.median(real_aia304_map.data[1024:3072, 1024:3072])
    assert patch.mean() > 1.5 * disk_median


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
def test_real_hmi_rotated_north_up_matches_sunpy_reproject(real_hmi_map, prepared_hmi):
    # Independent path: sunpy's superpixel binning then reproject onto the model-grid WCS.
    assert real_hmi_map.meta["crota2"] == pytest.approx(180, abs=0.1)
    binned = real_hmi_map.superpixel((8, 8) * u.pix, func=np.nanmean)
    binned.meta["rsun_ref"] = prepared_hmi.geometry.frame().rsun.to_value(u.m)  # SDO says 696 000 km
    reference = binned.reproject_to(prepared_hmi.geometry.wcs()).data
    both = prepared_hmi.disk & np.isfinite(reference)
    r = np.corrcoef(prepared_hmi.data[both], reference[both])[0, 1]
    assert r > 0.9
    # Without the 180 degree rotation the correlation would collapse.
    flipped = prepared_hmi.data[::-1, ::-1]
    assert abs(np.corrcoef(flipped[both], reference[both])[0, 1]) < 0.3


def test_real_hmi_values_in_gauss(prepared_hmi):
    field = prepared_hmi.data[prepared_hmi.disk]
    assert prepared_hmi.report["disk_coverage"] > 0.99
    assert 300 < np.abs(field).max() < 4500  # kG fields survive 8x binning in part
    assert np.median(np.abs(field)) < 30  # the quiet Sun is weak


def test_real_hmi_is_not_an_euv_input(real_hmi_map):
    with pytest.raises(UnsupportedInstrumentError, match="HMI"):
        prepare_euv_map(real_hmi_map)

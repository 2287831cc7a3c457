"""
The EUV 304 A forward model: sign invariance, response to the field, limb, real inputs.
"""

from dataclasses import replace

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from sunpy.map import all_coordinates_from_map
from sunpy.map.sources import AIAMap, EUVIMap

from sunpy_magnetogan.exceptions import InputMapError
from sunpy_magnetogan.synthetic import (
    EUV304Model,
    SyntheticSun,
    euv304_from_magnetogram,
    euv304_intensity,
    observe_aia,
    observe_hmi,
)
from sunpy_magnetogan.synthetic.projection import ImagePlane

DATE = "2014-03-10T12:00"


@pytest.fixture(scope="module")
def magnetogram():
    return observe_hmi(SyntheticSun(8), DATE, npix=256, noise=False)


def _radius(smap):
    coords = all_coordinates_from_map(smap)
    return (np.hypot(coords.Tx, coords.Ty) / smap.rsun_obs).to_value(u.one)


def test_brightness_is_invariant_to_the_sign_of_b(magnetogram):
    flipped = sunpy.map.Map(-magnetogram.data, magnetogram.meta)
    a = euv304_from_magnetogram(magnetogram, rng=3)
    b = euv304_from_magnetogram(flipped, rng=3)
    np.testing.assert_array_equal(a.data, b.data)
    # ... and the model did see the field: a weaker field gives another image.
    weaker = euv304_from_magnetogram(sunpy.map.Map(0.5 * magnetogram.data, magnetogram.meta), rng=3)
    assert not np.array_equal(a.data, weaker.data)


def test_brightness_grows_with_field_strength():
    plane = ImagePlane((96, 96), 40.0, 215.0)
    geometry = plane.surface()
    levels = [0.0, 10.0, 50.0, 200.0, 1000.0]
    model = EUV304Model(texture=0.0)
    centre = []
    for level in levels:
        b = np.where(geometry.on_disk, level, np.nan)
        image = euv304_intensity(b, geometry, rng=np.random.default_rng(0), model=model)
        centre.append(image[48, 48])
    assert np.all(np.diff(centre) > 0)
    # A quiet cell interior is darker than network, plage is several times brighter.
    assert centre[-1] > 3 * centre[1]


def test_filament_darkens_a_polarity_inversion_line():
    plane = ImagePlane((256, 256), 4.0, 215.0)  # 2.9 Mm pixels, all on the disk
    geometry = plane.surface()
    x = np.arange(256) - 127.5
    # Two opposite-polarity plage areas facing each other across x = 0.
    b = np.broadcast_to(80.0 * np.tanh(x / 4.0), (256, 256)).copy()
    b[~geometry.on_disk] = np.nan
    model = EUV304Model(texture=0.0)
    image = euv304_intensity(b, geometry, rng=np.random.default_rng(0), model=model)
    without = euv304_intensity(
        b, geometry, rng=np.random.default_rng(0), model=replace(model, filament_depth=0)
    )
    ratio = (image / without)[100:156].mean(axis=0)
    # Dark along the line, untouched 20 pixels (58 Mm) away on both sides.
    assert ratio[126:130].min() < 0.6
    assert ratio[105] > 0.97
    assert ratio[150] > 0.97
    # Where the field does not change sign there is no filament.
    mono = np.abs(b) + 80.0
    image = euv304_intensity(mono, geometry, rng=np.random.default_rng(0), model=model)
    without = euv304_intensity(
        mono, geometry, rng=np.random.default_rng(0), model=replace(model, filament_depth=0)
    )
    assert np.allclose(image, without)


def test_limb_and_off_limb(magnetogram):
    aia = euv304_from_magnetogram(magnetogram, rng=0, noise=False)
    radius = _radius(aia)
    disk = np.median(aia.data[radius < 0.9])
    rim = np.median(aia.data[(radius > 1.0) & (radius < 1.004)])
    above = np.median(aia.data[(radius > 1.03) & (radius < 1.05)])
    far = np.median(aia.data[radius > 1.3])
    assert rim > 0.5 * disk
    assert rim > 3 * above > 3 * far
    assert far < 0.03 * disk


def test_instruments_and_header(magnetogram):
    aia = euv304_from_magnetogram(magnetogram)
    euvi = euv304_from_magnetogram(magnetogram, instrument="EUVI", observatory="STEREO_B")
    assert isinstance(aia, AIAMap)
    assert isinstance(euvi, EUVIMap)
    assert euvi.observatory == "STEREO B"
    for smap in (aia, euvi):
        assert smap.wavelength == 304 * u.AA
        assert smap.data.shape == magnetogram.data.shape
        assert smap.observer_coordinate.separation_3d(magnetogram.observer_coordinate) < 1 * u.km
        assert smap.reference_pixel == magnetogram.reference_pixel
    # Same magnetogram, same rng: same image; the default rng is fixed.
    np.testing.assert_array_equal(euv304_from_magnetogram(magnetogram).data, aia.data)
    # AIA quiet-Sun disk centre: the chosen 60 DN/s over 2.9 s.
    radius = _radius(aia)
    assert 80 < np.median(aia.data[radius < 0.3]) < 300


def test_rejects_non_magnetograms(magnetogram):
    aia = observe_aia(SyntheticSun(8), DATE, npix=64)
    with pytest.raises(InputMapError, match="magnetic"):
        euv304_from_magnetogram(aia)
    with pytest.raises(InputMapError, match="instrument"):
        euv304_from_magnetogram(magnetogram, instrument="SUVI")


def test_semi_real_pair_from_real_hmi(real_hmi_map):
    """The forward model accepts a real HMI magnetogram (upside down, CROTA2 = 180)."""
    small = real_hmi_map.superpixel((8, 8) * u.pix, func=np.mean)
    aia = euv304_from_magnetogram(small, rng=1)
    assert isinstance(aia, AIAMap)
    assert aia.rotation_matrix[0, 0] == pytest.approx(-1, abs=1e-3)
    radius = _radius(aia)
    on_disk = radius < 0.95
    strong = on_disk & (np.abs(np.nan_to_num(small.data)) > 300)
    weak = on_disk & (np.abs(np.nan_to_num(small.data)) < 10)
    assert strong.sum() > 50
    # Active regions are bright in 304 A, wherever they are in the rolled image.
    assert np.median(aia.data[strong]) > 2 * np.median(aia.data[weak])
    assert np.all(np.isfinite(aia.data))
    # The preprocessing of the package takes it like a real AIA image.
    from sunpy_magnetogan.preprocess import prepare_euv_map

    prepared = prepare_euv_map(aia)
    assert prepared.disk.mean() > 0.4

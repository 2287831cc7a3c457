"""Output magnetogram maps: metadata, provenance, source class and plotting."""

import astropy.units as u
import numpy as np
import pytest
import sunpy.map

from sunpy_magnetogan import __version__
from sunpy_magnetogan.grid import disk_mask
from sunpy_magnetogan.mapsource import MagnetoGANMap
from sunpy_magnetogan.output import magnetogram_map
from sunpy_magnetogan.preprocess import prepare_euv_map

from .helpers_maps import make_observer, make_test_map


@pytest.fixture(scope="module")
def stereo_output():
    observer = make_observer(-75 * u.deg, lat=5 * u.deg, distance=0.97 * u.AU)
    euvi = make_test_map(256, instrument="EUVI", observer=observer, roll=12 * u.deg)
    prepared = prepare_euv_map(euvi)
    field = np.linspace(-800, 800, 512 * 512, dtype=np.float32).reshape(512, 512)
    out = magnetogram_map(field, prepared.geometry, model_name="unit-test", weights_sha256="ab" * 32)
    return euvi, prepared, out


def test_source_class_units_and_observer(stereo_output):
    euvi, _, out = stereo_output
    assert isinstance(out, MagnetoGANMap)
    assert out.unit == u.G
    assert out.meta["bunit"] == "G"
    assert out.observer_coordinate.separation_3d(euvi.observer_coordinate).to_value(u.m) < 1.0
    assert out.date.isot[:19] == euvi.reference_date.isot[:19]
    assert out.observatory == "STEREO A"
    assert "unit-test" in out.name
    assert "EUVI 304" in out.name
    assert out.wavelength is None
    assert out.measurement == "magnetogram"


def test_provenance_keywords(stereo_output):
    _, _, out = stereo_output
    meta = out.meta
    assert meta["mganvers"] == __version__
    assert meta["mganmodl"] == "unit-test"
    assert meta["mgansha"] == "ab" * 32
    assert meta["src_det"] == "EUVI"
    assert float(meta["src_wave"]) == 304.0
    assert meta["telescop"] == "sunpy-magnetogan"


def test_off_disk_is_nan_on_disk_is_finite(stereo_output):
    _, prepared, out = stereo_output
    disk = disk_mask(prepared.geometry.grid)
    assert np.all(np.isnan(out.data[~disk]))
    assert np.all(np.isfinite(out.data[disk]))


def test_rsun_and_limb_position(stereo_output):
    _, _prepared, out = stereo_output
    # The limb lies at 0.4 N pixels from the centre: rsun_obs / cdelt.
    assert out.rsun_obs.to_value(u.arcsec) / out.scale.axis1.to_value(u.arcsec / u.pix) == pytest.approx(
        0.4 * 512
    )
    assert out.rsun_meters == 695700 * u.km


def test_fits_round_trip_recognised(stereo_output, tmp_path):
    _, _, out = stereo_output
    path = tmp_path / "generated.fits"
    out.save(path)
    back = sunpy.map.Map(path)
    assert isinstance(back, MagnetoGANMap)
    assert np.array_equal(back.data, out.data, equal_nan=True)
    assert back.meta["mgansha"] == "ab" * 32
    assert back.wcs.wcs.compare(out.wcs.wcs, tolerance=1e-10)


def test_plot_settings_hmi_colormap_symmetric(stereo_output):
    _, _, out = stereo_output
    assert out.plot_settings["cmap"] == "hmimag"
    norm = out.plot_settings["norm"]
    assert norm.vmax > 0
    assert norm.vmin == -norm.vmax
    image = out.plot()
    assert image.get_cmap().name == "hmimag"
    assert image.norm.vmin == -image.norm.vmax


def test_quantity_input_and_shape_check(stereo_output):
    _, prepared, _ = stereo_output
    field = np.zeros((512, 512)) * u.T
    field[256, 256] = 0.1 * u.T
    out = magnetogram_map(field, prepared.geometry, model_name="q")
    assert out.data[256, 256] == pytest.approx(1000.0)
    with pytest.raises(ValueError, match="does not match the model grid"):
        magnetogram_map(np.zeros((256, 256)), prepared.geometry, model_name="q")


def test_source_class_tolerates_a_header_without_field_unit(stereo_output):
    _, _, out = stereo_output
    meta = out.meta.copy()
    meta["bunit"] = ""
    plain = sunpy.map.Map(out.data, meta)
    assert isinstance(plain, MagnetoGANMap)
    assert plain.plot_settings["norm"].vmax == pytest.approx(1000)

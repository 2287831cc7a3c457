"""
Hostile and extreme inputs (issue 21): each refused with a specific error that says what
is wrong, or prepared with the memory the input needs.
"""

import astropy.units as u
import numpy as np
import pytest
import sunpy.map

from sunpy_magnetogan.data.inputs import prepare_input_map
from sunpy_magnetogan.exceptions import (
    BatchError,
    ImpossibleGeometryError,
    InvalidDataError,
    InvalidUnitError,
    LowResolutionError,
    MissingMetadataError,
)
from sunpy_magnetogan.geometry import geometry_from_map, resample_from_input
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.preprocess import MIN_INPUT_RESOLUTION, prepare_euv_map
from sunpy_magnetogan.sample import SAMPLE_AIA304
from sunpy_magnetogan.validation import validate_euv_map

from .helpers_maps import make_test_map
from .helpers_models import generate_batch_until_error


@pytest.fixture(scope="module")
def aia():
    return sunpy.map.Map(SAMPLE_AIA304)


def _with(smap, data=None, **meta):
    header = smap.meta.copy()
    header.update(meta)
    return sunpy.map.Map(smap.data.copy() if data is None else data, header)


@pytest.mark.parametrize("npix", [16, 64])
def test_tiny_inputs_are_refused_with_the_numbers(aia, npix):
    small = aia.resample([npix, npix] * u.pix)
    with pytest.raises(LowResolutionError, match=r"disk is \d+\.\d px in radius.*204\.8 px") as info:
        prepare_input_map(small)
    assert f"{MIN_INPUT_RESOLUTION:g}" in str(info.value)


def test_coarse_input_above_the_limit_reports_its_upsampling():
    prepared = prepare_euv_map(make_test_map(128, instrument="EUVI"))
    assert prepared.report["upsampling"] == pytest.approx(4.16, abs=0.01)  # 128 px: disk radius 49 px
    assert prepared.report["upsampling"] < 1 / MIN_INPUT_RESOLUTION


@pytest.mark.parametrize("factor", [0.5, 1.0])
def test_observer_inside_or_on_the_sun_is_refused(aia, factor):
    where = "inside" if factor < 1 else "on"
    smap = _with(aia, dsun_obs=aia.meta["rsun_ref"] * factor)
    with pytest.raises(ImpossibleGeometryError, match=f"{where} the Sun.*DSUN_OBS|DSUN_OBS.*{where} the Sun"):
        validate_euv_map(smap)


def test_disk_outside_the_image_is_refused(aia):
    with pytest.raises(ImpossibleGeometryError, match=r"entirely outside its 1024 x 1024 px image.*CRPIX"):
        validate_euv_map(_with(aia, crpix1=-5000.0))


def test_disk_partly_in_the_image_passes_validation(aia):
    # the disk centre off the image but its limb inside it: a partial view, not an error here
    assert validate_euv_map(_with(aia, crpix1=-200.0)) == "AIA"


@pytest.mark.parametrize(
    ("bunit", "what"), [("G", "magnetic flux density"), ("K", "temperature"), ("bananas", "cannot be parsed")]
)
def test_wrong_or_nonsense_units_are_refused(aia, bunit, what):
    with pytest.raises(InvalidUnitError, match=what) as info:
        validate_euv_map(_with(aia, bunit=bunit))
    assert isinstance(info.value, MissingMetadataError)
    assert "DN" in str(info.value)


@pytest.mark.parametrize("waveunit", ["", "G"])
def test_a_wavelength_in_no_length_unit_is_refused(aia, waveunit):
    # found by the large fuzz run: WAVEUNIT = '' made the wavelength dimensionless
    smap = sunpy.map.GenericMap(aia.data, {**aia.meta, "waveunit": waveunit})  # sunpy's AIAMap refuses it
    with pytest.raises(MissingMetadataError, match="not a wavelength"):
        validate_euv_map(smap, allow_other_wavelengths=True)


@pytest.mark.parametrize("bunit", ["DN", "DN/s", "DN/S", "ct / s", "DN s-1 pix-1", "photon"])
def test_count_units_are_accepted(aia, bunit):
    assert validate_euv_map(_with(aia, bunit=bunit)) == "AIA"


def test_all_negative_image_is_not_called_blank(aia):
    with pytest.raises(InvalidDataError, match="no positive pixel.*difference image") as info:
        prepare_input_map(_with(aia, -np.abs(aia.data) - 1))
    assert "blank" not in str(info.value)


def test_mostly_negative_image_is_refused(aia):
    with pytest.raises(InvalidDataError, match="more negative pixels"):
        prepare_input_map(_with(aia, aia.data - np.nanmedian(aia.data) * 3))


@pytest.mark.parametrize("dtype", [np.float64, np.float32, np.int16, np.uint16])
@pytest.mark.parametrize("roll", [0, 37])
def test_strip_resampling_matches_the_whole_image_sums(dtype, roll, monkeypatch):
    """The strip-by-strip block sums equal those of the whole image, whatever the strip height."""
    import sunpy_magnetogan.geometry as geometry_module

    smap = make_test_map(1000, roll=roll * u.deg)
    data = np.asarray(smap.data * 10).astype(dtype)
    valid = np.ones(data.shape, bool)
    valid[100:140, 300:900] = False
    if np.issubdtype(dtype, np.floating):
        data[500:510, 200:260] = np.nan
    geometry = geometry_from_map(smap, ModelGrid(128))
    monkeypatch.setattr(geometry_module, "_STRIP_ROWS", 10**6)  # one strip: the whole image
    reference = resample_from_input(data, geometry, valid=valid)
    monkeypatch.setattr(geometry_module, "_STRIP_ROWS", 7)
    strips = resample_from_input(data, geometry, valid=valid)
    np.testing.assert_allclose(strips[0], reference[0], rtol=1e-5, atol=1e-3)
    np.testing.assert_array_equal(strips[1], reference[1])
    # and the result is the direct average: a constant image stays constant where valid
    flat = resample_from_input(np.full(data.shape, 7, dtype), geometry)
    np.testing.assert_allclose(flat[0][flat[1]], 7, rtol=1e-6)


def _hostile_files(directory):
    """A good file, three hostile ones (observer inside the Sun, BUNIT G, 16 px), a good file."""
    good = make_test_map(256)
    paths = [directory / f"{name}.fits" for name in ("good_1", "inside", "gauss", "tiny", "good_2")]
    good.save(paths[0])
    _with(good, dsun_obs=good.meta["rsun_ref"] / 2).save(paths[1])
    _with(good, bunit="G").save(paths[2])
    good.resample([16, 16] * u.pix).save(paths[3])
    good.save(paths[4])
    return paths


def test_hostile_files_in_a_batch_are_reported_and_skipped(tiny_model, tmp_path):
    batch_error, _, written = generate_batch_until_error(
        _hostile_files(tmp_path), tiny_model, tmp_path / "out", BatchError
    )
    assert written == ["good_1_magnetogram.fits", "good_2_magnetogram.fits"]
    failures = {label.rsplit("/", 1)[-1]: type(error) for label, error in batch_error.failures}
    assert failures == {
        "inside.fits": ImpossibleGeometryError,
        "gauss.fits": InvalidUnitError,
        "tiny.fits": LowResolutionError,
    }
    assert "3 input(s) failed (2 generated)" in str(batch_error)


def test_hostile_file_stops_a_batch_by_option_keeping_what_was_written(tiny_model, tmp_path):
    _, _, written = generate_batch_until_error(
        _hostile_files(tmp_path),
        tiny_model,
        tmp_path / "out",
        ImpossibleGeometryError,
        match="inside the Sun",
        on_error="raise",
    )
    assert written == ["good_1_magnetogram.fits"]

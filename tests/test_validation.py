"""Bad input maps are refused with an exception that names the problem."""

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from astropy.coordinates import SkyCoord
from sunpy.map.header_helper import make_heliographic_header

from sunpy_magnetogan.exceptions import (
    CorruptFileError,
    InvalidDataError,
    MissingMetadataError,
    UnsupportedInputWarning,
    UnsupportedInstrumentError,
    UnsupportedWavelengthError,
)
from sunpy_magnetogan.preprocess import prepare_euv_map, prepare_magnetogram_map
from sunpy_magnetogan.validation import read_map, validate_euv_map, validate_magnetogram_map

from .helpers_maps import make_test_map


def _without(smap, *keys):
    meta = smap.meta.copy()
    for key in keys:
        meta.pop(key, None)
    return sunpy.map.Map(smap.data, meta)


def test_accepts_aia_and_euvi_304():
    assert validate_euv_map(make_test_map(128)) == "AIA"
    assert validate_euv_map(make_test_map(128, instrument="EUVI")) == "EUVI"


def test_not_a_map_is_a_type_error():
    with pytest.raises(TypeError, match="sunpy.map.GenericMap"):
        prepare_euv_map(np.zeros((128, 128)))


def test_wrong_instrument_names_it():
    hmi = make_test_map(128, instrument="HMI", wavelength=304 * u.AA)
    with pytest.raises(UnsupportedInstrumentError, match="HMI") as info:
        prepare_euv_map(hmi)
    assert "allow_other_instruments=True" in str(info.value)
    assert isinstance(info.value, ValueError)


def test_other_instrument_allowed_with_warning():
    hmi = make_test_map(128, instrument="HMI", wavelength=304 * u.AA)
    with pytest.warns(UnsupportedInputWarning, match="HMI"):
        prepared = prepare_euv_map(hmi, allow_other_instruments=True)
    assert prepared.data.shape == (512, 512)


def test_wrong_wavelength_names_it():
    aia171 = make_test_map(128, wavelength=171 * u.AA)
    with pytest.raises(UnsupportedWavelengthError, match="171") as info:
        prepare_euv_map(aia171)
    assert "304" in str(info.value)
    with pytest.warns(UnsupportedInputWarning, match="171"):
        prepare_euv_map(aia171, allow_other_wavelengths=True)


def test_real_euvi_171_is_refused(real_euvi171_path):
    euvi = read_map(real_euvi171_path)
    with pytest.raises(UnsupportedWavelengthError, match="171"):
        prepare_euv_map(euvi)
    with pytest.warns(UnsupportedInputWarning, match="171"):
        prepared = prepare_euv_map(euvi, allow_other_wavelengths=True)
    # A STEREO-A observer 52 deg from Earth is kept.
    assert prepared.geometry.observer.lon.to_value(u.deg) == pytest.approx(51.8, abs=0.1)


def test_missing_observer_is_refused():
    smap = _without(make_test_map(128), "hgln_obs", "hglt_obs", "dsun_obs")
    with pytest.raises(MissingMetadataError, match="observer"):
        prepare_euv_map(smap)


def test_missing_date_is_refused():
    smap = _without(make_test_map(128), "date-obs", "date_obs", "date-avg", "date-beg", "date-end", "t_obs")
    with pytest.raises(MissingMetadataError, match="date"):
        prepare_euv_map(smap)


def test_non_helioprojective_wcs_is_refused():
    car = SkyCoord(
        0 * u.deg, 0 * u.deg, frame="heliographic_carrington", obstime="2022-03-01", observer="earth"
    )
    header = make_heliographic_header(car.obstime, car.observer, (90, 180), frame="carrington")
    header.update({"instrume": "AIA_4", "telescop": "SDO/AIA", "wavelnth": 304, "waveunit": "angstrom"})
    header.update({"hgln_obs": 0.0, "hglt_obs": 0.0, "dsun_obs": 1.496e11})
    smap = sunpy.map.Map(np.ones((90, 180)), header)
    with pytest.raises(MissingMetadataError, match="helioprojective"):
        prepare_euv_map(smap)


def test_zero_plate_scale_is_refused():
    smap = make_test_map(128)
    meta = smap.meta.copy()
    meta["cdelt1"] = 0.0
    with pytest.raises(MissingMetadataError, match="plate scale"):
        validate_euv_map(sunpy.map.Map(smap.data, meta))


def test_all_nan_is_invalid():
    smap = make_test_map(128)
    with pytest.raises(InvalidDataError, match="valid data"):
        prepare_euv_map(sunpy.map.Map(np.full((128, 128), np.nan, np.float32), smap.meta))


def test_blank_disk_is_invalid():
    smap = make_test_map(128)
    with pytest.raises(InvalidDataError, match="blank"):
        prepare_euv_map(sunpy.map.Map(np.full((128, 128), 50, np.float32), smap.meta))


def test_magnetogram_needs_field_units():
    assert validate_magnetogram_map(make_test_map(128, instrument="HMI", unit=u.G)).to_value(u.G) == 1
    assert validate_magnetogram_map(make_test_map(128, instrument="HMI", unit=u.T)).to_value(u.G) == 1e4
    with pytest.raises(MissingMetadataError, match="not a magnetic field"):
        prepare_magnetogram_map(make_test_map(128, instrument="HMI", unit=u.ct))
    with pytest.raises(MissingMetadataError, match="no unit"):
        prepare_magnetogram_map(make_test_map(128, instrument="HMI"))


def test_tesla_magnetogram_is_converted_to_gauss():
    smap = make_test_map(256, instrument="HMI", unit=u.T, features=[(0, 0)], amplitude=0.1, background=0.0)
    prepared = prepare_magnetogram_map(smap)
    assert prepared.data.max() == pytest.approx(1000.0, rel=0.1)


def test_read_map_corrupt_and_missing(tmp_path):
    garbage = tmp_path / "garbage.fits"
    garbage.write_bytes(b"SIMPLE  =  this is not a FITS file" * 10)
    with pytest.raises(CorruptFileError, match="garbage.fits"):
        read_map(garbage)
    with pytest.raises(FileNotFoundError, match="nothere.fits"):
        read_map(tmp_path / "nothere.fits")


def test_read_map_truncated_fits(tmp_path):
    good = tmp_path / "good.fits"
    make_test_map(256).save(good)
    assert read_map(good).data.shape == (256, 256)
    truncated = tmp_path / "truncated.fits"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CorruptFileError, match="truncated.fits"):
        read_map(truncated)

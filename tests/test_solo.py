"""
Tests of the Solar Orbiter inputs (EUI/FSI 304 A) and truth (PHI/FDT B_los): sunpy_magnetogan.data.solo.

The headers are those of the real products: sunpy's own test header of an EUI/FSI 304 A
file, and the keywords of a PHI/FDT ``phi-fdt-blos`` file (sunpy's test header
``solo_LL02_phi-fdt-blos_20240305T041509_V202405151730C_0403057611.header``), on synthetic
data seen from a Solar Orbiter-like observer behind the Sun (0.8 AU: the synthetic EUVI field of view, 0.9 deg, holds the disk; latitude 15 deg).
"""

import warnings

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from sunpy.data.test import get_dummy_map_from_header, get_test_filepath

from sunpy_magnetogan.data import QuantileReference, calibrate_euv_map, prepare_input_map, quiet_sun_quantiles
from sunpy_magnetogan.data.solo import (
    EUI_FSI304_PRODUCT,
    FSI_PLATE_SCALE,
    PHI_FDT_BLOS_PRODUCT,
    intercalibrate_fsi,
    is_eui_fsi,
    is_phi_fdt_blos,
    phi_to_hmi,
    search_solo,
    soar_query,
)
from sunpy_magnetogan.exceptions import InputMapError, UncalibratedInputWarning, UnsupportedInstrumentError
from sunpy_magnetogan.generate import generate_magnetogram
from sunpy_magnetogan.mapsource import MagnetoGANMap
from sunpy_magnetogan.metrics import compare_maps
from sunpy_magnetogan.preprocess import prepare_euv_map
from sunpy_magnetogan.sample import SAMPLE_AIA304
from sunpy_magnetogan.synthetic import SyntheticSun, observe_euvi, observe_hmi, stereo_observer
from sunpy_magnetogan.tracking import detect_active_regions, make_synoptic_map
from sunpy_magnetogan.validation import euv_instrument, validate_euv_map, validate_magnetogram_map

from .helpers_solo import EUI_FSI_KEYWORDS, PHI_FDT_BLOS_KEYWORDS, relabel

TIME = "2014-09-11T00:00"
FSI_HEADER = "solo_L1_eui-fsi304-image_20201021T145510206_V03.header"
#: The PHI/FDT keywords that say what the file is (values of the real phi-fdt-blos product).
PHI_KEYWORDS = {
    **PHI_FDT_BLOS_KEYWORDS,
    "filename": "solo_L2_phi-fdt-blos_20140911T000000_V01_0000000000.fits",
}
#: The EUI/FSI keywords (values of the real eui-fsi304-image level-2 product).
FSI_KEYWORDS = {**EUI_FSI_KEYWORDS, "wavelnth": 304, "waveunit": "Angstrom"}


@pytest.fixture(scope="module")
def sun():
    return SyntheticSun(3004)


@pytest.fixture(scope="module")
def solo():
    """A Solar Orbiter-like observer behind the Sun."""
    return stereo_observer(TIME, 150 * u.deg, lat=15 * u.deg, distance=0.8 * u.AU)


@pytest.fixture(scope="module")
def fsi(sun, solo):
    euvi = observe_euvi(sun, TIME, solo, npix=256)
    meta_exposure = float(euvi.meta["exptime"])
    fsi = relabel(euvi, {**FSI_KEYWORDS, "xposure": meta_exposure})
    return fsi._new_instance(np.asarray(fsi.data) / meta_exposure, fsi.meta)  # DN/s, as level 2


@pytest.fixture(scope="module")
def phi(sun, solo):
    return relabel(observe_hmi(sun, TIME, solo, npix=256), PHI_KEYWORDS)


def test_sunpy_reads_the_eui_fsi_304_header_and_the_package_accepts_it():
    fsi = get_dummy_map_from_header(get_test_filepath(FSI_HEADER))
    assert isinstance(fsi, sunpy.map.sources.EUIMap)
    assert (fsi.instrument, fsi.detector, fsi.observatory) == ("EUI", "FSI", "Solar Orbiter")
    assert is_eui_fsi(fsi)
    assert euv_instrument(fsi) == "FSI"
    assert validate_euv_map(fsi) == "FSI"
    # the HRI telescopes are not full-disk 304 A imagers
    meta = fsi.meta.copy()
    meta["detector"] = "HRI_EUV"
    meta["telescop"] = "SOLO/EUI/HRI_EUV"
    hri = sunpy.map.Map(fsi.data, meta)
    assert not is_eui_fsi(hri)
    with pytest.raises(UnsupportedInstrumentError, match="EUI/FSI"):
        validate_euv_map(hri)


def test_fsi_plate_scale_is_the_full_resolution_one():
    # 3072 px over 3.8 deg
    assert FSI_PLATE_SCALE.to_value(u.arcsec / u.pix) == pytest.approx(3.8 * 3600 / 3072, rel=0.01)


def test_generate_magnetogram_from_an_fsi_image(fsi, solo):
    assert isinstance(fsi, sunpy.map.sources.EUIMap)
    prepared = prepare_euv_map(fsi)
    assert prepared.data.shape == (512, 512)
    generated = generate_magnetogram(fsi, device="cpu")
    assert isinstance(generated, MagnetoGANMap)
    assert generated.meta["src_det"] == "FSI"
    assert "FSI" in generated.nickname
    observer = generated.observer_coordinate
    assert observer.radius.to_value(u.AU) == pytest.approx(0.8, rel=1e-3)
    assert observer.lat.to_value(u.deg) == pytest.approx(15, abs=1e-3)


def test_intercalibrate_fsi_records_the_fit(fsi):
    reference = QuantileReference.from_quantiles([quiet_sun_quantiles(sunpy.map.Map(SAMPLE_AIA304))])
    matched = intercalibrate_fsi(fsi, reference=reference)
    assert isinstance(matched, sunpy.map.sources.EUIMap)
    assert matched.meta["icalmeth"].startswith("quiet-Sun percentile power law")
    assert 0.25 <= matched.meta["icalgamm"] <= 4
    assert "EUI/FSI to AIA-304" in str(matched.meta["history"])
    # its quiet Sun now has the reference's percentiles
    after = quiet_sun_quantiles(matched, levels=reference.levels)
    assert np.allclose(np.log(after), np.log(reference.values), atol=0.15)
    with pytest.raises(TypeError, match="EUI/FSI"):
        intercalibrate_fsi(sunpy.map.Map(SAMPLE_AIA304), reference=reference)


def test_phi_fdt_blos_is_truth_on_the_hmi_scale(phi, fsi):
    assert is_phi_fdt_blos(phi)
    phi_class = getattr(sunpy.map.sources, "PHIMap", None)  # sunpy >= 7.1 has a PHI source
    if phi_class is not None:
        assert isinstance(phi, phi_class)
    assert not is_phi_fdt_blos(fsi)
    scaled = phi_to_hmi(phi, factor=0.8, reference="test factor")
    assert scaled.meta["phi2hmi"] == 0.8
    assert scaled.meta["phi2href"] == "test factor"
    assert "PHI/FDT to HMI scale" in str(scaled.meta["history"])
    disk = np.isfinite(phi.data) & (phi.data != 0)
    assert np.allclose(scaled.data[disk], 0.8 * phi.data[disk], rtol=1e-5)
    assert validate_magnetogram_map(scaled) == 1 * u.G
    with pytest.raises(InputMapError, match="already"):
        phi_to_hmi(scaled, factor=0.8, reference="twice")
    with pytest.raises(InputMapError, match="PHI/FDT"):
        phi_to_hmi(fsi, factor=0.8, reference="not a magnetogram")
    with pytest.raises(ValueError, match="positive"):
        phi_to_hmi(phi, factor=-1, reference="x")
    with pytest.raises(ValueError, match="reference"):
        phi_to_hmi(phi, factor=1.0, reference=" ")
    # no published PHI/FDT-to-HMI factor holds in general (issue #18): the caller gives one
    with pytest.raises(TypeError, match="factor"):
        phi_to_hmi(phi, reference="no factor")


def test_phi_truth_scores_tracks_and_maps_a_farside_prediction(phi, fsi):
    truth = phi_to_hmi(phi, factor=1.0, reference="identity (synthetic truth)")
    generated = generate_magnetogram(fsi, device="cpu")
    scores = compare_maps(truth, generated, reproject=True)
    assert np.isfinite(scores["cc"])
    assert scores["flux_true"] > 0 * u.Mx
    regions = detect_active_regions(truth)
    assert len(regions) >= 1
    assert regions.meta["observer"]
    synoptic = make_synoptic_map([truth], shape=(45, 90))
    covered = np.isfinite(synoptic.map.data)
    # seen from behind the Sun: observed far side, not a prediction
    assert np.nanmedian(synoptic.farside.data[covered]) == 1
    assert not synoptic.farside_prediction_mask().any()


def test_soar_queries_name_the_products():
    pytest.importorskip("sunpy_soar")
    query = soar_query("2022-03-08T00:00", "2022-03-08T06:00", PHI_FDT_BLOS_PRODUCT)
    text = repr(query)
    assert "phi-fdt-blos" in text
    assert "PHI" in text
    assert "eui-fsi304-image" in repr(soar_query("2022-03-08", "2022-03-09", EUI_FSI304_PRODUCT))
    with pytest.raises(ValueError, match="product"):
        soar_query("2022-03-08", "2022-03-09", "phi-hrt-blos")
    with pytest.raises(ValueError, match="empty"):
        soar_query("2022-03-09", "2022-03-08", PHI_FDT_BLOS_PRODUCT)


@pytest.mark.remote_data
def test_search_solo_finds_fsi_and_phi_fdt_records():
    # Solar Orbiter's March 2022 inferior conjunction, used by both PHI-HMI comparisons.
    pytest.importorskip("sunpy_soar")
    results = search_solo("2022-03-08T00:00", "2022-03-08T12:00")
    assert set(results) == {EUI_FSI304_PRODUCT, PHI_FDT_BLOS_PRODUCT}
    for product, response in results.items():
        assert len(response) >= 1, product
        assert len(response[0]) >= 1, product


def test_calibrate_euv_map_intercalibrates_fsi_like_euvi(fsi):
    # The EUV path of the data pipeline (and prepare_input_map): FSI needs the AIA reference.
    reference = QuantileReference.from_quantiles([quiet_sun_quantiles(sunpy.map.Map(SAMPLE_AIA304))])
    with pytest.raises(ValueError, match="FSI"):
        calibrate_euv_map(fsi)
    result = calibrate_euv_map(fsi, reference=reference)
    assert "icalgamm" in result.map.meta
    assert result.steps["intercalibration"].startswith("done")
    assert np.isfinite(prepare_input_map(fsi, reference=reference).data).all()


def test_unscaled_phi_truth_is_flagged(phi, fsi):
    # A PHI map used as truth before phi_to_hmi says so; once scaled it is silent.
    with pytest.warns(UncalibratedInputWarning, match="phi_to_hmi"):
        validate_magnetogram_map(phi)
    with pytest.warns(UncalibratedInputWarning, match="HMI scale"):
        detect_active_regions(phi)
    scaled = phi_to_hmi(phi, factor=1.0, reference="identity (synthetic truth)")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        validate_magnetogram_map(scaled)

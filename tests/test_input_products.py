"""
Input products read right: Helioviewer JPEG2000, AIA level 1 / 1.5 FITS, EUVI level 0.5 / 1,
MDI and HMI magnetograms, and the refusal of what cannot be read right.

The products are built from one synthetic scene (the packaged sample's Sun and date, without
noise so that only the product and its preparation differ), written to disk in each format
and read back with `sunpy.map.Map`, as a user's files would be.
"""

import warnings

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from scipy import ndimage

from sunpy_magnetogan.data import CalibrationTables
from sunpy_magnetogan.data.inputs import InputPreparation, calibrate_euv_map, prepare_input_map
from sunpy_magnetogan.exceptions import (
    CalibrationWarning,
    CorruptFileError,
    InvalidDataError,
    PartialDiskWarning,
    SaturationWarning,
    UnsupportedProductError,
)
from sunpy_magnetogan.generate import generate_magnetogram
from sunpy_magnetogan.helioviewer import (
    HELIOVIEWER_KEYWORDS,
    HELIOVIEWER_SCALINGS,
    linearize_helioviewer,
    to_helioviewer_map,
)
from sunpy_magnetogan.metrics import magnetic_flux
from sunpy_magnetogan.preprocess import prepare_euv_map, prepare_magnetogram_map
from sunpy_magnetogan.products import MDI_TO_HMI, identify_euv_product
from sunpy_magnetogan.sample import SAMPLE_DATE, SAMPLE_HMI, SAMPLE_SEED
from sunpy_magnetogan.synthetic import SyntheticSun, observe_aia, observe_euvi, stereo_observer
from sunpy_magnetogan.synthetic.sources import MSH
from sunpy_magnetogan.tracking.detection import detect_active_regions
from sunpy_magnetogan.validation import read_map

from .helpers_aia import aia304_correction_table

pytest.importorskip("glymur", reason="writing and reading JPEG2000 needs glymur")

NPIX = 1024
#: Header of a JSOC AIA file, as opposed to the synthetic one (``ORIGIN`` marks synthetic images).
JSOC = {"origin": "SDO/JSOC-SDP", "telescop": "SDO/AIA", "instrume": "AIA_4"}
#: Quiet-Sun count rate (DN/s) of the real 2021-06-01 Helioviewer file once its byte scale is
#: inverted (median of the central 1200 x 1200 px): AIA 304 has lost most of its early
#: sensitivity, so jp2gen's 250 DN/s ceiling lies 90 times above the quiet Sun.
QUIET_RATE_2021 = 2.8


def _at_rate(smap, rate):
    """The image scaled so that its disk-centre median is ``rate`` DN/s (as a degraded AIA)."""
    n = smap.data.shape[0]
    centre = np.median(smap.data[n // 2 - n // 7 : n // 2 + n // 7, n // 2 - n // 7 : n // 2 + n // 7])
    factor = rate * smap.exposure_time.to_value(u.s) / centre
    return sunpy.map.Map(smap.data * np.float32(factor), smap.meta)


def _compare(a, b):
    """Pixel CC on the common valid disk and the ratio of total unsigned fluxes."""
    both = np.isfinite(a.data) & np.isfinite(b.data)
    cc = np.corrcoef(a.data[both], b.data[both])[0, 1]
    ratio = (magnetic_flux(a).total_unsigned / magnetic_flux(b).total_unsigned).to_value(u.one)
    return cc, ratio


def _quiet(*args, **kwargs):
    """Run prepare_input_map / generate_magnetogram without the offline degradation warning."""
    func, *rest = args
    with pytest.warns(CalibrationWarning, match="degradation"):
        return func(*rest, **kwargs)


@pytest.fixture(scope="module")
def sun():
    return SyntheticSun(SAMPLE_SEED)


@pytest.fixture(scope="module")
def level15_dn(sun):
    """A level-1.5 AIA image as the JSOC serves it (aia.lev1p5: DN, EXPTIME 2.9 s), 2021 count rates."""
    aia = _at_rate(observe_aia(sun, SAMPLE_DATE, npix=NPIX, noise=False), QUIET_RATE_2021)
    return sunpy.map.Map(aia.data, {**aia.meta, **JSOC, "lvl_num": 1.5})


@pytest.fixture(scope="module")
def fits_path(level15_dn, tmp_path_factory):
    path = tmp_path_factory.mktemp("products") / "aia_304_lev1p5.fits"
    level15_dn.save(path)
    return path


@pytest.fixture(scope="module")
def jp2_path(level15_dn, tmp_path_factory):
    path = tmp_path_factory.mktemp("products") / "2014_02_05__12_00_00_000__SDO_AIA_AIA_304.jp2"
    to_helioviewer_map(level15_dn).save(path)
    return path


@pytest.fixture(scope="module")
def from_fits(fits_path):
    return _quiet(generate_magnetogram, sunpy.map.Map(fits_path))


def test_scaling_round_trip_is_within_half_a_byte():
    scaling = HELIOVIEWER_SCALINGS["AIA", "304", "hvs_version5.pro"]
    rng = np.random.default_rng(0)
    dn = rng.uniform(0, 2000, size=(64, 64))
    dn[0, :2] = (0.5, 1000.0)  # reach both clip limits (0.8 and 250 DN/s at 2.9 s)
    data = scaling.to_bytes(dn, 2.9)
    assert data.dtype == np.uint8
    assert data.min() == 0
    assert data.max() == 255
    back = scaling.from_bytes(data, 2.9, datamin=dn.min(), datamax=dn.max())
    expected = np.clip(dn / 2.9, 0.8, 250.0)
    half_bin = 0.5 * np.log10(250 / 0.8) / 255.9999
    assert np.abs(np.log10(back / expected)).max() <= half_bin * 1.001


def test_helioviewer_jp2_and_float_fits_give_the_same_magnetogram(jp2_path, from_fits):
    jp2 = sunpy.map.Map(jp2_path)
    assert jp2.data.dtype == np.uint8
    assert jp2.meta["hv_hvs_details_filename"] == "hvs_version5.pro"
    assert identify_euv_product(jp2).kind == "aia-helioviewer-jp2"
    from_jp2 = _quiet(generate_magnetogram, jp2)
    cc, ratio = _compare(from_jp2, from_fits)
    assert cc >= 0.98
    assert abs(ratio - 1) <= 0.05
    assert from_jp2.meta["mganprod"].startswith("aia-helioviewer-jp2")
    assert "BYTSCL(log10) inverted" in from_jp2.meta["mgancal"]


def test_a_display_ceiling_inside_the_model_range_is_reported(sun):
    # Early in the mission the quiet Sun gave some 50 DN/s: jp2gen's 250 DN/s ceiling then
    # flattens plage brighter than five times the quiet Sun, which the model still resolves.
    early = observe_aia(sun, SAMPLE_DATE, npix=512, noise=False)
    jp2 = to_helioviewer_map(sunpy.map.Map(early.data, {**early.meta, **JSOC}))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prepare_input_map(jp2)
    messages = [str(w.message) for w in caught if issubclass(w.category, SaturationWarning)]
    assert any(m.startswith("this Helioviewer file clips the image at 250 DN / s") for m in messages)


def test_helioviewer_bytes_are_never_read_as_linear(jp2_path):
    jp2 = sunpy.map.Map(jp2_path)
    with pytest.raises(UnsupportedProductError, match="byte-scaled display values"):
        prepare_euv_map(jp2)
    # Read as linear, the log-compressed bytes flatten the plage: the prepared images differ.
    linear = linearize_helioviewer(jp2)
    misread = sunpy.map.Map(jp2.data.astype(np.float32), linear.meta)
    right = _quiet(prepare_input_map, jp2)
    wrong = prepare_euv_map(misread)
    disk = right.disk & wrong.disk
    assert np.percentile(right.data[disk], 99.5) > np.percentile(wrong.data[disk], 99.5) + 0.1


def test_display_products_of_unknown_scaling_are_refused(level15_dn, jp2_path):
    eight_bit = sunpy.map.Map(np.clip(level15_dn.data / 4, 0, 255).astype(np.uint8), level15_dn.meta)
    with pytest.raises(UnsupportedProductError, match="8-bit display values"):
        generate_magnetogram(eight_bit)
    other_setup = sunpy.map.Map(jp2_path)
    other_setup.meta["hv_hvs_details_filename"] = "hvs_default_aia.pro"
    with pytest.raises(
        UnsupportedProductError, match="hvs_default_aia.pro: its byte scaling is not documented"
    ):
        generate_magnetogram(other_setup)


def test_helioviewer_euvi_and_hmi_products_are_refused(sun):
    euvi = observe_euvi(sun, SAMPLE_DATE, stereo_observer(SAMPLE_DATE, -60 * u.deg), npix=256, noise=False)
    euvi_jp2 = sunpy.map.Map(
        euvi.data.astype(np.uint8), {**euvi.meta, **HELIOVIEWER_KEYWORDS, "origin": "NRL"}
    )
    with pytest.raises(UnsupportedProductError, match="scc_bytscl"):
        prepare_input_map(euvi_jp2)
    hmi = sunpy.map.Map(SAMPLE_HMI)
    hmi_jp2 = to_helioviewer_map(hmi)
    assert hmi_jp2.meta["hv_hvs_details_filename"] == "hvs_default_hmi.pro"
    back = linearize_helioviewer(hmi_jp2)
    assert back.unit == u.G
    finite = np.isfinite(hmi.data)  # jp2gen's BYTSCL(/NAN) leaves off-disk NaNs at byte 0
    np.testing.assert_allclose(back.data[finite], np.clip(hmi.data[finite], -250, 250), atol=500 / 256)
    with pytest.raises(UnsupportedProductError, match="250 G"):
        prepare_magnetogram_map(hmi_jp2)


def test_level1_and_level15_fits_give_the_same_magnetogram(sun, fits_path, from_fits, tmp_path):
    # Level 1 of the same scene: the detector frame (CROTA2 = -0.13 deg as in the real
    # 2021 header), counts in DN, no LVL 1.5 processing; and a level 1.5 in DN/s, as aiapy
    # (register + exposure normalisation) or a VSO/JSOC export gives it.
    rolled = _at_rate(observe_aia(sun, SAMPLE_DATE, npix=NPIX, roll=-0.131639, noise=False), QUIET_RATE_2021)
    level1 = sunpy.map.Map(rolled.data, {**rolled.meta, **JSOC, "lvl_num": 1.0})
    rate = sunpy.map.Map(fits_path)
    rate = sunpy.map.Map(rate.data / np.float32(2.9), {**rate.meta, "bunit": "DN/S", "exptime": 1.0})
    for product, kind in ((level1, "aia-l1"), (rate, "aia-l1.5")):
        path = tmp_path / f"{kind}.fits"
        product.save(path)
        product = sunpy.map.Map(path)
        assert identify_euv_product(product).kind == kind
        generated = _quiet(generate_magnetogram, product)
        cc, ratio = _compare(generated, from_fits)
        assert cc >= 0.98, kind
        assert abs(ratio - 1) <= 0.05, kind
    assert "exposure: skipped: already a rate" in generated.meta["mgancal"]


def test_aia_missing_and_odd_keywords(level15_dn):
    no_level = sunpy.map.Map(level15_dn.data, {k: v for k, v in level15_dn.meta.items() if k != "lvl_num"})
    assert identify_euv_product(no_level).kind == "aia-l1"
    no_exposure = sunpy.map.Map(level15_dn.data, {**level15_dn.meta, "exptime": 0.0})
    with pytest.raises(InvalidDataError, match="no usable exposure time"):
        prepare_input_map(no_exposure)
    level0 = sunpy.map.Map(level15_dn.data, {**level15_dn.meta, "lvl_num": 0.0})
    with pytest.raises(UnsupportedProductError, match="level-0"):
        prepare_input_map(level0)


def test_degradation_is_skipped_with_a_warning_that_names_it(level15_dn):
    with pytest.warns(
        CalibrationWarning, match="AIA degradation correction skipped.*no degradation correction table"
    ):
        prepared = prepare_input_map(level15_dn)
    assert prepared.report["calibration"]["degradation"].startswith(
        "skipped: no degradation correction table"
    )
    # Synthetic images have no degradation: nothing to warn about.
    synthetic = sunpy.map.Map(level15_dn.data, {**level15_dn.meta, "origin": "sunpy_magnetogan.synthetic"})
    assert "not applicable" in prepare_input_map(synthetic).report["calibration"]["degradation"]


def test_saturated_frames_warn_then_are_refused(level15_dn):
    preparation = InputPreparation()
    data = np.array(level15_dn.data)
    centre = NPIX // 2
    radius_px = 400  # the disk is about 405 px in radius at 2.4 arcsec
    disk_pixels = np.pi * radius_px**2
    for fraction, expect in ((0.002, SaturationWarning), (0.03, InvalidDataError)):
        side = int(np.sqrt(fraction * disk_pixels))
        flare = data.copy()
        flare[centre : centre + side, centre : centre + side] = 16383.0
        smap = sunpy.map.Map(flare, level15_dn.meta)
        if expect is SaturationWarning:
            assert preparation.warn_saturated_fraction < fraction < preparation.max_saturated_fraction
            with (
                pytest.warns(SaturationWarning, match="at or above 15000 DN"),
                pytest.warns(CalibrationWarning),
            ):
                prepare_input_map(smap)
        else:
            with pytest.raises(InvalidDataError, match="more than the 1%"):
                prepare_input_map(smap)


def test_partial_disks_below_the_stated_fraction_are_refused(level15_dn):
    corner = level15_dn.submap([0, 0] * u.pix, top_right=[NPIX // 2 - 120, NPIX // 2 - 120] * u.pix)
    with pytest.raises(InvalidDataError, match="less than the 25%"), pytest.warns(PartialDiskWarning):
        prepare_input_map(corner)


@pytest.mark.parametrize("observatory", ["STEREO_A", "STEREO_B"])
def test_euvi_level05_and_level1_prepare_alike(sun, observatory, tmp_path):
    lon = -75 * u.deg if observatory == "STEREO_A" else 80 * u.deg
    euvi = observe_euvi(
        sun, SAMPLE_DATE, stereo_observer(SAMPLE_DATE, lon), npix=512, noise=False, observatory=observatory
    )
    meta = {**euvi.meta, "origin": "NRL", "nmissing": 0, "summed": 1.0}
    bias = 724.545  # BIASMEAN of the real EUVI header in ../shared
    level05 = sunpy.map.Map(euvi.data + np.float32(bias), {**meta, "biasmean": bias, "offsetcr": 0.0})
    level1 = sunpy.map.Map(
        euvi.data / np.float32(8.0), {**meta, "bunit": "DN/s", "exptime": 1.0, "offsetcr": bias}
    )
    preparation = InputPreparation(euvi_intercalibration="off")
    prepared = {}
    for name, smap in (("0.5", level05), ("1", level1)):
        path = tmp_path / f"euvi_{name}.fts"
        smap.save(path)
        smap = sunpy.map.Map(path)
        assert identify_euv_product(smap).kind == f"euvi-l{name}"
        prepared[name] = prepare_input_map(smap, preparation=preparation)
    steps = prepared["0.5"].report["calibration"]
    assert steps["bias"] == f"done ({bias:g} DN)"
    assert steps["exposure"].startswith("done (EXPTIME 8")
    assert prepared["1"].report["calibration"]["bias"].startswith("skipped: already calibrated")
    np.testing.assert_allclose(prepared["0.5"].data, prepared["1"].data, atol=2e-3)
    assert prepared["0.5"].geometry.source["observatory"] == observatory.replace("_", " ")


def test_mdi_is_put_on_the_hmi_scale():
    hmi = sunpy.map.Map(SAMPLE_HMI)
    mdi = sunpy.map.Map(
        MDI_TO_HMI * hmi.data, {**hmi.meta, "telescop": "SOHO", "instrume": "MDI", "detector": "MDI"}
    )
    as_hmi = prepare_magnetogram_map(hmi)
    from_mdi = prepare_magnetogram_map(mdi)
    np.testing.assert_allclose(from_mdi.data, as_hmi.data, atol=1e-3)
    assert from_mdi.report["scale"].startswith("MDI divided by 1.4")
    assert as_hmi.report["scale"] == "none (HMI scale)"


def test_calibration_steps_say_what_each_product_got(level15_dn):
    with pytest.warns(CalibrationWarning):
        steps = calibrate_euv_map(level15_dn).steps
    assert steps["product"].startswith("aia-l1.5")
    assert steps["exposure"] == "done (EXPTIME 2.9 s)"
    assert steps["saturation"].startswith("0.000% of the disk")


def test_constructed_jp2_carries_the_real_products_keywords(real_aia304_map, jp2_path):
    real_hv = {k for k in real_aia304_map.meta if k.startswith("hv_")}
    ours = sunpy.map.Map(jp2_path).meta
    assert real_hv <= set(ours)
    for key in ("hv_hvs_details_filename", "hv_hvs_details_filename_version", "hv_jp2gen_version"):
        assert ours[key] == real_aia304_map.meta[key]
    assert ours["datamin"] < ours["datamax"]  # as in the real product: the statistics of the FITS image


@pytest.fixture(scope="module")
def real_generated(real_aia304_map):
    with pytest.warns(CalibrationWarning, match="degradation"):
        return generate_magnetogram(real_aia304_map)


def test_real_jp2_flux_lies_in_the_range_hmi_shows_at_the_model_resolution(real_generated, real_hmi_map):
    # The range, measured with the same flux definition (|B| > 10 G, mu > 0.1) on the real
    # HMI magnetogram of 2011-12-17 (near the cycle-24 maximum, 8 active regions) put on the
    # same model grid: at most its total (the 2021-06-01 disk, early in cycle 25, is less
    # active), at least half its flux outside active regions (the network of a disk without
    # regions, halved for the weaker network of the rising phase).
    hmi = prepare_magnetogram_map(real_hmi_map)
    truth = sunpy.map.Map(np.where(hmi.disk, hmi.data, np.nan), {**hmi.geometry.header(), "bunit": "G"})
    total = magnetic_flux(truth).total_unsigned
    _, labels = detect_active_regions(truth, return_labels=True)
    network = magnetic_flux(truth, mask=np.asarray(labels.data) == 0).total_unsigned
    assert 5e22 * u.Mx < network < total < 1.2e23 * u.Mx
    flux = magnetic_flux(real_generated).total_unsigned
    assert 0.5 * network <= flux <= total
    # Read as if linear (before this package inverted the scaling) it was ten times lower.
    assert 1000 * u.G < np.nanmax(np.abs(real_generated.data)) * u.G < 3000 * u.G


def test_real_jp2_large_active_region_is_detected_where_the_304_plage_is(real_generated, real_aia304_map):
    regions = detect_active_regions(real_generated)
    largest = regions[np.argmax(regions["area"])]
    assert largest["unsigned_flux"] > 1e22 * u.Mx
    assert largest["area"] > 1000 * MSH
    # The brightest plage of the 304 A image (smoothed over 40 arcsec) lies in that region.
    linear = linearize_helioviewer(real_aia304_map).superpixel((16, 16) * u.pix)
    smooth = ndimage.gaussian_filter(np.nan_to_num(linear.data), 1.0)
    y, x = np.unravel_index(np.argmax(smooth), smooth.shape)
    brightest = linear.wcs.pixel_to_world(x, y)
    distance = np.hypot(brightest.Tx - largest["hpc_x"], brightest.Ty - largest["hpc_y"])
    assert distance < 150 * u.arcsec


def test_real_euvi_header_runs_the_level05_path_to_a_far_side_magnetogram(real_euvi171_path):
    # The real STEREO-A level-0.5 file is a 171 A image: relabelled 304 A, it runs the path
    # of a real EUVI 304 A file (its bias, exposure, observer and WCS keywords).
    original = sunpy.map.Map(real_euvi171_path)
    euvi = sunpy.map.Map(original.data, dict(original.meta, wavelnth=304))
    generated = generate_magnetogram(euvi)
    assert generated.meta["mganprod"].startswith("euvi-l0.5")
    assert "bias: done (724.545 DN)" in generated.meta["mgancal"]
    assert "intercalibration: off" in generated.meta["mgancal"]
    separation = generated.observer_coordinate.separation_3d(euvi.observer_coordinate)
    assert separation.to_value(u.m) < 1


def test_degradation_is_corrected_when_the_table_is_given(level15_dn):
    # aiapy's table format (as aiapy.calibrate.util.get_correction_table returns it): the
    # effective area at the sample date is 0.5 of that at the mission's start.
    pytest.importorskip("aiapy")
    table = aia304_correction_table("2013-01-01T00:00:00", (2.0, 1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", CalibrationWarning)  # nothing skipped, nothing to warn about
        calibrated = calibrate_euv_map(level15_dn, tables=CalibrationTables(correction=table))
    assert calibrated.steps["degradation"] == "done (factor 0.5000)"
    np.testing.assert_allclose(calibrated.map.data, level15_dn.data / 2.9 / 0.5, rtol=1e-5)


@pytest.mark.parametrize("suffix", [".png", ".jpg"])
def test_png_and_jpeg_exports_are_refused_when_read(level15_dn, tmp_path, suffix):
    PIL = pytest.importorskip("PIL.Image")
    path = tmp_path / f"aia_304{suffix}"
    PIL.fromarray(np.clip(level15_dn.data, 0, 255).astype(np.uint8)).save(path)
    with pytest.raises(CorruptFileError, match="could not be read as a solar image|not currently supported"):
        read_map(path)

"""Quality rejection on real headers made bad, AIA prep with aiapy, EUVI calibration."""

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from astropy.table import QTable
from astropy.time import Time

from sunpy_magnetogan.data.calibrate import (
    CalibrationTables,
    QualityPolicy,
    assess_quality,
    calibrate_euvi_map,
    check_quality,
    is_display_product,
    prep_aia_map,
)
from sunpy_magnetogan.exceptions import InputMapError, QualityRejectedError

from .helpers_aia import aia304_correction_table


def _with_header(smap, size=64, **changes):
    """A small map carrying a (modified) copy of a real header: enough for header checks."""
    meta = smap.meta.copy()
    for key, value in changes.items():
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    return sunpy.map.Map(np.ones((size, size), dtype=np.float32), meta)


@pytest.fixture(scope="module")
def real_euvi_map(real_euvi171_path):
    return sunpy.map.Map(real_euvi171_path)


# --- quality ---------------------------------------------------------------------------


def test_real_headers_pass_with_their_harmless_flags(real_aia304_map, real_hmi_map, real_euvi_map):
    aia = assess_quality(real_aia304_map)
    assert aia.ok
    assert aia.quality == 0x40000000
    assert aia.flags == ("bit 30: near-real-time (quicklook) image",)
    hmi = assess_quality(real_hmi_map)
    assert hmi.ok
    assert hmi.quality == 0x10400
    assert len(hmi.flags) == 2
    assert hmi.missing_fraction == 0
    assert assess_quality(real_euvi_map).ok
    strict = QualityPolicy(reject_near_real_time=True)
    assert assess_quality(real_aia304_map, policy=strict).reasons == (
        "QUALITY bit 30: near-real-time (quicklook) image",
    )


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"quality": 1 << 13}, "QUALITY bit 13: spacecraft eclipse"),
        ({"quality": "0x00002000"}, "QUALITY bit 13: spacecraft eclipse"),
        ({"acs_eclp": "YES"}, "spacecraft eclipse (ACS_ECLP = YES)"),
        ({"acs_mode": "ECLIPSE"}, "not in science mode"),
        ({"img_type": "DARK"}, "dark frame"),
        ({"quality": 1 << 31}, "image not available"),
        ({"quality": 1 << 16}, "dark image"),
        ({"missvals": 300_000}, "1.8% of the pixels are missing"),
        ({"exptime": 0.0}, "no usable exposure time"),
        ({"exptime": None}, "no usable exposure time"),
    ],
)
def test_bad_aia_headers_are_rejected(real_aia304_map, changes, reason):
    report = assess_quality(_with_header(real_aia304_map, **changes))
    assert not report.ok
    assert any(reason in r for r in report.reasons), report.reasons


@pytest.mark.parametrize(
    ("quality", "ok", "text"),
    [
        (0x80000000, False, "no data"),
        (0x00000100, False, "eclipse"),
        (0x00004000, False, "stabilisation loop open"),
        (0x00000020, False, "poor quality"),
        (0x00000040, True, "HFTSACID"),
        (0x00000000, True, None),
    ],
)
def test_hmi_quality_bits(real_hmi_map, quality, ok, text):
    report = assess_quality(_with_header(real_hmi_map, quality=quality))
    assert report.ok is ok
    if text:
        assert any(text in f for f in report.flags)
        assert any(text in r for r in report.reasons) is (not ok)


def test_hmi_missing_data_fraction(real_hmi_map):
    totvals = real_hmi_map.meta["totvals"]
    assert assess_quality(_with_header(real_hmi_map, missvals=int(0.005 * totvals))).ok
    report = assess_quality(_with_header(real_hmi_map, missvals=int(0.05 * totvals)))
    assert not report.ok
    assert report.missing_fraction == pytest.approx(0.05, rel=1e-3)
    assert assess_quality(
        _with_header(real_hmi_map, missvals=int(0.05 * totvals)),
        policy=QualityPolicy(max_missing_fraction=0.1),
    ).ok


def test_euvi_missing_blocks(real_euvi_map):
    data = np.array(real_euvi_map.data)
    data[:32, :] = 0  # a zero-filled strip of missing telemetry blocks
    broken = sunpy.map.Map(data, dict(real_euvi_map.meta, nmissing=4))
    report = assess_quality(broken)
    assert not report.ok
    assert report.missing_fraction == pytest.approx(0.25)
    assert assess_quality(sunpy.map.Map(data, dict(real_euvi_map.meta, nmissing=0))).ok


def test_check_quality_raises_with_every_reason(real_aia304_map):
    bad = _with_header(real_aia304_map, acs_eclp="YES", img_type="DARK")
    with pytest.raises(QualityRejectedError, match=r"eclipse.*; dark frame") as info:
        check_quality(bad)
    assert isinstance(info.value, InputMapError)
    assert check_quality(real_aia304_map).ok
    with pytest.raises(InputMapError, match="not an integer"):
        assess_quality(_with_header(real_aia304_map, quality="bad"))


# --- AIA prep ----------------------------------------------------------------------------


def test_prep_skips_everything_for_the_helioviewer_jp2(real_aia304_map):
    assert is_display_product(real_aia304_map)
    result = prep_aia_map(real_aia304_map)
    assert result.map is real_aia304_map  # nothing done to it
    assert result.steps == {
        "update_pointing": "skipped: already level 1.5",
        "register": "skipped: already level 1.5",
        "exposure": "skipped: byte-scaled display product (JPEG2000), not DN",
        "degradation": "skipped: byte-scaled display product (JPEG2000), not DN",
    }
    assert "already level 1.5" in result.describe()


def _level1_aia(real_aia304_map, *, roll=2.0):
    """A 512 px level-1-like AIA 304 map in 'DN' (the real disk, binned 8x8), rolled."""
    meta = {k: v for k, v in real_aia304_map.meta.items() if not str(k).lower().startswith("hv_")}
    binned = real_aia304_map.data.reshape(512, 8, 512, 8).mean(axis=(1, 3)).astype(np.float32) * 10
    meta.update(
        naxis1=512,
        naxis2=512,
        cdelt1=4.8,
        cdelt2=4.8,
        crpix1=256.5,
        crpix2=256.5,
        crota2=roll,
        lvl_num=1.0,
        exptime=2.0,
    )
    return sunpy.map.Map(binned, meta)


def test_prep_level1_registers_normalises_and_corrects_degradation(real_aia304_map):
    pytest.importorskip("aiapy")
    level1 = _level1_aia(real_aia304_map)
    assert not is_display_product(level1)
    offline = prep_aia_map(level1)
    assert offline.steps["register"] == "done"
    assert offline.steps["exposure"] == "done (EXPTIME 2 s)"
    assert offline.steps["update_pointing"].startswith("skipped: no pointing table")
    assert offline.steps["degradation"].startswith("skipped: no degradation correction table")
    out = offline.map
    assert float(out.processing_level) == 1.5
    np.testing.assert_allclose(out.rotation_matrix, np.eye(2), atol=1e-10)
    assert out.unit == u.DN / u.s
    assert out.exposure_time == 1 * u.s
    # Registration conserves the disk brightness; exposure normalisation halves it.
    disk = out.data[200:312, 200:312].mean()
    assert disk == pytest.approx(level1.data[200:312, 200:312].mean() / 2, rel=0.03)

    tables = CalibrationTables(correction=aia304_correction_table("2021-01-01T00:00:00", (2.0, 0.5)))
    corrected = prep_aia_map(level1, tables=tables, register=False)
    assert corrected.steps["degradation"] == "done (factor 0.2500)"  # 0.5 / 2.0 cm2
    assert corrected.steps["register"].startswith("skipped: disabled")
    np.testing.assert_allclose(corrected.map.data, level1.data / 2.0 / 0.25, rtol=1e-5)


def test_prep_updates_the_pointing_from_a_table(real_aia304_map):
    pytest.importorskip("aiapy")
    level1 = sunpy.map.Map(real_aia304_map.data, dict(real_aia304_map.meta, lvl_num=1.0))
    table = QTable(
        {
            "T_START": Time(["2021-06-01T00:00:00"]),
            "T_STOP": Time(["2021-06-01T03:00:00"]),
            "A_304_X0": [2060.5] * u.pix,
            "A_304_Y0": [2010.25] * u.pix,
            "A_304_INSTROT": [-0.13] * u.deg,
            "A_304_IMSCALE": [0.6002] * u.arcsec / u.pix,
        }
    )
    result = prep_aia_map(level1, tables=CalibrationTables(pointing=table), register=False)
    assert result.steps["update_pointing"] == "done"
    meta = result.map.meta
    assert (meta["crpix1"], meta["crpix2"], meta["cdelt1"]) == (2061.5, 2011.25, 0.6002)
    assert meta["crota2"] == pytest.approx(-0.13 + real_aia304_map.meta["sat_rot"])
    late = table.copy()
    late["T_START"], late["T_STOP"] = Time(["2022-01-01"]), Time(["2022-01-02"])
    skipped = prep_aia_map(level1, tables=CalibrationTables(pointing=late), register=False)
    assert skipped.steps["update_pointing"].startswith("skipped: No valid entries")


def test_prep_refuses_other_instruments(real_hmi_map):
    with pytest.raises(TypeError, match="SDO/AIA"):
        prep_aia_map(real_hmi_map)


# --- EUVI calibration ----------------------------------------------------------------------


def test_euvi_bias_and_exposure(real_euvi_map):
    result = calibrate_euvi_map(real_euvi_map)
    meta = real_euvi_map.meta
    expected = (real_euvi_map.data - meta["biasmean"]) / meta["exptime"]
    np.testing.assert_allclose(result.map.data, expected, rtol=1e-5, atol=1e-4)
    assert result.map.unit == u.DN / u.s
    assert result.steps["bias"] == "done (724.545 DN)"
    assert result.steps["exposure"] == "done (EXPTIME 16.0074 s)"
    assert result.steps["flat_field_vignetting"].startswith("skipped")
    # Same observer and WCS.
    assert result.map.observer_coordinate.separation_3d(real_euvi_map.observer_coordinate) < 1 * u.m
    assert result.map.reference_pixel == real_euvi_map.reference_pixel
    # Calibrating twice does nothing more.
    again = calibrate_euvi_map(result.map)
    assert again.steps["bias"].startswith("skipped: already calibrated")
    np.testing.assert_array_equal(again.map.data, result.map.data)


def test_euvi_bias_subtracted_on_board_and_missing_blocks(real_euvi_map, real_aia304_map):
    data = np.array(real_euvi_map.data)
    data[:4, :] = 0
    onboard = sunpy.map.Map(data, dict(real_euvi_map.meta, offsetcr=724.5, nmissing=1))
    result = calibrate_euvi_map(onboard)
    assert result.steps["bias"].startswith("skipped: subtracted on board")
    assert np.isnan(result.map.data[:4]).all()
    assert np.isfinite(result.map.data[4:]).all()
    with pytest.raises(TypeError, match="EUVI"):
        calibrate_euvi_map(_with_header(real_aia304_map))

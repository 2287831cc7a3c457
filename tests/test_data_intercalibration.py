"""
EUVI-to-AIA intercalibration and the far-side input path.

The real STEREO-A EUVI file is a 171 A image; it is used as a 304 A image by copying its
header with ``WAVELNTH = 304`` (``euvi304_map``), so that the path runs exactly as for a
real 304 A image, with its real observer position, WCS, bias and exposure keywords. One
test also runs the original 171 A map with ``allow_other_wavelengths=True``.
"""

import astropy.units as u
import numpy as np
import pytest
import sunpy.map

from sunpy_magnetogan.data.calibrate import calibrate_euvi_map
from sunpy_magnetogan.data.intercalibration import (
    DEFAULT_LEVELS,
    QuantileReference,
    fit_intensity_mapping,
    intercalibrate_euvi,
    quiet_sun_quantiles,
)
from sunpy_magnetogan.data.prepare import prepare_input_map
from sunpy_magnetogan.exceptions import InvalidDataError, UnsupportedInputWarning
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.helioviewer import linearize_helioviewer
from sunpy_magnetogan.output import magnetogram_map


@pytest.fixture(scope="module")
def euvi304_map(real_euvi171_path):
    original = sunpy.map.Map(real_euvi171_path)
    return sunpy.map.Map(original.data, dict(original.meta, wavelnth=304))


@pytest.fixture(scope="module")
def calibrated_euvi(euvi304_map):
    return calibrate_euvi_map(euvi304_map).map


@pytest.fixture(scope="module")
def aia_reference(real_aia304_map):
    # The Helioviewer file's bytes put back in DN/s, as the input preparation does.
    return QuantileReference.from_maps([linearize_helioviewer(real_aia304_map)])


def test_fit_recovers_a_power_law_and_refuses_blank_images():
    source = np.array([1.0, 2.0, 5.0, 9.0])
    mapping = fit_intensity_mapping(source, 0.3 * source**1.7)
    assert mapping.gamma == pytest.approx(1.7)
    assert mapping.scale == pytest.approx(0.3)
    assert mapping.rms_log_residual == pytest.approx(0, abs=1e-12)
    np.testing.assert_allclose(mapping(np.array([4.0, -1.0, np.nan])), [0.3 * 4**1.7, 0, np.nan], rtol=1e-6)
    with pytest.raises(InvalidDataError, match="not positive and distinct"):
        fit_intensity_mapping([3.0, 3.0, 3.0], [1.0, 2.0, 3.0])
    with pytest.raises(InvalidDataError):
        fit_intensity_mapping([0.0, 1.0, 2.0], [1.0, 2.0, 3.0])


def test_reference_is_the_geometric_mean_and_round_trips(tmp_path):
    q = np.array([[10.0, 20.0, 40.0], [40.0, 80.0, 160.0], [np.nan, 1.0, 2.0]])
    ref = QuantileReference.from_quantiles(
        q, levels=(25, 50, 75), dates=["2011-01-01T00:00", "2012-06-01T12:00", "2013-01-01"]
    )
    assert ref.values == pytest.approx((20.0, 40.0, 80.0))
    assert ref.n_images == 2  # the row with a NaN is left out
    assert ref.date_start.startswith("2011-01-01")
    assert ref.date_end.startswith("2013-01-01")
    ref.save(tmp_path / "ref.json")
    assert QuantileReference.load(tmp_path / "ref.json") == ref
    with pytest.raises(ValueError, match="increasing"):
        QuantileReference(levels=(25, 50), values=(5.0, 4.0))
    with pytest.raises(ValueError, match="one value per level"):
        QuantileReference(levels=(25, 50, 75), values=(1.0, 2.0))


def test_a_known_contrast_change_is_undone(calibrated_euvi):
    # A reference that is the EUVI image itself with a different contrast (gamma 1.6):
    # intercalibration must find that power law and reproduce the reference percentiles.
    grid = ModelGrid(512)
    own = quiet_sun_quantiles(calibrated_euvi, grid=grid)
    assert np.all(np.diff(own) > 0)
    reference = QuantileReference(levels=DEFAULT_LEVELS, values=tuple(2.5 * own**1.6))
    mapped = intercalibrate_euvi(calibrated_euvi, reference=reference)
    assert mapped.meta["icalgamm"] == pytest.approx(1.6, rel=1e-3)
    assert mapped.meta["icalscal"] == pytest.approx(2.5, rel=1e-2)
    np.testing.assert_allclose(quiet_sun_quantiles(mapped, grid=grid), reference.values, rtol=0.05)
    # The two distributions differ in shape, not only in scale: no single factor (which
    # the per-image stretch would absorb) maps one onto the other.
    ratios = np.asarray(reference.values) / own
    assert ratios.max() / ratios.min() > 1.3


def test_real_euvi_header_to_aia_reference_keeps_the_stereo_observer(
    euvi304_map, calibrated_euvi, aia_reference
):
    mapped = intercalibrate_euvi(calibrated_euvi, reference=aia_reference)
    assert 0.25 < mapped.meta["icalgamm"] < 4
    assert mapped.meta["icalrms"] < 0.1
    assert mapped.meta["icalref"].startswith("AIA 304A 2021-06-01/2021-06-01 n=1")
    np.testing.assert_allclose(quiet_sun_quantiles(mapped), aia_reference.values, rtol=0.1)
    # Monotonic: the brightness order of the pixels is kept.
    finite = np.isfinite(calibrated_euvi.data) & (calibrated_euvi.data > 0)
    order = np.argsort(calibrated_euvi.data[finite])
    assert np.all(np.diff(mapped.data[finite][order]) >= 0)
    # Geometry untouched: STEREO-A at about 52 degrees from Earth.
    assert mapped.observer_coordinate.separation_3d(euvi304_map.observer_coordinate) < 1 * u.m
    assert mapped.observer_coordinate.lon.to_value(u.deg) == pytest.approx(51.8, abs=0.1)
    assert mapped.wcs.wcs.compare(euvi304_map.wcs.wcs)


def test_farside_input_path_keeps_the_stereo_geometry_in_the_output(euvi304_map, aia_reference):
    prepared = prepare_input_map(euvi304_map, reference=aia_reference)
    steps = prepared.report["calibration"]
    assert steps["bias"] == "done (724.545 DN)"
    assert steps["intercalibration"].startswith("done (gamma")
    assert prepared.data.shape == (512, 512)
    assert -1 <= prepared.data.min()
    assert prepared.data.max() <= 1
    assert prepared.report["disk_coverage"] > 0.99
    out = magnetogram_map(np.zeros((512, 512)), prepared.geometry, model_name="test")
    assert out.observer_coordinate.separation_3d(euvi304_map.observer_coordinate).to_value(u.m) < 1.0
    assert out.meta["src_obs"] == "STEREO A"  # sunpy's name of OBSRVTRY = STEREO_A
    with pytest.raises(ValueError, match="euv_reference.json"):
        prepare_input_map(euvi304_map)


def test_wrong_wavelength_needs_opt_in(real_euvi171_path, aia_reference):
    original = calibrate_euvi_map(sunpy.map.Map(real_euvi171_path)).map
    with pytest.raises(ValueError, match="304"):
        intercalibrate_euvi(original, reference=aia_reference)
    with pytest.warns(UnsupportedInputWarning, match="171"):
        mapped = intercalibrate_euvi(original, reference=aia_reference, allow_other_wavelengths=True)
    assert mapped.meta["wavelnth"] == 171


def test_intercalibration_refuses_aia_and_unlike_images(real_aia304_map, calibrated_euvi, aia_reference):
    with pytest.raises(TypeError, match="EUVI"):
        intercalibrate_euvi(real_aia304_map, reference=aia_reference)
    with pytest.raises(TypeError, match="QuantileReference"):
        intercalibrate_euvi(calibrated_euvi, reference=aia_reference.to_dict())
    steep = QuantileReference(levels=(10, 90), values=(1.0, 1e9))
    with pytest.raises(InvalidDataError, match="gamma"):
        intercalibrate_euvi(calibrated_euvi, reference=steep)

"""
Tests of the synthetic Sun seen from Solar Orbiter: the ephemeris, EUI/FSI 304 A and PHI/FDT B_los.

The reference products are the EUI/FSI file whose header sunpy's tests read
(``solo_L1_eui-fsi304-image_20201021T145510206_V03.header``, level 1: level 2 differs by
``LEVEL`` and ``BUNIT``) and the PHI/FDT file of 2024-03-05
(``solo_LL02_phi-fdt-blos_20240305T041509_V202405151730C_0403057611.header``, in sunpy's
test data from version 7.1: the values are copied here).
"""

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from astropy.time import Time
from erfa import ErfaWarning
from sunpy.coordinates import HeliocentricInertial
from sunpy.data.test import get_dummy_map_from_header, get_test_filepath

from sunpy_magnetogan.data.solo import is_eui_fsi, is_phi_fdt_blos, phi_to_hmi
from sunpy_magnetogan.generate import generate_magnetogram
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.mapsource import MagnetoGANMap
from sunpy_magnetogan.metrics import compare_maps
from sunpy_magnetogan.synthetic import (
    BENCHMARK_SPLIT,
    FSI304,
    PHI_FDT,
    SplitSpec,
    SyntheticSun,
    observe_fsi,
    observe_pair,
    observe_phi,
    open_synthetic_dataset,
    solo_observer,
    write_synthetic_dataset,
)
from sunpy_magnetogan.validation import validate_euv_map, validate_magnetogram_map

from .helpers_solo import PHI_FDT_BLOS_KEYWORDS

#: Behind the Sun (Stonyhurst longitude -177 deg), 0.93 AU, latitude 12 deg.
FARSIDE = "2027-06-01T00:00"
#: The perihelion of 2024-04-04 (0.29 AU).
PERIHELION = "2024-04-04T00:00"


@pytest.fixture(scope="module")
def sun():
    return SyntheticSun(2200)


@pytest.fixture(scope="module")
def farside_pair(sun):
    return observe_pair(sun, FARSIDE, solo_observer(FARSIDE), instrument="FSI", npix=256)


@pytest.mark.filterwarnings("ignore::erfa.ErfaWarning")  # leap seconds of 2028-2030 are not known yet
def test_orbit_stays_in_the_solar_orbiter_ranges_and_visits_the_far_side():
    times = Time("2022-01-01") + np.linspace(0, 9 * 365.25, 3000) * u.day
    solo = solo_observer(times)
    distance = solo.radius.to_value(u.AU)
    lat = solo.lat.to_value(u.deg)
    lon = solo.lon.wrap_at(180 * u.deg).to_value(u.deg)
    assert 0.28 <= distance.min() < 0.30
    assert 0.9 < distance.max() <= 1.02
    assert np.abs(lat).max() <= 35
    # the inclination rises with the Venus gravity assists (ESA: about 17 deg after the
    # flyby of 2025-02-18, 24 deg after that of 2026-12-24; Müller et al. 2020, Table 1:
    # 33 deg latitude first reached on 2029-07-24, so not yet in 2028)
    assert np.abs(lat[times < Time("2025-02-18")]).max() <= 8
    assert 15 < np.abs(lat[(times > Time("2025-03-01")) & (times < Time("2026-12-01"))]).max() <= 17.5
    assert 22 < np.abs(lat[(times > Time("2027-01-01")) & (times < Time("2029-06-01"))]).max() <= 24.5
    assert np.abs(lat[times > Time("2029-07-01")]).max() > 30
    # it laps the Sun relative to the Earth: both sides, and a long time behind the Sun
    assert np.mean(np.abs(lon) > 90) > 0.3
    assert lon.min() < -170
    assert lon.max() > 170
    # a period of about six months: perihelia 180.5 days apart
    near = np.flatnonzero(distance < 0.3)
    assert 170 < np.diff(times[near].jd).max() < 190


def test_orbit_passes_through_a_real_solar_orbiter_position():
    # HGLN_OBS, HGLT_OBS, DSUN_AU of the PHI/FDT file of 2024-03-05T04:15:09
    solo = solo_observer("2024-03-05T04:15:09")
    assert solo.lon.to_value(u.deg) == pytest.approx(-21.82, abs=2.0)
    assert solo.lat.to_value(u.deg) == pytest.approx(-4.71, abs=0.5)
    assert solo.radius.to_value(u.AU) == pytest.approx(0.6249, abs=0.01)
    with pytest.warns(ErfaWarning):  # the analytic orbit goes on where the leap seconds stop
        solo_observer("2030-06-01")


def test_fsi_image_is_a_level2_euimap_with_the_real_keywords(farside_pair):
    fsi, _ = farside_pair
    real = get_dummy_map_from_header(
        get_test_filepath("solo_L1_eui-fsi304-image_20201021T145510206_V03.header")
    )
    assert isinstance(fsi, sunpy.map.sources.EUIMap)
    assert is_eui_fsi(fsi)
    assert validate_euv_map(fsi) == "FSI"
    assert fsi.meta["waveunit"] == "Angstrom"  # as in the file (sunpy's dummy map lowercases it)
    for key in ("obsrvtry", "telescop", "instrume", "detector", "btype", "wavelnth", "waveunit", "filter"):
        assert str(fsi.meta[key]).strip().lower() == str(real.meta[key]).strip().lower(), key
    for key in ("wavemin", "wavemax", "rsun_ref"):
        assert fsi.meta[key] == real.meta[key], key
    assert (fsi.meta["level"], fsi.processing_level, fsi.unit) == ("L2", 2, u.Unit("DN/s"))
    assert fsi.meta["xposure"] == FSI304.exposure.to_value(u.s)
    assert fsi.meta["filename"].startswith("solo_L2_eui-fsi304-image_20270531T235955")
    assert fsi.reference_date.isot == "2027-06-01T00:00:00.000"  # the middle of the exposure (DATE-AVG)
    assert (fsi.wavelength, fsi.detector, fsi.nickname) == (304 * u.AA, "FSI", "FSI")
    # sunpy places EUI maps with the heliocentric inertial keywords: same observer as HGLN/HGLT
    solo = solo_observer(FARSIDE)
    observer = fsi.observer_coordinate
    assert observer.lon.to_value(u.deg) == pytest.approx(solo.lon.to_value(u.deg), abs=1e-3)
    assert observer.lat.to_value(u.deg) == pytest.approx(solo.lat.to_value(u.deg), abs=1e-3)
    assert observer.radius.to_value(u.AU) == pytest.approx(solo.radius.to_value(u.AU), rel=1e-6)
    assert fsi.meta["dsun_au"] == pytest.approx(solo.radius.to_value(u.AU))
    hci = solo.transform_to(HeliocentricInertial(obstime=solo.obstime)).cartesian.xyz.to_value(u.m)
    assert fsi.meta["hcix_obs"] == pytest.approx(hci[0], rel=1e-6)


def test_phi_magnetogram_has_the_phi_fdt_blos_keywords(farside_pair):
    _, phi = farside_pair
    assert is_phi_fdt_blos(phi)
    for key, value in PHI_FDT_BLOS_KEYWORDS.items():  # those of the real file of 2024-03-05
        assert phi.meta[key] == value, key
    assert "phi-fdt-blos" in phi.meta["filename"]
    assert phi.meta["rpltscl"] == PHI_FDT.native_scale.to_value(u.arcsec) == 3.574
    assert phi.unit == u.G
    phi_class = getattr(sunpy.map.sources, "PHIMap", None)  # sunpy >= 7.1
    if phi_class is not None:
        assert isinstance(phi, phi_class)
    assert not is_eui_fsi(phi)
    # the same place and time as the FSI image, and truth once on the HMI scale
    assert phi.observer_coordinate.separation_3d(farside_pair[0].observer_coordinate) < 1 * u.km
    truth = phi_to_hmi(phi, factor=1.0, reference="synthetic truth")
    assert validate_magnetogram_map(truth) == 1 * u.G
    assert np.nanmax(np.abs(truth.data)) > 200  # active regions on the far side


@pytest.mark.parametrize(("when", "binning"), [(FARSIDE, 2), (PERIHELION, 4)])
def test_pair_windows_hold_the_disk_at_any_distance(sun, when, binning):
    # 512 px around the disk, binned on board as little as holds it (NBIN1 = 2 at 0.93 AU,
    # 4 at 0.29 AU): the disk fills 0.2-0.4 of the size (0.4 on the model grid).
    fsi = observe_fsi(sun, when, npix=512, binning="disk", noise=False)
    assert fsi.meta["nbin1"] == fsi.meta["nbin2"] == binning
    assert fsi.scale.axis1 == binning * FSI304.native_scale / u.pix
    radius = (fsi.rsun_obs / fsi.scale.axis1).to_value(u.pix)
    assert 0.2 * 512 < radius <= 0.4 * 512 <= ModelGrid(512).radius_px
    # the whole detector rebinned to npix, as for the other instruments, by default
    full = observe_phi(sun, when, npix=128, noise=False)
    assert full.scale.axis1 == PHI_FDT.scale_for(128) / u.pix
    assert (full.meta["pxbeg1"], full.meta["pxend1"]) == (1, 2048)
    with pytest.raises(ValueError, match="binning"):
        observe_fsi(sun, when, npix=64, binning=0.5)


def test_fsi_generation_is_scored_against_phi_truth(farside_pair):
    fsi, phi = farside_pair
    generated = generate_magnetogram(fsi, device="cpu")
    assert isinstance(generated, MagnetoGANMap)
    assert generated.meta["src_det"] == "FSI"
    truth = phi_to_hmi(phi, factor=1.0, reference="synthetic truth")
    scores = compare_maps(truth, generated, reproject=True, nan_policy="omit")
    assert 0 < scores["cc"] <= 1
    assert np.isfinite(scores["psnr"])
    assert scores["flux_true"] > 1e22 * u.Mx
    assert scores["flux_generated"] > 0 * u.Mx


def test_test_solo_split_is_held_out_and_written_with_phi_truth(tmp_path):
    spec = BENCHMARK_SPLIT["test_solo"]
    assert spec.seeds == tuple(range(2200, 2220))
    assert (spec.observer, spec.instrument) == ("solo", "FSI")
    others = set().union(*(set(s.seeds) for name, s in BENCHMARK_SPLIT.items() if name != "test_solo"))
    assert not others & set(spec.seeds)
    items = spec.items("test_solo")
    assert len(items) == 80
    assert all(Time("2022-01-01") <= t <= Time("2026-12-31") and label == "solo" for _, t, label, _ in items)
    far = [abs(obs(t).lon.wrap_at(180 * u.deg).to_value(u.deg)) > 90 for _, t, _, obs in items]
    assert sum(far) == 38
    # one pair of the split's kind on a small grid
    small = {
        "test_solo": SplitSpec((2200,), "2027-05-31", "2027-06-02", 1, observer="solo", instrument="FSI")
    }
    write_synthetic_dataset(tmp_path / "solo", split=small, npix=128, grid_size=64)
    store = open_synthetic_dataset(tmp_path / "solo")
    (pair_id,) = store.ids("test_solo")
    assert pair_id.endswith("_solo_fsi")
    pair = store.load(pair_id)
    assert pair["meta"]["mag_source"] == "synthetic PHI/FDT (HMI scale)"
    assert float(pair["meta"]["hgln_obs"]) < -170
    assert np.abs(pair["mag"]).max() > 0

"""
Observing the synthetic Sun: map sources, headers, geometry, noise, farside consistency.
"""

import dataclasses

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from astropy.coordinates import SkyCoord
from sunpy.coordinates import HeliographicCarrington
from sunpy.map import all_coordinates_from_map
from sunpy.map.sources import AIAMap, EUVIMap, HMIMap
from sunpy.sun.constants import sidereal_rotation_rate
from sunpy.sun.models import differential_rotation

from sunpy_magnetogan.solar_cycle import days_since_epoch, time_from_days
from sunpy_magnetogan.synthetic import (
    SyntheticSun,
    farside_observer,
    observe_aia,
    observe_euvi,
    observe_hmi,
    observe_pair,
    observer_view,
    sdo_observer,
    stereo_observer,
)
from sunpy_magnetogan.synthetic.projection import ImagePlane, carrington_from_observer_frame
from sunpy_magnetogan.synthetic.sources import SPOT, SourceSet

DATE = "2014-02-15T06:00"


@pytest.fixture(scope="module")
def sun():
    return SyntheticSun(21)


@pytest.mark.parametrize(
    ("observe", "cls", "stereo"),
    [(observe_hmi, HMIMap, False), (observe_aia, AIAMap, False), (observe_euvi, EUVIMap, True)],
)
def test_sunpy_recognises_the_source(sun, observe, cls, stereo):
    observer = stereo_observer(DATE, -70 * u.deg, distance=1.03 * u.AU) if stereo else None
    smap = observe(sun, DATE, observer, npix=128)
    assert type(smap) is cls
    # The header survives a FITS round trip and sunpy still recognises it.
    again = sunpy.map.Map(smap.data, sunpy.map.Map(smap.data, smap.meta).fits_header)
    assert type(again) is cls
    for key in (
        "hgln_obs",
        "hglt_obs",
        "dsun_obs",
        "date-obs",
        "rsun_ref",
        "rsun_obs",
        "instrume",
        "telescop",
    ):
        assert key in smap.meta
    assert smap.date.isot.startswith("2014-02-15T06:00")
    assert smap.observer_coordinate.radius.to(u.AU).value == pytest.approx(
        1.03 if stereo else sdo_observer(DATE).radius.to_value(u.AU), rel=1e-6
    )
    if cls is HMIMap:
        assert smap.unit == u.G
        assert smap.measurement == "magnetogram" or "MAGNETOGRAM" in smap.meta["content"]
    else:
        assert smap.wavelength == 304 * u.AA
    if cls is EUVIMap:
        assert smap.observatory == "STEREO A"
        assert smap.detector == "EUVI"
        assert smap.rsun_obs.to_value(u.arcsec) == pytest.approx(smap.meta["rsun_obs"])


def test_plate_scale_emulates_rebinned_detector(sun):
    hmi = observe_hmi(sun, DATE, npix=512, noise=False)
    aia = observe_aia(sun, DATE, npix=256, noise=False)
    euvi = observe_euvi(sun, DATE, stereo_observer(DATE, 90 * u.deg), npix=512, noise=False)
    assert hmi.scale.axis1.to_value(u.arcsec / u.pix) == pytest.approx(0.504 * 8)
    assert aia.scale.axis1.to_value(u.arcsec / u.pix) == pytest.approx(0.6 * 16)
    assert euvi.scale.axis1.to_value(u.arcsec / u.pix) == pytest.approx(1.59 * 4)
    # The disk in the data has the radius the header says.
    on_disk = np.isfinite(hmi.data)
    radius_px = (hmi.rsun_obs / hmi.scale.axis1).to_value(u.pix)
    assert on_disk.sum() == pytest.approx(np.pi * radius_px**2, rel=0.01)


@pytest.mark.parametrize("roll", [0.0, 180.0, 33.0])
def test_ray_casting_matches_sunpy_coordinates(roll):
    observer = stereo_observer(DATE, 110 * u.deg, lat=4 * u.deg, distance=0.96 * u.AU)
    smap = observe_hmi(SyntheticSun(1, network=None), DATE, observer, npix=64, roll=roll, noise=False)
    l0, b0, distance = observer_view(observer, DATE)
    plane = ImagePlane(
        (64, 64),
        smap.scale.axis1.to_value(u.arcsec / u.pix),
        (distance / (695_700 * u.km)).to_value(u.one),
        roll=roll,
    )
    geometry = plane.surface()
    lon, lat = carrington_from_observer_frame(geometry.xyz, l0, b0)
    coords = all_coordinates_from_map(smap).transform_to(
        HeliographicCarrington(observer=smap.observer_coordinate, obstime=smap.date)
    )
    on_disk = np.isfinite(coords.lon.value)
    np.testing.assert_array_equal(on_disk, geometry.on_disk)
    # Data everywhere on the disk and in the pixels that straddle the limb, NaN beyond.
    finite = np.isfinite(smap.data)
    assert np.all(finite[on_disk])
    assert np.all(geometry.rho[finite] < 1.0 + 1.0 / geometry.radius_px)
    assert finite.sum() > on_disk.sum()
    dlon = (lon - coords.lon.to_value(u.deg) + 180) % 360 - 180
    assert np.nanmax(np.abs(dlon[on_disk & (geometry.mu > 0.1)])) < 1e-5
    assert np.nanmax(np.abs(lat - coords.lat.to_value(u.deg))[on_disk]) < 1e-5


@pytest.mark.parametrize("observer", ["sdo", "stereo"])
def test_wcs_puts_a_spot_at_its_carrington_position(observer):
    """A sunspot's known Carrington position falls within 1 px of its image at 512 px."""
    sun = SyntheticSun(9, network=None)
    # The first day from 2014-04-02 with a big sunspot within 45 deg of Earth's meridian.
    for day in range(27):
        time = time_from_days(days_since_epoch("2014-04-02T12:00") + day)
        src = sun.sources(time)
        earth_l0, _, _ = observer_view(sdo_observer(time), time)
        stonyhurst = (src.lon - earth_l0 + 180) % 360 - 180
        spots = np.flatnonzero((src.kind == SPOT) & (np.abs(src.flux) > 1e21) & (np.abs(src.lat) < 40))
        facing = spots[np.abs(stonyhurst[spots]) < 45]
        if facing.size:
            break
    spot = facing[np.argmax(np.abs(src.flux[facing]))]
    if observer == "sdo":
        obs = sdo_observer(time)
    else:
        # A STEREO-like observer 30 deg west of the spot's meridian and closer to the Sun.
        obs = stereo_observer(time, (stonyhurst[spot] + 30) * u.deg, distance=0.97 * u.AU)
    smap = observe_hmi(sun, time, obs, npix=512, noise=False)
    coord = SkyCoord(
        src.lon[spot] * u.deg,
        src.lat[spot] * u.deg,
        frame=HeliographicCarrington(observer=smap.observer_coordinate, obstime=smap.date),
    )
    x, y = smap.wcs.world_to_pixel(coord)
    ix, iy = int(np.rint(x)), int(np.rint(y))
    box = np.abs(smap.data[iy - 2 : iy + 3, ix - 2 : ix + 3]) * np.sign(src.flux[spot])
    weights = np.clip(smap.data[iy - 2 : iy + 3, ix - 2 : ix + 3] * np.sign(src.flux[spot]), 0, None) ** 4
    assert box.max() > 500
    yy, xx = np.mgrid[iy - 2 : iy + 3, ix - 2 : ix + 3]
    cy, cx = np.sum(yy * weights) / weights.sum(), np.sum(xx * weights) / weights.sum()
    assert np.hypot(cx - x, cy - y) < 1.0


def test_noise_level_follows_instrument(sun):
    clean = observe_hmi(sun, DATE, npix=512, noise=False)
    noisy = observe_hmi(sun, DATE, npix=512)
    diff = (noisy.data - clean.data)[np.isfinite(clean.data)]
    # 10 G per native pixel, averaged over 8 x 8 native pixels.
    assert np.std(diff) == pytest.approx(10 / 8, rel=0.05)
    finer = observe_hmi(sun, DATE, npix=1024).data - observe_hmi(sun, DATE, npix=1024, noise=False).data
    assert np.nanstd(finer) == pytest.approx(10 / 4, rel=0.05)


def test_observe_hmi_sees_the_sources_it_is_given(sun):
    """A magnetogram of chosen sources: linear in their fluxes, the Sun's polar field and noise."""
    sources = sun.sources(DATE)
    flipped = dataclasses.replace(sources, flux=-sources.flux)
    clean = observe_hmi(sun, DATE, npix=128, noise=False)
    np.testing.assert_array_equal(
        observe_hmi(sun, DATE, npix=128, noise=False, sources=sources).data, clean.data
    )
    polar = observe_hmi(sun, DATE, npix=128, noise=False, sources=SourceSet.empty())
    assert 0 < np.nanmax(abs(polar.data)) < 20  # G: the smooth polar field alone
    reverse = observe_hmi(sun, DATE, npix=128, noise=False, sources=flipped)
    np.testing.assert_allclose(reverse.data + clean.data, 2 * polar.data, atol=1e-3)
    noise = observe_hmi(sun, DATE, npix=128).data - clean.data
    np.testing.assert_allclose(
        observe_hmi(sun, DATE, npix=128, sources=SourceSet.empty()).data - polar.data, noise, atol=1e-3
    )


def test_euvi_has_lower_signal_to_noise_than_aia(sun):
    stereo = stereo_observer(DATE, 80 * u.deg)

    def relative_noise(observe, observer):
        noisy = observe(sun, DATE, observer, npix=256)
        clean = observe(sun, DATE, observer, npix=256, noise=False)
        return np.std(noisy.data - clean.data) / np.median(clean.data)

    aia = relative_noise(observe_aia, None)
    euvi = relative_noise(observe_euvi, stereo)
    assert euvi > 1.5 * aia


def test_pair_is_bit_for_bit_reproducible():
    first = observe_pair(SyntheticSun(5), DATE, npix=256)
    other = SyntheticSun(5)
    other.sources("2013-06-01")  # a different history of calls
    second = observe_pair(other, DATE, npix=256)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a.data, b.data)
        assert dict(a.meta) == dict(b.meta)
    third = observe_pair(SyntheticSun(6), DATE, npix=256)
    assert not np.array_equal(np.nan_to_num(first[1].data), np.nan_to_num(third[1].data))


def test_line_of_sight_projection_and_limb(sun):
    hmi = observe_hmi(sun, DATE, npix=256, noise=False)
    # The synthetic HMI map is NaN off the disk only.
    coords = all_coordinates_from_map(hmi)
    radius = np.hypot(coords.Tx, coords.Ty) / hmi.rsun_obs
    assert np.all(np.isnan(hmi.data[radius > 1.01]))
    assert np.all(np.isfinite(hmi.data[radius < 0.99]))
    # B_los = B_r * mu: near the limb the observed field is weaker than at the centre.
    inner = np.abs(hmi.data[radius < 0.5]).mean()
    outer = np.abs(hmi.data[(radius > 0.95) & (radius < 0.99)]).mean()
    assert outer < inner


def _spot_position(smap, lon_guess, lat_guess, sign):
    """Carrington centroid of the strong (> 800 G) field of one sign near a position."""
    coords = all_coordinates_from_map(smap).transform_to(
        HeliographicCarrington(observer=smap.observer_coordinate, obstime=smap.date)
    )
    dlon = (coords.lon.to_value(u.deg) - lon_guess + 180) % 360 - 180
    near = (np.abs(dlon) < 6) & (np.abs(coords.lat.to_value(u.deg) - lat_guess) < 6)
    strong = near & (smap.data * sign > 800)
    w = np.abs(smap.data[strong])
    return lon_guess + np.sum(w * dlon[strong]) / w.sum(), np.sum(
        w * coords.lat.to_value(u.deg)[strong]
    ) / w.sum()


def test_farside_truth_matches_frontside_after_rotation():
    """A sunspot seen by a farside observer is where SDO sees it half a rotation later."""
    sun = SyntheticSun(31, network=None)
    # The first day from 2014-05-01 when a large sunspot faces the far side.
    for day in range(27):
        t1 = time_from_days(days_since_epoch("2014-05-01T00:00") + day)
        far = farside_observer(t1)
        l0_far, _, _ = observer_view(far, t1)
        src = sun.sources(t1)
        spots = np.flatnonzero((src.kind == SPOT) & (np.abs(src.flux) > 2e21))
        facing = spots[np.abs((src.lon[spots] - l0_far + 180) % 360 - 180) < 20]
        if facing.size:
            break
    spot = facing[np.argmax(np.abs(src.flux[facing]))]
    sign, region = np.sign(src.flux[spot]), src.region[spot]
    # Half a synodic rotation later it faces Earth.
    t2 = time_from_days(days_since_epoch(t1) + 13.6)
    far_map = observe_hmi(sun, t1, far, npix=512, observatory="FARSIDE")
    near_map = observe_hmi(sun, t2, sdo_observer(t2), npix=512)
    assert far_map.meta["telescop"] == "FARSIDE/HMI"

    lon1, lat1 = _spot_position(far_map, src.lon[spot], src.lat[spot], sign)
    # The farside view agrees with the truth ...
    assert abs((lon1 - src.lon[spot] + 180) % 360 - 180) < 0.5
    assert abs(lat1 - src.lat[spot]) < 0.5
    # ... and the frontside view of the same spot, after rotating with sunpy's
    # differential-rotation model, too.
    drift = (
        differential_rotation(13.6 * u.day, lat1 * u.deg) - 13.6 * u.day * sidereal_rotation_rate
    ).to_value(u.deg)
    lon2, lat2 = _spot_position(near_map, lon1 + drift, lat1, sign)
    assert abs((lon2 - lon1 - drift + 180) % 360 - 180) < 1.0
    assert abs(lat2 - lat1) < 1.0
    later = sun.sources(t2)
    same = (later.region == region) & (later.kind == SPOT) & (np.sign(later.flux) == sign)
    assert same.any()

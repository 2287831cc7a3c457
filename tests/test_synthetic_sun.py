"""
Physics of the synthetic Sun: the cycle, Hale's and Joy's laws, fluxes, rotation, truth maps.
"""

import astropy.units as u
import numpy as np
import pytest
from scipy.spatial import cKDTree
from sunpy.sun.constants import sidereal_rotation_rate
from sunpy.sun.models import differential_rotation

from sunpy_magnetogan.solar_cycle import days_since_epoch
from sunpy_magnetogan.synthetic import FluxModel, SolarCycle, SyntheticSun, carrington_drift
from sunpy_magnetogan.synthetic.kernels import evaluate_on_points, kernel_amplitude
from sunpy_magnetogan.synthetic.projection import unit_vectors
from sunpy_magnetogan.synthetic.sources import NETWORK, SOLAR_RADIUS_CM, SPOT


def _bipole_geometry(sun, time, *, min_flux):
    """Measured leading sign, latitude and tilt of each region, from its sources."""
    src = sun.sources(time, network=False)
    table = sun.active_regions(time, min_flux=min_flux)
    out = []
    for row in table:
        if row["complex"]:
            continue
        mine = src.region == row["id"]
        lon, lat, flux = src.lon[mine], src.lat[mine], src.flux[mine]
        dlon = (lon - row["lon"].to_value(u.deg) + 180.0) % 360.0 - 180.0
        x = dlon * np.cos(np.deg2rad(lat))
        pos, neg = flux > 0, flux < 0
        w = np.abs(flux)
        xp, xn = np.average(x[pos], weights=w[pos]), np.average(x[neg], weights=w[neg])
        yp, yn = np.average(lat[pos], weights=w[pos]), np.average(lat[neg], weights=w[neg])
        leading = 1 if xp > xn else -1
        x_lead, x_follow = (xp, xn) if leading > 0 else (xn, xp)
        y_lead, y_follow = (yp, yn) if leading > 0 else (yn, yp)
        # Positive tilt: the leading polarity is nearer the equator.
        tilt = np.rad2deg(np.arctan2((abs(y_follow) - abs(y_lead)), x_lead - x_follow))
        out.append((row["lat"].to_value(u.deg), leading, tilt))
    return np.array(out)


@pytest.fixture(scope="module")
def geometry_cycle24():
    """Measured bipoles of a few Suns at several times of cycle 24."""
    rows = [
        _bipole_geometry(SyntheticSun(seed), t, min_flux=3e21 * u.Mx)
        for seed in (1, 2, 3)
        for t in ("2012-03-01", "2013-01-01", "2014-06-01", "2015-03-01")
    ]
    return np.concatenate(rows)


def test_hale_law_cycle24(geometry_cycle24):
    lat, leading, _ = geometry_cycle24.T
    north, south = lat > 0, lat < 0
    assert north.sum() > 40
    assert south.sum() > 40
    # Cycle 24: northern leading polarity negative, southern positive, in ~90 % of regions.
    assert np.mean(leading[north] < 0) > 0.8
    assert np.mean(leading[south] > 0) > 0.8


def test_hale_law_flips_in_cycle25():
    rows = np.concatenate(
        [
            _bipole_geometry(SyntheticSun(seed), t, min_flux=3e21 * u.Mx)
            for seed in (1, 2)
            for t in ("2023-01-01", "2024-03-01")
        ]
    )
    lat, leading, _ = rows.T
    assert np.mean(leading[lat > 0] > 0) > 0.8
    assert np.mean(leading[lat < 0] < 0) > 0.8


def test_anti_hale_regions_exist_at_realistic_rate(geometry_cycle24):
    lat, leading, _ = geometry_cycle24.T
    expected = np.where(lat > 0, -1, 1)
    violation = np.mean(leading != expected)
    assert 0.01 < violation < 0.2


def test_joy_law_tilt(geometry_cycle24):
    lat, _, tilt = geometry_cycle24.T
    # Leading polarity nearer the equator on average in both hemispheres ...
    assert np.median(tilt[lat > 0]) > 2
    assert np.median(tilt[lat < 0]) > 2
    # ... and more so at higher latitude.
    assert np.corrcoef(np.abs(lat), tilt)[0, 1] > 0.1


def test_flux_distribution_and_butterfly():
    sun = SyntheticSun(5)
    early = sun.active_regions("2010-09-01", min_flux=1e20 * u.Mx)
    late = sun.active_regions("2017-06-01", min_flux=1e20 * u.Mx)
    peak = np.concatenate([early["peak_flux"].to_value(u.Mx), late["peak_flux"].to_value(u.Mx)])
    assert peak.min() >= 1e20
    assert peak.max() <= 1e23
    # Many small regions and a few large ones (power law).
    assert np.sum(peak < 1e21) > 3 * np.sum(peak > 1e22)
    # Butterfly diagram: emergence latitudes drift to the equator during a cycle.
    young_early = early[(early["emerged"] > early.meta["time"] - 30 * u.day) & (early["cycle"] == 24)]
    young_late = late[(late["emerged"] > late.meta["time"] - 30 * u.day) & (late["cycle"] == 24)]
    assert np.median(np.abs(young_early["lat"])) > np.median(np.abs(young_late["lat"])) + 5 * u.deg


def test_activity_follows_cycle():
    cycle = SolarCycle()
    assert cycle.emergence_rate("2019-12-01") < 0.1 * cycle.emergence_rate("2014-01-01")
    maximum = SyntheticSun(3).active_regions("2014-01-01", min_flux=1e21 * u.Mx)
    minimum = SyntheticSun(3).active_regions("2019-12-01", min_flux=1e21 * u.Mx)
    assert len(maximum) > 3 * max(len(minimum), 1)


def test_polar_field_reverses():
    cycle = SolarCycle()
    # Cycle 24 began with a negative north pole and reversed near maximum (2013).
    assert cycle.north_polar_field("2009-01-01") < -3 * u.G
    assert cycle.north_polar_field("2017-01-01") > 3 * u.G
    sun = SyntheticSun(4)
    north = sun.field_at("2009-01-01", np.linspace(0, 350, 36) * u.deg, 85 * u.deg)
    south = sun.field_at("2009-01-01", np.linspace(0, 350, 36) * u.deg, -85 * u.deg)
    assert north.mean() < 0 < south.mean()


@pytest.mark.parametrize("model", ["howard", "snodgrass"])
def test_carrington_drift_is_sunpy_differential_rotation(model):
    lat = np.array([0.0, 20.0, 45.0])
    expected = differential_rotation(1 * u.day, lat * u.deg, model=model) - sidereal_rotation_rate * u.day
    assert np.allclose(carrington_drift(lat, model=model), expected.to_value(u.deg))


def _centroid(carrington_map, lon, lat, *, half=8.0, threshold=100.0):
    """|B|-weighted Carrington centroid of the strong field within a window."""
    ny, nx = carrington_map.data.shape
    lons = (np.arange(nx) + 0.5) * 360.0 / nx
    lats = (np.arange(ny) + 0.5) * 180.0 / ny - 90.0
    dlon = (lons - lon + 180.0) % 360.0 - 180.0
    sel_x, sel_y = np.abs(dlon) < half / np.cos(np.deg2rad(lat)), np.abs(lats - lat) < half
    b = np.abs(carrington_map.data[np.ix_(sel_y, sel_x)])
    w = np.where(b > threshold, b, 0.0) * np.cos(np.deg2rad(lats[sel_y]))[:, np.newaxis]
    return lon + np.sum(w * dlon[sel_x]) / w.sum(), np.sum(w * lats[sel_y][:, np.newaxis]) / w.sum()


def test_tracked_region_follows_sunpy_differential_rotation():
    sun = SyntheticSun(7)
    t0 = "2014-02-10"
    regions = sun.active_regions(t0, min_flux=1e22 * u.Mx)
    regions = regions[(~regions["complex"]) & (regions["emerged"] < regions.meta["time"] - 6 * u.day)]
    assert len(regions) > 0
    row = regions[np.argmax(regions["flux"])]
    shape = (720, 1440)
    lon0, lat0 = _centroid(sun.carrington_map(t0, shape=shape), row["lon"].value, row["lat"].value)
    later = sun.carrington_map(days_since_epoch(t0) + 5.0, shape=shape)
    predicted = (
        differential_rotation(5 * u.day, lat0 * u.deg) - 5 * u.day * sidereal_rotation_rate
    ).to_value(u.deg)
    lon1, lat1 = _centroid(later, lon0 + predicted, lat0)
    drift = (lon1 - lon0 + 180.0) % 360.0 - 180.0
    assert abs(drift - predicted) < 1.0
    assert abs(lat1 - lat0) < 1.0
    # At this latitude the drift is clearly not the Carrington rate (it would be 0).
    assert abs(predicted) > 1.0 or abs(lat0) < 12


def test_carrington_map_is_truth():
    sun = SyntheticSun(2)
    cmap = sun.carrington_map("2014-05-01", shape=(90, 180))
    assert cmap.data.shape == (90, 180)
    assert cmap.unit == u.G
    assert str(cmap.coordinate_frame.name) == "heliographic_carrington"
    # Pixel centres given by the WCS hold the field there.
    lon, lat = cmap.wcs.pixel_to_world_values(17, 63)
    direct = sun.field_at("2014-05-01", lon * u.deg, lat * u.deg)
    assert np.isclose(cmap.data[63, 17], direct.to_value(u.G), rtol=1e-5, atol=1e-3)


def test_reproducible_and_order_independent():
    a = SyntheticSun(11)
    a.sources("2013-01-01")  # touch other windows first
    first = a.sources("2014-03-03T12:00")
    second = SyntheticSun(11).sources("2014-03-03T12:00")
    for name in ("lon", "lat", "flux", "sigma"):
        np.testing.assert_array_equal(getattr(first, name), getattr(second, name))
    other = SyntheticSun(12).sources("2014-03-03T12:00")
    assert len(other) != len(first) or not np.array_equal(other.flux, first.flux)


def test_field_is_sum_of_sources():
    sun = SyntheticSun(3, network=None)
    src = sun.sources("2014-01-01")
    spot = np.argmax(np.where(src.kind == SPOT, np.abs(src.flux), 0))
    b = sun.field_at("2014-01-01", src.lon[spot] * u.deg, src.lat[spot] * u.deg)
    # At a spot centre the field has the spot's sign and a kG strength.
    assert np.sign(b.value) == np.sign(src.flux[spot])
    assert 1000 * u.G < abs(b) < 4000 * u.G
    # The kernel integrates to the flux over the sphere.
    sigma = np.deg2rad(np.array([0.5, 5.0, 30.0]))
    rng = np.random.default_rng(0)
    points = rng.standard_normal((400_000, 3))
    points /= np.linalg.norm(points, axis=1)[:, np.newaxis]
    for s in sigma:
        values = evaluate_on_points(
            unit_vectors([0.0], [0.0]),
            kernel_amplitude(np.array([1e22]), np.array([s]), SOLAR_RADIUS_CM),
            np.array([s]),
            points,
        )
        flux = values.mean() * 4 * np.pi * SOLAR_RADIUS_CM**2
        assert flux == pytest.approx(1e22, rel=0.05)


def test_network_is_mixed_and_persistent():
    sun = SyntheticSun(6)
    a = sun.sources("2014-01-01T00:00")
    b = sun.sources("2014-01-01T03:00")
    net_a = a.flux[a.kind == NETWORK]
    assert len(net_a) > 50_000
    # Mixed polarity near the equator...
    low = np.abs(a.lat[a.kind == NETWORK]) < 30
    assert abs(np.mean(np.sign(net_a[low]))) < 0.05
    # ... and the pattern persists for hours: most elements are still there (moved by
    # rotation only) three hours later.
    lat_a = a.lat[a.kind == NETWORK]
    lon_a = a.lon[a.kind == NETWORK]
    rotated = unit_vectors(lon_a + carrington_drift(lat_a) * 0.125, lat_a)
    pb = unit_vectors(b.lon[b.kind == NETWORK], b.lat[b.kind == NETWORK])
    distance, _ = cKDTree(pb).query(rotated)
    assert np.mean(np.rad2deg(distance) < 0.01) > 0.8
    # ... but it has changed after a few days (supergranules live about two days).
    c = sun.sources("2014-01-05T00:00")
    rotated = unit_vectors(lon_a + carrington_drift(lat_a) * 4.0, lat_a)
    pc = unit_vectors(c.lon[c.kind == NETWORK], c.lat[c.kind == NETWORK])
    distance, _ = cKDTree(pc).query(rotated)
    assert np.mean(np.rad2deg(distance) < 0.01) < 0.05


def test_invalid_arguments():
    with pytest.raises(ValueError, match="seed"):
        SyntheticSun(-1)
    with pytest.raises(ValueError, match="activity"):
        SyntheticSun(1, activity=-2)
    assert FluxModel().anti_hale_fraction(1e23) < FluxModel().anti_hale_fraction(1e20)

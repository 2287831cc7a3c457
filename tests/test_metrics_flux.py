"""
Tests of the per-pixel disk geometry (mu, pixel area) and of the flux quantities.

Reference values come from sources independent of the code under test: sunpy's coordinate
transformations (the surface point and observer of every pixel), closed-form areas of
spherical caps, 1-D quadrature of known field patterns, and a straightforward SHARP-style
calculation on the real HMI map.
"""

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from astropy.coordinates import SkyCoord
from scipy import integrate
from sunpy.coordinates import HeliographicStonyhurst, Helioprojective
from sunpy.map import all_coordinates_from_map, coordinate_is_on_solar_disk

from sunpy_magnetogan.exceptions import InputMapError, InvalidDataError, MissingMetadataError
from sunpy_magnetogan.grid import SOLAR_RADIUS, ModelGrid, disk_mask
from sunpy_magnetogan.metrics import (
    disk_geometry,
    flux_from_arrays,
    grid_geometry,
    magnetic_flux,
    on_disk_mask,
)

DATE = "2020-06-01T00:00:00"
RSUN = SOLAR_RADIUS


def make_map(npix, data=None, *, observer=None, roll=0 * u.deg, radius_fraction=0.4, unit=u.G, rsun=RSUN):
    """A full-disk helioprojective map with the Sun centred and the limb at ``radius_fraction * npix``."""
    observer = (
        observer
        if observer is not None
        else SkyCoord(0 * u.deg, -5 * u.deg, 1 * u.AU, frame=HeliographicStonyhurst, obstime=DATE)
    )
    frame = Helioprojective(observer=observer, obstime=observer.obstime, rsun=rsun)
    rsun_arcsec = np.arcsin(float(rsun / observer.radius)) * u.rad.to(u.arcsec)
    scale = rsun_arcsec / (radius_fraction * npix)
    header = sunpy.map.make_fitswcs_header(
        (npix, npix),
        SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=frame),
        scale=[scale, scale] * u.arcsec / u.pix,
        rotation_angle=roll,
        unit=unit,
        instrument="TEST",
        observatory="TEST",
    )
    header["rsun_ref"] = rsun.to_value(u.m)
    data = np.zeros((npix, npix)) if data is None else data
    return sunpy.map.Map(data, header)


def sunpy_surface(smap):
    """Unit surface normal of every pixel (HEEQ cartesian, NaN off disk) and mu, from sunpy alone."""
    coords = all_coordinates_from_map(smap).transform_to(HeliographicStonyhurst(obstime=smap.date))
    lon, lat = coords.lon.to_value(u.rad), coords.lat.to_value(u.rad)
    normal = np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    obs = smap.observer_coordinate.transform_to(HeliographicStonyhurst(obstime=smap.date))
    obs_xyz = obs.cartesian.xyz.to_value(u.m)[:, None, None]
    point = normal * smap.rsun_meters.to_value(u.m)
    to_obs = obs_xyz - point
    mu = np.sum(normal * to_obs, axis=0) / np.linalg.norm(to_obs, axis=0)
    return normal, mu


def cos_theta_cut(mu_min, rsun, dsun):
    """Cosine of the heliocentric angle (from the sub-observer point) where mu = mu_min."""
    r, d = rsun.to_value(u.m), dsun.to_value(u.m)
    return (r * (1 - mu_min**2) + mu_min * np.sqrt(d**2 - r**2 * (1 - mu_min**2))) / d


def cap_area(mu_min, rsun, dsun):
    """Area of the part of the visible hemisphere where mu > mu_min (closed form)."""
    return 2 * np.pi * rsun.to(u.cm) ** 2 * (1 - cos_theta_cut(mu_min, rsun, dsun))


def mu_of_theta(theta, rsun, dsun):
    """mu of the surface point at heliocentric angle theta from the sub-observer point."""
    r, d = rsun.to_value(u.m), dsun.to_value(u.m)
    return (d * np.cos(theta) - r) / np.sqrt(d**2 - 2 * d * r * np.cos(theta) + r**2)


@pytest.fixture(scope="module")
def observer():
    return SkyCoord(12 * u.deg, -6 * u.deg, 0.985 * u.AU, frame=HeliographicStonyhurst, obstime=DATE)


@pytest.fixture(scope="module")
def map512(observer):
    return make_map(512, observer=observer)


@pytest.fixture(scope="module")
def sunpy_reference(map512):
    return sunpy_surface(map512)


@pytest.mark.parametrize("roll", [0 * u.deg, 180 * u.deg, 37 * u.deg])
def test_mu_and_disk_match_sunpy_coordinates(observer, roll):
    smap = make_map(160, observer=observer, roll=roll)
    geometry = disk_geometry(smap)
    _, mu_ref = sunpy_surface(smap)
    on_disk_ref = coordinate_is_on_solar_disk(all_coordinates_from_map(smap))
    assert np.array_equal(geometry.on_disk, on_disk_ref)
    assert np.array_equal(on_disk_mask(smap), on_disk_ref)
    np.testing.assert_allclose(geometry.mu[on_disk_ref], mu_ref[on_disk_ref], atol=2e-6)
    assert np.all(np.isnan(geometry.area.value[~on_disk_ref]))
    assert geometry.radius_px == pytest.approx(0.4 * 160, rel=1e-6)


@pytest.mark.parametrize("mu_min", [0.1, 0.3, 0.6])
def test_summed_pixel_areas_equal_the_visible_cap(map512, mu_min):
    geometry = disk_geometry(map512)
    total = np.sum(geometry.area[geometry.mask(mu_min)])
    expected = cap_area(mu_min, map512.rsun_meters, map512.dsun)
    assert total.unit.is_equivalent(u.cm**2)
    assert total.to_value(u.cm**2) == pytest.approx(expected.value, rel=5e-3)


def test_area_grows_as_one_over_mu_away_from_disk_centre(map512):
    # At fixed solid angle, dA ~ t**2 / mu with t the observer distance of the surface point;
    # t**2 changes by < 1 % over the disk, so area * mu is nearly constant.
    geometry = disk_geometry(map512)
    disk = geometry.mask(0.1)
    product = (geometry.area.value * geometry.mu)[disk]
    assert product.max() / product.min() < 1.01
    centre = np.nanargmax(geometry.mu)
    limbward = geometry.mask(0.1) & (geometry.mu < 0.2)
    assert np.nanmean(geometry.area.value[limbward]) > 5 * geometry.area.value.flat[centre]


def test_uniform_los_field_disk_flux_is_analytic(map512):
    b0 = 100 * u.G
    geometry = disk_geometry(map512)
    data = np.where(geometry.on_disk, b0.value, np.nan)
    smap = make_map(512, data, observer=map512.observer_coordinate)
    flux = magnetic_flux(smap, mu_min=0.1, threshold=0 * u.G, radial_correction=False, nan_policy="raise")
    expected = (b0 * cap_area(0.1, smap.rsun_meters, smap.dsun)).to(u.Mx)
    assert flux.total_unsigned.unit == u.Mx
    assert flux.total_unsigned.to_value(u.Mx) == pytest.approx(expected.value, rel=0.01)
    assert flux.net == flux.positive
    assert flux.negative == 0 * u.Mx
    # Opposite sign: same unsigned flux, negative net.
    neg = magnetic_flux(smap._new_instance(-data, smap.meta), threshold=0 * u.G)
    assert neg.total_unsigned == flux.total_unsigned
    assert neg.net == -flux.net


def test_uniform_radial_field_flux_with_and_without_mu_correction(map512, sunpy_reference):
    b0 = 250.0
    _, mu_ref = sunpy_reference
    smap = make_map(
        512, np.where(np.isfinite(mu_ref), b0 * mu_ref, np.nan), observer=map512.observer_coordinate
    )
    rsun, dsun = smap.rsun_meters, smap.dsun
    radial = magnetic_flux(smap, mu_min=0.1, threshold=0 * u.G, radial_correction=True)
    expected_radial = b0 * u.G * cap_area(0.1, rsun, dsun)
    assert radial.total_unsigned.to_value(u.Mx) == pytest.approx(expected_radial.to_value(u.Mx), rel=0.01)
    # Without the correction: the integral of B0 mu dA over the cap, by quadrature.
    r_cm = rsun.to_value(u.cm)
    theta_max = np.arccos(cos_theta_cut(0.1, rsun, dsun))
    los_integral, _ = integrate.quad(lambda th: mu_of_theta(th, rsun, dsun) * np.sin(th), 0, theta_max)
    expected_los = b0 * 2 * np.pi * r_cm**2 * los_integral
    los = magnetic_flux(smap, mu_min=0.1, threshold=0 * u.G, radial_correction=False)
    assert los.total_unsigned.to_value(u.Mx) == pytest.approx(expected_los, rel=0.01)


@pytest.mark.parametrize(("lon", "lat"), [(12, -6), (40, 20), (-50, -25), (75, 5)])
def test_radial_blob_flux_at_several_disk_positions(map512, sunpy_reference, lon, lat):
    # A radial field B_r = B0 exp(-psi**2 / 2 s**2) around (lon, lat) (Stonyhurst degrees),
    # seen in line of sight as B_r * mu (mu from sunpy). Its flux is 2 pi R**2 B0 int ... dpsi.
    b0, s = 800.0, np.deg2rad(3.0)
    normal, mu_ref = sunpy_reference
    centre = np.array(
        [
            np.cos(np.deg2rad(lat)) * np.cos(np.deg2rad(lon)),
            np.cos(np.deg2rad(lat)) * np.sin(np.deg2rad(lon)),
            np.sin(np.deg2rad(lat)),
        ]
    )
    psi = np.arccos(np.clip(np.tensordot(centre, normal, axes=1), -1, 1))
    b_r = b0 * np.exp(-(psi**2) / (2 * s**2))
    smap = make_map(512, b_r * mu_ref, observer=map512.observer_coordinate)
    region = psi < 5 * s
    r_cm = smap.rsun_meters.to_value(u.cm)
    integral, _ = integrate.quad(lambda p: np.exp(-(p**2) / (2 * s**2)) * np.sin(p), 0, 5 * s)
    expected = b0 * 2 * np.pi * r_cm**2 * integral
    radial = magnetic_flux(smap, mask=region, threshold=0 * u.G, radial_correction=True)
    assert radial.total_unsigned.to_value(u.Mx) == pytest.approx(expected, rel=1e-3)
    # The LOS flux is smaller by about the blob's mu; B_los / mu recovers B0 at its centre.
    geometry = disk_geometry(smap)
    peak = np.unravel_index(np.nanargmin(psi), psi.shape)
    assert smap.data[peak] / geometry.mu[peak] == pytest.approx(
        b0 * np.exp(-(psi[peak] ** 2) / (2 * s**2)), rel=1e-4
    )
    los = magnetic_flux(smap, mask=region, threshold=0 * u.G)
    assert float(los.total_unsigned / radial.total_unsigned) == pytest.approx(mu_ref[peak], abs=0.03)


def test_threshold_region_mask_and_signs():
    geometry = grid_geometry(128)
    field = np.where(np.arange(128)[None, :] < 64, 5.0, -100.0) * np.ones((128, 1))
    area, mu = geometry.area, geometry.mu
    everything = flux_from_arrays(field, area, mu, threshold=0 * u.G)
    above = flux_from_arrays(field, area, mu, threshold=10 * u.G)
    assert above.positive == 0 * u.Mx
    assert above.total_unsigned == -above.negative
    assert everything.positive > 0 * u.Mx
    assert everything.total_unsigned == everything.positive - everything.negative
    assert everything.net == everything.positive + everything.negative
    left = np.zeros((128, 128), bool)
    left[:, :64] = True
    a = flux_from_arrays(field, area, mu, mask=left, threshold=0 * u.G)
    b = flux_from_arrays(field, area, mu, mask=~left, threshold=0 * u.G)
    assert (a.total_unsigned + b.total_unsigned).to_value(u.Mx) == pytest.approx(
        everything.total_unsigned.value
    )
    assert a.n_pixels + b.n_pixels == everything.n_pixels
    # Field given as a Quantity in tesla gives the same flux.
    in_tesla = flux_from_arrays((field * u.G).to(u.T), area, mu, threshold=0 * u.G)
    assert in_tesla.total_unsigned.to_value(u.Mx) == pytest.approx(everything.total_unsigned.value)


def test_grid_geometry_matches_a_map_on_the_model_grid():
    grid = ModelGrid(256)
    from_grid = grid_geometry(grid, dsun=1 * u.AU)
    observer = SkyCoord(0 * u.deg, 0 * u.deg, 1 * u.AU, frame=HeliographicStonyhurst, obstime=DATE)
    from_map = disk_geometry(make_map(256, observer=observer))
    np.testing.assert_allclose(from_grid.mu, from_map.mu, atol=1e-6)
    np.testing.assert_allclose(from_grid.area.value, from_map.area.value, rtol=1e-6)
    assert from_grid.radius_px == pytest.approx(grid.radius_px)
    # The on-disk pixels are those of the grid's own disk mask.
    assert np.array_equal(from_grid.on_disk, disk_mask(grid))
    assert grid_geometry(grid) is grid_geometry(grid)  # cached


def test_bad_maps_give_clear_errors(map512):
    with pytest.raises(InputMapError, match="not a magnetic field"):
        magnetic_flux(make_map(64, unit=u.ct))
    no_unit = make_map(64)
    no_unit.meta.pop("bunit")
    with pytest.raises(MissingMetadataError, match="no unit"):
        magnetic_flux(no_unit)
    with pytest.raises(TypeError, match="GenericMap"):
        magnetic_flux(np.zeros((64, 64)))
    data = np.zeros((64, 64))
    data[32, 30] = np.nan
    with pytest.raises(InvalidDataError, match="1 non-finite pixel"):
        magnetic_flux(make_map(64, data))
    assert magnetic_flux(make_map(64, data + 50), nan_policy="omit").total_unsigned > 0 * u.Mx
    with pytest.raises(ValueError, match="nan_policy"):
        magnetic_flux(make_map(64, np.zeros((64, 64))), nan_policy="ignore")


def test_field_in_tesla_map_equals_gauss_map():
    data = np.full((96, 96), 300.0)
    in_gauss = magnetic_flux(make_map(96, data), nan_policy="omit")
    in_tesla = magnetic_flux(make_map(96, data * 1e-4, unit=u.T), nan_policy="omit")
    assert in_tesla.total_unsigned.to_value(u.Mx) == pytest.approx(in_gauss.total_unsigned.to_value(u.Mx))


@pytest.mark.slow
def test_real_hmi_total_unsigned_flux_matches_an_independent_calculation(real_hmi_map):
    hmi = real_hmi_map
    flux = magnetic_flux(hmi, mu_min=0.1, threshold=10 * u.G)
    # Independent, SHARP-style calculation from the header alone: pixel distance from the
    # disk centre (rotation-invariant), orthographic mu, and the pixel area at disk centre
    # (R_sun / RSUN_OBS * CDELT)**2 de-projected by 1/mu.
    meta = hmi.meta
    cdelt = meta["cdelt1"]  # arcsec
    cx = meta["crpix1"] - 1 - meta["crval1"] / cdelt
    cy = meta["crpix2"] - 1 - meta["crval2"] / cdelt
    ny, nx = hmi.data.shape
    yy, xx = np.ogrid[:ny, :nx]
    rho = np.hypot(xx - cx, yy - cy) * cdelt / meta["rsun_obs"]  # in apparent solar radii
    with np.errstate(invalid="ignore"):
        mu = np.sqrt(1 - rho**2)
        b = np.asarray(hmi.data, dtype=np.float64)
        keep = (mu > 0.1) & np.isfinite(b) & (np.abs(b) > 10)
    pixel_cm = meta["rsun_ref"] * 100 / meta["rsun_obs"] * cdelt
    independent = np.sum(np.abs(b[keep]) * pixel_cm**2 / mu[keep])
    assert flux.total_unsigned.to_value(u.Mx) == pytest.approx(independent, rel=0.02)
    # A sunspot-maximum full disk: a few 1e23 Mx, roughly balanced.
    assert 1e23 < flux.total_unsigned.to_value(u.Mx) < 1e24
    assert abs(float(flux.net / flux.total_unsigned)) < 0.2


# ---------------------------------------------------------------- centre-to-limb
def test_flux_by_mu_is_flat_for_a_projected_field_and_shows_a_missing_mu():
    from sunpy_magnetogan.metrics import MU_EDGES, flux_by_mu

    geometry = grid_geometry(256)
    rng = np.random.default_rng(3)
    # A patchy radial field of mixed sign, seen as B_los = mu B_r.
    radial = np.where(np.isfinite(geometry.mu), rng.choice([-400.0, 0.0, 250.0], size=(256, 256)), np.nan)
    truth = radial * geometry.mu
    table = flux_by_mu(truth, 0.5 * truth, geometry)
    assert len(table) == len(MU_EDGES) - 1
    assert table["flux_true"].unit == u.Mx
    np.testing.assert_allclose(table["ratio"], 0.5, rtol=1e-9)  # the same everywhere
    # A model that returns B_r instead of B_los: the ratio grows towards the limb as 1/mu.
    forgot = flux_by_mu(truth, radial, geometry)["ratio"]
    assert np.all(np.diff(forgot) < 0)
    assert forgot[0] > 3 * forgot[-1]
    # The annuli split the disk: their true fluxes add up to the disk's, above mu = 0.1.
    whole = flux_from_arrays(truth, geometry.area, geometry.mu, mu_min=0.1, radial_correction=True)
    assert table["flux_true"].sum().to_value(u.Mx) == pytest.approx(
        whole.total_unsigned.to_value(u.Mx), rel=1e-9
    )
    # A mask leaves pixels out; an annulus without true flux has no ratio.
    north = np.zeros((256, 256), dtype=bool)
    north[128:] = True
    assert flux_by_mu(truth, truth, geometry, mask=north)["n_pixels"].sum() < table["n_pixels"].sum()
    assert np.isnan(flux_by_mu(np.zeros_like(truth), truth, geometry)["ratio"]).all()
    with pytest.raises(ValueError, match="increasing"):
        flux_by_mu(truth, truth, geometry, mu_edges=(0.5, 0.3))


def test_sum_flux_by_mu_takes_the_ratio_of_the_sums():
    from sunpy_magnetogan.metrics import flux_by_mu, sum_flux_by_mu

    geometry = grid_geometry(128)
    truth = np.where(np.isfinite(geometry.mu), 300.0 * geometry.mu, np.nan)
    strong = flux_by_mu(3 * truth, 3 * truth, geometry)  # ratio 1, three times the flux
    weak = flux_by_mu(truth, 0.0 * truth, geometry)  # ratio 0
    total = sum_flux_by_mu([strong, weak])
    np.testing.assert_allclose(total["ratio"], 0.75)  # not the mean of the ratios, 0.5
    assert np.all(total["n_pixels"] == 2 * strong["n_pixels"])
    assert total["flux_true"].unit == u.Mx
    np.testing.assert_array_equal(strong["ratio"], 1.0)  # the inputs are left alone
    with pytest.raises(ValueError, match="no flux_by_mu"):
        sum_flux_by_mu([])
    with pytest.raises(ValueError, match="different annuli"):
        sum_flux_by_mu([strong, flux_by_mu(truth, truth, geometry, mu_edges=(0.2, 1.0))])

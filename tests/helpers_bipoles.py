"""
Magnetogram maps of a Sun made of Gaussian bipoles, seen from any observer.

A test helper (importable by any test module): the truth is an analytic radial field
``B_r(lon, lat)`` made of bipoles placed at known Carrington positions. From it we make

- `carrington_truth_map`: the truth on a full-Sun Carrington grid (the header from
  `sunpy.map.header_helper.make_heliographic_header`);
- `magnetogram_map`: a helioprojective line-of-sight magnetogram for an observer
  (header from `sunpy.map.make_fitswcs_header` with the observer's `SkyCoord`), where each
  on-disk pixel holds ``B_los = B_r * mu`` evaluated at the pixel's Carrington coordinate.

Observers: `earth_observer` (SDO-like, at the Earth) and `stonyhurst_observer` (any
Stonyhurst longitude, e.g. 180 deg for a farside spacecraft).
"""

from dataclasses import dataclass, replace

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from sunpy.coordinates import (
    Heliocentric,
    HeliographicCarrington,
    HeliographicStonyhurst,
    Helioprojective,
    get_earth,
)
from sunpy.map import all_coordinates_from_map
from sunpy.map.header_helper import make_heliographic_header
from sunpy.sun.constants import sidereal_rotation_rate
from sunpy.sun.models import differential_rotation

__all__ = [
    "RSUN_SDO",
    "RSUN_STEREO",
    "Bipole",
    "bipole_field",
    "carrington_truth_map",
    "earth_observer",
    "magnetogram_map",
    "rotate_bipoles",
    "stonyhurst_observer",
]

#: rsun conventions: SDO headers use 696000 km, STEREO (and sunpy's default) 695700 km.
RSUN_SDO = 696000 * u.km
RSUN_STEREO = 695700 * u.km


@dataclass(frozen=True)
class Bipole:
    """
    One bipolar active region of the truth.

    Parameters
    ----------
    lon, lat : `~astropy.units.Quantity`
        Carrington longitude and latitude of the bipole's centre.
    flux : `~astropy.units.Quantity`
        Total unsigned flux (both polarities together), in Mx.
    separation : `~astropy.units.Quantity`
        Angle between the two polarity centres.
    tilt : `~astropy.units.Quantity`
        Joy's-law tilt: angle of the following-to-leading line to the equator, positive
        when the leading (western) polarity is closer to the equator.
    width : `~astropy.units.Quantity`
        Gaussian standard deviation of each polarity, as a heliographic angle.
    leading_sign : int
        Sign (+1 or -1) of the leading polarity.
    """

    lon: u.Quantity
    lat: u.Quantity
    flux: u.Quantity = 5e22 * u.Mx
    separation: u.Quantity = 6 * u.deg
    tilt: u.Quantity = 0 * u.deg
    width: u.Quantity = 1.5 * u.deg
    leading_sign: int = 1

    def polarity_centres(self):
        """Carrington (lon, lat) of the leading and following polarity centres, in deg."""
        lat0 = self.lat.to_value(u.deg)
        angle = -self.tilt.to_value(u.deg) if lat0 >= 0 else self.tilt.to_value(u.deg)
        half = 0.5 * self.separation.to_value(u.deg)
        dlon = half * np.cos(np.deg2rad(angle)) / np.cos(np.deg2rad(lat0))
        dlat = half * np.sin(np.deg2rad(angle))
        lon0 = self.lon.to_value(u.deg)
        return (lon0 + dlon, lat0 + dlat), (lon0 - dlon, lat0 - dlat)


def _unit(lon_deg, lat_deg):
    lon = np.deg2rad(lon_deg)
    lat = np.deg2rad(lat_deg)
    return np.stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)], axis=-1)


def bipole_field(lon, lat, bipoles, *, rsun=RSUN_STEREO):
    """
    The radial field of the truth at Carrington coordinates.

    Parameters
    ----------
    lon, lat : `~astropy.units.Quantity`
        Carrington coordinates, any shape (NaN gives NaN).
    bipoles : list of `Bipole`
    rsun : `~astropy.units.Quantity`
        Solar radius used to turn flux into field.

    Returns
    -------
    `~astropy.units.Quantity`
        ``B_r`` in G, shape of ``lon``.
    """
    points = _unit(np.asarray(u.Quantity(lon, u.deg).value), np.asarray(u.Quantity(lat, u.deg).value))
    field = np.zeros(points.shape[:-1])
    r_cm = rsun.to_value(u.cm)
    for bp in bipoles:
        sigma = bp.width.to_value(u.rad)
        peak = 0.5 * bp.flux.to_value(u.Mx) / (2 * np.pi * sigma**2 * r_cm**2)
        for (plon, plat), sign in zip(
            bp.polarity_centres(), (bp.leading_sign, -bp.leading_sign), strict=True
        ):
            centre = _unit(plon, plat)
            cos_angle = np.clip(points @ centre, -1, 1)
            angle = np.arccos(cos_angle)
            field += sign * peak * np.exp(-0.5 * (angle / sigma) ** 2)
    return field * u.G


def rotate_bipoles(bipoles, duration):
    """
    Move the bipoles in Carrington longitude by the differential rotation (Howard model).

    Parameters
    ----------
    bipoles : list of `Bipole`
    duration : `~astropy.units.Quantity`
        Time elapsed.

    Returns
    -------
    list of `Bipole`
    """
    out = []
    for bp in bipoles:
        drift = differential_rotation(duration, bp.lat, model="howard", frame_time="sidereal") - (
            sidereal_rotation_rate * duration
        ).to(u.deg)
        out.append(replace(bp, lon=((bp.lon + drift).to(u.deg)) % (360 * u.deg)))
    return out


def earth_observer(date):
    """The Earth (an SDO-like observer) at ``date``, in Stonyhurst coordinates."""
    return get_earth(date)


def stonyhurst_observer(date, lon, *, lat=0 * u.deg, distance=1 * u.AU):
    """An observer at Stonyhurst longitude ``lon`` (180 deg: opposite the Earth)."""
    return SkyCoord(lon, lat, distance, frame=HeliographicStonyhurst(obstime=date))


def carrington_truth_map(
    bipoles, *, date, shape=(180, 360), projection_code="CAR", rsun=RSUN_STEREO, center_longitude=180 * u.deg
):
    """
    The truth ``B_r`` on a full-Sun Carrington grid.

    Parameters
    ----------
    bipoles : list of `Bipole`
    date : str or `~astropy.time.Time`
    shape : tuple of int
        ``(n_lat, n_lon)``.
    projection_code : {'CAR', 'CEA'}
    rsun : `~astropy.units.Quantity`
    center_longitude : `~astropy.units.Quantity`
        Carrington longitude of the map centre (180 deg: the map spans 0 to 360 deg).

    Returns
    -------
    `~sunpy.map.GenericMap`
    """
    header = make_heliographic_header(
        date,
        get_earth(date),
        shape,
        frame="carrington",
        projection_code=projection_code,
        map_center_longitude=center_longitude,
    )
    header["rsun_ref"] = rsun.to_value(u.m)
    header["bunit"] = "G"
    empty = sunpy.map.Map(np.zeros(shape), header)
    coords = all_coordinates_from_map(empty)
    data = bipole_field(coords.lon, coords.lat, bipoles, rsun=rsun).to_value(u.G)
    return sunpy.map.Map(data, header)


def magnetogram_map(
    bipoles,
    observer,
    *,
    size=256,
    rsun=RSUN_STEREO,
    disk_fraction=0.4,
    noise=0 * u.G,
    seed=0,
    observatory=None,
    instrument="bipole truth",
):
    """
    A helioprojective line-of-sight magnetogram of the bipoles seen by ``observer``.

    Parameters
    ----------
    bipoles : list of `Bipole`
    observer : `~astropy.coordinates.SkyCoord`
        Observer location with an ``obstime`` (the date of the map).
    size : int
        The map is ``size x size`` pixels.
    rsun : `~astropy.units.Quantity`
        Solar radius written to the header (``RSUN_REF``) and used for the disk.
    disk_fraction : float
        Disk radius as a fraction of ``size`` (0.4 as on the model grid).
    noise : `~astropy.units.Quantity`
        Standard deviation of Gaussian noise added on the disk, in G.
    seed : int
        Seed of the noise.
    observatory, instrument : str
        Written to the header; ``observatory`` defaults to ``"SDO"`` for an observer within
        30 deg of the Earth and ``"STEREO"`` otherwise.

    Returns
    -------
    `~sunpy.map.GenericMap`
        ``B_los = B_r * mu`` in G on the disk, NaN off the disk.
    """
    date = observer.obstime
    observer = observer.transform_to(HeliographicStonyhurst(obstime=date))
    if observatory is None:
        earth = get_earth(date)
        observatory = "SDO" if abs(observer.lon - earth.lon) < 30 * u.deg else "STEREO"
    distance = observer.radius.to_value(u.m)
    angular_radius = np.arcsin(rsun.to_value(u.m) / distance) * u.rad
    scale = (angular_radius / (disk_fraction * size)).to(u.arcsec) / u.pix
    centre = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=Helioprojective(observer=observer, obstime=date))
    header = sunpy.map.make_fitswcs_header(
        (size, size),
        centre,
        scale=u.Quantity([scale, scale]),
        observatory=observatory,
        instrument=instrument,
        unit=u.G,
    )
    header["rsun_ref"] = rsun.to_value(u.m)
    empty = sunpy.map.Map(np.zeros((size, size)), header)
    coords = all_coordinates_from_map(empty)
    hcc = coords.transform_to(Heliocentric(observer=observer, obstime=date))
    x, y, z = (c.to_value(u.m) for c in (hcc.x, hcc.y, hcc.z))
    r = rsun.to_value(u.m)
    to_obs = np.sqrt(x**2 + y**2 + (distance - z) ** 2)
    with np.errstate(invalid="ignore"):
        mu = (z * distance - r**2) / (r * to_obs)
    on_disk = np.isfinite(mu) & (mu > 0)
    hgc = hcc.transform_to(HeliographicCarrington(observer=observer, obstime=date, rsun=rsun))
    br = bipole_field(hgc.lon, hgc.lat, bipoles, rsun=rsun).to_value(u.G)
    data = np.where(on_disk, br * np.where(on_disk, mu, 0), np.nan)
    if noise > 0 * u.G:
        rng = np.random.default_rng(seed)
        data = data + rng.normal(0, noise.to_value(u.G), data.shape)
    return sunpy.map.Map(data, header)

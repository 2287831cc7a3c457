"""
Vectorised geometry of a spherical Sun seen by an observer at a finite distance.

Three frames are used, all centred on the Sun:

* the *Carrington-fixed* frame: unit vectors ``(cos lat cos lon, cos lat sin lon, sin lat)``
  of Carrington longitude and latitude (z to solar north);
* the observer's *heliocentric* frame (Thompson 2006, sunpy's
  `~sunpy.coordinates.frames.Heliocentric`): x to solar west, y to solar north, z toward
  the observer, in units of the photospheric radius;
* the image plane: a helioprojective gnomonic (``HPLN-TAN``/``HPLT-TAN``) pixel grid with
  the reference point at disk centre, a square plate scale and an optional roll.

`ImagePlane` casts a ray from the observer through every pixel centre and intersects it
with the sphere, so that the on-disk pixels get their surface point (hence Carrington
coordinates and the cosine ``mu`` of the angle between the local vertical and the line of
sight) without going through `~astropy.coordinates.SkyCoord`; the tests check it against
`sunpy.map.all_coordinates_from_map`. `geometry_from_wcs_map` does the same for any map
through its WCS (e.g. a real HMI magnetogram with CROTA2 = 180).
"""

from dataclasses import dataclass

import astropy.units as u
import numpy as np

# unit_vectors: the heliographic unit vectors of `sunpy_magnetogan.sphere`, re-exported here.
from sunpy_magnetogan.sphere import SOLAR_RADIUS
from sunpy_magnetogan.sphere import lonlat_to_vectors as unit_vectors

__all__ = [
    "ImagePlane",
    "SurfaceGeometry",
    "carrington_from_observer_frame",
    "geometry_from_wcs_map",
    "observer_frame_from_carrington",
    "unit_vectors",
]

_ARCSEC = np.pi / (180.0 * 3600.0)
_RSUN_MM = SOLAR_RADIUS.to_value(u.Mm)


def observer_frame_from_carrington(lon, lat, l0, b0):
    """
    Heliocentric (observer) unit vectors of points given in Carrington coordinates.

    Parameters
    ----------
    lon, lat : array-like
        Carrington longitude and latitude of the points, degrees.
    l0, b0 : float
        Carrington longitude and latitude of the sub-observer point, degrees.

    Returns
    -------
    numpy.ndarray
        Shape ``(..., 3)``: x to solar west, y to solar north, z toward the observer.
    """
    lat = np.deg2rad(np.asarray(lat, dtype=np.float64))
    dlon = np.deg2rad(np.asarray(lon, dtype=np.float64) - l0)
    b0 = np.deg2rad(b0)
    clat, slat = np.cos(lat), np.sin(lat)
    x = clat * np.sin(dlon)
    y = slat * np.cos(b0) - clat * np.cos(dlon) * np.sin(b0)
    z = slat * np.sin(b0) + clat * np.cos(dlon) * np.cos(b0)
    return np.stack(np.broadcast_arrays(x, y, z), axis=-1)


def carrington_from_observer_frame(xyz, l0, b0):
    """
    Carrington longitude and latitude of heliocentric (observer-frame) vectors.

    Parameters
    ----------
    xyz : numpy.ndarray
        Shape ``(..., 3)``; need not be normalised (NaN propagates).
    l0, b0 : float
        Carrington longitude and latitude of the sub-observer point, degrees.

    Returns
    -------
    lon, lat : numpy.ndarray
        Degrees; longitude in [0, 360).
    """
    xyz = np.asarray(xyz, dtype=np.float64)
    b0 = np.deg2rad(b0)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    norm = np.sqrt(x * x + y * y + z * z)
    slat = (y * np.cos(b0) + z * np.sin(b0)) / norm
    lat = np.rad2deg(np.arcsin(np.clip(slat, -1.0, 1.0)))
    lon = np.mod(np.rad2deg(np.arctan2(x, z * np.cos(b0) - y * np.sin(b0))) + l0, 360.0)
    return lon, lat


@dataclass(frozen=True)
class SurfaceGeometry:
    """
    Where the pixels of an image meet the solar surface.

    Attributes
    ----------
    xyz : numpy.ndarray
        ``(ny, nx, 3)`` heliocentric unit vectors of the surface point of each pixel
        (x west, y north, z toward the observer); NaN off the disk.
    mu : numpy.ndarray
        ``(ny, nx)`` cosine of the angle between the local vertical and the direction to
        the observer; NaN off the disk.
    rho : numpy.ndarray
        ``(ny, nx)`` distance of the line of sight from Sun centre at closest approach,
        in solar radii (< 1 on the disk).
    on_disk : numpy.ndarray
        ``(ny, nx)`` bool.
    distance : float
        Observer distance in solar radii.
    radius_px : float
        Apparent photospheric radius in pixels.
    scale : float
        Plate scale in arcsec per pixel.
    center_px : tuple of float
        0-based pixel ``(x, y)`` of disk centre.
    extended_xyz : numpy.ndarray
        Like ``xyz`` on the disk; off the disk, the limb point nearest to the pixel's line
        of sight (for interpolating smooth fields up to the limb).
    """

    xyz: np.ndarray
    mu: np.ndarray
    rho: np.ndarray
    on_disk: np.ndarray
    distance: float
    radius_px: float
    scale: float
    center_px: tuple
    extended_xyz: np.ndarray

    @property
    def megameters_per_pixel(self):
        """Size of a pixel at disk centre (on the near surface), in Mm."""
        return self.scale * _ARCSEC * (self.distance - 1.0) * _RSUN_MM


def _intersect(ux, uy, uz, distance, radius_px, scale, center_px):
    """Rays from the observer at +z (distance in R) along (ux, uy, -uz) (uz > 0), unit norm."""
    rho = distance * np.sqrt(np.clip(1.0 - uz * uz, 0.0, None))
    on_disk = rho < 1.0
    disc = np.where(on_disk, 1.0 - rho * rho, np.nan)
    t = distance * uz - np.sqrt(disc)
    xyz = np.stack([t * ux, t * uy, distance - t * uz], axis=-1)
    mu = -(xyz[..., 0] * ux + xyz[..., 1] * uy - xyz[..., 2] * uz)
    # Off the disk: the point of closest approach, pushed out to the sphere.
    tc = distance * uz
    closest = np.stack([tc * ux, tc * uy, distance - tc * uz], axis=-1)
    closest /= np.maximum(np.linalg.norm(closest, axis=-1, keepdims=True), 1e-12)
    extended = np.where(on_disk[..., np.newaxis], xyz, closest)
    return SurfaceGeometry(
        xyz=xyz,
        mu=mu,
        rho=rho,
        on_disk=on_disk,
        distance=distance,
        radius_px=radius_px,
        scale=scale,
        center_px=(float(center_px[0]), float(center_px[1])),
        extended_xyz=extended,
    )


@dataclass(frozen=True)
class ImagePlane:
    """
    A square-pixel helioprojective TAN image of the Sun with the disk centre at ``crpix``.

    Parameters
    ----------
    shape : tuple of int
        ``(ny, nx)``.
    scale : float
        Plate scale, arcsec per pixel.
    distance : float
        Observer distance from Sun centre, in solar radii.
    crpix : tuple of float, optional
        0-based pixel ``(x, y)`` of disk centre; the array centre by default.
    roll : float, optional
        The FITS ``CROTA2`` of the image, degrees (0: solar north up; 180: upside down
        like level-1 HMI). Pixels are laid out exactly as a FITS reader of that
        ``CROTA2`` expects.
    """

    shape: tuple
    scale: float
    distance: float
    crpix: tuple = None
    roll: float = 0.0

    def __post_init__(self):
        if self.crpix is None:
            object.__setattr__(self, "crpix", ((self.shape[1] - 1) / 2.0, (self.shape[0] - 1) / 2.0))
        if not self.distance > 1.0:
            raise ValueError(f"the observer must be outside the Sun, got a distance of {self.distance} R_sun")

    @property
    def radius_px(self):
        """Apparent photospheric radius in pixels."""
        return float(np.arcsin(1.0 / self.distance) / _ARCSEC / self.scale)

    def _rotation(self):
        c, s = np.cos(np.deg2rad(self.roll)), np.sin(np.deg2rad(self.roll))
        return c, s

    def surface(self):
        """
        Intersect the line of sight of every pixel centre with the photosphere.

        Returns
        -------
        SurfaceGeometry
        """
        ny, nx = self.shape
        dx = np.arange(nx, dtype=np.float64) - self.crpix[0]
        dy = np.arange(ny, dtype=np.float64) - self.crpix[1]
        c, s = self._rotation()
        k = self.scale * _ARCSEC
        xi = k * (c * dx[np.newaxis, :] - s * dy[:, np.newaxis])
        eta = k * (s * dx[np.newaxis, :] + c * dy[:, np.newaxis])
        norm = np.sqrt(1.0 + xi * xi + eta * eta)
        return _intersect(
            xi / norm, eta / norm, 1.0 / norm, self.distance, self.radius_px, self.scale, self.crpix
        )

    def project(self, xyz):
        """
        Pixel coordinates of points given in the observer's heliocentric frame.

        Parameters
        ----------
        xyz : numpy.ndarray
            ``(..., 3)`` positions in solar radii (x west, y north, z toward the observer).

        Returns
        -------
        px, py : numpy.ndarray
            0-based pixel coordinates (x = column).
        """
        xyz = np.asarray(xyz, dtype=np.float64)
        depth = self.distance - xyz[..., 2]
        xi = xyz[..., 0] / depth / (self.scale * _ARCSEC)
        eta = xyz[..., 1] / depth / (self.scale * _ARCSEC)
        c, s = self._rotation()
        return self.crpix[0] + c * xi + s * eta, self.crpix[1] - s * xi + c * eta


def geometry_from_wcs_map(smap, *, rsun=None):
    """
    `SurfaceGeometry` of any helioprojective map, through its WCS.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        A helioprojective map with an observer (any roll, scale or pointing).
    rsun : `~astropy.units.Quantity`, optional
        Radius of the sphere; the map's ``rsun_meters`` by default.

    Returns
    -------
    SurfaceGeometry
    """
    rsun = (smap.rsun_meters if rsun is None else rsun).to_value(u.m)
    distance = smap.dsun.to_value(u.m) / rsun
    ny, nx = smap.data.shape
    py, px = np.mgrid[0:ny, 0:nx]
    lon, lat = smap.wcs.pixel_to_world_values(px, py)
    units = [u.Unit(unit) for unit in smap.wcs.wcs.cunit]
    tx = np.deg2rad(np.mod((lon * units[0]).to_value(u.deg) + 180.0, 360.0) - 180.0)
    ty = np.deg2rad((lat * units[1]).to_value(u.deg))
    scale = float(np.mean(u.Quantity([smap.scale.axis1, smap.scale.axis2]).to_value(u.arcsec / u.pix)))
    radius_px = float(np.arcsin(1.0 / distance) / _ARCSEC / scale)
    center = smap.wcs.world_to_pixel_values(0.0, 0.0)
    return _intersect(
        np.cos(ty) * np.sin(tx), np.sin(ty), np.cos(ty) * np.cos(tx), distance, radius_px, scale, center
    )

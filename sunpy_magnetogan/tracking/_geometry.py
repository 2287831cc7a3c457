"""
Per-pixel geometry of a helioprojective map (the unit-sphere helpers are in
`sunpy_magnetogan.sphere`).

Everything the detection, the tracker and the synoptic maps need to know about where a
pixel lies on the Sun: whether it is on the disk, its ``mu`` (cosine of the angle between
the local vertical and the line of sight), its Carrington longitude and latitude, and the
area of the solar surface it covers.

``mu`` and the pixel areas are those of `sunpy_magnetogan.metrics.disk_geometry`, so that
fluxes measured here agree with the rest of the package.
"""

import warnings
from dataclasses import dataclass

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from sunpy.coordinates import HeliographicCarrington, Helioprojective
from sunpy.map import GenericMap, all_coordinates_from_map

from sunpy_magnetogan.exceptions import InputMapError, InvalidDataError, MissingMetadataError
from sunpy_magnetogan.metrics import disk_geometry
from sunpy_magnetogan.sphere import lonlat_to_vectors
from sunpy_magnetogan.validation import validate_magnetogram_map

__all__ = [
    "MU_FLOOR",
    "PixelGeometry",
    "binned_map",
    "disk_centre_scale",
    "magnetogram_data",
    "observer_label",
    "pixel_geometry",
    "with_rsun",
]

#: Smallest ``mu`` used when dividing by ``mu`` (areas, radial field), so that pixels at
#: the very limb do not blow up.
MU_FLOOR = 0.05


@dataclass(frozen=True)
class PixelGeometry:
    """
    Where each pixel of a helioprojective map lies on the solar sphere.

    All arrays have the shape of the map's data, ``(ny, nx)``.

    Attributes
    ----------
    on_disk : `numpy.ndarray` of bool
        True where the line of sight meets the sphere of radius `rsun`.
    mu : `numpy.ndarray`
        Cosine of the angle between the local vertical and the direction to the observer;
        NaN off the disk (the package's convention, `sunpy_magnetogan.sphere`).
    lon, lat : `~astropy.units.Quantity`
        Carrington longitude in [0, 360) deg and latitude in deg; NaN off the disk.
    vectors : `numpy.ndarray`
        Unit vectors ``(ny, nx, 3)`` of the surface points in the Carrington frame; NaN off
        the disk.
    projected_area : `~astropy.units.Quantity`
        Area of the pixel projected on the plane of the sky at the surface point, in cm2
        (solid angle times squared distance); 0 off the disk.
    area : `~astropy.units.Quantity`
        Area of the solar surface the pixel covers, in cm2: ``projected_area / mu`` with
        ``mu`` clipped at `MU_FLOOR`; 0 off the disk.
    rsun : `~astropy.units.Quantity`
        Radius of the sphere used, in m.
    scale : `~astropy.units.Quantity`
        Heliographic angle spanned by one pixel at disk centre, in deg.
    carrington_frame : `~sunpy.coordinates.HeliographicCarrington`
        The Carrington frame (observer and time of the map) of `lon` and `lat`.
    """

    on_disk: np.ndarray
    mu: np.ndarray
    lon: u.Quantity
    lat: u.Quantity
    vectors: np.ndarray
    projected_area: u.Quantity
    area: u.Quantity
    rsun: u.Quantity
    scale: u.Quantity
    carrington_frame: HeliographicCarrington


def magnetogram_data(smap):
    """
    Check that ``smap`` is a helioprojective map of a magnetic field; return its data in G.

    The checks are `sunpy_magnetogan.validation.validate_magnetogram_map` (unit, date,
    observer, WCS) plus a helioprojective frame and two dimensions.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        A line-of-sight magnetogram (real, synthetic or generated).

    Returns
    -------
    `numpy.ndarray`
        The data in Gauss as float64, shape ``(ny, nx)``, with non-finite values kept.

    Raises
    ------
    TypeError
        If ``smap`` is not a `~sunpy.map.GenericMap`.
    InputMapError
        If the map is not helioprojective or not two-dimensional.
    MissingMetadataError
        If the map has no magnetic-field unit or lacks the metadata placing it on the Sun.
    """
    if not isinstance(smap, GenericMap):
        raise TypeError(f"expected a sunpy.map.GenericMap magnetogram, not {type(smap).__name__}")
    factor = validate_magnetogram_map(smap).to_value(u.G)
    if not isinstance(smap.coordinate_frame, Helioprojective):
        raise InputMapError(
            f"the map must be helioprojective (as seen by an observer), not "
            f"{type(smap.coordinate_frame).__name__}"
        )
    if smap.data.ndim != 2:
        raise InputMapError(f"the map must be two-dimensional, not of shape {smap.data.shape}")
    return np.asarray(smap.data, dtype=float) * factor


def observer_label(smap):
    """
    A short label of who (or what) made the map, e.g. ``"SDO/HMI SIDE1"``.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`

    Returns
    -------
    str
        ``observatory/instrument`` from the map's metadata, or ``"unknown"``.
    """
    parts = []
    for value in (smap.observatory, smap.instrument):
        text = str(value or "").strip()
        if text and text not in parts:
            parts.append(text)
    return "/".join(parts) or "unknown"


def binned_map(smap, data, factor):
    """
    A copy of ``smap`` with ``data`` averaged over ``factor x factor`` pixel blocks.

    Non-finite pixels (off the disk) count as 0, so block means at the limb are diluted;
    the WCS is updated by `sunpy.map.GenericMap.superpixel` (rows and columns left over at
    the edges are dropped).

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
    data : `numpy.ndarray`
        The values to average, shape of the map's data (e.g. the data in G).
    factor : int

    Returns
    -------
    `~sunpy.map.GenericMap`
    """
    filled = sunpy.map.Map(np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0), smap.meta.copy())
    return filled.superpixel(u.Quantity([factor, factor], u.pix), func=np.mean)


def with_rsun(smap, rsun):
    """
    The same map (data shared, metadata copied) with its solar radius set to ``rsun``.

    Reprojecting between maps whose headers give different radii (SDO 696000 km, STEREO
    695700 km) misplaces or drops limb pixels: reproject checks that each pixel maps back
    onto itself, and that round trip goes through each frame's sphere. Giving every map the
    same radius makes the spheres agree (sunpy's "rsun idiosyncrasies" guide).

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
    rsun : `~astropy.units.Quantity`

    Returns
    -------
    `~sunpy.map.GenericMap`
    """
    rsun = u.Quantity(rsun, u.m)
    if u.isclose(u.Quantity(smap.rsun_meters, u.m), rsun):
        return smap
    meta = smap.meta.copy()
    meta["rsun_ref"] = rsun.to_value(u.m)
    meta.pop("rsun_obs", None)
    meta.pop("solar_r", None)
    meta.pop("radius", None)
    return sunpy.map.Map(smap.data, meta)


def disk_centre_scale(smap, *, rsun=None):
    """
    Heliographic angle spanned by one pixel of ``smap`` at disk centre.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        A helioprojective map with an observer.
    rsun : `~astropy.units.Quantity`, optional
        Radius of the sphere; the map's own by default.

    Returns
    -------
    `~astropy.units.Quantity`
        In deg (geometric mean of the two pixel axes).
    """
    observer = smap.observer_coordinate
    if observer is None:
        raise MissingMetadataError("the map has no observer location (HGLN_OBS/HGLT_OBS/DSUN_OBS)")
    r = u.Quantity(smap.rsun_meters if rsun is None else rsun, u.m).to_value(u.m)
    dist = observer.radius.to_value(u.m)
    pixel_angle = np.sqrt(abs(np.linalg.det(smap.wcs.pixel_scale_matrix))) * np.pi / 180
    return (pixel_angle * (dist - r) / r * u.rad).to(u.deg)


def pixel_geometry(smap, *, rsun=None):
    """
    Compute where each pixel of a helioprojective map lies on the solar sphere.

    ``mu`` and the pixel areas come from `sunpy_magnetogan.metrics.disk_geometry` (the
    package's one definition of the surface area of a pixel); the Carrington coordinates
    from `sunpy.coordinates`.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        A helioprojective map with an observer.
    rsun : `~astropy.units.Quantity`, optional
        Radius of the sphere; the map's own ``rsun_meters`` by default. Pass one value for
        maps from several observers (SDO headers use 696000 km, STEREO 695700 km).

    Returns
    -------
    `PixelGeometry`

    Raises
    ------
    MissingMetadataError
        If the map has no usable observer location.
    InvalidDataError
        If no pixel of the map falls on the solar disk.
    """
    observer = smap.observer_coordinate
    if observer is None:
        raise MissingMetadataError("the map has no observer location (HGLN_OBS/HGLT_OBS/DSUN_OBS)")
    rsun = u.Quantity(smap.rsun_meters if rsun is None else rsun, u.m)
    disk = disk_geometry(smap, rsun=rsun)
    on_disk = np.isfinite(disk.mu) & (disk.mu > 0)
    if not on_disk.any():
        raise InvalidDataError("no pixel of the map falls on the solar disk")
    mu = np.where(on_disk, disk.mu, np.nan)
    mu_or_0 = np.where(on_disk, disk.mu, 0.0)
    area = np.where(on_disk, disk.area.to_value(u.cm**2), 0.0)

    obstime = smap.reference_date
    coords = all_coordinates_from_map(smap)
    coords = SkyCoord(coords.frame.replicate(rsun=rsun))
    carrington = HeliographicCarrington(observer=observer, obstime=obstime, rsun=rsun)
    with warnings.catch_warnings():
        # Off-disk pixels have no Carrington coordinates; they are masked below.
        warnings.filterwarnings("ignore", message=".*2D helioprojective coordinates to 3D")
        hgc = coords.transform_to(carrington)
    lon = np.where(on_disk, hgc.lon.to_value(u.deg), np.nan) * u.deg
    lat = np.where(on_disk, hgc.lat.to_value(u.deg), np.nan) * u.deg
    return PixelGeometry(
        on_disk=on_disk,
        mu=mu,
        lon=lon,
        lat=lat,
        vectors=lonlat_to_vectors(lon, lat),
        projected_area=area * mu_or_0 * u.cm**2,
        area=np.maximum(area * mu_or_0, 0) / np.maximum(mu_or_0, MU_FLOOR) * u.cm**2,
        rsun=rsun,
        scale=disk_centre_scale(smap, rsun=rsun),
        carrington_frame=carrington,
    )

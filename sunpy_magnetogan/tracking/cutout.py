"""
Co-rotating cutout cubes: one region's sequence of maps on a grid that rotates with it.

The idiom is sunpy's (``examples/map/track_active_region.py``): a cutout grid is defined
at a reference time around the region, and every map is reprojected onto it inside
`~sunpy.coordinates.propagate_with_solar_surface`, so that the grid follows the solar
surface (differential rotation) between the reference time and each map's time. By default
the grid is a small Carrington patch centred on the region, so maps from different
observers (frontside SDO, farside STEREO) land on the same grid.
"""

import logging

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from astropy.time import Time
from ndcube import NDCube
from ndcube.extra_coords import TimeTableCoordinate
from ndcube.wcs.wrappers import CompoundLowLevelWCS
from reproject import reproject_interp
from sunpy.coordinates import HeliographicCarrington, Helioprojective, get_earth, propagate_with_solar_surface

from sunpy_magnetogan._io import as_maps
from sunpy_magnetogan.tracking._geometry import observer_label, with_rsun

__all__ = ["corotating_cutout"]

log = logging.getLogger(__name__)


@u.quantity_input
def corotating_cutout(
    maps,
    center,
    *,
    shape=(64, 64),
    width: u.deg = 20 * u.deg,
    height: u.deg = None,
    frame="carrington",
    rotation_model="howard",
    rsun: u.m = None,
):
    """
    Reproject a sequence of maps onto a grid that rotates with the solar surface.

    Parameters
    ----------
    maps : iterable of `~sunpy.map.GenericMap` or path-like
        The maps (any observers, any order; they are sorted by time).
    center : `~astropy.coordinates.SkyCoord`
        The region's centre at the reference time ``center.obstime`` (any solar frame,
        e.g. Carrington ``lon``/``lat`` from a track's history row).
    shape : tuple of int
        ``(ny, nx)`` of the cutout grid.
    width, height : `~astropy.units.Quantity`
        Size of the grid: a heliographic angle for ``frame='carrington'``, a
        helioprojective angle (e.g. arcsec) for ``frame='helioprojective'``; ``height``
        defaults to ``width * ny / nx``.
    frame : {'carrington', 'helioprojective'}
        ``'carrington'`` (default): a Carrington patch (plate carree centred on the region),
        usable for every observer. ``'helioprojective'``: the view of the first map's
        observer at the reference time, as in sunpy's active-region tracking example.
    rotation_model : str
        Differential rotation model of `~sunpy.coordinates.propagate_with_solar_surface`
        (``'howard'``, ``'snodgrass'``, ``'allen'``, ``'rigid'``).
    rsun : `~astropy.units.Quantity`, optional
        Solar radius of the grid; by default the smallest ``rsun_meters`` of the maps, so
        that no map loses its limb pixels to a larger sphere (SDO headers use 696000 km,
        STEREO 695700 km).

    Returns
    -------
    `~ndcube.NDCube`
        Data of shape ``(n_maps, ny, nx)`` in the maps' unit, NaN (and masked) where a map
        does not see the grid. Its WCS has two spatial axes and a time axis (the maps'
        times, which need not be evenly spaced). ``meta`` holds ``observers`` (one label
        per frame), ``times``, ``center``, ``frame``, ``rotation_model`` and ``coverage``
        (the fraction of the grid each frame covers).

    Raises
    ------
    ValueError
        If ``center`` has no ``obstime`` or ``frame`` is unknown.

    Examples
    --------
    >>> row = history[history["track_id"] == 3][0]  # doctest: +SKIP
    >>> centre = SkyCoord(row["lon"], row["lat"], frame=HeliographicCarrington(
    ...     observer="earth", obstime=row["time"]))  # doctest: +SKIP
    >>> cube = corotating_cutout(maps, centre, width=25 * u.deg)  # doctest: +SKIP
    """
    if frame not in ("carrington", "helioprojective"):
        raise ValueError(f"frame must be 'carrington' or 'helioprojective', not {frame!r}")
    if center.obstime is None:
        raise ValueError("center must have an obstime: the reference time of the cutout")
    maps = as_maps(maps, sort=True)
    ny, nx = (int(n) for n in shape)
    ref_time = Time(center.obstime)
    if rsun is None:
        rsun = min(u.Quantity(m.rsun_meters, u.m) for m in maps)
    rsun = u.Quantity(rsun, u.m)

    if frame == "carrington":
        earth = get_earth(ref_time)
        target = HeliographicCarrington(observer=earth, obstime=ref_time, rsun=rsun)
        c = center.transform_to(target)
        height = width * ny / nx if height is None else height
        ref = SkyCoord(c.lon, c.lat, frame=target)
        scale = u.Quantity([width.to(u.deg) / nx, height.to(u.deg) / ny]) / u.pix
        header = sunpy.map.make_fitswcs_header((ny, nx), ref, scale=scale, projection_code="CAR")
    else:
        observer = maps[0].observer_coordinate
        target = Helioprojective(observer=observer, obstime=ref_time, rsun=rsun)
        c = center.transform_to(target)
        height = width * ny / nx if height is None else height
        ref = SkyCoord(c.Tx, c.Ty, frame=target)
        scale = u.Quantity([width.to(u.arcsec) / nx, height.to(u.arcsec) / ny]) / u.pix
        header = sunpy.map.make_fitswcs_header((ny, nx), ref, scale=scale)
    header["rsun_ref"] = rsun.to_value(u.m)
    grid = sunpy.map.Map(np.zeros((ny, nx)), header)

    frames = np.full((len(maps), ny, nx), np.nan)
    with propagate_with_solar_surface(rotation_model=rotation_model):
        for k, smap in enumerate(maps):
            smap = with_rsun(smap, rsun)  # one sphere for every map (see with_rsun)
            frames[k] = reproject_interp(
                (np.asarray(smap.data, dtype=float), smap.wcs),
                grid.wcs,
                shape_out=(ny, nx),
                return_footprint=False,
            )
    times = Time([m.reference_date for m in maps])
    time_wcs = TimeTableCoordinate(times, names="time", physical_types="time").wcs
    wcs = CompoundLowLevelWCS(grid.wcs, time_wcs)
    units = {m.unit for m in maps}
    unit = units.pop() if len(units) == 1 else None
    coverage = np.isfinite(frames).mean(axis=(1, 2))
    meta = {
        "observers": [observer_label(m) for m in maps],
        "times": times,
        "center": center,
        "frame": frame,
        "rotation_model": rotation_model,
        "coverage": coverage,
        "rsun": rsun,
    }
    log.info("co-rotating cutout of %d maps, coverage %s", len(maps), np.round(coverage, 2))
    return NDCube(frames, wcs=wcs, unit=unit, mask=~np.isfinite(frames), meta=meta)

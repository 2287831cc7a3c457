"""
The solar sphere: its radius, the MSH area unit, heliographic unit vectors, and ``mu``.

One home for the few facts about the Sun's surface that the metrics, the tracking, the
synoptic maps and the synthetic Sun all use, so that they agree to the last bit.

Conventions
-----------
- The solar radius is the IAU 2015 nominal radius that sunpy uses,
  ``sunpy.sun.constants.radius`` (695.7 Mm).
- ``mu`` is the cosine of the angle between the local vertical and the direction to the
  observer: 1 at disk centre, 0 at the limb. **Off the disk, ``mu`` is NaN** (the line of
  sight does not meet the sphere, so there is no surface point); arrays of ``mu`` over an
  image (`sunpy_magnetogan.metrics.disk_geometry`,
  `sunpy_magnetogan.tracking` pixel geometry, `sunpy_magnetogan.grid.ModelGrid`) follow it,
  and code that needs a number there uses the on-disk mask or `numpy.fmax`.
- Angles given as `~astropy.units.Quantity` are converted by astropy; plain numbers are
  degrees.
"""

import astropy.units as u
import numpy as np
import sunpy.sun.constants

__all__ = [
    "MSH",
    "MSH_CM2",
    "SOLAR_RADIUS",
    "angular_distance",
    "lonlat_to_vectors",
    "mu_annulus_edges",
    "mu_towards",
    "vectors_to_lonlat",
]

#: Nominal solar radius (IAU 2015, as sunpy), in m.
SOLAR_RADIUS = sunpy.sun.constants.radius.to(u.m)

#: One millionth of the solar hemisphere, ``2 pi R_sun^2 / 1e6``, in cm2 (a float).
MSH_CM2 = 2.0 * np.pi * SOLAR_RADIUS.to_value(u.cm) ** 2 * 1e-6


def _msh_unit():
    # Reuse a unit of that name if another package registered one first, so that
    # ``u.Unit("MSH")`` and this module's unit never disagree.
    existing = u.get_current_unit_registry().registry.get("MSH")
    if existing is not None:
        return existing
    unit = u.def_unit(
        ["MSH", "msh"], MSH_CM2 * u.cm**2, doc="millionths of the solar hemisphere (2 pi R_sun^2 / 1e6)"
    )
    u.add_enabled_units([unit])
    return unit


#: Millionths of the solar hemisphere, the usual unit of active-region and sunspot areas
#: (registered with astropy, so ``u.Unit("MSH")`` works).
MSH = _msh_unit()


def lonlat_to_vectors(lon, lat):
    """
    Unit vectors of points on the sphere given by longitude and latitude.

    Parameters
    ----------
    lon, lat : `~astropy.units.Quantity` or array-like
        Angles (broadcast together); plain numbers are degrees.

    Returns
    -------
    `numpy.ndarray`
        Shape ``broadcast(lon, lat).shape + (3,)``, float64: ``x`` towards longitude 0 on
        the equator, ``z`` towards the north pole. NaN angles give NaN vectors.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.sphere import lonlat_to_vectors
    >>> lonlat_to_vectors(90 * u.deg, 0 * u.deg).round(12)
    array([0., 1., 0.])
    >>> lonlat_to_vectors([0.0, 0.0], 90.0).round(12)
    array([[0., 0., 1.],
           [0., 0., 1.]])
    """
    lon, lat = (
        np.asarray(u.Quantity(a, u.rad).value)
        if isinstance(a, u.Quantity)
        else np.deg2rad(np.asarray(a, dtype=np.float64))
        for a in (lon, lat)
    )
    cos_lat = np.cos(lat)
    return np.stack(np.broadcast_arrays(cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)), axis=-1)


def vectors_to_lonlat(vectors):
    """
    Longitude in [0, 360) deg and latitude of (not necessarily unit) vectors.

    Parameters
    ----------
    vectors : `numpy.ndarray`
        Shape ``(..., 3)``.

    Returns
    -------
    lon, lat : `~astropy.units.Quantity`
        In deg, shape ``vectors.shape[:-1]``; NaN for zero or non-finite vectors.

    Examples
    --------
    >>> from sunpy_magnetogan.sphere import vectors_to_lonlat
    >>> lon, lat = vectors_to_lonlat([[0.0, -2.0, 0.0], [0.0, 0.0, 0.0]])
    >>> lon.round(6), lat.round(6)
    (<Quantity [270.,  nan] deg>, <Quantity [ 0., nan] deg>)
    """
    vectors = np.asarray(vectors, dtype=float)
    x, y, z = vectors[..., 0], vectors[..., 1], vectors[..., 2]
    norm = np.sqrt(x**2 + y**2 + z**2)
    with np.errstate(invalid="ignore", divide="ignore"):
        lat = np.arcsin(np.clip(z / norm, -1, 1))
    lon = np.mod(np.arctan2(y, x), 2 * np.pi)
    bad = ~np.isfinite(norm) | (norm == 0)
    lat = np.where(bad, np.nan, lat)
    lon = np.where(bad, np.nan, lon)
    return (lon * u.rad).to(u.deg), (lat * u.rad).to(u.deg)


def angular_distance(vectors_a, vectors_b):
    """
    Great-circle angle between every vector of ``vectors_a`` and every one of ``vectors_b``.

    Parameters
    ----------
    vectors_a : `numpy.ndarray`
        Unit vectors, shape ``(n, 3)``.
    vectors_b : `numpy.ndarray`
        Unit vectors, shape ``(m, 3)``.

    Returns
    -------
    `~astropy.units.Quantity`
        Shape ``(n, m)``, in deg.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.sphere import angular_distance, lonlat_to_vectors
    >>> a = lonlat_to_vectors([0, 90] * u.deg, [0, 0] * u.deg)
    >>> angular_distance(a, lonlat_to_vectors(0 * u.deg, 90 * u.deg)).round(6)
    <Quantity [[90.],
               [90.]] deg>
    """
    a = np.asarray(vectors_a, dtype=float).reshape(-1, 3)
    b = np.asarray(vectors_b, dtype=float).reshape(-1, 3)
    cross = np.linalg.norm(np.cross(a[:, None, :], b[None, :, :]), axis=-1)
    dot = a @ b.T
    return (np.arctan2(cross, dot) * u.rad).to(u.deg)


def mu_towards(lon, lat, observer, frame):
    """
    ``mu`` of surface points seen from an observer at a finite distance.

    Parameters
    ----------
    lon, lat : array-like
        Longitude and latitude of the points in ``frame``, in deg.
    observer : `~astropy.coordinates.SkyCoord` or frame
        Where the observer is.
    frame : `~sunpy.coordinates.HeliographicCarrington`
        The frame of ``lon`` and ``lat``; its ``rsun`` is the sphere's radius.

    Returns
    -------
    `numpy.ndarray`
        Shape ``(n,)`` (the points flattened); negative for points on the hemisphere the
        observer does not see (unlike image ``mu`` arrays, which are NaN off the disk).

    Examples
    --------
    >>> import astropy.units as u
    >>> from astropy.coordinates import SkyCoord
    >>> from sunpy.coordinates import HeliographicCarrington
    >>> from sunpy_magnetogan.sphere import mu_towards
    >>> observer = SkyCoord(0 * u.deg, 0 * u.deg, 1 * u.AU, frame="heliographic_stonyhurst",
    ...                     obstime="2014-02-05")
    >>> frame = HeliographicCarrington(observer=observer, obstime="2014-02-05")
    >>> centre = observer.transform_to(frame)
    >>> mu = mu_towards([centre.lon.deg, centre.lon.deg + 180], [centre.lat.deg, 0], observer, frame)
    >>> bool(mu[0] > 0.99), bool(mu[1] < 0)
    (True, True)
    """
    obs = observer.transform_to(frame)
    obs_vec = lonlat_to_vectors(obs.lon, obs.lat)[None, :] * obs.radius.to_value(u.m)
    rsun = frame.rsun.to_value(u.m)
    points = lonlat_to_vectors(lon * u.deg, lat * u.deg).reshape(-1, 3)
    to_obs = obs_vec - points * rsun
    return np.einsum("ij,ij->i", points, to_obs) / np.linalg.norm(to_obs, axis=-1)


def mu_annulus_edges(mu_edges):
    """
    Check and return the edges of annuli of ``mu`` (cosine of the heliocentric angle).

    Parameters
    ----------
    mu_edges : sequence of float
        At least two strictly increasing values; an annulus holds ``low < mu <= high``.

    Returns
    -------
    numpy.ndarray
        The edges, float64, 1-D.

    Raises
    ------
    ValueError
        If the edges are not at least two increasing values.

    Examples
    --------
    >>> from sunpy_magnetogan.sphere import mu_annulus_edges
    >>> mu_annulus_edges((0.1, 0.5, 1.0)).tolist()
    [0.1, 0.5, 1.0]
    """
    edges = np.asarray(mu_edges, dtype=float)
    if edges.ndim != 1 or len(edges) < 2 or np.any(np.diff(edges) <= 0):
        raise ValueError(f"mu_edges must be at least two increasing values, got {mu_edges!r}")
    return edges

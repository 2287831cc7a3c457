"""
The observers of the synthetic Sun: SDO, STEREO-like, far side and Solar Orbiter positions.

`sdo_observer`, `stereo_observer`, `farside_observer` and `solo_observer` (an analytic
ephemeris of Solar Orbiter's 2022-2030 orbits) give an observer's Heliographic Stonyhurst
coordinate at a time; `observer_view` gives the Carrington position of its sub-observer
point, from which ``sunpy_magnetogan.synthetic.observe`` images the Sun.
"""

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.time import Time
from sunpy.coordinates import HeliocentricInertial, HeliographicCarrington, HeliographicStonyhurst, get_earth

from sunpy_magnetogan.solar_cycle import days_since_epoch, time_from_days

__all__ = [
    "as_observer",
    "farside_observer",
    "observation_time",
    "observer_view",
    "sdo_observer",
    "solo_observer",
    "stereo_observer",
]


def observation_time(time):
    """
    A time as the synthetic Sun keeps it: ``time_from_days(days_since_epoch(time))``.

    Parameters
    ----------
    time : `~astropy.time.Time`, str, float or numpy.ndarray
        Any time `~sunpy_magnetogan.solar_cycle.days_since_epoch` accepts (numbers are
        days since its epoch).

    Returns
    -------
    `~astropy.time.Time`
        The epoch plus the float64 days, so every observer of a time uses one value.
    """
    return time_from_days(days_since_epoch(time))


def sdo_observer(time):
    """
    The position of SDO (taken as Earth's centre; SDO is within 6e-4 AU of it).

    Parameters
    ----------
    time : `~astropy.time.Time` or str
        The time.

    Returns
    -------
    `~astropy.coordinates.SkyCoord`
        Heliographic Stonyhurst coordinate.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.synthetic import sdo_observer
    >>> observer = sdo_observer("2014-06-01")
    >>> float(observer.lon.to_value(u.deg)), round(float(observer.radius.to_value(u.AU)), 3)
    (0.0, 1.014)
    """
    return SkyCoord(get_earth(observation_time(time)))


@u.quantity_input
def stereo_observer(time, lon: u.deg, *, lat: u.deg = 0 * u.deg, distance: u.AU = 0.97 * u.AU):
    """
    A STEREO-like observer at an arbitrary Stonyhurst longitude and distance.

    Parameters
    ----------
    time : `~astropy.time.Time` or str
        The time.
    lon : `~astropy.units.Quantity`
        Stonyhurst longitude (Earth is at 0; STEREO-A drifted west (+), STEREO-B east (-)
        by about 22 deg a year from 2006).
    lat : `~astropy.units.Quantity`, optional
        Stonyhurst latitude.
    distance : `~astropy.units.Quantity`, optional
        Distance from Sun centre (STEREO-A: 0.96 AU, STEREO-B: 1.05 AU).

    Returns
    -------
    `~astropy.coordinates.SkyCoord`
    """
    return SkyCoord(lon, lat, distance, frame=HeliographicStonyhurst(obstime=observation_time(time)))


@u.quantity_input
def farside_observer(time, *, distance: u.AU = 1 * u.AU):
    """
    An observer above the centre of the far side (Stonyhurst longitude 180 deg).

    Parameters
    ----------
    time : `~astropy.time.Time` or str
        The time.
    distance : `~astropy.units.Quantity`, optional
        Distance from Sun centre.

    Returns
    -------
    `~astropy.coordinates.SkyCoord`
    """
    return stereo_observer(time, 180 * u.deg, lat=0 * u.deg, distance=distance)


# Solar Orbiter's orbit after the cruise phase (from November 2021), as a Keplerian ellipse
# in the solar equatorial (heliocentric inertial) frame. See `solo_observer` for the sources.
_SOLO_PERIHELION = 0.29 * u.AU
_SOLO_APHELION = 0.96 * u.AU
_SOLO_PERIHELION_TIME = "2023-04-09T00:00"
_SOLO_NODE = 205.0 * u.deg
_SOLO_ARG_PERIHELION = 345.0 * u.deg
#: (from, inclination to the solar equator). Near the ecliptic until the Venus gravity
#: assist of 18 February 2025 (17 deg after it) and that of 24 December 2026 (24 deg after
#: it), dated flybys. The step to 33 deg is not at a dated flyby: Müller et al. (2020, Table 1)
#: give only the first date at 33 deg latitude, 2029-07-24; the step is placed 33.5 days
#: before it, the mean lag between the two dated flybys and the first dates at their
#: latitudes in the same table (32 and 35 days).
_SOLO_INCLINATION = (
    ("2020-01-01", 7.0 * u.deg),
    ("2025-02-18", 17.0 * u.deg),
    ("2026-12-24", 24.0 * u.deg),
    ("2029-06-20T12:00", 33.0 * u.deg),
)


def _kepler_anomalies(mean_anomaly, eccentricity):
    """True anomaly (rad) and ``1 - e cos E`` of a mean anomaly (rad), by Newton's method."""
    ecc_anomaly = np.array(mean_anomaly, dtype=np.float64)
    for _ in range(50):
        step = (ecc_anomaly - eccentricity * np.sin(ecc_anomaly) - mean_anomaly) / (
            1.0 - eccentricity * np.cos(ecc_anomaly)
        )
        ecc_anomaly = ecc_anomaly - step
        if np.all(np.abs(step) < 1e-12):
            break
    true_anomaly = 2.0 * np.arctan2(
        np.sqrt(1.0 + eccentricity) * np.sin(ecc_anomaly / 2.0),
        np.sqrt(1.0 - eccentricity) * np.cos(ecc_anomaly / 2.0),
    )
    return true_anomaly, 1.0 - eccentricity * np.cos(ecc_anomaly)


def solo_observer(time):
    """
    A Solar Orbiter-like observer, from an analytic ephemeris of the 2022-2030 orbits.

    The orbit is a Keplerian ellipse in the solar equatorial (heliocentric inertial)
    frame, whose inclination changes in steps at the Venus gravity assists:

    * perihelion 0.29 AU and aphelion 0.96 AU, so a period of 180.5 days (Kepler's third
      law), perihelion passages on 2023-04-09 plus multiples of it (2023-10-06,
      2024-04-04, 2024-10-01, 2025-03-31, ...). The mission overview (Müller et al. 2020,
      A&A 642, A1, Table 1) gives a closest perihelion of 0.28 AU, a furthest aphelion of
      1.02 AU and periods of 150-180 days: the model's single ellipse lies inside those
      ranges, its period half a day above the longest;
    * inclination to the solar equator 7 deg until the Venus gravity assist of
      2025-02-18, 17 deg after it, 24 deg after the one of 2026-12-24, and 33 deg from
      2029-06-20. ESA gives the first two steps (about 7.7 deg before and about 17 deg
      after the flyby of February 2025, 24 deg after that of December 2026: its
      announcement of the Venus flyby of 4 September 2022, as reported on 29 August 2022;
      the February 2025 flyby took place on the 18th, at 379 km from Venus);
      Müller et al. (2020, Table 1) give the maximum heliographic latitude: 7 deg in the
      cruise phase, 18 deg (first reached 2025-03-22), 24 deg (2027-01-28) and 33 deg
      (2029-07-24). The flyby that brings 33 deg is not dated in the sources used, so
      that step is put 33.5 days before 2029-07-24, the mean lag between the two dated
      flybys and the first dates at their latitudes (32 and 35 days); the Venus flyby of
      2028 is not modelled (no inclination was found for it). The gravity assists are
      instantaneous steps of the inclination, so the latitude jumps on those dates. The
      model first reaches within 0.5 deg of its three raised latitudes on 2025-03-15,
      2027-03-08 and 2029-08-27 (Müller et al.: 2025-03-22, 2027-01-28, 2029-07-24);
    * the orientation (ascending node 205 deg, argument of perihelion 345 deg in the
      heliocentric inertial frame) is set so that the orbit passes through Solar Orbiter's
      position in the PHI/FDT file of 2024-03-05T04:15 read in sunpy's tests
      (heliocentric inertial longitude 67.2 deg, latitude -4.7 deg, 0.625 AU, moving
      south), within 1 deg and 0.005 AU.

    Solar Orbiter was launched on 2020-02-10 at 04:03 UTC (Müller et al. 2020, Table 1)
    and ended its cruise phase with the Earth gravity assist of November 2021; the model
    is meant for the science phase from 2022. The longitude from Earth drifts through all
    values: over 2022-2030 the model is more than 90 deg from Earth (on the far side) 49%
    of the time. This is a model for a synthetic data set, not a substitute for the SPICE
    kernels of the real spacecraft: the real period changes at each gravity assist, so
    away from 2024 the model's perihelia drift by weeks from the real ones (it puts the
    first perihelion of the science phase on 2022-04-14, the real one was on 2022-03-26
    at about 0.32 AU).

    Parameters
    ----------
    time : `~astropy.time.Time` or str
        The time (or an array of times).

    Returns
    -------
    `~astropy.coordinates.SkyCoord`
        Heliographic Stonyhurst coordinate(s) at ``time``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.synthetic import solo_observer
    >>> solo = solo_observer("2024-03-05T04:15")  # the PHI/FDT file of sunpy's tests: -21.8, -4.7, 0.625
    >>> round(float(solo.lon.to_value(u.deg))), round(float(solo.lat.to_value(u.deg))), round(float(solo.radius.to_value(u.AU)), 2)
    (-22, -5, 0.63)
    >>> far = solo_observer("2027-06-01")  # behind the Sun, 0.93 AU from it
    >>> round(float(far.lon.to_value(u.deg))), round(float(far.radius.to_value(u.AU)), 2)
    (-177, 0.93)
    """
    obstime = observation_time(time)
    perihelion, aphelion = _SOLO_PERIHELION.to_value(u.AU), _SOLO_APHELION.to_value(u.AU)
    semi_major = (perihelion + aphelion) / 2.0
    eccentricity = (aphelion - perihelion) / (aphelion + perihelion)
    period = semi_major**1.5 * 365.25  # days
    days = (obstime - Time(_SOLO_PERIHELION_TIME)).to_value(u.day)
    true_anomaly, ratio = _kepler_anomalies(2.0 * np.pi * np.asarray(days) / period, eccentricity)
    inclination = np.zeros(np.shape(days))
    for start, value in _SOLO_INCLINATION:
        inclination = np.where(obstime >= Time(start), value.to_value(u.rad), inclination)
    from_node = _SOLO_ARG_PERIHELION.to_value(u.rad) + true_anomaly
    lon = _SOLO_NODE.to_value(u.rad) + np.arctan2(np.sin(from_node) * np.cos(inclination), np.cos(from_node))
    lat = np.arcsin(np.sin(from_node) * np.sin(inclination))
    hci = SkyCoord(
        lon * u.rad, lat * u.rad, semi_major * ratio * u.AU, frame=HeliocentricInertial(obstime=obstime)
    )
    return hci.transform_to(HeliographicStonyhurst(obstime=obstime))


def as_observer(observer, time):
    """
    The observer in Stonyhurst coordinates at ``time`` (its lon/lat/distance kept).

    Parameters
    ----------
    observer : `~astropy.coordinates.SkyCoord` or None
        The observer (`sdo_observer` if None).
    time : `~astropy.time.Time` or str
        The time.

    Returns
    -------
    `~astropy.coordinates.SkyCoord`
        Heliographic Stonyhurst coordinate at ``time``.

    Raises
    ------
    TypeError
        If ``observer`` is not a `~astropy.coordinates.SkyCoord`.
    """
    obstime = observation_time(time)
    if observer is None:
        return sdo_observer(obstime)
    if not isinstance(observer, SkyCoord):
        raise TypeError(f"observer must be a SkyCoord, got {type(observer).__name__}")
    own_time = obstime if observer.obstime is None else observer.obstime
    hgs = observer.transform_to(HeliographicStonyhurst(obstime=own_time))
    return SkyCoord(hgs.lon, hgs.lat, hgs.radius, frame=HeliographicStonyhurst(obstime=obstime))


def observer_view(observer, time):
    """
    Carrington longitude and latitude of the sub-observer point, and the distance.

    Parameters
    ----------
    observer : `~astropy.coordinates.SkyCoord` or None
        The observer (Earth if None).
    time : `~astropy.time.Time` or str
        The time.

    Returns
    -------
    l0, b0 : float
        Degrees (sunpy's Carrington frame for this observer, light travel time included).
    distance : `~astropy.units.Quantity`
        Distance from Sun centre.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import farside_observer, observer_view
    >>> l0, b0, distance = observer_view(None, "2014-06-01")  # the Earth
    >>> l0_far, _, _ = observer_view(farside_observer("2014-06-01"), "2014-06-01")
    >>> round((l0_far - l0) % 360)
    180
    """
    observer = as_observer(observer, time)
    hgc = observer.transform_to(HeliographicCarrington(observer=observer, obstime=observer.obstime))
    return float(hgc.lon.to_value(u.deg)), float(hgc.lat.to_value(u.deg)), observer.radius.to(u.m)

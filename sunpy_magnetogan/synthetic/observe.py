"""
Observing the synthetic Sun: observers, line-of-sight magnetograms and EUV 304 A images.

An observation casts a ray through every pixel centre of a helioprojective TAN image of
the chosen observer (`~sunpy_magnetogan.synthetic.projection.ImagePlane`), evaluates the
radial field ``B_r`` of the `~sunpy_magnetogan.synthetic.SyntheticSun` where it meets the
photosphere, and projects it on the line of sight, ``B_los = B_r * mu`` (the radial-field
approximation: the synthetic field has no horizontal component). The instrument's PSF and
the pixel's own extent blur the image, and noise is added. The result is a
`sunpy.map.Map` with a complete header (observer, date, solar radius, instrument), so
sunpy recognises it as an HMIMap, AIAMap, EUVIMap or (Solar Orbiter EUI/FSI) EUIMap.

Solar Orbiter is observed from an analytic ephemeris (`solo_observer`), with the EUI Full
Sun Imager in 304 A (`observe_fsi`) and the PHI Full Disc Telescope in ``B_los``
(`observe_phi`), whose headers carry the keywords of the real level-2 products.

An ``npix`` image emulates the instrument's detector rebinned to ``npix`` pixels (plate
scale ``native_scale * native_npix / npix``), which is how the model-grid inputs are made
cheaply; ``npix=4096`` gives the native HMI/AIA scale.
"""

import logging

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from astropy.time import Time
from scipy import ndimage
from sunpy.coordinates import (
    HeliocentricInertial,
    HeliographicCarrington,
    HeliographicStonyhurst,
    Helioprojective,
    get_earth,
)

from sunpy_magnetogan.exceptions import MagnetoGANError
from sunpy_magnetogan.solar_cycle import days_since_epoch, time_from_days
from sunpy_magnetogan.sphere import SOLAR_RADIUS
from sunpy_magnetogan.synthetic.euv import (
    EUV304Model,
    euv304_intensity,
    instrument_header,
    instrument_response,
)
from sunpy_magnetogan.synthetic.instruments import AIA304, EUVI304, FSI304, HMI, PHI_FDT
from sunpy_magnetogan.synthetic.kernels import CUTOFF, evaluate_on_image, kernel_amplitude, splat_on_image
from sunpy_magnetogan.synthetic.projection import ImagePlane, observer_frame_from_carrington
from sunpy_magnetogan.synthetic.seeding import component_rng
from sunpy_magnetogan.synthetic.sources import NETWORK, SOLAR_RADIUS_CM

__all__ = [
    "farside_observer",
    "line_of_sight_field",
    "observe_aia",
    "observe_euvi",
    "observe_fsi",
    "observe_hmi",
    "observe_pair",
    "observe_phi",
    "observer_view",
    "sdo_observer",
    "solo_observer",
    "stereo_observer",
]

log = logging.getLogger(__name__)

#: Radius of the synthetic photosphere (IAU nominal, `sunpy_magnetogan.sphere.SOLAR_RADIUS`),
#: written as RSUN_REF in the headers.
RSUN = SOLAR_RADIUS.to(u.km)


def _time(time):
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
    return SkyCoord(get_earth(_time(time)))


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
    return SkyCoord(lon, lat, distance, frame=HeliographicStonyhurst(obstime=_time(time)))


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
    obstime = _time(time)
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


def _as_observer(observer, time):
    """The observer in Stonyhurst coordinates at ``time`` (its lon/lat/distance kept)."""
    obstime = _time(time)
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
    observer = _as_observer(observer, time)
    hgc = observer.transform_to(HeliographicCarrington(observer=observer, obstime=observer.obstime))
    return float(hgc.lon.to_value(u.deg)), float(hgc.lat.to_value(u.deg)), observer.radius.to(u.m)


def _plane(instrument, observer, npix, roll, binning=None):
    if int(npix) != npix or npix < 8:
        raise ValueError(f"npix must be an integer of at least 8, got {npix!r}")
    distance = (observer.radius / RSUN).to_value(u.one)
    if binning is None:  # the whole detector rebinned to npix
        scale = instrument.scale_for(int(npix)).to_value(u.arcsec)
    else:  # a window of npix pixels of the detector binned on board
        binning = _disk_binning(instrument, distance, npix) if binning == "disk" else binning
        if int(binning) != binning or binning < 1:
            raise ValueError(f"binning must be 'disk' or an integer of at least 1, got {binning!r}")
        scale = instrument.native_scale.to_value(u.arcsec) * int(binning)
    return ImagePlane((int(npix), int(npix)), scale, distance, roll=float(roll))


def _disk_binning(instrument, distance, npix):
    """The smallest on-board binning whose ``npix`` pixels hold the disk with 25% margin."""
    radius = np.rad2deg(np.arcsin(1.0 / distance)) * 3600.0
    return max(int(np.ceil(2.5 * radius / npix / instrument.native_scale.to_value(u.arcsec))), 1)


def line_of_sight_field(sun, time, observer, plane, *, view=None, sources=None):
    """
    Noise-free line-of-sight field of a synthetic Sun on the pixels of an image.

    Active-region sources are evaluated exactly on the sphere where each pixel's line of
    sight meets it (`~sunpy_magnetogan.synthetic.kernels.evaluate_on_image`); the
    quiet-Sun network elements, about a pixel wide, are treated as unresolved features:
    ``flux * mu^2`` (the image integral of ``B_r * mu`` over a foreshortened element) is
    deposited at their projected positions and spread over their width
    (`~sunpy_magnetogan.synthetic.kernels.splat_on_image`).

    Parameters
    ----------
    sun : `~sunpy_magnetogan.synthetic.SyntheticSun`
        The Sun.
    time : `~astropy.time.Time` or str
        The time.
    observer : `~astropy.coordinates.SkyCoord`
        The observer.
    plane : `~sunpy_magnetogan.synthetic.projection.ImagePlane`
        The image's pixel grid.
    view : tuple, optional
        ``observer_view(observer, time)`` if already known.
    sources : `~sunpy_magnetogan.synthetic.sources.SourceSet`, optional
        ``sun.sources(time)`` if already known.

    Returns
    -------
    b_los : numpy.ndarray
        ``(ny, nx)`` line-of-sight field in Gauss (float64), 0 off the disk.
    geometry : `~sunpy_magnetogan.synthetic.projection.SurfaceGeometry`
        Where each pixel meets the surface.

    Examples
    --------
    >>> import astropy.units as u
    >>> import numpy as np
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, line_of_sight_field, sdo_observer
    >>> from sunpy_magnetogan.synthetic.projection import ImagePlane
    >>> observer = sdo_observer("2014-06-01")
    >>> plane = ImagePlane((64, 64), 40.0, (observer.radius / (695700 * u.km)).to_value(u.one))  # 40 arcsec pixels
    >>> blos, geometry = line_of_sight_field(SyntheticSun(5), "2014-06-01", observer, plane)
    >>> blos.shape, float(blos[0, 0]), bool(np.abs(blos).max() > 100)  # G; 0 off the disk
    ((64, 64), 0.0, True)
    """
    l0, b0, _ = view if view is not None else observer_view(observer, time)
    geometry = plane.surface()
    src = sources if sources is not None else sun.sources(time)
    xyz = observer_frame_from_carrington(src.lon, src.lat, l0, b0)
    sigma = np.deg2rad(src.sigma)
    network = src.kind == NETWORK

    # Resolved sources whose footprint reaches the visible hemisphere: exact evaluation.
    resolved = ~network & (xyz[:, 2] > -np.sin(np.minimum(CUTOFF * sigma, np.pi / 2)))
    r_xyz, r_sigma = xyz[resolved], sigma[resolved]
    b_radial = evaluate_on_image(
        r_xyz,
        plane.project(r_xyz),
        kernel_amplitude(src.flux[resolved], r_sigma, SOLAR_RADIUS_CM),
        r_sigma,
        geometry.xyz,
        plane.radius_px,
        extended_xyz=geometry.extended_xyz,
    )
    slat = geometry.xyz[..., 1] * np.cos(np.deg2rad(b0)) + geometry.xyz[..., 2] * np.sin(np.deg2rad(b0))
    lat = np.rad2deg(np.arcsin(np.clip(np.nan_to_num(slat), -1.0, 1.0)))
    b_radial = b_radial + sun.polar_field(time, lat * u.deg).to_value(u.G)
    b_los = np.where(geometry.on_disk, b_radial * geometry.mu, 0.0)

    # Unresolved network elements on the visible hemisphere: projected flux per pixel area.
    seen = network & (xyz[:, 2] > 1.0 / plane.distance)
    if seen.any():
        n_xyz = xyz[seen]
        pixel_cm = np.deg2rad(plane.scale / 3600.0) * SOLAR_RADIUS_CM
        depth = plane.distance - n_xyz[:, 2]
        mu = (plane.distance * n_xyz[:, 2] - 1.0) / np.sqrt(
            np.square(n_xyz[:, 0]) + np.square(n_xyz[:, 1]) + np.square(depth)
        )
        # Integrated over the image, B_los = B_r * mu of an element of flux F gives F * mu^2
        # (its area is foreshortened by mu too).
        weights = src.flux[seen] * np.square(mu) / np.square(pixel_cm * depth)
        width = float(np.mean(sigma[seen])) / np.deg2rad(plane.scale / 3600.0) / (plane.distance - 1.0)
        b_los = b_los + splat_on_image(plane.project(n_xyz), weights, width, plane.shape)
        b_los = np.where(geometry.on_disk, b_los, 0.0)
    return b_los, geometry


def _blur(image, instrument, plane):
    """PSF and pixel integration (a box of one pixel ~ Gaussian of sigma 0.29 px)."""
    psf = instrument.psf_sigma.to_value(u.arcsec) / plane.scale
    return ndimage.gaussian_filter(image, np.sqrt(psf**2 + 1.0 / 12.0), mode="constant", truncate=3.0)


def _noise_rng(sun, name, time, observer):
    days = days_since_epoch(time)
    return component_rng(
        sun.seed,
        f"noise-{name}",
        int(np.rint(days * 86_400_000)),
        int(np.rint(observer.lon.to_value(u.deg) * 1e6)),
        int(np.rint(observer.lat.to_value(u.deg) * 1e6)),
        int(np.rint(observer.radius.to_value(u.km))),
    )


def _header(instrument, observer, time, plane, shape, *, observatory, sun, l0, b0):
    obstime = _time(time)
    frame = Helioprojective(observer=observer, obstime=obstime, rsun=RSUN)
    telescope = instrument.telescope
    if instrument.name in ("HMI", "AIA") and observatory != "SDO":
        telescope = f"{observatory}/{instrument.name}"
    header = instrument_header(
        instrument,
        shape,
        SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=frame),
        observatory=observatory,
        telescope=telescope,
        reference_pixel=u.Quantity(plane.crpix, u.pix),
        scale=u.Quantity([plane.scale, plane.scale], u.arcsec / u.pix),
        rotation_angle=plane.roll * u.deg,
    )
    header["crln_obs"] = l0
    header["crlt_obs"] = b0
    if instrument.name in ("FSI", "PHI"):
        _solo_keywords(header, instrument, observer, obstime, plane)
    elif instrument.name == "EUVI":
        header["rsun"] = float(header["rsun_obs"])
        header["crota"] = plane.roll
    else:
        header["crota2"] = plane.roll
    if instrument.name == "HMI":
        header["content"] = "MAGNETOGRAM"
    elif instrument.name in ("AIA", "EUVI"):
        header["lvl_num"] = 1.5
    header["origin"] = "sunpy_magnetogan.synthetic"
    header["synseed"] = sun.seed
    header["comment"] = (
        f"Synthetic {instrument.name} observation of SyntheticSun(seed={sun.seed}); "
        "radial-field approximation B_los = B_r * mu"
    )
    return header


def _solo_keywords(header, instrument, observer, obstime, plane):
    """
    The keywords of the level-2 EUI/FSI and PHI/FDT products (Solar Orbiter metadata standard).

    As in the files read in sunpy's tests: ``solo_L1_eui-fsi304-image_20201021T145510206_V03``
    (EUI; level 2 differs by ``LEVEL = 'L2'`` and ``BUNIT = 'DN/s'``) and
    ``solo_LL02_phi-fdt-blos_20240305T041509_V202405151730C_0403057611`` (PHI).
    """
    exposure = instrument.exposure.to_value(u.s)
    stamp = (obstime - exposure / 2 * u.s).strftime("%Y%m%dT%H%M%S")
    hci = observer.transform_to(HeliocentricInertial(obstime=obstime)).cartesian.xyz.to_value(u.m)
    header.pop("exptime", None)
    header["obsrvtry"] = "Solar Orbiter"
    header["level"] = "L2"
    header["crota"] = plane.roll
    # The synthetic Sun is seen at the middle of the exposure (DATE-AVG, sunpy's reference date).
    header["date-obs"] = header["date-beg"] = (obstime - exposure / 2 * u.s).isot
    header["date-avg"] = obstime.isot
    header["rsun_arc"] = float(header["rsun_obs"])
    header["dsun_au"] = float((observer.radius).to_value(u.AU))
    header["hcix_obs"], header["hciy_obs"], header["hciz_obs"] = (float(v) for v in hci)
    # The read-out window of the detector and its binning (a window centred on the detector).
    binning = plane.scale / instrument.native_scale.to_value(u.arcsec)
    span = min(round(plane.shape[1] * binning), instrument.native_npix)
    header["pxbeg1"] = header["pxbeg2"] = (instrument.native_npix - span) // 2 + 1
    header["pxend1"] = header["pxend2"] = (instrument.native_npix - span) // 2 + span
    binning = round(binning) if abs(binning - round(binning)) < 1e-6 else round(binning, 4)
    header["nbin1"] = header["nbin2"] = binning
    header["nbin"] = binning**2
    if instrument.name == "FSI":
        header["filename"] = f"solo_L2_eui-fsi304-image_{stamp}000_V00.fits"
        header["btype"] = "Intensity"
        header["xposure"] = exposure
        header["filter"] = "Magnesium_304_n4"
        header["wavelnth"] = round(instrument.wavelength.to_value(u.AA))  # an integer, as in the files
        header["waveunit"] = "Angstrom"
        header["wavemin"] = 250
        header["wavemax"] = 350
    else:
        header["filename"] = f"solo_L2_phi-fdt-blos_{stamp}_V00_0000000000.fits"
        header["btype"] = "LOS Magnetic Field Strength"
        header["date-end"] = (obstime + exposure / 2 * u.s).isot
        header["rpltscl"] = instrument.native_scale.to_value(u.arcsec)
        header["wavemin"] = 6172.975
        header["wavemax"] = 6173.411
        for key in ("wavelnth", "waveunit"):
            header.pop(key, None)


def observe_hmi(sun, time, observer=None, *, npix=512, roll=0.0, noise=True, observatory="SDO"):
    """
    A synthetic HMI-like line-of-sight magnetogram.

    Parameters
    ----------
    sun : `~sunpy_magnetogan.synthetic.SyntheticSun`
        The Sun to observe.
    time : `~astropy.time.Time` or str
        Observation time.
    observer : `~astropy.coordinates.SkyCoord`, optional
        The observer (`sdo_observer` by default); any vantage point works, e.g.
        `farside_observer` for farside ground truth.
    npix : int, optional
        Image size; the plate scale emulates the 4096 px detector rebinned to ``npix``.
    roll : float, optional
        ``CROTA2`` of the image in degrees (180 mimics level-1 HMI).
    noise : bool, optional
        Add Gaussian noise (10 G per native pixel, divided by the rebinning factor).
    observatory : str, optional
        ``OBSRVTRY``; for other observers than SDO, ``TELESCOP`` becomes
        ``"<observatory>/HMI"``.

    Returns
    -------
    `~sunpy.map.sources.HMIMap`
        ``B_los`` in Gauss (float32), NaN more than a pixel outside the limb.
    """
    observer = _as_observer(observer, time)
    return _observe_magnetogram(
        sun,
        time,
        observer,
        HMI,
        npix=npix,
        roll=roll,
        noise=noise,
        observatory=observatory,
        view=None,
        sources=None,
    )


def observe_phi(sun, time, observer=None, *, npix=512, roll=0.0, noise=True, binning=None):
    """
    A synthetic Solar Orbiter PHI/FDT line-of-sight magnetogram (``phi-fdt-blos``-like).

    The field is the one `observe_hmi` sees (the synthetic Sun is HMI-like), through the
    Full Disc Telescope's plate scale, PSF and noise
    (`~sunpy_magnetogan.synthetic.instruments.PHI_FDT`); the header has the keywords of
    the level-2 ``phi-fdt-blos`` product (``TELESCOP = 'SOLO/PHI/FDT'``,
    ``BTYPE = 'LOS Magnetic Field Strength'``, ``BUNIT = 'G'``, ...), so
    `~sunpy_magnetogan.data.solo.is_phi_fdt_blos` accepts it. Use it as truth through
    `~sunpy_magnetogan.data.solo.phi_to_hmi` with a factor of 1.

    Parameters
    ----------
    sun : `~sunpy_magnetogan.synthetic.SyntheticSun`
        The Sun to observe.
    time : `~astropy.time.Time` or str
        Observation time.
    observer : `~astropy.coordinates.SkyCoord`, optional
        The observer (`solo_observer` at ``time`` by default).
    npix : int, optional
        Image size; the plate scale emulates the 2048 px detector (2 deg) rebinned to ``npix``.
    roll : float, optional
        ``CROTA`` in degrees.
    noise : bool, optional
        Add Gaussian noise (10 G per native pixel, divided by the rebinning factor).
    binning : int or "disk", optional
        Emulate instead a window of ``npix`` pixels centred on the detector, binned on board
        by this integer factor (``NBIN1``, ``NBIN2``, ``PXBEG1``, ...); ``"disk"``: the
        smallest binning whose window holds the disk with a 25% margin.

    Returns
    -------
    `~sunpy.map.GenericMap`
        ``B_los`` in G (float32), NaN more than a pixel outside the limb (sunpy 7.0 has
        no PHI map source; later versions read it as a ``PHIMap``).

    Examples
    --------
    >>> from sunpy_magnetogan.data.solo import is_phi_fdt_blos
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_phi
    >>> phi = observe_phi(SyntheticSun(2200), "2024-03-05T04:15", npix=128)
    >>> is_phi_fdt_blos(phi), phi.meta["telescop"], phi.meta["level"]
    (True, 'SOLO/PHI/FDT', 'L2')
    """
    observer = solo_observer(time) if observer is None else _as_observer(observer, time)
    return _observe_magnetogram(
        sun,
        time,
        observer,
        PHI_FDT,
        npix=npix,
        roll=roll,
        noise=noise,
        observatory="Solar Orbiter",
        view=None,
        sources=None,
        binning=binning,
    )


def _observe_magnetogram(
    sun, time, observer, instrument, *, npix, roll, noise, observatory, view, sources, binning=None
):
    plane = _plane(instrument, observer, npix, roll, binning)
    view = view or observer_view(observer, time)
    b_los, geometry = line_of_sight_field(sun, time, observer, plane, view=view, sources=sources)
    data = _blur(b_los, instrument, plane)
    if noise:
        rng = _noise_rng(sun, instrument.name.lower(), time, observer)
        sigma = instrument.noise.to_value(u.G) / max(
            plane.scale / instrument.native_scale.to_value(u.arcsec), 1.0
        )
        data = data + sigma * rng.standard_normal(data.shape)
    # Pixels whose centre is within a pixel of the limb still see part of the disk.
    data = np.where(geometry.rho < 1.0 + 1.0 / plane.radius_px, data, np.nan).astype(np.float32)
    l0, b0, _ = view
    header = _header(
        instrument, observer, time, plane, data.shape, observatory=observatory, sun=sun, l0=l0, b0=b0
    )
    return sunpy.map.Map(data, header)


def _observe_euv(
    sun,
    time,
    observer,
    instrument,
    *,
    npix,
    roll,
    noise,
    observatory,
    model,
    view=None,
    sources=None,
    binning=None,
):
    observer = _as_observer(observer, time)
    plane = _plane(instrument, observer, npix, roll, binning)
    view = view or observer_view(observer, time)
    b_los, geometry = line_of_sight_field(sun, time, observer, plane, view=view, sources=sources)
    b_los = _blur(b_los, HMI, plane)
    rng = _noise_rng(sun, instrument.name.lower(), time, observer)
    intensity = euv304_intensity(b_los, geometry, rng=rng, model=model or EUV304Model())
    data = instrument_response(intensity, geometry, instrument, rng=rng, noise=noise)
    if instrument.unit == "DN/s":  # level-2 EUI: counts per second
        data = data / np.float32(instrument.exposure.to_value(u.s))
    l0, b0, _ = view
    header = _header(
        instrument, observer, time, plane, data.shape, observatory=observatory, sun=sun, l0=l0, b0=b0
    )
    return sunpy.map.Map(data, header)


def observe_aia(sun, time, observer=None, *, npix=512, roll=0.0, noise=True, observatory="SDO", model=None):
    """
    A synthetic SDO/AIA 304 A image.

    The 304 A forward model (`~sunpy_magnetogan.synthetic.euv304_intensity`) is applied
    to the noise-free line-of-sight field on the AIA pixel grid.

    Parameters
    ----------
    sun : `~sunpy_magnetogan.synthetic.SyntheticSun`
        The Sun to observe.
    time : `~astropy.time.Time` or str
        Observation time.
    observer : `~astropy.coordinates.SkyCoord`, optional
        The observer (`sdo_observer` by default).
    npix : int, optional
        Image size; the plate scale emulates the 4096 px detector rebinned to ``npix``.
    roll : float, optional
        ``CROTA2`` in degrees.
    noise : bool, optional
        Add photon and read noise.
    observatory : str, optional
        ``OBSRVTRY``.
    model : `~sunpy_magnetogan.synthetic.euv.EUV304Model`, optional
        Forward-model parameters.

    Returns
    -------
    `~sunpy.map.sources.AIAMap`
        DN per native pixel (float32).
    """
    return _observe_euv(
        sun, time, observer, AIA304, npix=npix, roll=roll, noise=noise, observatory=observatory, model=model
    )


def observe_euvi(sun, time, observer, *, npix=512, roll=0.0, noise=True, observatory="STEREO_A", model=None):
    """
    A synthetic STEREO/SECCHI EUVI 304 A image.

    Parameters
    ----------
    sun : `~sunpy_magnetogan.synthetic.SyntheticSun`
        The Sun to observe.
    time : `~astropy.time.Time` or str
        Observation time.
    observer : `~astropy.coordinates.SkyCoord`
        The observer, e.g. `stereo_observer` or `farside_observer`.
    npix : int, optional
        Image size; the plate scale emulates the 2048 px detector rebinned to ``npix``.
    roll : float, optional
        ``CROTA`` in degrees.
    noise : bool, optional
        Add photon and read noise (lower signal-to-noise than AIA).
    observatory : str, optional
        ``OBSRVTRY`` (``"STEREO_A"`` or ``"STEREO_B"``).
    model : `~sunpy_magnetogan.synthetic.euv.EUV304Model`, optional
        Forward-model parameters.

    Returns
    -------
    `~sunpy.map.sources.EUVIMap`
        DN per native pixel (float32).
    """
    if observer is None:
        raise MagnetoGANError("observe_euvi needs an observer, e.g. stereo_observer(time, 90 * u.deg)")
    return _observe_euv(
        sun, time, observer, EUVI304, npix=npix, roll=roll, noise=noise, observatory=observatory, model=model
    )


def observe_fsi(sun, time, observer=None, *, npix=512, roll=0.0, noise=True, model=None, binning=None):
    """
    A synthetic Solar Orbiter EUI/FSI 304 A image (``eui-fsi304-image`` level 2-like).

    Parameters
    ----------
    sun : `~sunpy_magnetogan.synthetic.SyntheticSun`
        The Sun to observe.
    time : `~astropy.time.Time` or str
        Observation time.
    observer : `~astropy.coordinates.SkyCoord`, optional
        The observer (`solo_observer` at ``time`` by default).
    npix : int, optional
        Image size; the plate scale emulates the 3072 px detector (3.8 deg, 4.44 arcsec per
        pixel) rebinned to ``npix``: the disk is 0.53 deg across at 1 AU, 1.9 deg at 0.28 AU.
    roll : float, optional
        ``CROTA`` in degrees.
    noise : bool, optional
        Add photon and read noise.
    model : `~sunpy_magnetogan.synthetic.euv.EUV304Model`, optional
        Forward-model parameters.
    binning : int or "disk", optional
        Emulate instead a window of ``npix`` pixels centred on the detector, binned on board
        by this integer factor (``NBIN1``, ``NBIN2``, ``PXBEG1``, ...); ``"disk"``: the
        smallest binning whose window holds the disk with a 25% margin (e.g. 2 at 0.9 AU
        and 4 at 0.3 AU for ``npix=512``).

    Returns
    -------
    `~sunpy.map.sources.EUIMap`
        DN/s (float32), with the keywords of the level-2 product (``OBSRVTRY``,
        ``TELESCOP = 'SOLO/EUI/FSI'``, ``INSTRUME = 'EUI'``, ``DETECTOR = 'FSI'``,
        ``LEVEL = 'L2'``, ``XPOSURE``, ``HCI[XYZ]_OBS``, ...).

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_fsi
    >>> fsi = observe_fsi(SyntheticSun(2200), "2024-03-05T04:15", npix=128)
    >>> type(fsi).__name__, fsi.detector, str(fsi.unit), fsi.processing_level
    ('EUIMap', 'FSI', 'DN / s', 2)
    """
    observer = solo_observer(time) if observer is None else observer
    return _observe_euv(
        sun,
        time,
        observer,
        FSI304,
        npix=npix,
        roll=roll,
        noise=noise,
        observatory="Solar Orbiter",
        model=model,
        binning=binning,
    )


def observe_pair(sun, time, observer=None, *, instrument="AIA", npix=512, observatory=None, noise=True):
    """
    An EUV 304 A image and the HMI-like magnetogram of the same observer and time.

    Parameters
    ----------
    sun : `~sunpy_magnetogan.synthetic.SyntheticSun`
        The Sun to observe.
    time : `~astropy.time.Time` or str
        Observation time.
    observer : `~astropy.coordinates.SkyCoord`, optional
        The observer (`sdo_observer` by default).
    instrument : {"AIA", "EUVI", "FSI"}
        The EUV imager; with ``"FSI"`` (Solar Orbiter EUI) the magnetogram is a PHI/FDT one
        (`observe_fsi`, `observe_phi`).
    npix : int, optional
        Size of both images. For FSI, each is the window of ``npix`` pixels around the
        disk, binned on board as little as holds it (``binning="disk"`` of `observe_fsi`
        and `observe_phi`): Solar Orbiter's distance changes the disk's size threefold.
    observatory : str, optional
        ``OBSRVTRY`` of both maps (``"SDO"`` for AIA, ``"STEREO_A"`` for EUVI by default;
        always ``"Solar Orbiter"`` for FSI).
    noise : bool, optional
        Add instrument noise to both.

    Returns
    -------
    euv, magnetogram : `~sunpy.map.GenericMap`
        An AIAMap, EUVIMap or EUIMap, and an HMIMap or PHI/FDT map (the ground truth seen
        from the same place).

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_pair, solo_observer
    >>> fsi, phi = observe_pair(SyntheticSun(2200), "2024-03-05", solo_observer("2024-03-05"), instrument="FSI", npix=64)
    >>> fsi.detector, phi.meta["telescop"]
    ('FSI', 'SOLO/PHI/FDT')
    """
    name = str(instrument).upper()
    if name not in _PAIRS:
        raise ValueError(f"instrument must be 'AIA', 'EUVI' or 'FSI', got {instrument!r}")
    euv_instrument, mag_instrument, default_observatory = _PAIRS[name]
    observatory = default_observatory if name == "FSI" else (observatory or default_observatory)
    observer = _as_observer(observer, time)
    shared = {"view": observer_view(observer, time), "sources": sun.sources(time)}
    if name == "FSI":
        shared["binning"] = "disk"
    euv = _observe_euv(
        sun,
        time,
        observer,
        euv_instrument,
        npix=npix,
        roll=0.0,
        noise=noise,
        observatory=observatory,
        model=None,
        **shared,
    )
    mag = _observe_magnetogram(
        sun,
        time,
        observer,
        mag_instrument,
        npix=npix,
        roll=0.0,
        noise=noise,
        observatory=observatory,
        **shared,
    )
    return euv, mag


#: EUV imager, magnetograph and default observatory of each `observe_pair` instrument.
_PAIRS = {
    "AIA": (AIA304, HMI, "SDO"),
    "EUVI": (EUVI304, HMI, "STEREO_A"),
    "FSI": (FSI304, PHI_FDT, "Solar Orbiter"),
}

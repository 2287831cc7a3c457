"""
Observing the synthetic Sun: observers, line-of-sight magnetograms and EUV 304 A images.

An observation casts a ray through every pixel centre of a helioprojective TAN image of
the chosen observer (`~sunpy_magnetogan.synthetic.projection.ImagePlane`), evaluates the
radial field ``B_r`` of the `~sunpy_magnetogan.synthetic.SyntheticSun` where it meets the
photosphere, and projects it on the line of sight, ``B_los = B_r * mu`` (the radial-field
approximation: the synthetic field has no horizontal component). The instrument's PSF and
the pixel's own extent blur the image, and noise is added. The result is a
`sunpy.map.Map` with a complete header (observer, date, solar radius, instrument), so
sunpy recognises it as an HMIMap, AIAMap or EUVIMap.

An ``npix`` image emulates the instrument's detector rebinned to ``npix`` pixels (plate
scale ``native_scale * native_npix / npix``), which is how the model-grid inputs are made
cheaply; ``npix=4096`` gives the native HMI/AIA scale.
"""

import logging

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from scipy import ndimage
from sunpy.coordinates import HeliographicCarrington, HeliographicStonyhurst, Helioprojective, get_earth

from sunpy_magnetogan.exceptions import MagnetoGANError
from sunpy_magnetogan.solar_cycle import days_since_epoch, time_from_days
from sunpy_magnetogan.synthetic.euv import EUV304Model, euv304_intensity, instrument_response
from sunpy_magnetogan.synthetic.instruments import AIA304, EUVI304, HMI
from sunpy_magnetogan.synthetic.kernels import CUTOFF, evaluate_on_image, kernel_amplitude, splat_on_image
from sunpy_magnetogan.synthetic.projection import ImagePlane, observer_frame_from_carrington
from sunpy_magnetogan.synthetic.seeding import component_rng
from sunpy_magnetogan.synthetic.sources import NETWORK, SOLAR_RADIUS_CM

__all__ = [
    "farside_observer",
    "line_of_sight_field",
    "observe_aia",
    "observe_euvi",
    "observe_hmi",
    "observe_pair",
    "observer_view",
    "sdo_observer",
    "stereo_observer",
]

log = logging.getLogger(__name__)

#: Radius of the synthetic photosphere (IAU nominal), written as RSUN_REF in the headers.
RSUN = 695_700 * u.km


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


def _plane(instrument, observer, npix, roll):
    if int(npix) != npix or npix < 8:
        raise ValueError(f"npix must be an integer of at least 8, got {npix!r}")
    scale = instrument.scale_for(int(npix)).to_value(u.arcsec)
    distance = (observer.radius / RSUN).to_value(u.one)
    return ImagePlane((int(npix), int(npix)), scale, distance, roll=float(roll))


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
    header = sunpy.map.make_fitswcs_header(
        shape,
        SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=frame),
        reference_pixel=u.Quantity(plane.crpix, u.pix),
        scale=u.Quantity([plane.scale, plane.scale], u.arcsec / u.pix),
        rotation_angle=plane.roll * u.deg,
        telescope=telescope,
        instrument=instrument.instrument,
        detector=instrument.detector,
        observatory=observatory,
        wavelength=instrument.wavelength,
        exposure=instrument.exposure,
        unit=u.Unit(instrument.unit),
    )
    header["bunit"] = instrument.unit
    header["crln_obs"] = l0
    header["crlt_obs"] = b0
    if instrument.name == "EUVI":
        header["rsun"] = float(header["rsun_obs"])
        header["crota"] = plane.roll
    else:
        header["crota2"] = plane.roll
    if instrument.name == "HMI":
        header["content"] = "MAGNETOGRAM"
    else:
        header["lvl_num"] = 1.5
    header["origin"] = "sunpy_magnetogan.synthetic"
    header["synseed"] = sun.seed
    header["comment"] = (
        f"Synthetic {instrument.name} observation of SyntheticSun(seed={sun.seed}); "
        "radial-field approximation B_los = B_r * mu"
    )
    return header


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
    return _observe_hmi(
        sun,
        time,
        observer,
        npix=npix,
        roll=roll,
        noise=noise,
        observatory=observatory,
        view=None,
        sources=None,
    )


def _observe_hmi(sun, time, observer, *, npix, roll, noise, observatory, view, sources):
    plane = _plane(HMI, observer, npix, roll)
    view = view or observer_view(observer, time)
    b_los, geometry = line_of_sight_field(sun, time, observer, plane, view=view, sources=sources)
    data = _blur(b_los, HMI, plane)
    if noise:
        rng = _noise_rng(sun, "hmi", time, observer)
        sigma = HMI.noise.to_value(u.G) / HMI.binning_for(int(npix))
        data = data + sigma * rng.standard_normal(data.shape)
    # Pixels whose centre is within a pixel of the limb still see part of the disk.
    data = np.where(geometry.rho < 1.0 + 1.0 / plane.radius_px, data, np.nan).astype(np.float32)
    l0, b0, _ = view
    header = _header(HMI, observer, time, plane, data.shape, observatory=observatory, sun=sun, l0=l0, b0=b0)
    return sunpy.map.Map(data, header)


def _observe_euv(
    sun, time, observer, instrument, *, npix, roll, noise, observatory, model, view=None, sources=None
):
    observer = _as_observer(observer, time)
    plane = _plane(instrument, observer, npix, roll)
    view = view or observer_view(observer, time)
    b_los, geometry = line_of_sight_field(sun, time, observer, plane, view=view, sources=sources)
    b_los = _blur(b_los, HMI, plane)
    rng = _noise_rng(sun, instrument.name.lower(), time, observer)
    intensity = euv304_intensity(b_los, geometry, rng=rng, model=model or EUV304Model())
    data = instrument_response(intensity, geometry, instrument, rng=rng, noise=noise)
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
    instrument : {"AIA", "EUVI"}
        The EUV imager.
    npix : int, optional
        Size of both images.
    observatory : str, optional
        ``OBSRVTRY`` of both maps (``"SDO"`` for AIA, ``"STEREO_A"`` for EUVI by default).
    noise : bool, optional
        Add instrument noise to both.

    Returns
    -------
    euv, magnetogram : `~sunpy.map.GenericMap`
        An AIAMap or EUVIMap, and an HMIMap (the ground truth seen from the same place).
    """
    name = str(instrument).upper()
    if name not in ("AIA", "EUVI"):
        raise ValueError(f"instrument must be 'AIA' or 'EUVI', got {instrument!r}")
    observatory = observatory or ("SDO" if name == "AIA" else "STEREO_A")
    observer = _as_observer(observer, time)
    shared = {"view": observer_view(observer, time), "sources": sun.sources(time)}
    euv = _observe_euv(
        sun,
        time,
        observer,
        AIA304 if name == "AIA" else EUVI304,
        npix=npix,
        roll=0.0,
        noise=noise,
        observatory=observatory,
        model=None,
        **shared,
    )
    mag = _observe_hmi(
        sun, time, observer, npix=npix, roll=0.0, noise=noise, observatory=observatory, **shared
    )
    return euv, mag

"""
Observing the synthetic Sun: observers, line-of-sight magnetograms and EUV 304 A images.

An observation casts a ray through every pixel centre of a helioprojective TAN image of
the chosen observer (`~sunpy_magnetogan.synthetic.projection.ImagePlane`), evaluates the
radial field ``B_r`` of the `~sunpy_magnetogan.synthetic.SyntheticSun` where it meets the
photosphere, and projects it on the line of sight, ``B_los = B_r * mu`` (the radial-field
approximation, the default; a flux model with inclined sunspot and plage fields adds the
line-of-sight part of their horizontal field to magnetograms, see `line_of_sight_field`;
EUV images always see the radial field). The instrument's PSF and
the pixel's own extent blur the image, and noise is added. The result is a
`sunpy.map.Map` with a complete header (observer, date, solar radius, instrument), so
sunpy recognises it as an HMIMap, AIAMap, EUVIMap or (Solar Orbiter EUI/FSI) EUIMap.

Solar Orbiter is observed from an analytic ephemeris (`solo_observer`), with the EUI Full
Sun Imager in 304 A (`observe_fsi`) and the PHI Full Disc Telescope in ``B_los``
(`observe_phi`), whose headers carry the keywords of the real level-2 products.

The observers (`sdo_observer`, `stereo_observer`, `farside_observer`, `solo_observer`,
`observer_view`) live in ``sunpy_magnetogan.synthetic.observers`` and the headers in
``sunpy_magnetogan.synthetic.headers``; this module re-exports the observers.

An ``npix`` image emulates the instrument's detector rebinned to ``npix`` pixels (plate
scale ``native_scale * native_npix / npix``), which is how the model-grid inputs are made
cheaply; ``npix=4096`` gives the native HMI/AIA scale.
"""

import logging

import astropy.units as u
import numpy as np
import sunpy.map
from scipy import ndimage

from sunpy_magnetogan.exceptions import MagnetoGANError
from sunpy_magnetogan.solar_cycle import days_since_epoch
from sunpy_magnetogan.synthetic.euv import EUV304Model, euv304_intensity, instrument_response
from sunpy_magnetogan.synthetic.headers import RSUN, synthetic_header
from sunpy_magnetogan.synthetic.instruments import AIA304, EUVI304, FSI304, HMI, PHI_FDT
from sunpy_magnetogan.synthetic.kernels import CUTOFF, evaluate_on_image, kernel_amplitude, splat_on_image
from sunpy_magnetogan.synthetic.observers import (
    as_observer,
    farside_observer,
    observer_view,
    sdo_observer,
    solo_observer,
    stereo_observer,
)
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


def line_of_sight_field(sun, time, observer, plane, *, view=None, sources=None, radial=False):
    """
    Noise-free line-of-sight field of a synthetic Sun on the pixels of an image.

    Where the Sun's flux model inclines the fields of sunspots or plage
    (``FluxModel.spot_inclination``, ``plage_inclination``), ``B_los`` also has the
    line-of-sight part of their horizontal field
    (`~sunpy_magnetogan.synthetic.kernels.evaluate_on_image`): near the limb a sunspot's
    limb-side penumbra then shows the opposite polarity, as in real magnetograms.

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
    radial : bool, optional
        Take every field as radial, ``B_los = B_r * mu``, whatever the inclination (what
        the EUV forward model is given: the chromosphere's brightness follows the field's
        strength, not the viewing angle).

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
    inclined = not (radial or sun.flux_model.radial)
    fields = evaluate_on_image(
        r_xyz,
        plane.project(r_xyz),
        kernel_amplitude(src.flux[resolved], r_sigma, SOLAR_RADIUS_CM),
        r_sigma,
        geometry.xyz,
        plane.radius_px,
        extended_xyz=geometry.extended_xyz,
        inclination=sun.flux_model.inclination(src.kind[resolved]) if inclined else None,
    )
    b_radial, b_horizontal = fields if inclined else (fields, 0.0)
    slat = geometry.xyz[..., 1] * np.cos(np.deg2rad(b0)) + geometry.xyz[..., 2] * np.sin(np.deg2rad(b0))
    lat = np.rad2deg(np.arcsin(np.clip(np.nan_to_num(slat), -1.0, 1.0)))
    b_radial = b_radial + sun.polar_field(time, lat * u.deg).to_value(u.G)
    b_los = np.where(geometry.on_disk, b_radial * geometry.mu + b_horizontal, 0.0)

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


def observe_hmi(sun, time, observer=None, *, npix=512, roll=0.0, noise=True, observatory="SDO", sources=None):
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
    sources : `~sunpy_magnetogan.synthetic.sources.SourceSet`, optional
        The flux concentrations to observe instead of all of ``sun.sources(time)``: a
        subset (only the active regions, say) or a modified copy (other signs). The smooth
        polar field (`~sunpy_magnetogan.synthetic.SyntheticSun.polar_field`) and the noise
        are the Sun's in any case.

    Returns
    -------
    `~sunpy.map.sources.HMIMap`
        ``B_los`` in Gauss (float32), NaN more than a pixel outside the limb.

    Examples
    --------
    Only the active regions, without the quiet-Sun network:

    >>> import numpy as np
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi
    >>> sun = SyntheticSun(7)
    >>> full = observe_hmi(sun, "2014-02-01", npix=128, noise=False)
    >>> active = sun.sources("2014-02-01", network=False)
    >>> regions = observe_hmi(sun, "2014-02-01", npix=128, noise=False, sources=active)
    >>> quiet = full.data - regions.data  # the network alone, G
    >>> bool(np.nanmax(abs(regions.data)) > 500), bool(np.nanstd(quiet) < np.nanstd(regions.data))
    (True, True)
    """
    observer = as_observer(observer, time)
    return _observe(
        sun, time, observer, HMI, npix=npix, roll=roll, noise=noise, observatory=observatory, sources=sources
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
    observer = solo_observer(time) if observer is None else as_observer(observer, time)
    return _observe(
        sun,
        time,
        observer,
        PHI_FDT,
        npix=npix,
        roll=roll,
        noise=noise,
        observatory="Solar Orbiter",
        binning=binning,
    )


#: Names of the magnetographs (their images are ``B_los``; the others are 304 A imagers).
_MAGNETOGRAPHS = ("HMI", "PHI")


def _observe(
    sun,
    time,
    observer,
    instrument,
    *,
    npix,
    roll,
    noise,
    observatory,
    model=None,
    view=None,
    sources=None,
    binning=None,
):
    """
    A synthetic map of ``instrument``: ``B_los`` of a magnetograph, or a 304 A image.

    The noise-free line-of-sight field on the instrument's pixels
    (`line_of_sight_field`) goes through the magnetograph's response
    (`_magnetograph_response`) or the EUV forward model and the imager's response
    (`_imager_response`), and gets the synthetic header.
    """
    plane = _plane(instrument, observer, npix, roll, binning)
    view = view or observer_view(observer, time)
    magnetograph = instrument.name in _MAGNETOGRAPHS
    b_los, geometry = line_of_sight_field(
        sun, time, observer, plane, view=view, sources=sources, radial=not magnetograph
    )
    rng = _noise_rng(sun, instrument.name.lower(), time, observer)
    if magnetograph:
        data = _magnetograph_response(b_los, geometry, plane, instrument, rng=rng, noise=noise)
    else:
        data = _imager_response(b_los, geometry, plane, instrument, rng=rng, noise=noise, model=model)
    l0, b0, _ = view
    header = synthetic_header(
        instrument, observer, time, plane, data.shape, observatory=observatory, sun=sun, l0=l0, b0=b0
    )
    return sunpy.map.Map(data, header)


def _magnetograph_response(b_los, geometry, plane, instrument, *, rng, noise):
    """``B_los`` (G, float32) blurred, with the noise of a rebinned pixel, NaN off the limb."""
    data = _blur(b_los, instrument, plane)
    if noise:
        sigma = instrument.noise.to_value(u.G) / max(
            plane.scale / instrument.native_scale.to_value(u.arcsec), 1.0
        )
        data = data + sigma * rng.standard_normal(data.shape)
    # Pixels whose centre is within a pixel of the limb still see part of the disk.
    return np.where(geometry.rho < 1.0 + 1.0 / plane.radius_px, data, np.nan).astype(np.float32)


def _imager_response(b_los, geometry, plane, instrument, *, rng, noise, model):
    """The 304 A image (DN, or DN/s for level-2 EUI) of the field seen at HMI's resolution."""
    b_los = _blur(b_los, HMI, plane)
    intensity = euv304_intensity(b_los, geometry, rng=rng, model=model or EUV304Model())
    data = instrument_response(intensity, geometry, instrument, rng=rng, noise=noise)
    if instrument.unit == "DN/s":  # level-2 EUI: counts per second
        data = data / np.float32(instrument.exposure.to_value(u.s))
    return data


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
    observer = as_observer(observer, time)
    return _observe(
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
    observer = as_observer(observer, time)
    return _observe(
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
    observer = as_observer(solo_observer(time) if observer is None else observer, time)
    return _observe(
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
    observer = as_observer(observer, time)
    shared = {"view": observer_view(observer, time), "sources": sun.sources(time)}
    if name == "FSI":
        shared["binning"] = "disk"
    euv, mag = (
        _observe(
            sun, time, observer, each, npix=npix, roll=0.0, noise=noise, observatory=observatory, **shared
        )
        for each in (euv_instrument, mag_instrument)
    )
    return euv, mag


#: EUV imager, magnetograph and default observatory of each `observe_pair` instrument.
_PAIRS = {
    "AIA": (AIA304, HMI, "SDO"),
    "EUVI": (EUVI304, HMI, "STEREO_A"),
    "FSI": (FSI304, PHI_FDT, "Solar Orbiter"),
}

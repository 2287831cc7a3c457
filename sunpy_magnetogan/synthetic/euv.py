"""
A forward model of the EUV 304 A (He II) Sun from a line-of-sight magnetogram.

The chromosphere / transition region seen at 304 A is bright where the photospheric field
is strong and dark where it is weak or open, and it is seen through an instrument. From a
magnetogram `euv304_from_magnetogram` builds, in units of the quiet-Sun disk-centre
intensity:

* the field-strength estimate ``|B| = |B_los| / max(mu, 0.15)`` (radial-field
  approximation) of the magnetogram brought to a fixed resolution of about 1.5 Mm (so
  that real full-resolution and synthetic 512 px inputs behave alike) and de-biased for
  its noise, smoothed at the scale of network and plage (`EUV304Model.network_scale`)
  and at the scale of active-region halos (`EUV304Model.halo_scale`);
* brightness ``cell_floor + gain * (B_eff / field_unit)^index`` with a soft saturation
  ``B_eff = B / (1 + B / saturation)`` (chromospheric intensities scale as a power of
  ``|B|`` below one, e.g. Schrijver et al. 1989), plus a diffuse halo around active regions
  and bright active-region cores where the field is strong over several Mm;
* a multiplicative non-magnetic texture (chromospheric dynamics; independent of B);
* limb brightening ``1 + limb * (1 - mu)^2``;
* coronal-hole darkening where the large-scale field is unipolar and weak;
* dark filaments along the polarity-inversion lines of the large-scale field ``B_L``, where
  fields of opposite signs face each other (``B_L`` one smoothing length away on either
  side of the line, along its gradient, has opposite signs and exceeds a threshold in
  magnitude): at a distance ``d = |B_L| / |grad B_L|`` from the line, the intensity is
  reduced by ``depth * exp(-(d / width)^2)``;
* off-limb emission falling exponentially with height above the limb, its brightness
  following the limb below it;
* the instrument: PSF, stray light, conversion to DN, photon and read noise
  (`~sunpy_magnetogan.synthetic.instruments`).

Every term depends on the field only through ``|B|``, ``B_L^2`` and ``|grad B_L|``, so
the image is exactly the same for ``B`` and ``-B``: polarity cannot be read from it, only
inferred from morphology, as for the real Sun. It works on any magnetogram map, including
real HMI maps (semi-real pairs).
"""

import logging
from dataclasses import dataclass

import astropy.units as u
import numpy as np
import sunpy.map
from scipy import ndimage

from sunpy_magnetogan.exceptions import InputMapError
from sunpy_magnetogan.synthetic.instruments import INSTRUMENTS
from sunpy_magnetogan.synthetic.projection import geometry_from_wcs_map

__all__ = [
    "EUV304Model",
    "estimate_field_noise",
    "euv304_from_magnetogram",
    "euv304_intensity",
    "euv_header",
    "instrument_response",
]

log = logging.getLogger(__name__)

_MU_MIN = 0.15
_STRAY_LIGHT_SCALE = 40.0  # arcsec


@dataclass(frozen=True)
class EUV304Model:
    """
    Parameters of the 304 A forward model (lengths in Mm, fields in G).

    Parameters
    ----------
    field_resolution : float
        The magnetogram is first smoothed (signed) to this resolution (Gaussian sigma),
        about the pixel of a 512 px full-disk image, so that the response does not
        depend on the input's pixel size.
    network_scale : float
        Smoothing (Gaussian sigma) of ``|B|`` for network and plage brightness.
    halo_scale : float
        Smoothing of ``|B|`` for the diffuse emission around active regions.
    field_unit, index, gain, saturation : float
        ``gain * (B_eff / field_unit)^index`` with ``B_eff = B / (1 + B / saturation)``.
    cell_floor : float
        Brightness of field-free cell interiors.
    halo_gain : float
        Halo brightness ``halo_gain * (B_halo / 100 G)^0.5``.
    core_scale, core_gain : float
        Active-region cores: ``core_gain * (B_core / 300 G)^1.5`` with ``|B|`` smoothed
        at ``core_scale``.
    limb : float
        Limb-brightening coefficient.
    texture, texture_scale : float
        RMS and correlation length of the non-magnetic texture.
    filament_scale, filament_width, filament_depth : float
        Smoothing of the signed field for polarity-inversion lines; e-folding half-width
        and depth of the filaments.
    filament_field : tuple of float
        Smoothed field (G) that must face the line on both sides for a filament to form
        (the filament fades in between the two values).
    hole_scale, hole_depth : float
        Scale of the unipolarity measure and darkening of coronal holes.
    shell_height, rim_level : float
        Height of the He II emitting shell above the photosphere and the brightness of
        the rim below it (relative to the limb just inside).
    offlimb_height, offlimb_level : float
        Scale height of off-limb emission above the shell and its level there.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import EUV304Model, SyntheticSun, observe_aia
    >>> model = EUV304Model(filament_depth=0.0)  # no dark filaments
    >>> aia = observe_aia(SyntheticSun(5), "2014-06-01", npix=64, model=model)
    >>> aia.detector, aia.data.shape
    ('AIA', (64, 64))
    """

    field_resolution: float = 1.5
    network_scale: float = 3.0
    halo_scale: float = 8.0
    field_unit: float = 20.0
    index: float = 0.4
    gain: float = 1.0
    saturation: float = 1000.0
    cell_floor: float = 0.25
    halo_gain: float = 0.35
    core_scale: float = 4.0
    core_gain: float = 1.0
    limb: float = 0.1
    texture: float = 0.15
    texture_scale: float = 3.0
    filament_scale: float = 15.0
    filament_width: float = 3.0
    filament_depth: float = 0.6
    filament_field: tuple = (8.0, 25.0)
    hole_scale: float = 40.0
    hole_depth: float = 0.35
    shell_height: float = 4.0
    rim_level: float = 1.1
    offlimb_height: float = 10.0
    offlimb_level: float = 1.0


def _smoothstep(x, low, high):
    t = np.clip((x - low) / (high - low), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _block_mean(image, factor):
    """Mean over ``factor x factor`` blocks (the image is trimmed to a multiple of it)."""
    ny, nx = image.shape
    my, mx = ny // factor * factor, nx // factor * factor
    return image[:my, :mx].reshape(my // factor, factor, mx // factor, factor).mean(axis=(1, 3))


def _upsample(small, factor, shape):
    """Bilinear interpolation of a block-averaged image back to ``shape`` (pixel-centre aligned)."""
    big = ndimage.zoom(small, factor, order=1, mode="nearest", grid_mode=True)
    ny, nx = shape
    pad = ((0, max(ny - big.shape[0], 0)), (0, max(nx - big.shape[1], 0)))
    return np.pad(big, pad, mode="edge")[:ny, :nx]


def _gaussian(image, sigma):
    """Gaussian filter; large kernels run on a block-averaged copy and are interpolated back."""
    if sigma < 0.3:
        return image
    factor = int(sigma // 4)
    if factor >= 2 and min(image.shape) // factor >= 16:
        small = ndimage.gaussian_filter(
            _block_mean(image, factor), sigma / factor, mode="nearest", truncate=3.0
        )
        return _upsample(small, factor, image.shape).astype(image.dtype)
    return ndimage.gaussian_filter(image, sigma, mode="nearest", truncate=3.0)


def _filaments(b_radial, weight, px, model):
    """Filament darkening (0..1) along facing-polarity inversion lines; see the module docstring."""
    # The large-scale field is smooth: work on a grid a few times coarser than the
    # filament width when the image is finely sampled, and interpolate the result back.
    factor = max(1, int(model.filament_width * px // 1.5))
    if factor > 1 and min(b_radial.shape) // factor < 16:
        factor = 1
    b_small = _block_mean(b_radial, factor) if factor > 1 else b_radial
    w_small = _block_mean(weight, factor) if factor > 1 else weight
    px_small = px / factor
    b_large = _disk_smooth(b_small, w_small, model.filament_scale * px_small)
    gy, gx = np.gradient(b_large)
    grad = np.maximum(np.hypot(gx, gy), 1e-6)
    distance = np.abs(b_large) / grad / px_small  # Mm to the zero line
    reach = model.filament_scale * px_small
    yy, xx = np.mgrid[0 : b_large.shape[0], 0 : b_large.shape[1]].astype(np.float32)
    uy, ux = reach * gy / grad, reach * gx / grad
    ahead = ndimage.map_coordinates(b_large, [yy + uy, xx + ux], order=1, mode="nearest")
    behind = ndimage.map_coordinates(b_large, [yy - uy, xx - ux], order=1, mode="nearest")
    facing = np.where(ahead * behind < 0, np.minimum(np.abs(ahead), np.abs(behind)), 0.0)
    filament = np.exp(-np.square(distance / model.filament_width)) * _smoothstep(
        facing, *model.filament_field
    )
    if factor > 1:
        filament = _upsample(filament.astype(np.float32), factor, b_radial.shape)
    return filament


def _disk_smooth(image, weight, sigma):
    """Normalised convolution: smooth ``image`` over the disk only (no darkening at the limb)."""
    num = _gaussian(image * weight, sigma)
    den = _gaussian(weight, sigma)
    return np.where(den > 1e-3, num / np.maximum(den, 1e-3), 0.0).astype(np.float32)


def estimate_field_noise(blos, geometry):
    """
    Pixel-to-pixel noise of a magnetogram, from the central part of the disk.

    The robust standard deviation (1.4826 x median absolute deviation) of the difference
    between the image and its 3 x 3 median, scaled by 1.2 (that ratio for white noise),
    within half a radius of disk centre.

    Parameters
    ----------
    blos : numpy.ndarray
        Line-of-sight field (G).
    geometry : `~sunpy_magnetogan.synthetic.projection.SurfaceGeometry`
        Geometry of the pixels.

    Returns
    -------
    float
        Noise in Gauss per pixel.
    """
    cx, cy = geometry.center_px
    half = int(0.5 * geometry.radius_px / np.sqrt(2.0))
    y0, x0 = round(cy) - half, round(cx) - half
    ny, nx = blos.shape
    box = blos[max(y0, 0) : min(y0 + 2 * half, ny), max(x0, 0) : min(x0 + 2 * half, nx)]
    box = np.nan_to_num(np.asarray(box, dtype=np.float32))
    if box.size < 25:
        return 0.0
    residual = box - ndimage.median_filter(box, size=3)
    return float(1.2 * 1.4826 * np.median(np.abs(residual - np.median(residual))))


def euv304_intensity(blos, geometry, *, rng, model=None, field_noise=0.0):
    """
    304 A intensity from a line-of-sight field, in units of the quiet-Sun disk centre.

    Parameters
    ----------
    blos : numpy.ndarray
        ``(ny, nx)`` line-of-sight field in Gauss (NaN allowed off the disk).
    geometry : `~sunpy_magnetogan.synthetic.projection.SurfaceGeometry`
        Geometry of the same pixels.
    rng : numpy.random.Generator
        Random stream of the non-magnetic texture.
    model : EUV304Model, optional
        Model parameters.
    field_noise : float, optional
        Noise of ``blos`` per pixel (G); ``|B|`` is de-biased as
        ``sqrt(max(B^2 - (1.5 noise)^2, 0))`` before it makes the EUV brightness.

    Returns
    -------
    numpy.ndarray
        ``(ny, nx)`` float32 intensity (dimensionless), on and off the disk.

    Examples
    --------
    >>> import astropy.units as u
    >>> import numpy as np
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, euv304_intensity, line_of_sight_field, sdo_observer
    >>> from sunpy_magnetogan.synthetic.projection import ImagePlane
    >>> time, observer = "2014-06-01", sdo_observer("2014-06-01")
    >>> plane = ImagePlane((64, 64), 40.0, (observer.radius / (695700 * u.km)).to_value(u.one))
    >>> blos, geometry = line_of_sight_field(SyntheticSun(5), time, observer, plane)
    >>> bright = euv304_intensity(blos, geometry, rng=np.random.default_rng(0))
    >>> flipped = euv304_intensity(-blos, geometry, rng=np.random.default_rng(0))
    >>> bright.shape, bool(np.array_equal(bright, flipped))  # the sign of B does not show
    ((64, 64), True)
    """
    model = model or EUV304Model()
    on = geometry.on_disk
    weight = on.astype(np.float32)
    mu = np.where(on, geometry.mu, 1.0).astype(np.float32)
    b = np.where(on & np.isfinite(blos), blos, 0.0).astype(np.float32)
    px = 1.0 / geometry.megameters_per_pixel  # pixels per Mm
    # The field at a fixed resolution (signed smoothing), so that mixed polarities cancel
    # the same way whatever the input's pixel size; the noise is reduced alike.
    resolution = model.field_resolution * px
    if resolution >= 0.3:
        b = _disk_smooth(b, weight, resolution)
        field_noise = field_noise / max(2.0 * np.sqrt(np.pi) * resolution, 1.0)
    b_radial = b / np.maximum(mu, _MU_MIN)
    # Field strength, de-biased for noise (|B| of pure noise would otherwise glow).
    b_abs = np.sqrt(np.clip(np.square(b) - np.float32((1.5 * field_noise) ** 2), 0.0, None)) / np.maximum(
        mu, _MU_MIN
    )

    b_net = _disk_smooth(b_abs, weight, model.network_scale * px)
    b_halo = _disk_smooth(b_abs, weight, model.halo_scale * px)
    b_eff = b_net / (1.0 + b_net / model.saturation)
    bright = model.cell_floor + model.gain * (b_eff / model.field_unit) ** model.index
    bright = bright + model.halo_gain * np.sqrt(b_halo / 100.0)
    # Active-region cores (strong field over several Mm: moss and low loops).
    b_core = _disk_smooth(b_abs, weight, model.core_scale * px)
    bright = bright + model.core_gain * (b_core / 300.0) ** 1.5

    # Filaments along polarity-inversion lines of the large-scale field, where strong
    # fields of opposite signs face each other across the line.
    filament = _filaments(b_radial, weight, px, model)
    bright = bright * (1.0 - model.filament_depth * filament)

    # Coronal holes: unipolar, weak large-scale field.
    s_hole = _disk_smooth(b_abs, weight, model.hole_scale * px)
    unipolar = np.abs(_disk_smooth(b_radial, weight, model.hole_scale * px)) / (s_hole + 1.0)
    hole = _smoothstep(unipolar, 0.35, 0.75) * (1.0 - _smoothstep(s_hole, 25.0, 60.0))
    bright = bright * (1.0 - model.hole_depth * hole)

    texture = rng.standard_normal(b.shape).astype(np.float32)
    texture = _gaussian(texture, model.texture_scale * px)
    texture /= max(float(texture.std()), 1e-6)
    bright = bright * np.clip(1.0 + model.texture * texture, 0.2, None)
    bright = bright * (1.0 + model.limb * np.square(1.0 - mu))
    bright = np.where(on, bright, 0.0).astype(np.float32)

    # Off-limb: the smoothed limb brightness at the same position angle, decaying with height.
    # The He II emission comes from a shell a few Mm above the photosphere: a bright rim
    # just outside the photospheric limb (the spicule forest), then an exponential decay.
    rho = geometry.rho.astype(np.float32)
    height = (rho - 1.0) * 695.7  # Mm
    near = ~on & (height < 12.0 * model.offlimb_height + model.shell_height)
    iy, ix = np.nonzero(near)
    cx, cy = geometry.center_px
    inner = 0.97 / np.maximum(rho[near], 1e-6)
    limb_src = _disk_smooth(bright, weight, 3.0 * px)
    limb_value = ndimage.map_coordinates(
        limb_src, [cy + (iy - cy) * inner, cx + (ix - cx) * inner], order=1, mode="nearest"
    )
    h = height[near]
    level = np.where(h < model.shell_height, model.rim_level, model.offlimb_level)
    spicules = np.clip(1.0 + 2.0 * model.texture * texture[near], 0.2, None)
    off = 0.02 * np.exp(-np.clip(height, 0.0, None) / 60.0)
    off[near] += (
        level
        * limb_value
        * np.exp(-np.clip(h - model.shell_height, 0.0, None) / model.offlimb_height)
        * spicules
    )
    return np.where(on, bright, off).astype(np.float32)


def instrument_response(intensity, geometry, instrument, *, rng, noise=True):
    """
    Turn relative 304 A intensities into an instrument's DN image.

    Parameters
    ----------
    intensity : numpy.ndarray
        Intensity in units of the quiet-Sun disk centre (`euv304_intensity`).
    geometry : `~sunpy_magnetogan.synthetic.projection.SurfaceGeometry`
        Geometry of the pixels (for the plate scale).
    instrument : `~sunpy_magnetogan.synthetic.instruments.Instrument`
        The imager (AIA or EUVI 304).
    rng : numpy.random.Generator
        Random stream of the noise.
    noise : bool
        Add photon and read noise.

    Returns
    -------
    numpy.ndarray
        DN per native pixel (float32).
    """
    dn = intensity * np.float32((instrument.quiet_rate * instrument.exposure).to_value(u.ct))
    psf = instrument.psf_sigma.to_value(u.arcsec) / geometry.scale
    dn = _gaussian(dn, psf) if psf >= 0.3 else dn
    if instrument.scatter:
        dn = (1.0 - instrument.scatter) * dn + instrument.scatter * _gaussian(
            dn, _STRAY_LIGHT_SCALE / geometry.scale
        )
    if noise:
        binning = max(geometry.scale / instrument.native_scale.to_value(u.arcsec), 1.0)
        sigma = (
            np.sqrt(np.clip(dn, 0.0, None) * instrument.dn_per_photon + instrument.read_noise**2) / binning
        )
        dn = dn + sigma * rng.standard_normal(dn.shape).astype(np.float32)
    return dn.astype(np.float32)


def instrument_header(instrument, shape, reference_coordinate, *, observatory, telescope, **wcs):
    """
    The FITS header of a synthetic image of an instrument: its WCS and naming keywords.

    The one header builder of the synthetic observations (`euv_header` for images on a
    map's grid, and the observers of `sunpy_magnetogan.synthetic.observe`), which add the
    keywords of their own products.

    Parameters
    ----------
    instrument : `~sunpy_magnetogan.synthetic.instruments.Instrument`
        The instrument (its ``telescope`` is overridden by ``telescope``).
    shape : tuple of int
        Image shape ``(ny, nx)``.
    reference_coordinate : `~astropy.coordinates.SkyCoord`
        The coordinate of the reference pixel (its frame gives observer and date).
    observatory : str
        ``OBSRVTRY``.
    telescope : str
        ``TELESCOP``.
    **wcs
        ``reference_pixel``, ``scale`` and ``rotation_matrix`` or ``rotation_angle``, as
        `sunpy.map.make_fitswcs_header` takes them.

    Returns
    -------
    `~sunpy.util.MetaDict`
        With ``BUNIT`` set to the instrument's unit.
    """
    header = sunpy.map.make_fitswcs_header(
        shape,
        reference_coordinate,
        **wcs,
        telescope=telescope,
        instrument=instrument.instrument,
        detector=instrument.detector,
        observatory=observatory,
        wavelength=instrument.wavelength,
        exposure=instrument.exposure,
        unit=u.Unit(instrument.unit),
    )
    header["bunit"] = instrument.unit
    return header


def euv_header(smap, instrument, *, observatory=None):
    """
    Header of an EUV image on the same pixel grid, observer and date as a map.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        The map giving the WCS, observer and date.
    instrument : `~sunpy_magnetogan.synthetic.instruments.Instrument`
        AIA or EUVI 304.
    observatory : str, optional
        ``OBSRVTRY`` (default ``"SDO"`` for AIA, ``"STEREO_A"`` for EUVI).

    Returns
    -------
    `~sunpy.util.MetaDict`
    """
    if instrument.name == "EUVI":
        observatory = observatory or "STEREO_A"
        telescope = instrument.telescope
    else:
        observatory = observatory or "SDO"
        telescope = instrument.telescope if observatory == "SDO" else f"{observatory}/{instrument.detector}"
    header = instrument_header(
        instrument,
        smap.data.shape,
        smap.reference_coordinate,
        observatory=observatory,
        telescope=telescope,
        reference_pixel=u.Quantity(smap.reference_pixel),
        scale=u.Quantity(smap.scale),
        rotation_matrix=smap.rotation_matrix,
    )
    header["lvl_num"] = 1.5
    if instrument.name == "EUVI":
        header["rsun"] = float(header["rsun_obs"])
    for key in ("crln_obs", "crlt_obs"):
        if key in smap.meta:
            header[key] = smap.meta[key]
    return header


def euv304_from_magnetogram(
    magnetogram, *, instrument="AIA", rng=None, model=None, noise=True, observatory=None, field_noise=None
):
    """
    A synthetic EUV 304 A image of a magnetogram, on its pixel grid.

    Parameters
    ----------
    magnetogram : `~sunpy.map.GenericMap`
        A line-of-sight magnetogram (any unit convertible to Gauss; synthetic or real,
        e.g. an HMI map, whatever its roll or size).
    instrument : {"AIA", "EUVI"}
        The imager to emulate (PSF, stray light, count rate, noise, header).
    rng : numpy.random.Generator or int, optional
        Random stream (or seed) of the texture and noise; fixed seed 0 by default so that
        the same magnetogram always gives the same image.
    model : EUV304Model, optional
        Forward-model parameters.
    noise : bool, optional
        Add photon and read noise.
    observatory : str, optional
        ``OBSRVTRY`` of the output (``"SDO"`` for AIA, ``"STEREO_A"`` for EUVI by default).
    field_noise : `~astropy.units.Quantity`, optional
        Noise of the magnetogram per pixel, used to de-bias ``|B|``; estimated from the
        map (`estimate_field_noise`) by default, so that the noise of a real magnetogram
        does not brighten the quiet Sun.

    Returns
    -------
    `~sunpy.map.GenericMap`
        An `~sunpy.map.sources.AIAMap` or `~sunpy.map.sources.EUVIMap` in DN (float32),
        same shape, WCS, observer and date as the magnetogram.

    Raises
    ------
    InputMapError
        If the map is not a magnetogram (no magnetic unit) or the instrument is unknown.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi, euv304_from_magnetogram
    >>> hmi = observe_hmi(SyntheticSun(3), "2014-02-01", npix=128)
    >>> aia = euv304_from_magnetogram(hmi, rng=1)
    >>> aia.instrument, aia.wavelength
    ('AIA 4', <Quantity 304. Angstrom>)
    """
    name = str(instrument).upper()
    if name not in ("AIA", "EUVI"):
        raise InputMapError(f"instrument must be 'AIA' or 'EUVI', got {instrument!r}")
    unit = magnetogram.unit
    if unit is None or not unit.is_equivalent(u.G):
        raise InputMapError(
            f"the input map has unit {unit}, not a magnetic field; a line-of-sight magnetogram is needed"
        )
    inst = INSTRUMENTS[name]
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(0 if rng is None else rng)
    geometry = geometry_from_wcs_map(magnetogram)
    blos = np.asarray(magnetogram.data, dtype=np.float32) * np.float32((1 * unit).to_value(u.G))
    if field_noise is None:
        field_noise = estimate_field_noise(blos, geometry)
        log.debug("estimated magnetogram noise: %.2f G per pixel", field_noise)
    else:
        field_noise = u.Quantity(field_noise, u.G).to_value(u.G)
    intensity = euv304_intensity(blos, geometry, rng=rng, model=model, field_noise=field_noise)
    data = instrument_response(intensity, geometry, inst, rng=rng, noise=noise)
    return sunpy.map.Map(data, euv_header(magnetogram, inst, observatory=observatory))

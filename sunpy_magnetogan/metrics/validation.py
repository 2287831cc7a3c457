"""
Checks that magnetogram maps can be compared, and explicit reprojection when they cannot.

Two maps are comparable pixel by pixel when they have the same shape, the same pixel grid on
the sky (world coordinates of the corners and centre agree to 0.01 pixel) and the same
observer (Stonyhurst longitude and latitude within 0.05 deg, distance within 0.1 %). Anything
else is an `~sunpy_magnetogan.exceptions.InputMapError` unless the caller asks for a
reprojection, which `align_maps` does with `sunpy.map.GenericMap.reproject_to`.
"""

import logging

import astropy.units as u
import numpy as np
from scipy import ndimage
from sunpy.coordinates import HeliographicStonyhurst

from sunpy_magnetogan.exceptions import InputMapError, MissingMetadataError
from sunpy_magnetogan.metrics.geometry import disk_geometry
from sunpy_magnetogan.validation import validate_magnetogram_map

__all__ = ["align_maps", "check_magnetogram", "compare_grids"]

log = logging.getLogger(__name__)

#: Largest allowed difference between two maps' observers.
OBSERVER_ANGLE_TOLERANCE = 0.05 * u.deg
OBSERVER_DISTANCE_TOLERANCE = 1e-3  # relative
#: Largest allowed difference of the world coordinates of the same pixel, in pixels.
GRID_TOLERANCE_PX = 0.01

_REPROJECT_CHOICES = (False, True, "generated", "truth")


def check_magnetogram(smap, *, name="map"):
    """
    Check that ``smap`` is a helioprojective map of a magnetic field.

    The checks are those of `sunpy_magnetogan.validation.validate_magnetogram_map` (unit
    convertible to Gauss, date, observer, helioprojective WCS); errors name the map.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        The map to check.
    name : str, optional
        How to call the map in error messages (e.g. "truth").

    Returns
    -------
    `~astropy.units.UnitBase`
        The map's unit (equivalent to Gauss).

    Raises
    ------
    TypeError
        If ``smap`` is not a sunpy map.
    InputMapError
        If the map has no unit or one that is not a magnetic field (a
        `~sunpy_magnetogan.exceptions.MissingMetadataError`), or lacks the metadata that
        places it on the Sun.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.metrics import check_magnetogram
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> check_magnetogram(sunpy.map.Map(SAMPLE_HMI))
    Unit("G")
    >>> check_magnetogram(sunpy.map.Map(SAMPLE_AIA304), name="truth")
    Traceback (most recent call last):
    ...
    sunpy_magnetogan.exceptions.MissingMetadataError: truth map: ...
    """
    try:
        validate_magnetogram_map(smap)
    except InputMapError as exc:
        raise type(exc)(f"{name} map: {exc}") from exc
    except TypeError as exc:
        raise TypeError(f"{name} map: {exc}") from exc
    return smap.unit


def _observer(smap, name):
    try:
        return smap.observer_coordinate.transform_to(HeliographicStonyhurst(obstime=smap.date))
    except Exception as exc:  # sunpy raises several kinds when observer keywords are missing
        raise MissingMetadataError(f"the {name} map has no usable observer position: {exc}") from exc


def compare_grids(truth, generated):
    """
    Ways in which two maps' pixel grids or observers differ.

    Parameters
    ----------
    truth, generated : `~sunpy.map.GenericMap`
        The maps.

    Returns
    -------
    list of str
        Human-readable differences; empty when the maps can be compared pixel by pixel.

    Examples
    --------
    >>> import astropy.units as u
    >>> import sunpy.map
    >>> from sunpy_magnetogan.metrics import compare_grids
    >>> from sunpy_magnetogan.sample import SAMPLE_HMI
    >>> hmi = sunpy.map.Map(SAMPLE_HMI)
    >>> compare_grids(hmi, hmi)
    []
    >>> compare_grids(hmi, hmi.superpixel([2, 2] * u.pix))
    ['shapes differ ((1024, 1024) vs (512, 512))']
    """
    problems = []
    if truth.data.shape != generated.data.shape:
        problems.append(f"shapes differ ({truth.data.shape} vs {generated.data.shape})")
        return problems
    obs_t, obs_g = _observer(truth, "truth"), _observer(generated, "generated")
    dlon = abs(((obs_t.lon - obs_g.lon + 180 * u.deg) % (360 * u.deg)) - 180 * u.deg)
    dlat = abs(obs_t.lat - obs_g.lat)
    drad = abs(float((obs_t.radius - obs_g.radius) / obs_t.radius))
    if (
        dlon > OBSERVER_ANGLE_TOLERANCE
        or dlat > OBSERVER_ANGLE_TOLERANCE
        or drad > OBSERVER_DISTANCE_TOLERANCE
    ):
        problems.append(
            "observers differ (Stonyhurst lon/lat/distance "
            f"{obs_t.lon.to_value(u.deg):.3f}/{obs_t.lat.to_value(u.deg):.3f} deg/{obs_t.radius.to(u.AU):.5f} vs "
            f"{obs_g.lon.to_value(u.deg):.3f}/{obs_g.lat.to_value(u.deg):.3f} deg/{obs_g.radius.to(u.AU):.5f})"
        )
    ny, nx = truth.data.shape
    px = np.array([0, nx - 1, 0, nx - 1, (nx - 1) / 2])
    py = np.array([0, 0, ny - 1, ny - 1, (ny - 1) / 2])
    # Compare both maps' world coordinates of the same pixels, in units of the pixel scale.
    world_t = truth.wcs.pixel_to_world(px, py)
    world_g = generated.wcs.pixel_to_world(px, py)
    sep = np.hypot(
        (world_t.Tx - world_g.Tx).wrap_at(180 * u.deg), (world_t.Ty - world_g.Ty).to(u.deg)
    )  # small angles
    scale = u.Quantity(truth.scale).mean() * u.pix
    worst = float((sep.max() / scale).decompose())
    if worst > GRID_TOLERANCE_PX:
        problems.append(f"pixel grids differ (the same pixel is {worst:.3g} pixels apart on the sky)")
    return problems


def _reproject(source, target, name):
    """Reproject ``source`` onto ``target``'s grid; returns a map in Gauss with target's metadata."""
    # Off-disk NaNs would bleed into the limb pixels through the interpolation kernel;
    # off-disk values of a magnetogram are 0 G by the package's convention.
    data = u.Quantity(source.data, source.unit).to_value(u.G).astype(np.float64, copy=True)
    data[~disk_geometry(source).on_disk & ~np.isfinite(data)] = 0.0
    ratio = float(u.Quantity(target.scale).mean() / u.Quantity(source.scale).mean())
    if ratio > 1.5:
        # Anti-aliasing before downsampling, with scikit-image's rescale convention; a
        # normalised convolution so that isolated on-disk NaNs do not spread.
        finite = np.isfinite(data)
        sigma = (ratio - 1) / 2
        weight = ndimage.gaussian_filter(finite.astype(np.float64), sigma)
        with np.errstate(invalid="ignore", divide="ignore"):
            data = ndimage.gaussian_filter(np.where(finite, data, 0.0), sigma) / weight
        data[weight < 0.5] = np.nan
    prepared = source._new_instance(data, source.meta.copy(), plot_settings=source.plot_settings)
    prepared.meta["bunit"] = "G"
    log.info("reprojecting the %s map onto the other map's grid (pixel ratio %.2f)", name, ratio)
    out = prepared.reproject_to(target.wcs)
    meta = target.meta.copy()
    meta["bunit"] = "G"
    return target._new_instance(
        np.asarray(out.data, dtype=np.float64), meta, plot_settings=source.plot_settings
    )


def align_maps(truth, generated, *, reproject=False):
    """
    Validate two magnetograms and bring them onto one pixel grid if asked to.

    Parameters
    ----------
    truth : `~sunpy.map.GenericMap`
        The reference (observed) magnetogram.
    generated : `~sunpy.map.GenericMap`
        The magnetogram to evaluate.
    reproject : {False, True, "generated", "truth"}, optional
        What to do when the maps differ in shape, pixel grid or observer: False (default)
        raises; True or "generated" reprojects the generated map onto the truth's grid;
        "truth" reprojects the truth onto the generated map's grid (e.g. a 4096 px HMI map
        onto a 512 px model grid). `~sunpy.map.GenericMap.reproject_to` interpolates
        bilinearly; when the target pixels are more than 1.5 times larger the source is
        first smoothed by a Gaussian of ``sigma = (ratio - 1) / 2`` source pixels (the
        anti-aliasing of `skimage.transform.rescale`). Off-disk non-finite values are set
        to 0 G before resampling so that they do not bleed into the limb. Maps that
        already match are returned unchanged.

    Returns
    -------
    truth, generated : `~sunpy.map.GenericMap`
        Maps on the same grid (a reprojected map is in Gauss and carries the target's
        metadata).

    Raises
    ------
    InputMapError
        If a map is not a helioprojective magnetogram, or the maps differ and
        ``reproject`` is False.
    """
    if reproject not in _REPROJECT_CHOICES:
        raise ValueError(f"reproject must be one of {_REPROJECT_CHOICES}, got {reproject!r}")
    check_magnetogram(truth, name="truth")
    check_magnetogram(generated, name="generated")
    problems = compare_grids(truth, generated)
    if not problems:
        return truth, generated
    if reproject is False:
        raise InputMapError(
            "the truth and generated maps cannot be compared pixel by pixel: "
            + "; ".join(problems)
            + ". Pass reproject='generated' (or 'truth') to reproject one onto the other's grid"
        )
    if reproject == "truth":
        return _reproject(truth, generated, "truth"), generated
    return truth, _reproject(generated, truth, "generated")

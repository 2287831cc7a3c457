"""
From an input `~sunpy.map.GenericMap` to the normalised model-grid array, and back.

`prepare_euv_map` is the geometric and intensity step every EUV image takes into a network,
at training and at inference time alike, after the product-specific calibration of the one
input preparation (`sunpy_magnetogan.data.inputs.prepare_input_map`); it refuses display
products, which only that preparation can put back on a linear scale.
`prepare_magnetogram_map` puts a magnetogram (the training target, a truth or a prior)
on the same grid, in Gauss and on the HMI scale. Both return a `PreparedImage` that keeps the geometry needed to
turn any model-grid array back into a map (`~sunpy_magnetogan.output.magnetogram_map`).
"""

import logging
from dataclasses import dataclass, field

import numpy as np

from sunpy_magnetogan.exceptions import (
    BadPixelWarning,
    InvalidDataError,
    LowResolutionError,
    PartialDiskWarning,
    UnsupportedProductError,
    warn_user,
)
from sunpy_magnetogan.geometry import ModelGeometry, geometry_from_map, resample_from_input
from sunpy_magnetogan.grid import ModelGrid, disk_mask
from sunpy_magnetogan.helioviewer import is_helioviewer_product
from sunpy_magnetogan.normalization import QuietSunNormalization
from sunpy_magnetogan.products import is_display_image, magnetogram_to_hmi_scale
from sunpy_magnetogan.validation import validate_euv_map, validate_magnetogram_map

__all__ = [
    "MIN_INPUT_RESOLUTION",
    "PreparedImage",
    "masked_as_nan",
    "prepare_euv_map",
    "prepare_magnetogram_map",
]

log = logging.getLogger(__name__)

#: Below this fraction of the disk covered by valid data, an input is refused.
MIN_DISK_COVERAGE = 0.05
#: Below this fraction, a `PartialDiskWarning` says part of the disk is masked.
WARN_DISK_COVERAGE = 0.995
#: EUV inputs whose solar disk radius (in input pixels) is under this fraction of the model
#: grid's are refused (`~sunpy_magnetogan.exceptions.LowResolutionError`): each input pixel
#: would be stretched over more than 8 x 8 grid pixels (on the 512 px grid, disk radius
#: 204.8 px: inputs with a disk radius under 25.6 px, such as a 16 or 64 px full-disk image).
#: Coarser inputs than the grid but above the limit (a 128 px EUVI browse image: 5 x 5) are
#: used, with the factor in the report (``upsampling``) and the log.
MIN_INPUT_RESOLUTION = 0.125


@dataclass(frozen=True)
class PreparedImage:
    """
    An image on the model grid with its validity mask and geometry.

    Attributes
    ----------
    data : numpy.ndarray
        float32, shape ``(N, N)``: the normalised EUV image in [-1, 1] (off-disk and
        invalid pixels -1) or the magnetogram in Gauss (off-disk and invalid pixels 0).
    disk : numpy.ndarray
        bool, shape ``(N, N)``: on the solar disk *and* covered by valid input data.
    geometry : `~sunpy_magnetogan.geometry.ModelGeometry`
        How the input lies on the grid; turns model-grid arrays back into maps.
    report : dict
        What preprocessing found and did: counts of non-finite and negative input pixels
        on the disk, disk coverage, normalisation limits.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.preprocess import prepare_euv_map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> prepared = prepare_euv_map(sunpy.map.Map(SAMPLE_AIA304))
    >>> prepared.data.shape, prepared.data.dtype, float(prepared.data.min())
    ((512, 512), dtype('float32'), -1.0)
    >>> bool(prepared.disk[255, 255]), bool(prepared.disk[0, 0])
    (True, False)
    """

    data: np.ndarray = field(repr=False)
    disk: np.ndarray = field(repr=False)
    geometry: ModelGeometry
    report: dict = field(default_factory=dict)


def _count_on_disk(mask, geometry):
    """Number of True pixels of an input-grid mask that lie on the solar disk."""
    centre = np.array(geometry.model_to_input(geometry.grid.center_px, geometry.grid.center_px))
    radius = geometry.grid.radius_px * geometry.input_pixels_per_model_pixel
    ny, nx = mask.shape
    rows = np.arange(max(0, int(centre[1] - radius)), min(ny, int(centre[1] + radius) + 2))
    half = np.sqrt(np.clip(radius**2 - (rows - centre[1]) ** 2, 0, None))
    x0 = np.clip(np.ceil(centre[0] - half).astype(int), 0, nx)
    x1 = np.clip(np.floor(centre[0] + half).astype(int) + 1, 0, nx)
    return int(
        sum(int(np.count_nonzero(mask[r, a:b])) for r, a, b in zip(rows, x0, x1, strict=True) if b > a)
    )


def masked_as_nan(smap):
    """
    The map with the pixels under its sunpy ``mask`` set to NaN (and no mask).

    Masked pixels are invalid input, like NaN; making them NaN before any calibration
    step (which may resample the image and would drop a mask) keeps them invalid to the end.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`

    Returns
    -------
    `~sunpy.map.GenericMap`
        ``smap`` itself when nothing is masked.

    Examples
    --------
    >>> import numpy as np
    >>> import sunpy.map
    >>> from sunpy_magnetogan.preprocess import masked_as_nan
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> aia = sunpy.map.Map(SAMPLE_AIA304)
    >>> mask = np.zeros(aia.data.shape, bool)
    >>> mask[:10] = True
    >>> int(np.isnan(masked_as_nan(sunpy.map.Map(aia.data, aia.meta, mask=mask)).data).sum())
    10240
    """
    if smap.mask is None or not np.any(smap.mask):
        return smap
    data = np.asarray(smap.data, dtype=np.float32 if smap.data.dtype.itemsize <= 4 else np.float64)
    data = np.where(np.broadcast_to(smap.mask, data.shape), np.nan, data).astype(data.dtype)
    return smap._new_instance(data, smap.meta.copy(), plot_settings=smap.plot_settings)


def _check_resolution(geometry, kind):
    """Refuse inputs whose disk is far coarser than the model grid's; return the upsampling."""
    upsampling = 1 / geometry.input_pixels_per_model_pixel  # grid pixels per input pixel, linear
    radius_in = geometry.grid.radius_px / upsampling
    numbers = (
        f"its solar disk is {radius_in:.1f} px in radius, the model grid's {geometry.grid.radius_px:.1f} px: "
        f"every input pixel would be stretched over {upsampling:.1f} x {upsampling:.1f} grid pixels"
    )
    if not upsampling * MIN_INPUT_RESOLUTION <= 1:
        raise LowResolutionError(
            f"the {kind} image is too coarse for the model: {numbers} (the limit is a disk radius of "
            f"{MIN_INPUT_RESOLUTION:g} of the grid's, {geometry.grid.radius_px * MIN_INPUT_RESOLUTION:.1f} px); "
            "use a full-resolution image"
        )
    if upsampling > 2:
        log.info("the %s image is coarser than the model grid: %s", kind, numbers)
    return upsampling


def _resample_checked(smap, data, grid, kind, *, euv=False):
    """
    Shared part of the EUV and magnetogram paths: geometry, resolution (``euv``), bad
    pixels, coverage; negative intensities are clipped to zero for ``euv``.
    """
    geometry = geometry_from_map(smap, grid)
    upsampling = _check_resolution(geometry, kind) if euv else None
    valid = None
    nonfinite = np.isfinite(data)
    np.logical_not(nonfinite, out=nonfinite)
    if smap.mask is not None and np.any(smap.mask):
        # Masked pixels (sunpy's ``mask``) are invalid input, like NaN (see masked_as_nan).
        valid = ~np.broadcast_to(smap.mask, data.shape)
        nonfinite |= ~valid
    report = {"nonfinite_on_disk": 0}
    if upsampling is not None:
        report["upsampling"] = round(upsampling, 3)
    if nonfinite.all():
        raise InvalidDataError(f"the {kind} image has no valid data: every pixel is NaN, infinite or masked")
    if nonfinite.any():
        n_bad = _count_on_disk(nonfinite, geometry)
        report["nonfinite_on_disk"] = n_bad
        if n_bad:
            warn_user(
                f"{n_bad} pixels of the {kind} image on the solar disk are NaN, infinite or masked; "
                "they are treated as missing and masked",
                BadPixelWarning,
                stacklevel=4,
            )
    del nonfinite
    image, valid = resample_from_input(data, geometry, valid=valid, clip_negative=euv)
    on_disk = disk_mask(grid)
    disk = on_disk & valid
    coverage = float(disk.sum() / on_disk.sum())
    report["disk_coverage"] = coverage
    if coverage < MIN_DISK_COVERAGE:
        raise InvalidDataError(
            f"the {kind} image has valid data on only {coverage:.1%} of the solar disk "
            f"(at least {MIN_DISK_COVERAGE:.0%} is needed)"
        )
    if coverage < WARN_DISK_COVERAGE:
        warn_user(
            f"the {kind} image covers {coverage:.1%} of the solar disk (field of view or missing "
            "pixels); the rest is masked",
            PartialDiskWarning,
            stacklevel=4,
        )
    return image, disk, geometry, report


def prepare_euv_map(
    smap,
    *,
    grid=None,
    normalization=None,
    allow_other_instruments=False,
    allow_other_wavelengths=False,
):
    """
    Validate an EUV 304 A map and put it, normalised, on the model grid.

    This is the last step of the input preparation; use
    `sunpy_magnetogan.data.inputs.prepare_input_map` for files as they come (level 1,
    Helioviewer JPEG2000, EUVI level 0.5...), which calibrates them first.

    Steps: validation (instrument, wavelength, observer, date, WCS); NaN/inf pixels are
    treated as missing and negative intensities are clipped to zero (both reported);
    flux-conserving block averaging of large inputs followed by bilinear resampling onto
    a grid with solar north up, the Sun centred and the limb at a fixed radius; off-disk
    masking; normalisation of the disk to [-1, 1].

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        SDO/AIA or STEREO/SECCHI EUVI 304 A map of any size, roll, observer or field of view.
    grid : `~sunpy_magnetogan.grid.ModelGrid`, optional
        Target grid (``ModelGrid(512)`` by default).
    normalization : `~sunpy_magnetogan.normalization.QuietSunNormalization` or `~sunpy_magnetogan.normalization.EUVNormalization`, optional
        Intensity normalisation: the contrast to the quiet Sun by default; pass
        ``EUVNormalization()`` for the paper's 1-99 percentile linear stretch. A model must
        be given images normalised as its training data were (its card says how).
    allow_other_instruments, allow_other_wavelengths : bool, optional
        Opt in to inputs the model was not trained for (a warning is issued).

    Returns
    -------
    PreparedImage
        ``data`` in [-1, 1], float32, shape ``(N, N)``, never NaN.

    Raises
    ------
    UnsupportedInstrumentError, UnsupportedWavelengthError, MissingMetadataError
        See `~sunpy_magnetogan.validation.validate_euv_map`.
    UnsupportedProductError
        For a byte-scaled display image (e.g. a Helioviewer JPEG2000 file still holding its
        bytes): never read as if linear.
    InvalidDataError
        If less than 5 % of the disk has valid data, the disk is blank, or the image has
        more negative pixels than positive ones (a difference or sign-flipped image).
    LowResolutionError
        If the input's disk radius is under `MIN_INPUT_RESOLUTION` (an eighth) of the
        grid's (each input pixel stretched over more than 8 x 8 grid pixels).

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.preprocess import prepare_euv_map
    >>> prepared = prepare_euv_map(sunpy.map.Map("aia_304.fits"))  # doctest: +SKIP
    >>> prepared.data.shape  # doctest: +SKIP
    (512, 512)
    """
    grid = grid or ModelGrid()
    normalization = normalization or QuietSunNormalization()
    instrument = validate_euv_map(
        smap, allow_other_instruments=allow_other_instruments, allow_other_wavelengths=allow_other_wavelengths
    )
    if is_helioviewer_product(smap) or is_display_image(smap):
        raise UnsupportedProductError(
            f"the {instrument} map holds byte-scaled display values ({np.asarray(smap.data).dtype}), not "
            "intensities; prepare it with sunpy_magnetogan.data.inputs.prepare_input_map, which puts "
            "Helioviewer JPEG2000 files back on a linear scale and refuses display images of unknown scaling"
        )
    data = np.asarray(smap.data)  # never copied whole: resampled strip by strip
    with np.errstate(invalid="ignore"):
        n_negative = int(np.count_nonzero(data < 0))
        n_positive = int(np.count_nonzero(data > 0))
    kind = f"{instrument} EUV"
    if n_positive == 0 and n_negative:
        raise InvalidDataError(
            f"the {kind} image has no positive pixel ({n_negative} negative, minimum {np.nanmin(data):.4g}): "
            "EUV intensities are positive; is it a difference image, or its sign flipped?"
        )
    if n_negative > n_positive:
        raise InvalidDataError(
            f"the {kind} image has more negative pixels ({n_negative}) than positive ones ({n_positive}): "
            "EUV intensities are positive (dark-subtracted images have a few small negative values); is it a "
            "difference image, or its sign flipped?"
        )
    image, disk, geometry, report = _resample_checked(smap, data, grid, kind, euv=True)
    report["negative_pixels"] = n_negative
    if n_negative:
        # Small negative values are normal in dark-subtracted EUV images; say so quietly.
        log.info("clipped %d negative pixels of the input to zero", n_negative)
    normalised, limits = normalization(image, disk)
    report["normalization_limits"] = limits
    return PreparedImage(normalised, disk, geometry, report)


def prepare_magnetogram_map(smap, *, grid=None):
    """
    Validate a line-of-sight magnetogram and put it on the model grid, in Gauss.

    The same geometry as `prepare_euv_map` (north up, centred, fixed limb radius), with
    block averaging of the field (flux-conserving) before bilinear resampling. NaN
    pixels off the disk (normal for HMI) are silently masked; NaNs on the disk are
    reported with a `~sunpy_magnetogan.exceptions.BadPixelWarning`. SOHO/MDI fields are put
    on the HMI scale and display images refused
    (`~sunpy_magnetogan.products.magnetogram_to_hmi_scale`).

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        A magnetogram map whose unit converts to Gauss (HMI, MDI, synthetic...).
    grid : `~sunpy_magnetogan.grid.ModelGrid`, optional
        Target grid (``ModelGrid(512)`` by default).

    Returns
    -------
    PreparedImage
        ``data`` in Gauss, float32, shape ``(N, N)``; 0 off the disk and where invalid;
        ``report["scale"]`` says whether the field was rescaled to HMI's.

    Raises
    ------
    UnsupportedProductError
        For display images (e.g. Helioviewer HMI JPEG2000 files, clipped at +-250 G).

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.grid import ModelGrid
    >>> from sunpy_magnetogan.preprocess import prepare_magnetogram_map
    >>> from sunpy_magnetogan.sample import SAMPLE_HMI
    >>> hmi = sunpy.map.Map(SAMPLE_HMI)  # 1024 px, Gauss
    >>> prepared = prepare_magnetogram_map(hmi, grid=ModelGrid(256))
    >>> prepared.data.shape, float(prepared.data[0, 0])  # 0 G off the disk
    ((256, 256), 0.0)
    """
    grid = grid or ModelGrid()
    to_gauss = validate_magnetogram_map(smap)
    smap, scale_step = magnetogram_to_hmi_scale(smap)
    data = np.asarray(smap.data)
    if to_gauss.value != 1:
        data = data * np.float32(to_gauss.value)
    image, disk, geometry, report = _resample_checked(smap, data, grid, "magnetogram")
    image[~disk] = 0
    report["scale"] = scale_step
    return PreparedImage(image, disk, geometry, report)

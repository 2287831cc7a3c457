"""
Which data product an input map is, and whether it can be put on the training scale.

An EUV 304 A image reaches the package as one of several products that differ in more than
their header: SDO/AIA level 1 (JSOC ``aia.lev1``, DN, the detector's roll and plate
scale), level 1.5 (``aia_prep``/`aiapy.calibrate` output or JSOC ``aia.lev1p5``, DN or
DN/s), Helioviewer JPEG2000 display files (8-bit, clipped and log-scaled, see
`~sunpy_magnetogan.helioviewer`), STEREO/SECCHI EUVI level 0.5 (raw DN with the CCD bias)
or level 1 (``secchi_prep`` output, DN/s), and the package's own synthetic images.
`identify_euv_product` names the product from the header, or refuses the ones that cannot
be read right (display images of unknown scaling, level-0 files); the one input
preparation (`sunpy_magnetogan.data.inputs.prepare_input_map`) then applies the steps
that product needs. `saturated_fraction` measures how much of the disk is saturated or
clipped.

Magnetograms used as truth or prior (`magnetogram_to_hmi_scale`): HMI is the reference
scale; SOHO/MDI line-of-sight fields are divided by `MDI_TO_HMI` so that metrics compare
like with like.
"""

import logging
from dataclasses import dataclass

import astropy.units as u
import numpy as np
import sunpy.map

from sunpy_magnetogan.exceptions import UnsupportedProductError
from sunpy_magnetogan.helioviewer import helioviewer_scaling, is_helioviewer_product
from sunpy_magnetogan.validation import euv_instrument

__all__ = [
    "AIA_SATURATION_DN",
    "MDI_TO_HMI",
    "SYNTHETIC_ORIGIN",
    "InputProduct",
    "identify_euv_product",
    "is_display_image",
    "magnetogram_to_hmi_scale",
    "saturated_fraction",
]

log = logging.getLogger(__name__)

#: ``ORIGIN`` of the package's synthetic observations (`sunpy_magnetogan.synthetic`).
SYNTHETIC_ORIGIN = "sunpy_magnetogan.synthetic"
#: AIA and EUVI read out 14-bit counts: a pixel at or above this many DN (before exposure
#: normalisation) is saturated (full well, or blooming next to a flare kernel).
AIA_SATURATION_DN = 15000.0
#: MDI line-of-sight flux densities are 1.40 times HMI's (full-disk 96-min MDI against HMI
#: smoothed and rebinned to MDI's 2 arcsec pixels and about 4 arcsec resolution: Liu, Hoeksema,
#: Scherrer et al. 2012, Sol. Phys. 279, 295, "Comparison of line-of-sight magnetograms taken
#: by SDO/HMI and SOHO/MDI"). MDI data are divided by it to put them on the HMI scale. The
#: factor was fitted at MDI resolution; on the model grid (about 4.7 arcsec pixels for
#: 512 px) both instruments are block-averaged to a coarser scale than either resolution.
MDI_TO_HMI = 1.40


@dataclass(frozen=True)
class InputProduct:
    """
    The data product an EUV map comes from.

    Attributes
    ----------
    kind : str
        ``"aia-l1"``, ``"aia-l1.5"``, ``"aia-helioviewer-jp2"``, ``"euvi-l0.5"``,
        ``"euvi-l1"``, ``"synthetic-aia"``, ``"synthetic-euvi"`` or ``"other"`` (an
        instrument the caller opted in to).
    instrument : str
        ``"AIA"``, ``"EUVI"`` or ``"OTHER"``.
    level : float or None
        The processing level, when the header says.
    description : str
        One line for headers and reports.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.products import identify_euv_product
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> identify_euv_product(sunpy.map.Map(SAMPLE_AIA304)).kind
    'synthetic-aia'
    """

    kind: str
    instrument: str
    level: float | None = None
    description: str = ""

    @property
    def synthetic(self):
        """True for the package's synthetic observations."""
        return self.kind.startswith("synthetic")


def is_display_image(smap):
    """
    Whether a map holds integer display values (8-bit) rather than measurements.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`

    Returns
    -------
    bool
        True for uint8/int8 data (PNG, JPEG, JPEG2000 display products).

    Examples
    --------
    >>> import numpy as np
    >>> import sunpy.map
    >>> from sunpy_magnetogan.products import is_display_image
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> aia = sunpy.map.Map(SAMPLE_AIA304)
    >>> is_display_image(aia), is_display_image(sunpy.map.Map(aia.data.astype(np.uint8), aia.meta))
    (False, True)
    """
    return np.asarray(smap.data).dtype.itemsize == 1


def _level(meta):
    for key in ("lvl_num", "level"):
        value = meta.get(key)
        if value in (None, ""):
            continue
        try:
            return float(value)
        except (TypeError, ValueError):
            log.debug("header key %s=%r is not a level", key, value)
    return None


def _per_second(unit):
    return unit is not None and any(unit.is_equivalent(base / u.s) for base in (u.DN, u.ct, u.ph))


def identify_euv_product(smap):
    """
    Name the product an EUV map comes from, refusing those that cannot be read right.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        An EUV image (the instrument and wavelength are checked elsewhere:
        `~sunpy_magnetogan.validation.validate_euv_map`).

    Returns
    -------
    InputProduct

    Raises
    ------
    UnsupportedProductError
        For an 8-bit display image that is not a Helioviewer product of known scaling
        (PNG/JPEG exports, altered files), a Helioviewer product whose scaling is unknown
        (see `~sunpy_magnetogan.helioviewer.helioviewer_scaling`), or an AIA level-0 image.

    Examples
    --------
    >>> import numpy as np
    >>> import sunpy.map
    >>> from sunpy_magnetogan.products import identify_euv_product
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> aia = sunpy.map.Map(SAMPLE_AIA304)
    >>> level1 = sunpy.map.Map(aia.data, {**aia.meta, "origin": "SDO/JSOC-SDP", "lvl_num": 1.0})
    >>> identify_euv_product(level1).kind
    'aia-l1'
    >>> identify_euv_product(sunpy.map.Map(aia.data.astype(np.uint8), aia.meta))
    Traceback (most recent call last):
    ...
    sunpy_magnetogan.exceptions.UnsupportedProductError: ...
    """
    instrument = euv_instrument(smap) or "OTHER"
    meta = smap.meta
    level = _level(meta)
    if is_helioviewer_product(smap):
        scaling = helioviewer_scaling(smap)
        return InputProduct(
            f"{instrument.lower()}-helioviewer-jp2",
            instrument,
            level,
            f"Helioviewer JPEG2000 ({scaling.hvs_file}, {scaling.transform} byte scale, clip "
            f"{scaling.data_min:g}..{scaling.data_max:g} {scaling.unit})",
        )
    if is_display_image(smap):
        raise UnsupportedProductError(
            f"the {instrument} map holds 8-bit display values ({np.asarray(smap.data).dtype}) without the "
            "HV_* keywords of a Helioviewer JPEG2000 file, so its scaling (clip, gamma, log) is unknown and "
            "it cannot be read as intensities; use the FITS file (level 1 or 1.5) of the same observation"
        )
    synthetic = str(meta.get("origin", "")).strip() == SYNTHETIC_ORIGIN
    if synthetic:
        return InputProduct(
            f"synthetic-{instrument.lower()}", instrument, level, "sunpy-magnetogan synthetic Sun"
        )
    if instrument == "AIA":
        if level is not None and level < 1:
            raise UnsupportedProductError(
                f"the AIA map is level {level:g}: level-0 images are not flat-fielded, despiked or "
                "corrected for bad pixels; use level 1 (JSOC aia.lev1) or level 1.5"
            )
        if level is not None and level >= 1.5:
            return InputProduct("aia-l1.5", "AIA", level, f"AIA level {level:g} ({smap.unit or 'no BUNIT'})")
        if level is None:
            log.info("the AIA map has no LVL_NUM; it is taken to be level 1")
        return InputProduct("aia-l1", "AIA", level, f"AIA level {'1' if level is None else f'{level:g}'}")
    if instrument == "EUVI":
        if _per_second(smap.unit):
            return InputProduct("euvi-l1", "EUVI", level, f"SECCHI EUVI level 1 ({smap.unit})")
        return InputProduct("euvi-l0.5", "EUVI", level, f"SECCHI EUVI level 0.5 ({smap.unit or 'DN'})")
    return InputProduct("other", "OTHER", level, f"{smap.instrument or 'unknown instrument'} (opted in)")


def _disk_pixels(smap):
    """Approximate number of on-disk pixels of a map (from RSUN_OBS and the plate scale)."""
    try:
        radius = (smap.rsun_obs / np.abs(smap.scale.axis1)).to_value(u.pix)
    except (AttributeError, TypeError, ValueError, u.UnitsError):
        return max(1.0, float(np.asarray(smap.data).size))
    size = float(np.asarray(smap.data).size)
    return float(max(1.0, min(np.pi * radius**2, size))) if np.isfinite(radius) else max(1.0, size)


def saturated_fraction(smap, product):
    """
    Fraction of the solar disk that is saturated or clipped.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        The input map as read (before any calibration).
    product : InputProduct
        Its product (`identify_euv_product`).

    Returns
    -------
    fraction : float or None
        Saturated (or clipped) pixels over the number of on-disk pixels; None when the
        product cannot tell (synthetic images, other instruments, EUVI images not at the
        detector's 2048 px).
    what : str
        What was counted.

    Examples
    --------
    >>> import numpy as np
    >>> import sunpy.map
    >>> from sunpy_magnetogan.products import identify_euv_product, saturated_fraction
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> aia = sunpy.map.Map(SAMPLE_AIA304)
    >>> level1 = sunpy.map.Map(aia.data, {**aia.meta, "origin": "SDO/JSOC-SDP", "lvl_num": 1.0})
    >>> fraction, what = saturated_fraction(level1, identify_euv_product(level1))
    >>> fraction, what
    (0.0, 'pixels at or above 15000 DN')
    """
    data = np.asarray(smap.data)
    disk = _disk_pixels(smap)
    if product.kind.endswith("helioviewer-jp2"):
        return float(np.count_nonzero(data == 255)) / disk, "pixels at the top of the byte scale (clipped)"
    if product.kind.startswith(("aia-", "euvi-")):
        if product.instrument == "EUVI":
            summed = float(smap.meta.get("summed", 1) or 1)
            if summed != 1 or data.shape[-1] != 2048:
                return None, "not checked (EUVI image summed or rebinned from its 2048 px detector)"
        scale = 1.0
        if _per_second(smap.unit):
            exposure = smap.exposure_time
            if exposure is None or not exposure.to_value(u.s) > 0:
                return None, "not checked (DN/s without an exposure time)"
            scale = float(exposure.to_value(u.s))
        with np.errstate(invalid="ignore"):  # one boolean temporary, no scaled copy of the image
            count = np.count_nonzero(data >= AIA_SATURATION_DN / scale)
        return float(count) / disk, f"pixels at or above {AIA_SATURATION_DN:g} DN"
    return None, "not checked"


def magnetogram_to_hmi_scale(smap):
    """
    Put a line-of-sight magnetogram on the HMI scale, refusing display products.

    HMI and synthetic HMI-like maps pass through. SOHO/MDI maps are divided by
    `MDI_TO_HMI`. Helioviewer HMI JPEG2000 files are put back in Gauss
    (`~sunpy_magnetogan.helioviewer.linearize_helioviewer`), but their +-250 G clip makes
    them useless for flux: they are refused. Other 8-bit images are refused.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        A magnetogram.

    Returns
    -------
    smap : `~sunpy.map.GenericMap`
        The map on the HMI scale (the input itself when nothing was changed).
    step : str
        What was done, for reports.

    Raises
    ------
    UnsupportedProductError
        For display images.

    Examples
    --------
    >>> import numpy as np
    >>> import sunpy.map
    >>> from sunpy_magnetogan.products import magnetogram_to_hmi_scale
    >>> from sunpy_magnetogan.sample import SAMPLE_HMI
    >>> hmi = sunpy.map.Map(SAMPLE_HMI)
    >>> mdi = sunpy.map.Map(1.4 * hmi.data, {**hmi.meta, "instrume": "MDI", "telescop": "SOHO"})
    >>> scaled, step = magnetogram_to_hmi_scale(mdi)
    >>> bool(np.nanmax(np.abs(scaled.data - hmi.data)) < 1e-3), step
    (True, 'MDI divided by 1.4 (Liu et al. 2012) to the HMI scale')
    """
    if is_helioviewer_product(smap) or is_display_image(smap):
        raise UnsupportedProductError(
            f"the {smap.instrument or ''} magnetogram is an 8-bit display image (Helioviewer HMI files clip "
            "the field at +-250 G, jp2gen sdo/hmi/hvs_default_hmi.pro): its fluxes would be wrong; use the "
            "FITS magnetogram (e.g. hmi.M_720s)"
        )
    instrument = " ".join(str(x or "") for x in (smap.instrument, smap.detector)).upper()
    if "MDI" in instrument:
        meta = smap.meta.copy()
        meta["history"] = (
            f"{meta.get('history', '')}\nsunpy-magnetogan: MDI field divided by {MDI_TO_HMI:g} to the HMI scale"
        ).strip()
        meta["mdi2hmi"] = MDI_TO_HMI
        data = np.asarray(smap.data, dtype=np.float32) / np.float32(MDI_TO_HMI)
        return sunpy.map.Map(data, meta), f"MDI divided by {MDI_TO_HMI:g} (Liu et al. 2012) to the HMI scale"
    return smap, "none (HMI scale)"

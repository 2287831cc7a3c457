"""
Checks that an input map can be used, with errors that say what is wrong.

The model was trained on SDO/AIA and STEREO/SECCHI EUVI images at 304 A; Solar Orbiter
EUI Full Sun Imager (FSI) 304 A images are accepted as well; anything else is
refused with a specific exception unless the caller explicitly opts in. Maps that cannot be
placed on the Sun (no observer, no date, no helioprojective WCS) are refused outright.
"""

import logging
import warnings
from pathlib import Path

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.coordinates import SkyCoord
from sunpy.time import parse_time

from sunpy_magnetogan.exceptions import (
    CorruptFileError,
    ImpossibleGeometryError,
    InvalidDataError,
    InvalidUnitError,
    MissingMetadataError,
    UncalibratedInputWarning,
    UnsupportedInputWarning,
    UnsupportedInstrumentError,
    UnsupportedWavelengthError,
    warn_user,
)

__all__ = [
    "EUV_UNITS",
    "EUV_WAVELENGTH",
    "WAVELENGTH_TOLERANCE",
    "euv_instrument",
    "read_map",
    "validate_euv_map",
    "validate_magnetogram_map",
]

log = logging.getLogger(__name__)

#: The EUV passband the models are trained on.
EUV_WAVELENGTH = 304 * u.AA
#: How far a header's wavelength may be from `EUV_WAVELENGTH` and still count as 304 A.
WAVELENGTH_TOLERANCE = 2 * u.AA

#: The units an EUV intensity image may carry (``BUNIT``): counts of these, optionally per
#: second and per pixel (``DN``, ``DN/s``, ``ct s-1 pix-1``, ...), or dimensionless.
EUV_UNITS = (u.DN, u.ct, u.ph, u.electron)

#: Header keywords that must be numbers when present.
_NUMERIC_KEYS = (
    "cdelt1", "cdelt2", "crpix1", "crpix2", "crval1", "crval2", "crota", "crota1", "crota2",
    "pc1_1", "pc1_2", "pc2_1", "pc2_2", "cd1_1", "cd1_2", "cd2_1", "cd2_2", "exptime",
    "dsun_obs", "hgln_obs", "hglt_obs", "crln_obs", "crlt_obs", "rsun_ref", "rsun_obs",
    "wavelnth", "lvl_num", "summed", "naxis1", "naxis2",
)  # fmt: skip
#: Header keywords that must be text when present.
_TEXT_KEYS = (
    "instrume", "telescop", "detector", "obsrvtry", "ctype1", "ctype2", "cunit1", "cunit2",
    "bunit", "waveunit", "date-obs", "date_obs", "t_obs", "origin",
)  # fmt: skip

_DATE_KEYS = ("date-obs", "date_obs", "date-avg", "date-beg", "date-end", "t_obs")


def read_map(path):
    """
    Read a FITS or JPEG2000 file into a `~sunpy.map.GenericMap`, with clear errors.

    Parameters
    ----------
    path : str or os.PathLike
        The file.

    Returns
    -------
    `~sunpy.map.GenericMap`

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    CorruptFileError
        If the file cannot be read as a single solar image (truncated, not FITS/JP2, ...).

    Examples
    --------
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> from sunpy_magnetogan.validation import read_map
    >>> read_map(SAMPLE_AIA304).detector
    'AIA'
    >>> read_map(tmp_path / "missing.fits")
    Traceback (most recent call last):
    ...
    FileNotFoundError: ...
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            smap = sunpy.map.Map(path)
    except Exception as exc:
        raise CorruptFileError(f"could not read {path.name} as a solar image: {exc}") from exc
    for warning in caught:
        if "truncated" in str(warning.message).lower():
            raise CorruptFileError(f"{path.name} is truncated: {warning.message}")
        # Anything else (e.g. sunpy metadata notes) is passed on unchanged.
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    if isinstance(smap, list) or isinstance(smap, sunpy.map.MapSequence):
        raise CorruptFileError(f"{path.name} holds {len(smap)} images; pass one image per file")
    try:
        # Force the (possibly lazy) data to be read so truncation shows here, not later.
        np.asarray(smap.data[-1:, -1:])
    except Exception as exc:
        raise CorruptFileError(f"the data of {path.name} could not be read: {exc}") from exc
    return smap


def _check_is_map(smap):
    if not isinstance(smap, sunpy.map.GenericMap):
        raise TypeError(
            f"expected a sunpy.map.GenericMap (e.g. from sunpy.map.Map(file)), got {type(smap).__name__}"
        )
    _check_header_types(smap.meta)


def _check_header_types(meta):
    """Keywords of the wrong type (CDELT1 = '', INSTRUME = 12) are refused before anything reads them."""
    for key in _NUMERIC_KEYS:
        value = meta.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float | np.number)):
            raise MissingMetadataError(
                f"header keyword {key.upper()} = {value!r} ({type(value).__name__}) is not a number: the "
                "map's metadata is damaged"
            )
    for key in _TEXT_KEYS:
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            raise MissingMetadataError(
                f"header keyword {key.upper()} = {value!r} ({type(value).__name__}) is not text: the map's "
                "metadata is damaged"
            )


def euv_instrument(smap):
    """
    Which supported EUV instrument a map comes from.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`

    Returns
    -------
    str or None
        ``"AIA"``, ``"EUVI"``, ``"FSI"`` (Solar Orbiter EUI Full Sun Imager) or None when
        the map is from none of them.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> from sunpy_magnetogan.validation import euv_instrument
    >>> euv_instrument(sunpy.map.Map(SAMPLE_AIA304)), euv_instrument(sunpy.map.Map(SAMPLE_HMI))
    ('AIA', None)
    """
    instrument = str(smap.instrument or "").upper()
    detector = str(smap.detector or "").upper()
    if isinstance(smap, sunpy.map.sources.AIAMap) or instrument.startswith("AIA"):
        return "AIA"
    if isinstance(smap, sunpy.map.sources.EUVIMap) or detector == "EUVI":
        return "EUVI"
    if instrument.startswith("EUI") and detector == "FSI":
        return "FSI"
    return None


def _has_date(meta):
    for key in _DATE_KEYS:
        value = meta.get(key)
        if not value:
            continue
        try:
            parse_time(value)
        except (ValueError, TypeError):
            log.debug("header key %s=%r is not a date", key, value)
            continue
        return True
    return False


#: The header keys that place a map's observer in every sunpy map source (GenericMap's).
_GENERIC_OBSERVER_KEYS = (("hgln_obs", "hglt_obs", "dsun_obs"), ("crln_obs", "crlt_obs", "dsun_obs"))


def _has_observer_keys(smap):
    """Whether the header holds one of the key sets that place the map's observer."""
    # sunpy has no public API for this: its map sources add their own key sets (SDO's
    # HAEX/Y/Z_OBS, SOHO's HEC_X/Y/Z...), and `observer_coordinate` itself falls back to an
    # Earth observer (with a warning, cached per header), which is what must be refused
    # here. So the per-source key sets are read from sunpy's (private)
    # ``_supported_observer_coordinates``, the one place sunpy keeps them, with GenericMap's
    # documented key sets as the fallback should a sunpy release drop it.
    supported = getattr(smap, "_supported_observer_coordinates", None)
    key_sets = [keys for keys, _ in supported] if supported is not None else _GENERIC_OBSERVER_KEYS
    return any(set(keys) <= set(smap.meta.keys()) for keys in key_sets)


def _check_geometry_metadata(smap):
    """Observer, date and a usable helioprojective WCS."""
    meta = smap.meta
    name = f"the {smap.observatory or ''} {smap.instrument or 'unknown instrument'} map".replace("  ", " ")
    if smap.data.ndim != 2:
        raise InvalidDataError(f"{name} has {smap.data.ndim}-D data; a single 2-D image is needed")
    if min(smap.data.shape) < 2:
        raise InvalidDataError(f"{name} has {smap.data.shape[1]} x {smap.data.shape[0]} pixels: not an image")
    if not _has_date(meta):
        raise MissingMetadataError(
            f"{name} has no observation date (none of the header keys {', '.join(_DATE_KEYS)}); "
            "the date is needed to place the image on the Sun"
        )
    if not _has_observer_keys(smap):
        raise MissingMetadataError(
            f"{name} has no observer location (header keys hgln_obs/hglt_obs/dsun_obs or "
            "crln_obs/crlt_obs/dsun_obs); refusing to assume an observer at Earth"
        )
    ctype = tuple(str(c).upper() for c in smap.coordinate_system)
    if not (ctype[0].startswith("HPLN") and ctype[1].startswith("HPLT")):
        raise MissingMetadataError(
            f"{name} has no helioprojective WCS (CTYPE1/2 = {ctype[0]!r}/{ctype[1]!r}, expected HPLN-TAN/HPLT-TAN)"
        )
    scale = u.Quantity([smap.scale.axis1, smap.scale.axis2])
    if not np.all(np.isfinite(scale.value)) or np.any(scale.value == 0):
        raise MissingMetadataError(f"{name} has an unusable plate scale (CDELT1/2 = {scale})")
    rotation = smap.rotation_matrix
    if not np.all(np.isfinite(rotation)) or abs(np.linalg.det(rotation)) < 1e-6:
        raise MissingMetadataError(
            f"{name} has an unusable rotation matrix (PCi_j/CROTA2): {rotation.tolist()}"
        )
    try:
        observer = smap.observer_coordinate.transform_to("heliographic_stonyhurst")
    except Exception as exc:
        raise MissingMetadataError(f"the observer location of {name} is not usable: {exc}") from exc
    _check_possible_geometry(smap, observer, name)


def _check_possible_geometry(smap, observer, name):
    """The observer outside the Sun and the solar disk at least partly inside the image."""
    distance = observer.radius.to(u.m)
    rsun = smap.rsun_meters.to(u.m)
    if not np.isfinite(distance.value) or distance <= rsun * (1 + 1e-6):
        where = "inside" if distance < rsun * (1 - 1e-6) else "on"
        raise ImpossibleGeometryError(
            f"the observer of {name} is {distance.to(u.km):.6g} from the centre of the Sun (DSUN_OBS), "
            f"{where} the Sun (radius {rsun.to(u.km):.6g}, RSUN_REF): the header's observer distance is wrong"
        )
    radius_angle = np.arcsin((rsun / distance).decompose().value) * u.rad
    try:
        x, y = smap.wcs.world_to_pixel(SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=smap.coordinate_frame))
    except Exception as exc:
        raise MissingMetadataError(
            f"the WCS of {name} cannot place the Sun centre on the image: {exc}"
        ) from exc
    scale = np.mean(np.abs(u.Quantity([smap.scale.axis1, smap.scale.axis2]).to_value(u.arcsec / u.pix)))
    radius_px = radius_angle.to_value(u.arcsec) / scale
    ny, nx = smap.data.shape
    # Distance from the disk centre to the nearest point of the image rectangle.
    dx = max(-0.5 - float(x), 0.0, float(x) - (nx - 0.5))
    dy = max(-0.5 - float(y), 0.0, float(y) - (ny - 0.5))
    if not (np.isfinite(x) and np.isfinite(y)) or np.hypot(dx, dy) >= radius_px:
        raise ImpossibleGeometryError(
            f"the solar disk of {name} (centre at pixel ({float(x):.1f}, {float(y):.1f}), radius "
            f"{radius_px:.1f} px) lies entirely outside its {nx} x {ny} px image: check CRPIX1/2, CRVAL1/2 "
            "and CDELT1/2"
        )


def _check_euv_unit(smap, instrument):
    """The unit must be a count (rate) an EUV imager delivers; no BUNIT is accepted."""
    text = str(smap.meta.get("bunit", "") or "").strip()
    if not text:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        unit = smap.unit
    expected = "counts (DN, ct, ph or electrons), optionally per second and per pixel"
    if unit is None:
        raise InvalidUnitError(
            f"the {instrument} map's unit BUNIT = {text!r} cannot be parsed; an EUV image carries {expected}"
        )
    per = [u.one, u.s, u.S]  # 'DN/S' parses as DN per siemens
    ok = unit.physical_type == "dimensionless" or any(
        (unit * t * u.pix**p).is_equivalent(base) for base in EUV_UNITS for t in per for p in (0, 1, 2)
    )
    if not ok:
        kind = unit.physical_type
        raise InvalidUnitError(
            f"the {instrument} map's unit is BUNIT = {text!r} ({kind}), not an EUV intensity: an "
            f"{instrument} image carries {expected}; is this the right file?"
        )


def validate_euv_map(smap, *, allow_other_instruments=False, allow_other_wavelengths=False):
    """
    Check that a map is an EUV 304 A image from AIA, EUVI or EUI/FSI that can be placed on the Sun.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        The input map.
    allow_other_instruments : bool, optional
        Accept maps from other instruments (with an `UnsupportedInputWarning`).
    allow_other_wavelengths : bool, optional
        Accept wavelengths other than 304 A (with an `UnsupportedInputWarning`).

    Returns
    -------
    str
        ``"AIA"``, ``"EUVI"``, ``"FSI"``, or ``"OTHER"`` when another instrument was allowed.

    Raises
    ------
    TypeError
        If ``smap`` is not a sunpy map.
    UnsupportedInstrumentError, UnsupportedWavelengthError
        For another instrument or wavelength, unless allowed.
    MissingMetadataError
        If the observer, the date or a helioprojective WCS is missing.
    InvalidUnitError
        If ``BUNIT`` is set but is not a count or count rate (`EUV_UNITS`, per second and
        per pixel allowed) nor dimensionless, or cannot be parsed.
    ImpossibleGeometryError
        If the observer is inside or on the Sun, or the solar disk lies entirely outside the image.
    InvalidDataError
        If the data are not a 2-D image.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> from sunpy_magnetogan.validation import validate_euv_map
    >>> validate_euv_map(sunpy.map.Map(SAMPLE_AIA304))
    'AIA'
    >>> validate_euv_map(sunpy.map.Map(SAMPLE_HMI))
    Traceback (most recent call last):
    ...
    sunpy_magnetogan.exceptions.UnsupportedInstrumentError: ...
    """
    _check_is_map(smap)
    instrument = euv_instrument(smap)
    if instrument is None:
        described = " ".join(str(x) for x in (smap.observatory, smap.instrument, smap.detector) if x)
        if not allow_other_instruments:
            raise UnsupportedInstrumentError(
                f"the map comes from {described or 'an unknown instrument'}; the model accepts SDO/AIA, "
                "STEREO/SECCHI EUVI or Solar Orbiter EUI/FSI 304 A images (pass allow_other_instruments=True to try it anyway)"
            )
        warn_user(
            f"using a map from {described or 'an unknown instrument'}: the model was trained on AIA 304 A",
            UnsupportedInputWarning,
        )
        instrument = "OTHER"
    wavelength = smap.wavelength
    if wavelength is not None and not wavelength.unit.is_equivalent(u.AA, equivalencies=u.spectral()):
        raise MissingMetadataError(
            f"the {smap.instrument or 'input'} map's wavelength is {wavelength:g} (WAVELNTH = "
            f"{smap.meta.get('wavelnth')!r}, WAVEUNIT = {smap.meta.get('waveunit')!r}), not a wavelength"
        )
    if wavelength is None or not np.isclose(
        wavelength.to_value(u.AA, equivalencies=u.spectral()),
        EUV_WAVELENGTH.to_value(u.AA),
        atol=WAVELENGTH_TOLERANCE.to_value(u.AA),
    ):
        shown = "no wavelength in its header" if wavelength is None else f"wavelength {wavelength:g}"
        if not allow_other_wavelengths:
            raise UnsupportedWavelengthError(
                f"the {smap.instrument or 'input'} map has {shown}; the model needs 304 A images "
                "(pass allow_other_wavelengths=True to try it anyway)"
            )
        warn_user(f"using a map with {shown}: the model was trained on 304 A images", UnsupportedInputWarning)
    _check_euv_unit(smap, instrument)
    _check_geometry_metadata(smap)
    return instrument


def validate_magnetogram_map(smap):
    """
    Check that a map is a line-of-sight magnetogram that can be placed on the Sun.

    Any instrument is accepted (HMI, MDI, GONG, Solar Orbiter PHI, synthetic or generated
    maps) as long as the data are a magnetic field strength: the map's unit must convert to
    Gauss. A PHI magnetogram not yet put on the HMI scale (no ``PHI2HMI`` keyword, see
    `~sunpy_magnetogan.data.solo.phi_to_hmi`) is used with an
    `~sunpy_magnetogan.exceptions.UncalibratedInputWarning`.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        The magnetogram.

    Returns
    -------
    `~astropy.units.Quantity`
        Factor converting the map's data to Gauss (1 G for data in Gauss).

    Raises
    ------
    TypeError
        If ``smap`` is not a sunpy map.
    MissingMetadataError
        If the unit is missing or not a magnetic field, or the observer/date/WCS is missing.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import SAMPLE_HMI
    >>> from sunpy_magnetogan.validation import validate_magnetogram_map
    >>> validate_magnetogram_map(sunpy.map.Map(SAMPLE_HMI))
    <Quantity 1. G>
    """
    _check_is_map(smap)
    unit = smap.unit
    if unit is None:
        raise MissingMetadataError(
            f"the {smap.instrument or ''} map has no unit (BUNIT); a magnetogram in Gauss (or Tesla) is needed"
        )
    if not unit.is_equivalent(u.G):
        raise MissingMetadataError(
            f"the {smap.instrument or ''} map has unit {unit}, which is not a magnetic field; "
            "a line-of-sight magnetogram in Gauss is needed"
        )
    _check_geometry_metadata(smap)
    if str(smap.meta.get("instrume", "")).strip().upper() == "PHI" and "phi2hmi" not in smap.meta:
        warn_user(
            "the map is a Solar Orbiter PHI magnetogram not put on the HMI scale, which the metrics, "
            "thresholds and models assume; use sunpy_magnetogan.data.solo.phi_to_hmi(smap, factor=..., "
            "reference=...) with a PHI-HMI factor from the literature",
            UncalibratedInputWarning,
        )
    return (1 * unit).to(u.G)

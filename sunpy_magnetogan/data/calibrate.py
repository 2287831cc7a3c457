"""
Instrument calibration of the real observations.

* `prep_aia_map`: AIA level 1 -> 1.5 with `aiapy` (pointing update, registration,
  exposure normalisation, degradation correction). Steps that need calibration tables
  from the JSOC/SSW (pointing, degradation) run only when the tables are given
  (`CalibrationTables.fetch` downloads them); maps already at level 1.5 are not
  registered again; byte-scaled display products (Helioviewer JPEG2000) are not
  exposure-normalised. Every step says whether it ran, and why not.
* `calibrate_euvi_map`: the parts of SECCHI ``euvi_correction`` that need no SSW
  calibration files: missing telemetry blocks masked, CCD bias subtracted, exposure
  normalised to DN/s.

The data-quality rejection (`assess_quality`, `check_quality`, `QualityPolicy`, the
``QUALITY`` bit tables) lives in `sunpy_magnetogan.data.quality`; its names stay importable
from here.

HMI magnetograms need no calibration step here: rotation to solar north up (level-1 HMI
has ``CROTA2`` near 180 degrees) is done exactly, in the same single interpolation as the
rescaling, when `~sunpy_magnetogan.preprocess.prepare_magnetogram_map` puts the map on
the model grid.
"""

import logging
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np

from sunpy_magnetogan.data.quality import (
    AIA_QUALITY_BITS,
    AIA_REJECT_BITS,
    HMI_QUALITY_BITS,
    HMI_REJECT_BITS,
    QualityPolicy,
    QualityReport,
    assess_quality,
    check_quality,
    euvi_missing_blocks,
)
from sunpy_magnetogan.exceptions import DataFetchError, InvalidDataError
from sunpy_magnetogan.helioviewer import is_helioviewer_product
from sunpy_magnetogan.products import is_display_image
from sunpy_magnetogan.validation import euv_instrument

__all__ = [
    "AIA_QUALITY_BITS",
    "AIA_REJECT_BITS",
    "HMI_QUALITY_BITS",
    "HMI_REJECT_BITS",
    "CalibrationResult",
    "CalibrationTables",
    "QualityPolicy",
    "QualityReport",
    "assess_quality",
    "calibrate_euvi_map",
    "check_quality",
    "is_display_product",
    "prep_aia_map",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CalibrationTables:
    """
    The AIA calibration tables that come from the JSOC or SSW (not needed offline).

    Parameters
    ----------
    pointing : `~astropy.table.QTable`, optional
        Master pointing table (`aiapy.calibrate.util.get_pointing_table`).
    correction : `~astropy.table.QTable`, optional
        Degradation correction table (`aiapy.calibrate.util.get_correction_table`).

    Examples
    --------
    >>> from sunpy_magnetogan.data import CalibrationTables
    >>> tables = CalibrationTables()  # offline: no pointing or degradation table
    >>> tables.pointing is None, tables.correction is None
    (True, True)
    >>> tables = CalibrationTables.fetch()  # doctest: +SKIP
    """

    pointing: object = None
    correction: object = None

    @classmethod
    def fetch(cls, start, end, *, pointing_source="jsoc", correction_source="jsoc"):
        """
        Download the tables for a time range (needs the network and `aiapy`).

        Parameters
        ----------
        start, end : `~astropy.time.Time` or str
            The range the pointing table must cover.
        pointing_source : {"jsoc", "lmsal"} or None, optional
            Where the pointing table comes from (None: no pointing table).
        correction_source : {"jsoc", "ssw"} or path or None, optional
            Where the degradation table comes from (None: no degradation table).

        Returns
        -------
        CalibrationTables

        Raises
        ------
        DataFetchError
            If a table cannot be downloaded.
        """
        from astropy.time import Time

        try:
            from aiapy.calibrate.util import get_correction_table, get_pointing_table
        except ImportError as exc:
            raise DataFetchError("fetching AIA calibration tables needs aiapy (pip install aiapy)") from exc
        pointing = correction = None
        try:
            if pointing_source:
                time_range = (Time(start) - 6 * u.h, Time(end) + 6 * u.h)
                pointing = get_pointing_table(pointing_source, time_range=time_range)
            if correction_source:
                correction = get_correction_table(correction_source)
        except Exception as exc:
            raise DataFetchError(f"could not download the AIA calibration tables: {exc}") from exc
        return cls(pointing=pointing, correction=correction)


@dataclass(frozen=True)
class CalibrationResult:
    """
    A calibrated map and what was done to it.

    Attributes
    ----------
    map : `~sunpy.map.GenericMap`
        The calibrated map.
    steps : dict
        ``{step: "done..." or "skipped: reason"}``, in the order the steps were taken.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> aia, hmi = sunpy.map.Map(SAMPLE_AIA304), sunpy.map.Map(SAMPLE_HMI)
    >>> from sunpy_magnetogan.data import prep_aia_map
    >>> result = prep_aia_map(aia)  # offline: steps that need JSOC tables are skipped, and say so
    >>> result.map.unit, result.steps["exposure"]
    (Unit("DN / s"), 'done (EXPTIME 2.9 s)')
    """

    map: object
    steps: dict = field(default_factory=dict)

    def describe(self):
        """The steps as one line of text (for manifests and headers)."""
        return "; ".join(f"{k}: {v}" for k, v in self.steps.items())


def is_display_product(smap):
    """
    Whether a map holds byte-scaled display values rather than detector counts.

    Helioviewer JPEG2000 files (``HV_*`` keywords) not yet put back on a linear scale
    (`~sunpy_magnetogan.helioviewer.linearize_helioviewer`), and any other 8-bit image;
    exposure normalisation and degradation correction do not apply to them.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`

    Returns
    -------
    bool
    """
    return is_display_image(smap) or is_helioviewer_product(smap)


def _history(meta, text):
    previous = meta.get("history", "")
    meta["history"] = f"{previous}\n{text}".strip() if previous else text


def _per_second(unit):
    """Whether a unit is already a rate (DN/s, ct/s, photon/s)."""
    return unit is not None and any(unit.is_equivalent(base / u.s) for base in (u.DN, u.ct, u.ph))


def _normalize_exposure(smap, steps):
    exposure = smap.exposure_time
    if exposure is None or not 0 < exposure.to_value(u.s) < np.inf:
        raise InvalidDataError(
            f"the {smap.instrument} map of {smap.date.isot} has no usable exposure time "
            f"(EXPTIME = {smap.meta.get('exptime')!r}); cannot normalise it to DN/s"
        )
    seconds = float(exposure.to_value(u.s))
    data = np.array(smap.data, dtype=np.float32)  # one float32 copy, divided in place
    data /= np.float32(seconds)
    meta = smap.meta.copy()
    meta["exptime"] = 1.0
    meta["bunit"] = "DN/s"
    _history(meta, f"sunpy-magnetogan: exposure normalised to DN/s (EXPTIME was {seconds:g} s)")
    steps["exposure"] = f"done (EXPTIME {seconds:g} s)"
    return smap._new_instance(data, meta, plot_settings=smap.plot_settings)


def prep_aia_map(smap, *, tables=None, register=True, normalize_exposure=True, correct_degradation=True):
    """
    Calibrate an AIA image from level 1 to level 1.5 with `aiapy`, as far as possible offline.

    Steps, in aiapy's order: pointing update (`aiapy.calibrate.update_pointing`, needs
    ``tables.pointing`` and a full-resolution level-1 image), registration
    (`aiapy.calibrate.register`: north up, 0.6 arcsec pixels, Sun centred; only for
    level < 1.5), exposure normalisation to DN/s, degradation correction
    (`aiapy.calibrate.correct_degradation`, needs ``tables.correction``). A step that
    cannot run is skipped and the reason recorded; the model-grid resampling of
    `~sunpy_magnetogan.preprocess.prepare_euv_map` handles any roll, scale and centre
    exactly, so a skipped registration changes the prepared array only by one
    interpolation less.

    Parameters
    ----------
    smap : `~sunpy.map.sources.AIAMap`
        An AIA image (level 1 from the JSOC, or level 1.5 / a Helioviewer JPEG2000).
    tables : CalibrationTables, optional
        Pointing and degradation tables; without them those steps are skipped.
    register : bool, optional
        Register level-1 images with `aiapy.calibrate.register` (about 3 s per 4096 px image).
    normalize_exposure : bool, optional
        Divide by the exposure time (not for byte-scaled display products).
    correct_degradation : bool, optional
        Apply the degradation correction when the table is available.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    TypeError
        If the map is not an AIA map.
    InvalidDataError
        If exposure normalisation is asked for and the exposure time is unusable.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> aia, hmi = sunpy.map.Map(SAMPLE_AIA304), sunpy.map.Map(SAMPLE_HMI)
    >>> from sunpy_magnetogan.data import prep_aia_map
    >>> result = prep_aia_map(aia)
    >>> result.steps["degradation"]
    'skipped: no degradation correction table (offline; see CalibrationTables.fetch)'
    """
    if euv_instrument(smap) != "AIA":
        raise TypeError(
            f"prep_aia_map needs an SDO/AIA map, got {type(smap).__name__} from {smap.instrument!r}"
        )
    steps = {}
    level = smap.processing_level
    level = None if level is None else float(level)
    display = is_display_product(smap)
    try:
        import aiapy.calibrate as aiacal
    except ImportError:
        aiacal = None

    full_res = smap.data.shape == (4096, 4096)
    if level is not None and level >= 1.5:
        steps["update_pointing"] = f"skipped: already level {level:g}"
    elif tables is None or tables.pointing is None:
        steps["update_pointing"] = "skipped: no pointing table (offline; see CalibrationTables.fetch)"
    elif aiacal is None:
        steps["update_pointing"] = "skipped: aiapy is not installed"
    elif not full_res:
        steps["update_pointing"] = f"skipped: not a full-resolution 4096 x 4096 image ({smap.data.shape})"
    else:
        try:
            smap = aiacal.update_pointing(smap, pointing_table=tables.pointing)
            steps["update_pointing"] = "done"
        except (IndexError, ValueError, KeyError) as exc:
            steps["update_pointing"] = f"skipped: {exc}"
            log.warning("AIA pointing update skipped for %s: %s", smap.date.isot, exc)

    if level is not None and level >= 1.5:
        steps["register"] = f"skipped: already level {level:g}"
    elif not register:
        steps["register"] = "skipped: disabled (the model-grid resampling corrects roll, scale and centre)"
    elif aiacal is None:
        steps["register"] = (
            "skipped: aiapy is not installed (the model-grid resampling corrects roll, scale and centre)"
        )
    else:
        smap = aiacal.register(smap)
        steps["register"] = "done"

    if display:
        steps["exposure"] = "skipped: byte-scaled display product (JPEG2000), not DN"
    elif not normalize_exposure:
        steps["exposure"] = "skipped: disabled"
    elif smap.unit is not None and _per_second(smap.unit):
        steps["exposure"] = f"skipped: already in {smap.unit}"
    else:
        smap = _normalize_exposure(smap, steps)

    if display:
        steps["degradation"] = "skipped: byte-scaled display product (JPEG2000), not DN"
    elif not correct_degradation:
        steps["degradation"] = "skipped: disabled"
    elif tables is None or tables.correction is None:
        steps["degradation"] = (
            "skipped: no degradation correction table (offline; see CalibrationTables.fetch)"
        )
    elif aiacal is None:
        steps["degradation"] = "skipped: aiapy is not installed"
    else:
        try:
            factor = aiacal.degradation(smap.wavelength, smap.date, correction_table=tables.correction)
            smap = aiacal.correct_degradation(smap, correction_table=tables.correction)
            steps["degradation"] = f"done (factor {float(np.squeeze(factor)):.4f})"
        except ValueError as exc:
            steps["degradation"] = f"skipped: {exc}"
            log.warning("AIA degradation correction skipped for %s: %s", smap.date.isot, exc)
    log.debug("AIA prep of %s: %s", smap.date.isot, steps)
    return CalibrationResult(smap, steps)


def calibrate_euvi_map(smap, *, subtract_bias=True, normalize_exposure=True):
    """
    Calibrate a STEREO/SECCHI EUVI image to DN/s without SSW calibration files.

    Steps (from SECCHI ``euvi_correction``): pixels of missing telemetry blocks (zero in
    level-0.5 files, ``NMISSING > 0``) become NaN; the CCD bias ``BIASMEAN`` is
    subtracted unless it was subtracted on board (``OFFSETCR > 0``); the image is
    divided by the exposure time. The filter-position normalisation, the photometric
    DN-to-photon factor and the flat-field/vignetting image (``calimg``) need SSW files
    and are not applied: the first two are constant factors, absorbed by the scale of
    the EUVI-to-AIA intercalibration (`~sunpy_magnetogan.data.intercalibration`).

    Parameters
    ----------
    smap : `~sunpy.map.sources.EUVIMap`
        A level-0.5 (raw DN) or already calibrated EUVI image.
    subtract_bias, normalize_exposure : bool, optional
        Switch the steps off.

    Returns
    -------
    CalibrationResult

    Raises
    ------
    TypeError
        If the map is not an EUVI map.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.data import calibrate_euvi_map
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_euvi, stereo_observer
    >>> time = "2014-02-05T12:00"
    >>> euvi = observe_euvi(SyntheticSun(1003), time, stereo_observer(time, -120 * u.deg), npix=128)
    >>> result = calibrate_euvi_map(euvi)
    >>> result.map.unit, result.steps["exposure"]
    (Unit("DN / s"), 'done (EXPTIME 8 s)')
    """
    if euv_instrument(smap) != "EUVI":
        raise TypeError(f"calibrate_euvi_map needs a STEREO/EUVI map, got {type(smap).__name__}")
    steps = {}
    meta = smap.meta.copy()
    data = np.array(smap.data, dtype=np.float32)
    already = smap.unit is not None and _per_second(smap.unit)
    nmissing, missing = euvi_missing_blocks(smap)
    if missing is not None:
        data[missing] = np.nan
        steps["missing_blocks"] = f"done ({nmissing} blocks, {int(missing.sum())} pixels set to NaN)"
    else:
        steps["missing_blocks"] = "none (NMISSING = 0)"
    offsetcr = float(meta.get("offsetcr", 0) or 0)
    biasmean = meta.get("biasmean")
    if already:
        steps["bias"] = f"skipped: already calibrated ({smap.unit})"
    elif not subtract_bias:
        steps["bias"] = "skipped: disabled"
    elif offsetcr > 0:
        steps["bias"] = f"skipped: subtracted on board (OFFSETCR = {offsetcr:g})"
    elif biasmean in (None, ""):
        steps["bias"] = "skipped: no BIASMEAN keyword"
    else:
        bias = float(biasmean)
        data -= np.float32(bias)
        meta["offsetcr"] = bias
        _history(meta, f"sunpy-magnetogan: bias {bias:g} DN subtracted")
        steps["bias"] = f"done ({bias:g} DN)"
    new = smap._new_instance(data, meta, plot_settings=smap.plot_settings)
    if already:
        steps["exposure"] = f"skipped: already in {smap.unit}"
    elif not normalize_exposure:
        steps["exposure"] = "skipped: disabled"
    else:
        new = _normalize_exposure(new, steps)
    steps["flat_field_vignetting"] = "skipped: needs SSW calibration images (calimg)"
    return CalibrationResult(new, steps)

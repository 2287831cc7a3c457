"""
Instrument calibration of the real observations, and data-quality rejection.

* `prep_aia_map`: AIA level 1 -> 1.5 with `aiapy` (pointing update, registration,
  exposure normalisation, degradation correction). Steps that need calibration tables
  from the JSOC/SSW (pointing, degradation) run only when the tables are given
  (`CalibrationTables.fetch` downloads them); maps already at level 1.5 are not
  registered again; byte-scaled display products (Helioviewer JPEG2000) are not
  exposure-normalised. Every step says whether it ran, and why not.
* `calibrate_euvi_map`: the parts of SECCHI ``euvi_correction`` that need no SSW
  calibration files: missing telemetry blocks masked, CCD bias subtracted, exposure
  normalised to DN/s.
* `assess_quality` / `check_quality`: the ``QUALITY`` keyword decoded bit by bit for AIA
  (level 1) and HMI (observables, level 1.5), eclipses, non-science images and the
  missing-data fraction, against a configurable `QualityPolicy`.

HMI magnetograms need no calibration step here: rotation to solar north up (level-1 HMI
has ``CROTA2`` near 180 degrees) is done exactly, in the same single interpolation as the
rescaling, when `~sunpy_magnetogan.preprocess.prepare_magnetogram_map` puts the map on
the model grid.
"""

import logging
from dataclasses import dataclass, field

import astropy.units as u
import numpy as np

from sunpy_magnetogan.exceptions import DataFetchError, InvalidDataError, QualityRejectedError
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

#: Meaning of the bits of the ``QUALITY`` keyword of AIA level-1 images (bit number ->
#: text), from the SDO Data Analysis Guide (section 7.7.6) and the JSOC ``quallev1.h``.
AIA_QUALITY_BITS = {
    0: "flat field not available",
    1: "orbit data not available",
    2: "ancillary science data not available",
    3: "master pointing data not available",
    4: "limb-fit data not available",
    8: "MISSVALS > 0",
    9: "MISSVALS > 1% of TOTVALS",
    10: "MISSVALS > 5% of TOTVALS",
    11: "MISSVALS > 25% of TOTVALS",
    12: "spacecraft not in science pointing mode (ACS_MODE)",
    13: "spacecraft eclipse (ACS_ECLP)",
    14: "no sun presence (ACS_SUNP)",
    15: "spacecraft safe mode (ACS_SAFE)",
    16: "dark image (IMG_TYPE)",
    17: "image stabilisation loop open (AISTATE)",
    18: "calibration image",
    20: "focus out of range",
    21: "register flag set",
    30: "near-real-time (quicklook) image",
    31: "image not available",
}
#: AIA bits that reject an image by default. The missing-data bits 8-11 are replaced by
#: the finer `QualityPolicy.max_missing_fraction`; bit 4 does not apply to AIA; bit 30
#: (near-real-time data, e.g. Helioviewer products) is a processing stream, not a defect.
AIA_REJECT_BITS = (0, 1, 2, 3, 12, 13, 14, 15, 16, 17, 18, 20, 31)

#: Meaning of the bits of the ``QUALITY`` keyword of HMI observables (level 1.5,
#: e.g. ``hmi.M_720s``; bit value -> text), from the JSOC ``HMI_observables`` module.
HMI_QUALITY_BITS = {
    0x80000000: "no data: not all the filtergrams were produced",
    0x40000000: "target filtergram missing",
    0x20000000: "keywords (CROTA2, DSUN_OBS, CRLT_OBS) could not be interpolated",
    0x10000000: "no framelist information",
    0x08000000: "wrong cadence",
    0x04000000: "wrong target filtergram / framelist",
    0x02000000: "not enough level-1d filtergrams",
    0x01000000: "keywords of level-1d data missing",
    0x00800000: "wrong number of wavelengths",
    0x00400000: "keywords of level-1p data missing",
    0x00200000: "no look-up table record",
    0x00100000: "no look-up table keyword",
    0x00080000: "not enough interpolation points",
    0x00040000: "temporal interpolation failed",
    0x00020000: "not enough level-1p records",
    0x00010000: "fewer interpolation points than expected",
    0x00008000: "keywords extrapolated or nearest-neighbour",
    0x00004000: "image stabilisation loop open",
    0x00002000: "no temperature for polarisation calibration",
    0x00001000: "gap filling incomplete",
    0x00000800: "limb-fit issue",
    0x00000400: "cosmic-ray lists missing",
    0x00000200: "no polynomial-coefficient keywords",
    0x00000100: "eclipse during the observable sequence",
    0x00000080: "no polynomial-coefficient record",
    0x00000040: "large HFTSACID (extra noise)",
    0x00000020: "poor quality (eclipse, lunar transit, thermal recovery or open ISS loop)",
}
#: HMI bits that reject a magnetogram by default: every "observable not produced" bit,
#: eclipses, an open stabilisation loop and the explicit poor-quality bit. The others
#: mark observables made in sub-optimal but usable conditions.
HMI_REJECT_BITS = (
    0x80000000,
    0x40000000,
    0x20000000,
    0x10000000,
    0x08000000,
    0x04000000,
    0x02000000,
    0x01000000,
    0x00800000,
    0x00400000,
    0x00200000,
    0x00100000,
    0x00080000,
    0x00040000,
    0x00020000,
    0x00004000,
    0x00000200,
    0x00000100,
    0x00000080,
    0x00000020,
)


@dataclass(frozen=True)
class QualityPolicy:
    """
    What makes an observation unusable for training.

    Parameters
    ----------
    aia_reject_bits : tuple of int
        AIA ``QUALITY`` bit *numbers* that reject an image.
    hmi_reject_bits : tuple of int
        HMI ``QUALITY`` bit *values* that reject a magnetogram.
    max_missing_fraction : float
        Largest accepted fraction of missing pixels (header ``MISSVALS / TOTVALS``, or
        missing telemetry blocks for EUVI).
    reject_near_real_time : bool
        Also reject AIA near-real-time (quicklook) images.

    Examples
    --------
    >>> from sunpy_magnetogan.data import QualityPolicy
    >>> strict = QualityPolicy(max_missing_fraction=0.001)
    >>> 0 in strict.aia_reject_bits  # AIA QUALITY bit 0 rejects an image
    True
    """

    aia_reject_bits: tuple = AIA_REJECT_BITS
    hmi_reject_bits: tuple = HMI_REJECT_BITS
    max_missing_fraction: float = 0.01
    reject_near_real_time: bool = False

    def __post_init__(self):
        if not 0 <= self.max_missing_fraction <= 1:
            raise ValueError(f"max_missing_fraction must lie in [0, 1], got {self.max_missing_fraction}")

    def to_dict(self):
        """The policy as a JSON-friendly dict."""
        return {
            "aia_reject_bits": list(self.aia_reject_bits),
            "hmi_reject_mask": hex(int(np.bitwise_or.reduce(np.array(self.hmi_reject_bits, dtype=np.int64)))),
            "max_missing_fraction": self.max_missing_fraction,
            "reject_near_real_time": self.reject_near_real_time,
        }


@dataclass(frozen=True)
class QualityReport:
    """
    The outcome of `assess_quality`.

    Attributes
    ----------
    ok : bool
        True if the observation may be used.
    reasons : tuple of str
        Why it is rejected (empty when ``ok``).
    quality : int or None
        The ``QUALITY`` keyword, when present.
    flags : tuple of str
        Every ``QUALITY`` bit that is set, decoded (including harmless ones).
    missing_fraction : float or None
        Fraction of missing pixels, when it could be determined.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> aia, hmi = sunpy.map.Map(SAMPLE_AIA304), sunpy.map.Map(SAMPLE_HMI)
    >>> from sunpy_magnetogan.data import assess_quality
    >>> report = assess_quality(aia)
    >>> report.ok, report.reasons
    (True, ())
    """

    ok: bool
    reasons: tuple = ()
    quality: int | None = None
    flags: tuple = ()
    missing_fraction: float | None = None

    def to_dict(self):
        """The report as a dict of strings (for manifests)."""
        return {
            "ok": str(self.ok),
            "quality": "" if self.quality is None else f"0x{self.quality:08x}",
            "flags": "; ".join(self.flags),
            "reasons": "; ".join(self.reasons),
            "missing_fraction": "" if self.missing_fraction is None else f"{self.missing_fraction:.4g}",
        }


def _is_hmi(smap):
    import sunpy.map

    return isinstance(smap, sunpy.map.sources.HMIMap) or str(smap.instrument or "").upper().startswith("HMI")


def _quality_value(meta):
    value = meta.get("quality")
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return int(value, 0) if isinstance(value, str) else int(value)
    except (TypeError, ValueError):
        raise InvalidDataError(f"the QUALITY keyword {value!r} is not an integer") from None


def _keyword(meta, key):
    value = meta.get(key)
    return None if value is None else str(value).strip().upper()


def _euvi_missing_fraction(smap):
    nmissing = int(float(smap.meta.get("nmissing", 0) or 0))
    if nmissing <= 0:
        return 0.0
    data = np.asarray(smap.data)
    # Level-0.5 SECCHI images fill missing telemetry blocks with zeros.
    return float(np.count_nonzero(~np.isfinite(data) | (data <= 0)) / data.size)


def assess_quality(smap, *, policy=None):
    """
    Decide whether an AIA, HMI or EUVI observation is good enough for training.

    Checks the ``QUALITY`` keyword bit by bit (AIA and HMI tables differ), the AIA
    eclipse, pointing-mode and image-type keywords, the exposure time of EUV images and
    the missing-data fraction.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        The observation (header only is used, except for EUVI missing blocks).
    policy : QualityPolicy, optional
        The default policy by default.

    Returns
    -------
    QualityReport

    Examples
    --------
    >>> import astropy.units as u, numpy as np, sunpy.map
    >>> from astropy.coordinates import SkyCoord
    >>> from sunpy.coordinates import Helioprojective
    >>> from sunpy_magnetogan.data.calibrate import assess_quality
    >>> centre = SkyCoord(0 * u.arcsec, 0 * u.arcsec, frame=Helioprojective(observer="earth", obstime="2014-03-20"))
    >>> header = sunpy.map.make_fitswcs_header(
    ...     (8, 8), centre, instrument="AIA", wavelength=304 * u.AA, exposure=2.9 * u.s)
    >>> header.update({"quality": 0x2000, "acs_eclp": "YES"})
    >>> assess_quality(sunpy.map.Map(np.ones((8, 8)), header)).reasons
    ('QUALITY bit 13: spacecraft eclipse (ACS_ECLP)', 'spacecraft eclipse (ACS_ECLP = YES)')
    """
    policy = QualityPolicy() if policy is None else policy
    meta = smap.meta
    quality = _quality_value(meta)
    reasons, flags = [], []
    instrument = "HMI" if _is_hmi(smap) else euv_instrument(smap)
    if instrument == "AIA" and quality is not None:
        reject = set(policy.aia_reject_bits) | ({30} if policy.reject_near_real_time else set())
        for bit in range(32):
            if quality & (1 << bit):
                text = AIA_QUALITY_BITS.get(bit, "undocumented bit")
                flags.append(f"bit {bit}: {text}")
                if bit in reject:
                    reasons.append(f"QUALITY bit {bit}: {text}")
    elif instrument == "HMI" and quality is not None:
        reject = 0
        for value in policy.hmi_reject_bits:
            reject |= int(value)
        for bit in range(32):
            value = 1 << bit
            if quality & value:
                text = HMI_QUALITY_BITS.get(value, "undocumented bit")
                flags.append(f"0x{value:08x}: {text}")
                if reject & value:
                    reasons.append(f"QUALITY 0x{value:08x}: {text}")
    if instrument == "AIA":
        if _keyword(meta, "acs_eclp") == "YES":
            reasons.append("spacecraft eclipse (ACS_ECLP = YES)")
        mode = _keyword(meta, "acs_mode")
        if mode is not None and mode != "SCIENCE":
            reasons.append(f"spacecraft not in science mode (ACS_MODE = {mode})")
        if _keyword(meta, "img_type") == "DARK":
            reasons.append("dark frame (IMG_TYPE = DARK)")
    if instrument in ("AIA", "EUVI"):
        exposure = smap.exposure_time
        if exposure is None or not exposure.to_value(u.s) > 0:
            reasons.append(f"no usable exposure time (EXPTIME = {meta.get('exptime')!r})")
    missing = None
    totvals, missvals = meta.get("totvals"), meta.get("missvals")
    if totvals not in (None, "") and missvals not in (None, "") and float(totvals) > 0:
        missing = float(missvals) / float(totvals)
    elif instrument == "EUVI":
        missing = _euvi_missing_fraction(smap)
    if missing is not None and missing > policy.max_missing_fraction:
        reasons.append(
            f"{missing:.1%} of the pixels are missing (more than {policy.max_missing_fraction:.1%})"
        )
    return QualityReport(not reasons, tuple(dict.fromkeys(reasons)), quality, tuple(flags), missing)


def check_quality(smap, *, policy=None):
    """
    Like `assess_quality`, but raise if the observation is rejected.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
    policy : QualityPolicy, optional

    Returns
    -------
    QualityReport
        When the observation passes.

    Raises
    ------
    QualityRejectedError
        With every reason in the message.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> aia, hmi = sunpy.map.Map(SAMPLE_AIA304), sunpy.map.Map(SAMPLE_HMI)
    >>> from sunpy_magnetogan.data import check_quality
    >>> check_quality(hmi).ok
    True
    >>> hmi.meta["quality"] = 0x80000000  # HMI: no data
    >>> check_quality(hmi)
    Traceback (most recent call last):
    ...
    sunpy_magnetogan.exceptions.QualityRejectedError: ...
    """
    report = assess_quality(smap, policy=policy)
    if not report.ok:
        what = f"{smap.instrument or 'the'} map of {smap.date.isot}"
        raise QualityRejectedError(f"{what} is rejected: {'; '.join(report.reasons)}")
    return report


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
    nmissing = int(float(meta.get("nmissing", 0) or 0))
    if nmissing > 0:
        missing = ~np.isfinite(data) | (data <= 0)
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

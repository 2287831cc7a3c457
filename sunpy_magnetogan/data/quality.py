"""
Data-quality rejection of the real observations.

`assess_quality` / `check_quality` decode the ``QUALITY`` keyword bit by bit for AIA
(level 1) and HMI (observables, level 1.5), and check eclipses, non-science images, the
exposure time of EUV images and the missing-data fraction, against a configurable
`QualityPolicy`. The bit tables (`AIA_QUALITY_BITS`, `HMI_QUALITY_BITS`) and the default
rejections (`AIA_REJECT_BITS`, `HMI_REJECT_BITS`) are public.

These names are also importable from `sunpy_magnetogan.data.calibrate`, their earlier home.
"""

from dataclasses import dataclass

import astropy.units as u
import numpy as np

from sunpy_magnetogan.exceptions import InvalidDataError, QualityRejectedError
from sunpy_magnetogan.validation import euv_instrument

__all__ = [
    "AIA_QUALITY_BITS",
    "AIA_REJECT_BITS",
    "HMI_QUALITY_BITS",
    "HMI_REJECT_BITS",
    "QualityPolicy",
    "QualityReport",
    "assess_quality",
    "check_quality",
    "euvi_missing_blocks",
]

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


def euvi_missing_blocks(smap):
    """
    The pixels of the missing telemetry blocks of a STEREO/SECCHI EUVI image.

    Level-0.5 SECCHI images fill missing telemetry blocks with zeros and count them in the
    ``NMISSING`` keyword; where it is positive, the non-positive and non-finite pixels are
    the missing ones.

    Parameters
    ----------
    smap : `~sunpy.map.sources.EUVIMap`

    Returns
    -------
    nmissing : int
        ``NMISSING`` (0 when absent).
    mask : numpy.ndarray or None
        bool, shape of the data: True on missing pixels; None when ``nmissing`` is 0.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.data.quality import euvi_missing_blocks
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_euvi, stereo_observer
    >>> time = "2014-02-05T12:00"
    >>> euvi = observe_euvi(SyntheticSun(1003), time, stereo_observer(time, -120 * u.deg), npix=128)
    >>> euvi_missing_blocks(euvi)
    (0, None)
    """
    nmissing = int(float(smap.meta.get("nmissing", 0) or 0))
    if nmissing <= 0:
        return 0, None
    data = np.asarray(smap.data)
    return nmissing, ~np.isfinite(data) | (data <= 0)


def _euvi_missing_fraction(smap):
    _, mask = euvi_missing_blocks(smap)
    return 0.0 if mask is None else float(np.count_nonzero(mask) / mask.size)


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
    >>> from sunpy_magnetogan.data.quality import assess_quality
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

"""
The one input preparation: from any supported EUV product to the model's input array.

Training pairs (`~sunpy_magnetogan.data.prepare.prepare_pair`, the synthetic data-set
writer `~sunpy_magnetogan.synthetic.write_synthetic_dataset`) and inference
(`~sunpy_magnetogan.generate.generate_magnetogram`) all call `prepare_input_map`, so a
model sees at inference exactly the kind of array it was trained on. What the steps do is
fixed by an `InputPreparation`, which a model's card records (``preparation``) and
inference reads back from it (`InputPreparation.from_card`).

Steps, by product (`~sunpy_magnetogan.products.identify_euv_product`):

* every product: validation (instrument, wavelength, observer, date, WCS); refusal of
  display images of unknown scaling and of level-0 files; the saturated or clipped
  fraction of the disk (`~sunpy_magnetogan.products.saturated_fraction`) against
  ``warn_saturated_fraction`` and ``max_saturated_fraction``;
* Helioviewer JPEG2000 (AIA 304): the documented byte scaling inverted to DN/s
  (`~sunpy_magnetogan.helioviewer.linearize_helioviewer`), then as AIA level 1.5;
* AIA level 1 and 1.5 (JSOC, VSO, `aiapy.calibrate` output) and synthetic AIA:
  `~sunpy_magnetogan.data.calibrate.prep_aia_map`: exposure normalisation to DN/s (unless
  ``BUNIT`` is already a rate), degradation correction when a correction table is given
  (a `~sunpy_magnetogan.exceptions.CalibrationWarning` names it when it is not; synthetic
  images have no degradation), registration only if ``aia_register`` (the model-grid
  resampling already puts any roll, scale and centre right in one interpolation);
* STEREO/SECCHI EUVI level 0.5 and 1 (A and B) and synthetic EUVI:
  `~sunpy_magnetogan.data.calibrate.calibrate_euvi_map` (missing blocks, CCD bias,
  exposure) and, when ``euvi_intercalibration = "quantile-reference"``, the EUVI-to-AIA
  intercalibration (`~sunpy_magnetogan.data.intercalibration.intercalibrate_euvi`);
* then `~sunpy_magnetogan.preprocess.prepare_euv_map` (model grid, normalisation), and a
  refusal of inputs covering less than ``min_disk_coverage`` of the disk.
"""

import dataclasses
import logging
from dataclasses import dataclass

import astropy.units as u

from sunpy_magnetogan.data.calibrate import CalibrationResult, calibrate_euvi_map, prep_aia_map
from sunpy_magnetogan.data.intercalibration import QuantileReference, intercalibrate_euvi
from sunpy_magnetogan.data.solo import intercalibrate_fsi
from sunpy_magnetogan.exceptions import (
    CalibrationWarning,
    InvalidDataError,
    SaturationWarning,
    TrainingConfigError,
    warn_user,
)
from sunpy_magnetogan.helioviewer import is_helioviewer_product, linearize_helioviewer
from sunpy_magnetogan.preprocess import masked_as_nan, prepare_euv_map
from sunpy_magnetogan.products import identify_euv_product, saturated_fraction
from sunpy_magnetogan.validation import validate_euv_map

__all__ = [
    "PREPARATION_NAME",
    "SYNTHETIC_PREPARATION",
    "InputPreparation",
    "calibrate_euv_map",
    "prepare_calibrated_map",
    "prepare_input_map",
]

log = logging.getLogger(__name__)

#: The ``name`` of every preparation record (in model cards and pair stores).
PREPARATION_NAME = "sunpy-magnetogan-input"
_VERSION = 1
_INTERCALIBRATIONS = ("off", "quantile-reference")


@dataclass(frozen=True)
class InputPreparation:
    """
    What the input preparation does: recorded by training, read back by inference.

    Parameters
    ----------
    version : int
        Version of the preparation steps (1).
    aia_register : bool
        Register AIA level-1 images with `aiapy.calibrate.register` before the model-grid
        resampling (one more interpolation; the resampling alone corrects roll, scale and
        centre).
    aia_degradation : bool
        Correct AIA images for degradation when a correction table is given.
    euvi_intercalibration : {"off", "quantile-reference"}
        Map EUVI intensities to AIA's with a power law fitted to quiet-Sun percentiles
        (`~sunpy_magnetogan.data.intercalibration`), or not (models trained on EUVI images
        prepared without it, like the synthetic ones). Solar Orbiter EUI/FSI images follow
        the same setting.
    euvi_reference : dict or None
        The AIA reference distribution (`QuantileReference.to_dict`) for
        ``"quantile-reference"``; without it the caller must pass ``reference``.
    min_disk_coverage : float
        Inputs with valid data on less than this fraction of the solar disk are refused:
        the quiet-Sun level the EUV normalisation divides by is then no longer the quiet
        Sun's.
    warn_saturated_fraction, max_saturated_fraction : float
        Fractions of the disk that may be saturated or clipped before a
        `~sunpy_magnetogan.exceptions.SaturationWarning`, and before the input is refused.

    Examples
    --------
    >>> from sunpy_magnetogan.data.inputs import InputPreparation
    >>> preparation = InputPreparation(euvi_intercalibration="off")
    >>> InputPreparation.from_dict(preparation.to_dict()) == preparation
    True
    >>> preparation.describe()
    'sunpy-magnetogan-input v1: AIA exposure to DN/s, degradation if a table is given; EUVI bias, exposure; disk >= 25%, saturated <= 1%'
    """

    version: int = _VERSION
    aia_register: bool = False
    aia_degradation: bool = True
    euvi_intercalibration: str = "quantile-reference"
    euvi_reference: dict | None = None
    min_disk_coverage: float = 0.25
    warn_saturated_fraction: float = 5e-4
    max_saturated_fraction: float = 0.01

    def __post_init__(self):
        if self.version != _VERSION:
            raise TrainingConfigError(
                f"input preparation version {self.version} is not known to this sunpy-magnetogan "
                f"(it has version {_VERSION}); a newer package may be needed"
            )
        if self.euvi_intercalibration not in _INTERCALIBRATIONS:
            raise TrainingConfigError(
                f"euvi_intercalibration must be one of {_INTERCALIBRATIONS}, got {self.euvi_intercalibration!r}"
            )
        if not 0 < self.min_disk_coverage <= 1:
            raise TrainingConfigError(f"min_disk_coverage must lie in (0, 1], got {self.min_disk_coverage}")
        if not 0 <= self.warn_saturated_fraction <= self.max_saturated_fraction <= 1:
            raise TrainingConfigError(
                "need 0 <= warn_saturated_fraction <= max_saturated_fraction <= 1, got "
                f"{self.warn_saturated_fraction} and {self.max_saturated_fraction}"
            )

    def to_dict(self):
        """The preparation as a JSON-friendly dict (with its ``name``)."""
        return {"name": PREPARATION_NAME, **dataclasses.asdict(self)}

    @classmethod
    def from_dict(cls, d):
        """
        Inverse of `to_dict`.

        Raises
        ------
        TrainingConfigError
            For another ``name``, an unknown key or version.
        """
        d = dict(d)
        name = d.pop("name", PREPARATION_NAME)
        if name != PREPARATION_NAME:
            raise TrainingConfigError(f"not a sunpy-magnetogan input preparation: name {name!r}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise TrainingConfigError(f"unknown input preparation key(s): {', '.join(unknown)}")
        return cls(**d)

    @classmethod
    def from_card(cls, card):
        """
        The preparation a model card records.

        Parameters
        ----------
        card : `~sunpy_magnetogan.weights.ModelCard`

        Returns
        -------
        InputPreparation
            The card's ``preparation``. A card without one was written before preparations
            were recorded, when every model was trained on the synthetic data sets: it gets
            `SYNTHETIC_PREPARATION` (with a log message).
        """
        recorded = getattr(card, "preparation", None) or {}
        if not recorded:
            log.info(
                "model card %s records no input preparation; using that of the synthetic data sets", card.name
            )
            return SYNTHETIC_PREPARATION
        return cls.from_dict(recorded)

    def reference(self):
        """The recorded AIA reference distribution, or None."""
        return None if self.euvi_reference is None else QuantileReference.from_dict(self.euvi_reference)

    def describe(self):
        """One line for headers and reports."""
        aia = "AIA " + ("registered, " if self.aia_register else "") + "exposure to DN/s"
        if self.aia_degradation:
            aia += ", degradation if a table is given"
        euvi = "EUVI bias, exposure" + (
            ", intercalibrated to AIA" if self.euvi_intercalibration != "off" else ""
        )
        return (
            f"{PREPARATION_NAME} v{self.version}: {aia}; {euvi}; disk >= {self.min_disk_coverage:.0%}, "
            f"saturated <= {self.max_saturated_fraction:.0%}"
        )


#: The preparation of the synthetic data sets (`~sunpy_magnetogan.synthetic.write_synthetic_dataset`)
#: and so of the models trained on them, the shipped default included: synthetic EUVI images
#: are not intercalibrated (the synthetic instruments share one EUV model).
SYNTHETIC_PREPARATION = InputPreparation(euvi_intercalibration="off")


def _is_rate(smap):
    """
    Whether the data are already a count rate, from the BUNIT text (``'DN/S'`` parses as DN
    per siemens) or else the parsed unit.
    """
    text = str(smap.meta.get("bunit", "")).replace(" ", "").lower()
    if text.endswith(("/s", "/sec", "s-1", "s^-1", "s**-1")):
        return True
    unit = smap.unit
    return unit is not None and any(unit.is_equivalent(base / u.s) for base in (u.DN, u.ct, u.ph))


def _check_saturation(smap, product, preparation, steps):
    fraction, what = saturated_fraction(smap, product)
    if fraction is None:
        steps["saturation"] = what
        return
    steps["saturation"] = f"{fraction:.3%} of the disk ({what})"
    if fraction > preparation.max_saturated_fraction:
        raise InvalidDataError(
            f"{fraction:.2%} of the solar disk of the {product.instrument} image of {smap.date.isot} are {what}, "
            f"more than the {preparation.max_saturated_fraction:.0%} the preparation accepts (a flare or "
            "an overexposed frame): its intensities are not measurements there"
        )
    if fraction > preparation.warn_saturated_fraction:
        warn_user(
            f"{fraction:.2%} of the solar disk of the {product.instrument} image of {smap.date.isot} are {what} "
            f"(more than {preparation.warn_saturated_fraction:.2%}); the field under them is uncertain",
            SaturationWarning,
            stacklevel=4,
        )


def _check_display_ceiling(smap, prepared):
    """
    Warn when a display product's top byte lies inside the normalisation's range.

    jp2gen clips AIA 304 at 250 DN/s: early in the mission (quiet Sun of some 50 DN/s) that
    flattens every plage brighter than five times the quiet Sun, although the model tells
    contrasts apart up to ten times (`~sunpy_magnetogan.normalization.QuietSunNormalization`).
    """
    ceiling = smap.meta.get("hvceil")
    clipped = float(smap.meta.get("hvcliphi", 0) or 0)
    if ceiling is None or not clipped:
        return
    high = prepared.report["normalization_limits"][1]
    if float(ceiling) < high:
        warn_user(
            f"this Helioviewer file clips the image at {float(ceiling):.4g} {smap.unit}, below the "
            f"{high:.4g} {smap.unit} the model's EUV normalisation still resolves ({clipped:.3%} of the image "
            "at the clip): the brightest plage is flattened and the field under it underestimated; use the "
            "FITS file of the same observation",
            SaturationWarning,
            stacklevel=4,
        )


def _calibrate_aia(smap, product, preparation, tables, steps):
    rate = _is_rate(smap)
    result = prep_aia_map(
        smap,
        tables=tables,
        register=preparation.aia_register,
        normalize_exposure=not rate,
        correct_degradation=preparation.aia_degradation and not product.synthetic,
    )
    steps.update(result.steps)
    if rate:
        steps["exposure"] = f"skipped: already a rate (BUNIT {smap.meta.get('bunit')!r})"
    if product.synthetic:
        steps["update_pointing"] = "not applicable (synthetic image)"
        steps["degradation"] = "not applicable (synthetic image: no degradation)"
    elif preparation.aia_degradation and steps["degradation"].startswith("skipped"):
        warn_user(
            f"AIA degradation correction skipped for {smap.date.isot}: {steps['degradation'][9:]}. The EUV "
            "normalisation divides by the quiet Sun, so a uniform loss of sensitivity cancels; a change of the "
            "disk's contrast does not",
            CalibrationWarning,
            stacklevel=5,
        )
    return result.map


def _intercalibrate(smap, preparation, reference, steps, mapping, *, what, how=""):
    """
    The EUVI-to-AIA intercalibration step of a calibrated far-side image (EUVI or EUI/FSI).

    ``mapping(smap, reference)`` maps the image; the step is off when the preparation's
    ``euvi_intercalibration`` is, and needs ``reference`` or the preparation's recorded one.
    ``what`` and ``how`` complete the error message when there is none. Records the step in
    ``steps`` and returns the (mapped) map.
    """
    if preparation.euvi_intercalibration == "off":
        steps["intercalibration"] = "off (the model's preparation has none)"
        return smap
    reference = reference if reference is not None else preparation.reference()
    if reference is None:
        raise ValueError(
            f"{what} must be intercalibrated to the AIA distribution the model was trained on: pass "
            f"reference=QuantileReference.load('<dataset>/euv_reference.json'){' ' + how if how else ''}"
        )
    mapped = mapping(smap, reference)
    steps["intercalibration"] = (
        f"done (gamma {mapped.meta['icalgamm']:.4f}, scale {mapped.meta['icalscal']:.4g}, "
        f"reference {mapped.meta['icalref']})"
    )
    return mapped


def _calibrate_euvi(smap, preparation, reference, allow_other_wavelengths, steps):
    result = calibrate_euvi_map(smap)
    steps.update(result.steps)
    return _intercalibrate(
        result.map,
        preparation,
        reference,
        steps,
        lambda m, ref: intercalibrate_euvi(m, reference=ref, allow_other_wavelengths=allow_other_wavelengths),
        what="EUVI images",
        how="(or QuantileReference.from_maps)",
    )


def _calibrate_fsi(smap, preparation, reference, steps):
    """Solar Orbiter EUI/FSI level 2 (DN/s): intercalibrated to the AIA distribution like EUVI."""
    steps["calibration"] = "level 2 from the EUI pipeline (DN/s)"
    # FSI follows the EUVI setting.
    return _intercalibrate(
        smap,
        preparation,
        reference,
        steps,
        lambda m, ref: intercalibrate_fsi(m, reference=ref),
        what="Solar Orbiter EUI/FSI images",
    )


def calibrate_euv_map(
    smap,
    *,
    preparation=None,
    reference=None,
    tables=None,
    allow_other_instruments=False,
    allow_other_wavelengths=False,
):
    """
    The product-specific part of the input preparation: from the file's values to
    linear, calibrated intensities.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        An AIA or EUVI 304 A image: level 1 or 1.5 FITS, Helioviewer JPEG2000, EUVI level
        0.5 or 1, or a synthetic image.
    preparation : InputPreparation, optional
        The steps (``InputPreparation()`` by default).
    reference : `~sunpy_magnetogan.data.intercalibration.QuantileReference`, optional
        AIA reference distribution for EUVI intercalibration (overrides the recorded one).
    tables : `~sunpy_magnetogan.data.calibrate.CalibrationTables`, optional
        AIA pointing and degradation tables.
    allow_other_instruments, allow_other_wavelengths : bool, optional
        As for `~sunpy_magnetogan.validation.validate_euv_map`.

    Returns
    -------
    `~sunpy_magnetogan.data.calibrate.CalibrationResult`
        The calibrated map; ``steps`` starts with ``product`` and ``saturation``.

    Raises
    ------
    UnsupportedInstrumentError, UnsupportedWavelengthError, MissingMetadataError
        See `~sunpy_magnetogan.validation.validate_euv_map`.
    UnsupportedProductError
        For display images of unknown scaling and level-0 files.
    InvalidDataError
        For too much saturation, or an unusable exposure time.
    ValueError
        If EUVI intercalibration is asked for without a reference.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.data.inputs import calibrate_euv_map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> result = calibrate_euv_map(sunpy.map.Map(SAMPLE_AIA304))
    >>> result.steps["product"], result.map.unit
    ('synthetic-aia: sunpy-magnetogan synthetic Sun', Unit("DN / s"))
    """
    preparation = preparation or InputPreparation()
    smap = masked_as_nan(smap)  # before any step that resamples the image and drops the mask
    instrument = validate_euv_map(
        smap, allow_other_instruments=allow_other_instruments, allow_other_wavelengths=allow_other_wavelengths
    )
    product = identify_euv_product(smap)
    steps = {"product": f"{product.kind}: {product.description}"}
    _check_saturation(smap, product, preparation, steps)
    if is_helioviewer_product(smap):
        smap = linearize_helioviewer(smap)
        steps["helioviewer"] = smap.meta["hvlinear"]
    if instrument == "AIA":
        smap = _calibrate_aia(smap, product, preparation, tables, steps)
    elif instrument == "EUVI":
        smap = _calibrate_euvi(smap, preparation, reference, allow_other_wavelengths, steps)
    elif instrument == "FSI":
        smap = _calibrate_fsi(smap, preparation, reference, steps)
    else:
        steps["calibration"] = "none (not an AIA, EUVI or EUI/FSI map)"
    log.debug("calibrated %s: %s", product.kind, steps)
    return CalibrationResult(smap, steps)


def prepare_calibrated_map(
    calibrated,
    *,
    grid=None,
    normalization=None,
    preparation=None,
    allow_other_instruments=False,
    allow_other_wavelengths=False,
):
    """
    The second half of `prepare_input_map`: a calibrated map onto the model grid.

    Parameters
    ----------
    calibrated : `~sunpy_magnetogan.data.calibrate.CalibrationResult`
        From `calibrate_euv_map`.
    grid, normalization, preparation, allow_other_instruments, allow_other_wavelengths
        As for `prepare_input_map`.

    Returns
    -------
    `~sunpy_magnetogan.preprocess.PreparedImage`

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.data.inputs import calibrate_euv_map, prepare_calibrated_map
    >>> from sunpy_magnetogan.grid import ModelGrid
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> calibrated = calibrate_euv_map(sunpy.map.Map(SAMPLE_AIA304))  # e.g. to measure it first
    >>> prepared = prepare_calibrated_map(calibrated, grid=ModelGrid(128))
    >>> prepared.data.shape, prepared.report["product"]
    ((128, 128), 'synthetic-aia: sunpy-magnetogan synthetic Sun')
    """
    preparation = preparation or InputPreparation()
    prepared = prepare_euv_map(
        calibrated.map,
        grid=grid,
        normalization=normalization,
        allow_other_instruments=allow_other_instruments,
        allow_other_wavelengths=allow_other_wavelengths,
    )
    _check_display_ceiling(calibrated.map, prepared)
    coverage = prepared.report["disk_coverage"]
    if coverage < preparation.min_disk_coverage:
        raise InvalidDataError(
            f"the EUV image has valid data on {coverage:.1%} of the solar disk, less than the "
            f"{preparation.min_disk_coverage:.0%} the preparation needs: the quiet-Sun level it is normalised by "
            "would not be the quiet Sun's (use a full-disk image)"
        )
    report = {
        **prepared.report,
        "product": calibrated.steps.get("product", ""),
        "calibration": dict(calibrated.steps),
        "preparation": preparation.describe(),
    }
    return dataclasses.replace(prepared, report=report)


def prepare_input_map(
    smap,
    *,
    grid=None,
    normalization=None,
    preparation=None,
    reference=None,
    tables=None,
    allow_other_instruments=False,
    allow_other_wavelengths=False,
):
    """
    Calibrate an EUV 304 A map and put it on the model grid: the one preparation of
    training pairs and inference inputs.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        The EUV image (any supported product; see the module notes).
    grid : `~sunpy_magnetogan.grid.ModelGrid`, optional
        ``ModelGrid(512)`` by default.
    normalization : `~sunpy_magnetogan.normalization.QuietSunNormalization` or `~sunpy_magnetogan.normalization.EUVNormalization`, optional
        The model's EUV normalisation (the contrast to the quiet Sun by default).
    preparation : InputPreparation, optional
        The model's preparation (``InputPreparation()`` by default; a model's card says
        which, see `InputPreparation.from_card`).
    reference : `~sunpy_magnetogan.data.intercalibration.QuantileReference`, optional
        For EUVI with ``euvi_intercalibration = "quantile-reference"`` when the
        preparation records none.
    tables : `~sunpy_magnetogan.data.calibrate.CalibrationTables`, optional
        AIA pointing and degradation tables.
    allow_other_instruments, allow_other_wavelengths : bool, optional
        As for `~sunpy_magnetogan.preprocess.prepare_euv_map`.

    Returns
    -------
    `~sunpy_magnetogan.preprocess.PreparedImage`
        ``report`` adds ``product``, ``calibration`` (each step and what it did) and
        ``preparation``; the geometry keeps the input's observer (SDO, STEREO-A or -B).

    Raises
    ------
    UnsupportedProductError, InvalidDataError, ValueError
        See `calibrate_euv_map`; `InvalidDataError` also when less than
        ``preparation.min_disk_coverage`` of the disk has data.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.data.inputs import prepare_input_map
    >>> from sunpy_magnetogan.grid import ModelGrid
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> prepared = prepare_input_map(sunpy.map.Map(SAMPLE_AIA304), grid=ModelGrid(256))
    >>> prepared.data.shape, prepared.report["calibration"]["exposure"]
    ((256, 256), 'done (EXPTIME 2.9 s)')
    """
    calibrated = calibrate_euv_map(
        smap,
        preparation=preparation,
        reference=reference,
        tables=tables,
        allow_other_instruments=allow_other_instruments,
        allow_other_wavelengths=allow_other_wavelengths,
    )
    return prepare_calibrated_map(
        calibrated,
        grid=grid,
        normalization=normalization,
        preparation=preparation,
        allow_other_instruments=allow_other_instruments,
        allow_other_wavelengths=allow_other_wavelengths,
    )

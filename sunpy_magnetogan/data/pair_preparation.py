"""
One training pair: quality checks, the one EUV input preparation, the magnetogram on the grid.

`prepare_pair` checks both observations (`~sunpy_magnetogan.data.quality.check_quality`)
and their time difference, sends the EUV image through the input preparation shared with
inference (`~sunpy_magnetogan.data.inputs.calibrate_euv_map` and
`~sunpy_magnetogan.data.inputs.prepare_calibrated_map`: product recognition, instrument
calibration, `~sunpy_magnetogan.preprocess.prepare_euv_map`) and the magnetogram through
`~sunpy_magnetogan.preprocess.prepare_magnetogram_map` (which also rotates the level-1 HMI
image to solar north up in the same interpolation), and records the provenance of the pair,
including the AIA quiet-Sun percentiles (`quantile_column`) from which
`~sunpy_magnetogan.data.prepare.reference_from_store` builds the EUVI reference.

These names are also importable from `sunpy_magnetogan.data.prepare`, their earlier home.
"""

import dataclasses
import logging
import warnings
from dataclasses import dataclass, field

import astropy.units as u

from sunpy_magnetogan.data.inputs import InputPreparation, calibrate_euv_map, prepare_calibrated_map
from sunpy_magnetogan.data.intercalibration import DEFAULT_LEVELS, QUIET_SUN_RADIUS, quiet_sun_quantiles
from sunpy_magnetogan.data.quality import QualityPolicy, check_quality
from sunpy_magnetogan.exceptions import InputMapError, MagnetoGANWarning, QualityRejectedError
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.normalization import QuietSunNormalization
from sunpy_magnetogan.preprocess import prepare_magnetogram_map

__all__ = [
    "PreparedPair",
    "prepare_pair",
    "quantile_column",
    "training_preparation",
]

log = logging.getLogger(__name__)


def quantile_column(level):
    """
    The provenance column holding one percentile of a pair's calibrated AIA disk.

    Parameters
    ----------
    level : float
        The percentile (0-100).

    Returns
    -------
    str

    Examples
    --------
    >>> from sunpy_magnetogan.data.pair_preparation import quantile_column
    >>> quantile_column(50.0)
    'euv_q50'
    """
    return f"euv_q{level:g}"


@dataclass(frozen=True)
class PreparedPair:
    """
    A prepared training pair.

    Attributes
    ----------
    euv, mag : `~sunpy_magnetogan.preprocess.PreparedImage`
        The normalised EUV image and the magnetogram (Gauss) on the same grid.
    meta : dict
        Provenance (strings), written as manifest columns of the pair store.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> aia, hmi = sunpy.map.Map(SAMPLE_AIA304), sunpy.map.Map(SAMPLE_HMI)
    >>> from sunpy_magnetogan.data import prepare_pair
    >>> pair = prepare_pair(aia, hmi)
    >>> pair.euv.data.shape, pair.mag.data.shape, pair.meta["euv_instrument"]
    ((512, 512), (512, 512), 'AIA 4')
    """

    euv: object
    mag: object
    meta: dict = field(default_factory=dict)

    @property
    def disk(self):
        """On-disk pixels valid in both images (bool, ``(N, N)``)."""
        return self.euv.disk & self.mag.disk


def training_preparation(preparation=None, register=None):
    """
    The input preparation of a training run: ``preparation`` (``InputPreparation()`` by
    default) with ``aia_register`` set to ``register`` unless that is None.

    Examples
    --------
    >>> from sunpy_magnetogan.data.pair_preparation import training_preparation
    >>> training_preparation(register=True).aia_register
    True
    """
    preparation = preparation or InputPreparation()
    if register is None or bool(register) == preparation.aia_register:
        return preparation
    return dataclasses.replace(preparation, aia_register=bool(register))


def _run_collecting_warnings(func, *args, **kwargs):
    """Run ``func``; return its result and the texts of the package's own warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = func(*args, **kwargs)
    texts = []
    for w in caught:
        if issubclass(w.category, MagnetoGANWarning):
            texts.append(f"{w.category.__name__}: {w.message}")
            log.info("%s", w.message)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return result, texts


def prepare_pair(
    euv_map,
    mag_map,
    *,
    grid=None,
    normalization=None,
    tables=None,
    register=True,
    preparation=None,
    policy=None,
    max_time_difference=15 * u.min,
    levels=DEFAULT_LEVELS,
):
    """
    Check and prepare one AIA 304 / HMI pair for training.

    Parameters
    ----------
    euv_map : `~sunpy.map.sources.AIAMap`
        The AIA 304 A image (level 1 or 1.5).
    mag_map : `~sunpy.map.GenericMap`
        The line-of-sight magnetogram (HMI, in Gauss).
    grid : `~sunpy_magnetogan.grid.ModelGrid`, optional
        ``ModelGrid(512)`` by default.
    normalization : `~sunpy_magnetogan.normalization.QuietSunNormalization` or `~sunpy_magnetogan.normalization.EUVNormalization`, optional
        The model's EUV normalisation (the contrast to the quiet Sun by default).
    tables : `~sunpy_magnetogan.data.calibrate.CalibrationTables`, optional
        AIA calibration tables; without them pointing and degradation are skipped.
    register : bool or None, optional
        Register level-1 AIA images with aiapy (overrides ``preparation.aia_register``;
        None keeps it).
    preparation : `~sunpy_magnetogan.data.inputs.InputPreparation`, optional
        The input preparation (``InputPreparation()`` by default).
    policy : `~sunpy_magnetogan.data.calibrate.QualityPolicy`, optional
        Quality rules (also the largest accepted fraction of the disk without data).
    max_time_difference : `~astropy.units.Quantity` or None, optional
        Largest accepted time between the two observations; None skips the check.
    levels : sequence of float, optional
        Percentiles of the calibrated AIA disk recorded for the EUVI reference.

    Returns
    -------
    PreparedPair

    Raises
    ------
    QualityRejectedError
        If either observation fails the quality checks or too much of the disk has no data.
    InputMapError
        If the observations are too far apart in time, or not usable at all.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> aia, hmi = sunpy.map.Map(SAMPLE_AIA304), sunpy.map.Map(SAMPLE_HMI)
    >>> from sunpy_magnetogan.data import prepare_pair
    >>> from sunpy_magnetogan.grid import ModelGrid
    >>> pair = prepare_pair(aia, hmi, grid=ModelGrid(128))
    >>> pair.mag.data.shape, pair.mag.data.dtype, float(pair.meta["dt_s"])
    ((128, 128), dtype('float32'), 0.0)
    """
    grid = grid or ModelGrid()
    normalization = normalization or QuietSunNormalization()
    policy = QualityPolicy() if policy is None else policy
    euv_quality = check_quality(euv_map, policy=policy)
    mag_quality = check_quality(mag_map, policy=policy)
    dt = abs((mag_map.date - euv_map.date).to(u.s))
    if max_time_difference is not None and dt > u.Quantity(max_time_difference):
        raise InputMapError(
            f"the EUV ({euv_map.date.isot}) and magnetogram ({mag_map.date.isot}) observations are "
            f"{dt.to(u.min):.1f} apart, more than {u.Quantity(max_time_difference).to(u.min):.1f}"
        )
    preparation = training_preparation(preparation, register)
    calibrated, calibration_warnings = _run_collecting_warnings(
        calibrate_euv_map, euv_map, preparation=preparation, tables=tables
    )
    quantiles = quiet_sun_quantiles(calibrated.map, levels=levels, max_radius=QUIET_SUN_RADIUS, grid=grid)
    euv, euv_warnings = _run_collecting_warnings(
        prepare_calibrated_map, calibrated, grid=grid, normalization=normalization, preparation=preparation
    )
    mag, mag_warnings = _run_collecting_warnings(prepare_magnetogram_map, mag_map, grid=grid)
    for name, prepared in (("EUV", euv), ("magnetogram", mag)):
        missing = 1.0 - prepared.report["disk_coverage"]
        if missing > policy.max_missing_fraction:
            raise QualityRejectedError(
                f"the {name} image of {prepared.geometry.date.isot} has no valid data on {missing:.1%} of the "
                f"solar disk (more than {policy.max_missing_fraction:.1%})"
            )
    low, high = euv.report["normalization_limits"]
    crota2 = mag_map.meta.get("crota2")
    meta = {
        "observer": str(euv_map.observatory or "SDO"),
        "euv_instrument": str(euv_map.instrument),
        "euv_wavelength": f"{euv_map.wavelength.to_value(u.AA):g}",
        "euv_date": euv_map.date.isot,
        # The observer's heliographic latitude (B0): with the date it gives each pixel's cycle
        # frame (`~sunpy_magnetogan.pairs.pair_cycle_frame`).
        "hglt_obs": f"{euv.geometry.observer.lat.to_value(u.deg):.6f}",
        "euv_level": "" if euv_map.processing_level is None else f"{float(euv_map.processing_level):g}",
        "euv_exptime": "" if euv_map.exposure_time is None else f"{euv_map.exposure_time.to_value(u.s):g}",
        "euv_calibration": calibrated.describe(),
        "euv_quality": euv_quality.to_dict()["quality"],
        "euv_quality_flags": euv_quality.to_dict()["flags"],
        "euv_coverage": f"{euv.report['disk_coverage']:.5f}",
        "euv_norm_low": f"{low:.6g}",
        "euv_norm_high": f"{high:.6g}",
        "euv_unit": "" if calibrated.map.unit is None else calibrated.map.unit.to_string(),
        "mag_instrument": str(mag_map.instrument),
        "mag_date": mag_map.date.isot,
        "mag_quality": mag_quality.to_dict()["quality"],
        "mag_quality_flags": mag_quality.to_dict()["flags"],
        "mag_coverage": f"{mag.report['disk_coverage']:.5f}",
        "mag_orientation": (
            "north up by the model-grid resampling"
            + ("" if crota2 is None else f" (CROTA2 = {float(crota2):.4f})")
        ),
        "dt_s": f"{dt.to_value(u.s):.1f}",
        "warnings": " | ".join(calibration_warnings + euv_warnings + mag_warnings),
    }
    for level, value in zip(levels, quantiles, strict=True):
        meta[quantile_column(level)] = f"{value:.6g}"
    return PreparedPair(euv, mag, meta)

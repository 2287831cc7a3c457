"""
Semi-real evaluation of a model over activity levels, from solar minimum to maximum.

Each held-out synthetic Sun of `~sunpy_magnetogan.synthetic.activity.activity_samples` is
observed by a synthetic HMI (`~sunpy_magnetogan.synthetic.observe_hmi`, SDO's view); its
magnetogram is the truth. The model's input is made from that magnetogram by one of two
recipes:

* ``"semireal"`` (default): the 304 A image made from the magnetogram by the package's
  forward model (`~sunpy_magnetogan.synthetic.euv304_from_magnetogram`), the recipe used
  for real HMI maps (the "semi-real" pairs of ``benchmarks/bench_default_model.py``);
* ``"pair"``: the synthetic AIA 304 A image of the same Sun
  (`~sunpy_magnetogan.synthetic.observe_pair`), as in the training data.

Both go through the one input preparation of training and inference
(`~sunpy_magnetogan.data.inputs.prepare_input_map`) and the truth through
`~sunpy_magnetogan.preprocess.prepare_magnetogram_map`. Every pair is scored with
`~sunpy_magnetogan.metrics.pair_metrics` (pixel and binned CC, total unsigned flux and R1,
R2, RMSE-SSIM, PSNR...) plus the quiet-Sun mean ``|B_los|`` of the generated and true maps
(`quiet_sun_mean_field`: the quiet-Sun mask of the metrics,
`~sunpy_magnetogan.metrics.activity_masks`). `summarize_activity` averages the pairs of
each bin.
"""

import logging

import astropy.units as u
import numpy as np

from sunpy_magnetogan.data.inputs import SYNTHETIC_PREPARATION, prepare_input_map
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.metrics import (
    METRIC_NAMES,
    MetricSettings,
    activity_masks,
    grid_geometry,
    pair_metrics,
)
from sunpy_magnetogan.preprocess import prepare_magnetogram_map
from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi, observe_pair
from sunpy_magnetogan.synthetic.euv import euv304_from_magnetogram

__all__ = [
    "ACTIVITY_KEYS",
    "evaluate_activity",
    "quiet_sun_mean_field",
    "semireal_inputs",
    "summarize_activity",
]

log = logging.getLogger(__name__)

#: The per-pair quantities averaged per bin by `summarize_activity`.
ACTIVITY_KEYS = (
    "rate",
    "flux_true",
    "flux_generated",
    "flux_ratio",
    "cc",
    "cc_binned",
    "r1",
    "r2",
    "rmse_ssim",
    "psnr",
    "qs_true",
    "qs_generated",
    "qs_ratio",
)

#: The `pair_metrics` values a row of `evaluate_activity` keeps: those of `ACTIVITY_KEYS`,
#: and ``r2_qs``.
_PAIR_METRIC_KEYS = (*(key for key in ACTIVITY_KEYS if key in METRIC_NAMES), "r2_qs")


def quiet_sun_mean_field(truth, generated, geometry, *, mask=None, settings=None):
    """
    Mean ``|B_los|`` of the quiet Sun in a true and a generated field.

    Parameters
    ----------
    truth, generated : numpy.ndarray
        Line-of-sight fields in Gauss, shape ``(H, W)``.
    geometry : `~sunpy_magnetogan.metrics.DiskGeometry`
        The grid's geometry.
    mask : numpy.ndarray, optional
        Extra boolean mask of valid pixels.
    settings : `~sunpy_magnetogan.metrics.MetricSettings`, optional
        ``mu_min``, ``ar_threshold`` and ``ar_smoothing`` define the quiet Sun: the disk
        pixels (``mu > mu_min``) whose smoothed true ``|B|`` is below ``ar_threshold``
        (100 G at 7 Mm by default), as in `~sunpy_magnetogan.metrics.pair_metrics`.

    Returns
    -------
    true_mean, generated_mean : float
        Area-weighted mean ``|B_los|`` in Gauss over the quiet-Sun pixels (NaN if none).

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import grid_geometry
    >>> from sunpy_magnetogan.evaluation.activity import quiet_sun_mean_field
    >>> truth = np.full((64, 64), 10.0)
    >>> [round(v, 3) for v in quiet_sun_mean_field(truth, 0.5 * truth, grid_geometry(64))]
    [10.0, 5.0]
    """
    settings = settings or MetricSettings()
    b_true = np.asarray(truth, dtype=np.float64)
    b_gen = np.asarray(generated, dtype=np.float64)
    disk = geometry.mask(settings.mu_min) & np.isfinite(b_true) & np.isfinite(b_gen)
    if mask is not None:
        disk &= np.asarray(mask, dtype=bool)
    _, quiet = activity_masks(
        b_true, disk, threshold=settings.ar_threshold, sigma=geometry.smoothing_px(settings.ar_smoothing)
    )
    weight = np.where(quiet, geometry.area.to_value(u.cm**2), 0.0)
    total = weight.sum()
    if not total > 0:
        return np.nan, np.nan
    return float((weight * np.abs(b_true)).sum() / total), float((weight * np.abs(b_gen)).sum() / total)


def semireal_inputs(magnetogram, *, size=512, euv_normalization=None, euv=None, rng=0):
    """
    The model input and the truth of a magnetogram, on the model grid.

    Parameters
    ----------
    magnetogram : `~sunpy.map.GenericMap`
        A line-of-sight magnetogram (synthetic or real HMI).
    size : int, optional
        Model-grid size in pixels.
    euv_normalization : optional
        The model's EUV normalisation (`~sunpy_magnetogan.data.inputs.prepare_input_map`).
    euv : `~sunpy.map.GenericMap`, optional
        The 304 A image to use; by default it is made from the magnetogram by
        `~sunpy_magnetogan.synthetic.euv304_from_magnetogram` (AIA).
    rng : int or numpy.random.Generator, optional
        Seed of the forward model's texture and noise.

    Returns
    -------
    euv, truth, disk : numpy.ndarray
        The prepared EUV image in [-1, 1] (float32), the true field in Gauss (float32), and
        the boolean mask of pixels valid in both, each ``(size, size)``.

    Examples
    --------
    >>> from sunpy_magnetogan.evaluation.activity import semireal_inputs
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi
    >>> hmi = observe_hmi(SyntheticSun(7000), "2014-01-01", npix=128)
    >>> euv, truth, disk = semireal_inputs(hmi, size=64)
    >>> euv.shape, truth.shape, bool(disk[32, 32]), bool(disk[0, 0])
    ((64, 64), (64, 64), True, False)
    >>> bool(euv.min() >= -1 and euv.max() <= 1)
    True
    """
    if euv is None:
        euv = euv304_from_magnetogram(magnetogram, instrument="AIA", rng=rng)
    grid = ModelGrid(size)
    prepared = prepare_input_map(
        euv, grid=grid, normalization=euv_normalization, preparation=SYNTHETIC_PREPARATION
    )
    truth = prepare_magnetogram_map(magnetogram, grid=grid)
    disk = prepared.disk & truth.disk
    return prepared.data, truth.data, disk


def _scalar(value):
    return float(u.Quantity(value).value) if isinstance(value, u.Quantity) else float(value)


def evaluate_activity(
    predict, samples, *, size=512, npix=None, euv_normalization=None, recipe="semireal", flux_model=None
):
    """
    Score a model on synthetic Suns of several activity levels.

    Parameters
    ----------
    predict : callable
        ``predict(euv, meta)`` -> field in Gauss, shape ``(size, size)``, from a prepared
        EUV image (``(size, size)`` float32 in [-1, 1]) and the pair's metadata (``date``,
        ``hglt_obs`` in degrees: enough for `~sunpy_magnetogan.pairs.pair_cycle_frame`).
    samples : sequence of `~sunpy_magnetogan.synthetic.activity.ActivitySample`
        The Suns and dates (`~sunpy_magnetogan.synthetic.activity.activity_samples`).
    size : int, optional
        Model-grid size in pixels.
    npix : int, optional
        Size of the synthetic instrument images (``size`` by default).
    euv_normalization : optional
        The model's EUV normalisation.
    recipe : {"semireal", "pair"}, optional
        How the input is made (see the module docstring).
    flux_model : `~sunpy_magnetogan.synthetic.FluxModel`, optional
        The Suns' flux model (the calibrated default if None), e.g. with inclined sunspot
        fields.

    Returns
    -------
    list of dict
        One row per sample: ``bin``, ``name``, ``seed``, ``date``, and `ACTIVITY_KEYS`
        (fluxes in Mx, ``qs_*`` in Gauss, ``flux_ratio`` and ``qs_ratio`` generated /
        true), plus ``r2_qs``.

    Examples
    --------
    A stand-in "model" that returns the EUV image scaled to Gauss, on one Sun per bin:

    >>> from sunpy_magnetogan.evaluation.activity import evaluate_activity
    >>> from sunpy_magnetogan.synthetic.activity import activity_samples
    >>> rows = evaluate_activity(lambda euv, meta: 100.0 * euv, activity_samples(1)[:2], size=64)
    >>> [row["name"] for row in rows], rows[0]["flux_true"] < rows[1]["flux_true"]
    (['minimum', 'low'], True)
    """
    if recipe not in ("semireal", "pair"):
        raise ValueError(f"recipe must be 'semireal' or 'pair', got {recipe!r}")
    npix = npix or size
    geometry = grid_geometry(size)
    rows = []
    for sample in samples:
        sun = SyntheticSun(sample.seed, flux_model=flux_model)
        if recipe == "pair":
            euv_map, magnetogram = observe_pair(sun, sample.time, npix=npix)
        else:
            euv_map, magnetogram = None, observe_hmi(sun, sample.time, npix=npix)
        euv, truth, disk = semireal_inputs(
            magnetogram, size=size, euv_normalization=euv_normalization, euv=euv_map, rng=sample.seed
        )
        meta = {"date": sample.time.isot, "hglt_obs": magnetogram.observer_coordinate.lat.to_value(u.deg)}
        generated = np.where(disk, predict(euv, meta), 0.0)
        metrics = pair_metrics(truth, generated, geometry, mask=disk)
        qs_true, qs_gen = quiet_sun_mean_field(truth, generated, geometry, mask=disk)
        row = {"bin": sample.bin, "name": sample.name, "seed": sample.seed, "date": sample.time.isot}
        row["rate"] = sample.rate
        for key in _PAIR_METRIC_KEYS:
            row[key] = _scalar(metrics[key])
        row["flux_ratio"] = row["flux_generated"] / row["flux_true"] if row["flux_true"] > 0 else np.nan
        row["qs_true"], row["qs_generated"] = qs_true, qs_gen
        row["qs_ratio"] = qs_gen / qs_true if qs_true > 0 else np.nan
        log.info(
            "activity sample %s seed %d %s: cc %.3f r1 %.3f",
            sample.name,
            sample.seed,
            row["date"],
            row["cc"],
            row["r1"],
        )
        rows.append(row)
    return rows


def summarize_activity(rows):
    """
    Mean and standard deviation of every quantity per activity bin.

    Parameters
    ----------
    rows : list of dict
        The output of `evaluate_activity`.

    Returns
    -------
    list of dict
        One row per bin, in bin order: ``bin``, ``name``, ``n`` and, for every key of
        `ACTIVITY_KEYS`, the mean (same key), the standard deviation (``<key>_std``)
        and the median (``<key>_median``) over the bin's samples (non-finite values left
        out).

    Examples
    --------
    >>> from sunpy_magnetogan.evaluation.activity import ACTIVITY_KEYS, summarize_activity
    >>> rows = [dict(dict.fromkeys(ACTIVITY_KEYS, 1.0), bin=0, name="minimum"),
    ...         dict(dict.fromkeys(ACTIVITY_KEYS, 3.0), bin=0, name="minimum")]
    >>> summary = summarize_activity(rows)
    >>> summary[0]["n"], summary[0]["cc"], summary[0]["cc_std"]
    (2, 2.0, 1.0)
    """
    out = []
    for index in sorted({row["bin"] for row in rows}):
        group = [row for row in rows if row["bin"] == index]
        summary = {"bin": index, "name": group[0]["name"], "n": len(group)}
        for key in ACTIVITY_KEYS:
            values = np.array([row[key] for row in group], dtype=np.float64)
            values = values[np.isfinite(values)]
            summary[key] = float(values.mean()) if values.size else np.nan
            summary[f"{key}_std"] = float(values.std()) if values.size else np.nan
            summary[f"{key}_median"] = float(np.median(values)) if values.size else np.nan
        out.append(summary)
    return out

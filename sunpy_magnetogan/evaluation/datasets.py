"""
Evaluate generated magnetograms against the truth over a data set of pairs.

The unit of work is an `EvaluationPair` ``(truth, generated, input, pair_id, mask)``: two
magnetogram maps (validated and, on request, reprojected; see
`~sunpy_magnetogan.metrics.compare_maps`) or two model-grid arrays in Gauss (geometry from
`~sunpy_magnetogan.metrics.grid_geometry`). Any iterable of pairs, or of plain
``(truth, generated)`` / ``(truth, generated, input)`` tuples, can be evaluated, so where the
generated maps come from is up to the caller:

* `~sunpy_magnetogan.evaluation.MapFilePairs`: FITS files of the same name in a truth and a
  generated directory;
* `~sunpy_magnetogan.evaluation.StorePairs`: a `~sunpy_magnetogan.pairs.PairStore` whose
  inputs are turned into predictions by any callable (e.g. a trained model), one pair at a
  time (both in `sunpy_magnetogan.evaluation.sources`).

`evaluate_pairs` returns the per-pair metrics as a `~astropy.table.QTable`; `summarize`
reduces it to the layout of the paper's Table 1 (mean +- std over pairs; the flux CCs are
single values over the set); `run_evaluation` does both, writes the tables and CSV, and
saves comparison figures and the flux scatter plot.
"""

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import astropy.units as u
import numpy as np
from astropy.table import QTable

from sunpy_magnetogan.evaluation.plots import plot_comparison, plot_flux_scatter
from sunpy_magnetogan.exceptions import InputMapError, MagnetoGANError
from sunpy_magnetogan.metrics.compare import METRIC_NAMES, MetricSettings, aligned_fields, pair_metrics
from sunpy_magnetogan.metrics.flux import check_nans
from sunpy_magnetogan.metrics.geometry import grid_geometry
from sunpy_magnetogan.metrics.image import flux_cc

__all__ = [
    "EvaluationPair",
    "EvaluationResult",
    "evaluate_pair",
    "evaluate_pairs",
    "format_summary",
    "run_evaluation",
    "summarize",
    "write_results",
]

log = logging.getLogger(__name__)

#: Rows of the Table-1 summary: (metric key, label). ``flux_cc*`` rows are computed across
#: pairs from the flux columns; the others are mean +- std of a per-pair column.
SUMMARY_ROWS = (
    ("cc", "Pixel-to-pixel CC"),
    ("cc_binned", "Binned pixel CC"),
    ("flux_cc", "Total unsigned flux CC"),
    ("r1", "Total unsigned flux R1"),
    ("r2", "Magnetic field R2"),
    ("rmse_ssim", "RMSE-SSIM E (Eq. 9)"),
    ("rmse", "RMSE (normalised)"),
    ("ssim", "SSIM"),
    ("psnr", "PSNR (dB)"),
    ("cc_ar", "Active regions: pixel CC"),
    ("flux_cc_ar", "Active regions: flux CC"),
    ("r1_ar", "Active regions: flux R1"),
    ("r2_ar", "Active regions: field R2"),
    ("cc_qs", "Quiet Sun: pixel CC"),
    ("flux_cc_qs", "Quiet Sun: flux CC"),
    ("r1_qs", "Quiet Sun: flux R1"),
    ("r2_qs", "Quiet Sun: field R2"),
)


class EvaluationPair(NamedTuple):
    """
    One true / generated pair.

    Parameters
    ----------
    truth : `~sunpy.map.GenericMap` or numpy.ndarray
        Observed magnetogram (map with a field unit, or model-grid array in Gauss).
    generated : `~sunpy.map.GenericMap` or numpy.ndarray
        Magnetogram to evaluate, of the same kind as ``truth``.
    input : `~sunpy.map.GenericMap` or numpy.ndarray, optional
        The EUV input, shown in the comparison figures only.
    pair_id : str, optional
        Name of the pair in the tables (its position in the data set by default).
    mask : numpy.ndarray, optional
        Boolean mask of valid pixels on the (aligned) grid, e.g. a `PairStore` disk mask;
        metrics use it in addition to the disk.
    """

    truth: Any
    generated: Any
    input: Any = None
    pair_id: str | None = None
    mask: Any = None


@dataclass
class EvaluationResult:
    """
    What `run_evaluation` produced.

    Parameters
    ----------
    table : `~astropy.table.QTable`
        Per-pair metrics (`evaluate_pairs`).
    summary : `~astropy.table.QTable`
        Table-1 summary (`summarize`).
    files : dict
        Name -> `~pathlib.Path` of every file written.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.evaluation import run_evaluation
    >>> rng = np.random.default_rng(2)
    >>> pairs = [(t, t + rng.normal(0, 30, t.shape)) for t in rng.normal(0, 300, (3, 64, 64))]
    >>> result = run_evaluation(pairs, tmp_path / "eval", n_figures=0)
    >>> len(result.table), str(result.summary["key"][0]), sorted(result.files)[:2]
    (3, 'cc', ['flux_scatter', 'per_pair_csv'])
    """

    table: QTable
    summary: QTable
    files: dict


def _as_pair(item, index):
    if isinstance(item, EvaluationPair):
        pair = item
    elif isinstance(item, tuple | list) and 2 <= len(item) <= 5:
        pair = EvaluationPair(*item)
    else:
        raise TypeError(
            f"pair {index}: expected an EvaluationPair or a (truth, generated[, input]) tuple, got {type(item).__name__}"
        )
    if pair.pair_id is None:
        pair = pair._replace(pair_id=f"pair{index:05d}")
    return pair


def _as_gauss(x):
    if isinstance(x, u.Quantity):
        return x.to_value(u.G)
    return np.asarray(x, dtype=np.float64)


def _is_map(x):
    from sunpy.map import GenericMap

    return isinstance(x, GenericMap)


def _evaluate(pair, settings, reproject, nan_policy):
    """Metrics of one pair, plus the aligned truth and generated (maps or arrays)."""
    truth, generated = pair.truth, pair.generated
    if _is_map(truth) and _is_map(generated):
        truth, generated, b_true, b_gen, geometry = aligned_fields(
            truth, generated, reproject=reproject, nan_policy=nan_policy, mu_min=settings.mu_min
        )
        date = truth.date.isot
    elif not (_is_map(truth) or _is_map(generated)):
        b_true = _as_gauss(truth)
        b_gen = _as_gauss(generated)
        if b_true.ndim != 2 or b_true.shape[0] != b_true.shape[1] or b_true.shape != b_gen.shape:
            raise InputMapError(
                f"pair {pair.pair_id}: arrays must be square model-grid images of the same shape, "
                f"got {b_true.shape} and {b_gen.shape}"
            )
        geometry = grid_geometry(b_true.shape[0])
        date = ""
        disk = geometry.mask(settings.mu_min)
        if pair.mask is not None:
            disk &= np.asarray(pair.mask, dtype=bool)
        check_nans(b_true, disk, nan_policy, what=f"the truth of pair {pair.pair_id}")
        check_nans(b_gen, disk, nan_policy, what=f"the generated field of pair {pair.pair_id}")
    else:
        raise InputMapError(
            f"pair {pair.pair_id}: truth and generated must both be maps or both be arrays, got "
            f"{type(truth).__name__} and {type(generated).__name__}"
        )
    row = {"pair_id": str(pair.pair_id), "date": date}
    row.update(pair_metrics(b_true, b_gen, geometry, mask=pair.mask, settings=settings))
    return row, truth, generated


def evaluate_pair(pair, *, settings=None, reproject=False, nan_policy="raise"):
    """
    Metrics of one pair.

    Parameters
    ----------
    pair : EvaluationPair or tuple
        ``(truth, generated[, input[, pair_id[, mask]]])``.
    settings : `~sunpy_magnetogan.metrics.MetricSettings`, optional
        Metric options.
    reproject : {False, True, "generated", "truth"}, optional
        For maps that do not share a grid and observer (see
        `~sunpy_magnetogan.metrics.align_maps`); False raises.
    nan_policy : {"raise", "omit"}, optional
        Non-finite pixels on the disk raise (default) or are left out.

    Returns
    -------
    dict
        ``pair_id``, ``date`` (ISO time of the truth map, empty for arrays) and the keys of
        `~sunpy_magnetogan.metrics.METRIC_NAMES`.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.evaluation import evaluate_pair
    >>> truth = np.random.default_rng(0).normal(0, 200, (64, 64))
    >>> row = evaluate_pair((truth, -truth))  # every polarity reversed
    >>> round(row["cc"], 3), round(row["r1"], 3)
    (-1.0, 0.0)
    """
    row, _, _ = _evaluate(_as_pair(pair, 0), settings or MetricSettings(), reproject, nan_policy)
    return row


def _iterate(pairs, settings, reproject, nan_policy, progress):
    from tqdm.auto import tqdm

    total = len(pairs) if hasattr(pairs, "__len__") else None
    for index, item in enumerate(
        tqdm(pairs, total=total, disable=not progress, desc="evaluating", unit="pair")
    ):
        pair = _as_pair(item, index)
        row, truth, generated = _evaluate(pair, settings, reproject, nan_policy)
        log.info("pair %s: CC %.3f, R1 %.3f, R2 %.3f", pair.pair_id, row["cc"], row["r1"], row["r2"])
        yield pair, row, truth, generated


def _rows_to_table(rows, settings):
    if not rows:
        raise MagnetoGANError("no pairs to evaluate")
    table = QTable()
    table["pair_id"] = [r["pair_id"] for r in rows]
    table["date"] = [r["date"] for r in rows]
    for name in METRIC_NAMES:
        values = [r[name] for r in rows]
        if isinstance(values[0], u.Quantity):
            table[name] = u.Quantity(values).to(u.Mx)
        else:
            table[name] = np.asarray(values)
    table.meta["settings"] = settings.to_dict()
    return table


def evaluate_pairs(pairs, *, settings=None, reproject=False, nan_policy="raise", progress=False):
    """
    Per-pair metrics of a data set of pairs.

    Parameters
    ----------
    pairs : iterable
        `EvaluationPair` items or ``(truth, generated[, input])`` tuples (e.g.
        `MapFilePairs`, `StorePairs`, a list, a generator).
    settings : `~sunpy_magnetogan.metrics.MetricSettings`, optional
        Metric options (saved in ``table.meta["settings"]``).
    reproject : {False, True, "generated", "truth"}, optional
        See `evaluate_pair`.
    nan_policy : {"raise", "omit"}, optional
        See `evaluate_pair`.
    progress : bool, optional
        Show a tqdm progress bar.

    Returns
    -------
    `~astropy.table.QTable`
        One row per pair: ``pair_id``, ``date`` and the metrics of
        `~sunpy_magnetogan.metrics.pair_metrics` (flux columns in Mx).

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.evaluation import evaluate_pairs, summarize
    >>> rng = np.random.default_rng(1)
    >>> truths = [rng.normal(0, 200, (64, 64)) for _ in range(3)]
    >>> table = evaluate_pairs([(t, t + rng.normal(0, 20, t.shape)) for t in truths])
    >>> len(table), table["flux_true"].unit
    (3, Unit("Mx"))
    """
    settings = settings or MetricSettings()
    rows = [row for _, row, _, _ in _iterate(pairs, settings, reproject, nan_policy, progress)]
    return _rows_to_table(rows, settings)


def summarize(table):
    """
    The paper's Table 1 layout: mean and standard deviation over pairs of each metric.

    Parameters
    ----------
    table : `~astropy.table.QTable`
        Output of `evaluate_pairs`.

    Returns
    -------
    `~astropy.table.QTable`
        Columns ``key``, ``metric`` (label), ``mean``, ``std`` (sample standard deviation,
        ``ddof=1``; NaN for the flux CCs, which are single values across the pairs, and for
        a single pair) and ``n`` (pairs with a finite value). Non-finite per-pair values
        (e.g. R1 of a region without flux) are left out.
    """
    bin_size = table.meta.get("settings", {}).get("bin_size", 8)
    keys, labels, means, stds, counts = [], [], [], [], []
    for key, label in SUMMARY_ROWS:
        if key.startswith("flux_cc"):
            suffix = key[len("flux_cc") :]
            t = u.Quantity(table[f"flux_true{suffix}"]).to_value(u.Mx)
            g = u.Quantity(table[f"flux_generated{suffix}"]).to_value(u.Mx)
            n = int(np.sum(np.isfinite(t) & np.isfinite(g)))
            mean, std = flux_cc(t, g), np.nan
        else:
            values = np.asarray(table[key], dtype=np.float64)
            values = values[np.isfinite(values)]
            n = values.size
            mean = float(values.mean()) if n else np.nan
            std = float(values.std(ddof=1)) if n > 1 else np.nan
        if key == "cc_binned":
            label = f"{label} ({bin_size}x{bin_size} px)"
        keys.append(key)
        labels.append(label)
        means.append(mean)
        stds.append(std)
        counts.append(n)
    summary = QTable({"key": keys, "metric": labels, "mean": means, "std": stds, "n": counts})
    summary.meta["n_pairs"] = len(table)
    summary.meta["settings"] = dict(table.meta.get("settings", {}))
    return summary


def format_summary(summary):
    """
    Text rendering of `summarize`'s table, one metric per line as ``mean +- std``.

    Parameters
    ----------
    summary : `~astropy.table.QTable`
        Output of `summarize`.

    Returns
    -------
    str
    """
    width = max(len(m) for m in summary["metric"])
    lines = [f"{'Metric':<{width}}  Value (mean ± std over {summary.meta.get('n_pairs', '?')} pairs)"]
    lines.append("-" * len(lines[0]))
    for row in summary:
        digits = 2 if row["key"] == "psnr" else 3
        if not np.isfinite(row["mean"]):
            value = "n/a"
        elif np.isfinite(row["std"]):
            value = f"{row['mean']:.{digits}f} ± {row['std']:.{digits}f}"
        else:
            value = f"{row['mean']:.{digits}f}"
        lines.append(f"{row['metric']:<{width}}  {value}")
    return "\n".join(lines)


def write_results(output_dir, table, summary):
    """
    Write the per-pair table and the summary.

    Files: ``per_pair.csv`` (plain CSV with the table's column names; the flux columns in
    Mx, ``psnr`` in dB, the other metrics dimensionless), ``per_pair.ecsv`` (the same with
    units and the settings in its header), ``summary.ecsv``, ``summary.txt``
    (`format_summary`) and ``settings.json``.

    Parameters
    ----------
    output_dir : str or os.PathLike
        Directory, created if needed.
    table : `~astropy.table.QTable`
        Output of `evaluate_pairs`.
    summary : `~astropy.table.QTable`
        Output of `summarize`.

    Returns
    -------
    dict
        Name -> `~pathlib.Path` of each file written.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.evaluation import evaluate_pairs, summarize, write_results
    >>> truths = np.random.default_rng(3).normal(0, 300, (2, 64, 64))
    >>> table = evaluate_pairs([(t, t) for t in truths])
    >>> files = write_results(tmp_path / "out", table, summarize(table))
    >>> sorted(path.name for path in files.values())
    ['per_pair.csv', 'per_pair.ecsv', 'settings.json', 'summary.ecsv', 'summary.txt']
    """
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    files = {
        "per_pair_csv": out / "per_pair.csv",
        "per_pair_ecsv": out / "per_pair.ecsv",
        "summary_ecsv": out / "summary.ecsv",
        "summary_txt": out / "summary.txt",
        "settings": out / "settings.json",
    }
    csv_table = QTable(table, copy=True)
    csv_table.meta = {}
    for name in csv_table.colnames:
        if isinstance(csv_table[name], u.Quantity):
            csv_table[name] = csv_table[name].to_value(u.Mx)
    csv_table.write(files["per_pair_csv"], format="ascii.csv", overwrite=True)
    table.write(files["per_pair_ecsv"], format="ascii.ecsv", overwrite=True)
    summary.write(files["summary_ecsv"], format="ascii.ecsv", overwrite=True)
    files["summary_txt"].write_text(format_summary(summary) + "\n")
    files["settings"].write_text(json.dumps(table.meta.get("settings", {}), indent=2, sort_keys=True) + "\n")
    return files


def run_evaluation(
    pairs,
    output_dir,
    *,
    settings=None,
    reproject=False,
    nan_policy="raise",
    n_figures=4,
    progress=False,
    figure_format="png",
):
    """
    Evaluate a data set of pairs and write tables, CSV and figures.

    Parameters
    ----------
    pairs : iterable
        As `evaluate_pairs`.
    output_dir : str or os.PathLike
        Where to write (see `write_results`); figures go to ``figures/``:
        ``comparison_<pair_id>`` for the first ``n_figures`` pairs and ``flux_scatter``.
    settings : `~sunpy_magnetogan.metrics.MetricSettings`, optional
        Metric options.
    reproject, nan_policy : optional
        As `evaluate_pair`.
    n_figures : int, optional
        Number of pairs (the first ones) that get a comparison figure.
    progress : bool, optional
        Show a tqdm progress bar.
    figure_format : str, optional
        File format of the figures.

    Returns
    -------
    EvaluationResult

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.evaluation import run_evaluation
    >>> rng = np.random.default_rng(1)
    >>> pairs = [(t, 0.8 * t) for t in rng.normal(0, 300, (2, 64, 64))]
    >>> result = run_evaluation(pairs, tmp_path / "evaluation", n_figures=1)
    >>> sorted(p.name for p in (tmp_path / "evaluation" / "figures").iterdir())
    ['comparison_pair00000.png', 'flux_scatter.png']
    >>> print((tmp_path / "evaluation" / "summary.txt").read_text().splitlines()[2])
    Pixel-to-pixel CC         1.000 ± 0.000
    """
    settings = settings or MetricSettings()
    fig_dir = Path(output_dir) / "figures"
    rows, figure_files = [], {}
    for pair, row, truth, generated in _iterate(pairs, settings, reproject, nan_policy, progress):
        rows.append(row)
        if len(rows) <= n_figures:
            fig_dir.mkdir(parents=True, exist_ok=True)
            fig = plot_comparison(truth, generated, pair.input, mask=pair.mask, title=str(pair.pair_id))
            path = fig_dir / f"comparison_{pair.pair_id}.{figure_format}"
            fig.savefig(path, dpi=100)
            figure_files[f"comparison_{pair.pair_id}"] = path
    table = _rows_to_table(rows, settings)
    summary = summarize(table)
    files = write_results(output_dir, table, summary)
    fig_dir.mkdir(parents=True, exist_ok=True)
    ax = plot_flux_scatter(table)
    path = fig_dir / f"flux_scatter.{figure_format}"
    ax.figure.savefig(path, dpi=100)
    files.update(figure_files)
    files["flux_scatter"] = path
    log.info("evaluation of %d pairs written to %s", len(table), output_dir)
    return EvaluationResult(table=table, summary=summary, files=files)

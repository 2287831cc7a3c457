"""
``sunpy-magnetogan demo``: the whole main job on the packaged sample, offline.

Reads the packaged synthetic AIA 304 A sample, generates its magnetogram with the embedded
default model, writes the magnetogram as FITS and a PNG comparing input, ground truth,
generated magnetogram and difference, and prints the paper's metrics for the pair.
"""

import logging
from pathlib import Path

from sunpy_magnetogan.cli.generate import add_arguments

__all__ = ["METRIC_LABELS", "add_parser", "format_metrics", "run", "run_demo"]

#: The demo's metrics, in the order printed: key of `~sunpy_magnetogan.metrics.compare_maps`,
#: what it is, and how to print it with its unit ({bin} and {sat} are the settings' bin size
#: and saturation; the fluxes are Quantities in Mx).
METRIC_LABELS = (
    ("cc", "pixel-to-pixel correlation coefficient (1 is perfect)", "{:.3f}"),
    ("cc_binned", "correlation coefficient of {bin}x{bin} px binned maps", "{:.3f}"),
    ("flux_true", "total unsigned flux, truth", "{:.3e}"),
    ("flux_generated", "total unsigned flux, generated", "{:.3e}"),
    ("r1", "R1, relative error of the total unsigned flux (0 is perfect)", "{:.3f}"),
    ("r2", "R2, squared field error / squared true field (0 is perfect)", "{:.3f}"),
    ("rmse_ssim", "(RMSE + 1 - SSIM) / 2 of the fields clipped to +-{sat} (0 is perfect)", "{:.3f}"),
    ("psnr", "peak signal-to-noise ratio of the fields clipped to +-{sat}", "{:.1f} dB"),
)

log = logging.getLogger(__name__)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "demo",
        help="generate a magnetogram for the packaged sample (offline) and compare it with the truth",
        description=__doc__,
    )
    parser.add_argument(
        "-o",
        "--output-dir",
        type=Path,
        default=Path("magnetogan-demo"),
        help="output folder (default: %(default)s)",
    )
    add_arguments(parser)
    return parser


def run_demo(output_dir, *, model="default", device=None, precision="auto"):
    """
    Run the demo; returns the paths written and the metrics of the pair.

    Parameters
    ----------
    output_dir : str or os.PathLike
        Folder for ``sample_magnetogram.fits`` and ``sample_comparison.png``.
    model, device, precision
        As for `~sunpy_magnetogan.generate.generate_magnetogram`.

    Returns
    -------
    paths : dict
        ``{"fits": Path, "png": Path}``.
    metrics : dict
        The pair's metrics (see `~sunpy_magnetogan.metrics.compare_maps`).
    """
    # Imported here, not at the top: `sunpy-magnetogan --help` must not pay for them.
    import matplotlib

    matplotlib.use("Agg")
    import sunpy.map

    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.evaluation import plot_comparison
    from sunpy_magnetogan.generate import generate_magnetogram
    from sunpy_magnetogan.grid import ModelGrid
    from sunpy_magnetogan.metrics import compare_maps
    from sunpy_magnetogan.output import magnetogram_map
    from sunpy_magnetogan.preprocess import prepare_magnetogram_map
    from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    from sunpy_magnetogan.weights.cache import ensure_writable_dir

    output_dir = ensure_writable_dir(output_dir)
    aia = sunpy.map.Map(SAMPLE_AIA304)
    generated = generate_magnetogram(aia, model=model, device=device, precision=precision)
    # The truth on the same model grid as the generated map.
    truth_prepared = prepare_magnetogram_map(
        sunpy.map.Map(SAMPLE_HMI), grid=ModelGrid(generated.data.shape[0])
    )
    truth = magnetogram_map(truth_prepared.data, truth_prepared.geometry, model_name="synthetic truth")
    metrics = compare_maps(truth, generated, nan_policy="omit")
    fits_path = output_dir / "sample_magnetogram.fits"
    generated.save(fits_path, overwrite=True)
    # A grey scale chosen from the truth (+-300 G for the sample: its 99.9th percentile of
    # |B|, 262 G, rounded up), the same for the fields and their difference.
    figure = plot_comparison(truth, generated, input=aia, title=f"{generated.name} vs synthetic truth")
    png_path = output_dir / "sample_comparison.png"
    figure.savefig(png_path, dpi=110)
    return {"fits": fits_path, "png": png_path}, metrics


def format_metrics(metrics, settings=None):
    """
    The demo's metrics as lines of text, each named with its unit.

    Parameters
    ----------
    metrics : dict
        From `~sunpy_magnetogan.metrics.compare_maps`.
    settings : `~sunpy_magnetogan.metrics.MetricSettings`, optional
        The settings they were computed with (the defaults by default).

    Returns
    -------
    list of str
        A heading, then one line per metric.
    """
    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.metrics import MetricSettings

    settings = settings or MetricSettings()
    names = {"bin": settings.bin_size, "sat": f"{settings.saturation:g}"}
    labels = [(key, label.format(**names), style) for key, label, style in METRIC_LABELS]
    width = max(len(label) for _, label, _ in labels)
    heading = (
        f"the generated map against the synthetic ground truth, on the solar disk (mu > {settings.mu_min:g}; "
        f"fluxes of |B| > {settings.threshold:g}):"
    )
    return [heading, *(f"  {label:<{width}}  {style.format(metrics[key])}" for key, label, style in labels)]


def run(args):
    paths, metrics = run_demo(args.output_dir, model=args.model, device=args.device, precision=args.precision)
    lines = [
        f"magnetogram: {paths['fits']}",
        f"comparison:  {paths['png']}",
        *format_metrics(metrics),
    ]
    print("\n".join(lines))  # noqa: T201 - the command's output
    return 0

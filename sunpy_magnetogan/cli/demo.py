"""
``sunpy-magnetogan demo``: the whole main job on the packaged sample, offline.

Reads the packaged synthetic AIA 304 A sample, generates its magnetogram with the embedded
default model, writes the magnetogram as FITS and a PNG comparing input, ground truth,
generated magnetogram and difference, and prints the paper's metrics for the pair.
"""

import logging
from pathlib import Path

from sunpy_magnetogan.cli.generate import add_arguments

__all__ = ["add_parser", "run", "run_demo"]

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

    from sunpy_magnetogan.evaluation_plots import plot_comparison
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
    figure = plot_comparison(truth, generated, input=aia, title=f"{generated.name} vs synthetic truth")
    png_path = output_dir / "sample_comparison.png"
    figure.savefig(png_path, dpi=110)
    return {"fits": fits_path, "png": png_path}, metrics


def run(args):
    paths, metrics = run_demo(args.output_dir, model=args.model, device=args.device, precision=args.precision)
    lines = [
        f"magnetogram: {paths['fits']}",
        f"comparison:  {paths['png']}",
        "metrics against the synthetic ground truth (on the disk):",
    ]
    for key in ("cc", "cc_binned", "r1", "r2", "rmse_ssim", "psnr"):
        lines.append(f"  {key:<15} {float(metrics[key]):.3f}")
    for key in ("flux_true", "flux_generated"):
        lines.append(f"  {key:<15} {metrics[key]:.3e}")
    print("\n".join(lines))  # noqa: T201 - the command's output
    return 0

"""
``sunpy-magnetogan evaluate``: compare generated magnetograms with the truth.

``sunpy-magnetogan evaluate TRUTH_DIR GENERATED_DIR -o OUT`` matches FITS files of the same
name in the two directories, computes the per-pair metrics, prints the Table-1 summary and
writes ``OUT/per_pair.csv``, ``per_pair.ecsv``, ``summary.ecsv``, ``summary.txt``,
``settings.json`` and ``figures/`` (comparison panels of the first pairs and the flux
scatter plot).
"""

__all__ = ["METRIC_DEFAULTS", "add_parser", "build_pairs", "run"]

#: The defaults of `sunpy_magnetogan.metrics` (``DEFAULT_MU_MIN``, ``DEFAULT_THRESHOLD`` in G,
#: ``DEFAULT_SATURATION`` in G, ``DEFAULT_BIN_SIZE``), written out so that building the
#: parser does not import the metrics (a test checks they agree).
METRIC_DEFAULTS = {"mu_min": 0.1, "threshold": 10.0, "saturation": 3000.0, "bin_size": 8}


def add_parser(subparsers):
    """
    Register the ``evaluate`` sub-command.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The top-level parser's sub-parsers.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = subparsers.add_parser(
        "evaluate",
        help="compare generated magnetograms with the truth (paper's Table 1, CSV, figures)",
        description=(
            "Match FITS magnetograms by file name in TRUTH_DIR and GENERATED_DIR, compute the metrics "
            "(pixel and binned CC, flux CC, R1, R2, RMSE-SSIM, PSNR, active-region and quiet-Sun variants) "
            "on the solar disk, print the summary and write tables and figures to OUT."
        ),
    )
    parser.add_argument("truth_dir", metavar="TRUTH_DIR", help="directory of observed magnetograms (FITS)")
    parser.add_argument(
        "generated_dir", metavar="GENERATED_DIR", help="directory of generated magnetograms (FITS)"
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT", help="output directory")
    parser.add_argument(
        "--input-dir", metavar="DIR", help="EUV inputs with the same file names (shown in figures)"
    )
    parser.add_argument(
        "--reproject",
        choices=("none", "generated", "truth"),
        default="none",
        help="reproject maps that do not share a grid/observer: the generated map onto the truth's grid, "
        "or the truth onto the generated grid (default: none, mismatches are an error)",
    )
    parser.add_argument(
        "--nan-policy",
        choices=("raise", "omit"),
        default="raise",
        help="on-disk NaNs: error (default) or omit",
    )
    _add_metric_option(parser, "mu_min", "limb cut-off on mu")
    _add_metric_option(parser, "threshold", "noise threshold on |B_los| for fluxes, in G")
    parser.add_argument(
        "--radial-correction",
        action="store_true",
        help="fluxes of B_los/mu instead of B_los (area-corrected)",
    )
    _add_metric_option(parser, "saturation", "clip field for RMSE/SSIM/PSNR, in G")
    _add_metric_option(parser, "bin_size", "block size of the binned CC")
    parser.add_argument(
        "--figures",
        type=int,
        default=4,
        metavar="N",
        help="comparison figures for the first N pairs (default: %(default)s)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _add_metric_option(parser, name, help):
    """The option ``--NAME`` of a `METRIC_DEFAULTS` setting, of the type of its default."""
    default = METRIC_DEFAULTS[name]
    parser.add_argument(
        "--" + name.replace("_", "-"),
        type=type(default),
        default=default,
        help=f"{help} (default: %(default)s)",
    )


def build_pairs(args):
    """
    The pairs the command evaluates (files matched by name).

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    `~sunpy_magnetogan.evaluation.MapFilePairs`
    """
    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.evaluation import MapFilePairs

    return MapFilePairs(args.truth_dir, args.generated_dir, input_dir=args.input_dir)


def run(args):
    """
    Run the evaluation; returns the exit code.

    Parameters
    ----------
    args : argparse.Namespace
        Parsed arguments.

    Returns
    -------
    int
        0 on success.
    """
    import astropy.units as u

    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.evaluation import format_summary, run_evaluation
    from sunpy_magnetogan.exceptions import MagnetoGANError
    from sunpy_magnetogan.metrics import MetricSettings
    from sunpy_magnetogan.weights.cache import ensure_writable_dir

    try:
        settings = MetricSettings(
            mu_min=args.mu_min,
            threshold=args.threshold * u.G,
            radial_correction=args.radial_correction,
            saturation=args.saturation * u.G,
            bin_size=args.bin_size,
        )
        pairs = build_pairs(args)
    except (ValueError, FileNotFoundError) as exc:
        raise MagnetoGANError(str(exc)) from exc
    ensure_writable_dir(args.output)
    result = run_evaluation(
        pairs,
        args.output,
        settings=settings,
        reproject=False if args.reproject == "none" else args.reproject,
        nan_policy=args.nan_policy,
        n_figures=args.figures,
        progress=not args.no_progress,
    )
    print(format_summary(result.summary))  # noqa: T201 - the command's output
    print(f"\nwrote {len(result.files)} files to {args.output}")  # noqa: T201
    return 0

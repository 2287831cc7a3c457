"""
``sunpy-magnetogan generate INPUT... -o OUTDIR``: magnetograms from EUV 304 A files.
"""

import logging
from pathlib import Path

from sunpy_magnetogan.cli import EXIT_FAILED
from sunpy_magnetogan.cli._paths import check_input_files

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)


def add_arguments(parser):
    parser.add_argument("--model", default="default", help="registered model name (default: %(default)s)")
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: CUDA when available)")
    add_precision_argument(parser)


def add_precision_argument(parser):
    """The ``--precision`` option of the commands that run the model (``generate``, ``demo``, ``archive``)."""
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"], help="inference precision"
    )


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "generate",
        help="generate magnetograms from AIA/EUVI 304 A files",
        description=(
            "Generate a line-of-sight magnetogram (FITS, Gauss) for each EUV 304 A input file, named "
            "<input file name without suffix>_magnetogram.fits. Inputs whose output exists are skipped "
            "(run the command again to resume); two inputs that would give the same output name are "
            "refused before any work. An input that fails does not stop the others: the failures are "
            "listed at the end and the exit code is 1."
        ),
    )
    parser.add_argument("inputs", nargs="+", type=Path, help="AIA or EUVI 304 A files (FITS or JPEG2000)")
    parser.add_argument("-o", "--output-dir", type=Path, required=True, help="where to write the FITS files")
    parser.add_argument("--batch-size", type=int, default=4, help="maps per forward pass")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument(
        "--stop-on-error",
        action="store_true",
        help="stop at the first input that fails (after writing the good ones)",
    )
    parser.add_argument(
        "--prior",
        type=Path,
        default=None,
        help="an earlier magnetogram (FITS) whose signs the outputs take where it sees field (default: none)",
    )
    parser.add_argument(
        "--confidence",
        action="store_true",
        help="write each output with its polarity confidence as a second HDU (default: off)",
    )
    parser.add_argument(
        "--strength",
        choices=("raw", "calibrated"),
        default="raw",
        help="field strength: the raw least-squares field, or calibrated onto the true distribution "
        "(right quiet-Sun strength and unsigned flux on inputs like the training data) (default: raw)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_arguments(parser)
    return parser


def run(args):
    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.exceptions import BatchError
    from sunpy_magnetogan.generate import generate_magnetograms
    from sunpy_magnetogan.validation import read_map

    check_input_files(args.inputs + ([args.prior] if args.prior else []))
    prior = read_map(args.prior) if args.prior else None
    count = 0
    failures = []
    try:
        for _ in generate_magnetograms(
            args.inputs,
            model=args.model,
            device=args.device,
            precision=args.precision,
            batch_size=args.batch_size,
            output_dir=args.output_dir,
            overwrite=args.overwrite,
            progress=not args.no_progress,
            on_error="raise" if args.stop_on_error else "continue",
            prior=prior,
            confidence=args.confidence,
            strength=args.strength,
        ):
            count += 1
    except BatchError as exc:
        failures = exc.failures
    skipped = len(args.inputs) - count - len(failures)
    summary = f"wrote {count} magnetogram(s) to {args.output_dir}"
    if skipped:
        summary += f"; {skipped} skipped (output exists; --overwrite replaces)"
    if failures:
        summary += f"; {len(failures)} failed:"
    print(summary)  # noqa: T201 - the command's output
    for label, error in failures:
        print(f"  {label}: {' '.join(str(error).split())}")  # noqa: T201
    return EXIT_FAILED if failures else 0

"""
``sunpy-magnetogan generate INPUT... -o OUTDIR``: magnetograms from EUV 304 A files.
"""

import logging
from pathlib import Path

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)


def add_arguments(parser):
    parser.add_argument("--model", default="default", help="registered model name (default: %(default)s)")
    parser.add_argument("--device", default=None, help="cpu, cuda or cuda:N (default: CUDA when available)")
    parser.add_argument(
        "--precision", default="auto", choices=["auto", "fp32", "bf16", "fp16"], help="inference precision"
    )


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "generate",
        help="generate magnetograms from AIA/EUVI 304 A files",
        description="Generate a line-of-sight magnetogram (FITS, Gauss) for each EUV 304 A input file.",
    )
    parser.add_argument("inputs", nargs="+", type=Path, help="AIA or EUVI 304 A files (FITS or JPEG2000)")
    parser.add_argument("-o", "--output-dir", type=Path, required=True, help="where to write the FITS files")
    parser.add_argument("--batch-size", type=int, default=4, help="maps per forward pass")
    parser.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    add_arguments(parser)
    return parser


def run(args):
    from sunpy_magnetogan.generate import generate_magnetograms

    count = 0
    for _ in generate_magnetograms(
        args.inputs,
        model=args.model,
        device=args.device,
        precision=args.precision,
        batch_size=args.batch_size,
        output_dir=args.output_dir,
        overwrite=args.overwrite,
        progress=not args.no_progress,
    ):
        count += 1
    log.info("wrote %d magnetograms to %s", count, args.output_dir)
    return 0

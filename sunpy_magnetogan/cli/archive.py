"""
``sunpy-magnetogan archive INPUTS... -o OUT``: magnetograms for a whole archive on Dask.

Runs `sunpy_magnetogan.archive.generate_archive`: a local Dask cluster by default, or the
cluster of ``--scheduler ADDRESS``. Run the same command again to resume: finished files
are skipped, failed and missing ones are (re)made. The exit code is 0 when every file is
done, 1 when some failed (listed in ``OUT/manifest.jsonl``).
"""

import logging
from pathlib import Path

from sunpy_magnetogan.cli._types import positive_int
from sunpy_magnetogan.cli.generate import add_precision_argument

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)


def add_parser(subparsers):
    """
    Register the ``archive`` sub-command.

    Parameters
    ----------
    subparsers : argparse._SubParsersAction
        The sub-parsers of the top-level parser.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = subparsers.add_parser(
        "archive",
        help="generate magnetograms for thousands of files on a Dask cluster (restartable)",
        description=(
            "Generate a magnetogram FITS file for every AIA/EUVI 304 A input on a Dask cluster, "
            "with a manifest; run again to resume (valid outputs are skipped, failed files retried)."
        ),
    )
    parser.add_argument(
        "inputs", nargs="+", type=Path, help="EUV 304 A files (FITS or JPEG2000) or directories of them"
    )
    parser.add_argument("-o", "--output-dir", type=Path, required=True, help="where outputs and manifest go")
    parser.add_argument("--model", default="default", help="registered model name or .safetensors file")
    parser.add_argument(
        "--scheduler",
        default=None,
        metavar="ADDRESS",
        help="Dask scheduler address (default: a local cluster)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=None,
        help="worker processes of the local cluster (default: Dask's, one per CPU core / --threads-per-worker)",
    )
    parser.add_argument(
        "--threads-per-worker",
        type=positive_int,
        default=1,
        help="tasks at once per local worker (default: 1)",
    )
    parser.add_argument(
        "--torch-threads", type=int, default=None, help="torch threads per worker process (default: torch's)"
    )
    parser.add_argument("--retries", type=int, default=2, help="retries of a failing file (default: 2)")
    parser.add_argument("--device", default="cpu", help="torch device of the workers (default: cpu)")
    add_precision_argument(parser)
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def run(args):
    """
    Run the ``archive`` sub-command.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed arguments.

    Returns
    -------
    int
        0 if every file is done, 1 if some failed.
    """
    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.archive import MANIFEST_NAME, generate_archive
    from sunpy_magnetogan.weights.cache import ensure_writable_dir

    ensure_writable_dir(args.output_dir)
    records = generate_archive(
        args.inputs,
        args.output_dir,
        model=args.model,
        scheduler=args.scheduler,
        n_workers=args.workers,
        threads_per_worker=args.threads_per_worker,
        torch_threads=args.torch_threads,
        retries=args.retries,
        device=args.device,
        precision=args.precision,
        progress=not args.no_progress,
    )
    counts = {status: sum(r.status == status for r in records) for status in ("done", "skipped", "failed")}
    print(  # noqa: T201 - the command's output
        f"{counts['done']} generated, {counts['skipped']} already done, {counts['failed']} failed "
        f"(manifest: {args.output_dir / MANIFEST_NAME})"
    )
    for record in records:
        if record.status == "failed":
            print(f"failed: {record.input}: {record.error}")  # noqa: T201
    return 1 if counts["failed"] else 0

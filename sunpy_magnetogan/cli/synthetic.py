"""
``sunpy-magnetogan synthetic DIR``: write synthetic training / test pairs (a pair store).
"""

import logging
import time
from pathlib import Path

from sunpy_magnetogan.cli._types import positive_int

__all__ = ["SPLIT_NAMES", "add_parser", "run"]

#: The names of `sunpy_magnetogan.synthetic.dataset.BENCHMARK_SPLIT`, written out so that
#: building the parser does not import the synthetic Sun (a test checks they agree).
SPLIT_NAMES = ("test", "test_cycle25", "test_euvi", "test_overlap", "test_solo", "train", "train_euvi", "val")

log = logging.getLogger(__name__)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "synthetic",
        help="write synthetic EUV 304 / magnetogram pairs on the model grid (resumable)",
        description=(
            "Generate pairs of the fixed synthetic benchmark split into a pair store that "
            "`sunpy-magnetogan train` reads. Re-running the command resumes: pairs already "
            "written are skipped."
        ),
    )
    parser.add_argument("directory", type=Path, help="the pair store to create or extend")
    parser.add_argument(
        "--split",
        action="append",
        choices=SPLIT_NAMES,
        help="benchmark split(s) to write (repeatable; default: train and test)",
    )
    parser.add_argument(
        "--max-pairs",
        type=int,
        default=None,
        help="at most this many new pairs per split (default: all of the split)",
    )
    parser.add_argument("--npix", type=int, default=512, help="size of the synthetic instrument images")
    parser.add_argument("--grid-size", type=int, default=512, help="size of the model grid")
    parser.add_argument(
        "--euv-normalization",
        choices=("quiet-sun", "percentile"),
        default="quiet-sun",
        help=(
            "EUV normalisation of the stored images: contrast to the quiet Sun on a fixed log scale "
            "(default) or the paper's per-image 1-99 percentile stretch"
        ),
    )
    parser.add_argument(
        "--spot-inclination",
        type=float,
        default=0.0,
        help=(
            "tan of the sunspot field's inclination from the vertical at one source width "
            "(default 0: radial fields; about 1 for observed penumbrae)"
        ),
    )
    parser.add_argument(
        "--plage-inclination",
        type=float,
        default=0.0,
        help="tan of the plage field's inclination at one source width (default 0: radial)",
    )
    parser.add_argument(
        "--workers",
        type=positive_int,
        default=1,
        help="processes observing the pairs, one synthetic Sun at a time each (default 1: none; same pairs)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def run(args):
    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.normalization import EUVNormalization, QuietSunNormalization
    from sunpy_magnetogan.synthetic.dataset import write_synthetic_dataset
    from sunpy_magnetogan.synthetic.sources import FluxModel
    from sunpy_magnetogan.weights.cache import ensure_writable_dir

    ensure_writable_dir(args.directory, what="pair store folder")

    normalization = QuietSunNormalization() if args.euv_normalization == "quiet-sun" else EUVNormalization()
    flux_model = FluxModel(spot_inclination=args.spot_inclination, plage_inclination=args.plage_inclination)
    for split in args.split or ["train", "test"]:
        t0 = time.perf_counter()
        store = write_synthetic_dataset(
            args.directory,
            split=split,
            npix=args.npix,
            grid_size=args.grid_size,
            max_pairs=args.max_pairs,
            euv_normalization=normalization,
            progress=not args.no_progress,
            flux_model=flux_model,
            workers=args.workers,
        )
        elapsed = time.perf_counter() - t0
        print(f"{split}: {len(store.ids(split))} pairs in {args.directory} ({elapsed:.0f} s)")  # noqa: T201
    return 0

"""
``sunpy-magnetogan prepare``: turn a fetch directory into a training-ready pair store.
"""

import json
import logging
from pathlib import Path

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "prepare",
        help="calibrate, quality-check and grid downloaded AIA/HMI pairs into a training dataset",
        description=(
            "Read the pairs planned and downloaded by `sunpy-magnetogan fetch`, reject bad observations "
            "(QUALITY flags, eclipses, missing data), calibrate AIA with aiapy, put AIA and HMI on the model "
            "grid with the inference preprocessing and write a pair store. Interrupted runs resume."
        ),
    )
    parser.add_argument("fetch_dir", help="directory written by `sunpy-magnetogan fetch`")
    parser.add_argument("out_dir", help="pair store to create or extend")
    parser.add_argument("--grid-size", type=int, default=512, help="N of the N x N arrays (default: 512)")
    parser.add_argument(
        "--calibration-tables",
        choices=("none", "jsoc", "lmsal+ssw"),
        default="none",
        help=(
            "AIA pointing and degradation tables: none (offline: those steps are skipped), jsoc, or "
            "lmsal+ssw (pointing from aia.lmsal.com, degradation from SSW); needs the network"
        ),
    )
    parser.add_argument(
        "--no-register",
        action="store_true",
        help="skip aiapy registration (the grid resampling corrects roll/scale)",
    )
    parser.add_argument(
        "--max-missing",
        type=float,
        default=0.01,
        help="largest accepted fraction of missing pixels (default: 0.01)",
    )
    parser.add_argument("--reject-nrt", action="store_true", help="also reject AIA near-real-time images")
    parser.add_argument(
        "--max-dt", type=float, default=15.0, help="largest AIA-HMI time difference in minutes (default: 15)"
    )
    parser.add_argument(
        "--limit", type=int, default=None, help="prepare at most this many pairs (default: all)"
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    return parser


def _tables(choice, fetch_dir):
    if choice == "none":
        return None
    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.data.calibrate import CalibrationTables
    from sunpy_magnetogan.data.download import SETTINGS_FILE

    settings_file = Path(fetch_dir) / SETTINGS_FILE
    if not settings_file.is_file():
        raise FileNotFoundError(f"no {SETTINGS_FILE} in {fetch_dir}: run `sunpy-magnetogan fetch` first")
    settings = json.loads(settings_file.read_text())
    if choice == "jsoc":
        return CalibrationTables.fetch(
            settings["start"], settings["end"], pointing_source="jsoc", correction_source="jsoc"
        )
    return CalibrationTables.fetch(
        settings["start"], settings["end"], pointing_source="lmsal", correction_source="ssw"
    )


def run(args):
    import astropy.units as u

    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.data.calibrate import QualityPolicy
    from sunpy_magnetogan.data.prepare import prepare_dataset

    policy = QualityPolicy(max_missing_fraction=args.max_missing, reject_near_real_time=args.reject_nrt)
    report = prepare_dataset(
        args.fetch_dir,
        args.out_dir,
        grid_size=args.grid_size,
        tables=_tables(args.calibration_tables, args.fetch_dir),
        register=not args.no_register,
        policy=policy,
        max_time_difference=args.max_dt * u.min,
        limit=args.limit,
        progress=not args.no_progress,
    )
    print(  # noqa: T201
        f"added: {len(report.added)}; already done: {len(report.skipped)}; rejected: {len(report.rejected)}; "
        f"failed: {len(report.failed)}; not downloaded: {len(report.not_downloaded)}"
    )
    for pair_id, reason in list(report.rejected.items())[:10]:
        log.info("rejected %s: %s", pair_id, reason)
    for pair_id, reason in list(report.failed.items())[:10]:
        log.warning("failed %s: %s", pair_id, reason)
    if report.reference is not None:
        print(f"AIA reference distribution of {report.reference.n_images} training images written")  # noqa: T201
    return 1 if report.failed else 0

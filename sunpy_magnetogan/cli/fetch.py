"""
``sunpy-magnetogan fetch``: search, pair and download real observations, resumably.
"""

import logging

__all__ = ["add_parser", "parse_int_list", "parse_years", "run"]

log = logging.getLogger(__name__)

_SOURCE_SETS = {
    "sdo": ("aia304", "hmi_los"),
    "stereo-a": ("euvi304_a",),
    "stereo-b": ("euvi304_b",),
}


def parse_int_list(text):
    """
    ``"9,10"`` -> ``(9, 10)`` (months, hours); an empty string gives ``()``.

    Parameters
    ----------
    text : str

    Returns
    -------
    tuple of int
    """
    return tuple(int(m) for m in text.replace(" ", "").split(",") if m)


def parse_years(text):
    """
    ``"2011-2019"`` -> ``(2011, 2019)``, ``"2014"`` -> ``(2014, 2014)``, ``"all"`` -> ``(None, None)``.

    Parameters
    ----------
    text : str

    Returns
    -------
    tuple
    """
    text = text.strip().lower()
    if text in ("", "all", "any"):
        return None, None
    first, _, last = text.partition("-")
    return int(first), int(last or first)


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "fetch",
        help="download AIA 304 / HMI pairs (or EUVI far-side images) for a date range",
        description=(
            "Search the JSOC (or the VSO) with sunpy's Fido for observations at 00:00 and 12:00 UT, pair "
            "AIA 304 and HMI by time, assign the train/test split and download the files into DIRECTORY. "
            "Interrupted runs resume: run the same command again."
        ),
    )
    parser.add_argument("directory", help="fetch directory (created; re-use it to resume)")
    parser.add_argument(
        "--start", default="2011-01-01", help="first day (default: %(default)s, as the paper)"
    )
    parser.add_argument("--end", default="2019-12-31T23:59:59", help="last time (default: %(default)s)")
    parser.add_argument(
        "--source",
        choices=sorted(_SOURCE_SETS),
        default="sdo",
        help="sdo: AIA 304 + HMI training pairs; stereo-a / stereo-b: EUVI 304 far-side images",
    )
    parser.add_argument(
        "--provider", choices=("jsoc", "vso"), default=None, help="archive for SDO data (default: jsoc)"
    )
    parser.add_argument(
        "--email", default=None, help="JSOC-registered e-mail address (required for JSOC downloads)"
    )
    parser.add_argument("--hours", default="0,12", help="synoptic hours UT (default: %(default)s)")
    parser.add_argument(
        "--tolerance",
        type=float,
        default=30.0,
        help="minutes from a synoptic time to its EUV image (default: 30)",
    )
    parser.add_argument(
        "--pair-tolerance",
        type=float,
        default=15.0,
        help="minutes between the AIA and HMI of a pair (default: 15)",
    )
    parser.add_argument(
        "--test-months", default="9,10", help="months of the test split (default: %(default)s)"
    )
    parser.add_argument("--val-months", default="", help="months of an optional validation split")
    parser.add_argument("--years", default="2011-2019", help="years used for pairs (default: %(default)s)")
    parser.add_argument("--dry-run", action="store_true", help="search and plan only; download nothing")
    parser.add_argument("--batch-size", type=int, default=16, help="files per download batch (default: 16)")
    return parser


def run(args):
    import astropy.units as u

    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.data.download import fetch_dataset
    from sunpy_magnetogan.data.pairing import SplitRule

    first, last = parse_years(args.years)
    split = SplitRule(
        test_months=parse_int_list(args.test_months),
        first_year=first,
        last_year=last,
        validation_months=parse_int_list(args.val_months),
    )
    report = fetch_dataset(
        args.directory,
        args.start,
        args.end,
        sources=_SOURCE_SETS[args.source],
        provider=args.provider,
        notify=args.email,
        hours=parse_int_list(args.hours) if args.hours else (0, 12),
        tolerance=args.tolerance * u.min,
        pair_tolerance=args.pair_tolerance * u.min,
        split_rule=split,
        download=not args.dry_run,
        batch_size=args.batch_size,
    )
    splits = {}
    for plan in report.plans:
        splits[plan.split] = splits.get(plan.split, 0) + 1
    shown = ", ".join(f"{n} {name}" for name, n in sorted(splits.items())) or "none"
    print(f"planned: {len(report.plans)} ({shown}); files needed: {report.n_files}")  # noqa: T201
    if args.dry_run:
        print(f"dry run: nothing downloaded; plan in {report.directory / 'pairs.csv'}")  # noqa: T201
        return 0
    print(  # noqa: T201
        f"downloaded: {report.downloaded}; already there: {report.skipped}; failed: {len(report.failed)}"
    )
    if report.failed:
        for key, message in list(report.failed.items())[:10]:
            log.warning("%s: %s", key, message)
        print("some files failed; run the same command again to retry them")  # noqa: T201
        return 1
    return 0

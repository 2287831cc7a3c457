"""
``sunpy-magnetogan track``: detect and track active regions over magnetogram files.

Reads helioprojective magnetogram FITS files (real, synthetic or generated; any observers,
any order), detects the active regions of each, tracks them in Carrington coordinates, and
writes ``detections.ecsv``, ``tracks.ecsv``, ``flux_history.ecsv`` and, unless
``--no-plots``, ``tracks.png`` and ``flux_history.png`` to the output folder.
"""

import logging
from pathlib import Path

from sunpy_magnetogan.cli._paths import check_input_files

__all__ = ["OUTPUT_NAMES", "add_parser", "read_magnetogram", "run"]

log = logging.getLogger(__name__)

#: Files the command writes into the output folder.
OUTPUT_NAMES = ("detections.ecsv", "tracks.ecsv", "flux_history.ecsv", "tracks.png", "flux_history.png")


def add_parser(subparsers):
    """
    Register the ``track`` sub-command.

    Parameters
    ----------
    subparsers : argparse sub-parsers action

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = subparsers.add_parser(
        "track",
        help="detect and track active regions over magnetogram FITS files",
        description=(
            "Detect the active regions of each magnetogram, track them in Carrington coordinates "
            "and write detections.ecsv, tracks.ecsv, flux_history.ecsv, tracks.png and flux_history.png."
        ),
    )
    parser.add_argument(
        "files", nargs="+", type=Path, help="magnetogram FITS files (any order, any observer)"
    )
    parser.add_argument("-o", "--output-dir", type=Path, default=Path("."), help="output folder (default: .)")
    parser.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="threshold on the smoothed |B|, G (default: 50 for observed maps, 75 for generated ones)",
    )
    parser.add_argument("--smoothing", type=float, default=1.0, help="Gaussian smoothing sigma, deg")
    parser.add_argument("--min-area", type=float, default=250.0, help="smallest region area, MSH")
    parser.add_argument("--limb-mu", type=float, default=0.3, help="flag regions with mu below this")
    parser.add_argument(
        "--split-distance",
        type=float,
        default=10.0,
        help="split groups holding regions this far apart, deg (0: never)",
    )
    parser.add_argument("--gate", type=float, default=10.0, help="association gating distance, deg")
    parser.add_argument(
        "--max-gap", type=float, default=2.0, help="end a visible, undetected track after, days (2)"
    )
    parser.add_argument(
        "--max-unseen",
        type=float,
        default=27.0,
        help="end a track not detected for longer, even across a gap in the data, days (27)",
    )
    parser.add_argument(
        "--background",
        type=Path,
        help="Carrington map FITS (e.g. from 'sunpy-magnetogan synoptic') under the tracks",
    )
    parser.add_argument("--no-plots", action="store_true", help="write the tables only")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    return parser


def read_magnetogram(path):
    """
    Read one map from a FITS file.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    `~sunpy.map.GenericMap`

    Raises
    ------
    CorruptFileError
        If the file cannot be read as a map.
    InputMapError
        If it holds several maps.
    """
    import sunpy.map

    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.exceptions import CorruptFileError, InputMapError

    path = Path(path)
    if not path.is_file():
        raise CorruptFileError(f"{path}: no such file")
    try:
        smap = sunpy.map.Map(path)
    except Exception as exc:  # sunpy raises many kinds of errors on unreadable files
        raise CorruptFileError(f"{path}: cannot be read as a map ({exc})") from exc
    if isinstance(smap, list):
        raise InputMapError(f"{path}: holds {len(smap)} maps; give one magnetogram per file")
    return smap


def _read_background(path):
    """A Carrington map: the main map of a synoptic file, or any single-map FITS file."""
    from astropy.io import fits

    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.tracking import read_synoptic_map

    try:
        with fits.open(path) as hdus:
            is_synoptic = "COVERAGE" in hdus
    except OSError:
        is_synoptic = False
    return read_synoptic_map(path).map if is_synoptic else read_magnetogram(path)


def run(args):
    """
    Run the ``track`` sub-command; returns the exit code.

    Parameters
    ----------
    args : argparse.Namespace
    """
    import astropy.units as u
    from astropy.table import vstack

    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.tracking import (
        ActiveRegionTracker,
        detect_active_regions,
        plot_flux_history,
        plot_tracks,
    )
    from sunpy_magnetogan.weights.cache import ensure_writable_dir

    check_input_files(args.files)
    out_dir = Path(args.output_dir)
    names = OUTPUT_NAMES[:3] if args.no_plots else OUTPUT_NAMES
    existing = [name for name in names if (out_dir / name).exists()]
    if existing and not args.overwrite:
        log.error("%s already holds %s; pass --overwrite to replace them", out_dir, ", ".join(existing))
        return 1
    ensure_writable_dir(out_dir)

    options = {
        "threshold": None if args.threshold is None else args.threshold * u.G,
        "smoothing": args.smoothing * u.deg,
        "min_area": args.min_area * u.Unit("MSH"),
        "limb_mu": args.limb_mu,
        "split_distance": args.split_distance * u.deg,
    }
    tables = []
    for path in args.files:
        table = detect_active_regions(read_magnetogram(path), **options)
        table["file"] = [Path(path).name] * len(table)
        table.meta["file"] = Path(path).name
        tables.append(table)
        log.info("%s: %d region(s)", path, len(table))

    tracker = ActiveRegionTracker(
        gate=args.gate * u.deg, max_gap=args.max_gap * u.day, max_unseen=args.max_unseen * u.day
    )
    associated = [tracker.update(t) for t in sorted(tables, key=lambda t: t.meta["date"].jd)]
    detections = vstack(associated, metadata_conflicts="silent")
    detections.meta = {"options": {k: str(v) for k, v in options.items()}}
    tracks, history = tracker.result
    detections.write(out_dir / "detections.ecsv", overwrite=True)
    tracks.write(out_dir / "tracks.ecsv", overwrite=True)
    history.write(out_dir / "flux_history.ecsv", overwrite=True)

    if not args.no_plots:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        background = _read_background(args.background) if args.background else None
        ax = plot_tracks(history, tracks=tracks, background=background)
        ax.figure.savefig(out_dir / "tracks.png", dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
        ax = plot_flux_history(history)
        ax.figure.savefig(out_dir / "flux_history.png", dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
    print(  # noqa: T201 - the command's output
        f"{len(args.files)} map(s), {len(detections)} detection(s), {len(tracks)} track(s) -> {out_dir}"
    )
    return 0

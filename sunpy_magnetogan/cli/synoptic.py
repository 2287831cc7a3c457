"""
``sunpy-magnetogan synoptic``: a Carrington synoptic map from magnetogram files.

Combines helioprojective magnetogram FITS files from several observers and times (e.g.
SDO/HMI or generated frontside maps and generated farside maps) into one full-Sun
Carrington map, written as a FITS file with COVERAGE and SOURCE extensions, and
optionally a PNG with the part each source contributed outlined.
"""

import logging
from pathlib import Path

from ._paths import check_input_files
from .track import read_magnetogram

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)


def add_parser(subparsers):
    """
    Register the ``synoptic`` sub-command.

    Parameters
    ----------
    subparsers : argparse sub-parsers action

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = subparsers.add_parser(
        "synoptic",
        help="combine magnetogram FITS files into a Carrington synoptic map",
        description=(
            "Reproject magnetograms from several observers and times onto a full-Sun Carrington "
            "grid, weighted by mu, and write the map with its coverage and source maps."
        ),
    )
    parser.add_argument("files", nargs="+", type=Path, help="magnetogram FITS files")
    parser.add_argument("-o", "--output", type=Path, required=True, help="output FITS file")
    parser.add_argument("--png", type=Path, help="also draw the map, with each source's part outlined")
    parser.add_argument(
        "--labels", nargs="+", help="source label of each file (default: observatory/instrument of each map)"
    )
    parser.add_argument(
        "--shape",
        nargs=2,
        type=int,
        default=(180, 360),
        metavar=("NLAT", "NLON"),
        help="pixels of the map in latitude and longitude",
    )
    parser.add_argument("--projection", choices=("CAR", "CEA"), default="CAR", help="CAR (default) or CEA")
    parser.add_argument("--date", help="date of the map (default: mean time of the inputs)")
    parser.add_argument("--min-mu", type=float, default=0.1, help="ignore input pixels with mu below")
    parser.add_argument("--weight-power", type=float, default=2.0, help="weight = mu ** power")
    parser.add_argument(
        "--rotation-model",
        default="rigid",
        choices=("rigid", "howard", "snodgrass", "allen"),
        help="rigid: Carrington synoptic map (default); others add differential rotation to --date",
    )
    parser.add_argument("--los", action="store_true", help="map the line-of-sight field, not B_los / mu")
    parser.add_argument(
        "--max-span",
        type=float,
        default=27.2753,
        help="refuse inputs spread over more than this, days (27.2753, a Carrington rotation; inf: no limit)",
    )
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")
    return parser


def run(args):
    """
    Run the ``synoptic`` sub-command; returns the exit code.

    Parameters
    ----------
    args : argparse.Namespace
    """
    import astropy.units as u

    # lazy: a command's dependencies load only when it runs, so that --help answers at once.
    from sunpy_magnetogan.tracking import make_synoptic_map, plot_synoptic_map
    from sunpy_magnetogan.weights.cache import ensure_writable_dir

    check_input_files(args.files)
    outputs = [Path(args.output)] + ([Path(args.png)] if args.png else [])
    for folder in {path.parent for path in outputs}:
        ensure_writable_dir(folder)
    existing = [str(p) for p in outputs if p.exists()]
    if existing and not args.overwrite:
        log.error("%s already exist(s); pass --overwrite to replace", ", ".join(existing))
        return 1
    if args.labels is not None and len(args.labels) != len(args.files):
        log.error("got %d labels for %d files", len(args.labels), len(args.files))
        return 1
    maps = [read_magnetogram(path) for path in args.files]
    synoptic = make_synoptic_map(
        maps,
        shape=tuple(args.shape),
        projection_code=args.projection,
        date=args.date,
        labels=args.labels,
        weight_power=args.weight_power,
        min_mu=args.min_mu,
        radial=not args.los,
        rotation_model=args.rotation_model,
        max_span=args.max_span * u.day,
    )
    synoptic.save(args.output, overwrite=True)
    if args.png:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ax = plot_synoptic_map(synoptic)
        ax.figure.savefig(args.png, dpi=120, bbox_inches="tight")
        plt.close(ax.figure)
    covered = float((synoptic.coverage.data > 0).mean())
    print(  # noqa: T201 - the command's output
        f"synoptic map from {len(maps)} map(s) ({', '.join(synoptic.labels)}), "
        f"{100 * covered:.0f}% covered -> {args.output}"
    )
    log.debug("rsun of the map: %s", u.Quantity(synoptic.map.rsun_meters).to(u.km))
    return 0

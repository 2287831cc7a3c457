"""
The ``sunpy-magnetogan`` command line.

Each sub-command lives in its own module in this package and provides two functions:
``add_parser(subparsers)`` (registers its `argparse` parser) and ``run(args)`` (does the
work and returns the process exit code). `SUBCOMMANDS` lists the modules in the order
``--help`` shows them.
"""

import argparse
import importlib
import logging
import sys

from sunpy_magnetogan.exceptions import MagnetoGANError

__all__ = ["SUBCOMMANDS", "build_parser", "main"]

#: Modules (relative to this package) that each define one sub-command.
SUBCOMMANDS = (
    "demo",
    "generate",
    "info",
    "evaluate",
    "synthetic",
    "train",
    "track",
    "synoptic",
    "models",
    "fetch",
    "prepare",
    "archive",
)

log = logging.getLogger("sunpy_magnetogan")


def build_parser():
    """
    Build the top-level argument parser with every registered sub-command.

    Returns
    -------
    argparse.ArgumentParser
    """
    from sunpy_magnetogan import __version__

    parser = argparse.ArgumentParser(
        prog="sunpy-magnetogan",
        description="Line-of-sight magnetograms from EUV 304 A images with a pyramid GAN.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more log output (-vv: debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        sub_parser = module.add_parser(sub)
        sub_parser.set_defaults(_run=module.run)
    return parser


def main(argv=None):
    """
    Run the command line; returns the exit code (0 on success).

    Parameters
    ----------
    argv : list of str, optional
        The arguments without the program name; ``sys.argv[1:]`` by default.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    level = {0: logging.WARNING, 1: logging.INFO}.get(args.verbose, logging.DEBUG)
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args._run(args) or 0)
    except MagnetoGANError as exc:
        # Errors we raise on purpose carry a message meant for the user: no traceback.
        log.error("%s", exc)
        return 2
    except KeyboardInterrupt:
        log.error("interrupted")
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""
The ``sunpy-magnetogan`` command line.

Each sub-command lives in its own module in this package and provides two functions:
``add_parser(subparsers)`` (registers its `argparse` parser) and ``run(args)`` (does the
work and returns the process exit code). `SUBCOMMANDS` lists the modules in the order
``--help`` shows them.

Building the parser imports nothing heavy (no torch, no ``sunpy.map``): each command
imports what it needs in its ``run``, so ``--help``, ``--version``, ``info`` and
``models list`` answer at once. `main` is the one error boundary: a mistake of the user
(a `~sunpy_magnetogan.exceptions.MagnetoGANError`, a missing or unwritable file) is one
line on stderr and exit code 2; ``--debug`` shows the traceback instead.
"""

import argparse
import importlib
import logging
import sys

from sunpy_magnetogan import __version__

__all__ = ["EXIT_FAILED", "EXIT_USAGE", "SUBCOMMANDS", "build_parser", "main"]

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

#: Exit code of a run in which some inputs failed (the others were done).
EXIT_FAILED = 1
#: Exit code of a mistake in the command (as argparse uses for bad arguments).
EXIT_USAGE = 2

log = logging.getLogger("sunpy_magnetogan")


class _HelpFormatter(argparse.HelpFormatter):
    """Adds ``(default: X)`` to the help of every option that has a default and does not say it."""

    def _get_help_string(self, action):
        text = action.help or ""
        default = action.default
        if (
            "%(default)" in text
            or "default" in text.lower()
            or default is None
            or default is False
            or default is argparse.SUPPRESS
            or isinstance(action, argparse._CountAction)
            or not action.option_strings
        ):
            return text
        if isinstance(default, list | tuple):
            default = " ".join(str(d) for d in default)
        return f"{text} (default: {default})"


def build_parser():
    """
    Build the top-level argument parser with every registered sub-command.

    Returns
    -------
    argparse.ArgumentParser
    """
    parser = argparse.ArgumentParser(
        prog="sunpy-magnetogan",
        description="Line-of-sight magnetograms from EUV 304 A images with a pyramid GAN.",
        formatter_class=_HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    _add_common_options(parser, default_verbose=0, default_debug=False)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        sub_parser = module.add_parser(sub)
        # Also after the command (``generate ... -v --debug``); unset there, they keep the
        # values given before it.
        _add_common_options(sub_parser, default_verbose=argparse.SUPPRESS, default_debug=argparse.SUPPRESS)
        _set_formatter(sub_parser)
        sub_parser.set_defaults(_run=module.run)
    return parser


def _add_common_options(parser, *, default_verbose, default_debug):
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=default_verbose,
        help="more log output: -v this package's progress notes, -vv debug and the libraries' notes",
    )
    parser.add_argument(
        "--debug",
        action="store_true",
        default=default_debug,
        help="show the full traceback of an error instead of one line",
    )


def _set_formatter(parser):
    parser.formatter_class = _HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                _set_formatter(child)


class _QuietLibraries(logging.Filter):
    """
    What the root handler prints: warnings and errors, this package's notes, and the other
    libraries' notes (Dask's dozens of INFO lines) only from ``-vv``. Never sunpy's or
    astropy's records: their loggers print them (and warnings) themselves, and passing them
    on too showed every warning twice.
    """

    def __init__(self, verbose):
        super().__init__()
        self.verbose = verbose

    def filter(self, record):
        top = record.name.split(".")[0]
        if top in ("sunpy", "astropy"):
            return False
        return record.levelno >= logging.WARNING or top == "sunpy_magnetogan" or self.verbose >= 2


def _configure_logging(verbose):
    """Warnings only by default; ``-v`` adds this package's notes, ``-vv`` everyone's debug output."""
    package_level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logging.basicConfig(format="%(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if verbose >= 2 else logging.WARNING)
    for handler in root.handlers:
        for old in [f for f in handler.filters if isinstance(f, _QuietLibraries)]:
            handler.removeFilter(old)
        handler.addFilter(_QuietLibraries(verbose))
    log.setLevel(package_level)
    # Other Python warnings are shown once, through logging, in the same format.
    logging.captureWarnings(True)


def _user_error_message(exc):
    """The one-line message of an error the user can fix, or None for a bug."""
    # lazy: on the error path only: the exceptions module imports sunpy.
    from sunpy_magnetogan.exceptions import MagnetoGANError

    if isinstance(exc, MagnetoGANError):
        return str(exc)
    if isinstance(exc, OSError):
        # A missing, unreadable or unwritable file or folder, a full disk.
        if exc.strerror and exc.filename:
            return f"{exc.filename}: {exc.strerror}"
        return exc.strerror or str(exc)
    return None


def main(argv=None):
    """
    Run the command line; returns the exit code (0 on success).

    Parameters
    ----------
    argv : list of str, optional
        The arguments without the program name; ``sys.argv[1:]`` by default.

    Returns
    -------
    int
        0 on success, 1 when some inputs failed (the command says which), 2 for a mistake
        in the command or its inputs (one line on stderr), 130 when interrupted.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        print("sunpy-magnetogan: interrupted", file=sys.stderr)  # noqa: T201 - the command's output
        return 130
    except Exception as exc:
        if args.debug:
            raise
        message = _user_error_message(exc)
        if message is None:
            print(  # noqa: T201 - the command's output
                f"sunpy-magnetogan {args.command}: unexpected error: {type(exc).__name__}: {exc}\n"
                "(this is a bug: run again with --debug for the traceback and report it)",
                file=sys.stderr,
            )
            return EXIT_FAILED
        message = " ".join(message.split())  # one line, whatever the libraries' messages hold
        print(f"sunpy-magnetogan {args.command}: error: {message}", file=sys.stderr)  # noqa: T201
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

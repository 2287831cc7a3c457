"""
Argument types of the command line that argparse does not have.
"""

import argparse
import re

__all__ = ["positive_duration", "positive_int"]


def positive_int(text):
    """
    An integer of at least 1, for counts of workers, threads and the like.

    Parameters
    ----------
    text : str
        The option's value as typed.

    Returns
    -------
    int

    Raises
    ------
    argparse.ArgumentTypeError
        If ``text`` is not a positive integer (argparse reports it as a usage error, exit
        code 2).

    Examples
    --------
    >>> from sunpy_magnetogan.cli._types import positive_int
    >>> positive_int("4")
    4
    """
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text!r}")
    return value


#: Seconds per unit of the time units `positive_duration` reads.
_SECONDS = {"s": 1.0, "sec": 1.0, "min": 60.0, "h": 3600.0, "hr": 3600.0, "d": 86400.0}


def positive_duration(text):
    """
    A time longer than zero with its unit, for time limits: ``90min``, ``1.5 h``, ``600 s``.

    Read without astropy, so that building the parser stays light; the command turns it
    into a `~astropy.units.Quantity`.

    Parameters
    ----------
    text : str
        The option's value as typed: a number and one of the units s, sec, min, h, hr, d.

    Returns
    -------
    float
        The time in seconds.

    Raises
    ------
    argparse.ArgumentTypeError
        If ``text`` is not a positive time with one of those units (argparse reports it as
        a usage error, exit code 2).

    Examples
    --------
    >>> from sunpy_magnetogan.cli._types import positive_duration
    >>> positive_duration("90min"), positive_duration("1.5 h")  # s
    (5400.0, 5400.0)
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*([a-z]+)\s*", text)
    seconds = float(match[1]) * _SECONDS[match[2]] if match and match[2] in _SECONDS else 0.0
    if not seconds > 0:
        units = ", ".join(_SECONDS)
        raise argparse.ArgumentTypeError(
            f"must be a positive time with a unit ({units}), such as 90min or 2h, got {text!r}"
        )
    return seconds

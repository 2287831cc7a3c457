"""
Argument types of the command line that argparse does not have.
"""

import argparse

__all__ = ["positive_int"]


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

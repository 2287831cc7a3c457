"""
Checks of the paths a command is given, made before any work starts.
"""

import errno
from pathlib import Path

__all__ = ["check_input_files"]


def check_input_files(paths, *, what="file"):
    """
    Check that each path is an existing file (not a folder).

    Parameters
    ----------
    paths : iterable of str or os.PathLike
    what : str, optional
        How messages name the inputs.

    Raises
    ------
    FileNotFoundError, IsADirectoryError
        Naming the first bad path (the command line shows them as one line, exit code 2).
    """
    for path in map(Path, paths):
        if path.is_dir():
            raise IsADirectoryError(
                errno.EISDIR,
                f"is a folder, not a {what} (give the files in it, e.g. {path}/*.fits)",
                str(path),
            )
        if not path.is_file():
            raise FileNotFoundError(errno.ENOENT, f"no such {what}", str(path))

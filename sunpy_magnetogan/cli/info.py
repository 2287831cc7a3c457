"""
``sunpy-magnetogan info``: versions of the package and its key dependencies, devices.
"""

import platform

__all__ = ["add_parser", "collect_info", "run"]


def add_parser(subparsers):
    parser = subparsers.add_parser("info", help="show versions, devices and cache location")
    return parser


def collect_info():
    """
    Versions of sunpy-magnetogan and its main dependencies, and the torch devices.

    Returns
    -------
    dict
        Keys are component names, values are strings.
    """
    import astropy
    import numpy
    import sunpy
    import torch

    from sunpy_magnetogan import __version__

    info = {
        "sunpy-magnetogan": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "astropy": astropy.__version__,
        "sunpy": sunpy.__version__,
        "torch": torch.__version__,
        "cuda available": str(torch.cuda.is_available()),
    }
    if torch.cuda.is_available():
        info["cuda device"] = torch.cuda.get_device_name(0)
    from sunpy_magnetogan.weights import list_models, resolve_cache_dir

    info["weights cache"] = str(resolve_cache_dir())
    info["models"] = ", ".join(list_models()) or "(none registered)"
    return info


def run(args):
    info = collect_info()
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")  # noqa: T201 - the command's output
    return 0

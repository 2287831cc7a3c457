"""
``sunpy-magnetogan info``: versions of the package and its key dependencies, devices.
"""

import importlib.metadata
import platform

from sunpy_magnetogan import __version__

__all__ = ["add_parser", "collect_info", "run"]


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "info",
        help="show versions, the weights cache and the models (--devices: what torch sees)",
        description=(
            "Show the versions of sunpy-magnetogan and its main dependencies, the weights cache "
            "and the registered models; with --devices also what torch sees (CUDA GPUs), which "
            "takes a few seconds to import torch."
        ),
    )
    parser.add_argument("--devices", action="store_true", help="also show the torch devices (imports torch)")
    return parser


def _version(distribution):
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def collect_info(*, devices=True):
    """
    Versions of sunpy-magnetogan and its main dependencies, and the torch devices.

    The versions are read from the installed package metadata, so only ``devices=True``
    imports torch.

    Parameters
    ----------
    devices : bool, optional
        Also ask torch whether CUDA is available (and which GPU).

    Returns
    -------
    dict
        Keys are component names, values are strings.
    """
    info = {"sunpy-magnetogan": __version__, "python": platform.python_version()}
    for name in ("numpy", "astropy", "sunpy", "torch"):
        info[name] = _version(name)
    if devices:
        import torch

        info["cuda available"] = str(torch.cuda.is_available())
        if torch.cuda.is_available():
            info["cuda device"] = torch.cuda.get_device_name(0)
    # lazy: the weights registry imports sunpy, which --help need not pay for.
    from sunpy_magnetogan.weights import list_models, resolve_cache_dir

    info["weights cache"] = str(resolve_cache_dir())
    info["models"] = ", ".join(list_models()) or "(none registered)"
    return info


def run(args):
    info = collect_info(devices=args.devices)
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")  # noqa: T201 - the command's output
    return 0

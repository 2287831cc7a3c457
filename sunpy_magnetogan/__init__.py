"""
sunpy-magnetogan: line-of-sight magnetograms from EUV 304 A images.

A multi-scale (pyramid) conditional GAN turns SDO/AIA or STEREO/EUVI 304 A maps into
HMI-like line-of-sight magnetograms, returned as `sunpy.map.GenericMap` objects.
"""

import logging

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never installed
    __version__ = "0.1.dev0"

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

__all__ = ["__version__", "generate_magnetogram", "generate_magnetograms", "log"]

# The public entry points import torch; load them on first use so that
# ``import sunpy_magnetogan`` (e.g. for the map source or the metrics) stays light.
_LAZY = {
    "generate_magnetogram": "sunpy_magnetogan.generate",
    "generate_magnetograms": "sunpy_magnetogan.generate",
}


def __getattr__(name):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Registers the MagnetoGANMap source with sunpy.map.Map.
from sunpy_magnetogan import mapsource as _mapsource  # noqa: E402, F401

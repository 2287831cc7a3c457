"""
sunpy-magnetogan: line-of-sight magnetograms from EUV 304 A images.

A multi-scale (pyramid) conditional GAN turns SDO/AIA or STEREO/EUVI 304 A maps into
HMI-like line-of-sight magnetograms, returned as `sunpy.map.GenericMap` objects.

The public surface at the top: `generate_magnetogram` (one map) and `generate_magnetograms`
(a stream of maps or files), `load_model` and the `LoadedModel` it returns (a model kept
on a device for many calls). The sub-packages hold the rest: `sunpy_magnetogan.metrics`,
`sunpy_magnetogan.evaluation`, `sunpy_magnetogan.tracking`, `sunpy_magnetogan.synthetic`,
`sunpy_magnetogan.weights`, `sunpy_magnetogan.training`, `sunpy_magnetogan.nn` and
`sunpy_magnetogan.data`.
"""

import importlib
import importlib.abc
import importlib.util
import logging
import sys

try:
    from ._version import __version__
except ImportError:  # running from a source tree that was never installed
    __version__ = "0.1.dev0"

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

__all__ = ["LoadedModel", "__version__", "generate_magnetogram", "generate_magnetograms", "load_model", "log"]

# The public entry points import torch; load them on first use so that
# ``import sunpy_magnetogan`` (e.g. for the map source or the metrics) stays light.
_LAZY = {
    "LoadedModel": "sunpy_magnetogan.generate",
    "generate_magnetogram": "sunpy_magnetogan.generate",
    "generate_magnetograms": "sunpy_magnetogan.generate",
    "load_model": "sunpy_magnetogan.generate",
}


def __getattr__(name):
    # lazy: the entry points import torch and sunpy.map (seconds); they load on first use.
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY))


class _RegisterMapSource(importlib.abc.MetaPathFinder):
    """
    Registers `~sunpy_magnetogan.mapsource.MagnetoGANMap` with ``sunpy.map.Map`` as soon as
    ``sunpy.map`` is imported, and not before: importing ``sunpy.map`` takes seconds, which
    the command line (``--help``, ``--version``) and the torch-only modules should not pay.
    """

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "sunpy.map":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(fullname)
        run_module = spec.loader.exec_module

        def exec_module(module):
            run_module(module)
            importlib.import_module("sunpy_magnetogan.mapsource")

        spec.loader.exec_module = exec_module
        return spec


if "sunpy.map" in sys.modules:
    from sunpy_magnetogan import mapsource as _mapsource  # noqa: F401
elif not any(isinstance(finder, _RegisterMapSource) for finder in sys.meta_path):
    sys.meta_path.insert(0, _RegisterMapSource())

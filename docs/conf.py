"""Sphinx configuration of the sunpy-magnetogan documentation."""

import os
import re
import warnings
import zlib
from pathlib import Path

import matplotlib
import sunpy_sphinx_theme
from sphinx_gallery.sorting import ExplicitOrder

matplotlib.use("Agg")

import torch  # noqa: E402

from sunpy_magnetogan import __version__  # noqa: E402

# The gallery runs in this process. Its networks and images are small, and on a machine
# whose cores are shared (CI runners, a busy laptop) torch's intra-op threads mostly wait
# for each other: one thread makes the examples several times faster there and costs
# little on an idle machine.
torch.set_num_threads(int(os.environ.get("SUNPY_MAGNETOGAN_DOCS_THREADS", "1")))

project = "sunpy-magnetogan"
author = "The sunpy-magnetogan developers"
copyright = f"2026, {author}"  # noqa: A001
release = __version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "sphinx.ext.doctest",
    "numpydoc",
    "sphinx_automodapi.automodapi",
    "sphinx_automodapi.smart_resolver",
    "sphinx_gallery.gen_gallery",
]

html_theme = "sunpy"
# The theme's own favicon link is relative to the site root and breaks on nested pages
# (a 404 on every gallery and API page); giving Sphinx the same icon as html_favicon makes
# it link the copy in _static with a correct relative path on every page.
html_favicon = str(
    Path(sunpy_sphinx_theme.__file__).parent / "theme" / "sunpy" / "static" / "img" / "sunpy_icon.svg"
)
html_title = f"sunpy-magnetogan {version}"
# No static files of our own yet (the favicon is copied by html_favicon).
html_static_path = []
# _templates/autosummary_core: automodapi's page templates plus, at the end of every
# function and class page, a minigallery of the gallery examples that use the object.
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store", "generated/gallery/*.ipynb", "**/sg_execution_times.rst"]
source_suffix = ".rst"
master_doc = "index"
default_role = "obj"

# numpydoc + automodapi
numpydoc_show_class_members = False
numpydoc_xref_param_type = False
automodapi_toctreedirnm = "generated/api"
automodsumm_inherited_members = False
autodoc_typehints = "none"

# Intersphinx: every project has a local, empty fallback inventory so that an offline build
# (as on CI machines without internet) only loses the cross-links instead of failing on
# warnings; online builds get the real inventories first.
_EMPTY_INV = Path(__file__).parent / "_build" / "empty-objects.inv"
_EMPTY_INV.parent.mkdir(parents=True, exist_ok=True)
_EMPTY_INV.write_bytes(
    b"# Sphinx inventory version 2\n# Project: none\n# Version: 0\n"
    b"# The remainder of this file is compressed using zlib.\n" + zlib.compress(b"")
)
_OFFLINE = os.environ.get("SUNPY_MAGNETOGAN_DOCS_OFFLINE", "0") == "1"


def _inventory(url):
    return (url, (str(_EMPTY_INV),) if _OFFLINE else (None, str(_EMPTY_INV)))


intersphinx_mapping = {
    "python": _inventory("https://docs.python.org/3/"),
    "numpy": _inventory("https://numpy.org/doc/stable/"),
    "scipy": _inventory("https://docs.scipy.org/doc/scipy/"),
    "matplotlib": _inventory("https://matplotlib.org/stable/"),
    "astropy": _inventory("https://docs.astropy.org/en/stable/"),
    "sunpy": _inventory("https://docs.sunpy.org/en/stable/"),
    "reproject": _inventory("https://reproject.readthedocs.io/en/stable/"),
    "ndcube": _inventory("https://docs.sunpy.org/projects/ndcube/en/stable/"),
    "torch": _inventory("https://docs.pytorch.org/docs/stable/"),
}
intersphinx_timeout = 10

# sphinx-gallery: every example runs on each build, offline, on packaged or synthetic data.
sphinx_gallery_conf = {
    "examples_dirs": ["../examples"],
    "gallery_dirs": ["generated/gallery"],
    "filename_pattern": r"/.*\.py$",
    "ignore_pattern": r"__init__\.py|_helpers\.py",
    "backreferences_dir": "generated/modules",
    "doc_module": ("sunpy_magnetogan",),
    "reference_url": {"sunpy_magnetogan": None},
    "abort_on_example_error": True,
    "plot_gallery": "True",
    "remove_config_comments": True,
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "subsection_order": ExplicitOrder(
        [
            "../examples/generation",
            "../examples/evaluation",
            "../examples/farside",
            "../examples/training",
        ]
    ),
    "within_subsection_order": "FileNameSortKey",
}

warnings.filterwarnings("ignore", message="Matplotlib is currently using agg")


def _strip_citations(app, what, name, obj, options, lines):
    # sunpy appends GenericMap's notes, which cite with sphinxcontrib-bibtex roles, to every
    # map source class docstring; show those citations as plain text.
    for i, line in enumerate(lines):
        lines[i] = re.sub(r":(foot)?cite:[tp]:`([^`]*)`", r"\2", line)


def setup(app):
    app.connect("autodoc-process-docstring", _strip_citations)

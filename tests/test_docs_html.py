"""
Tests of the documentation: every public function and class shows an example, and the
built site renders its gallery in a real browser.
"""

import ast
import importlib
import importlib.util
import inspect
import posixpath
import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = REPO / "docs"
EXAMPLES = REPO / "examples"
HTML = DOCS / "_build" / "html"


def _reference_modules():
    """The modules the API reference documents (its automodapi directives)."""
    return re.findall(r"^\.\. automodapi:: (\S+)", (DOCS / "reference" / "index.rst").read_text(), re.M)


def _public_objects():
    for name in _reference_modules():
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr)
            if inspect.isclass(obj) and issubclass(obj, BaseException):
                continue  # exceptions and warnings: documented by their message and hierarchy
            if inspect.isfunction(obj) or inspect.isclass(obj):
                yield f"{name}.{attr}", obj


def _objects_used_by_gallery():
    """Objects the gallery examples import from the package (and therefore show in use)."""
    used = set()
    for path in EXAMPLES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sunpy_magnetogan"):
                module = importlib.import_module(node.module)
                used.update(id(getattr(module, alias.name)) for alias in node.names)
    return used


def test_reference_documents_every_public_module():
    documented = set(_reference_modules())
    expected = {
        "sunpy_magnetogan.generate",
        "sunpy_magnetogan.metrics",
        "sunpy_magnetogan.evaluation",
        "sunpy_magnetogan.synthetic",
        "sunpy_magnetogan.tracking",
        "sunpy_magnetogan.training",
        "sunpy_magnetogan.nn",
        "sunpy_magnetogan.weights",
        "sunpy_magnetogan.sample",
        "sunpy_magnetogan.preprocess",
        "sunpy_magnetogan.data",
    }
    assert expected <= documented, f"missing from docs/reference/index.rst: {sorted(expected - documented)}"


def test_every_public_function_and_class_has_an_example():
    """A numpydoc Examples section, or use in a gallery example (shown by its minigallery)."""
    used = _objects_used_by_gallery()
    missing = [
        name
        for name, obj in _public_objects()
        if not re.search(r"^Examples\n-{8}", inspect.getdoc(obj) or "", re.M) and id(obj) not in used
    ]
    assert not missing, f"public objects without an Examples section or a gallery example: {missing}"


def test_gallery_examples_run_offline_on_packaged_or_synthetic_data():
    for path in EXAMPLES.rglob("*.py"):
        source = path.read_text()
        code = source.split('"""', 2)[-1]  # after the example's docstring
        assert "Fido" not in code, path.name
        assert "http" not in code, path.name
        assert re.search(r"sunpy_magnetogan\.(sample|synthetic)", source), path.name


def _screenshot_check():
    spec = importlib.util.spec_from_file_location("screenshot_check", DOCS / "screenshot_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_built_gallery_renders_with_its_figures_in_chromium(tmp_path):
    check = _screenshot_check()
    if check.find_chromium() is None:
        pytest.skip("Chromium is not installed (Debian: apt-get install chromium; or set $CHROMIUM)")
    missing = [page for page in check.DEFAULT_PAGES if not (HTML / page).is_file()]
    if missing:
        pytest.skip(
            f"the docs are not built ({missing[0]} is missing): build them first, see docs/getting_started.rst"
        )
    reports = check.check_pages(HTML, check.DEFAULT_PAGES, out_dir=tmp_path)
    for report in reports:
        assert report.ok, str(report)
    index, example = reports
    # The gallery index shows a thumbnail per example; the example page its figures.
    thumbnails = [src for src in index.images if "thumb" in src]
    assert len(thumbnails) >= len(list(EXAMPLES.rglob("*.py"))), index.images
    figures = [src for src in example.images if "sphx_glr_generate_from_aia304" in src]
    assert len(figures) >= 2, example.images
    served = {
        "/" + posixpath.normpath(posixpath.join(posixpath.dirname(example.page), src)) for src in figures
    }
    assert served & set(example.fetched), (served, example.fetched)  # the browser loaded the figures

"""
Test-session configuration shared by the tests and the doctests.

Markers (declared in setup.cfg):

* ``cuda``: skipped unless torch sees a CUDA device;
* ``remote_data``: skipped unless ``--remote-data`` is given (needs the network);
* ``slow``: runs by default; deselect with ``-m "not slow"``.
"""

import os

import matplotlib
import pytest

matplotlib.use("Agg")


def pytest_addoption(parser):
    parser.addoption(
        "--remote-data",
        action="store_true",
        default=False,
        help="run tests marked remote_data (they download from the internet)",
    )


def pytest_configure(config):
    # Never write into the user's real caches while testing.
    os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config, items):
    run_remote = config.getoption("--remote-data")
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover - torch is a hard dependency
        has_cuda = False
    skip_remote = pytest.mark.skip(reason="needs the network: pass --remote-data to run it")
    skip_cuda = pytest.mark.skip(reason="needs a CUDA GPU (torch.cuda.is_available() is False)")
    for item in items:
        if "remote_data" in item.keywords and not run_remote:
            item.add_marker(skip_remote)
        if "cuda" in item.keywords and not has_cuda:
            item.add_marker(skip_cuda)


@pytest.fixture(autouse=True)
def _doctest_namespace(doctest_namespace, tmp_path):
    # Doctests that write files get a fresh temporary directory as ``tmp_path``.
    doctest_namespace["tmp_path"] = tmp_path

"""
Fixtures shared by the test modules.

Real observations live in ``../shared/data/real/`` beside the checkout (see that folder's
README); they are never copied into the repository. Tests that need them use the
fixtures below, which skip with a clear reason when the folder is absent.
"""

import contextlib
import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
#: Where the real single-file observations are; ``SUNPY_MAGNETOGAN_REAL_DATA`` overrides.
REAL_DATA_DIR = Path(
    os.environ.get("SUNPY_MAGNETOGAN_REAL_DATA", REPO_ROOT.parent / "shared" / "data" / "real")
)

REAL_FILES = {
    "aia304_jp2": "2021_06_01__00_01_29_132__SDO_AIA_AIA_304.jp2",
    "hmi": "hmi_m_720s_2011-12-17T055810.fits",
    "euvi171": "euvi_20090615_000900_n4euA_s.fts",
}


def _real_file(key):
    path = REAL_DATA_DIR / REAL_FILES[key]
    if not path.is_file():
        pytest.skip(
            f"real observation {path.name} not found in {REAL_DATA_DIR} (../shared/data/real is absent)"
        )
    return path


@pytest.fixture(scope="session")
def real_aia304_path():
    """Path of the real SDO/AIA 304 A Helioviewer JPEG2000 (4096 px, byte-scaled)."""
    pytest.importorskip("glymur", reason="reading JPEG2000 needs glymur (pip install glymur)")
    return _real_file("aia304_jp2")


@pytest.fixture(scope="session")
def real_hmi_path():
    """Path of the real SDO/HMI LOS magnetogram (4096 px, CROTA2 about 180)."""
    return _real_file("hmi")


@pytest.fixture(scope="session")
def real_euvi171_path():
    """Path of the real STEREO-A EUVI 171 A file (128 px): a wrong-wavelength input."""
    return _real_file("euvi171")


@pytest.fixture(scope="session")
def real_aia304_map(real_aia304_path):
    import sunpy.map

    return sunpy.map.Map(real_aia304_path)


@pytest.fixture(scope="session")
def real_hmi_map(real_hmi_path):
    import sunpy.map

    return sunpy.map.Map(real_hmi_path)


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=pytest.mark.cuda)])
def device(request):
    """Each torch device the tests can use (cuda skipped without a GPU)."""
    import torch

    return torch.device(request.param)


TINY_MODEL = "tiny-test-model"


@pytest.fixture(scope="session")
def tiny_model_file(tmp_path_factory):
    """Weights file of a 128 px compact pyramid with random weights (made once)."""
    import torch

    from sunpy_magnetogan.normalization import MagnetogramNormalization
    from sunpy_magnetogan.training import get_preset, merge_config

    from .helpers_models import save_model

    torch.manual_seed(0)
    model_config, _ = get_preset("compact")
    # Transposed-convolution decoders, like the weights of the shipped default model (v3's),
    # so that the inference speed paths for them (MatmulConvTranspose2d) stay exercised.
    model_config = merge_config(model_config, {"generator_kwargs": {"upsample": "transpose"}})
    generator, _ = model_config.build()
    path = tmp_path_factory.mktemp("weights") / "tiny.safetensors"
    save_model(
        generator, model_config, path, name=TINY_MODEL, magnetogram_normalization=MagnetogramNormalization()
    )
    return path


@pytest.fixture
def tiny_model(tiny_model_file):
    """The name of the tiny random model, registered (for this process only) during the test."""
    from sunpy_magnetogan.exceptions import ModelNotFoundError
    from sunpy_magnetogan.weights import register_model, unregister_model

    register_model(tiny_model_file, name=TINY_MODEL, persist=False, overwrite=True)
    yield TINY_MODEL
    with contextlib.suppress(ModelNotFoundError):
        unregister_model(TINY_MODEL)

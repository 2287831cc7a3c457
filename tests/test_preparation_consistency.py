"""
Training and inference prepare inputs with one function, as the model card says.

Each test fails if the two paths diverge: the arrays a training store holds are compared,
bit for bit, with the array `generate_magnetogram` feeds the network for the same input
(captured from `LoadedModel.predict`), on a product whose preparation matters (a
Helioviewer JPEG2000 file, which only the shared preparation can read) and on the synthetic
training data; and inference is shown to apply the preparation its card records.
"""

import dataclasses
import warnings

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
from astropy.time import Time

from sunpy_magnetogan.data.inputs import SYNTHETIC_PREPARATION, InputPreparation
from sunpy_magnetogan.data.prepare import prepare_pair, training_preparation
from sunpy_magnetogan.exceptions import CalibrationWarning, InvalidDataError, PartialDiskWarning
from sunpy_magnetogan.generate import LoadedModel, generate_magnetogram, load_model
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.helioviewer import to_helioviewer_map
from sunpy_magnetogan.normalization import MagnetogramNormalization, QuietSunNormalization
from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
from sunpy_magnetogan.synthetic import SyntheticSun, observe_pair, write_synthetic_dataset
from sunpy_magnetogan.synthetic.dataset import SplitSpec
from sunpy_magnetogan.training import get_preset
from sunpy_magnetogan.weights import get_card, register_model, save_weights, unregister_model


@pytest.fixture
def captured(monkeypatch):
    """The batches generate_magnetogram passes to the network."""
    batches = []
    original = LoadedModel.predict

    def spy(self, batch, **kwargs):
        batches.append(np.array(batch))
        return original(self, batch, **kwargs)

    monkeypatch.setattr(LoadedModel, "predict", spy)
    return batches


def test_helioviewer_training_pair_is_what_inference_feeds_the_model(captured):
    sample = sunpy.map.Map(SAMPLE_AIA304)
    # At the count rates of the real 2021 file (quiet Sun 2.8 DN/s; see test_input_products),
    # so that jp2gen's 250 DN/s ceiling lies above the model's range.
    rate = 2.8 * sample.exposure_time.to_value(u.s) / np.median(sample.data[362:662, 362:662])
    jp2 = to_helioviewer_map(
        sunpy.map.Map(sample.data * np.float32(rate), {**sample.meta, "origin": "SDO/JSOC-SDP"})
    )
    loaded = load_model("default")
    preparation = InputPreparation.from_card(loaded.card)
    pair = prepare_pair(
        jp2,
        sunpy.map.Map(SAMPLE_HMI),
        grid=loaded.grid,
        normalization=loaded.euv_normalization,
        preparation=preparation,
        register=preparation.aia_register,
    )
    assert "CalibrationWarning: AIA degradation correction skipped" in pair.meta["warnings"]
    with pytest.warns(CalibrationWarning, match="degradation"):
        generate_magnetogram(jp2, model=loaded)
    (batch,) = captured
    np.testing.assert_array_equal(batch[0], pair.euv.data)


def test_synthetic_training_store_is_what_inference_feeds_the_model(tmp_path, captured):
    split = {"check": SplitSpec((7,), "2014-03-01", "2014-03-02", 1)}
    write_synthetic_dataset(tmp_path / "store", split=split, npix=512, grid_size=512)
    store = PairStore.open(tmp_path / "store")
    (pair_id,) = store.ids("check")
    stored = store.load(pair_id)
    assert InputPreparation.from_dict(store.attrs["input_preparation"]) == SYNTHETIC_PREPARATION
    euv, _ = observe_pair(SyntheticSun(7), Time(stored["meta"]["date"]), npix=512)
    generate_magnetogram(euv)
    (batch,) = captured
    disk = stored["disk"]
    np.testing.assert_array_equal(batch[0][disk], stored["euv"][disk])


def test_the_default_card_records_the_preparation_its_training_data_had():
    card = get_card("default")
    assert card.preparation, "the default model card must record its input preparation"
    assert InputPreparation.from_card(card) == SYNTHETIC_PREPARATION


def test_real_pair_preparation_records_the_training_recipe():
    assert training_preparation(SYNTHETIC_PREPARATION, None) == SYNTHETIC_PREPARATION
    assert training_preparation(None, True) == InputPreparation(aia_register=True)


def test_inference_applies_the_preparation_its_card_records(tmp_path):
    # A model whose card's preparation needs 90 % of the disk: inference must refuse a
    # half disk that the default preparation (25 %) accepts.
    model_config, _ = get_preset("compact")
    generator, _ = model_config.build()
    strict = dataclasses.replace(SYNTHETIC_PREPARATION, min_disk_coverage=0.9)
    card = {
        "name": "tiny-strict",
        "architecture": model_config.to_dict(),
        "normalization": {
            "magnetogram": MagnetogramNormalization().to_dict(),
            "euv": QuietSunNormalization().to_dict(),
            "grid": ModelGrid(128).to_dict(),
        },
        "preparation": strict.to_dict(),
    }
    path = tmp_path / "tiny-strict.safetensors"
    save_weights(generator.state_dict(), path, card=card)
    register_model(path, name="tiny-strict", persist=False, overwrite=True)
    try:
        sample = sunpy.map.Map(SAMPLE_AIA304)
        half = sample.submap([0, 0] * u.pix, top_right=[511, 1023] * u.pix)
        with pytest.warns(PartialDiskWarning), pytest.raises(InvalidDataError, match="less than the 90%"):
            generate_magnetogram(half, model="tiny-strict")
        generated = generate_magnetogram(sample, model="tiny-strict")
        assert generated.meta["mganprep"] == strict.describe()
    finally:
        unregister_model("tiny-strict")


def test_generated_fits_tells_its_own_story(tmp_path):
    generated = generate_magnetogram(sunpy.map.Map(SAMPLE_AIA304))
    path = tmp_path / "generated.fits"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # long provenance strings are written without a warning
        generated.save(path)
    header = sunpy.map.Map(path).meta
    assert header["mganmodl"] == "default"
    assert header["mganmver"] == get_card("default").version
    assert header["mgantrn"].startswith("synthetic")
    assert header["mganprod"].startswith("synthetic-aia")
    assert header["mganprep"] == SYNTHETIC_PREPARATION.describe()
    assert "exposure: done (EXPTIME 2.9 s)" in header["mgancal"]

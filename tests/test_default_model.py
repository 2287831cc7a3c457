"""The embedded default model: offline, deterministic, better than chance on held-out data."""

import astropy.units as u
import numpy as np
import pytest
import sunpy.map

from sunpy_magnetogan import generate_magnetogram
from sunpy_magnetogan.grid import ModelGrid, disk_mask
from sunpy_magnetogan.metrics import compare_maps
from sunpy_magnetogan.output import magnetogram_map
from sunpy_magnetogan.preprocess import prepare_magnetogram_map
from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
from sunpy_magnetogan.weights import get_card


@pytest.fixture(scope="module")
def sample_output():
    aia = sunpy.map.Map(SAMPLE_AIA304)
    return aia, generate_magnetogram(aia, device="cpu")


def test_card_says_synthetic_and_states_metrics():
    card = get_card("default")
    assert card.embedded
    assert "SYNTHETIC" in card.description.upper()
    assert card.metrics["synthetic_test_split"]["pairs"] == 160
    assert set(card.normalization) == {"magnetogram", "euv", "grid"}


def test_default_model_is_deterministic_on_cpu(sample_output):
    aia, first = sample_output
    second = generate_magnetogram(aia, device="cpu")
    assert np.array_equal(first.data, second.data, equal_nan=True)
    assert first.meta["mgansha"] == get_card("default").sha256


def test_default_model_beats_chance_on_the_held_out_sample(sample_output):
    # The sample is a held-out synthetic seed. A random model scores |CC| ~ 0; the Hale's-law
    # oracle bound for a sign-blind input is ~0.4 (benchmarks/bench_polarity_bound.py).
    _, generated = sample_output
    truth = prepare_magnetogram_map(sunpy.map.Map(SAMPLE_HMI), grid=ModelGrid(512))
    truth_map = magnetogram_map(truth.data, truth.geometry, model_name="truth", valid=truth.disk)
    metrics = compare_maps(truth_map, generated, nan_policy="omit")
    assert metrics["cc"] > 0.15
    assert metrics["cc_binned"] > 0.3
    assert metrics["flux_generated"] > 0.1 * metrics["flux_true"]


def test_default_model_on_the_real_aia_jp2(real_aia304_map):
    out = generate_magnetogram(real_aia304_map, device="cpu")
    assert out.unit == u.G
    assert out.observer_coordinate.separation_3d(real_aia304_map.observer_coordinate).to_value(u.m) < 1
    assert out.date.isot[:19] == real_aia304_map.reference_date.isot[:19]
    assert out.plot_settings["cmap"] == "hmimag"
    assert np.all(np.isfinite(out.data[disk_mask(ModelGrid(512))]))

"""
Tests of model cards, safetensors header checks, save_weights and the cache settings.
"""

import dataclasses
import hashlib
import json
import pickle
import struct

import pytest
import torch
from sunpy.util.config import dirs as sunpy_dirs

from sunpy_magnetogan.exceptions import CacheError, ModelCardError, UnsafeWeightsError
from sunpy_magnetogan.weights import (
    ModelCard,
    check_safetensors_header,
    default_cache_dir,
    load_state_dict,
    resolve_cache_dir,
    resolve_offline,
    save_weights,
    sha256_file,
)
from sunpy_magnetogan.weights.cache import CACHE_ENV, OFFLINE_ENV, ensure_dir
from sunpy_magnetogan.weights.safetensors_io import card_path_for, load_safetensors

#: The loopback HTTP server and the isolated-cache fixtures.
pytest_plugins = ["tests.loopback_server"]

SHA = "ab" * 32


def make_card(**changes):
    fields = dict(
        name="demo",
        filename="demo-v1.safetensors",
        sha256=SHA,
        description="a test model",
        architecture={"generator": {"ngf": 8, "levels": [128, 256]}},
        normalization={"mag": {"kind": "arcsinh", "scale_G": 50.0}},
        training_data="synthetic pairs",
        metrics={"pixel_cc": 0.5},
        urls=("https://example.org/demo-v1.safetensors", "http://mirror.example.org/demo-v1.safetensors"),
        license="CC-BY-4.0",
        version="1.0",
    )
    fields.update(changes)
    return ModelCard(**fields)


# --- model cards -------------------------------------------------------------------


def test_card_json_round_trip_through_text_and_file(tmp_path):
    card = make_card()
    again = ModelCard.from_json(card.to_json())
    assert again == card
    assert isinstance(again.urls, tuple)
    path = tmp_path / "card.json"
    card.to_json(path)
    data = json.loads(path.read_text())
    assert data["format"] == "sunpy-magnetogan-model-card"
    assert data["sha256"] == SHA
    assert data["urls"] == list(card.urls)
    assert ModelCard.from_json(path) == card
    assert ModelCard.from_json(str(path)) == card


def test_card_is_immutable_and_isolated_from_caller_dicts():
    arch = {"ngf": 8}
    card = make_card(architecture=arch)
    arch["ngf"] = 64
    assert card.architecture == {"ngf": 8}
    with pytest.raises(dataclasses.FrozenInstanceError):
        card.sha256 = "cd" * 32
    assert make_card(sha256=SHA.upper()).sha256 == SHA


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"filename": "../../etc/evil.safetensors"}, "file name"),
        ({"filename": "sub/dir.safetensors"}, "file name"),
        ({"filename": ".."}, "file name"),
        ({"sha256": "abc"}, "sha256"),
        ({"sha256": "g" * 64}, "sha256"),
        ({"name": "bad name"}, "model name"),
        ({"name": ""}, "model name"),
        ({"urls": ("file:///etc/passwd",)}, "scheme"),
        ({"urls": "https://example.org/x.safetensors"}, "urls"),
        ({"urls": ("https:///x",)}, "host"),
        ({"architecture": {"x": object()}}, "JSON"),
        ({"metrics": [1, 2]}, "dict"),
        ({"path": "relative/file.safetensors"}, "absolute"),
        ({"embedded": "yes"}, "embedded"),
    ],
)
def test_invalid_cards_are_refused(changes, message):
    with pytest.raises(ModelCardError, match=message):
        make_card(**changes)


def test_card_json_with_unknown_key_or_newer_format_is_refused(tmp_path):
    data = make_card().to_dict()
    data["sha265"] = SHA  # a typo must not pass silently
    with pytest.raises(ModelCardError, match="sha265"):
        ModelCard.from_dict(data)
    data = make_card().to_dict()
    data["format_version"] = 99
    with pytest.raises(ModelCardError, match="version 99"):
        ModelCard.from_dict(data)
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(ModelCardError, match="broken.json"):
        ModelCard.from_json(path)
    data = make_card().to_dict()
    del data["sha256"]
    with pytest.raises(ModelCardError, match="sha256"):
        ModelCard.from_dict(data)


# --- hashing and safetensors headers ------------------------------------------------


def test_sha256_file_streams_in_chunks(tmp_path):
    data = bytes(range(256)) * 1000 + b"tail"
    path = tmp_path / "blob"
    path.write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    assert sha256_file(path, chunk_size=1000) == expected
    assert sha256_file(path) == expected


@pytest.fixture
def saved(tmp_path):
    state = {"conv.weight": torch.randn(4, 3, 3, 3), "conv.bias": torch.arange(4.0), "step": torch.tensor(7)}
    path = tmp_path / "model.safetensors"
    card = save_weights(state, path, card={"name": "saved", "version": "2", "metrics": {"rmse_G": 12.5}})
    return state, path, card


def test_save_weights_writes_verified_file_and_card(saved, tmp_path):
    state, path, card = saved
    assert card.sha256 == sha256_file(path)
    assert card.filename == "model.safetensors"
    beside = ModelCard.from_json(card_path_for(path))
    assert beside == card
    assert beside.path is None
    assert beside.metrics == {"rmse_G": 12.5}
    header = check_safetensors_header(path)
    assert header["__metadata__"]["sunpy_magnetogan.model"] == "saved"
    assert set(header) == {"__metadata__", *state}
    # nothing but the file and its card: no temporary files left behind
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors", "model.safetensors.json"]
    tensors = load_safetensors(path)
    for key, value in state.items():
        assert torch.equal(tensors[key], value)


def test_save_weights_handles_shared_tensors_and_rejects_bad_input(tmp_path):
    shared = torch.ones(3)
    card = save_weights({"a": shared, "b": shared}, tmp_path / "tied.safetensors", card={"name": "tied"})
    tensors = load_safetensors(tmp_path / "tied.safetensors")
    assert torch.equal(tensors["a"], shared)
    assert torch.equal(tensors["b"], shared)
    assert card.name == "tied"
    with pytest.raises(TypeError, match="torch.Tensor"):
        save_weights({"a": [1.0]}, tmp_path / "bad.safetensors", card={"name": "bad"})
    with pytest.raises(ModelCardError, match="name"):
        save_weights({"a": shared}, tmp_path / "noname.safetensors", card={})
    assert not (tmp_path / "bad.safetensors").exists()
    assert not (tmp_path / "noname.safetensors").exists()


def test_load_state_dict_of_a_path_checks_the_card_beside_it(saved, weights_env):
    state, path, card = saved
    tensors, loaded = load_state_dict(path)
    assert loaded.sha256 == card.sha256
    assert loaded.path == str(path.resolve())
    assert torch.equal(tensors["conv.bias"], state["conv.bias"])


def _write_fake_safetensors(path, header, data=b""):
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def test_header_check_refuses_a_torch_save_zip_and_a_raw_pickle(tmp_path):
    zipped = tmp_path / "zip.safetensors"
    torch.save({"w": torch.ones(2)}, zipped)
    with pytest.raises(UnsafeWeightsError, match="zip archive"):
        check_safetensors_header(zipped)
    raw = tmp_path / "raw.safetensors"
    raw.write_bytes(pickle.dumps({"w": [1.0, 2.0]}, protocol=2))
    with pytest.raises(UnsafeWeightsError, match="pickle"):
        check_safetensors_header(raw)


@pytest.mark.parametrize(
    ("header", "data", "message"),
    [
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "data_offsets"),
        ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 12, "truncated or padded"),
        ({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8, "shape"),
        ({"w": {"dtype": "f32; rm -rf", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, "dtype"),
        ({"w": {"dtype": "F32", "shape": [2]}}, b"\0" * 8, "keys"),
        ({"__metadata__": {"a": 1}}, b"", "__metadata__"),
        ([1, 2, 3], b"", "JSON object"),
    ],
)
def test_header_check_refuses_malformed_headers(tmp_path, header, data, message):
    path = _write_fake_safetensors(tmp_path / "x.safetensors", header, data)
    with pytest.raises(UnsafeWeightsError, match=message):
        check_safetensors_header(path)


def test_header_check_refuses_short_and_truncated_files(saved, tmp_path):
    _, path, _ = saved
    short = tmp_path / "short.safetensors"
    short.write_bytes(b"\x01\x02")
    with pytest.raises(UnsafeWeightsError, match="2 bytes"):
        check_safetensors_header(short)
    cut = tmp_path / "cut.safetensors"
    cut.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(UnsafeWeightsError, match="truncated"):
        check_safetensors_header(cut)
    with pytest.raises(UnsafeWeightsError):
        load_safetensors(cut)


# --- cache directory and offline settings --------------------------------------------


def test_cache_dir_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv(CACHE_ENV, raising=False)
    assert default_cache_dir() == default_cache_dir().parent / "magnetogan"
    # the parent is the per-user data directory sunpy itself uses
    assert str(default_cache_dir().parent) == sunpy_dirs.user_data_dir
    assert resolve_cache_dir() == default_cache_dir().absolute()
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "from-env"))
    assert resolve_cache_dir() == tmp_path / "from-env"
    assert resolve_cache_dir(tmp_path / "from-arg") == tmp_path / "from-arg"


@pytest.mark.parametrize(
    ("env", "expected"),
    [(None, False), ("", False), ("0", False), ("off", False), ("FALSE", False), ("1", True), ("yes", True)],
)
def test_offline_from_environment(monkeypatch, env, expected):
    if env is None:
        monkeypatch.delenv(OFFLINE_ENV, raising=False)
    else:
        monkeypatch.setenv(OFFLINE_ENV, env)
    assert resolve_offline() is expected
    assert resolve_offline(True) is True
    assert resolve_offline(False) is False


def test_unwritable_cache_dir_gives_cache_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    with pytest.raises(CacheError, match="a-file"):
        ensure_dir(blocker / "cache")

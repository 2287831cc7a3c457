"""
Tests of the model registry: built-in cards, embedded weights, user registrations.
"""

import json
import re

import pytest
import torch

from sunpy_magnetogan.exceptions import (
    HashMismatchError,
    ModelCardError,
    ModelNotFoundError,
    WeightsArchitectureError,
    WeightsError,
    WeightsWarning,
)
from sunpy_magnetogan.weights import (
    ModelCard,
    builtin_models,
    card_for_file,
    fetch_weights,
    get_card,
    list_models,
    load_state_dict,
    register_model,
    reload_registry,
    save_weights,
    sha256_file,
    unregister_model,
    user_models_path,
)
from sunpy_magnetogan.weights import fetch as fetch_module
from sunpy_magnetogan.weights import registry as registry_module
from sunpy_magnetogan.weights.registry import _load_builtin_cards
from sunpy_magnetogan.weights.safetensors_io import check_safetensors_header

#: The loopback HTTP server and the isolated-cache fixtures.
pytest_plugins = ["tests.loopback_server"]

#: The size limit for weights shipped inside the package.
EMBEDDED_LIMIT_BYTES = 12 * 1024 * 1024


def replace_card(card, **changes):
    """A copy of ``card`` with some fields changed (validated like a new card)."""
    return ModelCard.from_dict({**card.to_dict(), **changes})


@pytest.fixture
def local_weights(tmp_path):
    """A safetensors file with its card beside it: (path, card)."""
    path = tmp_path / "run" / "gen-v3.safetensors"
    card = save_weights(
        {"w": torch.arange(6.0).reshape(2, 3)},
        path,
        card={"name": "my-run", "metrics": {"cc": 0.5}, "version": "3"},
    )
    return path, card


def test_shipped_cards_are_valid_and_their_embedded_files_verify():
    # Guards the cards the package ships (sunpy_magnetogan/weights/cards/*.json): each
    # parses, names are unique, and an embedded model's file is there, is safetensors,
    # is within the size limit and has the card's hash.
    cards = _load_builtin_cards(registry_module.CARDS_DIR)
    assert cards == builtin_models()
    for card in cards.values():
        assert card.has_source, card.name
        if card.embedded:
            path = fetch_module.EMBEDDED_DIR / card.filename
            assert path.is_file(), f"embedded file of {card.name!r} missing: {path}"
            assert path.stat().st_size <= EMBEDDED_LIMIT_BYTES
            check_safetensors_header(path)
            assert sha256_file(path) == card.sha256, card.name


@pytest.fixture
def builtin_dirs(tmp_path, monkeypatch, weights_env):
    """Temporary directories for built-in cards and embedded files (restored before the
    registry is reset by ``weights_env``)."""
    cards_dir = tmp_path / "cards"
    embedded_dir = tmp_path / "embedded"
    cards_dir.mkdir()
    embedded_dir.mkdir()
    with monkeypatch.context() as patch:
        patch.setattr(registry_module, "CARDS_DIR", cards_dir)
        patch.setattr(fetch_module, "EMBEDDED_DIR", embedded_dir)
        # Forget the package's own built-in cards (e.g. the shipped default) for the test.
        registry_module.reload_registry()
        yield cards_dir, embedded_dir


def test_builtin_cards_are_loaded_and_embedded_weights_work_offline(builtin_dirs, tmp_path, weights_env):
    cards_dir, embedded_dir = builtin_dirs
    source = tmp_path / "default-v1.safetensors"
    written = save_weights({"w": torch.ones(4)}, source, card={"name": "default", "version": "1"})
    (embedded_dir / source.name).write_bytes(source.read_bytes())
    ModelCard.from_dict({**written.to_dict(), "embedded": True}).to_json(cards_dir / "default.json")
    reload_registry()
    assert "default" in list_models()
    assert get_card("default").embedded
    # embedded weights need neither the network nor the cache
    path = fetch_weights("default", offline=True)
    assert path == embedded_dir / source.name
    tensors, card = load_state_dict("default", offline=True)
    assert torch.equal(tensors["w"], torch.ones(4))
    assert card.version == "1"
    assert not weights_env.exists()
    with pytest.raises(ModelCardError, match="built-in"):
        unregister_model("default")


def test_damaged_embedded_file_is_refused_and_left_alone(builtin_dirs, tmp_path):
    _, embedded_dir = builtin_dirs
    path = embedded_dir / "default-v1.safetensors"
    save_weights({"w": torch.ones(4)}, path, card={"name": "x"})
    register_model(ModelCard(name="default", filename=path.name, sha256=sha256_file(path), embedded=True))
    path.write_bytes(path.read_bytes()[:-4] + b"\0\0\0\1")
    with pytest.raises(HashMismatchError, match="reinstall"):
        fetch_weights("default")
    assert path.exists()
    path.unlink()
    with pytest.raises(WeightsError, match="missing"):
        fetch_weights("default")


def test_missing_embedded_file_falls_back_to_urls(builtin_dirs, server, local_weights, weights_env):
    path, card = local_weights
    url = server.add("/default.safetensors", path.read_bytes())
    register_model(replace_card(card, name="default", embedded=True, path=None, urls=(url,)))
    assert fetch_weights("default") == weights_env / card.filename
    assert server.count("/default.safetensors") == 1


def test_duplicate_builtin_names_are_an_error(builtin_dirs):
    cards_dir, _ = builtin_dirs
    card = ModelCard(name="dup", filename="a.safetensors", sha256="0" * 64, embedded=True)
    card.to_json(cards_dir / "a.json")
    card.to_json(cards_dir / "b.json")
    with pytest.raises(ModelCardError, match="dup"):
        reload_registry()


def test_unknown_model_lists_known_names(weights_env):
    register_model(
        ModelCard(name="alpha", filename="a.safetensors", sha256="0" * 64, urls=("https://a.invalid/a",))
    )
    with pytest.raises(ModelNotFoundError, match="no model named 'nope'; known models: .*alpha") as info:
        get_card("nope")
    assert isinstance(info.value, KeyError)
    with pytest.raises(ModelNotFoundError, match="nope"):
        fetch_weights("nope")
    with pytest.raises(ModelNotFoundError, match="no file"):
        load_state_dict("nope")


def test_register_a_card_by_name_and_overwrite(weights_env):
    card = ModelCard(name="alpha", filename="a.safetensors", sha256="0" * 64, urls=("https://a.invalid/a",))
    register_model(card)
    register_model(card, name="beta")
    assert {"alpha", "beta"} <= set(list_models())
    assert get_card("beta").filename == "a.safetensors"
    with pytest.raises(ModelCardError, match="already registered"):
        register_model(card)
    newer = ModelCard(
        name="alpha", filename="a2.safetensors", sha256="1" * 64, urls=("https://a.invalid/a2",)
    )
    register_model(newer, overwrite=True)
    assert get_card("alpha").filename == "a2.safetensors"
    with pytest.raises(ModelCardError, match="nowhere"):
        register_model(ModelCard(name="ghost", filename="g.safetensors", sha256="0" * 64))
    assert unregister_model("beta").name == "beta"
    assert "beta" not in list_models()
    with pytest.raises(ModelNotFoundError):
        unregister_model("beta")


def test_register_a_local_file_uses_the_card_beside_it(local_weights, weights_env):
    path, written = local_weights
    card = register_model(path)
    assert card.name == "my-run"
    assert card.sha256 == written.sha256
    assert card.metrics == {"cc": 0.5}
    assert card.path == str(path.resolve())
    assert fetch_weights("my-run") == path.resolve()
    tensors, loaded = load_state_dict("my-run")
    assert tensors["w"].shape == (2, 3)
    assert loaded.version == "3"
    # the cache is not used for local files
    assert not weights_env.exists()


def test_local_file_changed_after_registration_is_refused_and_kept(local_weights, weights_env):
    path, _ = local_weights
    register_model(path, name="run")
    save_weights({"w": torch.zeros(2, 3)}, path.with_name("other.safetensors"), card={"name": "o"})
    path.write_bytes(path.with_name("other.safetensors").read_bytes())
    with pytest.raises(HashMismatchError, match="changed after it was registered"):
        fetch_weights("run")
    with pytest.raises(HashMismatchError):
        load_state_dict("run")
    assert path.exists()
    # the card beside it no longer matches either
    with pytest.raises(HashMismatchError, match="card"):
        card_for_file(path)


def test_register_a_local_file_with_a_wrong_sha256_or_missing(local_weights, tmp_path, weights_env):
    path, _ = local_weights
    with pytest.raises(HashMismatchError, match="sha256 given"):
        register_model(path, name="x", sha256="0" * 64)
    with pytest.raises(ModelCardError, match="no such file"):
        register_model(tmp_path / "absent.safetensors", name="x")
    assert "x" not in list_models()


def test_persisted_registrations_survive_a_new_session(local_weights, weights_env):
    path, written = local_weights
    register_model(path, name="kept", persist=True)
    stored = json.loads(user_models_path().read_text())
    assert stored["models"]["kept"]["sha256"] == written.sha256
    reload_registry()  # forgets everything held in memory
    assert get_card("kept").path == str(path.resolve())
    assert fetch_weights("kept") == path.resolve()
    with pytest.raises(ModelCardError, match="already registered"):
        register_model(path, name="kept", persist=True)
    unregister_model("kept")
    assert "kept" not in json.loads(user_models_path().read_text())["models"]
    reload_registry()
    assert "kept" not in list_models()


def test_a_session_registration_hides_a_persisted_one(local_weights, weights_env):
    path, _ = local_weights
    register_model(path, name="m", persist=True)
    other = ModelCard(name="m", filename="o.safetensors", sha256="0" * 64, urls=("https://a.invalid/o",))
    register_model(other, overwrite=True)
    assert get_card("m").filename == "o.safetensors"
    unregister_model("m")  # removes the session one: the persisted one shows again
    assert get_card("m").path == str(path.resolve())


def test_registrations_are_per_cache_dir(local_weights, tmp_path, weights_env):
    path, _ = local_weights
    other = tmp_path / "elsewhere"
    register_model(path, name="there", persist=True, cache_dir=other)
    assert "there" in list_models(cache_dir=other)
    assert "there" not in list_models()
    assert (other / "user_models.json").is_file()


def test_corrupt_user_models_file_warns_and_is_skipped(weights_env, local_weights):
    path, _ = local_weights
    register_model(path, name="good", persist=True)
    data = json.loads(user_models_path().read_text())
    data["models"]["bad"] = {"name": "bad", "filename": "../x", "sha256": "0" * 64}
    user_models_path().write_text(json.dumps(data))
    with pytest.warns(WeightsWarning, match="ignoring user model 'bad'"):
        names = list_models()
    assert "good" in names
    assert "bad" not in names
    user_models_path().write_text("{oops")
    with pytest.warns(WeightsWarning, match="user_models.json"):
        assert "good" not in list_models()


@pytest.fixture
def compact_weights(tiny_model_file, tmp_path):
    """The tiny model's state dict and card fields, to spoil."""
    state, card = load_state_dict(tiny_model_file)
    return dict(state), {k: v for k, v in card.to_dict().items() if k in ("architecture", "normalization")}


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (lambda s: s.pop("levels.0.encoder.0.0.weight"), "1 missing (levels.0.encoder.0.0.weight)"),
        (lambda s: s.update(extra=torch.zeros(2)), "1 unexpected (extra)"),
        (
            lambda s: s.update({"levels.0.encoder.0.0.weight": torch.zeros(4, 1, 4, 4)}),
            "levels.0.encoder.0.0.weight F32[4, 1, 4, 4] instead of F32[8, 1, 4, 4]",
        ),
        (
            lambda s: s.update({"levels.0.encoder.0.0.weight": torch.zeros(8, 1, 4, 4, dtype=torch.int32)}),
            "I32[8, 1, 4, 4] instead of F32[8, 1, 4, 4]",
        ),
    ],
)
def test_weights_that_do_not_fit_their_architecture_are_refused_at_registration(
    compact_weights, tmp_path, spoil, message
):
    state, fields = compact_weights
    spoil(state)
    path = tmp_path / "spoilt.safetensors"
    save_weights(state, path, card={"name": "spoilt", **fields})
    with pytest.raises(WeightsArchitectureError, match=re.escape(message)):
        register_model(path)
    assert "spoilt" not in list_models()


def test_half_precision_weights_fit_a_float32_architecture(compact_weights, tmp_path):
    state, fields = compact_weights
    state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    path = tmp_path / "half.safetensors"
    save_weights(state, path, card={"name": "half-compact", **fields})
    assert register_model(path).name == "half-compact"
    unregister_model("half-compact")


def test_downloaded_weights_are_checked_before_loading(compact_weights, tmp_path, weights_env):
    state, fields = compact_weights
    state.pop("levels.0.encoder.0.0.bias")
    path = tmp_path / "remote.safetensors"
    card = save_weights(state, path, card={"name": "remote", **fields})
    # As if fetched: a card whose file sits in the cache under its name.
    weights_env.mkdir(parents=True, exist_ok=True)
    (weights_env / card.filename).write_bytes(path.read_bytes())
    remote = ModelCard.from_dict({**card.to_dict(), "urls": ["https://example.invalid/remote.safetensors"]})
    with pytest.raises(WeightsArchitectureError, match="1 missing"):
        load_state_dict(remote, offline=True)

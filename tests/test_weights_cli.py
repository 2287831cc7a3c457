"""
Tests of ``sunpy-magnetogan models`` (list, show, fetch, register, unregister).
"""

import json

import pytest
import torch

from sunpy_magnetogan.cli import main
from sunpy_magnetogan.weights import reload_registry, save_weights, sha256_file

#: The loopback HTTP server and the isolated-cache fixtures.
pytest_plugins = ["tests.loopback_server"]


@pytest.fixture
def local_file(tmp_path):
    path = tmp_path / "trained" / "run7.safetensors"
    save_weights({"w": torch.ones(3)}, path, card={"name": "run7", "version": "7"})
    return path


def models(cache, *args):
    return main(["models", "--cache-dir", str(cache), *args])


def test_register_list_show_fetch_unregister_a_local_file(local_file, weights_env, capsys):
    assert models(weights_env, "register", str(local_file), "--name", "mine") == 0
    assert "registered 'mine'" in capsys.readouterr().out
    assert "mine" in json.loads((weights_env / "user_models.json").read_text())["models"]
    reload_registry()  # a new command sees the persisted registration
    assert models(weights_env, "list") == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith("mine"))
    assert "v7" in line
    assert f"local: {local_file.resolve()}" in line
    assert models(weights_env, "show", "mine") == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["sha256"] == sha256_file(local_file)
    assert shown["name"] == "mine"
    assert models(weights_env, "fetch", "mine") == 0
    assert capsys.readouterr().out.strip() == str(local_file.resolve())
    assert models(weights_env, "unregister", "mine") == 0
    capsys.readouterr()
    assert models(weights_env, "list") == 0
    assert "mine" not in capsys.readouterr().out


def test_register_and_fetch_a_url(local_file, server, weights_env, capsys):
    url = server.add("/files/run7.safetensors", local_file.read_bytes())
    sha = sha256_file(local_file)
    assert models(weights_env, "register", url, "--name", "remote", "--sha256", sha) == 0
    capsys.readouterr()
    assert models(weights_env, "list") == 0
    assert "not cached: run7.safetensors" in capsys.readouterr().out
    assert models(weights_env, "fetch", "remote", "--no-progress") == 0
    path = capsys.readouterr().out.strip()
    assert path == str(weights_env / "run7.safetensors")
    assert sha256_file(path) == sha
    assert models(weights_env, "list") == 0
    line = next(row for row in capsys.readouterr().out.splitlines() if row.startswith("remote"))
    assert line.endswith("  cached: run7.safetensors")


def test_errors_exit_with_code_2_and_a_message(server, weights_env, capsys):
    url = server.add("/x.safetensors", b"data")
    assert models(weights_env, "register", url, "--name", "x") == 2
    assert "sha256" in capsys.readouterr().err
    assert models(weights_env, "show", "does-not-exist") == 2
    assert "no model named 'does-not-exist'" in capsys.readouterr().err
    assert models(weights_env, "register", url, "--name", "x", "--sha256", "0" * 64) == 0
    assert models(weights_env, "fetch", "x", "--offline") == 2
    assert "offline" in capsys.readouterr().err
    assert server.requests == []

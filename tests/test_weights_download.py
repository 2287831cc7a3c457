"""
Download, verification and caching of weights, against a loopback HTTP server.

Every URL points at 127.0.0.1: a `LoopbackServer` started by the test, or a port that is
bound but not listening (connection refused).
"""

import os
import subprocess
import sys
import textwrap

import pytest
import safetensors.torch
import torch

from sunpy_magnetogan.exceptions import (
    CacheError,
    DownloadError,
    HashMismatchError,
    ModelCardError,
    UnsafeWeightsError,
)
from sunpy_magnetogan.weights import (
    ModelCard,
    fetch_weights,
    load_state_dict,
    register_model,
    save_weights,
    sha256_file,
)
from tests.loopback_server import refused_url

#: The loopback HTTP server and the isolated-cache fixtures.
pytest_plugins = ["tests.loopback_server"]

FILENAME = "remote-v1.safetensors"


@pytest.fixture
def weights(tmp_path):
    """A real safetensors file of ~200 kB: (bytes, sha256, state dict)."""
    state = {"w": torch.linspace(-1, 1, 50_000), "b": torch.arange(10.0)}
    path = tmp_path / "source" / FILENAME
    path.parent.mkdir()
    card = save_weights(state, path, card={"name": "src"})
    return path.read_bytes(), card.sha256, state


def remote_card(urls, sha256, name="remote"):
    return register_model(ModelCard(name=name, filename=FILENAME, sha256=sha256, urls=tuple(urls)))


def leftovers(cache):
    """Files in the cache other than the weights file and lock files."""
    return sorted(p.name for p in cache.iterdir() if p.name != FILENAME and not p.name.endswith(".lock"))


def test_download_verify_and_cache_hit(server, weights_env, weights):
    body, sha, state = weights
    url = server.add("/w.safetensors", body)
    remote_card([url], sha)
    path = fetch_weights("remote")
    assert path == weights_env / FILENAME
    assert sha256_file(path) == sha
    assert server.count("/w.safetensors") == 1
    # second call: served from the cache, the server sees no new request
    assert fetch_weights("remote") == path
    tensors, card = load_state_dict("remote")
    assert server.count("/w.safetensors") == 1
    assert torch.equal(tensors["w"], state["w"])
    assert card.name == "remote"
    assert leftovers(weights_env) == []


def test_cache_dir_argument_overrides_environment(server, weights_env, weights, tmp_path):
    body, sha, _ = weights
    remote_card([server.add("/w.safetensors", body)], sha)
    other = tmp_path / "other-cache"
    assert fetch_weights("remote", cache_dir=other) == other / FILENAME
    assert not weights_env.exists()


@pytest.mark.parametrize("first", ["404", "refused"])
def test_mirror_fallback(server, weights_env, weights, first):
    body, sha, _ = weights
    if first == "404":
        bad, sock = server.url("/missing.safetensors"), None
    else:
        bad, sock = refused_url()
    good = server.add("/mirror/w.safetensors", body)
    try:
        remote_card([bad, good], sha)
        path = fetch_weights("remote")
    finally:
        if sock is not None:
            sock.close()
    assert sha256_file(path) == sha
    assert server.count("/mirror/w.safetensors") == 1
    if first == "404":
        assert server.count("/missing.safetensors") == 1


def test_hash_mismatch_is_refused_and_the_file_deleted(server, weights_env, weights):
    body, sha, _ = weights
    url = server.add("/tampered.safetensors", body[:-1] + b"\x01")
    remote_card([url], sha)
    with pytest.raises(HashMismatchError, match=r"tampered\.safetensors") as info:
        fetch_weights("remote")
    assert sha in str(info.value)
    assert not (weights_env / FILENAME).exists()
    assert leftovers(weights_env) == []


def test_wrong_file_on_first_mirror_falls_back_to_the_next(server, weights_env, weights):
    body, sha, _ = weights
    evil = server.add("/evil.safetensors", b"x" * len(body))
    good = server.add("/good.safetensors", body)
    remote_card([evil, good], sha)
    assert sha256_file(fetch_weights("remote")) == sha
    assert server.count("/evil.safetensors") == 1


def test_corrupt_cached_file_is_replaced(server, weights_env, weights):
    body, sha, _ = weights
    url = server.add("/w.safetensors", body)
    remote_card([url], sha)
    weights_env.mkdir()
    (weights_env / FILENAME).write_bytes(b"bit rot")
    path = fetch_weights("remote")
    assert sha256_file(path) == sha
    assert server.count("/w.safetensors") == 1


def test_truncated_transfer_is_refused(server, weights_env, weights):
    body, sha, _ = weights
    url = server.add("/cut.safetensors", body, send_bytes=len(body) // 3)
    remote_card([url], sha)
    with pytest.raises(DownloadError, match="truncated") as info:
        fetch_weights("remote")
    assert url in str(info.value)
    assert not (weights_env / FILENAME).exists()
    assert leftovers(weights_env) == []


def test_network_failure_names_every_url_tried(server, weights_env, weights):
    _, sha, _ = weights
    refused, sock = refused_url()
    missing = server.url("/gone.safetensors")
    remote_card([refused, missing], sha)
    try:
        with pytest.raises(DownloadError) as info:
            fetch_weights("remote")
    finally:
        sock.close()
    message = str(info.value)
    assert "'remote'" in message
    assert f"{refused}: connection failed" in message
    assert f"{missing}: HTTP error 404" in message
    assert not (weights_env / FILENAME).exists()


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_offline_with_empty_cache_names_model_and_cache(server, weights_env, weights, monkeypatch, how):
    body, sha, _ = weights
    remote_card([server.add("/w.safetensors", body)], sha)
    if how == "environment":
        monkeypatch.setenv("SUNPY_MAGNETOGAN_OFFLINE", "1")
    with pytest.raises(CacheError) as info:
        fetch_weights("remote", offline=True if how == "argument" else None)
    message = str(info.value)
    assert "'remote'" in message
    assert str(weights_env) in message
    assert "offline" in message
    assert server.requests == []


def test_offline_uses_the_cache(server, weights_env, weights):
    body, sha, _ = weights
    remote_card([server.add("/w.safetensors", body)], sha)
    path = fetch_weights("remote")
    assert fetch_weights("remote", offline=True) == path
    # a corrupt cached copy is removed, and offline mode cannot replace it
    path.write_bytes(b"corrupt")
    with pytest.raises(CacheError, match="removed"):
        fetch_weights("remote", offline=True)
    assert not path.exists()
    assert server.count("/w.safetensors") == 1


def test_registering_a_url_needs_a_sha256(server, weights_env, weights):
    body, sha, _ = weights
    url = server.add("/user/mine.safetensors", body)
    with pytest.raises(ModelCardError, match="sha256"):
        register_model(url, name="mine")
    card = register_model(url, sha256=sha)
    assert card.name == "mine"
    assert card.filename == "mine.safetensors"
    assert sha256_file(fetch_weights("mine")) == sha


class _Payload:
    """Unpickling this creates a directory: proof that a file was (or was not) unpickled."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.mkdir, (str(self.marker),))


def test_pickle_disguised_as_safetensors_is_refused_unread(server, weights_env, tmp_path, monkeypatch):
    marker = tmp_path / "pickle-was-executed"
    disguised = tmp_path / "model.safetensors"
    torch.save({"weight": torch.ones(3), "payload": _Payload(marker)}, disguised)
    sha = sha256_file(disguised)
    url = server.add("/model.safetensors", disguised.read_bytes())
    # a user-registered card with the matching hash: the hash check alone would pass
    register_model(url, name="trojan", sha256=sha)

    def must_not_be_called(*args, **kwargs):
        raise AssertionError("the safetensors library was handed a pickle")

    monkeypatch.setattr(safetensors.torch, "load_file", must_not_be_called)
    with pytest.raises(UnsafeWeightsError, match="zip archive"):
        load_state_dict("trojan")
    assert server.count("/model.safetensors") == 1  # it was downloaded, verified, refused
    with pytest.raises(UnsafeWeightsError):
        load_state_dict(disguised)
    with pytest.raises(UnsafeWeightsError):
        register_model(disguised, name="trojan-local")
    assert not marker.exists()
    # control: the payload is live, so the test above would notice an unpickling
    monkeypatch.undo()
    control = tmp_path / "control.pt"
    control.write_bytes(disguised.read_bytes())
    torch.load(control, weights_only=False)
    assert marker.is_dir()


_CHILD = textwrap.dedent(
    """
    import sys
    from sunpy_magnetogan.weights.download import fetch_file

    url, sha, filename, cache = sys.argv[1:]
    print("ready", flush=True)
    sys.stdin.readline()
    print(fetch_file(urls=[url], sha256=sha, filename=filename, cache_dir=cache), flush=True)
    """
)


def test_concurrent_downloads_from_two_processes_leave_one_valid_file(server, weights_env, weights):
    body, sha, _ = weights
    # the slow answer makes the two processes overlap: one downloads, the other waits
    url = server.add("/slow.safetensors", body, delay=1.0)
    args = [sys.executable, "-c", _CHILD, url, sha, FILENAME, str(weights_env)]
    children = [
        subprocess.Popen(
            args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout.readline().strip() == "ready", child.stderr.read()
        for child in children:  # release both at once
            child.stdin.write("go\n")
            child.stdin.flush()
        results = [child.communicate(timeout=120) for child in children]
    finally:
        for child in children:
            if child.poll() is None:
                child.kill()
    for child, (out, err) in zip(children, results, strict=True):
        assert child.returncode == 0, err
        assert out.strip() == str(weights_env / FILENAME)
    assert sha256_file(weights_env / FILENAME) == sha
    assert server.count("/slow.safetensors") == 1
    assert leftovers(weights_env) == []

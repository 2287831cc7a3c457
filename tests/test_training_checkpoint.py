"""
Tests of the crash-safe checkpoints.
"""

import json
import random

import numpy as np
import pytest
import torch
from torch import nn

from sunpy_magnetogan.exceptions import CheckpointError, CheckpointWarning
from sunpy_magnetogan.training import checkpoint as ckpt


def _networks():
    torch.manual_seed(0)
    generator = nn.Sequential(nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.Conv2d(4, 1, 1))
    discriminator = nn.Sequential(nn.Conv2d(2, 4, 4, 2), nn.LeakyReLU(0.2), nn.Conv2d(4, 1, 1))
    return generator, discriminator


def _trained_optimizer(module, steps=3):
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-3, betas=(0.5, 0.999))
    for _ in range(steps):
        optimizer.zero_grad()
        module(torch.randn(2, module[0].in_channels, 8, 8)).square().mean().backward()
        optimizer.step()
    return optimizer


def _save(directory, step, generator, discriminator, **kwargs):
    optimizers = {
        "generator": _trained_optimizer(generator),
        "discriminator": _trained_optimizer(discriminator),
    }
    path = ckpt.save_checkpoint(
        directory, step, generator=generator, discriminator=discriminator, optimizers=optimizers, **kwargs
    )
    return path, optimizers


def test_round_trip_restores_weights_and_optimizer_state(tmp_path):
    generator, discriminator = _networks()
    path, optimizers = _save(tmp_path, 12, generator, discriminator, meta={"note": "hello"})
    assert path.name == "step-00000012"
    assert (tmp_path / "latest").read_text().strip() == "step-00000012"
    assert sorted(p.name for p in path.iterdir()) == [
        "checkpoint.json",
        "model.safetensors",
        "optimizer.safetensors",
    ]

    loaded = ckpt.load_checkpoint(tmp_path)
    assert loaded["step"] == 12
    assert loaded["meta"]["note"] == "hello"
    for key, value in generator.state_dict().items():
        torch.testing.assert_close(loaded["generator"][key], value, rtol=0, atol=0)
    # A fresh optimiser loaded from the checkpoint makes exactly the same next update.
    g2, _ = _networks()
    g2.load_state_dict(loaded["generator"])
    opt2 = torch.optim.Adam(g2.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt2.load_state_dict(loaded["optimizers"]["generator"])
    x = torch.randn(2, 1, 8, 8)
    for module, optimizer in ((generator, optimizers["generator"]), (g2, opt2)):
        optimizer.zero_grad()
        module(x).square().mean().backward()
        optimizer.step()
    for a, b in zip(generator.parameters(), g2.parameters(), strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_no_pickle_in_checkpoints(tmp_path):
    generator, discriminator = _networks()
    path, _ = _save(tmp_path, 1, generator, discriminator)
    for name in ("model.safetensors", "optimizer.safetensors"):
        header_size = int.from_bytes((path / name).read_bytes()[:8], "little")
        json.loads((path / name).read_bytes()[8 : 8 + header_size])  # a safetensors JSON header
    sidecar = json.loads((path / "checkpoint.json").read_text())
    assert set(sidecar["files"]) == {"model.safetensors", "optimizer.safetensors"}
    assert all(len(entry["sha256"]) == 64 for entry in sidecar["files"].values())


def test_keeps_only_the_newest_checkpoints(tmp_path):
    generator, discriminator = _networks()
    for step in (1, 2, 3, 4):
        _save(tmp_path, step, generator, discriminator, keep=2)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step-00000004", "step-00000003"]


@pytest.mark.parametrize("damage", ["flip_byte", "truncate", "delete_file", "bad_sidecar"])
def test_damaged_newest_checkpoint_falls_back_to_the_previous(tmp_path, damage):
    generator, discriminator = _networks()
    _save(tmp_path, 10, generator, discriminator)
    newest, _ = _save(tmp_path, 20, generator, discriminator)
    weights = newest / "model.safetensors"
    if damage == "flip_byte":
        data = bytearray(weights.read_bytes())
        data[-5] ^= 0xFF
        weights.write_bytes(bytes(data))
    elif damage == "truncate":
        weights.write_bytes(weights.read_bytes()[:100])
    elif damage == "delete_file":
        weights.unlink()
    else:
        (newest / "checkpoint.json").write_text('{"format": "sunpy-magnetogan-check')
    assert ckpt.verify_checkpoint(newest) is not None
    with pytest.warns(CheckpointWarning, match="step-00000020"):
        found = ckpt.find_checkpoint(tmp_path)
    assert found.name == "step-00000010"
    with pytest.warns(CheckpointWarning):
        assert ckpt.load_checkpoint(tmp_path)["step"] == 10
    with pytest.raises(CheckpointError, match="unusable"):
        ckpt.load_checkpoint(newest)


def test_half_written_checkpoints_are_invisible_and_cleaned(tmp_path):
    generator, discriminator = _networks()
    _save(tmp_path, 5, generator, discriminator)
    # What a writer killed mid-way leaves: a hidden temporary directory with partial files.
    partial = tmp_path / ".tmp-step-00000006-99999"
    partial.mkdir()
    (partial / "model.safetensors").write_bytes(b"\x00" * 10)
    assert [p.name for p in ckpt.list_checkpoints(tmp_path)] == ["step-00000005"]
    assert ckpt.find_checkpoint(tmp_path).name == "step-00000005"
    _save(tmp_path, 6, generator, discriminator)
    assert not partial.exists()


class _Crash(BaseException):
    """Stands for the process dying (kill -9) at a chosen point of a save."""


@pytest.mark.parametrize(
    ("crash_point", "expected_step"),
    [("second_file_write", 1), ("directory_rename", 1), ("latest_pointer_update", 2)],
)
def test_a_save_interrupted_anywhere_leaves_a_valid_checkpoint(
    tmp_path, monkeypatch, crash_point, expected_step
):
    generator, discriminator = _networks()
    _save(tmp_path, 1, generator, discriminator)
    calls = {"write": 0, "replace": 0}
    real_write, real_replace = ckpt._write_bytes, ckpt.os.replace

    def write(path, data):
        calls["write"] += 1
        if crash_point == "second_file_write" and calls["write"] == 2:
            real_write(path, data[: len(data) // 2])  # half of the file reached the disk
            raise _Crash
        real_write(path, data)

    def replace(src, dst):
        calls["replace"] += 1
        if crash_point == "directory_rename" and calls["replace"] == 1:
            raise _Crash
        if crash_point == "latest_pointer_update" and calls["replace"] == 2:
            raise _Crash
        real_replace(src, dst)

    monkeypatch.setattr(ckpt, "_write_bytes", write)
    monkeypatch.setattr(ckpt.os, "replace", replace)
    with pytest.raises(_Crash):
        _save(tmp_path, 2, generator, discriminator)
    monkeypatch.undo()
    # No warning (they are errors in the tests): nothing damaged is ever visible.
    assert ckpt.load_checkpoint(tmp_path)["step"] == expected_step
    _save(tmp_path, 3, generator, discriminator)
    assert ckpt.load_checkpoint(tmp_path)["step"] == 3
    assert not list(tmp_path.glob(".tmp-*"))


def test_resaving_a_step_replaces_it(tmp_path):
    generator, discriminator = _networks()
    _save(tmp_path, 5, generator, discriminator)
    with torch.no_grad():
        generator[0].weight.add_(1.0)
    _save(tmp_path, 5, generator, discriminator)
    loaded = ckpt.load_checkpoint(tmp_path)
    torch.testing.assert_close(loaded["generator"]["0.weight"], generator[0].weight.detach())
    assert len(ckpt.list_checkpoints(tmp_path)) == 1


def test_no_checkpoint_is_an_error(tmp_path):
    assert ckpt.find_checkpoint(tmp_path) is None
    with pytest.raises(CheckpointError, match="no valid checkpoint"):
        ckpt.load_checkpoint(tmp_path)


def test_rng_state_round_trip():
    state = json.loads(json.dumps(ckpt.encode_rng_state()))  # must survive JSON
    expected = (torch.rand(3), np.random.random(3), random.random())  # noqa: NPY002
    torch.rand(5), np.random.random(5), random.random()  # noqa: NPY002
    ckpt.restore_rng_state(state)
    again = (torch.rand(3), np.random.random(3), random.random())  # noqa: NPY002
    torch.testing.assert_close(again[0], expected[0])
    np.testing.assert_array_equal(again[1], expected[1])
    assert again[2] == expected[2]


def test_optimizer_state_flattening_round_trip():
    optimizer = _trained_optimizer(nn.Sequential(nn.Conv2d(1, 2, 1)))
    tensors, meta = ckpt.optimizer_state_to_flat(optimizer.state_dict(), "g")
    assert all(key.startswith("g.state.") for key in tensors)
    json.dumps(meta)
    state = ckpt.optimizer_state_from_flat(tensors, meta, "g")
    assert state["param_groups"][0]["betas"] == (0.5, 0.999)
    assert {int(k.split(".")[2]) for k in tensors} == set(state["state"])

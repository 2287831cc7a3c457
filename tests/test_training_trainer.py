"""
Tests of the trainer, the ``train`` command, crash recovery and data-parallel training.
"""

import csv
import importlib
import json
import os
import random
import signal
import subprocess
import sys
import time

import astropy.units as u
import numpy as np
import pytest
import torch

from sunpy_magnetogan.cli import main as cli_main
from sunpy_magnetogan.exceptions import TrainingConfigError
from sunpy_magnetogan.training import (
    ModelConfig,
    TrainConfig,
    Trainer,
    find_checkpoint,
    load_checkpoint,
    load_generator,
    save_config,
)
from sunpy_magnetogan.training.checkpoint import list_checkpoints, verify_checkpoint
from sunpy_magnetogan.training.distributed import parameters_fingerprint

from .test_training_data import make_store

#: A two-level pyramid small enough to train hundreds of steps per second on one core.
TINY_MODEL = ModelConfig(
    image_size=32,
    n_levels=2,
    generator="unet",
    generator_kwargs={"base_channels": 8, "depth": 3},
    discriminator="patchgan",
    patch_sizes=(8, 8),
    discriminator_kwargs={"base_channels": 8},
)
TINY_TRAIN = TrainConfig(
    steps=20, batch_size=2, log_every=5, eval_every=10, checkpoint_every=10, deterministic=True, seed=1
)
#: Subprocesses get one thread each: the test machine's cores are shared.
SUBPROCESS_ENV = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


@pytest.fixture(autouse=True)
def _one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def pairs(tmp_path):
    make_store(tmp_path / "pairs")
    return tmp_path / "pairs"


def _read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _fingerprint_of(checkpoint_path):
    checkpoint = load_checkpoint(checkpoint_path)
    model = ModelConfig.from_dict(checkpoint["meta"]["model_config"])
    generator, discriminator = model.build()
    generator.load_state_dict(checkpoint["generator"])
    discriminator.load_state_dict(checkpoint["discriminator"])
    return parameters_fingerprint(generator, discriminator)


# ---------------------------------------------------------------- learning
def test_tiny_pyramid_overfits_a_tiny_dataset(tmp_path):
    store = make_store(tmp_path / "pairs", n_train=2, n_test=1)
    train = TINY_TRAIN.replace(steps=200, log_every=1, eval_every=0, checkpoint_every=1000)
    Trainer(TINY_MODEL, train, store, tmp_path / "run", progress=False).train()
    rows = _read_csv(tmp_path / "run" / "train_log.csv")
    assert [int(r["step"]) for r in rows] == list(range(1, 201))
    for level, factor in (("l2_level1", 20), ("l2_level0", 10)):
        first = float(rows[0][level])  # the untrained pyramid
        last = np.mean([float(r[level]) for r in rows[-10:]])
        # The L2 term of the finest level falls by > 20x in 200 steps (measured: ~74x), the
        # coarsest by > 10x (measured: ~36x), with the adversarial term switched on.
        assert first / last > factor, f"{level} fell only from {first:.4g} to {last:.4g}"


def test_run_directory_contents(pairs, tmp_path, caplog):
    caplog.set_level("INFO", logger="sunpy_magnetogan")
    summary = Trainer(TINY_MODEL, TINY_TRAIN, pairs, tmp_path / "run", progress=False).train()
    run = tmp_path / "run"
    assert summary["step"] == 20
    assert summary["world_size"] == 1
    assert json.loads((run / "final.json").read_text())["fingerprints"] == summary["fingerprints"]
    assert [int(r["step"]) for r in _read_csv(run / "train_log.csv")] == [5, 10, 15, 20]
    evaluations = _read_csv(run / "eval_log.csv")
    assert [int(r["step"]) for r in evaluations] == [10, 20]
    assert set(summary["eval"]) == {"step", "l2_level0", "l2_level1", "mae_G", "rmse_G", "cc"}
    assert summary["eval"]["mae_G"] > 0
    assert [p.name for p in list_checkpoints(run / "checkpoints")] == ["step-00000020", "step-00000010"]
    assert (run / "config.toml").is_file()
    try:
        importlib.import_module("torch.utils.tensorboard")
    except ImportError:
        assert "tensorboard package is not installed" in caplog.text
    else:
        assert any((run / "tensorboard").iterdir())
    # Deterministic mode is switched back off after training.
    assert not torch.are_deterministic_algorithms_enabled()


def test_checkpoint_is_self_describing(pairs, tmp_path):
    trainer = Trainer(TINY_MODEL, TINY_TRAIN, pairs, tmp_path / "run", progress=False)
    trainer.train()
    # The generator alone can be rebuilt from the checkpoint, ready for inference.
    generator, model = load_generator(tmp_path / "run")
    assert model == TINY_MODEL
    assert not generator.training
    x = torch.rand(1, 1, 32, 32) * 2 - 1
    with torch.inference_mode():
        torch.testing.assert_close(generator(x)[-1], trainer.generator.eval()(x)[-1])
    checkpoint = load_checkpoint(tmp_path / "run")
    assert checkpoint["step"] == 20
    assert ModelConfig.from_dict(checkpoint["meta"]["model_config"]) == TINY_MODEL
    assert TrainConfig.from_dict(checkpoint["meta"]["train_config"]) == TINY_TRAIN
    assert checkpoint["meta"]["normalization"]["kind"] == "asinh"
    assert len(checkpoint["meta"]["rng"]) == 1


def test_export_takes_the_euv_normalization_of_the_training_data(tmp_path):
    from sunpy_magnetogan.grid import ModelGrid
    from sunpy_magnetogan.normalization import EUVNormalization, QuietSunNormalization
    from sunpy_magnetogan.training.export import export_model
    from sunpy_magnetogan.weights import load_state_dict

    norm = QuietSunNormalization(low=0.3, high=12.0)
    make_store(tmp_path / "pairs", attrs={"euv_normalization": norm.to_dict()})
    Trainer(TINY_MODEL, TINY_TRAIN, tmp_path / "pairs", tmp_path / "run", progress=False).train()
    assert load_checkpoint(tmp_path / "run")["meta"]["euv_normalization"] == norm.to_dict()
    card = export_model(tmp_path / "run", tmp_path / "tiny.safetensors", name="tiny", grid=ModelGrid(32))
    assert card.normalization["euv"] == norm.to_dict()
    assert card.normalization["magnetogram"]["kind"] == "asinh"
    state, _ = load_state_dict(tmp_path / "tiny.safetensors")
    generator, _ = load_generator(tmp_path / "run")
    assert state.keys() == generator.state_dict().keys()

    # A store that does not say how its EUV images were normalised: the caller must.
    make_store(tmp_path / "old", attrs=None)
    Trainer(TINY_MODEL, TINY_TRAIN, tmp_path / "old", tmp_path / "run-old", progress=False).train()
    with pytest.raises(TrainingConfigError, match="does not record its EUV normalisation"):
        export_model(tmp_path / "run-old", tmp_path / "old.safetensors", name="old", grid=ModelGrid(32))
    card = export_model(
        tmp_path / "run-old",
        tmp_path / "old.safetensors",
        name="old",
        grid=ModelGrid(32),
        euv_normalization=EUVNormalization(),
    )
    assert card.normalization["euv"]["kind"] == "percentile"


def test_radial_output_model_survives_checkpoint_export_and_loading(tmp_path):
    # The line-of-sight projection has no weights: every loader must rebuild it from the
    # recorded normalisation, or the loaded model would return B_r instead of B_los.
    from sunpy_magnetogan.generate import load_model
    from sunpy_magnetogan.grid import ModelGrid
    from sunpy_magnetogan.nn import disk_mu
    from sunpy_magnetogan.normalization import QuietSunNormalization
    from sunpy_magnetogan.training.export import export_model
    from sunpy_magnetogan.weights import register_model, unregister_model

    model = TINY_MODEL.replace(radial_output=True)
    make_store(tmp_path / "pairs", attrs={"euv_normalization": QuietSunNormalization().to_dict()})
    trainer = Trainer(model, TINY_TRAIN, tmp_path / "pairs", tmp_path / "run", progress=False)
    trainer.train()
    x = torch.rand(2, 1, 32, 32) * 2 - 1
    with torch.inference_mode():
        expected = trainer.generator.eval()(x)[-1]
        generator, config = load_generator(tmp_path / "run")
        torch.testing.assert_close(generator(x)[-1], expected)
    assert config.radial_output
    assert generator.projection is not None
    off_disk = disk_mu(32, ModelGrid(32).disk_radius) == 0
    assert torch.all(expected[:, 0][:, off_disk] == 0)

    export_model(tmp_path / "run", tmp_path / "radial.safetensors", name="tiny-radial", grid=ModelGrid(32))
    register_model(tmp_path / "radial.safetensors", name="tiny-radial", cache_dir=tmp_path)
    try:
        loaded = load_model("tiny-radial", device="cpu", cache_dir=tmp_path)
        gauss = loaded.predict(x[:, 0].numpy())
    finally:
        unregister_model("tiny-radial")
    np.testing.assert_allclose(
        gauss, loaded.magnetogram_normalization.inverse(expected[:, 0]).numpy(), atol=1e-3
    )


# ---------------------------------------------------------------- resume
def test_init_generator_starts_from_given_weights(pairs, tmp_path):
    # A fine-tuning run starts from a safetensors file of the same architecture; its first
    # checkpoint is a few small steps away from it, not from a random initialisation.
    from sunpy_magnetogan.weights import save_weights

    generator, _ = TINY_MODEL.build(TINY_TRAIN.normalization)
    start = {k: v.detach() + 0.5 for k, v in generator.named_parameters()}
    state = {**generator.state_dict(), **start}
    save_weights(state, tmp_path / "start.safetensors", card={"name": "start"})
    train = TINY_TRAIN.replace(
        steps=1, eval_every=0, checkpoint_every=1, lr=1e-6, init_generator=str(tmp_path / "start.safetensors")
    )
    Trainer(TINY_MODEL, train, pairs, tmp_path / "run", progress=False).train()
    trained = load_checkpoint(tmp_path / "run")["generator"]
    for name, value in start.items():
        assert torch.allclose(trained[name].float(), value.float(), atol=1e-3), name
    wrong = TINY_TRAIN.replace(init_generator=str(tmp_path / "start.safetensors"))
    other = TINY_MODEL.replace(generator_kwargs={**TINY_MODEL.generator_kwargs, "base_channels": 2})
    with pytest.raises(TrainingConfigError, match="does not fit"):
        Trainer(other, wrong, pairs, tmp_path / "run2", progress=False)


def test_resume_continues_exactly(pairs, tmp_path):
    whole = Trainer(TINY_MODEL, TINY_TRAIN, pairs, tmp_path / "whole", progress=False).train()
    first = Trainer(TINY_MODEL, TINY_TRAIN.replace(steps=10), pairs, tmp_path / "split", progress=False)
    first.train()
    # A new process would build a fresh trainer: weights, optimiser, RNG and data order all
    # come from the checkpoint.
    torch.manual_seed(12345)
    second = Trainer(TINY_MODEL, TINY_TRAIN, pairs, tmp_path / "split", resume=True, progress=False)
    assert second.step == 10
    resumed = second.train()
    assert resumed["step"] == 20
    assert resumed["steps_this_session"] == 10
    assert resumed["fingerprints"] == whole["fingerprints"]
    split_log = _read_csv(tmp_path / "split" / "train_log.csv")
    whole_log = _read_csv(tmp_path / "whole" / "train_log.csv")
    for a, b in zip(split_log, whole_log, strict=True):
        assert (a["step"], a["loss_d"], a["loss_g"]) == (b["step"], b["loss_d"], b["loss_g"])


def test_resume_refuses_a_different_model(pairs, tmp_path):
    Trainer(TINY_MODEL, TINY_TRAIN.replace(steps=10), pairs, tmp_path / "run", progress=False).train()
    with pytest.raises(TrainingConfigError, match="already holds checkpoints"):
        Trainer(TINY_MODEL, TINY_TRAIN, pairs, tmp_path / "run", progress=False)
    other = TINY_MODEL.replace(patch_sizes=(16, 16))
    with pytest.raises(TrainingConfigError, match="different model configuration"):
        Trainer(other, TINY_TRAIN, pairs, tmp_path / "run", resume=True, progress=False)


def test_resume_of_a_finished_run_does_nothing(pairs, tmp_path):
    Trainer(TINY_MODEL, TINY_TRAIN.replace(steps=10), pairs, tmp_path / "run", progress=False).train()
    summary = Trainer(
        TINY_MODEL, TINY_TRAIN.replace(steps=10), pairs, tmp_path / "run", resume=True, progress=False
    ).train()
    assert summary["step"] == 10
    assert summary["steps_this_session"] == 0


def test_time_limit_stops_at_a_checkpoint_that_resumes_exactly(pairs, tmp_path):
    whole = Trainer(TINY_MODEL, TINY_TRAIN, pairs, tmp_path / "whole", progress=False).train(
        time_limit=1 * u.h
    )
    assert (whole["step"], whole["stopped_early"]) == (20, False)
    # A limit already passed at the first look at the clock (every log_every = 5 steps).
    short = Trainer(TINY_MODEL, TINY_TRAIN, pairs, tmp_path / "run", progress=False).train(
        time_limit=1 * u.ns
    )
    assert (short["step"], short["stopped_early"]) == (5, True)
    assert short["eval"]["step"] == 5  # evaluated where it stopped
    assert load_checkpoint(tmp_path / "run")["step"] == 5
    resumed = Trainer(TINY_MODEL, TINY_TRAIN, pairs, tmp_path / "run", resume=True, progress=False).train()
    assert (resumed["step"], resumed["stopped_early"]) == (20, False)
    assert resumed["fingerprints"] == whole["fingerprints"]
    with pytest.raises(u.UnitsError):
        Trainer(TINY_MODEL, TINY_TRAIN, pairs, tmp_path / "other", progress=False).train(time_limit=5 * u.m)


# ---------------------------------------------------------------- command line
def test_train_command(pairs, tmp_path, capsys):
    config = tmp_path / "tiny.toml"
    save_config(config, TINY_MODEL, TINY_TRAIN)
    argv = ["train", str(pairs), "--out", str(tmp_path / "run"), "--config", str(config), "--no-progress"]
    assert cli_main([*argv, "--steps", "6", "--device", "cpu"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed["step"] == 6
    assert "cc" in printed
    # --resume without --config/--preset reuses the run's saved configuration.
    resume = [
        "train",
        str(pairs),
        "--out",
        str(tmp_path / "run"),
        "--resume",
        "--steps",
        "8",
        "--no-progress",
    ]
    assert cli_main(resume) == 0
    assert json.loads((tmp_path / "run" / "final.json").read_text())["step"] == 8
    # User errors are reported without a traceback and exit code 2.
    assert cli_main([*argv, "--steps", "0"]) == 2
    assert "steps must be at least 1" in capsys.readouterr().err
    # A time limit stops the session early, at a checkpoint; a limit without a unit is refused.
    limited = [
        "train",
        str(pairs),
        "--out",
        str(tmp_path / "limited"),
        "--config",
        str(config),
        "--no-progress",
    ]
    assert cli_main([*limited, "--device", "cpu", "--time-limit", "1e-9 s"]) == 0
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert (printed["step"], printed["stopped_early"]) == (5, True)
    with pytest.raises(SystemExit) as exit_info:
        cli_main([*limited, "--time-limit", "30"])
    assert exit_info.value.code == 2
    assert "positive time with a unit" in capsys.readouterr().err


def test_train_command_presets(pairs, tmp_path):
    from sunpy_magnetogan.cli import build_parser
    from sunpy_magnetogan.cli.train import build_configs

    parser = build_parser()
    args = parser.parse_args(
        ["train", str(pairs), "--out", str(tmp_path), "--preset", "paper", "--seed", "4"]
    )
    model, train = build_configs(args)
    assert model.patch_sizes == (64, 32, 16)
    assert train.seed == 4
    args = parser.parse_args(["train", str(pairs), "--out", str(tmp_path)])
    assert build_configs(args)[0].image_size == 128  # compact by default
    with pytest.raises(SystemExit):
        parser.parse_args(["train", str(pairs), "--out", str(tmp_path), "--preset", "nope"])


# ---------------------------------------------------------------- crash safety and DDP
def _train_command(pairs, run, config, *extra):
    return [
        sys.executable,
        "-m",
        "sunpy_magnetogan.cli.train",
        str(pairs),
        "--out",
        str(run),
        "--config",
        str(config),
        "--device",
        "cpu",
        "--no-progress",
        *extra,
    ]


@pytest.mark.slow
def test_kill_9_during_training_then_resume(pairs, tmp_path):
    # Checkpoints every 2 steps so that the kill is likely to land while one is written.
    train = TINY_TRAIN.replace(steps=160, checkpoint_every=2, keep_checkpoints=2, eval_every=0, log_every=4)
    config = tmp_path / "tiny.toml"
    save_config(config, TINY_MODEL, train)
    run = tmp_path / "run"
    process = subprocess.Popen(
        _train_command(pairs, run, config), env=SUBPROCESS_ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while not (run / "checkpoints" / "latest").exists():
            assert process.poll() is None, process.communicate()[1].decode()[-2000:]
            assert time.monotonic() < deadline, "no checkpoint appeared within 120 s"
            time.sleep(0.005)
        time.sleep(random.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(timeout=60)
        process.stdout.close()
        process.stderr.close()
    assert process.returncode == -signal.SIGKILL, "training finished before it could be killed"

    # Whatever the moment of the kill, every checkpoint that is visible is complete (a
    # damaged one would raise a CheckpointWarning, which the test configuration makes an error).
    killed_at = find_checkpoint(run)
    assert killed_at is not None
    assert 0 < load_checkpoint(killed_at)["step"] < 160

    done = subprocess.run(
        _train_command(pairs, run, config, "--resume"), env=SUBPROCESS_ENV, capture_output=True, timeout=300
    )
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    final = json.loads((run / "final.json").read_text())
    assert final["step"] == 160
    assert [p.name for p in list_checkpoints(run / "checkpoints")] == ["step-00000160", "step-00000158"]
    assert all(verify_checkpoint(p) is None for p in list_checkpoints(run / "checkpoints"))
    assert not list((run / "checkpoints").glob(".tmp-*"))
    assert [int(r["step"]) for r in _read_csv(run / "train_log.csv")] == list(range(4, 161, 4))
    # Continuing after a kill -9 gives bit for bit the weights of an uninterrupted run.
    reference = Trainer(TINY_MODEL, train, pairs, tmp_path / "reference", progress=False).train()
    assert final["fingerprints"] == reference["fingerprints"]


@pytest.mark.slow
def test_two_process_gloo_data_parallel_training(pairs, tmp_path):
    train = TINY_TRAIN.replace(steps=12, batch_size=1, eval_every=6, checkpoint_every=6)
    config = tmp_path / "tiny.toml"
    save_config(config, TINY_MODEL, train)
    run = tmp_path / "run"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command += _train_command(pairs, run, config)[1:]
    done = subprocess.run(command, env=SUBPROCESS_ENV, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    final = json.loads((run / "final.json").read_text())
    assert final["world_size"] == 2
    assert final["step"] == 12
    # Both ranks end with identical weights (and buffers), equal to those rank 0 saved.
    rank0, rank1 = final["fingerprints"]
    assert rank0 == rank1 == _fingerprint_of(run)
    checkpoint = load_checkpoint(run)
    assert checkpoint["meta"]["world_size"] == 2
    assert len(checkpoint["meta"]["rng"]) == 2
    assert [int(r["step"]) for r in _read_csv(run / "eval_log.csv")] == [6, 12]
    # The ranks trained on different pairs: a single process with the same per-rank batch
    # ends elsewhere.
    single = Trainer(TINY_MODEL, train, pairs, tmp_path / "single", progress=False).train()
    assert single["fingerprints"][0] != rank0
    # A data-parallel run can be continued by a single process.
    more = Trainer(TINY_MODEL, train.replace(steps=14), pairs, run, resume=True, progress=False).train()
    assert more["step"] == 14


@pytest.mark.cuda
@pytest.mark.parametrize("amp_dtype", ["bfloat16", "float16"])
def test_cuda_mixed_precision_channels_last(pairs, tmp_path, amp_dtype):
    train = TINY_TRAIN.replace(steps=6, amp_dtype=amp_dtype, channels_last=True, deterministic=False)
    trainer = Trainer(TINY_MODEL, train, pairs, tmp_path / "run", device="cuda", progress=False)
    assert trainer.amp_dtype in (torch.bfloat16, torch.float16)
    assert (trainer.scaler is not None) == (trainer.amp_dtype is torch.float16)
    summary = trainer.train()
    assert summary["step"] == 6
    assert np.isfinite(summary["eval"]["mae_G"])
    resumed = Trainer(
        TINY_MODEL,
        train.replace(steps=8),
        pairs,
        tmp_path / "run",
        device="cuda",
        resume=True,
        progress=False,
    )
    assert resumed.train()["step"] == 8

"""
Crash-safe training checkpoints: safetensors for tensors, a JSON sidecar for the rest.

Layout of a run's checkpoint directory::

    checkpoints/
      step-00001000/
        model.safetensors       generator.* and discriminator.* weights and buffers
        optimizer.safetensors   Adam moments etc. of both optimisers (tensors only)
        checkpoint.json         step, configs, RNG states, optimiser hyper-parameters,
                                and the size and SHA-256 of both .safetensors files
      step-00002000/ ...
      latest                    name of the newest checkpoint (for people and tools)

A checkpoint is written into a hidden temporary directory, every file is fsync'ed, and the
directory is renamed into place in one atomic step; ``latest`` is replaced atomically
afterwards and old checkpoints are pruned last. Killing the writer at any moment
therefore leaves either the complete new checkpoint or none (plus a temporary directory
that the next save removes). On loading, the newest checkpoint whose files match the sizes
and hashes in its sidecar wins; newer broken ones are skipped with a `CheckpointWarning`.
No pickle is involved anywhere.
"""

import base64
import hashlib
import json
import logging
import os
import re
import shutil
import time
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors
from safetensors.torch import save as save_safetensors

from sunpy_magnetogan._io import atomic_write_text, fsync_dir, sha256_file
from sunpy_magnetogan.architecture import ModelConfig
from sunpy_magnetogan.exceptions import CheckpointError, CheckpointWarning, warn_user

__all__ = [
    "CHECKPOINT_FORMAT",
    "checkpoint_step",
    "encode_rng_state",
    "find_checkpoint",
    "generator_from_checkpoint",
    "list_checkpoints",
    "load_checkpoint",
    "load_generator",
    "optimizer_state_from_flat",
    "optimizer_state_to_flat",
    "restore_rng_state",
    "save_checkpoint",
    "verify_checkpoint",
]

log = logging.getLogger(__name__)

CHECKPOINT_FORMAT = "sunpy-magnetogan-checkpoint"
_VERSION = 1
_NAME = re.compile(r"^step-(\d{8,})$")
_SIDECAR = "checkpoint.json"
_FILES = ("model.safetensors", "optimizer.safetensors")


def _write_bytes(path, data):
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _contiguous(state):
    return {key: value.detach().contiguous().cpu() for key, value in state.items()}


def optimizer_state_to_flat(state_dict, prefix):
    """
    Split an optimiser ``state_dict`` into tensors (for safetensors) and JSON metadata.

    Parameters
    ----------
    state_dict : dict
        ``optimizer.state_dict()``.
    prefix : str
        Prefix of the tensor names (e.g. ``"generator"``).

    Returns
    -------
    tensors : dict of str to torch.Tensor
        ``"{prefix}.state.{param_id}.{name}"`` -> tensor.
    meta : dict
        ``param_groups`` and the non-tensor per-parameter state, JSON-serialisable.
    """
    tensors, scalars = {}, {}
    for param_id, values in state_dict["state"].items():
        for name, value in values.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{prefix}.state.{param_id}.{name}"] = value.detach().contiguous().cpu()
            else:
                scalars.setdefault(str(param_id), {})[name] = value
    groups = json.loads(json.dumps(state_dict["param_groups"]))
    return tensors, {"param_groups": groups, "scalars": scalars}


def optimizer_state_from_flat(tensors, meta, prefix):
    """
    Inverse of `optimizer_state_to_flat`.

    Parameters
    ----------
    tensors : dict of str to torch.Tensor
        Tensors as saved (other prefixes are ignored).
    meta : dict
        The metadata as saved.
    prefix : str
        The prefix used when saving.

    Returns
    -------
    dict
        A ``state_dict`` for ``optimizer.load_state_dict``.
    """
    state = {}
    head = f"{prefix}.state."
    for key, value in tensors.items():
        if key.startswith(head):
            param_id, name = key[len(head) :].split(".", 1)
            state.setdefault(int(param_id), {})[name] = value
    for param_id, values in meta.get("scalars", {}).items():
        state.setdefault(int(param_id), {}).update(values)
    groups = []
    for group in meta["param_groups"]:
        group = dict(group)
        for key, value in group.items():
            if key != "params" and isinstance(value, list):
                group[key] = tuple(value)
        groups.append(group)
    return {"state": state, "param_groups": groups}


def encode_rng_state():
    """
    The state of every random number generator of this process, JSON-serialisable.

    Returns
    -------
    dict
        torch CPU (and CUDA) generator states as base64 strings, numpy's legacy global
        generator and Python's `random` module state as lists.
    """
    import random

    import numpy as np

    # The legacy global generator is saved because third-party code may still use it.
    np_state = np.random.get_state()  # noqa: NPY002
    state = {
        "torch": base64.b64encode(torch.get_rng_state().numpy().tobytes()).decode(),
        "numpy": [np_state[0], np_state[1].tolist(), *np_state[2:]],
        "python": json.loads(json.dumps(random.getstate())),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [
            base64.b64encode(s.numpy().tobytes()).decode() for s in torch.cuda.get_rng_state_all()
        ]
    return state


def restore_rng_state(state):
    """
    Restore generator states saved by `encode_rng_state`.

    Parameters
    ----------
    state : dict
        As returned by `encode_rng_state`.
    """
    import random

    import numpy as np

    torch.set_rng_state(torch.frombuffer(bytearray(base64.b64decode(state["torch"])), dtype=torch.uint8))
    kind, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((kind, np.asarray(keys, dtype=np.uint32), pos, has_gauss, cached))  # noqa: NPY002
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    if "cuda" in state and torch.cuda.is_available():
        cuda_states = [
            torch.frombuffer(bytearray(base64.b64decode(s)), dtype=torch.uint8) for s in state["cuda"]
        ]
        if len(cuda_states) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(cuda_states)
        else:
            log.info(
                "not restoring CUDA RNG states: saved for %d devices, %d present",
                len(cuda_states),
                torch.cuda.device_count(),
            )


def save_checkpoint(
    directory,
    step,
    *,
    generator,
    discriminator,
    optimizers=None,
    meta=None,
    keep=3,
):
    """
    Write a checkpoint atomically and prune old ones.

    Parameters
    ----------
    directory : str or os.PathLike
        The run's ``checkpoints`` directory (created if needed).
    step : int
        Training step the state belongs to (after that many updates).
    generator, discriminator : torch.nn.Module
        The (unwrapped) networks; their ``state_dict`` is saved.
    optimizers : dict of str to torch.optim.Optimizer, optional
        E.g. ``{"generator": opt_g, "discriminator": opt_d}``.
    meta : dict, optional
        JSON-serialisable extra information (configs, RNG states, scaler state...).
    keep : int, optional
        How many of the newest checkpoints to keep (older ones are deleted).

    Returns
    -------
    pathlib.Path
        The new checkpoint directory.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.training import get_preset, save_checkpoint
    >>> model, _ = get_preset("compact")
    >>> generator, discriminator = model.build()
    >>> _ = save_checkpoint(tmp_path / "run" / "checkpoints", 250, generator=generator,
    ...                     discriminator=discriminator, meta={"model_config": model.to_dict()})
    >>> sorted(p.name for p in (tmp_path / "run" / "checkpoints").iterdir())
    ['latest', 'step-00000250']
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    name = f"step-{int(step):08d}"
    for stale in directory.glob(".tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = directory / f".tmp-{name}-{os.getpid()}"
    tmp.mkdir()

    model_state = {f"generator.{k}": v for k, v in _contiguous(generator.state_dict()).items()}
    model_state.update({f"discriminator.{k}": v for k, v in _contiguous(discriminator.state_dict()).items()})
    optimizer_tensors, optimizer_meta = {}, {}
    for opt_name, optimizer in (optimizers or {}).items():
        tensors, opt_meta = optimizer_state_to_flat(optimizer.state_dict(), opt_name)
        optimizer_tensors.update(tensors)
        optimizer_meta[opt_name] = opt_meta

    files = {}
    for filename, tensors in zip(_FILES, (model_state, optimizer_tensors), strict=True):
        data = save_safetensors(tensors, metadata={"format": CHECKPOINT_FORMAT, "step": str(int(step))})
        _write_bytes(tmp / filename, data)
        files[filename] = {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    sidecar = {
        "format": CHECKPOINT_FORMAT,
        "version": _VERSION,
        "step": int(step),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "torch_version": torch.__version__,
        "files": files,
        "optimizers": optimizer_meta,
        **(meta or {}),
    }
    _write_bytes(tmp / _SIDECAR, json.dumps(sidecar, indent=1).encode())
    fsync_dir(tmp)

    target = directory / name
    if target.exists():
        # Re-saving a step (e.g. after a crash between rename and pointer update).
        trash = directory / f".tmp-trash-{name}-{os.getpid()}"
        os.replace(target, trash)
        os.replace(tmp, target)
        shutil.rmtree(trash, ignore_errors=True)
    else:
        os.replace(tmp, target)
    fsync_dir(directory)
    atomic_write_text(directory / "latest", name + "\n")
    fsync_dir(directory)
    for old in list_checkpoints(directory)[keep:]:
        shutil.rmtree(old, ignore_errors=True)
    log.info("saved checkpoint %s", target)
    return target


def checkpoint_step(path):
    """
    The training step of a checkpoint directory, from its name.

    Parameters
    ----------
    path : str or os.PathLike
        A checkpoint directory (``step-XXXXXXXX``).

    Returns
    -------
    int or None
        The step; None if the name is not a checkpoint's.

    Examples
    --------
    >>> from sunpy_magnetogan.training.checkpoint import checkpoint_step
    >>> checkpoint_step("runs/default/checkpoints/step-00004000"), checkpoint_step("latest")
    (4000, None)
    """
    match = _NAME.match(Path(path).name)
    return int(match.group(1)) if match else None


def list_checkpoints(directory):
    """
    Checkpoint directories of a run, newest (highest step) first, unverified.

    Parameters
    ----------
    directory : str or os.PathLike
        The run's ``checkpoints`` directory.

    Returns
    -------
    list of pathlib.Path
    """
    directory = Path(directory)
    if not directory.is_dir():
        return []
    found = [
        (step, p) for p in directory.iterdir() if p.is_dir() and (step := checkpoint_step(p)) is not None
    ]
    return [p for _, p in sorted(found, reverse=True)]


def _read_sidecar(path):
    try:
        sidecar = json.loads((Path(path) / _SIDECAR).read_text())
    except (OSError, ValueError) as exc:
        raise CheckpointError(f"checkpoint {path} has no readable {_SIDECAR}: {exc}") from None
    if sidecar.get("format") != CHECKPOINT_FORMAT or sidecar.get("version") != _VERSION:
        raise CheckpointError(f"{path} is not a {CHECKPOINT_FORMAT} v{_VERSION} checkpoint")
    return sidecar


def verify_checkpoint(path, *, check_hashes=True):
    """
    Check that a checkpoint is complete and intact.

    Parameters
    ----------
    path : str or os.PathLike
        A checkpoint directory (``step-XXXXXXXX``).
    check_hashes : bool, optional
        Also compare SHA-256 hashes (otherwise sizes only).

    Returns
    -------
    str or None
        None if the checkpoint is valid, else what is wrong with it.
    """
    path = Path(path)
    try:
        sidecar = _read_sidecar(path)
    except CheckpointError as exc:
        return str(exc)
    for filename, expected in sidecar.get("files", {}).items():
        file = path / filename
        if not file.is_file():
            return f"{file} is missing"
        if file.stat().st_size != expected["size"]:
            return f"{file} has {file.stat().st_size} bytes, its sidecar says {expected['size']}"
        if check_hashes:
            if sha256_file(file, chunk_size=1 << 22) != expected["sha256"]:
                return f"{file} does not match the SHA-256 recorded in its sidecar (corrupt)"
    return None


def find_checkpoint(directory, *, check_hashes=True):
    """
    The newest valid checkpoint of a run.

    Parameters
    ----------
    directory : str or os.PathLike
        The run's ``checkpoints`` directory, or a run directory containing one.
    check_hashes : bool, optional
        Verify SHA-256 hashes (not only sizes).

    Returns
    -------
    pathlib.Path or None
        The checkpoint directory, or None if there is no valid checkpoint. A
        `CheckpointWarning` is issued for every newer one that was skipped.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.training import get_preset, save_checkpoint
    >>> model, _ = get_preset("compact")
    >>> generator, discriminator = model.build()
    >>> _ = save_checkpoint(tmp_path / "run" / "checkpoints", 250, generator=generator,
    ...                     discriminator=discriminator, meta={"model_config": model.to_dict()})
    >>> from sunpy_magnetogan.training import find_checkpoint
    >>> find_checkpoint(tmp_path / "run").name
    'step-00000250'
    >>> find_checkpoint(tmp_path / "empty") is None
    True
    """
    directory = Path(directory)
    if (directory / "checkpoints").is_dir():
        directory = directory / "checkpoints"
    for candidate in list_checkpoints(directory):
        problem = verify_checkpoint(candidate, check_hashes=check_hashes)
        if problem is None:
            return candidate
        warn_user(f"skipping the unusable checkpoint {candidate.name}: {problem}", CheckpointWarning)
    return None


def load_checkpoint(path, *, map_location="cpu", verify=True):
    """
    Read a checkpoint.

    Parameters
    ----------
    path : str or os.PathLike
        A checkpoint directory, or a run (or ``checkpoints``) directory, whose newest
        valid checkpoint is then read.
    map_location : str or torch.device, optional
        Device of the returned tensors.
    verify : bool, optional
        Check sizes and hashes first.

    Returns
    -------
    dict
        ``path``, ``step``, ``meta`` (the sidecar), ``generator`` and ``discriminator``
        (state dicts) and ``optimizers`` (name -> optimiser state dict).

    Raises
    ------
    CheckpointError
        If no valid checkpoint is found.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.training import get_preset, save_checkpoint
    >>> model, _ = get_preset("compact")
    >>> generator, discriminator = model.build()
    >>> _ = save_checkpoint(tmp_path / "run" / "checkpoints", 250, generator=generator,
    ...                     discriminator=discriminator, meta={"model_config": model.to_dict()})
    >>> from sunpy_magnetogan.training import load_checkpoint
    >>> checkpoint = load_checkpoint(tmp_path / "run")
    >>> checkpoint["step"], sorted(checkpoint["meta"]["model_config"])[:3]
    (250, ['cycle_frame', 'detach_between_levels', 'discriminator'])
    """
    path = Path(path)
    if not (path / _SIDECAR).is_file():
        found = find_checkpoint(path, check_hashes=verify)
        if found is None:
            raise CheckpointError(f"no valid checkpoint in {path}")
        path = found
    elif verify and (problem := verify_checkpoint(path)) is not None:
        raise CheckpointError(f"checkpoint {path} is unusable: {problem}")
    sidecar = _read_sidecar(path)
    try:
        model = load_safetensors((path / _FILES[0]).read_bytes())
        optim = load_safetensors((path / _FILES[1]).read_bytes())
    except Exception as exc:  # safetensors raises its own error types for damaged files
        raise CheckpointError(f"cannot read the tensors of checkpoint {path}: {exc}") from exc
    device = torch.device(map_location)
    generator = {k[len("generator.") :]: v.to(device) for k, v in model.items() if k.startswith("generator.")}
    discriminator = {
        k[len("discriminator.") :]: v.to(device) for k, v in model.items() if k.startswith("discriminator.")
    }
    optimizers = {
        name: optimizer_state_from_flat(optim, opt_meta, name)
        for name, opt_meta in sidecar.get("optimizers", {}).items()
    }
    return {
        "path": path,
        "step": int(sidecar["step"]),
        "meta": sidecar,
        "generator": generator,
        "discriminator": discriminator,
        "optimizers": optimizers,
    }


def load_generator(path, *, map_location="cpu"):
    """
    The trained pyramid generator of a checkpoint, in eval mode.

    Parameters
    ----------
    path : str or os.PathLike
        A checkpoint, ``checkpoints`` or run directory.
    map_location : str or torch.device, optional
        Device of the returned module.

    Returns
    -------
    generator : `~sunpy_magnetogan.nn.PyramidGenerator`
    model_config : `~sunpy_magnetogan.training.ModelConfig`

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.training import get_preset, save_checkpoint
    >>> model, _ = get_preset("compact")
    >>> generator, discriminator = model.build()
    >>> _ = save_checkpoint(tmp_path / "run" / "checkpoints", 250, generator=generator,
    ...                     discriminator=discriminator, meta={"model_config": model.to_dict()})
    >>> from sunpy_magnetogan.training import load_generator
    >>> generator, config = load_generator(tmp_path / "run")
    >>> config.level_sizes, [tuple(y.shape) for y in generator(torch.zeros(1, 1, 128, 128))]
    ((32, 64, 128), [(1, 1, 32, 32), (1, 1, 64, 64), (1, 1, 128, 128)])
    """
    return generator_from_checkpoint(
        load_checkpoint(path, map_location=map_location), map_location=map_location
    )


def generator_from_checkpoint(checkpoint, *, map_location="cpu"):
    """
    Build the pyramid generator of a checkpoint already read by `load_checkpoint`.

    Reading a run once and taking both the generator and the metadata from that one read
    keeps them from the same step even while training writes new checkpoints.

    Parameters
    ----------
    checkpoint : dict
        As returned by `load_checkpoint`.
    map_location : str or torch.device, optional
        Device of the returned module.

    Returns
    -------
    generator : `~sunpy_magnetogan.nn.PyramidGenerator`
        In eval mode.
    model_config : `~sunpy_magnetogan.training.ModelConfig`

    Examples
    --------
    >>> from sunpy_magnetogan.training import get_preset, save_checkpoint
    >>> model, _ = get_preset("compact")
    >>> generator, discriminator = model.build()
    >>> _ = save_checkpoint(tmp_path / "run" / "checkpoints", 250, generator=generator,
    ...                     discriminator=discriminator, meta={"model_config": model.to_dict()})
    >>> from sunpy_magnetogan.training import generator_from_checkpoint, load_checkpoint
    >>> checkpoint = load_checkpoint(tmp_path / "run")
    >>> generator, config = generator_from_checkpoint(checkpoint)
    >>> checkpoint["step"], config == model
    (250, True)
    """
    meta = checkpoint["meta"]
    model_config = ModelConfig.from_dict(meta["model_config"])
    generator, _ = model_config.build(meta.get("normalization"))
    generator.load_state_dict(checkpoint["generator"])
    return generator.to(map_location).eval(), model_config

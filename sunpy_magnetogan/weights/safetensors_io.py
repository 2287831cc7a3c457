"""
Reading and writing weights as safetensors, never as pickle.

A safetensors file is an 8-byte little-endian header length ``N``, ``N`` bytes of UTF-8
JSON describing every tensor (dtype, shape, byte range), then the raw tensor bytes. It holds
no code, so loading one cannot execute anything. `check_safetensors_header` validates that
layout with plain byte reads before a file is handed to the ``safetensors`` library, so a
pickle checkpoint renamed ``.safetensors`` (what ``torch.save`` writes: a zip archive or a
raw pickle) is refused without ever being unpickled. Nothing in this package calls
``torch.load`` or `pickle` on weights files.
"""

import dataclasses
import json
import logging
import os
import re
import struct
from collections.abc import Mapping
from pathlib import Path

from sunpy_magnetogan._io import atomic_path, sha256_file
from sunpy_magnetogan.exceptions import ModelCardError, UnsafeWeightsError
from sunpy_magnetogan.weights.card import ModelCard

__all__ = [
    "MAX_HEADER_BYTES",
    "card_path_for",
    "check_safetensors_header",
    "load_safetensors",
    "save_weights",
    "sha256_file",
]

log = logging.getLogger(__name__)

#: Largest JSON header accepted (the limit of the safetensors library itself).
MAX_HEADER_BYTES = 100_000_000
_DTYPE_PATTERN = re.compile(r"^[A-Z][A-Z0-9_]{0,15}$")


def card_path_for(weights_path):
    """
    The model card that accompanies a weights file: ``<file>.json`` beside it.

    Parameters
    ----------
    weights_path : str or os.PathLike

    Returns
    -------
    pathlib.Path
        e.g. ``model.safetensors.json`` for ``model.safetensors``.
    """
    weights_path = Path(weights_path)
    return weights_path.with_name(weights_path.name + ".json")


def _describe_foreign(prefix):
    if prefix.startswith(b"PK\x03\x04"):
        return " (it is a zip archive, e.g. a torch.save() checkpoint, which holds a pickle)"
    if prefix[:1] == b"\x80" or prefix.startswith((b"(dp", b"}q", b"(lp")):
        return " (it looks like a Python pickle)"
    return ""


def check_safetensors_header(path):
    """
    Check that a file is laid out as safetensors, reading only bytes (never unpickling).

    Parameters
    ----------
    path : str or os.PathLike
        The file to check.

    Returns
    -------
    dict
        The parsed JSON header: tensor name -> ``{"dtype", "shape", "data_offsets"}``, and
        optionally ``"__metadata__"`` (str -> str).

    Raises
    ------
    sunpy_magnetogan.exceptions.UnsafeWeightsError
        If the header length, the JSON or any tensor entry is malformed, or the tensor byte
        ranges do not exactly cover the rest of the file.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.weights import save_weights
    >>> _ = save_weights({"w": torch.zeros(3)}, tmp_path / "tiny.safetensors", card={"name": "tiny"})
    >>> from sunpy_magnetogan.weights import check_safetensors_header
    >>> check_safetensors_header(tmp_path / "tiny.safetensors")["w"]["shape"]
    [3]
    >>> _ = (tmp_path / "model.pt").write_bytes(b"a pickled torch archive")
    >>> check_safetensors_header(tmp_path / "model.pt")
    Traceback (most recent call last):
    ...
    sunpy_magnetogan.exceptions.UnsafeWeightsError: ...
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as handle:
        prefix = handle.read(8)
        if len(prefix) < 8:
            raise UnsafeWeightsError(f"{path} is not a safetensors file: only {size} bytes long")
        (header_len,) = struct.unpack("<Q", prefix)
        if header_len < 2 or header_len > MAX_HEADER_BYTES or header_len > size - 8:
            raise UnsafeWeightsError(
                f"{path} is not a safetensors file: its first 8 bytes give a header length of "
                f"{header_len} for a file of {size} bytes{_describe_foreign(prefix)}; refusing to load it"
            )
        raw = handle.read(header_len)
    if not raw.startswith(b"{"):
        raise UnsafeWeightsError(f"{path} is not a safetensors file: the header is not a JSON object")
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UnsafeWeightsError(f"{path} is not a safetensors file: bad JSON header ({exc})") from exc
    if not isinstance(header, dict):
        raise UnsafeWeightsError(f"{path} is not a safetensors file: the header is not a JSON object")
    buffer_len = size - 8 - header_len
    end_max = 0
    for key, entry in header.items():
        if key == "__metadata__":
            if not isinstance(entry, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in entry.items()
            ):
                raise UnsafeWeightsError(f"{path}: __metadata__ must map strings to strings")
            continue
        problem = _entry_problem(entry, buffer_len)
        if problem:
            raise UnsafeWeightsError(f"{path} is not a valid safetensors file: tensor {key!r} {problem}")
        end_max = max(end_max, entry["data_offsets"][1])
    if end_max != buffer_len:
        raise UnsafeWeightsError(
            f"{path} is not a valid safetensors file: the tensors cover {end_max} bytes but "
            f"{buffer_len} bytes follow the header (truncated or padded file)"
        )
    return header


def _entry_problem(entry, buffer_len):
    if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
        return "needs exactly the keys dtype, shape and data_offsets"
    dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
    if not isinstance(dtype, str) or not _DTYPE_PATTERN.match(dtype):
        return f"has an invalid dtype {dtype!r}"
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        return f"has an invalid shape {shape!r}"
    if (
        not isinstance(offsets, list)
        or len(offsets) != 2
        or not all(isinstance(n, int) and not isinstance(n, bool) for n in offsets)
        or not 0 <= offsets[0] <= offsets[1]
    ):
        return f"has invalid data_offsets {offsets!r}"
    if offsets[1] > buffer_len:
        return f"has data_offsets {offsets!r} beyond the {buffer_len}-byte data section (truncated file)"
    return None


def load_safetensors(path, *, device="cpu"):
    """
    Load the tensors of a safetensors file after `check_safetensors_header`.

    Parameters
    ----------
    path : str or os.PathLike
        The weights file.
    device : str or torch.device, optional
        Where to put the tensors (``"cpu"``, ``"cuda"``, ``"cuda:1"``...).

    Returns
    -------
    dict of str to torch.Tensor

    Raises
    ------
    sunpy_magnetogan.exceptions.UnsafeWeightsError
        If the file is not a valid safetensors file.
    """
    import safetensors
    import safetensors.torch

    check_safetensors_header(path)
    try:
        return safetensors.torch.load_file(os.fspath(path), device=str(device))
    except safetensors.SafetensorError as exc:
        raise UnsafeWeightsError(f"{path} is not a valid safetensors file: {exc}") from exc


def save_weights(state_dict, path, *, card):
    """
    Write a state dict as safetensors, atomically, with its model card beside it.

    The card is written to ``<path>.json`` with ``filename`` set to the file's name and
    ``sha256`` set to the hash of the bytes written; ``path`` and ``embedded`` are cleared,
    so the card describes the file wherever it is moved or uploaded (add ``urls`` before
    publishing it).

    Parameters
    ----------
    state_dict : mapping of str to torch.Tensor
        E.g. ``generator.state_dict()``. Tensors are copied to the CPU; tensors that share
        memory are stored as separate copies.
    path : str or os.PathLike
        The ``.safetensors`` file to write (replaced in one step if it exists).
    card : `ModelCard` or dict
        The card's other fields (a dict needs at least ``name``; ``filename`` and
        ``sha256`` are filled in).

    Returns
    -------
    ModelCard
        The card as written.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.weights import load_state_dict, save_weights
    >>> card = save_weights({"w": torch.ones(2, 3)}, tmp_path / "tiny.safetensors",
    ...                     card={"name": "tiny", "version": "1"})
    >>> tensors, loaded = load_state_dict(tmp_path / "tiny.safetensors", cache_dir=tmp_path)
    >>> tuple(tensors["w"].shape), loaded.sha256 == card.sha256
    ((2, 3), True)
    """
    import safetensors.torch
    import torch

    path = Path(path)
    if isinstance(card, ModelCard):
        fields = card.to_dict()
    elif isinstance(card, Mapping):
        fields = dict(card)
    else:
        raise TypeError(f"card must be a ModelCard or a dict, not {type(card).__name__}")
    if "name" not in fields:
        raise ModelCardError("the card given to save_weights needs a 'name'")
    tensors = {}
    for key, value in state_dict.items():
        if not isinstance(key, str) or not isinstance(value, torch.Tensor):
            raise TypeError(
                f"state_dict must map str to torch.Tensor; {key!r} maps to {type(value).__name__}"
            )
        tensors[key] = value.detach().to("cpu", copy=True).contiguous()
    fields.update(filename=path.name, sha256="0" * 64, path=None, embedded=False)
    # Validate the card before writing anything.
    draft = ModelCard.from_dict(fields)
    metadata = {"format": "pt", "sunpy_magnetogan.model": draft.name}
    if draft.version:
        metadata["sunpy_magnetogan.version"] = draft.version
    with atomic_path(path) as tmp:
        safetensors.torch.save_file(tensors, os.fspath(tmp), metadata=metadata)
        check_safetensors_header(tmp)
        digest = sha256_file(tmp)
    written = dataclasses.replace(draft, sha256=digest)
    written.to_json(card_path_for(path))
    log.info("wrote weights %s (sha256 %s) and its card", path, digest)
    return written

"""
The model registry and trustworthy weights.

Every model is described by a `ModelCard` (architecture config, normalisation, training
data, metrics, file name, SHA-256 hash, where to get the file). Weights are safetensors
files: they hold no code, and every file is checked against its card's hash, and its
header checked with plain byte reads, before it is loaded; nothing is ever unpickled. A file
whose card describes an architecture must hold exactly its tensors (names, shapes, dtypes:
`sunpy_magnetogan.weights.architecture`), checked when it is registered or downloaded.

* `list_models`, `get_card`, `register_model`, `unregister_model`: the registry (built-in
  cards, user registrations persisted in the cache directory, session registrations).
* `fetch_weights`: a verified local file for a model: the file shipped in the package, a
  registered local file, or a cached download (mirrors tried in order, atomic writes, an
  inter-process lock, offline mode).
* `load_state_dict`: the tensors and card of a model, ready for ``module.load_state_dict``.
* `save_weights`: write a state dict as safetensors with its card beside it.

Cache directory: the ``cache_dir`` argument, else ``$SUNPY_MAGNETOGAN_CACHE``, else
``<sunpy data dir>/magnetogan``; offline mode: the ``offline`` argument, else
``$SUNPY_MAGNETOGAN_OFFLINE`` (see `sunpy_magnetogan.weights.cache`).

Examples
--------
>>> import torch
>>> from sunpy_magnetogan import weights
>>> cache = tmp_path / "cache"  # default: $SUNPY_MAGNETOGAN_CACHE or <sunpy data dir>/magnetogan
>>> _ = weights.save_weights({"w": torch.arange(3.0)}, tmp_path / "demo.safetensors",
...                          card={"name": "demo-local", "description": "three numbers"})
>>> _ = weights.register_model(tmp_path / "demo.safetensors", cache_dir=cache)
>>> tensors, card = weights.load_state_dict("demo-local", cache_dir=cache)
>>> tensors["w"].tolist(), card.description
([0.0, 1.0, 2.0], 'three numbers')
>>> _ = weights.unregister_model("demo-local", cache_dir=cache)
"""

from sunpy_magnetogan.weights.cache import default_cache_dir, resolve_cache_dir, resolve_offline
from sunpy_magnetogan.weights.card import ModelCard
from sunpy_magnetogan.weights.fetch import fetch_weights, load_state_dict
from sunpy_magnetogan.weights.registry import (
    builtin_models,
    card_for_file,
    get_card,
    list_models,
    register_model,
    reload_registry,
    unregister_model,
    user_models_path,
)
from sunpy_magnetogan.weights.safetensors_io import check_safetensors_header, save_weights, sha256_file

__all__ = [
    "ModelCard",
    "builtin_models",
    "card_for_file",
    "check_safetensors_header",
    "default_cache_dir",
    "fetch_weights",
    "get_card",
    "list_models",
    "load_state_dict",
    "register_model",
    "reload_registry",
    "resolve_cache_dir",
    "resolve_offline",
    "save_weights",
    "sha256_file",
    "unregister_model",
    "user_models_path",
]

"""
From a model name to verified weights: `fetch_weights` and `load_state_dict`.

Where the file comes from depends on the card:

* ``embedded``: the file shipped inside the package (`EMBEDDED_DIR`), so the default model
  works offline; it is hash-checked like any other file (a mismatch means a damaged
  installation and is refused; the file is left alone). If it is missing and the card
  lists URLs, those are used instead.
* ``path``: a local file registered by the user; hash-checked, refused (and left in place)
  on mismatch.
* ``urls``: the cache, else a download (see `sunpy_magnetogan.weights.download`).
"""

import logging
import os
from pathlib import Path

from sunpy_magnetogan._io import sha256_file
from sunpy_magnetogan.exceptions import HashMismatchError, ModelNotFoundError, WeightsError
from sunpy_magnetogan.weights.architecture import check_weights_architecture
from sunpy_magnetogan.weights.cache import resolve_cache_dir, resolve_offline
from sunpy_magnetogan.weights.card import ModelCard
from sunpy_magnetogan.weights.download import fetch_file
from sunpy_magnetogan.weights.registry import all_cards, card_for_file, get_card, model_not_found
from sunpy_magnetogan.weights.safetensors_io import load_safetensors

__all__ = ["EMBEDDED_DIR", "fetch_weights", "load_state_dict"]

log = logging.getLogger(__name__)

#: Directory of the weights files shipped inside the package.
EMBEDDED_DIR = Path(__file__).resolve().parent / "embedded"


def _check_local(path, card, *, what, advice):
    digest = sha256_file(path)
    if digest != card.sha256:
        raise HashMismatchError(
            f"refusing {what} {path} of model {card.name!r}: its sha256 is {digest}, but the "
            f"model card states {card.sha256}; {advice}"
        )
    return path


def _fetch_card(card, *, cache_dir, offline, progress):
    if card.embedded:
        path = EMBEDDED_DIR / card.filename
        if path.is_file():
            return _check_local(
                path,
                card,
                what="the embedded weights",
                advice="the installation is damaged: reinstall sunpy-magnetogan",
            )
        if not card.urls:
            raise WeightsError(
                f"model {card.name!r} should ship inside the package as {path}, but that file is "
                "missing; reinstall sunpy-magnetogan"
            )
        log.info("embedded file %s is missing; using the URLs of model %r", path, card.name)
    if card.path:
        path = Path(card.path)
        if path.is_file():
            return _check_local(
                path,
                card,
                what="the local weights file",
                advice="the file changed after it was registered; register it again if the change is wanted",
            )
        if not card.urls:
            raise WeightsError(f"the local weights file {path} of model {card.name!r} does not exist")
        log.info("local file %s is missing; using the URLs of model %r", path, card.name)
    if not card.urls:
        raise WeightsError(
            f"model card {card.name!r} says nowhere to get its file (no URL, path or embedded file)"
        )
    return fetch_file(
        urls=card.urls,
        sha256=card.sha256,
        filename=card.filename,
        cache_dir=cache_dir,
        offline=offline,
        progress=progress,
        label=f"model {card.name!r}",
    )


def fetch_weights(name, *, cache_dir=None, offline=None, progress=False):
    """
    The verified local weights file of a registered model, downloading it if needed.

    Parameters
    ----------
    name : str or `ModelCard`
        A registered model name, or a card.
    cache_dir : str or os.PathLike, optional
        Weights cache directory (default: ``$SUNPY_MAGNETOGAN_CACHE``, else
        ``<sunpy data dir>/magnetogan``); its ``user_models.json`` is searched for ``name``.
    offline : bool, optional
        Never use the network (default: ``$SUNPY_MAGNETOGAN_OFFLINE``).
    progress : bool, optional
        Show a progress bar while downloading.

    Returns
    -------
    pathlib.Path
        A file whose SHA-256 hash is the card's.

    Raises
    ------
    sunpy_magnetogan.exceptions.ModelNotFoundError
        Unknown name.
    sunpy_magnetogan.exceptions.CacheError
        Offline and the file is not cached, or the cache cannot be written.
    sunpy_magnetogan.exceptions.DownloadError
        No URL could be downloaded; the message lists each URL and its error.
    sunpy_magnetogan.exceptions.HashMismatchError
        The file (downloaded, embedded or local) does not have the card's hash; a downloaded
        file is deleted, an embedded or local one is left in place, and none is used.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.weights import save_weights
    >>> _ = save_weights({"w": torch.zeros(3)}, tmp_path / "tiny.safetensors", card={"name": "tiny"})
    >>> from sunpy_magnetogan.weights import fetch_weights, register_model, unregister_model
    >>> _ = register_model(tmp_path / "tiny.safetensors", name="tiny-fetch", cache_dir=tmp_path)
    >>> fetch_weights("tiny-fetch", cache_dir=tmp_path).name  # a registered local file: no download
    'tiny.safetensors'
    >>> _ = unregister_model("tiny-fetch")
    """
    card = name if isinstance(name, ModelCard) else get_card(name, cache_dir=cache_dir)
    return _fetch_card(
        card, cache_dir=resolve_cache_dir(cache_dir), offline=resolve_offline(offline), progress=progress
    )


def load_state_dict(name_or_path, *, device="cpu", cache_dir=None, offline=None):
    """
    Load the tensors of a model (by name, card or safetensors file) after verifying them.

    The file's hash is checked against its card, then its safetensors header is checked
    with plain byte reads before the ``safetensors`` library reads it; nothing is ever
    unpickled.

    Parameters
    ----------
    name_or_path : str, os.PathLike or `ModelCard`
        A registered model name; a card; or the path of a local safetensors file, whose card
        is ``<file>.json`` beside it if present (otherwise the file is only checked to be
        safetensors).
    device : str or torch.device, optional
        Where to load the tensors.
    cache_dir : str or os.PathLike, optional
        Weights cache directory (see `fetch_weights`).
    offline : bool, optional
        Never use the network (see `fetch_weights`).

    Returns
    -------
    state_dict : dict of str to torch.Tensor
        Ready for ``module.load_state_dict``.
    card : ModelCard
        The model's card (architecture and normalisation to rebuild the network).

    Raises
    ------
    sunpy_magnetogan.exceptions.UnsafeWeightsError
        The file is not a safetensors file (e.g. a pickle): refused unread.
    sunpy_magnetogan.exceptions.ModelNotFoundError
        Neither a registered name nor an existing file.
    sunpy_magnetogan.exceptions.WeightsError
        Any error of `fetch_weights`.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.weights import save_weights
    >>> _ = save_weights({"w": torch.zeros(3)}, tmp_path / "tiny.safetensors", card={"name": "tiny"})
    >>> from sunpy_magnetogan.weights import load_state_dict
    >>> tensors, card = load_state_dict(tmp_path / "tiny.safetensors")  # hash and header checked first
    >>> tensors["w"].tolist(), card.name
    ([0.0, 0.0, 0.0], 'tiny')
    """
    if isinstance(name_or_path, ModelCard):
        card = name_or_path
    else:
        cards = all_cards(cache_dir)
        if isinstance(name_or_path, str) and name_or_path in cards:
            card = cards[name_or_path]
        elif isinstance(name_or_path, (str, os.PathLike)) and Path(name_or_path).expanduser().is_file():
            card = card_for_file(name_or_path)
        elif isinstance(name_or_path, str):
            error = model_not_found(name_or_path, cards)
            raise ModelNotFoundError(f"{error} (and there is no file {name_or_path!r})")
        elif isinstance(name_or_path, os.PathLike):
            raise ModelNotFoundError(f"no weights file {os.fspath(name_or_path)!r}")
        else:
            raise TypeError(
                f"expected a model name, a path or a ModelCard, not {type(name_or_path).__name__}"
            )
    path = fetch_weights(card, cache_dir=cache_dir, offline=offline)
    # Downloaded files are first seen here: check them as registration checks local ones.
    check_weights_architecture(path, card)
    tensors = load_safetensors(path, device=device)
    log.debug("loaded %d tensors of model %r from %s", len(tensors), card.name, path)
    return tensors, card

"""
The model registry: named model cards from three layers.

1. **Built-in** cards, the JSON files in ``sunpy_magnetogan/weights/cards/``, read when
   this module is imported (`reload_registry` reads them again).
2. **Persisted** user registrations, ``user_models.json`` in the weights cache directory
   (see `sunpy_magnetogan.weights.cache`), written by ``register_model(..., persist=True)``
   and ``sunpy-magnetogan models register``. The file is read when a lookup needs it and
   re-read whenever it changes, so registrations made by another process show up.
3. **Session** registrations made with `register_model` in this process.

A name in a later layer hides the same name in an earlier one (registering over an existing
name needs ``overwrite=True``).
"""

import dataclasses
import json
import logging
import re
import threading
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import unquote, urlsplit

from sunpy_magnetogan._io import atomic_path, sha256_file
from sunpy_magnetogan.exceptions import (
    CacheError,
    HashMismatchError,
    ModelCardError,
    ModelNotFoundError,
    WeightsWarning,
    warn_user,
)
from sunpy_magnetogan.weights.architecture import check_weights_architecture
from sunpy_magnetogan.weights.cache import cache_lock, ensure_dir, resolve_cache_dir
from sunpy_magnetogan.weights.card import ModelCard
from sunpy_magnetogan.weights.safetensors_io import card_path_for, check_safetensors_header

__all__ = [
    "CARDS_DIR",
    "USER_MODELS_FILE",
    "builtin_models",
    "card_for_file",
    "get_card",
    "list_models",
    "register_model",
    "reload_registry",
    "unregister_model",
    "user_models_path",
]

log = logging.getLogger(__name__)

#: Directory of the built-in model cards (``*.json``).
CARDS_DIR = Path(__file__).resolve().parent / "cards"
#: Name of the file, in the cache directory, that holds persisted user registrations.
USER_MODELS_FILE = "user_models.json"
_USER_FORMAT = "sunpy-magnetogan-user-models"
_URL_PATTERN = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://|doi:)")

_lock = threading.RLock()
_builtin = {}
_session = {}
# user_models.json path -> ((mtime_ns, size, inode), {name: ModelCard})
_user_files = {}


def _load_builtin_cards(cards_dir):
    cards = {}
    for path in sorted(Path(cards_dir).glob("*.json")):
        card = ModelCard.from_json(path)
        if card.name in cards:
            raise ModelCardError(f"built-in model card {path} repeats the model name {card.name!r}")
        cards[card.name] = card
    return cards


def reload_registry():
    """
    Re-read the built-in cards from `CARDS_DIR` and forget session registrations and the
    cached contents of ``user_models.json`` files.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.weights import save_weights
    >>> _ = save_weights({"w": torch.zeros(3)}, tmp_path / "tiny.safetensors", card={"name": "tiny"})
    >>> from sunpy_magnetogan.weights import list_models, register_model, reload_registry
    >>> _ = register_model(tmp_path / "tiny.safetensors", name="tiny-session", cache_dir=tmp_path)
    >>> reload_registry()
    >>> "tiny-session" in list_models(cache_dir=tmp_path)
    False
    """
    cards = _load_builtin_cards(CARDS_DIR)
    with _lock:
        _builtin.clear()
        _builtin.update(cards)
        _session.clear()
        _user_files.clear()


def builtin_models():
    """
    The cards shipped with the package.

    Returns
    -------
    dict of str to `ModelCard`

    Examples
    --------
    >>> from sunpy_magnetogan.weights import builtin_models, list_models
    >>> set(builtin_models()) <= set(list_models())
    True
    """
    with _lock:
        return dict(_builtin)


def user_models_path(cache_dir=None):
    """
    Where persisted user registrations are stored.

    Parameters
    ----------
    cache_dir : str or os.PathLike, optional
        The weights cache directory (default: see `sunpy_magnetogan.weights.cache`).

    Returns
    -------
    pathlib.Path
        ``<cache_dir>/user_models.json``.

    Examples
    --------
    >>> from sunpy_magnetogan.weights import user_models_path
    >>> user_models_path(tmp_path).name
    'user_models.json'
    """
    return resolve_cache_dir(cache_dir) / USER_MODELS_FILE


def _read_user_file(path, *, strict):
    """The raw ``{name: card dict}`` of a user models file ({} when absent)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        message = f"cannot read the user model list {path}: {exc}"
        if strict:
            raise CacheError(message + "; fix or delete the file") from exc
        warn_user(message + "; its models are ignored (fix or delete the file)", WeightsWarning)
        return {}
    if (
        not isinstance(data, dict)
        or data.get("format") != _USER_FORMAT
        or not isinstance(data.get("models"), dict)
    ):
        message = f"{path} is not a sunpy-magnetogan user model list"
        if strict:
            raise CacheError(message + "; fix or delete the file")
        warn_user(message + "; it is ignored (fix or delete the file)", WeightsWarning)
        return {}
    return data["models"]


def _persisted(cache_dir):
    path = user_models_path(cache_dir)
    try:
        stat = path.stat()
    except OSError:
        return {}
    key = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    with _lock:
        known = _user_files.get(path)
        if known and known[0] == key:
            return known[1]
        cards = {}
        for name, entry in _read_user_file(path, strict=False).items():
            try:
                card = ModelCard.from_dict(entry)
                if card.name != name:
                    raise ModelCardError(f"the entry is named {name!r} but its card says {card.name!r}")
            except ModelCardError as exc:
                warn_user(f"ignoring user model {name!r} in {path}: {exc}", WeightsWarning)
                continue
            cards[name] = card
        _user_files[path] = (key, cards)
        return cards


def all_cards(cache_dir=None):
    """Every registered card by name: built-in, then persisted, then this session's (in-package)."""
    persisted = _persisted(cache_dir)
    with _lock:
        return {**_builtin, **persisted, **_session}


def list_models(*, cache_dir=None):
    """
    Names of all registered models.

    Parameters
    ----------
    cache_dir : str or os.PathLike, optional
        Cache directory whose ``user_models.json`` is included (default: see
        `sunpy_magnetogan.weights.cache`).

    Returns
    -------
    list of str
        Sorted.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.weights import save_weights
    >>> _ = save_weights({"w": torch.zeros(3)}, tmp_path / "tiny.safetensors", card={"name": "tiny"})
    >>> from sunpy_magnetogan.weights import list_models, register_model, unregister_model
    >>> _ = register_model(tmp_path / "tiny.safetensors", name="tiny-listed", cache_dir=tmp_path)
    >>> "tiny-listed" in list_models(cache_dir=tmp_path)
    True
    >>> _ = unregister_model("tiny-listed")
    """
    return sorted(all_cards(cache_dir))


def get_card(name, *, cache_dir=None):
    """
    The model card registered under a name.

    Parameters
    ----------
    name : str
        Model name.
    cache_dir : str or os.PathLike, optional
        Cache directory whose ``user_models.json`` is searched too.

    Returns
    -------
    ModelCard

    Raises
    ------
    sunpy_magnetogan.exceptions.ModelNotFoundError
        If no model has that name; the message lists the known names.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.weights import save_weights
    >>> _ = save_weights({"w": torch.zeros(3)}, tmp_path / "tiny.safetensors", card={"name": "tiny"})
    >>> from sunpy_magnetogan.weights import get_card, register_model, unregister_model
    >>> _ = register_model(tmp_path / "tiny.safetensors", name="tiny-card", cache_dir=tmp_path)
    >>> get_card("tiny-card", cache_dir=tmp_path).filename
    'tiny.safetensors'
    >>> get_card("no-such-model", cache_dir=tmp_path)
    Traceback (most recent call last):
    ...
    sunpy_magnetogan.exceptions.ModelNotFoundError: ...
    >>> _ = unregister_model("tiny-card")
    """
    cards = all_cards(cache_dir)
    try:
        return cards[name]
    except (KeyError, TypeError):
        raise model_not_found(name, cards) from None


def model_not_found(name, cards):
    """The `~sunpy_magnetogan.exceptions.ModelNotFoundError` for ``name``, listing ``cards``."""
    known = ", ".join(sorted(cards)) or "none (no model is registered yet)"
    return ModelNotFoundError(f"no model named {name!r}; known models: {known}")


def _card_fields(card):
    """The fields of a card given as a ModelCard, a mapping or a JSON file / text."""
    if card is None:
        return {}
    if isinstance(card, ModelCard):
        return card.to_dict()
    if isinstance(card, Mapping):
        return dict(card)
    return ModelCard.from_json(card).to_dict()


def card_for_file(path, *, name=None, sha256=None, card=None):
    """
    A model card for a local safetensors file, with its hash computed.

    The other fields come from ``card`` if given, else from the card beside the file
    (``<file>.json``, as written by `save_weights`) if there is one.

    Parameters
    ----------
    path : str or os.PathLike
        The weights file.
    name : str, optional
        Model name (default: the card's name, else the file name without its suffix).
    sha256 : str, optional
        Expected hash; checked against the file.
    card : `ModelCard`, dict, str or os.PathLike, optional
        The card (or its fields, or a JSON file) describing the file.

    Returns
    -------
    ModelCard
        With ``path`` set to the absolute path of the file.

    Raises
    ------
    sunpy_magnetogan.exceptions.ModelCardError
        If the file does not exist or the card is invalid.
    sunpy_magnetogan.exceptions.UnsafeWeightsError
        If the file is not a safetensors file.
    sunpy_magnetogan.exceptions.HashMismatchError
        If the file's hash differs from ``sha256`` or from the card's.
    sunpy_magnetogan.exceptions.WeightsArchitectureError
        If the card describes an architecture and the file's tensors (names, shapes,
        dtypes) do not fit it.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.weights import save_weights
    >>> _ = save_weights({"w": torch.zeros(3)}, tmp_path / "tiny.safetensors", card={"name": "tiny"})
    >>> from sunpy_magnetogan.weights import card_for_file, sha256_file
    >>> card = card_for_file(tmp_path / "tiny.safetensors")  # reads tiny.safetensors.json beside it
    >>> card.name, card.sha256 == sha256_file(tmp_path / "tiny.safetensors")
    ('tiny', True)
    """
    path = Path(path).expanduser().resolve()
    if not path.is_file():
        raise ModelCardError(f"cannot use {path} as weights: no such file")
    if card is None and card_path_for(path).is_file():
        card = card_path_for(path)
    fields = _card_fields(card)
    check_safetensors_header(path)
    digest = sha256_file(path)
    for source, expected in (("the model card", fields.get("sha256")), ("the sha256 given", sha256)):
        if expected and str(expected).lower() != digest:
            raise HashMismatchError(
                f"{path} has sha256 {digest}, but {source} states {expected}; the file was "
                "changed or the card belongs to another file; refusing it"
            )
    fields.update(
        name=name or fields.get("name") or path.name.removesuffix(".safetensors"),
        filename=path.name,
        sha256=digest,
        path=str(path),
        embedded=False,
    )
    card = ModelCard.from_dict(fields)
    check_weights_architecture(path, card)
    return card


def _card_for_url(url, *, name, sha256, card):
    fields = _card_fields(card)
    stated = fields.get("sha256")
    if sha256 and stated and sha256.lower() != str(stated).lower():
        raise ModelCardError(f"the sha256 given ({sha256}) differs from the card's ({stated})")
    sha256 = sha256 or stated
    if not sha256:
        raise ModelCardError(
            f"registering the URL {url} needs the sha256 of its file (sha256=... or --sha256); "
            "compute it with `sha256sum FILE` on a copy you trust"
        )
    url_name = unquote(Path(urlsplit(url).path).name)
    name = name or fields.get("name") or url_name.removesuffix(".safetensors")
    filename = fields.get("filename") or url_name or f"{name}.safetensors"
    urls = (url, *[u for u in fields.get("urls", ()) if u != url])
    fields.update(name=name, filename=filename, sha256=sha256, urls=urls, path=None, embedded=False)
    return ModelCard.from_dict(fields)


def register_model(
    source, *, name=None, sha256=None, card=None, overwrite=False, persist=False, cache_dir=None
):
    """
    Register a model under a name: a card, a local safetensors file or a URL.

    Parameters
    ----------
    source : `ModelCard`, str or os.PathLike
        A model card; the path of a local weights file; or a download URL (``https://``,
        ``http://``, ``ftp://``, ``doi:``).
    name : str, optional
        Register under this name (default: the card's name, else the file name without its
        suffix).
    sha256 : str, optional
        Expected hash of the file. Required for a URL (unless ``card`` gives it); for a local
        file it is checked against the file.
    card : `ModelCard`, dict, str or os.PathLike, optional
        Description of the model for a file or URL (a card, its fields, or a JSON file). For
        a local file the default is the card beside it, ``<file>.json``.
    overwrite : bool, optional
        Replace a model already registered under the name.
    persist : bool, optional
        Save the registration in ``user_models.json`` in the cache directory, so it is known
        to later sessions (otherwise it lasts for this process only).
    cache_dir : str or os.PathLike, optional
        Cache directory whose ``user_models.json`` is checked for the name and written with
        ``persist`` (default: see `sunpy_magnetogan.weights.cache`).

    Returns
    -------
    ModelCard
        The card as registered.

    Raises
    ------
    sunpy_magnetogan.exceptions.ModelCardError
        If the name is taken (without ``overwrite``), a URL comes without sha256, the card
        says nowhere to get the file, or a field is invalid.
    sunpy_magnetogan.exceptions.UnsafeWeightsError
        If a local file is not a safetensors file.
    sunpy_magnetogan.exceptions.HashMismatchError
        If a local file does not have the stated sha256.
    sunpy_magnetogan.exceptions.WeightsArchitectureError
        If a local file's tensors do not fit its card's architecture (names, shapes, dtypes).

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.weights import get_card, register_model, save_weights
    >>> _ = save_weights({"w": torch.zeros(4)}, tmp_path / "mine.safetensors", card={"name": "mine"})
    >>> card = register_model(tmp_path / "mine.safetensors", name="my-model", cache_dir=tmp_path)
    >>> get_card("my-model", cache_dir=tmp_path).sha256 == card.sha256
    True
    >>> _ = unregister_model("my-model", cache_dir=tmp_path)
    """
    if isinstance(source, ModelCard):
        new = dataclasses.replace(source, name=name) if name else source
        if card is not None or sha256 is not None:
            raise ModelCardError("card= and sha256= only apply when registering a file or URL")
    elif isinstance(source, str) and _URL_PATTERN.match(source):
        new = _card_for_url(source, name=name, sha256=sha256, card=card)
    elif isinstance(source, (str, Path)) or hasattr(source, "__fspath__"):
        new = card_for_file(source, name=name, sha256=sha256, card=card)
    else:
        raise TypeError(f"cannot register a {type(source).__name__}; give a ModelCard, a path or a URL")
    if not new.has_source:
        raise ModelCardError(
            f"model card {new.name!r} says nowhere to get its file: give it urls, a local path, "
            "or embedded=True"
        )
    with _lock:
        if not overwrite and new.name in all_cards(cache_dir):
            raise ModelCardError(
                f"a model named {new.name!r} is already registered; pass overwrite=True "
                "(--overwrite) to replace it, or choose another name"
            )
        if persist:
            _update_user_file(cache_dir, new.name, new)
        else:
            _session[new.name] = new
    log.info("registered model %r (%s)", new.name, "persisted" if persist else "this session")
    return new


def _update_user_file(cache_dir, name, card):
    path = user_models_path(cache_dir)
    ensure_dir(path.parent)
    with cache_lock(path):
        models = dict(_read_user_file(path, strict=True))
        if card is None:
            models.pop(name, None)
        else:
            models[name] = card.to_dict()
        text = json.dumps({"format": _USER_FORMAT, "models": models}, indent=2) + "\n"
        try:
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CacheError(f"cannot write the user model list {path}: {exc}") from exc
    with _lock:
        _user_files.pop(path, None)


def unregister_model(name, *, cache_dir=None):
    """
    Remove a user registration.

    A session registration is removed first (revealing a persisted or built-in model of the
    same name, if any); otherwise the persisted registration in the cache directory's
    ``user_models.json`` is removed.

    Parameters
    ----------
    name : str
        Model name.
    cache_dir : str or os.PathLike, optional
        Cache directory holding ``user_models.json``.

    Returns
    -------
    ModelCard
        The card that was removed.

    Raises
    ------
    sunpy_magnetogan.exceptions.ModelNotFoundError
        If no model has that name.
    sunpy_magnetogan.exceptions.ModelCardError
        If the name belongs to a built-in model (those cannot be removed).
    """
    with _lock:
        if name in _session:
            return _session.pop(name)
        persisted = _persisted(cache_dir)
        if name in persisted:
            _update_user_file(cache_dir, name, None)
            return persisted[name]
        if name in _builtin:
            raise ModelCardError(f"{name!r} is a built-in model and cannot be unregistered")
    raise model_not_found(name, all_cards(cache_dir))


reload_registry()

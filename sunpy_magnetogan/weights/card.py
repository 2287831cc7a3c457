"""
Model cards: the description of one set of trained weights.

A card says what a weights file is (architecture config, normalisation, training data,
evaluation metrics, licence, version) and how to get it safely: its file name, its SHA-256
hash and where the bytes come from (shipped inside the package, one or more download URLs
tried in order, or a local file registered by the user). Cards are stored as JSON::

    {
      "format": "sunpy-magnetogan-model-card",
      "format_version": 1,
      "name": "default",
      "filename": "magnetogan-default-v5.safetensors",
      "sha256": "<64 hex digits>",
      "urls": [],
      "embedded": true,
      ...
    }
"""

import copy
import dataclasses
import json
import logging
import os
import re
from pathlib import Path
from urllib.parse import urlsplit

from sunpy_magnetogan._io import atomic_path
from sunpy_magnetogan.exceptions import ModelCardError

__all__ = ["CARD_FORMAT", "CARD_FORMAT_VERSION", "URL_SCHEMES", "ModelCard"]

log = logging.getLogger(__name__)

#: Value of the ``format`` key of a card's JSON.
CARD_FORMAT = "sunpy-magnetogan-model-card"
#: Newest card layout this version of the package reads and writes.
CARD_FORMAT_VERSION = 1
#: URL schemes a card may use (all handled by `pooch`).
URL_SCHEMES = ("https", "http", "ftp", "doi")

_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
_FILENAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,199}$")
_SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ModelCard:
    """
    The description of one trained model and of how to obtain its weights file.

    Instances are immutable and validated on creation; use `dataclasses.replace` to derive
    a modified card. The dictionaries are deep-copied on creation and should be treated as
    read-only.

    Parameters
    ----------
    name : str
        Registry name: letters, digits, ``_``, ``.`` and ``-``, starting with a letter or
        digit (at most 100 characters).
    filename : str
        Name of the weights file (a bare file name, no directory part). Downloaded copies
        are cached under this name, so it should include the model version.
    sha256 : str
        SHA-256 hash of the weights file, 64 hexadecimal digits. Every file is checked
        against it before use.
    description : str, optional
        One or two sentences for humans.
    architecture : dict, optional
        The network configuration as saved by the trainer (JSON-serialisable; opaque here).
    normalization : dict, optional
        How EUV input and magnetogram output are scaled (e.g. the Gauss <-> [-1, 1]
        transform and its parameters).
    preparation : dict, optional
        How input files are calibrated before that normalisation: the
        `~sunpy_magnetogan.data.inputs.InputPreparation` the training pairs were made with,
        which inference applies (empty for cards written before it was recorded).
    training_data : str, optional
        What the model was trained on (instruments, dates, number of pairs).
    metrics : dict, optional
        Evaluation results (e.g. ``{"pixel_cc": 0.7, "rmse_G": 45.0}``); values should carry
        their unit in the key name.
    urls : tuple of str, optional
        Download locations (``https``, ``http``, ``ftp`` or ``doi``), tried in order.
    embedded : bool, optional
        True when the file ships inside the package (``sunpy_magnetogan/weights/embedded/``).
    path : str or None, optional
        Absolute path of a local weights file registered by the user.
    license : str, optional
        Licence of the weights (an SPDX identifier such as ``"CC-BY-4.0"``).
    version : str, optional
        Version of the weights.
    calibration : dict, optional
        Calibrations of the model's outputs measured on held-out data after training (for
        example ``{"polarity": ...}``, the table behind the polarity confidence of
        `sunpy_magnetogan.polarity`).

    Raises
    ------
    sunpy_magnetogan.exceptions.ModelCardError
        If a field is missing, of the wrong type, or unsafe (e.g. a file name with a
        directory part, a hash that is not 64 hex digits, a URL with another scheme).

    Examples
    --------
    >>> from sunpy_magnetogan.weights import ModelCard
    >>> card = ModelCard(name="demo", filename="demo-v1.safetensors", sha256="0" * 64,
    ...                  urls=("https://example.org/demo-v1.safetensors",))
    >>> ModelCard.from_json(card.to_json()) == card
    True
    """

    name: str
    filename: str
    sha256: str
    description: str = ""
    architecture: dict = dataclasses.field(default_factory=dict)
    normalization: dict = dataclasses.field(default_factory=dict)
    preparation: dict = dataclasses.field(default_factory=dict)
    training_data: str = ""
    metrics: dict = dataclasses.field(default_factory=dict)
    urls: tuple = ()
    embedded: bool = False
    path: str | None = None
    license: str = ""
    version: str = ""
    calibration: dict = dataclasses.field(default_factory=dict)

    def __post_init__(self):
        def fail(message):
            raise ModelCardError(f"model card {self.name!r}: {message}")

        if not isinstance(self.name, str) or not _NAME_PATTERN.match(self.name):
            raise ModelCardError(
                f"invalid model name {self.name!r}: use letters, digits, '_', '.' and '-', "
                "starting with a letter or digit (at most 100 characters)"
            )
        if (
            not isinstance(self.filename, str)
            or not _FILENAME_PATTERN.match(self.filename)
            or ".." in self.filename
        ):
            fail(
                f"invalid file name {self.filename!r}: it must be a bare file name "
                "(letters, digits, '_', '.', '+', '-'; no directory part, no '..')"
            )
        sha = self.sha256.lower() if isinstance(self.sha256, str) else self.sha256
        if not isinstance(sha, str) or not _SHA256_PATTERN.match(sha):
            fail(f"sha256 must be 64 hexadecimal digits, not {self.sha256!r}")
        object.__setattr__(self, "sha256", sha)
        for key in ("description", "training_data", "license", "version"):
            if not isinstance(getattr(self, key), str):
                fail(f"{key} must be a string, not {type(getattr(self, key)).__name__}")
        for key in ("architecture", "normalization", "preparation", "metrics", "calibration"):
            value = getattr(self, key)
            if not isinstance(value, dict):
                fail(f"{key} must be a dict, not {type(value).__name__}")
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError) as exc:
                fail(f"{key} is not JSON-serialisable: {exc}")
            object.__setattr__(self, key, copy.deepcopy(value))
        if isinstance(self.urls, str) or not isinstance(self.urls, (list, tuple)):
            fail(f"urls must be a sequence of strings, not {type(self.urls).__name__}")
        urls = tuple(self.urls)
        for url in urls:
            _check_url(url, fail)
        object.__setattr__(self, "urls", urls)
        if not isinstance(self.embedded, bool):
            fail(f"embedded must be true or false, not {self.embedded!r}")
        if self.path is not None:
            if not isinstance(self.path, (str, os.PathLike)):
                fail(f"path must be a string, not {type(self.path).__name__}")
            local = Path(self.path).expanduser()
            if not local.is_absolute():
                fail(f"path must be absolute, not {str(self.path)!r}")
            if self.embedded:
                fail("a card cannot be both embedded and a local path")
            object.__setattr__(self, "path", str(local))

    @property
    def has_source(self):
        """True when the card says where to get its file (embedded, local path or URL)."""
        return bool(self.embedded or self.path or self.urls)

    def to_dict(self):
        """
        The card as a JSON-ready dictionary (with ``format`` and ``format_version`` keys).

        Returns
        -------
        dict
        """
        data = {"format": CARD_FORMAT, "format_version": CARD_FORMAT_VERSION}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if field.name == "urls":
                value = list(value)
            data[field.name] = copy.deepcopy(value)
        return data

    @classmethod
    def from_dict(cls, data):
        """
        Build a card from a dictionary as written by `to_dict`.

        Parameters
        ----------
        data : dict
            Card fields; ``format`` and ``format_version`` are optional.

        Returns
        -------
        ModelCard

        Raises
        ------
        sunpy_magnetogan.exceptions.ModelCardError
            For unknown keys, a newer or foreign format, or invalid fields.
        """
        if not isinstance(data, dict):
            raise ModelCardError(f"a model card must be a JSON object, not {type(data).__name__}")
        data = dict(data)
        fmt = data.pop("format", CARD_FORMAT)
        version = data.pop("format_version", CARD_FORMAT_VERSION)
        if fmt != CARD_FORMAT:
            raise ModelCardError(f"not a model card: format is {fmt!r}, expected {CARD_FORMAT!r}")
        if not isinstance(version, int) or version < 1 or version > CARD_FORMAT_VERSION:
            raise ModelCardError(
                f"model card format version {version!r} is not supported (this sunpy-magnetogan "
                f"reads versions 1 to {CARD_FORMAT_VERSION}; a newer package may be needed)"
            )
        known = {field.name for field in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ModelCardError(f"unknown model card key(s): {', '.join(unknown)}")
        missing = sorted(key for key in ("name", "filename", "sha256") if key not in data)
        if missing:
            raise ModelCardError(f"model card lacks required key(s): {', '.join(missing)}")
        if isinstance(data.get("urls"), list):
            data["urls"] = tuple(data["urls"])
        return cls(**data)

    def to_json(self, path=None):
        """
        Serialise the card to JSON, and optionally write it to a file (atomically).

        Parameters
        ----------
        path : str or os.PathLike, optional
            Where to write the JSON; the file is replaced in one step, so readers never see
            a half-written card.

        Returns
        -------
        str
            The JSON text.
        """
        text = json.dumps(self.to_dict(), indent=2, allow_nan=False) + "\n"
        if path is not None:
            with atomic_path(path) as tmp:
                Path(tmp).write_text(text, encoding="utf-8")
        return text

    @classmethod
    def from_json(cls, source):
        """
        Read a card from JSON text or from a JSON file.

        Parameters
        ----------
        source : str or os.PathLike
            JSON text (a string starting with ``{``) or the path of a JSON file.

        Returns
        -------
        ModelCard

        Raises
        ------
        sunpy_magnetogan.exceptions.ModelCardError
            If the file cannot be read, is not valid JSON or not a valid card.
        """
        where = "JSON text"
        if isinstance(source, str) and source.lstrip().startswith("{"):
            text = source
        else:
            where = str(source)
            try:
                text = Path(source).read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise ModelCardError(f"cannot read model card {where}: {exc}") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ModelCardError(f"model card {where} is not valid JSON: {exc}") from exc
        try:
            return cls.from_dict(data)
        except ModelCardError as exc:
            if where == "JSON text":
                raise
            raise ModelCardError(f"{where}: {exc}") from exc


def _check_url(url, fail):
    if not isinstance(url, str):
        fail(f"URLs must be strings, not {type(url).__name__}")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in URL_SCHEMES:
        fail(f"URL {url!r} has an unsupported scheme; use one of {', '.join(URL_SCHEMES)}")
    if scheme != "doi" and not parts.netloc:
        fail(f"URL {url!r} has no host")
    if any(ch.isspace() for ch in url):
        fail(f"URL {url!r} contains white space")

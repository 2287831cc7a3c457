"""
Configuration files: a model and a training configuration read from, and written to,
TOML (or YAML/JSON) files that may start from a named preset
(`sunpy_magnetogan.training.presets`).
"""

import json
import logging
from pathlib import Path

import tomllib

from sunpy_magnetogan._io import atomic_write_text
from sunpy_magnetogan.exceptions import TrainingConfigError
from sunpy_magnetogan.training.config import ModelConfig, TrainConfig, merge_config
from sunpy_magnetogan.training.presets import get_preset

__all__ = ["load_config", "save_config"]

log = logging.getLogger(__name__)


def _read_mapping(path):
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise TrainingConfigError(f"cannot read the config file {path}: {exc}") from exc
    suffix = path.suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise TrainingConfigError(
                f"{path} is YAML, which needs PyYAML (pip install pyyaml); or write it as TOML"
            ) from None
        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise TrainingConfigError(f"cannot parse {path} as YAML: {exc}") from None
    elif suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise TrainingConfigError(f"cannot parse {path} as JSON: {exc}") from None
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise TrainingConfigError(f"cannot parse {path} as TOML: {exc}") from None
    if not isinstance(data, dict):
        raise TrainingConfigError(f"{path} must hold a mapping with [model] and/or [train] tables")
    return data


def load_config(path, *, preset=None):
    """
    Load a model and a training configuration from a TOML/YAML/JSON file.

    Parameters
    ----------
    path : str or os.PathLike
        The file: optional top-level ``preset`` name and ``[model]`` / ``[train]`` tables
        of fields to override. ``.yaml``/``.yml`` files need PyYAML; ``.json`` is read as
        JSON; anything else as TOML.
    preset : str, optional
        Preset to start from when the file names none (a file naming a different one is
        an error). Without either, the dataclass defaults (the paper's settings) apply.

    Returns
    -------
    model : ModelConfig
    train : TrainConfig

    Raises
    ------
    TrainingConfigError
        If the file cannot be read or parsed, or holds unknown keys or invalid values.

    Examples
    --------
    >>> from sunpy_magnetogan.training import load_config
    >>> _ = (tmp_path / "run.toml").write_text('''
    ... preset = "compact"
    ... [model]
    ... n_levels = 2
    ... patch_sizes = [16, 8]
    ... [train]
    ... steps = 500
    ... ''')
    >>> model, train = load_config(tmp_path / "run.toml")
    >>> model.level_sizes, model.patch_sizes, train.steps, train.batch_size
    ((64, 128), (16, 8), 500, 4)
    """
    data = dict(_read_mapping(path))
    file_preset = data.pop("preset", None)
    if file_preset is not None and preset is not None and file_preset != preset:
        raise TrainingConfigError(
            f"{path} is based on preset {file_preset!r} but preset {preset!r} was asked for"
        )
    unknown = sorted(set(data) - {"model", "train"})
    if unknown:
        raise TrainingConfigError(
            f"unknown section(s) {', '.join(unknown)} in {path}; expected model and train"
        )
    name = file_preset or preset
    model, train = get_preset(name) if name else (ModelConfig(), TrainConfig())
    model = merge_config(model, data.get("model", {}))
    train = merge_config(train, data.get("train", {}))
    train.check_model(model)
    log.debug("loaded configuration from %s (preset %s)", path, name)
    return model, train


def _drop_none(mapping):
    return {
        key: _drop_none(value) if isinstance(value, dict) else value
        for key, value in mapping.items()
        if value is not None
    }


def save_config(path, model, train):
    """
    Write a model and a training configuration to a TOML file (atomically).

    ``None`` values are left out (TOML has no null), which `load_config` reads back as the
    field defaults.

    Parameters
    ----------
    path : str or os.PathLike
        The file to write.
    model : ModelConfig
    train : TrainConfig

    Examples
    --------
    >>> from sunpy_magnetogan.training import get_preset, load_config, save_config
    >>> model, train = get_preset("compact")
    >>> save_config(tmp_path / "config.toml", model, train)
    >>> load_config(tmp_path / "config.toml") == (model, train)
    True
    """
    import tomli_w

    text = tomli_w.dumps({"model": _drop_none(model.to_dict()), "train": _drop_none(train.to_dict())})
    atomic_write_text(path, text)

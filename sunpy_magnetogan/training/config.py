"""
Frozen configuration dataclasses of a model and of a training run.

Both are saved beside every checkpoint (so a checkpoint describes itself) and can be
loaded from a TOML (or, with PyYAML installed, YAML) file that optionally starts from a
named preset (`sunpy_magnetogan.training.presets`) and overrides some fields::

    preset = "compact"

    [model]
    n_levels = 2
    patch_sizes = [16, 8]

    [model.generator_kwargs]
    base_channels = 8

    [train]
    steps = 500
    batch_size = 2
"""

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import tomllib

from sunpy_magnetogan.exceptions import TrainingConfigError

__all__ = ["ModelConfig", "TrainConfig", "load_config", "merge_config", "save_config"]

log = logging.getLogger(__name__)

_AMP_DTYPES = ("bfloat16", "float16", "none")
_GAN_MODES = ("vanilla", "lsgan")


def _check(condition, message):
    if not condition:
        raise TrainingConfigError(message)


class _ConfigMixin:
    """Serialisation shared by the config dataclasses."""

    def to_dict(self):
        """
        The configuration as a plain dict of JSON/TOML-friendly values.

        Returns
        -------
        dict
            Tuples become lists; nested dicts are copied.
        """
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, values):
        """
        Build a configuration from a dict such as `to_dict` returns.

        Missing keys take their default; lists become tuples where the field is a tuple.

        Parameters
        ----------
        values : dict
            Field values.

        Returns
        -------
        ModelConfig or TrainConfig

        Raises
        ------
        TrainingConfigError
            If a key is not a field or a value is invalid.
        """
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise TrainingConfigError(
                f"unknown {cls.__name__} key(s) {', '.join(unknown)}; valid keys: {', '.join(sorted(names))}"
            )
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name not in values:
                continue
            value = values[f.name]
            if f.name in cls._TUPLE_FIELDS and value is not None:
                value = tuple(value)
            if f.name in cls._DICT_FIELDS:
                value = dict(value or {})
            kwargs[f.name] = value
        try:
            return cls(**kwargs)
        except TypeError as exc:
            raise TrainingConfigError(f"invalid {cls.__name__}: {exc}") from None

    def replace(self, **changes):
        """
        A copy with some fields changed (validated again).

        Parameters
        ----------
        **changes
            New field values.

        Returns
        -------
        ModelConfig or TrainConfig
        """
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class ModelConfig(_ConfigMixin):
    """
    Architecture of a pyramid GAN.

    Parameters
    ----------
    image_size : int
        Size N of the finest level in pixels (512 in the paper); level m of
        ``n_levels`` works at ``N / 2**(n_levels - 1 - m)`` px.
    n_levels : int
        Number of pyramid levels (generator/discriminator pairs); 1 is single-scale
        pix2pix, 3 the paper's.
    generator : str
        Registered generator (`sunpy_magnetogan.nn.GENERATORS`): ``"unet"``,
        ``"resnet"`` or ``"atrous"``.
    generator_kwargs : dict
        Keyword arguments of every generator (width, depth...).
    discriminator : str
        Registered discriminator: ``"patchgan"`` or ``"imagegan"``.
    patch_sizes : tuple of int
        PatchGAN patch size of each level, coarsest first (the paper: 64, 32, 16); empty
        for ImageGAN.
    discriminator_kwargs : dict
        Keyword arguments of every discriminator.
    detach_between_levels : bool
        Stop gradients between pyramid levels (see `~sunpy_magnetogan.nn.PyramidGenerator`).
    radial_output : bool
        If True, the generators predict the radial field and every level's output is
        projected onto the line of sight of the model grid, ``B_los = mu * B_r``
        (`~sunpy_magnetogan.nn.LineOfSightProjection`), so that the model does not have to
        learn the centre-to-limb decline of a line-of-sight magnetogram from the data.
        `build` then needs the magnetogram normalisation. False (the paper) maps EUV to
        ``B_los`` directly.
    cycle_frame : bool
        If True, the generators predict the field in the even-cycle frame
        (`~sunpy_magnetogan.solar_cycle.CycleFrame`): training multiplies each target by the
        frame sign of its pixels' latitudes on its date, and inference multiplies the
        output by the same sign, so that the model gives every cycle its own Hale order
        (an EUV image cannot show it). The networks are the same; False (the paper)
        learns whatever order the training dates had.

    Examples
    --------
    >>> from sunpy_magnetogan.training import ModelConfig
    >>> config = ModelConfig(image_size=128, n_levels=2, patch_sizes=(16, 8),
    ...                      generator_kwargs={"base_channels": 8, "depth": 4})
    >>> config.level_sizes
    (64, 128)
    >>> ModelConfig.from_dict(config.to_dict()) == config
    True
    >>> generator, discriminator = config.build()
    >>> generator.n_levels, discriminator.n_levels
    (2, 2)
    """

    image_size: int = 512
    n_levels: int = 3
    generator: str = "unet"
    generator_kwargs: dict = field(default_factory=lambda: {"base_channels": 64, "depth": 6})
    discriminator: str = "patchgan"
    patch_sizes: tuple = (64, 32, 16)
    discriminator_kwargs: dict = field(default_factory=lambda: {"base_channels": 64})
    detach_between_levels: bool = False
    radial_output: bool = False
    cycle_frame: bool = False

    _TUPLE_FIELDS = ("patch_sizes",)
    _DICT_FIELDS = ("generator_kwargs", "discriminator_kwargs")

    def __post_init__(self):
        from sunpy_magnetogan.nn import DISCRIMINATORS, GENERATORS

        _check(self.n_levels >= 1, f"n_levels must be at least 1, got {self.n_levels}")
        factor = 2 ** (self.n_levels - 1)
        _check(
            self.image_size >= factor and self.image_size % factor == 0,
            f"image_size {self.image_size} must be a multiple of 2**(n_levels - 1) = {factor}",
        )
        _check(
            self.generator in GENERATORS,
            f"unknown generator {self.generator!r}; registered: {', '.join(sorted(GENERATORS))}",
        )
        _check(
            self.discriminator in DISCRIMINATORS,
            f"unknown discriminator {self.discriminator!r}; registered: {', '.join(sorted(DISCRIMINATORS))}",
        )
        object.__setattr__(self, "patch_sizes", tuple(int(p) for p in self.patch_sizes))
        if self.discriminator == "patchgan":
            _check(
                len(self.patch_sizes) == self.n_levels,
                f"give one patch size per level: {self.n_levels} levels but patch_sizes={self.patch_sizes}",
            )
            for size, patch in zip(self.level_sizes, self.patch_sizes, strict=True):
                _check(4 <= patch <= size, f"patch size {patch} does not fit a {size} px level")

    @property
    def level_sizes(self):
        """Image size of each level in pixels, coarsest first (tuple of int)."""
        return tuple(self.image_size // 2 ** (self.n_levels - 1 - m) for m in range(self.n_levels))

    def build(self, normalization=None, *, disk_radius=None):
        """
        Build the networks this configuration describes (not yet initialised).

        Parameters
        ----------
        normalization : `~sunpy_magnetogan.normalization.MagnetogramNormalization` or dict, optional
            The normalisation of the magnetograms (or its ``to_dict``); required when
            ``radial_output`` is True, ignored otherwise.
        disk_radius : float, optional
            Radius of the solar disk on the model grid as a fraction of its size, for
            ``radial_output`` (`~sunpy_magnetogan.grid.ModelGrid`'s 0.4 by default).

        Returns
        -------
        generator : `~sunpy_magnetogan.nn.PyramidGenerator`
        discriminator : `~sunpy_magnetogan.nn.PyramidDiscriminator`

        Raises
        ------
        TrainingConfigError
            If the networks cannot be built, or ``radial_output`` is True and no
            normalisation is given.
        """
        from sunpy_magnetogan.nn import build_pyramid

        projection = self._projection(normalization, disk_radius) if self.radial_output else None
        try:
            return build_pyramid(
                self.n_levels,
                generator=self.generator,
                generator_kwargs=self.generator_kwargs,
                discriminator=self.discriminator,
                patch_sizes=self.patch_sizes if self.discriminator == "patchgan" else None,
                discriminator_kwargs=self.discriminator_kwargs,
                detach=self.detach_between_levels,
                projection=projection,
            )
        except (TypeError, ValueError) as exc:
            raise TrainingConfigError(f"cannot build the model: {exc}") from exc

    @staticmethod
    def _projection(normalization, disk_radius):
        from sunpy_magnetogan.grid import ModelGrid
        from sunpy_magnetogan.nn import LineOfSightProjection
        from sunpy_magnetogan.normalization import MagnetogramNormalization

        if normalization is None:
            raise TrainingConfigError(
                "a model with radial_output projects its field through the magnetogram normalisation: "
                "pass normalization to build()"
            )
        if isinstance(normalization, dict):
            normalization = MagnetogramNormalization.from_dict(normalization)
        return LineOfSightProjection(
            ModelGrid.disk_radius if disk_radius is None else disk_radius,
            kind=normalization.kind,
            scale=normalization.asinh_scale,
        )


@dataclass(frozen=True)
class TrainConfig(_ConfigMixin):
    """
    Settings of a training run.

    Parameters
    ----------
    steps : int
        Number of optimisation steps (each updates every discriminator, then every
        generator, once).
    batch_size : int
        Pairs per step and per process (the paper: 1).
    lr : float
        Adam learning rate of generators and discriminators (the paper: 2e-4).
    betas : tuple of float
        Adam (beta1, beta2) (the paper: 0.5, 0.999).
    lambda_l2 : float
        Weight of the L2 term against the adversarial term. The paper does not state its
        value; 100 is pix2pix's weight of its L1 term.
    gan_mode : {"vanilla", "lsgan"}
        Adversarial loss: binary cross-entropy (the paper's) or least squares.
    level_weights : tuple of float, optional
        Weight of each level's losses, coarsest first (default: all 1).
    crop_size : int, optional
        Train on random ``crop_size`` px crops of the finest level (coarser levels get the
        aligned, downsampled crop); None trains on whole images as the paper's stated
        128/256/512 px inputs do.
    random_flips : bool
        Flip pairs at random (both images together). This keeps each pair consistent but
        mirrors the Sun, so hemispheric sign rules (Hale's law, Joy's law) are no longer
        learnt; off by default.
    train_split, eval_split : str
        Splits of the pair store used for training and for the periodic evaluation.
    eval_every : int
        Evaluate every this many steps (0: only at the end).
    eval_max_pairs : int, optional
        Evaluate on at most this many pairs of ``eval_split`` (None: all).
    checkpoint_every : int
        Write a checkpoint every this many steps (and always at the end).
    keep_checkpoints : int
        Number of most recent checkpoints kept.
    log_every : int
        Write a row of the CSV/TensorBoard logs every this many steps.
    seed : int
        Seed of the weights' initialisation, the data order and the crops.
    amp_dtype : {"bfloat16", "float16", "none"}
        Autocast dtype on CUDA (ignored on CPU, where training is float32).
    channels_last : bool
        Use the channels-last memory format (faster convolutions on recent GPUs).
    deterministic : bool
        Use only deterministic algorithms (bit-reproducible runs on CPU).
    num_workers : int
        Data-loading worker processes (0: load in the main process).
    init_generator : str, optional
        Start the generator from these weights instead of a random initialisation (a
        fine-tuning run): a registered model name (e.g. ``"default"``) or a safetensors
        file. The architecture must match; the discriminator starts fresh.
    magnetogram_normalization : dict
        Settings of the `~sunpy_magnetogan.normalization.MagnetogramNormalization` that
        maps the targets from Gauss to [-1, 1] (its ``to_dict``).

    Examples
    --------
    >>> from sunpy_magnetogan.training import TrainConfig
    >>> train = TrainConfig(steps=500, batch_size=4)
    >>> train.lr, train.betas, train.lambda_l2
    (0.0002, (0.5, 0.999), 100.0)
    >>> train.normalization.saturation
    <Quantity 3000. G>
    >>> TrainConfig(steps=0)
    Traceback (most recent call last):
    ...
    sunpy_magnetogan.exceptions.TrainingConfigError: steps must be at least 1, got 0
    """

    steps: int = 100_000
    batch_size: int = 1
    lr: float = 2e-4
    betas: tuple = (0.5, 0.999)
    lambda_l2: float = 100.0
    gan_mode: str = "vanilla"
    level_weights: tuple | None = None
    crop_size: int | None = None
    random_flips: bool = False
    train_split: str = "train"
    eval_split: str = "test"
    eval_every: int = 1000
    eval_max_pairs: int | None = None
    checkpoint_every: int = 1000
    keep_checkpoints: int = 3
    log_every: int = 10
    seed: int = 0
    amp_dtype: str = "bfloat16"
    channels_last: bool = False
    deterministic: bool = False
    num_workers: int = 0
    magnetogram_normalization: dict = field(
        default_factory=lambda: {"kind": "asinh", "saturation_G": 3000.0, "softening_G": 50.0}
    )
    init_generator: str | None = None

    _TUPLE_FIELDS = ("betas", "level_weights")
    _DICT_FIELDS = ("magnetogram_normalization",)

    def __post_init__(self):
        for name in ("steps", "batch_size", "checkpoint_every", "keep_checkpoints", "log_every"):
            _check(int(getattr(self, name)) >= 1, f"{name} must be at least 1, got {getattr(self, name)}")
        _check(self.eval_every >= 0, f"eval_every must be >= 0, got {self.eval_every}")
        _check(self.num_workers >= 0, f"num_workers must be >= 0, got {self.num_workers}")
        _check(self.lr > 0, f"lr must be positive, got {self.lr}")
        _check(len(self.betas) == 2, f"betas must be two numbers, got {self.betas}")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        if self.level_weights is not None:
            object.__setattr__(self, "level_weights", tuple(float(w) for w in self.level_weights))
        _check(self.lambda_l2 >= 0, f"lambda_l2 must be >= 0, got {self.lambda_l2}")
        _check(self.gan_mode in _GAN_MODES, f"gan_mode must be one of {_GAN_MODES}, got {self.gan_mode!r}")
        _check(
            self.amp_dtype in _AMP_DTYPES, f"amp_dtype must be one of {_AMP_DTYPES}, got {self.amp_dtype!r}"
        )
        _check(
            self.crop_size is None or self.crop_size >= 1,
            f"crop_size must be positive or None, got {self.crop_size}",
        )
        _check(
            self.eval_max_pairs is None or self.eval_max_pairs >= 1,
            f"eval_max_pairs must be positive or None, got {self.eval_max_pairs}",
        )
        try:
            self.normalization  # noqa: B018 - validates the settings
        except (KeyError, TypeError, ValueError) as exc:
            raise TrainingConfigError(
                f"invalid magnetogram_normalization {self.magnetogram_normalization}: {exc}"
            ) from None

    @property
    def normalization(self):
        """The target normalisation (`~sunpy_magnetogan.normalization.MagnetogramNormalization`)."""
        from sunpy_magnetogan.normalization import MagnetogramNormalization

        return MagnetogramNormalization.from_dict(self.magnetogram_normalization)

    def check_model(self, model):
        """
        Check that this run's settings fit a model.

        Parameters
        ----------
        model : ModelConfig
            The architecture to train.

        Raises
        ------
        TrainingConfigError
            If the crop is not aligned with the pyramid, a level is smaller than its
            PatchGAN patch, or ``level_weights`` has the wrong length.
        """
        if self.level_weights is not None:
            _check(
                len(self.level_weights) == model.n_levels,
                f"level_weights has {len(self.level_weights)} entries for {model.n_levels} levels",
            )
        if self.crop_size is not None:
            factor = 2 ** (model.n_levels - 1)
            _check(
                self.crop_size <= model.image_size and self.crop_size % factor == 0,
                f"crop_size {self.crop_size} must be at most image_size {model.image_size} "
                f"and a multiple of 2**(n_levels - 1) = {factor}",
            )
            if model.discriminator == "patchgan":
                for m, patch in enumerate(model.patch_sizes):
                    level = self.crop_size // 2 ** (model.n_levels - 1 - m)
                    _check(
                        patch <= level, f"level {m} crops are {level} px, smaller than its {patch} px patch"
                    )


def merge_config(base, overrides):
    """
    Apply overrides to a configuration (dict fields are merged key by key).

    Parameters
    ----------
    base : ModelConfig or TrainConfig
        The starting point (e.g. a preset).
    overrides : dict
        Field values to change.

    Returns
    -------
    ModelConfig or TrainConfig
        A new configuration of the same class.

    Examples
    --------
    >>> from sunpy_magnetogan.training import get_preset, merge_config
    >>> model, _ = get_preset("compact")
    >>> wider = merge_config(model, {"generator_kwargs": {"base_channels": 16}})
    >>> wider.generator_kwargs  # other keys of the dict are kept
    {'base_channels': 16, 'depth': 4, 'max_channels': 64}
    """
    values = base.to_dict()
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return type(base).from_dict(values)


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
    from sunpy_magnetogan.training.presets import get_preset

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
    import os

    import tomli_w

    path = Path(path)
    text = tomli_w.dumps({"model": _drop_none(model.to_dict()), "train": _drop_none(train.to_dict())})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)

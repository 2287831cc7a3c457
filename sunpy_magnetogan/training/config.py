"""
The frozen configuration of a training run, `TrainConfig`.

It is saved beside every checkpoint together with the model's architecture
(`~sunpy_magnetogan.architecture.ModelConfig`, which lives in
`sunpy_magnetogan.architecture` so that inference can read it without importing training;
it is re-exported here), and both can be loaded from a TOML (or, with PyYAML installed,
YAML) file that optionally starts from a named preset (`sunpy_magnetogan.training.presets`)
and overrides some fields (`sunpy_magnetogan.training.config_files.load_config`)::

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

import logging
from dataclasses import dataclass, field

from sunpy_magnetogan.architecture import ConfigMixin, ModelConfig, check_config
from sunpy_magnetogan.exceptions import TrainingConfigError
from sunpy_magnetogan.normalization import MagnetogramNormalization

__all__ = ["NORTH_SOUTH", "RANDOM_FLIPS", "ModelConfig", "TrainConfig", "merge_config"]

log = logging.getLogger(__name__)

_AMP_DTYPES = ("bfloat16", "float16", "none")
_GAN_MODES = ("vanilla", "lsgan")
#: ``TrainConfig.random_flips`` value for north-south mirrors only (Hale's and Joy's laws hold).
NORTH_SOUTH = "north-south"
#: The values ``TrainConfig.random_flips`` and `~sunpy_magnetogan.training.dataset.PairDataset` take.
RANDOM_FLIPS = (False, True, NORTH_SOUTH)


@dataclass(frozen=True)
class TrainConfig(ConfigMixin):
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
    random_flips : bool or {"north-south"}
        Flip pairs at random (both images together). True mirrors them left-right and/or
        up-down: each pair stays consistent, but the mirrored Sun breaks the hemispheric
        sign rules (Hale's law; with ``cycle_frame``, Joy's law under east-west mirrors).
        ``"north-south"`` mirrors them up-down only, which with ``cycle_frame`` is an exact
        symmetry of Hale's and Joy's laws (see
        `~sunpy_magnetogan.training.dataset.PairDataset`). Off by default.
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
            check_config(
                int(getattr(self, name)) >= 1, f"{name} must be at least 1, got {getattr(self, name)}"
            )
        check_config(self.eval_every >= 0, f"eval_every must be >= 0, got {self.eval_every}")
        check_config(self.num_workers >= 0, f"num_workers must be >= 0, got {self.num_workers}")
        check_config(self.lr > 0, f"lr must be positive, got {self.lr}")
        check_config(len(self.betas) == 2, f"betas must be two numbers, got {self.betas}")
        object.__setattr__(self, "betas", tuple(float(b) for b in self.betas))
        if self.level_weights is not None:
            object.__setattr__(self, "level_weights", tuple(float(w) for w in self.level_weights))
        check_config(
            self.random_flips in RANDOM_FLIPS,
            f"random_flips must be true, false or {NORTH_SOUTH!r}, got {self.random_flips!r}",
        )
        check_config(self.lambda_l2 >= 0, f"lambda_l2 must be >= 0, got {self.lambda_l2}")
        check_config(
            self.gan_mode in _GAN_MODES, f"gan_mode must be one of {_GAN_MODES}, got {self.gan_mode!r}"
        )
        check_config(
            self.amp_dtype in _AMP_DTYPES, f"amp_dtype must be one of {_AMP_DTYPES}, got {self.amp_dtype!r}"
        )
        check_config(
            self.crop_size is None or self.crop_size >= 1,
            f"crop_size must be positive or None, got {self.crop_size}",
        )
        check_config(
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
            check_config(
                len(self.level_weights) == model.n_levels,
                f"level_weights has {len(self.level_weights)} entries for {model.n_levels} levels",
            )
        if self.crop_size is not None:
            factor = 2 ** (model.n_levels - 1)
            check_config(
                self.crop_size <= model.image_size and self.crop_size % factor == 0,
                f"crop_size {self.crop_size} must be at most image_size {model.image_size} "
                f"and a multiple of 2**(n_levels - 1) = {factor}",
            )
            if model.discriminator == "patchgan":
                for m, patch in enumerate(model.patch_sizes):
                    level = self.crop_size // 2 ** (model.n_levels - 1 - m)
                    check_config(
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
    {'base_channels': 16, 'depth': 4, 'max_channels': 64, 'upsample': 'resize'}
    """
    values = base.to_dict()
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(values.get(key), dict):
            values[key] = {**values[key], **value}
        else:
            values[key] = value
    return type(base).from_dict(values)

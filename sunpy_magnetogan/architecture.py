"""
The architecture of a pyramid GAN, shared by training and inference.

`ModelConfig` is the frozen description of the networks (sizes, levels, registered
generator and discriminator, their keyword arguments) that every checkpoint and model card
carries; `ModelConfig.build` hands it to `sunpy_magnetogan.nn.build_pyramid`. Training
(`sunpy_magnetogan.training`) writes it, inference (`sunpy_magnetogan.generate`,
`sunpy_magnetogan.weights`) reads it back, and neither needs the other.
"""

import dataclasses
import json
from dataclasses import dataclass, field

from sunpy_magnetogan.exceptions import TrainingConfigError
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.nn import DISCRIMINATORS, GENERATORS, LineOfSightProjection, build_pyramid
from sunpy_magnetogan.normalization import MagnetogramNormalization

__all__ = ["ModelConfig"]


def check_config(condition, message):
    """Raise `~sunpy_magnetogan.exceptions.TrainingConfigError` with ``message`` unless ``condition``."""
    if not condition:
        raise TrainingConfigError(message)


class ConfigMixin:
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
class ModelConfig(ConfigMixin):
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
    >>> from sunpy_magnetogan.architecture import ModelConfig
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
        check_config(self.n_levels >= 1, f"n_levels must be at least 1, got {self.n_levels}")
        factor = 2 ** (self.n_levels - 1)
        check_config(
            self.image_size >= factor and self.image_size % factor == 0,
            f"image_size {self.image_size} must be a multiple of 2**(n_levels - 1) = {factor}",
        )
        check_config(
            self.generator in GENERATORS,
            f"unknown generator {self.generator!r}; registered: {', '.join(sorted(GENERATORS))}",
        )
        check_config(
            self.discriminator in DISCRIMINATORS,
            f"unknown discriminator {self.discriminator!r}; registered: {', '.join(sorted(DISCRIMINATORS))}",
        )
        object.__setattr__(self, "patch_sizes", tuple(int(p) for p in self.patch_sizes))
        if self.discriminator == "patchgan":
            check_config(
                len(self.patch_sizes) == self.n_levels,
                f"give one patch size per level: {self.n_levels} levels but patch_sizes={self.patch_sizes}",
            )
            for size, patch in zip(self.level_sizes, self.patch_sizes, strict=True):
                check_config(4 <= patch <= size, f"patch size {patch} does not fit a {size} px level")

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

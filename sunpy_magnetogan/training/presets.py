"""
Named model + training configurations.

================== ======= ======== ================ ====================================
preset             levels  image    discriminators   what it is
================== ======= ======== ================ ====================================
paper              3       512 px   PatchGAN 64/32/16 the paper's full configuration
multilayer-patch64 3       512 px   PatchGAN 64 x 3  Table 1, third column
pix2pix-patch64    1       512 px   PatchGAN 64      Table 1, second column
pix2pix-imagegan   1       512 px   ImageGAN         Table 1, first column (Kim et al.)
compact            3       128 px   PatchGAN 16/8/8  small widths; trains on a CPU
default            3       512 px   PatchGAN 64/32/16 the shipped model: the paper's
                                                      pyramid at a quarter of its width,
                                                      predicting the radial field
pix2pix-compact    1       512 px   PatchGAN 64      single-scale baseline of ``default``
pix2pix-compact-   1       512 px   ImageGAN         the same with a whole-image
imagegan                                              discriminator (Kim et al. 2019 style)
================== ======= ======== ================ ====================================

The four paper configurations share the paper's U-Net generator (6 + 6 blocks, 64 first
filters, 4 x 4 kernels), its optimiser (Adam, 2e-4, betas 0.5/0.999), batch size 1, and
whole-image training; they differ only where Table 1 does. The paper trains for 100 000
iterations; ``lambda_l2`` is not stated there and is set to pix2pix's 100.
``compact`` keeps the paper's structure (three levels, U-Nets, PatchGANs whose patch is
half the coarsest level and shrinks with the finer levels) at a quarter of the resolution
and an eighth of the width, so that a few thousand steps run on a laptop CPU.
``default`` is the paper's pyramid (levels of 128, 256 and 512 px on the whole disk, PatchGANs
of 64, 32 and 16 px) with 16 first filters and at most 64 channels (1.9 M generator
parameters, 7.8 MB of float32 weights), trained for 4500 steps: the shipped default model.
Its ``lambda_l2`` is 2000: with the asinh target normalisation the mean squared error per
pixel is of order 1e-3, so pix2pix's 100 would leave the adversarial term dominant by an
order of magnitude; 2000 makes the two terms comparable. Unlike the paper, its generators
predict the radial field, which the model projects onto the line of sight
(``radial_output``, `~sunpy_magnetogan.nn.LineOfSightProjection`): a generator mapping
EUV brightness straight to ``B_los`` has to learn the centre-to-limb decline of a
line-of-sight magnetogram from the data, and at this budget it does not (v2 of the default
model gave 6 times too much flux, relative to disk centre, near the limb). They also work
in the even-cycle frame (``cycle_frame``, `~sunpy_magnetogan.solar_cycle.cycle_frame`):
the output is multiplied by the Hale-order sign of each pixel's latitude on the
observation date, so the model gives cycle-25 regions the cycle-25 polarity order.
``pix2pix-compact`` (and ``pix2pix-compact-imagegan``) is its single-scale baseline with
the same generator, output and training budget.
"""

import copy
from dataclasses import replace

from sunpy_magnetogan.exceptions import TrainingConfigError
from sunpy_magnetogan.training.config import ModelConfig, TrainConfig

__all__ = ["PRESETS", "get_preset"]


def _derive(base, **changes):
    """``base`` with ``changes``; its dicts are copied, so that no two presets share one."""
    return replace(copy.deepcopy(base), **changes)


def _single_scale(model, *, imagegan=False):
    """
    The single-level (pix2pix) baseline of a pyramid ``model``: its level-0 generator with
    a 64 px PatchGAN, or with ``imagegan`` a 6-layer whole-image discriminator.
    """
    changes = {"n_levels": 1, "patch_sizes": (64,)}
    if imagegan:
        changes.update(
            discriminator="imagegan",
            patch_sizes=(),
            discriminator_kwargs={**model.discriminator_kwargs, "n_layers": 6},
        )
    return _derive(model, **changes)


# The paper's configuration; every other preset is derived from it (or from ``default``),
# changing only the fields where it differs.
_PAPER_MODEL = ModelConfig(
    image_size=512,
    n_levels=3,
    generator="unet",
    generator_kwargs={"base_channels": 64, "depth": 6, "max_channels": 512},
    discriminator="patchgan",
    patch_sizes=(64, 32, 16),
    discriminator_kwargs={"base_channels": 64, "max_channels": 512},
)
_PAPER_TRAINING = TrainConfig(
    steps=100_000,
    batch_size=1,
    lr=2e-4,
    betas=(0.5, 0.999),
    lambda_l2=100.0,
    eval_every=1000,
    checkpoint_every=1000,
)
_COMPACT_TRAINING = replace(
    _PAPER_TRAINING,
    steps=2000,
    batch_size=4,
    eval_every=250,
    eval_max_pairs=16,
    checkpoint_every=250,
    log_every=10,
)
_DEFAULT_MODEL = _derive(
    _PAPER_MODEL,
    generator_kwargs={"base_channels": 16, "depth": 6, "max_channels": 64, "upsample": "resize"},
    discriminator_kwargs={"base_channels": 16, "max_channels": 64},
    radial_output=True,
    cycle_frame=True,
)
_DEFAULT_TRAINING = replace(_COMPACT_TRAINING, steps=4500, batch_size=1, lambda_l2=2000.0, eval_every=500)

#: Preset name -> (`ModelConfig`, `TrainConfig`).
PRESETS = {
    "paper": (_PAPER_MODEL, _PAPER_TRAINING),
    "multilayer-patch64": (_derive(_PAPER_MODEL, patch_sizes=(64, 64, 64)), _PAPER_TRAINING),
    "pix2pix-patch64": (_single_scale(_PAPER_MODEL), _PAPER_TRAINING),
    "pix2pix-imagegan": (_single_scale(_PAPER_MODEL, imagegan=True), _PAPER_TRAINING),
    "compact": (
        _derive(
            _PAPER_MODEL,
            image_size=128,
            generator_kwargs={"base_channels": 8, "depth": 4, "max_channels": 64, "upsample": "resize"},
            patch_sizes=(16, 8, 8),
            discriminator_kwargs={"base_channels": 8, "max_channels": 64},
        ),
        _COMPACT_TRAINING,
    ),
    "default": (_DEFAULT_MODEL, _DEFAULT_TRAINING),
    "pix2pix-compact": (_single_scale(_DEFAULT_MODEL), _DEFAULT_TRAINING),
    "pix2pix-compact-imagegan": (_single_scale(_DEFAULT_MODEL, imagegan=True), _DEFAULT_TRAINING),
}


def get_preset(name):
    """
    The configurations of a named preset.

    Parameters
    ----------
    name : str
        A key of `PRESETS`.

    Returns
    -------
    model : `~sunpy_magnetogan.training.ModelConfig`
    train : `~sunpy_magnetogan.training.TrainConfig`

    Raises
    ------
    TrainingConfigError
        For an unknown name.

    Examples
    --------
    >>> from sunpy_magnetogan.training import get_preset
    >>> model, train = get_preset("paper")
    >>> model.level_sizes, model.patch_sizes, train.lr
    ((128, 256, 512), (64, 32, 16), 0.0002)
    """
    try:
        model, train = PRESETS[name]
    except KeyError:
        raise TrainingConfigError(
            f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}"
        ) from None
    # Copies, so that changing a returned config's dicts never changes the preset.
    return copy.deepcopy(model), copy.deepcopy(train)

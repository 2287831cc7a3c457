"""
Networks of the pyramid conditional GAN: generators, discriminators, the pyramid, losses.

This sub-package depends on torch only (no sunpy or astropy), so that the networks can be
built, trained and exported in a lean environment. Images are ``(B, C, H, W)`` tensors:
EUV inputs and magnetogram outputs both in [-1, 1].

The paper's configuration, three levels of U-Net generators judged by PatchGANs of 64,
32 and 16 px on 128, 256 and 512 px images:

>>> import torch
>>> from sunpy_magnetogan.nn import build_pyramid, init_weights
>>> generator, discriminator = build_pyramid(3, patch_sizes=(64, 32, 16))
>>> _ = init_weights(generator), init_weights(discriminator)
>>> sum(p.numel() for p in generator.parameters()) > 10_000_000
True
"""

from sunpy_magnetogan.nn.blocks import ASPP, ConvBlock, DeconvBlock, ResidualBlock
from sunpy_magnetogan.nn.discriminators import (
    ImageGANDiscriminator,
    PatchGANDiscriminator,
    layout_receptive_field,
    patchgan_layout,
)
from sunpy_magnetogan.nn.fuse import fold_batchnorm, optimize_for_inference
from sunpy_magnetogan.nn.generators import AtrousGenerator, ResNetGenerator, UNetGenerator
from sunpy_magnetogan.nn.init import build_optimizer, init_weights
from sunpy_magnetogan.nn.losses import GANLoss, discriminator_loss, generator_loss, l2_loss
from sunpy_magnetogan.nn.projection import LineOfSightProjection, disk_mu
from sunpy_magnetogan.nn.pyramid import PyramidDiscriminator, PyramidGenerator, build_pyramid, image_pyramid
from sunpy_magnetogan.nn.receptive import receptive_field
from sunpy_magnetogan.nn.registry import (
    DISCRIMINATORS,
    GENERATORS,
    build_discriminator,
    build_generator,
    register_discriminator,
    register_generator,
)

__all__ = [
    "ASPP",
    "DISCRIMINATORS",
    "GENERATORS",
    "AtrousGenerator",
    "ConvBlock",
    "DeconvBlock",
    "GANLoss",
    "ImageGANDiscriminator",
    "LineOfSightProjection",
    "PatchGANDiscriminator",
    "PyramidDiscriminator",
    "PyramidGenerator",
    "ResNetGenerator",
    "ResidualBlock",
    "UNetGenerator",
    "build_discriminator",
    "build_generator",
    "build_optimizer",
    "build_pyramid",
    "discriminator_loss",
    "disk_mu",
    "fold_batchnorm",
    "generator_loss",
    "image_pyramid",
    "init_weights",
    "l2_loss",
    "layout_receptive_field",
    "optimize_for_inference",
    "patchgan_layout",
    "receptive_field",
    "register_discriminator",
    "register_generator",
]

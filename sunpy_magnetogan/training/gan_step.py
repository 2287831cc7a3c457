"""
The parts of one update of the pyramid GAN: the input and target pyramids of a batch, the
level-weighted losses of the discriminators and generators, and the optimiser step (with
the gradient scaler of float16 autocast).
"""

import torch
from torch import nn

from sunpy_magnetogan.nn import discriminator_loss, generator_loss, image_pyramid

__all__ = [
    "DiscriminatorStep",
    "batch_pyramids",
    "optimizer_step",
    "pyramid_discriminator_loss",
    "pyramid_generator_loss",
]


class DiscriminatorStep(nn.Module):
    """
    Real and generated pyramids through the discriminators in one forward call.

    `~torch.nn.parallel.DistributedDataParallel` expects one forward per backward; this
    wrapper makes the discriminator update exactly that.

    Parameters
    ----------
    discriminator : `~sunpy_magnetogan.nn.PyramidDiscriminator`
        The discriminators.
    """

    def __init__(self, discriminator):
        super().__init__()
        self.discriminator = discriminator

    def forward(self, inputs, real, fake):
        """The logits of the real and of the generated pyramids (lists, coarsest first)."""
        return self.discriminator(inputs, real), self.discriminator(inputs, fake)


def batch_pyramids(batch, device, n_levels, normalization, *, channels_last=False):
    """
    The input and target pyramids of a training batch, on the training device.

    Parameters
    ----------
    batch : dict
        ``euv`` and ``mag`` (Gauss), ``(B, 1, N, N)`` tensors (see
        `~sunpy_magnetogan.training.PairDataset`).
    device : torch.device
        The training device (the copies are asynchronous from pinned memory).
    n_levels : int
        Levels of the pyramid.
    normalization : `~sunpy_magnetogan.normalization.MagnetogramNormalization`
        Normalises the target magnetograms.
    channels_last : bool, optional
        Give the images the channels-last memory format.

    Returns
    -------
    euv : torch.Tensor
        The finest input, ``(B, 1, N, N)``.
    inputs, targets : list of torch.Tensor
        The EUV pyramid and the normalised magnetogram pyramid (block averages in Gauss,
        then normalised), coarsest first.
    """
    euv = batch["euv"].to(device, non_blocking=True)
    mag = batch["mag"].to(device, non_blocking=True)
    if channels_last:
        euv = euv.contiguous(memory_format=torch.channels_last)
        mag = mag.contiguous(memory_format=torch.channels_last)
    inputs = image_pyramid(euv, n_levels)
    targets = [normalization.forward(level) for level in image_pyramid(mag, n_levels)]
    return euv, inputs, targets


def pyramid_discriminator_loss(gan_loss, real_logits, fake_logits, level_weights):
    """
    The discriminators' loss over all levels.

    Parameters
    ----------
    gan_loss : `~sunpy_magnetogan.nn.GANLoss`
        The adversarial criterion.
    real_logits, fake_logits : list of torch.Tensor
        The logits of real and of generated (detached) pairs per level.
    level_weights : sequence of float
        Weight of each level.

    Returns
    -------
    torch.Tensor
        Scalar: the weighted sum of `~sunpy_magnetogan.nn.discriminator_loss` per level.
    """
    return sum(
        w * discriminator_loss(gan_loss, r, f)
        for w, r, f in zip(level_weights, real_logits, fake_logits, strict=True)
    )


def pyramid_generator_loss(gan_loss, logits, fakes, targets, level_weights, *, lambda_l2):
    """
    The generators' loss over all levels.

    Parameters
    ----------
    gan_loss : `~sunpy_magnetogan.nn.GANLoss`
        The adversarial criterion.
    logits : list of torch.Tensor
        The discriminators' logits of the generated pairs per level.
    fakes, targets : list of torch.Tensor
        Generated and target (normalised) magnetograms per level.
    level_weights : sequence of float
        Weight of each level.
    lambda_l2 : float
        Weight of the L2 term.

    Returns
    -------
    total : torch.Tensor
        Scalar: the weighted sum of `~sunpy_magnetogan.nn.generator_loss` per level.
    gan : torch.Tensor
        Scalar: the sum of the adversarial terms (unweighted).
    l2 : list of torch.Tensor
        The L2 term of each level.
    """
    total = 0.0
    gan_parts, l2_parts = [], []
    for w, lg, fake, target in zip(level_weights, logits, fakes, targets, strict=True):
        level_total, parts = generator_loss(gan_loss, lg, fake.float(), target, lambda_l2=lambda_l2)
        total = total + w * level_total
        gan_parts.append(parts["gan"])
        l2_parts.append(parts["l2"])
    return total, sum(gan_parts), l2_parts


def optimizer_step(loss, optimizer, scaler=None):
    """
    Back-propagate ``loss`` and step ``optimizer`` (through ``scaler`` when given).

    Parameters
    ----------
    loss : torch.Tensor
        Scalar.
    optimizer : torch.optim.Optimizer
        Its gradients are reset first.
    scaler : torch.amp.GradScaler, optional
        The gradient scaler of float16 autocast (its ``update`` is the caller's).
    """
    optimizer.zero_grad(set_to_none=True)
    if scaler is not None:
        scaler.scale(loss).backward()
        scaler.step(optimizer)
    else:
        loss.backward()
        optimizer.step()

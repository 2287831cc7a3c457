"""
The paper's training objective: conditional GAN loss + lambda * L2 (its equations 6-8).

For every pyramid level m, the discriminator minimises
``BCE(D_m(x_m, y_m), 1) + BCE(D_m(x_m, y~_m), 0)`` (halved, as in pix2pix) and the
generator minimises ``BCE(D_m(x_m, y~_m), 1) + lambda * mean((y~_m - y_m)**2)``.
The sigmoid of the paper's discriminators is folded into the loss
(`~torch.nn.functional.binary_cross_entropy_with_logits`), which is the same function
but numerically stable and safe under mixed precision.
"""

import torch
from torch import nn
from torch.nn import functional as F

__all__ = ["GANLoss", "discriminator_loss", "generator_loss", "l2_loss"]

_MODES = ("vanilla", "lsgan")


class GANLoss(nn.Module):
    """
    Adversarial loss with the target labels kept in registered buffers.

    The labels follow the module across devices and dtypes (``.to()``) and are
    broadcast to the shape of the logits, so it works for PatchGAN maps
    ``(B, 1, H', W')`` and ImageGAN logits ``(B, 1, 1, 1)`` alike.

    Parameters
    ----------
    mode : {"vanilla", "lsgan"}, optional
        ``"vanilla"``: binary cross-entropy on logits (the paper's); ``"lsgan"``: mean
        squared error to the labels.
    real_label, fake_label : float, optional
        Targets of real and generated samples (label smoothing: e.g. 0.9 for real).

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import GANLoss
    >>> loss = GANLoss()
    >>> round(float(loss(torch.zeros(2, 1, 4, 4), True)), 4)  # log(2)
    0.6931
    """

    def __init__(self, mode="vanilla", *, real_label=1.0, fake_label=0.0):
        super().__init__()
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")
        self.mode = mode
        self.register_buffer("real_label", torch.tensor(float(real_label)))
        self.register_buffer("fake_label", torch.tensor(float(fake_label)))

    def forward(self, logits, target_is_real):
        """
        Parameters
        ----------
        logits : torch.Tensor
            Discriminator output, any shape (e.g. ``(B, 1, H', W')``).
        target_is_real : bool
            Whether the samples should be judged real.

        Returns
        -------
        torch.Tensor
            Scalar loss, averaged over all logits.
        """
        label = self.real_label if target_is_real else self.fake_label
        target = label.to(dtype=logits.dtype).expand_as(logits)
        if self.mode == "vanilla":
            return F.binary_cross_entropy_with_logits(logits, target)
        return F.mse_loss(logits, target)


def l2_loss(prediction, target, mask=None):
    """
    Mean squared error (the paper's L_l2, its equation 7).

    Parameters
    ----------
    prediction, target : torch.Tensor
        Same shape, e.g. ``(B, 1, H, W)`` normalised magnetograms.
    mask : torch.Tensor, optional
        Boolean or 0/1 weights broadcastable to the inputs; the mean is taken over the
        selected pixels only.

    Returns
    -------
    torch.Tensor
        Scalar.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import l2_loss
    >>> prediction, target = torch.tensor([[0.0, 1.0], [2.0, 0.0]]), torch.zeros(2, 2)
    >>> float(l2_loss(prediction, target)), float(l2_loss(prediction, target, torch.tensor([[1, 1], [0, 0]])))
    (1.25, 0.5)
    """
    squared = (prediction - target) ** 2
    if mask is None:
        return squared.mean()
    weights = mask.to(squared.dtype).expand_as(squared)
    return (squared * weights).sum() / weights.sum().clamp_min(1.0)


def discriminator_loss(gan_loss, real_logits, fake_logits):
    """
    Discriminator loss of one level: ``0.5 * (GAN(real, 1) + GAN(fake, 0))``.

    Parameters
    ----------
    gan_loss : GANLoss
        The adversarial criterion.
    real_logits, fake_logits : torch.Tensor
        ``D(x, y)`` and ``D(x, y~)`` with ``y~`` detached from the generator.

    Returns
    -------
    torch.Tensor
        Scalar.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import GANLoss, discriminator_loss
    >>> confident = discriminator_loss(GANLoss(), torch.full((1, 1, 4, 4), 10.0), torch.full((1, 1, 4, 4), -10.0))
    >>> undecided = discriminator_loss(GANLoss(), torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 4))
    >>> round(float(confident), 4), round(float(undecided), 4)  # 0 and log(2)
    (0.0, 0.6931)
    """
    return 0.5 * (gan_loss(real_logits, True) + gan_loss(fake_logits, False))


def generator_loss(gan_loss, fake_logits, prediction, target, *, lambda_l2=100.0, mask=None):
    """
    Generator loss of one level: ``GAN(D(x, y~), 1) + lambda * L2(y~, y)``.

    Parameters
    ----------
    gan_loss : GANLoss
        The adversarial criterion.
    fake_logits : torch.Tensor
        ``D(x, y~)`` with gradients flowing into the generator.
    prediction, target : torch.Tensor
        ``y~`` and ``y``, ``(B, 1, H, W)``.
    lambda_l2 : float, optional
        Weight of the L2 term (the paper's lambda).
    mask : torch.Tensor, optional
        Pixels that count in the L2 term (see `l2_loss`).

    Returns
    -------
    total : torch.Tensor
        Scalar loss.
    parts : dict
        ``{"gan": ..., "l2": ...}``, detached scalars for logging.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import GANLoss, generator_loss
    >>> target = torch.zeros(1, 1, 8, 8)
    >>> total, parts = generator_loss(GANLoss(), torch.zeros(1, 1, 2, 2), target + 0.1, target, lambda_l2=100.0)
    >>> round(float(parts["gan"]), 4), round(float(parts["l2"]), 4), round(float(total), 4)
    (0.6931, 0.01, 1.6931)
    """
    adversarial = gan_loss(fake_logits, True)
    reconstruction = l2_loss(prediction, target, mask)
    total = adversarial + lambda_l2 * reconstruction
    return total, {"gan": adversarial.detach(), "l2": reconstruction.detach()}

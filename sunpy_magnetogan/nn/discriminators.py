"""
Conditional discriminators: PatchGAN with a configurable patch size, and ImageGAN.

Both take the concatenation of the EUV image and a (real or generated) magnetogram,
``(B, 2, H, W)``, and return logits (no sigmoid: `~sunpy_magnetogan.nn.GANLoss` applies
it inside a numerically stable BCE):

* ``"patchgan"`` - `PatchGANDiscriminator`: a fully convolutional stack whose every output
  pixel judges one ``patch_size x patch_size`` patch of the input (its receptive field
  is exactly ``patch_size``), ``(B, 1, H', W')``. The paper uses 64, 32 and 16 px patches
  for D0, D1 and D2 on its 128, 256 and 512 px levels.
* ``"imagegan"`` - `ImageGANDiscriminator`: one logit per image ``(B, 1, 1, 1)``, from
  global average pooling of a convolutional stack (the whole-image baseline).
"""

import math

from torch import nn

from sunpy_magnetogan.nn.blocks import ConvBlock
from sunpy_magnetogan.nn.registry import register_discriminator

__all__ = ["ImageGANDiscriminator", "PatchGANDiscriminator", "layout_receptive_field", "patchgan_layout"]


def patchgan_layout(patch_size, *, n_downsampling=None):
    """
    The convolution stack whose receptive field is exactly ``patch_size`` pixels.

    The stack is pix2pix's: ``n`` 4 x 4 stride-2 convolutions, then stride-1 4 x 4
    convolutions, then a stride-1 output convolution. The receptive field of such a chain
    is ``1 + sum((k_i - 1) * j_i)`` with ``j_i`` the product of the strides before layer
    ``i``; 4 x 4 kernels alone cannot reach every size (a power of two, for instance), so
    an optional stride-1 "stem" convolution at full resolution absorbs the remainder modulo
    ``2**n`` and the output kernel the rest.

    Parameters
    ----------
    patch_size : int
        Wanted receptive field in input pixels (>= 4).
    n_downsampling : int, optional
        Number of stride-2 convolutions; by default ``floor(log2(patch_size / 8))`` (at
        least 0), which gives pix2pix's three for a 70 px patch.

    Returns
    -------
    list of tuple
        ``(kernel_size, stride)`` per convolution, input to output. The last one is the
        output convolution.

    Examples
    --------
    >>> from sunpy_magnetogan.nn import patchgan_layout
    >>> patchgan_layout(70)  # pix2pix's 70 x 70 PatchGAN
    [(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)]
    >>> patchgan_layout(64)
    [(3, 1), (4, 2), (4, 2), (4, 2), (4, 1), (3, 1)]
    """
    patch_size = int(patch_size)
    if patch_size < 4:
        raise ValueError(f"patch_size must be at least 4 pixels, got {patch_size}")
    if n_downsampling is None:
        n_downsampling = max(0, math.floor(math.log2(patch_size / 8)))
    jump = 2**n_downsampling
    # Receptive field without stem and output layer: 1 + 3 * (1 + 2 + ... + 2**(n-1)).
    remainder = patch_size - 1 - 3 * (jump - 1)
    if remainder < 0:
        raise ValueError(
            f"n_downsampling={n_downsampling} gives a receptive field above {patch_size} px; use fewer"
        )
    stem_kernel = 1 + remainder % jump
    steps = remainder // jump  # sum of (k - 1) over the stride-1 layers after the downsampling
    n_plain = max(0, (steps - 1) // 3)
    final_kernel = steps - 3 * n_plain + 1
    layout = [(stem_kernel, 1)] if stem_kernel > 1 else []
    layout += [(4, 2)] * n_downsampling + [(4, 1)] * n_plain + [(final_kernel, 1)]
    return layout


def layout_receptive_field(layout):
    """
    Receptive field of a chain of convolutions.

    Parameters
    ----------
    layout : sequence of tuple
        ``(kernel_size, stride)`` or ``(kernel_size, stride, dilation)`` per layer, input
        to output.

    Returns
    -------
    int
        The receptive field of one output pixel, in input pixels.

    Examples
    --------
    >>> from sunpy_magnetogan.nn import layout_receptive_field, patchgan_layout
    >>> layout_receptive_field([(4, 2), (4, 2), (4, 2), (4, 1), (4, 1)])  # pix2pix's 70 px PatchGAN
    70
    >>> layout_receptive_field(patchgan_layout(16))
    16
    """
    field, jump = 1, 1
    for layer in layout:
        kernel, stride = layer[0], layer[1]
        dilation = layer[2] if len(layer) > 2 else 1
        field += (kernel - 1) * dilation * jump
        jump *= stride
    return field


@register_discriminator("patchgan")
class PatchGANDiscriminator(nn.Module):
    """
    PatchGAN (Markovian) discriminator with an exact, configurable patch size.

    Conv blocks (conv-BN-LeakyReLU 0.2, no norm on the first one) laid out by
    `patchgan_layout`, with ``base_channels`` filters doubling per layer up to
    ``max_channels``, and a 1-channel output convolution. Every output pixel is the logit
    of "this ``patch_size`` px patch of the (EUV, magnetogram) pair is real".

    Parameters
    ----------
    in_channels : int, optional
        Channels of the input: 2 for concat(EUV, magnetogram).
    patch_size : int, optional
        Receptive field of one output pixel, in input pixels (64, 32, 16 for the paper's
        D0, D1, D2).
    base_channels : int, optional
        Filters of the first convolution (64 in the paper).
    max_channels : int, optional
        Cap on the number of filters.
    n_downsampling : int, optional
        Number of stride-2 convolutions (see `patchgan_layout`).
    norm : {"batch", "instance", "none"}, optional
        Normalisation of the inner blocks. Batch norm (the paper's) keeps outputs local in
        eval mode; instance norm mixes the whole image into every output.

    Attributes
    ----------
    layout : list of tuple
        ``(kernel_size, stride)`` of each convolution.
    receptive_field : int
        Equal to ``patch_size`` by construction (and measured so in the tests with
        `~sunpy_magnetogan.nn.receptive_field`).

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import PatchGANDiscriminator
    >>> d = PatchGANDiscriminator(patch_size=16, base_channels=8)
    >>> d.receptive_field, d(torch.zeros(1, 2, 64, 64)).shape
    (16, torch.Size([1, 1, 30, 30]))
    """

    def __init__(
        self,
        in_channels=2,
        *,
        patch_size=64,
        base_channels=64,
        max_channels=512,
        n_downsampling=None,
        norm="batch",
    ):
        super().__init__()
        self.in_channels = in_channels
        self.patch_size = int(patch_size)
        self.layout = patchgan_layout(patch_size, n_downsampling=n_downsampling)
        self.receptive_field = layout_receptive_field(self.layout)
        layers = []
        previous = in_channels
        for i, (kernel, stride) in enumerate(self.layout[:-1]):
            width = min(base_channels * 2**i, max_channels)
            padding = 1 if stride == 2 else (kernel - 1) // 2
            layers.append(
                ConvBlock(
                    previous,
                    width,
                    kernel,
                    stride,
                    padding,
                    norm="none" if i == 0 else norm,
                    activation="leaky_relu",
                )
            )
            previous = width
        kernel, _ = self.layout[-1]
        layers.append(nn.Conv2d(previous, 1, kernel, stride=1, padding=(kernel - 1) // 2))
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        """
        Parameters
        ----------
        x : torch.Tensor
            ``(B, in_channels, H, W)``: concat(EUV, magnetogram) of one pyramid level.

        Returns
        -------
        torch.Tensor
            Logits ``(B, 1, H', W')``, one per overlapping ``patch_size`` patch
            (``H' ~ H / 2**n_downsampling``).
        """
        return self.model(x)


@register_discriminator("imagegan")
class ImageGANDiscriminator(nn.Module):
    """
    Whole-image discriminator (the "ImageGAN" baseline of the paper's Table 1).

    ``n_layers`` 4 x 4 stride-2 conv blocks (conv-BN-LeakyReLU; none on the first and
    last so that a 1-pixel map of a batch of one still works), global average pooling and
    a 1 x 1 output convolution: one logit per image, which therefore depends on every
    input pixel.

    Parameters
    ----------
    in_channels : int, optional
        Channels of the input: 2 for concat(EUV, magnetogram).
    base_channels : int, optional
        Filters of the first convolution; they double per layer up to ``max_channels``.
    n_layers : int, optional
        Number of stride-2 conv blocks (the input size should be at least
        ``2**n_layers``).
    max_channels : int, optional
        Cap on the number of filters.
    norm : {"batch", "instance", "none"}, optional
        Normalisation of the inner blocks.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import ImageGANDiscriminator
    >>> ImageGANDiscriminator(base_channels=8, n_layers=4)(torch.zeros(3, 2, 32, 32)).shape
    torch.Size([3, 1, 1, 1])
    """

    def __init__(self, in_channels=2, *, base_channels=64, n_layers=6, max_channels=512, norm="batch"):
        super().__init__()
        if n_layers < 1:
            raise ValueError(f"n_layers must be at least 1, got {n_layers}")
        self.in_channels = in_channels
        layers = []
        previous = in_channels
        for i in range(n_layers):
            width = min(base_channels * 2**i, max_channels)
            block_norm = "none" if i in (0, n_layers - 1) else norm
            layers.append(ConvBlock(previous, width, 4, 2, 1, norm=block_norm, activation="leaky_relu"))
            previous = width
        layers += [nn.AdaptiveAvgPool2d(1), nn.Conv2d(previous, 1, 1)]
        self.model = nn.Sequential(*layers)

    def forward(self, x):
        """
        Parameters
        ----------
        x : torch.Tensor
            ``(B, in_channels, H, W)``.

        Returns
        -------
        torch.Tensor
            Logits ``(B, 1, 1, 1)``.
        """
        return self.model(x)

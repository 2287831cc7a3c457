"""
The generator architectures compared in the paper (its Table 2).

All map an image ``(B, in_channels, H, W)`` to ``(B, out_channels, H, W)`` in [-1, 1]
(tanh output) and are registered by name for `~sunpy_magnetogan.nn.build_generator`:

* ``"unet"`` - `UNetGenerator`, the paper's choice: 6 convolution blocks
  (conv-BN-LeakyReLU) down, 6 transposed-convolution blocks (deconv-BN-ReLU) up with skip
  connections, 64 first filters, 4 x 4 kernels.
* ``"resnet"`` - `ResNetGenerator`, the paper's "simplified ResNet": one encoder block,
  five residual blocks with instance norm, one decoder block.
* ``"atrous"`` - `AtrousGenerator`, an encoder-decoder with atrous convolutions and
  atrous spatial pyramid pooling (DeepLab v3+ layout).

A generator of pyramid level m > 0 takes 2 input channels (the EUV image of its level and
the upsampled output of the level below); level 0 takes 1.
"""

import itertools

import torch
from torch import nn
from torch.nn import functional as F

from sunpy_magnetogan.nn.blocks import ASPP, ConvBlock, DeconvBlock, ResidualBlock, make_activation
from sunpy_magnetogan.nn.registry import register_generator

__all__ = ["AtrousGenerator", "ResNetGenerator", "UNetGenerator"]


def _widths(base_channels, count, max_channels):
    return [min(base_channels * 2**i, max_channels) for i in range(count)]


class _Generator(nn.Module):
    """
    What the generators share: their channel counts, and an input whose height and width
    must be multiples of ``2**halvings`` for their ``halvings`` stride-2 stages.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and output.
    halvings : int
        Number of stride-2 stages; at least ``minimum``.
    minimum : int
        The fewest stages the architecture works with.
    parameter : str
        Name of the constructor parameter that sets ``halvings``, for the error message.
    label : str
        What the generator is called in the error message of a wrongly sized input.
    """

    def __init__(self, in_channels, out_channels, *, halvings, minimum, parameter, label):
        super().__init__()
        if halvings < minimum:
            raise ValueError(f"{parameter} must be at least {minimum}, got {halvings}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self._input_multiple = 2**halvings
        self._label = label

    def forward(self, x):
        """
        Parameters
        ----------
        x : torch.Tensor
            ``(B, in_channels, H, W)``, H and W multiples of ``2**depth`` (U-Net) or
            ``2**n_downsampling`` (the others).

        Returns
        -------
        torch.Tensor
            ``(B, out_channels, H, W)`` in [-1, 1].
        """
        height, width = x.shape[-2:]
        factor = self._input_multiple
        if height % factor or width % factor:
            raise ValueError(
                f"{self._label} needs an input whose height and width are multiples of {factor}, "
                f"got {height} x {width}"
            )
        return self._generate(x)


@register_generator("unet")
class UNetGenerator(_Generator):
    """
    U-Net generator (pix2pix layout, as used in the paper).

    ``depth`` stride-2 4 x 4 convolution blocks (conv-BN-LeakyReLU 0.2) halve the image
    down to ``H / 2**depth``; ``depth`` stride-2 4 x 4 transposed convolution blocks
    (deconv-BN-ReLU) double it back, each (except the last) followed by concatenation
    with the encoder features of the same size. The last block ends with ``tanh``.
    As in pix2pix, the outermost and innermost convolutions carry no normalisation (the
    innermost one may be 1 x 1 pixels, where batch statistics of a batch of one are
    undefined).

    Parameters
    ----------
    in_channels : int, optional
        Channels of the input: 1 for pyramid level 0, 2 above it.
    out_channels : int, optional
        Channels of the output.
    base_channels : int, optional
        Filters of the first convolution (64 in the paper); they double per level up to
        ``max_channels``.
    depth : int, optional
        Number of down (and up) blocks; 6 in the paper. The input size must be a multiple
        of ``2**depth`` (a 512 px image has an 8 px bottleneck, a 128 px one 2 px).
    max_channels : int, optional
        Cap on the number of filters.
    norm : {"batch", "instance", "none"}, optional
        Normalisation of the inner blocks.
    dropout : float, optional
        Dropout probability in the three innermost decoder blocks (pix2pix uses 0.5 as a
        noise source; the default 0 makes the generator deterministic).
    upsample : {"transpose", "resize"}, optional
        Upsampling of the decoder blocks: transposed convolutions (the paper's, which
        leave a checkerboard at 2 and 4 px periods) or resize-convolutions (nearest
        upsampling + 3 x 3 convolution, checkerboard-free); see
        `~sunpy_magnetogan.nn.blocks.DeconvBlock`.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import UNetGenerator
    >>> net = UNetGenerator(base_channels=8, depth=4)
    >>> net(torch.zeros(2, 1, 32, 32)).shape
    torch.Size([2, 1, 32, 32])
    """

    def __init__(
        self,
        in_channels=1,
        out_channels=1,
        *,
        base_channels=64,
        depth=6,
        max_channels=512,
        norm="batch",
        dropout=0.0,
        upsample="transpose",
    ):
        super().__init__(
            in_channels,
            out_channels,
            halvings=depth,
            minimum=1,
            parameter="depth",
            label=f"a U-Net of depth {depth}",
        )
        self.depth = depth
        widths = _widths(base_channels, depth, max_channels)
        self.encoder = nn.ModuleList()
        previous = in_channels
        for i, width in enumerate(widths):
            block_norm = "none" if i in (0, depth - 1) else norm
            self.encoder.append(ConvBlock(previous, width, 4, 2, 1, norm=block_norm, activation="leaky_relu"))
            previous = width
        self.decoder = nn.ModuleList()
        for i in range(depth - 1, 0, -1):
            # Input: the bottleneck (innermost) or the previous decoder output + its skip.
            block_in = widths[i] if i == depth - 1 else widths[i] * 2
            layers = [DeconvBlock(block_in, widths[i - 1], norm=norm, activation="relu", upsample=upsample)]
            if dropout > 0 and i >= depth - 3:
                layers.append(nn.Dropout(dropout))
            self.decoder.append(nn.Sequential(*layers))
        head_in = widths[0] * 2 if depth > 1 else widths[0]
        self.head = DeconvBlock(head_in, out_channels, norm="none", activation="tanh", upsample=upsample)

    def _generate(self, x):
        skips = []
        h = x
        for block in self.encoder:
            h = block(h)
            skips.append(h)
        h = skips.pop()
        for block in self.decoder:
            h = torch.cat([block(h), skips.pop()], dim=1)
        return self.head(h)


@register_generator("resnet")
class ResNetGenerator(_Generator):
    """
    The paper's simplified ResNet generator.

    ``n_downsampling`` encoder blocks (4 x 4 stride-2 conv, instance norm, ReLU), then
    ``n_blocks`` residual blocks (conv-IN-ReLU-conv-IN plus the identity), then
    ``n_downsampling`` decoder blocks (4 x 4 stride-2 transposed conv, IN, ReLU) and a
    3 x 3 output convolution with ``tanh``. With the defaults (one encoder block, five
    residual blocks, one decoder block) this is the configuration of the paper's Table 2.

    Parameters
    ----------
    in_channels, out_channels : int, optional
        Channels of the input and output.
    base_channels : int, optional
        Filters of the first encoder block; they double with each further encoder block.
    n_blocks : int, optional
        Number of residual blocks.
    n_downsampling : int, optional
        Number of encoder (and decoder) blocks; the input size must be a multiple of
        ``2**n_downsampling`` (and, to train, at least twice that: instance norm needs more
        than one pixel).
    max_channels : int, optional
        Cap on the number of filters.
    norm : {"instance", "batch", "none"}, optional
        Normalisation of every block.
    dropout : float, optional
        Dropout inside the residual blocks.
    upsample : {"transpose", "resize"}, optional
        Upsampling of the decoder blocks, as in `UNetGenerator`.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import ResNetGenerator
    >>> ResNetGenerator(2, base_channels=8)(torch.zeros(1, 2, 16, 16)).shape
    torch.Size([1, 1, 16, 16])
    """

    def __init__(
        self,
        in_channels=1,
        out_channels=1,
        *,
        base_channels=64,
        n_blocks=5,
        n_downsampling=1,
        max_channels=512,
        norm="instance",
        dropout=0.0,
        upsample="transpose",
    ):
        super().__init__(
            in_channels,
            out_channels,
            halvings=n_downsampling,
            minimum=1,
            parameter="n_downsampling",
            label="this ResNet generator",
        )
        self.n_downsampling = n_downsampling
        widths = _widths(base_channels, n_downsampling, max_channels)
        encoder = []
        previous = in_channels
        for width in widths:
            encoder.append(ConvBlock(previous, width, 4, 2, 1, norm=norm, activation="relu"))
            previous = width
        self.encoder = nn.Sequential(*encoder)
        self.blocks = nn.Sequential(
            *(ResidualBlock(previous, norm=norm, dropout=dropout) for _ in range(n_blocks))
        )
        decoder = []
        for i in range(n_downsampling - 1, -1, -1):
            width = widths[i - 1] if i > 0 else widths[0]
            decoder.append(DeconvBlock(previous, width, norm=norm, activation="relu", upsample=upsample))
            previous = width
        self.decoder = nn.Sequential(*decoder)
        self.head = nn.Sequential(
            nn.Conv2d(previous, out_channels, 3, padding=1, padding_mode="reflect"), make_activation("tanh")
        )

    def _generate(self, x):
        return self.head(self.decoder(self.blocks(self.encoder(x))))


@register_generator("atrous")
class AtrousGenerator(_Generator):
    """
    Encoder-decoder with atrous convolution and spatial pyramid pooling (DeepLab v3+).

    The encoder halves the image ``n_downsampling`` times with 4 x 4 stride-2 conv blocks;
    an `~sunpy_magnetogan.nn.blocks.ASPP` module gathers context at several atrous rates
    on the coarsest features. The decoder upsamples that (bilinear) to the resolution of
    the first encoder block, concatenates the 1 x 1-projected low-level features found
    there, refines with two 3 x 3 conv blocks, and a 4 x 4 transposed convolution with
    ``tanh`` returns to full resolution.

    Parameters
    ----------
    in_channels, out_channels : int, optional
        Channels of the input and output.
    base_channels : int, optional
        Filters of the first encoder block; they double with each further block.
    n_downsampling : int, optional
        Number of encoder blocks (>= 2); the input size must be a multiple of
        ``2**n_downsampling`` (and, to train with a batch of one, at least twice that, so
        that the normalised ASPP features have more than one pixel).
    rates : sequence of int, optional
        Atrous rates of the ASPP branches, in pixels of the coarsest feature map.
    aspp_channels : int, optional
        Width of the ASPP branches (default: the width of the coarsest features).
    max_channels : int, optional
        Cap on the number of filters.
    norm : {"batch", "instance", "none"}, optional
        Normalisation of the blocks.
    upsample : {"transpose", "resize"}, optional
        Upsampling of the last block, as in `UNetGenerator`.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import AtrousGenerator
    >>> AtrousGenerator(base_channels=8)(torch.zeros(1, 1, 32, 32)).shape
    torch.Size([1, 1, 32, 32])
    """

    def __init__(
        self,
        in_channels=1,
        out_channels=1,
        *,
        base_channels=64,
        n_downsampling=4,
        rates=(2, 4, 6),
        aspp_channels=None,
        max_channels=512,
        norm="batch",
        upsample="transpose",
    ):
        super().__init__(
            in_channels,
            out_channels,
            halvings=n_downsampling,
            minimum=2,
            parameter="n_downsampling",
            label="this atrous generator",
        )
        self.n_downsampling = n_downsampling
        widths = _widths(base_channels, n_downsampling, max_channels)
        self.low_level = ConvBlock(in_channels, widths[0], 4, 2, 1, norm="none", activation="leaky_relu")
        deep = []
        for previous, width in itertools.pairwise(widths):
            deep.append(ConvBlock(previous, width, 4, 2, 1, norm=norm, activation="leaky_relu"))
        self.deep = nn.Sequential(*deep)
        aspp_channels = aspp_channels or widths[-1]
        self.aspp = ASPP(widths[-1], aspp_channels, rates=tuple(rates), norm=norm)
        skip_channels = max(widths[0] // 2, 4)
        self.skip = ConvBlock(widths[0], skip_channels, 1, 1, 0, norm=norm, activation="relu")
        self.refine = nn.Sequential(
            ConvBlock(aspp_channels + skip_channels, widths[0], 3, 1, norm=norm, activation="relu"),
            ConvBlock(widths[0], widths[0], 3, 1, norm=norm, activation="relu"),
        )
        self.head = DeconvBlock(widths[0], out_channels, norm="none", activation="tanh", upsample=upsample)

    def _generate(self, x):
        low = self.low_level(x)
        context = self.aspp(self.deep(low))
        context = F.interpolate(context, size=low.shape[-2:], mode="bilinear", align_corners=False)
        return self.head(self.refine(torch.cat([context, self.skip(low)], dim=1)))

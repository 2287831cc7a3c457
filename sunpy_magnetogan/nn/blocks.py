"""
Building blocks shared by the generators and discriminators.

Every block is a plain `torch.nn.Sequential` (or a small module around one) of
convolution -> normalisation -> activation, so that a later pass can fold batch-norm into
the preceding convolution and so that ``channels_last`` and ``torch.inference_mode`` work
without special cases. Tensors are ``(B, C, H, W)`` throughout.
"""

import torch
from torch import nn

__all__ = [
    "ASPP",
    "UPSAMPLE_MODES",
    "ConvBlock",
    "DeconvBlock",
    "ResidualBlock",
    "make_activation",
    "make_norm",
]

#: Upsampling kinds of `DeconvBlock` (and of every generator's decoder).
UPSAMPLE_MODES = ("transpose", "resize")

_NORMS = ("batch", "instance", "none")
_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "none")


def make_norm(kind, channels):
    """
    A 2-D normalisation layer by name.

    Parameters
    ----------
    kind : {"batch", "instance", "none"}
        `~torch.nn.BatchNorm2d` (affine, running statistics), `~torch.nn.InstanceNorm2d`
        (affine, no running statistics, as in pix2pix/CycleGAN) or identity.
    channels : int
        Number of channels C of the ``(B, C, H, W)`` input.

    Returns
    -------
    torch.nn.Module
    """
    if kind == "batch":
        return nn.BatchNorm2d(channels)
    if kind == "instance":
        return nn.InstanceNorm2d(channels, affine=True)
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"norm must be one of {_NORMS}, got {kind!r}")


def make_activation(kind, *, negative_slope=0.2):
    """
    An activation layer by name.

    Parameters
    ----------
    kind : {"relu", "leaky_relu", "tanh", "none"}
        The activation.
    negative_slope : float, optional
        Slope of `~torch.nn.LeakyReLU` for negative inputs (0.2 as in pix2pix).

    Returns
    -------
    torch.nn.Module
    """
    if kind == "relu":
        return nn.ReLU(inplace=True)
    if kind == "leaky_relu":
        return nn.LeakyReLU(negative_slope, inplace=True)
    if kind == "tanh":
        return nn.Tanh()
    if kind == "none":
        return nn.Identity()
    raise ValueError(f"activation must be one of {_ACTIVATIONS}, got {kind!r}")


class ConvBlock(nn.Sequential):
    """
    Convolution -> normalisation -> activation.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the ``(B, C_in, H, W)`` input and of the output.
    kernel_size : int, optional
        Square kernel size in pixels.
    stride : int, optional
        Stride; the output is ``(B, C_out, H', W')`` with
        ``H' = floor((H + 2 * padding - dilation * (kernel_size - 1) - 1) / stride) + 1``.
    padding : int, optional
        Zero padding on each side; by default ``(kernel_size - 1) // 2 * dilation`` for
        ``stride=1`` (size-preserving for odd kernels) and 1 for a 4 x 4 stride-2 kernel
        (exact halving).
    dilation : int, optional
        Dilation (atrous rate) of the kernel.
    norm : {"batch", "instance", "none"}, optional
        Normalisation after the convolution; the convolution has a bias only without one.
    activation : {"relu", "leaky_relu", "tanh", "none"}, optional
        Activation at the end.
    padding_mode : str, optional
        As for `~torch.nn.Conv2d` (``"zeros"``, ``"reflect"``, ...).

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import ConvBlock
    >>> ConvBlock(1, 8)(torch.zeros(2, 1, 32, 32)).shape  # 4 x 4, stride 2: half the size
    torch.Size([2, 8, 16, 16])
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size=4,
        stride=2,
        padding=None,
        *,
        dilation=1,
        norm="batch",
        activation="leaky_relu",
        padding_mode="zeros",
    ):
        if padding is None:
            padding = (
                (kernel_size - stride + 1) // 2 * dilation
                if stride > 1
                else (kernel_size - 1) // 2 * dilation
            )
        conv = nn.Conv2d(
            in_channels,
            out_channels,
            kernel_size,
            stride=stride,
            padding=padding,
            dilation=dilation,
            bias=norm == "none",
            padding_mode=padding_mode,
        )
        super().__init__(conv, make_norm(norm, out_channels), make_activation(activation))


class DeconvBlock(nn.Sequential):
    """
    Upsampling convolution (x2 by default) -> normalisation -> activation.

    Two kinds of upsampling:

    ``"transpose"``
        A transposed convolution (pix2pix): a 4 x 4 kernel with stride 2 and padding 1
        maps ``(B, C_in, H, W)`` to ``(B, C_out, 2 H, 2 W)`` exactly. Its kernel overlaps
        itself unevenly from one output pixel to the next, which imprints a checkerboard
        at 2 and 4 px periods on what a trained network generates (Odena, Dumoulin & Olah
        2016, "Deconvolution and checkerboard artifacts", Distill).
    ``"resize"``
        Resize-convolution, the remedy of the same authors: nearest-neighbour
        upsampling by ``stride`` followed by a 3 x 3 convolution (reflect padding) at the
        new size. Every output pixel sees the same number of input pixels, so no period
        is favoured. ``kernel_size`` and ``padding`` are not used.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and output.
    kernel_size, stride, padding : int, optional
        Of the `~torch.nn.ConvTranspose2d`; the defaults double the size. With
        ``upsample="resize"`` only ``stride`` (the upsampling factor) is used.
    norm : {"batch", "instance", "none"}, optional
        Normalisation after the convolution.
    activation : {"relu", "leaky_relu", "tanh", "none"}, optional
        Activation at the end.
    upsample : {"transpose", "resize"}, optional
        How the block upsamples (see above). The default keeps the layout of the
        transposed-convolution checkpoints.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import DeconvBlock
    >>> DeconvBlock(8, 4)(torch.zeros(2, 8, 16, 16)).shape
    torch.Size([2, 4, 32, 32])
    >>> DeconvBlock(8, 4, upsample="resize")(torch.zeros(2, 8, 16, 16)).shape
    torch.Size([2, 4, 32, 32])
    """

    def __init__(
        self,
        in_channels,
        out_channels,
        kernel_size=4,
        stride=2,
        padding=1,
        *,
        norm="batch",
        activation="relu",
        upsample="transpose",
    ):
        bias = norm == "none"
        if upsample == "transpose":
            layers = [
                nn.ConvTranspose2d(
                    in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias
                )
            ]
        elif upsample == "resize":
            layers = [
                nn.Upsample(scale_factor=stride, mode="nearest"),
                nn.Conv2d(in_channels, out_channels, 3, padding=1, padding_mode="reflect", bias=bias),
            ]
        else:
            raise ValueError(f"upsample must be one of {UPSAMPLE_MODES}, got {upsample!r}")
        super().__init__(*layers, make_norm(norm, out_channels), make_activation(activation))


class ResidualBlock(nn.Module):
    """
    ``x + norm(conv(act(norm(conv(x)))))`` with 3 x 3 reflection-padded convolutions.

    Parameters
    ----------
    channels : int
        Channels C of the ``(B, C, H, W)`` input; the output has the same shape.
    norm : {"instance", "batch", "none"}, optional
        Normalisation after each convolution (instance norm in the paper's ResNet).
    dropout : float, optional
        Dropout probability between the two convolutions (0: none).

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import ResidualBlock
    >>> ResidualBlock(8)(torch.zeros(1, 8, 16, 16)).shape
    torch.Size([1, 8, 16, 16])
    """

    def __init__(self, channels, *, norm="instance", dropout=0.0):
        super().__init__()
        layers = [
            ConvBlock(channels, channels, 3, 1, 1, norm=norm, activation="relu", padding_mode="reflect"),
        ]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        layers.append(
            ConvBlock(channels, channels, 3, 1, 1, norm=norm, activation="none", padding_mode="reflect")
        )
        self.body = nn.Sequential(*layers)

    def forward(self, x):
        """
        Parameters
        ----------
        x : torch.Tensor
            ``(B, C, H, W)``.

        Returns
        -------
        torch.Tensor
            ``(B, C, H, W)``.
        """
        return x + self.body(x)


class ASPP(nn.Module):
    """
    Atrous spatial pyramid pooling (DeepLab v3).

    Parallel branches look at the same ``(B, C_in, H, W)`` features at several scales: a
    1 x 1 convolution, one 3 x 3 convolution per atrous rate, and a global average pool
    (broadcast back to ``H x W``); their outputs are concatenated and projected by a
    1 x 1 convolution to ``(B, C_out, H, W)``.

    Parameters
    ----------
    in_channels, out_channels : int
        Channels of the input and of the output.
    rates : sequence of int, optional
        Dilation rates of the 3 x 3 branches, in pixels of the feature map.
    norm : {"batch", "instance", "none"}, optional
        Normalisation of the convolutional branches and of the projection. The pooled
        branch is never normalised (it has a single pixel per image, where batch
        statistics of a batch of one are undefined).

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import ASPP
    >>> ASPP(16, 8, rates=(2, 4))(torch.zeros(2, 16, 12, 12)).shape
    torch.Size([2, 8, 12, 12])
    """

    def __init__(self, in_channels, out_channels, *, rates=(2, 4, 6), norm="batch"):
        super().__init__()
        self.branches = nn.ModuleList(
            [ConvBlock(in_channels, out_channels, 1, 1, 0, norm=norm, activation="relu")]
            + [
                ConvBlock(in_channels, out_channels, 3, 1, dilation=int(rate), norm=norm, activation="relu")
                for rate in rates
            ]
        )
        self.pool = nn.Sequential(
            nn.AdaptiveAvgPool2d(1), nn.Conv2d(in_channels, out_channels, 1), nn.ReLU(inplace=True)
        )
        self.project = ConvBlock(
            out_channels * (len(rates) + 2), out_channels, 1, 1, 0, norm=norm, activation="relu"
        )

    def forward(self, x):
        """
        Parameters
        ----------
        x : torch.Tensor
            ``(B, C_in, H, W)`` features.

        Returns
        -------
        torch.Tensor
            ``(B, C_out, H, W)``.
        """
        outputs = [branch(x) for branch in self.branches]
        pooled = self.pool(x)
        outputs.append(pooled.expand(-1, -1, x.shape[-2], x.shape[-1]))
        return self.project(torch.cat(outputs, dim=1))

"""
Inference-time rewrites of a network that leave its function unchanged.

In eval mode a batch normalisation is a fixed per-channel affine map
``y = (x - mean) / sqrt(var + eps) * gamma + beta``, so when it directly follows a
convolution (or a transposed convolution) it can be folded into that convolution's weight
and bias: one layer, one pass over memory instead of two. `fold_batchnorm` does this for
every ``conv -> batch norm`` pair of consecutive children of a `~torch.nn.Sequential`,
which is how every block of `sunpy_magnetogan.nn` is built (see
`~sunpy_magnetogan.nn.blocks.ConvBlock`). `optimize_for_inference` adds the memory format
and device placement, and is what `sunpy_magnetogan.generate.load_model` uses.

Folding changes results only by float32 rounding (relative differences of order 1e-6).

Examples
--------
>>> import torch
>>> from sunpy_magnetogan.nn import UNetGenerator, init_weights
>>> from sunpy_magnetogan.nn.fuse import count_batchnorm, fold_batchnorm
>>> net = UNetGenerator(base_channels=8, depth=4)
>>> net = init_weights(net, generator=torch.Generator().manual_seed(0)).eval()
>>> fused = fold_batchnorm(net)
>>> count_batchnorm(net), count_batchnorm(fused)
(5, 0)
>>> x = torch.rand(1, 1, 64, 64) * 2 - 1
>>> bool(torch.allclose(net(x), fused(x), atol=1e-5))
True
"""

import copy
import itertools
import logging

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils.fusion import fuse_conv_bn_eval

__all__ = [
    "MatmulConvTranspose2d",
    "conv_transpose2d_matmul",
    "count_batchnorm",
    "fold_batchnorm",
    "optimize_for_inference",
    "use_matmul_conv_transpose",
]

log = logging.getLogger(__name__)

_CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d)
_TRANSPOSED = (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_BATCHNORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)


def count_batchnorm(module):
    """
    Number of batch-normalisation layers in a network.

    Parameters
    ----------
    module : torch.nn.Module
        The network.

    Returns
    -------
    int
    """
    return sum(isinstance(m, _BATCHNORMS) for m in module.modules())


def _foldable(conv, norm):
    if not isinstance(norm, _BATCHNORMS) or norm.running_mean is None or norm.running_var is None:
        return False
    if isinstance(conv, _TRANSPOSED):
        # The normalised channels are the output channels: dim 1 of the weight (x groups).
        return conv.groups == 1 and conv.out_channels == norm.num_features
    return isinstance(conv, _CONVS) and conv.out_channels == norm.num_features


def fold_batchnorm(module, *, inplace=False):
    """
    Fold every eval-mode batch norm into the convolution that feeds it.

    Each ``(Conv, BatchNorm)`` pair of consecutive children of a `~torch.nn.Sequential`
    (anywhere in the network) becomes a single convolution with adjusted weight and bias,
    followed by an `~torch.nn.Identity` in the batch norm's place (so module names and
    indices are kept). `~torch.nn.ConvTranspose2d` (and 1-D/3-D) are folded too. Batch
    norms without running statistics, and pairs that are not adjacent in a
    ``Sequential``, are left alone.

    Parameters
    ----------
    module : torch.nn.Module
        The network, in eval mode (folding uses the running statistics, so the network
        must compute with them too). Shapes are unchanged: an input ``(B, C, H, W)``
        gives the same output shape as before.
    inplace : bool, optional
        Modify ``module`` itself instead of a deep copy.

    Returns
    -------
    torch.nn.Module
        The folded network (``module`` itself with ``inplace=True``), in eval mode. Its
        outputs equal the original's to float32 rounding.

    Raises
    ------
    ValueError
        If ``module`` is in training mode.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import UNetGenerator, init_weights
    >>> net = init_weights(UNetGenerator(base_channels=8, depth=4), generator=torch.Generator().manual_seed(0)).eval()
    >>> x = torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    >>> from sunpy_magnetogan.nn import fold_batchnorm
    >>> fused = fold_batchnorm(net)
    >>> any(isinstance(m, torch.nn.BatchNorm2d) for m in fused.modules())
    False
    >>> with torch.no_grad():
    ...     bool(torch.allclose(net(x), fused(x), atol=1e-5))
    True
    """
    if module.training:
        raise ValueError(
            "fold_batchnorm needs a network in eval mode (call .eval() first): in training mode "
            "batch norm uses the batch statistics, which cannot be folded into a convolution"
        )
    if not inplace:
        module = copy.deepcopy(module)
    folded = 0
    with torch.no_grad():
        for parent in module.modules():
            if not isinstance(parent, nn.Sequential):
                continue
            names = list(parent._modules)
            for first, second in itertools.pairwise(names):
                conv, norm = parent._modules[first], parent._modules[second]
                if not _foldable(conv, norm):
                    continue
                parent._modules[first] = fuse_conv_bn_eval(
                    conv, norm, transpose=isinstance(conv, _TRANSPOSED)
                )
                parent._modules[second] = nn.Identity()
                folded += 1
    log.debug("folded %d batch-norm layers into their convolutions", folded)
    return module


#: Inputs of at most this many pixels (H x W) take the matrix-product path of
#: `MatmulConvTranspose2d` on the CPU (the innermost U-Net blocks, whose large weights
#: oneDNN re-arranges on every call).
MATMUL_MAX_PIXELS = 64
#: Transposed convolutions with at most this many output channels take the matrix-product
#: path on the CPU at any size (the 1-channel output heads, a poor case for oneDNN).
MATMUL_MAX_OUT_CHANNELS = 4


def conv_transpose2d_matmul(x, weight, bias=None, *, stride=1, padding=0):
    """
    2-D transposed convolution as one matrix product and a col2im (`torch.nn.functional.fold`).

    The same function as `torch.nn.functional.conv_transpose2d` (no groups, dilation or
    output padding): every input pixel scatters its ``C_in``-vector times the kernel into
    the output. On the CPU this is several times faster than oneDNN for few output channels
    or small inputs, and equal to float32 rounding.

    Parameters
    ----------
    x : torch.Tensor
        ``(B, C_in, H, W)``, contiguous or channels-last.
    weight : torch.Tensor
        ``(C_in, C_out, kH, kW)``, contiguous or channels-last.
    bias : torch.Tensor, optional
        ``(C_out,)``.
    stride, padding : int or tuple of int, optional
        As for `torch.nn.functional.conv_transpose2d`.

    Returns
    -------
    torch.Tensor
        ``(B, C_out, (H - 1) * sH - 2 * pH + kH, (W - 1) * sW - 2 * pW + kW)``, in the
        memory format of ``x``.
    """
    stride = torch.nn.modules.utils._pair(stride)
    padding = torch.nn.modules.utils._pair(padding)
    batch, c_in, height, width = x.shape
    _, c_out, k_h, k_w = weight.shape
    taps = c_out * k_h * k_w
    # Weight as a (C_in, taps) matrix without copying it: taps ordered (kH, kW, C_out)
    # for a channels-last weight, (C_out, kH, kW) otherwise.
    hwc = weight.permute(0, 2, 3, 1)
    kernel_last = hwc.is_contiguous() and not weight.is_contiguous()
    matrix = hwc.reshape(c_in, taps) if kernel_last else weight.reshape(c_in, taps)
    channels_last = x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous()
    if channels_last:
        cols = (x.permute(0, 2, 3, 1).reshape(batch, height * width, c_in) @ matrix).transpose(1, 2)
    else:
        cols = matrix.t() @ x.reshape(batch, c_in, height * width)
    if kernel_last and c_out > 1:
        cols = cols.reshape(batch, k_h * k_w, c_out, height * width).transpose(1, 2)
        cols = cols.reshape(batch, taps, height * width)
    size = (
        (height - 1) * stride[0] - 2 * padding[0] + k_h,
        (width - 1) * stride[1] - 2 * padding[1] + k_w,
    )
    out = F.fold(cols, size, (k_h, k_w), padding=padding, stride=stride)
    if bias is not None:
        out = out + bias.view(1, -1, 1, 1)
    if channels_last:
        out = out.contiguous(memory_format=torch.channels_last)
    return out


class MatmulConvTranspose2d(nn.ConvTranspose2d):
    """
    `~torch.nn.ConvTranspose2d` that takes the matrix-product path where it is faster.

    On the CPU, inputs of at most `MATMUL_MAX_PIXELS` pixels, and layers with at most
    `MATMUL_MAX_OUT_CHANNELS` output channels, go through `conv_transpose2d_matmul`;
    everything else (every CUDA input, and everything under `torch.compile`) through the
    usual kernel. Parameters, state
    dict and results (to float32 rounding) are those of `~torch.nn.ConvTranspose2d`.
    Tensors: ``(B, C_in, H, W)`` in, ``(B, C_out, H', W')`` out.
    """

    def _matmul_pays(self, x):
        return (
            x.device.type == "cpu"
            # Under torch.compile inductor picks its own kernels (and its col2im lowering
            # corrupts memory for several output channels in torch 2.13).
            and not torch.compiler.is_compiling()
            and x.dim() == 4
            and self.groups == 1
            and self.dilation == (1, 1)
            and self.output_padding == (0, 0)
            and self.padding_mode == "zeros"
            and (
                self.out_channels <= MATMUL_MAX_OUT_CHANNELS or x.shape[-2] * x.shape[-1] <= MATMUL_MAX_PIXELS
            )
        )

    def forward(self, x, output_size=None):
        """
        Parameters
        ----------
        x : torch.Tensor
            ``(B, C_in, H, W)``.
        output_size : sequence of int, optional
            As for `~torch.nn.ConvTranspose2d` (then the usual kernel is used).

        Returns
        -------
        torch.Tensor
            ``(B, C_out, H', W')``.
        """
        if output_size is None and self._matmul_pays(x):
            return conv_transpose2d_matmul(
                x, self.weight, self.bias, stride=self.stride, padding=self.padding
            )
        return super().forward(x, output_size)

    @classmethod
    def from_conv_transpose(cls, conv):
        """
        The same layer, sharing its parameters.

        Parameters
        ----------
        conv : torch.nn.ConvTranspose2d

        Returns
        -------
        MatmulConvTranspose2d
        """
        new = cls(
            conv.in_channels,
            conv.out_channels,
            conv.kernel_size,
            stride=conv.stride,
            padding=conv.padding,
            output_padding=conv.output_padding,
            groups=conv.groups,
            bias=conv.bias is not None,
            dilation=conv.dilation,
            padding_mode=conv.padding_mode,
            device="meta",  # no memory, no initialisation: the parameters are shared below
        )
        new.weight = conv.weight
        new.bias = conv.bias
        return new.train(conv.training)
        return new


def use_matmul_conv_transpose(module):
    """
    Replace every `~torch.nn.ConvTranspose2d` of a network by a `MatmulConvTranspose2d`.

    Parameters
    ----------
    module : torch.nn.Module
        The network, modified in place (the parameters are shared, not copied).

    Returns
    -------
    torch.nn.Module
        ``module``.
    """
    for parent in list(module.modules()):
        for name, child in list(parent._modules.items()):
            if type(child) is nn.ConvTranspose2d:
                parent._modules[name] = MatmulConvTranspose2d.from_conv_transpose(child)
    return module


def optimize_for_inference(
    module, *, device=None, channels_last=True, matmul_conv_transpose=True, inplace=False
):
    """
    A copy of a network prepared for fast, deterministic inference.

    The copy (or, with ``inplace=True``, the network itself) is put in eval mode, its batch norms are folded (`fold_batchnorm`), its
    gradients are switched off, and it is moved to ``device`` in the ``channels_last``
    memory format (oneDNN convolutions on the CPU and cuDNN on recent GPUs both run
    faster on channels-last tensors; see ``benchmarks/README.md`` for the figures). Inputs in the usual (contiguous) format are accepted either way; PyTorch
    converts them at the first convolution.

    Parameters
    ----------
    module : torch.nn.Module
        The network; it is not modified.
    device : str or torch.device, optional
        Where the copy lives (default: where ``module`` is).
    channels_last : bool, optional
        Store the weights in the channels-last memory format (it pays on both CPU and
        CUDA for these networks).
    matmul_conv_transpose : bool, optional
        Let transposed convolutions take the faster matrix-product path on the CPU where
        it pays (`MatmulConvTranspose2d`; no effect on CUDA).
    inplace : bool, optional
        Rewrite ``module`` itself instead of a copy (saves the memory of a copy).

    Returns
    -------
    torch.nn.Module
        The optimised copy (``module`` itself with ``inplace=True``), in eval mode with
        ``requires_grad=False`` parameters.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import UNetGenerator, init_weights
    >>> net = init_weights(UNetGenerator(base_channels=8, depth=4), generator=torch.Generator().manual_seed(0)).eval()
    >>> x = torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(1)) * 2 - 1
    >>> from sunpy_magnetogan.nn import optimize_for_inference
    >>> fast = optimize_for_inference(net, device="cpu")
    >>> with torch.no_grad():
    ...     fast.training, bool(torch.allclose(net(x), fast(x), atol=1e-5))
    (False, True)
    """
    was_training = module.training
    module.eval()
    try:
        optimized = fold_batchnorm(module, inplace=inplace)
    finally:
        if not inplace:
            module.train(was_training)
    optimized.requires_grad_(False)
    if matmul_conv_transpose:
        use_matmul_conv_transpose(optimized)
    memory_format = torch.channels_last if channels_last else torch.preserve_format
    if device is not None:
        optimized.to(device=device, memory_format=memory_format)
    elif channels_last:
        optimized.to(memory_format=memory_format)
    return optimized

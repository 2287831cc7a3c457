"""
Measure the receptive field of a network empirically, by back-propagation.
"""

import copy

import torch
from torch import nn

__all__ = ["receptive_field"]


def _first_conv_channels(module):
    for layer in module.modules():
        if isinstance(layer, nn.Conv2d | nn.ConvTranspose2d):
            return layer.in_channels
    raise ValueError(
        "cannot infer the number of input channels: the module has no convolution; pass in_channels"
    )


def receptive_field(module, *, input_size=256, in_channels=None, seed=0):
    """
    Measured receptive field of the central output pixel of a convolutional network.

    A copy of the module, in eval mode (so that batch norm uses its running statistics
    and does not couple pixels) and in float64, is run on a random
    ``(1, in_channels, input_size, input_size)`` input; the gradient of the central
    output pixel of the first output channel with respect to the input is non-zero
    exactly on the input pixels that pixel depends on. The function returns the extent
    of that region. The module itself is not changed.

    Parameters
    ----------
    module : torch.nn.Module
        Maps ``(1, C, H, W)`` to ``(1, C', H', W')``.
    input_size : int, optional
        Height and width of the probe input in pixels; it must be larger than the
        receptive field for the answer to be the network's (a whole-image network
        returns ``input_size``).
    in_channels : int, optional
        C; by default the input channels of the first convolution found.
    seed : int, optional
        Seed of the random probe input (a local generator; the global RNG is untouched).

    Returns
    -------
    tuple of int
        ``(height, width)`` of the smallest box holding every input pixel with a
        non-zero gradient, in pixels.

    Examples
    --------
    >>> from sunpy_magnetogan.nn import PatchGANDiscriminator, receptive_field
    >>> receptive_field(PatchGANDiscriminator(patch_size=32, base_channels=4), input_size=96)
    (32, 32)
    """
    if in_channels is None:
        in_channels = _first_conv_channels(module)
    probe = copy.deepcopy(module).to(device="cpu", dtype=torch.float64).eval()
    for parameter in probe.parameters():
        parameter.requires_grad_(False)
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(1, in_channels, input_size, input_size, generator=generator, dtype=torch.float64)
    x.requires_grad_(True)
    with torch.enable_grad():
        out = probe(x)
        if out.ndim != 4:
            raise ValueError(f"expected a (B, C, H, W) output, got shape {tuple(out.shape)}")
        out[0, 0, out.shape[-2] // 2, out.shape[-1] // 2].backward()
    nonzero = x.grad[0].abs().sum(dim=0) > 0
    rows = torch.nonzero(nonzero.any(dim=1)).flatten()
    cols = torch.nonzero(nonzero.any(dim=0)).flatten()
    if rows.numel() == 0:
        return (0, 0)
    return (int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1))

"""
Weight initialisation and optimisers as the paper sets them.

The paper starts from weights drawn from N(0, 0.02) and trains with Adam
(learning rate 0.0002, beta1 = 0.5, beta2 = 0.999), the pix2pix settings.
"""

import torch
from torch import nn

__all__ = ["build_optimizer", "init_weights"]

_CONVS = (
    nn.Conv1d,
    nn.Conv2d,
    nn.Conv3d,
    nn.ConvTranspose1d,
    nn.ConvTranspose2d,
    nn.ConvTranspose3d,
    nn.Linear,
)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.InstanceNorm2d, nn.GroupNorm, nn.LayerNorm)


@torch.no_grad()
def init_weights(module, *, std=0.02, generator=None):
    """
    Initialise a network in place: convolution and linear weights from N(0, std),
    normalisation scales from N(1, std), all biases 0.

    Parameters
    ----------
    module : torch.nn.Module
        The network; every sub-module is visited.
    std : float, optional
        Standard deviation (0.02 in the paper).
    generator : torch.Generator, optional
        Source of random numbers (the global one by default).

    Returns
    -------
    torch.nn.Module
        ``module``, for chaining.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import UNetGenerator, init_weights
    >>> net = init_weights(UNetGenerator(base_channels=8, depth=3), generator=torch.Generator().manual_seed(0))
    >>> weights = torch.cat([m.weight.detach().flatten() for m in net.modules() if isinstance(m, torch.nn.Conv2d)])
    >>> round(float(weights.mean()), 2), round(float(weights.std()), 2)
    (0.0, 0.02)
    """
    for layer in module.modules():
        if isinstance(layer, _CONVS):
            layer.weight.normal_(0.0, std, generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()
        elif isinstance(layer, _NORMS) and getattr(layer, "weight", None) is not None:
            layer.weight.normal_(1.0, std, generator=generator)
            if layer.bias is not None:
                layer.bias.zero_()
    return module


def build_optimizer(parameters, *, lr=2e-4, betas=(0.5, 0.999), weight_decay=0.0, fused=None):
    """
    The paper's optimiser: Adam with lr 2e-4 and betas (0.5, 0.999).

    Parameters
    ----------
    parameters : iterable of torch.nn.Parameter
        What to optimise.
    lr : float, optional
        Learning rate.
    betas : tuple of float, optional
        Adam's (beta1, beta2).
    weight_decay : float, optional
        L2 penalty.
    fused : bool, optional
        Use the fused (single-kernel) Adam step. By default it is used when every
        parameter is on a CUDA device; elsewhere the multi-tensor (``foreach``) step is
        used, which gives results identical to the plain per-parameter loop.

    Returns
    -------
    torch.optim.Adam

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import build_optimizer
    >>> optimizer = build_optimizer(torch.nn.Linear(2, 1).parameters())
    >>> optimizer.defaults["lr"], optimizer.defaults["betas"]
    (0.0002, (0.5, 0.999))
    """
    parameters = list(parameters)
    if fused is None:
        fused = bool(parameters) and all(
            p.device.type == "cuda" and p.dtype in (torch.float16, torch.bfloat16, torch.float32)
            for p in parameters
        )
    options = {"fused": True} if fused else {"foreach": True}
    return torch.optim.Adam(parameters, lr=lr, betas=tuple(betas), weight_decay=weight_decay, **options)

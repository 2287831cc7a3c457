"""
The multi-scale (pyramid) generator and discriminator of the paper (its Figure 2).

Level 0 is the coarsest. With M + 1 levels and a finest input ``x`` of ``N x N`` pixels,
level m works at ``N / 2**(M - m)`` pixels:

* ``y~_0 = G_0(x_0)`` and ``y~_m = G_m(concat(x_m, up(y~_{m-1})))`` where ``x_m`` is ``x``
  area-averaged to the size of level m and ``up`` is a bilinear x2 upsampling;
* ``D_m`` judges ``concat(x_m, y_m)`` (real) against ``concat(x_m, y~_m)`` (generated).

A single-scale pix2pix is the one-level special case.
"""

import torch
from torch import nn
from torch.nn import functional as F

from sunpy_magnetogan.nn.registry import build_discriminator, build_generator

__all__ = ["PyramidDiscriminator", "PyramidGenerator", "build_pyramid", "image_pyramid"]


def image_pyramid(x, n_levels):
    """
    Area-averaged pyramid of an image, coarsest first.

    Parameters
    ----------
    x : torch.Tensor
        ``(B, C, H, W)``, H and W multiples of ``2**(n_levels - 1)``.
    n_levels : int
        Number of levels (>= 1).

    Returns
    -------
    list of torch.Tensor
        ``n_levels`` tensors ``(B, C, H / 2**(n_levels - 1 - m), W / 2**(n_levels - 1 - m))``
        for m = 0 ... n_levels - 1; the last one is ``x`` itself. Averaging 2 x 2 blocks
        preserves the mean, so a magnetogram pyramid in Gauss conserves flux.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import image_pyramid
    >>> [tuple(t.shape[-2:]) for t in image_pyramid(torch.zeros(1, 1, 64, 64), 3)]
    [(16, 16), (32, 32), (64, 64)]
    """
    if n_levels < 1:
        raise ValueError(f"n_levels must be at least 1, got {n_levels}")
    factor = 2 ** (n_levels - 1)
    if x.shape[-2] % factor or x.shape[-1] % factor:
        raise ValueError(
            f"a {n_levels}-level pyramid needs sizes that are multiples of {factor}, got {tuple(x.shape[-2:])}"
        )
    levels = [x]
    for _ in range(n_levels - 1):
        levels.append(F.avg_pool2d(levels[-1], 2))
    return levels[::-1]


class PyramidGenerator(nn.Module):
    """
    Chain of generators from the coarsest to the finest level.

    Parameters
    ----------
    levels : sequence of torch.nn.Module
        ``G_0 ... G_M``; ``G_0`` takes ``(B, 1, h, w)`` and the others ``(B, 2, h, w)``
        (EUV of their level and the upsampled output of the level below). Each returns
        ``(B, 1, h, w)``.
    detach : bool, optional
        If True, the upsampled output of level m-1 is detached before it enters level m,
        so that each generator is trained only by the losses of its own level. By default
        gradients flow through the whole chain (end-to-end training).
    projection : torch.nn.Module, optional
        Applied to the output of every generator, e.g. a
        `~sunpy_magnetogan.nn.LineOfSightProjection` when the generators predict the
        radial field. The projected outputs are what the next level takes and what the
        pyramid returns.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import build_pyramid
    >>> generator, _ = build_pyramid(
    ...     3, generator_kwargs={"base_channels": 4, "depth": 3}, patch_sizes=(16, 8, 8)
    ... )
    >>> [tuple(y.shape) for y in generator(torch.zeros(2, 1, 64, 64))]
    [(2, 1, 16, 16), (2, 1, 32, 32), (2, 1, 64, 64)]
    """

    def __init__(self, levels, *, detach=False, projection=None):
        super().__init__()
        if len(levels) < 1:
            raise ValueError("a pyramid needs at least one level")
        self.levels = nn.ModuleList(levels)
        self.detach = detach
        self.projection = projection

    @property
    def n_levels(self):
        """Number of levels M + 1."""
        return len(self.levels)

    def forward(self, x):
        """
        Parameters
        ----------
        x : torch.Tensor
            The finest EUV image ``(B, 1, H, W)`` in [-1, 1], H and W multiples of
            ``2**(n_levels - 1)`` (and of what each generator needs).

        Returns
        -------
        list of torch.Tensor
            ``[y~_0, ..., y~_M]``, coarsest first: ``(B, 1, H / 2**(M - m), W / 2**(M - m))``
            in [-1, 1]. The last one is the model's answer.
        """
        inputs = image_pyramid(x, self.n_levels)
        outputs = []
        previous = None
        for generator, x_m in zip(self.levels, inputs, strict=True):
            if previous is None:
                y_m = generator(x_m)
            else:
                up = F.interpolate(previous, size=x_m.shape[-2:], mode="bilinear", align_corners=False)
                if self.detach:
                    up = up.detach()
                y_m = generator(torch.cat([x_m, up], dim=1))
            if self.projection is not None:
                y_m = self.projection(y_m)
            outputs.append(y_m)
            previous = y_m
        return outputs


class PyramidDiscriminator(nn.Module):
    """
    One conditional discriminator per pyramid level.

    Parameters
    ----------
    levels : sequence of torch.nn.Module
        ``D_0 ... D_M``, each taking ``(B, 2, h, w)``.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import PatchGANDiscriminator, PyramidDiscriminator, image_pyramid
    >>> discriminator = PyramidDiscriminator(
    ...     [PatchGANDiscriminator(patch_size=p, base_channels=4) for p in (16, 8)]
    ... )
    >>> x, y = torch.zeros(1, 1, 64, 64), torch.zeros(1, 1, 64, 64)
    >>> logits = discriminator(image_pyramid(x, 2), image_pyramid(y, 2))
    >>> [tuple(level.shape) for level in logits]
    [(1, 1, 14, 14), (1, 1, 61, 61)]
    """

    def __init__(self, levels):
        super().__init__()
        if len(levels) < 1:
            raise ValueError("a pyramid needs at least one level")
        self.levels = nn.ModuleList(levels)

    @property
    def n_levels(self):
        """Number of levels M + 1."""
        return len(self.levels)

    def forward(self, inputs, targets):
        """
        Judge a pyramid of (EUV, magnetogram) pairs.

        Parameters
        ----------
        inputs : sequence of torch.Tensor
            ``[x_0, ..., x_M]``, each ``(B, 1, h_m, w_m)``.
        targets : sequence of torch.Tensor
            ``[y_0, ..., y_M]`` (real or generated), same shapes.

        Returns
        -------
        list of torch.Tensor
            Logits of each level, ``(B, 1, h'_m, w'_m)``.
        """
        if len(inputs) != self.n_levels or len(targets) != self.n_levels:
            raise ValueError(
                f"expected {self.n_levels} levels, got {len(inputs)} inputs and {len(targets)} targets"
            )
        return [d(torch.cat([x, y], dim=1)) for d, x, y in zip(self.levels, inputs, targets, strict=True)]


def build_pyramid(
    n_levels,
    *,
    generator="unet",
    generator_kwargs=None,
    discriminator="patchgan",
    patch_sizes=None,
    discriminator_kwargs=None,
    detach=False,
    projection=None,
):
    """
    Build a pyramid generator and its discriminators from registered architectures.

    Parameters
    ----------
    n_levels : int
        Number of levels (1: single-scale pix2pix; 3 in the paper).
    generator : str, optional
        Registered generator name, used at every level.
    generator_kwargs : dict, optional
        Keyword arguments of every generator (``in_channels`` is set per level).
    discriminator : str, optional
        Registered discriminator name, used at every level.
    patch_sizes : sequence of int, optional
        Patch size of each level's PatchGAN, coarsest first (the paper: 64, 32, 16).
        Required for ``"patchgan"``, ignored otherwise.
    discriminator_kwargs : dict, optional
        Keyword arguments of every discriminator (``in_channels`` is 2).
    detach : bool, optional
        See `PyramidGenerator`.
    projection : torch.nn.Module, optional
        See `PyramidGenerator`.

    Returns
    -------
    generator : PyramidGenerator
    discriminator : PyramidDiscriminator

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import build_pyramid, image_pyramid
    >>> generator, discriminator = build_pyramid(
    ...     2, generator_kwargs={"base_channels": 4, "depth": 3}, patch_sizes=(8, 8),
    ...     discriminator_kwargs={"base_channels": 4},
    ... )
    >>> x = torch.zeros(1, 1, 32, 32)
    >>> fakes = generator(x)
    >>> [tuple(logits.shape) for logits in discriminator(image_pyramid(x, 2), fakes)]
    [(1, 1, 13, 13), (1, 1, 29, 29)]
    """
    generator_kwargs = dict(generator_kwargs or {})
    discriminator_kwargs = dict(discriminator_kwargs or {})
    generators = [
        build_generator(generator, in_channels=1 if m == 0 else 2, **generator_kwargs)
        for m in range(n_levels)
    ]
    discriminators = []
    for m in range(n_levels):
        kwargs = dict(discriminator_kwargs, in_channels=2)
        if discriminator == "patchgan":
            if patch_sizes is None or len(patch_sizes) != n_levels:
                raise ValueError(f"give one PatchGAN patch size per level ({n_levels}), got {patch_sizes!r}")
            kwargs["patch_size"] = int(patch_sizes[m])
        discriminators.append(build_discriminator(discriminator, **kwargs))
    return (
        PyramidGenerator(generators, detach=detach, projection=projection),
        PyramidDiscriminator(discriminators),
    )

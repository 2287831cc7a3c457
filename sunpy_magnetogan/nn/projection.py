"""
Line-of-sight projection of a predicted radial field on the model grid.

A line-of-sight magnetogram of a mostly radial photospheric field reads
``B_los = mu * B_r``, where ``mu`` is the cosine of the angle between the local vertical
and the line of sight: the same active region reads three times weaker at ``mu = 0.33``
(70 deg from disk centre) than at disk centre. The EUV 304 A brightness of plage and
network, on the other hand, follows the field strength whatever the viewing angle. A
generator that maps brightness to field without knowing ``mu`` learns one compromise for
the whole disk: too weak at disk centre, too strong near the limb.

`LineOfSightProjection` removes that burden: the generator predicts the radial field and
the projection multiplies it by the ``mu`` of each pixel of the model grid (Sun centred,
limb at ``disk_radius * N`` pixels, the observer at infinity). It works on normalised
fields: it converts them to ``B / B0``, multiplies by ``mu`` and converts back, for the
two magnetogram normalisations of the package (``asinh``: ``y = asinh(B / B0) / s``;
``linear``: ``y = B / Bsat``).
"""

import functools
import math

import torch
from torch import nn

__all__ = ["LineOfSightProjection", "disk_mu"]


def disk_mu(size, disk_radius, *, device=None, dtype=torch.float32):
    """
    ``mu`` of every pixel of a square model grid, 0 off the disk.

    Parameters
    ----------
    size : int
        Grid size N in pixels.
    disk_radius : float
        Radius of the solar disk as a fraction of N, the Sun centred on the grid.
    device, dtype : optional
        Of the returned tensor.

    Returns
    -------
    torch.Tensor
        ``(N, N)``: ``sqrt(1 - (r / R)**2)`` at pixel centres inside the disk, 0 outside.

    Examples
    --------
    >>> from sunpy_magnetogan.nn import disk_mu
    >>> mu = disk_mu(8, 0.4)
    >>> float(mu.max()) > 0.95, float(mu[0, 0])
    (True, 0.0)
    """
    centre = torch.arange(size, device=device, dtype=torch.float64) + 0.5 - size / 2
    r2 = (centre[None, :] ** 2 + centre[:, None] ** 2) / (disk_radius * size) ** 2
    return torch.sqrt(torch.clamp(1.0 - r2, min=0.0)).to(dtype)


@functools.lru_cache(maxsize=16)
def _cached_disk_mu(size, disk_radius, device, dtype):
    # Made outside inference mode even when first asked for inside it, so that training
    # can later save it for backward.
    with torch.inference_mode(False), torch.no_grad():
        return disk_mu(size, disk_radius, device=device, dtype=dtype)


class LineOfSightProjection(nn.Module):
    """
    Turn a normalised radial field into the normalised line-of-sight field of the grid.

    Parameters
    ----------
    disk_radius : float
        Radius of the solar disk as a fraction of the grid size (the model grid's 0.4).
    kind : {"asinh", "linear"}
        The magnetogram normalisation.
    scale : float
        For ``"asinh"``, ``asinh(Bsat / B0)``: ``B / B0 = sinh(scale * y)``. Ignored for
        ``"linear"``.

    Examples
    --------
    >>> import torch
    >>> from sunpy_magnetogan.nn import LineOfSightProjection
    >>> project = LineOfSightProjection(0.4, kind="linear")
    >>> y = project(torch.full((1, 1, 64, 64), 0.5))
    >>> round(float(y[0, 0, 32, 32]), 2), float(y[0, 0, 0, 0])
    (0.5, 0.0)
    """

    def __init__(self, disk_radius, *, kind="asinh", scale=1.0):
        super().__init__()
        if not 0 < disk_radius <= 0.5:
            raise ValueError(f"disk_radius must be in (0, 0.5], got {disk_radius!r}")
        if kind not in ("asinh", "linear"):
            raise ValueError(f"kind must be 'asinh' or 'linear', got {kind!r}")
        if kind == "asinh" and not (math.isfinite(scale) and scale > 0):
            raise ValueError(f"scale must be positive, got {scale!r}")
        self.disk_radius = float(disk_radius)
        self.kind = kind
        self.scale = float(scale)

    def extra_repr(self):
        return f"disk_radius={self.disk_radius}, kind={self.kind!r}, scale={self.scale:.4g}"

    def mu(self, like):
        """``mu`` on the grid of ``like`` (``(..., N, N)``), broadcastable to it."""
        if like.shape[-1] != like.shape[-2]:
            raise ValueError(f"the model grid is square, got {tuple(like.shape[-2:])}")
        if torch.compiler.is_compiling():  # a constant of the compiled graph
            return disk_mu(like.shape[-1], self.disk_radius, device=like.device, dtype=like.dtype)
        # The same few grids at every call: computing one costs ~10 % of a 512 px forward pass.
        return _cached_disk_mu(like.shape[-1], self.disk_radius, like.device, like.dtype)

    def forward(self, radial):
        """
        Parameters
        ----------
        radial : torch.Tensor
            ``(B, C, N, N)`` normalised radial field, in [-1, 1].

        Returns
        -------
        torch.Tensor
            Same shape: the normalised line-of-sight field, 0 off the disk.
        """
        # In float32 also under autocast: sinh of a bf16 field loses most of its precision.
        y = radial.float()
        mu = self.mu(y)
        if self.kind == "linear":
            return (y * mu).to(radial.dtype)
        return (torch.asinh(mu * torch.sinh(self.scale * y)) / self.scale).to(radial.dtype)

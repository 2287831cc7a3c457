"""
Intensity normalisations between physical images and the networks' [-1, 1] range.

* EUV images (`EUVNormalization`): a robust percentile stretch of the on-disk pixels to
  [-1, 1], computed per image as in the paper (its "98 %" linear stretch); off-disk pixels
  are set to -1. It is not meant to be inverted: the EUV image is only ever an input.
* Magnetograms (`MagnetogramNormalization`): a *fixed* (image-independent), monotonic and
  exactly invertible transform between Gauss and [-1, 1]. The paper's z-scale depends on
  each image's mean and standard deviation, which are unknown at inference time, so its
  output cannot be turned back into Gauss; ours can, and it is recorded in every model card.

Both are frozen dataclasses so that they can be saved beside a checkpoint and compared.
"""

from dataclasses import asdict, dataclass

import astropy.units as u
import numpy as np

from sunpy_magnetogan.exceptions import InvalidDataError

__all__ = ["EUVNormalization", "MagnetogramNormalization"]


def _namespace(x):
    """numpy for arrays and scalars, torch for tensors (without importing torch eagerly)."""
    if type(x).__module__.startswith("torch"):
        import torch

        return torch
    return np


@dataclass(frozen=True)
class EUVNormalization:
    """
    Per-image percentile stretch of an EUV image to [-1, 1].

    The ``lower`` and ``upper`` percentiles of the finite on-disk pixels are mapped to -1
    and +1 after an optional compressive ``stretch``; values beyond are clipped.

    Parameters
    ----------
    lower, upper : float
        Percentiles (0-100) of the on-disk pixels that map to -1 and +1. The defaults, 1
        and 99, span the central 98 % of the disk as in the paper.
    stretch : {"linear", "sqrt", "log"}
        Applied to the intensities (after clipping negatives to zero) before the linear
        rescale; "linear" follows the paper.
    """

    lower: float = 1.0
    upper: float = 99.0
    stretch: str = "linear"

    _STRETCHES = ("linear", "sqrt", "log")

    def __post_init__(self):
        if not 0 <= self.lower < self.upper <= 100:
            raise ValueError(f"need 0 <= lower < upper <= 100, got lower={self.lower}, upper={self.upper}")
        if self.stretch not in self._STRETCHES:
            raise ValueError(f"stretch must be one of {self._STRETCHES}, got {self.stretch!r}")

    def _apply_stretch(self, x):
        if self.stretch == "sqrt":
            return np.sqrt(x)
        if self.stretch == "log":
            return np.log1p(x)
        return x

    def limits(self, values):
        """
        The stretched intensities that map to -1 and +1 for a set of on-disk values.

        Parameters
        ----------
        values : numpy.ndarray
            Finite, non-negative on-disk intensities (any shape).

        Returns
        -------
        tuple of float
            ``(low, high)`` in stretched units, with ``high > low``.

        Raises
        ------
        InvalidDataError
            If there are no values or they are all equal (a blank image).
        """
        values = np.asarray(values, dtype=np.float32).ravel()
        if values.size == 0:
            raise InvalidDataError("the EUV image has no finite pixel on the solar disk")
        low, high = np.percentile(self._apply_stretch(values), [self.lower, self.upper])
        if not high > low:
            raise InvalidDataError(
                "the EUV image is blank on the solar disk: its on-disk percentiles "
                f"{self.lower} and {self.upper} are both {low:g}"
            )
        return float(low), float(high)

    def __call__(self, image, disk):
        """
        Normalise an image with limits taken from its own on-disk pixels.

        Parameters
        ----------
        image : numpy.ndarray
            Intensities, shape ``(H, W)``; must be finite and non-negative where ``disk``.
        disk : numpy.ndarray
            Boolean, shape ``(H, W)``: the valid on-disk pixels used for the limits and kept;
            everything else is set to -1.

        Returns
        -------
        normalised : numpy.ndarray
            float32 in [-1, 1], shape ``(H, W)``.
        limits : tuple of float
            The ``(low, high)`` stretched intensities that were mapped to -1 and +1.
        """
        image = np.asarray(image, dtype=np.float32)
        low, high = self.limits(image[disk])
        scaled = self._apply_stretch(np.clip(image, 0, None))
        out = np.clip((scaled - low) * (2.0 / (high - low)) - 1.0, -1.0, 1.0).astype(np.float32)
        out[~disk] = -1.0
        return out, (low, high)

    def to_dict(self):
        """The settings as a JSON-friendly dict."""
        return {"kind": "percentile", **asdict(self)}

    @classmethod
    def from_dict(cls, d):
        """Inverse of `to_dict`."""
        if d.get("kind", "percentile") != "percentile":
            raise ValueError(f"unknown EUV normalisation kind {d.get('kind')!r}")
        return cls(lower=d["lower"], upper=d["upper"], stretch=d["stretch"])


@dataclass(frozen=True)
class MagnetogramNormalization:
    """
    Fixed, invertible transform between a line-of-sight field in Gauss and [-1, 1].

    ``kind="asinh"`` (default): ``y = asinh(B / B0) / asinh(Bsat / B0)``; it is linear for
    ``|B| << B0`` and logarithmic above, so that both the quiet-Sun network (tens of G)
    and sunspots (kG) use the network's output range. ``kind="linear"``:
    ``y = B / Bsat``. In both, ``|B| >= Bsat`` saturates at +-1, and `inverse` maps
    [-1, 1] back onto [-Bsat, Bsat] Gauss exactly (to float32 rounding).

    Parameters
    ----------
    kind : {"asinh", "linear"}
        The transform.
    saturation : `~astropy.units.Quantity`
        ``Bsat``, the field strength that maps to +-1.
    softening : `~astropy.units.Quantity`
        ``B0``, the field where the asinh transform turns from linear to logarithmic
        (ignored for ``kind="linear"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.normalization import MagnetogramNormalization
    >>> norm = MagnetogramNormalization()
    >>> b = np.array([-2500.0, -10.0, 0.0, 10.0, 2500.0], dtype=np.float32)
    >>> np.allclose(norm.inverse(norm.forward(b)), b, atol=0.5)
    True
    >>> float(norm.forward(np.float32(1e5)))
    1.0
    """

    kind: str = "asinh"
    saturation: u.Quantity = 3000 * u.G
    softening: u.Quantity = 50 * u.G

    _KINDS = ("asinh", "linear")

    def __post_init__(self):
        if self.kind not in self._KINDS:
            raise ValueError(f"kind must be one of {self._KINDS}, got {self.kind!r}")
        for name in ("saturation", "softening"):
            value = u.Quantity(getattr(self, name))
            if not value.unit.is_equivalent(u.G) or not value.value > 0:
                raise ValueError(f"{name} must be a positive magnetic field strength, got {value}")
            object.__setattr__(self, name, value.to(u.G))

    @property
    def _bsat(self):
        return float(self.saturation.to_value(u.G))

    @property
    def _b0(self):
        return float(self.softening.to_value(u.G))

    def forward(self, field):
        """
        Gauss -> [-1, 1].

        Parameters
        ----------
        field : numpy.ndarray or torch.Tensor
            Field in Gauss (plain numbers; NaNs propagate).

        Returns
        -------
        numpy.ndarray or torch.Tensor
            Same type and shape, in [-1, 1].
        """
        xp = _namespace(field)
        if self.kind == "linear":
            y = field / self._bsat
        else:
            scale = float(np.arcsinh(self._bsat / self._b0))
            y = xp.arcsinh(field / self._b0) / scale
        return xp.clip(y, -1.0, 1.0)

    def inverse(self, normalised):
        """
        [-1, 1] -> Gauss (values outside [-1, 1] are clipped first).

        Parameters
        ----------
        normalised : numpy.ndarray or torch.Tensor
            Network output.

        Returns
        -------
        numpy.ndarray or torch.Tensor
            Field in Gauss, same type and shape.
        """
        xp = _namespace(normalised)
        y = xp.clip(normalised, -1.0, 1.0)
        if self.kind == "linear":
            return y * self._bsat
        scale = float(np.arcsinh(self._bsat / self._b0))
        return xp.sinh(y * scale) * self._b0

    def to_dict(self):
        """The settings as a JSON-friendly dict (field strengths in Gauss)."""
        return {"kind": self.kind, "saturation_G": self._bsat, "softening_G": self._b0}

    @classmethod
    def from_dict(cls, d):
        """Inverse of `to_dict`."""
        return cls(kind=d["kind"], saturation=d["saturation_G"] * u.G, softening=d["softening_G"] * u.G)

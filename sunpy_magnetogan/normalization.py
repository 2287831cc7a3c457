"""
Intensity normalisations between physical images and the networks' [-1, 1] range.

* EUV images, two kinds, neither meant to be inverted (the EUV image is only ever an
  input); off-disk pixels are set to -1 by both:

  - `EUVNormalization`: a robust percentile stretch of the on-disk pixels to [-1, 1],
    computed per image as in the paper (its "98 %" linear stretch). Its limits move with
    the image's activity, so the same plage brightness maps to different values in a
    quiet and an active image.
  - `QuietSunNormalization`: the contrast to the quiet Sun (the on-disk median), on a
    fixed logarithmic scale. Brightness then means the same in every image, whatever the
    instrument's gain or the level of activity, which is what lets a model predict the
    total unsigned flux.
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

__all__ = [
    "EUVNormalization",
    "MagnetogramNormalization",
    "QuietSunNormalization",
    "euv_normalization_from_dict",
]


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
        return _normalise_disk(scaled, disk, low, high), (low, high)

    def to_dict(self):
        """The settings as a JSON-friendly dict."""
        return {"kind": "percentile", **asdict(self)}

    @classmethod
    def from_dict(cls, d):
        """Inverse of `to_dict`."""
        if d.get("kind", "percentile") != "percentile":
            raise ValueError(f"unknown EUV normalisation kind {d.get('kind')!r}")
        return cls(lower=d["lower"], upper=d["upper"], stretch=d["stretch"])


def _normalise_disk(scaled, disk, low, high):
    """Map ``low``/``high`` to -1/+1, clip, and set off-disk pixels to -1 (float32)."""
    out = np.clip((scaled - low) * (2.0 / (high - low)) - 1.0, -1.0, 1.0).astype(np.float32)
    out[~disk] = -1.0
    return out


@dataclass(frozen=True)
class QuietSunNormalization:
    """
    Contrast of an EUV image to its quiet Sun, on a fixed logarithmic scale.

    Each image is divided by a reference intensity, the ``reference`` percentile of its
    finite on-disk pixels (the median by default: the quiet Sun covers most of the disk
    even at solar maximum), and ``log(I / I_ref)`` is mapped linearly so that the
    contrasts ``low`` and ``high`` go to -1 and +1 (values beyond are clipped).

    Unlike the per-image percentile stretch of `EUVNormalization`, the scale does not
    depend on how much of the disk is active: a plage twice as bright as the quiet Sun
    has the same value in every image. Dividing by the quiet Sun also removes the
    instruments' gain and degradation (AIA vs EUVI) to first order.

    Parameters
    ----------
    reference : float
        Percentile (0-100) of the on-disk pixels used as the quiet-Sun intensity.
    low, high : float
        Contrasts ``I / I_ref`` mapped to -1 and +1, with ``0 < low < 1 < high``.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.normalization import QuietSunNormalization
    >>> norm = QuietSunNormalization()
    >>> image = np.full((4, 4), 100.0, dtype=np.float32)
    >>> image[0, 0] = 1000.0  # a plage 10 times brighter than the quiet Sun
    >>> out, limits = norm(image, np.ones((4, 4), dtype=bool))
    >>> float(out[0, 0]), float(out[1, 1]) == float(norm(2 * image, np.ones((4, 4), bool))[0][1, 1])
    (1.0, True)
    """

    reference: float = 50.0
    low: float = 0.25
    high: float = 10.0

    def __post_init__(self):
        if not 0 < self.reference < 100:
            raise ValueError(f"reference must be a percentile in (0, 100), got {self.reference}")
        if not 0 < self.low < 1 < self.high:
            raise ValueError(f"need 0 < low < 1 < high, got low={self.low}, high={self.high}")

    def limits(self, values):
        """
        The intensities that map to -1 and +1 for a set of on-disk values.

        Parameters
        ----------
        values : numpy.ndarray
            Finite, non-negative on-disk intensities (any shape).

        Returns
        -------
        tuple of float
            ``(low, high)`` intensities, ``low * I_ref`` and ``high * I_ref``.

        Raises
        ------
        InvalidDataError
            If there are no values, or the quiet-Sun reference is not positive (a blank
            or dark image).
        """
        values = np.asarray(values, dtype=np.float32).ravel()
        if values.size == 0:
            raise InvalidDataError("the EUV image has no finite pixel on the solar disk")
        ref = float(np.percentile(values, self.reference))
        if not ref > 0 or np.all(values == values[0]):
            raise InvalidDataError(
                f"the EUV image is blank on the solar disk: its quiet-Sun reference (the {self.reference:g} "
                f"percentile of the disk) is {ref:g}"
            )
        return self.low * ref, self.high * ref

    def __call__(self, image, disk):
        """
        Normalise an image by its own quiet-Sun intensity.

        Parameters
        ----------
        image : numpy.ndarray
            Intensities, shape ``(H, W)``; must be finite and non-negative where ``disk``.
        disk : numpy.ndarray
            Boolean, shape ``(H, W)``: the valid on-disk pixels used for the reference and
            kept; everything else is set to -1.

        Returns
        -------
        normalised : numpy.ndarray
            float32 in [-1, 1], shape ``(H, W)``.
        limits : tuple of float
            The ``(low, high)`` intensities that were mapped to -1 and +1.
        """
        image = np.asarray(image, dtype=np.float32)
        low, high = self.limits(image[disk])
        with np.errstate(divide="ignore"):
            scaled = np.log(np.clip(image, low * 1e-3, None))
        return _normalise_disk(scaled, disk, np.log(low), np.log(high)), (low, high)

    def to_dict(self):
        """The settings as a JSON-friendly dict."""
        return {"kind": "quiet-sun", **asdict(self)}

    @classmethod
    def from_dict(cls, d):
        """Inverse of `to_dict`."""
        if d.get("kind") != "quiet-sun":
            raise ValueError(f"not a quiet-Sun EUV normalisation: kind {d.get('kind')!r}")
        return cls(reference=d["reference"], low=d["low"], high=d["high"])


def euv_normalization_from_dict(d):
    """
    The EUV normalisation described by a dict (as written in model cards and pair stores).

    Parameters
    ----------
    d : dict
        The output of ``to_dict`` of `EUVNormalization` (``kind="percentile"``, the default
        when no kind is given, as in cards written before the kinds existed) or of
        `QuietSunNormalization` (``kind="quiet-sun"``).

    Returns
    -------
    `EUVNormalization` or `QuietSunNormalization`

    Raises
    ------
    ValueError
        For an unknown kind.

    Examples
    --------
    >>> from sunpy_magnetogan.normalization import QuietSunNormalization, euv_normalization_from_dict
    >>> euv_normalization_from_dict(QuietSunNormalization().to_dict())
    QuietSunNormalization(reference=50.0, low=0.25, high=10.0)
    >>> euv_normalization_from_dict({"lower": 1.0, "upper": 99.0, "stretch": "linear"})  # an old card
    EUVNormalization(lower=1.0, upper=99.0, stretch='linear')
    """
    kinds = {"percentile": EUVNormalization, "quiet-sun": QuietSunNormalization}
    kind = d.get("kind", "percentile")
    if kind not in kinds:
        raise ValueError(f"unknown EUV normalisation kind {kind!r}; known: {sorted(kinds)}")
    return kinds[kind].from_dict(d)


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

    @property
    def asinh_scale(self):
        """``asinh(Bsat / B0)``: for ``kind="asinh"``, ``B = B0 * sinh(asinh_scale * y)`` (float)."""
        return float(np.arcsinh(self._bsat / self._b0))

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
            y = xp.arcsinh(field / self._b0) / self.asinh_scale
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
        return xp.sinh(y * self.asinh_scale) * self._b0

    def to_dict(self):
        """The settings as a JSON-friendly dict (field strengths in Gauss)."""
        return {"kind": self.kind, "saturation_G": self._bsat, "softening_G": self._b0}

    @classmethod
    def from_dict(cls, d):
        """Inverse of `to_dict`."""
        return cls(kind=d["kind"], saturation=d["saturation_G"] * u.G, softening=d["softening_G"] * u.G)

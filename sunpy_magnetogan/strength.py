"""
Calibrated field strength: the generated ``|B|`` mapped onto the true distribution.

A generator trained with a squared-error term predicts, where it cannot know the sign of
the field (most of the quiet-Sun network), the value that minimises the expected squared
error: a field shrunk towards zero. The shrinkage grows with ``mu``, because an error in
``B_los = mu B_r`` costs ``mu**2`` more at disk centre than at the limb; the generated
quiet Sun is then too weak, and weakest at disk centre, and the total unsigned flux is
underestimated (R1 of about 0.4 for the default model v4).

`StrengthCalibration` undoes that with a quantile mapping fitted on held-out pairs: in
each annulus of ``mu`` the generated ``|B_los|`` is mapped onto the true ``|B_los|`` of
the same quantile, the sign kept. The mapped field has the right distribution of
strengths (quiet-Sun mean, total unsigned flux, centre-to-limb behaviour) by construction
on the fitting pairs; its signs are as uncertain as before, so its squared error (R2)
is larger than the raw field's. `sunpy_magnetogan.generate_magnetogram` applies it on
request (``strength="calibrated"``); by default (``strength="raw"``) it returns the
least-squares field.
"""

from dataclasses import dataclass
from itertools import pairwise

import numpy as np

from sunpy_magnetogan.exceptions import MagnetoGANError
from sunpy_magnetogan.sphere import mu_annulus_edges

__all__ = ["MU_EDGES", "QUANTILE_LEVELS", "StrengthCalibration", "fit_strength_calibration"]

#: Edges of the ``mu`` annuli the mapping is fitted in (interpolated between their centres).
MU_EDGES = (0.1, 0.3, 0.5, 0.7, 0.85, 1.0)

#: Quantile levels of the mapping: uniform up to 0.95, then denser towards the strongest fields.
QUANTILE_LEVELS = tuple(
    float(q)
    for q in np.concatenate([np.linspace(0.0, 0.95, 96), 1.0 - np.geomspace(0.05, 1e-6, 25)[1:], [1.0]])
)


@dataclass(frozen=True)
class StrengthCalibration:
    """
    Quantile mapping of the generated ``|B_los|`` onto the true one, by annulus of ``mu``.

    Parameters
    ----------
    mu_centres : tuple of float
        Centre ``mu`` of each annulus (increasing); between them the mapped values are
        interpolated linearly in ``mu``, outside them the nearest annulus is used.
    generated_quantiles, true_quantiles : tuple of tuple of float
        Per annulus, the generated and the true ``|B_los|`` (Gauss) at the levels
        `QUANTILE_LEVELS`; non-decreasing.
    pixels : int
        Number of pixels the mapping was fitted on.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.strength import StrengthCalibration
    >>> calibration = StrengthCalibration(
    ...     mu_centres=(0.5,), generated_quantiles=((0.0, 10.0, 100.0),),
    ...     true_quantiles=((0.0, 20.0, 300.0),), pixels=3)
    >>> calibration.apply(np.array([[-10.0, 55.0, 200.0]]), np.full((1, 3), 0.5)).tolist()
    [[-20.0, 160.0, 600.0]]
    """

    mu_centres: tuple
    generated_quantiles: tuple
    true_quantiles: tuple
    pixels: int

    def __post_init__(self):
        n = len(self.mu_centres)
        if n == 0 or len(self.generated_quantiles) != n or len(self.true_quantiles) != n:
            raise ValueError("a strength calibration needs one quantile table per mu annulus")
        for generated, true in zip(self.generated_quantiles, self.true_quantiles, strict=True):
            if len(generated) != len(true) or len(generated) < 2:
                raise ValueError("generated and true quantile tables must have the same length (>= 2)")
            if np.any(np.diff(generated) < 0) or np.any(np.diff(true) < 0):
                raise ValueError("quantile tables must be non-decreasing")

    def _map_annulus(self, strength, index):
        generated = np.asarray(self.generated_quantiles[index], dtype=float)
        true = np.asarray(self.true_quantiles[index], dtype=float)
        mapped = np.interp(strength, generated, true)
        # Above the strongest fitted field: scale by the last knot's true / generated ratio.
        top = generated[-1]
        scale = true[-1] / top if top > 0 else 1.0
        return np.where(strength > top, strength * scale, mapped)

    def apply(self, field, mu):
        """
        Map a generated line-of-sight field onto the calibrated strengths.

        Parameters
        ----------
        field : numpy.ndarray
            Generated ``B_los`` in Gauss, any shape.
        mu : numpy.ndarray
            ``mu`` of every pixel (broadcastable to ``field``); pixels with ``mu`` NaN or
            not positive (off the disk) are returned unchanged.

        Returns
        -------
        numpy.ndarray
            The calibrated field (float, the dtype of ``field``), same signs.
        """
        values = np.asarray(field)
        mu = np.broadcast_to(np.asarray(mu, dtype=float), values.shape)
        on_disk = np.isfinite(mu) & (mu > 0) & np.isfinite(values)
        strength = np.abs(values[on_disk]).astype(float)
        m = mu[on_disk]
        centres = np.asarray(self.mu_centres, dtype=float)
        per_annulus = np.stack([self._map_annulus(strength, i) for i in range(len(centres))])
        if len(centres) == 1:
            mapped = per_annulus[0]
        else:
            upper = np.clip(np.searchsorted(centres, m), 1, len(centres) - 1)
            weight = np.clip((m - centres[upper - 1]) / (centres[upper] - centres[upper - 1]), 0.0, 1.0)
            columns = np.arange(len(m))
            mapped = (1 - weight) * per_annulus[upper - 1, columns] + weight * per_annulus[upper, columns]
        out = np.array(values, copy=True)
        out[on_disk] = (np.sign(values[on_disk]) * mapped).astype(out.dtype)
        return out

    def to_dict(self):
        """Plain-data form for a model card."""
        return {
            "mu_centres": list(self.mu_centres),
            "generated_quantiles_G": [list(q) for q in self.generated_quantiles],
            "true_quantiles_G": [list(q) for q in self.true_quantiles],
            "pixels": self.pixels,
        }

    @classmethod
    def from_dict(cls, data):
        """Inverse of `to_dict`."""
        return cls(
            mu_centres=tuple(float(m) for m in data["mu_centres"]),
            generated_quantiles=tuple(tuple(float(v) for v in q) for q in data["generated_quantiles_G"]),
            true_quantiles=tuple(tuple(float(v) for v in q) for q in data["true_quantiles_G"]),
            pixels=int(data["pixels"]),
        )


def fit_strength_calibration(pairs, mu, *, mu_edges=MU_EDGES):
    """
    Fit a `StrengthCalibration` on pairs of generated and true magnetograms.

    Parameters
    ----------
    pairs : iterable of tuple
        ``(generated, true, valid)`` arrays of one image each on the same grid: fields in
        Gauss and a boolean mask of the pixels to use (the disk).
    mu : numpy.ndarray
        ``mu`` of every pixel of that grid (NaN off the disk).
    mu_edges : sequence of float, optional
        Edges of the annuli; an annulus holds ``low < mu <= high``.

    Returns
    -------
    StrengthCalibration

    Raises
    ------
    MagnetoGANError
        If an annulus holds no valid pixel.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import grid_geometry
    >>> from sunpy_magnetogan.strength import fit_strength_calibration
    >>> mu = grid_geometry(64).mu
    >>> rng = np.random.default_rng(0)
    >>> true = rng.laplace(scale=20.0, size=(4, 64, 64))
    >>> pairs = [(0.5 * t, t, np.isfinite(mu)) for t in true]  # a model at half strength
    >>> calibration = fit_strength_calibration(pairs, mu)
    >>> ratio = np.abs(calibration.apply(0.5 * true[0], mu)[np.isfinite(mu)]).mean() / np.abs(true[0][np.isfinite(mu)]).mean()
    >>> round(float(ratio), 2)
    1.0
    """
    mu = np.asarray(mu, dtype=float)
    edges = mu_annulus_edges(mu_edges)
    annuli = [(mu > low) & (mu <= high) for low, high in pairwise(edges)]
    generated_values = [[] for _ in annuli]
    true_values = [[] for _ in annuli]
    for generated, true, valid in pairs:
        generated = np.asarray(generated, dtype=float)
        true = np.asarray(true, dtype=float)
        usable = np.asarray(valid, dtype=bool) & np.isfinite(generated) & np.isfinite(true)
        for k, annulus in enumerate(annuli):
            pixels = usable & annulus
            generated_values[k].append(np.abs(generated[pixels]))
            true_values[k].append(np.abs(true[pixels]))
    levels = np.asarray(QUANTILE_LEVELS)
    generated_quantiles, true_quantiles, total = [], [], 0
    for k, (low, high) in enumerate(pairwise(edges)):
        generated = np.concatenate(generated_values[k]) if generated_values[k] else np.empty(0)
        true = np.concatenate(true_values[k]) if true_values[k] else np.empty(0)
        if generated.size == 0:
            raise MagnetoGANError(
                f"no valid pixel with {low} < mu <= {high} to fit the strength calibration on"
            )
        total += generated.size
        generated_quantiles.append(tuple(float(v) for v in np.quantile(generated, levels)))
        true_quantiles.append(tuple(float(v) for v in np.quantile(true, levels)))
    return StrengthCalibration(
        mu_centres=tuple(float(c) for c in 0.5 * (edges[:-1] + edges[1:])),
        generated_quantiles=tuple(generated_quantiles),
        true_quantiles=tuple(true_quantiles),
        pixels=int(total),
    )

"""
How sure a generated magnetogram is of the sign of its field.

An EUV image shows where the field is strong, not its sign: a model infers polarities
from Hale's and Joy's laws, through the cycle frame of the observation date
(`~sunpy_magnetogan.solar_cycle.cycle_frame`). Its sign can be wrong in two ways: the
model's own sign is wrong for a region of the right cycle (weak or complex fields,
regions that break Hale's law), or the flux belongs to the other of two overlapping cycles
near a minimum. `PolarityCalibration` turns both into a per-pixel probability that the
sign is right::

    p = p_cycle * q(|B|) + (1 - p_cycle) * (1 - q(|B|))

where ``q(|B|)`` is the fraction of pixels whose predicted sign is right, measured as a
function of the predicted field strength on held-out synthetic pairs whose cycle is
unambiguous (`fit_polarity_calibration`), and ``p_cycle`` is the probability that the
latitude's flux belongs to the cycle the frame assumes (`CycleFrame.probability`). The
event "right" is counted on the disk where the true field is at least ``min_field``
(10 G, about the noise of an HMI magnetogram): the sign of a weaker field means nothing.
`expected_calibration_error` and `reliability_curve` check the result.
"""

from dataclasses import dataclass

import numpy as np

from sunpy_magnetogan.exceptions import MagnetoGANError

__all__ = [
    "PolarityCalibration",
    "expected_calibration_error",
    "fit_polarity_calibration",
    "reliability_curve",
    "sign_is_right",
]

#: Edges (Gauss) of the predicted-field-strength bins of the calibration table.
_FIELD_EDGES = (0.0, 2.0, 5.0, 10.0, 20.0, 35.0, 50.0, 75.0, 100.0, 150.0, 200.0, 300.0, 500.0, 800.0)


@dataclass(frozen=True)
class PolarityCalibration:
    """
    The probability that a predicted sign is right, against the predicted field strength.

    Parameters
    ----------
    field_edges : tuple of float
        Lower edges of the bins of ``|B|`` in Gauss (the last bin is open-ended).
    right_fraction : tuple of float
        Fraction of pixels with the right sign in each bin, when the cycle is unambiguous
        (non-decreasing with ``|B|``).
    min_field : float
        The true field strength (Gauss) from which a sign counts.
    pixels : int
        Number of pixels the table was fitted on.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.polarity import PolarityCalibration
    >>> calibration = PolarityCalibration(field_edges=(0.0, 50.0), right_fraction=(0.6, 0.9))
    >>> calibration.probability(np.array([10.0, -300.0]), np.array([1.0, 1.0])).round(2)
    array([0.6, 0.9], dtype=float32)
    >>> calibration.probability(np.array([-300.0]), np.array([0.5])).round(2)  # a coin flip of cycles
    array([0.5], dtype=float32)
    """

    field_edges: tuple
    right_fraction: tuple
    min_field: float = 10.0
    pixels: int = 0

    def __post_init__(self):
        edges = tuple(float(e) for e in self.field_edges)
        fractions = tuple(float(f) for f in self.right_fraction)
        if len(edges) != len(fractions) or not edges or edges[0] != 0.0 or np.any(np.diff(edges) <= 0):
            raise MagnetoGANError(
                "a polarity calibration needs increasing field edges starting at 0 G and one "
                f"fraction per bin; got edges {edges} and fractions {fractions}"
            )
        if not all(0.0 <= f <= 1.0 for f in fractions):
            raise MagnetoGANError(f"polarity calibration fractions must lie in [0, 1], got {fractions}")
        object.__setattr__(self, "field_edges", edges)
        object.__setattr__(self, "right_fraction", fractions)

    def probability(self, field, cycle_probability):
        """
        Per-pixel probability that the sign of ``field`` is right.

        Parameters
        ----------
        field : numpy.ndarray
            Predicted field in Gauss (any shape; NaN stays NaN).
        cycle_probability : numpy.ndarray
            `~sunpy_magnetogan.solar_cycle.CycleFrame.probability` of the same pixels
            (broadcastable to ``field``).

        Returns
        -------
        numpy.ndarray
            float32 probabilities in [0, 1], NaN where ``field`` or the cycle probability is NaN.
        """
        field = np.asarray(field, dtype=np.float64)
        strength = np.abs(np.nan_to_num(field, nan=0.0))
        index = np.clip(np.searchsorted(self.field_edges, strength, side="right") - 1, 0, None)
        q = np.asarray(self.right_fraction)[index]
        p_cycle = np.asarray(cycle_probability, dtype=np.float64)
        p = p_cycle * q + (1.0 - p_cycle) * (1.0 - q)
        return np.where(np.isfinite(field) & np.isfinite(p_cycle), p, np.nan).astype(np.float32)

    def to_dict(self):
        """The calibration as a JSON-friendly dict (stored in model cards)."""
        return {
            "field_edges_G": list(self.field_edges),
            "right_fraction": list(self.right_fraction),
            "min_field_G": self.min_field,
            "pixels": int(self.pixels),
        }

    @classmethod
    def from_dict(cls, values):
        """Rebuild a calibration from `to_dict`'s output."""
        return cls(
            field_edges=tuple(values["field_edges_G"]),
            right_fraction=tuple(values["right_fraction"]),
            min_field=float(values.get("min_field_G", 10.0)),
            pixels=int(values.get("pixels", 0)),
        )


def sign_is_right(predicted, true, *, min_field=10.0, valid=None):
    """
    Where a predicted sign can be scored, and whether it is right.

    Parameters
    ----------
    predicted, true : numpy.ndarray
        Predicted and true field in Gauss, same shape.
    min_field : float, optional
        Only pixels whose true ``|B|`` reaches this (Gauss) are scored.
    valid : numpy.ndarray of bool, optional
        Pixels to consider (e.g. the disk); all finite pixels by default.

    Returns
    -------
    scored : numpy.ndarray of bool
        Pixels where the sign is scored.
    right : numpy.ndarray of bool
        Whether the predicted sign equals the true one (meaningful where ``scored``).
    """
    predicted = np.asarray(predicted, dtype=np.float64)
    true = np.asarray(true, dtype=np.float64)
    scored = np.isfinite(predicted) & np.isfinite(true) & (np.abs(np.nan_to_num(true)) >= min_field)
    if valid is not None:
        scored &= np.asarray(valid, dtype=bool)
    right = np.sign(np.nan_to_num(predicted)) == np.sign(np.nan_to_num(true))
    return scored, right


def _pool_adjacent_violators(values, weights):
    """Non-decreasing least-squares fit of ``values`` with ``weights`` (isotonic regression)."""
    blocks = []  # [mean, weight, count]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([value, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            v2, w2, n2 = blocks.pop()
            v1, w1, n1 = blocks.pop()
            w = w1 + w2
            blocks.append([(v1 * w1 + v2 * w2) / w if w else 0.5, w, n1 + n2])
    return [block[0] for block in blocks for _ in range(block[2])]


def fit_polarity_calibration(pairs, *, min_field=10.0, min_cycle_probability=0.99):
    """
    Fit `PolarityCalibration` on pairs of predicted and true magnetograms.

    Only pixels whose cycle is unambiguous (cycle probability at least
    ``min_cycle_probability``) are used: the table describes the model's own sign errors;
    the ambiguity of overlapping cycles enters through the cycle probability at use.

    Parameters
    ----------
    pairs : iterable of tuple
        ``(predicted, true, cycle_probability, valid)`` arrays of one image each: fields in
        Gauss, the `~sunpy_magnetogan.solar_cycle.CycleFrame.probability` of the pixels and
        a boolean mask of the pixels to use (the disk).
    min_field : float, optional
        True field strength (Gauss) from which a sign is scored.
    min_cycle_probability : float, optional
        See above.

    Returns
    -------
    PolarityCalibration

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.polarity import fit_polarity_calibration
    >>> rng = np.random.default_rng(0)
    >>> true = rng.choice([-300.0, 300.0], size=(64, 64))
    >>> predicted = np.where(rng.random(true.shape) < 0.8, true, -true)  # 80 % right
    >>> calibration = fit_polarity_calibration([(predicted, true, np.ones((64, 64)), np.ones((64, 64), bool))])
    >>> round(calibration.right_fraction[-3], 2), calibration.pixels
    (0.8, 4096)
    """
    n_bins = len(_FIELD_EDGES)
    right = np.zeros(n_bins)
    total = np.zeros(n_bins)
    for predicted, true, cycle_probability, valid in pairs:
        scored, is_right = sign_is_right(predicted, true, min_field=min_field, valid=valid)
        scored &= np.asarray(cycle_probability) >= min_cycle_probability
        index = np.searchsorted(_FIELD_EDGES, np.abs(predicted[scored]), side="right") - 1
        total += np.bincount(index, minlength=n_bins)[:n_bins]
        right += np.bincount(index, weights=is_right[scored], minlength=n_bins)[:n_bins]
    if total.sum() == 0:
        raise MagnetoGANError("no pixel to fit the polarity calibration on (no true field above min_field?)")
    fraction = np.where(total > 0, right / np.maximum(total, 1), 0.5)
    fitted = np.clip(_pool_adjacent_violators(fraction.tolist(), total.tolist()), 0.0, 1.0)
    return PolarityCalibration(
        field_edges=_FIELD_EDGES,
        right_fraction=tuple(float(f) for f in fitted),
        min_field=float(min_field),
        pixels=int(total.sum()),
    )


def reliability_curve(probability, right, *, bins=10):
    """
    Observed fraction of right signs against the stated probability.

    Parameters
    ----------
    probability : numpy.ndarray
        Stated probabilities of the scored pixels (1-D).
    right : numpy.ndarray of bool
        Whether each sign was right.
    bins : int, optional
        Equal-width probability bins over [0, 1].

    Returns
    -------
    mean_probability, observed, counts : numpy.ndarray
        Per bin: mean stated probability, fraction right, number of pixels (NaN for the
        probabilities and fractions of empty bins).

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.polarity import reliability_curve
    >>> mean_p, observed, counts = reliability_curve(np.array([0.55, 0.55, 0.95]), np.array([1, 0, 1]), bins=2)
    >>> mean_p.round(2).tolist(), observed.tolist(), counts.tolist()
    ([nan, 0.68], [nan, 0.6666666666666666], [0.0, 3.0])
    """
    probability = np.asarray(probability, dtype=np.float64).ravel()
    right = np.asarray(right, dtype=np.float64).ravel()
    index = np.clip((probability * bins).astype(int), 0, bins - 1)
    counts = np.bincount(index, minlength=bins).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_p = np.bincount(index, weights=probability, minlength=bins) / counts
        observed = np.bincount(index, weights=right, minlength=bins) / counts
    return mean_p, observed, counts


def expected_calibration_error(probability, right, *, bins=10):
    """
    Expected calibration error: the pixel-weighted mean of ``|observed - stated|`` over bins.

    Parameters
    ----------
    probability, right, bins
        As for `reliability_curve`.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.polarity import expected_calibration_error
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.5, 1.0, 100_000)
    >>> expected_calibration_error(p, rng.random(p.size) < p) < 0.01  # calibrated
    True
    >>> expected_calibration_error(p, np.ones(p.size, bool)) > 0.2  # overcautious
    True
    """
    mean_p, observed, counts = reliability_curve(probability, right, bins=bins)
    filled = counts > 0
    return float(np.sum(counts[filled] * np.abs(observed[filled] - mean_p[filled])) / counts.sum())

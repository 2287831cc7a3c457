"""
Quiet-Sun checks of a generated magnetogram: grid artefacts and the field strength.

A generator whose decoder upsamples with transposed convolutions imprints a checkerboard
on what it generates: excess power at the periods of its strides (2 and 4 px). It shows
best in the quiet Sun, where the true field has little power at those scales.
`checkerboard_ratio` measures that excess against the smooth spectrum around it;
`quiet_sun_patches` cuts the square quiet-Sun patches it is measured on.
`quiet_sun_by_mu` compares the generated and the true quiet-Sun field strength from the
limb to disk centre.
"""

from itertools import pairwise

import astropy.units as u
import numpy as np
from astropy.table import QTable

from sunpy_magnetogan.metrics.limb import check_same_annuli
from sunpy_magnetogan.sphere import mu_annulus_edges

__all__ = [
    "CHECKERBOARD_PERIODS",
    "checkerboard_ratio",
    "combine_quiet_sun_by_mu",
    "quiet_sun_by_mu",
    "quiet_sun_patches",
]

#: Periods (pixels) at which a stride-2 decoder of two or more levels leaves a checkerboard.
CHECKERBOARD_PERIODS = (2, 4)


def _peak_frequencies(period):
    """Non-zero 2-D frequencies (cycles/px) with each component in {0, +-1/period}."""
    values = (0.0, 1.0 / period, -1.0 / period)
    return [(fy, fx) for fy in values for fx in values if (fy, fx) != (0.0, 0.0)]


def checkerboard_ratio(patches, *, periods=CHECKERBOARD_PERIODS, ring_width=3):
    """
    Power at the checkerboard frequencies over the smooth spectrum around them.

    The power spectra of the (mean-subtracted, Hann-windowed) patches are averaged. For
    each period ``p`` the peak set holds the 2-D frequencies whose components are ``0``
    or ``+-1/p`` cycles per pixel (not both 0): a checkerboard of period ``p`` along
    either axis or the diagonal. The peak power is the mean over the 3 x 3 frequency bins
    around each of them (the Hann window spreads a line over its neighbours); the smooth
    power is the mean over the square ring of bins 3 to ``3 + ring_width`` bins away from
    it, without the 5 x 5 neighbourhoods of all peaks (the ring is symmetric about the
    peak, so a smooth spectral slope cancels to first order). Their ratio is about 1 for
    a field without grid artefacts and grows with the artefact.

    Parameters
    ----------
    patches : sequence of numpy.ndarray or numpy.ndarray
        Square images of one size ``(N, N)`` (or a stack ``(K, N, N)``), ``N`` a multiple
        of every period, without NaN. Units do not matter.
    periods : sequence of int, optional
        Checkerboard periods in pixels (2 and 4 by default).
    ring_width : int, optional
        Width of the comparison ring, in frequency bins; the patches must be larger than
        ``2 (3 + ring_width)`` px.

    Returns
    -------
    dict
        ``{period: ratio}`` (floats).

    Raises
    ------
    ValueError
        Without patches, with non-square or unequal patches, NaN, or a size that is not
        a multiple of a period.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import checkerboard_ratio
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.normal(size=(16, 64, 64))
    >>> all(0.7 < r < 1.5 for r in checkerboard_ratio(noise).values())  # no artefact
    True
    >>> grid = np.indices((64, 64)).sum(axis=0) % 2  # a 2 px checkerboard
    >>> checkerboard_ratio(noise + grid)[2] > 30
    True
    """
    stack = np.asarray(patches, dtype=float)
    if stack.ndim == 2:
        stack = stack[np.newaxis]
    if stack.ndim != 3 or stack.shape[0] == 0 or stack.shape[1] != stack.shape[2]:
        raise ValueError(f"expected square patches (K, N, N), got shape {stack.shape}")
    if not np.all(np.isfinite(stack)):
        raise ValueError("the patches hold NaN or infinite values")
    n = stack.shape[-1]
    for period in periods:
        if n % period:
            raise ValueError(f"the patch size {n} px is not a multiple of the period {period} px")
    window = np.outer(np.hanning(n), np.hanning(n))
    centred = (stack - stack.mean(axis=(1, 2), keepdims=True)) * window
    power = np.mean(np.abs(np.fft.fft2(centred)) ** 2, axis=0)
    offsets = np.arange(n)

    def distance(peak):
        """Chebyshev distance (bins, periodic) of every frequency bin from a peak."""
        index = [round(f * n) % n for f in peak]
        dy, dx = ((offsets - i + n // 2) % n - n // 2 for i in index)
        return np.maximum(np.abs(dy)[:, None], np.abs(dx)[None, :])

    all_peaks = [f for period in periods for f in _peak_frequencies(period)]
    excluded = np.zeros((n, n), dtype=bool)
    for peak in all_peaks:
        excluded |= distance(peak) <= 2
    ratios = {}
    for period in periods:
        values = []
        for peak in _peak_frequencies(period):
            d = distance(peak)
            around = (d >= 3) & (d <= 3 + ring_width) & ~excluded
            values.append(power[d <= 1].mean() / power[around].mean())
        ratios[period] = float(max(values))
    return ratios


def quiet_sun_patches(field, quiet, *, size=64):
    """
    Square patches of a field that lie wholly in the quiet Sun.

    The image is tiled with ``size`` x ``size`` squares (no overlap); those whose every
    pixel is quiet and finite are returned.

    Parameters
    ----------
    field : numpy.ndarray or `~astropy.units.Quantity`
        ``(H, W)`` image (plain numbers kept as they are).
    quiet : numpy.ndarray
        Boolean ``(H, W)`` quiet-Sun mask, e.g. from
        `~sunpy_magnetogan.metrics.activity_masks` restricted to ``mu`` above a limit.
    size : int, optional
        Side of the patches in pixels.

    Returns
    -------
    list of numpy.ndarray
        ``(size, size)`` float arrays, possibly none.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import quiet_sun_patches
    >>> quiet = np.ones((128, 128), dtype=bool)
    >>> quiet[:10, :10] = False
    >>> len(quiet_sun_patches(np.zeros((128, 128)), quiet, size=64))
    3
    """
    values = np.asarray(u.Quantity(field).value if isinstance(field, u.Quantity) else field, dtype=float)
    quiet = np.asarray(quiet, dtype=bool) & np.isfinite(values)
    if values.shape != quiet.shape:
        raise ValueError(f"field {values.shape} and quiet mask {quiet.shape} differ in shape")
    patches = []
    for top in range(0, values.shape[0] - size + 1, size):
        for left in range(0, values.shape[1] - size + 1, size):
            if quiet[top : top + size, left : left + size].all():
                patches.append(values[top : top + size, left : left + size].copy())
    return patches


def quiet_sun_by_mu(truth, generated, geometry, quiet, *, mu_edges=(0.2, 0.4, 0.6, 0.8, 1.0)):
    """
    Mean quiet-Sun radial-field strength, true and generated, in annuli of ``mu``.

    In each annulus the mean of ``|B_los| / mu`` over the quiet pixels estimates the
    quiet-Sun ``|B_r|``, which for a radial network field does not depend on ``mu``. A
    model that regresses unknown signs to zero weakens it where the field is most
    line-of-sight, i.e. towards disk centre: the generated / true ratio then falls with
    ``mu``.

    Parameters
    ----------
    truth, generated : numpy.ndarray or `~astropy.units.Quantity`
        Line-of-sight fields on the same grid, ``(H, W)`` (plain numbers: Gauss).
    geometry : `~sunpy_magnetogan.metrics.DiskGeometry`
        The grid's geometry (``mu``).
    quiet : numpy.ndarray
        Boolean ``(H, W)`` quiet-Sun mask.
    mu_edges : sequence of float, optional
        Increasing edges of the annuli; an annulus holds ``low < mu <= high``.

    Returns
    -------
    `~astropy.table.QTable`
        One row per annulus: ``mu_low``, ``mu_high``, ``mean_true`` and
        ``mean_generated`` (G), ``ratio`` (generated / true) and ``n_pixels``. Combine
        the tables of many images with `combine_quiet_sun_by_mu`.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import grid_geometry, quiet_sun_by_mu
    >>> geometry = grid_geometry(128)
    >>> truth = np.where(geometry.on_disk, 20.0 * geometry.mu, np.nan)  # |B_r| = 20 G
    >>> table = quiet_sun_by_mu(truth, 0.5 * truth, geometry, geometry.on_disk)
    >>> [round(float(v), 1) for v in table["mean_true"].value], [float(r) for r in table["ratio"]]
    ([20.0, 20.0, 20.0, 20.0], [0.5, 0.5, 0.5, 0.5])
    """
    b_true = np.abs(np.asarray(u.Quantity(truth, u.G).value, dtype=float))
    b_gen = np.abs(np.asarray(u.Quantity(generated, u.G).value, dtype=float))
    mu = np.asarray(geometry.mu, dtype=float)
    edges = mu_annulus_edges(mu_edges)
    valid = np.asarray(quiet, dtype=bool) & np.isfinite(b_true) & np.isfinite(b_gen) & np.isfinite(mu)
    rows = []
    for low, high in pairwise(edges):
        with np.errstate(invalid="ignore"):
            annulus = valid & (mu > low) & (mu <= high)
        n = int(annulus.sum())
        if n:
            mean_true = float(np.mean(b_true[annulus] / mu[annulus]))
            mean_gen = float(np.mean(b_gen[annulus] / mu[annulus]))
        else:
            mean_true = mean_gen = np.nan
        ratio = mean_gen / mean_true if mean_true > 0 else np.nan
        rows.append((low, high, mean_true, mean_gen, ratio, n))
    low, high, mean_true, mean_gen, ratio, n = zip(*rows, strict=True)
    return QTable(
        {
            "mu_low": np.array(low),
            "mu_high": np.array(high),
            "mean_true": u.Quantity(mean_true, u.G),
            "mean_generated": u.Quantity(mean_gen, u.G),
            "ratio": np.array(ratio),
            "n_pixels": np.array(n),
        }
    )


def combine_quiet_sun_by_mu(tables):
    """
    Combine the `quiet_sun_by_mu` tables of several images.

    Parameters
    ----------
    tables : iterable of `~astropy.table.QTable`
        Tables of `quiet_sun_by_mu` with the same annuli.

    Returns
    -------
    `~astropy.table.QTable`
        The same columns: the means weighted by each image's pixel count (an annulus
        without pixels in an image does not count), ``n_pixels`` summed, ``ratio`` that of
        the combined means.

    Raises
    ------
    ValueError
        If there is no table, or the tables have different annuli.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import combine_quiet_sun_by_mu, grid_geometry, quiet_sun_by_mu
    >>> geometry = grid_geometry(128)
    >>> truth = np.where(geometry.on_disk, 20.0 * geometry.mu, np.nan)
    >>> tables = [quiet_sun_by_mu(truth, f * truth, geometry, geometry.on_disk) for f in (0.5, 1.5)]
    >>> [round(float(r), 2) for r in combine_quiet_sun_by_mu(tables)["ratio"]]
    [1.0, 1.0, 1.0, 1.0]
    """
    tables = list(tables)
    if not tables:
        raise ValueError("no quiet_sun_by_mu table to combine")
    check_same_annuli(tables, "quiet_sun_by_mu")
    first = tables[0]
    n = np.sum([t["n_pixels"] for t in tables], axis=0)

    def weighted(name):
        total = np.sum(
            [np.where(t["n_pixels"] > 0, t[name].value * t["n_pixels"], 0.0) for t in tables], axis=0
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(n > 0, total / np.maximum(n, 1), np.nan)

    mean_true, mean_gen = weighted("mean_true"), weighted("mean_generated")
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(mean_true > 0, mean_gen / mean_true, np.nan)
    return QTable(
        {
            "mu_low": np.array(first["mu_low"]),
            "mu_high": np.array(first["mu_high"]),
            "mean_true": u.Quantity(mean_true, u.G),
            "mean_generated": u.Quantity(mean_gen, u.G),
            "ratio": ratio,
            "n_pixels": n,
        }
    )

"""
Centre-to-limb behaviour of a generated magnetogram.

A line-of-sight magnetogram of a mostly radial field fades towards the limb as ``mu``,
and the flux computed from it with the usual ``1 / mu`` corrections should not depend on
where a region sits on the disk. A model that has not learnt that decline gives too much
flux near the limb and too little at disk centre: its total flux can still be right on
average, so the paper's whole-disk metrics do not show it, while the flux and position
of a region followed across the disk (`sunpy_magnetogan.tracking`) do.

`flux_by_mu` sums the unsigned flux of a true and a generated field in annuli of ``mu``;
the ratio generated / true in each annulus should be the same from disk centre to limb.
`sum_flux_by_mu` adds up the tables of many images, which is where that ratio means
something.
"""

from itertools import pairwise

import astropy.units as u
import numpy as np
from astropy.table import QTable

from sunpy_magnetogan.metrics.flux import DEFAULT_THRESHOLD, flux_from_arrays
from sunpy_magnetogan.sphere import mu_annulus_edges

__all__ = ["MU_EDGES", "check_same_annuli", "flux_by_mu", "sum_flux_by_mu"]

#: Default annuli of `flux_by_mu`: ``mu`` from the limb zone (0.1 - 0.3) to disk centre.
MU_EDGES = (0.1, 0.3, 0.5, 0.7, 0.9, 1.0)


@u.quantity_input
def flux_by_mu(
    truth, generated, geometry, *, mu_edges=MU_EDGES, mask=None, threshold: u.G = DEFAULT_THRESHOLD
):
    """
    Unsigned flux of a true and a generated field in annuli of ``mu``.

    Parameters
    ----------
    truth, generated : numpy.ndarray or `~astropy.units.Quantity`
        Line-of-sight fields on the same grid, shape ``(H, W)`` (plain numbers: Gauss).
    geometry : `~sunpy_magnetogan.metrics.DiskGeometry`
        The grid's geometry.
    mu_edges : sequence of float
        Increasing edges of the annuli in ``mu``; an annulus holds ``low < mu <= high``.
    mask : numpy.ndarray, optional
        Extra boolean ``(H, W)`` mask of valid pixels.
    threshold : `~astropy.units.Quantity`
        Pixels with ``|B_los| <= threshold`` are left out, in each field separately (as in
        the total unsigned flux of `~sunpy_magnetogan.metrics.pair_metrics`).

    Returns
    -------
    `~astropy.table.QTable`
        One row per annulus: ``mu_low``, ``mu_high``, ``flux_true`` and ``flux_generated``
        (Mx, radial-field estimate ``B_los / mu`` times the de-projected pixel area, so
        that a region's flux does not depend on ``mu``), ``ratio`` (generated / true; NaN
        where the true flux is 0) and ``n_pixels``. Sum the tables of many images
        (`sum_flux_by_mu`) before reading the ratios.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import flux_by_mu, grid_geometry
    >>> geometry = grid_geometry(128)
    >>> radial = np.where(np.isfinite(geometry.mu), 300.0, np.nan)
    >>> truth = radial * geometry.mu  # B_los = mu B_r
    >>> table = flux_by_mu(truth, radial, geometry)  # a model that forgot the mu
    >>> [round(float(r), 1) for r in table["ratio"]]
    [5.7, 2.6, 1.7, 1.3, 1.1]
    """
    edges = mu_annulus_edges(mu_edges)
    mu = np.asarray(geometry.mu, dtype=float)
    rows = []
    for low, high in pairwise(edges):
        with np.errstate(invalid="ignore"):
            annulus = (mu > low) & (mu <= high)
        if mask is not None:
            annulus &= np.asarray(mask, dtype=bool)
        kwargs = {"mask": annulus, "mu_min": 0.0, "threshold": threshold, "radial_correction": True}
        f_true = flux_from_arrays(truth, geometry.area, mu, **kwargs).total_unsigned
        f_gen = flux_from_arrays(generated, geometry.area, mu, **kwargs).total_unsigned
        ratio = float(f_gen / f_true) if f_true > 0 * u.Mx else np.nan
        rows.append((low, high, f_true, f_gen, ratio, int(annulus.sum())))
    low, high, f_true, f_gen, ratio, n = zip(*rows, strict=True)
    return QTable(
        {
            "mu_low": np.array(low),
            "mu_high": np.array(high),
            "flux_true": u.Quantity(f_true, u.Mx),
            "flux_generated": u.Quantity(f_gen, u.Mx),
            "ratio": np.array(ratio),
            "n_pixels": np.array(n),
        }
    )


def sum_flux_by_mu(tables):
    """
    Add up the `flux_by_mu` tables of several images.

    Parameters
    ----------
    tables : iterable of `~astropy.table.QTable`
        Tables of `flux_by_mu` with the same annuli.

    Returns
    -------
    `~astropy.table.QTable`
        The same columns: the fluxes and pixel counts summed, ``ratio`` that of the sums.

    Raises
    ------
    ValueError
        If there is no table, or the tables have different annuli.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import flux_by_mu, grid_geometry, sum_flux_by_mu
    >>> geometry = grid_geometry(128)
    >>> truth = np.where(np.isfinite(geometry.mu), 300.0 * geometry.mu, np.nan)
    >>> tables = [flux_by_mu(truth, 0.5 * truth, geometry), flux_by_mu(truth, 1.5 * truth, geometry)]
    >>> [round(float(r), 2) for r in sum_flux_by_mu(tables)["ratio"]]
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    tables = list(tables)
    if not tables:
        raise ValueError("no flux_by_mu table to add up")
    check_same_annuli(tables, "flux_by_mu")
    total = tables[0].copy()
    for table in tables[1:]:
        for name in ("flux_true", "flux_generated", "n_pixels"):
            total[name] += table[name]
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = (total["flux_generated"] / total["flux_true"]).to_value(u.one)
    total["ratio"] = np.where(total["flux_true"] > 0 * u.Mx, ratio, np.nan)
    return total


def check_same_annuli(tables, kind):
    """
    Check that tables of values per ``mu`` annulus all have the same annuli.

    Parameters
    ----------
    tables : list of `~astropy.table.QTable`
        Tables with the ``mu_low`` and ``mu_high`` columns of `flux_by_mu` (or of
        `~sunpy_magnetogan.metrics.quiet_sun_by_mu`).
    kind : str
        What made the tables, for the error message.

    Raises
    ------
    ValueError
        If a table's annuli differ from the first table's.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import flux_by_mu, grid_geometry
    >>> from sunpy_magnetogan.metrics.limb import check_same_annuli
    >>> geometry = grid_geometry(64)
    >>> field = np.where(np.isfinite(geometry.mu), 300.0, np.nan)
    >>> check_same_annuli([flux_by_mu(field, field, geometry)] * 2, "flux_by_mu")
    """
    first = tables[0]
    for table in tables[1:]:
        if not (
            np.array_equal(table["mu_low"], first["mu_low"])
            and np.array_equal(table["mu_high"], first["mu_high"])
        ):
            raise ValueError(f"the {kind} tables have different annuli")

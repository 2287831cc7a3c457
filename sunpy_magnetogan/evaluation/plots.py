"""
Figures of an evaluation: comparison panels, the total-flux scatter plot and the
reliability diagram of the polarity confidence.

The functions build `matplotlib.figure.Figure` objects directly (no pyplot state), so they
can be called in a loop over many pairs without leaking figures; show them in a notebook by
returning them, or save them with ``fig.savefig``.
"""

import astropy.units as u
import numpy as np
from matplotlib import colormaps
from matplotlib.figure import Figure
from sunpy.visualization import axis_labels_from_ctype

from sunpy_magnetogan.metrics.image import flux_cc
from sunpy_magnetogan.polarity import expected_calibration_error, reliability_curve

__all__ = ["plot_comparison", "plot_flux_scatter", "plot_reliability"]


def _field_cmap(name):
    import sunpy.visualization.colormaps  # noqa: F401  (registers 'hmimag')

    # Missing pixels (off the disk, masked) in a colour the scale does not use.
    bad = "white" if name in ("gray", "grey", "Greys_r") else "black"
    return colormaps[name].with_extremes(bad=bad)


def _is_map(x):
    from sunpy.map import GenericMap

    return isinstance(x, GenericMap)


def _field(x):
    if _is_map(x):
        return u.Quantity(x.data, x.unit).to_value(u.G)
    if isinstance(x, u.Quantity):
        return x.to_value(u.G)
    return np.asarray(x, dtype=np.float64)


def _symmetric_limit(values, percentile=99.9):
    """The ``percentile`` of ``|values|``, rounded up to one significant figure (262 -> 300)."""
    finite = np.abs(values[np.isfinite(values)])
    if finite.size == 0:
        return 1.0
    limit = float(np.percentile(finite, percentile))
    if limit <= 0:
        return max(float(finite.max()), 1.0)
    step = 10.0 ** np.floor(np.log10(limit))
    return float(np.ceil(limit / step - 1e-9) * step)


def plot_comparison(
    truth,
    generated,
    input=None,
    *,
    vmax=None,
    diff_vmax=None,
    cmap="gray",
    mask=None,
    title=None,
    figure=None,
):
    """
    Input / truth / generated / difference panels of one pair.

    Parameters
    ----------
    truth, generated : `~sunpy.map.GenericMap` or numpy.ndarray
        The true and generated fields on the same grid (arrays in Gauss). Maps are drawn
        on their own WCS axes.
    input : `~sunpy.map.GenericMap` or numpy.ndarray, optional
        The EUV input (first panel; left out when None).
    vmax : float or `~astropy.units.Quantity`, optional
        Limit of the symmetric colour scale ``[-vmax, vmax]`` (G) of the truth and generated
        panels. By default it is chosen from the data: the 99.9th percentile of ``|truth|``
        (on the valid pixels) rounded up to one significant figure, so that the quiet Sun
        is not lost and the few strongest active-region pixels saturate.
    diff_vmax : float or `~astropy.units.Quantity`, optional
        Limit of the symmetric scale of the difference ``generated - truth`` (G); ``vmax``
        by default, so that the difference reads on the same scale as the fields.
    cmap : str, optional
        Colour map of the field panels: ``"gray"`` by default (linear in brightness, so no
        colour step makes noise or stripes near 0 G look like structure; white off the
        disk); ``"hmimag"`` for the HMI colour table.
    mask : numpy.ndarray, optional
        Boolean mask of valid pixels; pixels outside are drawn as missing.
    title : str, optional
        Figure title.
    figure : `~matplotlib.figure.Figure`, optional
        Figure to draw into (cleared first); a new one by default.

    Returns
    -------
    `~matplotlib.figure.Figure`
        With one image axes per panel, each with its colour bar (also in ``figure.axes``).
    """
    b_true, b_gen = _field(truth), _field(generated)
    if b_true.shape != b_gen.shape:
        raise ValueError(
            f"truth and generated must be on the same grid, got {b_true.shape} and {b_gen.shape}"
        )
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        b_true = np.where(mask, b_true, np.nan)
        b_gen = np.where(mask, b_gen, np.nan)
    diff = b_gen - b_true
    vmax = _symmetric_limit(b_true) if vmax is None else float(u.Quantity(vmax, u.G).value)
    diff_vmax = vmax if diff_vmax is None else float(u.Quantity(diff_vmax, u.G).value)
    cmap = _field_cmap(cmap)

    n_panels = 4 if input is not None else 3
    fig = figure if figure is not None else Figure(figsize=(4.2 * n_panels, 4.6), layout="constrained")
    fig.clear()

    def new_axes(index, source):
        projection = source.wcs if _is_map(source) else None
        return fig.add_subplot(1, n_panels, index, projection=projection)

    def finish_axes(ax, first):
        if hasattr(ax, "coords"):
            # Name the world axes as sunpy does ("Helioprojective Longitude (Solar-X)")
            # instead of the WCS's physical types; the latitude only on the first panel.
            ctype = ax.wcs.wcs.ctype
            ax.coords[0].set_axislabel(axis_labels_from_ctype(ctype[0], None))
            ax.coords[1].set_axislabel(axis_labels_from_ctype(ctype[1], None) if first else "")
            if not first:
                ax.coords[1].set_ticklabel_visible(False)
        elif not first:
            ax.set_yticklabels([])

    index = 1
    if input is not None:
        ax = new_axes(index, input)
        data = input.data if _is_map(input) else np.asarray(input, dtype=np.float64)
        if _is_map(input):
            cmap_in = input.plot_settings.get("cmap", "gray")
            norm = input.plot_settings.get("norm")
            image = ax.imshow(data, origin="lower", cmap=cmap_in, norm=norm)
            unit = f" ({input.unit.to_string()})" if input.unit is not None else ""
        else:
            lo, hi = np.nanpercentile(data, [0.5, 99.5])
            image = ax.imshow(data, origin="lower", cmap=colormaps["sdoaia304"], vmin=lo, vmax=hi)
            unit = ""
        ax.set_title("Input (EUV)")
        fig.colorbar(image, ax=ax, label=f"EUV intensity{unit}", shrink=0.8)
        finish_axes(ax, index == 1)
        index += 1
    field_axes = []
    for label, data, source in (("Truth", b_true, truth), ("Generated", b_gen, generated)):
        ax = new_axes(index, source)
        image = ax.imshow(data, origin="lower", cmap=cmap, vmin=-vmax, vmax=vmax)
        ax.set_title(label)
        finish_axes(ax, index == 1)
        field_axes.append(ax)
        index += 1
    fig.colorbar(image, ax=field_axes, label="B$_{LOS}$ (G)", shrink=0.8)
    ax = new_axes(index, truth)
    image = ax.imshow(diff, origin="lower", cmap=cmap, vmin=-diff_vmax, vmax=diff_vmax)
    ax.set_title("Generated - truth")
    finish_axes(ax, False)
    fig.colorbar(image, ax=ax, label="ΔB$_{LOS}$ (G)", shrink=0.8)
    if title:
        fig.suptitle(title)
    return fig


def plot_flux_scatter(flux_true, flux_generated=None, *, ax=None, unit=u.Mx, label=None):
    """
    Scatter of true vs generated total unsigned flux, with the 1:1 line and the flux CC.

    Parameters
    ----------
    flux_true : `~astropy.units.Quantity` or `~astropy.table.QTable`
        True fluxes, shape ``(n_pairs,)``; or a table from
        `~sunpy_magnetogan.evaluation.evaluate_pairs` (its ``flux_true`` and
        ``flux_generated`` columns are used).
    flux_generated : `~astropy.units.Quantity`, optional
        Generated fluxes (required unless a table is given).
    ax : `~matplotlib.axes.Axes`, optional
        Axes to draw on; a new figure by default.
    unit : `~astropy.units.Unit`, optional
        Unit of the axes (Mx).
    label : str, optional
        Legend label of the points.

    Returns
    -------
    `~matplotlib.axes.Axes`
    """
    if flux_generated is None:
        table = flux_true
        flux_true, flux_generated = table["flux_true"], table["flux_generated"]
    t = u.Quantity(flux_true).to_value(unit)
    g = u.Quantity(flux_generated).to_value(unit)
    if t.shape != g.shape:
        raise ValueError(f"flux_true and flux_generated differ in length: {t.shape} vs {g.shape}")
    if ax is None:
        fig = Figure(figsize=(5.2, 5), layout="constrained")
        ax = fig.add_subplot()
    ax.scatter(t, g, s=14, alpha=0.8, label=label or "pairs")
    finite = np.concatenate([t[np.isfinite(t)], g[np.isfinite(g)]])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi), 1.0) * 0.05
    limits = (lo - pad, hi + pad)
    ax.plot(limits, limits, color="k", lw=1, ls="--", label="1:1")
    ax.set_xlim(limits)
    ax.set_ylim(limits)
    ax.set_aspect("equal")
    unit_label = u.Unit(unit).to_string()
    ax.set_xlabel(f"True total unsigned flux ({unit_label})")
    ax.set_ylabel(f"Generated total unsigned flux ({unit_label})")
    cc = flux_cc(t, g)
    ax.set_title(f"Total unsigned flux, CC = {cc:.3f}" if np.isfinite(cc) else "Total unsigned flux")
    ax.legend(loc="upper left")
    return ax


def plot_reliability(curves, *, bins=10, title=None):
    """
    Reliability diagram of the polarity confidence: observed against stated probability.

    Parameters
    ----------
    curves : dict
        ``{label: (probability, right)}``: the stated probabilities of scored pixels and
        whether their sign was right (see `sunpy_magnetogan.polarity.sign_is_right`), one
        entry per data set (e.g. per held-out split).
    bins : int, optional
        Equal-width probability bins.
    title : str, optional
        Figure title.

    Returns
    -------
    `matplotlib.figure.Figure`
        Top: fraction of right signs per bin against the mean stated probability (the
        diagonal is perfect calibration), with each set's expected calibration error in the
        legend. Bottom: the share of pixels in each bin.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.evaluation import plot_reliability
    >>> rng = np.random.default_rng(0)
    >>> p = rng.uniform(0.5, 1, 5000)
    >>> fig = plot_reliability({"calibrated": (p, rng.random(p.size) < p)})
    >>> len(fig.axes)
    2
    """
    fig = Figure(figsize=(5.5, 6.5))
    top, bottom = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    top.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect calibration")
    edges = np.linspace(0, 1, bins + 1)
    width = 1.0 / bins / (len(curves) + 1)
    for k, (label, (probability, right)) in enumerate(curves.items()):
        mean_p, observed, counts = reliability_curve(probability, right, bins=bins)
        ece = expected_calibration_error(probability, right, bins=bins)
        filled = counts > 0
        top.plot(mean_p[filled], observed[filled], marker="o", label=f"{label} (ECE {ece:.3f})")
        bottom.bar(
            edges[:-1] + (k + 0.5) * width, counts / counts.sum(), width=width, align="edge", label=label
        )
    top.set_ylabel("fraction of pixels with the right sign")
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.legend(loc="upper left", fontsize="small")
    top.grid(alpha=0.3)
    bottom.set_xlabel("stated probability that the sign is right")
    bottom.set_ylabel("share of pixels")
    if title:
        top.set_title(title)
    fig.tight_layout()
    return fig

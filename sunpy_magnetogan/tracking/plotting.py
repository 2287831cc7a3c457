"""
Figures of tracking results and synoptic maps.

Every function draws on the given axes (or a new figure) and returns the axes, so that
callers (and tests) can inspect or save the artists.
"""

import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
from astropy.visualization import ImageNormalize
from matplotlib import patheffects
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from .synoptic import SynopticMap
from .tracker import TrackingResult

__all__ = ["plot_flux_history", "plot_synoptic_map", "plot_tracks"]

_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
#: A white halo keeps lines and labels readable over an image.
_HALO = [patheffects.withStroke(linewidth=3, foreground="white")]


def _observer_markers(observers):
    return {name: _MARKERS[k % len(_MARKERS)] for k, name in enumerate(dict.fromkeys(observers))}


def _split_wrap(lon, lat):
    """Break a longitude sequence where it wraps through 0/360 deg."""
    breaks = np.flatnonzero(np.abs(np.diff(lon)) > 180) + 1
    return zip(np.split(lon, breaks), np.split(lat, breaks), strict=True)


def _unpack(history, tracks):
    if isinstance(history, TrackingResult):
        return history.history, history.tracks if tracks is None else tracks
    return history, tracks


def _magnetic_norm(data, vmax):
    if vmax is None:
        finite = np.abs(np.asarray(data)[np.isfinite(data)])
        vmax = float(np.percentile(finite, 99.5)) if finite.size else 1.0
        vmax = vmax or 1.0
    else:
        vmax = u.Quantity(vmax, u.G).to_value(u.G)
    return ImageNormalize(vmin=-vmax, vmax=vmax)


def plot_tracks(history, *, tracks=None, background=None, ax=None, annotate=True, vmax=None, cmap="gray"):
    """
    Draw the tracks' Carrington positions, optionally over a Carrington map.

    Parameters
    ----------
    history : `~astropy.table.QTable` or `TrackingResult`
        The per-detection history (``track_id``, ``lon``, ``lat``, ``observer``, ...).
    tracks : `~astropy.table.QTable`, optional
        The track table; tracks that merged are drawn dashed.
    background : `~sunpy.map.GenericMap` or `SynopticMap`, optional
        A Carrington map (e.g. a synoptic map) to draw underneath.
    ax : `matplotlib.axes.Axes`, optional
        Axes to draw on; with a background they must be a WCSAxes of the background's WCS.
        A new figure is made by default.
    annotate : bool
        Write each track's ID at its first position.
    vmax : `~astropy.units.Quantity`, optional
        Colour-scale limit of the background (G); its 99.5th percentile of ``|B|`` by default.
    cmap : str
        Colour map of the background.

    Returns
    -------
    `matplotlib.axes.Axes`
        One line per track (label ``"track <id>"``), markers shaped by observer.
    """
    history, tracks = _unpack(history, tracks)
    if isinstance(background, SynopticMap):
        background = background.map
    if ax is None:
        fig = plt.figure(figsize=(10, 5))
        ax = fig.add_subplot(projection=background.wcs) if background is not None else fig.add_subplot()
    if background is not None:
        background.plot(axes=ax, cmap=cmap, norm=_magnetic_norm(background.data, vmax), title=False)
        transform = ax.get_transform("world")
    else:
        transform = ax.transData
        ax.set_xlim(0, 360)
        ax.set_ylim(-90, 90)
        ax.set_xlabel("Carrington longitude [deg]")
        ax.set_ylabel("Carrington latitude [deg]")
        ax.grid(alpha=0.3)
    markers = _observer_markers(list(history["observer"]))
    merged = set()
    if tracks is not None and len(tracks):
        merged = {int(t["track_id"]) for t in tracks if t["status"] == "merged"}
    colors = plt.get_cmap("tab10")
    for k, track_id in enumerate(np.unique(np.asarray(history["track_id"]))):
        rows = history[history["track_id"] == track_id]
        lon = rows["lon"].to_value(u.deg)
        lat = rows["lat"].to_value(u.deg)
        color = colors(k % 10)
        style = "--" if int(track_id) in merged else "-"
        label = f"track {int(track_id)}"
        for seg_lon, seg_lat in _split_wrap(lon, lat):
            ax.plot(
                seg_lon,
                seg_lat,
                style,
                color=color,
                transform=transform,
                label=label,
                lw=1.5,
                path_effects=_HALO,
            )
            label = None
        for name, marker in markers.items():
            sel = np.asarray(rows["observer"]) == name
            if sel.any():
                ax.plot(
                    lon[sel],
                    lat[sel],
                    marker,
                    color=color,
                    mec="white",
                    mew=0.5,
                    ms=5,
                    ls="none",
                    transform=transform,
                )
        if annotate:
            ax.text(
                lon[0],
                lat[0],
                f" {int(track_id)}",
                color=color,
                transform=transform,
                fontsize=10,
                path_effects=_HALO,
            )
    handles = [Line2D([], [], marker=m, ls="none", color="0.3", label=name) for name, m in markers.items()]
    if handles:
        ax.legend(handles=handles, loc="lower left", fontsize=8, title="observer")
    ax.set_title("Active-region tracks (Carrington)")
    return ax


def plot_flux_history(history, *, tracks=None, ax=None, column="unsigned_flux", track_ids=None, log=True):
    """
    Plot each track's flux against time.

    Parameters
    ----------
    history : `~astropy.table.QTable` or `TrackingResult`
        The per-detection history.
    tracks : `~astropy.table.QTable`, optional
        Unused beyond unpacking a `TrackingResult`; kept for symmetry with `plot_tracks`.
    ax : `matplotlib.axes.Axes`, optional
        Axes to draw on; a new figure by default.
    column : str
        The history column to plot (``'unsigned_flux'``, ``'positive_flux'``,
        ``'net_flux'``, ``'area'``, ...).
    track_ids : iterable of int, optional
        The tracks to draw; all by default.
    log : bool
        Logarithmic y axis (ignored for a column that changes sign).

    Returns
    -------
    `matplotlib.axes.Axes`
        One line per track (label ``"track <id>"``); detections flagged ``near_limb`` are
        drawn as open markers, markers shaped by observer.
    """
    history, _ = _unpack(history, tracks)
    if ax is None:
        ax = plt.figure(figsize=(9, 4.5)).add_subplot()
    ids = np.unique(np.asarray(history["track_id"])) if track_ids is None else list(track_ids)
    markers = _observer_markers(list(history["observer"]))
    unit = history[column].unit if len(history) else u.Mx
    colors = plt.get_cmap("tab10")
    for k, track_id in enumerate(ids):
        rows = history[history["track_id"] == track_id]
        if not len(rows):
            continue
        rows = rows[np.argsort(rows["time"].jd, kind="stable")]
        times = rows["time"].datetime
        values = u.Quantity(rows[column]).to_value(unit)
        color = colors(k % 10)
        ax.plot(times, values, "-", color=color, label=f"track {int(track_id)}", lw=1.2)
        limb = np.asarray(rows["near_limb"], dtype=bool)
        for name, marker in markers.items():
            sel = np.asarray(rows["observer"]) == name
            for flag, face in ((False, color), (True, "none")):
                pick = sel & (limb == flag)
                if pick.any():
                    ax.plot(times[pick], values[pick], marker, ls="none", mfc=face, mec=color, ms=4)
    if log and len(history) and np.all(u.Quantity(history[column]).value >= 0):
        ax.set_yscale("log")
    ax.set_xlabel("time [UTC]")
    ax.set_ylabel(f"{column.replace('_', ' ')} [{unit.to_string()}]")
    ax.legend(fontsize=8, ncol=2)
    ax.figure.autofmt_xdate()
    ax.set_title("Flux history (open markers: near the limb)")
    return ax


def plot_synoptic_map(synoptic, *, ax=None, vmax=None, outline=True, cmap="gray"):
    """
    Draw a synoptic map with the part each source contributed outlined.

    Parameters
    ----------
    synoptic : `SynopticMap`
    ax : `matplotlib.axes.Axes`, optional
        A WCSAxes of the map's WCS; a new figure by default.
    vmax : `~astropy.units.Quantity`, optional
        Colour-scale limit (G); the 99.5th percentile of ``|B|`` by default.
    outline : bool
        Draw the contour of each source's region of the source map, one colour per source,
        with a legend, and hatch the farside predictions
        (`SynopticMap.farside_prediction_mask`), labelled "farside prediction".
    cmap : str
        Colour map of the field.

    Returns
    -------
    `matplotlib.axes.Axes`
        The image, plus one contour set per source when ``outline``.
    """
    smap = synoptic.map
    if ax is None:
        fig = plt.figure(figsize=(10, 5))
        ax = fig.add_subplot(projection=smap.wcs)
    smap.plot(axes=ax, cmap=cmap, norm=_magnetic_norm(smap.data, vmax), title=False)
    ax.set_facecolor("0.85")  # no coverage shows as light grey
    if outline:
        colors = plt.get_cmap("Set1")
        handles = []
        source = np.asarray(synoptic.source.data)
        for k, label in enumerate(synoptic.labels):
            mask = (source == k).astype(float)
            if not mask.any():
                continue
            color = colors(k % 9)
            ax.contour(mask, levels=[0.5], colors=[color], linewidths=1.2)
            handles.append(Line2D([], [], color=color, label=label))
        farside = synoptic.farside_prediction_mask()
        if farside.any():
            ax.contourf(farside.astype(float), levels=[0.5, 1.5], colors="none", hatches=["//"])
            handles.append(Patch(facecolor="none", edgecolor="0.3", hatch="//", label="farside prediction"))
        if handles:
            ax.legend(handles=handles, loc="lower left", fontsize=8, title="source")
    date = smap.date.isot[:16] if smap.date is not None else ""
    ax.set_title(f"Synoptic map {date}")
    return ax

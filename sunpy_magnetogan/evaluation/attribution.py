"""
Which truth region of a synthetic Sun each detected active region shows.

`attribute_detections` gives each detected region the truth region that holds the largest
part of the unsigned flux inside its footprint, and marks each truth region's *main*
detection. It is re-exported by `sunpy_magnetogan.evaluation.tracking`.
"""

import astropy.units as u
import numpy as np
from astropy.coordinates import SkyCoord
from astropy.table import QTable
from astropy.time import Time
from sunpy.coordinates import HeliographicCarrington

from sunpy_magnetogan.sphere import mu_towards

__all__ = ["attribute_detections"]


def attribute_detections(detections, labels, sun):
    """
    The truth region that each detected region shows.

    Every flux concentration of the synthetic Sun's active regions (not the quiet-Sun
    network) on the visible hemisphere is placed on the label map. A detection shows the
    truth region whose concentrations inside its footprint hold the largest unsigned flux,
    and is that region's *main* detection if no other detection of the map holds more of
    the region's flux. A region spread over several detections thus has one main
    detection (the others are fragments), and a region swallowed by a detection that
    another region dominates has none.

    Parameters
    ----------
    detections : `~astropy.table.QTable`
        From `~sunpy_magnetogan.tracking.detect_active_regions` (``return_labels=True``).
    labels : `~sunpy.map.GenericMap`
        The label map returned with it.
    sun : `~sunpy_magnetogan.synthetic.SyntheticSun`
        The Sun the magnetogram shows.

    Returns
    -------
    `~astropy.table.QTable`
        A copy of ``detections`` with ``truth_id`` (int, 0 when no truth flux falls
        inside), ``truth_share`` (fraction of the truth flux inside that belongs to that
        region), ``truth_coverage`` (fraction of that region's flux on the visible
        hemisphere that lies inside) and ``truth_main`` (bool).

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi
    >>> from sunpy_magnetogan.tracking import detect_active_regions
    >>> sun = SyntheticSun(3001)
    >>> table, labels = detect_active_regions(observe_hmi(sun, "2014-03-09", npix=192), return_labels=True)
    >>> table = attribute_detections(table, labels, sun)
    >>> big = table[table["unsigned_flux"] > 1e22 * u.Mx]
    >>> bool((big["truth_id"] > 0).all() and (big["truth_share"] > 0.5).all())
    True
    """
    out = QTable(detections, copy=True)
    out["truth_id"] = np.zeros(len(out), dtype=np.int64)
    out["truth_share"] = np.zeros(len(out))
    out["truth_coverage"] = np.zeros(len(out))
    out["truth_main"] = np.zeros(len(out), dtype=bool)
    if not len(out):
        return out
    time = Time(detections.meta["date"])
    observer = labels.observer_coordinate
    src = sun.sources(time, network=False)
    frame = HeliographicCarrington(observer=observer, obstime=time, rsun=labels.rsun_meters)
    visible = mu_towards(src.lon, src.lat, observer, frame) > 0
    if not visible.any():
        return out
    coords = SkyCoord(src.lon[visible] * u.deg, src.lat[visible] * u.deg, labels.rsun_meters, frame=frame)
    x, y = labels.wcs.world_to_pixel(coords)
    ix, iy = np.rint(x).astype(int), np.rint(y).astype(int)
    data = np.asarray(labels.data)
    inside = (ix >= 0) & (iy >= 0) & (ix < data.shape[1]) & (iy < data.shape[0])
    label = np.zeros(len(ix), dtype=int)
    label[inside] = data[iy[inside], ix[inside]]
    ids, region = np.unique(src.region[visible], return_inverse=True)
    weight = np.abs(src.flux[visible])
    # flux[k, j]: flux of truth region j inside label k (row 0: outside every region).
    n_labels = int(max(data.max(), np.max(out["label"])))
    flux = np.zeros((n_labels + 1, len(ids)))
    np.add.at(flux, (label, region), weight)
    total = flux.sum(axis=0)
    holder = np.argmax(flux[1:], axis=0) + 1  # label holding most of each region's flux
    for k, lab in enumerate(np.asarray(out["label"])):
        inside_flux = flux[lab]
        if inside_flux.sum() <= 0:
            continue
        best = int(np.argmax(inside_flux))
        out["truth_id"][k] = ids[best]
        out["truth_share"][k] = inside_flux[best] / inside_flux.sum()
        out["truth_coverage"][k] = inside_flux[best] / total[best]
        out["truth_main"][k] = holder[best] == lab
    return out

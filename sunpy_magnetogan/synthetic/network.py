"""
The quiet-Sun magnetic network of the synthetic Sun.

Supergranules are a population of cells, each born at a random place and time and living
`NetworkModel.lifetime` days while it rotates differentially with its latitude. At any time
the live cell centres tile the sphere (a spherical Voronoi tessellation, computed from the
convex hull of the centres); the network flux sits on the cell boundaries:

* at every vertex (where three cells meet), an element of flux from a log-normal
  distribution (median `NetworkModel.vertex_flux`);
* along the edges (between two cells), weaker elements in a few jittered slots, most
  of them filled;
* inside each cell, a few weak internetwork elements of random sign.

An element's flux, sign and position along its edge depend only on the identities of the
cells around it (`~sunpy_magnetogan.synthetic.seeding.hash_uniform`), so it persists and
moves with its cells for as long as they live; its strength follows the life cycle of the
youngest/oldest of them (``sin(pi * age / lifetime)``), so the pattern evolves smoothly.
Signs are mixed, with a bias toward the polar-field sign at high latitudes (weak unipolar
polar caps).
"""

import logging
from dataclasses import dataclass

import numpy as np
from scipy.spatial import ConvexHull
from scipy.special import ndtri

from sunpy_magnetogan.synthetic.projection import unit_vectors
from sunpy_magnetogan.synthetic.seeding import component_rng, hash_uniform
from sunpy_magnetogan.synthetic.sources import NETWORK, SourceSet, carrington_drift

__all__ = ["NetworkModel", "network_sources", "supergranules"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NetworkModel:
    """
    Parameters of the quiet-Sun network.

    Parameters
    ----------
    cells : int
        Number of live supergranules on the whole sphere (about 30 Mm across).
    lifetime : float
        Lifetime of a supergranule, days.
    vertex_flux, edge_flux : float
        Median unsigned flux of vertex and edge elements, Mx.
    flux_scatter : float
        Log-normal scatter of element fluxes, dex.
    edge_elements : int
        Element slots along each cell edge.
    edge_fraction : float
        Fraction of edge slots that hold an element.
    internetwork : int
        Weak mixed-polarity (internetwork) elements inside each cell.
    internetwork_flux : float
        Median unsigned flux of internetwork elements, Mx.
    width : float
        Angular width (deg) of every element (about 1.5 Mm).
    polar_bias : float
        At the poles, at cycle minimum, ``(1 + polar_bias) / 2`` of the elements have the
        polar-field sign.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import NetworkModel, SyntheticSun
    >>> NetworkModel().cells
    8000
    >>> no_network = SyntheticSun(1, network=None)  # active regions and polar fields only
    """

    cells: int = 8000
    lifetime: float = 2.0
    vertex_flux: float = 7e18
    edge_flux: float = 3e18
    flux_scatter: float = 0.3
    edge_elements: int = 3
    edge_fraction: float = 0.8
    internetwork: int = 30
    internetwork_flux: float = 1.3e18
    width: float = 0.12
    polar_bias: float = 0.7


def supergranules(seed, day, model):
    """
    The supergranules born during one day.

    Parameters
    ----------
    seed : int
        The Sun's seed.
    day : int
        Day index (days since `~sunpy_magnetogan.solar_cycle.EPOCH`, floored).
    model : NetworkModel
        Network parameters.

    Returns
    -------
    dict of numpy.ndarray
        ``id`` (int64), ``born`` (days), ``lon``, ``lat`` (Carrington deg at birth).
    """
    n = int(np.rint(model.cells / model.lifetime))
    rng = component_rng(seed, "supergranules", day)
    born = day + rng.random(n)
    lon = 360.0 * rng.random(n)
    lat = np.rad2deg(np.arcsin(2.0 * rng.random(n) - 1.0))
    return {
        "id": np.int64(day) * 100_000 + np.arange(n, dtype=np.int64),
        "born": born,
        "lon": lon,
        "lat": lat,
    }


def network_sources(seed, days, model, cells, *, north_polar=0.0, rotation_model="howard"):
    """
    The network elements at one time.

    Parameters
    ----------
    seed : int
        The Sun's seed.
    days : float
        The time, days since `~sunpy_magnetogan.solar_cycle.EPOCH`.
    model : NetworkModel
        Network parameters.
    cells : dict of numpy.ndarray
        Supergranules (from `supergranules`, concatenated over the days that can still
        have live cells at ``days``).
    north_polar : float
        North polar field relative to its value at minimum (signed, -1..1); sets the sign
        bias of high-latitude elements.
    rotation_model : str
        Differential-rotation model.

    Returns
    -------
    SourceSet
    """
    age = days - cells["born"]
    live = (age > 0) & (age < model.lifetime)
    ident = cells["id"][live]
    age = age[live]
    lat = cells["lat"][live]
    lon = cells["lon"][live] + carrington_drift(lat, model=rotation_model) * age
    weight = np.sqrt(np.sin(np.pi * age / model.lifetime))
    xyz = unit_vectors(lon, lat)
    hull = ConvexHull(xyz)
    simplices = hull.simplices
    normals = hull.equations[:, :3]
    normals = normals / np.linalg.norm(normals, axis=1)[:, np.newaxis]

    # Vertex elements: identified by their three cells.
    tri = np.sort(ident[simplices], axis=1)
    v_weight = weight[simplices].min(axis=1)
    v_u = hash_uniform(seed, tri[:, 0], tri[:, 1], tri[:, 2], np.arange(3)[:, np.newaxis])
    v_flux = model.vertex_flux * 10.0 ** (model.flux_scatter * ndtri(np.clip(v_u[0], 1e-9, 1 - 1e-9)))

    # Edge elements: between neighbouring vertices, identified by the two cells they separate.
    f = np.repeat(np.arange(len(simplices)), 3)
    j = np.tile(np.arange(3), len(simplices))
    g = hull.neighbors[f, j]
    once = f < g
    f, j, g = f[once], j[once], g[once]
    # The two cells shared by facets f and g: f's cells other than the one opposite g.
    others = np.array([[1, 2], [0, 2], [0, 1]])[j]
    cell_index = simplices[f[:, np.newaxis], others]
    pair = np.sort(ident[cell_index], axis=1)
    # Several elements along each edge (a fraction of slots is empty), at jittered positions.
    slots = model.edge_elements
    rank = np.tile(np.arange(slots), len(pair))
    rows = np.repeat(np.arange(len(pair)), slots)
    e_u = hash_uniform(seed, pair[rows, 0], pair[rows, 1], rank, np.arange(10, 14)[:, np.newaxis])
    has = e_u[3] < model.edge_fraction
    rows, rank = rows[has], rank[has]
    frac = (rank + 0.15 + 0.7 * e_u[1][has]) / slots
    e_xyz = normals[f[rows]] * (1.0 - frac)[:, np.newaxis] + normals[g[rows]] * frac[:, np.newaxis]
    e_xyz /= np.linalg.norm(e_xyz, axis=1)[:, np.newaxis]
    e_weight = weight[cell_index[rows]].min(axis=1)
    e_flux = model.edge_flux * 10.0 ** (model.flux_scatter * ndtri(np.clip(e_u[0][has], 1e-9, 1 - 1e-9)))

    # Internetwork elements: scattered inside each cell, identified by cell and rank.
    k = model.internetwork
    c_rows = np.repeat(np.arange(len(ident)), k)
    i_u = hash_uniform(
        seed, ident[c_rows], np.tile(np.arange(k), len(ident)), np.arange(20, 24)[:, np.newaxis]
    )
    centre = xyz[c_rows]
    east = np.cross([0.0, 0.0, 1.0], centre)
    east /= np.maximum(np.linalg.norm(east, axis=1), 1e-12)[:, np.newaxis]
    north = np.cross(centre, east)
    radius = 0.8 * np.sqrt(4.0 / len(ident)) * np.sqrt(i_u[0])  # radians, within the cell
    angle = 2.0 * np.pi * i_u[1]
    i_xyz = centre + radius[:, np.newaxis] * (
        np.cos(angle)[:, np.newaxis] * east + np.sin(angle)[:, np.newaxis] * north
    )
    i_xyz /= np.linalg.norm(i_xyz, axis=1)[:, np.newaxis]
    i_flux = model.internetwork_flux * 10.0 ** (model.flux_scatter * ndtri(np.clip(i_u[2], 1e-9, 1 - 1e-9)))
    i_flux = i_flux * weight[c_rows]

    all_xyz = np.concatenate([normals, e_xyz])
    all_flux = np.concatenate([v_flux * v_weight, e_flux * e_weight])
    sign_u = np.concatenate([v_u[2], e_u[2][has]])
    el_lat = np.rad2deg(np.arcsin(np.clip(all_xyz[:, 2], -1.0, 1.0)))
    bias = model.polar_bias * north_polar * np.sign(el_lat) * np.abs(np.sin(np.deg2rad(el_lat))) ** 6
    sign = np.where(sign_u < 0.5 * (1.0 + bias), 1.0, -1.0)
    # Internetwork signs are unbiased.
    all_xyz = np.concatenate([all_xyz, i_xyz])
    all_flux = np.concatenate([sign * all_flux, np.where(i_u[3] < 0.5, 1.0, -1.0) * i_flux])
    el_lat = np.rad2deg(np.arcsin(np.clip(all_xyz[:, 2], -1.0, 1.0)))
    el_lon = np.mod(np.rad2deg(np.arctan2(all_xyz[:, 1], all_xyz[:, 0])), 360.0)
    n = len(all_flux)
    keep = np.abs(all_flux) > 1e16
    return SourceSet(
        lon=el_lon[keep],
        lat=el_lat[keep],
        flux=all_flux[keep],
        sigma=np.full(n, model.width)[keep],
        kind=np.full(n, NETWORK, np.int8)[keep],
        region=np.full(n, -1, np.int64)[keep],
    )

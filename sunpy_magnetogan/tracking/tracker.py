"""
Tracking active regions in Carrington coordinates over a time-ordered mix of observers.

Each tracked region keeps the Carrington position of its last detection away from the
limb (a detection flagged ``near_limb`` has an unreliable centroid: it is recorded but does
not move the track, unless the track has no other). At the time of the next magnetogram
(from any observer: SDO on the frontside, a generated farside map from STEREO/EUVI, ...)
its position is predicted with sunpy's differential rotation
(`sunpy.sun.models.differential_rotation`, as `~sunpy.coordinates.RotatedSunFrame` applies
it to a point on the surface), and the detections of that magnetogram are
associated with the predictions by minimising a cost (great-circle distance over a gating
distance, plus a small flux-ratio term) with `scipy.optimize.linear_sum_assignment`.

A track that is not visible from the observer of a magnetogram (on the other hemisphere,
or too close to the limb) keeps its identity while it coasts on the predicted rotation;
this is what carries an ID across a limb and from one observer to another. A track that
should have been seen but was not detected for ``max_gap`` ends, and so does a track not
detected at all for more than ``max_unseen``; both limits are applied at the start of each
update, before matching, so that a gap in the data (days, or years) never links two
regions that merely sit at the predicted position. A track whose predicted
position falls on a region already claimed by another track is merged into it; a
detection that matches no track starts a new one.
"""

import logging
from dataclasses import dataclass, field
from typing import NamedTuple

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.table import QTable
from astropy.time import Time
from scipy.optimize import linear_sum_assignment
from sunpy.coordinates import HeliographicCarrington
from sunpy.sun.constants import sidereal_rotation_rate
from sunpy.sun.models import differential_rotation

from sunpy_magnetogan.sphere import MSH, angular_distance, lonlat_to_vectors, mu_towards

from .detection import DETECTION_COLUMNS, detect_active_regions

__all__ = [
    "HISTORY_COLUMNS",
    "TRACK_COLUMNS",
    "ActiveRegionTracker",
    "TrackingResult",
    "track_active_regions",
    "track_detections",
]

log = logging.getLogger(__name__)

_INFEASIBLE = 1e9

#: Columns of the per-detection history (flux history), with units.
HISTORY_COLUMNS = {
    "track_id": None,
    "time": None,
    "observer": None,
    "label": None,
    "lon": u.deg,
    "lat": u.deg,
    "hpc_x": u.arcsec,
    "hpc_y": u.arcsec,
    "mu": u.one,
    "area": MSH,
    "unsigned_flux": u.Mx,
    "net_flux": u.Mx,
    "positive_flux": u.Mx,
    "negative_flux": u.Mx,
    "tilt": u.deg,
    "near_limb": None,
    "predicted_lon": u.deg,
    "predicted_lat": u.deg,
    "distance": u.deg,
}

#: Columns of the track table, with units.
TRACK_COLUMNS = {
    "track_id": None,
    "status": None,
    "first_time": None,
    "last_time": None,
    "n_detections": None,
    "first_observer": None,
    "last_observer": None,
    "observers": None,
    "first_lon": u.deg,
    "first_lat": u.deg,
    "lon": u.deg,
    "lat": u.deg,
    "peak_unsigned_flux": u.Mx,
    "peak_time": None,
    "merged_into": None,
    "parent": None,
}


class TrackingResult(NamedTuple):
    """
    What tracking returns: the track table and the per-detection (flux) history.

    Attributes
    ----------
    tracks : `~astropy.table.QTable`
        One row per track; see `ActiveRegionTracker.tracks`.
    history : `~astropy.table.QTable`
        One row per associated detection; see `ActiveRegionTracker.history`.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi
    >>> from sunpy_magnetogan.tracking import track_active_regions
    >>> sun = SyntheticSun(3004)
    >>> result = track_active_regions([observe_hmi(sun, t, npix=256) for t in ("2014-09-20", "2014-09-21")])
    >>> tracks, history = result  # a named tuple
    >>> result.tracks is tracks, "unsigned_flux" in history.colnames
    (True, True)
    """

    tracks: QTable
    history: QTable


@dataclass
class _Track:
    track_id: int
    lon: float  # deg, Carrington, last detection
    lat: float
    time: Time  # last detection
    observer: str
    first_time: Time
    first_lon: float
    first_lat: float
    first_observer: str
    flux: float  # Mx, last detection not flagged near the limb (or the last one)
    n_detections: int = 1
    observers: list = field(default_factory=list)
    status: str = "active"
    missed_since: Time | None = None
    merged_into: int = 0
    parent: int = 0
    peak_flux: float = 0.0
    peak_time: Time | None = None
    # Position and time of the last detection away from the limb (None until there is
    # one): predictions start from it, since near the limb centroids are unreliable.
    anchor_lon: float | None = None
    anchor_lat: float | None = None
    anchor_time: Time | None = None

    def reference(self):
        """(lon, lat, time) that predictions start from."""
        if self.anchor_time is not None:
            return self.anchor_lon, self.anchor_lat, self.anchor_time
        return self.lon, self.lat, self.time


class ActiveRegionTracker:
    """
    Associate active-region detections over time into tracks with stable IDs.

    Feed it detection tables (from `detect_active_regions`) in time order with `update`,
    or magnetograms with `update_map`; read the results from `tracks` and `history`.

    Parameters
    ----------
    gate : `~astropy.units.Quantity`
        Largest great-circle distance between a track's predicted position and a detection
        that can be associated (deg).
    max_gap : `~astropy.units.Quantity`
        A track that is visible (``mu >= visible_mu`` at its predicted position) but not
        detected ends once this much time has passed since the first such miss (days). A
        detection that comes more than ``max_gap`` after that miss, with no magnetogram in
        between, starts a new track.
    max_unseen : `~astropy.units.Quantity`
        A track not detected for more than this long ends even if no observer could see it
        (days). It is the longest gap between two detections of one track: when the next
        magnetogram comes later than that (a gap in the data of days or years), the track
        ends before the detections are matched, so no region is linked across the gap.
    visible_mu : float
        A track counts as visible from an observer when ``mu`` at its predicted position is
        at least this; closer to the limb a missing detection is not held against it.
    merge_distance : `~astropy.units.Quantity`, optional
        An unmatched visible track whose predicted position is this close to a detection
        claimed by another track is merged into that track. By default, the detection's
        equivalent radius (``sqrt(area / pi)``) plus 1 deg.
    flux_weight : float
        Weight of ``|ln(flux ratio)|`` in the association cost, beside ``distance / gate``;
        ignored for detections flagged ``near_limb``.
    rotation_model : str
        Differential rotation model (`sunpy.sun.models.differential_rotation`):
        ``'howard'``, ``'snodgrass'``, ``'allen'`` or ``'rigid'`` (no motion in Carrington
        coordinates).

    Examples
    --------
    >>> tracker = ActiveRegionTracker(gate=10 * u.deg)  # doctest: +SKIP
    >>> for smap in sorted(maps, key=lambda m: m.date):  # doctest: +SKIP
    ...     tracker.update_map(smap)
    >>> tracker.tracks  # doctest: +SKIP
    """

    @u.quantity_input
    def __init__(
        self,
        *,
        gate: u.deg = 10 * u.deg,
        max_gap: u.day = 2 * u.day,
        max_unseen: u.day = 27 * u.day,
        visible_mu=0.3,
        merge_distance: u.deg = None,
        flux_weight=0.1,
        rotation_model="howard",
    ):
        if gate <= 0 * u.deg:
            raise ValueError(f"gate must be positive, not {gate}")
        if not 0 <= visible_mu < 1:
            raise ValueError(f"visible_mu must be in [0, 1), not {visible_mu}")
        if rotation_model not in ("howard", "snodgrass", "allen", "rigid"):
            raise ValueError(
                f"rotation_model must be 'howard', 'snodgrass', 'allen' or 'rigid', not {rotation_model!r}"
            )
        self.gate = gate.to(u.deg)
        self.max_gap = max_gap.to(u.day)
        self.max_unseen = max_unseen.to(u.day)
        self.visible_mu = float(visible_mu)
        self.merge_distance = None if merge_distance is None else merge_distance.to(u.deg)
        self.flux_weight = float(flux_weight)
        self.rotation_model = rotation_model
        self._tracks = []
        self._rows = []
        self._last_time = None

    # ------------------------------------------------------------------ prediction
    def predict(self, time):
        """
        Carrington positions of the active tracks at ``time``.

        Each track moves from its last detection by sunpy's differential rotation model
        (`sunpy.sun.models.differential_rotation`, sidereal) minus the rigid Carrington
        rotation. This is what `~sunpy.coordinates.RotatedSunFrame` gives for a point on
        the surface (under `~sunpy.coordinates.transform_with_sun_center`, i.e. ignoring
        the Sun's barycentric motion), computed for all tracks at once.

        Parameters
        ----------
        time : `~astropy.time.Time`

        Returns
        -------
        track_id : `numpy.ndarray` of int
        lon, lat : `~astropy.units.Quantity`
            Predicted Carrington longitude in [0, 360) and latitude, in deg.
        """
        time = Time(time)
        active = [t for t in self._tracks if t.status == "active"]
        ids = np.array([t.track_id for t in active], dtype=int)
        if not active:
            return ids, np.zeros(0) * u.deg, np.zeros(0) * u.deg
        reference = [t.reference() for t in active]
        lon = np.array([r[0] for r in reference], dtype=float) * u.deg
        lat = np.array([r[1] for r in reference], dtype=float) * u.deg
        elapsed = (time - Time([r[2] for r in reference])).to(u.day)
        drift = differential_rotation(elapsed, lat, model=self.rotation_model, frame_time="sidereal")
        drift = drift - (sidereal_rotation_rate * elapsed).to(u.deg)
        return ids, (lon + drift).to(u.deg) % (360 * u.deg), lat

    # ------------------------------------------------------------------ update
    def update_map(self, smap, **detect_options):
        """
        Detect the active regions of a magnetogram and associate them.

        Parameters
        ----------
        smap : `~sunpy.map.GenericMap`
            A helioprojective magnetogram; it must not be older than the last update.
        **detect_options
            Passed to `detect_active_regions`.

        Returns
        -------
        `~astropy.table.QTable`
            The detections with a ``track_id`` column.
        """
        return self.update(detect_active_regions(smap, **detect_options))

    def update(self, detections):
        """
        Associate one magnetogram's detections with the tracks.

        Parameters
        ----------
        detections : `~astropy.table.QTable`
            A table from `detect_active_regions` (possibly empty): its ``meta`` must hold
            ``date`` and ``observer_coordinate``. Updates must come in time order.

        Returns
        -------
        `~astropy.table.QTable`
            A copy of ``detections`` with a ``track_id`` column.

        Raises
        ------
        ValueError
            If the table lacks the metadata or is older than the previous update.
        """
        try:
            time = Time(detections.meta["date"])
            observer = detections.meta["observer_coordinate"]
        except KeyError as exc:
            raise ValueError(
                f"the detection table has no {exc.args[0]!r} in its meta; use detect_active_regions"
            ) from None
        if self._last_time is not None and time < self._last_time:
            raise ValueError(
                f"detections must come in time order: {time.isot} is before {self._last_time.isot}"
            )
        self._last_time = time
        observer_name = str(detections.meta.get("observer", "unknown"))
        out = QTable(detections, copy=True)
        out["track_id"] = np.zeros(len(out), dtype=int)

        # Tracks that ended during a gap in the data end now, before any matching: however
        # well a region fits their prediction, it is not theirs.
        self._end_stale(time)
        _, pred_lon, pred_lat = self.predict(time)
        active = [t for t in self._tracks if t.status == "active"]
        n_tracks, n_det = len(active), len(detections)
        frame = HeliographicCarrington(obstime=time, observer=observer)
        visible = (
            mu_towards(pred_lon.value, pred_lat.value, observer, frame) >= self.visible_mu
            if n_tracks
            else np.zeros(0, dtype=bool)
        )

        matches = {}
        distance = np.zeros((n_tracks, n_det))
        if n_tracks and n_det:
            track_vec = lonlat_to_vectors(pred_lon, pred_lat)
            det_vec = lonlat_to_vectors(detections["lon"], detections["lat"])
            distance = angular_distance(track_vec, det_vec).to_value(u.deg)
            cost = distance / self.gate.to_value(u.deg)
            if self.flux_weight:
                det_flux = detections["unsigned_flux"].to_value(u.Mx)
                track_flux = np.array([t.flux for t in active])
                with np.errstate(divide="ignore", invalid="ignore"):
                    ratio = np.abs(np.log(det_flux[None, :] / track_flux[:, None]))
                ratio = np.where(np.isfinite(ratio), ratio, 0.0)
                ratio[:, np.asarray(detections["near_limb"], dtype=bool)] = 0.0
                cost = cost + self.flux_weight * ratio
            cost = np.where(distance <= self.gate.to_value(u.deg), cost, _INFEASIBLE)
            rows, cols = linear_sum_assignment(cost)
            matches = {r: c for r, c in zip(rows, cols, strict=True) if cost[r, c] < _INFEASIBLE}

        matched_det = {c: r for r, c in matches.items()}
        for r, c in matches.items():
            track = active[r]
            self._record(track, detections[c], time, observer_name, pred_lon[r], pred_lat[r], distance[r, c])
            out["track_id"][c] = track.track_id

        # Tracks without a detection: merged, missed, or simply not visible.
        for r, track in enumerate(active):
            if r in matches:
                continue
            if n_det and visible[r]:
                c = int(np.argmin(distance[r]))
                if c in matched_det and distance[r, c] <= self._merge_radius(detections[c]):
                    track.status = "merged"
                    track.merged_into = active[matched_det[c]].track_id
                    log.info("track %d merged into %d at %s", track.track_id, track.merged_into, time.isot)
                    continue
            if visible[r]:
                if track.missed_since is None:
                    track.missed_since = time
                if time - track.missed_since >= self.max_gap:
                    track.status = "ended"
                    log.info("track %d ended at %s", track.track_id, time.isot)
                    continue
            if time - track.time > self.max_unseen:
                track.status = "ended"
                log.info("track %d ended at %s (unseen too long)", track.track_id, time.isot)

        # Detections without a track: births.
        for c in range(n_det):
            if c in matched_det:
                continue
            row = detections[c]
            track = _Track(
                track_id=len(self._tracks) + 1,
                lon=float(row["lon"].to_value(u.deg)),
                lat=float(row["lat"].to_value(u.deg)),
                time=time,
                observer=observer_name,
                first_time=time,
                first_lon=float(row["lon"].to_value(u.deg)),
                first_lat=float(row["lat"].to_value(u.deg)),
                first_observer=observer_name,
                flux=float(row["unsigned_flux"].to_value(u.Mx)),
                n_detections=0,
            )
            if n_tracks:
                near = [r for r in range(n_tracks) if r in matches and distance[r, c] <= self.gate.value]
                if near:
                    track.parent = active[min(near, key=lambda r: distance[r, c])].track_id
            self._tracks.append(track)
            self._record(track, row, time, observer_name, np.nan * u.deg, np.nan * u.deg, np.nan)
            out["track_id"][c] = track.track_id
            log.info("track %d born at %s (%s)", track.track_id, time.isot, observer_name)
        return out

    def _end_stale(self, time):
        """
        End the active tracks that ended between the previous update and ``time``.

        A track ends once it has not been detected for more than ``max_unseen``, or once
        more than ``max_gap`` has passed since a miss while it was visible; when no
        magnetogram came in between, only this update can see it.
        """
        for track in self._tracks:
            if track.status != "active":
                continue
            unseen = (time - track.time).to(u.day)
            if unseen > self.max_unseen:
                track.status = "ended"
                log.info(
                    "track %d ended at %s: not detected for %.1f d (max_unseen %.1f d)",
                    track.track_id,
                    time.isot,
                    unseen.to_value(u.day),
                    self.max_unseen.to_value(u.day),
                )
            elif track.missed_since is not None and time - track.missed_since > self.max_gap:
                track.status = "ended"
                log.info(
                    "track %d ended at %s: missed while visible since %s (max_gap %.1f d)",
                    track.track_id,
                    time.isot,
                    track.missed_since.isot,
                    self.max_gap.to_value(u.day),
                )

    def _merge_radius(self, row):
        if self.merge_distance is not None:
            return self.merge_distance.to_value(u.deg)
        # 1 MSH is 2 pi / 1e6 sr; the equivalent radius of a disk of that area, plus 1 deg.
        area_sr = float(row["area"].to_value(MSH)) * 2 * np.pi / 1e6
        radius = np.rad2deg(np.sqrt(area_sr / np.pi)) if np.isfinite(area_sr) else 0.0
        return radius + 1.0

    def _record(self, track, row, time, observer_name, pred_lon, pred_lat, dist):
        track.lon = float(row["lon"].to_value(u.deg))
        track.lat = float(row["lat"].to_value(u.deg))
        track.time = time
        track.observer = observer_name
        track.missed_since = None
        track.n_detections += 1
        if observer_name not in track.observers:
            track.observers.append(observer_name)
        flux = float(row["unsigned_flux"].to_value(u.Mx))
        near_limb = bool(row["near_limb"])
        if not near_limb:
            track.anchor_lon, track.anchor_lat, track.anchor_time = track.lon, track.lat, time
        if not near_limb or track.n_detections == 1:
            track.flux = flux
        if not near_limb and flux > track.peak_flux:
            track.peak_flux = flux
            track.peak_time = time
        history = {name: row[name] for name in HISTORY_COLUMNS if name in DETECTION_COLUMNS}
        history.update(
            track_id=track.track_id,
            time=time,
            observer=observer_name,
            predicted_lon=u.Quantity(pred_lon, u.deg),
            predicted_lat=u.Quantity(pred_lat, u.deg),
            distance=float(dist) * u.deg,
        )
        self._rows.append(history)

    # ------------------------------------------------------------------ results
    @property
    def history(self):
        """
        The flux history: one row per associated detection, in time order.

        Columns: ``track_id``, ``time`` (`~astropy.time.Time`), ``observer``, ``label``
        (of the detection in its map), ``lon``, ``lat`` (Carrington, deg), ``hpc_x``,
        ``hpc_y`` (arcsec), ``mu``, ``area`` (MSH), ``unsigned_flux``, ``net_flux``,
        ``positive_flux``, ``negative_flux`` (Mx), ``tilt`` (deg), ``near_limb``, and
        ``predicted_lon``, ``predicted_lat``, ``distance`` (deg): where the track was
        expected and how far the detection was from it (NaN at birth).

        Returns
        -------
        `~astropy.table.QTable`
        """
        if not self._rows:
            return _empty(HISTORY_COLUMNS, time_columns=("time",), str_columns=("observer",))
        columns = {}
        for name, unit in HISTORY_COLUMNS.items():
            values = [row[name] for row in self._rows]
            if name == "time":
                columns[name] = Time(values)
            elif unit is None:
                columns[name] = np.array(values)
            else:
                columns[name] = u.Quantity(values, unit)
        return QTable(columns, meta=self._meta())

    @property
    def tracks(self):
        """
        One row per track.

        Columns: ``track_id``; ``status`` (``'active'``, ``'ended'`` or ``'merged'``);
        ``first_time``, ``last_time`` (last detection), ``n_detections``;
        ``first_observer``, ``last_observer``, ``observers`` (``';'``-separated);
        ``first_lon``, ``first_lat``, ``lon``, ``lat`` (Carrington, deg, first and last
        detection); ``peak_unsigned_flux`` (Mx, over detections not near the limb; 0 if
        none) and ``peak_time``; ``merged_into`` (track ID, 0 if none) and ``parent`` (ID
        of a matched track within the gate when the track was born, 0 if none).

        Returns
        -------
        `~astropy.table.QTable`
        """
        if not self._tracks:
            return _empty(
                TRACK_COLUMNS,
                time_columns=("first_time", "last_time", "peak_time"),
                str_columns=("status", "first_observer", "last_observer", "observers"),
            )
        ts = self._tracks
        return QTable(
            {
                "track_id": np.array([t.track_id for t in ts]),
                "status": np.array([t.status for t in ts]),
                "first_time": Time([t.first_time for t in ts]),
                "last_time": Time([t.time for t in ts]),
                "n_detections": np.array([t.n_detections for t in ts]),
                "first_observer": np.array([t.first_observer for t in ts]),
                "last_observer": np.array([t.observer for t in ts]),
                "observers": np.array([";".join(t.observers) for t in ts]),
                "first_lon": u.Quantity([t.first_lon for t in ts], u.deg),
                "first_lat": u.Quantity([t.first_lat for t in ts], u.deg),
                "lon": u.Quantity([t.lon for t in ts], u.deg),
                "lat": u.Quantity([t.lat for t in ts], u.deg),
                "peak_unsigned_flux": u.Quantity([t.peak_flux for t in ts], u.Mx),
                "peak_time": Time([t.peak_time or t.first_time for t in ts]),
                "merged_into": np.array([t.merged_into for t in ts]),
                "parent": np.array([t.parent for t in ts]),
            },
            meta=self._meta(),
        )

    @property
    def result(self):
        """The `TrackingResult` (tracks, history) so far."""
        return TrackingResult(self.tracks, self.history)

    def _meta(self):
        return {
            "gate": self.gate,
            "max_gap": self.max_gap,
            "max_unseen": self.max_unseen,
            "visible_mu": self.visible_mu,
            "flux_weight": self.flux_weight,
            "rotation_model": self.rotation_model,
        }


def _empty(columns, *, time_columns=(), str_columns=()):
    out = {}
    for name, unit in columns.items():
        if name in time_columns:
            out[name] = Time([], format="isot", scale="utc")
        elif name in str_columns:
            out[name] = np.array([], dtype=str)
        elif unit is None:
            out[name] = np.array([], dtype=bool if name == "near_limb" else int)
        else:
            out[name] = u.Quantity(np.array([], dtype=float), unit)
    return QTable(out)


def track_detections(detections, **tracker_options):
    """
    Track active regions through detection tables from any mix of observers.

    Parameters
    ----------
    detections : iterable of `~astropy.table.QTable`
        Tables from `detect_active_regions`, in any order (sorted by ``meta['date']``; maps
        taken at the same time keep their order).
    **tracker_options
        Passed to `ActiveRegionTracker` (``gate``, ``max_gap``, ``visible_mu``, ...).

    Returns
    -------
    `TrackingResult`
        ``(tracks, history)``.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi
    >>> from sunpy_magnetogan.tracking import detect_active_regions, track_detections
    >>> sun = SyntheticSun(3004)
    >>> tables = [detect_active_regions(observe_hmi(sun, t, npix=256)) for t in ("2014-09-20", "2014-09-21")]
    >>> tracks, history = track_detections(tables, gate=10 * u.deg)
    >>> int(tracks["n_detections"].max()), len(history) == sum(len(t) for t in tables)
    (2, True)
    """
    tracker = ActiveRegionTracker(**tracker_options)
    # Tables without a date sort first; update() then says what is missing.
    for table in sorted(detections, key=lambda t: Time(t.meta["date"]).jd if "date" in t.meta else -np.inf):
        tracker.update(table)
    return tracker.result


def track_active_regions(maps, *, detect_options=None, **tracker_options):
    """
    Detect and track active regions over a sequence of magnetograms.

    Parameters
    ----------
    maps : iterable of `~sunpy.map.GenericMap` or path-like
        Helioprojective magnetograms from one or several observers (real, synthetic or
        generated), in any order; file names are read one at a time.
    detect_options : dict, optional
        Keyword arguments of `detect_active_regions` (``threshold``, ``smoothing``, ...).
    **tracker_options
        Keyword arguments of `ActiveRegionTracker` (``gate``, ``max_gap``, ...).

    Returns
    -------
    `TrackingResult`
        ``(tracks, history)``: the track table and the per-detection flux history.

    Examples
    --------
    >>> tracks, history = track_active_regions(maps, gate=10 * u.deg)  # doctest: +SKIP
    """
    detect_options = dict(detect_options or {})
    tables = []
    for item in maps:
        smap = item if isinstance(item, sunpy.map.GenericMap) else sunpy.map.Map(item)
        tables.append(detect_active_regions(smap, **detect_options))
    return track_detections(tables, **tracker_options)

"""
Scoring active-region tracks against the ground truth of a synthetic Sun.

`score_tracking` follows every truth region of a `~sunpy_magnetogan.synthetic.SyntheticSun`
through a tracking history whose detections carry the columns of
`~sunpy_magnetogan.evaluation.attribution.attribute_detections`, and returns a
`TrackingScore`. Both are re-exported by `sunpy_magnetogan.evaluation.tracking`.

Definitions used by `score_tracking`:

- a truth region's *main detection* in a magnetogram is the detection that it dominates
  and that holds more of its flux than any other detection
  (`~sunpy_magnetogan.evaluation.attribution.attribute_detections`); its
  *best view* at a time step is its main detection of largest ``mu`` over the observers;
- the *east-limb crossing* of a region is the first time step at which its truth centroid
  has a Stonyhurst longitude in [-90, 0) deg (it comes from the far side);
- a region is *eligible* when it emerged on the far side, at least ``depth`` behind a limb
  (Stonyhurst longitude beyond 90 + ``depth`` deg), is on the far side, at least ``depth``
  behind the east limb, when the sequence starts or emerges during it, crosses the east
  limb for the first time after emerging at least ``after`` before the end of the
  sequence, and holds at least ``min_flux`` then;
- it is *detected before the limb* when one of its best views precedes the crossing;
- it *keeps its ID* when its last best view before the crossing and its first one after
  belong to the same track, and every best view from the crossing to ``after`` past it
  belongs to that track and, away from the limb, lies within ``max_error`` of the truth;
- the *position error* is the great-circle distance between a main detection's centroid
  and its region's truth centroid (flux-weighted over all of the region's flux), for
  regions holding at least ``min_flux`` at that time; the statistics leave out main
  detections holding less than ``min_coverage`` of their region's visible flux (fragments
  of a region that has dispersed measure the fragment's position, not the region's);
- a region's *track continuity* counts the track IDs and ID changes along its best views
  holding at least ``min_coverage`` of its flux, over the whole sequence, for every region
  that holds ``min_flux`` at some time.
"""

from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.table import QTable
from astropy.time import Time
from sunpy.coordinates.sun import L0

from sunpy_magnetogan.sphere import angular_distance, lonlat_to_vectors

__all__ = ["TrackingScore", "score_tracking"]

#: Mean synodic rotation rate of active-region latitudes, deg/day (only used to tell a
#: region's first east-limb crossing after emergence from its return a rotation later).
_SYNODIC_RATE = 13.2


@dataclass(frozen=True)
class TrackingScore:
    """
    How tracking did against the truth (see the module docstring for the definitions).

    Attributes
    ----------
    regions : `~astropy.table.QTable`
        One row per eligible region: ``truth_id``; ``emerged`` (Time);
        ``born_in_sequence`` (bool); ``emerged_lon`` (Stonyhurst longitude at emergence,
        deg); ``crossing`` (Time of the east-limb crossing); ``flux`` (Mx, at the
        crossing); ``first_detected`` (Time of its first best view);
        ``detected_before_limb``; ``id_before``, ``id_after`` (track IDs of the best views
        either side of the crossing, 0 if none); ``id_kept``; ``n_ids`` (tracks among its
        best views up to ``after`` past the crossing); ``max_error`` (deg, largest position
        error of those best views away from the limb).
    errors : `~astropy.table.QTable`
        One row per main detection of a region holding at least ``min_flux``: ``time``,
        ``observer``, ``truth_id``, ``track_id``, ``error`` (deg), ``mu``, ``near_limb``,
        ``coverage`` (fraction of the region's visible flux inside) and ``share``
        (fraction of the flux inside that is the region's).
    continuity : `~astropy.table.QTable`
        One row per region holding at least ``min_flux`` at some time and seen as a whole
        (best view holding at least ``min_coverage`` of its flux) at least twice:
        ``truth_id``, ``n_views`` (time steps with such a best view), ``n_ids`` and
        ``n_changes`` (track-ID changes between consecutive such views).
    min_coverage : float
        Main detections holding less of their region's flux are left out of the error
        statistics.
    """

    regions: QTable
    errors: QTable
    continuity: QTable
    min_coverage: float = 0.5

    @property
    def n_eligible(self):
        """Number of eligible regions."""
        return len(self.regions)

    @property
    def detected_before_limb_rate(self):
        """Fraction of the eligible regions detected before their east-limb crossing."""
        return float(np.mean(self.regions["detected_before_limb"])) if len(self.regions) else np.nan

    @property
    def id_kept_rate(self):
        """Fraction of the eligible regions that keep one ID across the crossing."""
        return float(np.mean(self.regions["id_kept"])) if len(self.regions) else np.nan

    @property
    def single_id_rate(self):
        """Fraction of the regions of `continuity` seen under one track ID throughout."""
        return float(np.mean(self.continuity["n_ids"] == 1)) if len(self.continuity) else np.nan

    def error_stats(self, *, near_limb=False, min_coverage=None):
        """
        Median, 95th percentile and maximum of the position error.

        Parameters
        ----------
        near_limb : bool
            Statistics of the main detections flagged ``near_limb`` instead of the others.
        min_coverage : float, optional
            Leave out main detections holding less of their region's visible flux;
            `min_coverage` by default (0 keeps them all).

        Returns
        -------
        median, p95, max : `~astropy.units.Quantity`
            In deg; NaN when no main detection qualifies.
        """
        cut = self.min_coverage if min_coverage is None else float(min_coverage)
        sel = (np.asarray(self.errors["near_limb"], dtype=bool) == bool(near_limb)) & (
            np.asarray(self.errors["coverage"]) >= cut
        )
        values = self.errors["error"][sel].to_value(u.deg)
        if not values.size:
            return (np.nan * u.deg,) * 3
        return tuple(v * u.deg for v in (np.median(values), np.percentile(values, 95), values.max()))

    def summary(self):
        """
        The headline numbers as plain Python numbers (rates in [0, 1], errors in deg).

        Returns
        -------
        dict
            ``n_eligible``, ``detected_before_limb``, ``id_kept``, ``single_id``,
            ``error_median``, ``error_p95``, ``error_max`` (away from the limb, coverage
            cut applied), ``n_errors``, the same three for all main detections away from
            the limb (``all_error_*``) and for those near the limb (``limb_error_*``).
        """
        out = {
            "n_eligible": self.n_eligible,
            "detected_before_limb": self.detected_before_limb_rate,
            "id_kept": self.id_kept_rate,
            "single_id": self.single_id_rate,
        }
        for prefix, options in (
            ("error", {}),
            ("all_error", {"min_coverage": 0.0}),
            ("limb_error", {"near_limb": True}),
        ):
            median, p95, largest = (float(v.to_value(u.deg)) for v in self.error_stats(**options))
            out.update({f"{prefix}_median": median, f"{prefix}_p95": p95, f"{prefix}_max": largest})
        away = ~np.asarray(self.errors["near_limb"], dtype=bool)
        out["n_errors"] = int(np.sum(away & (np.asarray(self.errors["coverage"]) >= self.min_coverage)))
        return out


def _step(time):
    """A hashable key of a time step (Julian date to about 0.1 s)."""
    return round(float(Time(time).jd), 6)


def _stonyhurst_lon(lon, time):
    """Stonyhurst longitude in [-180, 180) deg of a Carrington longitude (deg) at ``time``."""
    return (np.asarray(lon) - L0(time).to_value(u.deg) + 180.0) % 360.0 - 180.0


def _emergence_lon(sun, truth_id, emerged):
    """Stonyhurst longitude (deg) of a region an hour after it emerged."""
    time = Time(emerged) + 1 * u.hour
    table = sun.active_regions(time, min_flux=0 * u.Mx)
    row = table[np.asarray(table["id"]) == truth_id]
    return float(_stonyhurst_lon(row["lon"][0].to_value(u.deg), time)) if len(row) else np.nan


def _main_detections(detections, track_of):
    """(step, truth_id) -> list of the region's main detections at that step (as dicts)."""
    main = {}
    for table in detections:
        step = _step(table.meta["date"])
        observer = str(table.meta.get("observer", "unknown"))
        for row in table[np.asarray(table["truth_main"], dtype=bool)]:
            main.setdefault((step, int(row["truth_id"])), []).append(
                {
                    "lon": float(row["lon"].to_value(u.deg)),
                    "lat": float(row["lat"].to_value(u.deg)),
                    "mu": float(row["mu"]),
                    "near_limb": bool(row["near_limb"]),
                    "coverage": float(row["truth_coverage"]),
                    "share": float(row["truth_share"]),
                    "observer": observer,
                    "track_id": track_of.get((step, observer, int(row["label"])), 0),
                }
            )
    return main


@u.quantity_input
def score_tracking(
    result,
    detections,
    sun,
    *,
    min_flux: u.Mx = 1e22 * u.Mx,
    max_error: u.deg = 5 * u.deg,
    after: u.day = 2 * u.day,
    depth: u.deg = 10 * u.deg,
    min_coverage=0.5,
):
    """
    Score a tracking run on a synthetic Sun against its ground truth.

    Parameters
    ----------
    result : `~sunpy_magnetogan.tracking.TrackingResult`
        The tracks and history from tracking ``detections``.
    detections : list of `~astropy.table.QTable`
        The tracked detection tables, with the columns of
        `~sunpy_magnetogan.evaluation.attribution.attribute_detections`; their
        dates are the time steps of the sequence.
    sun : `~sunpy_magnetogan.synthetic.SyntheticSun`
        The Sun.
    min_flux : `~astropy.units.Quantity`
        Regions holding less unsigned flux (Mx) are not scored.
    max_error : `~astropy.units.Quantity`
        Largest distance (deg) from the truth of a kept track's best views (away from the
        limb) after the crossing.
    after : `~astropy.units.Quantity`
        How long after the crossing the track is checked (days); the crossing must come
        at least this long before the end of the sequence.
    depth : `~astropy.units.Quantity`
        How far behind the limb (deg) a region must emerge, and how far behind the east
        limb it must be when the sequence starts, to be eligible (one that is right at the
        limb cannot be seen from the far side either).
    min_coverage : float
        Main detections holding less of their region's visible flux are left out of the
        error statistics.

    Returns
    -------
    `TrackingScore`
    """
    history = result.history
    track_of = {
        (_step(t), str(obs), int(lab)): int(tid)
        for t, obs, lab, tid in zip(
            history["time"], history["observer"], history["label"], history["track_id"], strict=True
        )
    }
    steps = sorted({_step(d.meta["date"]) for d in detections})
    start, end = steps[0], steps[-1]
    min_mx = min_flux.to_value(u.Mx)
    main = _main_detections(detections, track_of)

    truth = {}  # (step, truth_id) -> lon, lat, flux, emerged
    for step in steps:
        table = sun.active_regions(Time(step, format="jd"), min_flux=0.1 * min_flux)
        for row in table:
            truth[(step, int(row["id"]))] = {
                "lon": float(row["lon"].to_value(u.deg)),
                "lat": float(row["lat"].to_value(u.deg)),
                "flux": float(row["flux"].to_value(u.Mx)),
                "emerged": row["emerged"],
            }

    # Position error of every main detection; the table keeps regions above min_flux.
    error_rows = []
    for (step, tid), views in sorted(main.items()):
        tru = truth.get((step, tid))
        if tru is None:
            continue
        for view in views:
            view["error"] = float(
                angular_distance(
                    lonlat_to_vectors(tru["lon"] * u.deg, tru["lat"] * u.deg),
                    lonlat_to_vectors(view["lon"] * u.deg, view["lat"] * u.deg),
                )[0, 0].to_value(u.deg)
            )
            if tru["flux"] >= min_mx:
                error_rows.append({"time": step, "truth_id": tid, **view})
    errors = _errors_table(error_rows)
    best = {key: max(views, key=lambda v: v["mu"]) for key, views in main.items()}

    region_rows = []
    for tid in sorted({tid for _, tid in truth}):
        present = [(s, truth[(s, tid)]) for s in steps if (s, tid) in truth]
        row = _eligible_region(sun, tid, present, best, start, end, min_mx, max_error, after, depth)
        if row is not None:
            region_rows.append(row)

    continuity_rows = []
    for tid in sorted({tid for (s, tid), tru in truth.items() if tru["flux"] >= min_mx}):
        ids = [
            best[(s, tid)]["track_id"]
            for s in steps
            if (s, tid) in best and best[(s, tid)]["coverage"] >= min_coverage
        ]
        if len(ids) >= 2:
            changes = int(np.count_nonzero(np.diff(ids)))
            continuity_rows.append((tid, len(ids), len(set(ids)), changes))
    continuity = QTable(
        rows=continuity_rows or None,
        names=("truth_id", "n_views", "n_ids", "n_changes"),
        dtype=(np.int64, int, int, int),
    )
    return TrackingScore(
        regions=_region_table(region_rows), errors=errors, continuity=continuity, min_coverage=min_coverage
    )


def _eligible_region(sun, tid, present, best, start, end, min_mx, max_error, after, depth):
    """The `TrackingScore.regions` row of a region, or None if it is not eligible."""
    first_step, first = present[0]
    first_lon = _stonyhurst_lon(first["lon"], Time(first_step, format="jd"))
    if abs(first_lon) <= 90:
        return None  # on the frontside when first seen: its next east-limb crossing is a return
    if (-90.0 - first_lon) % 360.0 < depth.to_value(u.deg):
        return None  # already at the east limb when first seen: the far side never saw it either
    crossing = next(
        (s for s, tru in present if -90 <= _stonyhurst_lon(tru["lon"], Time(s, format="jd")) < 0), None
    )
    after_days = after.to_value(u.day)
    if crossing is None or crossing + after_days > end + 1e-6:
        return None
    flux = next(tru["flux"] for s, tru in present if s == crossing)
    if flux < min_mx:
        return None
    emerged = first["emerged"]
    born_in_sequence = bool(emerged.jd >= start)
    emerged_lon = _emergence_lon(sun, tid, emerged)
    if not abs(emerged_lon) >= 90 + depth.to_value(u.deg):
        return None
    # The first east-limb crossing after emergence, not the return a rotation later.
    if (crossing - emerged.jd) * _SYNODIC_RATE > (-90.0 - emerged_lon) % 360.0 + 180.0:
        return None

    views = [
        (s, best[(s, tid)]) for s, _ in present if (s, tid) in best and s <= crossing + after_days + 1e-6
    ]
    before = [v for s, v in views if s < crossing]
    later = [v for s, v in views if s >= crossing]
    id_before = before[-1]["track_id"] if before else 0
    id_after = later[0]["track_id"] if later else 0
    kept = bool(
        before
        and later
        and id_before
        and all(
            v["track_id"] == id_before and (v["near_limb"] or v["error"] <= max_error.to_value(u.deg))
            for v in later
        )
    )
    own_errors = [v["error"] for _, v in views if not v["near_limb"]]
    return {
        "truth_id": tid,
        "emerged": emerged,
        "born_in_sequence": born_in_sequence,
        "emerged_lon": emerged_lon,
        "crossing": crossing,
        "flux": flux,
        "first_detected": views[0][0] if views else np.nan,
        "detected_before_limb": bool(before),
        "id_before": id_before,
        "id_after": id_after,
        "id_kept": kept,
        "n_ids": len({v["track_id"] for _, v in views}),
        "max_error": max(own_errors) if own_errors else np.nan,
    }


_ERROR_COLUMNS = {
    "time": None,
    "observer": str,
    "truth_id": np.int64,
    "track_id": int,
    "error": u.deg,
    "mu": float,
    "near_limb": bool,
    "coverage": float,
    "share": float,
}

_REGION_COLUMNS = {
    "truth_id": np.int64,
    "emerged": None,
    "born_in_sequence": bool,
    "emerged_lon": u.deg,
    "crossing": None,
    "flux": u.Mx,
    "first_detected": None,
    "detected_before_limb": bool,
    "id_before": int,
    "id_after": int,
    "id_kept": bool,
    "n_ids": int,
    "max_error": u.deg,
}


def _table(rows, columns):
    out = {}
    for name, kind in columns.items():
        values = [row[name] for row in rows]
        if kind is None:  # a time, as a Time or a Julian date (NaN: none, masked)
            jd = np.array([v.jd if isinstance(v, Time) else float(v) for v in values], dtype=float)
            missing = ~np.isfinite(jd)
            times = Time(np.where(missing, 2451545.0, jd), format="jd", scale="utc")
            if missing.any():
                times[missing] = np.ma.masked
            times.format = "isot"
            out[name] = times
        elif isinstance(kind, u.UnitBase):
            out[name] = u.Quantity(np.asarray(values, dtype=float), kind)
        else:
            out[name] = np.asarray(values, dtype=kind)
    return QTable(out)


def _errors_table(rows):
    return _table(rows, _ERROR_COLUMNS)


def _region_table(rows):
    return _table(rows, _REGION_COLUMNS)

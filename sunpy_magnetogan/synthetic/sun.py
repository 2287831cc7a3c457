"""
`SyntheticSun`: a time-evolving radial magnetic field on the whole solar surface.

The field is the sum of

* active regions (`~sunpy_magnetogan.synthetic.sources`): bipoles emerging on the
  butterfly diagram with Hale's and Joy's laws, decaying and spreading, rotating
  differentially;
* the quiet-Sun network (`~sunpy_magnetogan.synthetic.network`) on evolving
  supergranule boundaries, with a polar-field sign bias at high latitudes;
* a smooth polar field ``B_pole(t) sign(lat) |sin(lat)|^8`` that reverses near maximum.

Everything is drawn from the seed (`~sunpy_magnetogan.synthetic.seeding`), so the Sun of a
given seed is the same at a given time whatever was computed before, and it exists on the
far side as well as on the near side: it is the ground truth for farside predictions and
Carrington tracking.
"""

import logging
from dataclasses import replace

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.table import QTable
from sunpy.coordinates import get_earth
from sunpy.map.header_helper import make_heliographic_header

from sunpy_magnetogan.solar_cycle import SolarCycle, days_since_epoch, time_from_days
from sunpy_magnetogan.synthetic.kernels import evaluate_on_points, kernel_amplitude
from sunpy_magnetogan.synthetic.network import NetworkModel, network_sources, supergranules
from sunpy_magnetogan.synthetic.projection import unit_vectors
from sunpy_magnetogan.synthetic.seeding import component_rng
from sunpy_magnetogan.synthetic.sources import (
    MSH,
    MSH_CM2,
    SOLAR_RADIUS_CM,
    SPOT,
    WINDOW_DAYS,
    FluxModel,
    SourceSet,
    emerge_regions,
    evolve_regions,
)

__all__ = ["SyntheticSun"]

log = logging.getLogger(__name__)

_CACHE_SIZE = 64


class SyntheticSun:
    """
    A synthetic Sun: surface magnetic field on the whole sphere, at any time.

    Parameters
    ----------
    seed : int
        Seed of every random choice (non-negative).
    cycle : `~sunpy_magnetogan.solar_cycle.SolarCycle`, optional
        Activity cycle (dates of minima, amplitudes, polar field).
    activity : float, optional
        Multiplies the emergence rate of active regions (1: calibrated against HMI).
    flux_model : `~sunpy_magnetogan.synthetic.sources.FluxModel`, optional
        Active-region emergence and decay parameters.
    network : `~sunpy_magnetogan.synthetic.network.NetworkModel` or None, optional
        Quiet-Sun network parameters; None leaves the network out.
    polar_smooth : float, optional
        Fraction of the polar field (`SolarCycle.polar_field`) carried by the smooth
        ``|sin(lat)|^8`` component (the rest comes from the network's sign bias).
    rotation_model : str, optional
        Differential-rotation model of `sunpy.sun.models.differential_rotation`.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.synthetic import SyntheticSun
    >>> sun = SyntheticSun(seed=1)
    >>> regions = sun.active_regions("2014-01-01", min_flux=1e22 * u.Mx)
    >>> bool((regions["flux"] >= 1e22 * u.Mx).all())
    True
    >>> sun.field_at("2014-01-01", [10, 200] * u.deg, [0, 80] * u.deg).unit
    Unit("G")
    """

    def __init__(
        self,
        seed,
        *,
        cycle=None,
        activity=1.0,
        flux_model=None,
        network=NetworkModel(),  # noqa: B008 - frozen dataclass, safe default
        polar_smooth=0.5,
        rotation_model="howard",
    ):
        if int(seed) != seed or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        if activity < 0:
            raise ValueError(f"activity must be non-negative, got {activity!r}")
        self.seed = int(seed)
        self.cycle = cycle or SolarCycle()
        self.activity = float(activity)
        self.flux_model = flux_model or FluxModel()
        self.network = network
        self.polar_smooth = float(polar_smooth)
        self.rotation_model = rotation_model
        self._windows = {}
        self._cells = {}

    def __repr__(self):
        return f"SyntheticSun(seed={self.seed}, activity={self.activity})"

    # -- generation, cached per window / day -------------------------------------------------
    def _window(self, window):
        if window not in self._windows:
            if len(self._windows) >= _CACHE_SIZE:
                self._windows.pop(next(iter(self._windows)))
            model = self.flux_model
            if self.activity != 1.0:
                model = replace(model, regions_per_day=model.regions_per_day * self.activity)
            rng = component_rng(self.seed, "regions", window)
            self._windows[window] = emerge_regions(rng, window, self.cycle, model)
        return self._windows[window]

    def _day_cells(self, day):
        if day not in self._cells:
            if len(self._cells) >= _CACHE_SIZE:
                self._cells.pop(next(iter(self._cells)))
            self._cells[day] = supergranules(self.seed, day, self.network)
        return self._cells[day]

    def _regions(self, days):
        """Regions (and their sources) that can still hold flux at ``days``."""
        last = int(np.floor(days / WINDOW_DAYS))
        first = int(np.floor((days - self.flux_model.max_age) / WINDOW_DAYS))
        parts = [self._window(w) for w in range(first, last + 1)]
        regions = {key: np.concatenate([p[0][key] for p in parts]) for key in parts[0][0]}
        offsets = np.cumsum([0] + [len(p[0]["id"]) for p in parts[:-1]])
        sources = {key: np.concatenate([p[1][key] for p in parts]) for key in parts[0][1]}
        sources["index"] = np.concatenate(
            [p[1]["index"] + off for p, off in zip(parts, offsets, strict=True)]
        ).astype(np.int64)
        return regions, sources

    # -- public API --------------------------------------------------------------------------
    def sources(self, time, *, network=True):
        """
        All flux concentrations at a time.

        Parameters
        ----------
        time : `~astropy.time.Time` or str
            The time.
        network : bool, optional
            Include the quiet-Sun network elements.

        Returns
        -------
        `~sunpy_magnetogan.synthetic.sources.SourceSet`
            Carrington positions (deg), signed flux (Mx), widths (deg), kinds, regions.
        """
        days = days_since_epoch(time)
        regions, sources = self._regions(days)
        parts = [evolve_regions(regions, sources, days, self.flux_model, rotation_model=self.rotation_model)]
        if network and self.network is not None:
            first = int(np.floor(days - self.network.lifetime))
            cell_days = [self._day_cells(d) for d in range(first, int(np.floor(days)) + 1)]
            cells = {key: np.concatenate([c[key] for c in cell_days]) for key in cell_days[0]}
            polar = (self.cycle.north_polar_field(days) / self.cycle.polar_field).to_value(u.one)
            parts.append(
                network_sources(
                    self.seed,
                    days,
                    self.network,
                    cells,
                    north_polar=polar,
                    rotation_model=self.rotation_model,
                )
            )
        return SourceSet.concatenate(parts)

    def polar_field(self, time, lat):
        """
        The smooth polar component of the radial field.

        Parameters
        ----------
        time : `~astropy.time.Time` or str
            The time.
        lat : `~astropy.units.Quantity`
            Latitudes.

        Returns
        -------
        `~astropy.units.Quantity`
            Radial field, Gauss, shaped like ``lat``.
        """
        lat = u.Quantity(lat, u.deg)
        north = self.polar_smooth * self.cycle.north_polar_field(time)
        return north * np.sign(lat.value) * np.abs(np.sin(lat)) ** 8

    @u.quantity_input
    def field_at(self, time, lon: u.deg, lat: u.deg):
        """
        Radial field at given Carrington positions.

        Parameters
        ----------
        time : `~astropy.time.Time` or str
            The time.
        lon, lat : `~astropy.units.Quantity`
            Carrington longitude and latitude (broadcast together).

        Returns
        -------
        `~astropy.units.Quantity`
            Radial field ``B_r`` in Gauss, shaped like the broadcast inputs.
        """
        lon, lat = np.broadcast_arrays(lon.to_value(u.deg), lat.to_value(u.deg))
        src = self.sources(time)
        points = unit_vectors(lon, lat).reshape(-1, 3)
        sigma = np.deg2rad(src.sigma)
        values = evaluate_on_points(
            unit_vectors(src.lon, src.lat), kernel_amplitude(src.flux, sigma, SOLAR_RADIUS_CM), sigma, points
        )
        field = values.reshape(lon.shape) * u.G
        return field + self.polar_field(time, lat * u.deg)

    def carrington_map(self, time, *, shape=(180, 360)):
        """
        The radial field over the whole Sun on a Carrington (plate carree) grid.

        Parameters
        ----------
        time : `~astropy.time.Time` or str
            The time.
        shape : tuple of int, optional
            ``(n_lat, n_lon)``; pixels are centred on a regular grid covering
            latitudes -90..90 and longitudes 0..360 deg.

        Returns
        -------
        `~sunpy.map.GenericMap`
            ``B_r`` in Gauss (float32) with a CAR Carrington header (observer: Earth).
        """
        obstime = time_from_days(days_since_epoch(time))
        header = make_heliographic_header(
            obstime, get_earth(obstime), shape, frame="carrington", map_center_longitude=180 * u.deg
        )
        header["bunit"] = "G"
        header["content"] = "SYNTHETIC RADIAL FIELD"
        header["telescop"] = "synthetic"
        header["instrume"] = "SyntheticSun"
        header["history"] = f"sunpy_magnetogan.synthetic.SyntheticSun(seed={self.seed}) truth"
        ny, nx = shape
        # Evaluate at the pixel centres the header describes.
        wcs = sunpy.map.Map(np.zeros((1, 1), np.float32), header).wcs
        lon, _ = wcs.pixel_to_world_values(np.arange(nx), np.zeros(nx))
        _, lat = wcs.pixel_to_world_values(np.zeros(ny), np.arange(ny))
        field = self.field_at(obstime, lon[np.newaxis, :] * u.deg, lat[:, np.newaxis] * u.deg)
        smap = sunpy.map.Map(field.to_value(u.G).astype(np.float32), header)
        return smap

    def active_regions(self, time, *, min_flux=1e21 * u.Mx):
        """
        Ground truth: the active regions present at a time.

        Parameters
        ----------
        time : `~astropy.time.Time` or str
            The time.
        min_flux : `~astropy.units.Quantity`
            Only regions whose present total unsigned flux is at least this.

        Returns
        -------
        `~astropy.table.QTable`
            One row per region: ``id``; ``emerged`` (Time); ``lon``, ``lat`` (Carrington
            position of the flux-weighted centroid now, deg); ``flux`` (present total
            unsigned flux, Mx); ``peak_flux`` (at full emergence, Mx); ``spot_area``
            (present sunspot area, MSH); ``leading_sign`` (+1/-1, main bipole);
            ``hale`` (obeys Hale's law); ``complex`` (multipolar); ``tilt`` (Joy tilt
            drawn at emergence, deg; positive = leading polarity nearer the equator);
            ``cycle``.
        """
        days = days_since_epoch(time)
        regions, _ = self._regions(days)
        src = self.sources(time, network=False)
        ids, inverse = np.unique(src.region, return_inverse=True)
        weight = np.abs(src.flux)
        xyz = unit_vectors(src.lon, src.lat) * weight[:, np.newaxis]
        centroid = np.stack(
            [np.bincount(inverse, weights=xyz[:, k], minlength=len(ids)) for k in range(3)], 1
        )
        flux = np.bincount(inverse, weights=weight, minlength=len(ids))
        spot_flux = np.bincount(inverse, weights=np.where(src.kind == SPOT, weight, 0.0), minlength=len(ids))
        lon = np.mod(np.rad2deg(np.arctan2(centroid[:, 1], centroid[:, 0])), 360.0)
        lat = np.rad2deg(np.arctan2(centroid[:, 2], np.hypot(centroid[:, 0], centroid[:, 1])))
        keep = flux >= min_flux.to_value(u.Mx)
        row = np.searchsorted(regions["id"], ids[keep])
        table = QTable()
        table["id"] = ids[keep]
        table["emerged"] = time_from_days(regions["t_emerge"][row])
        table["lon"] = lon[keep] * u.deg
        table["lat"] = lat[keep] * u.deg
        table["flux"] = flux[keep] * u.Mx
        table["peak_flux"] = regions["flux"][row] * u.Mx
        table["spot_area"] = spot_flux[keep] / (0.5 * self.flux_model.spot_field[0] * MSH_CM2) * MSH
        table["leading_sign"] = regions["leading_sign"][row]
        table["hale"] = regions["hale"][row]
        table["complex"] = regions["complex"][row]
        table["tilt"] = regions["tilt"][row] * u.deg
        table["cycle"] = regions["cycle"][row]
        table.meta["time"] = time_from_days(days)
        table.meta["seed"] = self.seed
        return table

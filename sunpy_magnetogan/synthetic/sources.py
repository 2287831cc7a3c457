"""
Emergence and evolution of active regions on the synthetic Sun.

Active regions are drawn, per 10-day window and from a random stream of their own, by
`emerge_regions`: a Poisson number of bipoles for the activity of the cycles running at that
time (`~sunpy_magnetogan.solar_cycle.SolarCycle`), each with

* a total unsigned flux from a power law ``dN/dPhi ~ Phi^-2`` between 1e20 and 1e23 Mx
  (Parnell et al. 2009 find an index of about -1.85 from ephemeral to large regions);
* a latitude from the butterfly diagram (small regions spread wider), a uniform
  Carrington longitude and emergence time;
* Hale's polarity law (the leading polarity follows `SolarCycle.north_leading_sign`) with
  anti-Hale regions at a rate falling from about 30 % at 1e20 Mx to 5 % at 1e23 Mx;
* Joy's law, ``tilt = 32 deg sin|lat|`` (Stenflo & Kosovichev 2012) with a scatter that
  is larger for small regions; the leading polarity is nearer the equator;
* a polarity separation growing with flux, ``5 deg (Phi / 1e22 Mx)^0.3``;
* for regions above about 2e21 Mx, a sunspot in the leading polarity (and above 4e21 Mx
  in the following one, smaller) with a peak field of 1.8-2.8 kG rising with flux, the
  rest of the flux in plage fragments of about 2e20 Mx with peak fields of 150-600 G;
  sizes follow from flux / peak field (the size-flux relation: area grows as flux);
* complex regions (multipolar: a second, randomly oriented bipole inside the region) at
  a rate rising from 3 % for small regions to 33 % above 3e22 Mx.

Each region's flux rises over ``0.7 d (Phi / 1e21 Mx)^0.35`` while its polarities move
apart; sunspots then shrink linearly (the Gnevyshev-Waldmeier rule, 10 MSH per day). The
plage is a set of fragments of about 2e20 Mx that disperse as random walks (surface
diffusion, 250 km2/s); each lives an exponentially distributed time of mean ``1.5 tau`` and
weakens meanwhile as ``exp(-t / 3 tau)`` (breaking up into smaller pieces), so that the
plage flux decays as ``exp(-t / tau)``, ``tau = 10 d (Phi / 1e21 Mx)^0.4`` (at most 50 d),
while what is left stays concentrated, as decaying plage does. Every source drifts in
Carrington longitude at the differential rotation of its latitude (`carrington_drift`).

The emergence rate (36 regions of 1e20 Mx or more per day at the peak of a cycle of
amplitude 1) and the network fluxes (`~sunpy_magnetogan.synthetic.network.NetworkModel`)
were calibrated so that synthetic HMI maps of 2011-12-17 match the real HMI magnetogram of
that day at the 512 px scale (percentiles of ``|B|`` from 75 % to 99.9 %, total unsigned flux,
plage and sunspot areas); ``benchmarks/bench_synthetic.py`` prints the comparison.
"""

import logging
from dataclasses import dataclass

import astropy.units as u
import numpy as np
import sunpy.sun.constants
from sunpy.sun.models import differential_rotation

from sunpy_magnetogan.sphere import MSH, MSH_CM2, SOLAR_RADIUS

__all__ = [
    "MSH",
    "MSH_CM2",
    "SOLAR_RADIUS_CM",
    "FluxModel",
    "SourceSet",
    "carrington_drift",
    "emerge_regions",
    "evolve_regions",
]

log = logging.getLogger(__name__)

#: Photospheric radius used for fluxes and areas (IAU nominal, `sunpy_magnetogan.sphere`), in cm.
SOLAR_RADIUS_CM = SOLAR_RADIUS.to_value(u.cm)
_CM_PER_DEG = SOLAR_RADIUS_CM * np.pi / 180.0

#: Source kinds.
SPOT, PLAGE, NETWORK = 0, 1, 2

#: Length of the windows in which regions are drawn, in days.
WINDOW_DAYS = 10.0


def carrington_drift(lat, *, model="howard"):
    """
    Rate of change of Carrington longitude of surface features, in deg/day.

    The sidereal differential rotation of `sunpy.sun.models.differential_rotation` minus
    the Carrington rate (`sunpy.sun.constants.sidereal_rotation_rate`, 14.1844 deg/day).

    Parameters
    ----------
    lat : array-like
        Latitude in degrees.
    model : str
        Differential-rotation model understood by sunpy (``"howard"``, ``"snodgrass"``,
        ``"allen"``, ``"rigid"``).

    Returns
    -------
    numpy.ndarray
        Degrees per day (positive: features move west relative to the Carrington grid).

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import carrington_drift
    >>> carrington_drift([0, 30, 60]).round(2)  # deg/day relative to the Carrington grid
    array([ 0.14, -0.5 , -2.48])
    """
    rotation = differential_rotation(1 * u.day, np.asarray(lat, dtype=np.float64) * u.deg, model=model)
    carrington = sunpy.sun.constants.sidereal_rotation_rate * u.day
    return (rotation - carrington).to_value(u.deg)


@dataclass(frozen=True)
class FluxModel:
    """
    Parameters of flux emergence and evolution (defaults calibrated against HMI).

    Parameters
    ----------
    regions_per_day : float
        Regions of 1e20 Mx or more emerging per day at the peak of a cycle of amplitude 1.
    min_flux, max_flux : float
        Range of total unsigned region flux, Mx.
    flux_index : float
        Index ``a`` of the flux distribution ``dN/dPhi ~ Phi^-a``.
    anti_hale_large, anti_hale_small : float
        Anti-Hale fraction is ``anti_hale_large + anti_hale_small * (Phi / 1e20 Mx)^-0.5``.
    joy_amplitude : float
        ``tilt = joy_amplitude * sin|lat|`` (deg).
    tilt_scatter : float
        Tilt scatter (deg) at 1e22 Mx; it scales as ``(Phi / 1e22 Mx)^-0.15``.
    spot_field, plage_field : tuple of float
        Range of peak field of sunspots and of plage fragments, G.
    fragment_flux : float
        Typical flux of one plage fragment, Mx.
    diffusion : float
        Surface diffusion coefficient of plage, km2/s.
    spot_inclination, plage_inclination : float
        Tangent of the field's inclination from the vertical at one source width from the
        centre of a sunspot or plage source; it grows linearly with the distance (0 at the
        centre). 0 (the default) keeps every field radial. A sunspot is vertical at its
        centre and about 70 deg from the vertical at the outer edge of its penumbra
        (Keppens & Martinez Pillet 1996, A&A 316, 229): 1.0 gives 45 deg at one width and
        63 deg at two, 1.4 gives 54 and 70 deg. ``B_r`` keeps its profile, so the field
        strength ``B_r / cos(inclination)`` of the inner penumbra comes out some 30 %
        above the observed one at 1.0, more at 1.4. Plage is close to vertical (Martinez
        Pillet, Lites & Skumanich 1997, ApJ 474, 810). It changes ``B_los`` near the limb
        (`~sunpy_magnetogan.synthetic.line_of_sight_field`), not ``B_r`` and not the EUV
        images.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import FluxModel, SyntheticSun
    >>> model = FluxModel()
    >>> round(float(model.separation(1e22)), 1), round(float(model.plage_decay_time(1e22)), 1)  # deg, days
    (5.0, 25.1)
    >>> quiet = SyntheticSun(1, flux_model=FluxModel(regions_per_day=5.0))
    """

    regions_per_day: float = 36.0
    min_flux: float = 1e20
    max_flux: float = 1e23
    flux_index: float = 2.0
    anti_hale_large: float = 0.04
    anti_hale_small: float = 0.26
    joy_amplitude: float = 32.1
    tilt_scatter: float = 12.0
    spot_field: tuple = (1800.0, 2800.0)
    plage_field: tuple = (150.0, 600.0)
    fragment_flux: float = 2e20
    diffusion: float = 250.0
    spot_inclination: float = 0.0
    plage_inclination: float = 0.0

    def __post_init__(self):
        if self.spot_inclination < 0 or self.plage_inclination < 0:
            raise ValueError(
                "spot_inclination and plage_inclination must be non-negative, got "
                f"{self.spot_inclination!r} and {self.plage_inclination!r}"
            )

    @property
    def radial(self):
        """Whether every source's field is radial (no inclination)."""
        return self.spot_inclination == 0 and self.plage_inclination == 0

    def inclination(self, kind):
        """
        Tangent of the inclination at one width of sources of the given kinds.

        Parameters
        ----------
        kind : numpy.ndarray
            Source kinds (``SPOT``, ``PLAGE`` or ``NETWORK``; the network is unresolved
            and stays radial).

        Returns
        -------
        numpy.ndarray
            Same shape as ``kind`` (float64).

        Examples
        --------
        >>> import numpy as np
        >>> from sunpy_magnetogan.synthetic.sources import NETWORK, PLAGE, SPOT, FluxModel
        >>> FluxModel(spot_inclination=1.4, plage_inclination=0.2).inclination(np.array([SPOT, PLAGE, NETWORK]))
        array([1.4, 0.2, 0. ])
        """
        kind = np.asarray(kind)
        return np.where(
            kind == SPOT, self.spot_inclination, np.where(kind == PLAGE, self.plage_inclination, 0.0)
        )

    def anti_hale_fraction(self, flux):
        """Probability that a region of total flux ``flux`` (Mx) violates Hale's law."""
        return self.anti_hale_large + self.anti_hale_small * np.sqrt(1e20 / np.asarray(flux))

    def complex_fraction(self, flux):
        """Probability that a region of total flux ``flux`` (Mx) is multipolar."""
        return 0.03 + 0.30 * np.clip((np.log10(flux) - 21.0) / 1.5, 0.0, 1.0)

    @staticmethod
    def rise_time(flux):
        """Emergence time scale (days) of a region of total flux ``flux`` (Mx)."""
        return 0.7 * (np.asarray(flux) / 1e21) ** 0.35

    @staticmethod
    def plage_decay_time(flux):
        """E-folding time (days) of the plage flux of a region of total flux ``flux`` (Mx)."""
        return np.clip(10.0 * (np.asarray(flux) / 1e21) ** 0.4, 1.0, 50.0)

    @staticmethod
    def separation(flux):
        """Distance between the two polarities (heliographic degrees)."""
        return 5.0 * (np.asarray(flux) / 1e22) ** 0.3

    @property
    def diffusion_deg2_per_day(self):
        """The diffusion coefficient in square heliographic degrees per day."""
        return self.diffusion * 1e10 * 86400.0 / _CM_PER_DEG**2

    @property
    def max_age(self):
        """Age (days) after which no region has flux left worth evaluating."""
        return 5.0 * 50.0


@dataclass(frozen=True)
class SourceSet:
    """
    Flux concentrations at one time, with Carrington positions.

    Attributes
    ----------
    lon, lat : numpy.ndarray
        Carrington longitude and latitude (deg).
    flux : numpy.ndarray
        Signed flux (Mx).
    sigma : numpy.ndarray
        Angular width (deg).
    kind : numpy.ndarray
        0 sunspot, 1 plage, 2 network.
    region : numpy.ndarray
        Region identifier (-1 for the network).

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import SyntheticSun
    >>> sources = SyntheticSun(1).sources("2014-01-01")
    >>> spots = sources.select(sources.kind == 0)
    >>> len(spots) < len(sources), float(abs(spots.flux).max()) > 1e21  # Mx
    (True, True)
    """

    lon: np.ndarray
    lat: np.ndarray
    flux: np.ndarray
    sigma: np.ndarray
    kind: np.ndarray
    region: np.ndarray

    def __len__(self):
        return len(self.flux)

    def select(self, mask):
        """The sources where ``mask`` is True."""
        return SourceSet(*(getattr(self, name)[mask] for name in _SOURCE_FIELDS))

    @staticmethod
    def concatenate(sets):
        """One `SourceSet` from several."""
        return SourceSet(*(np.concatenate([getattr(s, name) for s in sets]) for name in _SOURCE_FIELDS))

    @staticmethod
    def empty():
        """A set with no source."""
        f = np.zeros(0)
        return SourceSet(f, f, f, f, np.zeros(0, np.int8), np.zeros(0, np.int64))


_SOURCE_FIELDS = ("lon", "lat", "flux", "sigma", "kind", "region")


def _power_law(rng, n, low, high, index):
    """Draws from dN/dx ~ x^-index on [low, high]."""
    a = 1.0 - index
    q = rng.random(n)
    return (low**a + q * (high**a - low**a)) ** (1.0 / a)


def _width(flux, peak):
    """Angular width (deg) of a Gaussian of flux ``flux`` (Mx) and peak field ``peak`` (G)."""
    return np.sqrt(np.abs(flux) / (2.0 * np.pi * peak)) / _CM_PER_DEG


def emerge_regions(rng, window, cycle, model):
    """
    Draw the regions that emerge in one window of `WINDOW_DAYS` days.

    Parameters
    ----------
    rng : numpy.random.Generator
        The window's own random stream.
    window : int
        Window index: the window covers days ``[window, window + 1) * WINDOW_DAYS`` since
        `~sunpy_magnetogan.solar_cycle.EPOCH`.
    cycle : `~sunpy_magnetogan.solar_cycle.SolarCycle`
        The activity cycle.
    model : FluxModel
        Emergence and evolution parameters.

    Returns
    -------
    regions : dict of numpy.ndarray
        One entry per region: ``id``, ``t_emerge`` (days), ``lon``, ``lat`` (deg, Carrington,
        at emergence), ``flux`` (total unsigned Mx), ``cycle``, ``leading_sign``, ``hale``,
        ``complex``, ``tilt`` (deg).
    sources : dict of numpy.ndarray
        One entry per source: ``index`` (row in ``regions``), ``kind``, ``dx``, ``dy``
        (offset from the region centre at full separation, heliographic deg, west and
        north), ``flux`` (signed Mx at full strength), ``sigma`` (deg).
    """
    t0 = window * WINDOW_DAYS
    mid = t0 + WINDOW_DAYS / 2
    number = cycle.cycle_number(mid)
    cycles, counts = [], []
    for n in (number, number + 1):
        rate = model.regions_per_day * cycle.cycle_rate(n, mid) * WINDOW_DAYS
        k = int(rng.poisson(rate)) if rate > 0 else 0
        cycles.append(np.full(k, n))
        counts.append(k)
    cyc = np.concatenate(cycles).astype(np.int64)
    n = len(cyc)
    t_emerge = t0 + WINDOW_DAYS * rng.random(n)
    flux = _power_law(rng, n, model.min_flux, model.max_flux, model.flux_index)
    hemisphere = np.where(rng.random(n) < 0.5, 1.0, -1.0)
    mean_lat = np.zeros(n)
    spread = np.zeros(n)
    for c in np.unique(cyc):
        sel = cyc == c
        mean_lat[sel] = cycle.mean_latitude(int(c), t_emerge[sel]).to_value(u.deg)
        spread[sel] = cycle.latitude_spread(int(c), t_emerge[sel]).to_value(u.deg)
    # Small regions are less confined to the activity belts.
    spread = spread * (1.0 + np.clip(np.log10(3e21 / flux), 0.0, None))
    abs_lat = np.abs(mean_lat + spread * rng.standard_normal(n))
    abs_lat = np.clip(abs_lat, 0.5, 60.0)
    lat = hemisphere * abs_lat
    lon = 360.0 * rng.random(n)
    north_sign = np.array([cycle.north_leading_sign(c) for c in (0, 1)], dtype=np.float64)[cyc % 2]
    hale = rng.random(n) >= model.anti_hale_fraction(flux)
    leading = north_sign * hemisphere * np.where(hale, 1.0, -1.0)
    scatter = model.tilt_scatter * (flux / 1e22) ** -0.15
    tilt = model.joy_amplitude * np.sin(np.deg2rad(abs_lat)) + scatter * rng.standard_normal(n)
    is_complex = rng.random(n) < model.complex_fraction(flux)
    ident = np.int64(window) * 10_000 + np.arange(n, dtype=np.int64)

    regions = {
        "id": ident,
        "t_emerge": t_emerge,
        "lon": lon,
        "lat": lat,
        "flux": flux,
        "cycle": cyc,
        "leading_sign": leading.astype(np.int8),
        "hale": hale,
        "complex": is_complex,
        "tilt": tilt,
    }
    parts = [_bipole_sources(rng, np.arange(n), flux / 2.0, leading, tilt, hemisphere, model)]
    if is_complex.any():
        idx = np.flatnonzero(is_complex)
        m = len(idx)
        share = 0.2 + 0.4 * rng.random(m)
        sep = model.separation(flux[idx])
        angle = 360.0 * rng.random(m)
        sub = _bipole_sources(
            rng, idx, share * flux[idx] / 2.0, rng.choice([-1.0, 1.0], m), angle, hemisphere[idx], model
        )
        # Place the extra bipole inside the region, off its centre.
        r = 0.35 * sep * np.sqrt(rng.random(m))
        phi = 2.0 * np.pi * rng.random(m)
        pos = np.searchsorted(idx, sub["index"])
        sub["dx"] += (r * np.cos(phi))[pos]
        sub["dy"] += (r * np.sin(phi))[pos]
        parts.append(sub)
    sources = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    return regions, sources


def _bipole_sources(rng, index, half_flux, leading, tilt, hemisphere, model):
    """Sunspots and plage fragments of bipoles of flux ``half_flux`` per polarity."""
    lf = np.log10(2.0 * half_flux)
    sep = model.separation(2.0 * half_flux)
    # Leading polarity west (+x) and, for positive tilt, nearer the equator.
    t = np.deg2rad(tilt)
    axis_x = 0.5 * sep * np.cos(t)
    axis_y = -0.5 * sep * np.sin(t) * hemisphere
    lead_spot = 0.5 * np.clip((lf - 21.3) / 1.2, 0.0, 1.0)
    follow_spot = 0.6 * lead_spot * (lf > 21.6)
    n = len(index)
    out = {key: [] for key in ("index", "kind", "dx", "dy", "flux", "sigma", "wx", "wy", "life")}
    for pol, spot_share, spread in ((1.0, lead_spot, 0.2), (-1.0, follow_spot, 0.3)):
        sign = pol * leading
        cx, cy = pol * axis_x, pol * axis_y
        # Sunspots: a peak field rising with flux; size from flux / field.
        has_spot = spot_share > 0
        s_flux = sign * half_flux * spot_share
        low, high = model.spot_field
        peak = (low + (high - low) * np.clip(lf - 21.5, 0, 1.5) / 1.5) * (0.9 + 0.2 * rng.random(n))
        jitter = 0.05 * sep
        m = int(has_spot.sum())
        out["index"].append(index[has_spot])
        out["kind"].append(np.full(m, SPOT, np.int8))
        out["dx"].append((cx + jitter * rng.standard_normal(n))[has_spot])
        out["dy"].append((cy + jitter * rng.standard_normal(n))[has_spot])
        out["flux"].append(s_flux[has_spot])
        out["sigma"].append(_width(s_flux, peak)[has_spot])
        out["wx"].append(np.zeros(m))
        out["wy"].append(np.zeros(m))
        out["life"].append(np.full(m, np.inf))
        # Plage: fragments of about `fragment_flux` (Dirichlet shares), scattered about
        # the polarity centre; each later random-walks away (dispersal).
        plage = half_flux * (1.0 - spot_share)
        n_frag = np.clip(np.rint(plage / model.fragment_flux), 1, 120).astype(np.int64)
        rows = np.repeat(np.arange(n), n_frag)
        weights = rng.gamma(2.0, size=rows.size)
        totals = np.bincount(rows, weights=weights, minlength=n)
        f_flux = (sign * plage)[rows] * weights / totals[rows]
        p_peak = rng.uniform(*model.plage_field, size=rows.size)
        scatter = np.maximum(spread * sep, 0.4)[rows]
        out["index"].append(index[rows])
        out["kind"].append(np.full(rows.size, PLAGE, np.int8))
        out["dx"].append(cx[rows] + scatter * rng.standard_normal(rows.size))
        out["dy"].append(cy[rows] + 0.7 * scatter * rng.standard_normal(rows.size))
        out["flux"].append(f_flux)
        out["sigma"].append(np.maximum(_width(f_flux, p_peak), 0.05))
        out["wx"].append(rng.standard_normal(rows.size))
        out["wy"].append(rng.standard_normal(rows.size))
        # Lifetime in units of the region's plage decay time (exponentially distributed).
        out["life"].append(rng.exponential(size=rows.size))
    return {key: np.concatenate(value) for key, value in out.items()}


def evolve_regions(regions, sources, days, model, *, rotation_model="howard"):
    """
    The sources of a set of regions at one time.

    Parameters
    ----------
    regions, sources : dict of numpy.ndarray
        As returned by `emerge_regions` (possibly several windows concatenated).
    days : float
        The time, days since `~sunpy_magnetogan.solar_cycle.EPOCH`.
    model : FluxModel
        Evolution parameters.
    rotation_model : str
        Differential-rotation model (see `carrington_drift`).

    Returns
    -------
    SourceSet
        The sources of the regions that have emerged by ``days`` and still hold flux.
    """
    idx = sources["index"]
    age = days - regions["t_emerge"][idx]
    live = (age >= 0) & (age < model.max_age)
    if not live.any():
        return SourceSet.empty()
    idx, age = idx[live], age[live]
    kind = sources["kind"][live]
    flux0 = sources["flux"][live]
    sigma0 = sources["sigma"][live]
    total = regions["flux"][idx]

    rise = -np.expm1(-age / model.rise_time(total))
    # Spots shrink at 10 MSH/day (Gnevyshev-Waldmeier); their field strength stays.
    spot_area = np.abs(flux0) / (0.5 * model.spot_field[0] * MSH_CM2)
    spot_left = np.clip(1.0 - age * 10.0 / spot_area, 0.0, 1.0)
    # Each plage fragment lives an exponentially distributed time (mean 1.5 tau) and then
    # fades within a day, and weakens meanwhile as exp(-t / 3 tau): the region's plage
    # flux decays as exp(-t / tau) while what is left stays concentrated.
    # Surviving fragments also weaken (they break up into network-sized pieces).
    tau = model.plage_decay_time(total)
    plage_left = np.clip(sources["life"][live] * 1.5 * tau - age + 0.5, 0.0, 1.0) * np.exp(-age / (3.0 * tau))
    is_spot = kind == SPOT
    flux = flux0 * rise * np.where(is_spot, spot_left, plage_left)
    # Plage fragments disperse (a random walk of rms 2 D t, fixed direction per fragment);
    # spots keep their field strength as they shrink.
    walk = np.sqrt(2.0 * model.diffusion_deg2_per_day * age)
    # Decaying plage fragments break up into smaller pieces: their width shrinks as the
    # fourth root of their flux (at least 0.1 deg), so their peak field drops as its
    # square root.
    sigma = np.where(
        is_spot,
        sigma0 * np.sqrt(np.maximum(spot_left, 0.04)),
        np.maximum(sigma0 * np.maximum(plage_left, 1e-4) ** 0.25, np.minimum(sigma0, 0.1)),
    )
    # Polarities move apart while the region emerges.
    spread = 0.5 + 0.5 * rise
    lat = regions["lat"][idx] + spread * sources["dy"][live] + walk * sources["wy"][live]
    lat = np.clip(lat, -89.9, 89.9)
    dx = spread * sources["dx"][live] + walk * sources["wx"][live]
    lon = (
        regions["lon"][idx] + dx / np.cos(np.deg2rad(lat)) + carrington_drift(lat, model=rotation_model) * age
    )
    # Sources whose peak field has dropped below 0.2 G have dispersed into the network.
    peak = np.abs(flux) / (2.0 * np.pi * np.square(sigma * _CM_PER_DEG))
    keep = peak > 0.2
    return SourceSet(
        lon=np.mod(lon[keep], 360.0),
        lat=lat[keep],
        flux=flux[keep],
        sigma=sigma[keep],
        kind=kind[keep],
        region=regions["id"][idx][keep],
    )

"""
Synoptic (full-Sun Carrington) magnetic maps from several observers and times.

Frontside magnetograms (SDO/HMI, or generated from SDO/AIA) and farside ones (generated
from STEREO/EUVI) are reprojected onto one Carrington grid (header from
`sunpy.map.header_helper.make_heliographic_header`) and averaged with
`reproject.mosaicking.reproject_and_coadd`, each pixel weighted by ``mu ** weight_power``
so that the view closest to disk centre dominates. Beside the map, a coverage map (the
summed weight) and a source map (the index of the source that weighs most at each pixel)
say where the map comes from; per-pixel layers combined with the same weights give when
each pixel was observed, how much of it is a prediction (from a generated
`~sunpy_magnetogan.mapsource.MagnetoGANMap`), how much was on the far side as seen from the
Earth and, when given, its polarity confidence.

A synoptic map only makes sense for inputs close in time: by default, maps spread over more
than one mean synodic Carrington rotation (27.2753 days) are refused with a
`~sunpy_magnetogan.exceptions.TimeSpanError`.

All maps are brought onto one solar radius (SDO headers use ``rsun_ref`` = 696000 km,
STEREO and sunpy 695700 km; see sunpy's "rsun idiosyncrasies" guide): by default the
smallest of the inputs, so that no limb pixel is dropped or misplaced.
"""

import logging
import warnings
from dataclasses import dataclass

import astropy.units as u
import numpy as np
import sunpy.map
from astropy.io import fits
from astropy.time import Time
from reproject import reproject_interp
from reproject.mosaicking import reproject_and_coadd
from scipy import ndimage
from sunpy.coordinates import HeliographicCarrington, get_earth, propagate_with_solar_surface
from sunpy.map.header_helper import make_heliographic_header
from sunpy.sun.constants import mean_synodic_period, sidereal_rotation_rate
from sunpy.sun.models import differential_rotation
from sunpy.util import MetaDict

from sunpy_magnetogan._io import as_maps
from sunpy_magnetogan.exceptions import (
    CorruptFileError,
    TimeSpanError,
    TimeSpanWarning,
    warn_user,
)
from sunpy_magnetogan.mapsource import MagnetoGANMap
from sunpy_magnetogan.metrics import disk_geometry
from sunpy_magnetogan.sphere import lonlat_to_vectors, vectors_to_lonlat
from sunpy_magnetogan.tracking._geometry import (
    MU_FLOOR,
    binned_map,
    disk_centre_scale,
    magnetogram_data,
    observer_label,
    with_rsun,
)

__all__ = ["DEFAULT_MAX_SPAN", "SynopticMap", "make_synoptic_map", "read_synoptic_map"]

log = logging.getLogger(__name__)

#: Width in mu over which the weights rise from 0 at ``min_mu`` to ``mu ** weight_power``.
_TAPER = 0.05
#: With ``min_mu > 0``, output pixels whose summed weight is below this are left empty (a
#: pixel at disk centre weighs 1): interpolating the tapered weights leaves tiny values
#: just past the cut. With ``min_mu = 0`` every pixel with any weight is kept.
_MIN_COVERAGE = 1e-3

#: Default largest time span of the inputs of a synoptic map: one mean synodic Carrington
#: rotation (`sunpy.sun.constants.mean_synodic_period`, 27.2753 days).
DEFAULT_MAX_SPAN = mean_synodic_period.to(u.day)

#: Extensions of a saved synoptic map holding the optional layers, and their attributes.
_LAYER_HDUS = {"TIME": "time", "GENERATED": "generated", "FARSIDE": "farside", "CONFIDENCE": "confidence"}


@dataclass(frozen=True)
class SynopticMap:
    """
    A synoptic map with its coverage and the source of each pixel.

    Attributes
    ----------
    map : `~sunpy.map.GenericMap`
        The Carrington map (``CRLN``/``CRLT``, CAR or CEA) of the field in G; NaN where no
        source covers it.
    coverage : `~sunpy.map.GenericMap`
        Summed weight (``mu ** weight_power``) of all sources at each pixel; 0 where none.
    source : `~sunpy.map.GenericMap`
        Integer map: index in `labels` of the source with the largest weight at each pixel,
        -1 where none.
    labels : tuple of str
        The source labels (e.g. ``"SDO/HMI"``, ``"STEREO A/MagnetoGAN"``).
    time : `~sunpy.map.GenericMap` or None
        Observation time of each pixel, in days (``BUNIT = 'd'``) after the map's date
        (the ``TIMEREF`` keyword): the time of the input that supplied the pixel, or the
        mean time of the inputs weighted as the field is where several overlap; NaN where
        no source covers the map. `observation_time` gives it as `~astropy.time.Time`.
        None only for files written before the layer existed.
    generated : `~sunpy.map.GenericMap` or None
        Fraction of each pixel's weight that comes from generated magnetograms
        (`~sunpy_magnetogan.mapsource.MagnetoGANMap`, predictions from EUV images): 0 for
        observed, 1 for predicted pixels; NaN where no source covers the map.
    farside : `~sunpy.map.GenericMap` or None
        Fraction of each pixel's weight that comes from input pixels hidden from the Earth
        when they were observed (the far side, seen by a farside observer or predicted
        from its EUV images); NaN where no source covers the map.
    confidence : `~sunpy.map.GenericMap` or None
        The polarity confidence of the inputs that have one, combined like the field
        (NaN where none of them covers the map); None if no input had one.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi
    >>> from sunpy_magnetogan.tracking import make_synoptic_map
    >>> hmi = observe_hmi(SyntheticSun(3004), "2014-09-20", npix=128)
    >>> synoptic = make_synoptic_map([hmi], shape=(45, 90), labels=["SDO/HMI"])
    >>> synoptic.labels, synoptic.map.data.shape
    (('SDO/HMI',), (45, 90))
    >>> bool(0.3 < synoptic.source_mask("SDO/HMI").mean() < 0.5)  # the front side only
    True
    >>> times = synoptic.observation_time()  # of each pixel: here, of the one input
    >>> print(times[synoptic.source_mask("SDO/HMI")][0])
    2014-09-20T00:00:00.000
    """

    map: sunpy.map.GenericMap
    coverage: sunpy.map.GenericMap
    source: sunpy.map.GenericMap
    labels: tuple
    time: sunpy.map.GenericMap | None = None
    generated: sunpy.map.GenericMap | None = None
    farside: sunpy.map.GenericMap | None = None
    confidence: sunpy.map.GenericMap | None = None

    def observation_time(self):
        """
        When each pixel was observed (weighted mean time where inputs overlap).

        Returns
        -------
        `~astropy.time.Time`
            Shape of the map; masked where no source covers it.

        Raises
        ------
        ValueError
            If the synoptic map has no time layer (a file from an older version).
        """
        if self.time is None:
            raise ValueError("this synoptic map has no time layer")
        reference = Time(self.time.meta["timeref"], scale="utc")
        days = np.asarray(self.time.data, dtype=float)
        times = reference + np.nan_to_num(days) * u.day
        times[~np.isfinite(days)] = np.ma.masked
        return times

    def farside_prediction_mask(self, *, threshold=0.5):
        """
        Where the map is a farside prediction.

        A pixel is one when more than ``threshold`` of its weight comes from generated
        magnetograms (`generated`) and more than ``threshold`` from input pixels that were
        hidden from the Earth when they were observed (`farside`).

        Parameters
        ----------
        threshold : float
            Smallest fraction of the weight.

        Returns
        -------
        `numpy.ndarray` of bool
            Shape of the map; all False for a file written before the layers existed.
        """
        if self.generated is None or self.farside is None:
            return np.zeros(np.shape(self.map.data), dtype=bool)
        generated = np.nan_to_num(np.asarray(self.generated.data, dtype=float))
        farside = np.nan_to_num(np.asarray(self.farside.data, dtype=float))
        return (generated > threshold) & (farside > threshold)

    def source_mask(self, label):
        """
        Where the map comes from ``label`` (e.g. the farside prediction).

        Parameters
        ----------
        label : str or int
            A label of `labels` or its index.

        Returns
        -------
        `numpy.ndarray` of bool
            Shape of the map.
        """
        index = self.labels.index(label) if isinstance(label, str) else int(label)
        return np.asarray(self.source.data) == index

    def save(self, path, *, overwrite=False):
        """
        Write the maps to one FITS file.

        The primary HDU holds the map; the COVERAGE and SOURCE extensions the coverage and
        source maps; TIME (days after ``TIMEREF``, float64), GENERATED, FARSIDE and
        CONFIDENCE the layers that are present.

        Parameters
        ----------
        path : str or path-like
        overwrite : bool
        """
        hdus = fits.HDUList(
            [
                fits.PrimaryHDU(np.asarray(self.map.data, dtype=np.float32), header=self.map.fits_header),
                fits.ImageHDU(
                    np.asarray(self.coverage.data, dtype=np.float32),
                    header=self.coverage.fits_header,
                    name="COVERAGE",
                ),
                fits.ImageHDU(
                    np.asarray(self.source.data, dtype=np.int16),
                    header=self.source.fits_header,
                    name="SOURCE",
                ),
            ]
        )
        for name, attribute in _LAYER_HDUS.items():
            layer = getattr(self, attribute)
            if layer is not None:
                dtype = np.float64 if name == "TIME" else np.float32
                hdus.append(
                    fits.ImageHDU(np.asarray(layer.data, dtype=dtype), header=layer.fits_header, name=name)
                )
        hdus.writeto(path, overwrite=overwrite)


def read_synoptic_map(path):
    """
    Read a file written by `SynopticMap.save`.

    Parameters
    ----------
    path : str or path-like

    Returns
    -------
    `SynopticMap`

    Raises
    ------
    CorruptFileError
        If the file does not hold a synoptic map with its COVERAGE and SOURCE extensions.

    Examples
    --------
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_hmi
    >>> from sunpy_magnetogan.tracking import make_synoptic_map, read_synoptic_map
    >>> hmi = observe_hmi(SyntheticSun(3004), "2014-09-20", npix=128)
    >>> make_synoptic_map([hmi], shape=(45, 90), labels=["HMI"]).save(tmp_path / "synoptic.fits")
    >>> synoptic = read_synoptic_map(tmp_path / "synoptic.fits")
    >>> synoptic.labels, synoptic.map.data.shape
    (('HMI',), (45, 90))
    """
    try:
        with fits.open(path) as hdus:
            parts = [(hdus[0].data, hdus[0].header), (hdus["COVERAGE"].data, hdus["COVERAGE"].header)]
            parts.append((hdus["SOURCE"].data, hdus["SOURCE"].header))
            parts = [(np.array(data), header.copy()) for data, header in parts]
            layers = {
                attribute: sunpy.map.Map(np.array(hdus[name].data, dtype=float), hdus[name].header.copy())
                for name, attribute in _LAYER_HDUS.items()
                if name in hdus
            }
    except (OSError, KeyError) as exc:
        raise CorruptFileError(f"{path} is not a synoptic map file: {exc}") from exc
    header = parts[0][1]
    labels = tuple(header[f"SRCLAB{k + 1}"] for k in range(int(header.get("NSOURCE", 0))))
    smap, coverage, source = (sunpy.map.Map(data.astype(float), hdr) for data, hdr in parts)
    source = sunpy.map.Map(np.asarray(parts[2][0], dtype=np.int16), parts[2][1])
    return SynopticMap(smap, coverage, source, labels, **layers)


def _hidden_from_earth(grid_vectors, time, date, rotation_model, rsun, tolerance):
    """
    1.0 where the surface points of the output grid were hidden from the Earth at ``time``.

    ``grid_vectors`` are the Carrington unit vectors ``(ny, nx, 3)`` of the grid at
    ``date``; with differential rotation each point is first moved back to where it was
    at ``time``. A pixel counts as hidden only when it lies more than ``tolerance`` (the
    sine of half a pixel) beyond the Earth's limb, so that a frontside input's last
    pixels, interpolated just past the limb, are not taken for the far side.
    """
    vectors = grid_vectors
    if rotation_model != "rigid":
        lon, lat = vectors_to_lonlat(vectors)
        elapsed = (time - date).to(u.day)
        drift = differential_rotation(elapsed, lat, model=rotation_model, frame_time="sidereal")
        drift = drift - (sidereal_rotation_rate * elapsed).to(u.deg)
        vectors = lonlat_to_vectors(lon + drift, lat)
    earth = get_earth(time).transform_to(HeliographicCarrington(observer="earth", obstime=time))
    towards = lonlat_to_vectors(earth.lon, earth.lat)
    # seen from a distance d, the visible cap is p . e > rsun / d
    limb = (rsun / earth.radius).to_value(u.one)
    return (np.einsum("ijk,k->ij", vectors, towards) < limb - tolerance).astype(float)


def _check_span(times, max_span, on_long_span):
    """The time span of the inputs (days), after refusing or warning if it is too long."""
    if max_span is not None:
        if not (isinstance(max_span, u.Quantity) and max_span.unit.is_equivalent(u.day)):
            raise TypeError(f"max_span must be a time Quantity or None, not {max_span!r}")
        if max_span < 0 * u.day:
            raise ValueError(f"max_span must not be negative, not {max_span}")
        max_span = max_span.to(u.day)
    span = (times.max() - times.min()).to(u.day)
    if max_span is not None and span > max_span:
        message = (
            f"the input maps span {span.to_value(u.day):.1f} d ({times.min().isot} to {times.max().isot}), "
            f"more than max_span = {max_span.to_value(u.day):.1f} d: a synoptic map of them would "
            "merge different rotations; pass max_span=None (or a larger span) to combine them anyway"
        )
        if on_long_span == "raise":
            raise TimeSpanError(message)
        warn_user(message, TimeSpanWarning, stacklevel=3)
    return span


def _confidence_arrays(confidence, maps):
    """One array (or None) per input map from the ``confidence`` argument."""
    if confidence is None:
        return [None] * len(maps)
    confidence = list(confidence)
    if len(confidence) != len(maps):
        raise ValueError(f"got {len(confidence)} confidence layers for {len(maps)} maps")
    out = []
    for k, (layer, smap) in enumerate(zip(confidence, maps, strict=True)):
        if layer is None:
            out.append(None)
            continue
        data = np.asarray(layer.data if isinstance(layer, sunpy.map.GenericMap) else layer, dtype=float)
        if data.shape != np.shape(smap.data):
            raise ValueError(
                f"the confidence layer of map {k} has shape {data.shape}, not the map's {np.shape(smap.data)}"
            )
        out.append(data)
    return out


def _pad_limb(data, off_disk, max_pixels=2):
    """
    Fill off-disk pixels next to usable ones with the nearest usable value.

    Their weight stays 0: the filled values only let the bilinear interpolation use the last
    pixels before the limb instead of dropping them, which matters when ``min_mu`` is 0 and
    two observers must meet at the limb. Pixels cut by ``min_mu`` are not filled.
    """
    bad = ~np.isfinite(data)
    if not bad.any() or bad.all():
        return data
    distance, (iy, ix) = ndimage.distance_transform_edt(bad, return_distances=True, return_indices=True)
    fill = bad & off_disk & (distance <= max_pixels)
    out = data.copy()
    out[fill] = data[iy[fill], ix[fill]]
    return out


@u.quantity_input
def make_synoptic_map(
    maps,
    *,
    shape=(180, 360),
    projection_code="CAR",
    date=None,
    labels=None,
    weight_power=2.0,
    min_mu=0.1,
    radial=True,
    rotation_model="rigid",
    center_longitude: u.deg = 180 * u.deg,
    rsun: u.m = None,
    max_span=DEFAULT_MAX_SPAN,
    on_long_span="raise",
    confidence=None,
):
    """
    Combine magnetograms from several observers and times into a Carrington map.

    Parameters
    ----------
    maps : iterable of `~sunpy.map.GenericMap` or path-like
        Helioprojective magnetograms (G), e.g. SDO/HMI or generated frontside maps and
        generated farside maps.
    shape : tuple of int
        ``(n_lat, n_lon)`` of the output map (full Sun).
    projection_code : {'CAR', 'CEA'}
        Plate carree or cylindrical equal-area in latitude.
    date : str or `~astropy.time.Time`, optional
        Date of the map (its Carrington frame); the mean time of the inputs by default.
    labels : list of str, optional
        Source label of each input map (inputs may share a label, e.g. ``["HMI", "HMI",
        "farside GAN"]``); ``observatory/instrument`` of each map by default.
    weight_power : float
        Each input pixel weighs ``mu ** weight_power``.
    min_mu : float
        Input pixels with ``mu`` below this get no weight (unreliable near the limb); the
        weights rise smoothly over the next 0.05 in ``mu``. With observers on opposite
        sides of the Sun, 0 gives a map without a gap at the limbs.
    radial : bool
        If True, map ``B_los / mu`` (estimate of the radial field, ``mu`` clipped at 0.05);
        otherwise the line-of-sight field.
    rotation_model : str
        How inputs from other times are moved to ``date``: ``'rigid'`` (default) keeps
        Carrington coordinates (a classical synoptic map); ``'howard'``, ``'snodgrass'``
        or ``'allen'`` also apply differential rotation relative to the Carrington rate
        (a map of the Sun as it would look at ``date``).
    center_longitude : `~astropy.units.Quantity`
        Carrington longitude at the centre of the map (180 deg: the map spans 0 to 360 deg).
    rsun : `~astropy.units.Quantity`, optional
        Radius of the sphere; the smallest ``rsun_meters`` of the inputs by default.
    max_span : `~astropy.units.Quantity` or None
        Largest time between the first and the last input (days); one mean synodic
        Carrington rotation (27.2753 d) by default. None: no limit.
    on_long_span : {'raise', 'warn'}
        What to do when the inputs span more than ``max_span``: raise a
        `~sunpy_magnetogan.exceptions.TimeSpanError`, or issue a
        `~sunpy_magnetogan.exceptions.TimeSpanWarning` and make the map. Either names the
        span found; the map's ``TSPAN`` keyword records it (days).
    confidence : list, optional
        One polarity-confidence layer per input map (an array of the map's shape, a map of
        that shape, or None for a map without one), combined with the same weights as the
        field into `SynopticMap.confidence`.

    Returns
    -------
    `SynopticMap`
        The map, the coverage (summed weight) map, the source-index map, the labels, and
        the time, generated-fraction, farside-fraction and (with ``confidence``)
        confidence layers.

    Raises
    ------
    InputMapError
        If an input is not a helioprojective magnetogram.
    TimeSpanError
        If the inputs span more than ``max_span`` and ``on_long_span`` is ``'raise'``
        (a subclass of `~sunpy_magnetogan.exceptions.InputMapError`).
    ValueError
        If ``labels`` or ``confidence`` does not match the inputs, or an option is out of
        range.

    Notes
    -----
    Every layer is the mean of the inputs' values weighted as the field is: the weight of
    each input reprojected onto the Carrington grid. The time layer holds, for each pixel,
    ``sum_k w_k t_k / sum_k w_k`` (``t_k`` the time of input ``k``); the generated layer
    the same with ``t_k`` replaced by 1 for a `~sunpy_magnetogan.mapsource.MagnetoGANMap`
    and 0 otherwise, and the farside layer with 1 where the input's pixel was hidden from
    the Earth at the input's time (more than half a grid pixel past the Earth's limb):
    `SynopticMap.farside_prediction_mask` marks the farside predictions with them.

    Examples
    --------
    >>> synoptic = make_synoptic_map([hmi_map, farside_map], labels=["HMI", "GAN farside"])  # doctest: +SKIP
    >>> synoptic.map.peek()  # doctest: +SKIP
    """
    maps = as_maps(maps)
    if labels is None:
        labels = [observer_label(m) for m in maps]
    labels = [str(label) for label in labels]
    if len(labels) != len(maps):
        raise ValueError(f"got {len(labels)} labels for {len(maps)} maps")
    if projection_code not in ("CAR", "CEA"):
        raise ValueError(f"projection_code must be 'CAR' or 'CEA', not {projection_code!r}")
    if not 0 <= min_mu < 1:
        raise ValueError(f"min_mu must be in [0, 1), not {min_mu}")
    if rotation_model not in ("rigid", "howard", "snodgrass", "allen"):
        raise ValueError(f"unknown rotation_model {rotation_model!r}")
    if on_long_span not in ("raise", "warn"):
        raise ValueError(f"on_long_span must be 'raise' or 'warn', not {on_long_span!r}")
    confidences = _confidence_arrays(confidence, maps)
    unique_labels = tuple(dict.fromkeys(labels))
    times = Time([m.reference_date for m in maps])
    span = _check_span(times, max_span, on_long_span)
    date = Time(times.jd.mean(), format="jd", scale="utc") if date is None else Time(date)
    date = Time(date.isot)
    offsets = (times - date).to_value(u.day)
    generated_input = [isinstance(m, MagnetoGANMap) for m in maps]
    if rsun is None:
        rsun = min(u.Quantity(m.rsun_meters, u.m) for m in maps)
    rsun = u.Quantity(rsun, u.m)

    header = make_heliographic_header(
        date,
        get_earth(date),
        shape,
        frame="carrington",
        projection_code=projection_code,
        map_center_longitude=center_longitude,
    )
    header["rsun_ref"] = rsun.to_value(u.m)
    out_wcs = sunpy.map.Map(np.zeros(shape), header).wcs
    grid_x, grid_y = np.meshgrid(np.arange(shape[1]), np.arange(shape[0]))
    grid_lon, grid_lat = out_wcs.pixel_to_world_values(grid_x, grid_y)
    grid_vectors = lonlat_to_vectors(grid_lon * u.deg, grid_lat * u.deg)

    # Inputs much finer than the output grid are averaged first (no aliasing, less work).
    out_scale = abs(float(header["cdelt1"])) * u.deg
    tolerance = float(np.sin(out_scale.to_value(u.rad) / 2))
    inputs, weights = [], []
    for k, smap in enumerate(maps):
        data = magnetogram_data(smap)
        smap = with_rsun(smap, rsun)
        factor = int(np.floor((out_scale / 2 / disk_centre_scale(smap, rsun=rsun)).to_value(u.one)))
        if factor >= 2:
            on_disk = np.isfinite(disk_geometry(smap, rsun=rsun).mu)
            if confidences[k] is not None:
                binned = binned_map(smap, np.where(on_disk, confidences[k], np.nan), factor)
                confidences[k] = np.asarray(binned.data, dtype=float)
            smap = binned_map(smap, np.where(on_disk, data, np.nan), factor)
            data = np.asarray(smap.data, dtype=float)
            log.debug("binned an input by %d for the %s deg grid", factor, out_scale.value)
        mu = disk_geometry(smap, rsun=rsun).mu
        on_disk = np.isfinite(mu) & (mu > 0)
        mu = np.where(on_disk, mu, 0.0)
        valid = on_disk & np.isfinite(data)
        if radial:
            data = data / np.maximum(mu, MU_FLOOR)
        # The weight falls smoothly to 0 at min_mu: no ragged edge where the last input
        # pixels are cut, and a soft seam where two sources meet. Pixels below min_mu keep
        # their data (weight 0) so that interpolation next to the cut can use them.
        taper = np.clip((mu - min_mu) / _TAPER, 0.0, 1.0) if min_mu > 0 else (mu > 0).astype(float)
        inputs.append((_pad_limb(np.where(valid, data, np.nan), ~on_disk), smap.wcs))
        weights.append(np.where(valid, mu**weight_power * taper, 0.0))

    with propagate_with_solar_surface(rotation_model=rotation_model), warnings.catch_warnings():
        # reproject samples the edges of each full-disk input, which lie off the disk.
        warnings.filterwarnings("ignore", message=".*2D helioprojective coordinates to 3D is all NaNs")
        combined, total_weight = reproject_and_coadd(
            inputs,
            out_wcs,
            shape_out=tuple(shape),
            input_weights=weights,
            reproject_function=reproject_interp,
            combine_function="mean",
            blank_pixel_value=np.nan,
        )
        # The source map and the layers need each input's weight on the output grid.
        best = np.zeros(shape)
        source = np.full(shape, -1, dtype=np.int16)
        sums = {name: np.zeros(shape) for name in ("weight", "time", "generated", "farside")}
        sums.update(confidence=np.zeros(shape), confidence_weight=np.zeros(shape))
        for k, ((_, wcs), weight) in enumerate(zip(inputs, weights, strict=True)):
            on_grid = reproject_interp((weight, wcs), out_wcs, shape_out=tuple(shape), return_footprint=False)
            on_grid = np.nan_to_num(on_grid)
            better = on_grid > best
            best[better] = on_grid[better]
            source[better] = unique_labels.index(labels[k])
            sums["weight"] += on_grid
            sums["time"] += on_grid * offsets[k]
            sums["generated"] += on_grid * float(generated_input[k])
            hidden = _hidden_from_earth(grid_vectors, times[k], date, rotation_model, rsun, tolerance)
            sums["farside"] += on_grid * hidden
            if confidences[k] is not None:
                layer = reproject_interp(
                    (confidences[k], wcs), out_wcs, shape_out=tuple(shape), return_footprint=False
                )
                usable = np.isfinite(layer) & (on_grid > 0)
                sums["confidence"][usable] += on_grid[usable] * layer[usable]
                sums["confidence_weight"][usable] += on_grid[usable]

    covered = total_weight > (_MIN_COVERAGE if min_mu > 0 else 0.0)
    combined = np.where(covered, combined, np.nan)
    source = np.where(covered, source, -1).astype(np.int16)
    with np.errstate(divide="ignore", invalid="ignore"):
        layered = covered & (sums["weight"] > 0)
        time_layer = np.where(layered, sums["time"] / sums["weight"], np.nan)
        generated_layer = np.where(layered, sums["generated"] / sums["weight"], np.nan)
        farside_layer = np.where(layered, sums["farside"] / sums["weight"], np.nan)
        with_confidence = covered & (sums["confidence_weight"] > 0)
        confidence_layer = np.where(with_confidence, sums["confidence"] / sums["confidence_weight"], np.nan)

    meta = MetaDict(dict(header))
    meta["bunit"] = "G"
    meta["content"] = "radial magnetic field (B_los / mu)" if radial else "line-of-sight magnetic field"
    meta["nsource"] = len(unique_labels)
    for k, label in enumerate(unique_labels):
        meta[f"srclab{k + 1}"] = label
        # whether the source is a prediction (generated magnetograms only)
        meta[f"srcgen{k + 1}"] = all(
            g for g, lab in zip(generated_input, labels, strict=True) if lab == label
        )
    meta["wgtpower"] = float(weight_power)
    meta["min_mu"] = float(min_mu)
    meta["rotmodel"] = rotation_model
    meta["date-beg"] = times.min().isot
    meta["date-end"] = times.max().isot
    meta["tspan"] = float(span.to_value(u.day))
    # -1: no limit (FITS headers hold no infinity)
    limit = np.inf if max_span is None else float(u.Quantity(max_span).to_value(u.day))
    meta["maxspan"] = limit if np.isfinite(limit) else -1.0
    meta["nmaps"] = len(maps)
    meta["history"] = "synoptic map by sunpy_magnetogan.tracking.make_synoptic_map (reproject_and_coadd)"

    cov_meta = MetaDict(dict(meta))
    cov_meta["bunit"] = ""
    cov_meta["content"] = f"summed weight mu**{weight_power}"
    src_meta = MetaDict(dict(meta))
    src_meta["bunit"] = ""
    src_meta["content"] = "index of the source label (SRCLABn is index n-1); -1: no source"
    time_meta = MetaDict(dict(meta))
    time_meta["bunit"] = "d"
    time_meta["timeref"] = date.isot
    time_meta["content"] = "observation time - TIMEREF, days (weighted mean where inputs overlap)"
    gen_meta = MetaDict(dict(meta))
    gen_meta["bunit"] = ""
    gen_meta["content"] = "fraction of the weight from generated magnetograms (predictions)"
    far_meta = MetaDict(dict(meta))
    far_meta["bunit"] = ""
    far_meta["content"] = "fraction of the weight from input pixels hidden from the Earth"
    conf_meta = MetaDict(dict(meta))
    conf_meta["bunit"] = ""
    conf_meta["content"] = "polarity confidence of the inputs that have one (weighted mean)"
    log.info(
        "synoptic map from %d maps (%s): %.0f%% of the grid covered",
        len(maps),
        ", ".join(unique_labels),
        100 * covered.mean(),
    )
    return SynopticMap(
        map=sunpy.map.Map(combined, meta),
        coverage=sunpy.map.Map(np.asarray(total_weight, dtype=float), cov_meta),
        source=sunpy.map.Map(source, src_meta),
        labels=unique_labels,
        time=sunpy.map.Map(time_layer, time_meta),
        generated=sunpy.map.Map(generated_layer, gen_meta),
        farside=sunpy.map.Map(farside_layer, far_meta),
        confidence=None if confidence is None else sunpy.map.Map(confidence_layer, conf_meta),
    )

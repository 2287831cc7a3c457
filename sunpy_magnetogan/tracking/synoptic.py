"""
Synoptic (full-Sun Carrington) magnetic maps from several observers and times.

Frontside magnetograms (SDO/HMI, or generated from SDO/AIA) and farside ones (generated
from STEREO/EUVI) are reprojected onto one Carrington grid (header from
`sunpy.map.header_helper.make_heliographic_header`) and averaged with
`reproject.mosaicking.reproject_and_coadd`, each pixel weighted by ``mu ** weight_power``
so that the view closest to disk centre dominates. Beside the map, a coverage map (the
summed weight) and a source map (the index of the source that weighs most at each pixel)
say where the map comes from, e.g. where it is a farside prediction.

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
from sunpy.coordinates import get_earth, propagate_with_solar_surface
from sunpy.map.header_helper import make_heliographic_header
from sunpy.util import MetaDict

from sunpy_magnetogan.exceptions import CorruptFileError, InputMapError
from sunpy_magnetogan.metrics import disk_geometry

from ._geometry import MU_FLOOR, binned_map, check_magnetogram, disk_centre_scale, observer_label, with_rsun

__all__ = ["SynopticMap", "make_synoptic_map", "read_synoptic_map"]

log = logging.getLogger(__name__)

#: Width in mu over which the weights rise from 0 at ``min_mu`` to ``mu ** weight_power``.
_TAPER = 0.05
#: With ``min_mu > 0``, output pixels whose summed weight is below this are left empty (a
#: pixel at disk centre weighs 1): interpolating the tapered weights leaves tiny values
#: just past the cut. With ``min_mu = 0`` every pixel with any weight is kept.
_MIN_COVERAGE = 1e-3


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
    """

    map: sunpy.map.GenericMap
    coverage: sunpy.map.GenericMap
    source: sunpy.map.GenericMap
    labels: tuple

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
        Write the three maps to one FITS file (primary: map; COVERAGE; SOURCE extensions).

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
    except (OSError, KeyError) as exc:
        raise CorruptFileError(f"{path} is not a synoptic map file: {exc}") from exc
    header = parts[0][1]
    labels = tuple(header[f"SRCLAB{k + 1}"] for k in range(int(header.get("NSOURCE", 0))))
    smap, coverage, source = (sunpy.map.Map(data.astype(float), hdr) for data, hdr in parts)
    source = sunpy.map.Map(np.asarray(parts[2][0], dtype=np.int16), parts[2][1])
    return SynopticMap(smap, coverage, source, labels)


def _input_maps(maps):
    out = []
    for item in maps:
        smap = item if isinstance(item, sunpy.map.GenericMap) else sunpy.map.Map(item)
        if not isinstance(smap, sunpy.map.GenericMap):
            raise InputMapError(f"{item!r} is not a single map")
        out.append(smap)
    if not out:
        raise ValueError("no maps were given")
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

    Returns
    -------
    `SynopticMap`
        The map, the coverage (summed weight) map, the source-index map and the labels.

    Raises
    ------
    InputMapError
        If an input is not a helioprojective magnetogram.
    ValueError
        If ``labels`` does not match the inputs, or an option is out of range.

    Examples
    --------
    >>> synoptic = make_synoptic_map([hmi_map, farside_map], labels=["HMI", "GAN farside"])  # doctest: +SKIP
    >>> synoptic.map.peek()  # doctest: +SKIP
    """
    maps = _input_maps(maps)
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
    unique_labels = tuple(dict.fromkeys(labels))
    times = Time([m.reference_date for m in maps])
    date = Time(times.jd.mean(), format="jd", scale="utc") if date is None else Time(date)
    date = Time(date.isot)
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

    # Inputs much finer than the output grid are averaged first (no aliasing, less work).
    out_scale = abs(float(header["cdelt1"])) * u.deg
    inputs, weights = [], []
    for smap in maps:
        data = check_magnetogram(smap)
        smap = with_rsun(smap, rsun)
        factor = int(np.floor((out_scale / 2 / disk_centre_scale(smap, rsun=rsun)).to_value(u.one)))
        if factor >= 2:
            on_disk = np.isfinite(disk_geometry(smap, rsun=rsun).mu)
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
        # The source map needs each input's weight on the output grid.
        best = np.zeros(shape)
        source = np.full(shape, -1, dtype=np.int16)
        for k, ((_, wcs), weight) in enumerate(zip(inputs, weights, strict=True)):
            on_grid = reproject_interp((weight, wcs), out_wcs, shape_out=tuple(shape), return_footprint=False)
            on_grid = np.nan_to_num(on_grid)
            better = on_grid > best
            best[better] = on_grid[better]
            source[better] = unique_labels.index(labels[k])

    covered = total_weight > (_MIN_COVERAGE if min_mu > 0 else 0.0)
    combined = np.where(covered, combined, np.nan)
    source = np.where(covered, source, -1).astype(np.int16)

    meta = MetaDict(dict(header))
    meta["bunit"] = "G"
    meta["content"] = "radial magnetic field (B_los / mu)" if radial else "line-of-sight magnetic field"
    meta["nsource"] = len(unique_labels)
    for k, label in enumerate(unique_labels):
        meta[f"srclab{k + 1}"] = label
    meta["wgtpower"] = float(weight_power)
    meta["min_mu"] = float(min_mu)
    meta["rotmodel"] = rotation_model
    meta["date-beg"] = times.min().isot
    meta["date-end"] = times.max().isot
    meta["nmaps"] = len(maps)
    meta["history"] = "synoptic map by sunpy_magnetogan.tracking.make_synoptic_map (reproject_and_coadd)"

    cov_meta = MetaDict(dict(meta))
    cov_meta["bunit"] = ""
    cov_meta["content"] = f"summed weight mu**{weight_power}"
    src_meta = MetaDict(dict(meta))
    src_meta["bunit"] = ""
    src_meta["content"] = "index of the source label (SRCLABn is index n-1); -1: no source"
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
    )

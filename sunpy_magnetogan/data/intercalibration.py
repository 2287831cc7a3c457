"""
EUVI-to-AIA 304 A intensity intercalibration for the far-side path.

The networks are trained on AIA 304 A images, each stretched linearly between the 1st and
99th percentiles of its own disk (`~sunpy_magnetogan.normalization.EUVNormalization`).
That stretch removes any overall *scale* difference between instruments (detector gain,
filter transmission, degradation), so a scale factor alone would change nothing. What it
does not remove is a difference in the *shape* of the intensity distribution: EUVI has a
broader point-spread function, different pixel size and passband response, so the
contrast of the network, of plage and of the quiet Sun relative to each other differs from
AIA's. Fed to an AIA-trained network, that looks like different magnetic structure.

Method (`intercalibrate_euvi`):

1. Both instruments are compared **on the model grid** (`quiet_sun_quantiles`): the image
   is resampled with the same geometry code as the network input, so the two are
   compared at the same pixel scale, and percentiles (by default 10, 25, 50, 75, 90) are
   taken over the valid disk pixels inside 0.9 solar radii (away from the limb, where
   the 304 A line-of-sight effects are strongest). Those percentiles are dominated by
   the quiet Sun and the network, whose statistics change far less with time and
   viewpoint than the active-region content does.
2. A power law ``I_AIA = s * I_EUVI ** gamma`` is fitted by least squares in log space
   to the EUVI percentiles against those of a reference AIA distribution
   (`QuantileReference`). ``gamma`` corrects the contrast (the shape), ``s`` puts the
   result in AIA-equivalent DN/s.
3. The power law is applied to every pixel of the EUVI image (a monotonic map, so
   active regions keep their rank and relative brightness ordering); the result then
   goes through the very same `~sunpy_magnetogan.preprocess.prepare_euv_map` as AIA
   images. The observer (STEREO-A/B position), date and WCS are untouched, so the
   generated magnetogram is a far-side map with the STEREO geometry.

The reference distribution is the geometric mean, over the *training* AIA images, of
their per-image percentiles (`QuantileReference.from_quantiles`); the preparation step
(`~sunpy_magnetogan.data.prepare.prepare_dataset`) stores each training image's
percentiles in the pair manifest and writes the reference beside the dataset as
``euv_reference.json``, with its date range, number of images and this method, so that
the far-side inputs of a model are matched to that model's own training data.
A per-image fit (rather than one fixed pair of constants) also follows EUVI's own
degradation over the mission.
"""

import json
import logging
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from sunpy_magnetogan.exceptions import InvalidDataError
from sunpy_magnetogan.geometry import geometry_from_map, resample_from_input
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.validation import validate_euv_map

__all__ = [
    "DEFAULT_LEVELS",
    "METHOD",
    "QUIET_SUN_RADIUS",
    "IntensityMapping",
    "QuantileReference",
    "fit_intensity_mapping",
    "intercalibrate_euvi",
    "quiet_sun_quantiles",
]

log = logging.getLogger(__name__)

#: Percentiles of the disk pixels that are matched.
DEFAULT_LEVELS = (10.0, 25.0, 50.0, 75.0, 90.0)
#: Only pixels closer than this (in solar radii) to the disk centre are used.
QUIET_SUN_RADIUS = 0.9
#: The method, as recorded in references and in the headers of intercalibrated maps.
METHOD = (
    "power law I_AIA = s * I_EUVI**gamma, least squares in log space on the 10/25/50/75/90th "
    "percentiles of the model-grid disk pixels inside 0.9 Rsun (quiet Sun and network)"
)
_MIN_PIXELS = 200


def quiet_sun_quantiles(smap, *, levels=DEFAULT_LEVELS, max_radius=QUIET_SUN_RADIUS, grid=None):
    """
    Percentiles of an image's disk intensities, measured on the model grid.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        An EUV image with observer, date and helioprojective WCS.
    levels : sequence of float, optional
        Percentiles (0-100).
    max_radius : float, optional
        Use pixels within this many solar radii of the disk centre.
    grid : `~sunpy_magnetogan.grid.ModelGrid`, optional
        The grid the image is resampled to (``ModelGrid(512)`` by default, as for the
        network input).

    Returns
    -------
    numpy.ndarray
        float64, one value per level, in the map's data unit (negative values are
        clipped to zero first, as in preprocessing).

    Raises
    ------
    InvalidDataError
        If fewer than 200 valid disk pixels are found.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> aia, hmi = sunpy.map.Map(SAMPLE_AIA304), sunpy.map.Map(SAMPLE_HMI)
    >>> from sunpy_magnetogan.data import quiet_sun_quantiles
    >>> q = quiet_sun_quantiles(aia)
    >>> len(q), bool((q[1:] > q[:-1]).all())  # the 10, 25, 50, 75 and 90th percentiles
    (5, True)
    """
    grid = grid or ModelGrid()
    if not 0 < max_radius <= 1:
        raise ValueError(f"max_radius must lie in (0, 1] solar radii, got {max_radius}")
    geometry = geometry_from_map(smap, grid)
    data = np.array(smap.data, dtype=np.float32)
    data = np.where(np.isfinite(data), np.clip(data, 0, None), np.nan)
    image, valid = resample_from_input(data, geometry)
    mask = valid & (grid.radius_array() <= max_radius) & np.isfinite(image)
    values = image[mask]
    if values.size < _MIN_PIXELS:
        raise InvalidDataError(
            f"only {values.size} valid pixels within {max_radius} Rsun of the disk centre of the "
            f"{smap.instrument} map of {smap.date.isot}; at least {_MIN_PIXELS} are needed"
        )
    return np.percentile(values.astype(np.float64), list(levels))


@dataclass(frozen=True)
class QuantileReference:
    """
    A reference intensity distribution (AIA 304 A) given by disk percentiles.

    Parameters
    ----------
    levels : tuple of float
        Percentiles (0-100), increasing.
    values : tuple of float
        Intensities at those percentiles (in ``unit``), increasing and positive.
    unit : str
        Intensity unit (``"DN / s"`` for calibrated AIA).
    instrument : str
        Where the distribution comes from.
    wavelength : float
        Passband in Angstrom.
    date_start, date_end : str
        Date range of the images it was computed from (ISO).
    n_images : int
        How many images.
    max_radius : float
        Disk radius (solar radii) the percentiles were taken within.
    grid_size : int
        Size of the model grid the images were resampled to.
    method : str
        How it was made and how it is used.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> aia, hmi = sunpy.map.Map(SAMPLE_AIA304), sunpy.map.Map(SAMPLE_HMI)
    >>> from sunpy_magnetogan.data import QuantileReference, quiet_sun_quantiles
    >>> reference = QuantileReference.from_quantiles([quiet_sun_quantiles(aia)])
    >>> reference.levels, reference.unit
    ((10.0, 25.0, 50.0, 75.0, 90.0), 'DN / s')
    >>> reference.save(tmp_path / "euv_reference.json")
    >>> QuantileReference.load(tmp_path / "euv_reference.json") == reference
    True
    """

    levels: tuple
    values: tuple
    unit: str = "DN / s"
    instrument: str = "AIA"
    wavelength: float = 304.0
    date_start: str = ""
    date_end: str = ""
    n_images: int = 1
    max_radius: float = QUIET_SUN_RADIUS
    grid_size: int = 512
    method: str = METHOD

    def __post_init__(self):
        levels = tuple(float(x) for x in self.levels)
        values = tuple(float(x) for x in self.values)
        if len(levels) < 2 or len(levels) != len(values):
            raise ValueError(f"need at least 2 levels and one value per level, got {levels} / {values}")
        if np.any(np.diff(levels) <= 0) or levels[0] < 0 or levels[-1] > 100:
            raise ValueError(f"levels must increase within 0..100, got {levels}")
        if not all(np.isfinite(values)) or values[0] <= 0 or np.any(np.diff(values) <= 0):
            raise ValueError(f"values must be positive and increasing, got {values}")
        object.__setattr__(self, "levels", levels)
        object.__setattr__(self, "values", values)

    @classmethod
    def from_quantiles(cls, quantiles, *, levels=DEFAULT_LEVELS, dates=(), **kwargs):
        """
        The geometric mean of per-image percentiles.

        Averaging the logarithms averages both the level and the shape (the log ratios
        between percentiles) of the distributions, whatever each image's overall scale
        (e.g. before a degradation correction).

        Parameters
        ----------
        quantiles : array-like
            Shape ``(n_images, n_levels)``: `quiet_sun_quantiles` of each image.
        levels : sequence of float, optional
            The percentiles.
        dates : sequence of str or `~astropy.time.Time`, optional
            Dates of the images (for the recorded date range).
        **kwargs
            Other fields (``unit``, ``instrument``, ``max_radius``, ``grid_size``...).

        Returns
        -------
        QuantileReference
        """
        from astropy.time import Time

        q = np.atleast_2d(np.asarray(quantiles, dtype=np.float64))
        if q.shape[1] != len(levels):
            raise ValueError(f"quantiles have {q.shape[1]} columns for {len(levels)} levels")
        good = np.all(np.isfinite(q) & (q > 0), axis=1)
        if not good.any():
            raise InvalidDataError("no image has positive finite percentiles to build a reference from")
        values = np.exp(np.log(q[good]).mean(axis=0))
        if len(dates):
            times = Time(list(dates))
            kwargs.setdefault("date_start", times.min().isot)
            kwargs.setdefault("date_end", times.max().isot)
        return cls(levels=tuple(levels), values=tuple(values), n_images=int(good.sum()), **kwargs)

    @classmethod
    def from_maps(cls, maps, *, levels=DEFAULT_LEVELS, max_radius=QUIET_SUN_RADIUS, grid=None, **kwargs):
        """
        Build a reference from calibrated AIA maps.

        Parameters
        ----------
        maps : iterable of `~sunpy.map.GenericMap`
        levels, max_radius, grid
            As for `quiet_sun_quantiles`.
        **kwargs
            Other fields of the reference.

        Returns
        -------
        QuantileReference
        """
        grid = grid or ModelGrid()
        maps = list(maps)
        q = [quiet_sun_quantiles(m, levels=levels, max_radius=max_radius, grid=grid) for m in maps]
        unit = maps[0].unit.to_string() if maps and maps[0].unit is not None else ""
        kwargs.setdefault("unit", unit)
        return cls.from_quantiles(
            q,
            levels=levels,
            dates=[m.date for m in maps],
            max_radius=max_radius,
            grid_size=grid.size,
            **kwargs,
        )

    def to_dict(self):
        """The reference as a JSON-friendly dict."""
        d = asdict(self)
        d["levels"], d["values"] = list(self.levels), list(self.values)
        return d

    @classmethod
    def from_dict(cls, d):
        """Inverse of `to_dict`."""
        return cls(**{k: (tuple(v) if k in ("levels", "values") else v) for k, v in d.items()})

    def save(self, path):
        """Write the reference as JSON."""
        Path(path).write_text(json.dumps(self.to_dict(), indent=2, sort_keys=True))

    @classmethod
    def load(cls, path):
        """Read a reference written by `save`."""
        return cls.from_dict(json.loads(Path(path).read_text()))


@dataclass(frozen=True)
class IntensityMapping:
    """
    The power law ``I_out = scale * I_in ** gamma`` fitted by `fit_intensity_mapping`.

    Attributes
    ----------
    scale, gamma : float
        The fitted parameters.
    rms_log_residual : float
        RMS of the natural-log residuals at the matched percentiles (0 for a perfect fit).

    Examples
    --------
    >>> from sunpy_magnetogan.data import fit_intensity_mapping
    >>> mapping = fit_intensity_mapping([10.0, 20.0, 40.0], [50.0, 100.0, 200.0])
    >>> round(mapping.scale, 6), round(mapping.gamma, 6), round(mapping.rms_log_residual, 6)
    (5.0, 1.0, 0.0)
    """

    scale: float
    gamma: float
    rms_log_residual: float = 0.0

    def __call__(self, data):
        """
        Apply the mapping (negative values are clipped to zero, NaNs stay NaN).

        Parameters
        ----------
        data : numpy.ndarray

        Returns
        -------
        numpy.ndarray
            float32, same shape.
        """
        data = np.asarray(data, dtype=np.float32)
        with np.errstate(invalid="ignore"):
            return (np.float32(self.scale) * np.power(np.clip(data, 0, None), np.float32(self.gamma))).astype(
                np.float32
            )


def fit_intensity_mapping(source, reference):
    """
    Fit ``reference = scale * source ** gamma`` in log space.

    Parameters
    ----------
    source, reference : array-like
        Matching percentiles (positive, increasing) of the image to map and of the
        reference.

    Returns
    -------
    IntensityMapping

    Raises
    ------
    InvalidDataError
        If the source percentiles are not positive and distinct (e.g. a blank image).

    Examples
    --------
    >>> from sunpy_magnetogan.data.intercalibration import fit_intensity_mapping
    >>> m = fit_intensity_mapping([1.0, 2.0, 4.0], [3.0, 12.0, 48.0])
    >>> round(m.gamma, 6), round(m.scale, 6)
    (2.0, 3.0)
    """
    source = np.asarray(source, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if source.shape != reference.shape or source.size < 2:
        raise ValueError(
            f"need matching arrays of at least 2 percentiles, got {source.shape} and {reference.shape}"
        )
    if not np.all(np.isfinite(source) & (source > 0)) or np.ptp(np.log(source)) < 1e-6:
        raise InvalidDataError(
            f"the image's disk percentiles {np.round(source, 4).tolist()} are not positive and distinct; "
            "it cannot be intercalibrated (blank or saturated image?)"
        )
    x, y = np.log(source), np.log(reference)
    gamma, intercept = np.polyfit(x, y, 1)
    residual = y - (gamma * x + intercept)
    return IntensityMapping(float(np.exp(intercept)), float(gamma), float(np.sqrt(np.mean(residual**2))))


def intercalibrate_euvi(
    smap,
    *,
    reference,
    grid=None,
    gamma_range=(0.25, 4.0),
    allow_other_wavelengths=False,
):
    """
    Map an EUVI 304 A image to AIA-304-equivalent intensities (see the module notes).

    Parameters
    ----------
    smap : `~sunpy.map.sources.EUVIMap`
        An EUVI image, calibrated to DN/s (`~sunpy_magnetogan.data.calibrate.calibrate_euvi_map`).
    reference : QuantileReference
        The AIA distribution to match (the training data's ``euv_reference.json``).
    grid : `~sunpy_magnetogan.grid.ModelGrid`, optional
        Grid the percentiles are measured on (``ModelGrid(reference.grid_size)`` by default).
    gamma_range : tuple of float, optional
        Accepted range of the fitted exponent; outside it the image is refused.
    allow_other_wavelengths : bool, optional
        Accept a non-304 A EUVI image (with an `~sunpy_magnetogan.exceptions.UnsupportedInputWarning`).

    Returns
    -------
    `~sunpy.map.sources.EUVIMap`
        Same observer, date and WCS; data in AIA-equivalent DN/s (float32); the fit is
        recorded in the keywords ``ICALMETH``, ``ICALGAMM``, ``ICALSCAL``, ``ICALRMS``,
        ``ICALREF`` and in ``HISTORY``.

    Raises
    ------
    TypeError
        If the map is not an EUVI map.
    InvalidDataError
        If the fit fails or its exponent is outside ``gamma_range``.

    Examples
    --------
    >>> import astropy.units as u
    >>> import sunpy.map
    >>> from sunpy_magnetogan.data import QuantileReference, calibrate_euvi_map, quiet_sun_quantiles
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304
    >>> from sunpy_magnetogan.synthetic import SyntheticSun, observe_euvi, stereo_observer
    >>> reference = QuantileReference.from_quantiles([quiet_sun_quantiles(sunpy.map.Map(SAMPLE_AIA304))])
    >>> time = "2014-02-05T12:00"
    >>> euvi = observe_euvi(SyntheticSun(1003), time, stereo_observer(time, -120 * u.deg), npix=256)
    >>> euvi = calibrate_euvi_map(euvi).map  # DN/s
    >>> from sunpy_magnetogan.data import intercalibrate_euvi
    >>> matched = intercalibrate_euvi(euvi, reference=reference)
    >>> matched.detector, matched.observatory, "ICALGAMM" in matched.fits_header
    ('EUVI', 'STEREO A', True)
    """
    instrument = validate_euv_map(smap, allow_other_wavelengths=allow_other_wavelengths)
    if instrument != "EUVI":
        raise TypeError(f"intercalibrate_euvi maps STEREO/EUVI images to AIA; got a {instrument} map")
    if not isinstance(reference, QuantileReference):
        raise TypeError(f"reference must be a QuantileReference, got {type(reference).__name__}")
    return match_reference_distribution(smap, reference, label="EUVI", grid=grid, gamma_range=gamma_range)


def match_reference_distribution(smap, reference, *, label, grid=None, gamma_range=(0.25, 4.0)):
    """
    Map an image's intensities onto a reference distribution with a fitted power law.

    The step shared by every instrument intercalibrated to AIA (`intercalibrate_euvi`,
    `~sunpy_magnetogan.data.solo.intercalibrate_fsi`): quiet-Sun percentiles of the image
    fitted to those of ``reference``, the fit checked and recorded in the header.

    Parameters
    ----------
    smap : `~sunpy.map.GenericMap`
        A validated EUV image in DN/s.
    reference : `QuantileReference`
        The distribution to match.
    label : str
        The instrument's name in messages and ``HISTORY`` (``"EUVI"``, ``"EUI/FSI"``).
    grid : `~sunpy_magnetogan.grid.ModelGrid`, optional
        Grid the percentiles are measured on (``ModelGrid(reference.grid_size)`` by default).
    gamma_range : tuple of float, optional
        Accepted range of the fitted exponent.

    Returns
    -------
    `~sunpy.map.GenericMap`
        Same class, observer, date and WCS; AIA-equivalent DN/s (float32); the fit in the
        ``ICAL*`` keywords and ``HISTORY``.

    Raises
    ------
    TypeError
        If ``reference`` is not a `QuantileReference`.
    InvalidDataError
        If the fitted exponent is outside ``gamma_range``.
    """
    if not isinstance(reference, QuantileReference):
        raise TypeError(f"reference must be a QuantileReference, got {type(reference).__name__}")
    grid = grid or ModelGrid(reference.grid_size)
    source = quiet_sun_quantiles(smap, levels=reference.levels, max_radius=reference.max_radius, grid=grid)
    mapping = fit_intensity_mapping(source, reference.values)
    low, high = gamma_range
    if not low <= mapping.gamma <= high:
        raise InvalidDataError(
            f"the {label}-to-AIA power law fitted for {smap.date.isot} has gamma = {mapping.gamma:.3g}, "
            f"outside the accepted {low}..{high}; the image is unlike the reference distribution"
        )
    meta = smap.meta.copy()
    meta["bunit"] = "DN/s"
    meta["icalmeth"] = "quiet-Sun percentile power law (sunpy-magnetogan)"
    meta["icalgamm"] = mapping.gamma
    meta["icalscal"] = mapping.scale
    meta["icalrms"] = mapping.rms_log_residual
    meta["icalref"] = (
        f"{reference.instrument} {reference.wavelength:g}A {reference.date_start[:10]}/{reference.date_end[:10]} "
        f"n={reference.n_images}"
    )
    short = label.split("/")[-1]
    history = f"{label} to AIA-304 intercalibration: I = {mapping.scale:.5g} * I_{short}**{mapping.gamma:.4f}"
    meta["history"] = f"{meta.get('history', '')}\n{history}".strip()
    log.info("%s: %s (rms log residual %.3f)", smap.date.isot, history, mapping.rms_log_residual)
    return smap._new_instance(mapping(np.asarray(smap.data)), meta, plot_settings=smap.plot_settings)

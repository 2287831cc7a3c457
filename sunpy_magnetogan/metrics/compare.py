"""
All the metrics of one true / generated magnetogram pair, from arrays or from maps.

`pair_metrics` is the array core: two fields on the same grid plus that grid's
`~sunpy_magnetogan.metrics.DiskGeometry`. `compare_maps` is the map shell: it validates the
maps (magnetic-field units, same grid and observer, or an explicit reprojection), applies
the NaN policy and calls the core. Every metric is computed on the solar disk only, i.e. on
the pixels with ``mu > settings.mu_min`` (and inside the optional extra mask).
"""

from dataclasses import asdict, dataclass, replace

import astropy.units as u
import numpy as np

from sunpy_magnetogan.metrics.flux import DEFAULT_MU_MIN, DEFAULT_THRESHOLD, check_nans, flux_from_arrays
from sunpy_magnetogan.metrics.geometry import disk_geometry
from sunpy_magnetogan.metrics.image import (
    DEFAULT_BIN_SIZE,
    DEFAULT_SATURATION,
    activity_masks,
    binned_cc,
    image_quality,
    pixel_cc,
    r2_error,
    relative_flux_error,
)
from sunpy_magnetogan.metrics.validation import align_maps

__all__ = ["METRIC_NAMES", "MetricSettings", "aligned_fields", "compare_maps", "pair_metrics"]

#: The keys of the dict returned by `pair_metrics`, in order (fluxes are Quantities in Mx).
METRIC_NAMES = (
    "cc",
    "cc_binned",
    "flux_true",
    "flux_generated",
    "r1",
    "r2",
    "rmse",
    "ssim",
    "rmse_ssim",
    "psnr",
    "net_flux_true",
    "net_flux_generated",
    "cc_ar",
    "r2_ar",
    "flux_true_ar",
    "flux_generated_ar",
    "r1_ar",
    "cc_qs",
    "r2_qs",
    "flux_true_qs",
    "flux_generated_qs",
    "r1_qs",
    "ar_fraction",
    "n_pixels",
)


@dataclass(frozen=True)
class MetricSettings:
    """
    Options of the pair metrics (all have documented defaults; see `pair_metrics`).

    Parameters
    ----------
    mu_min : float
        Limb cut-off: metrics use the disk pixels with ``mu > mu_min`` (0.1).
    threshold : `~astropy.units.Quantity`
        Noise threshold on ``|B_los|`` for the fluxes (10 G).
    radial_correction : bool
        Fluxes of ``B_los / mu`` instead of ``B_los`` (False).
    saturation : `~astropy.units.Quantity`
        Clipping field of the image-quality metrics (3000 G).
    bin_size : int
        Block size of the binned CC (8 pixels).
    ar_threshold : `~astropy.units.Quantity`
        Smoothed ``|B_true|`` above which a pixel is in an active region (100 G).
    ar_smoothing : `~astropy.units.Quantity`
        Standard deviation of the Gaussian smoothing of ``|B_true|``, as a length on the
        solar surface at disk centre (7 Mm, i.e. about 2 px on a 512 px grid), converted
        to pixels of each image so that the masks do not depend on resolution.
    ssim_window : int
        SSIM window in pixels (7).

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.metrics import MetricSettings
    >>> settings = MetricSettings().replace(mu_min=0.2, threshold=20 * u.G)
    >>> settings.mu_min, settings.threshold, settings.saturation
    (0.2, <Quantity 20. G>, <Quantity 3000. G>)
    >>> settings.to_dict()["ar_smoothing"]
    7.0
    """

    mu_min: float = DEFAULT_MU_MIN
    threshold: u.Quantity = DEFAULT_THRESHOLD
    radial_correction: bool = False
    saturation: u.Quantity = DEFAULT_SATURATION * u.G
    bin_size: int = DEFAULT_BIN_SIZE
    ar_threshold: u.Quantity = 100 * u.G
    ar_smoothing: u.Quantity = 7 * u.Mm
    ssim_window: int = 7

    def __post_init__(self):
        if not 0 <= self.mu_min < 1:
            raise ValueError(f"mu_min must lie in [0, 1), got {self.mu_min!r}")
        for name in ("threshold", "saturation", "ar_threshold"):
            value = u.Quantity(getattr(self, name))
            if not value.unit.is_equivalent(u.G) or value.value < 0:
                raise ValueError(f"{name} must be a non-negative magnetic field, got {value}")
            object.__setattr__(self, name, value.to(u.G))
        smoothing = u.Quantity(self.ar_smoothing)
        if not smoothing.unit.is_equivalent(u.m) or not smoothing.value > 0:
            raise ValueError(f"ar_smoothing must be a positive length, got {smoothing}")
        object.__setattr__(self, "ar_smoothing", smoothing.to(u.Mm))
        if not self.saturation.value > 0:
            raise ValueError("saturation must be positive")
        if int(self.bin_size) != self.bin_size or self.bin_size < 1:
            raise ValueError(f"bin_size must be a positive integer, got {self.bin_size!r}")

    def replace(self, **changes):
        """A copy with some options changed."""
        return replace(self, **changes)

    def to_dict(self):
        """JSON-friendly dict (fields in G, lengths in Mm)."""
        d = asdict(self)
        for name in ("threshold", "saturation", "ar_threshold"):
            d[name] = float(getattr(self, name).to_value(u.G))
        d["ar_smoothing"] = float(self.ar_smoothing.to_value(u.Mm))
        return d


def pair_metrics(truth, generated, geometry, *, mask=None, settings=None):
    """
    Every metric of one pair of fields on the same grid (the array core).

    Parameters
    ----------
    truth, generated : numpy.ndarray or `~astropy.units.Quantity`
        Line-of-sight fields, shape ``(H, W)`` (plain numbers: Gauss). Non-finite pixels
        are left out of every metric.
    geometry : `~sunpy_magnetogan.metrics.DiskGeometry`
        The grid's geometry (`~sunpy_magnetogan.metrics.disk_geometry` of a map, or
        `~sunpy_magnetogan.metrics.grid_geometry` for model-grid arrays).
    mask : numpy.ndarray, optional
        Extra boolean ``(H, W)`` mask of valid pixels (e.g. a `PairStore` disk mask).
    settings : MetricSettings, optional
        Options; the defaults otherwise.

    Returns
    -------
    dict
        Keys `METRIC_NAMES`: ``cc`` (pixel CC), ``cc_binned``, ``flux_true`` and
        ``flux_generated`` (total unsigned flux, Mx), ``r1``, ``r2``, ``rmse``
        (normalised), ``ssim``, ``rmse_ssim`` (Eq. 9), ``psnr`` (dB), ``net_flux_*`` (Mx),
        the same CC, R2, fluxes and R1 inside the active-region (``_ar``) and quiet-Sun
        (``_qs``) masks, ``ar_fraction`` (fraction of the disk pixels in active regions)
        and ``n_pixels`` (disk pixels used).

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import METRIC_NAMES, grid_geometry, pair_metrics
    >>> rng = np.random.default_rng(0)
    >>> truth = rng.normal(0, 100, (64, 64))
    >>> metrics = pair_metrics(truth, 0.9 * truth, grid_geometry(64))
    >>> list(metrics) == list(METRIC_NAMES)
    True
    >>> round(metrics["cc"], 3), round(metrics["r1"], 3), round(metrics["r2"], 3)
    (1.0, 0.101, 0.01)
    """
    settings = settings or MetricSettings()
    b_true = truth.to_value(u.G) if isinstance(truth, u.Quantity) else np.asarray(truth, dtype=np.float64)
    b_gen = (
        generated.to_value(u.G)
        if isinstance(generated, u.Quantity)
        else np.asarray(generated, dtype=np.float64)
    )
    if not b_true.shape == b_gen.shape == geometry.shape:
        raise ValueError(
            f"truth {b_true.shape}, generated {b_gen.shape} and geometry {geometry.shape} must have the same shape"
        )
    disk = geometry.mask(settings.mu_min) & np.isfinite(b_true) & np.isfinite(b_gen)
    if mask is not None:
        disk &= np.asarray(mask, dtype=bool)

    def fluxes(region):
        kwargs = {
            "mask": region,
            "mu_min": settings.mu_min,
            "threshold": settings.threshold,
            "radial_correction": settings.radial_correction,
        }
        return (
            flux_from_arrays(b_true, geometry.area, geometry.mu, **kwargs),
            flux_from_arrays(b_gen, geometry.area, geometry.mu, **kwargs),
        )

    out = {
        "cc": pixel_cc(b_true, b_gen, disk),
        "cc_binned": binned_cc(b_true, b_gen, disk, bin_size=settings.bin_size),
    }
    f_true, f_gen = fluxes(disk)
    out["flux_true"] = f_true.total_unsigned
    out["flux_generated"] = f_gen.total_unsigned
    out["r1"] = relative_flux_error(f_true.total_unsigned, f_gen.total_unsigned)
    out["r2"] = r2_error(b_true, b_gen, disk)
    quality = image_quality(
        b_true, b_gen, disk, saturation=settings.saturation, win_size=settings.ssim_window
    )
    out.update(quality)
    out["net_flux_true"] = f_true.net
    out["net_flux_generated"] = f_gen.net
    sigma = geometry.smoothing_px(settings.ar_smoothing)
    regions = dict(
        zip(
            ("ar", "qs"),
            activity_masks(b_true, disk, threshold=settings.ar_threshold, sigma=sigma),
            strict=True,
        )
    )
    for name, region in regions.items():
        r_true, r_gen = fluxes(region)
        out[f"cc_{name}"] = pixel_cc(b_true, b_gen, region)
        out[f"r2_{name}"] = r2_error(b_true, b_gen, region)
        out[f"flux_true_{name}"] = r_true.total_unsigned
        out[f"flux_generated_{name}"] = r_gen.total_unsigned
        out[f"r1_{name}"] = relative_flux_error(r_true.total_unsigned, r_gen.total_unsigned)
    n_disk = int(disk.sum())
    out["ar_fraction"] = float(regions["ar"].sum() / n_disk) if n_disk else np.nan
    out["n_pixels"] = n_disk
    return {name: out[name] for name in METRIC_NAMES}


def compare_maps(truth, generated, *, reproject=False, nan_policy="raise", settings=None, **options):
    """
    Every metric of a true / generated pair of magnetogram maps.

    Parameters
    ----------
    truth : `~sunpy.map.GenericMap`
        Observed line-of-sight magnetogram (unit equivalent to G).
    generated : `~sunpy.map.GenericMap`
        Magnetogram to evaluate.
    reproject : {False, True, "generated", "truth"}, optional
        See `~sunpy_magnetogan.metrics.align_maps`; by default maps of different shape, grid
        or observer raise `~sunpy_magnetogan.exceptions.InputMapError`.
    nan_policy : {"raise", "omit"}, optional
        Non-finite pixels on the disk (``mu > mu_min``) in either map raise
        `~sunpy_magnetogan.exceptions.InvalidDataError` (default) or are left out.
    settings : MetricSettings, optional
        Options of the metrics.
    **options
        Overrides of single `MetricSettings` fields, e.g. ``mu_min=0.2``.

    Returns
    -------
    dict
        As `pair_metrics`.

    Raises
    ------
    InputMapError
        If a map is not a helioprojective magnetogram or the maps do not match and
        ``reproject`` is False.
    InvalidDataError
        If there are on-disk NaNs and ``nan_policy="raise"``.
    """
    settings = (
        (settings or MetricSettings()).replace(**options) if options else (settings or MetricSettings())
    )
    _, _, b_true, b_gen, geometry = aligned_fields(
        truth, generated, reproject=reproject, nan_policy=nan_policy, mu_min=settings.mu_min
    )
    return pair_metrics(b_true, b_gen, geometry, settings=settings)


def aligned_fields(truth, generated, *, reproject=False, nan_policy="raise", mu_min=DEFAULT_MU_MIN):
    """
    Validate and align two magnetogram maps; return their fields in Gauss and the geometry.

    Parameters
    ----------
    truth, generated : `~sunpy.map.GenericMap`
        The maps.
    reproject : {False, True, "generated", "truth"}, optional
        See `~sunpy_magnetogan.metrics.align_maps`.
    nan_policy : {"raise", "omit"}, optional
        Policy for non-finite pixels with ``mu > mu_min``.
    mu_min : float, optional
        Limb cut-off defining the disk for the NaN check.

    Returns
    -------
    truth, generated : `~sunpy.map.GenericMap`
        The aligned maps.
    b_true, b_gen : numpy.ndarray
        Their data in Gauss, shape ``(H, W)``.
    geometry : `~sunpy_magnetogan.metrics.DiskGeometry`
        The common grid's geometry.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.metrics import aligned_fields
    >>> from sunpy_magnetogan.sample import SAMPLE_HMI
    >>> hmi = sunpy.map.Map(SAMPLE_HMI)
    >>> _, _, b_true, b_gen, geometry = aligned_fields(hmi, hmi, nan_policy="omit")
    >>> b_true.shape == geometry.shape == (1024, 1024)
    True
    """
    truth, generated = align_maps(truth, generated, reproject=reproject)
    geometry = disk_geometry(truth)
    b_true = u.Quantity(truth.data, truth.unit, copy=False).to_value(u.G)
    b_gen = u.Quantity(generated.data, generated.unit, copy=False).to_value(u.G)
    disk = geometry.mask(mu_min)
    check_nans(b_true, disk, nan_policy, what="the truth map")
    check_nans(b_gen, disk, nan_policy, what="the generated map")
    return truth, generated, b_true, b_gen, geometry

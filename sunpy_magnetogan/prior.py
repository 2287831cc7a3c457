"""
An earlier magnetogram as a prior on the polarities of a generated one.

An EUV image does not show the sign of the field; a magnetogram observed earlier does.
`prior_on_grid` takes such a magnetogram (frontside HMI, a PHI or MDI map, or a
previously generated map), converts it to the radial field (``B_r = B_los / mu``), rotates
it to the target date with the solar differential rotation
(`~sunpy.coordinates.propagate_with_solar_surface`), reprojects it onto the target's model
grid and views it along the target's line of sight (``B_los = mu B_r``). `apply_prior`
then gives the generated field the sign of the smoothed prior wherever the prior is
clearly non-zero, and keeps the model's sign elsewhere: the model says where the field is
and how strong, the observation says which way it points. Regions that emerged after the
prior, or that the prior does not see, keep the model's polarity.
"""

import logging
import warnings

import astropy.units as u
import numpy as np
import sunpy.map
from scipy.ndimage import gaussian_filter
from sunpy.coordinates import propagate_with_solar_surface

from sunpy_magnetogan.metrics.geometry import disk_geometry, grid_geometry
from sunpy_magnetogan.validation import validate_magnetogram_map

__all__ = ["apply_prior", "prior_on_grid"]

log = logging.getLogger(__name__)

#: Smallest ``mu`` of the prior's pixels that are converted to the radial field (closer to
#: the limb, ``1 / mu`` amplifies the noise too much).
PRIOR_MU_MIN = 0.15


def prior_on_grid(prior, geometry):
    """
    A magnetogram rotated to another date and observer, on that observer's model grid.

    Parameters
    ----------
    prior : `~sunpy.map.GenericMap`
        A line-of-sight magnetogram (unit convertible to Gauss) observed at any date and
        from any observer.
    geometry : `~sunpy_magnetogan.geometry.ModelGeometry`
        The target: model grid, observer and date (``PreparedImage.geometry`` of the EUV
        input).

    Returns
    -------
    numpy.ndarray
        float32 ``(N, N)`` line-of-sight field in Gauss that the prior predicts for the
        target; NaN where the prior does not see the surface (far side of the prior's
        observer, its limb, off the disk).

    Examples
    --------
    >>> import numpy as np
    >>> import sunpy.map
    >>> from sunpy_magnetogan.preprocess import prepare_euv_map
    >>> from sunpy_magnetogan.prior import prior_on_grid
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> target = prepare_euv_map(sunpy.map.Map(SAMPLE_AIA304)).geometry
    >>> hmi = sunpy.map.Map(SAMPLE_HMI)
    >>> meta = dict(hmi.meta, **{"date-obs": "2014-02-01T12:00:00", "t_obs": "2014-02-01T12:00:00"})
    >>> los = prior_on_grid(sunpy.map.Map(hmi.data, meta), target)  # four days of rotation
    >>> covered = np.isfinite(los).sum() / (np.pi * target.grid.radius_px**2)  # share of the disk
    >>> los.shape, bool(0.6 < covered < 0.85)  # the eastern part has rotated into view since
    ((512, 512), True)
    """
    to_gauss = validate_magnetogram_map(prior)
    prior_geometry = disk_geometry(prior)
    mu = prior_geometry.mu
    with np.errstate(invalid="ignore", divide="ignore"):
        radial = np.where(mu >= PRIOR_MU_MIN, np.asarray(prior.data, dtype=np.float64) / mu, np.nan)
    radial *= to_gauss.to_value(u.G)
    meta = prior.meta.copy()
    meta["bunit"] = "G"
    radial_map = sunpy.map.Map(radial.astype(np.float32), meta)
    # Average the prior down to about the model grid's resolution before interpolating.
    factor = int(np.floor(prior_geometry.radius_px / geometry.grid.radius_px))
    if factor >= 2:
        ny, nx = (np.array(radial_map.data.shape) // factor) * factor
        radial_map = radial_map.submap([0, 0] * u.pix, top_right=[nx - 1, ny - 1] * u.pix)
        with warnings.catch_warnings():  # blocks entirely off the disk average to NaN, as meant
            warnings.simplefilter("ignore", RuntimeWarning)
            radial_map = radial_map.superpixel([factor, factor] * u.pix, func=np.nanmean)
    with propagate_with_solar_surface():
        rotated = radial_map.reproject_to(geometry.wcs())
    target_mu = grid_geometry(geometry.grid, dsun=geometry.observer.radius).mu
    los = np.asarray(rotated.data, dtype=np.float64) * target_mu
    lag = (geometry.date - prior.reference_date).to(u.day)
    log.info(
        "prior %s from %s, %.1f days before the target: covers %.0f %% of the target disk",
        prior.name,
        prior.reference_date.isot,
        lag.value,
        100 * np.isfinite(los).sum() / max(1, np.isfinite(target_mu).sum()),
    )
    return los.astype(np.float32)


def apply_prior(field, prior, *, smoothing_px=3.0, threshold=20.0):
    """
    Give a generated field the sign of a prior where the prior is clearly non-zero.

    Parameters
    ----------
    field : numpy.ndarray
        Generated line-of-sight field in Gauss, ``(N, N)``.
    prior : numpy.ndarray
        `prior_on_grid` of the same grid (NaN where unknown).
    smoothing_px : float, optional
        Gaussian smoothing of the prior (model-grid pixels) before its sign is read: it
        follows the regions, not their small-scale structure, which a rotation's evolution
        has changed.
    threshold : float, optional
        Smallest ``|smoothed prior|`` (Gauss) whose sign is used.

    Returns
    -------
    field : numpy.ndarray
        float32 field with the prior's signs where it decided.
    smoothed : numpy.ndarray
        float32 smoothed prior (NaN where unknown).
    decided : numpy.ndarray of bool
        Pixels whose sign comes from the prior.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.prior import apply_prior
    >>> field = np.full((32, 32), 100.0)
    >>> prior = np.full((32, 32), -300.0)
    >>> prior[:, :8] = np.nan  # the prior does not see this part
    >>> out, _, decided = apply_prior(field, prior)
    >>> float(out[16, 20]), float(out[16, 2]), int(decided.sum())
    (-100.0, 100.0, 768)
    """
    field = np.asarray(field, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)
    known = np.isfinite(prior)
    weight = gaussian_filter(known.astype(np.float64), smoothing_px)
    with np.errstate(invalid="ignore", divide="ignore"):
        smoothed = gaussian_filter(np.where(known, prior, 0.0), smoothing_px) / weight
    smoothed = np.where(known, smoothed, np.nan)
    decided = known & np.isfinite(field) & (np.abs(np.nan_to_num(smoothed)) >= threshold)
    out = np.where(decided, np.abs(field) * np.sign(np.nan_to_num(smoothed)), field)
    return out.astype(np.float32), smoothed.astype(np.float32), decided

"""
Physics-aware evaluation of magnetograms: flux quantities and the paper's metrics.

* `disk_geometry`, `grid_geometry`, `on_disk_mask`: mu (cosine of the heliocentric angle)
  and the true solar-surface area of every pixel of a helioprojective map or model-grid array.
* `magnetic_flux`, `flux_from_arrays`: total unsigned, net, positive and negative flux in Mx
  (`FluxQuantities`), on the whole disk or inside a region mask.
* `pixel_cc`, `binned_cc`, `r2_error`, `relative_flux_error`, `flux_cc`, `image_quality`
  (normalised RMSE, SSIM, the paper's Eq. 9 and PSNR), `ssim`, `psnr`, `rmse`,
  `activity_masks`: array metrics between a true and a generated field.
* `flux_by_mu`, `sum_flux_by_mu`: unsigned flux of a true and a generated field in annuli
  of ``mu``, to see whether a model keeps the centre-to-limb decline of a line-of-sight
  magnetogram.
* `checkerboard_ratio`, `quiet_sun_patches`, `quiet_sun_by_mu`, `combine_quiet_sun_by_mu`: quiet-Sun checks of a
  generated map (grid artefacts at 2 and 4 px periods, field strength from limb to centre).
* `compare_maps` (maps) and `pair_metrics` (arrays): every metric of one pair;
  `align_maps` / `aligned_fields` validate two maps (field units, same grid and observer)
  and reproject one onto the other when asked.

The definitions are spelled out in the docstrings of `sunpy_magnetogan.metrics.flux` and
`sunpy_magnetogan.metrics.image`.
"""

from sunpy_magnetogan.metrics.compare import (
    METRIC_NAMES,
    MetricSettings,
    aligned_fields,
    compare_maps,
    pair_metrics,
)
from sunpy_magnetogan.metrics.flux import (
    DEFAULT_MU_MIN,
    DEFAULT_THRESHOLD,
    FluxQuantities,
    flux_from_arrays,
    magnetic_flux,
)
from sunpy_magnetogan.metrics.geometry import DiskGeometry, disk_geometry, grid_geometry, on_disk_mask
from sunpy_magnetogan.metrics.image import (
    DEFAULT_BIN_SIZE,
    DEFAULT_SATURATION,
    activity_masks,
    binned_cc,
    clip_and_scale,
    flux_cc,
    image_quality,
    pixel_cc,
    psnr,
    r2_error,
    relative_flux_error,
    rmse,
    ssim,
)
from sunpy_magnetogan.metrics.limb import MU_EDGES, flux_by_mu, sum_flux_by_mu
from sunpy_magnetogan.metrics.quiet_sun import (
    CHECKERBOARD_PERIODS,
    checkerboard_ratio,
    combine_quiet_sun_by_mu,
    quiet_sun_by_mu,
    quiet_sun_patches,
)
from sunpy_magnetogan.metrics.validation import align_maps, check_magnetogram, compare_grids

__all__ = [
    "CHECKERBOARD_PERIODS",
    "DEFAULT_BIN_SIZE",
    "DEFAULT_MU_MIN",
    "DEFAULT_SATURATION",
    "DEFAULT_THRESHOLD",
    "METRIC_NAMES",
    "MU_EDGES",
    "DiskGeometry",
    "FluxQuantities",
    "MetricSettings",
    "activity_masks",
    "align_maps",
    "aligned_fields",
    "binned_cc",
    "check_magnetogram",
    "checkerboard_ratio",
    "clip_and_scale",
    "combine_quiet_sun_by_mu",
    "compare_grids",
    "compare_maps",
    "disk_geometry",
    "flux_by_mu",
    "flux_cc",
    "flux_from_arrays",
    "grid_geometry",
    "image_quality",
    "magnetic_flux",
    "on_disk_mask",
    "pair_metrics",
    "pixel_cc",
    "psnr",
    "quiet_sun_by_mu",
    "quiet_sun_patches",
    "r2_error",
    "relative_flux_error",
    "rmse",
    "ssim",
    "sum_flux_by_mu",
]

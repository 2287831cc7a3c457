"""
Pixel and image-quality metrics between a true and a generated magnetogram (array core).

Every function takes plain arrays in Gauss (a `~astropy.units.Quantity` is converted to G)
of the same shape ``(H, W)`` plus an optional boolean ``mask`` (True = pixel used; the solar
disk in practice). A pixel enters a metric only if it is in the mask and finite in both
maps. The definitions, which the paper (its Section 4.3 and Eq. 9) leaves open, are:

Pixel-to-pixel CC (`pixel_cc`)
    Pearson's r over the pixels used.
Binned CC (`binned_cc`, Jeong et al. 2022)
    Both maps are averaged in ``k x k`` blocks (``k = 8`` by default; the image is cropped
    to a multiple of ``k``), then Pearson's r over the blocks whose ``k**2`` pixels are all
    used.
R2 (`r2_error`)
    Normalised mean-square error of the field, ``sum (B_gen - B_true)**2 / sum B_true**2``.
R1 (`relative_flux_error`)
    Relative error of the total unsigned flux, ``|Phi_gen - Phi_true| / Phi_true``.
Flux CC (`flux_cc`)
    Pearson's r of the total unsigned fluxes of a set of pairs.
Image quality (`image_quality`)
    Both maps are clipped to ``[-Bsat, Bsat]`` (``Bsat = 3000 G`` by default, the saturation
    of the package's magnetogram normalisation) and scaled to [0, 1] by
    ``(B + Bsat) / (2 Bsat)``. On these images, with ``data_range = 1``:

    * RMSE (normalised) = root-mean-square difference over the pixels used; equivalently
      the RMSE in Gauss of the clipped maps divided by ``2 Bsat``;
    * SSIM = the mean over the pixels used of the SSIM map of Wang et al. (2004) computed
      exactly as `skimage.metrics.structural_similarity` does by default (7 x 7 uniform
      window, ``K1 = 0.01``, ``K2 = 0.03``, sample covariance), see `ssim`. SSIM is not
      invariant to an offset of the data (its luminance term), so the [0, 1] scaling, with
      0 G at 0.5, is part of the definition: on signed fields centred on 0 G the luminance
      term is erratic where the local mean field is near zero;
    * E (Eq. 9 of the paper) = ``(RMSE + (1 - |SSIM|)) / 2``; 0 for identical maps, so lower
      is better (the paper's text calls it "higher better", which contradicts its own
      formula; the formula is implemented);
    * PSNR = ``20 log10(data_range / RMSE)`` in dB, i.e. ``20 log10(2 Bsat / RMSE_G)`` with
      the RMSE in Gauss of the clipped maps, as `skimage.metrics.peak_signal_noise_ratio`.
Active-region / quiet-Sun masks (`activity_masks`)
    ``|B_true|`` (non-finite and masked-out pixels set to 0) smoothed by a Gaussian of
    ``sigma`` pixels; active region where it exceeds ``threshold`` (100 G by default),
    quiet Sun elsewhere; both restricted to the mask.
"""

import astropy.units as u
import numpy as np
from scipy import ndimage

__all__ = [
    "DEFAULT_BIN_SIZE",
    "DEFAULT_SATURATION",
    "activity_masks",
    "binned_cc",
    "clip_and_scale",
    "flux_cc",
    "image_quality",
    "pixel_cc",
    "psnr",
    "r2_error",
    "relative_flux_error",
    "rmse",
    "ssim",
]

#: Default field (G) at which maps are clipped for the image-quality metrics.
DEFAULT_SATURATION = 3000.0
#: Default block size (pixels) of the binned CC.
DEFAULT_BIN_SIZE = 8


def _gauss(x):
    if isinstance(x, u.Quantity):
        return x.to_value(u.G).astype(np.float64, copy=False)
    return np.asarray(x, dtype=np.float64)


def _prepare(truth, generated, mask):
    """Arrays in Gauss and the boolean selection of the pixels used."""
    a, b = _gauss(truth), _gauss(generated)
    if a.shape != b.shape:
        raise ValueError(f"truth and generated have different shapes: {a.shape} vs {b.shape}")
    used = np.isfinite(a) & np.isfinite(b)
    if mask is not None:
        mask = np.asarray(mask, dtype=bool)
        if mask.shape != a.shape:
            raise ValueError(f"mask has shape {mask.shape}, the maps {a.shape}")
        used &= mask
    return a, b, used


def _pearson(x, y):
    if x.size < 2:
        return np.nan
    x = x - x.mean()
    y = y - y.mean()
    # Plain ufunc reductions rather than np.dot: BLAS threads spin badly on a busy machine.
    denom = np.sqrt(np.sum(x * x) * np.sum(y * y))
    return float(np.sum(x * y) / denom) if denom > 0 else np.nan


def pixel_cc(truth, generated, mask=None):
    """
    Pixel-to-pixel Pearson correlation coefficient.

    Parameters
    ----------
    truth, generated : numpy.ndarray or `~astropy.units.Quantity`
        Fields, shape ``(H, W)`` (plain numbers: Gauss).
    mask : numpy.ndarray, optional
        Boolean ``(H, W)``, True where pixels are used (e.g. the solar disk).

    Returns
    -------
    float
        Pearson's r over the pixels in the mask that are finite in both maps; NaN if fewer
        than two pixels or a constant map.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import pixel_cc
    >>> round(pixel_cc(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[2.0, 4.0], [6.0, 8.5]])), 4)
    0.9984
    """
    a, b, used = _prepare(truth, generated, mask)
    return _pearson(a[used], b[used])


def _block_mean(x, k):
    ny, nx = (x.shape[0] // k) * k, (x.shape[1] // k) * k
    return x[:ny, :nx].reshape(ny // k, k, nx // k, k).mean(axis=(1, 3))


def binned_cc(truth, generated, mask=None, *, bin_size=DEFAULT_BIN_SIZE):
    """
    Correlation coefficient of ``bin_size x bin_size`` block averages (Jeong et al. 2022).

    Parameters
    ----------
    truth, generated : numpy.ndarray or `~astropy.units.Quantity`
        Fields, shape ``(H, W)`` (plain numbers: Gauss).
    mask : numpy.ndarray, optional
        Boolean ``(H, W)``; only blocks whose pixels are all in the mask (and finite in both
        maps) are used.
    bin_size : int, optional
        Block size ``k`` in pixels (8 by default); the last ``H % k`` rows and ``W % k``
        columns are dropped.

    Returns
    -------
    float
        Pearson's r over the complete blocks; NaN if fewer than two.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import binned_cc, pixel_cc
    >>> rng = np.random.default_rng(0)
    >>> truth = np.kron(rng.normal(0, 300, (8, 8)), np.ones((8, 8)))  # structure on 8 px blocks
    >>> generated = truth + rng.normal(0, 300, truth.shape)  # plus pixel noise
    >>> round(pixel_cc(truth, generated), 2), round(binned_cc(truth, generated, bin_size=8), 2)
    (0.69, 0.99)
    """
    k = int(bin_size)
    if k < 1:
        raise ValueError(f"bin_size must be a positive integer, got {bin_size!r}")
    a, b, used = _prepare(truth, generated, mask)
    if a.shape[0] < k or a.shape[1] < k:
        raise ValueError(f"bin_size {k} exceeds the image shape {a.shape}")
    full = _block_mean(used.astype(np.float64), k) == 1.0
    a = _block_mean(np.where(used, a, 0.0), k)
    b = _block_mean(np.where(used, b, 0.0), k)
    return _pearson(a[full], b[full])


def r2_error(truth, generated, mask=None):
    """
    Normalised mean-square error ``R2 = sum (B_gen - B_true)**2 / sum B_true**2``.

    Parameters
    ----------
    truth, generated : numpy.ndarray or `~astropy.units.Quantity`
        Fields, shape ``(H, W)`` (plain numbers: Gauss).
    mask : numpy.ndarray, optional
        Boolean ``(H, W)``, True where pixels are used.

    Returns
    -------
    float
        Dimensionless, 0 for identical maps; NaN if the true field is zero everywhere used.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import r2_error
    >>> truth = np.array([100.0, -200.0, 300.0])
    >>> r2_error(truth, truth), r2_error(truth, np.zeros(3)), round(r2_error(truth, 0.5 * truth), 3)
    (0.0, 1.0, 0.25)
    """
    a, b, used = _prepare(truth, generated, mask)
    den = float(np.sum(a[used] ** 2))
    return float(np.sum((b[used] - a[used]) ** 2)) / den if den > 0 else np.nan


def rmse(truth, generated, mask=None):
    """
    Root-mean-square difference over the pixels used (in the arrays' own units).

    Parameters
    ----------
    truth, generated : numpy.ndarray or `~astropy.units.Quantity`
        Arrays, shape ``(H, W)``.
    mask : numpy.ndarray, optional
        Boolean ``(H, W)``, True where pixels are used.

    Returns
    -------
    float
        NaN if no pixel is used.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import rmse
    >>> rmse(np.array([0.0, 0.0, 0.0, 0.0]), np.array([3.0, -3.0, 3.0, -3.0]))
    3.0
    """
    a, b, used = _prepare(truth, generated, mask)
    if not used.any():
        return np.nan
    return float(np.sqrt(np.mean((a[used] - b[used]) ** 2)))


def psnr(truth, generated, mask=None, *, data_range):
    """
    Peak signal-to-noise ratio ``10 log10(data_range**2 / MSE)`` in dB.

    With ``mask=None`` and finite arrays this equals
    `skimage.metrics.peak_signal_noise_ratio` with the same ``data_range``.

    Parameters
    ----------
    truth, generated : numpy.ndarray
        Arrays, shape ``(H, W)``.
    mask : numpy.ndarray, optional
        Boolean ``(H, W)``, True where pixels are used.
    data_range : float
        Peak-to-peak range of the data (in the arrays' units).

    Returns
    -------
    float
        In dB; ``inf`` for identical images.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import psnr
    >>> round(psnr(np.zeros((4, 4)), np.full((4, 4), 0.1), data_range=1.0), 2)  # RMSE 0.1
    20.0
    """
    return _psnr_from_rmse(float(data_range), rmse(truth, generated, mask))


def _psnr_from_rmse(data_range, err):
    if np.isnan(err):
        return np.nan
    return float(20 * np.log10(data_range / err)) if err > 0 else np.inf


def ssim(
    truth,
    generated,
    mask=None,
    *,
    data_range,
    win_size=None,
    gaussian_weights=False,
    sigma=1.5,
    use_sample_covariance=True,
    k1=0.01,
    k2=0.03,
    full=False,
):
    """
    Structural similarity index (Wang et al. 2004), optionally averaged over a mask.

    The local statistics are those of `skimage.metrics.structural_similarity` (same
    filters, constants and defaults), implemented with `scipy.ndimage`. With ``mask=None``
    the mean is taken, as in scikit-image, over the image less a border of
    ``(win_size - 1) // 2`` pixels; with a mask, over the masked pixels (the window of a
    pixel near the mask edge still sees its neighbours outside the mask, whose values are
    those of the arrays; non-finite values are replaced by 0 before filtering and their
    pixels are left out of the mean).

    Parameters
    ----------
    truth, generated : numpy.ndarray
        Images, shape ``(H, W)``.
    mask : numpy.ndarray, optional
        Boolean ``(H, W)``, True where the SSIM map is averaged.
    data_range : float
        Peak-to-peak range of the data (sets the constants ``C1 = (k1 R)**2``, ``C2 = (k2 R)**2``).
    win_size : int, optional
        Side of the window (odd); 7 for the uniform window, ``2 * int(3.5 sigma + 0.5) + 1``
        (11) for Gaussian weights.
    gaussian_weights : bool, optional
        Gaussian instead of uniform window.
    sigma : float, optional
        Width of the Gaussian window.
    use_sample_covariance : bool, optional
        Normalise covariances by ``N - 1`` instead of ``N``.
    k1, k2 : float, optional
        The SSIM constants.
    full : bool, optional
        Also return the SSIM map.

    Returns
    -------
    mssim : float
        Mean SSIM, in [-1, 1].
    ssim_map : numpy.ndarray
        Only if ``full``: the SSIM map, shape ``(H, W)``.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage.metrics import structural_similarity
    >>> from sunpy_magnetogan.metrics import ssim
    >>> rng = np.random.default_rng(0)
    >>> a = rng.random((32, 32))
    >>> b = a + rng.normal(0, 0.1, a.shape)
    >>> bool(np.isclose(ssim(a, b, data_range=1.0), structural_similarity(a, b, data_range=1.0)))
    True
    """
    a = _gauss(truth)
    b = _gauss(generated)
    if a.shape != b.shape or a.ndim != 2:
        raise ValueError(f"ssim needs two 2-D arrays of the same shape, got {a.shape} and {b.shape}")
    finite = np.isfinite(a) & np.isfinite(b)
    a = np.where(finite, a, 0.0)
    b = np.where(finite, b, 0.0)
    if gaussian_weights:
        truncate = 3.5
        if win_size is None:
            win_size = 2 * int(truncate * sigma + 0.5) + 1

        def smooth(x):
            return ndimage.gaussian_filter(x, sigma=sigma, truncate=truncate, mode="reflect")

    else:
        if win_size is None:
            win_size = 7

        def smooth(x):
            return ndimage.uniform_filter(x, size=win_size)

    if win_size % 2 != 1 or win_size > min(a.shape):
        raise ValueError(f"win_size must be odd and at most the image size {a.shape}, got {win_size}")
    n = win_size**2
    cov_norm = n / (n - 1) if use_sample_covariance else 1.0
    ux, uy = smooth(a), smooth(b)
    vx = cov_norm * (smooth(a * a) - ux * ux)
    vy = cov_norm * (smooth(b * b) - uy * uy)
    vxy = cov_norm * (smooth(a * b) - ux * uy)
    c1 = (k1 * data_range) ** 2
    c2 = (k2 * data_range) ** 2
    smap = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    if mask is None:
        pad = (win_size - 1) // 2
        inner = (slice(pad, a.shape[0] - pad), slice(pad, a.shape[1] - pad))
        used = finite[inner]
        mssim = float(smap[inner][used].mean(dtype=np.float64)) if used.any() else np.nan
    else:
        used = np.asarray(mask, dtype=bool) & finite
        mssim = float(smap[used].mean(dtype=np.float64)) if used.any() else np.nan
    return (mssim, smap) if full else mssim


def clip_and_scale(field, saturation=DEFAULT_SATURATION):
    """
    Clip a field to ``[-saturation, saturation]`` and scale it to [0, 1].

    Parameters
    ----------
    field : numpy.ndarray or `~astropy.units.Quantity`
        Field (plain numbers: Gauss).
    saturation : float or `~astropy.units.Quantity`
        ``Bsat`` (plain numbers: Gauss).

    Returns
    -------
    numpy.ndarray
        ``(clip(B, -Bsat, Bsat) + Bsat) / (2 Bsat)``; NaN stays NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import clip_and_scale
    >>> clip_and_scale(np.array([-5000.0, -1500.0, 0.0, 3000.0, np.nan]))
    array([0.  , 0.25, 0.5 , 1.  ,  nan])
    """
    s = float(_gauss(saturation))
    if not s > 0:
        raise ValueError(f"saturation must be positive, got {saturation!r}")
    return (np.clip(_gauss(field), -s, s) + s) / (2 * s)


def image_quality(truth, generated, mask=None, *, saturation=DEFAULT_SATURATION, win_size=None):
    """
    The paper's image-quality metrics: normalised RMSE, SSIM, E (its Eq. 9) and PSNR.

    See the module docstring for the definitions (clipping at ``saturation`` and scaling to
    [0, 1], ``data_range = 1``).

    Parameters
    ----------
    truth, generated : numpy.ndarray or `~astropy.units.Quantity`
        Fields, shape ``(H, W)`` (plain numbers: Gauss).
    mask : numpy.ndarray, optional
        Boolean ``(H, W)``, True where pixels are used (e.g. the solar disk).
    saturation : float or `~astropy.units.Quantity`, optional
        ``Bsat`` (3000 G by default).
    win_size : int, optional
        SSIM window (7 by default).

    Returns
    -------
    dict
        ``rmse`` (normalised, dimensionless), ``ssim``, ``rmse_ssim`` (E of Eq. 9, lower is
        better) and ``psnr`` (dB).

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import image_quality
    >>> truth = np.zeros((32, 32))
    >>> truth[8:24, 8:24] = 600.0
    >>> quality = image_quality(truth, 0.8 * truth)
    >>> {key: round(value, 3) for key, value in quality.items()}
    {'rmse': 0.01, 'ssim': 0.99, 'rmse_ssim': 0.01, 'psnr': 40.0}
    """
    a, b, used = _prepare(truth, generated, mask)
    sa = clip_and_scale(a, saturation)
    sb = clip_and_scale(b, saturation)
    # Pixels left out (non-finite in either map) carry the value of 0 G in both images.
    sa[~(np.isfinite(a) & np.isfinite(b))] = 0.5
    sb[~(np.isfinite(a) & np.isfinite(b))] = 0.5
    err = rmse(sa, sb, used)
    s = ssim(sa, sb, used if mask is not None else None, data_range=1.0, win_size=win_size)
    return {"rmse": err, "ssim": s, "rmse_ssim": (err + (1 - abs(s))) / 2, "psnr": _psnr_from_rmse(1.0, err)}


def _as_mx(flux):
    """Fluxes in Mx as floats (plain numbers are taken to be Mx)."""
    return flux.to_value(u.Mx) if isinstance(flux, u.Quantity) else np.asarray(flux, float)


def relative_flux_error(flux_true, flux_generated):
    """
    Relative error of the total unsigned flux ``R1 = |Phi_gen - Phi_true| / Phi_true``.

    Parameters
    ----------
    flux_true, flux_generated : float, numpy.ndarray or `~astropy.units.Quantity`
        Total unsigned fluxes (scalars or arrays of pairs; Quantities are compared in Mx).

    Returns
    -------
    float or numpy.ndarray
        Dimensionless; NaN where ``Phi_true`` is 0.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.metrics import relative_flux_error
    >>> round(relative_flux_error(2.0e22 * u.Mx, 1.7e22 * u.Mx), 3)
    0.15
    """
    t, g = _as_mx(flux_true), _as_mx(flux_generated)
    with np.errstate(divide="ignore", invalid="ignore"):
        r1 = np.abs(g - t) / np.where(t != 0, t, np.nan)
    return float(r1) if np.ndim(r1) == 0 else r1


def flux_cc(flux_true, flux_generated):
    """
    Pearson correlation of total unsigned fluxes across a set of pairs.

    Parameters
    ----------
    flux_true, flux_generated : array-like or `~astropy.units.Quantity`
        One total unsigned flux per pair, shape ``(n_pairs,)``; pairs with a non-finite
        value in either are left out.

    Returns
    -------
    float
        Pearson's r; NaN for fewer than two pairs.

    Examples
    --------
    >>> import astropy.units as u
    >>> from sunpy_magnetogan.metrics import flux_cc
    >>> true = [1.0e22, 2.0e22, 4.0e22, 3.0e22] * u.Mx
    >>> generated = [1.2e22, 2.1e22, 3.5e22, 3.3e22] * u.Mx
    >>> round(flux_cc(true, generated), 3)
    0.97
    """
    t, g = _as_mx(flux_true), _as_mx(flux_generated)
    ok = np.isfinite(t) & np.isfinite(g)
    return _pearson(t[ok], g[ok])


def activity_masks(truth, mask=None, *, threshold=100.0, sigma=2.0):
    """
    Active-region and quiet-Sun masks from the true field.

    Parameters
    ----------
    truth : numpy.ndarray or `~astropy.units.Quantity`
        True field, shape ``(H, W)`` (plain numbers: Gauss).
    mask : numpy.ndarray, optional
        Boolean ``(H, W)`` (the solar disk); both masks are restricted to it, and pixels
        outside it count as 0 G in the smoothing.
    threshold : float or `~astropy.units.Quantity`, optional
        Smoothed ``|B|`` above which a pixel belongs to an active region (100 G).
    sigma : float, optional
        Standard deviation of the Gaussian smoothing, in pixels (2 by default, about 7 Mm
        on a 512 px full-disk grid).

    Returns
    -------
    active, quiet : numpy.ndarray
        Boolean ``(H, W)`` masks; disjoint, and their union is the (finite) mask.

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.metrics import activity_masks
    >>> field = np.zeros((32, 32))
    >>> field[10:14, 10:14] = 800.0  # a small plage patch
    >>> active, quiet = activity_masks(field, threshold=100.0, sigma=1.0)
    >>> int(active.sum()), int((active | quiet).sum()), bool((active & quiet).any())
    (32, 1024, False)
    """
    b = _gauss(truth)
    inside = np.isfinite(b)
    if mask is not None:
        inside &= np.asarray(mask, dtype=bool)
    smoothed = ndimage.gaussian_filter(np.where(inside, np.abs(b), 0.0), sigma=sigma, mode="constant")
    active = inside & (smoothed > float(_gauss(threshold)))
    return active, inside & ~active

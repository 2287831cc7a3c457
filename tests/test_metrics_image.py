"""
Tests of the array metrics against independent implementations and known answers.
"""

import astropy.units as u
import numpy as np
import pytest
from scipy import ndimage, stats

from sunpy_magnetogan.metrics import (
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

skmetrics = pytest.importorskip("skimage.metrics", reason="scikit-image is the reference implementation")


@pytest.fixture(scope="module")
def fields():
    """A smooth 'true' field with bipoles and noise, and a degraded 'generated' one (Gauss)."""
    rng = np.random.default_rng(42)
    truth = ndimage.gaussian_filter(rng.normal(0, 1, (192, 192)), 6) * 4000 + rng.normal(0, 20, (192, 192))
    generated = 0.8 * ndimage.shift(truth, (1.5, -1.0), order=1) + rng.normal(0, 60, truth.shape)
    yy, xx = np.mgrid[:192, :192]
    disk = np.hypot(xx - 95.5, yy - 95.5) < 76.8
    return truth, generated, disk


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"gaussian_weights": True, "use_sample_covariance": False},
        {"win_size": 11},
    ],
)
def test_ssim_equals_scikit_image(fields, options):
    truth, generated, _ = fields
    ours, our_map = ssim(truth, generated, data_range=8000.0, full=True, **options)
    ref, ref_map = skmetrics.structural_similarity(truth, generated, data_range=8000.0, full=True, **options)
    assert ours == pytest.approx(ref, rel=1e-10, abs=1e-12)
    np.testing.assert_allclose(our_map, ref_map, rtol=1e-9, atol=1e-12)


def test_masked_ssim_is_the_mean_of_the_scikit_image_map_over_the_mask(fields):
    truth, generated, disk = fields
    _, ref_map = skmetrics.structural_similarity(truth, generated, data_range=8000.0, full=True)
    assert ssim(truth, generated, disk, data_range=8000.0) == pytest.approx(ref_map[disk].mean(), rel=1e-10)


def test_psnr_and_rmse_equal_scikit_image(fields):
    truth, generated, _ = fields
    ref = skmetrics.peak_signal_noise_ratio(truth, generated, data_range=6000.0)
    assert psnr(truth, generated, data_range=6000.0) == pytest.approx(ref, rel=1e-12)
    assert rmse(truth, generated) == pytest.approx(np.sqrt(skmetrics.mean_squared_error(truth, generated)))
    assert psnr(truth, truth, data_range=1.0) == np.inf


def test_pixel_cc_equals_scipy_pearson_on_masked_finite_pixels(fields):
    truth, generated, disk = fields
    generated = generated.copy()
    generated[100, 100] = np.nan  # on the disk: left out
    used = disk & np.isfinite(generated)
    expected = stats.pearsonr(truth[used], generated[used]).statistic
    assert pixel_cc(truth, generated, disk) == pytest.approx(expected, rel=1e-12)
    assert pixel_cc(truth, truth * 3 + 7) == pytest.approx(1.0)
    assert pixel_cc(truth, -truth) == pytest.approx(-1.0)
    # Units do not matter: Quantities are converted to Gauss.
    assert pixel_cc(truth * u.G, (generated * u.G).to(u.T), disk) == pytest.approx(expected, rel=1e-12)


def test_binned_cc_uses_block_means_of_complete_bins(fields):
    truth, generated, disk = fields
    k = 8
    blocks_t = truth.reshape(24, k, 24, k).mean(axis=(1, 3))
    blocks_g = generated.reshape(24, k, 24, k).mean(axis=(1, 3))
    complete = disk.reshape(24, k, 24, k).all(axis=(1, 3))
    expected = np.corrcoef(blocks_t[complete], blocks_g[complete])[0, 1]
    assert binned_cc(truth, generated, disk, bin_size=k) == pytest.approx(expected, rel=1e-12)
    # Averaging removes the pixel noise: the binned CC is higher than the pixel CC here.
    assert binned_cc(truth, generated, disk) > pixel_cc(truth, generated, disk)
    # A non-multiple size is cropped; bin_size 1 is the pixel CC.
    assert binned_cc(truth[:190, :190], generated[:190, :190], disk[:190, :190], bin_size=1) == pytest.approx(
        pixel_cc(truth[:190, :190], generated[:190, :190], disk[:190, :190])
    )
    with pytest.raises(ValueError, match="bin_size"):
        binned_cc(truth, generated, bin_size=500)


def test_r2_and_r1_known_answers(fields):
    truth, _, disk = fields
    assert r2_error(truth, 1.1 * truth, disk) == pytest.approx(0.01)
    assert r2_error(truth, truth, disk) == 0
    assert r2_error(truth, np.zeros_like(truth), disk) == pytest.approx(1.0)
    assert relative_flux_error(2e22 * u.Mx, 2.5e22 * u.Mx) == pytest.approx(0.25)
    assert relative_flux_error(2e22 * u.Mx, 1.5e22 * u.Mx) == pytest.approx(0.25)
    np.testing.assert_allclose(relative_flux_error(np.array([1.0, 2.0]), np.array([1.5, 1.0])), [0.5, 0.5])


def test_flux_cc_equals_scipy_pearson():
    rng = np.random.default_rng(3)
    true = rng.uniform(1e22, 5e23, 40)
    generated = true * rng.normal(1, 0.1, 40)
    expected = stats.pearsonr(true, generated).statistic
    assert flux_cc(true * u.Mx, generated * u.Mx) == pytest.approx(expected, rel=1e-12)
    assert flux_cc(true * u.Mx, (generated * u.Mx).to(u.Wb)) == pytest.approx(expected, rel=1e-12)
    assert np.isnan(flux_cc([1e22], [1e22]))


def test_image_quality_definitions(fields):
    truth, generated, disk = fields
    bsat = 1500.0
    quality = image_quality(truth, generated, disk, saturation=bsat)
    clipped_t, clipped_g = np.clip(truth, -bsat, bsat), np.clip(generated, -bsat, bsat)
    rmse_gauss = np.sqrt(np.mean((clipped_t - clipped_g)[disk] ** 2))
    assert quality["rmse"] == pytest.approx(rmse_gauss / (2 * bsat), rel=1e-12)
    assert quality["psnr"] == pytest.approx(20 * np.log10(2 * bsat / rmse_gauss), rel=1e-12)
    _, ref_map = skmetrics.structural_similarity(
        clip_and_scale(truth, bsat), clip_and_scale(generated, bsat), data_range=1.0, full=True
    )
    assert quality["ssim"] == pytest.approx(ref_map[disk].mean(), rel=1e-10)
    assert quality["rmse_ssim"] == pytest.approx((quality["rmse"] + 1 - abs(quality["ssim"])) / 2)
    # Without a mask, PSNR is scikit-image's on the clipped maps in Gauss, SSIM on the
    # maps scaled to [0, 1] (SSIM is not invariant to an offset, so the scaling matters).
    whole = image_quality(truth, generated, saturation=bsat)
    assert whole["psnr"] == pytest.approx(
        skmetrics.peak_signal_noise_ratio(clipped_t, clipped_g, data_range=2 * bsat), rel=1e-12
    )
    scaled_t, scaled_g = (clipped_t + bsat) / (2 * bsat), (clipped_g + bsat) / (2 * bsat)
    assert whole["ssim"] == pytest.approx(
        skmetrics.structural_similarity(scaled_t, scaled_g, data_range=1.0), rel=1e-9
    )
    perfect = image_quality(truth, truth, disk)
    assert perfect["rmse"] == 0
    assert perfect["ssim"] == pytest.approx(1.0)
    assert perfect["rmse_ssim"] == pytest.approx(0.0)
    assert perfect["psnr"] == np.inf


def test_activity_masks_split_the_disk(fields):
    _, _, disk = fields
    rng = np.random.default_rng(5)
    truth = rng.normal(0, 15, disk.shape)
    truth[80:100, 60:75] += 900.0  # a plage/spot patch
    truth[80:100, 110:125] -= 900.0
    active, quiet = activity_masks(truth, disk, threshold=100 * u.G, sigma=2.0)
    assert not np.any(active & quiet)
    assert np.array_equal(active | quiet, disk)
    assert active[90, 67]
    assert active[90, 117]
    assert not active[30:50, 80:100].any()
    # About the two patches, slightly grown by the smoothing.
    assert 2 * 20 * 15 <= active.sum() < 2 * 28 * 23
    # Pixels outside the disk are never in either mask.
    assert not (active | quiet)[~disk].any()


def test_shape_mismatch_is_an_error(fields):
    truth, generated, disk = fields
    with pytest.raises(ValueError, match="different shapes"):
        pixel_cc(truth, generated[:-1])
    with pytest.raises(ValueError, match="mask"):
        r2_error(truth, generated, disk[:-1])

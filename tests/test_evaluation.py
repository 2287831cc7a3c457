"""
Tests of pair comparison on maps, data-set evaluation, its files, figures and CLI.
"""

import astropy.units as u
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.table import Table
from sunpy.coordinates import HeliographicStonyhurst

from sunpy_magnetogan.cli import main
from sunpy_magnetogan.evaluation import (
    EvaluationPair,
    MapFilePairs,
    StorePairs,
    evaluate_pair,
    evaluate_pairs,
    format_summary,
    plot_comparison,
    plot_flux_scatter,
    run_evaluation,
    summarize,
)
from sunpy_magnetogan.exceptions import InputMapError, InvalidDataError, MagnetoGANError
from sunpy_magnetogan.metrics import MetricSettings, compare_maps, grid_geometry

from .test_metrics_flux import DATE, make_map, sunpy_surface

#: Active regions as (Stonyhurst lon, lat, signed peak field in G, width in deg).
SPOTS = [
    (-20, 15, 1500, 2.5),
    (-14, 13, -1200, 2.5),
    (35, -20, 900, 3.0),
    (40, -18, -1100, 2.0),
    (5, 5, 300, 6.0),
]


def field_on_sphere(smap, spots=SPOTS, noise=0.0, seed=0):
    """LOS field of radial Gaussian spots fixed on the Sun, for any observer and grid; NaN off disk."""
    normal, mu = sunpy_surface(smap)
    b_r = np.zeros(mu.shape)
    for lon, lat, peak, width in spots:
        lon, lat = np.deg2rad(lon), np.deg2rad(lat)
        centre = np.array([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
        psi = np.arccos(np.clip(np.tensordot(centre, normal, axes=1), -1, 1))
        b_r += peak * np.exp(-(psi**2) / (2 * np.deg2rad(width) ** 2))
    b = b_r * mu
    if noise:
        b += np.random.default_rng(seed).normal(0, noise, b.shape)
    return np.where(np.isfinite(mu), b, np.nan)


def observer_at(lon=0 * u.deg):
    return SkyCoord(lon, -4 * u.deg, 0.99 * u.AU, frame=HeliographicStonyhurst, obstime=DATE)


def magnetogram(npix, *, observer=None, noise=0.0, seed=0, scale=1.0, unit=u.G):
    observer = observer if observer is not None else observer_at()
    empty = make_map(npix, observer=observer)
    return make_map(
        npix, scale * field_on_sphere(empty, noise=noise, seed=seed), observer=observer, unit=unit
    )


@pytest.fixture(scope="module")
def truth256():
    return magnetogram(256, noise=5.0)


def test_identical_maps_score_perfectly(truth256):
    m = compare_maps(truth256, truth256)
    assert m["cc"] == pytest.approx(1.0)
    assert m["cc_binned"] == pytest.approx(1.0)
    assert m["r1"] == 0
    assert m["r2"] == 0
    assert m["rmse_ssim"] == pytest.approx(0.0)
    assert m["psnr"] == np.inf
    assert m["flux_true"].unit == u.Mx
    assert m["flux_true"] == m["flux_generated"]
    assert 0 < m["ar_fraction"] < 0.2
    assert u.allclose(m["flux_true_ar"] + m["flux_true_qs"], m["flux_true"])


def test_known_degradation_gives_known_errors(truth256):
    scaled = truth256._new_instance(truth256.data * 1.2, truth256.meta)
    m = compare_maps(truth256, scaled, threshold=0 * u.G)
    assert m["cc"] == pytest.approx(1.0)
    assert m["r1"] == pytest.approx(0.2)
    assert m["r1_ar"] == pytest.approx(0.2)
    assert m["r1_qs"] == pytest.approx(0.2)
    assert m["r2"] == pytest.approx(0.04)
    assert float(m["flux_generated"] / m["flux_true"]) == pytest.approx(1.2)
    # The default 10 G noise threshold applies to each map: amplified noise pixels cross it.
    assert compare_maps(truth256, scaled)["r1"] > 0.2


def test_maps_of_different_shapes_need_explicit_reprojection(truth256):
    small = magnetogram(128)
    with pytest.raises(InputMapError, match=r"shapes differ.*reproject="):
        compare_maps(truth256, small)
    to_truth = compare_maps(truth256, small, reproject="generated", nan_policy="omit")
    to_generated = compare_maps(truth256, small, reproject="truth")
    assert to_truth["cc"] > 0.97
    assert to_generated["cc"] > 0.97
    assert to_generated["n_pixels"] < to_truth["n_pixels"] / 3  # metrics on the 128 px grid
    assert to_generated["r1"] < 0.1


def test_maps_of_different_observers_or_grids_are_refused(truth256):
    elsewhere = magnetogram(256, observer=observer_at(25 * u.deg))
    with pytest.raises(InputMapError, match="observers differ"):
        compare_maps(truth256, elsewhere)
    # After reprojection the part of the disk the other observer cannot see is NaN.
    with pytest.raises(InvalidDataError, match="non-finite"):
        compare_maps(truth256, elsewhere, reproject=True)
    m = compare_maps(truth256, elsewhere, reproject=True, nan_policy="omit")
    assert m["cc"] > 0.9
    shifted_meta = dict(truth256.meta, crpix1=truth256.meta["crpix1"] + 3)
    with pytest.raises(InputMapError, match="pixel grids differ"):
        compare_maps(truth256, truth256._new_instance(truth256.data, shifted_meta))


def test_bad_units_and_nans_give_clear_errors(truth256):
    counts = truth256._new_instance(truth256.data, dict(truth256.meta, bunit="DN"))
    with pytest.raises(InputMapError, match=r"generated map: .*not a magnetic field"):
        compare_maps(truth256, counts)
    holed = truth256.data.copy()
    holed[128, 100:110] = np.nan
    holed_map = truth256._new_instance(holed, truth256.meta)
    with pytest.raises(InvalidDataError, match="10 non-finite"):
        compare_maps(truth256, holed_map)
    assert compare_maps(truth256, holed_map, nan_policy="omit")["cc"] == pytest.approx(1.0)
    in_tesla = truth256._new_instance(truth256.data * 1e-4, dict(truth256.meta, bunit="T"))
    assert compare_maps(truth256, in_tesla)["r2"] == pytest.approx(0.0, abs=1e-20)
    with pytest.raises(InputMapError, match="both be maps or both be arrays"):
        evaluate_pair((truth256, truth256.data))


def _array_pairs(n, size=128, seed=0):
    rng = np.random.default_rng(seed)
    geometry = grid_geometry(size)
    pairs = []
    for i in range(n):
        yy, xx = np.mgrid[:size, :size]
        truth = np.zeros((size, size))
        for _ in range(3):
            cx, cy = rng.uniform(0.3, 0.7, 2) * size
            truth += (
                rng.choice([-1, 1]) * rng.uniform(300, 2000) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / 30)
            )
        truth += rng.normal(0, 10, truth.shape)
        truth[~geometry.on_disk] = 0.0
        generated = truth * rng.uniform(0.7, 1.3) + rng.normal(0, 40, truth.shape)
        pairs.append(EvaluationPair(truth, generated, None, f"p{i}"))
    return pairs


def test_evaluate_pairs_table_and_table1_summary():
    pairs = _array_pairs(6)
    table = evaluate_pairs(pairs, settings=MetricSettings(bin_size=4))
    assert list(table["pair_id"]) == [f"p{i}" for i in range(6)]
    assert table["flux_true"].unit == u.Mx
    assert table.meta["settings"]["bin_size"] == 4
    summary = summarize(table)
    rows = {row["key"]: row for row in summary}
    expected_cc = np.corrcoef(table["flux_true"].value, table["flux_generated"].value)[0, 1]
    assert rows["flux_cc"]["mean"] == pytest.approx(expected_cc)
    assert np.isnan(rows["flux_cc"]["std"])
    assert rows["r1"]["mean"] == pytest.approx(np.mean(table["r1"]))
    assert rows["r1"]["std"] == pytest.approx(np.std(table["r1"], ddof=1))
    assert rows["cc"]["n"] == 6
    assert "4x4" in rows["cc_binned"]["metric"]
    text = format_summary(summary)
    assert "Total unsigned flux R1" in text
    assert f"{rows['r1']['mean']:.3f} ± {rows['r1']['std']:.3f}" in text
    assert "over 6 pairs" in text


def test_store_pairs_evaluate_predictions_from_a_pair_store(tmp_path):
    from sunpy_magnetogan.pairs import PairStore

    store = PairStore.create(tmp_path / "store", grid_size=128)
    disk = grid_geometry(128).on_disk
    for pair in _array_pairs(3):
        euv = np.clip(pair.truth / 2000, -1, 1).astype(np.float32)
        store.add(pair.pair_id, euv=euv, mag=pair.truth.astype(np.float32), disk=disk, split="test")
    calls = []

    def predict(euv):
        calls.append(euv.shape)
        return euv * 2000 * u.G

    pairs = StorePairs(PairStore.open(tmp_path / "store"), predict, split="test")
    assert len(pairs) == 3
    table = evaluate_pairs(pairs)
    assert calls == [(128, 128)] * 3
    assert sorted(table["pair_id"]) == ["p0", "p1", "p2"]
    assert np.all(table["cc"] > 0.9)


def test_run_evaluation_writes_tables_csv_and_figures(tmp_path):
    pairs = _array_pairs(5, seed=1)
    result = run_evaluation(pairs, tmp_path / "out", n_figures=2)
    csv = Table.read(result.files["per_pair_csv"], format="ascii.csv")
    assert len(csv) == 5
    np.testing.assert_allclose(csv["flux_true"], result.table["flux_true"].to_value(u.Mx))
    ecsv = Table.read(result.files["per_pair_ecsv"])
    assert ecsv["flux_true"].unit == u.Mx
    assert "Pixel-to-pixel CC" in result.files["summary_txt"].read_text()
    figures = sorted(p.name for p in (tmp_path / "out" / "figures").iterdir())
    assert figures == ["comparison_p0.png", "comparison_p1.png", "flux_scatter.png"]


def test_comparison_figure_panels_have_symmetric_grey_scales(truth256):
    generated = truth256._new_instance(truth256.data * 0.9 + 20, truth256.meta)
    euv = make_map(256, np.random.default_rng(0).uniform(0, 100, (256, 256)), unit=u.ct)
    fig = plot_comparison(truth256, generated, euv, title="test pair")
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 4
    for image in images[1:]:
        vmin, vmax = image.get_clim()
        assert vmin == -vmax
        assert vmax > 0
        assert image.get_cmap().name.startswith("gray")
    truth_img, gen_img, diff_img = images[1:]
    assert truth_img.get_clim() == gen_img.get_clim() == diff_img.get_clim()  # one scale, one unit
    hmimag = plot_comparison(truth256, generated, euv, cmap="hmimag")
    assert all(ax.images[0].get_cmap().name.startswith("hmimag") for ax in hmimag.axes[1:] if ax.images)
    np.testing.assert_allclose(diff_img.get_array(), generated.data - truth256.data, equal_nan=True)
    assert [ax.get_title() for ax in fig.axes if ax.images] == [
        "Input (EUV)",
        "Truth",
        "Generated",
        "Generated - truth",
    ]
    # Arrays without input: three panels; masked-out pixels are not drawn.
    mask = np.zeros((64, 64), bool)
    mask[16:48, 16:48] = True
    fig = plot_comparison(np.ones((64, 64)), np.zeros((64, 64)), mask=mask, vmax=50 * u.G)
    images = [ax.images[0] for ax in fig.axes if ax.images]
    assert len(images) == 3
    assert images[0].get_clim() == (-50.0, 50.0)
    diff = np.ma.filled(images[2].get_array().astype(float), np.nan)
    assert np.isnan(diff[0, 0])
    assert diff[32, 32] == -1.0


def test_flux_scatter_has_points_and_one_to_one_line():
    true = np.array([1.0, 2.0, 3.0, 4.0]) * 1e23 * u.Mx
    gen = np.array([1.1, 1.8, 3.3, 4.1]) * 1e23 * u.Mx
    ax = plot_flux_scatter(true, gen)
    np.testing.assert_allclose(ax.collections[0].get_offsets(), np.c_[true.value, gen.value])
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_xdata(), line.get_ydata())
    assert f"{np.corrcoef(true.value, gen.value)[0, 1]:.3f}" in ax.get_title()
    assert "Mx" in ax.get_xlabel()


def test_cli_evaluate_matches_files_by_name(tmp_path, capsys):
    truth_dir, gen_dir = tmp_path / "truth", tmp_path / "generated"
    truth_dir.mkdir()
    gen_dir.mkdir()
    for i in range(3):
        truth = magnetogram(96, noise=5.0, seed=i)
        truth.save(truth_dir / f"mag_{i}.fits")
        gen = truth._new_instance(truth.data * (1 + 0.1 * i) + 3.0, truth.meta)
        gen.save(gen_dir / f"mag_{i}.fits")
    magnetogram(96).save(truth_dir / "unmatched.fits")
    pairs = MapFilePairs(truth_dir, gen_dir)
    assert len(pairs) == 3
    assert pairs[0].pair_id == "mag_0"
    out = tmp_path / "out"
    code = main(["evaluate", str(truth_dir), str(gen_dir), "-o", str(out), "--no-progress", "--figures", "1"])
    printed = capsys.readouterr().out
    assert code == 0
    assert "Total unsigned flux CC" in printed
    csv = Table.read(out / "per_pair.csv", format="ascii.csv")
    assert list(csv["pair_id"]) == ["mag_0", "mag_1", "mag_2"]
    assert csv["r1"][0] < csv["r1"][2]
    assert (out / "figures" / "comparison_mag_0.png").is_file()
    assert (out / "figures" / "flux_scatter.png").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["evaluate", str(truth_dir), str(empty), "-o", str(out)]) == 2
    with pytest.raises(MagnetoGANError, match="in both"):
        MapFilePairs(truth_dir, empty)


@pytest.mark.slow
def test_real_hmi_map_against_a_noisier_copy(real_hmi_map):
    # A 4096 px level-1 HMI map (rolled by 180 deg) compared with itself plus 20 G noise.
    noisy = real_hmi_map._new_instance(
        real_hmi_map.data + np.random.default_rng(0).normal(0, 20, real_hmi_map.data.shape), real_hmi_map.meta
    )
    m = compare_maps(real_hmi_map, noisy)
    with pytest.raises(InputMapError, match="shapes differ"):
        compare_maps(real_hmi_map, magnetogram(128))
    assert 0.5 < m["cc"] < 1
    assert m["cc_binned"] > m["cc"]  # 8x8 binning averages the noise down
    assert m["cc_ar"] > m["cc_qs"]  # strong fields dominate the noise in active regions
    assert m["r1_ar"] < m["r1"]

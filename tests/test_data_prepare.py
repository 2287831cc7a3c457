"""
Preparation of the real AIA 304 and HMI files into a pair store, through the CLI.

The two real files are not a co-temporal pair (2021 and 2011): the maximum time
difference is lifted for them (``--max-dt``), everything else runs as for real pairs.
"""

import json

import astropy.units as u
import numpy as np
import pytest
import sunpy.map

from sunpy_magnetogan.cli import main
from sunpy_magnetogan.data.manifest import DownloadManifest
from sunpy_magnetogan.data.pairing import PairPlan, Record, write_plan
from sunpy_magnetogan.data.prepare import (
    LOG_FILE,
    REFERENCE_FILE,
    PairInput,
    prepare_input_map,
    prepare_pair,
    prepare_pairs,
)
from sunpy_magnetogan.exceptions import CalibrationWarning, InputMapError, QualityRejectedError
from sunpy_magnetogan.grid import ModelGrid, disk_mask
from sunpy_magnetogan.helioviewer import linearize_helioviewer
from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.preprocess import prepare_euv_map, prepare_magnetogram_map

PAIR_ID = "sdo_20111217_0600"
NOT_A_PAIR_MINUTES = "1e7"  # the real files are ten years apart


@pytest.fixture(scope="module")
def fetch_dir(tmp_path_factory, real_aia304_path, real_hmi_path):
    """A fetch directory whose plan and manifest point at the real files."""
    directory = tmp_path_factory.mktemp("fetch")
    euv = Record(
        "aia304", "jsoc:aia.lev1_euv_12s:2021-06-01T00:01:29Z", "2021-06-01T00:01:29", provider="JSOC"
    )
    mag = Record("hmi_los", "jsoc:hmi.M_720s:2011.12.17_06:00:00_TAI", "2011-12-17T05:58:10", provider="JSOC")
    write_plan(directory / "pairs.csv", [PairPlan(PAIR_ID, "train", mag.time, euv, mag)])
    manifest = DownloadManifest(directory / "downloads.jsonl")
    manifest.record_done(euv.key, url="https://jsoc.example/aia.fits", path=real_aia304_path)
    manifest.record_done(mag.key, url="https://jsoc.example/hmi.fits", path=real_hmi_path)
    (directory / "fetch.json").write_text(json.dumps({"start": "2011-12-17", "end": "2021-06-01"}))
    return directory


@pytest.fixture(scope="module")
def store_dir(fetch_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("prepared") / "pairs"
    rc = main(["prepare", str(fetch_dir), str(out), "--no-progress", "--max-dt", NOT_A_PAIR_MINUTES])
    assert rc == 0
    return out


@pytest.fixture(scope="module")
def stored(store_dir):
    store = PairStore.open(store_dir)
    return store, store.load(PAIR_ID)


def test_real_pair_is_on_the_model_grid_like_synthetic_pairs(stored):
    store, pair = stored
    assert store.ids("train") == [PAIR_ID]
    assert len(store) == 1
    assert store.grid_size == 512
    assert store.attrs["grid"] == ModelGrid(512).to_dict()
    grid_disk = disk_mask(ModelGrid(512))
    assert pair["euv"].shape == pair["mag"].shape == pair["disk"].shape == (512, 512)
    assert pair["euv"].dtype == pair["mag"].dtype == np.float32
    assert pair["disk"].dtype == bool
    np.testing.assert_array_equal(pair["disk"], grid_disk)  # both images cover the whole disk
    assert np.all(pair["euv"][~grid_disk] == -1)
    assert np.all(pair["mag"][~grid_disk] == 0)
    assert -1 <= pair["euv"].min()
    assert pair["euv"].max() <= 1
    assert np.isfinite(pair["mag"]).all()
    field = pair["mag"][grid_disk]
    assert 500 < np.abs(field).max() < 4000  # Gauss: sunspots present, no saturation artefacts


def test_stored_arrays_are_exactly_the_inference_preprocessing(stored, real_aia304_map, real_hmi_map):
    _, pair = stored
    with pytest.warns(CalibrationWarning, match="degradation"):
        inference = prepare_input_map(real_aia304_map)
    np.testing.assert_array_equal(pair["euv"], inference.data)
    # For the level-1.5 JPEG2000 only the byte scale is undone (offline): then prepare_euv_map.
    np.testing.assert_array_equal(pair["euv"], prepare_euv_map(linearize_helioviewer(real_aia304_map)).data)
    np.testing.assert_array_equal(pair["mag"], prepare_magnetogram_map(real_hmi_map).data)


@pytest.mark.filterwarnings("ignore:Mean of empty slice:RuntimeWarning")
def test_stored_magnetogram_is_north_up(stored, real_hmi_map):
    # Independent of the WCS roll handling: rotate a binned copy explicitly with sunpy,
    # then compare with the stored (CROTA2 = 180 resampled) magnetogram.
    _, pair = stored
    binned = real_hmi_map.superpixel((8, 8) * u.pix, func=np.nanmean)
    rotated = sunpy.map.Map(np.nan_to_num(binned.data), binned.meta).rotate(order=1, recenter=True)
    np.testing.assert_allclose(rotated.rotation_matrix, np.eye(2), atol=1e-6)
    reference = prepare_magnetogram_map(rotated).data
    disk = pair["disk"]
    assert np.corrcoef(pair["mag"][disk], reference[disk])[0, 1] > 0.9
    assert abs(np.corrcoef(pair["mag"][::-1, ::-1][disk], reference[disk])[0, 1]) < 0.3


def test_manifest_records_provenance_per_pair(stored):
    store, pair = stored
    meta = pair["meta"]
    assert meta["split"] == "train"
    assert meta["euv_key"].startswith("jsoc:aia.lev1_euv_12s")
    assert meta["mag_key"].startswith("jsoc:hmi.M_720s")
    assert meta["euv_file"] == "2021_06_01__00_01_29_132__SDO_AIA_AIA_304.jp2"
    assert "register: skipped: already level 1.5" in meta["euv_calibration"]
    assert "helioviewer: Helioviewer AIA 304 (hvs_version5.pro)" in meta["euv_calibration"]
    assert "exposure: skipped: already a rate" in meta["euv_calibration"]
    assert "CalibrationWarning: AIA degradation correction skipped" in meta["warnings"]
    assert meta["euv_quality"] == "0x40000000"
    assert "near-real-time" in meta["euv_quality_flags"]
    assert meta["mag_quality"] == "0x00010400"
    assert "CROTA2 = 180.01" in meta["mag_orientation"]
    assert float(meta["euv_coverage"]) == 1.0
    assert float(meta["mag_coverage"]) == 1.0
    assert float(meta["dt_s"]) == pytest.approx(298_404_201, abs=5)  # 2011-12-17 to 2021-06-01
    quantiles = [float(meta[f"euv_q{level}"]) for level in (10, 25, 50, 75, 90)]
    assert np.all(np.diff(quantiles) > 0)
    assert store.attrs["preprocessing"]["register"] is True
    assert store.attrs["preprocessing"]["degradation_table"] is False
    assert store.attrs["input_preparation"]["aia_register"] is True


def test_reference_distribution_is_written_beside_the_store(stored, store_dir):
    from sunpy_magnetogan.data.intercalibration import QuantileReference

    _, pair = stored
    reference = QuantileReference.load(store_dir / REFERENCE_FILE)
    assert reference.n_images == 1
    assert reference.grid_size == 512
    expected = [float(pair["meta"][f"euv_q{level}"]) for level in (10, 25, 50, 75, 90)]
    assert reference.values == pytest.approx(expected, rel=1e-5)


def test_rerun_resumes_without_redoing_pairs(store_dir, fetch_dir, capsys):
    rc = main(["prepare", str(fetch_dir), str(store_dir), "--no-progress", "--max-dt", NOT_A_PAIR_MINUTES])
    assert rc == 0
    assert "added: 0; already done: 1" in capsys.readouterr().out
    assert len(PairStore.open(store_dir)) == 1
    statuses = [json.loads(line)["status"] for line in (store_dir / LOG_FILE).read_text().splitlines()]
    assert statuses == ["added"]


def test_pairs_too_far_apart_fail_with_the_default_tolerance(fetch_dir, tmp_path, caplog):
    rc = main(["prepare", str(fetch_dir), str(tmp_path / "strict"), "--no-progress"])
    assert rc == 1
    assert len(PairStore.open(tmp_path / "strict")) == 0
    entry = json.loads((tmp_path / "strict" / LOG_FILE).read_text().splitlines()[0])
    assert entry["status"] == "failed"
    assert "apart" in entry["reason"]


def test_prepare_pair_rejects_bad_quality(real_aia304_map, real_hmi_map):
    eclipse = sunpy.map.Map(real_hmi_map.data, dict(real_hmi_map.meta, quality=0x100))
    with pytest.raises(QualityRejectedError, match="eclipse"):
        prepare_pair(real_aia304_map, eclipse, max_time_difference=None)
    with pytest.raises(InputMapError, match="apart"):
        prepare_pair(real_aia304_map, real_hmi_map)


@pytest.fixture(scope="module")
def small_pair_files(tmp_path_factory, real_aia304_map, real_hmi_map):
    """Small (512 px) FITS copies of the real pair, with an eclipse flag on the AIA one."""
    directory = tmp_path_factory.mktemp("small")
    drop = ("helioviewer", "blank", "bzero", "bscale")
    meta = {k: v for k, v in real_aia304_map.meta.items() if not k.startswith("hv_") and k not in drop}
    meta.update(naxis1=512, naxis2=512, cdelt1=4.8, cdelt2=4.8, crpix1=256.5, crpix2=256.5, acs_eclp="YES")
    binned = real_aia304_map.data.reshape(512, 8, 512, 8).mean(axis=(1, 3)).astype(np.float32)
    aia = directory / "aia_eclipse.fits"
    sunpy.map.Map(binned, meta).save(aia)
    with np.errstate(invalid="ignore"):
        small = real_hmi_map.superpixel((8, 8) * u.pix, func=np.mean)
    hmi = directory / "hmi_small.fits"
    sunpy.map.Map(small.data.astype(np.float32), {k: v for k, v in small.meta.items() if k not in drop}).save(
        hmi
    )
    return aia, hmi


def test_rejected_pairs_are_logged_and_not_retried_failed_ones_are(small_pair_files, tmp_path):
    aia, hmi = small_pair_files
    store = PairStore.create(tmp_path / "store", grid_size=128)
    items = [
        PairInput("rejected", "train", aia, hmi),
        PairInput("broken", "train", tmp_path / "missing.fits", hmi),
    ]
    report = prepare_pairs(items, store, max_time_difference=None)
    assert "ACS_ECLP = YES" in report.rejected["rejected"]
    assert "FileNotFoundError" in report.failed["broken"]
    assert len(store) == 0
    again = prepare_pairs(items, PairStore.open(tmp_path / "store"), max_time_difference=None)
    assert again.skipped == ["rejected"]  # a rejection is final
    assert list(again.failed) == ["broken"]  # a failure is tried again

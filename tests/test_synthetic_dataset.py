"""
Synthetic datasets on disk: the writer, the reader, the fixed benchmark split.
"""

import json

import astropy.units as u
import numpy as np
import pytest

from sunpy_magnetogan.exceptions import MagnetoGANError
from sunpy_magnetogan.normalization import (
    EUVNormalization,
    QuietSunNormalization,
    euv_normalization_from_dict,
)
from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.solar_cycle import days_since_epoch
from sunpy_magnetogan.synthetic import (
    BENCHMARK_SERIES,
    BENCHMARK_SPLIT,
    FluxModel,
    SeriesSpec,
    SplitSpec,
    SyntheticSun,
    open_synthetic_dataset,
    read_region_truth,
    write_synthetic_dataset,
    write_time_series,
)

SPLITS = {
    "train": SplitSpec((1, 2), "2013-01-01", "2013-12-31", 1),
    "test_euvi": SplitSpec((7,), "2014-01-01", "2014-12-31", 1, observer="stereo", instrument="EUVI"),
}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return write_synthetic_dataset(
        tmp_path_factory.mktemp("syn") / "pairs", split=SPLITS, npix=256, grid_size=128
    )


def test_writer_uses_the_pair_store_layout(store):
    assert len(store) == 3
    assert store.ids("train") == sorted(store.ids("train"))
    reopened = PairStore.open(store.path)
    assert reopened.grid_size == 128
    info = json.loads((store.path / "dataset.json").read_text())
    assert info["attrs"]["generator"] == "sunpy_magnetogan.synthetic"
    for pair_id in reopened.ids():
        pair = reopened.load(pair_id)
        assert pair["euv"].shape == pair["mag"].shape == pair["disk"].shape == (128, 128)
        assert pair["euv"].dtype == np.float32
        assert pair["euv"].min() >= -1
        assert pair["euv"].max() <= 1
        # Off the disk: EUV -1 and field 0; on the disk a real field in Gauss.
        assert np.all(pair["euv"][~pair["disk"]] == -1)
        assert np.all(pair["mag"][~pair["disk"]] == 0)
        assert np.abs(pair["mag"][pair["disk"]]).max() > 100
        # The disk sits where the model grid puts it (radius 0.4 N).
        assert pair["disk"].sum() == pytest.approx(np.pi * (0.4 * 128) ** 2, rel=0.03)
    meta = reopened.meta(reopened.ids("test_euvi")[0])
    assert meta["instrument"] == "EUVI"
    assert meta["observer"].startswith("stereo")
    assert abs(float(meta["hgln_obs"])) >= 30


def test_pairs_are_reproducible_and_resumable(store, tmp_path):
    again = write_synthetic_dataset(
        tmp_path / "again", split={"train": SPLITS["train"]}, npix=256, grid_size=128
    )
    pair_id = again.ids()[0]
    first, second = store.load(pair_id), again.load(pair_id)
    for name in ("euv", "mag", "disk"):
        np.testing.assert_array_equal(first[name], second[name])
    # Reopening with more splits adds only the missing pairs.
    resumed = write_synthetic_dataset(tmp_path / "again", split=SPLITS, npix=256, grid_size=128)
    assert len(resumed) == 3
    assert resumed.ids("train") == again.ids("train")


def test_store_records_its_euv_normalization_and_refuses_another(store, tmp_path):
    # Training copies this record into every checkpoint; export_model puts it in the card.
    assert euv_normalization_from_dict(store.attrs["euv_normalization"]) == QuietSunNormalization()
    with pytest.raises(MagnetoGANError, match="normalised with"):
        write_synthetic_dataset(
            store.path, split=SPLITS, npix=256, grid_size=128, euv_normalization=EUVNormalization()
        )
    # The quiet Sun sits at the same value in every image (the disk median maps to
    # log(1 / 0.25) / log(10 / 0.25) of the way from -1 to +1).
    expected = -1 + 2 * np.log(4) / np.log(40)
    for pair_id in store.ids():
        pair = store.load(pair_id)
        assert np.median(pair["euv"][pair["disk"]]) == pytest.approx(expected, abs=0.03)


def test_store_records_its_flux_model_and_refuses_another(store, tmp_path):
    """Inclined-field pairs differ from radial ones in the magnetogram only, and a store keeps one kind."""
    assert store.attrs["flux_model"]["spot_inclination"] == 0.0
    assert "radial" in store.attrs["magnetogram"]
    inclined_model = FluxModel(spot_inclination=1.0, plage_inclination=0.2)
    with pytest.raises(MagnetoGANError, match="another flux model.*plage_inclination, spot_inclination"):
        write_synthetic_dataset(store.path, split=SPLITS, npix=256, grid_size=128, flux_model=inclined_model)
    # A store written before the attribute existed holds default (radial) Suns.
    info = json.loads((store.path / "dataset.json").read_text())
    del info["attrs"]["flux_model"]
    legacy = tmp_path / "legacy"
    legacy.mkdir()
    (legacy / "dataset.json").write_text(json.dumps(info))
    with pytest.raises(MagnetoGANError, match="another flux model"):
        write_synthetic_dataset(legacy, split={}, npix=256, grid_size=128, flux_model=inclined_model)
    write_synthetic_dataset(legacy, split={}, npix=256, grid_size=128)
    inclined = write_synthetic_dataset(
        tmp_path / "inclined",
        split={"train": SPLITS["train"]},
        npix=256,
        grid_size=128,
        flux_model=inclined_model,
    )
    assert inclined.attrs["flux_model"]["spot_inclination"] == 1.0
    assert "inclined" in inclined.attrs["magnetogram"]
    pair_id = inclined.ids()[0]
    radial, tilted = store.load(pair_id), inclined.load(pair_id)
    np.testing.assert_array_equal(radial["euv"], tilted["euv"])
    assert np.abs(radial["mag"] - tilted["mag"]).max() > 50  # G


def test_worker_processes_write_the_same_store(store, tmp_path):
    """Two worker processes give the same pairs, ids and metadata as the serial writer, and honour max_pairs."""
    parallel = write_synthetic_dataset(
        tmp_path / "parallel", split=SPLITS, npix=256, grid_size=128, workers=2
    )
    assert parallel.ids() == store.ids()
    for pair_id in store.ids():
        serial_pair, parallel_pair = store.load(pair_id), parallel.load(pair_id)
        for name in ("euv", "mag", "disk"):
            np.testing.assert_array_equal(serial_pair[name], parallel_pair[name])
        assert parallel.meta(pair_id) == store.meta(pair_id)
    first_two = write_synthetic_dataset(
        tmp_path / "first_two", split=SPLITS, npix=256, grid_size=128, workers=2, max_pairs=2
    )
    assert sorted(first_two.ids()) == sorted(store.ids("train"))  # the first two pairs of the split order
    resumed = write_synthetic_dataset(
        tmp_path / "first_two", split=SPLITS, npix=256, grid_size=128, workers=2
    )
    assert resumed.ids() == store.ids()
    with pytest.raises(ValueError, match="positive integer"):
        write_synthetic_dataset(tmp_path / "none", split=SPLITS, workers=0)


def test_reader_refuses_other_stores(tmp_path, store):
    assert len(open_synthetic_dataset(store.path)) == 3
    PairStore.create(tmp_path / "real", grid_size=16, attrs={"source": "SDO"})
    with pytest.raises(MagnetoGANError, match="not a synthetic"):
        open_synthetic_dataset(tmp_path / "real")


def test_benchmark_split_is_fixed_and_disjoint():
    seeds = {name: set(spec.seeds) for name, spec in BENCHMARK_SPLIT.items()}
    names = sorted(seeds)
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            assert not seeds[a] & seeds[b], (a, b)
    train = BENCHMARK_SPLIT["train"].items("train")
    test = BENCHMARK_SPLIT["test"].items("test")
    assert len(train) == 1600
    assert len(test) == 160
    # Held-out dates: no training pair in 2014, every test pair in 2014.
    held_out = (days_since_epoch("2014-01-01"), days_since_epoch("2014-12-31"))
    train_days = np.array([days_since_epoch(t) for _, t, _, _ in train])
    test_days = np.array([days_since_epoch(t) for _, t, _, _ in test])
    assert not np.any((train_days >= held_out[0]) & (train_days <= held_out[1]))
    assert np.all((test_days >= held_out[0]) & (test_days <= held_out[1]))
    # Fixed: the same list every time.
    assert [t.isot for _, t, _, _ in BENCHMARK_SPLIT["train"].items("train")[:5]] == [
        t.isot for _, t, _, _ in train[:5]
    ]
    assert len(BENCHMARK_SERIES) == 5


def test_time_series_with_ground_truth(tmp_path):
    spec = SeriesSpec(4, "2014-03-01", 2, observers=(("sdo", "AIA"), ("farside", "EUVI")))
    store = write_time_series(tmp_path / "series", spec, npix=128, grid_size=64, truth_shape=(45, 90))
    assert len(store) == 4
    assert {store.meta(i)["observer"] for i in store.ids("series")} == {"sdo", "farside"}
    regions = read_region_truth(tmp_path / "series", seed=4)
    truth = SyntheticSun(4).active_regions("2014-03-01")
    first = regions[regions["time"] == regions["time"][0]]
    assert len(first) == len(truth)
    assert np.allclose(first["lon"].to_value(u.deg), truth["lon"].to_value(u.deg))
    assert first["spot_area"].unit.to_string() == "MSH"
    maps = sorted((tmp_path / "series" / "truth").glob("*.fits"))
    assert len(maps) == 2
    # Resuming the series with another EUV normalisation would mix two kinds of pairs.
    with pytest.raises(MagnetoGANError, match="normalised with"):
        write_time_series(
            tmp_path / "series", spec, npix=128, grid_size=64, euv_normalization=EUVNormalization()
        )
    assert len(PairStore.open(tmp_path / "series")) == 4


def test_write_synthetic_dataset_shows_progress(tmp_path, capsys):
    spec = {"train": SplitSpec((1,), "2014-01-01", "2014-01-31", 2)}
    write_synthetic_dataset(tmp_path / "syn", split=spec, npix=128, grid_size=64, progress=True)
    assert "synthetic pairs: 100%" in capsys.readouterr().err
    # A resumed run counts the pairs already written as done.
    write_synthetic_dataset(tmp_path / "syn", split=spec, npix=128, grid_size=64, progress=True)
    assert "2/2" in capsys.readouterr().err

"""
Tests of the training configurations, presets, dataset and sampler.
"""

import dataclasses

import numpy as np
import pytest
import torch

from sunpy_magnetogan.exceptions import TrainingConfigError
from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.training import (
    PRESETS,
    ModelConfig,
    PairDataset,
    StepBatchSampler,
    TrainConfig,
    get_preset,
    load_config,
    merge_config,
    save_config,
)
from sunpy_magnetogan.training.config import NORTH_SOUTH


def make_store(path, *, grid_size=32, n_train=4, n_test=2, seed=0, attrs=None):
    """
    A tiny pair store of analytic "Suns": a disk with a few Gaussian spots of either
    polarity (Gauss), and an EUV image that is a smooth, signed function of the field.
    """
    rng = np.random.default_rng(seed)
    store = PairStore.create(path, grid_size=grid_size, attrs={"source": "test", **(attrs or {})})
    yy, xx = np.mgrid[:grid_size, :grid_size]
    centre, radius = (grid_size - 1) / 2, 0.4 * grid_size
    disk = (xx - centre) ** 2 + (yy - centre) ** 2 < radius**2
    for i in range(n_train + n_test):
        mag = np.zeros((grid_size, grid_size))
        for _ in range(3):
            cx, cy = rng.uniform(centre - 0.6 * radius, centre + 0.6 * radius, 2)
            width = rng.uniform(0.05, 0.1) * grid_size
            mag += rng.uniform(-2500, 2500) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * width**2))
        mag *= disk
        euv = np.where(disk, 0.8 * np.tanh(mag / 500.0), -1.0)
        split = "train" if i < n_train else "test"
        store.add(
            f"pair{i:02d}", euv=euv, mag=mag, disk=disk, split=split, meta={"date": f"2020-01-{i + 1:02d}"}
        )
    return store


# ---------------------------------------------------------------- configs and presets
def test_presets_describe_the_paper():
    assert {"paper", "pix2pix-imagegan", "pix2pix-patch64", "multilayer-patch64", "compact"} <= set(PRESETS)
    model, train = get_preset("paper")
    assert model.level_sizes == (128, 256, 512)
    assert model.patch_sizes == (64, 32, 16)
    assert model.generator == "unet"
    assert model.generator_kwargs["base_channels"] == 64
    assert model.generator_kwargs["depth"] == 6
    assert (train.lr, train.betas, train.batch_size) == (2e-4, (0.5, 0.999), 1)
    # Table 1 baselines: single-scale ImageGAN and PatchGAN 64, and the multi-layer PatchGAN 64.
    assert get_preset("pix2pix-imagegan")[0].n_levels == 1
    assert get_preset("pix2pix-imagegan")[0].discriminator == "imagegan"
    assert get_preset("pix2pix-patch64")[0].patch_sizes == (64,)
    assert get_preset("multilayer-patch64")[0].patch_sizes == (64, 64, 64)


def test_default_preset_and_its_baselines_share_generator_and_budget():
    pyramid, budget = get_preset("default")
    assert pyramid.level_sizes == (128, 256, 512)
    assert pyramid.patch_sizes == (64, 32, 16)
    for name in ("pix2pix-compact", "pix2pix-compact-imagegan"):
        model, train = get_preset(name)
        assert model.n_levels == 1
        assert model.generator_kwargs == pyramid.generator_kwargs
        assert train == budget
        assert model.radial_output == pyramid.radial_output
    assert pyramid.radial_output  # the shipped model predicts B_r and projects it
    generator, _ = pyramid.build(budget.normalization)
    # Small enough to ship inside the package (<= 12 MB of float32).
    assert sum(p.numel() for p in generator.parameters()) * 4 <= 12e6


def test_compact_preset_builds_small_networks():
    model, _ = get_preset("compact")
    generator, _discriminator = model.build()
    assert sum(p.numel() for p in generator.parameters()) < 500_000
    with torch.inference_mode():
        outputs = generator.eval()(torch.zeros(1, 1, model.image_size, model.image_size))
    assert [y.shape[-1] for y in outputs] == list(model.level_sizes)


def test_get_preset_returns_copies():
    model, _ = get_preset("compact")
    model.generator_kwargs["base_channels"] = 1
    assert get_preset("compact")[0].generator_kwargs["base_channels"] != 1
    with pytest.raises(TrainingConfigError, match="unknown preset 'papr'.*paper"):
        get_preset("papr")


def test_configs_are_frozen_and_validated():
    model = ModelConfig()
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.n_levels = 2
    with pytest.raises(TrainingConfigError, match="one patch size per level"):
        ModelConfig(n_levels=2, patch_sizes=(64, 32, 16))
    with pytest.raises(TrainingConfigError, match="unknown generator"):
        ModelConfig(generator="vnet")
    with pytest.raises(TrainingConfigError, match="does not fit"):
        ModelConfig(image_size=64, n_levels=3, patch_sizes=(64, 32, 16))
    with pytest.raises(TrainingConfigError, match="amp_dtype"):
        TrainConfig(amp_dtype="int8")
    with pytest.raises(TrainingConfigError, match="magnetogram_normalization"):
        TrainConfig(magnetogram_normalization={"kind": "log"})
    with pytest.raises(TrainingConfigError, match="multiple of"):
        TrainConfig(crop_size=258).check_model(ModelConfig())
    with pytest.raises(TrainingConfigError, match="smaller than its 64 px patch"):
        TrainConfig(crop_size=128).check_model(ModelConfig())


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_config_dict_and_toml_round_trip(tmp_path, name):
    model, train = get_preset(name)
    assert ModelConfig.from_dict(model.to_dict()) == model
    assert TrainConfig.from_dict(train.to_dict()) == train
    save_config(tmp_path / "config.toml", model, train)
    assert load_config(tmp_path / "config.toml") == (model, train)


def test_load_config_overrides_a_preset(tmp_path):
    path = tmp_path / "run.toml"
    path.write_text(
        'preset = "compact"\n'
        "[model]\nn_levels = 2\npatch_sizes = [16, 8]\n"
        "[model.generator_kwargs]\nbase_channels = 4\n"
        "[train]\nsteps = 7\n"
    )
    model, train = load_config(path)
    compact_model, compact_train = get_preset("compact")
    assert model.n_levels == 2
    assert model.patch_sizes == (16, 8)
    # dict fields are merged key by key: depth is still the preset's
    assert model.generator_kwargs == {**compact_model.generator_kwargs, "base_channels": 4}
    assert train.steps == 7
    assert train.batch_size == compact_train.batch_size
    with pytest.raises(TrainingConfigError, match="preset 'compact' but preset 'paper'"):
        load_config(path, preset="paper")


def test_load_config_yaml_and_json(tmp_path):
    pytest.importorskip("yaml")
    (tmp_path / "a.yaml").write_text("preset: compact\ntrain:\n  seed: 5\n  betas: [0.4, 0.9]\n")
    _, train = load_config(tmp_path / "a.yaml")
    assert train.seed == 5
    assert train.betas == (0.4, 0.9)
    (tmp_path / "a.json").write_text('{"model": {"n_levels": 1, "patch_sizes": [64]}}')
    model, _ = load_config(tmp_path / "a.json")
    assert model.n_levels == 1


def test_load_config_errors_name_the_problem(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("[train]\nstepz = 3\n")
    with pytest.raises(TrainingConfigError, match="unknown TrainConfig key.*stepz"):
        load_config(bad)
    bad.write_text("[trian]\nsteps = 3\n")
    with pytest.raises(TrainingConfigError, match="unknown section.*trian"):
        load_config(bad)
    bad.write_text("[train\n")
    with pytest.raises(TrainingConfigError, match="cannot parse"):
        load_config(bad)
    with pytest.raises(TrainingConfigError, match="cannot read"):
        load_config(tmp_path / "missing.toml")


def test_merge_config():
    train = merge_config(TrainConfig(), {"magnetogram_normalization": {"saturation_G": 2000.0}})
    assert train.normalization.saturation.value == 2000.0
    assert train.magnetogram_normalization["kind"] == "asinh"


# ---------------------------------------------------------------- dataset
def test_dataset_serves_whole_images(tmp_path):
    store = make_store(tmp_path / "pairs")
    dataset = PairDataset(store, split="test")
    assert len(dataset) == 2
    item = dataset[0]
    assert set(item) == {"euv", "mag", "disk"}
    assert all(t.shape == (1, 32, 32) and t.dtype == torch.float32 for t in item.values())
    pair = store.load("pair04")
    np.testing.assert_array_equal(item["mag"][0].numpy(), pair["mag"])


def test_dataset_block_averages_to_the_model_size(tmp_path):
    store = make_store(tmp_path / "pairs")
    dataset = PairDataset(store, image_size=16)
    item = dataset[0]
    assert item["mag"].shape == (1, 16, 16)
    full = store.load("pair00")["mag"]
    # Flux is conserved: the mean field is unchanged by block averaging.
    assert float(item["mag"].mean()) == pytest.approx(float(full.mean()), rel=1e-5, abs=1e-3)
    with pytest.raises(TrainingConfigError, match="cannot be block-averaged"):
        PairDataset(store, image_size=24)
    with pytest.raises(TrainingConfigError, match="cannot be block-averaged"):
        PairDataset(store, image_size=64)


def test_random_crops_are_aligned_and_reproducible(tmp_path):
    store = make_store(tmp_path / "pairs")
    dataset = PairDataset(store, crop_size=16, crop_alignment=4, seed=3)
    full = dataset[1]["mag"][0]
    seen = set()
    for sample_number in range(40):
        crop = dataset[(1, sample_number)]["mag"][0]
        assert crop.shape == (16, 16)
        matches = [
            (top, left)
            for top in range(0, 17, 4)
            for left in range(0, 17, 4)
            if torch.equal(full[top : top + 16, left : left + 16], crop)
        ]
        assert matches, "a crop must be an aligned window of the full image"
        seen.add(matches[0])
        torch.testing.assert_close(dataset[(1, sample_number)]["mag"][0], crop)  # same key, same crop
    assert len(seen) > 5  # the position varies with the sample number


def test_random_flips_flip_both_images_together(tmp_path):
    store = make_store(tmp_path / "pairs")
    plain = PairDataset(store)
    flipping = PairDataset(store, random_flips=True, seed=1)
    full = plain[0]
    flips_seen = set()
    for sample_number in range(16):
        item = flipping[(0, sample_number)]
        for dims in ([], [-1], [-2], [-2, -1]):
            expected = {k: torch.flip(v, dims) if dims else v for k, v in full.items()}
            if all(torch.equal(item[k], expected[k]) for k in item):
                flips_seen.add(tuple(dims))
                break
        else:
            pytest.fail("EUV, magnetogram and disk were not flipped together")
    assert len(flips_seen) == 4


def test_cycle_frame_serves_each_cycle_in_the_even_cycle_frame(tmp_path):
    # One pair dated in cycle 24, the same arrays dated in cycle 25: in the even-cycle frame
    # the cycle-25 field comes out reversed, so both teach the model the same Hale order.
    store = make_store(tmp_path / "pairs", n_train=1, n_test=0)
    pair = store.load("pair00")
    for name, date in (("even", "2014-06-01T00:00:00"), ("odd", "2023-06-01T00:00:00")):
        store.add(
            name, euv=pair["euv"], mag=pair["mag"], disk=pair["disk"], split="test", meta={"date": date}
        )
    plain = PairDataset(store, split="test")
    framed = PairDataset(store, split="test", cycle_frame=True)
    assert torch.equal(framed[0]["mag"], plain[0]["mag"])
    assert torch.equal(framed[1]["mag"], -plain[1]["mag"])
    assert torch.equal(framed[1]["euv"], plain[1]["euv"])


def test_cycle_frame_reverses_the_field_of_mirrored_pairs(tmp_path):
    # A mirror (east-west or north-south) turns Hale's order around; the frame restores it.
    store = make_store(tmp_path / "pairs", n_train=1, n_test=0)
    pair = store.load("pair00")
    store.add(
        "even", euv=pair["euv"], mag=pair["mag"], disk=pair["disk"], split="test", meta={"date": "2014-06-01"}
    )
    full = PairDataset(store, split="test", cycle_frame=True)[0]["mag"]
    flipping = PairDataset(store, split="test", cycle_frame=True, random_flips=True, seed=1)
    seen = set()
    for sample_number in range(16):
        mag = flipping[(0, sample_number)]["mag"]
        for dims, sign in (([], 1), ([-1], -1), ([-2], -1), ([-2, -1], 1)):
            if torch.equal(mag, sign * (torch.flip(full, dims) if dims else full)):
                seen.add(tuple(dims))
    assert len(seen) == 4


def test_north_south_flips_mirror_up_down_only_and_reverse_the_field(tmp_path):
    # The model grid is solar north up: a north-south mirror is an up-down flip, and in the
    # even-cycle frame the mirrored Sun obeys Hale's law once its field is reversed.
    store = make_store(tmp_path / "pairs", n_train=1, n_test=0)
    pair = store.load("pair00")
    store.add(
        "even", euv=pair["euv"], mag=pair["mag"], disk=pair["disk"], split="test", meta={"date": "2014-06-01"}
    )
    full = PairDataset(store, split="test", cycle_frame=True)[0]
    flipping = PairDataset(store, split="test", cycle_frame=True, random_flips=NORTH_SOUTH, seed=1)
    seen = set()
    for sample_number in range(16):
        item = flipping[(0, sample_number)]
        if torch.equal(item["mag"], full["mag"]) and torch.equal(item["euv"], full["euv"]):
            seen.add("plain")
        elif torch.equal(item["mag"], -torch.flip(full["mag"], [-2])) and torch.equal(
            item["euv"], torch.flip(full["euv"], [-2])
        ):
            seen.add("north-south")
        else:
            pytest.fail("a north-south flip served something else than the pair or its up-down mirror")
    assert seen == {"plain", "north-south"}
    with pytest.raises(TrainingConfigError, match="random_flips"):
        PairDataset(store, split="test", random_flips="east-west")
    with pytest.raises(TrainingConfigError, match="random_flips"):
        TrainConfig(random_flips="east-west")
    assert TrainConfig(random_flips=NORTH_SOUTH).random_flips == NORTH_SOUTH


def test_cycle_frame_needs_dates(tmp_path):
    store = PairStore.create(tmp_path / "pairs", grid_size=16)
    store.add(
        "nodate", euv=np.zeros((16, 16)), mag=np.zeros((16, 16)), disk=np.ones((16, 16), bool), split="train"
    )
    with pytest.raises(Exception, match="no date"):
        PairDataset(store, cycle_frame=True)[0]


# ---------------------------------------------------------------- sampler
def test_sampler_is_a_pure_function_of_the_step():
    full = list(StepBatchSampler(5, 2, 20, seed=7))
    resumed = list(StepBatchSampler(5, 2, 20, start_step=8, seed=7))
    assert len(full) == 20
    assert resumed == full[8:]
    # Each epoch (5 consecutive samples) visits every pair once.
    indices = [index for batch in full for index, _ in batch]
    for epoch in range(len(indices) // 5):
        assert sorted(indices[5 * epoch : 5 * epoch + 5]) == list(range(5))
    # Sample numbers are unique, so crops never repeat by construction.
    numbers = [number for batch in full for _, number in batch]
    assert numbers == list(range(40))


def test_sampler_ranks_split_the_global_batch():
    single = list(StepBatchSampler(7, 4, 10, seed=1))
    ranks = [list(StepBatchSampler(7, 2, 10, seed=1, rank=r, world_size=2)) for r in range(2)]
    for step in range(10):
        assert ranks[0][step] + ranks[1][step] == single[step]


def test_sampler_rejects_an_empty_split():
    with pytest.raises(TrainingConfigError, match="empty"):
        StepBatchSampler(0, 1, 10)

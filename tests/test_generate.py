"""generate_magnetogram / generate_magnetograms with a small randomly initialised model."""

import astropy.units as u
import numpy as np
import pytest
import sunpy.map
import torch

from sunpy_magnetogan.exceptions import (
    BadPixelWarning,
    BatchError,
    CorruptFileError,
    DeviceError,
    OutputPathError,
    UnsupportedWavelengthError,
)
from sunpy_magnetogan.generate import generate_magnetogram, generate_magnetograms, load_model, resolve_device
from sunpy_magnetogan.grid import ModelGrid, disk_mask
from sunpy_magnetogan.mapsource import MagnetoGANMap

from .helpers_maps import make_observer, make_test_map
from .helpers_models import generate_batch_until_error


def test_output_map_is_a_magnetogram_of_the_input_observer(tiny_model):
    euv = make_test_map(512, roll=180 * u.deg, observer=make_observer(40 * u.deg, distance=0.97 * u.AU))
    out = generate_magnetogram(euv, model=tiny_model, device="cpu")
    assert isinstance(out, MagnetoGANMap)
    assert out.unit == u.G
    assert out.data.shape == (128, 128)
    assert out.observer_coordinate.separation_3d(euv.observer_coordinate).to_value(u.m) < 1
    assert out.date.isot[:19] == euv.reference_date.isot[:19]
    assert out.meta["mganmodl"] == tiny_model
    assert len(out.meta["mgansha"]) == 64
    disk = disk_mask(ModelGrid(128))
    assert np.all(np.isfinite(out.data[disk]))
    assert np.all(np.isnan(out.data[~disk]))
    # Within the normalisation's range (saturation 3000 G).
    assert np.nanmax(np.abs(out.data)) <= 3000 + 1e-3


@pytest.mark.filterwarnings("ignore::sunpy_magnetogan.exceptions.PartialDiskWarning")
def test_masked_input_pixels_are_invalid_like_nan(tiny_model):
    euv = make_test_map(256)
    mask = np.zeros(euv.data.shape, dtype=bool)
    mask[120:136, 120:136] = True  # a square at the disk centre
    masked = sunpy.map.Map(euv.data, euv.meta, mask=mask)
    nan = euv.data.copy()
    nan[mask] = np.nan
    with pytest.warns(BadPixelWarning, match="256 pixels .* NaN, infinite or masked"):
        from_mask = generate_magnetogram(masked, model=tiny_model, device="cpu")
    with pytest.warns(BadPixelWarning):
        from_nan = generate_magnetogram(sunpy.map.Map(nan, euv.meta), model=tiny_model, device="cpu")
    assert np.isnan(from_mask.data[64, 64])  # no field under the mask
    np.testing.assert_array_equal(np.isnan(from_mask.data), np.isnan(from_nan.data))
    np.testing.assert_allclose(from_mask.data, from_nan.data, equal_nan=True)


def test_cpu_inference_is_deterministic(tiny_model):
    euv = make_test_map(256)
    first = generate_magnetogram(euv, model=tiny_model, device="cpu")
    second = generate_magnetogram(euv, model=tiny_model, device="cpu")
    assert np.array_equal(first.data, second.data, equal_nan=True)


def test_model_is_cached_per_device(tiny_model):
    assert load_model(tiny_model, device="cpu") is load_model(tiny_model, device="cpu")


def test_bad_inputs_are_refused_before_the_model_runs(tiny_model):
    with pytest.raises(UnsupportedWavelengthError, match="171"):
        generate_magnetogram(make_test_map(128, wavelength=171 * u.AA), model=tiny_model, device="cpu")
    with pytest.raises(ValueError, match="precision"):
        generate_magnetogram(make_test_map(128), model=tiny_model, device="cpu", precision="int8")


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the error raised without a GPU")
def test_cuda_without_gpu_is_a_clear_error():
    with pytest.raises(DeviceError, match="no CUDA GPU"):
        resolve_device("cuda")
    assert resolve_device(None).type == "cpu"


def test_batch_generation_streams_writes_and_resumes(tiny_model, tmp_path):
    inputs = []
    for i, lon in enumerate((0, 30, -60, 180, 90)):
        instrument = "EUVI" if lon else "AIA"
        smap = make_test_map(256, instrument=instrument, observer=make_observer(lon * u.deg))
        path = tmp_path / f"input_{i}.fits"
        smap.save(path)
        inputs.append(path)
    out_dir = tmp_path / "out"
    results = list(
        generate_magnetograms(inputs, model=tiny_model, device="cpu", batch_size=2, output_dir=out_dir)
    )
    assert len(results) == 5
    written = sorted(out_dir.glob("*_magnetogram.fits"))
    assert [p.name for p in written] == [f"input_{i}_magnetogram.fits" for i in range(5)]
    assert not list(out_dir.glob(".*tmp"))
    # The far-side input keeps its far-side observer.
    farside = sunpy.map.Map(out_dir / "input_3_magnetogram.fits")
    assert isinstance(farside, MagnetoGANMap)
    assert abs(farside.observer_coordinate.lon.to_value(u.deg)) == pytest.approx(180, abs=1e-6)
    # Batched results equal one-by-one results.
    single = generate_magnetogram(sunpy.map.Map(inputs[1]), model=tiny_model, device="cpu")
    assert np.allclose(results[1].data, single.data, equal_nan=True, atol=1e-3)
    # A second run skips what exists.
    again = list(
        generate_magnetograms(inputs, model=tiny_model, device="cpu", output_dir=out_dir, progress=False)
    )
    assert again == []


def test_batch_generation_reports_corrupt_files(tiny_model, tmp_path):
    bad = tmp_path / "broken.fits"
    bad.write_bytes(b"not a fits file at all")
    with pytest.raises(CorruptFileError, match="broken.fits"):
        list(generate_magnetograms([bad], model=tiny_model, device="cpu", progress=False, on_error="raise"))
    with pytest.raises(BatchError, match="broken.fits") as info:
        list(generate_magnetograms([bad], model=tiny_model, device="cpu", progress=False))
    assert [label for label, _ in info.value.failures] == [str(bad)]
    assert isinstance(info.value.failures[0][1], CorruptFileError)


def _good_bad_good(tmp_path):
    paths = [tmp_path / "good_1.fits", tmp_path / "bad.fits", tmp_path / "good_2.fits", tmp_path / "folder"]
    make_test_map(128).save(paths[0])
    paths[1].write_bytes(b"SIMPLE  = corrupt")
    make_test_map(128).save(paths[2])
    paths[3].mkdir()
    return paths


def test_batch_keeps_the_good_results_around_a_failure(tiny_model, tmp_path):
    # One batch holds good, corrupt, good: both good maps are written, the failure reported at the end.
    inputs = _good_bad_good(tmp_path)
    error, results, written = generate_batch_until_error(
        inputs, tiny_model, tmp_path / "out", BatchError, batch_size=4
    )
    assert len(results) == 2
    assert written == ["good_1_magnetogram.fits", "good_2_magnetogram.fits"]
    assert [label for label, _ in error.failures] == [str(inputs[1]), str(inputs[3])]
    assert "is a directory" in str(error.failures[1][1])


def test_batch_stops_at_the_first_failure_after_writing_the_good_ones(tiny_model, tmp_path):
    inputs = _good_bad_good(tmp_path)
    _, _, written = generate_batch_until_error(
        inputs, tiny_model, tmp_path / "out", CorruptFileError, match="bad.fits", on_error="raise"
    )
    assert written == ["good_1_magnetogram.fits"]


def test_outputs_that_would_collide_are_refused_before_any_work(tiny_model, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    inputs = [tmp_path / "a" / "x.fits", tmp_path / "b" / "x.jp2"]
    make_test_map(128).save(inputs[0])
    make_test_map(128).save(inputs[1], filetype="fits")
    out_dir = tmp_path / "out"
    with pytest.raises(OutputPathError, match="x_magnetogram.fits"):
        list(
            generate_magnetograms(inputs, model=tiny_model, device="cpu", output_dir=out_dir, progress=False)
        )
    assert list(out_dir.iterdir()) == []
    # A stream (no length) is refused when the second input of the name comes.
    with pytest.raises(OutputPathError, match="x.jp2"):
        list(
            generate_magnetograms(
                iter(inputs), model=tiny_model, device="cpu", output_dir=out_dir, progress=False
            )
        )
    assert [p.name for p in out_dir.iterdir()] == ["x_magnetogram.fits"]


def test_unusable_output_folders_are_refused_before_any_work(tmp_path):
    a_file = tmp_path / "file.txt"
    a_file.write_text("")
    # No model is loaded: the model name does not even exist.
    with pytest.raises(OutputPathError, match="is a file"):
        next(generate_magnetograms([a_file], model="no-such-model", output_dir=a_file))
    with pytest.raises(OutputPathError, match="cannot write"):
        next(generate_magnetograms([a_file], model="no-such-model", output_dir=a_file / "sub"))


def test_unknown_devices_are_a_clear_error():
    with pytest.raises(DeviceError, match="banana"):
        resolve_device("banana")


def test_real_aia_jp2(tiny_model, real_aia304_map):
    out = generate_magnetogram(real_aia304_map, model=tiny_model, device="cpu")
    assert out.observer_coordinate.separation_3d(real_aia304_map.observer_coordinate).to_value(u.m) < 1
    assert out.date.isot[:19] == real_aia304_map.reference_date.isot[:19]
    assert out.unit == u.G
    assert out.plot_settings["cmap"] == "hmimag"
    assert np.all(np.isfinite(out.data[disk_mask(ModelGrid(128))]))


@pytest.mark.cuda
def test_cuda_matches_cpu(tiny_model):
    euv = make_test_map(256)
    cpu = generate_magnetogram(euv, model=tiny_model, device="cpu")
    gpu = generate_magnetogram(euv, model=tiny_model, device="cuda", precision="fp32")
    disk = np.isfinite(cpu.data)
    err = np.linalg.norm(gpu.data[disk] - cpu.data[disk]) / np.linalg.norm(cpu.data[disk])
    assert err < 1e-2

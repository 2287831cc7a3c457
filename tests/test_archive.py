"""Archive-scale generation on a Dask cluster: outputs, manifest, restarts, a killed worker."""

import functools
import json
import os
import signal
import threading
import time

import numpy as np
import pytest
import sunpy.map

pytest.importorskip("distributed", reason="archive generation needs dask.distributed (the dask extra)")

from distributed import Client, LocalCluster

from sunpy_magnetogan.archive import (
    _DELAY_ENV,
    MANIFEST_NAME,
    _write_fits_atomic,
    collect_inputs,
    generate_archive,
    read_manifest,
    verify_output,
)
from sunpy_magnetogan.cli import main
from sunpy_magnetogan.exceptions import ArchiveError, ModelNotFoundError
from sunpy_magnetogan.generate import generate_magnetogram, load_model
from sunpy_magnetogan.mapsource import MagnetoGANMap

from .helpers_maps import make_test_map
from .helpers_models import save_model


@pytest.fixture(scope="module")
def weights_file(tmp_path_factory):
    """A compact (128 px) pyramid with random weights as a safetensors file + card."""
    import torch

    from sunpy_magnetogan.nn import init_weights
    from sunpy_magnetogan.training import get_preset

    model_config, train_config = get_preset("compact")
    generator, _ = model_config.build()
    init_weights(generator, generator=torch.Generator().manual_seed(0))
    path = tmp_path_factory.mktemp("weights") / "archive-test.safetensors"
    return save_model(
        generator,
        model_config,
        path,
        name="archive-test-model",
        magnetogram_normalization=train_config.normalization,
        grid_size=128,
    )


@pytest.fixture(scope="module")
def input_dir(tmp_path_factory):
    """Six synthetic AIA 304 observations (256 px FITS), six hours apart."""
    import astropy.units as u
    from astropy.time import Time

    from sunpy_magnetogan.synthetic import SyntheticSun, observe_aia

    directory = tmp_path_factory.mktemp("aia")
    sun = SyntheticSun(3)
    for i in range(6):
        smap = observe_aia(sun, Time("2014-02-05T12:00") + i * 6 * u.h, npix=256)
        smap.save(directory / f"aia304_{i}.fits")
    return directory


@pytest.fixture(scope="module")
def cluster():
    """Two single-threaded worker processes, shared by the tests of this module."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0") as local:
        yield local


def _outputs(directory):
    return sorted(p.name for p in directory.glob("*_magnetogram.fits"))


def _parts(directory):
    return sorted(p.name for p in directory.glob(".*.part"))


def test_collect_inputs_expands_directories_once(input_dir, tmp_path):
    (input_dir / "notes.txt").write_text("not an image")
    files = collect_inputs([input_dir, input_dir / "aia304_2.fits"])
    assert [p.name for p in files] == [f"aia304_{i}.fits" for i in range(6)]
    assert all(p.is_absolute() for p in files)
    with pytest.raises(FileNotFoundError, match="missing.fits"):
        collect_inputs([tmp_path / "missing.fits"])


def test_clashing_output_names_and_unknown_models_are_refused_up_front(input_dir, tmp_path, weights_file):
    twin = tmp_path / "other"
    twin.mkdir()
    (twin / "aia304_0.fits").write_bytes((input_dir / "aia304_0.fits").read_bytes())
    with pytest.raises(ArchiveError, match="aia304_0_magnetogram.fits"):
        generate_archive([input_dir, twin], tmp_path / "out", model=weights_file, progress=False)
    with pytest.raises(ModelNotFoundError, match="no-such-model"):
        generate_archive([input_dir], tmp_path / "out", model="no-such-model", progress=False)
    with pytest.raises(FileNotFoundError, match="missing.safetensors"):
        generate_archive(
            [input_dir], tmp_path / "out", model=tmp_path / "missing.safetensors", progress=False
        )
    assert not (tmp_path / "out" / MANIFEST_NAME).exists()


def test_verify_output_catches_truncated_and_altered_files(tmp_path):
    smap = make_test_map(32)
    good = tmp_path / "good_magnetogram.fits"
    _write_fits_atomic(smap, good)
    assert verify_output(good)
    assert not _parts(tmp_path)
    raw = good.read_bytes()
    truncated = tmp_path / "truncated.fits"
    truncated.write_bytes(raw[: len(raw) // 2])
    assert not verify_output(truncated)
    altered = bytearray(raw)
    altered[len(raw) - 2880 + 10] ^= 0xFF  # a byte of the data (the last 2880-byte block)
    (tmp_path / "altered.fits").write_bytes(bytes(altered))
    assert not verify_output(tmp_path / "altered.fits")
    assert not verify_output(tmp_path / "absent.fits")


@pytest.mark.slow
def test_archive_run_writes_maps_and_manifest_and_resumes(cluster, input_dir, weights_file, tmp_path):
    inputs = sorted(input_dir.glob("aia304_*.fits"))[:4]
    broken = tmp_path / "broken.fits"
    broken.write_bytes(b"SIMPLE  = this is not a FITS file")
    out = tmp_path / "out"
    run_archive = functools.partial(
        generate_archive,
        [*inputs, broken],
        out,
        model=weights_file,
        scheduler=cluster.scheduler_address,
        retries=0,
        progress=False,
    )
    records = run_archive()
    assert [r.status for r in records] == ["done"] * 4 + ["failed"]
    assert "CorruptFileError" in records[-1].error
    assert "broken.fits" in records[-1].error
    assert _outputs(out) == [f"aia304_{i}_magnetogram.fits" for i in range(4)]
    assert not _parts(out)
    # The outputs are the maps generate_magnetogram makes in this process, to float32 rounding.
    local = load_model(str(weights_file), device="cpu")
    for path, record in zip(inputs, records, strict=False):
        assert verify_output(record.output)
        written = sunpy.map.Map(record.output)
        assert isinstance(written, MagnetoGANMap)
        assert written.meta["mganmodl"] == "archive-test-model"
        expected = generate_magnetogram(sunpy.map.Map(path), model=local)
        np.testing.assert_allclose(written.data, expected.data, rtol=1e-5, atol=1e-3)
        assert record.duration_s > 0
        assert record.worker.startswith("tcp://")
    lines = [json.loads(line) for line in (out / MANIFEST_NAME).read_text().splitlines()]
    assert [line["status"] for line in lines].count("done") == 4
    # A second run skips the valid outputs, remakes a damaged one and retries the failure.
    damaged = out / "aia304_1_magnetogram.fits"
    damaged.write_bytes(damaged.read_bytes()[:5000])
    again = run_archive()
    assert [r.status for r in again] == ["skipped", "done", "skipped", "skipped", "failed"]
    assert verify_output(damaged)
    assert len(read_manifest(out)) == 10
    # The same through the command line: nothing left to do but the broken file.
    assert main(["archive", *map(str, inputs), str(broken), "-o", str(out), "--model", str(weights_file),
                 "--scheduler", cluster.scheduler_address, "--retries", "0", "--no-progress"]) == 1  # fmt: skip
    assert main(["archive", *map(str, inputs), "-o", str(out), "--model", str(weights_file),
                 "--scheduler", cluster.scheduler_address, "--no-progress"]) == 0  # fmt: skip


@pytest.mark.slow
def test_killed_worker_then_restart_completes_every_file_exactly_once(
    cluster, input_dir, weights_file, tmp_path
):
    out = tmp_path / "out"
    with Client(cluster) as client:
        # Each worker now waits 2 s between writing a file and renaming it into place.
        client.run(lambda: os.environ.update({_DELAY_ENV: "2"}))
        pids = set(client.run(os.getpid).values())
        result = {}

        def first_run():
            result["records"] = generate_archive(
                [input_dir], out, model=weights_file, scheduler=cluster.scheduler_address, progress=False
            )

        runner = threading.Thread(target=first_run)
        runner.start()
        deadline = time.monotonic() + 60
        victim = None
        while victim is None and time.monotonic() < deadline:
            for part in _parts(out) if out.is_dir() else []:
                pid = int(part.split(".")[-3])
                if pid in pids:
                    victim = pid
                    break
            time.sleep(0.05)
        assert victim is not None, "no worker started writing within 60 s"
        os.kill(victim, signal.SIGKILL)  # mid-write: its temporary file is complete, not renamed
        runner.join(timeout=120)
        assert not runner.is_alive()
        client.run(lambda: os.environ.pop(_DELAY_ENV, None))
    first = result["records"]
    assert len(first) == 6
    # The killed worker's file was never renamed into place: a stray temporary file only.
    assert any(f".{victim}." in name for name in _parts(out))
    for record in first:
        assert record.status in ("done", "failed")
        if record.status == "done":
            assert verify_output(record.output)

    second = generate_archive(
        [input_dir], out, model=weights_file, scheduler=cluster.scheduler_address, progress=False
    )
    assert all(r.status in ("done", "skipped") for r in second)
    assert _outputs(out) == [f"aia304_{i}_magnetogram.fits" for i in range(6)]
    assert not _parts(out)
    for record in second:
        assert verify_output(record.output)
        assert isinstance(sunpy.map.Map(record.output), MagnetoGANMap)
    # Over both runs, every input was generated exactly once, and skipped after that.
    manifest = read_manifest(out)
    for i in range(6):
        statuses = [r.status for r in manifest if r.input.endswith(f"aia304_{i}.fits")]
        assert statuses.count("done") == 1, statuses
        assert statuses[-1] in ("done", "skipped")


@pytest.mark.slow
def test_command_line_starts_its_own_local_cluster(input_dir, weights_file, tmp_path, capsys):
    inputs = [str(input_dir / "aia304_0.fits"), str(input_dir / "aia304_5.fits")]
    out = tmp_path / "out"
    args = [
        "archive",
        *inputs,
        "-o",
        str(out),
        "--model",
        str(weights_file),
        "--workers",
        "1",
        "--no-progress",
    ]
    assert main(args) == 0
    assert "2 generated, 0 already done, 0 failed" in capsys.readouterr().out
    assert _outputs(out) == ["aia304_0_magnetogram.fits", "aia304_5_magnetogram.fits"]
    assert all(verify_output(out / name) for name in _outputs(out))


@pytest.mark.slow
def test_archive_reports_hostile_files_and_writes_the_others(cluster, input_dir, weights_file, tmp_path):
    inputs = sorted(input_dir.glob("aia304_*.fits"))[:2]
    good = sunpy.map.Map(inputs[0])
    inside = tmp_path / "inside.fits"  # the observer inside the Sun
    sunpy.map.Map(good.data, {**good.meta, "dsun_obs": good.meta["rsun_ref"] / 2}).save(inside)
    gauss = tmp_path / "gauss.fits"  # a magnetogram unit on an AIA image
    sunpy.map.Map(good.data, {**good.meta, "bunit": "G"}).save(gauss)
    out = tmp_path / "out"
    records = generate_archive(
        [inputs[0], inside, gauss, inputs[1]],
        out,
        model=weights_file,
        scheduler=cluster.scheduler_address,
        retries=0,
        progress=False,
    )
    assert [r.status for r in records] == ["done", "failed", "failed", "done"]
    assert "ImpossibleGeometryError" in records[1].error
    assert "InvalidUnitError" in records[2].error
    assert _outputs(out) == ["aia304_0_magnetogram.fits", "aia304_1_magnetogram.fits"]

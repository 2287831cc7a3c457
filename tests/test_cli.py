"""The sunpy-magnetogan command line: each command's main path and its error path."""

import json
import logging
import os
import subprocess
import sys

import pytest
import sunpy.map
import torch

from sunpy_magnetogan.cli import build_parser, main
from sunpy_magnetogan.mapsource import MagnetoGANMap

from .helpers_maps import make_test_map


def test_every_subcommand_has_help():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"demo", "generate", "info", "evaluate", "train", "models", "synthetic"} <= set(sub.choices)
    for name, sub_parser in sub.choices.items():
        assert sub_parser.format_help(), name


def test_info_prints_versions(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "sunpy-magnetogan" in out
    assert "torch" in out
    assert main(["info", "--devices"]) == 0
    assert "cuda available" in capsys.readouterr().out


def test_generate_writes_fits(tiny_model, tmp_path):
    source = tmp_path / "aia.fits"
    make_test_map(256).save(source)
    assert (
        main(["generate", str(source), "-o", str(tmp_path / "out"), "--model", tiny_model, "--no-progress"])
        == 0
    )
    out = sunpy.map.Map(tmp_path / "out" / "aia_magnetogram.fits")
    assert isinstance(out, MagnetoGANMap)


def test_generate_with_prior_and_confidence(tmp_path):
    # The default model (cycle frame, calibrated) on the packaged sample, with the sample's
    # magnetogram reversed as a prior: each output holds the field and its confidence, and
    # takes the prior's signs.
    import numpy as np

    from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI

    hmi = sunpy.map.Map(SAMPLE_HMI)
    sunpy.map.Map(-hmi.data, hmi.meta).save(tmp_path / "prior.fits")
    args = ["generate", str(SAMPLE_AIA304), "--device", "cpu", "--no-progress", "--confidence"]
    assert main([*args, "-o", str(tmp_path / "plain")]) == 0
    assert main([*args, "-o", str(tmp_path / "prior"), "--prior", str(tmp_path / "prior.fits")]) == 0
    name = "synthetic_aia304_20140205T1200_magnetogram.fits"
    plain, confidence = sunpy.map.Map(tmp_path / "plain" / name)
    with_prior, _ = sunpy.map.Map(tmp_path / "prior" / name)
    assert confidence.meta["content"] == "POLARITY CONFIDENCE"
    assert with_prior.meta["mganprio"] == hmi.reference_date.isot
    assert not np.array_equal(plain.data, with_prior.data, equal_nan=True)
    assert main([*args, "-o", str(tmp_path / "x"), "--prior", str(tmp_path / "missing.fits")]) == 2


def test_demo_writes_fits_png_and_metrics(tiny_model, tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path), "--model", tiny_model]) == 0
    out = capsys.readouterr().out
    # Each metric is named in words, with its unit.
    assert "pixel-to-pixel correlation coefficient" in out
    assert out.count(" Mx\n") == 2
    assert out.rstrip().endswith(" dB")
    assert (tmp_path / "sample_magnetogram.fits").stat().st_size > 0
    png = (tmp_path / "sample_comparison.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_model_is_a_clean_error(tmp_path, capsys):
    source = tmp_path / "aia.fits"
    make_test_map(128).save(source)
    assert main(["generate", str(source), "-o", str(tmp_path), "--model", "no-such-model"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sunpy-magnetogan generate: error: ")
    assert "no-such-model" in err


def _one_line_error(capsys, argv):
    """Run the command line; check it failed with exit code 2 and one line on stderr."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.fixture
def aia_file(tmp_path):
    path = tmp_path / "aia.fits"
    make_test_map(128).save(path)
    return path


def test_user_mistakes_are_one_line_and_exit_code_2(tiny_model, aia_file, tmp_path, capsys):
    generate = ["generate", "--model", tiny_model, "--no-progress"]
    out = str(tmp_path / "out")
    err = _one_line_error(capsys, [*generate, str(tmp_path), "-o", out])
    assert "is a folder, not a file" in err
    err = _one_line_error(capsys, [*generate, str(tmp_path / "missing.fits"), "-o", out])
    assert "missing.fits: no such file" in err
    err = _one_line_error(capsys, [*generate, str(aia_file), "-o", str(aia_file)])
    assert "is a file" in err
    # Not writable (a path under a file; also for root), refused before inference.
    err = _one_line_error(capsys, [*generate, str(aia_file), "-o", str(aia_file / "out")])
    assert "cannot write" in err
    err = _one_line_error(capsys, [*generate, str(aia_file), "-o", out, "--device", "banana"])
    assert "unknown device 'banana'" in err
    if not torch.cuda.is_available():
        err = _one_line_error(capsys, [*generate, str(aia_file), "-o", out, "--device", "cuda"])
        assert "no CUDA GPU" in err
    assert not list((tmp_path / "out").glob("*.fits"))


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError):
        main(["--debug", "generate", str(tmp_path / "missing.fits"), "-o", str(tmp_path)])
    with pytest.raises(FileNotFoundError):  # also after the command
        main(["generate", str(tmp_path / "missing.fits"), "-o", str(tmp_path), "--debug", "-v"])


def test_train_on_a_missing_dataset_leaves_no_run_folder(tmp_path, capsys):
    run_dir = tmp_path / "run"
    err = _one_line_error(
        capsys, ["train", str(tmp_path / "no-dataset"), "--out", str(run_dir), "--steps", "1"]
    )
    assert "no pair store" in err
    assert not run_dir.exists()


def test_generate_collision_is_refused(tiny_model, tmp_path, capsys):
    inputs = [tmp_path / "a" / "x.fits", tmp_path / "b" / "x.jp2"]
    for path in inputs:
        path.parent.mkdir()
        make_test_map(128).save(path, filetype="fits")
    err = _one_line_error(
        capsys, ["generate", *map(str, inputs), "-o", str(tmp_path / "out"), "--model", tiny_model]
    )
    assert "x_magnetogram.fits" in err
    assert list((tmp_path / "out").iterdir()) == []


def test_generate_reports_failures_at_the_end(tiny_model, aia_file, tmp_path, capsys):
    bad = tmp_path / "bad.fits"
    bad.write_bytes(b"not FITS")
    good = tmp_path / "good.fits"
    make_test_map(128).save(good)
    argv = [
        "generate",
        str(aia_file),
        str(bad),
        str(good),
        "-o",
        str(tmp_path / "out"),
        "--model",
        tiny_model,
    ]
    assert main([*argv, "--no-progress"]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"wrote 2 magnetogram(s) to {tmp_path / 'out'}; 1 failed:"
    assert lines[1].startswith(f"  {bad}: ")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "aia_magnetogram.fits",
        "good_magnetogram.fits",
    ]
    # A re-run does only what is missing (the bad file), without a progress bar of the rest.
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out.startswith("wrote 0 magnetogram(s)")
    assert "2 skipped (output exists" in captured.out


def test_every_option_help_states_its_default():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    parsers = dict(sub.choices)
    models = next(a for a in parsers["models"]._actions if a.dest == "models_action")
    parsers.update({f"models {k}": v for k, v in models.choices.items()})
    for name, sub_parser in parsers.items():
        for action in sub_parser._actions:
            flag = action.nargs == 0  # --help, --version, -v, store_true...
            # Options with a value, and numbers whose default comes from elsewhere (--steps).
            has_default = action.default is not None or action.type in (int, float)
            if action.option_strings and not flag and not action.required and has_default:
                option_help = sub_parser._get_formatter()._expand_help(action)
                assert "default" in option_help.lower(), (name, action.option_strings)


def test_parser_constants_match_the_library():
    from sunpy_magnetogan.cli.evaluate import METRIC_DEFAULTS
    from sunpy_magnetogan.cli.synthetic import SPLIT_NAMES
    from sunpy_magnetogan.cli.train import PRESET_NAMES
    from sunpy_magnetogan.metrics import (
        DEFAULT_BIN_SIZE,
        DEFAULT_MU_MIN,
        DEFAULT_SATURATION,
        DEFAULT_THRESHOLD,
    )
    from sunpy_magnetogan.synthetic.dataset import BENCHMARK_SPLIT
    from sunpy_magnetogan.training.presets import PRESETS

    assert METRIC_DEFAULTS == {
        "mu_min": DEFAULT_MU_MIN,
        "threshold": DEFAULT_THRESHOLD.to_value("G"),
        "saturation": DEFAULT_SATURATION,
        "bin_size": DEFAULT_BIN_SIZE,
    }
    assert tuple(PRESET_NAMES) == tuple(sorted(PRESETS))
    assert tuple(SPLIT_NAMES) == tuple(sorted(BENCHMARK_SPLIT))


_IMPORT_COST = """
import sys
from sunpy_magnetogan.cli import build_parser, main
build_parser()
heavy = sorted(m for m in ("torch", "sunpy.map", "astropy.units", "matplotlib", "scipy") if m in sys.modules)
print(",".join(heavy))
"""


def test_cli_parser_imports_nothing_heavy():
    # As sunpy checks what "import sunpy" costs: by what it imports, not by a clock.
    result = subprocess.run([sys.executable, "-c", _IMPORT_COST], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


_LIGHT_COMMANDS = """
import sys
from sunpy_magnetogan.cli import main
for argv in (["info"], ["models", "list"]):
    assert main(argv) == 0
print("heavy:", ",".join(m for m in ("torch", "sunpy.map") if m in sys.modules))
"""


def test_info_and_models_list_do_not_import_torch():
    result = subprocess.run(
        [sys.executable, "-c", _LIGHT_COMMANDS], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[-1].strip() == "heavy:"


_LAZY_MAP_SOURCE = """
import sys
import sunpy_magnetogan
assert "sunpy.map" not in sys.modules
import sunpy.map
print(type(sunpy.map.Map(sys.argv[1])).__name__)
"""


def test_map_source_registered_when_sunpy_map_is_imported_later(tiny_model, aia_file, tmp_path):
    assert main(["generate", str(aia_file), "-o", str(tmp_path / "out"), "--model", tiny_model]) == 0
    path = tmp_path / "out" / "aia_magnetogram.fits"
    result = subprocess.run(
        [sys.executable, "-c", _LAZY_MAP_SOURCE, str(path)], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "MagnetoGANMap"


@pytest.mark.slow
def test_console_script_runs():
    result = subprocess.run(
        [sys.executable, "-m", "sunpy_magnetogan.cli", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0
    assert "sunpy-magnetogan" in result.stdout


def test_a_warning_is_shown_once(tmp_path):
    smap = make_test_map(128)
    data = smap.data.copy()
    data[60:64, 60:64] = float("nan")  # on the disk: a BadPixelWarning
    source = tmp_path / "nan.fits"
    sunpy.map.Map(data, smap.meta).save(source)
    result = subprocess.run(
        [sys.executable, "-m", "sunpy_magnetogan.cli", "generate", str(source), "-o", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert result.stderr.count("BadPixelWarning") == 1, result.stderr
    assert result.stdout == f"wrote 1 magnetogram(s) to {tmp_path / 'out'}\n"


def test_library_notes_are_quiet_without_verbose():
    from sunpy_magnetogan.cli import _QuietLibraries

    def record(name, level):
        return logging.LogRecord(name, level, __file__, 1, "note", None, None)

    quiet, verbose = _QuietLibraries(0), _QuietLibraries(2)
    assert not quiet.filter(record("distributed.scheduler", logging.INFO))  # Dask's dozens of lines
    assert verbose.filter(record("distributed.scheduler", logging.INFO))
    assert quiet.filter(record("distributed.scheduler", logging.WARNING))
    assert quiet.filter(record("sunpy_magnetogan.generate", logging.INFO))  # shown with -v
    assert not quiet.filter(record("sunpy.map", logging.WARNING))  # sunpy prints its own


def test_demo_folder_is_git_ignored():
    from pathlib import Path

    ignored = (Path(__file__).parent.parent / ".gitignore").read_text().splitlines()
    assert "magnetogan-demo/" in ignored


def test_every_command_checks_its_paths_before_any_work(aia_file, tmp_path, capsys):
    a_file = str(aia_file)
    pairs = [tmp_path / "truth", tmp_path / "generated"]
    for folder in pairs:
        folder.mkdir()
        (folder / "x.fits").write_bytes(aia_file.read_bytes())
    cases = [
        (["track", str(tmp_path), "-o", str(tmp_path / "t")], "is a folder, not a file"),
        (["synoptic", a_file, "-o", str(aia_file / "sub" / "s.fits")], "cannot write into the output folder"),
        (["archive", a_file, "-o", a_file], "is a file; give a folder"),
        (["synthetic", a_file, "--max-pairs", "1"], "is a file; give a folder"),
        (["evaluate", *map(str, pairs), "-o", a_file], "is a file; give a folder"),
        (["demo", "-o", a_file], "is a file; give a folder"),
    ]
    for argv, message in cases:
        assert message in _one_line_error(capsys, argv), argv


def test_generate_rerun_skips_finished_inputs_unread(tiny_model, aia_file, tmp_path, capsys):
    argv = ["generate", str(aia_file), "-o", str(tmp_path / "out"), "--model", tiny_model]
    assert main(argv) == 0
    aia_file.write_bytes(b"corrupted since")  # would fail if it were read again
    assert main(argv) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"wrote 0 magnetogram(s) to {tmp_path / 'out'}; 1 skipped (output exists; --overwrite replaces)"
    )


def test_synthetic_writes_inclined_fields_on_request(tmp_path, capsys):
    argv = ["synthetic", str(tmp_path / "pairs"), "--split", "train", "--max-pairs", "2", "--npix", "128"]
    argv += ["--workers", "2"]
    argv += ["--grid-size", "64", "--no-progress", "--spot-inclination", "1.0", "--plage-inclination", "0.2"]
    assert main(argv) == 0
    attrs = json.loads((tmp_path / "pairs" / "dataset.json").read_text())["attrs"]
    assert attrs["flux_model"]["spot_inclination"] == 1.0
    assert attrs["flux_model"]["plage_inclination"] == 0.2
    # Resuming with radial fields would mix two kinds of pairs: a one-line error.
    assert main(argv[:-4]) == 2
    assert "another flux model" in capsys.readouterr().err


@pytest.mark.parametrize("value", ["0", "-2", "two"])
def test_worker_counts_must_be_positive(value, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["synthetic", str(tmp_path / "pairs"), "--workers", value])
    assert exit_info.value.code == 2
    assert "must be a positive integer" in capsys.readouterr().err
    assert not (tmp_path / "pairs").exists()

"""The sunpy-magnetogan command line: each command's main path and its error path."""

import subprocess
import sys

import pytest
import sunpy.map

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


def test_generate_writes_fits(tiny_model, tmp_path):
    source = tmp_path / "aia.fits"
    make_test_map(256).save(source)
    assert (
        main(["generate", str(source), "-o", str(tmp_path / "out"), "--model", tiny_model, "--no-progress"])
        == 0
    )
    out = sunpy.map.Map(tmp_path / "out" / "aia_magnetogram.fits")
    assert isinstance(out, MagnetoGANMap)


def test_demo_writes_fits_png_and_metrics(tiny_model, tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path), "--model", tiny_model]) == 0
    out = capsys.readouterr().out
    assert "Pixel" in out or "cc" in out
    assert (tmp_path / "sample_magnetogram.fits").stat().st_size > 0
    png = (tmp_path / "sample_comparison.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_unknown_model_is_a_clean_error(tmp_path, caplog):
    source = tmp_path / "aia.fits"
    make_test_map(128).save(source)
    assert main(["generate", str(source), "-o", str(tmp_path), "--model", "no-such-model"]) == 2
    assert "no-such-model" in caplog.text


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

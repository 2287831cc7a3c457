"""
Small models for tests and benchmarks, and a batch run that is expected to fail.

A test helper (importable by any test module, and by the benchmarks as ``tests.helpers_models``):

- `save_model`: a generator's weights as a ``.safetensors`` file with the model card that
  `sunpy_magnetogan.generate.load_model` needs (architecture, normalisations, model grid);
- `generate_batch_until_error`: `~sunpy_magnetogan.generate.generate_magnetograms` over
  files on the CPU, expected to raise, with what it yielded and wrote before.
"""

import pytest

from sunpy_magnetogan.generate import generate_magnetograms
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.normalization import EUVNormalization
from sunpy_magnetogan.weights import save_weights

__all__ = ["generate_batch_until_error", "save_model"]


def save_model(generator, model_config, path, *, name, magnetogram_normalization, grid_size=None, **card):
    """
    Save a generator's weights with a model card that makes the file loadable by name or path.

    Parameters
    ----------
    generator : torch.nn.Module
        The generator (its ``state_dict`` is saved).
    model_config : `~sunpy_magnetogan.architecture.ModelConfig`
        The architecture it was built from.
    path : pathlib.Path
        The ``.safetensors`` file to write (the card goes next to it).
    name : str
        The card's model name.
    magnetogram_normalization : `~sunpy_magnetogan.normalization.MagnetogramNormalization`
        The magnetogram normalisation recorded in the card.
    grid_size : int, optional
        Pixels of the model grid; ``model_config.image_size`` by default.
    **card
        Further card fields (e.g. ``calibration``).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    card = {
        "name": name,
        "architecture": model_config.to_dict(),
        "normalization": {
            "magnetogram": magnetogram_normalization.to_dict(),
            "euv": EUVNormalization().to_dict(),
            "grid": ModelGrid(grid_size or model_config.image_size).to_dict(),
        },
        **card,
    }
    save_weights(generator.state_dict(), path, card=card)
    return path


def generate_batch_until_error(inputs, model, out_dir, error, *, match=None, **options):
    """
    Generate magnetograms of files into ``out_dir`` (CPU, no progress bar), expecting ``error``.

    Parameters
    ----------
    inputs : list of pathlib.Path
        The input files.
    model : str
        A registered model name.
    out_dir : pathlib.Path
        The output directory.
    error : type
        The exception the run must raise.
    match : str, optional
        A regular expression its message must match.
    **options
        More arguments of `~sunpy_magnetogan.generate.generate_magnetograms` (``on_error``,
        ``batch_size``).

    Returns
    -------
    exception : Exception
        What was raised.
    results : list
        What the run yielded before the error.
    written : list of str
        The names of the files in ``out_dir`` afterwards, sorted.
    """
    results = []
    with pytest.raises(error, match=match) as info:
        results.extend(
            generate_magnetograms(
                inputs, model=model, device="cpu", output_dir=out_dir, progress=False, **options
            )
        )
    return info.value, results, sorted(p.name for p in out_dir.iterdir())

"""
From a training run to a shippable model: generator weights + model card.

Only the generator is exported (the discriminators are not needed to generate), as
safetensors, with a card that makes the file self-describing: the architecture, the
normalisations, the input preparation and the model grid the model was trained with, the
training data, and the evaluation figures. The card's ``sha256`` is computed from the bytes written.
"""

import logging

from sunpy_magnetogan.data.inputs import SYNTHETIC_PREPARATION, InputPreparation
from sunpy_magnetogan.exceptions import TrainingConfigError
from sunpy_magnetogan.normalization import euv_normalization_from_dict
from sunpy_magnetogan.training.checkpoint import generator_from_checkpoint, load_checkpoint
from sunpy_magnetogan.weights import save_weights

__all__ = ["export_model"]

log = logging.getLogger(__name__)


def export_model(
    run,
    path,
    *,
    name,
    grid,
    euv_normalization=None,
    preparation=None,
    description="",
    training_data="",
    metrics=None,
    version="",
    license="BSD-2-Clause",
):
    """
    Export the generator of a training checkpoint as weights + model card.

    Parameters
    ----------
    run : str or os.PathLike
        A run directory, its ``checkpoints`` directory or one checkpoint (the newest valid
        checkpoint is used).
    path : str or os.PathLike
        The ``.safetensors`` file to write; the card goes to ``<path>.json``.
    name : str
        Registry name of the model.
    grid : `~sunpy_magnetogan.grid.ModelGrid`
        The model grid of the training data (its size and disk radius).
    euv_normalization : `~sunpy_magnetogan.normalization.EUVNormalization` or `~sunpy_magnetogan.normalization.QuietSunNormalization`, optional
        The EUV normalisation of the training data. By default the one recorded in the
        checkpoint (from the pair store's attributes); an error if there is none.
    preparation : `~sunpy_magnetogan.data.inputs.InputPreparation`, optional
        The input preparation of the training pairs. By default the one recorded in the
        checkpoint; for checkpoints of stores that predate the record, the synthetic data
        sets' (`~sunpy_magnetogan.data.inputs.SYNTHETIC_PREPARATION`), with a warning.
    description, training_data, version, license : str, optional
        Card fields.
    metrics : dict, optional
        Evaluation figures to record in the card.

    Returns
    -------
    `~sunpy_magnetogan.weights.ModelCard`
        The card as written.
    """
    checkpoint = load_checkpoint(run)
    generator, model_config = generator_from_checkpoint(checkpoint)
    meta = checkpoint["meta"]
    if euv_normalization is None:
        if not meta.get("euv_normalization"):
            raise TrainingConfigError(
                f"the checkpoint of {run} does not record its EUV normalisation (its pair store predates "
                "them): pass euv_normalization"
            )
        euv_normalization = euv_normalization_from_dict(meta["euv_normalization"])
    if preparation is None:
        if meta.get("input_preparation"):
            preparation = InputPreparation.from_dict(meta["input_preparation"])
        else:
            log.warning(
                "the checkpoint of %s does not record its input preparation (its pair store predates it); "
                "the card records that of the synthetic data sets",
                run,
            )
            preparation = SYNTHETIC_PREPARATION
    card = {
        "name": name,
        "description": description,
        "architecture": model_config.to_dict(),
        "normalization": {
            "magnetogram": meta["normalization"],
            "euv": euv_normalization.to_dict(),
            "grid": grid.to_dict(),
        },
        "preparation": preparation.to_dict(),
        "training_data": training_data,
        "metrics": dict(metrics or {}),
        "version": version,
        "license": license,
    }
    state = {k: v.detach().clone() for k, v in generator.state_dict().items()}
    written = save_weights(state, path, card=card)
    log.info("exported %s (%d tensors) to %s", name, len(state), path)
    return written

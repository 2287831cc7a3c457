"""
Training of the pyramid GAN: configurations, presets, data, checkpoints and the trainer.

>>> from sunpy_magnetogan.training import PRESETS, get_preset
>>> {"paper", "pix2pix-patch64", "compact", "default"} <= set(PRESETS)
True

See `Trainer` for a complete training script, and ``sunpy-magnetogan train --help`` for
the command line.
"""

from sunpy_magnetogan.training.checkpoint import (
    find_checkpoint,
    generator_from_checkpoint,
    load_checkpoint,
    load_generator,
    save_checkpoint,
)
from sunpy_magnetogan.training.config import ModelConfig, TrainConfig, merge_config
from sunpy_magnetogan.training.config_files import load_config, save_config
from sunpy_magnetogan.training.dataset import PairDataset, StepBatchSampler
from sunpy_magnetogan.training.distributed import DistributedContext, init_distributed
from sunpy_magnetogan.training.presets import PRESETS, get_preset
from sunpy_magnetogan.training.runtime import select_device
from sunpy_magnetogan.training.trainer import Trainer

__all__ = [
    "PRESETS",
    "DistributedContext",
    "ModelConfig",
    "PairDataset",
    "StepBatchSampler",
    "TrainConfig",
    "Trainer",
    "find_checkpoint",
    "generator_from_checkpoint",
    "get_preset",
    "init_distributed",
    "load_checkpoint",
    "load_config",
    "load_generator",
    "merge_config",
    "save_checkpoint",
    "save_config",
    "select_device",
]

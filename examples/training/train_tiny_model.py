"""
===========================================
Train a tiny pyramid GAN on synthetic pairs
===========================================

The whole training cycle in miniature: write a few synthetic AIA 304 Å / HMI pairs to a
pair store, train a three-level pyramid GAN on them for a few dozen steps, look at the
losses and at what each pyramid level predicts, then export the generator with a model
card, register it, and use it on a map with `~sunpy_magnetogan.generate.generate_magnetogram`.

Everything is shrunk so that it runs in seconds on a CPU: 64 px images, narrow networks,
40 steps. Such a model learns little beyond the disk and the brightest regions; the
shipped ``"default"`` model is the ``default`` preset trained for thousands of steps on the
synthetic benchmark (:ref:`method`), and :ref:`train_real_data` trains on SDO
data. The command line does the same as this script:
``sunpy-magnetogan train PAIRS --preset compact --out RUN``.
"""

import tempfile
from pathlib import Path

import astropy.units as u
import matplotlib.pyplot as plt
import numpy as np
import torch
from astropy.table import Table

from sunpy_magnetogan.generate import generate_magnetogram
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.normalization import EUVNormalization
from sunpy_magnetogan.synthetic import SplitSpec, SyntheticSun, observe_aia, write_synthetic_dataset
from sunpy_magnetogan.training import Trainer, get_preset
from sunpy_magnetogan.training.export import export_model
from sunpy_magnetogan.weights import register_model, unregister_model

workdir = Path(tempfile.mkdtemp(prefix="magnetogan-tiny-"))

###############################################################################
# Training data
# -------------
# A pair store (`~sunpy_magnetogan.pairs.PairStore`) holds pairs on the model grid:
# the EUV image normalised to [-1, 1], the magnetogram in Gauss and the disk mask.
# Real observations are prepared into the same layout (:ref:`train_real_data`);
# here `~sunpy_magnetogan.synthetic.write_synthetic_dataset` observes synthetic Suns:
# two dates of each of three Suns for training, one held-out Sun for the test split.

splits = {
    "train": SplitSpec(seeds=(0, 1, 2), start="2012-01-01", end="2013-12-31", dates_per_seed=2),
    "test": SplitSpec(seeds=(1000,), start="2014-03-01", end="2014-06-30", dates_per_seed=1),
}
store = write_synthetic_dataset(workdir / "pairs", split=splits, npix=128, grid_size=64)
print(f"{len(store)} pairs: {len(store.ids('train'))} train, {len(store.ids('test'))} test")

pair = store.load(store.ids("train")[0])
fig, axes = plt.subplots(1, 3, figsize=(10, 3.4))
for ax, key, title, kwargs in zip(
    axes,
    ("euv", "mag", "disk"),
    ("EUV, normalised", "B$_{LOS}$ (G)", "disk mask"),
    ({"cmap": "sdoaia304"}, {"cmap": "gray", "vmin": -500, "vmax": 500}, {"cmap": "gray"}),
    strict=True,
):
    image = ax.imshow(pair[key], origin="lower", **kwargs)
    ax.set_title(title)
    ax.set_axis_off()
    fig.colorbar(image, ax=ax, shrink=0.8)
plt.show()

###############################################################################
# Configuration
# -------------
# A model is a frozen `~sunpy_magnetogan.training.ModelConfig` and a run a
# `~sunpy_magnetogan.training.TrainConfig`; presets give both. Start from ``compact``
# (three levels, U-Net generators, PatchGAN discriminators whose patch shrinks towards
# the finer levels) and shrink it: 64 px at the finest level, so the levels are 16, 32
# and 64 px.

model_config, train_config = get_preset("compact")
model_config = model_config.replace(
    image_size=64,
    generator_kwargs={"base_channels": 8, "depth": 3, "max_channels": 32},
    patch_sizes=(8, 8, 8),
    discriminator_kwargs={"base_channels": 8, "max_channels": 32},
)
train_config = train_config.replace(steps=40, batch_size=2, eval_every=20, checkpoint_every=40, log_every=5)
print("levels:", model_config.level_sizes, "px; PatchGAN patches:", model_config.patch_sizes, "px")
print("steps:", train_config.steps, " batch:", train_config.batch_size, " lambda_l2:", train_config.lambda_l2)

###############################################################################
# Training
# --------
# The trainer owns the networks, optimisers, data order, logs and checkpoints. Each
# step updates every discriminator on real and generated pairs, then every generator
# on its adversarial loss plus ``lambda_l2`` times the L2 loss of its level. A run is
# resumable (``Trainer(..., resume=True)``) and reproducible (``train_config.seed``).

torch.manual_seed(0)
trainer = Trainer(model_config, train_config, store, workdir / "run", device="cpu", progress=False)
summary = trainer.train()
print(f"{summary['step']} steps in {summary['elapsed_s']:.1f} s; last evaluation:")
print({key: round(value, 4) for key, value in summary["eval"].items()})
print(sorted(p.name for p in (workdir / "run").iterdir()))

###############################################################################
# The losses logged every five steps: the discriminators' and the generators' total,
# and the L2 term of each level (in the normalised [-1, 1] units the network sees).

log = Table.read(workdir / "run" / "train_log.csv", format="ascii.csv")
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
ax1.plot(log["step"], log["loss_d"], label="discriminators")
ax1.plot(log["step"], log["gan_g"], label="generators (adversarial)")
ax1.set_xlabel("step")
ax1.set_ylabel("loss")
ax1.legend()
for m in range(model_config.n_levels):
    ax2.semilogy(log["step"], log[f"l2_level{m}"], label=f"level {m} ({model_config.level_sizes[m]} px)")
ax2.set_xlabel("step")
ax2.set_ylabel("L2 loss")
ax2.legend()
plt.show()

###############################################################################
# What each level predicts
# ------------------------
# The generator returns one output per level, coarsest first; each level refines the
# upsampled output of the one below. Shown for the held-out test pair, in Gauss.

test = store.load(store.ids("test")[0])
generator = trainer.generator.eval()
with torch.inference_mode():
    levels = generator(torch.from_numpy(test["euv"])[None, None])
fields = [train_config.normalization.inverse(level[0, 0]).numpy() for level in levels]

fig, axes = plt.subplots(1, len(fields) + 1, figsize=(13, 3.4), layout="constrained")
for ax, field, title in zip(
    axes,
    [*fields, test["mag"]],
    [f"level {m}: {f.shape[0]} px" for m, f in enumerate(fields)] + ["truth, 64 px"],
    strict=True,
):
    image = ax.imshow(field, origin="lower", cmap="gray", vmin=-300, vmax=300)
    ax.set_title(title)
    ax.set_axis_off()
fig.colorbar(image, ax=axes, label="B$_{LOS}$ (G)", shrink=0.8)
plt.show()

###############################################################################
# Export, register, generate
# --------------------------
# `~sunpy_magnetogan.training.export.export_model` writes the generator as safetensors
# with a model card (architecture, normalisations, grid, hash). Registered under a
# name, the model is used like the shipped one, on any map: here an AIA 304 Å image of
# the test Sun at 256 px, which `generate_magnetogram` puts on this model's 64 px grid.

card = export_model(
    workdir / "run",
    workdir / "tiny.safetensors",
    name="tiny-example",
    grid=ModelGrid(64),
    euv_normalization=EUVNormalization(),
    description="40-step example model (sunpy-magnetogan gallery)",
    training_data="6 synthetic pairs",
)
print(card.name, card.sha256[:16], card.architecture["image_size"], "px")
register_model(workdir / "tiny.safetensors", name="tiny-example", overwrite=True)

aia = observe_aia(SyntheticSun(1000), "2014-05-01T12:00", npix=256)
magnetogram = generate_magnetogram(aia, model="tiny-example", device="cpu")
print(magnetogram.nickname, magnetogram.dimensions, magnetogram.meta["mgansha"][:16])
flux = np.nansum(np.abs(magnetogram.data)) * u.G
print(f"sum of |B| over the disk: {flux:.3g} (the untrained shape of a 40-step model)")

unregister_model("tiny-example")

# sphinx_gallery_thumbnail_number = 2

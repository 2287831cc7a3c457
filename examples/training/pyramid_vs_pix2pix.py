"""
=================================================
The pyramid GAN and single-scale pix2pix compared
=================================================

The method's claim (the paper's Table 1 and Figure 5) is that a pyramid of generators
judged by PatchGANs whose patch shrinks from level to level recovers both the large-scale
polarity pattern and the small flux elements better than a single pix2pix generator with
one discriminator. This example shows what differs between the two architectures, on the
same input, and then runs the controlled experiment in miniature: both trained on the
same pairs, with the same budget and seed, and evaluated with the same metrics.

What the miniature can and cannot show: a few dozen steps on six 64 px pairs show *how*
such a comparison is set up, not which architecture wins; at that budget the difference
between the two is noise. The comparison at full budget trains the presets ``default``,
``pix2pix-compact`` and ``pix2pix-compact-imagegan`` (same generator, data, steps and seed)
and evaluates them on the held-out ``test`` split: ``benchmarks/bench_table1.py``, which
takes hours on a CPU and prints the Table 1 rows side by side.
"""

import tempfile
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import sunpy.map
import torch
from matplotlib.patches import Rectangle

from sunpy_magnetogan.evaluation import evaluate_pairs
from sunpy_magnetogan.nn import receptive_field
from sunpy_magnetogan.preprocess import prepare_euv_map
from sunpy_magnetogan.sample import SAMPLE_AIA304
from sunpy_magnetogan.synthetic import SplitSpec, write_synthetic_dataset
from sunpy_magnetogan.training import Trainer, get_preset

###############################################################################
# Two presets, one generator
# --------------------------
# ``default`` (the shipped model) is the paper's pyramid: three levels at 128, 256 and
# 512 px, a U-Net generator at each, and PatchGAN discriminators of 64, 32 and 16 px.
# ``pix2pix-compact`` is its single-scale baseline: the same U-Net at 512 px and one
# 64 px PatchGAN. Build both (random weights) and count their parameters.

presets = {name: get_preset(name) for name in ("default", "pix2pix-compact")}
configs = {name: model for name, (model, _) in presets.items()}
networks = {name: model.build(train.normalization) for name, (model, train) in presets.items()}
for name, config in configs.items():
    generator, discriminator = networks[name]
    n_g = sum(p.numel() for p in generator.parameters())
    n_d = sum(p.numel() for p in discriminator.parameters())
    print(
        f"{name:16} levels {config.level_sizes} px, patches {config.patch_sizes} px, "
        f"generator {n_g / 1e6:.2f} M, discriminators {n_d / 1e6:.2f} M parameters"
    )

###############################################################################
# Each PatchGAN output pixel judges one patch of its level's image; its receptive field
# is exactly the patch size, which `~sunpy_magnetogan.nn.receptive_field` measures by
# back-propagation. In pixels of the 512 px model grid, the pyramid's coarsest
# discriminator judges patches of 64 x 4 = 256 px (half the image, whole active-region
# complexes and their polarity arrangement) and its finest 16 px patches (a single
# network cell); pix2pix judges 64 px patches at one scale.

for name, config in configs.items():
    _, discriminator = networks[name]
    for m, (size, d_m) in enumerate(zip(config.level_sizes, discriminator.levels, strict=True)):
        rf = receptive_field(d_m, input_size=min(size, 160))
        scale = config.image_size // size
        print(
            f"{name:16} D{m}: receptive field {rf[0]} px on {size} px = {rf[0] * scale} px on the 512 px grid"
        )

###############################################################################
# The same on the packaged AIA 304 Å sample, put on the model grid: one patch of each
# discriminator drawn around the disk centre, at the scale of the finest grid.

prepared = prepare_euv_map(sunpy.map.Map(SAMPLE_AIA304))
fig, axes = plt.subplots(1, 2, figsize=(10, 5), layout="constrained")
for ax, (name, config) in zip(axes, configs.items(), strict=True):
    ax.imshow(prepared.data, origin="lower", cmap="sdoaia304")
    for m, (size, patch) in enumerate(zip(config.level_sizes, config.patch_sizes, strict=True)):
        side = patch * config.image_size // size
        corner = 255.5 - side / 2
        ax.add_patch(
            Rectangle((corner, corner), side, side, fill=False, lw=2, color=f"C{m}", label=f"D{m}: {side} px")
        )
    ax.set_title(f"{name}: what one discriminator output judges")
    ax.legend(loc="lower left")
    ax.set_axis_off()
plt.show()

###############################################################################
# A controlled experiment in miniature
# ------------------------------------
# Six synthetic training pairs and one held-out pair at 64 px, and both architectures
# shrunk the same way: the pyramid (16, 32, 64 px levels) and a single level at 64 px,
# the same generator width, the same steps, batch and seed.

workdir = Path(tempfile.mkdtemp(prefix="magnetogan-compare-"))
splits = {
    "train": SplitSpec(seeds=(0, 1, 2), start="2012-01-01", end="2013-12-31", dates_per_seed=2),
    "test": SplitSpec(seeds=(1000,), start="2014-03-01", end="2014-06-30", dates_per_seed=1),
}
store = write_synthetic_dataset(workdir / "pairs", split=splits, npix=128, grid_size=64)

model_small, train_small = get_preset("compact")
generator_kwargs = {"base_channels": 8, "depth": 3, "max_channels": 32}
discriminator_kwargs = {"base_channels": 8, "max_channels": 32}
miniature = {
    "pyramid": model_small.replace(
        image_size=64,
        generator_kwargs=generator_kwargs,
        patch_sizes=(8, 8, 4),
        discriminator_kwargs=discriminator_kwargs,
    ),
    "pix2pix": model_small.replace(
        image_size=64,
        n_levels=1,
        generator_kwargs=generator_kwargs,
        patch_sizes=(8,),
        discriminator_kwargs=discriminator_kwargs,
    ),
}
train_small = train_small.replace(
    steps=40, batch_size=2, eval_every=0, checkpoint_every=40, log_every=10, seed=0
)

generators = {}
for name, config in miniature.items():
    trainer = Trainer(config, train_small, store, workdir / name, device="cpu", progress=False)
    summary = trainer.train()
    generators[name] = trainer.generator.eval()
    print(f"{name:8} {config.level_sizes} px levels: {summary['step']} steps in {summary['elapsed_s']:.1f} s")

###############################################################################
# Both on the held-out pair: the final output of each, in Gauss, and the metrics of
# :ref:`metrics` on the 64 px grid. A 40-step model has learnt little more than where
# the disk and the brightest regions are; expect both to be far from the truth and
# from each other only by chance.

test = store.load(store.ids("test")[0])
x = torch.from_numpy(test["euv"])[None, None]
fields = {}
with torch.inference_mode():
    for name, generator in generators.items():
        fields[name] = train_small.normalization.inverse(generator(x)[-1][0, 0]).numpy()

table = evaluate_pairs(
    [(test["mag"], field, None, name, test["disk"]) for name, field in fields.items()], nan_policy="omit"
)
for name in ("cc", "r2", "rmse_ssim", "psnr"):
    table[name].info.format = ".3f"
table["pair_id", "cc", "r2", "rmse_ssim", "psnr", "n_pixels"].pprint(max_width=-1)

fig, axes = plt.subplots(1, 4, figsize=(13, 3.4), layout="constrained")
panels = [("EUV input", test["euv"], "sdoaia304", None)]
panels += [(f"{name} (40 steps)", field, "gray", 300) for name, field in fields.items()]
panels += [("truth", test["mag"], "gray", 300)]
for ax, (title, image, cmap, limit) in zip(axes, panels, strict=True):
    kwargs = {} if limit is None else {"vmin": -limit, "vmax": limit}
    ax.imshow(np.where(test["disk"], image, np.nan), origin="lower", cmap=cmap, **kwargs)
    ax.set_title(title)
    ax.set_axis_off()
plt.show()

# sphinx_gallery_thumbnail_number = 1

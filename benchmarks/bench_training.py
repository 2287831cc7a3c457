"""
Training speed of the presets: steps per second on the CPU (and on a GPU when there is
one, with bf16 autocast and channels_last).

Each run trains a preset on a temporary pair store of analytic full-disk pairs (512 px,
block-averaged by the dataset to the preset's size) and reports the median speed over
timed windows of steps, after one warm-up window. A step updates every discriminator
and every generator of the pyramid once, on one batch of the preset's size per process.

Usage::

    python benchmarks/bench_training.py                        # compact and paper, CPU (+ GPU)
    python benchmarks/bench_training.py --presets compact --windows 5 --window-steps 20 --threads 1

On a machine whose cores are busy with other work, one thread is often much faster than
several (OpenMP threads wait for each other); the header line says how many were used.
"""

import argparse
import csv
import logging
import platform
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.training import Trainer, get_preset


def make_pairs(path, *, grid_size=512, n_pairs=4, seed=0):
    """Analytic full-disk pairs: Gaussian spots of both polarities and a signed EUV proxy."""
    rng = np.random.default_rng(seed)
    store = PairStore.create(path, grid_size=grid_size, attrs={"source": "benchmark"})
    yy, xx = np.mgrid[:grid_size, :grid_size]
    centre, radius = (grid_size - 1) / 2, 0.4 * grid_size
    disk = (xx - centre) ** 2 + (yy - centre) ** 2 < radius**2
    for i in range(n_pairs):
        mag = np.zeros((grid_size, grid_size))
        for _ in range(12):
            cx, cy = rng.uniform(centre - 0.7 * radius, centre + 0.7 * radius, 2)
            width = rng.uniform(0.005, 0.02) * grid_size
            mag += rng.uniform(-2500, 2500) * np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * width**2))
        mag = mag * disk
        euv = np.where(disk, 0.8 * np.tanh(np.abs(mag) / 300.0) - 0.5, -1.0)
        store.add(
            f"bench{i}", euv=euv, mag=mag, disk=disk, split="train", meta={"date": "2014-06-01T00:00:00"}
        )
    return store


def bench(preset, store, device, *, windows, window_steps, workdir):
    model, train = get_preset(preset)
    cuda = torch.device(device).type == "cuda"
    train = train.replace(
        steps=(windows + 1) * window_steps,
        log_every=window_steps,
        eval_every=0,
        checkpoint_every=10**9,  # only the final checkpoint, after the timed windows
        amp_dtype="bfloat16" if cuda else "none",
        channels_last=cuda,
    )
    run = Path(workdir) / f"{preset}-{device.replace(':', '')}"
    trainer = Trainer(model, train, store, run, device=device, progress=False)
    n_params = sum(p.numel() for p in trainer.generator.parameters())
    start = time.perf_counter()
    trainer.train()
    wall = time.perf_counter() - start
    with open(run / "train_log.csv", newline="") as f:
        speeds = [float(row["steps_per_s"]) for row in csv.DictReader(f)][1:]  # drop the warm-up window
    return {
        "preset": preset,
        "device": device,
        "batch": train.batch_size,
        "levels": "/".join(str(s) for s in model.level_sizes),
        "G params (M)": n_params / 1e6,
        "steps/s": statistics.median(speeds),
        "pairs/s": statistics.median(speeds) * train.batch_size,
        "wall (s)": wall,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--presets", nargs="+", default=["compact", "paper"])
    parser.add_argument("--devices", nargs="+", default=None, help="default: cpu, plus cuda when available")
    parser.add_argument("--windows", type=int, default=3, help="timed windows (after one warm-up window)")
    parser.add_argument(
        "--window-steps", type=int, default=None, help="steps per window (default per preset)"
    )
    parser.add_argument(
        "--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)"
    )
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    devices = args.devices or (["cpu", "cuda"] if torch.cuda.is_available() else ["cpu"])

    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} CPU threads, {platform.processor() or platform.machine()}"
    )
    if torch.cuda.is_available():
        print(f"GPU: {torch.cuda.get_device_name(0)} (bf16 autocast, channels_last)")
    else:
        print("GPU: none (CPU only, float32)")
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        store = make_pairs(Path(workdir) / "pairs")
        for device in devices:
            for preset in args.presets:
                default_steps = {"compact": 20, "paper": 2}.get(preset, 2) if device == "cpu" else 20
                rows.append(
                    bench(
                        preset,
                        store,
                        device,
                        windows=args.windows,
                        window_steps=args.window_steps or default_steps,
                        workdir=workdir,
                    )
                )
                row = rows[-1]
                print(
                    f"{row['preset']:>10} on {row['device']:<5} batch {row['batch']:>2}  levels {row['levels']:<12} "
                    f"G {row['G params (M)']:6.2f} M params  {row['steps/s']:8.3f} steps/s  "
                    f"({row['pairs/s']:.2f} pairs/s, wall {row['wall (s)']:.0f} s)",
                    flush=True,
                )


if __name__ == "__main__":
    main()

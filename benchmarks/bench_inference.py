"""
Network speed of every preset: generation latency, achieved FLOP rate against the
machine's matrix-product rate, peak memory, training steps per second, and (on a GPU)
bf16 batch throughput.

Each preset runs in a fresh process (so that its peak memory is its own) with random
weights and non-trivial batch-norm statistics (speed does not depend on the values):

* generation: `LoadedModel.predict` on one 512 x 512 map (every preset's generator is
  fully convolutional; the ``native`` column gives the size a preset is trained at), for
  the plain network (``load_model(optimize=False)``: eval mode, ``inference_mode``) and
  the optimised one (batch norms folded, channels-last, matrix-product transposed
  convolutions; the default of `load_model`), median, interquartile range and extremes
  over ``--repeat`` rounds in which the two are timed in alternation with a 2048 x 2048
  float32 matrix product (so that all three see the same load of the machine);
* FLOPs: `torch.utils.flop_counter.FlopCounterMode` on the forward pass; the FLOP floor
  is FLOPs / matrix-product rate; ``floor x`` is the median over rounds of the time over
  that round's floor, ``best floor x`` the best time over the best rate's floor;
* peak memory: the resident set (CPU) or CUDA allocations during one generation, in a
  process that holds only that network;
* training: `Trainer` steps (discriminators + generators, one batch of the preset's size,
  data loading excluded) on a small temporary pair store;
* on CUDA: maps/s of the optimised network in bf16 autocast at several batch sizes, the
  fraction of the measured bf16 matrix-product rate, and the relative L2 difference of
  the bf16 GPU result from the fp32 CPU result.

Usage::

    python benchmarks/bench_inference.py                         # every preset, CPU (+ CUDA)
    python benchmarks/bench_inference.py --presets default paper --threads 1 --no-training

The last lines print the two figures of issue 10: the speed-up of the ``default`` preset
over the 0.37 s of a public pix2pix (54 M parameters) per 512 px generation on the same
kind of 2-core machine (target >= 5), and the ``paper`` preset's time over its FLOP floor
(target <= 1.5).
"""

import argparse
import json
import logging
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import describe_machine, print_table

from tests.helpers_models import save_model

#: Seconds per 512 px generation of a public single-scale pix2pix on a 2-core CPU (issue 10).
PIX2PIX_REFERENCE_S = 0.37
ALL_PRESETS = (
    "compact",
    "default",
    "pix2pix-compact",
    "paper",
    "multilayer-patch64",
    "pix2pix-patch64",
    "pix2pix-imagegan",
)


def _stats(times):
    times = sorted(times)
    q1, _, q3 = statistics.quantiles(times, n=4) if len(times) > 1 else (times[0],) * 3
    return {
        "median_s": statistics.median(times),
        "min_s": times[0],
        "max_s": times[-1],
        "iqr_s": q3 - q1,
    }


def _timed(func, *, repeat, warmup=1, sync=None):
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        if sync:
            sync()
        start = time.perf_counter()
        func()
        if sync:
            sync()
        times.append(time.perf_counter() - start)
    return _stats(times)


def matmul_rate(device, *, dtype=torch.float32, size=2048, repeat=7):
    """Median and best FLOP/s of a square matrix product on ``device``."""
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    sync = torch.cuda.synchronize if torch.device(device).type == "cuda" else None
    stats = _timed(lambda: a @ b, repeat=repeat, warmup=2, sync=sync)
    flops = 2 * size**3
    return {"median": flops / stats["median_s"], "best": flops / stats["min_s"]}


def _register_random_model(preset, directory):
    """Save and register (this process only) a random-weights model of a preset."""
    from sunpy_magnetogan.nn import init_weights
    from sunpy_magnetogan.training import get_preset
    from sunpy_magnetogan.weights import register_model

    model_config, train_config = get_preset(preset)
    generator, _ = model_config.build(train_config.normalization)
    gen = torch.Generator().manual_seed(0)
    init_weights(generator, generator=gen)
    for layer in generator.modules():
        if isinstance(layer, torch.nn.BatchNorm2d):
            layer.running_mean.uniform_(-0.1, 0.1, generator=gen)
            layer.running_var.uniform_(0.5, 2.0, generator=gen)
    name = f"bench-{preset}"
    path = Path(directory) / f"{name}.safetensors"
    save_model(generator, model_config, path, name=name, magnetogram_normalization=train_config.normalization)
    register_model(path, name=name, overwrite=True)
    return name, model_config


def reset_peak_memory(device):
    """Start a new peak-memory window (Linux: resets the process's VmHWM)."""
    if torch.device(device).type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def peak_memory_mb(device):
    """Peak memory since `reset_peak_memory`: CUDA allocations, else the process's resident set."""
    if torch.device(device).type == "cuda":
        return torch.cuda.max_memory_allocated() / 2**20
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_generation(preset, *, device, size, repeat, workdir):
    """
    Rows of the plain and the optimised generator of one preset, timed in alternation.

    Each round times the plain network, the optimised one and a 2048 x 2048 matrix
    product one after the other, so that all three see the same load of the machine;
    ``floor x`` is the median over rounds of (time x matrix-product rate / FLOPs).
    """
    from torch.utils.flop_counter import FlopCounterMode

    from sunpy_magnetogan.generate import load_model

    name, model_config = _register_random_model(preset, workdir)
    rng = np.random.default_rng(0)
    batch = rng.uniform(-1, 1, (1, size, size)).astype(np.float32)
    cuda = torch.device(device).type == "cuda"
    sync = torch.cuda.synchronize if cuda else None
    models = {
        "plain": load_model(name, device=device, optimize=False),
        "optimised": load_model(name, device=device, optimize=True),
    }
    x = torch.from_numpy(batch).unsqueeze(1).to(device)
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        models["plain"].generator(x)
    flops = counter.get_total_flops()
    a = torch.randn(2048, 2048, device=device)
    b = torch.randn(2048, 2048, device=device)
    matmul_flops = 2 * 2048**3
    # A cycle-frame model multiplies its output by the frame sign: all +1 here (a timing run).
    frame = np.ones_like(batch)
    tasks = {
        path: (lambda m=m: m.predict(batch, precision="fp32", frame=frame)) for path, m in models.items()
    }
    tasks["matmul"] = lambda: a @ b
    for task in tasks.values():  # warm-up
        task()
        task()
    times = {key: [] for key in tasks}
    for _ in range(repeat):
        for key, task in tasks.items():
            if sync:
                sync()
            start = time.perf_counter()
            task()
            if sync:
                sync()
            times[key].append(time.perf_counter() - start)
    reference = models["plain"].predict(batch, precision="fp32", frame=np.ones_like(batch))
    rows = []
    for path in ("plain", "optimised"):
        result = models[path].predict(batch, precision="fp32", frame=np.ones_like(batch))
        stats = _stats(times[path])
        ratios = [t * matmul_flops / m / flops for t, m in zip(times[path], times["matmul"], strict=True)]
        rows.append(
            {
                "preset": preset,
                "native": model_config.image_size,
                "path": path,
                "GFLOP": flops / 1e9,
                **stats,
                "GFLOP/s": flops / stats["median_s"] / 1e9,
                "floor x": statistics.median(ratios),
                "best floor x": stats["min_s"] * matmul_flops / min(times["matmul"]) / flops,
                "rel L2": float(np.linalg.norm(result - reference) / np.linalg.norm(reference)),
                "matmul GFLOP/s": matmul_flops / statistics.median(times["matmul"]) / 1e9,
                "best matmul GFLOP/s": matmul_flops / min(times["matmul"]) / 1e9,
            }
        )
    return rows


def bench_memory(preset, *, path, device, size, workdir):
    """Peak memory of one generation (one path per process, so the peak is its own)."""
    from sunpy_magnetogan.generate import load_model

    name, _ = _register_random_model(preset, workdir)
    batch = np.random.default_rng(0).uniform(-1, 1, (1, size, size)).astype(np.float32)
    loaded = load_model(name, device=device, optimize=path == "optimised")
    loaded.predict(batch, precision="fp32", frame=np.ones_like(batch))
    reset_peak_memory(device)
    loaded.predict(batch, precision="fp32", frame=np.ones_like(batch))
    return [{"preset": preset, "path": path, "peak MB": peak_memory_mb(device)}]


def bench_cuda_throughput(preset, *, batch_sizes, repeat, workdir, compile=False):
    """bf16 maps/s of the optimised network on CUDA, against the bf16 matrix-product rate."""
    from torch.utils.flop_counter import FlopCounterMode

    from sunpy_magnetogan.generate import load_model

    name, model_config = _register_random_model(preset, workdir)
    size = model_config.image_size
    cpu = load_model(name, device="cpu", optimize=False)
    gpu = load_model(name, device="cuda", compile=compile)
    rate = matmul_rate("cuda", dtype=torch.bfloat16, size=8192, repeat=10)
    rng = np.random.default_rng(0)
    sample = rng.uniform(-1, 1, (1, size, size)).astype(np.float32)
    cpu_result = cpu.predict(sample, precision="fp32", frame=np.ones_like(sample))
    gpu_result = gpu.predict(sample, precision="bf16", frame=np.ones_like(sample))
    agreement = float(np.linalg.norm(gpu_result - cpu_result) / np.linalg.norm(cpu_result))
    with FlopCounterMode(display=False) as counter, torch.inference_mode():
        cpu.generator(torch.from_numpy(sample).unsqueeze(1))
    flops_per_map = counter.get_total_flops()
    rows = []
    for batch_size in batch_sizes:
        batch = rng.uniform(-1, 1, (batch_size, size, size)).astype(np.float32)
        reset_peak_memory("cuda")
        stats = _timed(
            lambda batch=batch: gpu.predict(batch, precision="bf16", frame=np.ones_like(batch)),
            repeat=repeat,
            warmup=3,
            sync=torch.cuda.synchronize,
        )
        maps_per_s = batch_size / stats["median_s"]
        rows.append(
            {
                "preset": preset,
                "size": size,
                "batch": batch_size,
                "compile": compile,
                "maps/s": maps_per_s,
                **stats,
                "TFLOP/s": flops_per_map * maps_per_s / 1e12,
                "of bf16 peak": flops_per_map * maps_per_s / rate["best"],
                "rel L2 vs CPU fp32": agreement,
                "peak MB": torch.cuda.max_memory_allocated() / 2**20,
                "bf16 matmul TFLOP/s": rate["best"] / 1e12,
            }
        )
    return rows


def bench_training(preset, *, device, repeat, workdir, channels_last=False):
    """Seconds per training step of a preset (its batch size; data loading excluded)."""
    from bench_training import make_pairs

    from sunpy_magnetogan.training import Trainer, get_preset

    model_config, train_config = get_preset(preset)
    cuda = torch.device(device).type == "cuda"
    store = make_pairs(Path(workdir) / f"pairs-{preset}", grid_size=model_config.image_size, n_pairs=2)
    train_config = train_config.replace(
        steps=10**6,
        eval_every=0,
        amp_dtype="bfloat16" if cuda else "none",
        channels_last=channels_last,
    )
    trainer = Trainer(
        model_config,
        train_config,
        store,
        Path(workdir) / f"run-{preset}-{channels_last}",
        device=device,
        progress=False,
    )
    trainer.generator.train()
    trainer.discriminator.train()
    batch = next(iter(trainer._loader()))
    sync = torch.cuda.synchronize if cuda else None
    reset_peak_memory(device)
    with trainer._determinism():
        stats = _timed(lambda: trainer._train_step(batch), repeat=repeat, warmup=1, sync=sync)
    peak = peak_memory_mb(device)
    from torch.utils.flop_counter import FlopCounterMode

    with trainer._determinism(), FlopCounterMode(display=False) as counter:
        trainer._train_step(batch)
    flops = counter.get_total_flops()
    return {
        "preset": preset,
        "device": device,
        "batch": train_config.batch_size,
        "channels_last": channels_last,
        **stats,
        "steps/s": 1 / stats["median_s"],
        "GFLOP/step": flops / 1e9,
        "GFLOP/s": flops / stats["median_s"] / 1e9,
        "peak MB": peak,
    }


def _child(args):
    """Run one measurement in this (fresh) process and print its rows as JSON."""
    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as workdir:
        if args.child == "generate":
            rows = bench_generation(
                args.preset, device=args.device, size=args.size, repeat=args.repeat, workdir=workdir
            )
        elif args.child == "memory":
            rows = bench_memory(
                args.preset, path=args.path, device=args.device, size=args.size, workdir=workdir
            )
        elif args.child == "throughput":
            rows = bench_cuda_throughput(
                args.preset,
                batch_sizes=args.batch_sizes,
                repeat=args.repeat,
                workdir=workdir,
                compile=args.compile,
            )
        else:
            rows = [
                bench_training(
                    args.preset,
                    device=args.device,
                    repeat=args.train_repeat,
                    workdir=workdir,
                    channels_last=args.channels_last,
                )
            ]
    print("ROWS " + json.dumps(rows))


def _run_child(kind, preset, args, *extra):
    command = [
        sys.executable,
        __file__,
        "--child",
        kind,
        "--preset",
        preset,
        "--device",
        args.device,
        "--size",
        str(args.size),
        "--repeat",
        str(args.repeat),
        "--train-repeat",
        str(args.train_repeat),
        "--batch-sizes",
        *map(str, args.batch_sizes),
        *extra,
    ]
    if args.threads:
        command += ["--threads", str(args.threads)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    for line in done.stdout.splitlines():
        if line.startswith("ROWS "):
            return json.loads(line[5:])
    sys.stderr.write(done.stdout + done.stderr)
    raise RuntimeError(f"the {kind} benchmark of {preset} failed (exit code {done.returncode})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--presets", nargs="+", default=list(ALL_PRESETS))
    parser.add_argument("--device", default=None, help="cpu or cuda (default: cuda when available)")
    parser.add_argument("--size", type=int, default=512, help="image size of the latency runs (px)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per measurement")
    parser.add_argument("--train-repeat", type=int, default=3, help="timed training steps per preset")
    parser.add_argument(
        "--batch-sizes", type=int, nargs="+", default=[1, 8, 32], help="CUDA throughput batches"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--no-training", action="store_true", help="skip the training steps")
    parser.add_argument(
        "--compile", action="store_true", help="also time torch.compile (CUDA graphs) on CUDA"
    )
    parser.add_argument("--channels-last", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--preset", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--path", default="optimised", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.child:
        _child(args)
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    print(describe_machine())
    print(
        f"device {args.device}; each preset in a fresh process, plain and optimised timed in "
        "alternation with a 2048 x 2048 matrix product; peak memory from one more process per row; "
        "times in seconds"
    )
    rows = []
    for preset in args.presets:
        rows += _run_child("generate", preset, args)
        for path in ("plain", "optimised"):
            (memory,) = _run_child("memory", preset, args, "--path", path)
            next(r for r in rows if r["preset"] == preset and r["path"] == path)["peak MB"] = memory[
                "peak MB"
            ]
    columns = [
        "preset",
        "native",
        "path",
        "GFLOP",
        "median_s",
        "iqr_s",
        "min_s",
        "max_s",
        "GFLOP/s",
        "floor x",
        "best floor x",
        "rel L2",
        "peak MB",
        "matmul GFLOP/s",
        "best matmul GFLOP/s",
    ]
    print(f"\n== generation of one {args.size} x {args.size} map (LoadedModel.predict, batch 1, fp32)")
    print_table(rows, columns)

    if not args.no_training:
        train_rows = []
        for preset in args.presets:
            train_rows += _run_child("train", preset, args)
            if args.device == "cpu" and preset in ("compact", "default", "pix2pix-compact"):
                train_rows += _run_child("train", preset, args, "--channels-last")
        print("\n== training steps (Trainer._train_step: every D then every G, data loading excluded)")
        print_table(
            train_rows,
            [
                "preset",
                "device",
                "batch",
                "channels_last",
                "median_s",
                "iqr_s",
                "min_s",
                "max_s",
                "steps/s",
                "GFLOP/step",
                "GFLOP/s",
                "peak MB",
            ],
        )

    if args.device == "cuda":
        gpu_rows = []
        for preset in [p for p in ("compact", "default", "paper") if p in args.presets]:
            gpu_rows += _run_child("throughput", preset, args)
            if args.compile:
                gpu_rows += _run_child("throughput", preset, args, "--compile")
        print(f"\n== CUDA bf16 batch throughput ({torch.cuda.get_device_name(0)})")
        print_table(
            gpu_rows,
            [
                "preset",
                "size",
                "batch",
                "compile",
                "maps/s",
                "median_s",
                "iqr_s",
                "TFLOP/s",
                "of bf16 peak",
                "rel L2 vs CPU fp32",
                "peak MB",
                "bf16 matmul TFLOP/s",
            ],
        )

    optimised = {r["preset"]: r for r in rows if r["path"] == "optimised"}
    print()
    if "default" in optimised and args.size == 512:
        row = optimised["default"]
        print(
            f"default preset, 512 px: {row['median_s'] * 1e3:.1f} ms per map (median; best "
            f"{row['min_s'] * 1e3:.1f} ms) = {PIX2PIX_REFERENCE_S / row['median_s']:.1f}x "
            f"(best {PIX2PIX_REFERENCE_S / row['min_s']:.1f}x) faster than the {PIX2PIX_REFERENCE_S} s "
            "pix2pix reference (target >= 5x)"
        )
    if "paper" in optimised and args.size == 512:
        row = optimised["paper"]
        print(
            f"paper preset, 512 px: {row['median_s']:.3f} s (median) for {row['GFLOP']:.1f} GFLOP = "
            f"{row['floor x']:.2f}x its FLOP floor at the median {row['matmul GFLOP/s']:.0f} GFLOP/s "
            f"matrix-product rate; best run vs best rate ({row['best matmul GFLOP/s']:.0f} GFLOP/s): "
            f"{row['best floor x']:.2f}x (target <= 1.5x)"
        )


if __name__ == "__main__":
    main()

"""Helpers shared by the benchmark scripts: timing, memory, the real-data folder."""

import gc
import os
import platform
import statistics
import time
import tracemalloc
from pathlib import Path

__all__ = ["REAL_DATA_DIR", "describe_machine", "measure", "print_table"]

REAL_DATA_DIR = Path(
    os.environ.get(
        "SUNPY_MAGNETOGAN_REAL_DATA", Path(__file__).resolve().parents[1].parent / "shared" / "data" / "real"
    )
)


def describe_machine():
    """One line naming the CPU count, Python and torch versions and the GPU (if any)."""
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{platform.node()}: {os.cpu_count()} CPUs, torch threads {torch.get_num_threads()}, "
        f"Python {platform.python_version()}, torch {torch.__version__}, {gpu}"
    )


def measure(func, *, repeat=7, warmup=1):
    """
    Run ``func`` repeatedly; return timing statistics (s) and the peak traced memory (MB).

    Peak memory is measured with `tracemalloc` in a separate run (numpy and Python
    allocations; torch's allocator is not traced).
    """
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeat):
        gc.collect()
        t0 = time.perf_counter()
        func()
        times.append(time.perf_counter() - t0)
    gc.collect()
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "stdev_s": statistics.stdev(times) if len(times) > 1 else 0.0,
        "peak_mb": peak / 2**20,
    }


def print_table(rows, columns):
    """Print a list of dicts as an aligned text table."""
    widths = {c: max(len(c), *(len(_fmt(r.get(c))) for r in rows)) for c in columns}
    print("  ".join(c.ljust(widths[c]) for c in columns))
    print("  ".join("-" * widths[c] for c in columns))
    for row in rows:
        print("  ".join(_fmt(row.get(c)).ljust(widths[c]) for c in columns))


def _fmt(value):
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def add_strength_argument(parser):
    """``--calibrated-strength``: score a registered model with its card's strength calibration."""
    parser.add_argument(
        "--calibrated-strength",
        action="store_true",
        help="apply a model's strength calibration, as generate_magnetogram(strength='calibrated') "
        "(default: the raw field, generate_magnetogram's default)",
    )

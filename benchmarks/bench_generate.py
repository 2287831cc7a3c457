"""
End-to-end `generate_magnetogram` on 4096 x 4096 maps: time per stage and peak memory.

Targets (issues 6 and 10): under 2 s median and under 2 GB peak memory per 4096 px map on
2 CPU cores. Inputs: the real AIA 304 JPEG2000 of ``../shared/data/real`` when present
and a synthetic 4096 px float32 AIA map (no file needed). The model is the registered
``--model`` if given (e.g. the shipped ``default``), else a random-weights model of the
``default`` preset (speed does not depend on the weights).

Each measurement runs in a fresh process, so that its peak resident memory (Linux
``VmHWM``) is its own; it includes the Python, torch and sunpy runtime and the input map.

Usage::

    python benchmarks/bench_generate.py
    python benchmarks/bench_generate.py --model default --threads 2 --repeat 9
"""

import argparse
import json
import logging
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import REAL_DATA_DIR, describe_machine, print_table
from bench_inference import _register_random_model, _stats, peak_memory_mb, reset_peak_memory

AIA_JP2 = REAL_DATA_DIR / "2021_06_01__00_01_29_132__SDO_AIA_AIA_304.jp2"


def _child(args):
    import sunpy.map

    from sunpy_magnetogan.data.inputs import InputPreparation, prepare_input_map
    from sunpy_magnetogan.generate import generate_magnetogram, load_model
    from sunpy_magnetogan.output import magnetogram_map
    from sunpy_magnetogan.validation import read_map

    if args.threads:
        torch.set_num_threads(args.threads)
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as workdir:
        if args.model:
            name = args.model
        else:
            name, _ = _register_random_model("default", workdir)
        loaded = load_model(name, device="cpu", optimize=not args.plain)
        if args.input == "real":
            path = AIA_JP2
            read_s = []
            for _ in range(2):
                start = time.perf_counter()
                smap = read_map(path)
                read_s.append(time.perf_counter() - start)
        else:
            from bench_preprocess import synthetic_aia_4096

            smap = synthetic_aia_4096()
            read_s = [float("nan")]
        np.asarray(smap.data)
        generate_magnetogram(smap, model=loaded)  # warm-up: first-call allocations, caches
        reset_peak_memory("cpu")
        total, prepare, predict, output = [], [], [], []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            generate_magnetogram(smap, model=loaded)
            total.append(time.perf_counter() - t0)
        peak = peak_memory_mb("cpu")
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            prepared = prepare_input_map(
                smap,
                grid=loaded.grid,
                normalization=loaded.euv_normalization,
                preparation=InputPreparation.from_card(loaded.card),
            )
            t1 = time.perf_counter()
            frame = loaded.frame(prepared.geometry).sign[np.newaxis] if loaded.cycle_frame else None
            field = loaded.predict(prepared.data[np.newaxis], frame=frame)[0]
            t2 = time.perf_counter()
            magnetogram_map(field, prepared.geometry, model_name=loaded.name, valid=prepared.disk)
            t3 = time.perf_counter()
            prepare.append(t1 - t0)
            predict.append(t2 - t1)
            output.append(t3 - t2)
        if args.input == "real":
            # From the file: read + generate, peak included.
            reset_peak_memory("cpu")
            from_file = []
            for _ in range(max(2, args.repeat // 2)):
                t0 = time.perf_counter()
                generate_magnetogram(sunpy.map.Map(path), model=loaded)
                from_file.append(time.perf_counter() - t0)
            peak_file = peak_memory_mb("cpu")
        else:
            from_file, peak_file = [float("nan")], float("nan")
    row = {
        "input": args.input,
        "model": "plain" if args.plain else "optimised",
        **_stats(total),
        "peak MB": peak,
        "prepare_s": float(np.median(prepare)),
        "predict_s": float(np.median(predict)),
        "output map_s": float(np.median(output)),
        "read_s": float(np.median(read_s)),
        "file->map_s": float(np.median(from_file)),
        "file peak MB": peak_file,
    }
    print("ROWS " + json.dumps([row]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--model", default=None, help="registered model (default: random default preset)")
    parser.add_argument("--repeat", type=int, default=7, help="timed runs per measurement")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--input", default="synthetic", help=argparse.SUPPRESS)
    parser.add_argument("--plain", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args)
        return
    print(describe_machine())
    inputs = ["real", "synthetic"] if AIA_JP2.is_file() else ["synthetic"]
    rows = []
    for name in inputs:
        for plain in (True, False):
            command = [sys.executable, __file__, "--child", "--input", name, "--repeat", str(args.repeat)]
            if plain:
                command.append("--plain")
            if args.model:
                command += ["--model", args.model]
            if args.threads:
                command += ["--threads", str(args.threads)]
            done = subprocess.run(command, capture_output=True, text=True, check=False)
            lines = [line for line in done.stdout.splitlines() if line.startswith("ROWS ")]
            if not lines:
                sys.stderr.write(done.stdout + done.stderr)
                raise RuntimeError(f"the {name} run failed (exit code {done.returncode})")
            rows += json.loads(lines[-1][5:])
    print("\n== generate_magnetogram on a 4096 x 4096 map (in memory), times in seconds")
    print_table(
        rows,
        [
            "input",
            "model",
            "median_s",
            "iqr_s",
            "min_s",
            "max_s",
            "prepare_s",
            "predict_s",
            "output map_s",
            "peak MB",
            "read_s",
            "file->map_s",
            "file peak MB",
        ],
    )
    print(
        "real = AIA 304 JPEG2000 (uint8), synthetic = float32; peak = process resident set "
        "(runtime + input map + work); file->map = sunpy.map.Map(file) + generate"
    )
    print("targets: median < 2 s, peak < 2048 MB on 2 CPU cores")


if __name__ == "__main__":
    main()

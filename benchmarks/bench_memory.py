"""
Peak resident memory of preparing (and generating from) large AIA inputs (issue 21).

Each case runs in a fresh subprocess: it imports the package (and loads the model for
``generate``), records the resident set size (the *runtime*), builds an N x N AIA 304 map
of the given dtype (the *input*, ``N * N * itemsize`` bytes), then runs
`~sunpy_magnetogan.data.inputs.prepare_input_map` (``prepare``) or
`~sunpy_magnetogan.generate.generate_magnetogram` (``generate``) and reads the peak
resident set size of the process (``resource.getrusage(...).ru_maxrss``).

The bound (issue 21): peak <= runtime + 3 x input, i.e. the preparation may use twice the
input's size on top of the input itself.

Run: ``python benchmarks/bench_memory.py`` (all sizes and dtypes, both modes), or e.g.
``python benchmarks/bench_memory.py --size 8192 --dtype float64 --mode prepare``.
"""

import argparse
import json
import resource
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table

MIB = 2**20


def _rss_mib():
    """Current resident set size (MiB), from /proc."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / MIB


def _peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _large_aia(size, dtype):
    """An N x N AIA 304 map: the packaged sample (1024 px) repeated to N px, in place."""
    import numpy as np
    import sunpy.map

    from sunpy_magnetogan.sample import SAMPLE_AIA304

    sample = sunpy.map.Map(SAMPLE_AIA304)
    f = size // sample.data.shape[0]
    data = np.empty((size, size), dtype=dtype)
    view = data.reshape(sample.data.shape[0], f, sample.data.shape[1], f)
    view[...] = np.asarray(sample.data, dtype=dtype)[:, None, :, None]
    meta = sample.meta.copy()
    for axis in (1, 2):
        meta[f"crpix{axis}"] = (meta[f"crpix{axis}"] - 0.5) * f + 0.5
        meta[f"cdelt{axis}"] = meta[f"cdelt{axis}"] / f
    meta["naxis1"] = meta["naxis2"] = size
    return sunpy.map.Map(data, meta)


def _child(size, dtype, mode, model):
    import warnings

    import numpy as np

    warnings.simplefilter("ignore")
    from sunpy_magnetogan.data.inputs import prepare_input_map
    from sunpy_magnetogan.generate import generate_magnetogram, load_model

    loaded = load_model(model, device="cpu") if mode == "generate" else None
    runtime = _rss_mib()
    smap = _large_aia(size, dtype)
    input_mib = smap.data.nbytes / MIB
    after_input = _peak_mib()
    if mode == "prepare":
        prepared = prepare_input_map(smap)
        assert np.isfinite(prepared.data).all()
    else:
        out = generate_magnetogram(smap, model=loaded)
        assert np.isfinite(out.data[np.isfinite(out.data)]).all()
    peak = _peak_mib()
    print(
        json.dumps(
            {
                "size": size,
                "dtype": dtype,
                "mode": mode,
                "input_mib": input_mib,
                "runtime_mib": runtime,
                "peak_building_input_mib": after_input,
                "peak_mib": peak,
                "bound_mib": runtime + 3 * input_mib,
                "peak_over_runtime_x_input": (peak - runtime) / input_mib,
            }
        )
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--size", type=int, nargs="*", default=[4096, 8192])
    parser.add_argument("--dtype", nargs="*", default=["float32", "float64"])
    parser.add_argument("--mode", nargs="*", default=["prepare", "generate"], choices=["prepare", "generate"])
    parser.add_argument("--model", default="default")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.size[0], args.dtype[0], args.mode[0], args.model)
        return
    rows = []
    for mode in args.mode:
        for size in args.size:
            for dtype in args.dtype:
                cmd = [sys.executable, __file__, "--child", "--size", str(size), "--dtype", dtype]
                cmd += ["--mode", mode, "--model", args.model]
                result = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if result.returncode:
                    sys.stderr.write(result.stderr)
                    raise SystemExit(f"case {mode} {size} {dtype} failed")
                row = json.loads(result.stdout.strip().splitlines()[-1])
                row["within_bound"] = row["peak_mib"] <= row["bound_mib"]
                rows.append(row)
    columns = ["mode", "size", "dtype", "input_mib", "runtime_mib", "peak_mib", "bound_mib"]
    print_table(rows, [*columns, "peak_over_runtime_x_input", "within_bound"])


if __name__ == "__main__":
    main()

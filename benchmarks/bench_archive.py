"""
Archive throughput: `generate_archive` on a Dask `LocalCluster` of 1 and 2 workers.

Inputs are synthetic AIA 304 observations (``--npix`` px FITS files, made once in a
temporary directory); the model is a random-weights ``default`` preset saved as a weights
file (speed does not depend on the weights). For each worker count the cluster is
started once (its start-up time is printed separately), then ``--repeat`` runs into fresh
output directories are timed from submission to the last file written; maps/s is the
number of files over that time. The sequential in-process `generate_magnetograms` loop
is the reference.

Usage::

    python benchmarks/bench_archive.py
    python benchmarks/bench_archive.py --files 32 --npix 1024 --workers 1 2
"""

import argparse
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _common import describe_machine, print_table

from tests.helpers_models import save_model


def make_inputs(directory, n_files, npix):
    import astropy.units as u
    from astropy.time import Time

    from sunpy_magnetogan.synthetic import SyntheticSun, observe_aia

    sun = SyntheticSun(7)
    paths = []
    for i in range(n_files):
        path = Path(directory) / f"aia304_{i:04d}.fits"
        observe_aia(sun, Time("2014-02-05T12:00") + i * 12 * u.h, npix=npix).save(path)
        paths.append(path)
    return paths


def weights_file(directory):
    from sunpy_magnetogan.nn import init_weights
    from sunpy_magnetogan.training import get_preset

    model_config, train_config = get_preset("default")
    generator, _ = model_config.build(train_config.normalization)
    init_weights(generator, generator=torch.Generator().manual_seed(0))
    path = Path(directory) / "bench-archive-default.safetensors"
    return save_model(
        generator,
        model_config,
        path,
        name="bench-archive-default",
        magnetogram_normalization=train_config.normalization,
    )


def main():
    from distributed import LocalCluster

    from sunpy_magnetogan.archive import generate_archive
    from sunpy_magnetogan.generate import generate_magnetograms

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--files", type=int, default=16, help="input files")
    parser.add_argument("--npix", type=int, default=1024, help="input size in pixels")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2], help="worker counts to try")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per worker count")
    parser.add_argument(
        "--torch-threads",
        type=int,
        default=None,
        help="torch threads per worker and in-process (default: the cores shared among the workers)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    cpus = torch.get_num_threads()
    if args.torch_threads:
        torch.set_num_threads(args.torch_threads)
    print(describe_machine())
    rows = []
    with tempfile.TemporaryDirectory() as workdir:
        workdir = Path(workdir)
        (workdir / "in").mkdir()
        inputs = make_inputs(workdir / "in", args.files, args.npix)
        model = weights_file(workdir)

        times = []
        for run in range(args.repeat + 1):  # the first run loads the model
            start = time.perf_counter()
            for _ in generate_magnetograms(
                inputs, model=str(model), device="cpu", output_dir=workdir / f"seq{run}", progress=False
            ):
                pass
            if run:
                times.append(time.perf_counter() - start)
        rows.append(
            _row("in-process generate_magnetograms", 1, torch.get_num_threads(), None, times, args.files)
        )

        for n_workers in args.workers:
            torch_threads = args.torch_threads or max(1, cpus // n_workers)
            start = time.perf_counter()
            with LocalCluster(
                n_workers=n_workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            ) as cluster:
                startup = time.perf_counter() - start
                times = []
                for run in range(args.repeat + 1):  # the first run warms the workers (imports, model)
                    out = workdir / f"dask{n_workers}-{run}"
                    start = time.perf_counter()
                    records = generate_archive(
                        inputs,
                        out,
                        model=model,
                        scheduler=cluster.scheduler_address,
                        torch_threads=torch_threads,
                        progress=False,
                    )
                    elapsed = time.perf_counter() - start
                    if any(r.status != "done" for r in records):
                        raise RuntimeError(f"some files failed: {[r.error for r in records if r.error]}")
                    if run:
                        times.append(elapsed)
            rows.append(
                _row("generate_archive (LocalCluster)", n_workers, torch_threads, startup, times, args.files)
            )
    print(f"\n== {args.files} synthetic AIA 304 files of {args.npix} px -> 512 px magnetograms (FITS)")
    print_table(
        rows,
        [
            "how",
            "workers",
            "torch threads",
            "cluster start s",
            "median_s",
            "min_s",
            "max_s",
            "maps/s",
            "s/map",
        ],
    )


def _row(how, workers, threads, startup, times, n_files):
    median = statistics.median(times)
    return {
        "how": how,
        "workers": workers,
        "torch threads": threads,
        "cluster start s": startup,
        "median_s": median,
        "min_s": min(times),
        "max_s": max(times),
        "maps/s": n_files / median,
        "s/map": median / n_files,
    }


if __name__ == "__main__":
    main()

"""
Archive-scale generation on a Dask cluster.

`generate_archive` turns thousands of EUV 304 A files into magnetogram FITS files with
`dask.distributed`: a `~distributed.LocalCluster` on this machine by default, or any
running cluster given by its scheduler address. One task per input file; each worker
process loads the model once (the process-wide cache of
`sunpy_magnetogan.generate.load_model`, warmed by a worker plugin when the worker starts)
and reads, prepares, generates and writes its files itself, so that only file names and
a few numbers travel over the network. Input and output directories must therefore be
visible to every worker (a local disk for a `~distributed.LocalCluster`, a shared file
system for a multi-machine cluster).

A run is restartable:

* every output is written to a temporary file (``.<name>.<pid>.<random>.part``) that is
  renamed into place only once complete (`os.replace`), with FITS ``CHECKSUM``/``DATASUM``
  keywords, so an output file is either absent or whole;
* on (re)start, outputs that exist and verify (the FITS file opens, holds a 2-D image,
  and its checksums match) are skipped; leftover temporary files of interrupted runs are
  removed; every other input is (re)submitted, including those that failed before;
* a task that raises is retried ``retries`` times, and a task whose worker dies is moved
  to another worker by the scheduler; a file that still fails is reported (status
  ``"failed"`` with its error) and the others go on;
* the manifest ``manifest.jsonl`` in the output directory gets one JSON line per input
  and run (``input``, ``output``, ``status``, ``error``, ``duration_s``, ``worker``,
  ``warnings``, ``model``, ``run_id``, ``time``), appended by the client only (one
  ``write`` + ``fsync`` per line) while it holds a lock on the directory.

The ``dask`` extra installs the dependency: ``pip install "sunpy-magnetogan[dask]"``.

Examples
--------
>>> from sunpy_magnetogan.archive import generate_archive
>>> records = generate_archive(sorted(Path("aia304").glob("*.fits")), "magnetograms",
...                            n_workers=2)  # doctest: +SKIP
>>> sum(r.status == "failed" for r in records)  # doctest: +SKIP
0
"""

import contextlib
import logging
import os
import time
import uuid
import warnings
from pathlib import Path

from sunpy_magnetogan._archive_manifest import (
    MANIFEST_NAME,
    ArchiveRecord,
    ManifestWriter,
    read_manifest,
    utc_now,
    verify_output,
)
from sunpy_magnetogan._io import atomic_path, magnetogram_path, shared_outputs
from sunpy_magnetogan.exceptions import ArchiveError
from sunpy_magnetogan.generate import generate_magnetogram, load_model
from sunpy_magnetogan.validation import read_map
from sunpy_magnetogan.weights import get_card

__all__ = [
    "MANIFEST_NAME",
    "ArchiveRecord",
    "collect_inputs",
    "generate_archive",
    "read_manifest",
    "verify_output",
]

log = logging.getLogger(__name__)

#: Input file name endings picked up when a directory is given.
INPUT_SUFFIXES = (".fits", ".fts", ".fit", ".fits.gz", ".jp2")
_LOCK_NAME = ".archive.lock"
_PART_SUFFIX = ".part"
#: Seconds each worker waits between writing a temporary file and renaming it into place;
#: for tests that interrupt a run at that moment (never set it in production).
_DELAY_ENV = "SUNPY_MAGNETOGAN_ARCHIVE_DELAY_S"


def collect_inputs(inputs):
    """
    Expand files and directories into a sorted list of unique input files.

    Parameters
    ----------
    inputs : iterable of str or os.PathLike
        Files, and directories whose FITS/JPEG2000 files (``INPUT_SUFFIXES``, not
        recursive) are taken.

    Returns
    -------
    list of pathlib.Path
        Absolute paths, in the order given (directory contents sorted by name), each once.

    Raises
    ------
    FileNotFoundError
        If an input does not exist.

    Examples
    --------
    >>> from sunpy_magnetogan.archive import collect_inputs
    >>> for name in ("b_304.fits", "a_304.fits", "notes.txt"):
    ...     _ = (tmp_path / name).write_text("")
    >>> [path.name for path in collect_inputs([tmp_path, tmp_path / "a_304.fits"])]  # each file once
    ['a_304.fits', 'b_304.fits']
    """
    if isinstance(inputs, str | os.PathLike):
        inputs = [inputs]
    found, seen = [], set()
    for item in inputs:
        path = Path(item).expanduser().absolute()
        if path.is_dir():
            members = sorted(
                p for p in path.iterdir() if p.is_file() and p.name.lower().endswith(INPUT_SUFFIXES)
            )
        elif path.is_file():
            members = [path]
        else:
            raise FileNotFoundError(f"no such input file or directory: {path}")
        for member in members:
            if member not in seen:
                seen.add(member)
                found.append(member)
    return found


def _write_fits_atomic(smap, path):
    """Write a map to ``path`` via a unique temporary file, with checksums, then rename."""
    with atomic_path(path, suffix=_PART_SUFFIX) as tmp:
        smap.save(tmp, filetype="fits", checksum=True, overwrite=True)
        delay = float(os.environ.get(_DELAY_ENV, "0") or 0)
        if delay > 0:
            time.sleep(delay)


def _generate_file(input_path, output_path, options):
    """The task run on a worker: one input file to one output file."""
    start = time.perf_counter()
    loaded = load_model(options["model"], device=options["device"], cache_dir=options["cache_dir"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        smap = read_map(input_path)
        result = generate_magnetogram(
            smap,
            model=loaded,
            precision=options["precision"],
            allow_other_instruments=options["allow_other_instruments"],
            allow_other_wavelengths=options["allow_other_wavelengths"],
        )
    _write_fits_atomic(result, output_path)
    try:
        from distributed import get_worker

        worker = get_worker().address
    except (ImportError, ValueError):
        worker = f"pid {os.getpid()}"
    return {
        "duration_s": time.perf_counter() - start,
        "worker": worker,
        "warnings": [f"{w.category.__name__}: {w.message}" for w in caught],
    }


def _worker_plugin(options, torch_threads):
    from distributed import WorkerPlugin

    class _ModelPlugin(WorkerPlugin):
        """Set the worker's torch threads and load the model once, when the worker starts."""

        name = "sunpy-magnetogan-model"

        def __init__(self, options, torch_threads):
            self.options = options
            self.torch_threads = torch_threads

        def setup(self, worker):
            import torch

            if self.torch_threads:
                torch.set_num_threads(self.torch_threads)
            try:
                load_model(
                    self.options["model"], device=self.options["device"], cache_dir=self.options["cache_dir"]
                )
            except Exception as exc:  # the tasks raise it again, with the file they were on
                log.warning(
                    "worker %s could not load model %r: %s", worker.address, self.options["model"], exc
                )

    return _ModelPlugin(options, torch_threads)


@contextlib.contextmanager
def _client(scheduler, *, n_workers, threads_per_worker):
    """A `distributed.Client`: of an existing client, a scheduler address, or a new local cluster."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise ImportError(
            'archive generation needs dask.distributed: pip install "sunpy-magnetogan[dask]"'
        ) from None
    if scheduler is not None and hasattr(scheduler, "submit"):
        yield scheduler, False
        return
    if scheduler is not None:
        with Client(scheduler) as client:
            yield client, False
        return
    with (
        LocalCluster(
            n_workers=n_workers,
            threads_per_worker=threads_per_worker,
            processes=True,
            dashboard_address=":0",  # a free port: never clashes with another cluster
        ) as cluster,
        Client(cluster) as client,
    ):
        log.info("started a local Dask cluster; dashboard (with bokeh installed): %s", client.dashboard_link)
        yield client, True


def _lock(output_dir):
    from filelock import FileLock, Timeout

    lock = FileLock(output_dir / _LOCK_NAME, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise ArchiveError(
            f"another archive run is writing to {output_dir} (lock {output_dir / _LOCK_NAME} is held); "
            "wait for it to finish or choose another output directory"
        ) from None
    return lock


def _remove_stale_parts(output_dir):
    removed = 0
    for part in output_dir.glob(f".*{_PART_SUFFIX}"):
        with contextlib.suppress(FileNotFoundError):
            part.unlink()
            removed += 1
    if removed:
        log.info("removed %d temporary files of an interrupted run in %s", removed, output_dir)


def _resolve_model(model, cache_dir):
    """Check the model exists before starting workers; a weights file becomes an absolute path."""
    candidate = Path(str(model)).expanduser()
    if str(model).endswith(".safetensors") or candidate.is_file():
        if not candidate.is_file():
            raise FileNotFoundError(f"no weights file {candidate}")
        return str(candidate.absolute())
    get_card(str(model), cache_dir=cache_dir)  # raises ModelNotFoundError with the known names
    return str(model)


def generate_archive(
    inputs,
    output_dir,
    *,
    model="default",
    scheduler=None,
    n_workers=None,
    threads_per_worker=1,
    torch_threads=None,
    retries=2,
    device="cpu",
    precision="auto",
    cache_dir=None,
    allow_other_instruments=False,
    allow_other_wavelengths=False,
    progress=True,
):
    """
    Generate magnetograms for many EUV 304 A files on a Dask cluster, restartably.

    Parameters
    ----------
    inputs : iterable of str or os.PathLike
        AIA/EUVI 304 A files (FITS or JPEG2000) and directories of them (see
        `collect_inputs`). Paths must be readable by every worker.
    output_dir : str or os.PathLike
        Where ``<input stem>_magnetogram.fits`` files and ``manifest.jsonl`` go (created).
    model : str or os.PathLike, optional
        Registered model name, or a ``.safetensors`` weights file (with its card beside it)
        that every worker can read.
    scheduler : str or distributed.Client, optional
        Address of a running Dask scheduler (``"tcp://host:8786"``) or a connected client.
        By default a `~distributed.LocalCluster` of worker processes is started for the
        run and shut down afterwards.
    n_workers : int, optional
        Worker processes of the local cluster (default: Dask's choice for this machine).
    threads_per_worker : int, optional
        Tasks run at once by each local worker. With more than one, the warnings recorded
        for a file may include those of another file made at the same time (Python's
        warning capture is per process).
    torch_threads : int, optional
        Torch intra-op threads per worker process. By default a local cluster shares the
        CPU cores among its workers (``cpu_count // (n_workers * threads_per_worker)``,
        at least 1) and the workers of an external cluster are left as they are.
    retries : int, optional
        Times a failing file is retried before it is reported as failed.
    device : str, optional
        Torch device of the workers (``"cpu"``, ``"cuda"``; None: CUDA when the worker
        has one).
    precision : {"auto", "fp32", "bf16", "fp16"}, optional
        See `~sunpy_magnetogan.generate.generate_magnetogram`.
    cache_dir : str or os.PathLike, optional
        Weights cache directory the workers use (default: theirs, see
        `sunpy_magnetogan.weights.resolve_cache_dir`).
    allow_other_instruments, allow_other_wavelengths : bool, optional
        See `~sunpy_magnetogan.generate.generate_magnetogram`.
    progress : bool, optional
        Show a tqdm progress bar.

    Returns
    -------
    list of ArchiveRecord
        One per input, in input order: ``"done"`` (made in this run), ``"skipped"``
        (a valid output was already there) or ``"failed"`` (with its error). The same
        records are appended to ``output_dir / "manifest.jsonl"``.

    Raises
    ------
    ArchiveError
        If two inputs would write the same output file, or another run holds the output
        directory.
    FileNotFoundError
        If an input or the weights file does not exist.
    sunpy_magnetogan.exceptions.ModelNotFoundError
        If the model name is not registered.

    Examples
    --------
    >>> from sunpy_magnetogan.archive import generate_archive
    >>> records = generate_archive(["aia_304_2014/"], "magnetograms/", n_workers=2)  # doctest: +SKIP
    >>> sum(r.status == "done" for r in records)  # doctest: +SKIP
    """
    from tqdm.auto import tqdm

    files = collect_inputs(inputs)
    output_dir = Path(output_dir).expanduser().absolute()
    outputs = [magnetogram_path(output_dir, path.name) for path in files]
    clashes = shared_outputs(zip(outputs, files, strict=True))
    if clashes:
        out, paths = next(iter(clashes.items()))
        raise ArchiveError(
            f"{len(clashes)} output names are shared by several inputs, e.g. {out.name} by "
            f"{', '.join(str(p) for p in paths)}; give inputs with distinct file names"
        )
    model_spec = _resolve_model(model, cache_dir)
    options = {
        "model": model_spec,
        "device": device,
        "cache_dir": None if cache_dir is None else str(cache_dir),
        "precision": precision,
        "allow_other_instruments": allow_other_instruments,
        "allow_other_wavelengths": allow_other_wavelengths,
    }
    output_dir.mkdir(parents=True, exist_ok=True)
    run_id = uuid.uuid4().hex[:12]
    lock = _lock(output_dir)
    try:
        _remove_stale_parts(output_dir)
        manifest = ManifestWriter(output_dir / MANIFEST_NAME)
        records = [None] * len(files)
        todo = []
        for i, (path, out) in enumerate(zip(files, outputs, strict=True)):
            if verify_output(out):
                records[i] = ArchiveRecord(
                    str(path), str(out), "skipped", model=str(model), run_id=run_id, time=utc_now()
                )
                manifest.append(records[i])
            else:
                todo.append(i)
        log.info(
            "archive run %s: %d inputs, %d already done, %d to generate in %s",
            run_id,
            len(files),
            len(files) - len(todo),
            len(todo),
            output_dir,
        )
        bar = tqdm(
            total=len(files),
            initial=len(files) - len(todo),
            desc="archive",
            unit="map",
            disable=not progress,
            dynamic_ncols=True,
        )
        try:
            if todo:
                _run_tasks(
                    todo,
                    files,
                    outputs,
                    records,
                    options,
                    manifest=manifest,
                    bar=bar,
                    scheduler=scheduler,
                    n_workers=n_workers,
                    threads_per_worker=threads_per_worker,
                    torch_threads=torch_threads,
                    retries=retries,
                    model=str(model),
                    run_id=run_id,
                )
        finally:
            bar.close()
    finally:
        lock.release()
    failed = [r for r in records if r.status == "failed"]
    if failed:
        log.warning(
            "%d of %d files failed (see %s); run again to retry them, e.g. first: %s: %s",
            len(failed),
            len(files),
            output_dir / MANIFEST_NAME,
            Path(failed[0].input).name,
            failed[0].error,
        )
    return records


def _run_tasks(
    todo,
    files,
    outputs,
    records,
    options,
    *,
    manifest,
    bar,
    scheduler,
    n_workers,
    threads_per_worker,
    torch_threads,
    retries,
    model,
    run_id,
):
    from distributed import as_completed

    with _client(scheduler, n_workers=n_workers, threads_per_worker=threads_per_worker) as (client, local):
        if torch_threads is None and local:
            n_threads = sum(client.nthreads().values()) or 1
            torch_threads = max(1, (os.cpu_count() or 1) // n_threads)
        client.register_plugin(_worker_plugin(options, torch_threads))
        futures = {}
        for i in todo:
            future = client.submit(
                _generate_file,
                str(files[i]),
                str(outputs[i]),
                options,
                key=f"magnetogan-{run_id}-{i}",
                retries=retries,
                pure=False,
            )
            futures[future] = i
        for future in as_completed(futures):
            i = futures[future]
            base = {"input": str(files[i]), "output": str(outputs[i]), "model": model, "run_id": run_id}
            try:
                info = future.result()
            except Exception as exc:  # the task's own error, or KilledWorker / CancelledError
                record = ArchiveRecord(
                    status="failed", error=f"{type(exc).__name__}: {exc}", time=utc_now(), **base
                )
                log.info("failed: %s: %s", files[i].name, record.error)
            else:
                record = ArchiveRecord(
                    status="done",
                    duration_s=info["duration_s"],
                    worker=info["worker"],
                    warnings=tuple(info["warnings"]),
                    time=utc_now(),
                    **base,
                )
            records[i] = record
            manifest.append(record)
            bar.update(1)
            future.release()

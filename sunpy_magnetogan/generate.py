"""
EUV map in, magnetogram map out.

`generate_magnetogram` is the package's front door: it validates and prepares an AIA or
EUVI 304 A map, runs a registered model on CPU or CUDA, and returns a
`~sunpy_magnetogan.mapsource.MagnetoGANMap` in Gauss with the input's observer and date.
`generate_magnetograms` does the same for many inputs as a stream (constant memory), with
a progress bar and optional FITS output.
"""

import functools
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from sunpy_magnetogan.data.inputs import InputPreparation, prepare_input_map
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.normalization import (
    EUVNormalization,
    MagnetogramNormalization,
    euv_normalization_from_dict,
)
from sunpy_magnetogan.output import magnetogram_map, provenance_meta
from sunpy_magnetogan.validation import read_map

__all__ = ["LoadedModel", "generate_magnetogram", "generate_magnetograms", "load_model", "resolve_device"]

log = logging.getLogger(__name__)


def resolve_device(device=None):
    """
    The torch device to run on.

    Parameters
    ----------
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``...; None picks CUDA when available, else the CPU.

    Returns
    -------
    torch.device

    Raises
    ------
    RuntimeError
        If CUDA is asked for but not available.
    """
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device='cuda' was requested but torch sees no CUDA GPU; use device='cpu'")
    return device


@dataclass(frozen=True)
class LoadedModel:
    """
    A generator ready for inference, with what is needed to use it.

    Attributes
    ----------
    generator : torch.nn.Module
        The pyramid generator in eval mode; maps ``(B, 1, N, N)`` EUV in [-1, 1] to a list
        of levels whose last is ``(B, 1, N, N)`` in [-1, 1]. Unless loaded with
        ``optimize=False`` it is the inference-optimised copy
        (`sunpy_magnetogan.nn.fuse.optimize_for_inference`: batch norms folded into the
        convolutions, channels-last weights, matrix-product transposed convolutions where
        they are faster on the CPU), and with ``compile=True`` a `torch.compile` wrapper.
    card : `~sunpy_magnetogan.weights.ModelCard`
        The model card.
    grid : `~sunpy_magnetogan.grid.ModelGrid`
        The grid the model works on.
    euv_normalization : `~sunpy_magnetogan.normalization.EUVNormalization` or `~sunpy_magnetogan.normalization.QuietSunNormalization`
    magnetogram_normalization : `~sunpy_magnetogan.normalization.MagnetogramNormalization`
    device : torch.device

    Examples
    --------
    >>> import numpy as np
    >>> from sunpy_magnetogan.generate import load_model
    >>> from sunpy_magnetogan.grid import ModelGrid
    >>> from sunpy_magnetogan.normalization import EUVNormalization, MagnetogramNormalization
    >>> from sunpy_magnetogan.training import get_preset
    >>> from sunpy_magnetogan.weights import register_model, save_weights, unregister_model
    >>> config, _ = get_preset("compact")  # a 128 px model with random weights, registered for the example
    >>> generator, _ = config.build()
    >>> card = {"name": "doc-compact", "architecture": config.to_dict(), "normalization": {
    ...     "magnetogram": MagnetogramNormalization().to_dict(), "euv": EUVNormalization().to_dict(),
    ...     "grid": ModelGrid(128).to_dict()}}
    >>> _ = save_weights(generator.state_dict(), tmp_path / "compact.safetensors", card=card)
    >>> _ = register_model(tmp_path / "compact.safetensors", name="doc-compact", cache_dir=tmp_path)
    >>> model = load_model("doc-compact", device="cpu")
    >>> model.name, model.grid.size, model.device
    ('doc-compact', 128, device(type='cpu'))
    >>> model.predict(np.zeros((2, 128, 128), dtype=np.float32)).shape  # Gauss
    (2, 128, 128)
    >>> _ = unregister_model("doc-compact")
    """

    generator: torch.nn.Module
    card: object
    grid: ModelGrid
    euv_normalization: EUVNormalization
    magnetogram_normalization: MagnetogramNormalization
    device: torch.device

    @property
    def name(self):
        return self.card.name

    def predict(self, batch, *, precision="auto"):
        """
        Run the generator on a batch of prepared EUV arrays.

        Parameters
        ----------
        batch : numpy.ndarray
            ``(B, N, N)`` float32 in [-1, 1].
        precision : {"auto", "fp32", "bf16", "fp16"}
            ``"auto"`` is bf16 autocast on CUDA and fp32 on the CPU.

        Returns
        -------
        numpy.ndarray
            ``(B, N, N)`` float32 field in Gauss.
        """
        x = torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32)).unsqueeze(1)
        if self.device.type == "cuda":
            # Page-locked memory makes the copy asynchronous and faster.
            x = x.pin_memory().to(self.device, non_blocking=True)
        dtype = _autocast_dtype(precision, self.device)
        with torch.inference_mode():
            if dtype is None:
                y = self.generator(x)[-1]
            else:
                with torch.autocast(device_type=self.device.type, dtype=dtype):
                    y = self.generator(x)[-1]
            field = self.magnetogram_normalization.inverse(y.float().squeeze(1))
        return field.cpu().numpy()


def _autocast_dtype(precision, device):
    if precision == "auto":
        return torch.bfloat16 if device.type == "cuda" else None
    table = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in table:
        raise ValueError(f"precision must be 'auto', 'fp32', 'bf16' or 'fp16', got {precision!r}")
    return table[precision]


@functools.lru_cache(maxsize=4)
def _load_model_cached(model, device, cache_dir, offline, optimize, compile):
    from sunpy_magnetogan.nn.fuse import optimize_for_inference
    from sunpy_magnetogan.training.config import ModelConfig
    from sunpy_magnetogan.weights import load_state_dict

    state, card = load_state_dict(model, device="cpu", cache_dir=cache_dir, offline=offline)
    config = ModelConfig.from_dict(card.architecture)
    norms = card.normalization
    grid = ModelGrid(**norms.get("grid", {}))
    generator, _ = config.build(norms["magnetogram"], disk_radius=grid.disk_radius)
    generator.load_state_dict(state, strict=True)
    generator.eval()
    if optimize:
        generator = optimize_for_inference(generator, device=device, inplace=True)
    else:
        generator.to(device)
    if compile:
        # CUDA graphs on the GPU (the networks are launch-bound at small batches); on the CPU,
        # inductor's fused C++ kernels. Each new batch size compiles once more.
        mode = "reduce-overhead" if device.type == "cuda" else None
        generator = torch.compile(generator, mode=mode, dynamic=False)
    return LoadedModel(
        generator=generator,
        card=card,
        grid=grid,
        euv_normalization=euv_normalization_from_dict(norms["euv"]) if "euv" in norms else EUVNormalization(),
        magnetogram_normalization=MagnetogramNormalization.from_dict(norms["magnetogram"]),
        device=device,
    )


def load_model(model="default", *, device=None, cache_dir=None, offline=None, optimize=True, compile=False):
    """
    Load a registered model for inference (cached per model, device and options).

    Parameters
    ----------
    model : str or LoadedModel
        A registered model name (`sunpy_magnetogan.weights.list_models`), or an already
        loaded model (returned as is).
    device : str or torch.device, optional
        See `resolve_device`.
    cache_dir : str or os.PathLike, optional
        Weights cache directory (see `sunpy_magnetogan.weights.fetch_weights`).
    offline : bool, optional
        Use only the cache (no download).
    optimize : bool, optional
        Run the inference-optimised copy of the generator
        (`sunpy_magnetogan.nn.fuse.optimize_for_inference`): the same results to float32
        rounding (relative difference below 1e-5), 1.1-2.4x faster on the CPU depending on
        the architecture (see ``benchmarks/README.md``). False runs the generator exactly
        as trained.
    compile : bool, optional
        Also wrap the generator in `torch.compile` (CUDA graphs on a GPU). The first call
        for each batch size compiles (tens of seconds to minutes), so this pays only for
        long runs; results agree to float32 rounding.

    Returns
    -------
    LoadedModel
    """
    if isinstance(model, LoadedModel):
        return model
    return _load_model_cached(
        str(model),
        resolve_device(device),
        None if cache_dir is None else str(cache_dir),
        offline,
        bool(optimize),
        bool(compile),
    )


def generate_magnetogram(
    euv_map,
    *,
    model="default",
    device=None,
    precision="auto",
    allow_other_instruments=False,
    allow_other_wavelengths=False,
):
    """
    Generate a line-of-sight magnetogram from an EUV 304 A map.

    Parameters
    ----------
    euv_map : `~sunpy.map.GenericMap`
        SDO/AIA or STEREO/SECCHI EUVI 304 A map: any size, roll, observer (front or far
        side), full disk or partial field of view; AIA level 1 or 1.5 FITS, a Helioviewer
        JPEG2000 file or EUVI level 0.5 or 1, prepared as the model's card says
        (`sunpy_magnetogan.data.inputs.prepare_input_map`).
    model : str or LoadedModel, optional
        Registered model name; ``"default"`` is the compact pyramid shipped with the package
        (trained on the synthetic Sun: see its model card).
    device : str or torch.device, optional
        ``"cpu"`` or ``"cuda"``; CUDA when available by default.
    precision : {"auto", "fp32", "bf16", "fp16"}, optional
        ``"auto"``: bf16 autocast on CUDA, fp32 on the CPU (deterministic).
    allow_other_instruments, allow_other_wavelengths : bool, optional
        Opt in to inputs the model was not trained for.

    Returns
    -------
    `~sunpy_magnetogan.mapsource.MagnetoGANMap`
        Field in Gauss on the model grid (solar north up), NaN off the disk, with the input's
        observer, date and provenance keywords.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.generate import generate_magnetogram
    >>> aia = sunpy.map.Map("aia_304.fits")  # doctest: +SKIP
    >>> magnetogram = generate_magnetogram(aia)  # doctest: +SKIP
    >>> magnetogram.peek()  # doctest: +SKIP
    """
    loaded = load_model(model, device=device)
    prepared = prepare_input_map(
        euv_map,
        grid=loaded.grid,
        normalization=loaded.euv_normalization,
        preparation=InputPreparation.from_card(loaded.card),
        allow_other_instruments=allow_other_instruments,
        allow_other_wavelengths=allow_other_wavelengths,
    )
    field = loaded.predict(prepared.data[np.newaxis], precision=precision)[0]
    return _to_map(field, prepared, loaded)


def _to_map(field, prepared, loaded):
    return magnetogram_map(
        field,
        prepared.geometry,
        model_name=loaded.name,
        weights_sha256=loaded.card.sha256,
        valid=prepared.disk,
        extra_meta=provenance_meta(loaded.card, prepared.report),
    )


def _iter_inputs(inputs):
    """(label, map) pairs from maps, paths or a MapSequence, reading files lazily."""
    for item in inputs:
        if isinstance(item, str | os.PathLike):
            yield Path(item).name, read_map(item)
        else:
            yield getattr(item, "name", "map"), item


def generate_magnetograms(
    inputs,
    *,
    model="default",
    device=None,
    precision="auto",
    batch_size=4,
    output_dir=None,
    overwrite=False,
    progress=True,
    allow_other_instruments=False,
    allow_other_wavelengths=False,
):
    """
    Generate magnetograms for many inputs, streaming.

    Inputs are read, prepared and run in batches of ``batch_size`` and each result is
    yielded (and written, when ``output_dir`` is given) before the next batch is read,
    so memory stays flat however many inputs there are.

    Parameters
    ----------
    inputs : iterable
        `~sunpy.map.GenericMap` objects, a `~sunpy.map.MapSequence`, or FITS/JP2 paths.
    model, device, precision, allow_other_instruments, allow_other_wavelengths
        As for `generate_magnetogram`.
    batch_size : int, optional
        Maps per forward pass.
    output_dir : str or os.PathLike, optional
        Write each magnetogram there as ``<input stem>_magnetogram.fits`` (written to a
        temporary name and renamed, so a crash never leaves a half-written file).
    overwrite : bool, optional
        Replace existing output files (otherwise inputs whose output exists are skipped).
    progress : bool, optional
        Show a tqdm progress bar.

    Yields
    ------
    `~sunpy_magnetogan.mapsource.MagnetoGANMap`
        One per input, in order (skipped inputs yield nothing).
    """
    loaded = load_model(model, device=device)
    output_dir = None if output_dir is None else Path(output_dir)
    if output_dir is not None:
        output_dir.mkdir(parents=True, exist_ok=True)
    total = len(inputs) if hasattr(inputs, "__len__") else None
    bar = tqdm(total=total, desc="generating magnetograms", unit="map", disable=not progress)
    pending = []

    def flush():
        batch = np.stack([p.data for _, p in pending])
        fields = loaded.predict(batch, precision=precision)
        for (label, prepared), field in zip(pending, fields, strict=True):
            result = _to_map(field, prepared, loaded)
            if output_dir is not None:
                _write_atomic(result, _output_path(output_dir, label))
            bar.update(1)
            yield result
        pending.clear()

    try:
        for label, smap in _iter_inputs(inputs):
            if output_dir is not None and not overwrite and _output_path(output_dir, label).exists():
                log.info("skipping %s: its output exists", label)
                bar.update(1)
                continue
            prepared = prepare_input_map(
                smap,
                grid=loaded.grid,
                normalization=loaded.euv_normalization,
                preparation=InputPreparation.from_card(loaded.card),
                allow_other_instruments=allow_other_instruments,
                allow_other_wavelengths=allow_other_wavelengths,
            )
            pending.append((label, prepared))
            if len(pending) >= batch_size:
                yield from flush()
        if pending:
            yield from flush()
    finally:
        bar.close()


def _output_path(output_dir, label):
    stem = Path(label).name
    for suffix in (".fits", ".fts", ".fit", ".jp2", ".gz"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in stem)
    return output_dir / f"{safe}_magnetogram.fits"


def _write_atomic(smap, path):
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        smap.save(tmp, filetype="fits", overwrite=True)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()

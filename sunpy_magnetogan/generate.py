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

from sunpy_magnetogan._io import magnetogram_path, resolve_device, shared_outputs
from sunpy_magnetogan.architecture import ModelConfig
from sunpy_magnetogan.data.inputs import InputPreparation, prepare_input_map
from sunpy_magnetogan.exceptions import BatchError, MagnetoGANError, OutputPathError
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.nn.fuse import optimize_for_inference
from sunpy_magnetogan.normalization import (
    EUVNormalization,
    MagnetogramNormalization,
    euv_normalization_from_dict,
)
from sunpy_magnetogan.output import confidence_map, magnetogram_map, provenance_meta, save_magnetogram
from sunpy_magnetogan.polarity import PolarityCalibration
from sunpy_magnetogan.prior import apply_prior, prior_on_grid
from sunpy_magnetogan.solar_cycle import cycle_frame
from sunpy_magnetogan.strength import StrengthCalibration
from sunpy_magnetogan.validation import read_map
from sunpy_magnetogan.weights import load_state_dict
from sunpy_magnetogan.weights.cache import ensure_writable_dir

__all__ = ["LoadedModel", "generate_magnetogram", "generate_magnetograms", "load_model", "resolve_device"]

log = logging.getLogger(__name__)


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
    cycle_frame : bool
        The generator predicts the even-cycle frame (see
        `~sunpy_magnetogan.training.ModelConfig`): `predict` needs the frame sign of
        every pixel (`frame`).
    polarity : `~sunpy_magnetogan.polarity.PolarityCalibration` or None
        The calibration of the polarity confidence, when the model card has one.
    prior_polarity : `~sunpy_magnetogan.polarity.PolarityCalibration` or None
        The calibration of signs taken from a prior magnetogram, when the card has one.
    strength : `~sunpy_magnetogan.strength.StrengthCalibration` or None
        The calibration of the field strength, when the card has one.

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
    cycle_frame: bool = False
    polarity: PolarityCalibration | None = None
    prior_polarity: PolarityCalibration | None = None
    strength: StrengthCalibration | None = None

    @property
    def name(self):
        return self.card.name

    def frame(self, geometry):
        """
        The cycle frame of every model-grid pixel of an input.

        Parameters
        ----------
        geometry : `~sunpy_magnetogan.geometry.ModelGeometry`
            The input's placement (``PreparedImage.geometry``): its observer's latitude
            gives each pixel's heliographic latitude, its date the cycles.

        Returns
        -------
        `~sunpy_magnetogan.solar_cycle.CycleFrame`
        """
        return cycle_frame(self.grid.latitude_array(geometry.observer.lat), geometry.date)

    def predict(self, batch, *, precision="auto", frame=None):
        """
        Run the generator on a batch of prepared EUV arrays.

        Parameters
        ----------
        batch : numpy.ndarray
            ``(B, N, N)`` float32 in [-1, 1].
        precision : {"auto", "fp32", "bf16", "fp16"}
            ``"auto"`` is bf16 autocast on CUDA and fp32 on the CPU.
        frame : numpy.ndarray, optional
            ``(B, N, N)`` (or ``(N, N)``) cycle-frame signs of the pixels
            (`CycleFrame.sign` of `frame`); required when the model has ``cycle_frame``,
            ignored otherwise.

        Returns
        -------
        numpy.ndarray
            ``(B, N, N)`` float32 field in Gauss.

        Raises
        ------
        MagnetoGANError
            If the model works in the cycle frame and ``frame`` is not given.
        """
        if self.cycle_frame and frame is None:
            raise MagnetoGANError(
                f"model {self.name!r} predicts the field in the even-cycle frame: pass "
                "frame=LoadedModel.frame(geometry).sign, which depends on the date and observer"
            )
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
        field = field.cpu().numpy()
        if self.cycle_frame:
            field *= np.asarray(frame, dtype=np.float32)
        return field


def _autocast_dtype(precision, device):
    if precision == "auto":
        return torch.bfloat16 if device.type == "cuda" else None
    table = {"fp32": None, "bf16": torch.bfloat16, "fp16": torch.float16}
    if precision not in table:
        raise ValueError(f"precision must be 'auto', 'fp32', 'bf16' or 'fp16', got {precision!r}")
    return table[precision]


@functools.lru_cache(maxsize=4)
def _load_model_cached(model, device, cache_dir, offline, optimize, compile):
    state, card = load_state_dict(model, device="cpu", cache_dir=cache_dir, offline=offline)
    config = ModelConfig.from_dict(card.architecture)
    norms = card.normalization
    grid = ModelGrid(**norms.get("grid", {}))
    generator, _ = config.build(norms["magnetogram"], disk_radius=grid.disk_radius)
    calibration = card.calibration
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
        cycle_frame=config.cycle_frame,
        polarity=PolarityCalibration.from_dict(calibration["polarity"])
        if "polarity" in calibration
        else None,
        prior_polarity=PolarityCalibration.from_dict(calibration["prior"])
        if "prior" in calibration
        else None,
        strength=StrengthCalibration.from_dict(calibration["strength"])
        if "strength" in calibration
        else None,
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
        rounding (relative difference 1e-5 to 4e-5) and faster (speed-ups per architecture:
        ``benchmarks/README.md``). False runs the generator exactly as trained.
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
    prior=None,
    return_confidence=False,
    strength="raw",
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
    prior : `~sunpy.map.GenericMap`, optional
        A magnetogram observed earlier (frontside HMI, or a previously generated map), from
        any observer: rotated to the EUV map's date and observer with the solar
        differential rotation, it gives the generated field its sign wherever it clearly
        sees the field (`sunpy_magnetogan.prior`). Without it, polarities follow Hale's law
        for the cycle of the date.
    return_confidence : bool, optional
        Also return the polarity confidence: a map of the probability that each pixel's
        sign is right (`sunpy_magnetogan.polarity`; save both with
        `~sunpy_magnetogan.output.save_magnetogram`).
    strength : {"raw", "calibrated"}, optional
        ``"raw"`` (default): the generator's least-squares field (too weak where it cannot
        know the sign, mostly the quiet Sun near disk centre). ``"calibrated"``: the
        generated ``|B|`` mapped onto the true distribution of field strengths by annulus
        of ``mu`` (`sunpy_magnetogan.strength`, from the model card): right quiet-Sun
        strength and total unsigned flux on inputs like the training data, larger squared
        error where signs are uncertain, and too much flux on inputs unlike them (see the
        field-strength guide). ``MGANSTRN`` records the choice.
    allow_other_instruments, allow_other_wavelengths : bool, optional
        Opt in to inputs the model was not trained for.

    Returns
    -------
    magnetogram : `~sunpy_magnetogan.mapsource.MagnetoGANMap`
        Field in Gauss on the model grid (solar north up), NaN off the disk, with the input's
        observer, date and provenance keywords (``MGANCYCL``: the solar cycles whose Hale
        order was applied; ``MGANPRIO``: the date of the prior, when one was given;
        ``MGANSTRN``: ``calibrated`` or ``raw`` strength).
    confidence : `~sunpy.map.GenericMap`
        Only with ``return_confidence``: the polarity confidence (0.5-1 mostly; NaN off the
        disk and where no calibration applies).

    Raises
    ------
    MagnetoGANError
        If ``return_confidence`` is asked of a model without a polarity calibration, or
        ``strength="calibrated"`` of one without a strength calibration.

    Examples
    --------
    >>> import sunpy.map
    >>> from sunpy_magnetogan.generate import generate_magnetogram
    >>> aia = sunpy.map.Map("aia_304.fits")  # doctest: +SKIP
    >>> magnetogram, confidence = generate_magnetogram(aia, return_confidence=True)  # doctest: +SKIP
    >>> magnetogram.peek()  # doctest: +SKIP
    """
    loaded = load_model(model, device=device)
    if return_confidence and loaded.polarity is None:
        raise MagnetoGANError(
            f"model {loaded.name!r} has no polarity calibration in its card: it cannot give a confidence"
        )
    calibrate = _use_strength(loaded, strength)
    prepared = prepare_input_map(
        euv_map,
        grid=loaded.grid,
        normalization=loaded.euv_normalization,
        preparation=InputPreparation.from_card(loaded.card),
        allow_other_instruments=allow_other_instruments,
        allow_other_wavelengths=allow_other_wavelengths,
    )
    ((magnetogram, confidence),) = _generate_prepared(
        loaded, [prepared], precision=precision, priors=[prior], strength=calibrate
    )
    return (magnetogram, confidence) if return_confidence else magnetogram


def _use_strength(loaded, strength):
    """Whether to apply the model's strength calibration (see `generate_magnetogram`)."""
    if strength not in ("calibrated", "raw"):
        raise ValueError(f"strength must be 'raw' or 'calibrated', got {strength!r}")
    if strength == "calibrated" and loaded.strength is None:
        raise MagnetoGANError(
            f"model {loaded.name!r} has no strength calibration in its card: use strength='raw'"
        )
    return strength == "calibrated"


def _generate_prepared(loaded, prepared, *, precision, priors=None, strength=False):
    """
    Maps (and confidence maps, or None) of a batch of prepared inputs.

    The generator runs once on the whole batch; the cycle frame, the optional priors, the
    polarity confidence (of the raw strengths, on which it was fitted) and, with
    ``strength``, the strength calibration are applied per input.
    """
    frames = [loaded.frame(p.geometry) for p in prepared] if loaded.cycle_frame else None
    mu = loaded.grid.mu_array() if strength else None
    fields = loaded.predict(
        np.stack([p.data for p in prepared]),
        precision=precision,
        frame=None if frames is None else np.stack([f.sign for f in frames]),
    )
    results = []
    for i, (item, field) in enumerate(zip(prepared, fields, strict=True)):
        extra = {}
        cycle_probability = np.ones(field.shape, dtype=np.float32)
        if frames is not None:
            on_disk = frames[i].cycle[item.disk]
            extra["mgancycl"] = ",".join(str(int(c)) for c in np.unique(on_disk) if c)
            cycle_probability = frames[i].probability
        probability = (
            None if loaded.polarity is None else loaded.polarity.probability(field, cycle_probability)
        )
        prior = priors[i] if priors else None
        if prior is not None:
            field, smoothed, decided = apply_prior(field, prior_on_grid(prior, item.geometry))
            extra["mganprio"] = prior.reference_date.isot
            extra["mganprpx"] = round(float(decided[item.disk].mean()) if item.disk.any() else 0.0, 4)
            if probability is not None:
                from_prior = (
                    np.full(field.shape, np.nan, dtype=np.float32)
                    if loaded.prior_polarity is None
                    else loaded.prior_polarity.probability(smoothed, 1.0)
                )
                probability = np.where(decided, from_prior, probability)
        if strength:
            field = loaded.strength.apply(field, mu)
        extra["mganstrn"] = "calibrated" if strength else "raw"
        magnetogram = _to_map(field, item, loaded, extra)
        results.append(
            (magnetogram, None if probability is None else confidence_map(probability, magnetogram))
        )
    return results


def _to_map(field, prepared, loaded, extra_meta=None):
    return magnetogram_map(
        field,
        prepared.geometry,
        model_name=loaded.name,
        weights_sha256=loaded.card.sha256,
        valid=prepared.disk,
        extra_meta={**provenance_meta(loaded.card, prepared.report), **(extra_meta or {})},
    )


def _read_input(path):
    if path.is_dir():
        raise IsADirectoryError(f"{path} is a directory, not an image file; give the files in it")
    return read_map(path)


def _iter_inputs(inputs):
    """
    ``(label, shown, read)`` per input: the file name that names its output, how messages
    show it (the path as given), and a function returning its map; files are read only when
    that function is called.
    """
    for item in inputs:
        if isinstance(item, str | os.PathLike):
            path = Path(item)
            yield path.name, str(path), functools.partial(_read_input, path)
        else:
            label = str(getattr(item, "name", "map"))
            yield label, label, functools.partial(lambda smap: smap, item)


def _check_distinct_outputs(output_dir, items):
    """Refuse two inputs that would write the same output file (e.g. ``a/x.fits``, ``b/x.jp2``)."""
    clashes = shared_outputs((magnetogram_path(output_dir, label), shown) for label, shown, _ in items)
    if clashes:
        out, shown = next(iter(clashes.items()))
        raise OutputPathError(
            f"{len(clashes)} output file name(s) would be written by several inputs, e.g. {out.name} by "
            f"{' and '.join(shown)}; give the inputs distinct file names or use separate output folders"
        )


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
    on_error="continue",
    prior=None,
    confidence=False,
    strength="raw",
    allow_other_instruments=False,
    allow_other_wavelengths=False,
):
    """
    Generate magnetograms for many inputs, streaming.

    Inputs are read, prepared and run in batches of ``batch_size`` and each result is
    yielded (and written, when ``output_dir`` is given) before the next batch is read,
    so memory stays flat however many inputs there are. An input that cannot be used
    (unreadable, wrong wavelength...) never costs the others their result: the good inputs
    are generated and written, and the failures are reported at the end (or at once, with
    ``on_error="raise"``, after the good inputs read before it are written).

    Parameters
    ----------
    inputs : iterable
        `~sunpy.map.GenericMap` objects, a `~sunpy.map.MapSequence`, or FITS/JP2 paths.
    model, device, precision, strength, allow_other_instruments, allow_other_wavelengths
        As for `generate_magnetogram`.
    batch_size : int, optional
        Maps per forward pass.
    output_dir : str or os.PathLike, optional
        Write each magnetogram there as ``<input file name without suffix>_magnetogram.fits``
        (a map input is named by its ``name``), through a temporary file renamed into
        place, so a crash never leaves a half-written file. The folder is created and
        checked writable, and the output names checked distinct, before the model is
        loaded: inputs whose names would give the same output file (``a/x.fits`` and
        ``b/x.jp2``) are refused, never written over each other.
    overwrite : bool, optional
        Replace existing output files (otherwise inputs whose output exists are skipped
        without being read).
    progress : bool, optional
        Show a tqdm progress bar (of the inputs still to do).
    on_error : {"continue", "raise"}, optional
        ``"continue"``: go on after an input fails and raise a
        `~sunpy_magnetogan.exceptions.BatchError` listing the failures at the end;
        ``"raise"``: stop at the first failure and raise its error.
    prior : `~sunpy.map.GenericMap`, optional
        One earlier magnetogram used as the prior of every input (rotated to each input's
        date and observer; see `generate_magnetogram`).
    confidence : bool, optional
        Write each output with its polarity confidence as a second image HDU
        (`~sunpy_magnetogan.output.save_magnetogram`); the yielded maps are unchanged.

    Yields
    ------
    `~sunpy_magnetogan.mapsource.MagnetoGANMap`
        One per input generated, in order (skipped and failed inputs yield nothing).

    Raises
    ------
    sunpy_magnetogan.exceptions.OutputPathError
        Before any work, if the output folder cannot be written or two inputs would write
        the same output file (for an input stream without a length, when the second of them
        comes).
    sunpy_magnetogan.exceptions.BatchError
        At the end, if some inputs failed (``on_error="continue"``); its ``failures`` lists
        them.
    """
    if on_error not in ("continue", "raise"):
        raise ValueError(f"on_error must be 'continue' or 'raise', got {on_error!r}")
    output_dir = None if output_dir is None else ensure_writable_dir(output_dir)
    items = _iter_inputs(inputs)
    total = None
    if hasattr(inputs, "__len__"):
        items = list(items)
        if output_dir is not None:
            _check_distinct_outputs(output_dir, items)
            if not overwrite:
                todo = [item for item in items if not magnetogram_path(output_dir, item[0]).exists()]
                if len(todo) < len(items):
                    log.info(
                        "skipping %d of %d inputs: their outputs exist", len(items) - len(todo), len(items)
                    )
                items = todo
        total = len(items)
    loaded = load_model(model, device=device)
    if confidence and loaded.polarity is None:
        raise MagnetoGANError(
            f"model {loaded.name!r} has no polarity calibration in its card: it cannot give a confidence"
        )
    calibrate = _use_strength(loaded, strength)
    bar = tqdm(total=total, desc="generating magnetograms", unit="map", disable=not progress or total == 0)
    pending, failures, seen = [], [], set()
    n_done = 0

    def flush():
        nonlocal n_done
        if not pending:
            return
        results = _generate_prepared(
            loaded,
            [prepared for _, prepared in pending],
            precision=precision,
            priors=[prior] * len(pending),
            strength=calibrate,
        )
        for (path, _), (result, probability) in zip(pending, results, strict=True):
            if path is not None:
                save_magnetogram(path, result, confidence=probability if confidence else None, overwrite=True)
            n_done += 1
            bar.update(1)
            yield result
        pending.clear()

    try:
        for label, shown, read in items:
            path = None if output_dir is None else magnetogram_path(output_dir, label)
            if path is not None:
                if path in seen:
                    yield from flush()  # what was read before is written first
                    raise OutputPathError(
                        f"{shown} would write {path.name} again; give inputs distinct file names"
                    )
                seen.add(path)
                if not overwrite and path.exists():
                    log.info("skipping %s: its output exists", shown)
                    continue
            try:
                prepared = prepare_input_map(
                    read(),
                    grid=loaded.grid,
                    normalization=loaded.euv_normalization,
                    preparation=InputPreparation.from_card(loaded.card),
                    allow_other_instruments=allow_other_instruments,
                    allow_other_wavelengths=allow_other_wavelengths,
                )
            except (MagnetoGANError, OSError, ValueError) as exc:
                if on_error == "raise":
                    yield from flush()  # the good inputs read before this one are not lost
                    raise
                log.info("%s failed: %s", shown, exc)
                failures.append((shown, exc))
                bar.update(1)
                continue
            pending.append((path, prepared))
            if len(pending) >= batch_size:
                yield from flush()
        yield from flush()
    finally:
        bar.close()
    if failures:
        raise BatchError(failures, done=n_done)

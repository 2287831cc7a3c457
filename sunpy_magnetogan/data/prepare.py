"""
From downloaded observations to a training-ready pair store.

Every EUV image goes through the one input preparation shared with inference
(`~sunpy_magnetogan.data.inputs.prepare_input_map`: product recognition, instrument
calibration, the EUVI-to-AIA intercalibration, `~sunpy_magnetogan.preprocess.prepare_euv_map`).
Training pairs are made one at a time by `prepare_pair`
(`sunpy_magnetogan.data.pair_preparation`: quality checks, that EUV path, and
`~sunpy_magnetogan.preprocess.prepare_magnetogram_map` for HMI); `prepare_pairs` and
`prepare_dataset` write them to a `~sunpy_magnetogan.pairs.PairStore` with the
provenance of each pair as manifest columns, resumably, and record the
`~sunpy_magnetogan.data.inputs.InputPreparation` in the store's attributes (for the model
card of a model trained on it). The dataset directory also receives ``prepare_log.jsonl``
(one line per pair: added, rejected or failed, and why) and ``euv_reference.json`` (the
AIA intensity distribution of the training pairs, used to intercalibrate far-side EUVI
inputs).

`PreparedPair`, `prepare_pair` and `training_preparation` (now in
`sunpy_magnetogan.data.pair_preparation`), and `calibrate_euv_map` and `prepare_input_map`
(from `sunpy_magnetogan.data.inputs`) stay importable from here.
"""

import datetime
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path

import astropy.units as u
import numpy as np

from sunpy_magnetogan import __version__
from sunpy_magnetogan.data.download import MANIFEST_FILE, PLAN_FILE, SETTINGS_FILE
from sunpy_magnetogan.data.inputs import calibrate_euv_map, prepare_input_map
from sunpy_magnetogan.data.intercalibration import DEFAULT_LEVELS, QuantileReference
from sunpy_magnetogan.data.manifest import DownloadManifest
from sunpy_magnetogan.data.pair_preparation import (
    PreparedPair,
    prepare_pair,
    quantile_column,
    training_preparation,
)
from sunpy_magnetogan.data.pairing import read_plan
from sunpy_magnetogan.data.quality import QualityPolicy
from sunpy_magnetogan.exceptions import MagnetoGANError, QualityRejectedError
from sunpy_magnetogan.grid import ModelGrid
from sunpy_magnetogan.normalization import QuietSunNormalization
from sunpy_magnetogan.pairs import PairStore
from sunpy_magnetogan.validation import read_map

__all__ = [
    "LOG_FILE",
    "REFERENCE_FILE",
    "PairInput",
    "PrepareReport",
    "PreparedPair",
    "calibrate_euv_map",
    "pair_inputs_from_fetch",
    "prepare_dataset",
    "prepare_input_map",
    "prepare_pair",
    "prepare_pairs",
    "reference_from_store",
    "training_preparation",
]

log = logging.getLogger(__name__)

#: Per-pair outcome log, in the dataset directory.
LOG_FILE = "prepare_log.jsonl"
#: The AIA reference distribution of the training pairs, in the dataset directory.
REFERENCE_FILE = "euv_reference.json"


@dataclass(frozen=True)
class PairInput:
    """
    The files of one pair to prepare.

    Parameters
    ----------
    pair_id : str
        Identifier in the store.
    split : str
        ``"train"``, ``"test"``...
    euv_path, mag_path : str or os.PathLike
        The AIA and HMI files.
    meta : dict, optional
        Extra provenance for the manifest (e.g. archive keys, the synoptic time as ``date``).

    Examples
    --------
    >>> from sunpy_magnetogan.data import PairInput
    >>> PairInput("sdo_20110101_0000", "train", "aia.fits", "hmi.fits", meta={"date": "2011-01-01T00:00"}).split
    'train'
    """

    pair_id: str
    split: str
    euv_path: object
    mag_path: object
    meta: dict = field(default_factory=dict)


@dataclass
class PrepareReport:
    """
    What `prepare_pairs` / `prepare_dataset` did.

    Attributes
    ----------
    added, skipped : list of str
        Pairs written now / already in the store (or rejected in an earlier run).
    rejected, failed : dict
        ``{pair_id: reason}``: rejected by the quality checks (not retried), or failed
        (unreadable file, unusable metadata; retried on the next run).
    not_downloaded : list of str
        Planned pairs whose files are not (all) downloaded.
    reference : `~sunpy_magnetogan.data.intercalibration.QuantileReference` or None
        The AIA reference distribution of the training pairs.

    Examples
    --------
    >>> from sunpy_magnetogan.data import PrepareReport
    >>> report = PrepareReport(added=["sdo_20110101_0000"], failed={"sdo_20110101_1200": "OSError: truncated file"})
    >>> report.added, report.rejected, list(report.failed)
    (['sdo_20110101_0000'], {}, ['sdo_20110101_1200'])
    """

    added: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    rejected: dict = field(default_factory=dict)
    failed: dict = field(default_factory=dict)
    not_downloaded: list = field(default_factory=list)
    reference: object = None


def _append_log(path, pair_id, status, reason=""):
    entry = {
        "pair_id": pair_id,
        "status": status,
        "reason": reason,
        "time": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    with Path(path).open("a") as f:
        f.write(json.dumps(entry) + "\n")
        f.flush()


def _read_log(path):
    outcomes = {}
    path = Path(path)
    if path.is_file():
        for line in path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            outcomes[entry["pair_id"]] = entry
    return outcomes


def prepare_pairs(
    items,
    store,
    *,
    grid=None,
    normalization=None,
    tables=None,
    register=True,
    preparation=None,
    policy=None,
    max_time_difference=15 * u.min,
    progress=False,
):
    """
    Prepare pairs of files and add them to a pair store, skipping those already done.

    Parameters
    ----------
    items : iterable of PairInput
        The pairs.
    store : `~sunpy_magnetogan.pairs.PairStore`
        Where they go (its grid size sets the grid).
    grid : `~sunpy_magnetogan.grid.ModelGrid`, optional
        Must match the store's size; ``ModelGrid(store.grid_size)`` by default.
    normalization, tables, register, preparation, policy, max_time_difference
        As for `prepare_pair`.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    PrepareReport

    Examples
    --------
    >>> from sunpy_magnetogan.data import PairInput, prepare_pairs
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> from sunpy_magnetogan.pairs import PairStore
    >>> store = PairStore.create(tmp_path / "pairs", grid_size=128)
    >>> report = prepare_pairs([PairInput("sample", "train", SAMPLE_AIA304, SAMPLE_HMI)], store)
    >>> report.added, report.rejected, report.failed
    (['sample'], {}, {})
    >>> store.ids("train")
    ['sample']
    >>> prepare_pairs([PairInput("sample", "train", SAMPLE_AIA304, SAMPLE_HMI)], store).skipped  # resumable
    ['sample']
    """
    from tqdm.auto import tqdm

    grid = grid or ModelGrid(store.grid_size)
    if grid.size != store.grid_size:
        raise ValueError(f"the grid has size {grid.size}, the store holds {store.grid_size} px arrays")
    log_path = store.path / LOG_FILE
    previous = _read_log(log_path)
    report = PrepareReport()
    for item in tqdm(list(items), desc="prepare", unit="pair", disable=not progress):
        if item.pair_id in store or previous.get(item.pair_id, {}).get("status") == "rejected":
            report.skipped.append(item.pair_id)
            continue
        try:
            euv_map = read_map(item.euv_path)
            mag_map = read_map(item.mag_path)
            pair = prepare_pair(
                euv_map,
                mag_map,
                grid=grid,
                normalization=normalization,
                tables=tables,
                register=register,
                preparation=preparation,
                policy=policy,
                max_time_difference=max_time_difference,
            )
        except QualityRejectedError as exc:
            report.rejected[item.pair_id] = str(exc)
            _append_log(log_path, item.pair_id, "rejected", str(exc))
            log.info("pair %s rejected: %s", item.pair_id, exc)
            continue
        except (MagnetoGANError, OSError, ValueError) as exc:
            report.failed[item.pair_id] = f"{type(exc).__name__}: {exc}"
            _append_log(log_path, item.pair_id, "failed", report.failed[item.pair_id])
            log.warning("pair %s failed: %s", item.pair_id, exc)
            continue
        meta = {
            "date": pair.meta["euv_date"],
            "euv_file": Path(item.euv_path).name,
            "mag_file": Path(item.mag_path).name,
            **pair.meta,
            **item.meta,
        }
        store.add(
            item.pair_id, euv=pair.euv.data, mag=pair.mag.data, disk=pair.disk, split=item.split, meta=meta
        )
        _append_log(log_path, item.pair_id, "added")
        report.added.append(item.pair_id)
    return report


def reference_from_store(store, *, split="train", levels=DEFAULT_LEVELS):
    """
    The AIA reference distribution of a store's pairs (from their ``euv_q*`` columns).

    Parameters
    ----------
    store : `~sunpy_magnetogan.pairs.PairStore`
        A store written by `prepare_pairs`.
    split : str or None, optional
        Use the pairs of this split only (the training split by default).
    levels : sequence of float, optional
        The recorded percentiles.

    Returns
    -------
    `~sunpy_magnetogan.data.intercalibration.QuantileReference` or None
        None when no pair has the columns.

    Examples
    --------
    >>> from sunpy_magnetogan.data import PairInput, prepare_pairs
    >>> from sunpy_magnetogan.sample import SAMPLE_AIA304, SAMPLE_HMI
    >>> from sunpy_magnetogan.pairs import PairStore
    >>> store = PairStore.create(tmp_path / "pairs", grid_size=128)
    >>> report = prepare_pairs([PairInput("sample", "train", SAMPLE_AIA304, SAMPLE_HMI)], store)
    >>> from sunpy_magnetogan.data import reference_from_store
    >>> reference = reference_from_store(store)
    >>> reference.n_images, reference.levels
    (1, (10.0, 25.0, 50.0, 75.0, 90.0))
    """
    rows, dates, units = [], [], set()
    for pair_id in store.ids(split):
        meta = store.meta(pair_id)
        try:
            rows.append([float(meta[quantile_column(level)]) for level in levels])
        except (KeyError, ValueError):
            continue
        dates.append(meta.get("euv_date") or meta.get("date"))
        units.add(meta.get("euv_unit", ""))
    if not rows:
        return None
    return QuantileReference.from_quantiles(
        np.array(rows),
        levels=levels,
        dates=[d for d in dates if d],
        unit=", ".join(sorted(unit for unit in units if unit)),
        grid_size=store.grid_size,
    )


def pair_inputs_from_fetch(fetch_dir):
    """
    The pairs a ``fetch`` directory planned, with the paths of their downloaded files.

    Parameters
    ----------
    fetch_dir : str or os.PathLike
        A directory written by `~sunpy_magnetogan.data.download.fetch_dataset`.

    Returns
    -------
    inputs : list of PairInput
        The planned AIA/HMI pairs whose two files are downloaded.
    missing : list of str
        Pair ids whose files are not (all) downloaded yet.

    Raises
    ------
    FileNotFoundError
        If the directory has no ``pairs.csv``.
    """
    fetch_dir = Path(fetch_dir)
    plan_file = fetch_dir / PLAN_FILE
    if not plan_file.is_file():
        raise FileNotFoundError(f"no {PLAN_FILE} in {fetch_dir}: run `sunpy-magnetogan fetch` first")
    manifest = DownloadManifest(fetch_dir / MANIFEST_FILE)
    inputs, missing = [], []
    for plan in read_plan(plan_file):
        if plan.mag is None:
            continue
        if not (manifest.is_complete(plan.euv.key) and manifest.is_complete(plan.mag.key)):
            missing.append(plan.pair_id)
            continue
        inputs.append(
            PairInput(
                plan.pair_id,
                plan.split,
                manifest.path_of(plan.euv.key),
                manifest.path_of(plan.mag.key),
                meta={
                    "target": plan.target.isot,
                    "euv_key": plan.euv.key,
                    "mag_key": plan.mag.key,
                    "euv_provider": plan.euv.provider,
                    "mag_provider": plan.mag.provider,
                },
            )
        )
    return inputs, missing


def prepare_dataset(
    fetch_dir,
    out_dir,
    *,
    grid_size=512,
    normalization=None,
    tables=None,
    register=True,
    preparation=None,
    policy=None,
    max_time_difference=15 * u.min,
    limit=None,
    progress=False,
):
    """
    Prepare every downloaded pair of a ``fetch`` directory into a pair store.

    Parameters
    ----------
    fetch_dir : str or os.PathLike
        Written by `~sunpy_magnetogan.data.download.fetch_dataset`.
    out_dir : str or os.PathLike
        The pair store (created, or extended when it exists with the same grid size).
    grid_size : int, optional
        N of the N x N arrays.
    normalization, tables, register, preparation, policy, max_time_difference
        As for `prepare_pair`; the resulting input preparation is recorded in the store's
        attributes (``preprocessing["input_preparation"]``).
    limit : int, optional
        Prepare at most this many (new or old) pairs, in plan order.
    progress : bool, optional
        Show a progress bar.

    Returns
    -------
    PrepareReport
        Its ``reference`` is also written to ``out_dir / "euv_reference.json"``.

    Examples
    --------
    >>> from sunpy_magnetogan.data import prepare_dataset
    >>> report = prepare_dataset("aia_hmi_2011", "pairs_2011", grid_size=512)  # doctest: +SKIP
    """
    policy = QualityPolicy() if policy is None else policy
    normalization = normalization or QuietSunNormalization()
    preparation = training_preparation(preparation, register)
    inputs, missing = pair_inputs_from_fetch(fetch_dir)
    if limit is not None:
        inputs = inputs[: int(limit)]
    settings_file = Path(fetch_dir) / SETTINGS_FILE
    fetch_settings = json.loads(settings_file.read_text()) if settings_file.is_file() else {}
    attrs = {
        "source": "sdo",
        "euv": "SDO/AIA 304 A",
        "magnetogram": "SDO/HMI line-of-sight (hmi.M_720s)",
        "grid": ModelGrid(grid_size).to_dict(),
        "euv_normalization": normalization.to_dict(),
        "input_preparation": preparation.to_dict(),
        "preprocessing": {
            "euv": "sunpy_magnetogan.data.inputs.prepare_input_map",
            "input_preparation": preparation.to_dict(),
            "magnetogram": "sunpy_magnetogan.preprocess.prepare_magnetogram_map",
            "register": preparation.aia_register,
            "pointing_table": bool(tables is not None and tables.pointing is not None),
            "degradation_table": bool(tables is not None and tables.correction is not None),
            "quality_policy": policy.to_dict(),
        },
        "euv_reference_file": REFERENCE_FILE,
        "fetch": fetch_settings,
        "created_by": f"sunpy-magnetogan {__version__}",
    }
    store = PairStore.create(out_dir, grid_size=grid_size, attrs=attrs, exist_ok=True)
    report = prepare_pairs(
        inputs,
        store,
        normalization=normalization,
        tables=tables,
        register=preparation.aia_register,
        preparation=preparation,
        policy=policy,
        max_time_difference=max_time_difference,
        progress=progress,
    )
    report.not_downloaded = missing
    report.reference = reference_from_store(store, split="train")
    if report.reference is not None:
        report.reference.save(store.path / REFERENCE_FILE)
    log.info(
        "prepare: %d added, %d already done, %d rejected, %d failed, %d not downloaded",
        len(report.added),
        len(report.skipped),
        len(report.rejected),
        len(report.failed),
        len(missing),
    )
    return report

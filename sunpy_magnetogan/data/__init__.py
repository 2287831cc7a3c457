"""
Real observations: from a date range to a training-ready dataset, and far-side inputs.

The workflow (also the ``sunpy-magnetogan fetch`` and ``prepare`` commands):

1. `fetch_dataset` searches the JSOC or the VSO with `sunpy.net.Fido` for SDO/AIA 304 A
   images and SDO/HMI magnetograms at 00:00 and 12:00 UT (`~sunpy_magnetogan.data.query`),
   pairs them by time and assigns the paper's train/test split
   (`~sunpy_magnetogan.data.pairing`), and downloads the files resumably with a manifest
   (`~sunpy_magnetogan.data.download`, `~sunpy_magnetogan.data.manifest`). A single EUVI
   source (STEREO-A or -B) selects far-side inputs instead.
2. `prepare_dataset` (`~sunpy_magnetogan.data.prepare`) prepares each pair with
   `prepare_pair` (`~sunpy_magnetogan.data.pair_preparation`): it rejects bad observations
   (``QUALITY`` flags, eclipses, missing data; `~sunpy_magnetogan.data.quality`), calibrates
   AIA with aiapy (`~sunpy_magnetogan.data.calibrate`), puts both images on the model grid
   with the same code as inference (`prepare_input_map`, the one input preparation;
   `~sunpy_magnetogan.data.inputs`), and writes a `~sunpy_magnetogan.pairs.PairStore` with
   per-pair provenance.
3. Far-side EUVI images are calibrated and intercalibrated to the training data's AIA
   intensity distribution (`~sunpy_magnetogan.data.intercalibration`) by the same
   `prepare_input_map`, keeping the STEREO observer.

Only the search, export and download functions need the network (and the ``net`` extra:
``sunpy[net]``, ``parfive``, ``aiapy``); everything else works offline.
"""

from sunpy_magnetogan.data.calibrate import (
    CalibrationResult,
    CalibrationTables,
    calibrate_euvi_map,
    prep_aia_map,
)
from sunpy_magnetogan.data.download import (
    DownloadJob,
    FetchReport,
    FetchSummary,
    ParfiveDownloader,
    fetch_dataset,
    fetch_files,
    resolve_download_jobs,
)
from sunpy_magnetogan.data.inputs import (
    InputPreparation,
    calibrate_euv_map,
    prepare_calibrated_map,
    prepare_input_map,
)
from sunpy_magnetogan.data.intercalibration import (
    IntensityMapping,
    QuantileReference,
    fit_intensity_mapping,
    intercalibrate_euvi,
    quiet_sun_quantiles,
)
from sunpy_magnetogan.data.manifest import DownloadManifest
from sunpy_magnetogan.data.pair_preparation import PreparedPair, prepare_pair, training_preparation
from sunpy_magnetogan.data.pairing import (
    PairPlan,
    Record,
    SplitRule,
    pair_records,
    read_plan,
    select_farside,
    select_nearest,
    write_plan,
)
from sunpy_magnetogan.data.prepare import (
    PairInput,
    PrepareReport,
    prepare_dataset,
    prepare_pairs,
    reference_from_store,
)
from sunpy_magnetogan.data.quality import QualityPolicy, QualityReport, assess_quality, check_quality
from sunpy_magnetogan.data.query import (
    SOURCES,
    DataSource,
    build_query,
    month_chunks,
    search_records,
    synoptic_times,
)

__all__ = [
    "SOURCES",
    "CalibrationResult",
    "CalibrationTables",
    "DataSource",
    "DownloadJob",
    "DownloadManifest",
    "FetchReport",
    "FetchSummary",
    "InputPreparation",
    "IntensityMapping",
    "PairInput",
    "PairPlan",
    "ParfiveDownloader",
    "PrepareReport",
    "PreparedPair",
    "QualityPolicy",
    "QualityReport",
    "QuantileReference",
    "Record",
    "SplitRule",
    "assess_quality",
    "build_query",
    "calibrate_euv_map",
    "calibrate_euvi_map",
    "check_quality",
    "fetch_dataset",
    "fetch_files",
    "fit_intensity_mapping",
    "intercalibrate_euvi",
    "month_chunks",
    "pair_records",
    "prep_aia_map",
    "prepare_calibrated_map",
    "prepare_dataset",
    "prepare_input_map",
    "prepare_pair",
    "prepare_pairs",
    "quiet_sun_quantiles",
    "read_plan",
    "reference_from_store",
    "resolve_download_jobs",
    "search_records",
    "select_farside",
    "select_nearest",
    "synoptic_times",
    "training_preparation",
    "write_plan",
]

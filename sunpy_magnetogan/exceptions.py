"""
The exceptions and warnings raised by sunpy-magnetogan.

Every error the package raises on purpose derives from `MagnetoGANError`, and every
warning from `MagnetoGANWarning` (itself a `~sunpy.util.exceptions.SunpyUserWarning`, so
``warnings.filterwarnings`` rules written for sunpy apply). Errors about bad input also
derive from the built-in exception a caller would expect (`ValueError`, `TypeError`,
`OSError`), so ``except ValueError`` keeps working.
"""

import warnings

from sunpy.util.exceptions import SunpyUserWarning

__all__ = [
    "ArchiveError",
    "BadPixelWarning",
    "BatchError",
    "CacheError",
    "CalibrationWarning",
    "CheckpointError",
    "CheckpointWarning",
    "CorruptFileError",
    "DataFetchError",
    "DeviceError",
    "DownloadError",
    "HashMismatchError",
    "ImpossibleGeometryError",
    "InputMapError",
    "InvalidDataError",
    "InvalidUnitError",
    "LowResolutionError",
    "MagnetoGANError",
    "MagnetoGANWarning",
    "MissingMetadataError",
    "ModelCardError",
    "ModelNotFoundError",
    "OutputPathError",
    "PartialDiskWarning",
    "QualityRejectedError",
    "SaturationWarning",
    "TimeSpanError",
    "TimeSpanWarning",
    "TrainingConfigError",
    "UncalibratedInputWarning",
    "UnsafeWeightsError",
    "UnsupportedInputWarning",
    "UnsupportedInstrumentError",
    "UnsupportedProductError",
    "UnsupportedWavelengthError",
    "WeightsArchitectureError",
    "WeightsError",
    "WeightsWarning",
    "warn_user",
]


class MagnetoGANError(Exception):
    """
    Base class of every error raised by sunpy-magnetogan.
    """


class InputMapError(MagnetoGANError, ValueError):
    """
    An input map cannot be used: wrong instrument, wavelength, metadata or data.
    """


class UnsupportedInstrumentError(InputMapError):
    """
    The map does not come from an instrument the model was trained for.

    Pass ``allow_other_instruments=True`` to the preprocessing functions to use it anyway.
    """


class UnsupportedWavelengthError(InputMapError):
    """
    The map is not a 304 Angstrom image.

    Pass ``allow_other_wavelengths=True`` to the preprocessing functions to use it anyway.
    """


class MissingMetadataError(InputMapError):
    """
    The map lacks metadata needed to place it on the Sun (observer, date, WCS, units).
    """


class InvalidDataError(InputMapError):
    """
    The map's data cannot be used (e.g. no finite pixel on the solar disk).
    """


class InvalidUnitError(MissingMetadataError):
    """
    The map's unit (``BUNIT``) is not one the instrument's images carry (e.g. Gauss on an
    AIA image), or cannot be parsed at all.
    """


class ImpossibleGeometryError(InputMapError):
    """
    The map's geometry cannot be real: the observer inside or on the Sun, or the solar disk
    entirely outside the image.
    """


class LowResolutionError(InvalidDataError):
    """
    The image resolves the solar disk far more coarsely than the model grid: its disk
    radius is under an eighth of the grid's (see `~sunpy_magnetogan.preprocess.MIN_INPUT_RESOLUTION`).
    """


class UnsupportedProductError(InputMapError):
    """
    The map is a data product that cannot be put on the training scale: a display image
    (8-bit PNG/JPEG/JPEG2000) whose scaling is not documented, a level-0 file, an
    instrument product the model's preparation does not know.
    """


class CorruptFileError(MagnetoGANError, OSError):
    """
    A file could not be read as a solar image (truncated, not FITS/JP2, damaged).
    """


class WeightsError(MagnetoGANError):
    """
    Base class of errors about model weights and the model registry.
    """


class ModelNotFoundError(WeightsError, KeyError):
    """
    No model of that name is registered.
    """

    def __str__(self):
        # KeyError quotes its message; show it as written.
        return str(self.args[0]) if self.args else ""


class DownloadError(WeightsError, OSError):
    """
    Weights could not be downloaded (no network, HTTP error, truncated transfer).
    """


class HashMismatchError(WeightsError):
    """
    A weights file does not have the SHA-256 hash its model card states.
    """


class UnsafeWeightsError(WeightsError):
    """
    A weights file is not a safetensors file (e.g. a pickle); it is refused unread.
    """


class CacheError(WeightsError, OSError):
    """
    The weights cache is missing what offline mode needs, or cannot be written.
    """


class MagnetoGANWarning(SunpyUserWarning):
    """
    Base class of every warning issued by sunpy-magnetogan.
    """


class UnsupportedInputWarning(MagnetoGANWarning):
    """
    The caller opted in to an instrument or wavelength the model was not trained for.
    """


class BadPixelWarning(MagnetoGANWarning):
    """
    Non-finite or negative pixels were found and replaced before they reached the model.
    """


class PartialDiskWarning(MagnetoGANWarning):
    """
    The input covers only part of the solar disk; the uncovered part is masked.
    """


class CalibrationWarning(MagnetoGANWarning):
    """
    A calibration step of the model's input preparation could not run (e.g. the AIA
    degradation correction without its table); the message names the step and why.
    """


class SaturationWarning(MagnetoGANWarning):
    """
    More of the solar disk than the preparation accepts quietly is saturated (detector
    full well, flare blooming) or clipped (the top of a display product's scale).
    """


def warn_user(message, category=MagnetoGANWarning, stacklevel=2):
    """
    Issue a sunpy-magnetogan warning.

    Parameters
    ----------
    message : str
        What happened and what the user can do about it.
    category : type, optional
        A subclass of `MagnetoGANWarning`.
    stacklevel : int, optional
        As for `warnings.warn`; the default points at the caller of the function that
        calls ``warn_user``.

    Examples
    --------
    >>> import pytest
    >>> from sunpy_magnetogan.exceptions import BadPixelWarning, warn_user
    >>> with pytest.warns(BadPixelWarning, match="3 NaN pixels"):
    ...     warn_user("3 NaN pixels on the disk were left out", BadPixelWarning)
    """
    if not issubclass(category, MagnetoGANWarning):
        raise TypeError(f"category must be a MagnetoGANWarning subclass, not {category!r}")
    warnings.warn(message, category, stacklevel=stacklevel + 1)


class TrainingConfigError(MagnetoGANError, ValueError):
    """
    A training or model configuration is invalid or inconsistent (unknown preset or key,
    sizes that the networks cannot handle, a config file that cannot be parsed).
    """


class CheckpointError(MagnetoGANError, OSError):
    """
    No valid training checkpoint could be found or read (missing, corrupt or incompatible).
    """


class CheckpointWarning(MagnetoGANWarning):
    """
    The newest training checkpoint was unusable (e.g. half-written or corrupt) and an older
    valid one was used instead.
    """


class ModelCardError(WeightsError, ValueError):
    """
    A model card is invalid (missing or malformed field, unsafe file name, bad sha256) or
    cannot be registered (name already taken, no sha256 for a URL).
    """


class WeightsWarning(MagnetoGANWarning):
    """
    Something about the model registry deserves attention but does not stop the work (e.g.
    an unreadable list of user-registered models was skipped).
    """


class DataFetchError(MagnetoGANError, OSError):
    """
    Solar observations could not be searched for or downloaded (no network, an archive
    error, a JSOC export that failed, a file whose size does not match the archive's).
    """


class QualityRejectedError(InputMapError):
    """
    An observation fails the data-quality checks (``QUALITY`` flags, eclipse, missing
    data, non-science image) and is not used for training.
    """


class ArchiveError(MagnetoGANError):
    """
    An archive-scale generation run cannot start: two inputs would write the same output
    file, or another run holds the output directory.
    """


class TimeSpanError(InputMapError):
    """
    Maps to be combined (e.g. into a synoptic map) were observed further apart in time than
    allowed; the message gives the span found and the limit.
    """


class TimeSpanWarning(MagnetoGANWarning):
    """
    Maps combined into one product were observed further apart in time than the limit, and
    the caller asked for a warning instead of an error.
    """


class UncalibratedInputWarning(MagnetoGANWarning):
    """
    An input lacks a cross-calibration that its use assumes, e.g. a Solar Orbiter PHI
    magnetogram used as truth before it was put on the HMI scale
    (`~sunpy_magnetogan.data.solo.phi_to_hmi`).
    """


class OutputPathError(MagnetoGANError, OSError):
    """
    Results cannot be written where asked: the output folder is a file or not writable, or
    two inputs would write the same output file. Raised before any work starts.
    """


class DeviceError(MagnetoGANError, RuntimeError):
    """
    The torch device asked for does not exist (e.g. ``"banana"``) or is not available
    (``"cuda"`` without a GPU).
    """


class WeightsArchitectureError(ModelCardError):
    """
    A weights file does not hold the tensors its model card's architecture needs (a missing
    or extra tensor name, a different shape or dtype): the file belongs to another model.
    """


class BatchError(MagnetoGANError):
    """
    Some inputs of a batch failed; the others were generated (and written).

    Attributes
    ----------
    failures : list of (str, Exception)
        The label (file name) of each failed input and its error, in input order.
    """

    def __init__(self, failures, *, done=0):
        self.failures = list(failures)
        self.done = done
        lines = [f"{label}: {error}" for label, error in self.failures]
        super().__init__(f"{len(self.failures)} input(s) failed ({done} generated):\n  " + "\n  ".join(lines))

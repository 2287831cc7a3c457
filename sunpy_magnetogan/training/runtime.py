"""
The settings of a training process that are not the model's: the device it trains on,
its mixed precision (autocast) and its deterministic algorithms.
"""

import contextlib
import logging
import os

import torch

from sunpy_magnetogan._io import resolve_device

__all__ = ["autocast", "autocast_dtype", "deterministic_algorithms", "select_device"]

log = logging.getLogger("sunpy_magnetogan.training.trainer")


def select_device(device=None, *, local_rank=0):
    """
    The torch device to train on.

    `sunpy_magnetogan._io.resolve_device` (the same function as inference's), except
    that a bare ``"cuda"`` always selects GPU ``local_rank``.

    Parameters
    ----------
    device : str or torch.device, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:N"``; None or ``"auto"`` picks CUDA when available.
    local_rank : int, optional
        Rank on this node.

    Returns
    -------
    torch.device

    Examples
    --------
    >>> from sunpy_magnetogan.training import select_device
    >>> select_device("cpu")
    device(type='cpu')
    """
    return resolve_device(device, local_rank=local_rank)


def autocast_dtype(device, amp_dtype):
    """
    The autocast dtype of a training run.

    Parameters
    ----------
    device : torch.device
        The training device; autocast is used on CUDA only.
    amp_dtype : {"bfloat16", "float16", "none"}
        `~sunpy_magnetogan.training.TrainConfig.amp_dtype`.

    Returns
    -------
    torch.dtype or None
        None for full precision; float16 in place of bfloat16 on a GPU without bfloat16.
    """
    if device.type != "cuda" or amp_dtype == "none":
        return None
    dtype = getattr(torch, amp_dtype)
    if dtype is torch.bfloat16 and not torch.cuda.is_bf16_supported():
        log.info("this GPU has no bfloat16 support; using float16 autocast instead")
        return torch.float16
    return dtype


def autocast(device, dtype):
    """
    The autocast context of a training run.

    Parameters
    ----------
    device : torch.device
        The training device.
    dtype : torch.dtype or None
        From `autocast_dtype`; None disables autocast.

    Returns
    -------
    torch.autocast
    """
    return torch.autocast(device_type=device.type, dtype=dtype or torch.float32, enabled=dtype is not None)


@contextlib.contextmanager
def deterministic_algorithms(deterministic, device):
    """
    Context in which torch runs deterministically (or, on CUDA, at its fastest).

    Parameters
    ----------
    deterministic : bool
        `~sunpy_magnetogan.training.TrainConfig.deterministic`: deterministic algorithms
        and cuDNN kernels. False lets cuDNN pick its fastest kernels on CUDA.
    device : torch.device
        The training device.

    Notes
    -----
    The global torch settings are restored on exit.
    """
    previous = (
        torch.are_deterministic_algorithms_enabled(),
        torch.is_deterministic_algorithms_warn_only_enabled(),
        torch.backends.cudnn.deterministic,
        torch.backends.cudnn.benchmark,
    )
    previous_fill = torch.utils.deterministic.fill_uninitialized_memory
    if deterministic:
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        # Some CUDA kernels (e.g. the backward of bilinear upsampling) have no
        # deterministic version: warn about them there instead of failing.
        torch.use_deterministic_algorithms(True, warn_only=device.type == "cuda")
        # Deterministic mode also fills every new tensor with NaN (a debugging aid for
        # reads of uninitialised memory, which none of these kernels do): a wasted
        # pass over memory for each of the ~1700 tensors of a step.
        torch.utils.deterministic.fill_uninitialized_memory = False
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous[0], warn_only=previous[1])
        torch.utils.deterministic.fill_uninitialized_memory = previous_fill
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = previous[2:]

"""
Data-parallel training across processes (``torchrun``), on GPUs (NCCL) or CPUs (gloo).

Launch any training command under ``torchrun`` and it becomes data-parallel: every
process holds a full copy of the networks (`~torch.nn.parallel.DistributedDataParallel`
averages the gradients), trains on its own slice of each global batch, and rank 0 alone
writes logs and checkpoints::

    torchrun --nproc_per_node 4 -m sunpy_magnetogan.cli.train DATASET --preset paper --out RUN
    torchrun --nnodes 2 --nproc_per_node 8 --rdzv-endpoint HOST:29500 ...   # multi-node

The process group is configured from the environment variables ``torchrun`` sets
(``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``MASTER_ADDR``, ``MASTER_PORT``).
"""

import hashlib
import logging
import os
from dataclasses import dataclass

import torch
import torch.distributed as dist

__all__ = [
    "DistributedContext",
    "all_gather_object",
    "barrier",
    "broadcast_buffers",
    "init_distributed",
    "parameters_fingerprint",
    "reduce_mean",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DistributedContext:
    """
    Where this process sits in a (possibly one-process) data-parallel run.

    Parameters
    ----------
    rank : int
        Global rank (0 for a plain run).
    local_rank : int
        Rank on this node (selects the GPU).
    world_size : int
        Number of processes.
    owns_group : bool
        Whether this context initialised the process group (and must destroy it).

    Examples
    --------
    >>> from sunpy_magnetogan.training import DistributedContext
    >>> context = DistributedContext()  # a plain, one-process run
    >>> context.enabled, context.is_main, context.world_size
    (False, True, 1)
    """

    rank: int = 0
    local_rank: int = 0
    world_size: int = 1
    owns_group: bool = False

    @property
    def enabled(self):
        """True when there is more than one process."""
        return self.world_size > 1

    @property
    def is_main(self):
        """True on the process that writes logs and checkpoints (rank 0)."""
        return self.rank == 0

    def close(self):
        """Destroy the process group if this context created it."""
        if self.owns_group and dist.is_initialized():
            dist.destroy_process_group()


def init_distributed(device_type="cpu"):
    """
    Join the process group described by the ``torchrun`` environment, if any.

    Parameters
    ----------
    device_type : {"cpu", "cuda"}, optional
        Selects the backend: NCCL for CUDA, gloo for CPU.

    Returns
    -------
    DistributedContext
        A one-process context when ``WORLD_SIZE`` is unset or 1.

    Examples
    --------
    >>> from sunpy_magnetogan.training import init_distributed
    >>> init_distributed("cpu").world_size  # without torchrun: one process
    1
    """
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return DistributedContext()
    rank = int(os.environ["RANK"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    owns = False
    if not dist.is_initialized():
        backend = "nccl" if device_type == "cuda" else "gloo"
        if device_type == "cuda":
            torch.cuda.set_device(local_rank)
        dist.init_process_group(backend=backend)
        owns = True
        log.info("joined a %s process group as rank %d of %d", backend, rank, world_size)
    return DistributedContext(rank=rank, local_rank=local_rank, world_size=world_size, owns_group=owns)


def barrier(context):
    """
    Wait until every process reaches this point (no-op without a process group).

    Parameters
    ----------
    context : DistributedContext
    """
    if context.enabled:
        dist.barrier()


def all_gather_object(context, obj):
    """
    Collect a picklable object from every process.

    Parameters
    ----------
    context : DistributedContext
    obj : object
        This process's contribution (small: it is pickled).

    Returns
    -------
    list
        One entry per rank, in rank order.
    """
    if not context.enabled:
        return [obj]
    gathered = [None] * context.world_size
    dist.all_gather_object(gathered, obj)
    return gathered


def reduce_mean(context, tensor):
    """
    Average a tensor over all processes.

    Parameters
    ----------
    context : DistributedContext
    tensor : torch.Tensor
        Same shape on every process.

    Returns
    -------
    torch.Tensor
        The mean (a new tensor; the input is not changed).
    """
    if not context.enabled:
        return tensor.clone()
    out = tensor.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / context.world_size


def parameters_fingerprint(*modules):
    """
    SHA-256 of the parameters and buffers of modules, to compare replicas bit by bit.

    Parameters
    ----------
    *modules : torch.nn.Module
        The modules, hashed in order and by state-dict key.

    Returns
    -------
    str
        Hex digest.
    """
    digest = hashlib.sha256()
    for module in modules:
        for key, value in sorted(module.state_dict().items()):
            digest.update(key.encode())
            digest.update(value.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def broadcast_buffers(context, *modules):
    """
    Copy rank 0's buffers (e.g. batch-norm running statistics) to every process.

    `~torch.nn.parallel.DistributedDataParallel` keeps parameters identical across ranks
    but lets each rank update its buffers with its own data between forward passes; call
    this before comparing or saving replicas.

    Parameters
    ----------
    context : DistributedContext
    *modules : torch.nn.Module
        Modules whose floating-point and integer buffers are broadcast in place.
    """
    if not context.enabled:
        return
    for module in modules:
        for buffer in module.buffers():
            dist.broadcast(buffer.data, src=0)

"""Devices and DistributedDataParallel: picking the device, joining a torchrun group, sharding data.

``torchrun --nproc_per_node N -m zi2zi train ...`` sets RANK / WORLD_SIZE / LOCAL_RANK (and the
rendezvous address); a plain ``zi2zi train`` has none of them and runs as a single process. Only
rank 0 logs, samples, evaluates and saves; the others wait at a barrier while it does.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from zi2zi import device
from zi2zi.config import ConfigError


@dataclass(frozen=True)
class DistInfo:
    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def env_dist_info() -> DistInfo:
    """The process's place in a torchrun group, or a single process when the variables are unset."""
    try:
        world = int(os.environ.get("WORLD_SIZE", "1"))
        rank = int(os.environ.get("RANK", "0"))
        local = int(os.environ.get("LOCAL_RANK", str(rank)))
    except ValueError as exc:
        raise ConfigError(f"RANK / WORLD_SIZE / LOCAL_RANK must be integers ({exc})") from None
    if world < 1 or not 0 <= rank < world:
        raise ConfigError(f"RANK={rank} is not inside WORLD_SIZE={world}")
    return DistInfo(rank=rank, world_size=world, local_rank=local)


def resolve_device(spec: str, info: DistInfo = DistInfo()) -> torch.device:
    """:func:`zi2zi.device.resolve_device` for this process of a (possibly distributed) run."""
    return device.resolve_device(spec, local_rank=info.local_rank if info.enabled else None)


def init_process_group(info: DistInfo, device: torch.device) -> None:
    """Join the torchrun group: nccl for CUDA, gloo for CPU. A no-op for a single process."""
    if not info.enabled or dist.is_initialized():
        return
    backend = "nccl" if device.type == "cuda" else "gloo"
    if device.type == "cuda":
        torch.cuda.set_device(device)
    dist.init_process_group(backend=backend, rank=info.rank, world_size=info.world_size)


def destroy_process_group(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.destroy_process_group()


def barrier(info: DistInfo) -> None:
    if info.enabled and dist.is_initialized():
        dist.barrier()


def any_rank(flag: bool, info: DistInfo, device: torch.device) -> bool:
    """True on every rank when ``flag`` is true on any: ranks must stop on the same iteration."""
    if not (info.enabled and dist.is_initialized()):
        return flag
    t = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(t, op=dist.ReduceOp.MAX)
    return bool(t.item() > 0)


def shard(order: np.ndarray, info: DistInfo) -> np.ndarray:
    """This rank's disjoint slice of one epoch's order; every rank gets the same length, so
    collectives stay in step (the few left over are dropped for this epoch only)."""
    per_rank = len(order) // info.world_size
    return order[info.rank * per_rank : (info.rank + 1) * per_rank]

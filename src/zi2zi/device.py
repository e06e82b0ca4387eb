"""The one device resolver: what ``--device`` / ``train.device`` means, with errors that say
what this machine has instead."""

from __future__ import annotations

import torch

from zi2zi.config import ConfigError


def resolve_device(spec: str, *, local_rank: int | None = None) -> torch.device:
    """``auto`` picks CUDA, then MPS, then CPU. ``local_rank`` (under torchrun): each process
    takes ``cuda:LOCAL_RANK``."""
    distributed = local_rank is not None
    spec = (spec or "auto").strip().lower()
    if spec == "auto":
        if torch.cuda.is_available():
            spec = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            spec = "mps"
        else:
            spec = "cpu"
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "mps":
        if not (getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()):
            raise ConfigError("--device mps: this machine has no Apple GPU available to torch; use --device cpu")
        if distributed:
            raise ConfigError("distributed training runs on CUDA (nccl) or CPU (gloo), not on MPS")
        return torch.device("mps")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise ConfigError(f"--device {spec}: torch sees no CUDA GPU here (CPU build or no driver); use --device cpu")
        if spec == "cuda":
            index = local_rank if local_rank is not None else torch.cuda.current_device()
        else:
            try:
                index = int(spec.split(":", 1)[1])
            except ValueError:
                raise ConfigError(f"--device {spec}: write cuda:N with N a GPU number") from None
            if distributed and index != local_rank:
                raise ConfigError("under torchrun give --device cuda (each rank uses GPU LOCAL_RANK), not cuda:N")
        if not 0 <= index < torch.cuda.device_count():
            raise ConfigError(f"--device cuda:{index}: only {torch.cuda.device_count()} GPU(s) are visible")
        return torch.device("cuda", index)
    raise ConfigError(f"--device {spec!r}: choose auto, cpu, cuda, cuda:N or mps")


def cpu_name() -> str:
    """The CPU's model name as the system reports it (e.g. "AMD EPYC"), for records of where a
    figure was measured or a model trained."""
    import platform
    from pathlib import Path

    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX tiles), where bf16 autocast
    makes training and inference faster; elsewhere bf16 is emulated and slower than fp32."""
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(bool(check()) for check in checks if check is not None)

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


def _cpuinfo(field: str) -> str | None:
    """The first value of ``field`` in /proc/cpuinfo ("model name", "vendor_id"), or None where
    the system has no such file (macOS, Windows)."""
    from pathlib import Path

    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.split(":", 1)[0].strip() == field:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def cpu_name() -> str:
    """The CPU's model name as the system reports it (e.g. "AMD EPYC"), for records of where a
    figure was measured or a model trained."""
    import platform

    return _cpuinfo("model name") or platform.processor() or platform.machine() or "unknown"


def cpu_vendor() -> str:
    """The CPU's vendor string ("AuthenticAMD", "GenuineIntel"), or "" where it is not reported."""
    return _cpuinfo("vendor_id") or ""


def _cpu_check(name: str) -> bool:
    check = getattr(getattr(torch, "cpu", None), name, None)
    return bool(check()) if check is not None else False


def cpu_has_avx512_bf16() -> bool:
    return _cpu_check("_is_avx512_bf16_supported")


def cpu_has_amx() -> bool:
    """AMX tiles as this system exposes them (a hypervisor may hide a CPU's AMX)."""
    return _cpu_check("_is_amx_tile_supported")


def cpu_has_bf16() -> bool:
    """Whether this CPU computes bf16 natively (AVX-512 BF16 or AMX tiles), so that bf16 autocast
    can be measured on it at all; elsewhere bf16 is emulated and far slower than fp32."""
    return cpu_has_avx512_bf16() or cpu_has_amx()


def bf16_is_faster(vendor: str, *, avx512_bf16: bool, amx: bool) -> bool:
    """Whether bf16 autocast was measured faster than fp32 at fine-tuning and drawing glyphs on a
    CPU of this kind (benchmarks/reports/bf16-speed.md): one with AMX tiles (Intel Xeon since
    Sapphire Rapids), or an AMD CPU with AVX-512 BF16 (Zen 4 and later). An Intel CPU with AVX-512
    BF16 but no AMX (Cooper Lake, or a newer Xeon whose hypervisor hides AMX) computes bf16
    natively, yet was measured no faster at fine-tuning and slower at drawing 256 px glyphs."""
    return amx or (avx512_bf16 and vendor == "AuthenticAMD")


def cpu_prefers_bf16() -> bool:
    """:func:`bf16_is_faster` for this CPU: what the precision defaults follow."""
    return bf16_is_faster(cpu_vendor(), avx512_bf16=cpu_has_avx512_bf16(), amx=cpu_has_amx())

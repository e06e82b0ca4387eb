"""Process-level settings of a run: seeds, data order, precision, torch flags, stop signals."""

from __future__ import annotations

import os
import random
import signal
import threading
from typing import Any

import numpy as np
import torch

from zi2zi.config import TrainConfig
from zi2zi.training.step import Precision


def set_seeds(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def order_generator(seed: int, epoch: int) -> torch.Generator:
    """The data order of an epoch depends on (seed, epoch) only: every rank draws the same
    permutation, and a resumed run redraws it instead of storing it."""
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


def precision(amp: str, device: torch.device) -> Precision:
    if amp == "none" or (amp == "auto" and device.type != "cuda"):
        return Precision(device.type, None)
    if amp == "auto":
        amp = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    return Precision(device.type, torch.bfloat16 if amp == "bf16" else torch.float16)


def preferred_amp(configured: str, device: torch.device) -> str:
    """``configured`` (a ``train.amp`` value) with ``auto`` made bf16 on a CPU where bf16 was
    measured faster than fp32 (:func:`zi2zi.device.cpu_prefers_bf16`: AMX, or AMD with AVX-512
    BF16), for all the work where bf16 was measured equal to fp32 in quality within three seeds'
    spread (benchmarks/reports/bf16-quality.md): training from scratch, fine-tuning (1.3x faster on
    AMD EPYC) and drawing glyphs (generator and refiner, 1.5-1.75x,
    benchmarks/reports/bf16-inference.md). Elsewhere (a CPU that emulates bf16 or computes it
    without gaining speed, a GPU) it is ``configured`` unchanged."""
    from zi2zi.device import cpu_prefers_bf16

    if configured == "auto" and device.type == "cpu" and cpu_prefers_bf16():
        return "bf16"
    return configured


def configure_torch(t: TrainConfig, device: torch.device) -> None:
    if t.num_threads > 0:
        torch.set_num_threads(t.num_threads)
    if t.deterministic:
        # cuBLAS needs this before its first use to be deterministic.
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.deterministic = True
        torch.backends.cudnn.benchmark = False
    elif device.type == "cuda":
        torch.backends.cudnn.benchmark = True


class StopSignals:
    """SIGINT/SIGTERM ask the loop to stop after the current iteration and checkpoint; a second
    SIGINT interrupts at once."""

    def __init__(self) -> None:
        self.requested = False
        self._old: dict[int, Any] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._old[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: Any) -> None:
        for sig, handler in self._old.items():
            signal.signal(sig, handler)

"""Which precision a run computes in: train.amp, its "auto" on this hardware, and its refusals."""

from __future__ import annotations

import pytest
import torch

from zi2zi.config import Config, ConfigError
from zi2zi.training import runtime


def test_auto_on_a_cpu_is_fp32_and_bf16_is_asked_for():
    # Training from scratch: bf16 is not measured there yet, so fp32 stays its CPU default.
    cpu = torch.device("cpu")
    assert runtime.precision("auto", cpu).dtype is None
    assert runtime.precision("none", cpu).dtype is None
    assert runtime.precision("bf16", cpu).dtype is torch.bfloat16


def test_an_unknown_amp_is_refused_with_the_choices():
    cfg = Config()
    cfg.train.amp = "fp8"  # type: ignore[assignment]
    with pytest.raises(ConfigError, match="train.amp='fp8'; choose one of auto, none, bf16, fp16"):
        cfg.validate()


def test_finetune_refuses_an_unknown_amp_before_writing_anything(tmp_path):
    from zi2zi.finetune import finetune

    out = tmp_path / "run"
    with pytest.raises(ConfigError, match="--amp 'fp8'"):
        finetune("base-64", out, target="AR PL UKai CN", amp="fp8")
    assert not out.exists()


def test_finetuning_and_drawing_default_to_bf16_only_where_the_cpu_computes_it(monkeypatch):
    # Both measured equal to fp32 within the seeds' spread (benchmarks/reports/bf16-quality.md,
    # bf16-inference.md); emulated bf16 is slower than fp32.
    import zi2zi.device

    cpu = torch.device("cpu")
    for native, expected in ((True, "bf16"), (False, "auto")):
        monkeypatch.setattr(zi2zi.device, "cpu_has_bf16", lambda native=native: native)
        assert runtime.native_bf16("auto", cpu) == expected
        assert runtime.native_bf16("none", cpu) == "none"  # a config that asks for fp32 keeps it
        assert runtime.native_bf16("fp16", cpu) == "fp16"

"""Which precision a run computes in: train.amp, its "auto" on this hardware, and its refusals."""

from __future__ import annotations

import pytest
import torch

from zi2zi.config import Config, ConfigError
from zi2zi.training import runtime


def test_auto_on_a_cpu_is_fp32_and_bf16_is_asked_for():
    # precision() itself keeps auto fp32 on a CPU; preferred_amp() makes it bf16 where faster.
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


def test_finetuning_and_drawing_default_to_bf16_only_where_the_cpu_is_faster_in_it(monkeypatch):
    # Both measured equal to fp32 within the seeds' spread (benchmarks/reports/bf16-quality.md,
    # bf16-inference.md); faster only on some CPUs that compute bf16 (bf16-speed.md).
    import zi2zi.device

    cpu = torch.device("cpu")
    for faster, expected in ((True, "bf16"), (False, "auto")):
        monkeypatch.setattr(zi2zi.device, "cpu_prefers_bf16", lambda faster=faster: faster)
        assert runtime.preferred_amp("auto", cpu) == expected
        assert runtime.preferred_amp("none", cpu) == "none"  # a config that asks for fp32 keeps it
        assert runtime.preferred_amp("fp16", cpu) == "fp16"


@pytest.mark.parametrize(("vendor", "avx512_bf16", "amx", "faster"), [
    ("AuthenticAMD", True, False, True),    # AMD EPYC (Zen 4): fine-tune 1.32x, drawing 1.5-1.75x
    ("GenuineIntel", True, True, True),     # Intel Xeon with AMX: trainer step 1.69-3.61x
    ("GenuineIntel", True, False, False),   # Intel Xeon, AMX hidden: fine-tune 1.0x, 256 px drawing 0.83x
    ("AuthenticAMD", False, False, False),  # emulated bf16
    ("", False, False, False),
])
def test_bf16_is_preferred_on_the_kinds_of_cpu_where_it_was_measured_faster(vendor, avx512_bf16, amx, faster):
    from zi2zi.device import bf16_is_faster

    assert bf16_is_faster(vendor, avx512_bf16=avx512_bf16, amx=amx) is faster


def test_this_cpus_preference_follows_its_reported_units(monkeypatch):
    import zi2zi.device as device

    for vendor, avx, amx, faster in (("AuthenticAMD", True, False, True), ("GenuineIntel", True, False, False)):
        monkeypatch.setattr(device, "cpu_vendor", lambda vendor=vendor: vendor)
        monkeypatch.setattr(device, "cpu_has_avx512_bf16", lambda avx=avx: avx)
        monkeypatch.setattr(device, "cpu_has_amx", lambda amx=amx: amx)
        assert device.cpu_prefers_bf16() is faster
        assert device.cpu_has_bf16()  # both compute bf16 natively; only one gains speed from it

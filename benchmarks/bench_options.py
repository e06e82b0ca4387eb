"""What each speed option gives the small models on this CPU: one process, every variant timed in turn.

A variant is the trainer's step (:class:`zi2zi.training.step.Zi2ziStep`) with one choice changed
from the default: memory format, ``torch.compile`` (inductor, training mode), bf16 autocast, the
thread count, the batch size, or the blur's implementation. All variants of a case are built
first and warmed up, then timed round-robin (variant A, B, C, ..., A, B, C, ...) so that a busy
moment of a shared machine hits all of them alike; the figures are medians over the rounds with
the quartiles as spread, and each variant's speed is stated as a ratio to the default (eager
fp32) in the same run. FLOPs per image are counted once per case with FlopCounterMode; the share
of matmul is against a dense fp32 2048^3 matmul measured before and after (the better of two).

    python -m benchmarks.bench_options                       # cpu-small and the fine-tuning step
    python -m benchmarks.bench_options --cases cpu-small --rounds 10
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bench_train import matmul_gflops
from benchmarks.common import machine, quartiles, synthetic_batch

HERE = Path(__file__).parent

# case: (preset, overrides, fine-tuning?) -- fine-tuning trains one new style row with a frozen
# encoder and no discriminator, as `zi2zi finetune` does for up to 500 glyphs (zi2zi.finetune.recipe).
CASES = {
    "cpu-small": ("cpu-small", [], False),
    "finetune": ("base-64", ["train.batch_size=32", "loss.adversarial=false"], True),
    "classic-256": ("classic", ["train.batch_size=16"], False),
}
DEFAULT_CASES = ["cpu-small", "finetune"]


@dataclass
class Variant:
    name: str
    what: str
    channels_last: bool = False
    compile: bool = False
    amp: str = "none"
    threads: int = 0  # 0: the process default
    batch: int | None = None  # None: the case's
    blur: str = "kornia"  # "kornia": gaussian_blur2d as shipped; "separable": kornia filter2d_separable, cached kernel
    extra: dict = field(default_factory=dict)


VARIANTS = [
    Variant("eager", "default: fp32, eager, contiguous"),
    Variant("channels_last", "channels_last memory format", channels_last=True),
    Variant("compile", "torch.compile (inductor) of G's pass and D", compile=True),
    Variant("channels_last+compile", "both", channels_last=True, compile=True),
    Variant("bf16", "bf16 autocast (not the same math: bf16 products)", amp="bf16"),
    Variant("threads-1", "one torch thread", threads=1),
    Variant("batch-16", "batch 16 (img/s compared)", batch=16),
    Variant("batch-64", "batch 64 (img/s compared)", batch=64),
    Variant("blur-separable", "blur as kornia filter2d_separable with its kernel built once", blur="separable"),
]


def _separable_blur(module) -> None:
    """Replace a GaussianBlur's forward by kornia's separable filter with a kernel made once."""
    import kornia.filters

    kernel = kornia.filters.get_gaussian_kernel1d(module.kernel_size, module.sigma)

    def forward(x):
        k = kernel.to(x.device, x.dtype)
        return kornia.filters.filter2d_separable(x, k, k, border_type="reflect")

    module.forward = forward


def build(case: str, variant: Variant):
    import torch

    from zi2zi.config import load_config
    from zi2zi.models import build_models
    from zi2zi.training.runtime import precision
    from zi2zi.training.step import Zi2ziStep

    preset, overrides, finetune = CASES[case]
    cfg = load_config(preset, overrides=[*overrides, f"train.channels_last={str(variant.channels_last).lower()}"])
    batch = variant.batch or cfg.train.batch_size
    torch.manual_seed(0)
    styles = cfg.model.generator.num_styles
    g, d = build_models(cfg, styles)
    if variant.blur == "separable" and d.blur is not None:
        _separable_blur(d.blur)
    for net in (g, d):
        net.train()
        if variant.channels_last:
            net.to(memory_format=torch.channels_last)
    step = Zi2ziStep(g, d, cfg, device=torch.device("cpu"), precision=precision(variant.amp, torch.device("cpu")),
                     freeze_encoder=finetune, trainable_styles=[styles - 1] if finetune else None)
    if variant.compile:
        step.gen_pass = torch.compile(step.gen_pass)
        step._judge_local = torch.compile(step._judge_local)
    data = synthetic_batch(cfg.model.image_size, batch, styles, style=styles - 1 if finetune else None)

    def run() -> None:
        step.set_input(data)
        step.optimize()

    return run, batch


def timed(fn: Callable[[], None], threads: int) -> float:
    import torch

    default = torch.get_num_threads()
    if threads:
        torch.set_num_threads(threads)
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        torch.set_num_threads(default)


def flops_per_image(case: str) -> float:
    from torch.utils.flop_counter import FlopCounterMode

    run, batch = build(case, VARIANTS[0])
    with FlopCounterMode(display=False) as counter:
        run()
    return counter.get_total_flops() / batch


def bench_case(case: str, variants: list[Variant], rounds: int, warmup: int, log) -> dict:
    built = {}
    for v in variants:
        log(f"{case}: building and warming up {v.name}")
        run, batch = build(case, v)
        for _ in range(warmup):
            timed(run, v.threads)
        built[v.name] = (run, batch, v)
    times: dict[str, list[float]] = {name: [] for name in built}
    for r in range(rounds):
        for name, (run, _, v) in built.items():
            times[name].append(timed(run, v.threads))
        log(f"{case}: round {r + 1}/{rounds} done")
    flops = flops_per_image(case)
    rows = []
    for name, (_, batch, v) in built.items():
        spread = quartiles(times[name])
        med = spread["median_s"]
        rows.append({"variant": name, "what": v.what, "batch": batch, **spread,
                     "img_per_s": round(batch / med, 2), "gflops": round(flops * batch / med / 1e9, 1)})
    base = next(r for r in rows if r["variant"] == "eager")
    for r in rows:
        r["speed_vs_eager"] = round(r["img_per_s"] / base["img_per_s"], 3)
    return {"case": case, "rounds": rounds, "warmup": warmup, "gflop_per_img": round(flops / 1e9, 3), "variants": rows}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), default=DEFAULT_CASES)
    parser.add_argument("--variants", nargs="+", choices=[v.name for v in VARIANTS],
                        help="variants to time (default: all; eager is always included)")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds (default 10)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed iterations per variant first (default 3)")
    args = parser.parse_args()

    wanted = set(args.variants or [v.name for v in VARIANTS]) | {"eager"}
    variants = [v for v in VARIANTS if v.name in wanted]

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    before = matmul_gflops()
    cases = [bench_case(c, copy.deepcopy(variants), args.rounds, args.warmup, log) for c in args.cases]
    after = matmul_gflops()
    matmul = max(before, after)
    for c in cases:
        for r in c["variants"]:
            r["matmul_share"] = round(r["gflops"] / matmul, 3)
            log(f"{c['case']:10s} {r['variant']:22s} {r['img_per_s']:8.2f} img/s (q1-q3 {r['q1_s']}-{r['q3_s']} s) "
                f"{r['speed_vs_eager']:.2f}x eager, {100 * r['matmul_share']:.0f}% of matmul")
    print(json.dumps({"benchmark": "train-options", "machine": machine(), "matmul_gflops_before": round(before, 1),
                      "matmul_gflops_after": round(after, 1), "cases": cases}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

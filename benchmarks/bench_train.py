"""Training speed: img/s, peak memory, FLOPs per image and the share of the machine's matmul rate.

Each case runs in its own process, so its peak RSS is its own. One "iteration" is what the trainer
does per batch: one D step and ``g_steps_per_d`` G steps (zi2zi: 2), the const loss's second
encoder pass included; FLOPs are counted over one such iteration with
``torch.utils.flop_counter.FlopCounterMode`` (convolutions and matmuls, forward and backward) and
divided by the batch size. The reference rate is a dense fp32 ``torch.mm`` of 2048x2048 matrices
measured in the same run with the same thread count. Inputs are synthetic (speed does not depend
on what the glyphs look like). On CUDA, cuDNN runs fp32 convolutions in TF32 by default while the
fp32 matmul reference does not, so the share there can exceed 100%.

    python benchmarks/bench_train.py --quick           # cpu-small and its blur modes, 1 timed iteration
    python benchmarks/bench_train.py                   # + classic 256 px at batch 16 and 8
    python benchmarks/bench_train.py --cases classic-256-bs16 --iters 3 --channels-last
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

CASES = {
    # name: (preset, batch size, overrides)
    "classic-256-bs16": ("classic", 16, []),
    "classic-256-bs8": ("classic", 8, []),
    "cpu-small": ("cpu-small", 32, []),
    "cpu-small-blur-none": ("cpu-small", 32, ["model.discriminator.blur=none"]),
    "cpu-small-blur-layers": ("cpu-small", 32, ["model.discriminator.blur=layers"]),
    "cpu-small-blur-output": ("cpu-small", 32, ["model.discriminator.blur=output"]),
}
QUICK = ["cpu-small", "cpu-small-blur-none", "cpu-small-blur-layers", "cpu-small-blur-output"]


def peak_rss_bytes() -> int:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss if sys.platform == "darwin" else rss * 1024  # Linux reports KiB


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_gflops(device_name: str = "cpu", n: int = 2048, reps: int = 10) -> float:
    """Dense fp32 matmul rate of this machine (best of ``reps``), in GFLOP/s."""
    import torch

    device = torch.device(device_name)
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    torch.mm(a, b)
    _sync(device)
    best = float("inf")
    for _ in range(reps):
        start = time.perf_counter()
        torch.mm(a, b)
        _sync(device)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def run_case(name: str, *, iters: int, warmup: int, device_name: str, channels_last: bool, amp: str) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from zi2zi.config import load_config
    from zi2zi.models import build_models
    from zi2zi.training.runtime import precision as _precision
    from zi2zi.training.step import Precision, Zi2ziStep

    preset, batch, overrides = CASES[name]
    cfg = load_config(preset, overrides=[*overrides, f"train.batch_size={batch}",
                                         f"train.channels_last={str(channels_last).lower()}"])
    device = torch.device(device_name)
    torch.manual_seed(0)
    g, d = build_models(cfg, cfg.model.generator.num_styles)
    g.to(device).train()
    d.to(device).train()
    if channels_last:
        g.to(memory_format=torch.channels_last)
        d.to(memory_format=torch.channels_last)
    precision = _precision(amp, device) if amp != "none" else Precision(device.type, None)
    step = Zi2ziStep(g, d, cfg, device=device, precision=precision)
    size = cfg.model.image_size
    gen = torch.Generator().manual_seed(0)
    batch_data = {
        "source": torch.rand(batch, 1, size, size, generator=gen) * 2 - 1,
        "target": torch.rand(batch, 1, size, size, generator=gen) * 2 - 1,
        "style": torch.randint(0, cfg.model.generator.num_styles, (batch,), generator=gen),
    }
    step.set_input(batch_data)

    with FlopCounterMode(display=False) as counter:
        step.optimize()
    flops = counter.get_total_flops()
    for _ in range(max(0, warmup - 1)):  # the counted iteration was the first warm-up
        step.optimize()
    _sync(device)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step.set_input(batch_data)
        step.optimize()
        _sync(device)
        times.append(time.perf_counter() - start)
    sec = sum(times) / len(times)
    achieved = flops / sec / 1e9
    result = {
        "case": name,
        "image_size": size,
        "batch": batch,
        "g_params_m": round(sum(p.numel() for p in g.parameters()) / 1e6, 2),
        "blur": cfg.model.discriminator.blur,
        "channels_last": channels_last,
        "precision": str(precision.dtype or "fp32"),
        "s_per_iter": round(sec, 4),
        "s_per_iter_all": [round(t, 4) for t in times],
        "img_per_s": round(batch / sec, 3),
        "gflop_per_img": round(flops / batch / 1e9, 3),
        "achieved_gflops": round(achieved, 2),
        "peak_rss_gb": round(peak_rss_bytes() / 1e9, 3),
    }
    if device.type == "cuda":
        result["peak_gpu_mem_gb"] = round(torch.cuda.max_memory_allocated(device) / 1e9, 3)
    return result


def compare_with_plain(name: str, *, iters: int, warmup: int, channels_last: bool) -> dict:
    """The trainer's step against the textbook one (benchmarks/plain_step.py) on the same G and D
    architecture, same inputs, CPU fp32: ``iters`` timed iterations each, interleaved (trainer,
    plain, trainer, ...) so a busy moment hits both, medians and quartiles, and their ratio."""
    import copy

    import numpy as np
    import torch
    from plain_step import PlainStep

    from zi2zi.config import load_config
    from zi2zi.models import build_models
    from zi2zi.training.step import Zi2ziStep

    preset, batch, overrides = CASES[name]
    cfg = load_config(preset, overrides=[*overrides, f"train.batch_size={batch}",
                                         f"train.channels_last={str(channels_last).lower()}"])
    device = torch.device("cpu")
    torch.manual_seed(0)
    g, d = build_models(cfg, cfg.model.generator.num_styles)
    g2, d2 = copy.deepcopy(g), copy.deepcopy(d)
    for net in (g, d, g2, d2):
        net.train()
        if channels_last:
            net.to(memory_format=torch.channels_last)
    trainer = Zi2ziStep(g, d, cfg, device=device)
    plain = PlainStep(g2, d2, cfg)
    size = cfg.model.image_size
    gen = torch.Generator().manual_seed(0)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    source = (torch.rand(batch, 1, size, size, generator=gen) * 2 - 1).contiguous(memory_format=fmt)
    target = (torch.rand(batch, 1, size, size, generator=gen) * 2 - 1).contiguous(memory_format=fmt)
    style = torch.randint(0, cfg.model.generator.num_styles, (batch,), generator=gen)
    batch_data = {"source": source, "target": target, "style": style}

    def run_trainer() -> None:
        trainer.set_input(batch_data)
        trainer.optimize()

    def run_plain() -> None:
        plain.optimize(source, target, style)

    for _ in range(warmup):
        run_trainer()
        run_plain()
    times: dict[str, list[float]] = {"trainer": [], "plain": []}
    for _ in range(iters):
        for key, fn in (("trainer", run_trainer), ("plain", run_plain)):
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)

    def stats(values: list[float]) -> dict:
        q1, med, q3 = np.percentile(values, [25, 50, 75])
        return {"median_s": round(float(med), 4), "q1_s": round(float(q1), 4), "q3_s": round(float(q3), 4),
                "img_per_s": round(batch / float(med), 3)}

    trainer_stats, plain_stats = stats(times["trainer"]), stats(times["plain"])
    return {"case": name, "batch": batch, "image_size": size, "iters": iters, "warmup": warmup,
            "channels_last": channels_last, "trainer": trainer_stats, "plain": plain_stats,
            "speedup_vs_plain": round(plain_stats["median_s"] / trainer_stats["median_s"], 3)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), help="cases to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="cpu-small cases only, 1 timed iteration")
    parser.add_argument("--iters", type=int, default=None, help="timed iterations per case (default 2; quick 1)")
    parser.add_argument("--warmup", type=int, default=1, help="untimed iterations first (default 1)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    parser.add_argument("--channels-last", action="store_true", help="channels_last memory format")
    parser.add_argument("--amp", default="none", choices=["none", "auto", "bf16", "fp16"],
                        help="autocast (default none: fp32, what the matmul reference measures)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    parser.add_argument("--vs-plain", action="store_true",
                        help="time the trainer's step against the textbook step (benchmarks/plain_step.py), "
                             "interleaved, >= 10 iterations each, and print their ratio")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    iters = args.iters if args.iters is not None else (1 if args.quick else 2)
    if args.vs_plain:
        sys.path.insert(0, str(Path(__file__).parent))
        from common import machine

        matmul_before = matmul_gflops()
        results = [compare_with_plain(name, iters=max(10, iters), warmup=max(2, args.warmup),
                                      channels_last=args.channels_last)
                   for name in (args.cases or ["cpu-small"])]
        for r in results:
            print(f"{r['case']}: trainer {r['trainer']['median_s']} s/iter (q1 {r['trainer']['q1_s']}, "
                  f"q3 {r['trainer']['q3_s']}), plain {r['plain']['median_s']} s/iter: "
                  f"{r['speedup_vs_plain']}x the plain step", file=sys.stderr)
        print(json.dumps({"benchmark": "train-vs-plain", "machine": machine(),
                          "matmul_gflops_before": round(matmul_before, 1),
                          "matmul_gflops_after": round(matmul_gflops(), 1), "results": results}))
        return 0
    if args.child:
        print(json.dumps(run_case(args.child, iters=iters, warmup=args.warmup, device_name=args.device,
                                  channels_last=args.channels_last, amp=args.amp)))
        return 0

    sys.path.insert(0, str(Path(__file__).parent))
    from common import machine

    cases = args.cases or (QUICK if args.quick else list(CASES))
    matmul = matmul_gflops(args.device)
    print(f"dense fp32 matmul 2048^3 on {args.device}: {matmul:.1f} GFLOP/s", file=sys.stderr)
    results = []
    for name in cases:
        cmd = [sys.executable, __file__, "--child", name, "--iters", str(iters), "--warmup", str(args.warmup),
               "--device", args.device, "--amp", args.amp, "--threads", str(args.threads)]
        if args.channels_last:
            cmd.append("--channels-last")
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr, file=sys.stderr)
            raise SystemExit(f"case {name} failed")
        res = json.loads(out.stdout.strip().splitlines()[-1])
        res["matmul_share"] = round(res["achieved_gflops"] / matmul, 3)
        results.append(res)
        print(f"{name:24s} {res['s_per_iter']:8.3f} s/iter  {res['img_per_s']:8.2f} img/s  "
              f"{res['gflop_per_img']:8.2f} GFLOP/img  {res['achieved_gflops']:8.1f} GFLOP/s "
              f"({100 * res['matmul_share']:.0f}% of matmul)  peak RSS {res['peak_rss_gb']:.2f} GB",
              file=sys.stderr)
    # The reference is the better of two measurements (before and after the cases): on a shared
    # machine a single one can catch a busy moment and flatter the ratio.
    after = matmul_gflops(args.device)
    if after > matmul:
        matmul = after
        for res in results:
            res["matmul_share"] = round(res["achieved_gflops"] / matmul, 3)
    print(f"matmul reference (best of before/after): {matmul:.1f} GFLOP/s", file=sys.stderr)
    print(json.dumps({"benchmark": "train", "machine": machine(), "device": args.device,
                      "matmul_gflops": round(matmul, 1), "iters": iters, "warmup": args.warmup,
                      "results": results}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

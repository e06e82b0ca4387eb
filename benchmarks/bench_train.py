"""Training speed: img/s, peak memory, FLOPs per image and the share of the machine's matmul rate.

Each case runs in its own process, so its peak RSS is its own. One "iteration" is what the trainer
does per batch: one D step and ``g_steps_per_d`` G steps (zi2zi: 2), the const loss's second
encoder pass included; FLOPs are counted over one such iteration with
``torch.utils.flop_counter.FlopCounterMode`` (convolutions and matmuls, forward and backward) and
divided by the batch size. The reference rate is a dense fp32 ``torch.mm`` of 2048x2048 matrices
measured in the same run with the same thread count. Inputs are synthetic (speed does not depend
on what the glyphs look like). On CUDA, cuDNN runs fp32 convolutions in TF32 by default while the
fp32 matmul reference does not, so the share there can exceed 100%.

    python -m benchmarks.bench_train --quick           # cpu-small and its blur modes, 3 timed iterations
    python -m benchmarks.bench_train                   # + classic 256 px at batch 16, 10 timed iterations
    python -m benchmarks.bench_train --cases classic-256-bs16 --vs-plain --profile
    ZI2ZI_PEER=../zi2zi-pytorch python -m benchmarks.bench_train --cases classic-256-bs16 --vs-plain --rss
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import machine, quartiles, synthetic_batch

PACKAGE_ROOT = Path(__file__).resolve().parent.parent  # children run as `python -m benchmarks.bench_train` from here
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
DEFAULT = ["classic-256-bs16", *QUICK]  # classic-256-bs8 on request


def peak_rss_bytes() -> int:
    """This process's peak resident memory. On Linux VmHWM, which starts afresh at exec: a child's
    ru_maxrss starts at its parent's RSS when it forked, so a child of a big parent reads as big."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024  # kB
    except OSError:
        pass
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


def run_case(name: str, *, iters: int, warmup: int, device_name: str, contiguous: bool, amp: str) -> dict:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    from zi2zi.config import load_config
    from zi2zi.models import build_models
    from zi2zi.training.runtime import precision as _precision
    from zi2zi.training.step import Precision, Zi2ziStep

    preset, batch, overrides = CASES[name]
    cfg = load_config(preset, overrides=[*overrides, f"train.batch_size={batch}",
                                         *(["train.channels_last=false"] if contiguous else [])])
    channels_last = cfg.train.channels_last
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
    batch_data = synthetic_batch(size, batch, cfg.model.generator.num_styles)
    step.set_input(batch_data)

    with FlopCounterMode(display=False) as counter:
        step.optimize()
    flops = counter.get_total_flops()
    for _ in range(warmup):  # the FLOP-counting iteration runs under a tracing mode: not a warm-up
        step.optimize()
    _sync(device)
    times = []
    for _ in range(iters):
        start = time.perf_counter()
        step.set_input(batch_data)
        step.optimize()
        _sync(device)
        times.append(time.perf_counter() - start)
    spread = quartiles(times)
    sec = spread["median_s"]
    achieved = flops / sec / 1e9
    result = {
        "case": name,
        "image_size": size,
        "batch": batch,
        "g_params_m": round(sum(p.numel() for p in g.parameters()) / 1e6, 2),
        "blur": cfg.model.discriminator.blur,
        "channels_last": channels_last,
        "precision": str(precision.dtype or "fp32"),
        "s_per_iter": sec,
        "q1_s": spread["q1_s"],
        "q3_s": spread["q3_s"],
        "s_per_iter_all": [round(t, 4) for t in times],
        "img_per_s": round(batch / sec, 3),
        "gflop_per_img": round(flops / batch / 1e9, 3),
        "achieved_gflops": round(achieved, 2),
        "peak_rss_gb": round(peak_rss_bytes() / 1e9, 3),
    }
    if device.type == "cuda":
        result["peak_gpu_mem_gb"] = round(torch.cuda.max_memory_allocated(device) / 1e9, 3)
    return result


STEP_KINDS = ("peer", "plain", "trainer_contiguous", "trainer_same_math", "trainer_defaults", "trainer_bf16")


def build_steps(name: str, kinds: list[str]) -> dict:
    """One callable per step kind, each doing one training iteration on the same synthetic batch
    from the same initial weights. The peer's code and the plain step have no discriminator blur,
    so the same-math kinds run without it; ``trainer_defaults`` is what a user gets (the case's
    config, its blur included) and ``trainer_bf16`` that with bf16 autocast.

    - ``peer``: EuphoriaYan/zi2zi-pytorch's ``optimize_parameters`` from ``ZI2ZI_PEER`` (benchmarks/peer.py);
    - ``plain``: benchmarks/plain_step.py, fp32 eager contiguous, as it is written everywhere;
    - ``trainer_contiguous`` / ``trainer_same_math``: the trainer's step, no blur, contiguous / channels_last.
    """
    import copy

    import torch

    from benchmarks.peer import peer_path, peer_step
    from benchmarks.plain_step import PlainStep
    from zi2zi.config import load_config
    from zi2zi.models import build_models
    from zi2zi.training.step import Precision, Zi2ziStep

    preset, batch, overrides = CASES[name]
    user = load_config(preset, overrides=[*overrides, f"train.batch_size={batch}"])
    same = copy.deepcopy(user)
    same.model.discriminator.blur = "none"
    num_styles = user.model.generator.num_styles
    torch.manual_seed(0)
    g, d = build_models(user, num_styles)  # the initial weights every kind starts from
    size = user.model.image_size
    batch_data = synthetic_batch(size, batch, num_styles)

    def networks(cfg):
        """G and D built as ``cfg`` says (its blur), holding the shared initial weights."""
        g2, d2 = build_models(cfg, num_styles)
        g2.load_state_dict(g.state_dict())
        d2.load_state_dict(d.state_dict())  # the blur has no weights: any blur loads D's
        return g2.train(), d2.train()

    def trainer_step(cfg, channels_last: bool, dtype=None):
        cfg = copy.deepcopy(cfg)
        cfg.train.channels_last = channels_last
        g2, d2 = networks(cfg)
        if channels_last:
            g2.to(memory_format=torch.channels_last)
            d2.to(memory_format=torch.channels_last)
        step = Zi2ziStep(g2, d2, cfg, device=torch.device("cpu"), precision=Precision("cpu", dtype))

        def run() -> None:
            step.set_input(batch_data)
            step.optimize()
        return run

    def plain_step():
        plain = PlainStep(*networks(same), same)
        return lambda: plain.optimize(batch_data["source"], batch_data["target"], batch_data["style"])

    builders = {
        "peer": lambda: peer_step(peer_path(), image_size=size, num_styles=num_styles, batch=batch_data),
        "plain": plain_step,
        "trainer_contiguous": lambda: trainer_step(same, False),
        "trainer_same_math": lambda: trainer_step(same, True),
        "trainer_defaults": lambda: trainer_step(user, user.train.channels_last),
        "trainer_bf16": lambda: trainer_step(user, user.train.channels_last, torch.bfloat16),
    }
    return {kind: builders[kind]() for kind in kinds}


def available_kinds(requested: list[str] | None, case: str) -> tuple[list[str], list[str]]:
    """The step kinds to time on ``case``, and a line for each one left out and why."""
    from benchmarks.peer import ENV, peer_path
    from zi2zi.config import load_config
    from zi2zi.device import cpu_has_bf16

    kinds, skipped = list(requested or STEP_KINDS), []
    size = load_config(CASES[case][0]).model.image_size
    if "peer" in kinds and peer_path() is None:
        kinds.remove("peer")
        skipped.append(f"peer: {ENV} is not set (point it at an EuphoriaYan/zi2zi-pytorch checkout to time its step)")
    elif "peer" in kinds and size != 256:
        kinds.remove("peer")
        skipped.append(f"peer on {case}: zi2zi-pytorch's U-Net has 8 fixed halvings, so it runs at 256 px only")
    if "trainer_bf16" in kinds and not cpu_has_bf16():
        kinds.remove("trainer_bf16")
        skipped.append("trainer_bf16: this CPU has neither AVX-512 BF16 nor AMX")
    return kinds, skipped


def compare_steps(name: str, kinds: list[str], *, iters: int, warmup: int, profile: bool = False) -> dict:
    """Each step kind (:func:`build_steps`) timed in the same process, interleaved (peer, plain,
    trainer, ..., peer, ...) so a busy moment hits all: ``iters`` timed iterations each after
    ``warmup``; medians and quartiles, and each kind's speed as a ratio to the peer's and to the
    plain step's (their median s/iter over its). ``profile``: torch.profiler's per-op table of one
    more iteration each."""
    steps = build_steps(name, kinds)
    _, batch, _ = CASES[name]
    for _ in range(warmup):
        for fn in steps.values():
            fn()
    times: dict[str, list[float]] = {key: [] for key in steps}
    for _ in range(iters):
        for key, fn in steps.items():
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)

    result: dict = {"case": name, "batch": batch, "iters": iters, "warmup": warmup, "kinds": list(steps)}
    for key, values in times.items():
        spread = quartiles(values)
        result[key] = {**spread, "img_per_s": round(batch / spread["median_s"], 3)}
    for ref in ("peer", "plain"):
        if ref in steps:
            result[f"vs_{ref}"] = {key: round(result[ref]["median_s"] / result[key]["median_s"], 3) for key in steps}
    if profile:
        from torch.profiler import ProfilerActivity
        from torch.profiler import profile as torch_profile

        result["profile"] = {}
        for key, fn in steps.items():
            with torch_profile(activities=[ProfilerActivity.CPU]) as prof:
                fn()
            result["profile"][key] = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12)
    return result


def peak_rss_of(name: str, kind: str, warmup: int) -> float:
    """Peak RSS (GB) of a process that builds only this step kind and runs ``warmup`` + 1 iterations."""
    cmd = [sys.executable, "-m", "benchmarks.bench_train", "--rss-child", name, kind, "--warmup", str(warmup)]
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=PACKAGE_ROOT)
    if out.returncode != 0:
        print(out.stderr, file=sys.stderr)
        raise SystemExit(f"peak RSS of {kind} on {name} failed")
    return float(json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_gb"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", nargs="+", choices=sorted(CASES), help="cases to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="cpu-small cases only, 3 timed iterations")
    parser.add_argument("--iters", type=int, default=None, help="timed iterations per case (default 10; quick 3)")
    parser.add_argument("--warmup", type=int, default=2,
                        help="untimed iterations first, after the one that counts FLOPs (default 2)")
    parser.add_argument("--device", default="cpu", help="cpu or cuda[:N] (default cpu)")
    parser.add_argument("--contiguous", action="store_true",
                        help="the contiguous memory format instead of the default (train.channels_last)")
    parser.add_argument("--amp", default="none", choices=["none", "auto", "bf16", "fp16"],
                        help="autocast (default none: fp32, what the matmul reference measures)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's choice)")
    parser.add_argument("--vs-plain", action="store_true",
                        help="time the step kinds (the peer's when ZI2ZI_PEER is set, the plain step, the trainer's "
                             "without blur contiguous and channels_last, with the defaults, in bf16) interleaved, "
                             ">= 5 iterations each, and print their ratios")
    parser.add_argument("--kinds", nargs="+", choices=STEP_KINDS, help="with --vs-plain: the step kinds (default: all)")
    parser.add_argument("--rss", action="store_true", help="with --vs-plain: also each kind's peak RSS, one process each")
    parser.add_argument("--profile", action="store_true", help="with --vs-plain: print torch.profiler's per-op tables")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--rss-child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()

    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    iters = args.iters if args.iters is not None else (3 if args.quick else 10)
    if args.rss_child:
        name, kind = args.rss_child
        (step,) = build_steps(name, [kind]).values()
        for _ in range(args.warmup + 1):
            step()
        print(json.dumps({"peak_rss_gb": round(peak_rss_bytes() / 1e9, 3)}))
        return 0
    if args.vs_plain:
        matmul_before = matmul_gflops()
        results, skipped = [], []
        for name in args.cases or ["cpu-small"]:
            kinds, left_out = available_kinds(args.kinds, name)
            skipped += [line for line in left_out if line not in skipped]
            r = compare_steps(name, kinds, iters=max(5, iters), warmup=max(1, args.warmup), profile=args.profile)
            if args.rss:
                r["peak_rss_gb"] = {kind: peak_rss_of(name, kind, warmup=1) for kind in kinds}
            results.append(r)
        for line in skipped:
            print(f"skipped {line}", file=sys.stderr)
        for r in results:
            for key, table in r.get("profile", {}).items():
                print(f"{r['case']}, {key}: one iteration, per op\n{table}", file=sys.stderr)
            for kind in r["kinds"]:
                ratios = ", ".join(f"{v[kind]}x the {ref[3:]}'s" for ref, v in r.items() if ref.startswith("vs_"))
                rss = f", peak RSS {r['peak_rss_gb'][kind]} GB" if "peak_rss_gb" in r else ""
                print(f"{r['case']} {kind}: {r[kind]['median_s']} s/iter (q1 {r[kind]['q1_s']}, q3 {r[kind]['q3_s']})"
                      f"{'; ' + ratios if ratios else ''}{rss}", file=sys.stderr)
        print(json.dumps({"benchmark": "train-vs-plain", "machine": machine(), "skipped": skipped,
                          "matmul_gflops_before": round(matmul_before, 1),
                          "matmul_gflops_after": round(matmul_gflops(), 1), "results": results}))
        return 0
    if args.child:
        print(json.dumps(run_case(args.child, iters=iters, warmup=args.warmup, device_name=args.device,
                                  contiguous=args.contiguous, amp=args.amp)))
        return 0

    cases = args.cases or (QUICK if args.quick else DEFAULT)
    matmul = matmul_gflops(args.device)
    print(f"dense fp32 matmul 2048^3 on {args.device}: {matmul:.1f} GFLOP/s", file=sys.stderr)
    results = []
    for name in cases:
        cmd = [sys.executable, "-m", "benchmarks.bench_train", "--child", name, "--iters", str(iters), "--warmup", str(args.warmup),
               "--device", args.device, "--amp", args.amp, "--threads", str(args.threads)]
        if args.contiguous:
            cmd.append("--contiguous")
        out = subprocess.run(cmd, capture_output=True, text=True, cwd=PACKAGE_ROOT)
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

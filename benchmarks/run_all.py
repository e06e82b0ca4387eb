"""`make bench`: run the render, train (with the plain step and the options), generate, scan, web app and export
benchmarks; write benchmarks/reports/speed.md.

Each benchmark runs as its own process (so peak memory is its own) and ends its output with one
JSON line, which this script collects. The report states the machine and every figure measured;
nothing in it is typed by hand.

    python -m benchmarks.run_all [--quick] [--report benchmarks/reports/speed.md]
    python -m benchmarks.run_all --only-export    # rerun the export benchmarks, replace that section
    python -m benchmarks.run_all --only-scan      # rerun the handwriting scan benchmark, replace its section
    python -m benchmarks.run_all --only-ui        # rerun the web app benchmark, replace its section
    python -m benchmarks.run_all --only-refine    # rerun the refining benchmark, replace its section
    ZI2ZI_PEER=../zi2zi-pytorch python -m benchmarks.run_all --only-train   # training, beside zi2zi-pytorch's step
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import machine
from zi2zi.reporting import markdown_table

HERE = Path(__file__).parent


def run(script: str, *args: str) -> dict:
    cmd = [sys.executable, "-m", f"benchmarks.{Path(script).stem}", *args]
    print("$", " ".join(cmd[1:]), flush=True)
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)  # the package's root
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"{script} failed with exit code {done.returncode}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


def export_section(args: argparse.Namespace) -> list[str]:
    """The export benchmarks and their report section: speed, round-trip fidelity, and the outline
    figures beside the original font's (LXGW WenKai, as the outline targets are stated for it)."""
    n = "100" if args.quick else "300"
    load = os.getloadavg()[0]  # the machine may be shared: say how busy it was
    lxgw = run("bench_export.py", "--n", n, "--font", "LXGWWenKai-Regular.ttf")
    ukai = run("bench_export.py", "--n", "100" if args.quick else "500")
    generated = run("bench_export.py", "--glyphs", args.generated) if Path(args.generated, "manifest.json").is_file() else None
    m = machine()
    lines = [
        "## Export (`benchmarks/bench_export.py`)",
        "",
        f"Measured on {m['cpu']}, {m['cores']} cores, {time.strftime('%Y-%m-%d', time.gmtime())}, load average "
        f"{load:.1f} when it started. Glyphs rendered at "
        "256 px, traced and built into a TTF. Wall-clock glyphs/s depends on what else the machine runs; CPU time per "
        "glyph does not (two workers give 2000 / (CPU ms per glyph) glyphs/s on two free cores). Target: >= 50 "
        "glyphs/s. Round trip (`--check`: the exported font re-rendered by the project renderer, in the em box the "
        "glyphs were traced in, against the bitmaps): median ink IoU, target >= 0.97.",
        "",
        markdown_table(
            ["font", "glyphs", "workers", "glyphs/s", "CPU ms / glyph", "median ink IoU", "worst ink IoU"],
            [[r["font"], r["glyphs"], r["workers"], r["glyphs_per_s"], r["cpu_ms_per_glyph"], r["median_ink_iou"],
              r["worst_ink_iou"][0][1]] for r in (lxgw, ukai)],
        ),
        "",
        f"Outlines of the {lxgw['glyphs']} {lxgw['font']} glyphs, exported and original (same characters). Targets: "
        "median points at most 1.5x the original's, at most 700 bytes per glyph in the TTF. Points count every stored "
        "coordinate (on- and off-curve); a stair step is two short (< 1 % em) axis-aligned lines in a row.",
        "",
        markdown_table(
            ["", "exported TTF", "exported OTF (subroutinised CFF)", f"{lxgw['font']} (original)"],
            [[label, lxgw["outlines"][key], lxgw["otf_outlines"][key], lxgw["original_outlines"][key]]
             for key, label in (("median_points", "median points per glyph"),
                                ("line_share", "straight segments / all segments"),
                                ("stair_steps_per_glyph", "stair steps per glyph"),
                                ("duplicate_point_glyphs", "glyphs with repeated points"),
                                ("bytes_per_glyph", "bytes per glyph"))],
        ),
        "",
        f"{ukai['font']}: median {ukai['outlines']['median_points']} points per glyph against the original's "
        f"{ukai['original_outlines']['median_points']}, {ukai['outlines']['bytes_per_glyph']:.0f} against "
        f"{ukai['original_outlines']['bytes_per_glyph']:.0f} bytes per glyph (TrueType).",
        "",
    ]
    if generated:
        lines += [
            f"Generated glyphs ({generated['glyphs_dir']}, {generated['glyphs']} glyphs at {generated['size']} px from "
            f"the demo's model): {generated['glyphs_per_s']} glyphs/s, median ink IoU **{generated['median_ink_iou']}**; "
            "worst five: " + ", ".join(f"{cp} {iou}" for cp, iou in generated["worst_ink_iou"]) + ".",
            "",
        ]
    else:
        lines += [f"(No generated glyphs at {args.generated}: run `make demo` first to measure export fidelity on "
                  "real generated glyphs.)", ""]
    return lines


def _spread(r: dict) -> str:
    return f"{r['q1_s']}-{r['q3_s']}"


def train_sections(args: argparse.Namespace) -> list[str]:
    """Training speed per case, the trainer's step against the textbook one, and what each option gives."""
    train = run("bench_train.py", *(["--quick"] if args.quick else []))
    plain = run("bench_train.py", "--vs-plain", "--profile", "--rss", "--cases",
                *(["cpu-small"] if args.quick else ["cpu-small", "classic-256-bs16"]))
    options = run("bench_options.py", *(["--rounds", "3", "--warmup", "1"] if args.quick else []))
    m = machine()
    lines = [
        "## Training (`benchmarks/bench_train.py`)",
        "",
        f"Measured on {m['cpu']}, {m['cores']} cores, {time.strftime('%Y-%m-%d', time.gmtime())}.",
        "",
        f"One iteration = one D step + two G steps (zi2zi), the const loss's encoder pass included; {train['iters']} "
        f"timed iterations per case after {train['warmup']} untimed ones; FLOPs counted with torch's "
        "FlopCounterMode over one more iteration and divided by the batch size; fp32, eager, the default memory format "
        "(channels_last), synthetic inputs. Reference: dense fp32 2048^3 matmul, the better of a measurement before "
        f"and after the cases: **{train['matmul_gflops']} GFLOP/s**. Targets for classic 256 px bs 16 on CPU: peak "
        "RSS <= 3 GB and >= 65% of the matmul rate; `cpu-small` >= 60%.",
        "",
        markdown_table(
            ["case", "batch", "s/iter", "q1-q3 s", "img/s", "GFLOP/img", "GFLOP/s", "share of matmul", "peak RSS GB"],
            [[r["case"], r["batch"], r["s_per_iter"], _spread(r), r["img_per_s"], r["gflop_per_img"],
              r["achieved_gflops"], f"{100 * r['matmul_share']:.0f}%", r["peak_rss_gb"]] for r in train["results"]],
        ),
        "",
        "### The same math: zi2zi-pytorch's own step, the textbook step and the trainer's",
        "",
        "Each step kind does one training iteration on the same synthetic batch from the same initial weights, "
        "all built in one process and timed interleaved (one iteration of each in turn), "
        f"{plain['results'][0]['iters']} timed iterations each after {plain['results'][0]['warmup']} untimed: "
        "`peer` is EuphoriaYan/zi2zi-pytorch's `Zi2ZiModel.optimize_parameters` (its checkout named by `ZI2ZI_PEER`, "
        "`input_nc=1`; benchmarks/peer.py); `plain` is benchmarks/plain_step.py, zi2zi's iteration in straight-line "
        "code on our G and D in fp32 eager contiguous tensors (tests/test_plain_step.py checks that it updates the "
        "weights exactly as the trainer does); `trainer contiguous` and `trainer same math` are the trainer's step "
        "without the discriminator blur (the peer and the plain step have none) in the two memory formats; "
        "`trainer defaults` is what a user gets (the input blur, channels_last) in fp32; `trainer bf16` that "
        "under bf16 autocast (the default on a CPU with AMX, or an AMD one with AVX-512 BF16). Ratios: the "
        "reference's median s/iter over the kind's (above 1: faster). Peak RSS: a "
        "process of its own per kind that builds only that step and runs two iterations. Matmul "
        f"before/after: {plain['matmul_gflops_before']}/{plain['matmul_gflops_after']} GFLOP/s. Targets: the "
        "trainer's same-math step >= 1.0x the peer's (toward 1.15x), bf16 >= 1.8x the peer's fp32 step.",
        "",
        *[f"Not timed: {line}." for line in plain.get("skipped", [])],
        "",
        markdown_table(
            ["case", "step", "s/iter", "q1-q3 s", "img/s", "vs peer", "vs plain", "peak RSS GB"],
            [[r["case"], kind.replace("_", " "), r[kind]["median_s"], _spread(r[kind]), r[kind]["img_per_s"],
              f"**{r['vs_peer'][kind]}x**" if "vs_peer" in r else "-",
              f"{r['vs_plain'][kind]}x" if "vs_plain" in r else "-", r.get("peak_rss_gb", {}).get(kind, "-")]
             for r in plain["results"] for kind in r["kinds"]],
        ),
        "",
        "Where the time goes (torch.profiler, one iteration each, the ops with the most self CPU time):",
        "",
    ]
    for r in plain["results"]:
        for key, table in r.get("profile", {}).items():
            lines += [f"<details><summary>{r['case']}, {key.replace('_', ' ')}</summary>", "", "```",
                      table.strip("\n"), "```", "", "</details>", ""]
    lines += [
        "### What each option gives (`benchmarks/bench_options.py`)",
        "",
        "The trainer's step with one choice changed from fp32 eager contiguous, every variant built and warmed up "
        f"first, then timed round-robin over {options['cases'][0]['rounds']} rounds; `finetune` is the fine-tuning "
        "step (the base-64 network, encoder frozen, one style row trained, no discriminator, batch 32). Matmul before/after: "
        f"{options['matmul_gflops_before']}/{options['matmul_gflops_after']} GFLOP/s.",
        "",
        markdown_table(
            ["case", "variant", "batch", "s/iter (q1-q3)", "img/s", "vs eager", "share of matmul"],
            [[c["case"], r["variant"], r["batch"], f"{r['median_s']} ({_spread(r)})", r["img_per_s"],
              f"{r['speed_vs_eager']}x", f"{100 * r['matmul_share']:.0f}%"]
             for c in options["cases"] for r in c["variants"]],
        ),
        "",
    ]
    return lines


def generate_section(args: argparse.Namespace) -> list[str]:
    generate = run("bench_generate.py", *(["--rounds", "3"] if args.quick else []))
    return [
        "## Generation (`benchmarks/bench_generate.py`)",
        "",
        "What `zi2zi generate` does per glyph, through `GlyphGenerator`: render the source glyph, run G in eval mode "
        "(batches of 32), encode the PNG; a checkpoint of freshly initialised weights (speed does not depend on "
        "them). Both memory formats timed in turn. Target at 256 px: >= 13.6 glyphs/s (twice zi2zi-pytorch's 6.8).",
        "",
        markdown_table(["size", "preset", "glyphs x rounds", "channels_last (default) glyphs/s", "contiguous glyphs/s",
                        "ratio"],
                       [[f"{r['size']} px", r["preset"], f"{r['glyphs']} x {r['rounds']}", r["glyphs_per_s"],
                         r["contiguous"]["glyphs_per_s"], f"{r['speedup']}x"] for r in generate["results"]]),
        "",
    ]


def refine_section(args: argparse.Namespace) -> list[str]:
    """The refining stage: refined glyphs per second and a whole GB2312 font, each against today's path."""
    r = run("bench_refine.py", *(["--rounds", "3", "--charset", "gb2312-1"] if args.quick else []))
    f = r["fonts"]
    return [
        "## Refining (`benchmarks/bench_refine.py`)",
        "",
        f"The shipped base `{r['base']}` with its refiner `{r['refiner']}` (64 -> 256 px), {r['n']} glyphs per round, "
        f"{r['rounds']} rounds. Target: refining >= 50 glyphs/s at 256 px; generate + refine + export of all GB2312 "
        "characters <= 5 minutes.",
        "",
        markdown_table(["what", "figure", "today's path (no refiner)", "ratio"], [
            ["refining alone", f"{r['refine_glyphs_per_s']} glyphs/s", "-", "-"],
            ["drawing glyphs (render, generate, refine)", f"{r['draw_refined_glyphs_per_s']} glyphs/s",
             f"{r['draw_plain_glyphs_per_s']} glyphs/s", f"{r['draw_ratio']}x the time"],
            [f"{r['charset']} font ({f['refined']['glyphs']} glyphs): generate + export",
             f"{f['refined']['total_s']} s ({f['refined']['generate_s']} + {f['refined']['export_s']})",
             f"{f['plain']['total_s']} s ({f['plain']['generate_s']} + {f['plain']['export_s']})",
             f"{r['font_ratio']}x the time"],
        ]),
        "",
    ]


def scan_section() -> list[str]:
    """Reading a 300-cell set of synthetic phone photos of filled template sheets."""
    scan = run("bench_scan.py")
    return [
        "## Handwriting scan (`benchmarks/bench_scan.py`)",
        "",
        f"The default 300-character template (A4, 15 mm squares) filled with {scan['font']} as the hand and "
        f"photographed synthetically: {scan['photos']} JPEG photos of {scan['megapixels']} MP (250-300 DPI on the "
        f"page, any rotation, perspective, uneven light, a shadow band, blur, noise, JPEG 50-70), read by "
        f"`zi2zi scan` into {scan['size']} px glyphs: **{scan['cells']} cells in {scan['seconds']} s** "
        f"({scan['pages_per_s']} pages/s, {scan['cells_per_s']} cells/s). Target: 300 cells in under 30 s. "
        f"{scan['glyphs']} of {scan['written']} written glyphs recovered; median ink IoU against the pasted glyph "
        f"**{scan['median_ink_iou']}** (5th percentile {scan['p5_ink_iou']}), placement error (ink centroid and box) "
        f"median {scan['median_placement_error_em']} em, worst {scan['max_placement_error_em']} em.",
        "",
    ]


def ui_section(args: argparse.Namespace) -> list[str]:
    """Page actions of the web app, timed while a fine-tune trains in its worker."""
    ui = run("bench_ui.py", "--requests", "20" if args.quick else "40")
    return [
        "## Web app while training (`benchmarks/bench_ui.py`)",
        "",
        f"`zi2zi ui`'s app with a fine-tune running in its worker (base: {ui['base']}; the demo's UKai as target), "
        f"{ui['requests']} requests per page action, timed from a client on the same machine. Target: every action "
        f"under 200 ms (p95). Worst p95: **{ui['worst_p95_ms']} ms** ({'met' if ui['met'] else 'NOT met'}).",
        "",
        markdown_table(["action", "p50 ms", "p95 ms", "max ms"],
                       [[r["action"], r["p50_ms"], r["p95_ms"], r["max_ms"]] for r in ui["results"]]),
        "",
    ]


def replace_section(text: str, heading: str, lines: list[str], *, before: str | None = None) -> str:
    """``text`` with the ``## `` section starting with ``heading`` replaced by ``lines`` (inserted
    before the section ``before``, or at the end, when it is not there yet)."""
    parts = text.split("\n## ")
    new = "\n".join(lines).rstrip("\n") + "\n"
    for i, part in enumerate(parts):
        if i and ("## " + part).startswith(heading):
            parts[i] = new[3:]
            return "\n## ".join(parts)
    for i, part in enumerate(parts):
        if i and before and ("## " + part).startswith(before):
            parts.insert(i, new[3:])
            return "\n## ".join(parts)
    return text.rstrip("\n") + "\n\n" + new


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads (a smoke run, not the report)")
    parser.add_argument("--report", default=str(HERE / "reports" / "speed.md"))
    parser.add_argument("--generated", default="demo-out/generated",
                        help="glyphs a model generated (from `make demo`) for the export fidelity check")
    parser.add_argument("--only-export", action="store_true",
                        help="rerun only the export benchmarks and replace the export section of the report")
    parser.add_argument("--only-scan", action="store_true",
                        help="rerun only the handwriting scan benchmark and put its section in the report")
    parser.add_argument("--only-ui", action="store_true",
                        help="rerun only the web app benchmark and put its section in the report")
    parser.add_argument("--only-refine", action="store_true",
                        help="rerun only the refining benchmark and put its section in the report")
    parser.add_argument("--only-train", action="store_true",
                        help="rerun only the training benchmarks and put their section in the report")
    args = parser.parse_args()

    if args.only_export or args.only_scan or args.only_ui or args.only_refine or args.only_train:
        # Rerun one section and put it in place of its old one; the others stay as measured.
        report = Path(args.report)
        text = report.read_text(encoding="utf-8")
        if args.only_train:
            text = replace_section(text, "## Training (", train_sections(args), before="## Generation (")
        if args.only_scan:
            text = replace_section(text, "## Handwriting scan (", scan_section(), before="## Export (")
        if args.only_ui:
            text = replace_section(text, "## Web app while training (", ui_section(args), before="## Export (")
        if args.only_refine:
            text = replace_section(text, "## Refining (", refine_section(args), before="## Handwriting scan (")
        if args.only_export:
            text = replace_section(text, "## Export (", export_section(args))
        report.write_text(text, encoding="utf-8")
        print(f"report: {report}")
        return

    render = run("bench_render.py", *(["--charset", "gb2312-1"] if args.quick else []))
    m = machine()
    lines = [
        "# Speed report",
        "",
        "Written by `make bench` (`python -m benchmarks.run_all`). Do not edit by hand.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['threads']} threads), "
        f"Python {m['python']}. Date: {time.strftime('%Y-%m-%d')}. Load average when it started: "
        f"{os.getloadavg()[0]:.1f}. Times are medians over the timed iterations with the quartiles (q1-q3) as "
        "their spread; ratios compare figures measured in the same run, which hold across machines where absolute "
        "times do not.",
        "",
        "## Rendering (`benchmarks/bench_render.py`)",
        "",
        f"All characters of `{render['charset']}`, one source (AR PL UMing) and one target font (AR PL UKai), "
        "written as PNGs with a manifest exactly as `zi2zi render` does, on all cores. Target: GB2312 at 256 px in "
        "under 20 s.",
        "",
        markdown_table(["size", "pairs", "seconds", "pairs/s"],
                       [[f"{r['size']} px", r["pairs"], r["seconds"], r["pairs_per_s"]] for r in render["results"]]),
        "",
    ]
    lines += train_sections(args)
    lines += generate_section(args)
    lines += refine_section(args)
    lines += scan_section()
    lines += ui_section(args)
    lines += export_section(args)
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines), encoding="utf-8")
    print(f"report: {report}")


if __name__ == "__main__":
    main()

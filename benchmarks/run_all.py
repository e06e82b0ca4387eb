"""`make bench`: run the render, train, generate, export, scan and web app benchmarks; write benchmarks/reports/speed.md.

Each benchmark runs as its own process (so peak memory is its own) and ends its output with one
JSON line, which this script collects. The report states the machine and every figure measured;
nothing in it is typed by hand.

    python benchmarks/run_all.py [--quick] [--report benchmarks/reports/speed.md]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
from common import machine  # noqa: E402

from zi2zi.reporting import markdown_table  # noqa: E402


def run(script: str, *args: str) -> dict:
    cmd = [sys.executable, str(HERE / script), *args]
    print("$", " ".join(cmd[1:]), flush=True)
    started = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(done.stdout)
    sys.stderr.write(done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"{script} failed with exit code {done.returncode}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = round(time.perf_counter() - started, 1)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller workloads (a smoke run, not the report)")
    parser.add_argument("--report", default=str(HERE / "reports" / "speed.md"))
    parser.add_argument("--generated", default="demo-out/generated",
                        help="glyphs a model generated (from `make demo`) for the export fidelity check")
    args = parser.parse_args()

    render = run("bench_render.py", *(["--charset", "gb2312-1"] if args.quick else []))
    train = run("bench_train.py", *(["--quick"] if args.quick else []))
    generate = run("bench_generate.py", "--n", "64" if args.quick else "256")
    export = run("bench_export.py", "--n", "100" if args.quick else "500")
    generated = run("bench_export.py", "--glyphs", args.generated) if Path(args.generated, "manifest.json").is_file() else None
    scan = run("bench_scan.py")
    ui = run("bench_ui.py", "--requests", "20" if args.quick else "40")

    m = machine()
    lines = [
        "# Speed report",
        "",
        "Written by `make bench` (`python benchmarks/run_all.py`). Do not edit by hand.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['threads']} threads), "
        f"Python {m['python']}. Date: {time.strftime('%Y-%m-%d')}.",
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
        "## Training (`benchmarks/bench_train.py`)",
        "",
        "One iteration = one D step + two G steps (zi2zi), the const loss's encoder pass included; FLOPs counted "
        "with torch's FlopCounterMode over one iteration and divided by the batch size; fp32, eager, synthetic "
        f"inputs. Reference: dense fp32 2048^3 matmul measured in the same run: **{train['matmul_gflops']} GFLOP/s**. "
        "Targets for classic 256 px bs 16 on CPU: peak RSS <= 3 GB and >= 65% of the matmul rate.",
        "",
        markdown_table(
            ["case", "batch", "s/iter", "img/s", "GFLOP/img", "GFLOP/s", "share of matmul", "peak RSS GB"],
            [[r["case"], r["batch"], r["s_per_iter"], r["img_per_s"], r["gflop_per_img"], r["achieved_gflops"],
              f"{100 * r['matmul_share']:.0f}%", r["peak_rss_gb"]] for r in train["results"]],
        ),
        "",
        "## Generation (`benchmarks/bench_generate.py`)",
        "",
        "Per glyph: render the source glyph, run G in eval mode (batches of 32), encode the PNG. Freshly "
        "initialised weights (speed does not depend on them).",
        "",
        markdown_table(["size", "preset", "glyphs", "seconds", "glyphs/s"],
                       [[f"{r['size']} px", r["preset"], r["glyphs"], r["seconds"], r["glyphs_per_s"]]
                        for r in generate["results"]]),
        "",
        "## Export (`benchmarks/bench_export.py`)",
        "",
        f"{export['glyphs']} glyphs of {export['font']} rendered at {export['size']} px, traced and built into a TTF "
        f"on {export['workers']} worker(s): **{export['glyphs_per_s']} glyphs/s** "
        f"({export['cpu_ms_per_glyph']} ms of CPU per glyph). Target: >= 50 glyphs/s. Round trip (`--check`: the "
        f"exported font re-rendered by the project renderer against the bitmaps): median ink IoU "
        f"**{export['median_ink_iou']}**; worst five: "
        + ", ".join(f"{cp} {iou}" for cp, iou in export["worst_ink_iou"]) + ".",
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
    lines += [
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
    lines += [
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
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines), encoding="utf-8")
    print(f"report: {report}")


if __name__ == "__main__":
    main()

"""Is bf16 faster than fp32 on this CPU? The measurement the precision defaults follow.

Fine-tuning and drawing glyphs default to bf16 autocast on the CPUs where
:func:`zi2zi.device.cpu_prefers_bf16` says so (AMX, or AMD with AVX-512 BF16). That rule comes
from this benchmark's stored cells, one per kind of CPU it ran on: bf16 equals fp32 in quality
(``benchmarks/bf16_quality.py``, ``benchmarks/bf16_inference.py``), so the question left is speed,
and it depends on the CPU, not only on whether it computes bf16 at all.

On this machine, fp32 and bf16 in turn (so that a machine slowing down favours neither):

- ``zi2zi finetune`` as a user runs it (the shipped base on ``--glyphs`` glyphs of AR PL UKai CN,
  generator then refiner, reduced step budgets): its wall time, and the median time of one
  generator step and of one refiner step (timed between steps, so evaluations and checkpoints,
  which both precisions share, stay out of them). The refiner trains in fp32 either way (only the
  generator's drawing of its inputs follows the run's precision), so its step is a yardstick of the
  machine's steadiness rather than a bf16 figure;
- drawing ``--chars`` characters with the shipped base at 64 px (no refiner) and through the
  shipped refiner at 256 px: glyphs per second, the median of ``--rounds`` rounds after a warm-up.

The cell of this CPU (its model name, vendor, AVX-512 BF16 and AMX flags, the figures) is stored in
``--cells``; the report is written from every stored cell and says, per CPU, whether
``cpu_prefers_bf16``'s rule agrees with what was measured there.

    python -m benchmarks.bf16_speed                 # about 10 minutes on 2 cores
    python -m benchmarks.bf16_speed --report-only   # the report from the stored cells
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from pathlib import Path

from benchmarks.common import drawing_rate, machine
from zi2zi.bases import refiner_for_base, resolve_base
from zi2zi.device import bf16_is_faster, cpu_has_amx, cpu_has_avx512_bf16, cpu_has_bf16, cpu_vendor
from zi2zi.finetune import finetune
from zi2zi.fonts.charsets import builtin_charset
from zi2zi.fonts.corpus import corpus_font
from zi2zi.generation import GlyphGenerator
from zi2zi.generation.model import base_source_font
from zi2zi.reporting import markdown_table
from zi2zi.storage.atomic import write_json, write_text
from zi2zi.storage.reading import read_json_object

CELLS = Path("benchmarks/reports/bf16-speed")
PRECISIONS = ("none", "bf16")  # train.amp values: fp32 and bf16 autocast
TARGET = "AR PL UKai CN"
# A ratio within this much of 1.0 counts as no gain: the rounds of one precision vary by about that.
NO_GAIN = 0.05


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("bf16-speed-work"), help="the fine-tuning runs and glyph folders")
    p.add_argument("--glyphs", type=int, default=200, help="training glyphs of the fine-tune (the recipe's 200)")
    p.add_argument("--steps", type=int, default=120, help="generator steps of each fine-tune (the recipe: 600)")
    p.add_argument("--refiner-steps", type=int, default=60, help="refiner steps of each fine-tune (the recipe: 1000)")
    p.add_argument("--finetunes", type=int, default=2, help="fine-tunes per precision")
    p.add_argument("--chars", type=int, default=300, help="characters drawn per round")
    p.add_argument("--rounds", type=int, default=3, help="timed drawing rounds per precision")
    p.add_argument("--cells", type=Path, default=CELLS, help="one stored cell per CPU (committed)")
    p.add_argument("--report", type=Path, default=Path("benchmarks/reports/bf16-speed.md"))
    p.add_argument("--report-only", action="store_true", help="write the report from the stored cells; time nothing")
    return p.parse_args()


class StepClock:
    """Times between consecutive calls: the length of each training step."""

    def __init__(self) -> None:
        self.stamps: list[float] = []

    def __call__(self, *_args) -> None:
        self.stamps.append(time.perf_counter())

    def median_step_s(self) -> float:
        gaps = [b - a for a, b in zip(self.stamps[1:], self.stamps[2:])]  # the first step warms up
        return statistics.median(gaps)


def time_finetune(base: Path, amp: str, chars: str, steps: int, refiner_steps: int, out: Path) -> dict:
    g_clock, r_clock = StepClock(), StepClock()
    t0 = time.perf_counter()
    summary = finetune(base, out, target=corpus_font(TARGET).spec, chars=chars, holdout=0, steps=steps,
                       refiner_steps=refiner_steps, amp=amp, overwrite=True, progress=False,
                       echo=lambda _msg: None, on_step=g_clock, on_refiner_step=r_clock)
    wall = time.perf_counter() - t0
    if summary.step < steps or summary.refiner is None:
        raise SystemExit(f"bf16-speed: the {amp} fine-tune stopped at step {summary.step}; run again")
    return {"wall_s": wall, "g_step_s": g_clock.median_step_s(), "refiner_step_s": r_clock.median_step_s()}


def drawing_rates(base: Path, amp: str, chars: list[str], rounds: int, out: Path) -> dict:
    """Median glyphs/s at 64 px (the generator alone) and at 256 px (through the shipped refiner)."""
    rates = {}
    for name, refine in (("draw_64_glyphs_s", False), ("draw_256_glyphs_s", True)):
        model = GlyphGenerator(base, device="cpu", amp=amp, refine=refine, refiner=refiner_for_base(base))
        source = base_source_font(model.data_info, echo=lambda _msg: None)
        rates[name] = drawing_rate(model, style=model.styles[0], source=source, chars=chars,
                                   out=out / f"{name}-{amp}", rounds=rounds)
    return rates


def measure_this_cpu(args: argparse.Namespace) -> dict:
    base = resolve_base("base-64")
    train_chars = "text:" + "".join(builtin_charset("gb2312-1-coverage")[: args.glyphs])
    draw_chars = list(builtin_charset("gb2312-1")[-args.chars:])
    finetunes: dict[str, list[dict]] = {amp: [] for amp in PRECISIONS}
    for i in range(args.finetunes):
        for amp in PRECISIONS:
            print(f"[bf16-speed] fine-tune {i + 1}/{args.finetunes} in {amp}", flush=True)
            finetunes[amp].append(time_finetune(base, amp, train_chars, args.steps, args.refiner_steps,
                                                args.work / f"finetune-{amp}"))
    drawing: dict[str, dict] = {}
    for amp in PRECISIONS:
        print(f"[bf16-speed] drawing in {amp}", flush=True)
        drawing[amp] = drawing_rates(base, amp, draw_chars, args.rounds, args.work)
    figures = {}
    for amp in PRECISIONS:
        runs = finetunes[amp]
        figures[amp] = {key: round(statistics.median(r[key] for r in runs), 4) for key in runs[0]}
        figures[amp].update({key: round(v, 2) for key, v in drawing[amp].items()})
    return {
        "machine": machine(), "vendor": cpu_vendor(), "avx512_bf16": cpu_has_avx512_bf16(), "amx": cpu_has_amx(),
        "measured": time.strftime("%Y-%m-%d"),
        "recipe": {"glyphs": args.glyphs, "steps": args.steps, "refiner_steps": args.refiner_steps,
                   "finetunes": args.finetunes, "chars": args.chars, "rounds": args.rounds},
        "figures": figures,
    }


def cell_path(cells: Path, cell: dict) -> Path:
    """One file per kind of CPU: its model name and its bf16 units (a hypervisor may hide AMX)."""
    slug = re.sub(r"[^a-z0-9]+", "-", cell["machine"]["cpu"].lower()).strip("-")
    return cells / f"{slug}{'-amx' if cell['amx'] else ''}{'-avx512bf16' if cell['avx512_bf16'] else ''}.json"


# (figure key, column, faster when larger)
FIGURES = [
    ("wall_s", "fine-tune, whole command", False),
    ("g_step_s", "generator step", False),
    ("refiner_step_s", "refiner step", False),
    ("draw_64_glyphs_s", "drawing 64 px", True),
    ("draw_256_glyphs_s", "drawing 256 px (refined)", True),
]


def speedups(cell: dict) -> dict[str, float]:
    """bf16's speed as a multiple of fp32's, per figure (above 1: bf16 is faster)."""
    fp32, bf16 = cell["figures"]["none"], cell["figures"]["bf16"]
    return {key: (fp32[key] / bf16[key]) if not larger else (bf16[key] / fp32[key]) for key, _, larger in FIGURES}


def measured_faster(cell: dict) -> bool:
    """What the default should be where this cell was measured: bf16 when both things a user runs
    with the default, the whole fine-tune and drawing refined glyphs, are faster beyond the noise."""
    s = speedups(cell)
    return s["wall_s"] > 1 + NO_GAIN and s["draw_256_glyphs_s"] > 1 + NO_GAIN


def write_report(cells: list[dict], path: Path) -> None:
    rows, agree = [], []
    for cell in cells:
        s = speedups(cell)
        rule = bf16_is_faster(cell["vendor"], avx512_bf16=cell["avx512_bf16"], amx=cell["amx"])
        agree.append(rule == measured_faster(cell))
        m = cell["machine"]
        rows.append([f"{m['cpu']} ({cell['vendor']})", "yes" if cell["avx512_bf16"] else "no", "yes" if cell["amx"] else "no",
                     *(f"{s[key]:.2f}x" for key, _, _ in FIGURES),
                     "bf16" if rule else "fp32", "yes" if agree[-1] else "**no**", cell["measured"]])
    figure_rows = []
    for cell in cells:
        for amp in PRECISIONS:
            f = cell["figures"][amp]
            figure_rows.append([cell["machine"]["cpu"], "fp32" if amp == "none" else "bf16",
                                *(f"{f[key]:.3f}" if key.endswith("_s") and "glyphs" not in key else f"{f[key]:.1f}"
                                  for key, _, _ in FIGURES)])
    recipes = sorted({str(c["recipe"]) for c in cells})
    verdict = ("the rule agrees with every CPU measured" if all(agree)
               else "the rule disagrees with a CPU measured (see 'agrees'): change zi2zi.device.bf16_is_faster")
    lines = [
        "# bf16 against fp32 speed, per kind of CPU (`benchmarks/bf16_speed.py`)",
        "",
        "bf16 autocast equals fp32 in quality for fine-tuning and drawing (bf16-quality.md, bf16-inference.md); "
        "whether it is faster depends on the CPU. Each row is one CPU, fp32 and bf16 timed in turn on its idle "
        "cores with torch's default threads: the whole `zi2zi finetune` command (200 glyphs, reduced step budgets), "
        "its median generator step and refiner step (the refiner trains in fp32 in both: a yardstick), and drawing with the shipped base at 64 px and through the shipped "
        f"refiner at 256 px. Figures are bf16's speed as a multiple of fp32's; within {NO_GAIN:.0%} of 1.0x counts "
        "as no gain. 'default' is what `zi2zi.device.cpu_prefers_bf16` chooses on that CPU; 'agrees' whether bf16 "
        "was measured faster there both for the whole fine-tune and for drawing refined glyphs. Where the "
        "refiner step, fp32 in both, moves as much as a bf16 figure, that difference is the machine's drift "
        "between rounds, not bf16's.",
        "",
        f"**Verdict: {verdict}.**",
        "",
        markdown_table(["CPU", "AVX-512 BF16", "AMX", *(label for _, label, _ in FIGURES), "default", "agrees",
                        "measured"], rows),
        "",
        "Measured figures (seconds for the fine-tune and its steps, glyphs per second for drawing):",
        "",
        markdown_table(["CPU", "precision", *(label for _, label, _ in FIGURES)], figure_rows),
        "",
        f"Recipe{'s' if len(recipes) > 1 else ''}: {'; '.join(recipes)}.",
        "",
        "Earlier figures taken by other benchmarks agree with the rule: on AMD EPYC (AVX-512 BF16, no AMX) the "
        "200-glyph fine-tune was 1.32x faster in bf16 (bf16-quality.md) and drawing refined glyphs 1.5-1.75x "
        "(bf16-inference.md); on an Intel Xeon with AMX the trainer's step was 1.69x at 64 px and 3.61x at 256 px "
        "(speed.md). The same rule sets the precision of training from scratch (bf16-quality.md: equal quality in three seeds).",
        "",
    ]
    write_text(path, "\n".join(lines))
    print(f"wrote {path}")


def main() -> None:
    args = parse_args()
    if not args.report_only:
        if not cpu_has_bf16():
            raise SystemExit("bf16-speed: this CPU has neither AVX-512 BF16 nor AMX; bf16 would be emulated here, "
                             "far slower than fp32 (no cell to store); use --report-only")
        cell = measure_this_cpu(args)
        write_json(cell_path(args.cells, cell), cell)
    cells = [read_json_object(p, what="bf16-speed cell") for p in sorted(args.cells.glob("*.json"))]
    if not cells:
        raise SystemExit(f"bf16-speed: no stored cells in {args.cells}; run without --report-only on a CPU with bf16")
    write_report(cells, args.report)


if __name__ == "__main__":
    main()

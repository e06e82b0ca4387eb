"""Does drawing glyphs in bf16 cost quality? The same fine-tuned runs, generated and refined in
fp32 and in bf16, exported and measured alike.

Reads the runs that ``benchmarks/font_quality.py`` fine-tuned (its ``--work``: one per evaluation
font). For each, the held-out characters are drawn by the run (generator and refiner) under fp32
and under bf16 autocast, timed (a warm-up, then the two precisions in turn, ``--rounds`` times,
the median), exported as TTF and measured on the font rendered back
(:mod:`zi2zi.metrics.font_quality`). Beside the measures: how alike the two precisions' glyphs
are (the median ink IoU of each glyph's two 256 px images). bf16 counts as equal when every
measure's difference lies within the spread of fp32 fine-tunes over seeds of the same font (the
committed cells of ``benchmarks/bf16_quality.py``; those export the generator's glyphs without
the refiner, so their spread is the yardstick, not the same path).

    python -m benchmarks.font_quality       # first: the fine-tuned runs
    python -m benchmarks.bf16_inference
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from benchmarks.bf16_quality import LEDGER, PRECISIONS
from benchmarks.common import drawing_rate, machine
from benchmarks.font_quality import _slug
from zi2zi.data.layout import glyph_filename, read_manifest
from zi2zi.device import cpu_has_bf16
from zi2zi.export import export_font
from zi2zi.fonts import open_font
from zi2zi.fonts.corpus import EVALUATION, corpus_font
from zi2zi.fonts.font import open_font_spec
from zi2zi.generation import GlyphGenerator
from zi2zi.images import read_grey
from zi2zi.metrics.font_quality import font_quality
from zi2zi.reporting import markdown_table
from zi2zi.storage.atomic import write_text
from zi2zi.storage.reading import read_json_object

MEASURES = ["identified", "shape_iou", "edge_f", "contours_off"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--work", type=Path, default=Path("font-quality-work"), help="benchmarks/font_quality.py's --work")
    p.add_argument("--out", type=Path, default=Path("bf16-inference-work"), help="the glyph folders and fonts")
    p.add_argument("--rounds", type=int, default=3, help="timed generations per precision")
    p.add_argument("--ledger", type=Path, default=LEDGER, help="bf16_quality.py's cells (the fp32 seeds' spread)")
    p.add_argument("--report", type=Path, default=Path("benchmarks/reports/bf16-inference.md"))
    return p.parse_args()


def fp32_spread(ledger: Path, font: str) -> dict[str, float]:
    """max - min over the fp32 seeds of bf16_quality.py's cells of ``font``, per measure."""
    cells = [read_json_object(p, what="bf16-quality cell") for p in sorted((ledger / _slug(font)).glob("seed*-none.json"))]
    return {k: float(np.ptp([c[k] for c in cells])) for k in MEASURES if len(cells) > 1}


def draw(run: Path, manifest: dict, amp: str, chars: list[str], out: Path, rounds: int) -> tuple[float, Path]:
    """Median glyphs/s of drawing ``chars`` under ``amp`` and the folder of the last round."""
    src = manifest["source"]["font"]
    source = open_font(src["path"], src.get("face", 0))
    model = GlyphGenerator(run, device="cpu", amp=amp)
    out.parent.mkdir(parents=True, exist_ok=True)
    style = model.style(manifest["styles"][0]["name"])
    return drawing_rate(model, style=style, source=source, chars=chars, out=out, rounds=rounds), out


def agreement(a: Path, b: Path, chars: list[str]) -> float:
    """Median over glyphs of the ink IoU between the two folders' images of a character."""
    ious = []
    for c in chars:
        x, y = read_grey(a / glyph_filename(c)) < 128, read_grey(b / glyph_filename(c)) < 128
        ious.append((x & y).sum() / max(1, (x | y).sum()))
    return float(np.median(ious))


def main() -> None:
    args = parse_args()
    if not cpu_has_bf16():
        raise SystemExit("bf16-inference: this CPU has neither AVX-512 BF16 nor AMX; bf16 would be emulated here")
    fonts = [f.name for f in EVALUATION if (args.work / _slug(f.name) / "run").is_dir()]
    if not fonts:
        raise SystemExit(f"bf16-inference: {args.work} has no fine-tuned runs; run `python -m benchmarks.font_quality` "
                         "first (or pass its --work)")
    rows, verdicts, speed = [], [], []
    for name in fonts:
        run = args.work / _slug(name) / "run"
        manifest = read_manifest(run / "data")
        chars = list(manifest["split"]["holdout"])
        real = open_font_spec(corpus_font(name).spec)
        figures, folders, rates = {}, {}, {}
        # The two precisions in turn, so that a machine slowing down over the run favours neither.
        for amp in PRECISIONS:
            print(f"[bf16-inference] {name}: drawing in {amp}", flush=True)
            rates[amp], folders[amp] = draw(run, manifest, amp, chars, args.out / _slug(name) / amp, args.rounds)
        for amp in PRECISIONS:
            ttf = args.out / _slug(name) / f"{amp}.ttf"
            export_font(folders[amp], ttf, family=f"zi2zi bf16 inference {amp}", overwrite=True)
            figures[amp] = font_quality(open_font(str(ttf), 0), real, chars).summary()
        spread = fp32_spread(args.ledger, name)
        for key in MEASURES:
            diff = figures["bf16"][key] - figures["none"][key]
            within = key in spread and abs(diff) <= spread[key]
            verdicts.append(within)
            rows.append([name, key, f"{figures['none'][key]:.4f}", f"{figures['bf16'][key]:.4f}", f"{diff:+.4f}",
                         f"{spread[key]:.4f}" if key in spread else "-", "yes" if within else "no"])
        speed.append([name, len(chars), f"{rates['none']:.1f}", f"{rates['bf16']:.1f}",
                      f"**{rates['bf16'] / rates['none']:.2f}x**", f"{agreement(folders['none'], folders['bf16'], chars):.4f}"])
    m = machine()
    verdict = ("bf16 drawing is equal to fp32 within the fp32 fine-tunes' seed spread on every measure and font"
               if all(verdicts) else "bf16 drawing differs from fp32 beyond the fp32 fine-tunes' seed spread somewhere (see 'within')")
    lines = [
        "# bf16 against fp32 drawing: generation and refining (`benchmarks/bf16_inference.py`)",
        "",
        f"Measured on {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['threads']} threads): the runs "
        "`benchmarks/font_quality.py` fine-tuned, their held-out characters drawn (generator + refiner, 256 px) "
        f"in fp32 and under bf16 autocast, median of {args.rounds} timed rounds after a warm-up, exported and measured "
        "on the font rendered back.",
        "",
        f"**Verdict: {verdict}.**",
        "",
        markdown_table(["font", "characters", "fp32 glyphs/s", "bf16 glyphs/s", "bf16 / fp32",
                        "median ink IoU bf16 vs fp32 glyph"], speed),
        "",
        markdown_table(["font", "measure", "fp32", "bf16", "bf16 - fp32", "fp32 seeds' spread (fine-tunes)", "within"],
                       rows),
        "",
    ]
    write_text(args.report, "\n".join(lines))
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()

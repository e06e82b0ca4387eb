"""The refining stage's speed: refined glyphs per second, and a whole GB2312 font with and without it.

With the shipped base and its shipped refiner (both as shipped; speed does not depend on a
fine-tune), through the code the commands use:

- refining alone (``GlyphRefiner.refine`` on the generator's glyphs and the source at 256 px);
- drawing glyphs (``GlyphGenerator.generate_chars``: render, generate, refine) with the refiner
  and without it, in alternating rounds;
- generate + export of every GB2312 character into a TTF, once through the refiner (256 px glyphs
  traced) and once without it (64 px glyphs traced), in the same run.

    python -m benchmarks.bench_refine [--n 256] [--rounds 5] [--charset gb2312]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import machine, quartiles
from zi2zi.bases import refiner_for_base, resolve_base
from zi2zi.export import export_glyphs
from zi2zi.fonts import resolve_charset
from zi2zi.generation import GlyphGenerator, generate_to_folder


def timed_rounds(fn, rounds: int) -> list[float]:
    seconds = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        seconds.append(time.perf_counter() - t0)
    return seconds


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="base-64")
    p.add_argument("--n", type=int, default=256, help="glyphs per timed round")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--charset", default="gb2312", help="the whole-font part (all of it is generated and exported)")
    args = p.parse_args()
    base = resolve_base(args.base)
    refiner_path = refiner_for_base(base)
    if refiner_path is None:
        raise SystemExit(f"bench_refine: no refiner is shipped for {base.stem}")
    refined = GlyphGenerator(base, device="cpu", refiner=refiner_path)
    plain = GlyphGenerator(base, device="cpu", refine=False)
    assert refined.refiner is not None
    source = plain.source_font(print)
    style = plain.style(0)
    chars = [c for c in resolve_charset("gb2312-1") if source.covers(c)][: args.n]

    coarse = np.concatenate([g for _, g in plain.generate_chars(source, chars, style)])
    hi = refined.refiner.source_renderer(source, refined.style_embox(style))
    sources = np.stack([hi.render(c) for c in chars])

    def refine_only() -> None:
        refined.refiner.refine(coarse, sources)

    def draw(model: GlyphGenerator):
        return lambda: [None for _ in model.generate_chars(source, chars, style)]

    refine_only()  # warm-up
    refine_s = timed_rounds(refine_only, args.rounds)
    draw_refined, draw_plain = [], []
    for _ in range(args.rounds):  # alternating, so that a busy moment hits both
        draw_refined += timed_rounds(draw(refined), 1)
        draw_plain += timed_rounds(draw(plain), 1)

    whole = [c for c in resolve_charset(args.charset) if source.covers(c)]
    fonts = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, model in (("refined", refined), ("plain", plain)):
            t0 = time.perf_counter()
            report = generate_to_folder(model, style=style, source=source, chars=whole, out=Path(tmp) / name)
            generated = time.perf_counter() - t0
            t0 = time.perf_counter()
            export_glyphs(Path(tmp) / name, Path(tmp) / f"{name}.ttf", family=f"bench {name}")
            exported = time.perf_counter() - t0
            fonts[name] = {"glyphs": len(report.written), "generate_s": round(generated, 1),
                           "export_s": round(exported, 1), "total_s": round(generated + exported, 1)}

    def rate(seconds: list[float]) -> float:
        return round(len(chars) / float(np.median(seconds)), 1)

    result = {
        "machine": machine(), "base": base.stem, "refiner": refiner_path.stem, "n": len(chars), "rounds": args.rounds,
        "refine_glyphs_per_s": rate(refine_s), "refine": quartiles(refine_s),
        "draw_refined_glyphs_per_s": rate(draw_refined), "draw_plain_glyphs_per_s": rate(draw_plain),
        "draw_ratio": round(float(np.median(draw_refined) / np.median(draw_plain)), 2),
        "charset": args.charset, "fonts": fonts,
        "font_ratio": round(fonts["refined"]["total_s"] / fonts["plain"]["total_s"], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()

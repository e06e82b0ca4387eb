"""Generation speed: glyphs per second from a source font, at 64 px (cpu-small) and 256 px (classic).

Times what `zi2zi generate` does per glyph, through the same code (``GlyphGenerator.generate_chars``):
render the source glyph with the project renderer, run the generator in eval mode in batches, and
encode the PNG. The checkpoint holds freshly initialised weights (speed does not depend on their
values). Both memory formats are timed in turn, ``--rounds`` times each, so a busy moment hits
both; the figures are medians with quartiles, and their ratio is the gain of the default
(channels_last) over the contiguous format measured in the same run.

    python -m benchmarks.bench_generate [--n 64] [--rounds 10] [--batch-size 32] [--source FONT]
"""

from __future__ import annotations

import argparse
import dataclasses
import io
import json
import tempfile
import time
from pathlib import Path

import torch
from PIL import Image

from benchmarks.common import DEMO_FONT_FILES, machine, quartiles
from zi2zi.checkpoints import save_weights
from zi2zi.config import RenderSettings, preset
from zi2zi.fonts import open_font, resolve_charset
from zi2zi.fonts.system import find_font
from zi2zi.generation import GlyphGenerator
from zi2zi.models import build_models

CASES = {64: "cpu-small", 256: "classic"}


def fresh_checkpoint(size: int, folder: Path) -> Path:
    cfg = preset(CASES[size])
    torch.manual_seed(0)
    g, d = build_models(cfg, num_styles=cfg.model.generator.num_styles)
    path = folder / f"fresh-{size}.safetensors"
    return save_weights(path, generator=g, discriminator=d, meta={
        "config": cfg.to_dict(), "styles": [{"id": 0, "name": "bench"}],
        "render": dataclasses.asdict(RenderSettings(size=size)), "step": 0})


def one_round(model: GlyphGenerator, font, chars: list[str], batch_size: int) -> float:
    style = model.style(0)
    started = time.perf_counter()
    for _, glyphs in model.generate_chars(font, chars, style, batch_size=batch_size):
        for image in glyphs:
            Image.fromarray(image).save(io.BytesIO(), format="PNG")
    return time.perf_counter() - started


def run(size: int, chars: list[str], font, batch_size: int, rounds: int, folder: Path) -> dict:
    checkpoint = fresh_checkpoint(size, folder)
    models = {"channels_last": GlyphGenerator(checkpoint, device="cpu", channels_last=True),
              "contiguous": GlyphGenerator(checkpoint, device="cpu", channels_last=False)}
    times: dict[str, list[float]] = {name: [] for name in models}
    for model in models.values():  # warm-up: first calls allocate
        one_round(model, font, chars[:batch_size], batch_size)
    for _ in range(rounds):
        for name, model in models.items():
            times[name].append(one_round(model, font, chars, batch_size))
    result: dict = {"size": size, "preset": CASES[size], "glyphs": len(chars), "rounds": rounds,
                    "batch_size": batch_size}
    for name, values in times.items():
        spread = quartiles(values, digits=3)
        result[name] = {**spread, "glyphs_per_s": round(len(chars) / spread["median_s"], 1)}
    result["glyphs_per_s"] = result["channels_last"]["glyphs_per_s"]  # the default
    result["speedup"] = round(result["contiguous"]["median_s"] / result["channels_last"]["median_s"], 2)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=64, help="glyphs per round and size (default 64)")
    parser.add_argument("--rounds", type=int, default=10, help="timed rounds per memory format (default 10)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256], choices=sorted(CASES))
    parser.add_argument("--source", default=None, help="source font (default: the demo's)")
    args = parser.parse_args()
    font = open_font(args.source or find_font(DEMO_FONT_FILES["source"]))
    chars = [c for c in resolve_charset("gb2312") if font.covers(c)][: args.n]
    print(f"machine: {machine()}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in args.sizes:
            res = run(size, chars, font, args.batch_size, args.rounds, Path(tmp))
            results.append(res)
            print(f"{size:4d} px ({res['preset']}): {res['glyphs_per_s']} glyphs/s channels_last, "
                  f"{res['contiguous']['glyphs_per_s']} contiguous ({res['speedup']}x), batch {args.batch_size}")
    print(json.dumps({"benchmark": "generate", "machine": machine(), "results": results}))


if __name__ == "__main__":
    main()

"""Generation speed: glyphs per second from a source font, at 64 px (cpu-small) and 256 px (classic).

Times what `zi2zi generate` does per glyph: render the source glyph with the project renderer,
run the generator in eval mode in batches, and encode the PNG. The generator's weights are
freshly initialised: speed does not depend on their values, and no checkpoint is needed.

    python benchmarks/bench_generate.py [--n 256] [--batch-size 32] [--source FONT]
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).parent))
from common import DEMO_FONT_FILES, machine  # noqa: E402

from zi2zi.config import RenderSettings, preset  # noqa: E402
from zi2zi.data.dataset import to_tensor  # noqa: E402
from zi2zi.fonts import Renderer, open_font, resolve_charset  # noqa: E402
from zi2zi.fonts.system import find_font  # noqa: E402
from zi2zi.inference import to_uint8  # noqa: E402
from zi2zi.models import build_models  # noqa: E402

CASES = {64: "cpu-small", 256: "classic"}


def run(size: int, chars: list[str], font, batch_size: int) -> dict:
    cfg = preset(CASES[size])
    generator, _ = build_models(cfg, num_styles=cfg.model.generator.num_styles)
    generator.eval()
    renderer = Renderer(font, RenderSettings(size=size))
    style = torch.zeros(batch_size, dtype=torch.long)
    with torch.no_grad():  # warm-up: first calls allocate
        generator(to_tensor(np.stack([renderer.render(chars[0])] * batch_size)), style)
    started = time.perf_counter()
    done = 0
    with torch.no_grad():
        for i in range(0, len(chars), batch_size):
            batch = [renderer.render(c) for c in chars[i : i + batch_size]]
            images = to_uint8(generator(to_tensor(np.stack(batch)), style[: len(batch)]))
            for image in images:
                Image.fromarray(image).save(io.BytesIO(), format="PNG")
            done += len(batch)
    seconds = time.perf_counter() - started
    return {"size": size, "preset": CASES[size], "glyphs": done, "batch_size": batch_size,
            "seconds": round(seconds, 2), "glyphs_per_s": round(done / seconds, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=256, help="glyphs per size")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 256], choices=sorted(CASES))
    parser.add_argument("--source", default=None, help="source font (default: the demo's)")
    args = parser.parse_args()
    font = open_font(args.source or find_font(DEMO_FONT_FILES["source"]))
    chars = [c for c in resolve_charset("gb2312") if font.covers(c)][: args.n]
    print(f"machine: {machine()}")
    results = []
    for size in args.sizes:
        res = run(size, chars, font, args.batch_size)
        results.append(res)
        print(f"{size:4d} px ({res['preset']}): {res['glyphs']} glyphs in {res['seconds']} s = "
              f"{res['glyphs_per_s']} glyphs/s (batch {args.batch_size})")
    print(json.dumps({"benchmark": "generate", "results": results}))


if __name__ == "__main__":
    main()

"""Shared bits of the benchmarks: finding the demo fonts and describing the machine."""

from __future__ import annotations

import os
import platform

# Debian packages installed by scripts/install-demo-fonts.sh; looked up by file name under the
# usual font folders so other systems with the same fonts work too.
DEMO_FONT_FILES = {
    "source": "uming.ttc",
    "target": "ukai.ttc",
}


def machine() -> dict:
    import torch

    from zi2zi.device import cpu_name

    return {
        "cpu": cpu_name(),
        "cores": os.cpu_count(),
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "python": platform.python_version(),
    }


def quartiles(seconds: list[float], digits: int = 4) -> dict:
    """Median and quartiles of timed iterations: what the reports give as a time and its spread."""
    import numpy as np

    q1, med, q3 = np.percentile(seconds, [25, 50, 75])
    return {"median_s": round(float(med), digits), "q1_s": round(float(q1), digits), "q3_s": round(float(q3), digits)}


def synthetic_batch(size: int, batch: int, num_styles: int, *, style: int | None = None) -> dict:
    """A seeded batch of random source and target images in [-1, 1] with style ids (all ``style``
    when given): training speed does not depend on what the glyphs look like."""
    import torch

    gen = torch.Generator().manual_seed(0)
    return {
        "source": torch.rand(batch, 1, size, size, generator=gen) * 2 - 1,
        "target": torch.rand(batch, 1, size, size, generator=gen) * 2 - 1,
        "style": (torch.full((batch,), style) if style is not None
                  else torch.randint(0, num_styles, (batch,), generator=gen)),
    }


def drawing_rate(model, *, style, source, chars: list[str], out, rounds: int) -> float:
    """Median glyphs per second of ``model`` (a GlyphGenerator) drawing ``chars`` into ``out``, over
    ``rounds`` timed rounds after a short warm-up; the last round's glyphs stay in ``out``."""
    import statistics
    import time

    from zi2zi.generation import generate_to_folder

    generate_to_folder(model, style=style, source=source, chars=chars[:32], out=out, overwrite=True)  # warm-up
    rates = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        generate_to_folder(model, style=style, source=source, chars=chars, out=out, overwrite=True)
        rates.append(len(chars) / (time.perf_counter() - t0))
    return statistics.median(rates)

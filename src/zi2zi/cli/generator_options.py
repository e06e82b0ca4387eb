"""The options of every command that draws glyphs from a checkpoint, and the generator they open."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from zi2zi.config import AMPS

if TYPE_CHECKING:
    from zi2zi.generation import GlyphGenerator


def add_generator_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    p.add_argument("--no-refine", action="store_true",
                   help="the generator's own glyphs (64 px for base-64 runs), not the run's refiner's")
    p.add_argument("--refiner", metavar="FILE",
                   help="refine with this refiner file (default: the run's own RUN/refiner.safetensors, if any)")
    p.add_argument("--amp", choices=AMPS, default="auto",
                   help="precision to draw in (default auto: bf16 on a CPU where it was measured faster, one with AMX "
                        "or an AMD one with AVX-512 BF16; fp32 on other CPUs; bf16 or fp16 on a GPU; none: fp32)")


def open_generator(args: argparse.Namespace) -> GlyphGenerator:
    from zi2zi.errors import Zi2ziError
    from zi2zi.generation import GlyphGenerator

    if args.no_refine and args.refiner:
        raise Zi2ziError("--refiner and --no-refine contradict each other; give one")
    return GlyphGenerator(args.checkpoint, device=args.device, refine=not args.no_refine, refiner=args.refiner,
                          amp=args.amp)

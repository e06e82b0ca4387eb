"""zi2zi finetune: a new style from a few glyphs, starting from a shipped base model."""

from __future__ import annotations

import argparse
import json

from zi2zi.config import AMPS
from zi2zi.finetune.recipe import DEFAULT_CHARSET, DEFAULT_PLACEMENT, DEFAULT_TRAIN_CHARS, DISCRIMINATORS, PLACEMENTS


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "finetune",
        help="fine-tune a base model to a new font from a few hundred glyphs",
        description=(
            "Add a style to a base model and train it on a target font, a folder of U+XXXX.png glyphs\n"
            "(a scanned hand) or a dataset rendered like the base. Steps, learning rate, which layers\n"
            "train and whether a discriminator takes part follow from how many glyphs there are\n"
            "(zi2zi.finetune.recipe; the README shows the measurements). Then the refiner shipped for the base\n"
            "is fine-tuned on the same glyphs (RUN/refiner.safetensors), so glyphs drawn from the run come out\n"
            "at 256 px with clean edges (--no-refine: 64 px). The result is an ordinary run directory:\n"
            "generate, evaluate, specimen and export use it. Run the same command again to resume."
        ),
        epilog=(
            "examples: zi2zi finetune --base base-64 --target ukai.ttc --out runs/kai\n"
            "          zi2zi finetune --base base-64 --target MyFont.otf --chars mine.txt --holdout 0 --out runs/mine\n"
            "          zi2zi finetune --base base-64 --target-glyphs scans/glyphs --out runs/hand"
        ),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--base", default="base-64", metavar="NAME|CKPT",
                   help="a shipped base (see `zi2zi models`), a checkpoint or a run directory (default: base-64)")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--target", metavar="FONT", help="the new font (PATH or PATH#FACE)")
    what.add_argument("--target-glyphs", metavar="DIR", help="a glyph folder (U+XXXX.png + manifest.json)")
    what.add_argument("--data", metavar="DATASET", help="a one-style dataset rendered from the base's source font")
    p.add_argument("--chars", metavar="SPEC",
                   help="with --target: the characters to train on (charset name, file or text:...; "
                        f"default: the first {DEFAULT_TRAIN_CHARS} the font has of {DEFAULT_CHARSET}, GB 2312 level 1 "
                        "in code order, which trained better than gb2312-1-coverage in "
                        "benchmarks/reports/training-order.md)")
    p.add_argument("--holdout", type=int, metavar="N",
                   help="characters kept out of training to measure the result (default: up to 100 for --target, "
                        "0 for --target-glyphs)")
    p.add_argument("--steps", type=int, metavar="N", help="training steps (default: by the number of glyphs)")
    p.add_argument("--discriminator", choices=DISCRIMINATORS,
                   help="none (the default: L1 + const only) or fresh: a discriminator from random weights "
                        "trains beside G, for sharper strokes in about 1.7x the time")
    p.add_argument("--placement", choices=PLACEMENTS,
                   help="with --target-glyphs: how the written glyphs are brought to one placement before training, "
                        "each against its source glyph (centroid: moved; scale: moved and scaled uniformly; axes: "
                        f"scaled across and down apart; none: as written). Default {DEFAULT_PLACEMENT}, measured in "
                        "benchmarks/reports/placement.md. The hand's median placement is recorded in the run and "
                        "generated glyphs get it, so they sit beside the written ones")
    p.add_argument("--no-refine", action="store_true",
                   help="no refining stage: glyphs stay at the base's size (64 px), as the generator draws them")
    p.add_argument("--refiner", metavar="FILE",
                   help="the refiner to fine-tune after the generator (default: the one shipped for the base, "
                        "see `zi2zi models`)")
    p.add_argument("--style-name", metavar="NAME", help="name of the new style (default: the font's or folder's)")
    p.add_argument("--out", required=True, metavar="RUN", help="run directory (holds the dataset in RUN/data)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--overwrite", action="store_true", help="start the run in --out over")
    p.add_argument("--device", metavar="D", help="auto | cpu | cuda | cuda:N | mps")
    p.add_argument("--amp", choices=AMPS, help="training precision (default: bf16 on a CPU where it was measured faster, "
                                               "one with AMX or an AMD one with AVX-512 BF16; fp32 on other CPUs; "
                                               "on a GPU bf16 where it has it, else fp16)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from zi2zi.cli.checks import int_at_least
    from zi2zi.finetune import finetune

    int_at_least("--holdout", args.holdout, 0)
    int_at_least("--steps", args.steps, 1)
    summary = finetune(
        args.base, args.out, target=args.target, chars=args.chars, target_glyphs=args.target_glyphs,
        data=args.data, holdout=args.holdout, steps=args.steps, discriminator=args.discriminator,
        style_name=args.style_name, seed=args.seed,
        overwrite=args.overwrite, device=args.device, amp=args.amp, progress=not args.no_progress,
        refine=not args.no_refine, refiner=args.refiner, placement=args.placement,
    )
    print(json.dumps({"run_dir": str(summary.run_dir), "style": summary.style, "train_glyphs": summary.train_glyphs,
                      "holdout_glyphs": summary.holdout_glyphs, "step": summary.step,
                      "checkpoint": str(summary.checkpoint) if summary.checkpoint else None,
                      "refiner": str(summary.refiner) if summary.refiner else None,
                      "stopped": summary.stopped}, ensure_ascii=False))
    # Stopped by Ctrl+C or SIGTERM (checkpointed): not a finished run, so not exit status 0.
    return 130 if summary.stopped == "interrupted" else 0

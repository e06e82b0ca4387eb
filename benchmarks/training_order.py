"""Which glyphs to fine-tune on: the first N of GB 2312 level 1 in code order, or in coverage order.

``gb2312-1-coverage`` orders level 1 so that each next character adds the most radicals and
phonetic series not yet covered, frequent characters first (``zi2zi.fonts.coverage_order``). This
measures it against code order (阿挨哎唉..., the fine-tuning default, which it did not beat) on
the three evaluation fonts at N = 50 and 200: the same base, recipe and step budget, the same
held-out characters as the few-shot report (the base's own held-out set), and only the training
characters differ. Cells live in the few-shot report's work folder (its font setup and
functions), apart from its own cells since they train the generator alone; each is stored as it
finishes, so the script can be run over several sittings. It trains 12 models (one to two minutes
each on two idle cores, the generator alone): run it when the
cores are free, since a busy machine gives the same models but wrong times.

    python -m benchmarks.training_order                      # writes benchmarks/reports/training-order.md
    python -m benchmarks.training_order --fonts "AR PL UKai CN" --sizes 200 --holdout 100
"""

from __future__ import annotations

import argparse
from functools import partial
from pathlib import Path

from benchmarks import few_shot
from benchmarks.common import machine
from zi2zi import checkpoints as ckpt
from zi2zi.finetune import recipe_for
from zi2zi.fonts import resolve_charset
from zi2zi.fonts.corpus import EVALUATION
from zi2zi.reporting import markdown_table

ORDERS = {"code": "gb2312-1", "coverage": "gb2312-1-coverage"}
HEADLINE = ["ssim", "l1", "frechet", "content_accuracy"]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="base-64")
    p.add_argument("--fonts", nargs="+", default=[f.name for f in EVALUATION], help="evaluation font names")
    p.add_argument("--sizes", nargs="+", type=int, default=[50, 200], help="training glyph counts N")
    p.add_argument("--holdout", type=int, default=500, help="held-out characters per font")
    p.add_argument("--steps", type=int, help="override every step budget (smoke runs only)")
    p.add_argument("--work", default="few-shot-work", help="the few-shot report's work folder (cells are shared)")
    p.add_argument("--report", default="benchmarks/reports/training-order.md")
    args = p.parse_args()
    args.discriminator = None  # the recipe's: what few_shot.run_finetune reads
    return args


def training_chars(font, held: str, n: int, order: str) -> str:
    held_set = set(held)
    return "".join([c for c in resolve_charset(ORDERS[order]) if c not in held_set and font.covers(c)][:n])


def run(args, f: few_shot.FontSetup, base_path: Path) -> dict:
    cells = {}
    for n in args.sizes:
        for order in ORDERS:
            chars = training_chars(f.font, f.held, n, order)
            recipe = recipe_for(len(chars), steps=args.steps)
            name = f"order-{order}-{n}"
            run_dir = f.folder / name
            # The generator alone: the question is which glyphs it learns from, and the refining
            # stage would add a minute and a half per cell to measures taken at 64 px.
            make = partial(few_shot.run_finetune, base_path, run_dir, f.spec, chars, f.name, args, f.evald,
                           refine=False)
            key = {**recipe.to_dict(), "order": ORDERS[order], "refine": False}
            cells[f"{order}-{n}"] = few_shot.cell(f.folder / f"{name}.json", make, key)
            print(f"[training-order] {f.name} N={n} {order}: SSIM {cells[f'{order}-{n}']['model']['ssim']:.3f}",
                  flush=True)
    return cells


def write_report(args, results: dict) -> None:
    rows = []
    for name, cells in results.items():
        for n in args.sizes:
            row = [name, str(n)]
            for metric in HEADLINE:
                code, cov = (cells[f"{o}-{n}"]["model"].get(metric) for o in ORDERS)
                row.append(f"{few_shot._fmt(code)} / {few_shot._fmt(cov)}")
            row.append(f"{cells[f'code-{n}']['seconds'] / 60:.1f} / {cells[f'coverage-{n}']['seconds'] / 60:.1f}")
            rows.append(row)
    lines = [
        "# Training glyphs: code order against coverage order",
        "",
        f"Written by `benchmarks/training_order.py` on {machine()['cpu']} ({machine()['cores']} cores). Each cell: code order / coverage order "
        f"(`{ORDERS['coverage']}`), fine-tuned from `{args.base}` with the recipe for N glyphs, measured on "
        f"{args.holdout} of the base's held-out characters at 64 px (the generator alone: no refining stage, "
        "which would add the same time to both orders).",
        "",
        markdown_table(["font", "N", *HEADLINE, "minutes"], rows),
        "",
    ]
    Path(args.report).write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    args = parse_args()
    from zi2zi.bases import resolve_base

    base_path = resolve_base(args.base)
    work = Path(args.work)
    meta = ckpt.read_metadata(base_path)
    loaded = ckpt.load_checkpoint(base_path)
    fonts = [few_shot.setup_font(args, name, loaded, meta, work) for name in args.fonts]
    write_report(args, {f.name: run(args, f, base_path) for f in fonts})
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()

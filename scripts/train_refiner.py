#!/usr/bin/env python3
"""Rebuild the shipped refiner from scratch: pairs from the shipped base, train, package.

    python scripts/train_refiner.py --work WORK                 # pairs (once), then train or resume
    python scripts/train_refiner.py --work WORK --package NAME  # fp16 weights + model card into the package

Pairs: for every corpus style of the base (never an evaluation font), characters the base trained
on (its held-out characters stay unseen by the refiner too, so they still measure unseen
characters), the base's own 64 px output against the real glyph at 256 px, with the source glyph
at 256 px. Training resumes exactly from WORK/state.pt: run the same command again.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import torch

from zi2zi.bases import bases_dir, resolve_base
from zi2zi.checkpoints import read_metadata
from zi2zi.checkpoints.resume import load_state, save_state
from zi2zi.device import cpu_name
from zi2zi.fonts import open_font, resolve_charset
from zi2zi.fonts.corpus import is_evaluation_font
from zi2zi.generation import GlyphGenerator
from zi2zi.refine.files import save_refiner
from zi2zi.refine.model import Refiner, RefinerConfig
from zi2zi.refine.pairs import RefinerPairs, pairs_from_font
from zi2zi.refine.train import RefinerRecipe, TrainState, train_refiner, validation
from zi2zi.storage.atomic import write_json, write_text

BASE = "base-64"
CHARSETS = ("gb2312", "jis0208", "big5-1")  # the base's characters (scripts/train_base.py)
TRAIN_PER_STYLE, VAL_PER_STYLE = 300, 24
RECIPE = RefinerRecipe(steps=8000, batch_size=32, crop=128, lr=1e-3, warmup=200)
CONFIG = RefinerConfig()
CHUNK = 250  # steps between resume states
VALIDATE_EVERY = 1000


def build_pairs(work: Path) -> tuple[RefinerPairs, RefinerPairs, dict]:
    train_path, val_path, info_path = work / "pairs-train.npz", work / "pairs-val.npz", work / "pairs.json"
    if info_path.is_file():
        return RefinerPairs.load(train_path), RefinerPairs.load(val_path), json.loads(info_path.read_text())
    started = time.perf_counter()
    base = resolve_base(BASE)
    meta = read_metadata(base)
    generator = GlyphGenerator(base, device="cpu", refine=False)
    src = meta["data_info"]["source"]["font"]
    source = open_font(src["path"], src["face"])
    held_out = set(meta["base"]["holdout"])
    chars = [c for spec in CHARSETS for c in resolve_charset(spec)]
    chars = [c for c in dict.fromkeys(chars) if c not in held_out and source.covers(c)]
    rng = np.random.default_rng(0)
    train_parts, val_parts, styles = [], [], []
    for record in meta["data_info"]["styles"]:
        font_record = record["font"]
        if is_evaluation_font(font_record["path"]):
            sys.exit(f"train_refiner: {font_record['path']} is an evaluation font; it must stay unseen")
        target = open_font(font_record["path"], font_record["face"])
        covered = [c for c in chars if target.covers(c)]
        pick = [covered[i] for i in rng.choice(len(covered), TRAIN_PER_STYLE + VAL_PER_STYLE, replace=False)]
        style = generator.style(int(record["id"]))
        # Half the characters are drawn with G's dropout on: its outputs then vary and err as a
        # model fine-tuned on a few glyphs does on characters it never saw, so the refiner learns
        # to lean on the source glyph where the coarse one is wrong.
        half = TRAIN_PER_STYLE // 2
        clean = pairs_from_font(generator, style, source=source, target=target, chars=pick[:half], size=CONFIG.size)
        with dropout_on(generator):
            varied = pairs_from_font(generator, style, source=source, target=target, chars=pick[half:],
                                     size=CONFIG.size)
        pairs = RefinerPairs.concat([clean, varied])
        val = [i for i, c in enumerate(pairs.chars) if c in set(pick[TRAIN_PER_STYLE:])]
        train_parts.append(pairs.subset([i for i in range(len(pairs)) if i not in set(val)]))
        val_parts.append(pairs.subset(val))
        styles.append({"name": record["name"], "file": Path(font_record["path"]).name,
                       "train": len(train_parts[-1]), "val": len(val_parts[-1])})
        print(f"pairs: {record['name']}: {len(train_parts[-1])} + {len(val_parts[-1])}", flush=True)
    train, val = RefinerPairs.concat(train_parts), RefinerPairs.concat(val_parts)
    train.save(train_path)
    val.save(val_path)
    info = {"base": BASE, "styles": styles, "train": len(train), "val": len(val),
            "seconds": round(time.perf_counter() - started, 1)}
    write_json(info_path, info, indent=1)
    return train, val, info


@contextmanager
def dropout_on(generator: GlyphGenerator) -> Iterator[None]:
    dropouts = [m for m in generator.generator.modules() if isinstance(m, torch.nn.Dropout)]
    for m in dropouts:
        m.train()
    try:
        yield
    finally:
        for m in dropouts:
            m.eval()


def train(work: Path) -> None:
    torch.manual_seed(RECIPE.seed)
    train_pairs, val_pairs, info = build_pairs(work)
    model = Refiner(CONFIG)
    state_file, log_file = work / "state.pt", work / "validation.jsonl"
    state = TrainState(step=0)
    if state_file.is_file():
        saved = load_state(state_file)
        model.load_state_dict(saved["model"])
        state = TrainState(step=int(saved["step"]), optimizer=saved["optimizer"], rng=saved["rng"],
                           seconds=float(saved["seconds"]))
        print(f"resuming at step {state.step}", flush=True)
    losses: list[float] = []
    while state.step < RECIPE.steps:
        state = train_refiner(model, train_pairs, RECIPE, state=state, until=state.step + CHUNK,
                              on_step=lambda step, loss: losses.append(loss))
        if state.step % VALIDATE_EVERY == 0 or state.step == RECIPE.steps:
            figures = {"step": state.step, "seconds": round(state.seconds, 1), "threads": torch.get_num_threads(),
                       "train_loss": round(float(np.mean(losses[-CHUNK:])), 5), **validation(model, val_pairs)}
            with open(log_file, "a", encoding="utf-8") as fh:
                fh.write(json.dumps(figures) + "\n")
            best = _best(log_file)
            if best["step"] == state.step:
                save_refiner(work / "best.safetensors", model, coarse=_coarse(), meta={"step": state.step})
            print(json.dumps(figures), flush=True)
        save_state(state_file, {"model": model.state_dict(), "step": state.step, "optimizer": state.optimizer,
                                "rng": state.rng, "seconds": state.seconds})
        print(f"step {state.step}: loss {np.mean(losses[-CHUNK:]):.4f}, {state.seconds / 60:.1f} min", flush=True)


def _coarse():
    return GlyphGenerator(resolve_base(BASE), device="cpu", refine=False).render_settings


def _best(log_file: Path) -> dict:
    rows = [json.loads(line) for line in log_file.read_text(encoding="utf-8").splitlines()]
    return max(rows, key=lambda r: r["ink_iou"])


def package(work: Path, name: str) -> None:
    from zi2zi.refine.files import load_refiner

    best_file = work / "best.safetensors"
    if not best_file.is_file():
        sys.exit(f"train_refiner: {best_file} does not exist; train first")
    info = json.loads((work / "pairs.json").read_text(encoding="utf-8"))
    rows = [json.loads(line) for line in (work / "validation.jsonl").read_text(encoding="utf-8").splitlines()]
    best = _best(work / "validation.jsonl")
    loaded = load_refiner(best_file)
    record = {
        "name": name, "recipe": "scripts/train_refiner.py", "base": info["base"], "styles": info["styles"],
        "pairs": {"train": info["train"], "val": info["val"]}, "training": RECIPE.to_dict(),
        "step": best["step"], "seconds_to_step": best["seconds"], "seconds_total": rows[-1]["seconds"],
        "cpu": cpu_name(), "threads": best["threads"], "torch": torch.__version__,
        "python": platform.python_version(), "validation": best,
    }
    out = bases_dir() / f"{name}.safetensors"
    save_refiner(out, loaded.model, coarse=loaded.coarse_render, meta={"refiner": record}, dtype=torch.float16)
    write_text(bases_dir() / f"{name}.md", model_card(record, out))
    print(f"packaged {out} ({out.stat().st_size / 1e6:.1f} MB) and its model card")


def model_card(record: dict, path: Path) -> str:
    val = record["validation"]
    params = sum(p.numel() for p in Refiner(CONFIG).parameters())
    lines = [
        f"# zi2zi refiner `{record['name']}`", "",
        f"Draws the final glyph at {CONFIG.size} px from the {CONFIG.coarse_size} px glyph of `{record['base']}` (or a model "
        "fine-tuned from it) and the source glyph at full size. `zi2zi finetune` fine-tunes it on the same glyphs as the "
        "generator; `generate`, `export` and the web app then draw refined glyphs.", "",
        f"- Weights: fp16 safetensors, {path.stat().st_size / 1e6:.1f} MB; {params / 1e6:.2f} M parameters "
        f"(width {CONFIG.width}, context width {CONFIG.context_width}, {CONFIG.blocks} blocks per level).",
        f"- Training: {record['step']} steps of batch {record['training']['batch_size']} crops of "
        f"{record['training']['crop']} px, binary cross-entropy, {record['seconds_to_step'] / 60:.0f} min of wall time on "
        f"{record['cpu']} ({record['threads']} thread{'s' if record['threads'] > 1 else ''}), torch {record['torch']}; the step with the highest validation ink "
        "IoU (checked every 1000 steps).",
        f"- Recipe: `{record['recipe']}` (rebuilds it from scratch and resumes).",
        f"- Pairs: {record['pairs']['train']} for training, {record['pairs']['val']} for validation, from "
        f"{len(record['styles'])} corpus styles; characters the base trained on (its held-out characters stay unseen).",
        "", "## Validation", "",
        "Whole glyphs at 256 px of characters the refiner did not train on, their coarse glyphs drawn with the "
        "base's dropout on (the hard case: a generator unsure of the character).", "",
        "| measure | refined | coarse glyph upscaled (bicubic) |", "|---|---|---|",
        f"| ink IoU at the 50 % level | {val['ink_iou']:.4f} | {val['ink_iou_upscaled']:.4f} |",
        f"| L1 | {val['l1']:.4f} | - |", "",
        "## Styles (corpus fonts only; none of the evaluation fonts)", "",
        "| style | file | pairs |", "|---|---|---|",
    ]
    lines += [f"| {s['name']} | {s['file']} | {s['train']} + {s['val']} |" for s in record["styles"]]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", required=True, type=Path, help="folder for pairs, state and logs (outside the tree)")
    parser.add_argument("--package", metavar="NAME", help="write WORK's best refiner into the package as NAME")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    if args.package:
        package(args.work, args.package)
    else:
        train(args.work)


if __name__ == "__main__":
    main()

"""A hand completed: the handwriting demo's chain measured end to end, in quality and in time.

The demo's synthetic hand (LXGW WenKai, else AR PL UKai, playing a person's writing; each glyph
sized and placed anew, ``zi2zi.handwriting.synthetic.HandSettings``) writes the default template
(300 characters), a synthetic phone photographs the pages, ``scan`` reads them and ``export`` makes
the written font (``zi2zi.demo.handwriting.write_and_scan``); then the shipped base is fine-tuned on
the scanned glyphs (with its refining stage), the rest of GB 2312 level 1 is generated and merged
into the written font (``zi2zi.demo.handwriting.complete_with_model``, one call of
``zi2zi.make_font``). Every stage is timed: template -> scan -> fine-tune -> complete -> export is
the chain a person runs (the synthetic photos stand in for their pen and phone, timed apart).

Because the hand is a font, its own glyphs are the truth for the characters it did not write.
``--holdout`` of the generated characters (from the base's held-out set first: unseen by the base
in content and style) are measured on the exported font against the hand font with
:mod:`zi2zi.metrics.font_quality` (identification among them, shape IoU, edge F, contours off),
for three paths: copying the source glyph (the base's source font), today's path (the same run's
generator without its refiner, ``--no-refine``) and the refined path (the completed font).

``--discriminator none|fresh`` chooses the fine-tuning's discriminator (none is the recipe's
choice); run it once with each and the report sets them side by side. Each cell is stored in
``--work`` keyed by its settings and reused on a rerun; ``--report-only`` rebuilds the report from
what is stored.

    python -m benchmarks.handwriting                              # discriminator none (the default)
    python -m benchmarks.handwriting --discriminator fresh        # then the report has both
    python -m benchmarks.handwriting --report-only
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import sys
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.common import machine
from benchmarks.font_quality import LABELS, points_per_glyph
from zi2zi.data import placement as pl
from zi2zi.data.glyphfolder import read_glyph_folder
from zi2zi.data.layout import read_manifest
from zi2zi.demo.handwriting import complete_with_model, find_hand_font, write_and_scan
from zi2zi.demo.settings import COMPLETE_CHARSET, TEMPLATE_SIZE
from zi2zi.finetune.recipe import DISCRIMINATORS
from zi2zi.fonts import FontFile, open_font, resolve_charset
from zi2zi.handwriting.charset import DEFAULT_CHARSET
from zi2zi.handwriting.synthetic import HandSettings
from zi2zi.metrics.font_quality import font_quality
from zi2zi.reporting import markdown_table
from zi2zi.storage.atomic import write_json

CELL_FORMAT = 1
PATHS = ("source", "plain", "refined")
FIGURES = ("identified", "shape_iou", "edge_f", "contours_off", "points", "size_vs_hand")
# The issue's targets, for the demo's synthetic hand with 300 written glyphs on 2 idle cores.
TARGETS = {"identified": 0.95, "gain": 0.15, "contours_off": 0.25, "minutes": 10.0}
PICTURE_CHARS = 10
CHAIN = ("template", "scan", "export_written", "completion")  # what a person runs, in order


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="base-64", help="the base fine-tuned (a shipped name, a checkpoint or a run)")
    p.add_argument("--written", type=int, default=300,
                   help=f"characters the hand writes: the first N of the default template ({DEFAULT_CHARSET})")
    p.add_argument("--holdout", type=int, default=300, help="generated characters measured against the hand font")
    p.add_argument("--complete-charset", default=COMPLETE_CHARSET,
                   help=f"what the completion generates, less the written characters (default {COMPLETE_CHARSET})")
    p.add_argument("--discriminator", choices=DISCRIMINATORS, default="none",
                   help="the fine-tuning's discriminator (none: the recipe's choice)")
    p.add_argument("--steps", type=int, help="fine-tuning steps (default: the recipe's, by the number of glyphs)")
    p.add_argument("--refiner-steps", type=int, help="the refining stage's steps (default: RefinerTuning's)")
    p.add_argument("--hand-font", help="the font playing the hand (default: LXGW WenKai, else AR PL UKai)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="auto")
    p.add_argument("--work", default="handwriting-work", help="where the cells are stored and reused")
    p.add_argument("--report", default="benchmarks/reports/handwriting.md")
    p.add_argument("--report-only", action="store_true", help="rebuild the report from the stored cells")
    args = p.parse_args(argv)
    if not 1 <= args.written <= 300:
        p.error("--written: 1 to 300 (the default template's characters)")
    if args.holdout < 1:
        p.error("--holdout: 1 or more")
    return args


def settings_key(args: argparse.Namespace, discriminator: str) -> dict:
    """Everything a cell's figures depend on (the machine aside: its times are the machine's)."""
    from zi2zi import checkpoints as ckpt
    from zi2zi.bases import refiner_for_base, resolve_base
    from zi2zi.refine.runtime import GlyphRefiner

    base = resolve_base(args.base)
    refiner = refiner_for_base(base)
    hand = open_font(args.hand_font) if args.hand_font else find_hand_font()
    key = {
        "format": CELL_FORMAT, "base": base.stem, "base_step": ckpt.read_metadata(base).get("step"),
        "refiner": GlyphRefiner(refiner).fingerprint if refiner else None,
        "hand": {"name": hand.name, "sha256": hand.sha256}, "hand_settings": asdict(HandSettings()),
        "written": args.written, "holdout": args.holdout, "complete_charset": args.complete_charset,
        "discriminator": discriminator, "steps": args.steps, "refiner_steps": args.refiner_steps,
        "seed": args.seed, "size": TEMPLATE_SIZE,
    }
    return json.loads(json.dumps(key))  # as a stored cell holds it (tuples become lists)


def cell_dir(work: Path, key: dict) -> Path:
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]
    return work / f"{key['discriminator']}-{digest}"


def stored_cell(work: Path, key: dict) -> dict | None:
    path = cell_dir(work, key) / "cell.json"
    if not path.is_file():
        return None
    cell = json.loads(path.read_text(encoding="utf-8"))
    return cell if cell.get("key") == key else None


def held_out(pool: list[str], base_holdout: str, n: int, seed: int) -> tuple[list[str], int]:
    """``n`` characters of ``pool``: the base's own held-out characters first, topped up from the
    rest; and how many came from the base's held-out set."""
    from zi2zi.finetune.inputs import holdout_pick

    unseen = set(base_holdout)
    first = holdout_pick([c for c in pool if c in unseen], n, seed)
    rest = holdout_pick([c for c in pool if c not in unseen], n - len(first), seed) if len(first) < n else []
    return sorted(first + rest, key=ord), len(first)


def hand_variation(glyphs: Path, hand: FontFile) -> dict:
    """How much the scanned glyphs vary in placement against the hand font's own glyphs drawn in
    the same em box (interquartile ranges across glyphs: ink-box centre offset in em, log size)."""
    folder = read_glyph_folder(glyphs)
    written = {chr(cp): folder.load(cp) for cp in folder.codepoints}
    clean = pl.source_glyphs(hand, written, folder.embox)
    centre, size = pl.box_spread({c: g for c, g in written.items() if c in clean}, clean)
    return {"centre_spread_em": round(centre, 4), "log_size_spread": round(size, 4)}


def ink_size(path: Path, face: int, chars: list[str]) -> dict[str, float]:
    """Each character's ink-box size in the font (the geometric mean of its outline's width and
    height, in ems): what an application draws, whatever box the font was made in."""
    from fontTools.pens.boundsPen import BoundsPen
    from fontTools.ttLib import TTFont

    sizes = {}
    with TTFont(str(path), fontNumber=face, lazy=True) as tt:
        cmap, glyphs, upm = tt.getBestCmap(), tt.getGlyphSet(), tt["head"].unitsPerEm
        for c in chars:
            if ord(c) not in cmap:
                continue
            pen = BoundsPen(glyphs)
            glyphs[cmap[ord(c)]].draw(pen)
            if pen.bounds is not None:
                x0, y0, x1, y1 = pen.bounds
                sizes[c] = float(((x1 - x0) * (y1 - y0)) ** 0.5 / upm)
    return sizes


def size_against_hand(path: Path, face: int, hand: FontFile, chars: list[str]) -> float | None:
    """Median over ``chars`` of the glyph's ink size in the font at ``path`` over the hand font's
    own: written and generated glyphs that sit together have the same."""
    import numpy as np

    mine, real = ink_size(path, face, chars), ink_size(Path(hand.path), hand.face_index, chars)
    ratios = [mine[c] / real[c] for c in mine if real.get(c)]
    return round(float(np.median(ratios)), 4) if ratios else None


def run_cell(args: argparse.Namespace, key: dict, folder: Path) -> dict:
    from zi2zi import checkpoints as ckpt
    from zi2zi.bases import resolve_base
    from zi2zi.finetune.run import base_holdout
    from zi2zi.fontmaking import font_from_model
    from zi2zi.generation import GlyphGenerator
    from zi2zi.refine.files import read_refiner_metadata
    from zi2zi.refine.runtime import RUN_REFINER

    if folder.exists():  # this benchmark's own cell, from a sitting that did not finish
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    out = folder / "hand"
    out.mkdir()

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    spec = DEFAULT_CHARSET if args.written == 300 else f"{DEFAULT_CHARSET}:{args.written}"
    scanned = write_and_scan(out, charset=spec, hand_font=args.hand_font, seed=args.seed, size=TEMPLATE_SIZE,
                             log=log)
    t0 = time.perf_counter()
    completion = complete_with_model(out, scanned.font, base=args.base, charset=args.complete_charset,
                                     steps=args.steps, discriminator=args.discriminator,
                                     refiner_steps=args.refiner_steps, device=args.device, log=log)
    completion_s = time.perf_counter() - t0
    if not completion.get("complete_font"):
        raise SystemExit(f"handwriting: the completion made no font: {completion['status']}")
    run = Path(completion["run"])
    refiner_file = run / RUN_REFINER
    refining_s = read_refiner_metadata(refiner_file)["tuned"]["seconds"] if refiner_file.is_file() else None

    complete, written_font, hand = open_font(completion["complete_font"]), open_font(scanned.font), scanned.hand
    written = [c for c in scanned.chars if written_font.covers(c)]
    pool = [c for c in resolve_charset(args.complete_charset)
            if not written_font.covers(c) and complete.covers(c) and hand.covers(c)]  # generated, with a truth
    chars, from_base = held_out(pool, base_holdout(ckpt.load_checkpoint(resolve_base(args.base))), args.holdout,
                                args.seed)

    # today's path: the same run's generator without its refiner, on the measured characters,
    # merged into the written font as the completion merges (so only the refiner differs)
    t0 = time.perf_counter()
    model = GlyphGenerator(run, device=args.device, refine=False)
    plain = font_from_model(model, style=model.style(completion["style"]), chars=chars, glyphs=folder / "generated-plain",
                            out=folder / "plain.ttf", merge_into=scanned.font, overwrite=True, echo=log)
    plain_s = time.perf_counter() - t0
    manifest = read_manifest(run / "data")
    src = manifest["source"]["font"]
    source = open_font(src["path"], src.get("face", 0))
    fonts = {"source": (source, Path(src["path"]), src.get("face", 0)),
             "plain": (open_font(folder / "plain.ttf"), folder / "plain.ttf", 0),
             "refined": (complete, Path(completion["complete_font"]), 0)}

    t0 = time.perf_counter()
    results = {}
    for path, (font, file, face) in fonts.items():
        figures: dict[str, float | int | None] = {**font_quality(font, hand, chars).summary()}
        figures["points"] = points_per_glyph(file, face, chars)
        figures["size_vs_hand"] = size_against_hand(file, face, hand, chars)
        results[path] = {"font": str(file), "face": face, **figures}
    scanned_quality: dict[str, float | int | None] = {**font_quality(written_font, hand, written).summary()}
    scanned_quality["size_vs_hand"] = size_against_hand(scanned.font, 0, hand, written)
    score_s = time.perf_counter() - t0

    stages = {"template": scanned.seconds["template"], "photos": scanned.seconds["photos"],
              "scan": scanned.seconds["scan"], "export_written": scanned.seconds["export"],
              "completion": completion_s, **{f"completion_{k}": v for k, v in completion["seconds"].items()},
              "refining_stage": refining_s, "plain_path": plain_s, "scoring": score_s}
    stages["chain"] = sum(stages[k] for k in CHAIN)
    placement = json.loads((run / "finetune.json").read_text(encoding="utf-8")).get("placement")
    return {
        "key": key, "machine": machine(), "hand_font": hand.name, "source_font": source.name,
        "hand_font_file": str(hand.path), "hand_face": hand.face_index,
        "template_chars": len(scanned.chars), "written_chars": "".join(written), "scan_median_ink_iou":
        round(scanned.median_ink_iou, 4), "train_glyphs": completion["train_glyphs"], "steps": completion["steps"],
        "generated": completion["generated"], "heldout_chars": "".join(chars), "heldout_from_base": from_base,
        "plain_glyphs": len(plain.glyphs.written) if plain.glyphs else 0,
        "written_font_quality": scanned_quality, "variation": hand_variation(scanned.glyphs, hand),
        "placement": placement, "results": results, "seconds": {k: None if v is None else round(v, 2)
                                                                 for k, v in stages.items()},
        "complete_font": completion["complete_font"], "written_font": str(scanned.font),
    }


def picture(cell: dict, out: Path) -> Path:
    """Written | generated at 150 px, with the hand font's own glyphs of the generated characters."""
    from zi2zi.generation.sheet import labelled_rows
    from zi2zi.generation.textline import set_line

    written, made = cell["written_chars"][:PICTURE_CHARS], cell["heldout_chars"][:PICTURE_CHARS]
    rows = [
        ("written by the hand (scanned, in the exported font)", set_line(cell["written_font"], written)),
        ("generated: characters the hand never wrote (refined path)", set_line(cell["complete_font"], made)),
        ("the hand font's own glyphs of those characters",
         set_line(cell["hand_font_file"], made, face=cell["hand_face"])),
    ]
    out.parent.mkdir(parents=True, exist_ok=True)
    labelled_rows(rows).save(out)
    return out


def picture_path(report: Path, discriminator: str) -> Path:
    name = "written-generated.png" if discriminator == "none" else f"written-generated-{discriminator}.png"
    return report.with_suffix("") / name


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def target_rows(cells: dict[str, dict]) -> list[list[str]]:
    rows = []
    for disc, cell in cells.items():
        r = cell["results"]
        refined, source = r["refined"], r["source"]
        iou_gain, edge_gain = refined["shape_iou"] - source["shape_iou"], refined["edge_f"] - source["edge_f"]
        minutes = cell["seconds"]["chain"] / 60
        rows.append([
            disc,
            f"{refined['identified']:.1%} ({_met(refined['identified'] >= TARGETS['identified'])})",
            f"{iou_gain:+.3f} ({_met(iou_gain >= TARGETS['gain'])})",
            f"{edge_gain:+.3f} ({_met(edge_gain >= TARGETS['gain'])})",
            f"{refined['contours_off']:.1%} ({_met(refined['contours_off'] <= TARGETS['contours_off'])})",
            f"{minutes:.1f} ({_met(minutes <= TARGETS['minutes'])})",
        ])
    return rows


def _num(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) and abs(v) < 10 else f"{v:.0f}" \
        if isinstance(v, float) else str(v)


def command(key: dict) -> str:
    """The command line that measures a cell of ``key``'s settings (the discriminator aside)."""
    defaults = {"written": 300, "holdout": 300, "complete_charset": COMPLETE_CHARSET, "steps": None,
                "refiner_steps": None, "seed": 0}
    given = [f"--{k.replace('_', '-')} {key[k]}" for k, v in defaults.items() if key[k] != v]
    return " ".join(["python -m benchmarks.handwriting", *given])


def write_report(cells: dict[str, dict], report: Path) -> None:
    first = next(iter(cells.values()))
    key, m = first["key"], first["machine"]
    lines = [
        "# A hand completed: the handwriting chain measured (`benchmarks/handwriting.py`)",
        "",
        f"The demo's synthetic hand ({first['hand_font']}; each glyph "
        f"{key['hand_settings']['scale'][0]:g}-{key['hand_settings']['scale'][1]:g} of its size and up to "
        f"{key['hand_settings']['shift']:.0%} off centre) wrote {first['template_chars']} characters of the default "
        f"template; a synthetic phone photographed the pages; `scan` read {len(first['written_chars'])} glyphs at "
        f"{key['size']} px (median ink IoU {first['scan_median_ink_iou']:.3f} against what was written) and `export` "
        f"made the written font. `{key['base']}` was fine-tuned on the {first['train_glyphs']} scanned glyphs it can "
        f"pair ({_num(first['steps'])} steps, then the refining stage"
        f"{'' if key['refiner_steps'] is None else ', ' + str(key['refiner_steps']) + ' steps'}) and the "
        f"{first['generated']} characters of `{key['complete_charset']}` the hand did not write were generated and "
        "merged into the written font (`zi2zi.demo.handwriting.complete_with_model`, one `zi2zi.make_font`).",
        "",
        f"Measured on the exported fonts against the hand font itself (the truth for characters it did not write), "
        f"with `zi2zi.metrics.font_quality`: {len(first['heldout_chars'])} generated characters "
        f"({first['heldout_from_base']} of them from the base's own held-out set, unseen in content and style), "
        f"identification among them, median shape IoU and edge F, share of glyphs with the contour count off, "
        f"median points per glyph, and `size_vs_hand`: the median of each glyph's ink size in the font (font "
        "units) over the hand font's own glyph's, to set beside the written glyphs' (a font whose generated "
        "characters sit beside its written ones has the same for both). "
        f"`source` copies the base's source glyph ({first['source_font']}); `today` is the "
        "same run's generator without its refiner (`--no-refine`); `refined` is the completed font.",
        "",
        f"Measured on {m['cpu']}, {m['cores']} cores, torch {m['torch']} ({m['threads']} torch threads), "
        f"Python {m['python']}; `{command(key)} [--discriminator fresh]`.",
        "",
        "## Targets (refined path)",
        "",
        markdown_table([
            "discriminator", f"identified >= {TARGETS['identified']:.0%}",
            f"shape IoU >= {TARGETS['gain']:g} above source", f"edge F >= {TARGETS['gain']:g} above source",
            f"contours off <= {TARGETS['contours_off']:.0%}",
            f"template -> export minutes <= {TARGETS['minutes']:g}"], target_rows(cells)),
        "",
        "## The completed characters",
        "",
    ]
    rows = [[disc, LABELS[p]] + [_num(cell["results"][p].get(f)) for f in FIGURES]
            for disc, cell in cells.items() for p in PATHS]
    lines += [markdown_table(["discriminator", "path", *FIGURES], rows), ""]
    for disc, cell in cells.items():
        w, v, place = cell["written_font_quality"], cell["variation"], cell.get("placement") or {}
        lines += [
            f"Discriminator {disc}: the written glyphs themselves, as exported, against the hand font: identified "
            f"{w['identified']:.1%} among the {w['characters']} written, shape IoU {w['shape_iou']:.3f}, edge F "
            f"{w['edge_f']:.3f}, contours off {w['contours_off']:.1%} (the ceiling the scan leaves), size_vs_hand "
            f"{_num(w.get('size_vs_hand'))}. Their placement "
            f"against the hand font's own glyphs varies by {v['centre_spread_em']:.3f} em (ink-box centre) and "
            f"{v['log_size_spread']:.3f} (log size), interquartile ranges across glyphs; the run's `"
            f"{place.get('method', '?')}` normalisation measured a median of {place.get('kx', float('nan')):.2f}x "
            f"the source glyph's size, {place.get('dx', float('nan')):+.3f} / {place.get('dy', float('nan')):+.3f} "
            "em off it, which the generated glyphs are given.",
            "",
            f"![discriminator {disc}: written | generated | the hand font's own, at 150 px]"
            f"({report.with_suffix('').name}/{picture_path(report, disc).name})",
            "",
        ]
    stage_names = [("template", "template"), ("photos", "synthetic photos (the hand and phone; not in the chain)"),
                   ("scan", "scan"), ("export_written", "export the written font"),
                   ("completion", "completion, in all"),
                   ("completion_finetune", "completion: fine-tune, with the refining stage"),
                   ("refining_stage", "completion: fine-tune: of it the refining stage"),
                   ("completion_generate", "completion: generate the rest of the charset (refined)"),
                   ("completion_export", "completion: export, merged into the written font"),
                   ("chain", "**template -> scan -> fine-tune -> complete -> export**"),
                   ("plain_path", "today's path on the measured characters (not in the chain)"),
                   ("scoring", "scoring (not in the chain)")]

    def seconds(v) -> str:
        return "-" if v is None else f"{v:.1f}"

    lines += ["## Time, stage by stage (seconds)", "",
              markdown_table(["stage", *cells], [[label, *(seconds(c["seconds"].get(k)) for c in cells.values())]
                                                 for k, label in stage_names]), ""]
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    work, report = Path(args.work), Path(args.report)
    cells: dict[str, dict] = {}
    if not args.report_only:
        key = settings_key(args, args.discriminator)
        cell = stored_cell(work, key)
        if cell is None:
            folder = cell_dir(work, key)
            cell = run_cell(args, key, folder)
            write_json(folder / "cell.json", cell)
        else:
            print(f"handwriting: reusing {cell_dir(work, key)}", file=sys.stderr)
    for disc in DISCRIMINATORS:  # every stored cell of these settings, side by side
        found = stored_cell(work, settings_key(args, disc))
        if found is not None:
            cells[disc] = found
    if not cells:
        raise SystemExit(f"handwriting: no stored cell of these settings in {work}; run without --report-only")
    for disc, cell in cells.items():
        picture(cell, picture_path(report, disc))
    write_report(cells, report)
    print(f"wrote {report}")
    print(json.dumps({d: {"targets": r, "seconds": cells[d]["seconds"]} for d, r in
                      zip(cells, target_rows(cells))}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Font-level quality: what a reader of the exported font sees, with and without the refiner.

For each evaluation font (never seen by the base or the refiner): ``zi2zi finetune`` from the
shipped base on N glyphs (the command's defaults: its training set and, after the generator, the
refining stage), then the held-out characters (from the base's own held-out set) generated and
exported as TTF twice: through the run's refiner (the default) and without it (``--no-refine``,
the generator's 64 px glyphs traced). Each exported font is rendered back and measured against the
real font with :mod:`zi2zi.metrics.font_quality` (identification, shape IoU, edge F, contours off),
the glyph classifier (content accuracy at 64 px), points per glyph, and held-out SSIM at 64 px; the
source font itself (copying the source glyph) is the trivial baseline. A picture sets a line of
held-out characters at 150 px in the real font, today's path and the refined path.

Each font's results are stored in ``--work`` as they finish (keyed by the settings they depend
on), so the report rebuilds from them without retraining; run it again to go on.

    python -m benchmarks.font_quality
    python -m benchmarks.font_quality --fonts "AR PL UKai CN" --holdout 100    # one font, quicker
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks.common import machine
from zi2zi import checkpoints as ckpt
from zi2zi.bases import refiner_for_base, resolve_base
from zi2zi.config import RenderSettings
from zi2zi.data.layout import read_manifest
from zi2zi.export import export_font
from zi2zi.export.outline_stats import outline_stats
from zi2zi.finetune import finetune
from zi2zi.fonts import FontFile, Renderer, open_font
from zi2zi.fonts.corpus import EVALUATION, classifier_fonts, corpus_font
from zi2zi.fonts.font import open_font_spec
from zi2zi.generation import GlyphGenerator, generate_to_folder
from zi2zi.generation.textline import font_lines
from zi2zi.images import read_grey, resize_glyph
from zi2zi.metrics.classifier import accuracy, get_classifier
from zi2zi.metrics.font_quality import font_quality
from zi2zi.metrics.pixel import ssim
from zi2zi.refine.files import read_refiner_metadata
from zi2zi.refine.runtime import GlyphRefiner
from zi2zi.reporting import markdown_table
from zi2zi.storage.atomic import write_json

PATHS = ("source", "plain", "refined", "real")
LABELS = {"source": "source glyph copied", "plain": "today (--no-refine)", "refined": "refined", "real": "real font"}
COLUMNS = ["identified", "shape_iou", "edge_f", "contours_off", "content_accuracy", "points", "ssim_64"]
PICTURE_CHARS = 10
TARGETS = {"identified": 0.95, "gain": 0.15, "contours_off": 0.20, "minutes": 5.0}


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", default="base-64")
    p.add_argument("--fonts", nargs="+", default=[f.name for f in EVALUATION], help="evaluation font names")
    p.add_argument("--holdout", type=int, default=300, help="held-out characters generated and measured")
    p.add_argument("--work", default="font-quality-work")
    p.add_argument("--report", default="benchmarks/reports/font-quality.md")
    return p.parse_args()


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").lower()


def _face_of(font: FontFile) -> int:
    return font.face_index


def points_per_glyph(path: Path, face: int, chars: list[str]) -> float:
    from fontTools.ttLib import TTFont

    with TTFont(str(path), fontNumber=face, lazy=True) as tt:
        return outline_stats(tt, [ord(c) for c in chars]).median_points


def content_accuracy(classifier, font: FontFile, chars: list[str], render: RenderSettings) -> float | None:
    renderer = Renderer(font, render)
    images, labels = [], []
    for c in chars:
        image = renderer.render(c)
        if image is not None:
            images.append(image)
            labels.append(classifier.index[c])
    return accuracy(classifier, np.stack(images), np.array(labels)) if images else None


def ssim_64(folder: Path, real: FontFile, chars: list[str], render: RenderSettings) -> float:
    """Held-out SSIM at the generator's size: the glyph folder (refined glyphs area-averaged down)
    against the real glyph rendered as the fine-tuning dataset renders it."""
    renderer = Renderer(real, render)
    pred, target = [], []
    for c in chars:
        truth = renderer.render(c)
        path = folder / f"U+{ord(c):04X}.png"
        if truth is None or not path.is_file():
            continue
        pred.append(resize_glyph(read_grey(path), render.size))
        target.append(truth)

    def unit(a: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(a)).float().div(255.0).unsqueeze(1)

    return float(ssim(unit(pred), unit(target)).mean())


def run_font(args, name: str, base_path: Path, refiner: GlyphRefiner, work: Path, classifier_cache: Path) -> dict:
    spec = corpus_font(name).spec
    real = open_font_spec(spec)
    folder = work / _slug(name)
    t0 = time.perf_counter()
    summary = finetune(base_path, folder / "run", target=spec, holdout=args.holdout, style_name=name, overwrite=True,
                       progress=False)
    finetune_s = time.perf_counter() - t0
    if summary.step < summary.recipe.steps or summary.refiner is None:
        raise SystemExit(f"font-quality: the fine-tune of {name} stopped early or made no refiner; run again")
    tuned = read_refiner_metadata(summary.refiner)["tuned"]
    manifest = read_manifest(summary.data_dir)
    chars = list(manifest["split"]["holdout"])
    src = manifest["source"]["font"]
    source = open_font(src["path"], src.get("face", 0))
    render = RenderSettings(**manifest["render"])
    results: dict[str, dict] = {}
    timings = {"finetune_s": round(finetune_s, 1), "refiner_tuning_s": tuned["seconds"]}
    for path in ("plain", "refined"):
        model = GlyphGenerator(summary.run_dir, device="cpu", refine=path == "refined")
        glyphs = folder / f"glyphs-{path}"
        if glyphs.exists():  # this benchmark's own folder from an earlier sitting
            shutil.rmtree(glyphs)
        t0 = time.perf_counter()
        report = generate_to_folder(model, style=model.style(summary.style), source=source, chars=chars, out=glyphs)
        timings[f"generate_{path}_s"] = round(time.perf_counter() - t0, 2)
        ttf = folder / f"{path}.ttf"
        t0 = time.perf_counter()
        export_font(glyphs, ttf, family=f"zi2zi {name} {path}", overwrite=True)
        timings[f"export_{path}_s"] = round(time.perf_counter() - t0, 2)
        results[path] = {"font": str(ttf), "face": 0, "folder": str(glyphs), "glyphs": len(report.written)}
    results["source"] = {"font": str(source.path), "face": _face_of(source)}
    results["real"] = {"font": str(real.path), "face": _face_of(real)}
    clf_fonts = [open_font_spec(s) for s in classifier_fonts()]
    classifier = get_classifier(chars, clf_fonts, cache_dir=classifier_cache, render=RenderSettings(size=render.size))
    for path, r in results.items():
        font = open_font(r["font"], r["face"])
        figures = font_quality(font, real, chars).summary() if path != "real" else {
            "characters": len(chars), "identified": 1.0, "shape_iou": 1.0, "edge_f": 1.0, "contours_off": 0.0}
        figures["content_accuracy"] = content_accuracy(classifier, font, chars, render)
        figures["points"] = points_per_glyph(Path(r["font"]), r["face"], chars)
        if "folder" in r:
            figures["ssim_64"] = ssim_64(Path(r["folder"]), real, chars, render)
        r.update(figures)
    return {"chars": "".join(chars), "train_glyphs": summary.train_glyphs, "results": results, "timings": timings,
            "classifier_holdout_accuracy": classifier.info.get("holdout_accuracy")}


def picture(name: str, res: dict, out: Path) -> Path:
    text = res["chars"][:PICTURE_CHARS]
    r = res["results"]
    lines = [(f"{LABELS[k]}", r[k]["font"], r[k]["face"]) for k in ("real", "plain", "refined")]
    image = font_lines(lines, text, px=150)
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)
    return out


def _fmt(v) -> str:
    return "-" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def target_lines(all_results: dict) -> list[str]:
    rows = []
    for name, res in all_results.items():
        r = res["results"]
        refined, source = r["refined"], r["source"]
        minutes = res["timings"]["finetune_s"] / 60
        rows.append([
            name,
            f"{refined['identified']:.1%} ({'met' if refined['identified'] >= TARGETS['identified'] else 'not met'})",
            f"{refined['shape_iou'] - source['shape_iou']:+.3f} "
            f"({'met' if refined['shape_iou'] - source['shape_iou'] >= TARGETS['gain'] else 'not met'})",
            f"{refined['edge_f'] - source['edge_f']:+.3f} "
            f"({'met' if refined['edge_f'] - source['edge_f'] >= TARGETS['gain'] else 'not met'})",
            f"{refined['contours_off']:.1%} ({'met' if refined['contours_off'] <= TARGETS['contours_off'] else 'not met'})",
            f"{minutes:.1f} ({'met' if minutes <= TARGETS['minutes'] else 'not met'})",
            f"{refined['ssim_64']:.3f} vs {r['plain']['ssim_64']:.3f}",
            f"{_fmt(refined['content_accuracy'])} vs {_fmt(r['plain']['content_accuracy'])}",
        ])
    return ["## Targets (N = 200 glyphs)", "",
            markdown_table(["font", "identified >= 95 %", "shape IoU gain >= 0.15", "edge F gain >= 0.15",
                            "contours off <= 20 %", "finetune minutes <= 5", "SSIM 64 px refined vs today",
                            "content accuracy refined vs today"], rows), ""]


def write_report(args, all_results: dict, base_path: Path, refiner: GlyphRefiner) -> None:
    m = machine()
    lines = [
        "# Font-level quality: the exported font rendered back",
        "",
        f"Base `{base_path.stem}`, refiner `{refiner.path.stem}`; measured on {m['cpu']}, {m['cores']} cores, torch "
        f"{m['torch']}; `python -m benchmarks.font_quality`. Per evaluation font: `zi2zi finetune` with its defaults "
        f"(its training glyphs, the refining stage), then {args.holdout} held-out characters (the base's own held-out set: unseen "
        "in content and style) generated and exported as TTF with the run's refiner (`refined`) and without it "
        "(`today`, `--no-refine`). Every figure is measured on the font file rendered back (zi2zi.metrics.font_quality): "
        "identification among the held-out characters, the median shape IoU and edge F (2 px at 128 px), the share "
        "of glyphs whose contour count is off by more than 0.8-1.25x, content accuracy of the glyph classifier at "
        "64 px, median points per glyph, and held-out SSIM at 64 px (refined glyphs area-averaged down).",
        "",
    ]
    lines += target_lines(all_results)
    for name, res in all_results.items():
        r = res["results"]
        rows = [[LABELS[k]] + [_fmt(r[k].get(c)) for c in COLUMNS] for k in PATHS]
        t = res["timings"]
        lines += [
            f"## {name} ({len(res['chars'])} held-out characters, {res['train_glyphs']} trained)", "",
            markdown_table(["font"] + COLUMNS, rows), "",
            f"![{name}: real | today | refined at 150 px](font-quality/{_slug(name)}.png)", "",
            f"Fine-tuning {t['finetune_s'] / 60:.1f} min (the refining stage {t['refiner_tuning_s']:.0f} s of it); "
            f"generating {len(res['chars'])} glyphs {t['generate_plain_s']:.1f} s today, {t['generate_refined_s']:.1f} s "
            f"refined; exporting {t['export_plain_s']:.1f} s today, {t['export_refined_s']:.1f} s refined. "
            f"Classifier accuracy on an unseen font: {_fmt(res.get('classifier_holdout_accuracy'))}.", "",
        ]
    Path(args.report).write_text("\n".join(lines), encoding="utf-8")


def main() -> None:
    args = parse_args()
    base_path = resolve_base(args.base)
    refiner_path = refiner_for_base(base_path)
    if refiner_path is None:
        raise SystemExit(f"font-quality: no refiner is shipped for {base_path.stem}")
    refiner = GlyphRefiner(refiner_path)
    work = Path(args.work)
    recipe = {"base": base_path.stem, "base_step": ckpt.read_metadata(base_path).get("step"),
              "refiner": refiner.fingerprint, "holdout": args.holdout}
    all_results = {}
    for name in args.fonts:
        cell = work / _slug(name) / "cell.json"
        stored = json.loads(cell.read_text(encoding="utf-8")) if cell.is_file() else None
        if stored is None or stored.get("recipe") != recipe:
            stored = run_font(args, name, base_path, refiner, work, work / "classifier")
            stored["recipe"] = recipe
            write_json(cell, stored)
        all_results[name] = stored
        picture(name, stored, Path(args.report).with_suffix("") / f"{_slug(name)}.png")
    write_report(args, all_results, base_path, refiner)
    print(f"wrote {args.report}")


if __name__ == "__main__":
    main()

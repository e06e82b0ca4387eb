"""The end-to-end demo: fonts in, a trained model, generated glyphs, a font file and a report out.

Every step is the library call a user would make by hand (and the report lists the equivalent
commands): render a dataset with held-out characters, train the ``cpu-small`` preset for a
bounded time, generate the held-out characters, export them as a TTF, evaluate against the
trivial baseline, and write an HTML report.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from zi2zi.config import RenderSettings, load_config
from zi2zi.data import layout, render_dataset, write_preview
from zi2zi.data.build import load_glyph
from zi2zi.demo_fonts import classifier_fonts, demo_font
from zi2zi.demo_settings import DemoSettings
from zi2zi.errors import Zi2ziError
from zi2zi.export import export_font
from zi2zi.fonts import open_font, resolve_charset
from zi2zi.generation import generate_to_folder
from zi2zi.inference import GlyphGenerator
from zi2zi.metrics.evaluate import evaluate
from zi2zi.reporting import comparison_grid, html_page, html_table, plot_loss_curves, read_metrics
from zi2zi.training.trainer import train


def run_demo(
    out: str | Path, settings: DemoSettings = DemoSettings(), *, overwrite: bool = False,
    echo: Callable[[str], None] = print,
) -> Path:
    """Run the whole pipeline into ``out``; return the report's path."""
    started = time.perf_counter()
    out = Path(out)
    source_path, target_path = demo_font("source"), demo_font("target")  # fail before touching `out`
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise Zi2ziError(f"{out} already holds a demo; pass --overwrite to replace it")
        if not (out / "report.html").exists() and not (out / "data").exists():
            raise Zi2ziError(f"{out} is a non-empty folder that is not a zi2zi demo; choose another --out")
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    echo(f"[demo] source font {source_path}, target font {target_path}")

    def timed(name: str, t0: float) -> None:
        timings[name] = round(time.perf_counter() - t0, 1)
        echo(f"[demo] {name}: {timings[name]} s")


    t0 = time.perf_counter()
    chars = resolve_charset(settings.charset)[: settings.characters]
    data_dir = out / "data"
    render_dataset(
        source=str(source_path), targets=[str(target_path)], chars=chars, out=data_dir,
        settings=RenderSettings(size=settings.size), holdout=settings.holdout, seed=settings.seed,
    )
    write_preview(data_dir, out / "dataset-preview.png")
    timed("render", t0)

    t0 = time.perf_counter()
    config = load_config(settings.preset, overrides=[
        f"train.seed={settings.seed}", f"train.max_steps={settings.steps}", f"train.max_minutes={settings.minutes}",
        f"train.eval_every={max(1, settings.steps // 8)}",  # enough points for the validation curve
    ])
    summary = train(config, data_dir, out / "run", image_size_from_data=True, progress=True, echo=echo)
    timed("train", t0)
    if summary.checkpoint is None:
        raise Zi2ziError("training saved no checkpoint; see the messages above")

    t0 = time.perf_counter()
    model = GlyphGenerator(summary.checkpoint, device="cpu")
    style = model.styles[0]
    manifest = layout.read_manifest(data_dir)
    held_out = list(manifest["split"]["holdout"])
    glyph_dir = out / "generated"
    generate_to_folder(model, style=style, source=open_font(source_path), chars=held_out, out=glyph_dir)
    timed("generate", t0)

    t0 = time.perf_counter()
    font_path = out / "zi2zi-demo.ttf"
    exported = export_font(glyph_dir, font_path, family="zi2zi Demo Kai", overwrite=True)
    font_sample = _font_sample(font_path, "".join(held_out[:20]), out / "exported-font-sample.png")
    timed("export", t0)

    t0 = time.perf_counter()
    results = {
        split: evaluate(summary.checkpoint, data_dir, split, classifier=settings.classifier and split == "holdout",
                        classifier_fonts=classifier_fonts(), log=echo)
        for split in ("holdout", "val")
    }
    timed("evaluate", t0)

    grid = comparison_grid(
        [
            [load_glyph(data_dir / layout.SOURCE_DIR / layout.glyph_filename(c)) for c in held_out],
            [load_glyph(glyph_dir / layout.glyph_filename(c)) for c in held_out],
            [load_glyph(layout.style_dir(data_dir, style.id) / layout.glyph_filename(c)) for c in held_out],
        ],
        per_row=10,
    )
    grid.save(out / "held-out-comparison.png")
    plot_loss_curves({"demo": read_metrics(out / "run")}, out / "loss-curves.png", title="cpu-small demo run")
    timings["total"] = round(time.perf_counter() - started, 1)

    summary_json = {
        "settings": settings.__dict__,
        "fonts": {"source": str(source_path), "target": str(target_path)},
        "train": {"steps": summary.step, "stopped": summary.stopped, "img_per_s": round(summary.images_per_second, 1),
                  "best_val_l1": summary.best_val_l1, "checkpoint": str(summary.checkpoint)},
        "export": {"glyphs": exported.glyphs, "path": str(font_path)},
        "metrics": results,
        "timings_s": timings,
    }
    (out / "summary.json").write_text(json.dumps(summary_json, indent=2, ensure_ascii=False, default=str), encoding="utf-8")
    report = out / "report.html"
    report.write_text(_report_html(summary_json, results, font_sample is not None), encoding="utf-8")
    echo(f"[demo] report: {report}")
    return report


def _font_sample(font_path: Path, text: str, out: Path) -> Path | None:
    """Set text with the exported font through Pillow/FreeType: proof the font file works."""
    font = ImageFont.truetype(str(font_path), 56)
    image = Image.new("L", (60 * len(text) + 20, 80), 255)
    ImageDraw.Draw(image).text((10, 10), text, font=font, fill=0)
    if np.asarray(image).min() == 255:
        return None
    image.save(out)
    return out


def _metric_rows(result: dict) -> list[list[object]]:
    """metric | model | baseline | real targets (classifier ceiling) | which direction is better."""
    res = result["results"]
    rows = []
    for name, info in result["metrics"].items():
        model = res["model"]["overall"].get(name)
        baseline = res["baseline"]["overall"].get(name)
        real = res.get("real", {}).get("overall", {}).get(name, "")
        rows.append([name, model, baseline, real, "higher" if info["higher_is_better"] else "lower"])
    return rows


def _report_html(summary: dict, results: dict, has_font_sample: bool) -> str:
    fonts = summary["fonts"]
    s = summary["settings"]
    body = [
        "<p>Source font <code>{}</code> (AR PL UMing, Arphic Public License) to target font <code>{}</code> "
        "(AR PL UKai, Arphic Public License), {} px, first {} characters of {}, {} held out: never "
        "seen in training.</p>".format(fonts["source"], fonts["target"], s["size"], s["characters"], s["charset"], s["holdout"]),
        "<h2>Held-out characters: source | generated | target</h2>",
        "<img src='held-out-comparison.png' alt='held-out comparison'>",
    ]
    for split, result in results.items():
        body.append(f"<h2>Metrics on {split} characters (model vs. trivial baseline = the source glyph)</h2>")
        body.append(html_table(["metric", "model", "baseline", "real targets", "better"], _metric_rows(result)))
        body.append(f"<p>{result['pairs']} pairs, {result['characters']} characters, checkpoint step {result['step']}.</p>")
        if result.get("classifier"):
            c = result["classifier"]
            body.append(
                f"<p>Content accuracy and Frechet distance use a glyph classifier trained by zi2zi on "
                f"{', '.join(map(str, c.get('train_fonts') or []))}; on the font it never saw "
                f"({c.get('holdout_font')}) it reads {c.get('holdout_accuracy', 0):.1%} of glyphs correctly.</p>"
            )
        for note in result.get("notes", []):
            body.append(f"<p><em>{note}</em></p>")
    body += [
        "<h2>Loss curves</h2><img src='loss-curves.png' alt='loss curves'>",
        "<h2>Exported font</h2>",
        f"<p><a href='zi2zi-demo.ttf'>zi2zi-demo.ttf</a>: {summary['export']['glyphs']} glyphs traced from the "
        "generated bitmaps. Below, the first held-out characters set with that file through FreeType:</p>",
        "<img src='exported-font-sample.png' alt='font sample'>" if has_font_sample else "<p>(the sample rendered empty)</p>",
        "<h2>Dataset</h2><img src='dataset-preview.png' alt='dataset preview'>",
        "<h2>Run</h2>",
        f"<pre>{json.dumps({k: summary[k] for k in ('train', 'timings_s')}, indent=1, default=str)}</pre>",
    ]
    return html_page("zi2zi demo: Ming to Kai", "\n".join(body))

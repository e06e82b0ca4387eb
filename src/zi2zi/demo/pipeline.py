"""The end-to-end demo pipeline: fonts in, a trained model, generated glyphs, a font file and a report out.

Every step is the library call a user would make by hand (and the report lists the equivalent
commands): fine-tune the base on the target's first glyphs (or, without a base, render a dataset
with held-out characters and train the ``cpu-small`` preset for a bounded time), generate the
held-out characters and export them as a TTF (the last two stages of the font-making chain,
:func:`zi2zi.fontmaking.font_from_model`), evaluate against the trivial baseline, and write an
HTML report.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zi2zi.config import RenderSettings, load_config
from zi2zi.data import layout, render_dataset, write_preview
from zi2zi.demo.fonts import demo_font
from zi2zi.demo.report import font_sample, report_html
from zi2zi.demo.settings import DemoSettings
from zi2zi.errors import Zi2ziError
from zi2zi.fontmaking import font_from_model
from zi2zi.fonts import open_font, resolve_charset
from zi2zi.fonts.corpus import classifier_fonts
from zi2zi.generation import GlyphGenerator
from zi2zi.images import read_grey
from zi2zi.metrics.evaluate import evaluate
from zi2zi.reporting import comparison_grid, plot_loss_curves, read_metrics
from zi2zi.storage import FolderKind, owned_folder, write_text
from zi2zi.training import TrainOptions, train

# demo.json marks a demo folder (written first, "complete" once the report is there): only such a
# folder is ever replaced, with --overwrite.
DEMO_KIND = FolderKind(noun="demo folder", marker="demo.json", format="zi2zi-demo", version=1)


def run_demo(
    out: str | Path, settings: DemoSettings = DemoSettings(), *, overwrite: bool = False,
    echo: Callable[[str], None] = print,
) -> Path:
    """Run the whole pipeline into ``out``; return the report's path."""
    started = time.perf_counter()
    out = Path(out)
    source_path, target_path = demo_font("source"), demo_font("target")  # fail before touching `out`
    chars = resolve_charset(settings.charset)[: settings.characters]
    if len(chars) <= settings.holdout + 1:
        raise Zi2ziError(
            f"--characters {settings.characters} leaves {len(chars)} characters of {settings.charset}, too few "
            f"beside --holdout {settings.holdout}; give more characters or hold out fewer"
        )
    settings = _choose_base(settings, echo)
    # A demo folder holds only what a demo wrote: --overwrite replaces it whole.
    with owned_folder(out, DEMO_KIND, overwrite=overwrite, marker={"complete": False}):
        report = _run(out, settings, chars, source_path, target_path, started, echo)
        DEMO_KIND.write_marker(out, complete=True)
    return report


def _choose_base(settings: DemoSettings, echo: Callable[[str], None]) -> DemoSettings:
    """The default base when it is installed; without it, training from scratch (said so). A base
    the user named must exist."""
    from zi2zi.bases import base_names, resolve_base

    if settings.base is None or settings.base in base_names():
        return settings
    if settings.base == DemoSettings.base:
        echo(f"[demo] the base model {settings.base} is not installed (see `zi2zi models`); training from scratch")
        return dataclasses.replace(settings, base=None)
    resolve_base(settings.base)  # a checkpoint or run directory; a clear error when it is neither
    return settings


@dataclass
class _Trained:
    """What the training part of the demo hands on: a model, the dataset it learned from and how."""

    checkpoint: Path
    data_dir: Path
    source_font: Path
    style: str
    steps: int
    how: str


def _train_from_scratch(out: Path, settings: DemoSettings, chars: list[str], source_path: Path, target_path: Path,
                        echo: Callable[[str], None]) -> _Trained:
    data_dir = out / "data"
    render_dataset(
        source=str(source_path), targets=[str(target_path)], chars=chars, out=data_dir,
        settings=RenderSettings(size=settings.size), holdout=settings.holdout, seed=settings.seed,
    )
    write_preview(data_dir, out / "dataset-preview.png")
    config = load_config(settings.preset, overrides=[
        f"train.seed={settings.seed}", f"train.max_steps={settings.steps}", f"train.max_minutes={settings.minutes}",
        f"train.eval_every={max(1, settings.steps // 8)}",  # enough points for the validation curve
    ])
    summary = train(TrainOptions(data=data_dir, out=out / "run", config=config, image_size_from_data=True,
                                 echo=echo))
    if summary.checkpoint is None:
        raise Zi2ziError("training saved no checkpoint; see the messages above")
    style = layout.read_manifest(data_dir)["styles"][0]["name"]
    return _Trained(summary.checkpoint, data_dir, source_path, style, summary.step,
                    f"{settings.preset} from scratch, {summary.step} steps ({summary.stopped})")


def _finetune_base(out: Path, base: str, settings: DemoSettings, chars: list[str], target_path: Path,
                   echo: Callable[[str], None]) -> _Trained:
    """The first ``settings.glyphs`` characters train, ``settings.holdout`` of the base's own
    held-out characters measure; the source font is the base's."""
    from zi2zi.finetune import finetune

    summary = finetune(base, out / "run", target=str(target_path), chars="text:" + "".join(chars[: settings.glyphs]),
                       holdout=settings.holdout, seed=settings.seed, echo=echo)
    if summary.checkpoint is None:
        raise Zi2ziError("fine-tuning saved no checkpoint; see the messages above")
    write_preview(summary.data_dir, out / "dataset-preview.png")
    source = Path(layout.read_manifest(summary.data_dir)["source"]["font"]["path"])
    return _Trained(summary.checkpoint, summary.data_dir, source, summary.style, summary.step,
                    f"{summary.base.stem} fine-tuned on {summary.train_glyphs} glyphs, {summary.step} steps")


def _run(out: Path, settings: DemoSettings, chars: list[str], source_path: Path, target_path: Path,
         started: float, echo: Callable[[str], None]) -> Path:
    timings: dict[str, float] = {}
    # Fine-tuning reads the base's own source font; from scratch, the demo's.
    echo(f"[demo] target font {target_path}; " + (f"fine-tuning {settings.base}" if settings.base
                                                   else f"from scratch, source font {source_path}"))

    def timed(name: str, seconds: float) -> None:
        timings[name] = round(seconds, 1)
        echo(f"[demo] {name}: {timings[name]} s")


    t0 = time.perf_counter()
    trained = (_finetune_base(out, settings.base, settings, chars, target_path, echo) if settings.base
               else _train_from_scratch(out, settings, chars, source_path, target_path, echo))
    timed("train", time.perf_counter() - t0)
    data_dir = trained.data_dir

    t0 = time.perf_counter()
    model = GlyphGenerator(trained.checkpoint, device="cpu")
    manifest = layout.read_manifest(data_dir)
    held_out = list(manifest["split"]["holdout"])
    glyph_dir, font_path = out / "generated", out / "zi2zi-demo.ttf"
    loaded = time.perf_counter() - t0
    made = font_from_model(model, style=model.style(trained.style), chars=held_out, glyphs=glyph_dir, out=font_path,
                           source=open_font(trained.source_font), family="zi2zi Demo Kai", overwrite=True, echo=echo)
    if made.export is None:
        raise Zi2ziError(f"none of the held-out characters could be generated from {trained.source_font.name}; "
                         "nothing to export: choose a source font that has them")
    timed("generate", loaded + made.seconds["generate"])

    t0 = time.perf_counter()
    sample = font_sample(font_path, "".join(held_out[:10]), out / "exported-font-sample.png", target=target_path)
    timed("export", made.seconds["export"] + time.perf_counter() - t0)

    t0 = time.perf_counter()
    splits = [split for split in ("holdout", "val") if manifest["split"][split]]
    results = {
        split: evaluate(trained.checkpoint, data_dir, split, classifier=settings.classifier and split == "holdout",
                        classifier_fonts=classifier_fonts(), log=echo)
        for split in splits
    }
    timed("evaluate", time.perf_counter() - t0)

    grid = comparison_grid(
        [
            [read_grey(data_dir / layout.SOURCE_DIR / layout.glyph_filename(c)) for c in held_out],
            [read_grey(glyph_dir / layout.glyph_filename(c)) for c in held_out],
            [read_grey(layout.style_dir(data_dir, 0) / layout.glyph_filename(c)) for c in held_out],
        ],
        per_row=10,
    )
    grid.save(out / "held-out-comparison.png")
    plot_loss_curves({"demo": read_metrics(out / "run")}, out / "loss-curves.png", title=trained.how)
    timings["total"] = round(time.perf_counter() - started, 1)

    summary_json = {
        "settings": settings.__dict__,
        "fonts": {"source": str(trained.source_font), "target": str(target_path)},
        "train": {"how": trained.how, "steps": trained.steps, "train_glyphs": len(manifest["split"]["train"]),
                  "checkpoint": str(trained.checkpoint)},
        "export": {"glyphs": made.export.glyphs, "path": str(font_path)},
        "metrics": results,
        "timings_s": timings,
    }
    write_text(out / "summary.json", json.dumps(summary_json, indent=2, ensure_ascii=False, default=str))
    report = write_text(out / "report.html", report_html(summary_json, results, sample is not None))
    echo(f"[demo] report: {report}")
    return report



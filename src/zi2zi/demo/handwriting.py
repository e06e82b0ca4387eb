"""``zi2zi demo --handwriting`` (``make handwriting-demo``): the handwriting path end to end, with a
synthetic hand and phone.

template -> (a handwriting-like font writes the sheets; a synthetic phone photographs them) ->
scan -> export the written glyphs as a font -> report.html with the sheet, a photo, the recovered
glyphs and the font. The hand is LXGW WenKai (else AR PL UKai): fonts that no zi2zi base model
learns from, standing for a person's own writing.

Completing the font (fine-tune a base model on the scanned glyphs, generate the rest of a charset,
merge) is the step marked ``COMPLETION`` below: it runs when a base model is installed (``zi2zi
models``) or given with ``--base``, and is reported as not done otherwise; it is never imitated.
The demo's two halves, :func:`write_and_scan` and :func:`complete_with_model`, are what
``benchmarks/handwriting.py`` runs and measures.

    zi2zi demo --handwriting --out handwriting-demo-out [--overwrite] [--charset SPEC]
        [--base NAME|CKPT] [--complete-charset SPEC] [--steps N] [--device D]
"""

from __future__ import annotations

import html
import io
import json
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from zi2zi.config import RenderSettings
from zi2zi.demo.settings import COMPLETE_CHARSET, HANDWRITING_OUT, TEMPLATE_SIZE
from zi2zi.errors import FontError
from zi2zi.fonts import FontFile, Renderer, open_font, resolve_charset
from zi2zi.handwriting.charset import template_charset
from zi2zi.handwriting.draw import TemplateFiles, open_reference_font, write_template
from zi2zi.handwriting.intake import ScanSettings
from zi2zi.handwriting.layout import TemplateSettings
from zi2zi.handwriting.review import glyph_strip
from zi2zi.handwriting.scan import ScanReport, scan
from zi2zi.handwriting.synthetic import HandSettings, Photo, synthetic_photos
from zi2zi.images import read_grey
from zi2zi.storage import FolderKind, owned_folder, write_json, write_text

if TYPE_CHECKING:
    from zi2zi.export import CheckReport

HAND_FONTS = [("LXGWWenKai-Regular.ttf", "fonts-lxgw-wenkai"), ("ukai.ttc", "fonts-arphic-ukai")]
KIND = FolderKind(noun="handwriting demo folder", marker=".zi2zi-handwriting-demo.json",
                  format="zi2zi-handwriting-demo", version=1)
DEFAULT_BASE = "base-64"  # preferred when several bases are installed
STYLE_NAME = "handwriting"


def find_hand_font() -> FontFile:
    from zi2zi.fonts.system import find_font

    for name, package in HAND_FONTS:
        try:
            return open_font(find_font(name, package))
        except FontError:
            continue
    raise FontError("no handwriting-like font found for the synthetic hand; install the Debian package "
                    "fonts-lxgw-wenkai (make fonts), or pass --hand-font FONT")


def _small(image: np.ndarray, width: int) -> Image.Image:
    pil = Image.fromarray(image)
    return pil.resize((width, round(pil.height * width / pil.width)), Image.Resampling.LANCZOS)


def run_handwriting_demo(out: str | Path = HANDWRITING_OUT, *, charset: str | None = None,
                         hand_font: str | None = None, reference_font: str | None = None, size: int = TEMPLATE_SIZE,
                         seed: int = 0, overwrite: bool = False, hand_settings: HandSettings | None = None,
                         base: str | None = None, complete_charset: str = COMPLETE_CHARSET, steps: int | None = None,
                         device: str = "auto", log=print) -> dict:
    """The whole demo into ``out``; returns what ``summary.json`` holds. ``charset`` to
    ``hand_settings`` are for writing and scanning the sheets (see :func:`write_and_scan`);
    ``base``, ``complete_charset``, ``steps`` and ``device`` for the completion step (see
    :func:`complete_with_model`)."""
    out = Path(out)
    # Only a demo folder (by its marker) is ever cleared; the marker goes first, so a demo stopped
    # half-way is still recognised and replaced by the next one.
    with owned_folder(out, KIND, overwrite=overwrite, marker={"written_by": "zi2zi demo --handwriting"}):
        return _run(out, charset=charset, hand_font=hand_font, reference_font=reference_font, size=size, seed=seed,
                    hand_settings=hand_settings, base=base, complete_charset=complete_charset, steps=steps,
                    device=device, log=log)


@dataclass
class ScannedHand:
    """The synthetic hand's sheets, written, photographed and read back by :func:`write_and_scan`."""

    hand: FontFile  # the font playing the hand: the truth for every character, written or not
    reference: FontFile  # the font of the template's printed labels
    chars: list[str]  # the template's characters (those of the charset the hand font draws)
    files: TemplateFiles
    shots: list[Photo]
    truth: dict[str, np.ndarray]  # char -> the glyph the hand wrote, at the scan's size
    report: ScanReport
    glyphs: Path  # the scanned glyph folder
    font: Path  # the written glyphs exported as a font: what the completion merges into
    check: CheckReport  # the exported font rendered back against the glyph folder
    median_ink_iou: float  # scanned glyph against what the hand wrote, median over the glyphs
    seconds: dict[str, float] = field(default_factory=dict)  # template, photos, scan, export


def write_and_scan(out: Path, *, charset: str | None = None, hand_font: str | None = None,
                   reference_font: str | None = None, size: int = TEMPLATE_SIZE, seed: int = 0,
                   hand_settings: HandSettings | None = None, log=print) -> ScannedHand:
    """The path up to the written font, into the new or empty folder ``out``: the template of
    ``charset`` (default handwriting-300) -> the synthetic hand (``hand_font``, default
    :func:`find_hand_font`) writes it, each glyph sized and placed anew as ``hand_settings`` says
    (default :class:`~zi2zi.handwriting.synthetic.HandSettings`), and a synthetic phone photographs
    the pages (``out/photos``; ``seed``) -> ``scan`` reads them into ``out/glyphs`` at ``size`` px
    -> ``export`` makes ``out/my-handwriting.ttf`` and checks it. Each stage is timed."""
    from zi2zi.export import check_font, export_font

    timings: dict[str, float] = {}
    hand = open_font(hand_font) if hand_font else find_hand_font()
    reference = open_reference_font(reference_font)
    chars = [c for c in template_charset(charset) if hand.covers(c)]

    t = time.perf_counter()
    files = write_template(chars, out / "template", settings=TemplateSettings(), reference_font=reference)
    timings["template"] = time.perf_counter() - t
    log(f"template: {len(chars)} characters on {len(files.template.pages)} page(s) -> {files.out}")

    t = time.perf_counter()
    shots, truth = synthetic_photos(files.template, hand, seed=seed, truth_size=size, reference=reference,
                                    hand=hand_settings)
    photos_dir = out / "photos"
    photos_dir.mkdir()
    photo_paths = []
    for shot in reversed(shots):  # any order: the last page first
        path = photos_dir / f"IMG_{shot.page + 1:04d}.jpg"
        path.write_bytes(shot.jpeg)
        photo_paths.append(path)
    timings["photos"] = time.perf_counter() - t
    log(f"photos: {len(shots)} synthetic phone photos of the written pages -> {photos_dir}")

    t = time.perf_counter()
    report = scan(photo_paths, files.json, out / "glyphs", settings=ScanSettings(size=size))
    timings["scan"] = time.perf_counter() - t
    for page in report.pages:
        log(f"scan: {page.summary()}")
    ious = [float(((c.glyph < 128) & (truth[ch] < 128)).sum() / max(1, ((c.glyph < 128) | (truth[ch] < 128)).sum()))
            for ch, c in report.glyphs.items()]
    log(f"scan: {len(report.glyphs)} glyphs in {timings['scan']:.1f} s; median ink IoU against the written glyphs "
        f"{np.median(ious):.4f}")

    t = time.perf_counter()
    font_path = out / "my-handwriting.ttf"
    exported = export_font(out / "glyphs", font_path, family="zi2zi Handwriting Demo")
    check = check_font(font_path, out / "glyphs", embox=exported.embox)  # the box the glyphs were traced in
    timings["export"] = time.perf_counter() - t
    log(f"export: {font_path} ({exported.glyphs} glyphs); check: {check.summary()}")
    return ScannedHand(hand=hand, reference=reference, chars=chars, files=files, shots=shots, truth=truth,
                       report=report, glyphs=out / "glyphs", font=font_path, check=check,
                       median_ink_iou=float(np.median(ious)), seconds=timings)


def _run(out: Path, *, charset: str | None, hand_font: str | None, reference_font: str | None, size: int,
         seed: int, hand_settings: HandSettings | None, base: str | None, complete_charset: str,
         steps: int | None, device: str, log) -> dict:
    written = write_and_scan(out, charset=charset, hand_font=hand_font, reference_font=reference_font, size=size,
                             seed=seed, hand_settings=hand_settings, log=log)
    timings = dict(written.seconds)
    t = time.perf_counter()
    completion = complete_with_model(out, written.font, base=base, charset=complete_charset, steps=steps,
                                     device=device, log=log)  # COMPLETION: see the function
    timings["completion"] = time.perf_counter() - t
    log(f"completion: {completion['status']}")

    summary = {
        "hand_font": written.hand.name,
        "reference_font": written.reference.name,
        "characters": len(written.chars),
        "pages": len(written.files.template.pages),
        "glyphs": len(written.report.glyphs),
        "median_ink_iou": round(written.median_ink_iou, 4),
        "export_check_median_iou": round(written.check.median, 4),
        "seconds": {k: round(v, 1) for k, v in timings.items()},
        "photos": [shot.params | {"homography": None} for shot in written.shots],
        "completion": completion,
    }
    write_json(out / "summary.json", summary)
    _write_report(out, written.files, written.shots, written.report, written.font, summary, written.chars)
    log(f"report: {out / 'report.html'}")
    return summary


def complete_with_model(out: Path, font_path: Path, *, base: str | None = None, charset: str = COMPLETE_CHARSET,
                        steps: int | None = None, discriminator: str | None = None, refiner_steps: int | None = None,
                        device: str = "auto", log=print) -> dict:
    """COMPLETION: fine-tune a base model on the scanned glyphs (``out/glyphs``), generate the
    characters of ``charset`` that the hand-written font ``font_path`` lacks, and merge them into
    ``font_path``'s characters as ``NAME-complete.ttf``, so every written glyph is kept as written.

    ``base`` is a base name or a checkpoint / run directory; by default the installed base
    (``zi2zi models``). With none installed nor given, nothing is generated in its place: the step
    is reported as not done, with the commands that do it. ``steps``, ``discriminator`` and
    ``refiner_steps`` go to the fine-tuning (:func:`zi2zi.finetune.finetune`; default: its own
    choices). A done record has the seconds of each stage (``seconds``: finetune, with the
    refining stage, then generate and export).
    """
    from zi2zi.bases import base_names
    from zi2zi.fontmaking import GLYPHS_DIR, RUN_DIR, make_font

    glyphs, run, generated = out / "glyphs", out / RUN_DIR, out / GLYPHS_DIR
    complete = font_path.with_name(f"{font_path.stem}-complete{font_path.suffix}")
    installed = base_names()
    chosen = base or (DEFAULT_BASE if DEFAULT_BASE in installed else installed[0] if installed else None)

    def commands(source_font: str) -> list[str]:
        return [
            f"zi2zi finetune --base {chosen or 'NAME|CKPT'} --target-glyphs {glyphs} --style-name {STYLE_NAME} "
            f"--out {run}",
            f"zi2zi generate --checkpoint {run} --style {STYLE_NAME} --source-font {source_font} "
            f"--missing-from {font_path} --within {charset} --out {generated}",
            f"zi2zi export --glyphs {generated} --merge-into {font_path} --out {complete}",
        ]

    if chosen is None:
        return {"status": "not done: no base model is installed (`zi2zi models` lists none); pass --base CKPT "
                          "to complete the font from a checkpoint or run directory of your own",
                "next_steps": commands("SOURCE_FONT")}

    from zi2zi.fonts import filter_by_fonts

    wanted = filter_by_fonts(resolve_charset(charset), missing_from=[open_font(font_path)])
    made = make_font(chosen, complete, work=out, chars=wanted, target_glyphs=glyphs, merge_into=font_path,
                     style_name=STYLE_NAME, steps=steps, discriminator=discriminator, refiner_steps=refiner_steps,
                     device=device, echo=log)
    tuned = made.model
    assert tuned is not None  # make_font always fine-tunes
    record = {"base": str(chosen), "run": str(run), "style": tuned.style, "steps": tuned.step, "charset": charset,
              "discriminator": tuned.recipe.discriminator, "train_glyphs": tuned.train_glyphs,
              "seconds": {k: round(v, 2) for k, v in made.seconds.items()},
              "next_steps": commands(str(made.source.path))}
    if made.export is None:
        return record | {"status": f"done: fine-tuned {Path(chosen).stem} on {tuned.train_glyphs} written glyphs; "
                                   f"the hand-written font already has every character of {charset} the model "
                                   "can generate, so nothing was added", "generated": 0}
    written = made.glyphs.written if made.glyphs else []
    return record | {
        "status": f"done: fine-tuned {Path(chosen).stem} for {tuned.step} steps on {tuned.train_glyphs} written "
                  f"glyphs, generated {len(written)} characters of {charset} the hand did not write, and merged "
                  f"them into {complete.name} ({made.export.glyphs} added; every written glyph kept)",
        "generated": len(written), "complete_font": str(complete),
    }


def _write_report(out: Path, files, shots, report, font_path: Path, summary: dict, chars: list[str]) -> None:
    assets = out / "report"
    assets.mkdir()
    page = read_grey(files.pngs[0])
    _small(page, 800).save(assets / "template-page.png")
    photo = np.asarray(Image.open(io.BytesIO(shots[0].jpeg)).convert("RGB"))
    _small(photo, 800).save(assets / "photo.png")
    written = [c for c in chars if c in report.glyphs]  # template order
    glyphs = [report.glyphs[c].glyph for c in written[:48]]
    glyph_strip(glyphs, tile=64, columns=12).save(assets / "recovered.png")
    # the exported font, drawn by the project renderer: what a text in the new font looks like
    font = open_font(font_path)
    renderer = Renderer(font, RenderSettings(size=64))
    text = [c for c in written if font.covers(c)][:24]
    sample = [renderer.render(c) for c in text]
    glyph_strip([s for s in sample if s is not None], tile=48, columns=12).save(assets / "font-sample.png")
    shutil.copy(report.contact_sheet, assets / "contact-sheet.png")
    comp = summary["completion"]
    completed = ""
    if comp.get("complete_font"):
        # the completed font: a row of written characters, then a row the model generated
        whole = open_font(comp["complete_font"])
        drawn = Renderer(whole, RenderSettings(size=64))
        made = [c for c in resolve_charset(comp.get("charset", COMPLETE_CHARSET)) if c not in report.glyphs and whole.covers(c)][:12]
        samples = [drawn.render(c) for c in text[:12] + made]
        glyph_strip([g for g in samples if g is not None], tile=48, columns=12).save(assets / "completed-sample.png")
        completed = ("<p>The completed font, drawn from the merged file: the first row written by the hand, the "
                     "second generated by the fine-tuned model:</p><img src=\"report/completed-sample.png\">")
    rows = "".join(f"<li>{html.escape(p.summary())}</li>" for p in report.pages)
    steps = "".join(f"<li><code>{html.escape(s)}</code></li>" for s in comp["next_steps"])
    doc = f"""<!doctype html><html><head><meta charset="utf-8"><title>zi2zi handwriting demo</title>
<style>body{{font-family:sans-serif;max-width:900px;margin:2em auto}}img{{max-width:100%;border:1px solid #ccc}}</style>
</head><body><h1>Your handwriting as a font: the demo</h1>
<p>A synthetic hand ({html.escape(summary['hand_font'])}) wrote {summary['characters']} characters on
{summary['pages']} template page(s); a synthetic phone photographed them (rotation, perspective, uneven light, shadow,
blur, noise, JPEG); <code>zi2zi scan</code> read {summary['glyphs']} glyphs back (median ink IoU against what was
written: <b>{summary['median_ink_iou']}</b>) and <code>zi2zi export</code> made
<a href="{font_path.name}">{font_path.name}</a> (re-render check, median ink IoU {summary['export_check_median_iou']}).
Times (s): {html.escape(json.dumps(summary['seconds']))}.</p>
<h2>1. The template (page 1)</h2><img src="report/template-page.png">
<h2>2. A photo of a written page</h2><img src="report/photo.png">
<h2>3. What scan read</h2><ul>{rows}</ul><img src="report/recovered.png">
<p>All characters, for review (green: read; orange: ink touches the square's edge; grey: empty; red: page not read):</p>
<img src="report/contact-sheet.png">
<h2>4. The font</h2><p>The written characters, rendered from the exported font:</p><img src="report/font-sample.png">
<h2>5. Completing the font with a model</h2><p><b>{html.escape(comp['status'])}.</b></p>{completed}
<p>The commands:</p><ol>{steps}</ol>
</body></html>"""
    write_text(out / "report.html", doc)

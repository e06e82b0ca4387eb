"""One background job of a project: ``python -m zi2zi.ui.worker PROJECT``.

Reads ``PROJECT/job/spec.json``, runs the library call it names, and records its pid, then its
outcome (done, failed with a one-line message, or stopped) in ``PROJECT/job/job.json``. Messages
go to ``PROJECT/job/log.txt``, which the page shows.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zi2zi.errors import Zi2ziError
from zi2zi.storage.atomic import write_json

JOB_DIR = "job"


def say(message: str) -> None:
    print(message, flush=True)


def run_finetune(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    from zi2zi.finetune import finetune
    from zi2zi.ui.monitor import JobProgress, TrainingMonitor

    device = p.get("device") or "cpu"
    # Samples and quick held-out metrics every few seconds of training (the run has no
    # validation split, and its checkpoints come only twice a run).
    progress = JobProgress(root, "finetune", int(p.get("steps") or 0), "steps", tail_s=_refining_seconds(p["base"]))
    monitor = TrainingMonitor(root, progress)
    summary = finetune(
        p["base"], root / "run", target=p.get("target"), chars=p.get("chars"),
        target_glyphs=p.get("target_glyphs"), holdout=p.get("holdout"), steps=p.get("steps"),
        style_name=p.get("style_name"), device=p.get("device"), progress=False, echo=say, on_step=monitor,
        on_refiner_step=progress.stage,
    )
    if summary.holdout_glyphs:
        _measure_heldout(root, device=device)
    if summary.step < summary.recipe.steps:
        # Training stopped early on the page's Stop (SIGTERM): it checkpointed; resuming goes on from there.
        raise KeyboardInterrupt
    return {"step": summary.step, "style": summary.style, "train_glyphs": summary.train_glyphs,
            "holdout_glyphs": summary.holdout_glyphs}


def _refining_seconds(base: str | Path) -> float:
    """How long the refining stage after the base's fine-tune will take here: its steps times one
    step timed now (a second or so); 0 when the base has no refiner."""
    from zi2zi.bases import refiner_for_base
    from zi2zi.refine.runtime import GlyphRefiner
    from zi2zi.refine.tune import RefinerTuning, seconds_per_step

    path = refiner_for_base(Path(base))
    if path is None:
        return 0.0
    tuning = RefinerTuning()
    return tuning.steps * seconds_per_step(GlyphRefiner(path), tuning)


def _newest_checkpoint(run: Path) -> Path | None:
    from zi2zi.checkpoints import list_checkpoints

    found = list_checkpoints(run)
    return found[-1] if found else None


def _measure_heldout(root: Path, device: str, checkpoint: Path | None = None) -> None:
    """Pixel metrics of the newest checkpoint on every held-out character, beside the baseline (the
    source glyph taken as the answer), for the training page (replacing the quick ones)."""
    from zi2zi.metrics.evaluate import evaluate

    result = evaluate(checkpoint or _newest_checkpoint(root / "run") or root / "run", root / "run" / "data", "holdout",
                      classifier=False, device=device)
    write_json(root / "review" / "heldout-metrics.json", {
        "step": result["step"], "characters": result["characters"], "metrics": result["metrics"],
        "model": result["results"]["model"]["overall"], "baseline": result["results"]["baseline"]["overall"],
    }, indent=2)
    say(f"held-out metrics at step {result['step']}: l1 {result['results']['model']['overall'].get('l1', 0):.4f} "
        f"(baseline {result['results']['baseline']['overall'].get('l1', 0):.4f})")


def _model_and_source(root: Path):
    from zi2zi.generation import GlyphGenerator

    model = GlyphGenerator(root / "run", device="cpu")
    return model, model.styles[-1], model.source_font(say)  # the fine-tuned style is the newest


def run_generate(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    from zi2zi.generation import generate_to_folder
    from zi2zi.ui.monitor import JobProgress

    model, style, source = _model_and_source(root)
    excluded = set(p.get("excluded", ""))
    chars = [c for c in p["chars"] if c not in excluded]
    progress = JobProgress(root, "generate", len(chars), "glyphs")
    # The glyph folder is the app's own: a new generation replaces it whole.
    report = generate_to_folder(model, style=style, source=source, chars=chars, out=root / "glyphs", overwrite=True,
                                progress=progress.add)
    progress.update(len(chars), force=True)
    say(f"wrote {len(report.written)} glyphs in {report.seconds:.1f} s")
    return {"written": len(report.written), "missing_in_source": "".join(report.missing_in_source)}


def run_regenerate(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    """One glyph again from the newest checkpoint, written over the old one."""
    from zi2zi.data.layout import glyph_filename
    from zi2zi.generation import generated_glyphs
    from zi2zi.images import save_png

    model, style, source = _model_and_source(root)
    char = p["char"]
    [(_, images)] = list(generated_glyphs(model, style=style, source=source, chars=[char]))
    save_png(root / "glyphs" / glyph_filename(char), images[0])
    return {"char": char}


def run_export(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    from zi2zi.data.glyphfolder import read_glyph_folder
    from zi2zi.export import FontInfo, TakeGlyphs, export_glyphs
    from zi2zi.ui.monitor import JobProgress

    out = root / "fonts" / p["file"]
    folder = read_glyph_folder(root / p["glyphs"])
    progress = JobProgress(root, "export", len(folder.files), "glyphs")
    # A merged font is a new font: the family typed in the page, else the base's + " zi2zi"; its
    # copyright and licence are the base's, which still govern it (the info is for a new font).
    info = FontInfo(copyright=p.get("copyright") or None, license=p.get("licence") or None,
                    license_url=p.get("licence_url") or None)
    # Punctuation, digits and Latin unchanged from a font the page names (the target, an installed one).
    take = [TakeGlyphs(root / p["take_from"], "punctuation"), TakeGlyphs(root / p["take_from"], "latin")] \
        if p.get("take_from") and not p.get("merge_into") else []
    # The page exports what its Review grid shows; a stopped generation is said in the log.
    result = export_glyphs(folder, out, merge_into=root / p["merge_into"] if p.get("merge_into") else None,
                           family=p.get("family") or None, style=p.get("style") or "Regular", info=info,
                           overwrite=True, take=take, progress=lambda done, total: progress.update(done),
                           warn=lambda warning: say(f"warning: {warning}"), allow_incomplete=True)
    progress.update(len(folder.files), force=True)
    say(f"wrote {out.name}: {result.glyphs} traced glyphs"
        + (f", {len(result.borrowed)} taken from {Path(p['take_from']).name}" if result.borrowed else ""))
    return {"file": out.name, "glyphs": result.glyphs, "format": result.format}


def run_template(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    from zi2zi.fonts import open_font_spec
    from zi2zi.handwriting import template_charset, write_template
    from zi2zi.handwriting.charset import template_extras_for
    from zi2zi.handwriting.variants import DEFAULT_VARIANTS, template_variants_for

    chars = template_charset(p["charset"])
    reference = open_font_spec(p["reference_font"]) if p.get("reference_font") else None
    extras = template_extras_for(p["charset"], bool(p.get("extras", True)))
    # Variants unless the page's box is unticked (exact characters too): the most frequent
    # characters written 3 times, so the font varies them in running text.
    variants = template_variants_for(p["charset"], chars, DEFAULT_VARIANTS if p.get("variants", True) else 0)
    files = write_template(chars, root / "handwriting" / "template", reference_font=reference, overwrite=True,
                           extras=extras, variants=variants)
    return {"chars": len(files.template.chars), "pages": len(files.template.pages),
            "variants": "".join(files.template.variants)}


def run_scan(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    """The first photos make the glyph folder; later ones (a retake) replace only the cells they hold,
    and bring back a cell the user had rejected."""
    from zi2zi.data.glyphfolder import VARIANTS_DIR
    from zi2zi.handwriting import scan
    from zi2zi.ui.monitor import JobProgress

    hand = root / "handwriting"
    glyphs = hand / "glyphs"
    photos = [root / "inputs" / name for name in p["photos"]]
    first = not any(glyphs.glob("U+*.png"))
    out = glyphs if first else hand / "incoming"
    progress = JobProgress(root, "scan", len(photos), "pages")

    def read(page: Any) -> None:
        say(page.summary())
        progress.add(1)

    report = scan(photos, hand / "template" / "template.json", out, skip_unreadable=True, overwrite=True,
                  progress=read)
    if not first:
        for new in sorted(out.glob("U+*.png")):
            os.replace(new, glyphs / new.name)
            (hand / "rejected" / new.name).unlink(missing_ok=True)
        # The other samples of its characters keep their numbers: the retake's replace the old ones.
        if (out / VARIANTS_DIR).is_dir():
            (glyphs / VARIANTS_DIR).mkdir(exist_ok=True)
            for new in sorted((out / VARIANTS_DIR).glob("U+*.png")):
                os.replace(new, glyphs / VARIANTS_DIR / new.name)
        shutil.rmtree(out, ignore_errors=True)
    return {"glyphs": len(report.glyphs), "pages_not_read": list(report.pages_not_read),
            "variants": sum(len(v) for v in report.samples.values())}


RUNNERS: dict[str, Callable[[Path, dict[str, Any]], dict[str, Any]]] = {
    "finetune": run_finetune, "generate": run_generate, "regenerate": run_regenerate, "export": run_export,
    "template": run_template, "scan": run_scan,
}


def _stop(signum, frame):  # SIGTERM from the page's Stop button, outside training's own handler
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from zi2zi.errors import describe_os_error
    from zi2zi.storage.reading import read_json_object

    root = Path((argv or sys.argv[1:])[0]).resolve()
    folder = root / JOB_DIR
    spec = read_json_object(folder / "spec.json", what="job spec")
    job: dict[str, Any] = {"kind": spec["kind"], "state": "running", "pid": os.getpid(), "started": time.time(),
                           "queued": spec.get("queued")}
    write_json(folder / "job.json", job, indent=2)
    signal.signal(signal.SIGTERM, _stop)
    try:
        result = RUNNERS[spec["kind"]](root, spec["params"])
        job.update(state="done", result=result, message="")
    except KeyboardInterrupt:
        job.update(state="stopped", message="stopped; start it again to resume")
    except Zi2ziError as exc:
        job.update(state="failed", message=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except OSError as exc:
        job.update(state="failed", message=describe_os_error(exc))
    except Exception as exc:  # noqa: BLE001 - the page gets one line; the log keeps the traceback
        traceback.print_exc()
        job.update(state="failed", message=f"internal error ({type(exc).__name__}: {exc}); see the job log")
    job["finished"] = time.time()
    write_json(folder / "job.json", job, indent=2)
    say(f"--- {job['state']} {job.get('message', '')}")
    return 0 if job["state"] == "done" else 1


if __name__ == "__main__":
    sys.exit(main())

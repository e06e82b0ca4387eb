"""One background job of a project: ``python -m zi2zi.ui.worker PROJECT``.

Reads ``PROJECT/job/spec.json``, runs the library call it names, and records its pid, then its
outcome (done, failed with a one-line message, or stopped) in ``PROJECT/job/job.json``. Messages
go to ``PROJECT/job/log.txt``, which the page shows.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zi2zi.errors import Zi2ziError
from zi2zi.storage.atomic import write_json
from zi2zi.storage.reading import read_json_object

JOB_DIR = "job"


def say(message: str) -> None:
    print(message, flush=True)


def run_finetune(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    from zi2zi.finetune import finetune

    device = p.get("device") or "cpu"
    done = threading.Event()
    # Held-out metrics of each new checkpoint while training goes on (the run has no validation split).
    watcher = threading.Thread(target=_watch_checkpoints, args=(root, device, done), daemon=True)
    watcher.start()
    try:
        summary = finetune(
            p["base"], root / "run", target=p.get("target"), chars=p.get("chars"),
            target_glyphs=p.get("target_glyphs"), holdout=p.get("holdout"), steps=p.get("steps"),
            style_name=p.get("style_name"), device=p.get("device"), progress=False, echo=say,
        )
    finally:
        done.set()
        watcher.join()
    if summary.holdout_glyphs:
        _measure_heldout(root, device=device)
    if summary.step < summary.recipe.steps:
        # Training stopped early on the page's Stop (SIGTERM): it checkpointed; resuming goes on from there.
        raise KeyboardInterrupt
    return {"step": summary.step, "style": summary.style, "train_glyphs": summary.train_glyphs,
            "holdout_glyphs": summary.holdout_glyphs}


def _newest_checkpoint(run: Path) -> Path | None:
    found = sorted((run / "checkpoints").glob("step-*.safetensors")) if (run / "checkpoints").is_dir() else []
    return found[-1] if found else None


def _watch_checkpoints(root: Path, device: str, done: threading.Event) -> None:
    measured = _newest_checkpoint(root / "run")  # a resumed run's old checkpoint was measured before
    while not done.wait(2.0):
        newest = _newest_checkpoint(root / "run")
        try:
            held = read_json_object(root / "run" / "finetune.json", what="fine-tuning record").get("holdout_glyphs")
        except (OSError, Zi2ziError):
            continue
        if newest is None or newest == measured or not held:
            continue
        measured = newest
        try:
            _measure_heldout(root, device=device, checkpoint=newest)
        except Exception as exc:  # noqa: BLE001 - a failed measurement must not stop the training
            say(f"note: could not measure {newest.name} on the held-out characters: {exc}")


def _measure_heldout(root: Path, device: str, checkpoint: Path | None = None) -> None:
    """Pixel metrics of the newest checkpoint on the held-out characters, beside the baseline (the
    source glyph taken as the answer), for the training page."""
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
    from zi2zi.finetune.inputs import base_source_font
    from zi2zi.inference import GlyphGenerator

    model = GlyphGenerator(root / "run", device="cpu")
    return model, model.styles[-1], base_source_font(model.data_info, say)  # the fine-tuned style is the newest


def run_generate(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    from zi2zi.generation import generate_to_folder

    model, style, source = _model_and_source(root)
    out = root / "glyphs"
    # The glyph folder is the app's own: a new generation replaces it whole.
    shutil.rmtree(out, ignore_errors=True)
    excluded = set(p.get("excluded", ""))
    chars = [c for c in p["chars"] if c not in excluded]
    report = generate_to_folder(model, style=style, source=source, chars=chars, out=out)
    say(f"wrote {len(report.written)} glyphs in {report.seconds:.1f} s")
    return {"written": len(report.written), "missing_in_source": "".join(report.missing_in_source)}


def run_regenerate(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    """One glyph again from the newest checkpoint, written over the old one."""
    from zi2zi.data.layout import glyph_filename
    from zi2zi.images import save_png

    model, style, source = _model_and_source(root)
    char = p["char"]
    [(_, images)] = list(model.generate_chars(source, [char], style))
    save_png(root / "glyphs" / glyph_filename(char), images[0])
    return {"char": char}


def run_export(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    from zi2zi.export import FontInfo, export_font, merge_into_font, read_glyph_folder
    from zi2zi.export.glyphs import check_finished

    folder = read_glyph_folder(root / p["glyphs"])
    # The page exports what its Review grid shows; a stopped generation is said in the log.
    check_finished(folder, allow_incomplete=True)
    out = root / "fonts" / p["file"]
    if p.get("merge_into"):
        # A merged font is a new font: the family typed in the page, else the base's + " zi2zi";
        # its copyright and licence are the base's, which still govern it.
        result = merge_into_font(folder, root / p["merge_into"], out, family=p.get("family") or None, overwrite=True)
    else:
        info = FontInfo(copyright=p.get("copyright") or None, license=p.get("licence") or None,
                        license_url=p.get("licence_url") or None)
        result = export_font(folder, out, family=p["family"], style=p.get("style") or "Regular", info=info,
                             overwrite=True)
    for warning in result.warnings:
        say(f"warning: {warning}")
    say(f"wrote {out.name}: {result.glyphs} traced glyphs")
    return {"file": out.name, "glyphs": result.glyphs, "format": result.format}


def run_template(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    from zi2zi.fonts import open_font_spec
    from zi2zi.handwriting import template_charset, write_template

    chars = template_charset(p["charset"])
    reference = open_font_spec(p["reference_font"]) if p.get("reference_font") else None
    files = write_template(chars, root / "handwriting" / "template", reference_font=reference, overwrite=True)
    return {"chars": len(files.template.chars), "pages": len(files.template.pages)}


def run_scan(root: Path, p: dict[str, Any]) -> dict[str, Any]:
    """The first photos make the glyph folder; later ones (a retake) replace only the cells they hold,
    and bring back a cell the user had rejected."""
    from zi2zi.handwriting import scan

    hand = root / "handwriting"
    glyphs = hand / "glyphs"
    photos = [root / "inputs" / name for name in p["photos"]]
    first = not any(glyphs.glob("U+*.png"))
    out = glyphs if first else hand / "incoming"
    report = scan(photos, hand / "template" / "template.json", out, skip_unreadable=True, overwrite=True,
                  progress=lambda page: say(page.summary()))
    if not first:
        for new in sorted(out.glob("U+*.png")):
            os.replace(new, glyphs / new.name)
            (hand / "rejected" / new.name).unlink(missing_ok=True)
        shutil.rmtree(out, ignore_errors=True)
    return {"glyphs": len(report.glyphs), "pages_not_read": list(report.pages_not_read)}


RUNNERS: dict[str, Callable[[Path, dict[str, Any]], dict[str, Any]]] = {
    "finetune": run_finetune, "generate": run_generate, "regenerate": run_regenerate, "export": run_export,
    "template": run_template, "scan": run_scan,
}


def _stop(signum, frame):  # SIGTERM from the page's Stop button, outside training's own handler
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    from zi2zi.cli import describe_os_error

    root = Path((argv or sys.argv[1:])[0]).resolve()
    folder = root / JOB_DIR
    spec = json.loads((folder / "spec.json").read_text(encoding="utf-8"))
    job: dict[str, Any] = {"kind": spec["kind"], "state": "running", "pid": os.getpid(), "started": time.time()}
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

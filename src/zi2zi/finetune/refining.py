"""The refining stage of a fine-tuning run: the refiner fine-tuned on the run's own glyphs.

Runs after the generator has trained: its 64 px output of every training glyph is paired with the
real glyph at the refiner's size (the target font rendered at that size, or the scanned glyphs at
the scanner's resolution, normalised in placement as the generator's were) and the base's refiner is fine-tuned on those pairs into
``RUN/refiner.safetensors``. Every command that draws glyphs from the run then refines them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from zi2zi.errors import CheckpointError


def choose_refiner(base: Path, render, *, refine: bool, refiner: str | Path | None,
                   say: Callable[[str], None]) -> Path | None:
    """The refiner a new run fine-tunes: ``refiner`` if given, else the shipped one made for
    ``base``; None with ``refine=False`` or when the base has none (said so). A refiner made for
    other glyphs than the base draws is refused here, before anything is written."""
    from zi2zi.bases import refiner_for_base
    from zi2zi.refine.runtime import GlyphRefiner

    if not refine:
        if refiner is not None:
            raise CheckpointError("--refiner and --no-refine contradict each other; give one")
        return None
    path = Path(refiner) if refiner is not None else refiner_for_base(base)
    if path is None:
        say(f"note: no refiner is shipped for {base.stem}; glyphs stay at the base's {render.size} px "
            "(give one with --refiner FILE)")
        return None
    GlyphRefiner(path).check_fits(render, f"the base {base.stem}")
    return path


def refining_pairs(record: dict[str, Any], generator, size: int) -> tuple[Any, str]:
    """The refining stage's pairs for a run's ``record`` and its fine-tuned ``generator``: G's 64 px
    output of every training glyph against the real glyph at ``size``, and where the real glyphs
    came from (for the run's log)."""
    from zi2zi.data.layout import read_manifest
    from zi2zi.fonts import open_font
    from zi2zi.refine.pairs import pairs_from_font, pairs_from_images

    style = generator.style(record["style"])
    manifest = read_manifest(record["data"])
    train_chars = list(manifest["split"]["train"])
    source_rec = manifest["source"]["font"]
    source = open_font(source_rec["path"], source_rec.get("face", 0))
    style_font = manifest["styles"][0].get("font")
    if record.get("target_glyphs"):
        from zi2zi.data.glyphfolder import read_glyph_folder
        from zi2zi.finetune.inputs import written_glyphs

        folder = read_glyph_folder(record["target_glyphs"])
        wanted = set(train_chars)
        # Normalised as the generator's targets were, so the refiner learns strokes, not moves.
        method = (record.get("placement") or {}).get("method", "none")
        written, _ = written_glyphs(folder, source=source, placement=method)
        images = {c: image for c, image in written.items() if c in wanted}
        return (pairs_from_images(generator, style, source=source, images=images, size=size),
                f"the glyphs of {record['target_glyphs']} at {folder.size} px")
    if style_font:
        target = open_font(style_font["path"], style_font.get("face", 0))
        return (pairs_from_font(generator, style, source=source, target=target, chars=train_chars, size=size),
                f"{Path(style_font['path']).name} rendered at {size} px")
    # A dataset of images only: its targets at the dataset's size are all there is.
    from zi2zi.data import layout
    from zi2zi.images import read_grey

    images = {c: read_grey(layout.style_dir(Path(record["data"]), 0) / layout.glyph_filename(c)) for c in train_chars}
    return (pairs_from_images(generator, style, source=source, images=images, size=size),
            f"the dataset's {manifest['render']['size']} px glyphs")


def run_refining_stage(out: Path, record: dict[str, Any], checkpoint: Path, *, device: str | None, seed: int,
                       say: Callable[[str], None], on_step: Callable[[int, int], None] | None = None,
                       amp: str = "auto") -> Path | None:
    """Fine-tune the run's refiner unless it is already there for this checkpoint; its path.
    ``on_step(step, steps)`` after each of its steps; ``amp``: the precision the generator draws
    the refiner's coarse inputs in (the run's training precision)."""
    from zi2zi.generation import GlyphGenerator
    from zi2zi.refine.files import read_refiner_metadata
    from zi2zi.refine.runtime import RUN_REFINER, GlyphRefiner
    from zi2zi.refine.tune import RefinerTuning, tune_refiner

    if not record.get("refiner"):
        return None
    target_path = out / RUN_REFINER
    generator = GlyphGenerator(checkpoint, device=device or "auto", refine=False, amp=amp)  # the refiner learns from G alone
    if target_path.is_file():
        tuned = read_refiner_metadata(target_path).get("tuned", {})
        if tuned.get("generator_fingerprint") == generator.fingerprint:
            return target_path
    base_refiner = GlyphRefiner(record["refiner"], device=device or "cpu")
    pairs, where = refining_pairs(record, generator, base_refiner.size)
    tuning = RefinerTuning()
    if record.get("refiner_steps"):  # the run's own budget (finetune's refiner_steps)
        tuning = replace(tuning, steps=int(record["refiner_steps"]))
    say(f"refining stage: fine-tuning {base_refiner.path.stem} on {len(pairs)} glyphs ({where}), {tuning.steps} steps")
    steps = tuning.steps
    return tune_refiner(base_refiner, generator, generator.style(record["style"]), pairs=pairs, out=target_path,
                        tuning=tuning, seed=seed, extra={"generator_fingerprint": generator.fingerprint},
                        progress=None if on_step is None else lambda step, _loss: on_step(step, steps))


__all__ = ["choose_refiner", "refining_pairs", "run_refining_stage"]

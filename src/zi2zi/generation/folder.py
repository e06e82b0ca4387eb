"""Writing generated glyphs to a glyph folder (:mod:`zi2zi.data.glyphfolder`): one ``U+XXXX.png``
per character plus a manifest.

The manifest records the model (its fingerprint), the style, the renderer settings and the
style's em box, which is what ``zi2zi export`` needs to put the glyphs back into font units where
the target font would have them. It is written before the first glyph and again at the end
(``complete``), so a killed run never leaves glyphs without their em box, and ``--resume`` can
refuse to mix glyphs of another model or style into the folder.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zi2zi.data.glyphfolder import FORMAT, KIND, write_glyph, write_manifest
from zi2zi.data.layout import MANIFEST, glyph_filename
from zi2zi.errors import Zi2ziError
from zi2zi.fonts import FontFile
from zi2zi.generation.model import GlyphGenerator, Style
from zi2zi.storage import claim_folder, clear_if_ours, folder_state
from zi2zi.storage.atomic import remove_stale_files

MAX_BATCH = 4096


@dataclass
class GenerateReport:
    out: Path
    style: Style
    written: list[str] = field(default_factory=list)
    skipped_existing: list[str] = field(default_factory=list)
    missing_in_source: list[str] = field(default_factory=list)
    requested: list[str] = field(default_factory=list)  # every character asked for, in order
    seconds: float = 0.0


def generated_glyphs(
    model: GlyphGenerator, *, style: Style, source: FontFile, chars: Sequence[str], batch_size: int = 32
) -> Iterator[tuple[list[str], np.ndarray]]:
    """(characters, uint8 (B, S, S) glyphs) batches of ``chars`` in ``style``: the one place the
    font-making chain takes generated images from before they go into a glyph folder.

    The glyphs are the model's at its output size: through the run's refiner, when the model has
    one (:attr:`GlyphGenerator.refiner`), at the refiner's size; so every caller of the chain
    gets refined glyphs. A style fine-tuned on a hand's glyphs brought to one placement draws at
    the source glyphs' placement; here each glyph gets the hand's median placement back
    (:func:`zi2zi.data.placement.place`), so it sits beside the written ones.
    """
    placement = model.style_placement(style)
    for batch_chars, images in model.generate_chars(source, chars, style, batch_size=batch_size):
        if placement is not None and not placement.identity:
            from zi2zi.data.placement import place

            images = np.stack([place(image, placement) for image in images])
        yield batch_chars, images


def generate_to_folder(
    model: GlyphGenerator,
    *,
    style: Style,
    source: FontFile,
    chars: Sequence[str],
    out: str | Path,
    resume: bool = False,
    overwrite: bool = False,
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> GenerateReport:
    """Generate ``chars`` in ``style`` from ``source`` glyphs into ``out``: the glyph stage of the
    font-making chain (:mod:`zi2zi.fontmaking`), fed by :func:`generated_glyphs`.

    ``out`` must be new or empty; with ``resume`` it may also be a glyph folder of the same model
    and style, whose glyphs are kept and skipped; with ``overwrite``, any glyph folder, which is
    replaced. The manifest is written first (``complete`` false) and each PNG atomically.
    """
    started = time.perf_counter()
    out = Path(out)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= MAX_BATCH:
        raise Zi2ziError(f"--batch-size {batch_size!r} must be a whole number from 1 to {MAX_BATCH}")
    if not out.parent.is_dir():
        raise Zi2ziError(f"folder {out.parent} does not exist; create it or choose another --out")
    if resume and overwrite:
        raise Zi2ziError("--resume and --overwrite contradict each other; pick one")
    check_covered(source, chars)
    with claim_folder(out, KIND, lambda: _check_folder(out, model, style, resume, overwrite)) as previous:
        if previous is None:
            clear_if_ours(out, KIND)  # with overwrite: the earlier glyphs go
        out.mkdir(exist_ok=True)
        remove_stale_files(out)
        existing = set(previous.get("characters", "")) if previous else set()
        existing = {c for c in existing if (out / glyph_filename(c)).is_file()}
        report = GenerateReport(out=out, style=style)
        todo = []
        report.requested = list(dict.fromkeys(chars))
        for char in report.requested:
            if not source.covers(char):
                report.missing_in_source.append(char)
            elif char in existing:
                report.skipped_existing.append(char)
            else:
                todo.append(char)
        _write_manifest(model, report, source, existing, complete=False)
        if progress and report.skipped_existing:
            progress(len(report.skipped_existing))
        done = set(existing)
        for batch_chars, images in generated_glyphs(model, style=style, source=source, chars=todo,
                                                    batch_size=batch_size):
            for char, image in zip(batch_chars, images):
                write_glyph(out, char, image)
                report.written.append(char)
            done.update(batch_chars)
            if progress:
                progress(len(batch_chars))
        # Characters in the cmap whose glyph renders empty cannot be generated either.
        report.missing_in_source += [c for c in todo if c not in done]
        _write_manifest(model, report, source, done, complete=True)
    report.seconds = time.perf_counter() - started
    return report


def check_covered(source: FontFile, chars: Sequence[str]) -> None:
    """Refuse a generation that could write nothing: the source font has none of ``chars``."""
    wanted = list(dict.fromkeys(chars))
    if wanted and not any(source.covers(c) for c in wanted):
        shown = "".join(wanted[:20]) + (" ..." if len(wanted) > 20 else "")
        raise Zi2ziError(f"the source font {source.path.name} has none of the {len(wanted)} character(s) asked for "
                         f"({shown}); choose a --source-font that has them, or other characters")


def _check_folder(out: Path, model: GlyphGenerator, style: Style, resume: bool,
                  overwrite: bool) -> dict[str, Any] | None:
    """The manifest of the glyph folder being resumed, None for a new, empty or replaced one;
    refuses the rest."""
    state = folder_state(out, KIND)
    if state in ("missing", "empty"):
        return None
    if out.exists() and not out.is_dir():
        raise Zi2ziError(f"--out {out} is a file; give a folder for the glyphs")
    if state == "foreign":
        if (out / MANIFEST).is_file():
            raise Zi2ziError(
                f"{out / MANIFEST} is not a readable zi2zi glyph manifest (format {FORMAT!r}); "
                "zi2zi will not write into this folder: choose another --out"
            )
        raise Zi2ziError(f"--out {out} is a non-empty folder that is not a zi2zi glyph folder; "
                         "choose an empty or new folder")
    if overwrite:
        return None
    if not resume:
        raise Zi2ziError(f"{out} already holds generated glyphs; pass --resume to continue it or choose another --out")
    manifest = KIND.read_marker(out) or {}
    same_style = (manifest.get("style") or {}).get("id") == style.id
    # The refiner is part of the model: glyphs with and without one, or of two refiners, never mix.
    refiner = model.refiner.fingerprint if model.refiner is not None else None
    same_model = manifest.get("model") == model.fingerprint and (manifest.get("refiner") or {}).get("fingerprint") == refiner
    if not (same_style and same_model):
        what = "style" if same_model else "checkpoint or refiner"
        raise Zi2ziError(
            f"--resume: {out} holds glyphs of another {what} ({manifest.get('checkpoint')}, style "
            f"{(manifest.get('style') or {}).get('name')!r}); resuming would mix two models: "
            "choose another --out"
        )
    if not isinstance(manifest.get("characters", ""), str):
        raise Zi2ziError(f"{out / MANIFEST} is corrupt (its characters are not text); choose another --out")
    return manifest


def _write_manifest(model: GlyphGenerator, report: GenerateReport, source: FontFile, done: set[str],
                    *, complete: bool) -> None:
    write_manifest(
        report.out, render=model.output_render, embox=model.style_embox(report.style), characters=done,
        complete=complete, checkpoint=str(model.checkpoint_path), checkpoint_step=model.step,
        model=model.fingerprint, style=asdict(report.style), target_font=model.style_font_record(report.style),
        source_font=source.record(),
        # What was asked for: an unfinished folder (complete false) can say what it still lacks.
        requested="".join(report.requested), missing_in_source="".join(report.missing_in_source),
        refiner=model.refiner.record() if model.refiner is not None else None,
    )


__all__ = ["GenerateReport", "check_covered", "generate_to_folder", "generated_glyphs"]

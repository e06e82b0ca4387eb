"""Writing generated glyphs to a folder: one ``U+XXXX.png`` per character plus a manifest.

The manifest records the renderer settings and the style's em box, which is what ``zi2zi export``
needs to put the glyphs back into font units where the target font would have them.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Sequence

from PIL import Image

from zi2zi import __version__
from zi2zi.data.layout import MANIFEST, glyph_filename
from zi2zi.errors import Zi2ziError
from zi2zi.fonts import FontFile
from zi2zi.inference import GlyphGenerator, Style


@dataclass
class GenerateReport:
    out: Path
    style: Style
    written: list[str] = field(default_factory=list)
    skipped_existing: list[str] = field(default_factory=list)
    missing_in_source: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _save_png(image, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    Image.fromarray(image).save(tmp, format="PNG")
    os.replace(tmp, path)


def generate_to_folder(
    model: GlyphGenerator,
    *,
    style: Style,
    source: FontFile,
    chars: Sequence[str],
    out: str | Path,
    resume: bool = False,
    batch_size: int = 32,
    progress: Callable[[int], None] | None = None,
) -> GenerateReport:
    """Generate ``chars`` in ``style`` from ``source`` glyphs into ``out``.

    Without ``resume`` an existing glyph folder is refused; with it, glyphs already written are
    kept and skipped. Each PNG is written under a temporary name and renamed, so an interrupted run
    leaves only whole images behind.
    """
    started = time.perf_counter()
    out = Path(out)
    if not out.parent.is_dir():
        raise Zi2ziError(f"folder {out.parent} does not exist; create it or choose another --out")
    existing = {p.name for p in out.glob("U+*.png")} if out.is_dir() else set()
    if existing and not resume:
        raise Zi2ziError(f"{out} already holds generated glyphs; pass --resume to continue it or choose another --out")
    out.mkdir(exist_ok=True)
    report = GenerateReport(out=out, style=style)
    todo = []
    for char in dict.fromkeys(chars):
        if not source.covers(char):
            report.missing_in_source.append(char)
        elif glyph_filename(char) in existing:
            report.skipped_existing.append(char)
        else:
            todo.append(char)
    if progress and report.skipped_existing:
        progress(len(report.skipped_existing))
    for batch_chars, images in model.generate_chars(source, todo, style, batch_size=batch_size):
        for char, image in zip(batch_chars, images):
            _save_png(image, out / glyph_filename(char))
            report.written.append(char)
        if progress:
            progress(len(batch_chars))
    # Characters in the cmap whose glyph renders empty cannot be generated either.
    done = set(report.written)
    report.missing_in_source += [c for c in todo if c not in done]
    _write_manifest(model, report, source)
    report.seconds = time.perf_counter() - started
    return report


def _write_manifest(model: GlyphGenerator, report: GenerateReport, source: FontFile) -> None:
    embox = model.style_embox(report.style)
    path = report.out / MANIFEST
    previous = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    characters = sorted(
        set(previous.get("characters", "")) | set(report.written) | set(report.skipped_existing), key=ord
    )
    manifest = {
        "format": "zi2zi-glyphs",
        "version": 1,
        "zi2zi_version": __version__,
        "checkpoint": str(model.checkpoint_path),
        "checkpoint_step": model.step,
        "style": asdict(report.style),
        "target_font": model.style_font_record(report.style),
        "source_font": source.record(),
        "render": asdict(model.render_settings),
        "embox": embox.to_dict(),
        "advance": embox.units_per_em,
        "characters": "".join(characters),
        "missing_in_source": "".join(report.missing_in_source),
    }
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, path)

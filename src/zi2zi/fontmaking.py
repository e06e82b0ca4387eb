"""The font-making chain: a base model and a target become a finished font file.

::

    base + target  --fine-tune-->  a run directory        zi2zi.finetune.finetune
    run            --load------->  the model in memory    zi2zi.generation.GlyphGenerator
    model + the source font it was trained on (zi2zi.generation.base_source_font)
                   --generate--->  a glyph folder         zi2zi.generation.generate_to_folder
    glyph folder   --export----->  a new font, or the     zi2zi.export.export_glyphs
                                   gaps of a font filled

:func:`make_font` runs the whole chain; :func:`font_from_model` runs its last two stages for a
model made some other way (the demo can train one from scratch). A caller that stops half-way
calls the stages themselves: the web app fine-tunes, generates, lets its user review the glyphs,
and exports later; the few-shot benchmark fine-tunes and measures.

The refining stage is part of two of them: ``finetune`` fine-tunes the refiner shipped for the
base on the same glyphs as the generator (``RUN/refiner.safetensors``), and ``GlyphGenerator``
loads the run's refiner, so that the glyph stage (:func:`zi2zi.generation.generated_glyphs`,
where every glyph the chain writes comes from) draws refined 256 px glyphs; ``refine=False``
keeps the generator's own. For a hand, the glyph stage also gives the glyphs the hand's median
placement (:mod:`zi2zi.data.placement`).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from zi2zi.export.names import FontInfo

if TYPE_CHECKING:
    from zi2zi.export.build import ExportResult
    from zi2zi.finetune.run import FinetuneSummary
    from zi2zi.fonts import FontFile
    from zi2zi.generation import GenerateReport, GlyphGenerator, Style

# progress(stage, done, total): "finetune" 0 of 1 and 1 of 1; "generate" per batch, in glyphs;
# "export" 0 of N and N of N glyphs.
Progress = Callable[[str, int, int], None]

RUN_DIR = "run"  # inside make_font's work folder: the fine-tuning run (with its dataset in run/data)
GLYPHS_DIR = "generated"  # ... and the glyph folder the font is traced from


@dataclass
class MadeFont:
    """What the chain made. ``font`` is None when the model could generate none of the
    characters asked for (the source font lacks them all, or none was asked for): no font is
    written then."""

    font: Path | None
    glyphs: GenerateReport | None
    export: ExportResult | None
    source: FontFile  # the font whose glyphs the model read
    model: FinetuneSummary | None = None
    seconds: dict[str, float] = field(default_factory=dict)  # per stage


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def font_from_model(
    model: GlyphGenerator,
    *,
    style: Style,
    chars: Sequence[str],
    glyphs: str | Path,
    out: str | Path,
    source: FontFile | None = None,
    merge_into: str | Path | None = None,
    family: str | None = None,
    info: FontInfo = FontInfo(),
    overwrite: bool = False,
    progress: Progress | None = None,
    echo: Callable[[str], None] | None = None,
) -> MadeFont:
    """Generate ``chars`` in ``style`` into the glyph folder ``glyphs`` and export them as the font
    ``out``: a new font named ``family``, or with ``merge_into`` that font with the generated
    characters it lacks added (see :func:`zi2zi.export.export_glyphs`).

    ``source`` is the font whose glyphs the model reads (default: the one it was trained from).
    ``glyphs`` must be new or empty; ``overwrite`` lets ``out`` be replaced.
    """
    from zi2zi.export import export_glyphs
    from zi2zi.generation import generate_to_folder

    say = echo or _stderr
    tell = progress or (lambda stage, done, total: None)
    seconds: dict[str, float] = {}
    t0 = time.perf_counter()
    source = source or model.source_font(say)
    wanted = list(dict.fromkeys(chars))
    if not wanted:
        return MadeFont(font=None, glyphs=None, export=None, source=source, seconds=seconds)
    done = 0

    def generated(n: int) -> None:
        nonlocal done
        done += n
        tell("generate", done, len(wanted))

    tell("generate", 0, len(wanted))
    report = generate_to_folder(model, style=style, source=source, chars=wanted, out=glyphs, progress=generated)
    seconds["generate"] = time.perf_counter() - t0
    if not report.written:
        return MadeFont(font=None, glyphs=report, export=None, source=source, seconds=seconds)
    t0 = time.perf_counter()
    tell("export", 0, len(report.written))
    exported = export_glyphs(glyphs, out, merge_into=merge_into, family=family, info=info, overwrite=overwrite)
    tell("export", len(report.written), len(report.written))
    seconds["export"] = time.perf_counter() - t0
    return MadeFont(font=exported.path, glyphs=report, export=exported, source=source, seconds=seconds)


def make_font(
    base: str | Path,
    out: str | Path,
    *,
    work: str | Path,
    chars: Sequence[str],
    target: str | None = None,
    train_chars: str | None = None,
    target_glyphs: str | Path | None = None,
    data: str | Path | None = None,
    merge_into: str | Path | None = None,
    family: str | None = None,
    info: FontInfo = FontInfo(),
    style_name: str | None = None,
    holdout: int | None = None,
    steps: int | None = None,
    discriminator: str | None = None,
    refiner_steps: int | None = None,
    seed: int = 0,
    device: str = "auto",
    overwrite: bool = False,
    refine: bool = True,
    progress: Progress | None = None,
    echo: Callable[[str], None] | None = None,
) -> MadeFont:
    """A font from a base model and a target: the whole chain (see the module docstring).

    ``base``: a shipped base name, a checkpoint or a run directory. The target is exactly one of
    ``target`` (a font; ``train_chars`` picks its training characters), ``target_glyphs`` (a
    glyph folder: a scanned hand) or ``data`` (a dataset rendered like the base), as for
    :func:`zi2zi.finetune.finetune`, which also takes ``style_name``, ``holdout``, ``steps``,
    ``discriminator``, ``refiner_steps`` and ``seed``. The fine-tuning run goes to ``work/run`` (run again, it
    resumes; ``overwrite`` starts it over) and the generated glyphs of ``chars`` to
    ``work/generated``, which must be new or empty. ``out``: the font, new (named ``family``) or
    ``merge_into`` with the generated characters it lacks added; it is replaced if it exists.
    ``refine=False`` leaves out the refining stage (the font is traced from the generator's glyphs).
    """
    from zi2zi.export.make import check_choice
    from zi2zi.finetune import finetune
    from zi2zi.generation import GlyphGenerator

    check_choice(merge_into=merge_into, family=family)  # before minutes of fine-tuning
    say = echo or _stderr
    tell = progress or (lambda stage, done, total: None)
    work = Path(work)
    t0 = time.perf_counter()
    tell("finetune", 0, 1)
    tuned = finetune(base, work / RUN_DIR, target=target, chars=train_chars, target_glyphs=target_glyphs, data=data,
                     holdout=holdout, steps=steps, discriminator=discriminator, style_name=style_name, seed=seed,
                     refiner_steps=refiner_steps, overwrite=overwrite, device=None if device == "auto" else device, progress=False, echo=say,
                     refine=refine)
    tell("finetune", 1, 1)
    finetune_seconds = time.perf_counter() - t0
    model = GlyphGenerator(tuned.checkpoint or tuned.run_dir, device=device, refine=refine)
    made = font_from_model(model, style=model.style(tuned.style), chars=chars, glyphs=work / GLYPHS_DIR, out=out,
                           merge_into=merge_into, family=family, info=info, overwrite=True, progress=progress,
                           echo=say)
    made.model = tuned
    made.seconds = {"finetune": finetune_seconds, **made.seconds}
    return made

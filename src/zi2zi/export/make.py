"""The export stage of the font-making chain: a glyph folder becomes a font file, either a new font
(:func:`~zi2zi.export.build.export_font`) or the gaps of a font the user already has filled
(:func:`~zi2zi.export.merge.merge_into_font`).

The choice between the two is made here once, for ``zi2zi export``, the web app and
:func:`zi2zi.fontmaking.make_font`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from zi2zi.data.glyphfolder import GlyphFolder, check_finished, read_glyph_folder
from zi2zi.errors import ExportError
from zi2zi.export.borrow import TakeGlyphs
from zi2zi.export.build import ExportResult, export_font
from zi2zi.export.merge import merge_into_font
from zi2zi.export.names import FontInfo
from zi2zi.export.trace import TraceOptions
from zi2zi.export.vertical import MetricsOptions


def check_choice(*, merge_into: str | Path | None, family: str | None) -> None:
    """Refuse, before any work, a new font without a name."""
    if merge_into is None and not family:
        raise ExportError("a new font needs a name: pass --family NAME (or --merge-into BASE_FONT)")


def export_glyphs(
    glyphs: str | Path | GlyphFolder,
    out: str | Path,
    *,
    merge_into: str | Path | None = None,
    family: str | None = None,
    style: str = "Regular",
    info: FontInfo = FontInfo(),
    metrics: MetricsOptions = MetricsOptions(),
    face: int | str = 0,
    keep_names: bool = False,
    overwrite: bool = False,
    workers: int | None = None,
    options: TraceOptions = TraceOptions(),
    em_box: tuple[int, int, int] | None = None,
    warn: Callable[[str], None] | None = None,
    take: Sequence[TakeGlyphs] = (),
    progress: Callable[[int, int], None] | None = None,
    variants: bool = True,
    allow_incomplete: bool = False,
) -> ExportResult:
    """A new font named ``family`` (``style``, ``info``, ``metrics``), or with ``merge_into`` the
    characters that font (face ``face``) lacks added to it; ``family`` then renames the merged font
    (default: the base's family + " zi2zi", or the base's own names with ``keep_names``).

    ``progress(done, total)`` hears the tracing of a new font.
    ``take``: glyphs copied unchanged from other fonts into a new font (punctuation, Latin).
    ``variants``: a new font gets the folder's variants as alternates that cycle in running text
    (:mod:`zi2zi.export.alternates`); False leaves them out.
    ``em_box`` places a folder without a manifest (see :func:`~zi2zi.data.glyphfolder.read_glyph_folder`).
    ``warn`` hears the folder's warnings before tracing starts, so that a wrong em box can be
    stopped early, and the export's own after it.
    A folder whose generation did not finish is refused, or with ``allow_incomplete`` exported
    with a warning (see :func:`~zi2zi.data.glyphfolder.check_finished`).
    """
    check_choice(merge_into=merge_into, family=family)
    if merge_into is not None and take:
        raise ExportError("--punctuation-from / --latin-from make a new font; the merged font keeps the base's glyphs")
    folder = glyphs if isinstance(glyphs, GlyphFolder) else read_glyph_folder(glyphs, em_box=em_box)
    check_finished(folder, allow_incomplete=allow_incomplete)
    say = warn or (lambda _: None)
    for warning in folder.warnings:
        say(warning)
    if merge_into is not None:
        result = merge_into_font(folder, merge_into, out, face=face, family=family, keep_names=keep_names,
                                 overwrite=overwrite, workers=workers, options=options)
    else:
        assert family is not None  # refused above
        result = export_font(folder, out, family=family, style=style, info=info, metrics=metrics,
                             overwrite=overwrite, workers=workers, options=options, take=list(take),
                             progress=progress, variants=variants)
    for warning in result.warnings[len(folder.warnings) :]:
        say(warning)
    return result

"""Font-level quality: identification, shape IoU, edge F and contour counts of real fonts."""

from __future__ import annotations

import numpy as np

from zi2zi.fonts import open_font
from zi2zi.metrics.font_quality import contour_count, edge_f, font_quality

from conftest import TINY_CHARS
from fontfactory import pattern_glyphs, save_font


def test_a_font_against_itself_is_perfect(tiny_fonts):
    font = open_font(tiny_fonts["light"])
    summary = font_quality(font, font, TINY_CHARS).summary()
    assert summary == {"characters": len(TINY_CHARS), "identified": 1.0, "shape_iou": 1.0, "edge_f": 1.0,
                       "contours_off": 0.0}


def test_swapped_glyphs_are_not_identified(tiny_fonts, tmp_path):
    glyphs = pattern_glyphs(TINY_CHARS, weight=30)
    a, b = TINY_CHARS[0], TINY_CHARS[1]
    glyphs[a], glyphs[b] = glyphs[b], glyphs[a]
    swapped = open_font(save_font(tmp_path / "swapped.ttf", glyphs, family="Swapped"))
    quality = font_quality(swapped, open_font(tiny_fonts["light"]), TINY_CHARS)
    by_char = dict(zip(quality.chars, quality.identified))
    assert not by_char[a] and not by_char[b]
    assert sum(quality.identified) == len(TINY_CHARS) - 2


def test_characters_a_font_lacks_are_listed_not_scored(tiny_fonts):
    quality = font_quality(open_font(tiny_fonts["bold"]), open_font(tiny_fonts["light"]), TINY_CHARS)
    assert quality.missing == list(TINY_CHARS[-2:])
    assert len(quality.chars) == len(TINY_CHARS) - 2


def test_edge_f_drops_with_ragged_edges():
    real = np.zeros((128, 128), bool)
    real[30:90, 40:60] = True
    shifted = np.roll(real, 1, axis=1)  # within the 2 px tolerance
    ragged = real.copy()
    ragged[30:90:2, 36:40] = True  # serrations 4 px deep on one side
    assert edge_f(real, real) == 1.0
    assert edge_f(shifted, real) == 1.0
    assert edge_f(ragged, real) < 0.9


def test_contours_count_outlines_and_holes_not_specks():
    ring = np.zeros((128, 128), bool)
    ring[20:80, 20:80] = True
    ring[35:65, 35:65] = False
    assert contour_count(ring) == 2
    two = np.zeros((128, 128), bool)
    two[10:30, 10:30] = True
    two[50:70, 50:70] = True
    two[100, 100] = True  # a one-pixel speck
    assert contour_count(two) == 2


def test_evaluate_font_prints_the_measures_beside_a_baseline(tiny_fonts, capsys):
    import json

    from zi2zi.cli import main

    assert main(["evaluate", "--font", str(tiny_fonts["light"]), "--against", str(tiny_fonts["light"]),
                 "--chars", "text:" + TINY_CHARS, "--baseline", str(tiny_fonts["bold"]), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["font"]["identified"] == 1.0 and result["font"]["missing"] == ""
    assert result["baseline"]["characters"] == len(TINY_CHARS) - 2 and result["baseline"]["missing"] == TINY_CHARS[-2:]
    assert result["baseline"]["shape_iou"] < 1.0
    assert main(["evaluate", "--font", str(tiny_fonts["light"])]) == 1
    assert "--font needs --against" in capsys.readouterr().err


def test_trace_cleanup_drops_small_patches_and_keeps_strokes():
    from benchmarks.trace_cleanup import drop_patches

    grey = np.full((64, 64), 255, np.uint8)
    grey[10:50, 10:20] = 0  # a stroke (400 px) with a pinhole
    grey[30, 15] = 255
    grey[5:7, 40:42] = 0  # a speck (4 px)
    cleaned = drop_patches(20)(grey)
    assert cleaned[30, 15] == 0  # the pinhole filled
    assert (cleaned[5:7, 40:42] == 255).all()  # the speck gone
    assert (cleaned[10:50, 10:20] == 0).all() and (cleaned < 128).sum() == 400

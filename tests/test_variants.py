"""A hand's variants: the template asks for more samples of frequent characters, the scan keeps
them, and the export makes alternates that cycle in running text (calt), under rand and aalt."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fontTools.ttLib import TTFont
from PIL import Image

from fontcheck import fontbakery_findings
from zi2zi.cli import main
from zi2zi.data.glyphfolder import read_glyph_folder, write_glyph, write_manifest, write_variant
from zi2zi.export import FontInfo, export_font, merge_into_font
from zi2zi.fonts import EmBox, open_font
from zi2zi.handwriting.layout import load_template, plan_template
from zi2zi.handwriting.synthetic import HandSettings, PhotoSettings, synthetic_photos
from zi2zi.handwriting.variants import DEFAULT_VARIANTS, SAMPLES, variant_chars

from fontfactory import build_quad_font, stroke_glyphs

CHARS = "永字八法的一是了我不人在他有这个上们来到时大地为子中"
SIZE = 64
MILD = PhotoSettings(dpi=(150, 170), blur_sigma=(0.3, 0.6), jpeg_quality=(65, 70))


def test_the_most_frequent_characters_get_three_samples_after_the_others():
    assert variant_chars(CHARS, 5) == list("的一了是不")  # ranked by Unihan's kHanyuPinlu counts
    assert variant_chars(CHARS, 0) == [] and len(variant_chars(CHARS)) == DEFAULT_VARIANTS == 15
    plain = plan_template(list(CHARS))
    template = plan_template(list(CHARS), variants=variant_chars(CHARS, 3))
    cells = [cell for page in template.pages for cell in page.cells]
    assert template.chars == list(CHARS) and template.variants == {"的": SAMPLES - 1, "一": 2, "了": 2}
    # the extra squares follow every character, round by round, so each sample is written apart
    assert [(c.char, c.sample) for c in cells[len(CHARS):]] == [("的", 1), ("一", 1), ("了", 1),
                                                               ("的", 2), ("一", 2), ("了", 2)]
    assert template.id != plain.id and plan_template(list(CHARS)).id == plain.id  # ids without variants stay
    doc = template.to_dict()
    assert doc["version"] == 2 and plain.to_dict()["version"] == 1 and doc["variants"] == template.variants


def test_template_cli_asks_for_variants_by_default_and_json_round_trips(tmp_path, capsys):
    ref = tmp_path / "ref.ttf"
    build_quad_font(stroke_glyphs(CHARS, width=30), family="Zi2zi Reference").save(str(ref))
    out = tmp_path / "sheet"
    assert main(["template", "--charset", "gb2312-1:40", "--out", str(out), "--dpi", "100", "--no-extras",
                 "--reference-font", str(ref)]) == 0
    assert "15 characters asked for 3 times" in capsys.readouterr().out
    loaded = load_template(out)
    assert len(loaded.chars) == 40 and sum(loaded.variants.values()) == 30
    assert main(["template", "--charset", "gb2312-1:40", "--out", str(tmp_path / "none"), "--dpi", "100",
                 "--variants", "0", "--reference-font", str(ref)]) == 0
    assert load_template(tmp_path / "none").variants == {}
    raw = json.loads((out / "template.json").read_text(encoding="utf-8"))
    assert {cell.get("sample", 0) for page in raw["pages"] for cell in page["cells"]} == {0, 1, 2}


def test_scan_reads_the_variant_squares_into_variant_glyphs(tmp_path):
    hand, ref = tmp_path / "hand.ttf", tmp_path / "ref.ttf"
    build_quad_font(stroke_glyphs(CHARS, width=60)).save(str(hand))
    build_quad_font(stroke_glyphs(CHARS, width=30), family="Zi2zi Reference").save(str(ref))
    sheet = tmp_path / "sheet"
    assert main(["template", "--charset", f"text:{CHARS}", "--variants", "4", "--out", str(sheet), "--paper",
                 "letter", "--cell-mm", "40", "--dpi", "100", "--reference-font", str(ref)]) == 0
    template = load_template(sheet)
    shots, truth = synthetic_photos(template, open_font(hand), seed=3, truth_size=96, photo=MILD, hand=HandSettings())
    photos = []
    for shot in shots:
        photos.append(tmp_path / f"IMG_{shot.page}.jpg")
        photos[-1].write_bytes(shot.jpeg)
    out = tmp_path / "glyphs"
    assert main(["scan", *map(str, photos), "--template", str(sheet), "--out", str(out), "--size", "96"]) == 0
    folder = read_glyph_folder(out)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    frequent = variant_chars(CHARS, 4)
    assert manifest["variants"] == {c: 2 for c in sorted(frequent, key=ord)}
    assert sorted(chr(cp) for cp in folder.variants) == sorted(frequent)
    assert [p.name for p in folder.variants[ord("的")]] == ["U+7684.1.png", "U+7684.2.png"]
    # each variant is the hand's own other writing of the character, not a copy of the first
    first = np.asarray(Image.open(out / "U+7684.png"))
    again = [np.asarray(Image.open(p)) for p in folder.variants[ord("的")]]
    assert all(not np.array_equal(first, v) for v in again) and not np.array_equal(again[0], again[1])
    assert np.array_equal(first, np.asarray(Image.open(out / "U+7684.png")))  # the first sample stays the glyph
    assert set(truth) == set(CHARS)


def _folder(root: Path, chars: str, variants: dict[str, int]) -> Path:
    """A glyph folder of stroke glyphs; each variant is its character drawn a little bolder and
    shifted, so every form differs."""
    from zi2zi.config import RenderSettings
    from zi2zi.fonts import Renderer

    root.mkdir()
    fonts = {}
    for w in (40, 55, 70, 85):
        path = root.parent / f"w{w}.ttf"
        build_quad_font(stroke_glyphs(chars, width=w)).save(str(path))
        fonts[w] = Renderer(open_font(path), RenderSettings(size=SIZE))
    for char in chars:
        write_glyph(root, char, fonts[40].render(char))
        for n in range(1, variants.get(char, 0) + 1):
            write_variant(root, char, n, np.roll(fonts[40 + 15 * n].render(char), n, axis=1))
    write_manifest(root, render=RenderSettings(size=SIZE, mode="em", margin=0.0), embox=EmBox.cjk_default(SIZE),
                   characters=chars, complete=True, source="scan", variants=variants)
    return root


def _shape(font_path: Path, text: str, features: dict[str, bool] | None = None) -> list[int]:
    import uharfbuzz as hb

    blob = hb.Blob.from_file_path(str(font_path))
    font = hb.Font(hb.Face(blob))
    buf = hb.Buffer()
    buf.add_str(text)
    buf.guess_segment_properties()
    hb.shape(font, buf, features or {})
    return [info.codepoint for info in buf.glyph_infos]


@pytest.fixture(scope="module")
def hand_font(tmp_path_factory):
    root = tmp_path_factory.mktemp("variants")
    folder = _folder(root / "glyphs", "的一是了我不人在", {"的": 2, "一": 1})
    out = root / "Hand-Regular.ttf"
    info = FontInfo(copyright="Copyright 2026 The Zi2zi Test Authors",
                    license="This Font Software is licensed under the SIL Open Font License, Version 1.1.",
                    license_url="https://openfontlicense.org")
    result = export_font(folder, out, family="Zi2zi Hand", info=info)
    assert result.alternates == 3
    return out


def test_a_character_repeated_three_times_gets_three_glyphs(hand_font):
    ids = _shape(hand_font, "的的的的")
    assert len(set(ids[:3])) == 3 and ids[3] == ids[0]  # the cycle: default, alt1, alt2, default again
    # running text: the previous occurrence a few characters back counts too
    spaced = _shape(hand_font, "的是的了我的")
    assert len({spaced[0], spaced[2], spaced[5]}) == 3
    # a character with one variant alternates; one without keeps its glyph
    one = _shape(hand_font, "一一一")
    assert one[0] != one[1] and one[2] == one[0]
    assert len(set(_shape(hand_font, "人人人"))) == 1
    # calt and rand off: every 的 the same, as an app without either shows them
    assert len(set(_shape(hand_font, "的的的", {"calt": False, "rand": False}))) == 1
    # HarfBuzz applies rand by default: it only chooses where the cycle starts
    for text in ("的的的", "我的的的", "的" * 9):
        forms = _shape(hand_font, text)[-3:]
        assert len(set(forms)) == 3


def test_the_alternates_are_under_rand_and_aalt_too(hand_font):
    font = TTFont(hand_font)
    gsub = font["GSUB"].table
    tags = {r.FeatureTag for r in gsub.FeatureList.FeatureRecord}
    assert tags == {"aalt", "calt", "rand"}
    names = set(font.getGlyphOrder())
    assert {"uni7684.alt1", "uni7684.alt2", "uni4E00.alt1"} <= names
    alternate_sets = {}
    for lookup in gsub.LookupList.Lookup:
        for sub in lookup.SubTable:
            if lookup.LookupType == 3:
                alternate_sets.update(sub.alternates)
    assert {"uni7684.alt1", "uni7684.alt2"} <= set(alternate_sets["uni7684"])
    # rand, on by default in HarfBuzz: it picks among the forms (where it picks is its own affair)
    picked = _shape(hand_font, "的" * 40, {"calt": False})
    assert picked != _shape(hand_font, "的" * 40, {"calt": False, "rand": False})
    assert set(picked) <= {font.getGlyphID(n) for n in ("uni7684", "uni7684.alt1", "uni7684.alt2")}
    # the alternates are as wide as their character and stand in vertical text as it does
    assert font["hmtx"]["uni7684.alt2"][0] == font["hmtx"]["uni7684"][0] == 1000
    assert font["vmtx"]["uni7684.alt1"][0] == 1000


@pytest.mark.parametrize("kind", ["ttf", "otf"])
def test_fontbakery_has_no_fail_with_alternates(tmp_path, kind):
    from test_export_font import synthetic_glyph, write_folder
    from zi2zi.fonts.charsets import builtin_charset

    # A font fontbakery takes for CJK (150 ideographs and more), as test_export_font's is, plus variants.
    hanzi = [ord(c) for c in builtin_charset("gb2312-1")[:160]]
    folder = write_folder(tmp_path / "glyphs", {cp: synthetic_glyph(i) for i, cp in enumerate(hanzi)})
    for k, cp in enumerate(hanzi[:3]):
        for n in (1, 2):
            write_variant(folder, chr(cp), n, synthetic_glyph(40 + 3 * k + n))
    out = tmp_path / f"Zi2ziHand-Regular.{kind}"
    info = FontInfo(version="1.002", copyright="Copyright 2026 The Zi2zi Test Authors",
                    license="This Font Software is licensed under the SIL Open Font License, Version 1.1.",
                    license_url="https://openfontlicense.org")
    assert export_font(folder, out, family="Zi2zi Hand", info=info).alternates == 6
    found = fontbakery_findings(out, kind, tmp_path)
    assert found.get("FAIL", []) == [] and found.get("ERROR", []) == [] and found.get("FATAL", []) == []
    # the same WARNs as a font without alternates (test_export_font), no new ones
    assert set(found.get("WARN", [])) <= {"cjk_chws_feature"} | ({"opentype/monospace"} if kind == "ttf" else set())


def test_merging_into_the_hand_keeps_its_cycle_across_the_new_glyphs(hand_font, tmp_path):
    generated = _folder(tmp_path / "generated", "中国", {})
    merged = tmp_path / "Complete.ttf"
    merge_into_font(generated, hand_font, merged)
    ids = _shape(merged, "的中的国的")
    assert len({ids[0], ids[2], ids[4]}) == 3  # the generated 中 and 国 between do not break it
    assert TTFont(merged).getGlyphOrder()[: len(TTFont(hand_font).getGlyphOrder())] == TTFont(hand_font).getGlyphOrder()


def test_merging_keeps_another_fonts_own_contextual_alternates(hand_font, tmp_path):
    from fontTools.feaLib.builder import addOpenTypeFeaturesFromString

    theirs = TTFont(hand_font)  # glyphs named like ours, but a GSUB that zi2zi did not write
    del theirs["GSUB"]
    addOpenTypeFeaturesFromString(theirs, "feature calt { sub uni7684 uni7684' by uni7684.alt1; } calt;",
                                  tables=["GSUB"])
    theirs.save(tmp_path / "Theirs.ttf")
    merge_into_font(_folder(tmp_path / "generated", "中国", {}), tmp_path / "Theirs.ttf", tmp_path / "Merged.ttf")
    table = TTFont(tmp_path / "Merged.ttf")["GSUB"].table
    assert [r.FeatureTag for r in table.FeatureList.FeatureRecord] == ["calt"]
    assert [lookup.LookupType for lookup in table.LookupList.Lookup] == [6, 1]


def test_export_no_variants_and_a_bad_variant_file(tmp_path, capsys):
    folder = _folder(tmp_path / "glyphs", "的一", {"的": 2})
    assert main(["export", "--glyphs", str(folder), "--out", str(tmp_path / "a.ttf"), "--family", "A"]) == 0
    assert "2 alternate(s)" in capsys.readouterr().out
    assert main(["export", "--glyphs", str(folder), "--out", str(tmp_path / "b.ttf"), "--family", "B",
                 "--no-variants"]) == 0
    assert "GSUB" not in TTFont(tmp_path / "b.ttf")
    (folder / "variants" / "notes.txt").write_text("mine")
    assert main(["export", "--glyphs", str(folder), "--out", str(tmp_path / "c.ttf"), "--family", "C"]) == 1
    assert "notes.txt" in capsys.readouterr().err


def test_the_glyph_limit_counts_the_variants_before_any_tracing(tmp_path, monkeypatch, capsys):
    import zi2zi.export.build as build

    folder = _folder(tmp_path / "glyphs", "的一", {"的": 2})
    # 2 glyphs + .notdef + 3 whitespace = 6; the 2 variants take it to 8
    monkeypatch.setattr(build, "MAX_GLYPHS", 7)
    monkeypatch.setattr(build, "trace_files", lambda *a, **k: pytest.fail("traced before counting"))
    assert main(["export", "--glyphs", str(folder), "--out", str(tmp_path / "a.ttf"), "--family", "A"]) == 1
    err = capsys.readouterr().err
    assert "2 glyphs and 2 variants" in err and "--no-variants" in err and not (tmp_path / "a.ttf").exists()
    monkeypatch.undo()
    monkeypatch.setattr(build, "MAX_GLYPHS", 7)
    assert main(["export", "--glyphs", str(folder), "--out", str(tmp_path / "b.ttf"), "--family", "B",
                 "--no-variants"]) == 0

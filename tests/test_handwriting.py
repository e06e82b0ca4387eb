"""Handwriting templates and the scan command: layout, files, glyph folders, failures."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from PIL import Image

from zi2zi.cli import main
from zi2zi.data.glyphfolder import read_glyph_folder
from zi2zi.errors import Zi2ziError
from zi2zi.fonts import open_font, resolve_charset
from zi2zi.handwriting.charset import default_charset, template_charset
from zi2zi.handwriting.intake import ScanSettings, read_page
from zi2zi.handwriting.layout import TemplateSettings, load_template, plan_template
from zi2zi.handwriting.synthetic import HandSettings, PhotoSettings, synthetic_photos

from fontfactory import build_quad_font, stroke_glyphs

CHARS = "永字八法的一是了我不人在他有这个上们来到时大地为子中"
SIZE = 96
# Mild photos: these tests are about files and messages; test_handwriting_photos covers the camera.
MILD = PhotoSettings(dpi=(150, 170), blur_sigma=(0.3, 0.6), jpeg_quality=(65, 70))


@pytest.fixture(scope="module")
def fonts(tmp_path_factory):
    root = tmp_path_factory.mktemp("hwfonts")
    hand, ref = root / "hand.ttf", root / "ref.ttf"
    build_quad_font(stroke_glyphs(CHARS, width=60)).save(str(hand))
    build_quad_font(stroke_glyphs(CHARS, width=30), family="Zi2zi Reference").save(str(ref))
    return {"hand": hand, "ref": ref}


@pytest.fixture(scope="module")
def template_dir(tmp_path_factory, fonts):
    """A two-page template (40 mm squares on letter paper) written by the CLI."""
    out = tmp_path_factory.mktemp("tpl") / "sheet"
    assert main(["template", "--charset", f"text:{CHARS}", "--out", str(out), "--paper", "letter",
                 "--cell-mm", "40", "--dpi", "100", "--reference-font", str(fonts["ref"])]) == 0
    return out


@pytest.fixture(scope="module")
def photos(tmp_path_factory, template_dir, fonts):
    """JPEG photos of each page (page 2 first: order must not matter) and the pasted truth."""
    template = load_template(template_dir / "template.json")
    shots, truth = synthetic_photos(template, open_font(fonts["hand"]), seed=11, truth_size=SIZE, photo=MILD,
                                    hand=HandSettings(fill=0.9))
    root = tmp_path_factory.mktemp("photos")
    paths = []
    for shot in reversed(shots):
        path = root / f"IMG_{shot.page}.jpg"
        path.write_bytes(shot.jpeg)
        paths.append(path)
    return paths, truth


def test_default_charset_is_300_frequent_level1_characters():
    chars = default_charset()
    assert len(chars) == 300 and len(set(chars)) == 300
    level1 = set(resolve_charset("gb2312-1"))
    assert all(c in level1 for c in chars)
    assert chars[:3] == ("本", "不", "成")  # frequency class 1 first, in GB 2312 order
    assert template_charset(None) == list(chars)
    assert template_charset("gb2312-1:10") == resolve_charset("gb2312-1")[:10]
    assert template_charset("text:a:b") == ["a", ":", "b"]


def test_layout_fits_the_paper_and_round_trips(tmp_path):
    chars = list(default_charset())
    template = plan_template(chars, TemplateSettings(paper="a4", cell_mm=15))
    assert template.chars == chars
    width, height = template.page_mm
    for page in template.pages:
        ids = {m.id for m in page.markers}
        assert ids == {4 * page.index + k for k in range(4)} | {template.fingerprint_marker}
        for cell in page.cells:
            assert 0 < cell.box.x and cell.box.x + cell.box.w < width
            assert 0 < cell.box.y and cell.box.y + cell.box.h < height
            assert cell.box.w == cell.box.h == 15
            for m in page.markers:  # no square overlaps a marker
                b = m.box
                assert cell.box.x + cell.box.w <= b.x or b.x + b.w <= cell.box.x or \
                    cell.box.y + cell.box.h <= b.y or b.y + b.h <= cell.label.y
    template.save(tmp_path / "template.json")
    again = load_template(tmp_path)
    assert again.chars == chars and again.id == template.id and again.pages == template.pages
    assert plan_template(chars[:10]).id != template.id


def test_template_folder_files(template_dir):
    data = json.loads((template_dir / "template.json").read_text(encoding="utf-8"))
    assert data["format"] == "zi2zi-template" and data["dpi"] == 100
    assert data["page_mm"] == [215.9, 279.4]
    assert data["page_px"] == [round(215.9 / 25.4 * 100), round(279.4 / 25.4 * 100)]
    cells = [c for page in data["pages"] for c in page["cells"]]
    assert "".join(c["char"] for c in cells) == CHARS
    assert cells[0]["codepoint"] == "U+6C38"
    assert cells[0]["box_px"] == pytest.approx([v * 100 / 25.4 for v in cells[0]["box"].values()], abs=0.01)
    assert data["embox"]["ascender"] == 880 and data["embox"]["descender"] == -120
    assert len(data["pages"]) == 2
    pngs = sorted(template_dir.glob("page-*.png"))
    assert [p.name for p in pngs] == ["page-1.png", "page-2.png"]
    assert Image.open(pngs[0]).size == tuple(data["page_px"])
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(template_dir / "template.pdf"))
    assert len(pdf) == 2
    w, h = pdf[0].get_size()
    assert (w, h) == pytest.approx((215.9 / 25.4 * 72, 279.4 / 25.4 * 72), abs=1.0)


def test_template_page_has_light_guides_and_a_printed_reference(template_dir):
    data = json.loads((template_dir / "template.json").read_text(encoding="utf-8"))
    page = np.asarray(Image.open(template_dir / "page-1.png"))
    cell = data["pages"][0]["cells"][0]
    x, y, w, h = (round(v) for v in cell["box_px"])
    inside = page[y + 3 : y + h - 3, x + 3 : x + w - 3]
    assert inside.min() >= 200  # the guide is light: it drops out at the ink/paper midpoint
    lx, ly, lw, lh = (round(v * 100 / 25.4) for v in cell["label"].values())
    assert page[ly : ly + lh, lx : lx + lw].min() < 150  # the reference character is printed


def test_guide_none_leaves_the_squares_blank():
    from zi2zi.handwriting.draw import draw_page

    template = plan_template(list("永字"), TemplateSettings(guide="none", dpi=100))
    page = draw_page(template, 0)
    s = 100 / 25.4
    box = template.pages[0].cells[0].box
    x0, y0, x1, y1 = (round(v * s) for v in (box.x, box.y, box.x + box.w, box.y + box.h))
    assert page[y0 + 3 : y1 - 3, x0 + 3 : x1 - 3].min() == 255
    assert page[y0:y1, x0:x1].min() >= 200  # the outline itself stays light


def test_template_refuses_a_foreign_folder(tmp_path, fonts, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["template", "--charset", "text:永", "--out", str(tmp_path), "--reference-font", str(fonts["ref"])]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not a zi2zi template folder" in err[0]
    # a template.json that is not a zi2zi template does not make the folder one, even with --overwrite
    fake = tmp_path / "fake"
    fake.mkdir()
    (fake / "template.json").write_text('{"format": "something-else", "version": 1}')
    assert main(["template", "--charset", "text:永", "--out", str(fake), "--reference-font", str(fonts["ref"]),
                 "--overwrite"]) == 1
    assert "not a zi2zi template folder" in capsys.readouterr().err
    assert sorted(p.name for p in fake.iterdir()) == ["template.json"]
    # a template folder is replaced with --overwrite, and only with it
    real = tmp_path / "real"
    args = ["template", "--charset", "text:永", "--out", str(real), "--reference-font", str(fonts["ref"])]
    assert main(args) == 0
    assert main(args) == 1 and "--overwrite" in capsys.readouterr().err
    assert main([*args[:2], "text:永字", *args[3:], "--overwrite"]) == 0
    assert load_template(real).chars == ["永", "字"]
    assert not list(tmp_path.glob(".real.*"))
    assert main(["template", "--charset", "text:永", "--out", str(tmp_path / "t"), "--reference-font",
                 str(tmp_path / "missing.ttf")]) == 1
    assert "does not exist" in capsys.readouterr().err


def test_scan_cli_writes_a_glyph_folder_export_reads(tmp_path, template_dir, photos, capsys):
    paths, truth = photos
    out = tmp_path / "glyphs"
    assert main(["scan", *map(str, paths), "--template", str(template_dir / "template.json"), "--out", str(out),
                 "--size", str(SIZE)]) == 0
    printed = capsys.readouterr().out
    assert "page 1" in printed and "page 2" in printed
    folder = read_glyph_folder(out)
    assert folder.warnings == []
    assert folder.size == SIZE and folder.embox.ascender == 880 and folder.embox.descender == -120
    assert {chr(cp) for cp in folder.codepoints} == set(truth)
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "zi2zi-glyphs" and manifest["complete"] is True
    assert set(manifest["empty"]) == set(CHARS) - set(truth)  # the squares the hand skipped
    for cp in folder.codepoints:
        got, want = folder.load(cp) < 128, truth[chr(cp)] < 128
        assert (got & want).sum() / (got | want).sum() > 0.85
    assert (out / "review" / "contact-sheet.png").is_file()
    # a second scan into the same folder needs --overwrite
    assert main(["scan", str(paths[0]), "--template", str(template_dir), "--out", str(out)]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert main(["scan", str(paths[0]), "--template", str(template_dir), "--out", str(out), "--overwrite",
                 "--size", str(SIZE)]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is False and len(manifest["pages_not_read"]) == 1
    # while another writer holds the folder, a scan stops with one line and changes nothing
    from zi2zi.storage import FolderLock

    before = sorted(p.name for p in out.iterdir())
    with FolderLock(out, what="glyph folder"):
        assert main(["scan", *map(str, paths), "--template", str(template_dir), "--out", str(out), "--overwrite",
                     "--size", str(SIZE)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "being written" in err[0] and str(out) in err[0]
    assert sorted(p.name for p in out.iterdir()) == before
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["complete"] is False
    assert not list(tmp_path.glob(".glyphs.*"))  # no temporary or lock left beside it


def test_png_and_pdf_input_and_the_same_page_twice(tmp_path, template_dir, photos, fonts):
    """A retake of page 1 (as a PDF) after the first photo wins; --keep-variants keeps both."""
    from zi2zi.handwriting.draw import write_pdf
    from zi2zi.handwriting.scan import scan

    paths, _ = photos
    page1 = tmp_path / "page1.png"  # a PNG this time (a flatbed scanner's file)
    Image.open(next(p for p in paths if p.name == "IMG_0.jpg")).save(page1)
    template = load_template(template_dir)
    [retake], retake_truth = synthetic_photos(template, open_font(fonts["hand"]), seed=99, truth_size=SIZE,
                                              photo=MILD, pages=[0], hand=HandSettings(scale=(0.6, 0.6)))
    grey = cv2.imdecode(np.frombuffer(retake.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    pdf = write_pdf([grey], tmp_path / "retake.pdf", dpi=150)
    report = scan([page1, pdf], template, tmp_path / "g", keep_variants=True,
                  settings=ScanSettings(size=SIZE))
    assert [p.ok for p in report.pages] == [True, True]
    assert report.pages[1].source == "retake.pdf page 1"
    char = next(iter(retake_truth))
    got, want = report.glyphs[char].image < 128, retake_truth[char] < 128
    assert (got & want).sum() / (got | want).sum() > 0.8  # the later (smaller) writing won
    variants = sorted((tmp_path / "g" / "variants").iterdir())
    assert f"U+{ord(char):04X}.1.png" in [v.name for v in variants]
    assert read_glyph_folder(tmp_path / "g").codepoints  # sub-folders do not disturb export


def _jpeg(image: np.ndarray) -> bytes:
    return cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 60])[1].tobytes()


def test_bad_photos_get_one_clear_message_each_and_no_folder(tmp_path, template_dir, photos, fonts, capsys):
    paths, _ = photos
    template = load_template(template_dir)
    good = cv2.imdecode(np.fromfile(str(paths[-1]), np.uint8), cv2.IMREAD_GRAYSCALE)
    # a page printed without its markers: the written page itself, markers painted over
    [shot], _ = synthetic_photos(template, open_font(fonts["hand"]), seed=5, truth_size=SIZE, pages=[0],
                                 photo=PhotoSettings(dpi=(150, 150), rotations=(0,), tilt_deg=0, perspective=0))
    bare = cv2.imdecode(np.frombuffer(shot.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    from zi2zi.handwriting.markers import detect

    for d in detect(bare):
        cv2.fillConvexPoly(bare, d.corners.astype(np.int32), 235)
    rng = np.random.default_rng(0)
    something_else = cv2.GaussianBlur(rng.integers(0, 255, (900, 1200), dtype=np.uint8), (0, 0), 3)
    cv2.circle(something_else, (600, 450), 200, 30, -1)  # a photo of a cup, say
    cases = {
        "no-markers.jpg": (bare, "no template markers"),
        "half.jpg": (good[: good.shape[0] // 2], "cut off"),
        "cup.jpg": (something_else, "not a page of a zi2zi template"),
    }
    for name, (image, expected) in cases.items():
        (tmp_path / name).write_bytes(_jpeg(image))
        out = tmp_path / f"out-{name}"
        assert main(["scan", str(paths[0]), str(tmp_path / name), "--template", str(template_dir),
                     "--out", str(out)]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and name in err[0] and expected in err[0], err
        assert not out.exists(), name  # nothing that looks like a glyph folder
        assert not list(tmp_path.glob(f".out-{name}*")), name  # no temporary left behind either
    for name, (_image, expected) in cases.items():
        page = read_page(cv2.imdecode(np.fromfile(str(tmp_path / name), np.uint8), cv2.IMREAD_GRAYSCALE), template,
                         source=name, settings=ScanSettings(size=SIZE))
        assert not page.ok and expected in page.reason, (name, page.reason)
        assert "\n" not in page.summary()
    # --skip-unreadable keeps what was read, and the manifest says the set is incomplete
    out = tmp_path / "partial"
    assert main(["scan", str(paths[0]), str(tmp_path / "cup.jpg"), "--template", str(template_dir), "--out", str(out),
                 "--skip-unreadable", "--size", str(SIZE)]) == 0
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["complete"] is False
    assert [p["read"] for p in manifest["photos"]] == [True, False]


def test_scan_refuses_a_foreign_folder_and_a_photo_of_another_template(tmp_path, template_dir, photos, capsys):
    paths, _ = photos
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "thesis.docx").write_text("x")
    assert main(["scan", str(paths[0]), "--template", str(template_dir), "--out", str(foreign), "--overwrite"]) == 1
    assert "not a zi2zi glyph folder" in capsys.readouterr().err
    other = plan_template(list("永字八法的一是了我不人在他有这个上们来到时大地为子"), TemplateSettings(paper="letter", cell_mm=30))
    other.save(tmp_path / "template.json")
    assert main(["scan", str(paths[0]), "--template", str(tmp_path / "template.json"), "--out",
                 str(tmp_path / "g")]) == 1
    assert "another template" in capsys.readouterr().err


def test_empty_squares_and_ink_touching_the_edge(tmp_path, template_dir, fonts):
    template = load_template(template_dir)
    [shot], truth = synthetic_photos(template, open_font(fonts["hand"]), seed=4, truth_size=SIZE, pages=[0],
                                     photo=MILD, hand=HandSettings(fill=0.5, scale=(1.0, 1.0), shift=0.0))
    page = read_page(cv2.imdecode(np.frombuffer(shot.jpeg, np.uint8), cv2.IMREAD_GRAYSCALE), template,
                     settings=ScanSettings(size=SIZE))
    assert page.ok
    empty = {c.char for c in page.cells if c.image is None}
    assert empty == {c.char for c in page.cells} - set(truth)
    assert empty and "empty:" in page.summary()
    # the test glyphs' vertical stroke runs to -60 units: at full size it nearly reaches the edge
    touching = {c.char for c in page.cells if c.touches_border}
    want = {char for char, image in truth.items() if (image[-2:] < 128).any() or (image[:2] < 128).any()}
    assert touching >= want


def test_demo_end_to_end_on_test_fonts(tmp_path, fonts, monkeypatch):
    """The demo's path (template -> photos -> scan -> export -> report) on the test fonts; with no
    base model installed the completion step must say it was not done rather than pretend."""
    import zi2zi.bases
    from zi2zi.demo import run_handwriting_demo as run_demo

    monkeypatch.setattr(zi2zi.bases, "bases_dir", lambda: tmp_path / "no-bases")
    summary = run_demo(tmp_path / "demo", charset=f"text:{CHARS[:8]}", hand_font=str(fonts["hand"]),
                       reference_font=str(fonts["ref"]), size=64, log=lambda *_: None)
    assert summary["glyphs"] == 8 and summary["median_ink_iou"] > 0.85
    assert summary["export_check_median_iou"] > 0.85
    assert (tmp_path / "demo" / "my-handwriting.ttf").is_file()
    assert open_font(tmp_path / "demo" / "my-handwriting.ttf").covers(CHARS[0])
    page = (tmp_path / "demo" / "report.html").read_text(encoding="utf-8")
    assert "report/photo.png" in page and "report/contact-sheet.png" in page
    status = summary["completion"]["status"]
    assert status.startswith("not done") and "no base model is installed" in status
    assert "zi2zi models" in status and "--base" in status
    assert not (tmp_path / "demo" / "run").exists() and not (tmp_path / "demo" / "generated").exists()
    assert status in page
    # the demo clears only its own folder: anything else is refused even with --overwrite
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    with pytest.raises(Zi2ziError, match="not a zi2zi handwriting demo folder"):
        run_demo(mine, charset=f"text:{CHARS[:8]}", hand_font=str(fonts["hand"]), overwrite=True)
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]


def test_zi2zi_demo_handwriting_runs_the_handwriting_demo(tmp_path, fonts, monkeypatch, capsys):
    import zi2zi.bases

    monkeypatch.setattr(zi2zi.bases, "bases_dir", lambda: tmp_path / "no-bases")
    out = tmp_path / "hw"
    assert main(["demo", "--handwriting", "--out", str(out), "--charset", f"text:{CHARS[:8]}",
                 "--hand-font", str(fonts["hand"]), "--reference-font", str(fonts["ref"]), "--size", "64"]) == 0
    assert (out / "report.html").is_file() and (out / "my-handwriting.ttf").is_file()
    assert json.loads((out / "summary.json").read_text(encoding="utf-8"))["glyphs"] == 8
    capsys.readouterr()
    # The font demo's options are refused, not ignored, and nothing is touched.
    assert main(["demo", "--handwriting", "--out", str(tmp_path / "x"), "--glyphs", "30"]) == 1
    assert "--glyphs belongs to the font demo" in capsys.readouterr().err and not (tmp_path / "x").exists()


def test_demo_completes_the_font_with_a_fine_tuned_base(tmp_path, fonts, shipped):
    """With a base installed (a tiny one here) the demo fine-tunes it on the scanned glyphs,
    generates the characters the hand did not write and merges them: written glyphs stay as written."""
    from zi2zi.config import RenderSettings
    from zi2zi.demo import run_handwriting_demo as run_demo
    from zi2zi.fonts import Renderer

    from conftest import TINY_CHARS

    out = tmp_path / "demo"
    wanted = TINY_CHARS[:20]
    summary = run_demo(out, charset=f"text:{CHARS[:12]}", hand_font=str(fonts["hand"]),
                       reference_font=str(fonts["ref"]), size=64, complete_charset=f"text:{wanted}", steps=2,
                       device="cpu", log=lambda *_: None)
    completion = summary["completion"]
    assert completion["status"].startswith("done") and "every written glyph kept" in completion["status"]
    assert completion["base"] == "tiny" and completion["steps"] == 2 and completion["discriminator"] == "none"
    assert set(completion["seconds"]) == {"finetune", "generate", "export"}  # each stage timed (the benchmark's)
    # the tiny source font has 8 of the 12 written characters: those are what fine-tuning can pair
    assert completion["train_glyphs"] == len(set(CHARS[:12]) & set(TINY_CHARS)) == 8
    written = open_font(out / "my-handwriting.ttf")
    complete = open_font(out / "my-handwriting-complete.ttf")
    missing = [c for c in wanted if not written.covers(c)]
    assert missing and completion["generated"] == len(missing)
    assert {chr(cp) for cp in read_glyph_folder(out / "generated").codepoints} == set(missing)
    assert all(complete.covers(c) for c in wanted + CHARS[:12])
    assert (out / "report" / "completed-sample.png").is_file()  # the report shows written and generated
    # every hand-written glyph is the one that was written, not a generated one
    before, after = Renderer(written, RenderSettings(size=64)), Renderer(complete, RenderSettings(size=64))
    for char in CHARS[:12]:
        assert np.array_equal(before.render(char), after.render(char)), char
    # the commands shown are the real ones for this run
    steps = completion["next_steps"]
    assert steps[0].startswith("zi2zi finetune --base tiny --target-glyphs ")
    assert "--missing-from" in steps[1] and "--within" in steps[1] and "source.ttf" in steps[1]
    assert "--merge-into" in steps[2]


def test_two_sheets_in_one_photo_are_both_read(template_dir, fonts):
    from zi2zi.handwriting.intake import read_photo
    from zi2zi.handwriting.synthetic import fill_page, photograph

    template = load_template(template_dir)
    hand = open_font(fonts["hand"])
    rng = np.random.default_rng(8)
    left = fill_page(template, 0, hand, dpi=120, truth_size=SIZE, rng=rng)
    right = fill_page(template, 1, hand, dpi=120, truth_size=SIZE, rng=rng)
    table = np.hstack([left.raster, np.full((left.raster.shape[0], 60), 255, np.uint8), right.raster])
    jpeg, _ = photograph(table, rng, PhotoSettings(rotations=(180,), blur_sigma=(0.3, 0.5), jpeg_quality=(70, 70)))
    pages = read_photo(cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE), template, source="desk.jpg",
                       settings=ScanSettings(size=SIZE))
    assert [p.page for p in pages] == [0, 1] and all(p.ok for p in pages), [p.summary() for p in pages]
    assert pages[1].source == "desk.jpg (page 2)"
    truth = left.truth | right.truth
    for page in pages:
        for cell in page.cells:
            got, want = cell.image < 128, truth[cell.char] < 128
            assert (got & want).sum() / (got | want).sum() > 0.85


def test_missing_reference_font_names_the_package(monkeypatch, tmp_path, capsys):
    import zi2zi.fonts.system

    monkeypatch.setattr(zi2zi.fonts.system, "font_dirs", lambda: [])
    assert main(["template", "--charset", "text:永", "--out", str(tmp_path / "t")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "fonts-arphic-uming" in err[0] and "--reference-font" in err[0]
    assert not (tmp_path / "t").exists()


def test_unusable_template_json_is_one_clear_error(tmp_path, capsys):
    bad = tmp_path / "template.json"
    bad.write_text("{not json")
    assert main(["scan", str(bad), "--template", str(bad), "--out", str(tmp_path / "g")]) == 1
    assert "not valid JSON" in capsys.readouterr().err
    bad.write_text('{"format": "something-else"}')
    assert main(["scan", str(bad), "--template", str(tmp_path), "--out", str(tmp_path / "g")]) == 1
    assert "not a zi2zi template.json" in capsys.readouterr().err


def test_punctuation_digits_and_latin_have_their_own_page_and_widths_from_the_ink(tmp_path):
    """The template's extras page is scanned like any cell; the exported font gives the written
    Latin its ink width and keeps the written 。 low at the left."""
    from fontTools.ttLib import TTFont

    from zi2zi.export import export_font
    from zi2zi.fonts.punctuation import template_extras

    from fontfactory import sentence_font

    hanzi = CHARS[:3]
    font_path = tmp_path / "hand.ttf"
    sentence_font(hanzi).save(str(font_path))
    out, charset = tmp_path / "sheet", tmp_path / "mine.txt"
    charset.write_text(hanzi, encoding="utf-8")
    assert main(["template", "--charset", str(charset), "--out", str(out), "--dpi", "150", "--variants", "0",
                 "--reference-font", str(font_path)]) == 0
    template = load_template(out / "template.json")
    assert [c.char for c in template.pages[0].cells] == list(hanzi)  # the extras start a page of their own
    assert [c.char for p in template.pages[1:] for c in p.cells] == template_extras()
    assert plan_template(list(hanzi)).id != template.id
    assert len(template.pages) == 2  # 105 extras fit on one A4 page of 15 mm squares
    page = np.asarray(Image.open(out / "page-2.png"))
    box = template.pages[1].cells[template_extras().index("H")].box
    s = 150 / 25.4
    baseline = round((box.y + box.h * 0.88) * s)  # the Latin cells' guide is a baseline, not a cross
    row = page[baseline, round(box.x * s) + 4 : round((box.x + box.w) * s) - 4]
    assert (row < 250).mean() > 0.3 and (page[round((box.y + box.h / 2) * s), round(box.x * s) + 4 :
                                              round((box.x + box.w) * s) - 4] > 250).mean() > 0.9
    shots, _ = synthetic_photos(template, open_font(font_path), seed=3, truth_size=SIZE, photo=MILD,
                                hand=HandSettings(fill=1.0, shift=0.02, scale=(0.95, 0.95)))
    paths = []
    for shot in shots:
        paths.append(tmp_path / f"p{shot.page}.jpg")
        paths[-1].write_bytes(shot.jpeg)
    glyphs = tmp_path / "glyphs"
    assert main(["scan", *map(str, paths), "--template", str(out / "template.json"), "--out", str(glyphs)]) == 0
    exported = tmp_path / "Hand.ttf"
    export_font(glyphs, exported, family="Hand")
    font = TTFont(exported)
    cmap, hmtx, glyf = font.getBestCmap(), font["hmtx"], font["glyf"]
    assert ord("1") not in cmap  # the drawn font has no 1: its square stayed empty, and nothing is made up
    widths = {c: hmtx[cmap[ord(c)]][0] for c in "Hl。"}
    assert widths["l"] < widths["H"] < 1000 == widths["。"]
    dot = glyf[cmap[ord("。")]]
    assert (dot.xMin + dot.xMax) / 2 < 350 and (dot.yMin + dot.yMax) / 2 < 150


def test_the_synthetic_hand_varies_size_and_position_seeded_and_within_its_settings():
    """Each written glyph is scaled and shifted anew (what placement normalisation must absorb):
    the variation is there, stays inside HandSettings' ranges, and a seed gives it again."""
    from zi2zi.handwriting.synthetic import WRITE_SIZE, write_like_a_hand

    glyph = np.full((WRITE_SIZE, WRITE_SIZE), 255, np.uint8)
    lo, hi = WRITE_SIZE // 2 - 50, WRITE_SIZE // 2 + 50
    glyph[lo:hi, lo:hi] = 0  # a centred block: its ink box measures the scale and shift directly
    hand = HandSettings()

    def measured(seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        rows = []
        for _ in range(200):
            written = write_like_a_hand(glyph, rng, hand)
            assert written is not None
            ys, xs = np.nonzero(written < 128)
            scale = (xs.max() - xs.min() + 1) / (hi - lo)
            dx = ((xs.min() + xs.max()) / 2 - (lo + hi - 1) / 2) / WRITE_SIZE
            dy = ((ys.min() + ys.max()) / 2 - (lo + hi - 1) / 2) / WRITE_SIZE
            rows.append((scale, dx, dy))
        return np.array(rows)

    first = measured(0)
    assert np.array_equal(first, measured(0)) and not np.array_equal(first, measured(1))
    scale, shift = first[:, 0], first[:, 1:]
    px = 2 / (hi - lo)  # a pixel of rounding at each edge of the box
    assert hand.scale[0] - px <= scale.min() and scale.max() <= hand.scale[1] + px
    assert np.abs(shift).max() <= hand.shift + 1 / WRITE_SIZE
    # and it is real variation, spread over the ranges rather than stuck at one value
    assert scale.max() - scale.min() > 0.8 * (hand.scale[1] - hand.scale[0])
    assert (shift.max(axis=0) - shift.min(axis=0) > 1.6 * hand.shift).all()
    assert scale.std() > 0.03 and (shift.std(axis=0) > 0.02).all()


def test_a_pdf_that_opens_but_holds_a_damaged_page_is_named_in_one_line(tmp_path):
    from zi2zi.handwriting.intake import ScanError, load_inputs

    bad = tmp_path / "scan.pdf"
    bad.write_bytes(b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
                    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj 42 endobj\n"
                    b"trailer<</Root 1 0 R>>\n%%EOF\n")  # one page listed, and it is not a page
    with pytest.raises(ScanError, match=r"scan.pdf page 1 cannot be read .*export the scan again"):
        load_inputs(bad)

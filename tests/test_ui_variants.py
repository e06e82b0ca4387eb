"""The web app's handwriting flow with variants and no extra step: the template it makes asks for
them, the scan keeps them (a retake of a page replaces them), the export makes them alternates."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("fastapi", reason="the web app needs the ui extra (make setup)")

from fontTools.ttLib import TTFont  # noqa: E402

from zi2zi.fonts import open_font  # noqa: E402
from zi2zi.handwriting import load_template  # noqa: E402
from zi2zi.handwriting.synthetic import HandSettings, PhotoSettings, synthetic_photos  # noqa: E402

from fontfactory import build_quad_font, stroke_glyphs  # noqa: E402
from uihelpers import call, multipart, running_app  # noqa: E402

CHARS = "的一是了我不人在他有这个上们来到"


def _done(api: str, kind: str, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        job = call(api)[1]["job"]
        if job.get("kind") == kind and job["state"] not in ("queued", "running"):
            assert job["state"] == "done", job
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def test_template_scan_and_export_of_a_hand_carry_its_variants(tmp_path):
    import uharfbuzz as hb

    hand = tmp_path / "hand.ttf"
    build_quad_font(stroke_glyphs(CHARS, width=60)).save(str(hand))
    projects = tmp_path / "projects"
    with running_app(projects) as url:
        _, project = call(f"{url}/api/projects", "POST", {"name": "Hand"})
        api = f"{url}/api/projects/{project['id']}"
        # What the page sends by default: the variants box ticked, like the extras box.
        assert call(f"{api}/template", "POST", {"chars": CHARS, "extras": False, "variants": True})[0] == 200
        job = _done(api, "template")
        template = load_template(projects / "hand" / "handwriting" / "template" / "template.json")
        assert job["result"]["variants"] == "".join(template.variants) and len(template.variants) == 15
        shots, _ = synthetic_photos(template, open_font(hand), seed=5, truth_size=64, hand=HandSettings(),
                                    photo=PhotoSettings(dpi=(150, 170), blur_sigma=(0.3, 0.6), jpeg_quality=(65, 70)))
        for shot in shots:
            body, kind = multipart("files", f"IMG_{shot.page}.jpg", shot.jpeg)
            assert call(f"{api}/photos", "POST", data=body, content_type=kind)[0] == 200
            _done(api, "scan")
        variants = projects / "hand" / "handwriting" / "glyphs" / "variants"
        names = sorted(p.name for p in variants.glob("U+*.png"))
        assert len(names) == 30 and "U+7684.1.png" in names and "U+7684.2.png" in names
        assert call(api)[1]["hand_variants"] == 30
        # a retake of the page with the extra squares replaces them, and adds none
        before = (variants / "U+7684.2.png").read_bytes()
        last = next(shot for shot in shots if any(c.sample for c in template.pages[shot.page].cells))
        again, _ = synthetic_photos(template, open_font(hand), seed=9, truth_size=64, pages=[last.page])
        body, kind = multipart("files", "retake.jpg", again[0].jpeg)
        assert call(f"{api}/photos", "POST", data=body, content_type=kind)[0] == 200
        _done(api, "scan")
        assert sorted(p.name for p in variants.glob("U+*.png")) == names
        assert (variants / "U+7684.2.png").read_bytes() != before
        # the export of the scanned glyphs: alternates, cycling in running text
        assert call(f"{api}/export", "POST", {"glyphs": "handwriting", "family": "My Hand", "format": "ttf"})[0] == 200
        _done(api, "export")
    font_path = projects / "hand" / "fonts" / "my-hand.ttf"
    assert "uni7684.alt2" in TTFont(font_path).getGlyphOrder()
    font = hb.Font(hb.Face(hb.Blob.from_file_path(str(font_path))))
    buf = hb.Buffer()
    buf.add_str("的的的")
    buf.guess_segment_properties()
    hb.shape(font, buf, {})
    assert len({info.codepoint for info in buf.glyph_infos}) == 3


def test_a_template_for_the_shipped_base_prints_the_face_it_reads(tmp_path):
    from zi2zi.bases import resolve_base
    from zi2zi.checkpoints import read_metadata

    source = read_metadata(resolve_base("base-64"))["data_info"]["source"]["font"]
    if not open_font(source["path"], source["face"]).covers("的"):  # the base's own source font
        pytest.skip("the shipped base's source font is not installed (make fonts)")
    projects = tmp_path / "projects"
    with running_app(projects) as url:
        _, project = call(f"{url}/api/projects", "POST", {"name": "Hand"})
        api = f"{url}/api/projects/{project['id']}"
        assert call(f"{api}/base", "POST", {"base": "shipped:base-64"})[0] == 200
        assert call(f"{api}/template", "POST", {"chars": "的一", "extras": False, "variants": False})[0] == 200
        _done(api, "template")
    template = load_template(projects / "hand" / "handwriting" / "template" / "template.json")
    # Noto Serif CJK SC is face 2 of its collection: face 0 (JP) would print other glyph forms
    assert template.reference_font["face"] == source["face"] == 2
    assert template.reference_font["family"] == "Noto Serif CJK SC"

"""The web app in a real browser (Playwright driving Debian's Chromium): every flow end to end on
tiny fonts and a tiny base, with a screenshot of each page.

Screenshots go to the test's tmp folder; ZI2ZI_UI_SCREENSHOTS=DIR writes them there instead (the
README's pictures: ``ZI2ZI_UI_SCREENSHOTS=docs/ui pytest tests/test_ui_browser.py``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from zi2zi.fonts import open_font

from conftest import TINY_CHARS
from uihelpers import page_url, running_app

playwright_api = pytest.importorskip("playwright.sync_api", reason="the ui tests need playwright (make setup)")
CHROMIUM = os.environ.get("ZI2ZI_CHROMIUM", "/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM} (make browser)")
JOB_TIMEOUT_MS = 120_000


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("ZI2ZI_UI_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield instance
        instance.close()


@pytest.fixture
def app(tmp_path, tiny_base, monkeypatch):
    # As an install without a shipped base: the page says so and offers the --base checkpoint.
    import zi2zi.bases as bases

    empty = tmp_path / "no-bases"
    empty.mkdir()
    monkeypatch.setattr(bases, "bases_dir", lambda: empty)
    with running_app(tmp_path / "projects", bases=[tiny_base]) as url:
        yield url, tmp_path / "projects"


def open_page(browser, url):
    page = browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True)
    page.goto(page_url(url))  # the address `zi2zi ui` prints: the token goes into a cookie
    assert "token" not in page.url  # ... and out of the address bar
    return page


def create_project(page, name: str) -> None:
    page.fill("#project-name", name)
    page.click("#create-project")
    page.wait_for_selector("#tab-font:not([hidden])")


def wait_job(page, kind: str, state: str = "done", *, not_queued: str | None = None) -> None:
    """Wait for the job badge to say ``kind: state``; with ``not_queued`` (the badge's stamp read
    before starting a job again), for a job other than that one, whose badge may still say so."""
    badge = page.locator("#job-state")
    if not_queued is not None:
        page.wait_for_function(
            "([stamp, text]) => { const b = document.querySelector('#job-state');"
            " return b.dataset.queued !== stamp && b.textContent === text; }",
            arg=[not_queued, f"{kind}: {state}"], timeout=JOB_TIMEOUT_MS)
    playwright_api.expect(badge).to_have_text(f"{kind}: {state}", timeout=JOB_TIMEOUT_MS)


def choose_base(page, panel: str) -> None:
    page.locator(f"{panel} .use-base").click()
    playwright_api.expect(page.locator(f"{panel} .base-current")).to_contain_text("tiny.safetensors")


def test_from_a_font_train_stop_resume_review_export(browser, app, tiny_fonts, shots, tmp_path):
    url, projects = app
    expect = playwright_api.expect
    page = open_page(browser, url)
    questions: list[str] = []  # the app asks before replacing work; this user says yes
    page.on("dialog", lambda dialog: (questions.append(dialog.message), dialog.accept()))
    # No shipped base here: the page says so and offers the --base checkpoint.
    expect(page.locator("#tab-font .base-note")).to_contain_text("No shipped base model is installed")
    create_project(page, "Tiny Kai")
    page.screenshot(path=str(shots / "projects.png"))

    # A file that is not a font is refused with a message, not a traceback.
    bad = tmp_path / "notafont.ttf"
    bad.write_bytes(b"<html>hello</html>")
    page.set_input_files("#font-file", str(bad))
    page.click("#upload-font")
    expect(page.locator("#message")).to_have_text("that file is not a font (TTF, OTF, TTC, WOFF or WOFF2)")

    # Upload the target font (it lacks the last 2 of the tiny characters) and see its coverage.
    page.set_input_files("#font-file", str(tiny_fonts["bold"]))
    page.click("#upload-font")
    expect(page.locator("#target-info")).to_contain_text("Tiny Bold")
    expect(page.locator('#coverage tr[data-charset="gb2312"] td').nth(1)).to_have_text(str(len(TINY_CHARS) - 2))

    choose_base(page, "#tab-font")
    page.fill("#train-count", "40")
    page.fill("#holdout", "4")
    page.fill("#steps", "200")
    page.click("#start-training")
    # Live progress: the step counter moves while the job runs, then Stop checkpoints it.
    step = page.locator("#tab-font .step")
    expect(page.locator("#job-state")).to_have_text("finetune: running", timeout=JOB_TIMEOUT_MS)
    page.wait_for_function("Number(document.querySelector('#tab-font .step').textContent) >= 20",
                           timeout=JOB_TIMEOUT_MS)
    page.click("#stop-training")
    wait_job(page, "finetune", "stopped")
    stopped_at = int(step.inner_text())
    assert 20 <= stopped_at < 200
    # A checkpoint was written at the stop: resuming continues from it (not from 0) to the end.
    page.click("#resume-training")
    expect(page.locator("#job-state")).to_have_text(re.compile("finetune: (queued|running|done)"))
    wait_job(page, "finetune")
    expect(step).to_have_text("200")
    log = (projects / "tiny-kai" / "job" / "log.txt").read_text(encoding="utf-8")
    assert "resuming the fine-tuning run" in log
    # G loss and L1; fine-tuning few glyphs has no discriminator, so no D loss curve or legend entry.
    expect(page.locator("#tab-font .loss-curve polyline")).to_have_count(2)
    expect(page.locator('#tab-font .legend span[data-curve="d_loss"]')).to_be_hidden()
    expect(page.locator("#tab-font .sample")).to_have_attribute("src", re.compile("step-00000200.png"))
    # Held-out metrics beside the baseline: every held-out character, measured when training ended.
    expect(page.locator("#tab-font .metrics-step")).to_have_text("(step 200, all 4 held-out characters)")
    expect(page.locator("#tab-font .metrics tr")).to_have_count(6)  # header + l1, rmse, psnr, ssim, ink_iou
    page.screenshot(path=str(shots / "from-a-font.png"), full_page=True)

    # A reload finds everything where it was (state is on disk, the project in the address).
    page.reload()
    expect(page.locator("#current-project")).to_have_text("project: Tiny Kai")
    expect(page.locator("#tab-font .step")).to_have_text("200")
    expect(page.locator("#target-info")).to_contain_text("Tiny Bold")

    # Review: a specimen, the held-out comparison, generate, exclude and regenerate single glyphs.
    page.click('button[data-tab="review"]')
    page.fill("#specimen-text", TINY_CHARS[:8])
    page.click("#make-specimen")
    expect(page.locator("#specimen")).to_be_visible()
    page.click("#heldout")
    expect(page.locator("#specimen")).to_have_attribute("src", re.compile("heldout.png"))
    page.select_option("#gen-mode", "text")
    page.fill("#gen-text", TINY_CHARS[:8])
    page.click("#generate")
    wait_job(page, "generate")
    cells = page.locator("#glyph-grid .cell")
    expect(cells).to_have_count(8)
    page.locator(f'#glyph-grid .cell[data-char="{TINY_CHARS[0]}"]').click()
    page.click("#exclude-glyph")
    expect(cells).to_have_count(7)
    expect(page.locator("#excluded")).to_have_text(TINY_CHARS[0])
    page.locator(f'#glyph-grid .cell[data-char="{TINY_CHARS[1]}"]').click()
    page.click("#regenerate-glyph")
    wait_job(page, "regenerate")
    page.screenshot(path=str(shots / "review.png"), full_page=True)

    # Export a new font with names and licence; download it and open it with fontTools.
    page.click('button[data-tab="export"]')
    page.select_option("#format", "ttf")
    page.fill("#family", "Tiny Kai")
    page.fill("#copyright", "(c) 2026 A Tester")
    page.fill("#licence", "SIL Open Font License 1.1")
    page.click("#export")
    wait_job(page, "export")
    link = page.locator("#font-list a.download", has_text="tiny-kai.ttf")
    with page.expect_download() as info:
        link.click()
    downloaded = tmp_path / "downloaded.ttf"
    info.value.save_as(downloaded)
    from fontTools.ttLib import TTFont

    font = TTFont(downloaded)
    # The excluded glyph is left out; every exported font also maps space, NBSP and U+3000.
    assert set(font.getBestCmap()) - {0x20, 0xA0, 0x3000} == {ord(c) for c in TINY_CHARS[1:8]}
    assert font["name"].getDebugName(1) == "Tiny Kai"
    assert font["name"].getDebugName(0) == "(c) 2026 A Tester"
    assert font["name"].getDebugName(13) == "SIL Open Font License 1.1"
    # The live preview sets the text in the exported font through @font-face.
    page.fill("#preview-text", TINY_CHARS[1:5])
    expect(page.locator("#preview")).to_have_text(TINY_CHARS[1:5])
    page.wait_for_function("document.fonts.check('48px \"zi2zi-preview-0\"', '" + TINY_CHARS[1] + "')")
    assert page.evaluate("document.fonts.load('48px \"zi2zi-preview-0\"').then(f => f.length)") == 1

    # Complete the uploaded font: generate what it lacks, merge it in as WOFF2.
    page.click('button[data-tab="review"]')
    page.select_option("#gen-mode", "missing")
    page.select_option("#gen-charset", "gb2312")
    page.click("#generate")
    wait_job(page, "generate")
    expect(cells).to_have_count(2)
    assert questions == ["Generate again? The new glyphs replace the ones on the Review page."]
    page.click('button[data-tab="export"]')
    page.select_option("#format", "woff2")
    page.check("#merge")
    page.click("#export")
    wait_job(page, "export")
    with page.expect_download() as info:
        page.locator("#font-list a.download", has_text="merged.woff2").click()
    merged_path = tmp_path / "merged.woff2"
    info.value.save_as(merged_path)
    merged = TTFont(merged_path)
    assert merged.flavor == "woff2"
    assert {ord(c) for c in TINY_CHARS} <= set(merged.getBestCmap())
    # A merged font installs beside its base: the base's family + " zi2zi", not the base's own.
    assert merged["name"].getDebugName(1) == f"{open_font(tiny_fonts['bold']).family} zi2zi"
    page.screenshot(path=str(shots / "export.png"), full_page=True)
    page.close()


def test_from_handwriting_template_scan_reject_retake_train(browser, app, tiny_fonts, shots, tmp_path):
    from zi2zi.handwriting import load_template
    from zi2zi.handwriting.synthetic import HandSettings, PhotoSettings, synthetic_photos

    url, projects = app
    expect = playwright_api.expect
    page = open_page(browser, url)
    page.on("dialog", lambda dialog: dialog.accept())  # the "reject this cell?" confirmation
    create_project(page, "My Hand")
    page.click('button[data-tab="hand"]')
    choose_base(page, "#tab-hand")
    chars = TINY_CHARS[:12]
    page.fill("#template-chars", chars)
    page.click("#make-template")
    wait_job(page, "template")
    pdf = page.locator("#template-pdf")
    expect(pdf).to_be_visible()
    with page.expect_download() as info:
        pdf.click()
    assert info.value.suggested_filename == "template.pdf"
    info.value.save_as(tmp_path / "template.pdf")
    assert (tmp_path / "template.pdf").read_bytes().startswith(b"%PDF-")

    # Photos of the filled sheets (a synthetic hand written in the bold font, photographed).
    template = load_template(projects / "my-hand" / "handwriting" / "template" / "template.json")
    mild = PhotoSettings(dpi=(150, 170), blur_sigma=(0.3, 0.6), jpeg_quality=(65, 70))
    photos, _ = synthetic_photos(template, open_font(tiny_fonts["bold"]), seed=3, truth_size=64, photo=mild,
                                 hand=HandSettings(fill=0.9))
    files = []
    for shot in photos:
        files.append(tmp_path / f"IMG_{shot.page}.jpg")
        files[-1].write_bytes(shot.jpeg)
    page.set_input_files("#photos", [str(f) for f in files])
    page.click("#upload-photos")
    wait_job(page, "scan")
    glyphs = projects / "my-hand" / "handwriting" / "glyphs"
    read = len(list(glyphs.glob("U+*.png")))
    assert read >= len(chars) - 2  # a square the synthetic hand left too faint reads as empty
    cells = page.locator("#hand-grid .cell")
    expect(cells).to_have_count(read)
    # Reject a cell; a retake of its page brings it back.
    first, second = cells.nth(0).get_attribute("data-char"), cells.nth(1).get_attribute("data-char")
    page.locator(f'#hand-grid .cell[data-char="{first}"]').click()
    expect(cells).to_have_count(read - 1)
    assert [p.name for p in (glyphs.parent / "rejected").glob("U+*.png")] == [f"U+{ord(first):04X}.png"]
    page.screenshot(path=str(shots / "from-handwriting.png"), full_page=True)
    first_scan = page.locator("#job-state").get_attribute("data-queued")
    assert first_scan  # the badge names its job
    page.set_input_files("#photos", [str(files[0])])
    page.click("#upload-photos")
    wait_job(page, "scan", not_queued=first_scan)
    expect(cells).to_have_count(read)
    assert not list((glyphs.parent / "rejected").glob("U+*.png"))
    page.locator(f'#hand-grid .cell[data-char="{second}"]').click()
    expect(cells).to_have_count(read - 1)

    page.fill("#hand-steps", "6")
    page.click("#train-hand")
    wait_job(page, "finetune")
    expect(page.locator("#tab-hand .step").first).to_have_text("6")
    record = (projects / "my-hand" / "run" / "finetune.json").read_text(encoding="utf-8")
    assert f'"train_glyphs": {read - 1}' in record  # the rejected cell was left out
    page.close()

"""The web app in a real browser, as issue-level flows: a font that sets a whole sentence, and a
page that keeps its maker informed (progress, counts, busy buttons, banners, kept fields).

The base here reads a source font with punctuation, digits and Latin (tests/fontfactory.py's
sentence font), so generation makes them like any glyph. ZI2ZI_UI_SCREENSHOTS=docs/ui writes the
screenshots to the README's folder (see tests/test_ui_browser.py).
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from test_ui_browser import (  # noqa: F401 - browser and shots are fixtures
    CHROMIUM,
    JOB_TIMEOUT_MS,
    browser,
    create_project,
    open_page,
    shots,
    wait_job,
)
from zi2zi.config import RenderSettings
from zi2zi.data import render_dataset

from conftest import TINY_CHARS
from fontfactory import sentence_font
from uihelpers import running_app

playwright_api = pytest.importorskip("playwright.sync_api", reason="the ui tests need playwright (make setup)")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).is_file(), reason=f"no Chromium at {CHROMIUM} (make browser)")
SENTENCE = f"{TINY_CHARS[:4]}，{TINY_CHARS[4:7]}。Hello, World! 2026（{TINY_CHARS[7:9]}）“{TINY_CHARS[9]}”？"
TARGET_LICENCE = "Tiny Sentence licence 1.0"


@pytest.fixture(scope="module")
def sentence_base(tmp_path_factory) -> tuple[Path, Path]:
    """(a tiny base whose source font has punctuation and Latin, the target font to learn)."""
    import zi2zi.bases as bases
    from zi2zi.data.layout import read_manifest
    from zi2zi.training import TrainOptions, train

    from trainhelpers import tiny_config

    root = tmp_path_factory.mktemp("sentence-base")
    source, other, target = root / "source.ttf", root / "other.ttf", root / "target.ttf"
    sentence_font(TINY_CHARS, weight=60, family="Tiny Sentence Source").save(str(source))
    sentence_font(TINY_CHARS, weight=30, family="Tiny Sentence Light").save(str(other))
    sentence_font(TINY_CHARS, weight=110, family="Tiny Sentence Bold",
                  names={"licenseDescription": TARGET_LICENCE}).save(str(target))
    data = root / "data"
    render_dataset(source=str(source), targets=[str(other)], chars=TINY_CHARS, out=data,
                   settings=RenderSettings(size=32), holdout=4, val_fraction=0.1, seed=0, workers=1)
    summary = train(TrainOptions(data=data, out=root / "run", config=tiny_config(), progress=False))
    fonts = [{"name": "Tiny Sentence Light", "file": "other.ttf", "package": "-", "licence": "test", "style": "test"}]
    bases.package_base(summary.checkpoint, "sentence", manifest=read_manifest(data), recipe="tests", fonts=fonts,
                       wall_seconds=1.0, metrics={"l1": {"model": 0.1, "baseline": 0.2}}, out_dir=root / "shipped")
    return root / "shipped" / "sentence.safetensors", target


@pytest.fixture
def app(tmp_path, sentence_base, monkeypatch):
    import zi2zi.bases as bases

    empty = tmp_path / "no-bases"
    empty.mkdir()
    monkeypatch.setattr(bases, "bases_dir", lambda: empty)
    # The "installed" fonts: the base's folder of test fonts only.
    monkeypatch.setenv("ZI2ZI_FONT_DIRS", str(sentence_base[1].parent))
    with running_app(tmp_path / "projects", bases=[sentence_base[0]]) as url:
        yield url, tmp_path / "projects"


def test_progress_state_and_a_sentence_in_the_downloaded_font(browser, app, sentence_base, shots, tmp_path):  # noqa: F811
    from fontTools.ttLib import TTFont

    url, projects = app
    expect = playwright_api.expect
    page = open_page(browser, url)
    create_project(page, "Sentence")

    # The installed fonts by family and style, sorted, narrowed by the filter box.
    options = page.locator("#installed-font option")
    page.wait_for_function("document.querySelectorAll('#installed-font option').length >= 4")  # the list has loaded
    every = options.all_inner_texts()[1:]
    families = [text.split(" — ")[0].casefold() for text in every]
    assert len(every) >= 3 and families == sorted(families)
    page.fill("#installed-filter", "tiny sentence")
    expect(options).to_have_count(4)  # the prompt + three fonts
    names = options.all_inner_texts()[1:]
    assert names[0].startswith("Tiny Sentence Bold — Regular") and names[2].endswith("[source.ttf]")
    page.fill("#installed-filter", "sentence bold")
    expect(options).to_have_count(2)
    page.click("#pick-installed")
    expect(page.locator("#target-info")).to_contain_text("Tiny Sentence Bold")
    page.locator("#tab-font .use-base").click()
    expect(page.locator("#tab-font .base-current")).to_contain_text("sentence.safetensors")
    # The default training set is stated, with why.
    expect(page.locator("#charset")).to_have_value("gb2312-1")
    expect(page.locator("#training-default-note")).to_contain_text("GB 2312 level 1, the common hanzi")
    expect(page.locator("#training-default-note")).to_contain_text("trained better")

    # Fields are kept per project across a reload.
    page.fill("#train-count", "40")
    page.fill("#holdout", "4")
    page.fill("#steps", "3000")
    page.reload()
    expect(page.locator("#train-count")).to_have_value("40")
    expect(page.locator("#steps")).to_have_value("3000")

    # Training: a busy Start button, a moving ETA, samples and held-out metrics long before the end.
    page.click("#start-training")
    expect(page.locator("#start-training")).to_be_disabled()
    page.wait_for_function("document.querySelector('#tab-font .heldout-caption').textContent.includes('step')",
                           timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#job-state")).to_have_text("finetune: running")
    expect(page.locator("#tab-font .heldout-caption")).to_contain_text("never trained on")
    expect(page.locator("#tab-font .sample-caption")).to_contain_text("Training glyphs, which the model learns from")
    expect(page.locator("#tab-font .metrics-step")).to_contain_text("a quick look at 4 held-out characters")
    expect(page.locator("#tab-font .metrics tr")).to_have_count(3)  # header, l1, ssim
    expect(page.locator("#tab-font .eta")).to_have_text(re.compile(r"\d+ (s|min|h)"))
    assert int(page.locator("#tab-font .step").inner_text()) < 3000
    # The loss chart: axes with values, the latest values in the legend, a log scale that can go.
    expect(page.locator("#tab-font .loss-curve .y-tick").first).to_be_visible()
    assert page.locator("#tab-font .loss-curve .x-tick").count() >= 2
    expect(page.locator('#tab-font .legend span[data-curve="l1"] .latest')).to_have_text(re.compile(r"\d"))
    log_ticks = page.locator("#tab-font .loss-curve .y-tick").all_inner_texts()
    page.uncheck("#log-scale")
    page.wait_for_function("(old) => JSON.stringify([...document.querySelectorAll('#tab-font .y-tick')]"
                           ".map((t) => t.textContent)) !== old", arg=json.dumps(log_ticks))
    page.check("#log-scale")
    # Each section its own job: the hand page shows no step of this font's training.
    page.click('button[data-tab="hand"]')
    expect(page.locator("#tab-hand .hand-progress")).to_be_hidden()
    expect(page.locator("#tab-hand .hand-none")).to_be_visible()
    page.click('button[data-tab="font"]')
    page.screenshot(path=str(shots / "progress.png"), full_page=True)
    page.click("#stop-training")
    wait_job(page, "finetune", "stopped")
    expect(page.locator("#start-training")).to_be_enabled()

    # Before any export the preview says so plainly.
    page.click('button[data-tab="export"]')
    expect(page.locator("#preview-none")).to_be_visible()
    expect(page.locator("#preview-area")).to_be_hidden()

    # Generate with punctuation, digits and Latin: a count while it runs, and when done.
    page.click('button[data-tab="review"]')
    page.fill("#specimen-text", TINY_CHARS[:4])
    # The held-out comparison is busy from the click until its answer.
    assert page.evaluate("() => { const b = document.querySelector('#heldout'); b.click(); return b.disabled; }")
    expect(page.locator("#heldout")).to_be_enabled(timeout=JOB_TIMEOUT_MS)
    expect(page.locator("#specimen-caption")).to_contain_text("Held-out characters")
    page.select_option("#gen-mode", "charset")
    page.select_option("#gen-charset", "gb2312")
    expect(page.locator("#gen-extras")).to_be_checked()
    page.click("#generate")
    wait_job(page, "generate")
    count = page.locator("#tab-review .job-count")
    expect(count).to_have_text(re.compile(r"generate done: (\d+) / \1 glyphs"))
    generated = {p.stem for p in (projects / "sentence" / "glyphs").glob("U+*.png")}
    assert {f"U+{ord(c):04X}" for c in "，。？！（）H2"} <= generated

    # A job that fails puts its message up; the next job that starts takes it down.
    page.click('button[data-tab="export"]')
    page.fill("#family", "Tiny Sentence")
    page.check("#merge")
    page.click("#export")
    wait_job(page, "export", "failed")
    expect(page.locator("#message")).to_contain_text("already has all")
    page.uncheck("#merge")
    page.select_option("#punctuation-from", "target")
    page.click("#export")
    wait_job(page, "export")
    expect(page.locator("#message")).not_to_contain_text("already has all")
    expect(page.locator("#tab-export .job-count")).to_have_text(re.compile(r"export done: (\d+) / \1 glyphs"))

    # Download the font and set a sentence in it in the page.
    with page.expect_download() as info:
        page.locator("#font-list a.download", has_text="tiny-sentence.ttf").click()
    downloaded = tmp_path / "downloaded.ttf"
    info.value.save_as(downloaded)
    font = TTFont(downloaded)
    cmap = font.getBestCmap()
    assert {ord(c) for c in SENTENCE if not c.isspace()} <= set(cmap), [c for c in SENTENCE if ord(c) not in cmap]
    assert TARGET_LICENCE in font["name"].getDebugName(13)  # punctuation and Latin taken from the target
    widths = {c: font["hmtx"][cmap[ord(c)]][0] for c in "lW，"}
    assert widths["l"] < widths["W"] < widths["，"] == 1000
    data = base64.b64encode(downloaded.read_bytes()).decode()
    shown = page.evaluate("""async ([data, text]) => {
        const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
        const face = new FontFace("downloaded-sentence", bytes);
        await face.load();
        document.fonts.add(face);
        const box = document.querySelector("#preview");
        box.style.fontFamily = '"downloaded-sentence", "zi2zi-nothing"';
        box.textContent = text;
        const width = (s) => { const span = document.createElement("span"); span.textContent = s;
          box.appendChild(span); const w = span.getBoundingClientRect().width; span.remove(); return w; };
        return { loaded: face.status, ok: document.fonts.check('48px "downloaded-sentence"', text),
                 l: width("l"), W: width("W"), han: width(text[0]) };
    }""", [data, SENTENCE])
    assert shown["loaded"] == "loaded" and shown["ok"]
    assert shown["l"] < shown["W"] < shown["han"]  # proportional Latin beside full-width hanzi
    expect(page.locator("#preview")).to_have_text(SENTENCE)
    page.locator("#preview").screenshot(path=str(shots / "sentence.png"))
    page.close()

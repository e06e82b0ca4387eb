"""Property-based fuzzing (Hypothesis) of the readers of files others may send: dataset and glyph
manifests, checkpoint metadata, template.json and configs.

Each input is a valid file of zi2zi's with one to three values replaced by any JSON value (or
deleted), or bytes that are not JSON at all. The property: the reader either returns a result
that the next step can use, or raises a zi2zi error of one line; never another exception. The
examples are derandomised (the same every run) and few, so the file runs in seconds; set
ZI2ZI_FUZZ_EXAMPLES to search longer."""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from zi2zi.errors import Zi2ziError

# ZI2ZI_FUZZ_EXAMPLES=5000 searches longer, with new random examples each run.
DEEPER = os.environ.get("ZI2ZI_FUZZ_EXAMPLES")
FUZZ = settings(max_examples=int(DEEPER or 100), deadline=None, derandomize=not DEEPER, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in a document where a value sits (keys of mappings, indexes of short lists)."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node[:6]):
            found += _paths(value, (*prefix, i))
    return found


@st.composite
def mutated(draw, doc: dict[str, Any]) -> str:
    """The JSON text of ``doc`` with 1-3 values replaced or deleted, or (rarely) not JSON at all."""
    if draw(st.integers(0, 9)) == 0:
        return draw(st.text(max_size=40) | st.sampled_from(["", "[" * 5000, '{"format": ', "\x00\xff"]))
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(doc)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        if isinstance(parent, dict) and draw(st.booleans()) and draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = draw(json_values)
    return json.dumps(doc, ensure_ascii=False)


def one_line(exc: Zi2ziError) -> None:
    text = str(exc)
    assert text and "\n" not in text and "Traceback" not in text, text


@pytest.fixture(scope="module")
def dataset(make_tiny_dataset, tmp_path_factory) -> Path:
    return Path(shutil.copytree(make_tiny_dataset(), tmp_path_factory.mktemp("fuzz") / "data"))


def test_dataset_manifests(dataset, tmp_path_factory):
    from zi2zi.data import read_manifest, write_preview

    good = json.loads((dataset / "manifest.json").read_text(encoding="utf-8"))
    out = tmp_path_factory.mktemp("preview") / "p.png"

    @FUZZ
    @given(mutated(good))
    def check(text):
        (dataset / "manifest.json").write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            read_manifest(dataset)
            write_preview(dataset, out, overwrite=True)  # a manifest that passed is one the next step can use
        except Zi2ziError as exc:
            one_line(exc)

    try:
        check()
    finally:
        (dataset / "manifest.json").write_text(json.dumps(good), encoding="utf-8")


def test_glyph_manifests(checkpoint, tiny_fonts, tmp_path_factory):
    from zi2zi.cli import main
    from zi2zi.data.glyphfolder import check_finished, read_glyph_folder

    glyphs = tmp_path_factory.mktemp("fuzz") / "glyphs"
    assert main(["generate", "--checkpoint", str(checkpoint), "--style", "0", "--source-font",
                 str(tiny_fonts["source"]), "--chars", "的一是", "--out", str(glyphs), "--device", "cpu"]) == 0
    good = json.loads((glyphs / "manifest.json").read_text(encoding="utf-8"))

    @FUZZ
    @given(mutated(good))
    def check(text):
        (glyphs / "manifest.json").write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            folder = read_glyph_folder(glyphs)
            check_finished(folder, allow_incomplete=True)
            folder.embox.to_units(0.0, 0.0, folder.advance)  # the box places pixels in font units
        except Zi2ziError as exc:
            one_line(exc)

    check()


def test_checkpoint_metadata(checkpoint, tmp_path_factory):
    from safetensors import safe_open
    from safetensors.torch import save_file

    from zi2zi.generation import GlyphGenerator

    with safe_open(str(checkpoint), framework="pt") as fh:
        meta = fh.metadata()
        tensors = {k: fh.get_tensor(k) for k in fh.keys()}
    good = json.loads(meta["zi2zi"])
    path = tmp_path_factory.mktemp("fuzz") / "crafted.safetensors"

    @FUZZ
    @given(mutated(good))
    def check(text):
        save_file(tensors, str(path), metadata={**meta, "zi2zi": text})
        try:
            model = GlyphGenerator(path, device="cpu")
            for style in model.styles:
                model.style_embox(style)
                model.style_font_record(style)
        except Zi2ziError as exc:
            one_line(exc)

    check()


def test_template_json(tmp_path_factory):
    from zi2zi.cli import main
    from zi2zi.handwriting import load_template

    folder = tmp_path_factory.mktemp("fuzz") / "template"
    assert main(["template", "--charset", "text:的一是了", "--out", str(folder)]) == 0
    path = folder / "template.json"
    good = json.loads(path.read_text(encoding="utf-8"))

    @FUZZ
    @given(mutated(good))
    def check(text):
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            template = load_template(path)
            assert template.chars and template.fingerprint_marker >= 800
            for page in template.pages:
                for cell in page.cells:
                    cell.box.px(template.settings.dpi)
        except Zi2ziError as exc:
            one_line(exc)

    check()


config_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def test_configs(tmp_path_factory):
    import yaml

    from zi2zi.config import load_config, preset

    good = preset("cpu-small").to_dict()
    path = tmp_path_factory.mktemp("fuzz") / "config.yaml"

    @FUZZ
    @given(mutated(good), st.sampled_from(["model.image_size", "train.lr", "train.train_styles", "loss.gan_mode",
                                           "model.generator.ngf", "train"]), config_values)
    def check(text, key, value):
        try:
            doc = json.loads(text)
            path.write_text(yaml.safe_dump(doc) if isinstance(doc, dict) else text, encoding="utf-8",
                            errors="surrogatepass")
        except (ValueError, RecursionError):  # not JSON: written as it is
            path.write_text(text, encoding="utf-8", errors="surrogatepass")
        for call in (lambda: load_config("cpu-small", path),
                     lambda: load_config("cpu-small", overrides=[f"{key}={json.dumps(value)}"])):
            try:
                cfg = call()
                cfg.validate()
            except Zi2ziError as exc:
                one_line(exc)

    check()

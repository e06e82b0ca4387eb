"""Crafted files, read by the real commands: deeply nested JSON, decompression bombs, checkpoints
that describe huge models or tensors of other shapes, templates with too many cells or no
markers, manifests with values of the wrong type or range, and pipes where files should be.
Each is one line, fast, with nothing allocated or left behind."""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from clihelpers import fails_with_one_line
from trainhelpers import tiny_overrides

DEEP = "[" * 100_000 + "]" * 100_000


def bomb_png(path: Path, width: int, height: int) -> Path:
    """A real, valid PNG of ``width`` x ``height`` white 1-bit pixels: small on disk, huge decoded."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    row = b"\x00" + b"\xff" * ((width + 7) // 8)  # filter byte, then the row
    packer = zlib.compressobj(9)
    rows = [packer.compress(row * min(1000, height - i)) for i in range(0, height, 1000)]
    idat = b"".join(rows) + packer.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b""))
    return path


def _train_argv(data, out):
    return ["train", "--data", data, "--out", out, "--preset", "cpu-small",
            *sum((["--set", o] for o in tiny_overrides()), [])]


def _copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def _edit_json(path: Path, change) -> None:
    doc = json.loads(path.read_text(encoding="utf-8"))
    change(doc)
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def _crafted_checkpoint(checkpoint: Path, out: Path, *, doc_text=None, change=None, tensors=None) -> Path:
    from safetensors import safe_open
    from safetensors.torch import save_file

    with safe_open(str(checkpoint), framework="pt") as fh:
        meta = fh.metadata()
        stored = {k: fh.get_tensor(k) for k in fh.keys()}
    if change is not None:
        doc = json.loads(meta["zi2zi"])
        change(doc)
        doc_text = json.dumps(doc)
    save_file(tensors(stored) if tensors else stored, str(out), metadata={**meta, "zi2zi": doc_text or meta["zi2zi"]})
    return out


# ---- deeply nested JSON -------------------------------------------------------------------------


def test_deeply_nested_json_in_every_document_is_one_line(capsys, checkpoint, tiny_fonts, make_tiny_dataset, tmp_path):
    bad = _crafted_checkpoint(checkpoint, tmp_path / "deep.safetensors", doc_text=DEEP)
    fails_with_one_line(capsys, ["generate", "--checkpoint", bad, "--style", "0", "--source-font",
                                 tiny_fonts["source"], "--chars", "的", "--out", tmp_path / "g", "--device", "cpu"],
                        "deep.safetensors", "nests deeper")
    data = _copy(make_tiny_dataset(), tmp_path / "data")
    (data / "manifest.json").write_text(DEEP)
    fails_with_one_line(capsys, _train_argv(data, tmp_path / "run"), "manifest.json", "nests deeper")
    fails_with_one_line(capsys, ["preview", data, "--out", tmp_path / "p.png"], "manifest.json", "nests deeper")
    glyphs = tmp_path / "glyphs"
    glyphs.mkdir()
    shutil.copy(next((make_tiny_dataset() / "source").glob("*.png")), glyphs / "U+7684.png")
    (glyphs / "manifest.json").write_text('{"embox": ' + DEEP + "}")
    fails_with_one_line(capsys, ["export", "--glyphs", glyphs, "--out", tmp_path / "x.ttf", "--family", "X"],
                        "manifest.json", "nests deeper")
    template = tmp_path / "template.json"
    template.write_text('{"format": "zi2zi-template", "pages": ' + DEEP + "}")
    photo = bomb_png(tmp_path / "photo.png", 64, 64)
    fails_with_one_line(capsys, ["scan", photo, "--template", template, "--out", tmp_path / "s"],
                        "template.json", "nests deeper")


# ---- images ---------------------------------------------------------------------------------------


def test_decompression_bombs_are_refused_from_their_header(capsys, make_tiny_dataset, checkpoint, tmp_path):
    data = _copy(make_tiny_dataset(), tmp_path / "data")
    victim = next((data / "styles" / "0").glob("*.png"))
    bomb_png(victim, 20_000, 20_000)  # 400 megapixels in 50 KB
    assert victim.stat().st_size < 200_000
    fails_with_one_line(capsys, _train_argv(data, tmp_path / "run"), victim.name, "pixels")
    fails_with_one_line(capsys, ["preview", data, "--out", tmp_path / "p.png", "--per-style", "48"], "pixels")
    fails_with_one_line(capsys, ["evaluate", "--checkpoint", checkpoint, "--data", data, "--split", "all",
                                 "--device", "cpu", "--no-classifier"], victim.name, "pixels")
    glyphs = tmp_path / "glyphs"
    glyphs.mkdir()
    bomb_png(glyphs / "U+7684.png", 5_000, 5_000)  # under Pillow's own limit, over a glyph's
    fails_with_one_line(capsys, ["export", "--glyphs", glyphs, "--out", tmp_path / "x.ttf", "--family", "X",
                                 "--em-box", "1000,880,-120"], "U+7684.png", "5000 x 5000 pixels")


def test_a_bomb_photo_never_reaches_opencv(capsys, tmp_path):
    from zi2zi.cli import main

    assert main(["template", "--charset", "text:的一是", "--out", str(tmp_path / "t")]) == 0
    photo = bomb_png(tmp_path / "photo.png", 20_000, 20_000)
    fails_with_one_line(capsys, ["scan", photo, "--template", tmp_path / "t" / "template.json", "--out",
                                 tmp_path / "g"], "photo.png", "pixels")
    assert not (tmp_path / "g").exists()


# ---- checkpoints ------------------------------------------------------------------------------------


def test_a_checkpoint_describing_a_huge_model_is_refused_before_any_allocation(capsys, checkpoint, tiny_fonts,
                                                                                 tmp_path):
    def huge(doc):
        doc["config"]["model"]["generator"]["ngf"] = 100_000

    bad = _crafted_checkpoint(checkpoint, tmp_path / "huge.safetensors", change=huge)
    fails_with_one_line(capsys, ["generate", "--checkpoint", bad, "--style", "0", "--source-font",
                                 tiny_fonts["source"], "--chars", "的", "--out", tmp_path / "g", "--device", "cpu"],
                        "huge.safetensors", "ngf=100000", "larger than zi2zi builds")

    def wider(doc):  # within the limits, but not the model the tensors belong to
        doc["config"]["model"]["generator"]["ngf"] = 16

    other = _crafted_checkpoint(checkpoint, tmp_path / "other.safetensors", change=wider)
    fails_with_one_line(capsys, ["generate", "--checkpoint", other, "--style", "0", "--source-font",
                                 tiny_fonts["source"], "--chars", "的", "--out", tmp_path / "g", "--device", "cpu"],
                        "other.safetensors", "tensor", "the model its config describes")
    assert not (tmp_path / "g").exists()


def test_the_web_upload_check_refuses_a_huge_model(checkpoint, tmp_path):
    pytest.importorskip("fastapi")
    from zi2zi.ui import uploads
    from zi2zi.ui.errors import UiError

    def huge(doc):
        doc["config"]["model"]["generator"]["ngf"] = 100_000

    bad = _crafted_checkpoint(checkpoint, tmp_path / "huge.safetensors", change=huge)
    with pytest.raises(UiError, match="ngf=100000") as refused:
        uploads.checkpoint_ok(bad.read_bytes())
    assert refused.value.status == 415
    uploads.checkpoint_ok(Path(checkpoint).read_bytes())  # a real one passes


def test_metadata_fields_of_the_wrong_type_are_one_line(capsys, checkpoint, tiny_fonts, tmp_path):
    for field, value in (("data_info", [1, 2]), ("step", -5), ("render", "em"), ("styles", {"0": "x"})):
        bad = _crafted_checkpoint(checkpoint, tmp_path / f"{field}.safetensors",
                                  change=lambda doc, f=field, v=value: doc.__setitem__(f, v))
        fails_with_one_line(capsys, ["generate", "--checkpoint", bad, "--style", "0", "--source-font",
                                     tiny_fonts["source"], "--chars", "的", "--out", tmp_path / "g", "--device", "cpu"],
                            f"{field}.safetensors")


# ---- templates and manifests ------------------------------------------------------------------------


def test_templates_with_too_many_cells_or_no_markers_are_one_line(capsys, tmp_path):
    from zi2zi.cli import main

    assert main(["template", "--charset", "text:的一是", "--out", str(tmp_path / "t")]) == 0
    template = tmp_path / "t" / "template.json"
    good = json.loads(template.read_text(encoding="utf-8"))
    photo = bomb_png(tmp_path / "photo.png", 64, 64)

    def scan_fails(*needles):
        fails_with_one_line(capsys, ["scan", photo, "--template", template, "--out", tmp_path / "g"], *needles)

    cell = good["pages"][0]["cells"][0]
    _edit_json(template, lambda d: d["pages"][0].__setitem__("cells", [cell] * 200_000))
    scan_fails("template.json", "larger than 32 MB")  # the 200k cells: refused unread
    _edit_json(template, lambda d: d["pages"][0].__setitem__("cells", [cell] * 5_000))
    scan_fails("template.json", "5000 cells on page 1, more than")
    template.write_text(json.dumps(good))
    _edit_json(template, lambda d: d["pages"][0].__setitem__("markers", []))
    scan_fails("template.json", "lacks its markers")
    template.write_text(json.dumps(good))
    _edit_json(template, lambda d: d["settings"].__setitem__("dpi", 10**9))
    scan_fails("template.json", "dpi")
    template.write_text(json.dumps(good))
    _edit_json(template, lambda d: d.__delitem__("pages"))
    scan_fails("template.json", "no 'pages'")
    assert not (tmp_path / "g").exists()


@pytest.mark.parametrize(("change", "needle"), [
    (lambda m: m["split"].__setitem__("train", 5), "'split'"),
    (lambda m: m["styles"][0].__setitem__("id", "zero"), "style entry"),
    (lambda m: m["styles"].append(dict(m["styles"][0])), "appears twice"),
    (lambda m: m["render"].__setitem__("size", 10**9), "render settings"),
    (lambda m: m.__setitem__("styles", []), "'styles'"),
])
def test_dataset_manifest_values_are_type_and_range_checked(capsys, make_tiny_dataset, tmp_path, change, needle):
    data = _copy(make_tiny_dataset(), tmp_path / "data")
    _edit_json(data / "manifest.json", change)
    fails_with_one_line(capsys, _train_argv(data, tmp_path / "run"), "manifest.json", needle)
    fails_with_one_line(capsys, ["preview", data, "--out", tmp_path / "p.png"], "manifest.json", needle)


def test_a_glyph_manifest_with_an_absurd_em_box_is_one_line(capsys, checkpoint, tiny_fonts, tmp_path):
    from zi2zi.cli import main

    glyphs = tmp_path / "glyphs"
    assert main(["generate", "--checkpoint", str(checkpoint), "--style", "0", "--source-font",
                 str(tiny_fonts["source"]), "--chars", "的一", "--out", str(glyphs), "--device", "cpu"]) == 0
    for key, value in (("units_per_em", 10**9), ("ascender", 1e9), ("descender", "low")):
        _edit_json(glyphs / "manifest.json", lambda m, k=key, v=value: m["embox"].__setitem__(k, v))
        fails_with_one_line(capsys, ["export", "--glyphs", glyphs, "--out", tmp_path / "x.ttf", "--family", "X"],
                            "manifest.json", "em box", key)
        _edit_json(glyphs / "manifest.json", lambda m: m["embox"].update(units_per_em=1000, ascender=880,
                                                                           descender=-120))
    assert not (tmp_path / "x.ttf").exists()


# ---- pipes and other non-files --------------------------------------------------------------------------


def test_a_pipe_is_never_read_as_a_font_manifest_or_image(capsys, make_tiny_dataset, tiny_fonts, tmp_path):
    fifo = tmp_path / "font.ttf"
    os.mkfifo(fifo)
    fails_with_one_line(capsys, ["fontinfo", fifo], "font.ttf", "not a regular file")
    fails_with_one_line(capsys, ["render", "--source", fifo, "--target", tiny_fonts["light"], "--charset", "text:的",
                                 "--out", tmp_path / "d"], "not a regular file")
    data = _copy(make_tiny_dataset(), tmp_path / "data")
    (data / "manifest.json").unlink()
    os.mkfifo(data / "manifest.json")
    fails_with_one_line(capsys, ["preview", data, "--out", tmp_path / "p.png"], "manifest.json", "not a regular file")
    data2 = _copy(make_tiny_dataset(), tmp_path / "data2")
    victim = next((data2 / "source").glob("*.png"))
    victim.unlink()
    os.mkfifo(victim)
    fails_with_one_line(capsys, _train_argv(data2, tmp_path / "run"), victim.name, "not a regular file")
    photo_fifo = tmp_path / "photo.jpg"
    os.mkfifo(photo_fifo)
    from zi2zi.cli import main

    assert main(["template", "--charset", "text:的一是", "--out", str(tmp_path / "t")]) == 0
    fails_with_one_line(capsys, ["scan", photo_fifo, "--template", tmp_path / "t", "--out", tmp_path / "g"],
                        "photo.jpg", "not a regular file")


def test_a_dataset_image_that_links_outside_the_dataset_is_refused(capsys, make_tiny_dataset, tmp_path):
    data = _copy(make_tiny_dataset(), tmp_path / "data")
    secret = tmp_path / "secret.png"
    victim = next((data / "styles" / "0").glob("*.png"))
    shutil.copy(victim, secret)  # what the sender hopes zi2zi will read (and show in a preview)
    victim.unlink()
    victim.symlink_to(secret)
    fails_with_one_line(capsys, _train_argv(data, tmp_path / "run"), victim.name, "outside the dataset")
    fails_with_one_line(capsys, ["preview", data, "--out", tmp_path / "p.png", "--per-style", "48"],
                        "outside the dataset")
    assert not (tmp_path / "p.png").exists()

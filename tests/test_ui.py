"""The web app without a browser: upload checks, path safety, the host check, one-line errors, and
jobs that outlive the app (a training whose worker dies resumes from its checkpoint)."""

from __future__ import annotations

import io
import json
import os
import signal
import time

import pytest

pytest.importorskip("fastapi", reason="the web app needs the ui extra (make setup)")

from zi2zi.errors import Zi2ziError  # noqa: E402
from zi2zi.ui import uploads  # noqa: E402
from zi2zi.ui.errors import UiError  # noqa: E402
from zi2zi.ui.projects import Projects, check_file_name, slug  # noqa: E402
from zi2zi.ui.serve import check_host  # noqa: E402

from conftest import TINY_CHARS  # noqa: E402
from uihelpers import call, multipart, running_app  # noqa: E402


def png_bytes() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (8, 8), 255).save(buffer, format="PNG")
    return buffer.getvalue()


def test_fonts_and_images_are_checked_by_content(tiny_fonts, tmp_path):
    data = tiny_fonts["bold"].read_bytes()
    assert uploads.font_suffix(data) == ".ttf"
    for bad, why in [(b"<html></html>", "not a font"), (data[:200], "damaged"), (png_bytes(), "not a font")]:
        with pytest.raises(UiError, match=why):
            uploads.font_suffix(bad)
    assert uploads.image_suffix(png_bytes()) == ".png"
    assert uploads.image_suffix(b"%PDF-1.7\n...", allow_pdf=True) == ".pdf"
    with pytest.raises(UiError, match="not a PNG or a JPEG"):
        uploads.image_suffix(b"%PDF-1.7\n...")
    with pytest.raises(UiError, match="damaged"):
        uploads.image_suffix(png_bytes()[:30])
    with pytest.raises(UiError, match="larger than 1 MB") as err:
        uploads.read_capped(io.BytesIO(b"x" * ((1 << 20) + 1)), 1 << 20, "font")
    assert err.value.status == 413
    # A WOFF2 upload is kept as the plain font it wraps, under the app's own name.
    from fontTools.ttLib import TTFont

    font = TTFont(tiny_fonts["bold"])
    font.flavor = "woff2"
    buffer = io.BytesIO()
    font.save(buffer)
    stored = uploads.store_font(buffer.getvalue(), tmp_path, "target")
    assert stored == tmp_path / "target.ttf" and TTFont(stored).flavor is None


def test_names_from_the_browser_never_become_paths(tmp_path):
    projects = Projects(tmp_path / "p")
    project = projects.create("我的 Kai / ../../etc")
    assert project.root.parent == projects.root and project.id == "kai-etc"
    assert slug("字体") == "project" and projects.create("字体").id == "project"
    assert projects.create("字体").id == "project-2"
    for bad in ("../p", "a/b", "", ".hidden", "x\x00y"):
        with pytest.raises(UiError):
            projects.get(bad)
    for bad in ("../x.ttf", "a/b.png", ".x", "..", "x\\y"):
        with pytest.raises(UiError):
            check_file_name(bad)
    with pytest.raises(UiError):
        project.path("../outside")


def test_binding_beyond_this_machine_needs_a_flag(capsys, tmp_path):
    from zi2zi.cli import main

    assert main(["ui", "--host", "0.0.0.0", "--projects", str(tmp_path / "p")]) == 1
    assert "--allow-remote" in capsys.readouterr().err and not (tmp_path / "p").exists()
    check_host("127.0.0.1", False)
    with pytest.raises(Zi2ziError, match="--allow-remote"):
        check_host("0.0.0.0", False)
    check_host("0.0.0.0", True)
    assert "warning" in capsys.readouterr().err


def test_the_api_answers_errors_in_one_line_and_serves_only_project_files(tmp_path, tiny_fonts, monkeypatch):
    with running_app(tmp_path / "projects") as url:
        status, project = call(f"{url}/api/projects", "POST", {"name": "Safe"})
        assert status == 200
        api = f"{url}/api/projects/{project['id']}"
        (tmp_path / "secret.ttf").write_bytes(tiny_fonts["bold"].read_bytes())
        for path in ("/file/fonts/..%2F..%2Fsecret.ttf", "/file/inputs/target.ttf", "/file/..%2F..%2F/secret.ttf"):
            assert call(api + path)[0] == 404, path
        assert call(f"{url}/api/projects/..%2F..%2Ftmp")[0] == 404
        status, answer = call(f"{api}/finetune", "POST", data=b"{not json", content_type="application/json")
        assert status == 400 and answer == {"error": "the request is not valid JSON"}
        status, answer = call(f"{api}/export", "POST", {"format": "exe"})
        assert status == 400 and answer["error"] == "choose one of ttf, otf, woff2"
        monkeypatch.setattr(uploads, "MAX_FONT_BYTES", 1000)
        body, kind = multipart("file", "../../evil.ttf", tiny_fonts["bold"].read_bytes())
        status, answer = call(f"{api}/target", "POST", data=body, content_type=kind)
        assert status == 413 and "larger than" in answer["error"]
        monkeypatch.setattr(uploads, "MAX_FONT_BYTES", 64 << 20)
        status, answer = call(f"{api}/target", "POST", data=body, content_type=kind)
        assert status == 200 and answer["file"] == "target.ttf"  # the browser's name is never used
        assert sorted(p.name for p in (tmp_path / "projects" / "safe" / "inputs").iterdir()) == ["target.ttf"]
        status, answer = call(f"{api}/specimen", "POST", {"text": "的"})
        assert status == 400 and answer["error"].startswith("train first")
        for status, answer in (call(f"{api}/base", "POST", {"base": "extra:7"}), call(f"{api}/glyphs/exclude", "POST", {})):
            assert status == 400 and "Traceback" not in answer["error"] and "\n" not in answer["error"]


def test_a_full_disk_is_named_and_leaves_no_half_made_project(tmp_path, monkeypatch):
    import errno

    from zi2zi.ui.projects import Project

    projects = tmp_path / "projects"

    def disk_full(self, **fields):  # what os.write raises on a full disk, as the record is written
        raise OSError(errno.ENOSPC, "No space left on device", str(self.root / "project.json"))

    with running_app(projects) as url:
        monkeypatch.setattr(Project, "update", disk_full)
        status, answer = call(f"{url}/api/projects", "POST", {"name": "Full"})
        assert status == 507 and "No space left on device" in answer["error"] and "\n" not in answer["error"]
        assert list(projects.iterdir()) == []
        monkeypatch.undo()
        assert call(f"{url}/api/projects", "POST", {"name": "Full"})[1]["id"] == "full"


def _wait(api: str, ok, timeout: float = 120.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        state = call(f"{api}/progress")[1]
        if ok(state):
            return state
        assert time.monotonic() < deadline, state
        time.sleep(0.2)


def test_a_training_outlives_its_app_and_resumes_from_its_checkpoint(tmp_path, tiny_fonts, tiny_base):
    projects = tmp_path / "projects"
    with running_app(projects, bases=[tiny_base]) as url:
        _, project = call(f"{url}/api/projects", "POST", {"name": "Long"})
        api = f"{url}/api/projects/{project['id']}"
        body, kind = multipart("file", "light.ttf", tiny_fonts["light"].read_bytes())
        assert call(f"{api}/target", "POST", data=body, content_type=kind)[0] == 200
        assert call(f"{api}/base", "POST", {"base": "extra:0"})[0] == 200
        status, job = call(f"{api}/finetune", "POST", {"count": 30, "holdout": 4, "steps": 100000})
        assert status == 200 and job["state"] == "queued"
        status, answer = call(f"{api}/finetune", "POST", {"count": 30})
        assert status == 409 and "busy" in answer["error"]
    # The app is gone; its job is not. A new app finds it running, its steps advancing.
    with running_app(projects, bases=[tiny_base]) as url:
        api = f"{url}/api/projects/long"
        _wait(api, lambda s: s["job"]["state"] == "running" and s["progress"].get("step", 0) >= 5)
        assert call(f"{api}/stop", "POST", {})[0] == 200  # Stop: a checkpoint at the current step
        state = _wait(api, lambda s: s["job"]["state"] not in ("queued", "running"))
        assert state["job"]["state"] == "stopped"
        stopped = state["progress"]["step"]
        assert call(f"{api}/finetune", "POST", {"resume": True})[0] == 200
        _wait(api, lambda s: s["job"]["state"] == "running" and s["progress"]["step"] > stopped)
        # The worker dies without a word (a machine restart): the page reads it as stopped.
        pid = json.loads((projects / "long" / "job" / "job.json").read_text(encoding="utf-8"))["pid"]
        os.killpg(pid, signal.SIGKILL)
        state = _wait(api, lambda s: s["job"]["state"] != "running")
        assert state["job"]["state"] == "stopped" and "start it again" in state["job"]["message"]
    log = (projects / "long" / "job" / "log.txt").read_text(encoding="utf-8")
    assert f"resumed from step-{stopped:08d}.safetensors (step {stopped}" in log


def test_an_installed_font_is_copied_into_the_project(tmp_path, tiny_fonts, monkeypatch):
    monkeypatch.setenv("ZI2ZI_FONT_DIRS", str(tiny_fonts["light"].parent))
    with running_app(tmp_path / "projects") as url:
        _, project = call(f"{url}/api/projects", "POST", {"name": "Installed"})
        status, fonts = call(f"{url}/api/installed-fonts")
        assert status == 200
        # Listed by family and style names, sorted, with the file beside them.
        [light] = [f for f in fonts if f["file"] == "light.ttf"]
        assert (light["family"], light["style"], light["name"]) == ("Tiny Light", "Regular", "Tiny Light Regular")
        keys = [(f["family"].casefold(), f["style"].casefold()) for f in fonts]
        assert keys == sorted(keys) and {"Tiny Bold", "Tiny Light", "Tiny Source"} <= {f["family"] for f in fonts}
        status, target = call(f"{url}/api/projects/{project['id']}/installed-font", "POST", {"id": light["id"]})
        assert status == 200 and target["family"] == "Tiny Light" and target["file"] == "target.ttf"
        coverage = {c["charset"]: c["have"] for c in target["coverage"]}
        assert coverage["gb2312"] == len(TINY_CHARS)
    stored = tmp_path / "projects" / "installed" / "inputs" / "target.ttf"
    assert stored.read_bytes() == tiny_fonts["light"].read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["projects"]


def test_a_checkpoint_upload_becomes_the_base_only_when_it_is_one(tmp_path, tiny_base):
    with running_app(tmp_path / "projects") as url:
        _, project = call(f"{url}/api/projects", "POST", {"name": "Own base"})
        api = f"{url}/api/projects/{project['id']}"
        _, info = call(f"{url}/api/info")
        if not info["shipped"]:
            assert info["shipped_note"].startswith("No shipped base model is installed")
        body, kind = multipart("file", "x.safetensors", b"\x08\x00\x00\x00\x00\x00\x00\x00{}      ")
        status, answer = call(f"{api}/base-upload", "POST", data=body, content_type=kind)
        assert status == 415 and "zi2zi" in answer["error"]
        body, kind = multipart("file", "x.safetensors", tiny_base.read_bytes())
        assert call(f"{api}/base-upload", "POST", data=body, content_type=kind)[0] == 200
        assert call(api)[1]["base"] == "upload"
    stored = tmp_path / "projects" / "own-base" / "inputs" / "base.safetensors"
    assert stored.read_bytes() == tiny_base.read_bytes()


def test_exported_fonts_of_different_families_and_styles_get_their_own_files():
    from zi2zi.ui.routes.export import font_file_name

    names = {font_file_name(f, s, "ttf") for f, s in [("我的楷书", "Regular"), ("手写体", "Regular"),
                                                     ("My Kai", "Regular"), ("My Kai", "Bold")]}
    assert len(names) == 4 and "my-kai.ttf" in names and "my-kai-bold.ttf" in names


def _busy(project_root):
    (project_root / "job").mkdir(exist_ok=True)
    (project_root / "job" / "job.json").write_text(json.dumps({"kind": "finetune", "state": "queued",
                                                                "queued": time.time(), "pid": None}))


def test_the_app_replaces_nothing_unasked_and_reads_no_file_a_request_names(tmp_path, tiny_fonts, tiny_base):
    from fontTools.ttLib import TTFont

    projects = tmp_path / "projects"
    with running_app(projects, bases=[tiny_base]) as url:
        _, project = call(f"{url}/api/projects", "POST", {"name": "Careful"})
        api, root = f"{url}/api/projects/{project['id']}", projects / project["id"]
        assert call(f"{api}/base", "POST", {"base": "extra:0"})[0] == 200
        body, kind = multipart("file", "light.ttf", tiny_fonts["light"].read_bytes())
        assert call(f"{api}/target", "POST", data=body, content_type=kind)[0] == 200
        kept = (root / "inputs" / "target.ttf").read_bytes()
        # A font whose cmap reads but which lacks a table the renderer needs: refused, the old one kept.
        broken = TTFont(tiny_fonts["bold"])
        del broken["hmtx"]
        buffer = io.BytesIO()
        broken.save(buffer)
        body, kind = multipart("file", "bold.ttf", buffer.getvalue())
        status, answer = call(f"{api}/target", "POST", data=body, content_type=kind)
        assert status == 415 and "hmtx" in answer["error"]
        assert sorted(p.name for p in (root / "inputs").iterdir()) == ["target.ttf"]
        assert (root / "inputs" / "target.ttf").read_bytes() == kept
        # While a job runs, the font it reads is not replaced under it.
        _busy(root)
        body, kind = multipart("file", "bold.ttf", tiny_fonts["bold"].read_bytes())
        status, answer = call(f"{api}/target", "POST", data=body, content_type=kind)
        assert status == 409 and "busy" in answer["error"]
        assert (root / "inputs" / "target.ttf").read_bytes() == kept
        (root / "job" / "job.json").unlink()
        # An export that would replace a font exported before asks first.
        (root / "glyphs").mkdir(exist_ok=True)
        (root / "glyphs" / "U+6C38.png").write_bytes(png_bytes())
        (root / "fonts").mkdir(exist_ok=True)
        (root / "fonts" / "my-kai.ttf").write_bytes(b"the font made yesterday")
        status, answer = call(f"{api}/export", "POST", {"family": "My Kai", "format": "ttf"})
        assert status == 409 and "Replace my-kai.ttf?" in answer["confirm"]
        assert (root / "fonts" / "my-kai.ttf").read_bytes() == b"the font made yesterday"
        # Charsets are the page's names, never a path of this machine.
        (tmp_path / "notes.txt").write_text("永字八法", encoding="utf-8")
        for route, fields in (("template", {"charset": str(tmp_path / "notes.txt")}),
                              ("finetune", {"charset": str(tmp_path / "notes.txt"), "count": 4})):
            status, answer = call(f"{api}/{route}", "POST", fields)
            assert status == 400 and "unknown charset" in answer["error"], (route, answer)
        # Numbers and text no file or record can hold are refused in one line, nothing created.
        status, answer = call(f"{api}/finetune", "POST", data=b'{"count": 1e400}', content_type="application/json")
        assert status == 400 and "whole number" in answer["error"]
        status, answer = call(f"{url}/api/projects", "POST", data=b'{"name": "\\ud800"}',
                              content_type="application/json")
        assert status == 400 and "not valid Unicode" in answer["error"]
        assert sorted(p.name for p in projects.iterdir()) == [project["id"]]
        # Starlette's own answers (no such route) carry the message the page shows.
        status, answer = call(f"{url}/api/no-such-thing")
        assert status == 404 and answer == {"error": "Not Found"}

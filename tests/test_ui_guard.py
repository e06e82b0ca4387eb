"""The web app against other web sites and other programs: Host, Origin, content type and token
checks on a real server, the confirmation of destructive actions, and `zi2zi ui` itself (its
address with the token, --no-token, a busy or impossible port)."""

from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

pytest.importorskip("fastapi", reason="the web app needs the ui extra (make setup)")

from clihelpers import fails_with_one_line  # noqa: E402
from uihelpers import call, free_port, multipart, page_url, running_app, token_of  # noqa: E402

EVIL = "http://evil.example"


def _project_with_a_trained_run(url, projects, tiny_fonts):
    _, project = call(f"{url}/api/projects", "POST", {"name": "Mine"})
    api = f"{url}/api/projects/{project['id']}"
    body, kind = multipart("file", "bold.ttf", tiny_fonts["bold"].read_bytes())
    assert call(f"{api}/target", "POST", data=body, content_type=kind)[0] == 200
    root = projects / project["id"]
    # What a finished training and a generation leave, as far as the routes look.
    (root / "run" / "checkpoints").mkdir(parents=True)
    (root / "run" / "checkpoints" / "step-00000001.safetensors").write_bytes(b"trained weights")
    (root / "glyphs").mkdir(exist_ok=True)
    (root / "glyphs" / "U+7684.png").write_bytes(b"a generated glyph")
    (root / "fonts").mkdir(exist_ok=True)
    (root / "fonts" / "mine.ttf").write_bytes(b"an exported font")
    return api, root


def test_requests_from_other_sites_and_rebound_hosts_are_refused(tmp_path, tiny_fonts, tiny_base):
    projects = tmp_path / "projects"
    with running_app(projects, bases=[tiny_base]) as url:
        api, root = _project_with_a_trained_run(url, projects, tiny_fonts)
        assert call(f"{api}/base", "POST", {"base": "extra:0"})[0] == 200
        finetune = json.dumps({"chars": "的", "holdout": 0, "steps": 1}).encode()
        attacks = [
            # The probe: a page on another site posting text/plain (no CORS preflight).
            (f"{api}/finetune", "POST", finetune, {"Origin": EVIL, "Content-Type": "text/plain"}),
            (f"{api}/finetune", "POST", finetune, {"Origin": EVIL, "Content-Type": "application/json"}),
            (f"{api}/finetune", "POST", finetune, {"Content-Type": "text/plain"}),
            (f"{api}/finetune", "POST", finetune, {"Origin": "null", "Content-Type": "application/json"}),
            (f"{url}/api/projects", "POST", b'{"name": "x"}', {"Origin": EVIL, "Content-Type": "text/plain"}),
            (f"{url}/api/projects", "POST", b"name=x", {"Content-Type": "application/x-www-form-urlencoded"}),
            (f"{api}/generate", "POST", json.dumps({"mode": "text", "text": "的", "confirm": True}).encode(),
             {"Origin": "http://127.0.0.1:1", "Content-Type": "application/json"}),
            (f"{api}/export", "POST", b'{"family": "X"}', {"Origin": EVIL, "Content-Type": "application/json"}),
            (f"{api}/glyphs/exclude", "POST", json.dumps({"char": "的"}).encode(), {"Content-Type": "text/plain"}),
            (f"{api}/template", "POST", b"{}", {"Origin": EVIL, "Content-Type": "application/json"}),
            # DNS rebinding: evil.example resolved to 127.0.0.1, the browser sends its own name.
            (f"{url}/api/projects", "GET", None, {"Host": "evil.example"}),
            (api, "GET", None, {"Host": "evil.example"}),
            (f"{api}/file/fonts/mine.ttf", "GET", None, {"Host": f"evil.example:{url.rsplit(':', 1)[1]}"}),
            (f"{url}/api/projects", "GET", None, {"Host": "localhost:1"}),
        ]
        for target, method, data, headers in attacks:
            status, answer = call(target, method, data=data, headers=headers)
            assert status in (403, 415), (target, headers, status, answer)
            assert "\n" not in answer["error"] and "Traceback" not in answer["error"]
        # Nothing happened: no job, no new project, the trained run and the glyphs are there.
        assert not (root / "job").exists() or not (root / "job" / "spec.json").exists()
        assert sorted(p.name for p in projects.iterdir()) == ["mine"]
        assert (root / "run" / "checkpoints" / "step-00000001.safetensors").read_bytes() == b"trained weights"
        assert (root / "glyphs" / "U+7684.png").is_file()
        # The app's own names for itself are fine, and so is a request of its own page (same Origin).
        port = url.rsplit(":", 1)[1]
        for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"LOCALHOST:{port}"):
            assert call(f"{url}/api/projects", headers={"Host": host})[0] == 200
        status, _ = call(f"{url}/api/projects", "POST", {"name": "Second"}, headers={"Origin": url})
        assert status == 200


def test_the_token_is_needed_and_kept_in_a_strict_cookie(tmp_path):
    with running_app(tmp_path / "projects") as url:
        assert call(f"{url}/api/projects", token=False)[0] == 403
        assert call(f"{url}/api/projects", headers={"Authorization": "token wrong"})[0] == 403
        assert call(f"{url}/api/projects?token={token_of(url)}", token=False)[0] == 200  # a script's way
        assert call(f"{url}/api/projects?token=wrong", token=False)[0] == 403
        assert call(f"{url}/api/projects", "POST", {"name": "x"}, token=False)[0] == 403
        assert not (tmp_path / "projects").exists() or not any((tmp_path / "projects").iterdir())
        # The page without the token: a page that says where the right address is, no app.
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"{url}/", timeout=10)
        assert refused.value.code == 403 and b"?token=" in refused.value.read()
        # The static files carry nothing private.
        assert urllib.request.urlopen(f"{url}/static/app.js", timeout=10).status == 200

        # A browser opening the printed address: redirected to the bare page, the token in a cookie.
        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None

        with pytest.raises(urllib.error.HTTPError) as redirect:
            urllib.request.build_opener(NoRedirect).open(page_url(url), timeout=10)
        assert redirect.value.code == 303 and redirect.value.headers["Location"] == "/"
        cookie = redirect.value.headers["Set-Cookie"]
        port = url.rsplit(":", 1)[1]
        assert cookie.startswith(f"zi2zi-token-{port}={token_of(url)};")
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        jar = http.cookiejar.CookieJar()
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        assert b"zi2zi" in browser.open(page_url(url), timeout=10).read()
        assert json.loads(browser.open(f"{url}/api/projects", timeout=10).read()) == []


def test_destructive_actions_ask_first(tmp_path, tiny_fonts, tiny_base):
    projects = tmp_path / "projects"
    with running_app(projects, bases=[tiny_base]) as url:
        api, root = _project_with_a_trained_run(url, projects, tiny_fonts)
        assert call(f"{api}/base", "POST", {"base": "extra:0"})[0] == 200
        status, answer = call(f"{api}/finetune", "POST", {"chars": "的一是了", "holdout": 0, "steps": 2})
        assert status == 409 and "replaces this project's trained model" in answer["confirm"]
        status, answer = call(f"{api}/generate", "POST", {"mode": "text", "text": "的一"})
        assert status == 409 and "replace the ones" in answer["confirm"]
        # Unconfirmed, nothing was touched and no job started.
        assert (root / "run" / "checkpoints" / "step-00000001.safetensors").is_file()
        assert (root / "glyphs" / "U+7684.png").is_file()
        assert not (root / "job" / "spec.json").exists()


def _start_ui(*args: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "zi2zi", "ui", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    line = proc.stdout.readline()
    return proc, line


def _stop(proc: subprocess.Popen) -> str:
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    return err


def _get(url: str, opener=None):
    deadline = time.monotonic() + 20
    while True:
        try:
            return (opener or urllib.request.build_opener()).open(url, timeout=10)
        except urllib.error.URLError as exc:
            if isinstance(exc, urllib.error.HTTPError) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def test_zi2zi_ui_prints_its_address_with_the_token(tmp_path):
    port = free_port()
    proc, line = _start_ui("--port", str(port), "--projects", str(tmp_path / "p"))
    try:
        assert line.startswith(f"zi2zi ui: http://127.0.0.1:{port}/?token="), line
        address = line.split()[2]
        with pytest.raises(urllib.error.HTTPError) as refused:
            _get(f"http://127.0.0.1:{port}/api/projects")
        assert refused.value.code == 403
        browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
        assert _get(address, browser).status == 200
        assert json.loads(_get(f"http://127.0.0.1:{port}/api/projects", browser).read()) == []
        # The same port again: refused in one line before any address is printed.
        second = subprocess.run([sys.executable, "-m", "zi2zi", "ui", "--port", str(port), "--projects",
                                 str(tmp_path / "q")], capture_output=True, text=True, timeout=60)
        assert second.returncode == 1 and second.stdout == ""
        assert second.stderr.strip().count("\n") == 0 and f"port {port}" in second.stderr and "in use" in second.stderr
    finally:
        _stop(proc)


def test_no_token_serves_without_one_after_a_warning(tmp_path):
    port = free_port()
    proc, line = _start_ui("--port", str(port), "--projects", str(tmp_path / "p"), "--no-token")
    try:
        assert line.strip().startswith(f"zi2zi ui: http://127.0.0.1:{port}/ "), line
        assert _get(f"http://127.0.0.1:{port}/api/projects").status == 200
        # Other sites are still refused.
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/projects", data=b'{"name": "x"}',
                                         method="POST", headers={"Origin": EVIL, "Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request, timeout=10)
        assert refused.value.code == 403
    finally:
        err = _stop(proc)
    assert "warning: --no-token" in err


@pytest.mark.parametrize("port", ["70000", "0", "-1"])
def test_an_impossible_port_is_one_line(capsys, tmp_path, port):
    fails_with_one_line(capsys, ["ui", "--port", port, "--projects", tmp_path / "p"], f"--port {port}", "1 to 65535")
    assert not (tmp_path / "p").exists()


def test_the_page_never_shows_traceback_lines(tmp_path):
    log = """--- finetune 2026-01-01 10:00:00
resuming the fine-tuning run in run
Traceback (most recent call last):
  File "x.py", line 1, in <module>
    f()
KeyError: 'a'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "x.py", line 3, in <module>
    g()
RuntimeError: boom
--- failed internal error (RuntimeError: boom); see the job log"""
    with running_app(tmp_path / "projects") as url:
        _, project = call(f"{url}/api/projects", "POST", {"name": "Crashed"})
        job = tmp_path / "projects" / project["id"] / "job"
        job.mkdir(exist_ok=True)
        (job / "log.txt").write_text(log + "\n", encoding="utf-8")
        status, progress = call(f"{url}/api/projects/{project['id']}/progress")
    assert status == 200 and progress["log"] == [
        "--- finetune 2026-01-01 10:00:00", "resuming the fine-tuning run in run",
        "(an internal error: its traceback is in job/log.txt)",
        "--- failed internal error (RuntimeError: boom); see the job log"]

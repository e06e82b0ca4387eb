"""Background jobs: one worker process per project at a time, its state in PROJECT/job/.

The app writes ``spec.json`` (what to do) and starts ``python -m zi2zi.ui.worker PROJECT``; the
worker records its own pid, progress and outcome in ``job.json``. The worker runs in its own
session, so it outlives a closed tab and even a restarted app, and the app finds it again by its
pid. A worker that died without saying so (killed, machine restarted) reads as ``stopped``:
starting the same job again resumes it (a fine-tuning run continues from its checkpoint).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from zi2zi.storage.atomic import write_json
from zi2zi.ui.errors import UiError
from zi2zi.ui.projects import Project

JOB_FILE = "job.json"
SPEC_FILE = "spec.json"
LOG_FILE = "log.txt"
WORKER_MODULE = "zi2zi.ui.worker"
# A job queued this long without its worker reporting in never started.
START_GRACE_S = 60.0
ACTIVE = ("queued", "running")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():  # a reused pid belongs to another program
        try:
            text = cmdline.read_bytes()
            if not text:  # a zombie waiting to be reaped has exited
                return False
            return WORKER_MODULE.encode() in text
        except OSError:
            return False
    return True


def read_job(project: Project) -> dict[str, Any]:
    """The project's job as the page sees it: ``state`` is none, queued, running, done, failed or stopped."""
    from zi2zi.errors import Zi2ziError
    from zi2zi.storage.reading import read_json_object

    path = project.path("job") / JOB_FILE
    try:
        job = read_json_object(path, what="job record")
    except (OSError, Zi2ziError):
        return {"state": "none"}
    if job.get("state") == "running" and not _alive(int(job.get("pid") or 0)):
        job.update(state="stopped", message="the job ended before finishing; start it again to resume")
    elif job.get("state") == "queued" and time.time() - float(job.get("queued", 0)) > START_GRACE_S:
        job.update(state="stopped", message="the job did not start; start it again")
    return job


def log_tail(project: Project, lines: int = 12) -> list[str]:
    """The last lines of the job log as the page shows them: a traceback (kept in the file for a
    bug report) becomes one line saying where it is."""
    try:
        text = (project.path("job") / LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    return without_tracebacks(text.splitlines())[-lines:]


def without_tracebacks(lines: list[str]) -> list[str]:
    shown: list[str] = []
    in_traceback = False
    for line in lines:
        if line.startswith(("During handling of the above exception", "The above exception was")):
            continue  # between two tracebacks of one chain
        if line.startswith("Traceback (most recent call last)"):
            if not shown or not shown[-1].startswith("(an internal error"):
                shown.append(f"(an internal error: its traceback is in job/{LOG_FILE})")
            in_traceback = True
            continue
        if in_traceback:
            # Frames are indented; the exception's own line ends the block.
            if not line.strip() or line.startswith((" ", "\t")):
                continue
            in_traceback = False
            continue
        if shown and shown[-1].startswith("(an internal error") and not line.strip():
            continue
        shown.append(line)
    return shown


class JobRunner:
    """Starts and stops workers; a lock makes "is one running? then start" one step per app."""

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def start(self, project: Project, kind: str, params: dict[str, Any]) -> dict[str, Any]:
        from zi2zi.storage.lock import FolderLock

        # The thread lock orders this app's requests; the folder lock, two apps on one projects folder.
        with self._lock, FolderLock(project.path("job"), what="project job folder", notify=lambda _: None):
            current = read_job(project)
            if current["state"] in ACTIVE:
                raise UiError(f"this project is busy with a {current.get('kind', '')} job; "
                              "wait for it or stop it first", 409)
            folder = project.path("job")
            folder.mkdir(exist_ok=True)
            # The queued stamp names this job to the end: the worker carries it into its record.
            job = {"kind": kind, "state": "queued", "queued": time.time(), "pid": None}
            write_json(folder / SPEC_FILE, {"kind": kind, "params": params, "queued": job["queued"]}, indent=2)
            write_json(folder / JOB_FILE, job, indent=2)
            with open(folder / LOG_FILE, "ab") as log:
                log.write(f"--- {kind} {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
                log.flush()
                env = {**os.environ, "PYTHONUNBUFFERED": "1"}
                proc = subprocess.Popen(
                    [sys.executable, "-m", WORKER_MODULE, str(project.root)], stdout=log, stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL, start_new_session=True, env=env, cwd=str(project.root),
                )
        threading.Thread(target=self._reap, args=(project, proc, job["queued"]), daemon=True).start()
        return job

    @staticmethod
    def _reap(project: Project, proc: subprocess.Popen, queued: float) -> None:
        """Wait for the worker (no zombie); one that died before reporting in is recorded as failed.
        ``queued`` names the job it ran: a worker that reported done may exit after the next job
        was queued, and that job is not its to fail."""
        code = proc.wait()
        path = project.path("job") / JOB_FILE
        from zi2zi.errors import Zi2ziError
        from zi2zi.storage.reading import read_json_object

        try:
            job = read_json_object(path, what="job record")
        except (OSError, Zi2ziError):
            return
        if job.get("state") == "queued" and job.get("queued") == queued:
            tail = " / ".join(log_tail(project, 2))
            job.update(state="failed", message=f"the job could not start (exit status {code}): {tail}")
            write_json(path, job, indent=2)

    def stop(self, project: Project) -> dict[str, Any]:
        job = read_job(project)
        pid = int(job.get("pid") or 0)
        if job["state"] != "running" or not pid:
            raise UiError("no job is running in this project", 409)
        # The worker's session: SIGTERM lets training finish its step and write a checkpoint.
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        return job

    def wait(self, project: Project, timeout: float = 600.0) -> dict[str, Any]:
        """Block until the project's job is no longer active (for tests and scripts)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            job = read_job(project)
            if job["state"] not in ACTIVE:
                return job
            time.sleep(0.2)
        raise UiError("the job did not finish in time", 504)

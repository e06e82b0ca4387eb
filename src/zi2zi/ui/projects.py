"""Projects on disk: one folder each under the projects folder, named by the app, never by the browser.

A project folder holds everything a flow makes, so that closing the tab or restarting the app
loses nothing::

    PROJECT/project.json     name, chosen base, target font record
    PROJECT/inputs/          the uploaded target font, uploaded checkpoint, photos of written sheets
    PROJECT/run/             the fine-tuning run (resumes from its checkpoint)
    PROJECT/handwriting/     template sheets, scanned glyphs (rejected cells in rejected/)
    PROJECT/glyphs/          generated glyphs (excluded ones in excluded/)
    PROJECT/fonts/           exported fonts
    PROJECT/review/          specimens
    PROJECT/job/             the current job: job.json, spec.json, log.txt
"""

from __future__ import annotations

import re
import shutil
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zi2zi.storage.atomic import write_json
from zi2zi.ui.errors import UiError

# Project ids, and every file name that reaches a path from a URL, must match one of these.
PROJECT_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
FILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]{0,127}$")
PROJECT_FILE = "project.json"
FOLDERS = ("inputs", "run", "handwriting", "glyphs", "fonts", "review", "job")


def slug(name: str) -> str:
    """A folder name from a display name: ASCII letters, digits and dashes only."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:40]
    return text or "project"


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def id(self) -> str:
        return self.root.name

    def path(self, folder: str, name: str | None = None) -> Path:
        """A path inside one of the project's folders; ``name`` must be a plain file name."""
        if folder not in FOLDERS:
            raise UiError(f"unknown project folder {folder!r}", 404)
        base = self.root / folder
        if name is None:
            return base
        check_file_name(name)
        return base / name

    def read(self) -> dict[str, Any]:
        from zi2zi.errors import Zi2ziError
        from zi2zi.storage.reading import read_json_object

        try:
            return read_json_object(self.root / PROJECT_FILE, what="project record")
        except (OSError, Zi2ziError):
            return {"name": self.id}

    def update(self, **fields: Any) -> dict[str, Any]:
        record = {**self.read(), **fields}
        write_json(self.root / PROJECT_FILE, record, indent=2)
        return record

    @property
    def run_dir(self) -> Path:
        return self.root / "run"


def check_file_name(name: str) -> str:
    if not FILE_NAME.match(name) or ".." in name:
        raise UiError(f"{name!r} is not a file of this project", 404)
    return name


class Projects:
    """The projects folder: list, create and open projects by id."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def list(self) -> list[dict[str, Any]]:
        found = []
        for entry in sorted(self.root.iterdir()):
            if entry.is_dir() and PROJECT_ID.match(entry.name) and (entry / PROJECT_FILE).is_file():
                record = Project(entry).read()
                found.append({"id": entry.name, "name": record.get("name", entry.name),
                              "created": record.get("created", 0)})
        return sorted(found, key=lambda p: p["created"])

    def create(self, name: str) -> Project:
        name = " ".join(str(name).split())[:80]
        if not name:
            raise UiError("give the project a name")
        base = slug(name)
        candidate, n = base, 1
        while (self.root / candidate).exists():
            n += 1
            candidate = f"{base}-{n}"
        project = Project(self.root / candidate)
        project.root.mkdir()
        try:
            for folder in FOLDERS:
                (project.root / folder).mkdir()
            project.update(name=name, created=time.time())
        except BaseException:
            shutil.rmtree(project.root, ignore_errors=True)  # a full disk leaves no half-made project
            raise
        return project

    def get(self, project_id: str) -> Project:
        if not PROJECT_ID.match(project_id or ""):
            raise UiError("no such project", 404)
        root = self.root / project_id
        if not (root / PROJECT_FILE).is_file():
            raise UiError(f"no project {project_id!r}; create it on the Projects page", 404)
        return Project(root)

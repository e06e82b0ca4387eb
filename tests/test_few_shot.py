"""The few-shot report is built from its stored cells: with every cell in the work folder, a run
trains nothing and writes the same report again (benchmarks/few_shot.py, on the tiny base)."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from benchmarks import few_shot
from zi2zi.finetune import finetune, recipe_for
from zi2zi.storage import write_json

NAME = "Tiny Light"


def _cell(ssim: float, steps: int, checkpoint, recipe: dict) -> dict:
    metrics = {"l1": 0.1, "ssim": ssim, "ink_iou": 0.5, "content_accuracy": 0.9, "frechet": 12.0}
    return {"model": metrics, "baseline": dict(metrics, ssim=0.3), "real": {"content_accuracy": 1.0},
            "classifier": None, "seconds": 60.0, "steps": steps, "checkpoint": str(checkpoint), "recipe": recipe}


def test_the_report_rebuilds_from_stored_cells_without_training(shipped, tiny_fonts, tmp_path, monkeypatch):
    work, report = tmp_path / "work", tmp_path / "report" / "few-shot.md"
    report.parent.mkdir()
    monkeypatch.setattr(few_shot, "corpus_font", lambda name: SimpleNamespace(spec=str(tiny_fonts["light"])))
    # Every model the grids draw from is this one run, its style named as the font.
    tuned = finetune("tiny", tmp_path / "ft", target=str(tiny_fonts["light"]), style_name=NAME, holdout=0, steps=1,
                     progress=False, device="cpu")
    folder = work / few_shot._slug(NAME)
    for n in (10, 20):
        recipe = recipe_for(n)
        write_json(folder / f"finetune-{n}.json", _cell(0.6, recipe.steps, tuned.checkpoint, recipe.to_dict()))
        write_json(folder / f"scratch-{n}.json", _cell(0.4, recipe.steps, tuned.checkpoint,
                                                       {"steps": recipe.steps, "batch_size": recipe.batch_size}))
    write_json(folder / "full.json", _cell(0.5, 5, tuned.checkpoint, {"steps": 5}))

    def no_training(*args, **kwargs):
        raise AssertionError("a stored cell was trained again")

    monkeypatch.setattr(few_shot, "finetune", no_training)
    monkeypatch.setattr(few_shot, "train", no_training)
    argv = ["few_shot", "--base", "tiny", "--fonts", NAME, "--sizes", "10", "20", "--holdout", "4",
            "--full-steps", "5", "--work", str(work), "--report", str(report)]
    monkeypatch.setattr(sys, "argv", argv)
    few_shot.main()
    first, grid = report.read_text(encoding="utf-8"), (report.parent / "few-shot" / "tiny-light.png").read_bytes()
    assert "| finetune-20 | " in first and "| full | 5 |" in first and "python -m benchmarks.few_shot" in first
    few_shot.main()
    assert report.read_text(encoding="utf-8") == first
    assert (report.parent / "few-shot" / "tiny-light.png").read_bytes() == grid


def test_a_cell_of_another_recipe_is_measured_again(tmp_path):
    path = tmp_path / "cell.json"
    write_json(path, {"model": {}, "recipe": {"steps": 1}})
    assert few_shot.cell(path, lambda: pytest.fail("stored cell ignored"), {"steps": 1}) == {"model": {},
                                                                                             "recipe": {"steps": 1}}
    assert few_shot.cell(path, lambda: {"model": {"new": 1}}, {"steps": 2})["model"] == {"new": 1}

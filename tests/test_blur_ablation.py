"""The blur ablation's statistics, verdicts and run store (benchmarks/blur_ablation), without training."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.blur_ablation import analysis, measure, runs, store
from benchmarks.blur_ablation.report import default_lines, verdict_summary
from benchmarks.blur_ablation.settings import OFF, Cell, discriminator_for, main_cells, sweep_cells
from benchmarks.blur_ablation.stats import claim_verdict, outcome, paired_bootstrap
from zi2zi.config import DiscriminatorConfig

# ---- statistics ------------------------------------------------------------------------------


def _groups(effect: float, *, fonts: int = 3, seeds: int = 3, chars: int = 200, spread: float = 0.05, rng=None):
    """Paired differences per font: a per-seed offset (one run trains better than another), a
    per-character term (some characters change more), and noise, around ``effect``."""
    rng = rng or np.random.default_rng(1)
    out = []
    for _ in range(fonts):
        seed_term = rng.normal(0, spread / 10, size=(seeds, 1))
        char_term = rng.normal(0, spread, size=(1, chars))
        out.append(effect + seed_term + char_term + rng.normal(0, spread, size=(seeds, chars)))
    return out


def test_a_clear_effect_is_detected_and_its_size_recovered():
    iv = paired_bootstrap(_groups(0.03))
    assert iv is not None and iv.sign == 1 and iv.low < 0.03 < iv.high
    assert iv.n == 3 * 3 * 200 and iv.seeds == 9
    assert outcome(iv, higher_is_better=True) == "better" and outcome(iv, higher_is_better=False) == "worse"
    assert paired_bootstrap([-g for g in _groups(0.03)]).sign == -1


def test_intervals_hold_the_true_effect_about_as_often_as_they_claim():
    """Over many synthetic experiments, zero effect: the interval contains 0 in most (95 % nominal),
    and a clear effect's interval contains its true size as often, never 0. (With few seeds that
    differ much more than here, coverage falls: see the stats module.)"""
    zero = [paired_bootstrap(_groups(0.0, rng=np.random.default_rng(100 + i)), resamples=500) for i in range(40)]
    assert np.mean([iv.low < 0 < iv.high for iv in zero]) >= 0.85
    clear = [paired_bootstrap(_groups(0.03, rng=np.random.default_rng(200 + i)), resamples=500) for i in range(40)]
    assert all(iv.sign == 1 for iv in clear)
    assert np.mean([iv.low < 0.03 < iv.high for iv in clear]) >= 0.85


def test_the_interval_counts_seeds_as_well_as_characters():
    # Characters agree closely, but the seeds disagree: resampling characters alone would be sure.
    rng = np.random.default_rng(3)
    groups = [0.01 + rng.normal(0, 0.05, size=(2, 1)) + rng.normal(0, 0.001, size=(2, 300))]
    iv = paired_bootstrap(groups)
    narrow = paired_bootstrap([g.reshape(1, -1) for g in groups])  # as if it were one seed
    assert (iv.high - iv.low) > 5 * (narrow.high - narrow.low)


def test_bootstrap_is_reproducible_and_handles_nothing():
    g = _groups(0.01)
    assert paired_bootstrap(g) == paired_bootstrap(g)
    assert paired_bootstrap([]) is None and paired_bootstrap([np.zeros((0, 5))]) is None
    assert outcome(None, higher_is_better=True) == "not separable"


def test_claim_verdicts():
    assert claim_verdict(["supports", "not separable"]) == "supported"
    assert claim_verdict(["contradicts"]) == "contradicted"
    assert claim_verdict(["supports", "contradicts"]) == "mixed"
    assert claim_verdict(["not separable", "not separable"]) == "not separable from none"


# ---- analysis of stored runs -----------------------------------------------------------------


def _result(values: dict[str, np.ndarray], chars: list[str]) -> dict:
    """A run's results as the harness stores them, with the given per-character values."""
    held = {k: values[k].tolist() for k in ("l1", "ssim", "content_accuracy") if k in values}
    font = {k: values[k].tolist() for k in ("identified", "shape_iou", "edge_f", "contours_off") if k in values}
    return {"held_out": {"per_char": {"char": chars, **held}, "overall": {"frechet": 10.0}},
            "font": {"per_char": {"char": chars, **font}},
            "generator_glyphs": {"per_char": {"char": chars, "grey": values["grey"].tolist()}},
            "half_budget": None}


def _runs(effects: dict[str, dict[str, float]], *, seeds=(0, 1, 2), fonts=("A", "B"), n=150, place="finetune"):
    """Runs of ``place``: 'none' and the settings of ``effects`` (measure: shift)."""
    rng = np.random.default_rng(7)
    chars = [chr(0x4E00 + i) for i in range(n)]
    names = ("l1", "ssim", "content_accuracy", "identified", "shape_iou", "edge_f", "contours_off", "grey")
    out = []
    for font in fonts:
        for seed in seeds:
            base = {k: rng.uniform(0.3, 0.7, size=n) for k in names}
            for setting in ["none", *effects]:
                shift = effects.get(setting, {})
                # Unshifted measures are copied unchanged, so only the shifted ones can differ.
                values = {k: base[k] + shift[k] + rng.normal(0, 0.02, size=n) if k in shift else base[k].copy()
                          for k in names}
                # Characters missing from one run are left out of the pairs, not paired wrongly.
                cell_chars = chars if setting == "none" else chars[:-3]
                values = {k: v[: len(cell_chars)] for k, v in values.items()}
                out.append((Cell(place, font, setting, None if setting in ("none", OFF) else 1.0, seed),
                            _result(values, cell_chars)))
    return out


def test_pairs_are_matched_by_font_seed_and_character():
    runs_ = _runs({"input": {"ssim": 0.05}})
    groups = analysis.paired_groups(runs_, "finetune", "input", analysis.BY_NAME["ssim"])
    assert [g.shape for g in groups] == [(3, 147), (3, 147)]
    assert np.mean(groups) == pytest.approx(0.05, abs=0.01)


def test_claims_winner_and_beating_none_follow_the_numbers():
    runs_ = _runs({"input": {"shape_iou": 0.05, "identified": 0.05, "edge_f": -0.04},
                   "layers": {"ssim": -0.05, "grey": 0.05},
                   "output": {}})
    verdicts = {(r.claim.text, r.setting): r.verdict for r in analysis.judge_claims(runs_, "finetune")}
    claims = {c.text: c for c in analysis.CLAIMS}
    structure = next(t for t in claims if "structure" in t)
    detail = next(t for t in claims if "fine detail" in t)
    blurry = next(t for t in claims if "blurry" in t)
    slower = next(t for t in claims if "slows" in t)
    assert verdicts[(structure, "input")] == "supported"
    assert verdicts[(detail, "input")] == "supported"
    assert verdicts[(blurry, "layers")] == "supported"
    assert (slower, "output") not in verdicts  # these runs have no half-budget figures: not judged
    beats, better, worse = analysis.beats_none(analysis.compare(runs_, "finetune", "input"))
    assert not beats and "edge_f" in worse and "shape_iou" in better  # worse on edge F: does not beat none
    assert analysis.winner(runs_, "finetune")[0] == "input"  # none beats none: the seed's recommendation
    clean = _runs({"output": {"ssim": 0.05}, "input": {}})
    assert analysis.winner(clean, "finetune")[0] == "output"


def test_the_refiner_place_weighs_the_adversarial_term_apart_from_its_blur():
    """'off' (no discriminator) is never the blur winner; the place's default says whether the
    adversarial term with its best blur beats 'off', and never contradicts itself."""
    runs_ = _runs({OFF: {"identified": 0.06}, "input": {}}, place="refiner")
    assert analysis.main_labels(runs_, "refiner") == ["none", "input", OFF]
    assert analysis.winner(runs_, "refiner")[0] == "input"  # off beats none, yet it is no blur to sweep
    said = " ".join(default_lines(runs_, "refiner", analysis.main_labels(runs_, "refiner")))
    assert "it does not pay" in said and "default stays `off`" in said and "no blur setting beats" in said
    # A blur that beats none but not off: the term still does not pay.
    both = _runs({OFF: {"identified": 0.10}, "input": {"identified": 0.05}}, place="refiner")
    said = " ".join(default_lines(both, "refiner", analysis.main_labels(both, "refiner")))
    assert "it does not pay" in said and "winner, `input`" in said
    helped = _runs({OFF: {"identified": -0.06}}, place="refiner")
    said = " ".join(default_lines(helped, "refiner", analysis.main_labels(helped, "refiner")))
    assert "it pays" in said


def test_runs_of_different_generators_are_not_paired():
    runs_ = _runs({"input": {"ssim": 0.05}}, place="refiner", fonts=("A",))
    for cell, result in runs_:
        result["generator"] = "g2" if (cell.setting == "input" and cell.seed == 2) else "g1"
    groups = analysis.paired_groups(runs_, "refiner", "input", analysis.BY_NAME["ssim"])
    assert [g.shape[0] for g in groups] == [2]  # seed 2's input run came from another generator


def test_claims_are_not_judged_where_their_measures_are_missing():
    runs_ = _runs({"output": {"l1": 0.05}, "input": {}}, place="refiner")
    for _, result in runs_:
        del result["generator_glyphs"]  # as the refiner place stores: no grey share, no half budget
    judged = {r.claim.text for r in analysis.judge_claims(runs_, "refiner")}
    assert not any("slows" in t or "blurry" in t for t in judged)
    assert any("structure" in t for t in judged)


def test_a_place_with_runs_still_missing_is_marked_provisional():
    runs_ = _runs({"input": {"ssim": 0.05}})
    header = verdict_summary(runs_, ["finetune"], {"finetune": (12, 30)}).splitlines()[0]
    assert "(provisional: 12 of 30 runs)" in header
    header = verdict_summary(runs_, ["finetune"], {"finetune": (30, 30)}).splitlines()[0]
    assert "provisional" not in header


def test_curve_flattening_share():
    rows = [{"kind": "eval", "step": s, "val_l1": v} for s, v in [(0, 0.3), (25, 0.2), (50, 0.15), (75, 0.1),
                                                                 (100, 0.1)]]
    assert analysis.flattening(rows) == pytest.approx(0.0)
    rows[-1]["val_l1"] = 0.05
    assert analysis.flattening(rows) == pytest.approx(0.2)
    assert analysis.flattening(rows[:2]) is None


# ---- settings and the order of cells ---------------------------------------------------------


def test_settings_reach_the_discriminator_config():
    base = DiscriminatorConfig(ndf=32)
    fade = discriminator_for(base, "input-fade", 1.0, 600)
    assert (fade.blur, fade.blur_kernel, fade.blur_sigma, fade.blur_fade_steps, fade.ndf) == ("input", 5, 1.0, 600, 32)
    assert discriminator_for(base, "none", None, 600).blur == "none"
    assert discriminator_for(base, "output", 2.0, 600).blur_fade_steps == 0
    with pytest.raises(ValueError, match="unknown blur setting"):
        discriminator_for(base, "middle", 1.0, 10)


def test_fine_tunes_of_each_seed_run_first_then_scratch():
    cells = main_cells(["finetune", "scratch"], {"finetune": ["A", "B"], "scratch": ["A"]}, ["none", "input"],
                       {"finetune": [0, 1, 2], "scratch": [0, 1]})
    order = [(c.place, c.seed) for c in cells]
    assert order == sorted(order, key=lambda x: (x[0] != "finetune", x[1]))
    assert len(cells) == 2 * 2 * 3 + 2 * 2 and len({c.key for c in cells}) == len(cells)
    refiner = main_cells(["refiner"], {"refiner": ["A"]}, ["none", "input"], {"refiner": [0]})
    assert [c.key for c in refiner] == ["refiner/a/off/seed0", "refiner/a/none/seed0", "refiner/a/input/seed0"]
    assert refiner[0].sigma is None
    sweep = sweep_cells("finetune", "input", ["A"], [0], [0.5, 1.0, 2.0])
    assert [c.sigma for c in sweep] == [0.5, 2.0] and sweep[0].key == "finetune/a/input-sigma0.5/seed0"


# ---- storing and reusing runs ----------------------------------------------------------------


def test_store_states(tmp_path):
    folder, ledger, recipe = tmp_path / "work" / "cell", tmp_path / "ledger" / "cell", {"steps": 600, "sigma": 1.0}
    assert store.state(folder, ledger, recipe) == "new"
    store.begin(folder, recipe, keep=False)
    (folder / "run").mkdir()
    (folder / "samples.png").write_bytes(b"png")
    assert store.state(folder, ledger, recipe) == "unfinished"
    store.begin(folder, recipe, keep=True)
    assert (folder / "run").is_dir()  # kept to resume
    store.finish(ledger, recipe, {"x": 1}, files=[folder / "samples.png"])
    assert (ledger / "samples.png").read_bytes() == b"png"
    assert store.state(folder, ledger, recipe) == "done" and store.stored_results(ledger, recipe)["x"] == 1
    # The ledger alone is enough: another machine without the work folder reuses the run.
    assert store.state(tmp_path / "elsewhere" / "cell", ledger, recipe) == "done"
    assert store.state(folder, ledger, {**recipe, "sigma": 2.0}) == "changed"
    assert store.stored_results(ledger, {**recipe, "sigma": 2.0}) is None
    store.begin(folder, {**recipe, "sigma": 2.0}, keep=False)
    assert not (folder / "run").exists() and json.loads((folder / "recipe.json").read_text())["sigma"] == 2.0
    other = tmp_path / "not-ours"
    other.mkdir()
    (other / "thesis.tex").write_text("x")
    with pytest.raises(SystemExit, match="not a run of this benchmark"):
        store.begin(other, recipe, keep=False)
    assert (other / "thesis.tex").is_file()


class _Trained(RuntimeError):
    pass


def test_a_stored_run_is_reused_and_a_changed_recipe_redone(tmp_path, monkeypatch):
    """Context.run with training and measuring replaced: what it reuses and what it redoes."""
    ctx = runs.Context(tmp_path / "work", runs.Budget(), base="base-64", ledger=tmp_path / "ledger")
    cell = Cell("finetune", "A", "input", 1.0, 0)
    recipe = {"harness": runs.HARNESS_VERSION, "steps": 600, "refine": True}
    trained = []
    font = runs.FontSetup("A", "a.ttf#0", None, ["一"], ["二"], ["三"])  # type: ignore[arg-type]
    monkeypatch.setattr(ctx, "recipe", lambda c: dict(recipe))
    monkeypatch.setattr(ctx, "font", lambda name: font)
    monkeypatch.setattr(ctx, "eval_data", lambda f: tmp_path / "eval")

    def fake_finetune(c, folder):
        trained.append(c.key)
        (folder / "run").mkdir(exist_ok=True)
        for name in (measure.SAMPLES, measure.LINE_FONT):
            (folder / name).write_bytes(name.encode())
        return {"checkpoint": folder / "run" / "w", "style": "A", "steps": recipe["steps"],
                "sittings": [{"seconds": 1.0}]}

    monkeypatch.setattr(ctx, "_finetune", fake_finetune)
    monkeypatch.setattr(measure, "measure", lambda *a, **k: {"held_out": {"overall": {"l1": 0.1, "ssim": 0.5}},
                                                             "measure_seconds": 0.0})
    first = ctx.run(cell)
    assert trained == [cell.key] and first["recipe"] == recipe and first["train_seconds"] == 1.0
    assert ctx.run(cell) == first and trained == [cell.key]  # reused, not trained again
    recipe["steps"] = 700
    assert ctx.state(cell) == "changed"
    assert ctx.run(cell)["recipe"]["steps"] == 700 and len(trained) == 2  # redone under the new recipe
    # A fine-tune killed before its results were written is started over.
    assert (tmp_path / "ledger" / cell.key / measure.LINE_FONT).read_bytes() == measure.LINE_FONT.encode()
    (tmp_path / "ledger" / cell.key / store.RESULTS).unlink()
    assert ctx.state(cell) == "unfinished"
    ctx.run(cell)
    assert len(trained) == 3


def test_a_refiner_cell_stores_its_font_and_the_generator_time(tmp_path, monkeypatch):
    ctx = runs.Context(tmp_path / "work", runs.Budget(), base="base-64", ledger=tmp_path / "ledger")
    cell = Cell("refiner", "A", OFF, None, 0)
    font = runs.FontSetup("A", "a.ttf#0", None, ["一"], ["二"], ["三"])  # type: ignore[arg-type]
    monkeypatch.setattr(ctx, "recipe", lambda c: {"harness": runs.HARNESS_VERSION, "refine": True})
    monkeypatch.setattr(ctx, "font", lambda name: font)
    monkeypatch.setattr(ctx, "classifier", lambda f: None)
    monkeypatch.setattr(ctx, "loaded", type("Loaded", (), {"render": None})())

    def fake_refiner(c, folder):
        (folder / measure.LINE_FONT).write_bytes(b"ttf")
        return {"checkpoint": tmp_path / "g", "style": "A", "steps": 1000, "sittings": [{"seconds": 60.0}],
                "generator_seconds": 90.0}

    monkeypatch.setattr(ctx, "_refiner", fake_refiner)
    monkeypatch.setattr(measure, "measure_refined", lambda *a, **k: {"held_out": {"overall": {"l1": 0.1, "ssim": 0.5}},
                                                                     "measure_seconds": 2.0})
    result = ctx.run(cell)
    assert result["train_seconds"] == 60.0 and result["generator_seconds"] == 90.0
    assert (tmp_path / "ledger" / cell.key / measure.LINE_FONT).read_bytes() == b"ttf"
    assert not (tmp_path / "ledger" / cell.key / measure.SAMPLES).exists()

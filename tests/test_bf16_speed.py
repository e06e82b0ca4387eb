"""The precision default's rule against the speeds measured per kind of CPU (benchmarks/bf16_speed.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import bf16_speed
from zi2zi.device import bf16_is_faster
from zi2zi.storage.reading import read_json_object

CELLS = sorted((Path(__file__).resolve().parent.parent / bf16_speed.CELLS).glob("*.json"))


@pytest.mark.parametrize("path", CELLS, ids=[p.stem for p in CELLS])
def test_the_default_is_bf16_exactly_on_the_cpus_where_it_was_measured_faster(path):
    cell = read_json_object(path, what="bf16-speed cell")
    rule = bf16_is_faster(cell["vendor"], avx512_bf16=cell["avx512_bf16"], amx=cell["amx"])
    assert rule == bf16_speed.measured_faster(cell), bf16_speed.speedups(cell)


def _cell(fp32_wall: float, bf16_wall: float, fp32_draw: float, bf16_draw: float) -> dict:
    figures = {"wall_s": 100.0, "g_step_s": 0.5, "refiner_step_s": 0.4, "draw_64_glyphs_s": 900.0,
               "draw_256_glyphs_s": 80.0}
    return {"figures": {"none": {**figures, "wall_s": fp32_wall, "draw_256_glyphs_s": fp32_draw},
                        "bf16": {**figures, "wall_s": bf16_wall, "draw_256_glyphs_s": bf16_draw}}}


def test_bf16_counts_as_faster_only_when_the_fine_tune_and_refined_drawing_both_gain_beyond_noise():
    assert bf16_speed.measured_faster(_cell(130.0, 98.7, 91.5, 152.7))  # AMD EPYC's figures
    assert not bf16_speed.measured_faster(_cell(100.0, 98.0, 80.0, 120.0))  # fine-tune within noise
    assert not bf16_speed.measured_faster(_cell(130.0, 98.7, 89.8, 74.3))  # refined drawing slower
    assert bf16_speed.speedups(_cell(130.0, 100.0, 80.0, 120.0))["draw_256_glyphs_s"] == pytest.approx(1.5)


def test_a_cell_is_named_by_its_cpu_and_bf16_units(tmp_path):
    cell = {"machine": {"cpu": "Intel(R) Xeon(R) Processor"}, "amx": False, "avx512_bf16": True}
    assert bf16_speed.cell_path(tmp_path, cell).name == "intel-r-xeon-r-processor-avx512bf16.json"

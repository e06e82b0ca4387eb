"""The benchmark's reference step (benchmarks/plain_step.py) does the trainer's math: a speed ratio
between the two means something only if both compute the same update."""

from __future__ import annotations

import copy

import pytest
import torch

from benchmarks.plain_step import PlainStep
from zi2zi.config import load_config
from zi2zi.models import build_models
from zi2zi.training.step import Zi2ziStep


@pytest.mark.parametrize("blur", ["none", "input"])
def test_plain_step_updates_the_weights_as_the_trainer_does(blur):
    cfg = load_config("cpu-small", overrides=["model.image_size=32", "model.generator.ngf=8",
                                              "model.discriminator.ndf=8", "model.generator.num_styles=3",
                                              f"model.discriminator.blur={blur}"])
    torch.manual_seed(0)
    g, d = build_models(cfg, 3)
    g2, d2 = copy.deepcopy(g), copy.deepcopy(d)
    before = copy.deepcopy(g.state_dict())
    source, target = torch.rand(4, 1, 32, 32) * 2 - 1, torch.rand(4, 1, 32, 32) * 2 - 1
    style = torch.tensor([0, 1, 2, 1])
    trainer = Zi2ziStep(g, d, cfg, device=torch.device("cpu"))
    plain = PlainStep(g2, d2, cfg)
    torch.manual_seed(1)  # G's dropout draws the same masks in both
    trainer.set_input({"source": source, "target": target, "style": style})
    trainer.optimize()
    torch.manual_seed(1)
    plain.optimize(source, target, style)
    for a, b in [*zip(g.state_dict().values(), g2.state_dict().values()),
                 *zip(d.state_dict().values(), d2.state_dict().values())]:
        if a.is_floating_point():
            torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)
    assert not torch.equal(before["style_embedding.weight"], g.state_dict()["style_embedding.weight"])  # it trained

"""Loss terms on small inputs whose values are worked out by hand."""

from __future__ import annotations

import math

import pytest
import torch

from zi2zi.config import ConfigError
from zi2zi.training.losses import category_loss, const_loss, d_gan_loss, g_gan_loss, tv_loss

LN2 = math.log(2.0)


def sp(x: float) -> float:
    """softplus: BCE-with-logits of logit -x against label 1 is softplus(-x)."""
    return math.log1p(math.exp(x))


def t(*v):
    return torch.tensor(v, dtype=torch.float64)


def test_bce():
    # real logits 0, 2 (label 1): ln2, softplus(-2); fake logits 0, -1 (label 0): ln2, softplus(-1)
    d = d_gan_loss(t(0.0, 2.0), t(0.0, -1.0), "bce")
    assert d.item() == pytest.approx((LN2 + sp(-2)) / 2 + (LN2 + sp(-1)) / 2)
    # G wants fakes called real: fake logits 0, -1 against label 1: ln2, softplus(1)
    assert g_gan_loss(t(0.0, -1.0), "bce").item() == pytest.approx((LN2 + sp(1)) / 2)


def test_lsgan():
    # mean((1-1)^2, (3-1)^2) = 2, mean(0^2, 2^2) = 2
    assert d_gan_loss(t(1.0, 3.0), t(0.0, 2.0), "lsgan").item() == pytest.approx(4.0)
    # mean((0-1)^2, (2-1)^2) = 1
    assert g_gan_loss(t(0.0, 2.0), "lsgan").item() == pytest.approx(1.0)


def test_hinge():
    # real: relu(1-2)=0, relu(1-0.5)=0.5 -> 0.25; fake: relu(1-2)=0, relu(1+0.5)=1.5 -> 0.75
    assert d_gan_loss(t(2.0, 0.5), t(-2.0, 0.5), "hinge").item() == pytest.approx(1.0)
    assert g_gan_loss(t(-2.0, 0.5), "hinge").item() == pytest.approx(0.75)


def test_unknown_gan_mode_is_a_clear_error():
    with pytest.raises(ConfigError, match=r"loss.gan_mode='wgan'.*bce, lsgan, hinge"):
        d_gan_loss(t(0.0), t(0.0), "wgan")
    with pytest.raises(ConfigError, match="wgan"):
        g_gan_loss(t(0.0), "wgan")


def test_gan_losses_are_differentiable():
    fake = t(0.3, -0.2).requires_grad_()
    for mode in ("bce", "lsgan", "hinge"):
        fake.grad = None
        g_gan_loss(fake, mode).backward()
        assert fake.grad.abs().sum() > 0


def test_category_loss():
    # uniform logits over 3 classes: ln 3
    assert category_loss(t(0.0, 0.0, 0.0)[None], torch.tensor([0])).item() == pytest.approx(math.log(3))
    # [2, 0] label 0: softplus(-2); [0, 0] label 1: ln2
    logits = torch.tensor([[2.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    assert category_loss(logits, torch.tensor([0, 1])).item() == pytest.approx((sp(-2) + LN2) / 2)
    # zi2zi's sigmoid form: every logit 0 gives ln2 per entry whatever the label
    assert category_loss(torch.zeros(2, 4), torch.tensor([1, 3]), form="sigmoid").item() == pytest.approx(LN2)
    # [2, 0] vs one-hot [1, 0]: softplus(-2), ln2 -> mean over the 2 entries
    sig = category_loss(logits[:1], torch.tensor([0]), form="sigmoid")
    assert sig.item() == pytest.approx((sp(-2) + LN2) / 2)


def test_const_loss():
    a = torch.tensor([[1.0, 2.0]])
    assert const_loss(a, torch.zeros(1, 2)).item() == pytest.approx(2.5)  # (1 + 4) / 2
    assert const_loss(a, a).item() == 0.0


def test_tv_loss():
    img = torch.tensor([[0.0, 1.0, 3.0], [2.0, 2.0, 2.0]]).view(1, 1, 2, 3)
    # vertical |2-0|, |2-1|, |2-3| -> 4/3; horizontal |1|, |2|, |0|, |0| -> 3/4
    assert tv_loss(img).item() == pytest.approx(4 / 3 + 3 / 4)
    assert tv_loss(torch.full((2, 1, 8, 8), 0.7)).item() == 0.0

"""The discriminator's Gaussian blur, checked against the formula torchvision's GaussianBlur uses."""

from __future__ import annotations

import dataclasses
import math

import pytest
import torch
import torch.nn.functional as F

from zi2zi.config import ConfigError, DiscriminatorConfig, GeneratorConfig
from zi2zi.models import Discriminator, GaussianBlur, Generator, faded_sigma
from zi2zi.training.losses import g_gan_loss

TINY_D = DiscriminatorConfig(ndf=8, blur_kernel=5, blur_sigma=1.0)


def reference_blur(x: torch.Tensor, k: int, sigma: float) -> torch.Tensor:
    """torchvision's tensor GaussianBlur written from its definition: a 1D kernel exp(-t^2/(2 s^2))
    normalised to sum 1, reflect padding of k//2, applied per channel along W then H."""
    t = torch.arange(k, dtype=torch.float64) - (k - 1) / 2
    k1 = torch.exp(-(t**2) / (2 * sigma**2))
    k1 = (k1 / k1.sum()).to(x.dtype)
    c, p = x.shape[1], k // 2
    x = F.conv2d(F.pad(x, (p, p, 0, 0), mode="reflect"), k1.view(1, 1, 1, k).repeat(c, 1, 1, 1), groups=c)
    return F.conv2d(F.pad(x, (0, 0, p, p), mode="reflect"), k1.view(1, 1, k, 1).repeat(c, 1, 1, 1), groups=c)


def test_reference_kernel_is_the_gaussian_formula():
    # An impulse in the middle of a wide image reproduces the 2D kernel: outer(k1, k1).
    x = torch.zeros(1, 1, 11, 11, dtype=torch.float64)
    x[0, 0, 5, 5] = 1.0
    w = [math.exp(-(i**2) / 2) for i in (-2, -1, 0, 1, 2)]
    k1 = torch.tensor(w, dtype=torch.float64) / sum(w)  # 0.0545, 0.2442, 0.4026, ...
    assert k1[2].item() == pytest.approx(0.40262, abs=1e-5)
    torch.testing.assert_close(reference_blur(x, 5, 1.0)[0, 0, 3:8, 3:8], torch.outer(k1, k1))
    torch.testing.assert_close(GaussianBlur(5, 1.0)(x)[0, 0, 3:8, 3:8], torch.outer(k1, k1))


@pytest.mark.parametrize("k,sigma", [(5, 1.0), (3, 0.5), (7, 2.0), (5, 0.37)])
def test_blur_module_equals_reference(k, sigma):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 12)
    torch.testing.assert_close(GaussianBlur(k, sigma)(x), reference_blur(x, k, sigma), atol=1e-6, rtol=1e-5)


@torch.no_grad()
def test_blur_module_equals_reference_on_large_images():
    # kornia takes a different code path (weighted slices) for big CPU images without autograd.
    torch.manual_seed(0)
    x = torch.randn(2, 2, 256, 256)
    torch.testing.assert_close(GaussianBlur(5, 1.0)(x), reference_blur(x, 5, 1.0), atol=1e-6, rtol=1e-5)


def test_sigma_zero_is_identity_and_bad_settings_are_errors():
    x = torch.randn(1, 2, 8, 8)
    assert GaussianBlur(5, 0.0)(x) is x
    with pytest.raises(ConfigError, match="blur_kernel"):
        GaussianBlur(4, 1.0)
    with pytest.raises(ConfigError, match="blur_sigma"):
        GaussianBlur(5, -1.0)
    # "layers"/"output" blur a 2x2 patch map at 16 px: reflect padding of 2 cannot work there.
    with pytest.raises(ConfigError, match="too large"):
        Discriminator(image_size=16, num_styles=2, cfg=dataclasses.replace(TINY_D, blur="output"))


def _pair(size=32):
    torch.manual_seed(1)
    return torch.rand(2, 1, size, size) * 2 - 1, torch.rand(2, 1, size, size) * 2 - 1


def _twins(place: str, **kw):
    """D with blur at `place` and an un-blurred D with the same weights, both in eval mode."""
    torch.manual_seed(0)
    d = Discriminator(image_size=32, num_styles=3, cfg=dataclasses.replace(TINY_D, blur=place, **kw)).eval()
    plain = Discriminator(image_size=32, num_styles=3, cfg=dataclasses.replace(TINY_D, blur="none")).eval()
    plain.load_state_dict(d.state_dict())
    return d, plain


def _heads(d, patch):
    flat = patch.flatten(1)
    return d.rf_head(flat).squeeze(1), d.category_head(flat)


@torch.no_grad()
def test_blur_none_is_no_blur():
    src, tgt = _pair()
    d, _ = _twins("none")
    assert d.blur is None and d.blur_sigma == 0.0
    x = torch.cat([src, tgt], 1)
    for layer in d.layers:
        x = layer(x)
    rf, cat = _heads(d, d.patch(x))
    out = d(src, tgt)
    torch.testing.assert_close(out[0], rf, rtol=0, atol=0)
    torch.testing.assert_close(out[1], cat, rtol=0, atol=0)


@torch.no_grad()
def test_blur_input_equals_unblurred_d_on_blurred_images():
    src, tgt = _pair()
    d, plain = _twins("input")
    expected = plain(reference_blur(src, 5, 1.0), reference_blur(tgt, 5, 1.0))
    got = d(src, tgt)
    torch.testing.assert_close(got[0], expected[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got[1], expected[1], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(got[1], plain(src, tgt)[1], atol=1e-5)  # the blur changes the answer


@torch.no_grad()
def test_blur_layers_blurs_after_every_leaky_relu():
    src, tgt = _pair()
    d, plain = _twins("layers")
    x = torch.cat([src, tgt], 1)
    for layer in plain.layers:  # conv (+ norm) + LeakyReLU, then the reference blur
        x = reference_blur(layer(x), 5, 1.0)
    expected = _heads(plain, plain.patch(x))
    got = d(src, tgt)
    torch.testing.assert_close(got[0], expected[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got[1], expected[1], atol=1e-5, rtol=1e-5)
    assert not torch.allclose(got[1], plain(src, tgt)[1], atol=1e-5)


@torch.no_grad()
def test_blur_output_blurs_the_patch_map_before_the_heads():
    src, tgt = _pair()
    d, plain = _twins("output")
    patch = plain.patch_map(src, tgt)  # (2, 1, 4, 4) un-blurred
    assert patch.shape == (2, 1, 4, 4)
    torch.testing.assert_close(d.patch_map(src, tgt), reference_blur(patch, 5, 1.0), atol=1e-6, rtol=1e-5)
    expected = _heads(plain, reference_blur(patch, 5, 1.0))
    got = d(src, tgt)
    torch.testing.assert_close(got[0], expected[0], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(got[1], expected[1], atol=1e-5, rtol=1e-5)


def test_fade_schedule():
    assert faded_sigma(1.0, 0, 100) == 1.0
    assert faded_sigma(1.0, 50, 100) == pytest.approx(0.5)
    assert faded_sigma(2.0, 25, 100) == pytest.approx(1.5)
    assert faded_sigma(1.0, 100, 100) == 0.0
    assert faded_sigma(1.0, 250, 100) == 0.0
    assert faded_sigma(1.0, 10**6, 0) == 1.0  # no fade: constant

    d, plain = _twins("input", blur_fade_steps=100)
    assert d.blur_sigma == 1.0
    assert d.set_step(50) == pytest.approx(0.5) and d.blur_sigma == pytest.approx(0.5)
    assert d.set_step(100) == 0.0
    src, tgt = _pair()
    with torch.no_grad():  # faded out: exactly the un-blurred D
        torch.testing.assert_close(d(src, tgt)[0], plain(src, tgt)[0], rtol=0, atol=0)
    assert d.set_step(0) == 1.0  # resuming at an earlier step restores the blur

    constant, _ = _twins("layers")
    assert constant.set_step(10**6) == 1.0


@pytest.mark.parametrize("place", ["none", "input", "layers", "output"])
def test_gradients_reach_the_generator_through_every_blur(place):
    torch.manual_seed(0)
    g = Generator(image_size=32, cfg=GeneratorConfig(ngf=4, num_styles=3, style_dim=4))
    cfg = dataclasses.replace(TINY_D, blur=place, blur_fade_steps=10)
    d = Discriminator(image_size=32, num_styles=3, cfg=cfg)
    d.set_step(3)  # mid-fade: sigma 0.7
    src, _ = _pair()
    fake = g(src, torch.tensor([0, 2]))
    rf, cat = d(src, fake)
    (g_gan_loss(rf, "bce") + cat.sum()).backward()
    grad = g.down[0].conv.weight.grad
    assert grad is not None and torch.isfinite(grad).all() and grad.abs().sum() > 0

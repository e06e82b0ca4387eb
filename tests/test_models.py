"""The generator and discriminator: shapes, the classic layout, styles, encoder, init."""

from __future__ import annotations

import dataclasses

import pytest
import torch
from torch import nn

from zi2zi.config import Config, ConfigError, DiscriminatorConfig, GeneratorConfig
from zi2zi.errors import Zi2ziError
from zi2zi.models import Discriminator, Generator, build_models

TINY_G = GeneratorConfig(ngf=8, num_styles=5, style_dim=8)
TINY_D = DiscriminatorConfig(ndf=8)


def n_params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --- the classic preset reproduces zi2zi-pytorch's layer shapes ---------------------------------
#
# Derived by hand from EuphoriaYan/zi2zi-pytorch (model/generators.py UNetGenerator with
# input_nc=output_nc=1, ngf=64, embedding 40x128, BatchNorm; model/discriminators.py with
# input_nc=2, ndf=64, image_size=256). Under BatchNorm pix2pix gives no conv a bias except the
# final ConvTranspose (output layer) of G, and the first and last convs of D.
#
# G down convs (4x4), out channels ngf*min(2**i, 8): 64, 128, 256, 512, 512, 512, 512, 512.
#   weights 16 * (1*64 + 64*128 + 128*256 + 256*512 + 4*512*512) = 19_530_752
#   BatchNorm on downs 1..6 (not the outermost, not the innermost): 2*(128+256+512*4) = 4_864
# G up convs (4x4 ConvTranspose, weight (in, out, 4, 4)):
#   innermost in = 512 + 128 (style): 640*512; three 1024->512; 1024->256; 512->128; 256->64; 128->1
#   weights 16 * (640*512 + 3*1024*512 + 1024*256 + 512*128 + 256*64 + 128*1) = 35_915_776, + 1 bias
#   BatchNorm on every up block but the outermost: 2*(512*4 + 256 + 128 + 64) = 4_992
# Embedding 40*128 = 5_120.  Total: 55_461_505 (DESIGN.md measured 55.5 M for this model).
CLASSIC_G_TOTAL = 19_530_752 + 4_864 + 35_915_776 + 1 + 4_992 + 5_120
#
# D: 5x5 convs 2->64 (+bias), 64->128, 128->256 (stride 2), 256->512 (stride 1), 512->1 (+bias):
#   2*64*25+64 + 64*128*25 + 128*256*25 + 256*512*25 + 512*25+1 = 4_316_865
#   BatchNorm 2*(128+256+512) = 1_792
#   patch map 256/8 = 32 -> 1024 features; Linear 1024->1 and 1024->40: 1025 + 41_000
CLASSIC_D_TOTAL = 4_316_865 + 1_792 + 1_025 + 41_000


def test_classic_generator_reproduces_zi2zi_pytorch_shapes():
    torch.manual_seed(0)
    g = Generator(image_size=256, cfg=Config().model.generator)
    assert CLASSIC_G_TOTAL == 55_461_505
    assert n_params(g) == CLASSIC_G_TOTAL
    assert g.num_downs == 8
    assert [b.conv.weight.shape for b in g.down] == [
        (64, 1, 4, 4), (128, 64, 4, 4), (256, 128, 4, 4), (512, 256, 4, 4),
        (512, 512, 4, 4), (512, 512, 4, 4), (512, 512, 4, 4), (512, 512, 4, 4),
    ]
    assert [b.conv.weight.shape for b in g.up] == [
        (128, 1, 4, 4), (256, 64, 4, 4), (512, 128, 4, 4), (1024, 256, 4, 4),
        (1024, 512, 4, 4), (1024, 512, 4, 4), (1024, 512, 4, 4), (640, 512, 4, 4),
    ]
    biased = [name for name, _ in g.named_parameters() if name.endswith("conv.bias")]
    assert biased == ["up.0.conv.bias"]
    assert g.style_embedding.weight.shape == (40, 128)
    # Dropout 0.5 on the three up blocks right after the innermost one, as zi2zi.
    dropped = [i for i, b in enumerate(g.up) if isinstance(b.dropout, nn.Dropout)]
    assert dropped == [4, 5, 6]
    assert all(g.up[i].dropout.p == 0.5 for i in dropped)


def test_classic_discriminator_reproduces_zi2zi_pytorch_shapes():
    d = Discriminator(image_size=256, num_styles=40, cfg=Config().model.discriminator)
    assert n_params(d) == CLASSIC_D_TOTAL == 4_360_682
    convs = [m for m in d.modules() if isinstance(m, nn.Conv2d)]
    assert [(c.weight.shape, c.stride, c.bias is not None) for c in convs] == [
        ((64, 2, 5, 5), (2, 2), True),
        ((128, 64, 5, 5), (2, 2), False),
        ((256, 128, 5, 5), (2, 2), False),
        ((512, 256, 5, 5), (1, 1), False),
        ((1, 512, 5, 5), (1, 1), True),
    ]
    assert d.rf_head.weight.shape == (1, 1024)
    assert d.category_head.weight.shape == (40, 1024)


# --- shapes at every size -------------------------------------------------------------------


@pytest.mark.parametrize("size,downs", [(64, 6), (128, 7), (256, 8)])
def test_shapes_at_each_size(size, downs):
    torch.manual_seed(0)
    g = Generator(image_size=size, cfg=TINY_G)
    d = Discriminator(image_size=size, num_styles=5, cfg=TINY_D)
    assert g.num_downs == downs
    x = torch.rand(2, 1, size, size) * 2 - 1
    ids = torch.tensor([0, 4])
    fake, code = g.generate_and_encode(x, ids)
    assert fake.shape == x.shape
    assert fake.abs().max() <= 1.0  # tanh output
    assert code.shape == (2, 8 * 8)  # ngf * 8 channels at 1x1
    rf, cat = d(x, fake)
    assert rf.shape == (2,)
    assert cat.shape == (2, 5)


@pytest.mark.parametrize("size", [8, 48, 100, 0, -64, 64.0, True])
def test_bad_image_size_is_a_clear_error(size):
    with pytest.raises(ConfigError, match=r"power of two >= 16"):
        Generator(image_size=size, cfg=TINY_G)
    with pytest.raises(ConfigError, match=r"model.image_size"):
        Discriminator(image_size=size, num_styles=3, cfg=TINY_D)


def test_smallest_size_16_works():
    g = Generator(image_size=16, cfg=TINY_G)
    d = Discriminator(image_size=16, num_styles=5, cfg=dataclasses.replace(TINY_D, blur="input"))
    x = torch.zeros(2, 1, 16, 16)
    assert g(x, torch.tensor([1, 2])).shape == x.shape
    assert d(x, x)[1].shape == (2, 5)


def test_bad_generator_and_discriminator_settings():
    with pytest.raises(ConfigError, match="norm"):
        Generator(image_size=64, cfg=dataclasses.replace(TINY_G, norm="layer"))
    with pytest.raises(ConfigError, match="dropout"):
        Generator(image_size=64, cfg=dataclasses.replace(TINY_G, dropout=1.0))
    with pytest.raises(ConfigError, match="n_layers"):
        Discriminator(image_size=16, num_styles=3, cfg=dataclasses.replace(TINY_D, n_layers=4))
    with pytest.raises(ConfigError, match="blur="):
        Discriminator(image_size=64, num_styles=3, cfg=dataclasses.replace(TINY_D, blur="everywhere"))


def test_instance_norm_variant_runs_and_is_affine():
    cfg = dataclasses.replace(TINY_G, norm="instance")
    g = Generator(image_size=64, cfg=cfg)
    d = Discriminator(image_size=64, num_styles=5, cfg=dataclasses.replace(TINY_D, norm="instance"))
    norms = [m for m in g.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert norms and all(m.affine for m in norms)
    x = torch.rand(2, 1, 64, 64) * 2 - 1
    assert d(x, g(x, torch.tensor([0, 1])))[0].shape == (2,)


# --- encoder and styles ------------------------------------------------------------------------


def test_generate_and_encode_code_is_encode_of_source():
    torch.manual_seed(0)
    g = Generator(image_size=64, cfg=TINY_G).eval()
    x = torch.rand(3, 1, 64, 64) * 2 - 1
    fake, code = g.generate_and_encode(x, torch.tensor([0, 1, 2]))
    torch.testing.assert_close(code, g.encode(x), rtol=0, atol=0)
    assert torch.equal(fake, g(x, torch.tensor([0, 1, 2])))
    # The code really depends on the image (a sanity check that encode is not a constant).
    assert not torch.allclose(g.encode(x), g.encode(-x))


def test_style_vectors_equal_style_ids_and_interpolate():
    torch.manual_seed(0)
    g = Generator(image_size=64, cfg=TINY_G).eval()
    x = torch.rand(2, 1, 64, 64) * 2 - 1
    ids = torch.tensor([1, 3])
    vectors = g.style_embedding(ids)
    torch.testing.assert_close(g(x, style_vectors=vectors), g(x, ids))
    mid = 0.5 * (g.style_embedding.weight[1] + g.style_embedding.weight[3])
    out = g(x[:1], style_vectors=mid[None])
    assert not torch.allclose(out, g(x[:1], ids[:1])) and not torch.allclose(out, g(x[:1], ids[1:]))
    with pytest.raises(ValueError, match="exactly one"):
        g(x, ids, style_vectors=vectors)
    with pytest.raises(ValueError, match="exactly one"):
        g(x)


def test_out_of_range_style_id_names_the_range():
    g = Generator(image_size=64, cfg=TINY_G)
    with pytest.raises(Zi2ziError, match=r"style id 5 .*ids 0-4"):
        g(torch.zeros(1, 1, 64, 64), torch.tensor([5]))


def test_add_styles_keeps_old_rows_and_starts_new_ones_at_the_mean():
    torch.manual_seed(0)
    g = Generator(image_size=64, cfg=TINY_G)
    before = g.style_embedding.weight.detach().clone()
    ids = g.add_styles(2)
    assert ids == [5, 6]
    assert g.num_styles == 7 and g.style_embedding.num_embeddings == 7
    after = g.style_embedding.weight
    assert after.requires_grad
    assert torch.equal(after[:5], before)  # bit-identical
    torch.testing.assert_close(after[5], before.mean(0))
    torch.testing.assert_close(after[6], before.mean(0))
    assert g.add_styles(1, like=[0, 2]) == [7]
    torch.testing.assert_close(g.style_embedding.weight[7], before[[0, 2]].mean(0))
    assert torch.equal(g.style_embedding.weight[:5], before)
    assert g(torch.zeros(1, 1, 64, 64), torch.tensor([7])).shape == (1, 1, 64, 64)
    with pytest.raises(Zi2ziError, match="like"):
        g.add_styles(1, like=[99])


def test_discriminator_add_styles_keeps_old_rows():
    torch.manual_seed(0)
    d = Discriminator(image_size=64, num_styles=3, cfg=TINY_D)
    w, b = d.category_head.weight.detach().clone(), d.category_head.bias.detach().clone()
    assert d.add_styles(2) == [3, 4]
    assert d.num_styles == 5
    assert torch.equal(d.category_head.weight[:3], w) and torch.equal(d.category_head.bias[:3], b)
    assert d(torch.zeros(2, 1, 64, 64), torch.zeros(2, 1, 64, 64))[1].shape == (2, 5)


def test_encoder_parameters_are_exactly_the_down_path():
    g = Generator(image_size=64, cfg=TINY_G)
    enc = {id(p) for p in g.encoder_parameters()}
    down = {id(p) for p in g.down.parameters()}
    up = {id(p) for p in g.up.parameters()}
    assert enc == down and enc
    assert not enc & up
    assert id(g.style_embedding.weight) not in enc
    assert len(enc) + len(up) + 1 == len(list(g.parameters()))


# --- init ------------------------------------------------------------------------------------


def test_build_models_uses_num_styles_and_zi2zi_init():
    torch.manual_seed(0)
    cfg = Config()
    cfg.model.image_size = 64
    g, d = build_models(cfg, num_styles=50)
    assert g.num_styles == 50 and d.num_styles == 50
    big = g.down[4].conv.weight  # 512*512*16 values: tight statistics
    assert abs(big.mean().item()) < 1e-3 and abs(big.std().item() - 0.02) < 1e-3
    bn = torch.cat([m.weight for m in g.modules() if isinstance(m, nn.BatchNorm2d)])
    assert abs(bn.mean().item() - 1.0) < 5e-3 and abs(bn.std().item() - 0.02) < 5e-3
    kinds = (nn.Conv2d, nn.ConvTranspose2d, nn.Linear, nn.BatchNorm2d)
    biases = [m.bias for m in [*g.modules(), *d.modules()] if isinstance(m, kinds) and m.bias is not None]
    assert biases and all(torch.count_nonzero(b) == 0 for b in biases)
    head = d.category_head.weight
    assert abs(head.std().item() - 0.02) < 2e-3
    # zi2zi-pytorch leaves its embedding at N(0, 1).
    assert abs(g.style_embedding.weight.std().item() - 1.0) < 0.1


def test_reset_styles_starts_spare_rows_at_the_mean_and_leaves_the_others():
    cfg = GeneratorConfig(ngf=8, num_styles=5, style_dim=4)
    g = Generator(image_size=32, cfg=cfg, num_styles=5)
    before = g.style_embedding.weight.detach().clone()
    g.reset_styles([3], like=[0, 2])
    after = g.style_embedding.weight.detach()
    assert torch.allclose(after[3], before[[0, 2]].mean(0))
    assert torch.equal(after[[0, 1, 2, 4]], before[[0, 1, 2, 4]])
    d = Discriminator(image_size=32, num_styles=5, cfg=DiscriminatorConfig(ndf=8))
    head = d.category_head.weight.detach().clone()
    d.reset_styles([3])
    assert not torch.equal(d.category_head.weight[3], head[3])
    assert torch.equal(d.category_head.weight[[0, 1, 2, 4]], head[[0, 1, 2, 4]])


# --- speed changes that must not change the math -------------------------------------------------


def _reference_generator_pass(g: Generator, source: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """G's forward written out with out-of-place activations and an un-activated skip, the
    arithmetic the in-place blocks must reproduce exactly."""
    x, feats = source, []
    for block in g.down:
        act = nn.functional.leaky_relu(x, 0.2) if isinstance(block.act, nn.LeakyReLU) else x
        x = block.norm(block.conv(act))
        feats.append(x)
    x = torch.cat([g.style_embedding(style)[:, :, None, None], feats[-1]], dim=1)
    for i in range(g.num_downs - 1, -1, -1):
        if i < g.num_downs - 1:
            x = torch.cat([feats[i], x], dim=1)
        up = g.up[i]
        x = up.out(up.dropout(up.norm(up.conv(torch.relu(x)))))
    return x


@pytest.mark.parametrize("channels_last", [False, True])
def test_in_place_blocks_give_the_same_output_and_gradients(channels_last):
    torch.manual_seed(0)
    g = Generator(image_size=32, cfg=dataclasses.replace(TINY_G, dropout=0.0))
    g.train()
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    g.to(memory_format=fmt)
    source = torch.rand(3, 1, 32, 32).mul(2).sub(1).contiguous(memory_format=fmt)
    style = torch.tensor([0, 1, 2])

    out = g(source, style)
    out.square().sum().backward()
    grads = {n: p.grad.clone() for n, p in g.named_parameters()}
    g.zero_grad()
    ref = _reference_generator_pass(g, source, style)
    ref.square().sum().backward()

    assert torch.equal(out, ref)
    for name, p in g.named_parameters():
        # The two gradient contributions to a skip tensor are summed in another order: float
        # rounding apart (measured: 4e-7 of the largest entry), the same numbers.
        scale = float(p.grad.abs().max())
        torch.testing.assert_close(grads[name], p.grad, rtol=1e-5, atol=1e-5 * scale, msg=name)


def test_dense_gradient_hands_on_the_gradient_in_the_tensors_memory_format():
    from zi2zi.models.blocks import dense_gradient

    x = torch.randn(2, 4, 5, 5).contiguous(memory_format=torch.channels_last).requires_grad_()
    seen = {}
    y = dense_gradient(x)
    y.register_hook(lambda grad: seen.setdefault("incoming", grad))
    x.register_hook(lambda grad: seen.setdefault("outgoing", grad))
    both = torch.cat([y, torch.zeros_like(y)], dim=1)  # hands y a strided slice of its gradient
    (both * torch.arange(both.numel()).reshape(both.shape)).sum().backward()

    incoming, outgoing = seen["incoming"], seen["outgoing"]
    assert not incoming.is_contiguous(memory_format=torch.channels_last) and not incoming.is_contiguous()
    assert outgoing.is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(outgoing, incoming)
    assert torch.equal(y, x)

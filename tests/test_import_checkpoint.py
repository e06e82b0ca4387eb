"""zi2zi import-checkpoint: a zi2zi-pytorch G/D pair, written here in that project's key layout,
becomes a zi2zi checkpoint whose generator computes what the original network computed."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from zi2zi.checkpoints import load_checkpoint, read_metadata
from zi2zi.cli import main
from zi2zi.config import Config
from zi2zi.models import build_models

from clihelpers import fails_with_one_line

SIZE, LEVELS, STYLES, STYLE_DIM = 32, 5, 3, 8


def _their_names(n: int) -> tuple[dict[str, str], dict[str, str]]:
    """zi2zi key -> zi2zi-pytorch key, written from that project's module nesting (see the
    docstring of zi2zi.checkpoints.euphoriayan) so that the test does not reuse the importer."""
    g = {"style_embedding.weight": "embedder.weight"}
    for d in range(n):
        p = "model." + "submodule." * d
        g[f"down.{d}.conv.weight"] = f"{p}down.{0 if d == 0 else 1}.weight"
        g[f"up.{d}.conv.weight"] = f"{p}up.1.weight"
        g[f"up.{d}.conv.bias"] = f"{p}up.1.bias"
        for part in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            g[f"down.{d}.norm.{part}"] = f"{p}down.2.{part}"
            g[f"up.{d}.norm.{part}"] = f"{p}up.2.{part}"
    d_names = {"rf_head.weight": "binary.weight", "rf_head.bias": "binary.bias",
               "category_head.weight": "catagory.weight", "category_head.bias": "catagory.bias",
               "patch.weight": "model.11.weight", "patch.bias": "model.11.bias"}
    for i, (conv, norm) in enumerate(((0, None), (2, 3), (5, 6), (8, 9))):
        d_names[f"layers.{i}.0.weight"] = f"model.{conv}.weight"
        d_names[f"layers.{i}.0.bias"] = f"model.{conv}.bias"
        for part in ("weight", "bias", "running_mean", "running_var", "num_batches_tracked"):
            d_names[f"layers.{i}.1.{part}"] = f"model.{norm}.{part}"
    return g, d_names


def _reference_generator(sd: dict[str, torch.Tensor], x: torch.Tensor, style: torch.Tensor, n: int) -> torch.Tensor:
    """zi2zi-pytorch's U-Net in eval mode, computed straight from its state dict: each level
    downsamples (LeakyReLU, conv, BatchNorm; none of them on the outermost level, no norm on the
    innermost), the innermost joins the style vector in front of its code, and each level's output is
    its input concatenated with its ReLU -> transposed conv -> BatchNorm (tanh on the outermost)."""

    def bn(t: torch.Tensor, p: str) -> torch.Tensor:
        return F.batch_norm(t, sd[p + "running_mean"], sd[p + "running_var"], sd[p + "weight"], sd[p + "bias"])

    def level(d: int, inp: torch.Tensor) -> torch.Tensor:
        p = "model." + "submodule." * d
        if d == 0:
            enc = F.conv2d(inp, sd[p + "down.0.weight"], stride=2, padding=1)
        else:
            enc = F.conv2d(F.leaky_relu(inp, 0.2), sd[p + "down.1.weight"], stride=2, padding=1)
            if d < n - 1:
                enc = bn(enc, p + "down.2.")
        inner = torch.cat([style[:, :, None, None], enc], 1) if d == n - 1 else level(d + 1, enc)
        dec = F.conv_transpose2d(F.relu(inner), sd[p + "up.1.weight"], sd.get(p + "up.1.bias"), stride=2, padding=1)
        if d == 0:
            return torch.tanh(dec)
        return torch.cat([inp, bn(dec, p + "up.2.")], 1)

    return level(0, x)


@pytest.fixture
def their_files(tmp_path):
    cfg = Config()
    cfg.model.image_size = SIZE
    cfg.model.generator.ngf, cfg.model.generator.style_dim = 4, STYLE_DIM
    cfg.model.discriminator.ndf, cfg.model.discriminator.blur = 4, "none"
    torch.manual_seed(1)
    G, D = build_models(cfg, STYLES)
    with torch.no_grad():  # running statistics that are not the defaults, so a mix-up shows
        for name, buf in list(G.named_buffers()) + list(D.named_buffers()):
            if name.endswith("running_mean"):
                buf.normal_(0, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
    g_names, d_names = _their_names(LEVELS)
    # As zi2zi-pytorch saves them under nn.DataParallel: a "module." prefix.
    g_sd = {"module." + g_names[k]: v for k, v in G.state_dict().items()}
    d_sd = {d_names[k]: v for k, v in D.state_dict().items()}
    torch.save(g_sd, tmp_path / "20_net_G.pth")
    torch.save(d_sd, tmp_path / "20_net_D.pth")
    return tmp_path, G.eval(), D.eval(), {k.removeprefix("module."): v for k, v in g_sd.items()}


def test_imported_checkpoint_computes_what_the_original_did(capsys, their_files):
    folder, G, D, their_sd = their_files
    out = folder / "imported.safetensors"
    assert main(["import-checkpoint", "--generator", str(folder / "20_net_G.pth"), "--discriminator",
                 str(folder / "20_net_D.pth"), "--out", str(out), "--style-name", "A", "--style-name", "B",
                 "--style-name", "C"]) == 0
    meta = read_metadata(out)
    assert [s["name"] for s in meta["styles"]] == ["A", "B", "C"] and meta["epoch"] == 20
    loaded = load_checkpoint(out)
    torch.manual_seed(2)
    x = torch.rand(4, 1, SIZE, SIZE) * 2 - 1
    ids = torch.tensor([0, 1, 2, 1])
    with torch.no_grad():
        ours = loaded.generator(x, ids)
        reference = _reference_generator(their_sd, x, their_sd["embedder.weight"][ids], LEVELS)
        assert torch.allclose(ours, reference, atol=1e-6)
        assert torch.equal(ours, G(x, ids))
        fake = G(x, ids)
        for a, b in zip(loaded.discriminator(x, fake), D(x, fake)):
            assert torch.equal(a, b)


def test_imported_checkpoint_generates_and_fine_tunes(capsys, their_files, tiny_fonts, make_tiny_dataset, tmp_path):
    folder, *_ = their_files
    out = folder / "imported.safetensors"
    assert main(["import-checkpoint", "--generator", str(folder / "20_net_G.pth"), "--out", str(out)]) == 0
    assert "freshly initialised" in capsys.readouterr().err
    assert main(["generate", "--checkpoint", str(out), "--style", "style 1", "--source-font", str(tiny_fonts["source"]),
                 "--chars", "的一", "--out", str(tmp_path / "g"), "--device", "cpu"]) == 0
    assert json.loads((tmp_path / "g" / "manifest.json").read_text())["style"]["name"] == "style 1"
    from zi2zi.training.options import TrainOptions
    from zi2zi.training.trainer import train

    from trainhelpers import tiny_config

    summary = train(TrainOptions(data=make_tiny_dataset(styles=("light",)), out=tmp_path / "ft", init_from=out, new_style="Mine",
                                 config=tiny_config("train.max_steps=1", "train.checkpoint_every=1",
                                                    "train.sample_every=0", "train.eval_every=0"),
                                 progress=False))
    assert summary.step == 1 and summary.last_checkpoint is not None


def test_refuses_pickled_code_and_other_layouts(capsys, tmp_path):
    import pathlib

    class Payload:
        def __reduce__(self):
            return (pathlib.Path.touch, (tmp_path / "ran",))

    torch.save({"embedder.weight": torch.zeros(2, 2), "x": Payload()}, tmp_path / "1_net_G.pth")
    fails_with_one_line(capsys, ["import-checkpoint", "--generator", tmp_path / "1_net_G.pth", "--out",
                                 tmp_path / "o.safetensors"], "1_net_G.pth", "safely")
    assert not (tmp_path / "ran").exists()
    torch.save({"weight": torch.zeros(2)}, tmp_path / "2_net_G.pth")
    fails_with_one_line(capsys, ["import-checkpoint", "--generator", tmp_path / "2_net_G.pth", "--out",
                                 tmp_path / "o.safetensors"], "not a zi2zi-pytorch generator")


def test_the_two_files_swapped_or_given_twice_are_named(capsys, their_files):
    folder, *_ = their_files
    g, d, out = folder / "20_net_G.pth", folder / "20_net_D.pth", folder / "o.safetensors"
    fails_with_one_line(capsys, ["import-checkpoint", "--generator", g, "--discriminator", g, "--out", out],
                        "--discriminator", "is a generator file", "N_net_D.pth")
    fails_with_one_line(capsys, ["import-checkpoint", "--generator", d, "--out", out],
                        "--generator", "is a discriminator file", "N_net_G.pth")
    assert not out.exists()


def test_an_import_that_finds_no_room_is_one_line_and_leaves_nothing(their_files):
    import resource
    import subprocess
    import sys

    folder, *_ = their_files
    whole = folder / "whole.safetensors"
    assert main(["import-checkpoint", "--generator", str(folder / "20_net_G.pth"), "--out", str(whole)]) == 0
    limit = whole.stat().st_size // 2

    def no_room() -> None:  # a real failure of the write: past this size the kernel says EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    out = folder / "imported.safetensors"
    done = subprocess.run([sys.executable, "-m", "zi2zi", "import-checkpoint", "--generator",
                           str(folder / "20_net_G.pth"), "--out", str(out)],
                          capture_output=True, text=True, timeout=120, preexec_fn=no_room)
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert done.returncode == 1 and len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
    assert str(out) in errors[0] and "larger than this system allows" in errors[0]
    assert sorted(p.name for p in folder.iterdir()) == ["20_net_D.pth", "20_net_G.pth", "whole.safetensors"]

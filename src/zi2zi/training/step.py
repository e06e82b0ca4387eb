"""The GAN step: everything one training iteration does to the networks, behind a narrow contract.

The loop (:mod:`zi2zi.training.trainer`) only calls ``set_input`` / ``optimize`` /
``current_losses`` (after pix2pix's contract) plus a few housekeeping methods; it
never knows which GAN it runs. :class:`Zi2ziStep` is zi2zi's recipe:

* one D step, then ``g_steps_per_d`` G steps (zi2zi: 2). The first G step reuses the fakes of the
  D step's forward pass (judged by the freshly updated D); each further G step generates again.
* D loss = gan(real, fake) + category_weight * (CE(real) + CE(fake)) / 2  (zi2zi-pytorch's form).
* G loss = gan(fake) + l1_weight * L1(fake, target) + const_weight * MSE(enc(source), enc(fake))
  + category_weight * CE(fake) + tv_weight * TV(fake).
  CE is ``loss.category_form``: by default zi2zi's own per-class sigmoid cross-entropy.
* ``loss.adversarial=False`` drops D altogether: no D step, and G's loss keeps only its L1, const
  and TV terms.

``flip_labels`` (zi2zi's label shuffling, from kaonashi-tyc/zi2zi's "no target" examples): each
batch also renders its sources in styles drawn at random from those being trained. Those fakes have no target, so no L1;
D learns to call them fake and to name the style they were asked for, and G learns to fool D on
them, to make them look like that style (category) and to keep their content (const loss). The
idea is to stop D from winning by memorising real pairs (the saturation users complain about).
Where the original summed the extra terms (doubling D's fake side) we average each term over the
two kinds of fakes, which keeps the real/fake balance of the plain recipe; and the shuffled fakes
are generated with the shuffled labels (one version of the original passed the true ones).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Protocol

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel as DDP

from zi2zi.config import Config, ConfigError
from zi2zi.errors import Zi2ziError
from zi2zi.models import Discriminator, Generator
from zi2zi.training import losses


class NonFiniteLossError(Zi2ziError):
    """A loss became NaN or infinite; raised before the optimiser step that would spread it."""

    def __init__(self, names: list[str], values: dict[str, float]):
        self.names = names
        self.values = values
        detail = ", ".join(f"{n}={values[n]}" for n in names)
        super().__init__(f"non-finite loss {detail}")


class GanStep(Protocol):
    """What the training loop needs from a GAN."""

    def set_input(self, batch: dict[str, torch.Tensor]) -> None: ...
    def optimize(self) -> None: ...
    def current_losses(self) -> dict[str, float]: ...
    def set_lr(self, lr: float) -> None: ...
    def set_step(self, step: int) -> dict[str, float]: ...
    def networks(self) -> dict[str, nn.Module]: ...
    def predict(self, source: torch.Tensor, style: torch.Tensor) -> torch.Tensor: ...
    def state_dict(self) -> dict[str, Any]: ...
    def load_state_dict(self, state: dict[str, Any]) -> None: ...


@dataclass(frozen=True)
class Precision:
    """Autocast settings: ``dtype`` None means full fp32; fp16 also needs gradient scaling."""

    device_type: str = "cpu"
    dtype: torch.dtype | None = None

    @property
    def scaled(self) -> bool:
        return self.dtype == torch.float16

    def autocast(self):
        if self.dtype is None:
            return nullcontext()
        return torch.autocast(device_type=self.device_type, dtype=self.dtype)


class _GeneratorPass(nn.Module):
    """G's whole training forward in one call (fakes and both bottleneck codes), so that DDP sees
    every use of G's parameters, the const loss's second encoder pass included, in one forward."""

    def __init__(self, g: Generator):
        super().__init__()
        self.g = g

    def forward(
        self, source: torch.Tensor, style: torch.Tensor, flipped: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, ...]:
        fake, code = self.g.generate_and_encode(source, style)  # (B, 1, S, S), (B, C)
        out: tuple[torch.Tensor, ...] = (fake, code, self.g.encode(fake))
        if flipped is not None:
            fake_f, code_f = self.g.generate_and_encode(source, flipped)
            out += (fake_f, code_f, self.g.encode(fake_f))
        return out


class _Judge(nn.Module):
    """D on several image sets against the same sources, one D call each (so each set keeps its own
    BatchNorm statistics, as zi2zi), in one module call for DDP."""

    def __init__(self, d: Discriminator):
        super().__init__()
        self.d = d

    def forward(self, source: torch.Tensor, *images: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out: tuple[torch.Tensor, ...] = ()
        for img in images:
            out += tuple(self.d(source, img))  # rf (B,), category (B, K)
        return out


class Zi2ziStep:
    """zi2zi's D/G updates on one batch. See the module docstring for the losses.

    ``trainable_styles``: when given, the gradient rows of every other style embedding are zeroed
    (fine-tuning some styles leaves the others bit-identical under Adam, whose update is exactly 0
    for a parameter entry that never had a gradient). ``flip_generator`` draws the shuffled labels.
    """

    def __init__(
        self,
        generator: Generator,
        discriminator: Discriminator,
        cfg: Config,
        *,
        device: torch.device,
        precision: Precision = Precision(),
        ddp: bool = False,
        freeze_encoder: bool = False,
        trainable_styles: list[int] | None = None,
        flip_styles: list[int] | None = None,
        flip_generator: torch.Generator | None = None,
    ) -> None:
        if cfg.loss.g_steps_per_d < 1:
            raise ConfigError(f"loss.g_steps_per_d={cfg.loss.g_steps_per_d} must be >= 1 (zi2zi: 2)")
        self.cfg = cfg
        self.G, self.D = generator, discriminator
        self.device = device
        self.precision = precision
        self.channels_last = cfg.train.channels_last
        # zi2zi's fine-tuning: no gradients and no optimiser for the encoder. As in zi2zi, its
        # BatchNorm running statistics still follow the new data (they are not weights).
        if freeze_encoder:
            for p in self.G.encoder_parameters():
                p.requires_grad_(False)
        if trainable_styles:
            emb = self.G.style_embedding.weight
            mask = torch.zeros(emb.shape[0], 1, dtype=emb.dtype, device=emb.device)
            mask[torch.as_tensor(sorted(set(trainable_styles)), dtype=torch.long)] = 1.0
            self._style_mask = mask
            emb.register_hook(lambda grad: grad * self._style_mask.to(grad.dtype))
        self.flip_styles = torch.as_tensor(sorted(set(flip_styles or [])), dtype=torch.long)
        self.flip_generator = flip_generator or torch.Generator().manual_seed(cfg.train.seed)

        gen_pass, judge = _GeneratorPass(self.G), _Judge(self.D)
        self.ddp = ddp
        if ddp:
            ids = [device.index] if device.type == "cuda" else None
            self.gen_pass: nn.Module = DDP(gen_pass, device_ids=ids)
            self.judge: nn.Module = DDP(judge, device_ids=ids)
        else:
            self.gen_pass, self.judge = gen_pass, judge
        self._judge_local = judge  # G steps skip D's gradient sync: D is not updated there
        self.split_d_backward = not ddp

        t = cfg.train
        g_params = [p for p in self.G.parameters() if p.requires_grad]
        self.opt_g = torch.optim.Adam(g_params, lr=t.lr, betas=(t.beta1, t.beta2))
        self.opt_d = torch.optim.Adam(self.D.parameters(), lr=t.lr, betas=(t.beta1, t.beta2))
        self.scaler_g = torch.amp.GradScaler(device.type, enabled=precision.scaled)
        self.scaler_d = torch.amp.GradScaler(device.type, enabled=precision.scaled)
        self._losses: dict[str, torch.Tensor] = {}

    # ---- contract ----------------------------------------------------------------------------

    def set_input(self, batch: dict[str, torch.Tensor]) -> None:
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        self.source = batch["source"].to(self.device, non_blocking=True).contiguous(memory_format=fmt)
        self.target = batch["target"].to(self.device, non_blocking=True).contiguous(memory_format=fmt)
        self.style = batch["style"].to(self.device, non_blocking=True).long()
        self.flipped = None
        if self.cfg.loss.flip_labels and len(self.flip_styles):
            pick = torch.randint(len(self.flip_styles), (self.style.shape[0],), generator=self.flip_generator)
            self.flipped = self.flip_styles[pick].to(self.device)

    def optimize(self) -> None:
        outs = self._generate()
        if self.cfg.loss.adversarial:
            self._step_d(outs)
        self._step_g(outs)
        for _ in range(self.cfg.loss.g_steps_per_d - 1):
            self._step_g(self._generate())

    def current_losses(self) -> dict[str, float]:
        """Unweighted loss terms of the last D step and the last G step, plus the weighted totals."""
        if not self._losses:
            return {}
        names = list(self._losses)
        values = torch.stack([self._losses[n].detach().float() for n in names]).cpu().tolist()
        return dict(zip(names, values))

    def set_lr(self, lr: float) -> None:
        for opt in (self.opt_g, self.opt_d):
            for group in opt.param_groups:
                group["lr"] = lr

    def set_step(self, step: int) -> dict[str, float]:
        """Apply step-dependent model schedules (D's blur fade); returns them for the log."""
        return {"d_blur_sigma": float(self.D.set_step(step))}

    def networks(self) -> dict[str, nn.Module]:
        return {"generator": self.G, "discriminator": self.D}

    @torch.no_grad()
    def predict(self, source: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """G's output for evaluation; the caller puts the networks in eval mode."""
        fmt = torch.channels_last if self.channels_last else torch.contiguous_format
        source = source.to(self.device).contiguous(memory_format=fmt)
        with self.precision.autocast():
            return self.G(source, style.to(self.device).long()).float()

    def state_dict(self) -> dict[str, Any]:
        return {
            "opt_g": self.opt_g.state_dict(),
            "opt_d": self.opt_d.state_dict(),
            "scaler_g": self.scaler_g.state_dict(),
            "scaler_d": self.scaler_d.state_dict(),
            "flip_generator": self.flip_generator.get_state(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])
        if state.get("scaler_g"):
            self.scaler_g.load_state_dict(state["scaler_g"])
        if state.get("scaler_d"):
            self.scaler_d.load_state_dict(state["scaler_d"])
        self.flip_generator.set_state(state["flip_generator"])

    # ---- zi2zi -------------------------------------------------------------------------------

    def _generate(self) -> tuple[torch.Tensor, ...]:
        with self.precision.autocast():
            return self.gen_pass(self.source, self.style, self.flipped)

    def _category(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return losses.category_loss(logits.float(), labels, form=self.cfg.loss.category_form)

    def _step_d(self, outs: tuple[torch.Tensor, ...]) -> None:
        lc = self.cfg.loss
        fakes = [outs[0].detach()] + ([outs[3].detach()] if self.flipped is not None else [])
        n = len(fakes)
        fake_labels = self.style if self.flipped is None else torch.cat([self.style, self.flipped])
        self.D.requires_grad_(True)
        self.opt_d.zero_grad(set_to_none=True)
        if self.split_d_backward:
            # D's loss is a term in the real pair plus a term in the fakes (every GAN loss in
            # zi2zi.training.losses is such a sum), so back-propagating the two in turn gives the
            # same gradients while only one D pass's activations are alive at a time (~0.4 GB less
            # at 256 px, batch 16). The other side's logits only fill the loss's unused argument.
            with self.precision.autocast():
                real_rf, real_cat = self._judge_local(self.source, self.target)
            real_rf = real_rf.float().repeat(n)  # once per kind of fake: real and fake weigh the same
            cat_real = self._category(real_cat, self.style)
            part = losses.d_gan_loss(real_rf, torch.zeros_like(real_rf), lc.gan_mode) + lc.category_weight * cat_real / 2
            self.scaler_d.scale(part).backward()
            with self.precision.autocast():
                judged = self._judge_local(self.source, *fakes)
            fake_rf, fake_cat = self._merge(judged)
            cat_fake = self._category(fake_cat, fake_labels)
            part = losses.d_gan_loss(real_rf.detach(), fake_rf, lc.gan_mode) + lc.category_weight * cat_fake / 2
            self.scaler_d.scale(part).backward()
            real_rf, fake_rf = real_rf.detach(), fake_rf.detach()
            d_cat = (cat_real.detach() + cat_fake.detach()) / 2
        else:
            # DDP's reducer expects one backward per forward: judge everything in one call.
            with self.precision.autocast():
                judged = self.judge(self.source, self.target, *fakes)
            real_rf = judged[0].float().repeat(n)
            fake_rf, fake_cat = self._merge(judged[2:])
            d_cat = (self._category(judged[1], self.style) + self._category(fake_cat, fake_labels)) / 2
        d_gan = losses.d_gan_loss(real_rf, fake_rf, lc.gan_mode)
        d_loss = d_gan + lc.category_weight * d_cat
        self._check({"d_loss": d_loss, "d_gan": d_gan, "d_category": d_cat})
        if not self.split_d_backward:
            self.scaler_d.scale(d_loss).backward()
        self.scaler_d.step(self.opt_d)
        self.scaler_d.update()
        self.opt_d.zero_grad(set_to_none=True)  # no gradients held while G works
        self._losses.update(d_loss=d_loss.detach(), d_gan=d_gan.detach(), d_category=d_cat.detach())

    @staticmethod
    def _merge(judged: tuple[torch.Tensor, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """(rf, category) pairs of several image sets -> rf (N*B,) fp32 and category (N*B, K)."""
        rf = torch.cat([judged[i].float() for i in range(0, len(judged), 2)])
        return rf, torch.cat([judged[i] for i in range(1, len(judged), 2)])

    def _step_g(self, outs: tuple[torch.Tensor, ...]) -> None:
        lc = self.cfg.loss
        fake, code, fake_code = outs[:3]
        fakes, codes, fake_codes, labels = [fake], [code], [fake_code], self.style
        if self.flipped is not None:
            fakes.append(outs[3])
            codes.append(outs[4])
            fake_codes.append(outs[5])
            labels = torch.cat([self.style, self.flipped])
        l1 = torch.nn.functional.l1_loss(fake.float(), self.target.float())
        const = losses.const_loss(torch.cat(codes).float(), torch.cat(fake_codes).float())
        self.D.requires_grad_(False)  # gradients flow through D to G, not into D
        if lc.adversarial:
            with self.precision.autocast():
                judged = self._judge_local(self.source, *fakes)
            fake_rf, fake_cat = self._merge(judged)
            g_gan = losses.g_gan_loss(fake_rf, lc.gan_mode)
            g_cat = self._category(fake_cat, labels)
            terms = {"g_gan": g_gan, "l1": l1, "const": const, "g_category": g_cat}
            g_loss = g_gan + lc.l1_weight * l1 + lc.const_weight * const + lc.category_weight * g_cat
        else:
            terms = {"l1": l1, "const": const}
            g_loss = lc.l1_weight * l1 + lc.const_weight * const
        if lc.tv_weight:
            tv = losses.tv_loss(fake.float())
            g_loss = g_loss + lc.tv_weight * tv
            terms["tv"] = tv
        self._check({"g_loss": g_loss, **terms})
        self.opt_g.zero_grad(set_to_none=True)
        self.scaler_g.scale(g_loss).backward()
        self.scaler_g.step(self.opt_g)
        self.scaler_g.update()
        self.opt_g.zero_grad(set_to_none=True)  # G's gradients (one copy of G) are not kept around
        self.D.requires_grad_(True)
        self._losses.update(g_loss=g_loss.detach(), **{k: v.detach() for k, v in terms.items()})

    def _check(self, terms: dict[str, torch.Tensor]) -> None:
        """Stop before an optimiser step would write NaN/Inf into the weights (one sync)."""
        stacked = torch.stack([t.detach().float() for t in terms.values()])
        bad = (~torch.isfinite(stacked).all()).float().reshape(1)
        if self.ddp:  # every rank must stop together, or the others wait forever in all-reduce
            dist.all_reduce(bad, op=dist.ReduceOp.MAX)
        if not bool(bad.item()):
            return
        values = dict(zip(terms, stacked.cpu().tolist()))
        names = [n for n, v in values.items() if not torch.isfinite(torch.tensor(v))]
        raise NonFiniteLossError(names, values)

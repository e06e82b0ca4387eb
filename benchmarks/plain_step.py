"""The reference the trainer's step must beat: zi2zi's iteration as a textbook writes it.

Same G and D modules and the same losses as :class:`zi2zi.training.step.Zi2ziStep`, in straight-line
code with none of its features (no split D backward, no NaN check, no autocast, no DDP wrapping),
in zi2zi's own order (zi2zi-pytorch's ``optimize_parameters``): G forward, D on the real and the
fake pair with one D backward, a G step on that same forward, then ``g_steps_per_d - 1`` more G
steps, each on a fresh G forward; every G step has the const loss's second encoder pass.
Benchmarks time both in the same run; the ratio between them holds across machines where
absolute times do not.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from zi2zi.config import Config
from zi2zi.models import Discriminator, Generator
from zi2zi.training import losses


class PlainStep:
    def __init__(self, g: Generator, d: Discriminator, cfg: Config) -> None:
        t = cfg.train
        self.g, self.d, self.loss = g, d, cfg.loss
        self.opt_g = torch.optim.Adam(g.parameters(), lr=t.lr, betas=(t.beta1, t.beta2))
        self.opt_d = torch.optim.Adam(d.parameters(), lr=t.lr, betas=(t.beta1, t.beta2))

    def optimize(self, source: torch.Tensor, target: torch.Tensor, style: torch.Tensor) -> None:
        lc = self.loss
        fake, code = self.g.generate_and_encode(source, style)
        # D: real pair and fake pair, one backward.
        real_rf, real_cat = self.d(source, target)
        fake_rf, fake_cat = self.d(source, fake.detach())
        d_loss = (losses.d_gan_loss(real_rf, fake_rf, lc.gan_mode)
                  + lc.category_weight * (losses.category_loss(real_cat, style, form=lc.category_form)
                                          + losses.category_loss(fake_cat, style, form=lc.category_form)) / 2)
        self.opt_d.zero_grad()
        d_loss.backward()
        self.opt_d.step()
        # G: the first step on the forward D judged, then fresh forwards; D's weights get no
        # gradients here (pix2pix's set_requires_grad(D, False)).
        self.d.requires_grad_(False)
        for i in range(lc.g_steps_per_d):
            if i:
                fake, code = self.g.generate_and_encode(source, style)
            fake_rf, fake_cat = self.d(source, fake)
            g_loss = (losses.g_gan_loss(fake_rf, lc.gan_mode)
                      + lc.l1_weight * F.l1_loss(fake, target)
                      + lc.const_weight * losses.const_loss(code, self.g.encode(fake))
                      + lc.category_weight * losses.category_loss(fake_cat, style, form=lc.category_form))
            self.opt_g.zero_grad()
            g_loss.backward()
            self.opt_g.step()
        self.d.requires_grad_(True)

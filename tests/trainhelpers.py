"""Tiny training configs shared by the trainer, checkpoint and DDP tests."""

from __future__ import annotations

from pathlib import Path

from zi2zi.config import Config, load_config
from zi2zi.training.runlog import read_metrics

# A model of a few thousand parameters at 32 px: an iteration takes ~0.05 s on one core. One
# thread: the test machine is shared, and OpenMP threads spinning against other processes make
# tiny convolutions ~10x slower.
TINY = [
    "model.image_size=32",
    "model.generator.ngf=8",
    "model.generator.style_dim=8",
    "model.discriminator.ndf=8",
    "train.batch_size=8",
    "train.max_steps=6",
    "train.checkpoint_every=3",
    "train.eval_every=3",
    "train.sample_every=3",
    "train.log_every=1",
    "train.eval_max_chars=8",
    "train.num_threads=1",
    "train.deterministic=true",
    "train.device=cpu",
]

LOSS_KEYS = ("d_loss", "d_gan", "d_category", "g_loss", "g_gan", "l1", "const", "g_category")


def tiny_overrides(*extra: str) -> list[str]:
    return TINY + list(extra)


def tiny_config(*extra: str) -> Config:
    return load_config("cpu-small", overrides=tiny_overrides(*extra))


def train_records(run_dir: Path) -> list[dict]:
    return [r for r in read_metrics(Path(run_dir) / "metrics.jsonl") if r.get("kind") == "train"]

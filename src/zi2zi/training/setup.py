"""Setting a training run up: the run directory, the plan, the models and the GAN step, the data,
and the position to start from (step 0, or a checkpoint's); and the checkpoints that record that
position. :class:`~zi2zi.training.trainer.Trainer` runs the loop over what this builds.

Reproducibility: the data order, augmentation, label shuffling and dropout all come from seeded
generators whose states are saved with each checkpoint, so a run killed at any point and resumed
from its last checkpoint computes the same losses as one never stopped (bit for bit on CPU; on a
GPU with ``train.deterministic``, which also asks torch for deterministic kernels).
"""

from __future__ import annotations

import copy
import sys
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import torch

from zi2zi import checkpoints as ckpt
from zi2zi.config import Config, ConfigError
from zi2zi.errors import CheckpointError, DatasetError, TrainingError, describe_os_error
from zi2zi.storage import claim_folder, copy_file
from zi2zi.training import distributed as ddp
from zi2zi.training import rundir, runtime, styles
from zi2zi.training.options import TrainOptions
from zi2zi.training.pairs import Subset, load_optional_split, load_split
from zi2zi.training.plan import RunPlan, plan_run
from zi2zi.training.samples import pick_sample_indices
from zi2zi.training.step import Zi2ziStep

SAMPLES_PER_STYLE = 4


class TrainingRun:
    """A run ready to train, built from :class:`TrainOptions` on construction: the resolved config
    (``cfg``) and style plan, G and D with their GAN step (``gan``), the training pairs, the fixed
    validation and sample pairs, and the position (``step``, ``epoch``, ``batch_in_epoch``, best
    validation L1, last checkpoint). Rank 0 alone writes the run directory, holding its lock until
    :meth:`close`."""

    def __init__(self, options: TrainOptions, *, dist_info: ddp.DistInfo | None = None) -> None:
        self.options = options.check()
        config = copy.deepcopy(options.config)
        if options.device:
            config.train.device = options.device
        self.data_dir, self.run_dir = Path(options.data), Path(options.out)
        self.dist = dist_info or ddp.env_dist_info()
        self.is_main = self.dist.is_main
        self.echo = options.echo or (lambda msg: print(msg, file=sys.stderr, flush=True))
        self.device = ddp.resolve_device(config.train.device, self.dist)
        self._held = ExitStack()  # the run directory's lock, on rank 0
        created = self.is_main and not self.run_dir.exists()
        try:
            self._setup(config)
        except BaseException:
            self.close()
            if created:
                self._remove_refused_start()
            raise

    def _setup(self, config: Config) -> None:
        ddp.init_process_group(self.dist, self.device)
        # The dataset is read before the run folder is claimed and cleared: a mistyped --data given
        # with --overwrite must not cost the run already there.
        self.train_data: Any = load_split(self.data_dir, "train")
        if self.is_main:
            said: set[str] = set()  # the check runs before and after taking the lock: say each note once

            def notify(message: str) -> None:
                if message not in said:
                    said.add(message)
                    self.echo(message)

            check = partial(rundir.check, self.run_dir, resume=self.options.resume, overwrite=self.options.overwrite,
                            notify=notify)
            resume_from = self._held.enter_context(claim_folder(self.run_dir, rundir.KIND, check, notify=self.echo))
            rundir.prepare(self.run_dir, resume_from)
        ddp.barrier(self.dist)
        if not self.is_main:
            # The checkpoint rank 0 chose: the newest intact one (see rundir.check).
            resume_from = ckpt.newest_intact(self.run_dir, lambda _: None) if self.options.resume else None
        run = plan_run(
            config, self.train_data.manifest, data_dir=self.data_dir, run_dir=self.run_dir,
            resume_from=resume_from, init_from=self.options.init_from, new_style=self.options.new_style,
            only_new_styles=self.options.only_new_styles, image_size_from_data=self.options.image_size_from_data,
            fresh_discriminator=self.options.discriminator_config if self.options.fresh_discriminator else None,
        )
        self.cfg, self.plan, self.notes = run.config, run.styles, run.notes
        runtime.configure_torch(self.cfg.train, self.device)
        self._build_models(run)
        self._build_step()
        self._set_position(run, resume_from)
        self.val_data = load_optional_split(self.data_dir, "val")
        self._prepare_eval_sets()

    def close(self) -> None:
        self._held.close()

    def _remove_refused_start(self) -> None:
        """A start refused during setup (no data, a batch larger than the data) leaves no folder
        behind: the one this run created holds at most the marker :func:`rundir.prepare` wrote."""
        if self.run_dir.is_dir() and {p.name for p in self.run_dir.iterdir()} <= {rundir.KIND.marker}:
            (self.run_dir / rundir.KIND.marker).unlink(missing_ok=True)
            self.run_dir.rmdir()

    # ---- setup -------------------------------------------------------------------------------

    def _build_models(self, run: RunPlan) -> None:
        from zi2zi.models import Discriminator, build_models

        runtime.set_seeds(self.cfg.train.seed)  # identical initial weights on every rank
        previous_info: dict[str, Any] | None = None
        self.init_from: str | None = None
        if run.saved is not None and run.resume_from is not None:
            resumed = ckpt.load_checkpoint(run.resume_from, device="cpu")
            self.G, self.D = resumed.generator, resumed.discriminator
            previous_info = run.saved.get("data_info")
            self.init_from = run.saved.get("init_from")
        elif run.init_checkpoint is not None:
            loaded = ckpt.load_checkpoint(run.init_checkpoint, device="cpu")
            self.G, self.D = loaded.generator, loaded.discriminator
            if self.plan.added:
                trained = [int(s["id"]) for s in loaded.styles] or None
                styles.claim_rows(self.G, self.D, self.plan.added, like=trained)
            if self.options.fresh_discriminator:
                # The base's D already tells its own styles' fakes apart; a new style's G learns
                # better against a D that learns the new style with it (zi2zi.finetune.recipe).
                self.D = Discriminator(image_size=self.cfg.model.image_size, num_styles=self.G.num_styles,
                                       cfg=self.cfg.model.discriminator)
            previous_info = loaded.data_info
            self.init_from = str(run.init_checkpoint)
        else:
            self.G, self.D = build_models(self.cfg, self.cfg.model.generator.num_styles)
        self.data_info = styles.data_info(self.train_data.manifest, self.plan, previous_info)
        self._lookup = torch.from_numpy(self.plan.lookup())
        self._select_training_pairs()
        for net in (self.G, self.D):
            net.to(self.device)
            if self.cfg.train.channels_last:
                net.to(memory_format=torch.channels_last)  # type: ignore[call-overload]  # missing from torch's stubs
            net.train()

    def _build_step(self) -> None:
        seed, rank = self.cfg.train.seed, self.dist.rank
        trained_ids = sorted({int(self._lookup[s]) for s in np.unique(self.train_data.style_ids)})
        self.gan = Zi2ziStep(
            self.G, self.D, self.cfg, device=self.device,
            precision=runtime.precision(runtime.preferred_amp(self.cfg.train.amp, self.device), self.device),
            ddp=self.dist.enabled,
            freeze_encoder=self.cfg.train.freeze_encoder, trainable_styles=self.cfg.train.train_styles or None,
            flip_styles=trained_ids, flip_generator=torch.Generator().manual_seed(seed + 7919 * (1 + rank)),
        )
        self.augment_generator = torch.Generator().manual_seed(seed + 104729 * (1 + rank))
        # Dropout differs per rank (it should: different data), initial weights did not.
        torch.manual_seed(seed + 15485863 * rank)

    def _set_position(self, run: RunPlan, resume_from: Path | None) -> None:
        self.per_rank = len(self.train_data) // self.dist.world_size
        self.steps_per_epoch = self.per_rank // self.cfg.train.batch_size
        if self.steps_per_epoch == 0:
            raise DatasetError(
                f"{self.data_dir} has {len(self.train_data)} training pairs"
                + (f" ({self.per_rank} per process)" if self.dist.enabled else "")
                + f", fewer than one batch of train.batch_size={self.cfg.train.batch_size}; "
                "lower the batch size or render more characters"
            )
        t = self.cfg.train
        self.total_steps = t.max_steps if t.max_steps > 0 else t.epochs * self.steps_per_epoch
        self.step = self.epoch = self.batch_in_epoch = 0
        self.best_val_l1: float | None = None
        self.last_checkpoint: Path | None = None
        self.last_metrics: dict[str, float] = {}
        if resume_from is not None and run.saved is not None:
            self._load_state(resume_from, run.saved)

    def _select_training_pairs(self) -> None:
        """Drop pairs whose style is not trained (train.train_styles, in model ids)."""
        wanted = self.cfg.train.train_styles
        if not wanted:
            return
        known = {s["id"] for s in self.plan.styles}
        unknown = sorted(set(wanted) - set(range(self.cfg.model.generator.num_styles)))
        if unknown:
            raise ConfigError(
                f"train.train_styles has style id {unknown[0]}, but the model has ids 0-"
                f"{self.cfg.model.generator.num_styles - 1} (styles: "
                + ", ".join(f"{s['id']}={s['name']}" for s in self.plan.styles)
                + ")"
            )
        model_ids = self._lookup[torch.from_numpy(self.train_data.style_ids)].numpy()
        keep = np.isin(model_ids, np.asarray(wanted))
        if not keep.any():
            raise DatasetError(
                f"none of {self.data_dir}'s training pairs has a style in train.train_styles={wanted} "
                f"(its styles map to model ids {sorted(set(model_ids.tolist()))}; known: {sorted(known)})"
            )
        self.train_data = Subset(self.train_data, np.flatnonzero(keep))

    def _prepare_eval_sets(self) -> None:
        """A fixed choice of validation pairs for metrics and for the sample grids."""
        val: Any = self.val_data if self.val_data is not None and len(self.val_data) else None
        wanted = self.cfg.train.train_styles
        if val is not None and wanted:
            model_ids = self._lookup[torch.from_numpy(val.style_ids)].numpy()
            keep = np.flatnonzero(np.isin(model_ids, np.asarray(wanted)))
            val = Subset(val, keep) if len(keep) else None
        self.eval_source = val
        if val is None:
            self.notes.append("the dataset has no validation split: no validation metrics, samples from training pairs")
            self.eval_indices = np.zeros(0, dtype=np.int64)
            sample_from = self.train_data
        else:
            n, cap = len(val), self.cfg.train.eval_max_chars
            order = torch.randperm(n, generator=torch.Generator().manual_seed(self.cfg.train.seed)).numpy()
            self.eval_indices = np.sort(order[: cap if cap > 0 else n])
            sample_from = val
        self.sample_source = sample_from
        self.sample_indices = pick_sample_indices(sample_from.style_ids, SAMPLES_PER_STYLE, seed=self.cfg.train.seed)

    # ---- batches -----------------------------------------------------------------------------

    def epoch_order(self, epoch: int) -> np.ndarray:
        perm = torch.randperm(len(self.train_data), generator=runtime.order_generator(self.cfg.train.seed, epoch)).numpy()
        return ddp.shard(perm, self.dist)

    def batch(self, data: Any, indices: np.ndarray, *, augment: bool) -> dict[str, torch.Tensor]:
        batch = data.batch(indices)  # uint8 arrays indexed, then (B, 1, S, S) floats in [-1, 1]
        batch["style"] = self._lookup[batch["style"]]
        if augment:
            from zi2zi.data import paired_augment

            batch["source"], batch["target"] = paired_augment(batch["source"], batch["target"], self.augment_generator)
        return batch

    # ---- state -------------------------------------------------------------------------------

    def meta(self) -> dict[str, Any]:
        return ckpt.checkpoint_meta(
            config=self.cfg, step=self.step, epoch=self.epoch, num_styles=int(self.G.num_styles),
            styles=self.plan.styles, style_map={str(k): v for k, v in self.plan.data_to_model.items()},
            render=self.train_data.manifest.get("render", {}), data_info=self.data_info, metrics=self.last_metrics,
            init_from=self.init_from,
        )

    def training_state(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "epoch": self.epoch,
            "batch_in_epoch": self.batch_in_epoch,
            "data_order": {"seed": self.cfg.train.seed, "epoch": self.epoch, "kind": "randperm(seed*1000003+epoch)"},
            "gan": self.gan.state_dict(),
            "augment_generator": self.augment_generator.get_state(),
            "rng": ckpt.rng_state(self.device),
            "best_val_l1": self.best_val_l1,
            "world_size": self.dist.world_size,
        }

    def _load_state(self, weights_path: Path, saved: dict[str, Any]) -> None:
        state_file = ckpt.state_path(weights_path)
        state = ckpt.load_state(state_file)
        try:
            self._apply_state(state, weights_path, saved)
        except (KeyError, TypeError, ValueError, RuntimeError, IndexError) as exc:
            # Loaded safely, but not what save_checkpoint writes (edited, or from another program).
            raise CheckpointError(
                f"{state_file} does not hold the state this run saved ({type(exc).__name__}: {exc}); "
                "do not resume from it (start over, or resume another run)"
            ) from None

    def _apply_state(self, state: dict[str, Any], weights_path: Path, saved: dict[str, Any]) -> None:
        if state.get("world_size", 1) != self.dist.world_size:
            self.notes.append(
                f"resumed with {self.dist.world_size} process(es), saved with {state.get('world_size')}: "
                "the data order of the current epoch changes"
            )
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.gan.load_state_dict(state["gan"])
        self.augment_generator.set_state(state["augment_generator"])
        if self.dist.world_size == state.get("world_size", 1):
            ckpt.set_rng_state(state["rng"], self.device)
        self.best_val_l1 = state.get("best_val_l1")
        self.last_checkpoint = weights_path
        self.last_metrics = dict(saved.get("metrics") or {})
        self.notes.append(f"resumed from {weights_path.name} (step {self.step}, epoch {self.epoch})")

    def save_checkpoint(self) -> Path:
        """Rank 0 writes weights + state (state first: weights without state is not resumable)."""
        path = self.run_dir / ckpt.CHECKPOINT_DIR / ckpt.checkpoint_name(self.step)
        if self.is_main:
            try:
                self._write_checkpoint(path)
            except OSError as exc:
                self._fail_save(exc)
            ckpt.prune(self.run_dir, self.cfg.train.keep_last)
        self.last_checkpoint = path
        ddp.barrier(self.dist)
        return path

    def _write_checkpoint(self, path: Path) -> None:
        ckpt.save_state(ckpt.state_path(path), self.training_state())
        try:
            ckpt.save_weights(path, generator=self.G, discriminator=self.D, meta=self.meta())
        except OSError:
            if not path.exists():  # a state without its weights would pass for the newest checkpoint
                ckpt.state_path(path).unlink(missing_ok=True)
            raise
        val_l1 = self.last_metrics.get("val_l1")
        if val_l1 is not None and (self.best_val_l1 is None or val_l1 < self.best_val_l1):
            best = self.best_val_l1
            self.best_val_l1 = val_l1
            try:
                copy_file(path, self.run_dir / ckpt.CHECKPOINT_DIR / ckpt.BEST)
                # The state of this step was written before best moved; rewrite it so a resume
                # from here knows the new best.
                ckpt.save_state(ckpt.state_path(path), self.training_state())
            except OSError:
                self.best_val_l1 = best
                raise

    def _fail_save(self, exc: OSError) -> None:
        """A checkpoint that could not be written (a full disk): no half of it is left (the atomic
        writer removed its temporary, :meth:`_write_checkpoint` a state without weights), so the
        previous checkpoint stays the newest; the run stops with one line saying so."""
        newest = ckpt.latest_resumable(self.run_dir)
        kept = f"the newest checkpoint is still {newest.name}" if newest else "no checkpoint was saved before it"
        raise TrainingError(
            f"could not save the checkpoint of step {self.step}: {describe_os_error(exc)}; {kept} "
            f"(nothing half-written is left); {self.options.resume_hint}"
        ) from None

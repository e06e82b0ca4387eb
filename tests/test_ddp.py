"""DistributedDataParallel on CPU: two gloo processes train one model and stay identical."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import numpy as np
import torch
import torch.multiprocessing as mp

from zi2zi import checkpoints as ckpt
from zi2zi.training.distributed import DistInfo, shard
from zi2zi.training.options import TrainOptions
from zi2zi.training.trainer import Trainer

from trainhelpers import tiny_config, train_records

WORLD = 2


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _worker(rank: int, data: str, run: str, out: str, port: int) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), RANK=str(rank),
                      WORLD_SIZE=str(WORLD), LOCAL_RANK=str(rank))
    info = DistInfo(rank=rank, world_size=WORLD, local_rank=rank)
    cfg = tiny_config("train.batch_size=4", "train.max_steps=4", "train.checkpoint_every=2",
                      "train.eval_every=2", "train.sample_every=2", "train.deterministic=false")
    trainer = Trainer(TrainOptions(config=cfg, data=data, out=run, progress=False), dist_info=info)
    shards = [trainer.run.epoch_order(0)]  # this rank's slice of epoch 0
    trainer.fit()
    torch.save(
        {
            "generator": {k: v.clone() for k, v in trainer.run.G.named_parameters()},
            "discriminator": {k: v.clone() for k, v in trainer.run.D.named_parameters()},
            "order": shards[0],
        },
        Path(out) / f"rank{rank}.pt",
    )
    torch.distributed.destroy_process_group()


def test_two_gloo_processes_keep_identical_weights(tiny_dataset, tmp_path):
    run = tmp_path / "run"
    mp.spawn(
        _worker,
        args=(str(tiny_dataset), str(run), str(tmp_path), _free_port()),
        nprocs=WORLD,
        join=True,
    )
    r0 = torch.load(tmp_path / "rank0.pt", weights_only=False)
    r1 = torch.load(tmp_path / "rank1.pt", weights_only=False)
    for net in ("generator", "discriminator"):
        assert r0[net].keys() == r1[net].keys()
        for key in r0[net]:
            assert torch.equal(r0[net][key], r1[net][key]), f"{net}.{key} differs between ranks"

    # Each rank trained on its own half of the epoch.
    assert len(r0["order"]) == len(r1["order"]) > 0
    assert not set(r0["order"].tolist()) & set(r1["order"].tolist())

    # Rank 0 alone wrote the run: one line per logged step, its checkpoints, its samples.
    assert [r["step"] for r in train_records(run)] == [1, 2, 3, 4]
    assert [p.name for p in ckpt.list_checkpoints(run)] == ["step-00000002.safetensors", "step-00000004.safetensors"]
    saved = ckpt.read_weights(run / "checkpoints" / "step-00000004.safetensors")["generator"]
    for key, value in r0["generator"].items():
        assert torch.equal(saved[key], value), key
    assert sorted(p.name for p in (run / "samples").iterdir()) == ["step-00000002.png", "step-00000004.png"]


def test_shard_gives_each_rank_a_disjoint_equal_slice():
    order = np.random.default_rng(0).permutation(11)
    parts = [shard(order, DistInfo(rank=r, world_size=3, local_rank=r)) for r in range(3)]
    assert [len(p) for p in parts] == [3, 3, 3]
    assert len(set(np.concatenate(parts).tolist())) == 9

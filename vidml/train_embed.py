"""Training an EmbeddingNet with a DML loss on an identity-labelled image set (``vidml train embed``).

Protocol (:func:`vidml.datasets.split_by_identity`): the first half of the identities (natural order)
trains, the other half is held out; the card written beside the weights records the data, the command and
the retrieval metrics (P@1, R@K, MAP@R, mAP, NMI) on the held-out identities.

Each step draws an M-per-class batch (``batch_size`` images, ``m`` per identity) of the training half,
lightly augmented (flip, shift), embeds it and minimises

    loss(E, y, miner(E, y))                     plain
    loss([E; SFT(E)], [y; y'], miner(...))      sft : plus one sphere-rotated sample per image
    + w * loss_triplet(x, x+, G(x, x+, x-))     daml: plus DAML's synthetic hard negatives

with Adam and cosine decay (:func:`vidml.train.fit`). :func:`train_embed` is the whole command (data,
training, held-out metrics, checkpoint + card); :func:`train_embedding` trains on an
:class:`~vidml.datasets.IdentitySet` already in memory (the benchmark and the tests use it).
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from vidml.backbones.embed import EmbeddingNet, to_tensor
from vidml.backbones.weights import save_checkpoint
from vidml.datasets import IdentitySet, augment, load_identity_images, split_by_identity
from vidml.errors import BadInput, OutputError
from vidml.eval_embed import evaluate
from vidml.invocation import card_command
from vidml.metric.daml import DAML
from vidml.metric.losses import CLASS_LOSSES, LOSSES, get_loss
from vidml.metric.miners import MINERS, get_miner
from vidml.metric.samplers import MPerClassSampler
from vidml.metric.sft import sft_augment
from vidml.train import fit, set_seed

# hyper-parameters used here when the loss's own defaults are not meant for unit-sphere faces
LOSS_DEFAULTS: dict[str, dict] = {"triplet": {"margin": 0.2}}
MINER_DEFAULTS: dict[str, dict] = {"semihard": {"margin": 0.2}, "hard": {"margin": 0.2}}
TRUNKS = ("small", "small16", "resnet18")


@dataclass(frozen=True)
class TrainEmbedConfig:
    """Everything ``vidml train embed`` does; ``epochs`` (passes over the training half) overrides ``steps``."""

    data_dirs: tuple[str, ...]
    loss: str = "triplet"
    miner: str | None = "semihard"
    daml: bool = False
    sft: bool = False
    steps: int = 300
    epochs: float | None = None
    batch_size: int = 32
    m: int = 4
    size: int = 64
    dim: int = 128
    trunk: str = "small"
    lr: float = 1e-3
    out: str = "embed.pt"
    seed: int = 0
    quiet: bool = True
    command: str = ""  # the command line, for the card (vidml.invocation.command_line)


@dataclass
class TrainResult:
    """The trained net, its loss per step, the held-out metrics and where the checkpoint went."""

    net: EmbeddingNet
    losses: list[float]
    metrics: dict[str, float]
    steps: int
    seconds: float
    out: Path
    card: dict


def build_loss(name: str, num_classes: int, dim: int) -> torch.nn.Module:
    """A loss by short name; class-weight losses get ``num_classes`` / ``embedding_size``."""
    key = name.lower().replace("-", "_")
    if key not in LOSSES:
        raise BadInput(f"unknown --loss {name!r}; choose one of {', '.join(LOSSES)}")
    kwargs = dict(LOSS_DEFAULTS.get(key, {}))
    if key in CLASS_LOSSES:
        kwargs.update(num_classes=num_classes, embedding_size=dim)
    return get_loss(key, **kwargs)


def build_miner(name: str | None):
    """A miner by short name, or None for ``none`` / None."""
    if name is None or name.lower() == "none":
        return None
    key = name.lower().replace("-", "_")
    if key not in MINERS:
        raise BadInput(f"unknown --miner {name!r}; choose none or one of {', '.join(MINERS)}")
    return get_miner(key, **MINER_DEFAULTS.get(key, {}))


def train_embedding(data: IdentitySet, loss: str = "triplet", miner: str | None = "semihard", daml: bool = False,
                    sft: bool = False, steps: int = 300, batch_size: int = 32, m: int = 4, dim: int = 128,
                    trunk: str = "small", lr: float = 1e-3, seed: int = 0, quiet: bool = True,
                    use_augment: bool = True) -> tuple[EmbeddingNet, list[float]]:
    """Train an :class:`EmbeddingNet` on ``data`` (all of it: pass the training half); returns (net, losses)."""
    if data.num_classes < 2:
        raise BadInput(f"training needs two or more identities, found {data.num_classes}")
    if steps < 1:
        raise BadInput(f"--steps must be positive, got {steps}")
    set_seed(seed)
    net = EmbeddingNet(dim=dim, trunk=trunk)
    loss_fn = build_loss(loss, data.num_classes, dim)
    mine = build_miner(miner)
    adversary = DAML(dim) if daml else None
    daml_loss = build_loss("triplet", data.num_classes, dim) if daml else None
    m = max(1, min(m, batch_size))
    classes_per_batch = max(2, min(batch_size // m, data.num_classes))
    sampler = MPerClassSampler(data.labels, m, classes_per_batch * m,
                               length_before_new_iter=steps * classes_per_batch * m, seed=seed)
    batches = iter(sampler)
    rng = np.random.default_rng(seed)
    torch_rng = torch.Generator().manual_seed(seed)
    labels_all = torch.from_numpy(data.labels)

    def step(indices: list[int]) -> torch.Tensor:
        idx = np.asarray(indices)
        images = augment(data.images[idx], rng) if use_augment else data.images[idx]
        emb = net(to_tensor(images))
        labels = labels_all[idx]
        emb_all, labels_all_b = emb, labels
        if sft:
            synthetic, synthetic_labels = sft_augment(emb, labels, torch_rng)
            emb_all, labels_all_b = torch.cat([emb, synthetic]), torch.cat([labels, synthetic_labels])
        tuples = mine(emb_all.detach(), labels_all_b) if mine is not None else None
        value = loss_fn(emb_all, labels_all_b, tuples)
        if adversary is not None:
            value = value + adversary.synthetic_loss(emb, labels, daml_loss, rng=torch_rng)
        return value

    params = [{"params": list(net.parameters()), "lr": lr}]
    if list(loss_fn.parameters()):  # class weights / proxies learn faster than the trunk (as PML's examples)
        params.append({"params": list(loss_fn.parameters()), "lr": 10 * lr})
    net.train()
    losses = fit(params, step, batches, steps, lr=lr, desc=f"train {loss}", quiet=quiet)
    net.eval()
    return net, losses


def _card(cfg: TrainEmbedConfig, data: IdentitySet, train: IdentitySet, test: IdentitySet, steps: int,
          seconds: float, losses: list[float], metrics: dict[str, float]) -> dict:
    return {
        "data": f"{', '.join(map(str, cfg.data_dirs))}: {data.num_classes} identities, {len(data)} images at "
                f"{cfg.size}x{cfg.size}; trained on the first {train.num_classes} identities ({len(train)} images), "
                f"metrics on the other {test.num_classes} ({len(test)} images), leave-one-out retrieval",
        "command": card_command(cfg.command, cfg),
        "training": f"loss {cfg.loss}, miner {cfg.miner}, daml {cfg.daml}, sft {cfg.sft}, {steps} steps, "
                    f"batch {cfg.batch_size} (m={cfg.m}), seed {cfg.seed}, {seconds:.0f} s on CPU; "
                    f"loss first/last 10 steps {np.mean(losses[:10]):.4f} -> {np.mean(losses[-10:]):.4f}",
        "metrics (held-out identities)": {k: round(v, 4) for k, v in metrics.items()},
    }


def train_embed(cfg: TrainEmbedConfig) -> TrainResult:
    """Read ``cfg.data_dirs``, train on the first half of the identities, measure retrieval on the other half,
    write the checkpoint ``cfg.out`` and its card ``cfg.out`` with ``.md``."""
    out = Path(cfg.out)
    if out.exists() and out.is_dir():
        raise OutputError(f"{out}: is a folder; pass a file name such as {out / 'embed.pt'}")
    data = load_identity_images(list(cfg.data_dirs), size=cfg.size)
    train, test = split_by_identity(data)
    steps = cfg.steps if cfg.epochs is None else max(1, math.ceil(cfg.epochs * len(train) / cfg.batch_size))
    start = time.time()
    net, losses = train_embedding(train, loss=cfg.loss, miner=cfg.miner, daml=cfg.daml, sft=cfg.sft, steps=steps,
                                  batch_size=cfg.batch_size, m=cfg.m, dim=cfg.dim, trunk=cfg.trunk, lr=cfg.lr,
                                  seed=cfg.seed, quiet=cfg.quiet)
    seconds = time.time() - start
    metrics = evaluate(net, test, seed=cfg.seed)
    card = _card(cfg, data, train, test, steps, seconds, losses, metrics)
    try:
        save_checkpoint(out, "embed", dict(net.config, size=cfg.size), net, card)
    except OSError as err:
        raise OutputError(f"{out}: cannot write the weights ({err.strerror}); pass a writable --out") from None
    return TrainResult(net, losses, metrics, steps, seconds, out, card)

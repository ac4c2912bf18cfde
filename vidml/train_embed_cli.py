"""``vidml train embed``: train an EmbeddingNet with a DML loss on an identity-labelled image set.

    vidml train embed DATA_DIR [DATA_DIR ...] --loss triplet --miner semihard [--daml] [--sft]
                      [--steps 300 | --epochs E] [--out embed.pt] [--seed 0] [--quiet]

Protocol (:func:`vidml.datasets.split_by_identity`): the first half of the identities (natural order)
trains, the other half is held out; the card written beside the weights records the data, the exact
command and the retrieval metrics (P@1, R@K, MAP@R, mAP, NMI) on the held-out identities.

Each step draws an M-per-class batch (``--batch-size`` images, ``--m`` per identity) of the training
half, lightly augmented (flip, shift), embeds it and minimises

    loss(E, y, miner(E, y))                     plain
    loss([E; SFT(E)], [y; y'], miner(...))      --sft : plus one sphere-rotated sample per image
    + w * loss_triplet(x, x+, G(x, x+, x-))     --daml: plus DAML's synthetic hard negatives

with Adam and cosine decay (:func:`vidml.train.fit`). :func:`train_embedding` is the same thing as a
function (the benchmark uses it).
"""
from __future__ import annotations

import argparse
import math
import shlex
import time
from pathlib import Path

import numpy as np
import torch

from vidml.backbones.embed import EmbeddingNet, to_tensor
from vidml.backbones.weights import save_checkpoint
from vidml.datasets import IdentitySet, augment, load_identity_images, split_by_identity
from vidml.errors import BadInput, OutputError
from vidml.eval.retrieval import format_metrics, retrieval_metrics
from vidml.metric.daml import DAML
from vidml.metric.losses import CLASS_LOSSES, LOSSES, get_loss
from vidml.metric.miners import MINERS, get_miner
from vidml.metric.samplers import MPerClassSampler
from vidml.metric.sft import sft_augment
from vidml.train import fit, set_seed

# hyper-parameters used here when the loss's own defaults are not meant for unit-sphere faces
LOSS_DEFAULTS: dict[str, dict] = {"triplet": {"margin": 0.2}}
MINER_DEFAULTS: dict[str, dict] = {"semihard": {"margin": 0.2}, "hard": {"margin": 0.2}}


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
    loss_params = list(loss_fn.parameters())
    if loss_params:  # class weights / proxies learn faster than the trunk (as PML's examples)
        params.append({"params": loss_params, "lr": 10 * lr})
    net.train()
    losses = fit(params, step, batches, steps, lr=lr, desc=f"train {loss}", quiet=quiet)
    net.eval()
    return net, losses


def evaluate(net: EmbeddingNet, data: IdentitySet, seed: int = 0) -> dict[str, float]:
    """Retrieval metrics of ``net``'s embeddings of ``data`` (leave-one-out, see vidml.eval.retrieval)."""
    return retrieval_metrics(net.embed(data.images), data.labels, seed=seed)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", nargs="+", metavar="DATA_DIR",
                        help="image folder(s): one sub-folder per identity, or flat files named IDENTITY.xxx")
    parser.add_argument("--loss", default="triplet", help=f"one of: {', '.join(LOSSES)} (default triplet)")
    parser.add_argument("--miner", default="semihard",
                        help=f"none or one of: {', '.join(MINERS)} (default semihard)")
    parser.add_argument("--daml", action="store_true", help="add DAML synthetic hard negatives (adversarial generator)")
    parser.add_argument("--sft", action="store_true", help="add spherical-feature-transform augmented samples")
    parser.add_argument("--steps", type=int, default=300, help="optimisation steps (default 300)")
    parser.add_argument("--epochs", type=float, default=None,
                        help="train this many passes over the training half instead of --steps")
    parser.add_argument("--batch-size", type=int, default=32, help="images per batch (default 32)")
    parser.add_argument("--m", type=int, default=4, help="images per identity in a batch (default 4)")
    parser.add_argument("--size", type=int, default=64, help="images are resized to SIZE x SIZE (default 64)")
    parser.add_argument("--dim", type=int, default=128, help="embedding dimension (default 128)")
    parser.add_argument("--trunk", default="small", choices=["small", "small16", "resnet18"], help="conv trunk")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--out", default="embed.pt", help="where to write the weights (+ .md card) (default embed.pt)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _command_line(args: argparse.Namespace) -> str:
    """The command that reproduces this run, every option spelled out (written to the model card)."""
    words = ["vidml", "train", "embed", *map(str, args.data_dir)]
    for key, value in vars(args).items():
        if key == "data_dir" or value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        words += [flag] if value is True else [flag, str(value)]
    return shlex.join(words)


def run(args: argparse.Namespace) -> int:
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    data = load_identity_images(args.data_dir, size=args.size)
    train, test = split_by_identity(data)
    steps = args.steps
    if args.epochs is not None:
        steps = max(1, math.ceil(args.epochs * len(train) / args.batch_size))
    out = Path(args.out)
    if out.exists() and out.is_dir():
        raise OutputError(f"{out}: is a folder; pass a file name such as {out / 'embed.pt'}")
    start = time.time()
    net, losses = train_embedding(train, loss=args.loss, miner=args.miner, daml=args.daml, sft=args.sft,
                                  steps=steps, batch_size=args.batch_size, m=args.m, dim=args.dim,
                                  trunk=args.trunk, lr=args.lr, seed=args.seed, quiet=args.quiet)
    seconds = time.time() - start
    metrics = evaluate(net, test, seed=args.seed)
    card = {
        "data": f"{', '.join(map(str, args.data_dir))}: {data.num_classes} identities, {len(data)} images at "
                f"{args.size}x{args.size}; trained on the first {train.num_classes} identities ({len(train)} images), "
                f"metrics on the other {test.num_classes} ({len(test)} images), leave-one-out retrieval",
        "command": _command_line(args),
        "training": f"loss {args.loss}, miner {args.miner}, daml {args.daml}, sft {args.sft}, {steps} steps, "
                    f"batch {args.batch_size} (m={args.m}), seed {args.seed}, {seconds:.0f} s on CPU; "
                    f"loss first/last 10 steps {np.mean(losses[:10]):.4f} -> {np.mean(losses[-10:]):.4f}",
        "metrics (held-out identities)": {k: round(v, 4) for k, v in metrics.items()},
    }
    config = dict(net.config, size=args.size)
    try:
        save_checkpoint(out, "embed", config, net, card)
    except OSError as err:
        raise OutputError(f"{out}: cannot write the weights ({err.strerror}); pass a writable --out") from None
    print(f"held-out identities: {format_metrics(metrics)}")
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0

"""``vidml train reid``: train the ReID EmbeddingNet used by ``vidml reid-mot``.

Data (see reid_data.py): self-supervised tracklets linked from the *detections* of ``--seq`` sequences
(no gt read) and labelled gt crops of ``--gt-seq`` sequences (which must not be sequences you then score).
Each step draws a group of labels that are certainly different people (tracklets alive in one frame, or
the gt ids of one sequence), ``P`` labels x ``K`` augmented crops (flip, brightness/contrast, +-3 px shift),
and minimises the triplet margin loss over the triplets of the batch (all, or those a --miner picks) (``vidml.metric``):

    L = mean_{(a,p,n), l > 0} [ ||f_a - f_p|| - ||f_a - f_n|| + margin ]_+

The checkpoint (kind ``reid``) stores the EmbeddingNet config plus ``crop_hw``, and a card with the data,
the exact command and the measured metrics.
"""
from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import numpy as np

from vidml.errors import BadInput


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seq", nargs="*", default=[], help="sequence folders whose detections give tracklets")
    parser.add_argument("--gt-seq", nargs="*", default=[], help="sequence folders whose gt gives labelled crops")
    parser.add_argument("--out", required=True, help="output checkpoint, e.g. vidml/weights/reid_small16.pt")
    parser.add_argument("--trunk", default="small16", choices=["small16", "small", "resnet18"])
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--crop", default="64x32", help="crop size HxW (default 64x32)")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--P", type=int, default=8, help="labels per batch")
    parser.add_argument("--K", type=int, default=4, help="crops per label")
    parser.add_argument("--margin", type=float, default=0.2)
    parser.add_argument("--miner", default="none", help="triplet miner: none (all triplets of the batch), hard, semihard")
    parser.add_argument("--lr", type=float, default=2e-3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")


def _augment(crops: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = crops.astype(np.float32)
    flip = rng.random(len(out)) < 0.5
    out[flip] = out[flip, :, ::-1]
    gain = rng.uniform(0.75, 1.25, (len(out), 1, 1, 1))
    bias = rng.uniform(-20, 20, (len(out), 1, 1, 1))
    out = out * gain + bias
    dy, dx = rng.integers(-3, 4, 2)
    out = np.roll(out, (int(dy), int(dx)), axis=(1, 2))
    return np.clip(out, 0, 255).astype(np.uint8)


def _batches(crops, labels, groups, P, K, rng):
    """Infinite iterator of (crops, labels) batches: P labels of one group x K crops each."""
    by_label = {int(l): np.flatnonzero(labels == l) for l in np.unique(labels)}
    groups = [g for g in groups if len(g) >= 2]
    while True:
        g = groups[rng.integers(len(groups))]
        chosen = rng.choice(g, size=min(P, len(g)), replace=False)
        idx = np.concatenate([rng.choice(by_label[int(l)], K, replace=len(by_label[int(l)]) < K) for l in chosen])
        yield _augment(crops[idx], rng), labels[idx]


def retrieval_p1(net, crops: np.ndarray, labels: np.ndarray) -> float:
    """P@1 of nearest-neighbour retrieval (cosine) over ``crops``, each query excluded from its own gallery."""
    if len(crops) < 2:
        return float("nan")
    f = net.embed(crops)
    s = f @ f.T
    np.fill_diagonal(s, -np.inf)
    return float(np.mean(labels[np.argmax(s, 1)] == labels))


def run(args: argparse.Namespace) -> int:
    import torch

    from apps.reid_mot.reid_data import gt_crops, tracklet_crops
    from vidml.backbones.embed import EmbeddingNet, to_tensor
    from vidml.backbones.weights import save_checkpoint
    from vidml.metric.losses import get_loss
    from vidml.metric.miners import get_miner
    from vidml.train import fit, set_seed

    torch.set_num_threads(max(1, args.threads))
    set_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    try:
        crop_hw = tuple(int(v) for v in args.crop.lower().split("x"))
        assert len(crop_hw) == 2 and min(crop_hw) >= 16
    except (ValueError, AssertionError):
        raise BadInput(f"--crop {args.crop!r} is not HxW with sides >= 16, e.g. 64x32") from None
    if not args.seq and not args.gt_seq:
        raise BadInput("give at least one --seq (detections -> tracklets) or --gt-seq (labelled gt crops)")
    parts, offset, groups = [], 0, []
    for s in args.seq:
        if not (Path(s) / "det" / "det.txt").is_file():
            raise BadInput(f"{s}: no det/det.txt; --seq needs MOTChallenge sequences with detections")
        c, l, g = tracklet_crops(s, crop_hw)
        parts.append((c, l + offset))
        groups += [[x + offset for x in grp] for grp in g]
        offset += int(l.max()) + 1 if len(l) else 0
    held = []
    for s in args.gt_seq:
        if not (Path(s) / "gt" / "gt.txt").is_file():
            raise BadInput(f"{s}: no gt/gt.txt; --gt-seq needs MOTChallenge sequences with ground truth")
        c, l, g = gt_crops(s, crop_hw, label_offset=offset)
        parts.append((c, l))
        groups += g * 20  # gt groups are few but rich: draw them as often as ~20 frame groups
        offset = int(l.max()) + 1 if len(l) else offset
    crops = np.concatenate([p[0] for p in parts])
    labels = np.concatenate([p[1] for p in parts])
    if len(crops) == 0 or not any(len(g) >= 2 for g in groups):
        raise BadInput("no usable training crops (need >= 2 identities); check the sequences given")

    net = EmbeddingNet(dim=args.dim, trunk=args.trunk)
    loss_fn = get_loss("triplet", margin=args.margin)
    miner = None if args.miner == "none" else get_miner(args.miner, margin=args.margin)

    def step(batch):
        x, y = batch
        emb = net(to_tensor(x))
        y = torch.from_numpy(y)
        return loss_fn(emb, y, None if miner is None else miner(emb.detach(), y))

    t0 = time.time()
    net.train()
    losses = fit(net.parameters(), step, _batches(crops, labels, groups, args.P, args.K, rng), args.steps,
                 lr=args.lr, desc="train reid", quiet=args.quiet)
    net.eval()
    minutes = (time.time() - t0) / 60
    sub = rng.choice(len(crops), min(len(crops), 1500), replace=False)
    metrics = {"final_loss_mean_last_20": round(float(np.mean(losses[-20:])), 4),
               "train_minutes": round(minutes, 2),
               "train_crops_P@1": round(retrieval_p1(net, crops[sub], labels[sub]), 4)}
    config = dict(net.config, crop_hw=list(crop_hw))
    card = {"data": {"tracklets_from_detections_of": [str(s) for s in args.seq],
                     "gt_crops_of": [str(s) for s in args.gt_seq], "crops": int(len(crops)),
                     "labels": int(len(np.unique(labels)))},
            "command": "vidml train reid " + " ".join(shlex.quote(a) for a in sys.argv[3:]) if len(sys.argv) > 3 else "",
            "loss": f"triplet margin {args.margin}, miner {args.miner}, P={args.P} K={args.K}, {args.steps} steps, lr {args.lr}",
            "metrics": metrics}
    save_checkpoint(args.out, "reid", config, net, card)
    print(f"saved {args.out}: {metrics}")
    return 0

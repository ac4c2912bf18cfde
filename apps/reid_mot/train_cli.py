"""``vidml train reid``: train the ReID EmbeddingNet used by ``vidml reid-mot``.

Data (see reid_data.py): self-supervised tracklets linked from the *detections* of ``--seq`` sequences
(no gt read) and labelled gt crops of ``--gt-seq`` sequences (which must not be sequences you then score).
Each step draws a group of labels that are certainly different people (tracklets alive in one frame, or
the gt ids of one sequence), ``P`` labels x ``K`` augmented crops (``--augment basic``: flip,
brightness/contrast, +-3 px shift; ``strong`` adds a random resized crop, per-channel gain, blur/down-up
sampling and random erasing, as ReID baselines do), and minimises the triplet margin loss over the triplets of
the batch (all, or those a --miner picks), plus with ``--id-loss`` an identity-classification term on the same
unit embeddings (``vidml.metric``), as the ReID literature does (e.g. BoT: triplet + ID softmax):

    L = mean_{(a,p,n), l > 0} [ ||f_a - f_p|| - ||f_a - f_n|| + margin ]_+
        + w_id * CE(softmax(cos(f, W) / T), y)            (normsoftmax; arcface / cosface add a margin)

with the softmax over all labels (``--id-scope all``, the default) or over the labels of the batch only
(``batch``: certainly different people, since two tracklet labels may be one person seen twice). On held-out
data (MOT17-04 gt; PETS09 frames 201-400 tracklets) ``all`` measured better, so it is the default.

``--val-gt-seq`` (labelled, held out) and ``--val-seq`` + ``--val-frames`` (label-free tracklet verification
on frames not trained on) measure the result (reid_eval.py); the figures go into the card. The equal-error
distance of the tracklet verification is stored as the config's ``max_cos_dist``: ``vidml reid-mot`` gates
appearance matches with it, since each embedding has its own distance scale.

The defaults (batch-hard triplet + normsoftmax over all labels, strong augmentation, 2000 steps) are the
recipe of the shipped vidml/weights/reid_small16.pt; triplet alone, or the old 150 steps without a miner and
with basic augmentation, measured worse on the held-out data (see its card).

The checkpoint (kind ``reid``) stores the EmbeddingNet config plus ``crop_hw`` (and ``max_cos_dist``), and a
card with the data, the exact command and the measured metrics.
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
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--P", type=int, default=8, help="labels per batch")
    parser.add_argument("--K", type=int, default=4, help="crops per label")
    parser.add_argument("--margin", type=float, default=0.2)
    parser.add_argument("--miner", default="hard", help="triplet miner: hard (batch-hard, default), semihard, none (all triplets)")
    parser.add_argument("--id-loss", default="normsoftmax", choices=["normsoftmax", "cosface", "arcface", "none"],
                        help="identity-classification term added to the triplet loss (default normsoftmax)")
    parser.add_argument("--id-weight", type=float, default=1.0, help="weight of the --id-loss term")
    parser.add_argument("--id-scope", default="all", choices=["all", "batch"],
                        help="softmax of the --id-loss over all labels (default; measured best) or only the batch's (people known to differ)")
    parser.add_argument("--augment", default="strong", choices=["strong", "basic"])
    parser.add_argument("--frames", default=None, help="FIRST-LAST: use only these frames of the --seq detections")
    parser.add_argument("--max-len", type=int, default=40, help="tracklets are cut at this many frames")
    parser.add_argument("--val-gt-seq", nargs="*", default=[], help="held-out sequences whose gt crops measure ReID")
    parser.add_argument("--val-seq", nargs="*", default=[], help="sequences whose detection tracklets measure ReID (label-free)")
    parser.add_argument("--val-frames", default=None, help="FIRST-LAST frames of --val-seq to measure on")
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


def _augment_strong(crops: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per crop: random resized crop (80-100% of the area, aspect x0.85-1.15), flip, per-channel gain and
    bias, blur or down-up sampling (p 0.3, low-resolution detections), random erasing (p 0.5, 2-25% area)."""
    import cv2

    n, h, w, _ = crops.shape
    out = np.empty_like(crops)
    for i, c in enumerate(crops):
        area, ar = rng.uniform(0.8, 1.0), rng.uniform(0.85, 1.15)
        ch = int(round(min(h, h * np.sqrt(area / ar)))), int(round(min(w, w * np.sqrt(area * ar))))
        y0, x0 = rng.integers(0, h - ch[0] + 1), rng.integers(0, w - ch[1] + 1)
        c = cv2.resize(c[y0:y0 + ch[0], x0:x0 + ch[1]], (w, h), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.5:
            c = c[:, ::-1]
        if rng.random() < 0.3:
            f = rng.uniform(0.4, 0.7)
            c = cv2.resize(cv2.resize(c, (max(4, int(w * f)), max(4, int(h * f)))), (w, h))
        c = c.astype(np.float32) * rng.uniform(0.7, 1.3) * rng.uniform(0.9, 1.1, 3) + rng.uniform(-25, 25)
        if rng.random() < 0.5:
            ea, er = rng.uniform(0.02, 0.25) * h * w, rng.uniform(0.3, 3.3)
            eh, ew = min(h, int(np.sqrt(ea * er))), min(w, int(np.sqrt(ea / er)))
            ey, ex = rng.integers(0, h - eh + 1), rng.integers(0, w - ew + 1)
            c[ey:ey + eh, ex:ex + ew] = rng.uniform(0, 255, 3)
        out[i] = np.clip(c, 0, 255).astype(np.uint8)
    return out


def _frames(text: str | None, flag: str) -> tuple[int, int] | None:
    if text is None:
        return None
    try:
        a, b = (int(v) for v in text.split("-"))
    except ValueError:
        a, b = 0, -1
    if not 1 <= a <= b:  # an explicit test, not assert: python -O must not let a bad range through
        raise BadInput(f"{flag} {text!r} is not FIRST-LAST frame numbers, e.g. 1-200")
    return a, b


def _batches(crops, labels, groups, P, K, rng, augment=_augment):
    """Infinite iterator of (crops, labels) batches: P labels of one group x K crops each."""
    by_label = {int(l): np.flatnonzero(labels == l) for l in np.unique(labels)}
    groups = [g for g in groups if len(g) >= 2]
    while True:
        g = groups[rng.integers(len(groups))]
        chosen = rng.choice(g, size=min(P, len(g)), replace=False)
        idx = np.concatenate([rng.choice(by_label[int(l)], K, replace=len(by_label[int(l)]) < K) for l in chosen])
        yield augment(crops[idx], rng), labels[idx]


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
        c, l, g = tracklet_crops(s, crop_hw, frames=_frames(args.frames, "--frames"), max_len=args.max_len)
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

    val_frames = _frames(args.val_frames, "--val-frames")
    net = EmbeddingNet(dim=args.dim, trunk=args.trunk)
    loss_fn = get_loss("triplet", margin=args.margin)
    miner = None if args.miner == "none" else get_miner(args.miner, margin=args.margin)
    id_loss = None if args.id_loss == "none" else get_loss(args.id_loss, num_classes=int(labels.max()) + 1,
                                                            embedding_size=args.dim)
    params = list(net.parameters()) + ([] if id_loss is None else list(id_loss.parameters()))

    def step(batch):
        x, y = batch
        emb = net(to_tensor(x))
        y = torch.from_numpy(y)
        loss = loss_fn(emb, y, None if miner is None else miner(emb.detach(), y))
        if id_loss is None:
            return loss
        if args.id_scope == "all":
            return loss + args.id_weight * id_loss(emb, y)
        classes = torch.unique(y)  # sorted; one group: certainly different people
        logits = id_loss.logits(emb, y)[:, classes]
        return loss + args.id_weight * torch.nn.functional.cross_entropy(logits, torch.searchsorted(classes, y))

    t0 = time.time()
    net.train()
    augment = _augment_strong if args.augment == "strong" else _augment
    losses = fit(params, step, _batches(crops, labels, groups, args.P, args.K, rng, augment), args.steps,
                 lr=args.lr, desc="train reid", quiet=args.quiet)
    net.eval()
    minutes = (time.time() - t0) / 60
    sub = rng.choice(len(crops), min(len(crops), 1500), replace=False)
    metrics = {"final_loss_mean_last_20": round(float(np.mean(losses[-20:])), 4),
               "train_minutes": round(minutes, 2),
               "train_crops_P@1": round(retrieval_p1(net, crops[sub], labels[sub]), 4)}
    from apps.reid_mot.reid_eval import gt_reid_metrics, tracklet_verification

    for s in args.val_gt_seq:
        metrics[f"held-out gt {Path(s).name}"] = gt_reid_metrics(net.embed, s, crop_hw)
    thresholds = []
    for s in args.val_seq:
        span = f" frames {args.val_frames}" if val_frames else ""
        ver = tracklet_verification(net.embed, s, crop_hw, val_frames)
        metrics[f"tracklet verification {Path(s).name}{span}"] = ver
        thresholds.append(ver["EER threshold"])
    config = dict(net.config, crop_hw=list(crop_hw))
    if thresholds and np.isfinite(thresholds).all():  # the tracker's appearance gate for this embedding
        config["max_cos_dist"] = round(float(np.mean(thresholds)), 4)
    card = {"data": {"tracklets_from_detections_of": [str(s) for s in args.seq],
                     "frames_of_tracklet_sequences": args.frames or "all", "tracklet_max_len": args.max_len,
                     "gt_crops_of": [str(s) for s in args.gt_seq], "crops": int(len(crops)),
                     "labels": int(len(np.unique(labels)))},
            "command": "vidml train reid " + " ".join(shlex.quote(a) for a in sys.argv[3:]) if len(sys.argv) > 3 else "",
            "loss": (f"triplet margin {args.margin}, miner {args.miner}"
                     + ("" if id_loss is None else f" + {args.id_weight} x {args.id_loss} over {args.id_scope} labels")
                     + f", P={args.P} K={args.K}, {args.steps} steps, lr {args.lr}, augment {args.augment}"),
            "metrics": metrics}
    save_checkpoint(args.out, "reid", config, net, card)
    print(f"saved {args.out}: {metrics}")
    return 0

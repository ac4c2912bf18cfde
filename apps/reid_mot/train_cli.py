"""``vidml train reid``: train the ReID embedding used by ``vidml reid-mot`` (the work: apps/reid_mot/train.py).

    vidml train reid [--seq SEQ ...] [--gt-seq SEQ ...] [--viper DIR ...] --out W.pt
                     [--trunk mnv2@13+parts] [--train-from 11] [--dim 128] [--crop 64x32]
                     [--loss triplet|multi_similarity|none] [--miner hard] [--id-loss none|normsoftmax|cosface|arcface]
                     [--sft] [--daml] [--steps 400] [--fusion none|lomo] [--val-viper DIR] [--val-seq SEQ] [--seed 0]

The shipped vidml/weights/reid_mnv2.pt is these defaults plus ``--daml --fusion lomo --viper-split dev`` (its
card has the exact command, the validation figures the choices were made on and the held-out test figures).
"""
from __future__ import annotations

import argparse

from vidml.errors import BadInput


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seq", nargs="*", default=[], help="sequence folders whose detections give tracklets")
    parser.add_argument("--gt-seq", nargs="*", default=[], help="sequence folders whose gt gives labelled crops")
    parser.add_argument("--viper", nargs="*", default=[],
                        help="identity-per-folder camera sets (VIPeR layout): their train identities are used")
    parser.add_argument("--viper-split", default="train", choices=["train", "dev"],
                        help="identities of the --viper sets to train on: train (default) or dev = train + val "
                             "(a final refit; report on --split test)")
    parser.add_argument("--out", required=True, help="output checkpoint, e.g. vidml/weights/reid_mnv2.pt")
    parser.add_argument("--trunk", default="mnv2@13+parts",
                        help="mnv2@CUT[+avg|avgmax|parts] (pretrained, default mnv2@13+parts), small16, small or resnet18")
    parser.add_argument("--train-from", type=int, default=11,
                        help="first trunk block fine-tuned (mnv2 trunks; lower blocks stay ImageNet's; default 11)")
    parser.add_argument("--dim", type=int, default=128)
    parser.add_argument("--crop", default="64x32", help="crop size HxW (default 64x32)")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--P", type=int, default=8, help="labels per batch")
    parser.add_argument("--K", type=int, default=4, help="crops per label")
    parser.add_argument("--loss", default="triplet", choices=["triplet", "multi_similarity", "none"],
                        help="metric loss (default triplet)")
    parser.add_argument("--margin", type=float, default=0.2)
    parser.add_argument("--miner", default="hard", help="miner of the metric loss: hard (default), semihard, multi_similarity, none")
    parser.add_argument("--id-loss", default="none", choices=["normsoftmax", "cosface", "arcface", "none"],
                        help="identity-classification term added to the metric loss (default none: normsoftmax measured worse)")
    parser.add_argument("--id-weight", type=float, default=1.0)
    parser.add_argument("--sft", action="store_true", help="add spherical-feature-transform samples to the metric loss")
    parser.add_argument("--daml", action="store_true", help="add DAML synthetic hard negatives")
    parser.add_argument("--augment", default="strong", choices=["strong", "basic"])
    parser.add_argument("--fusion", default="none", choices=["none", "lomo"],
                        help="lomo: fuse LOMO colour/texture features with the net under an XQDA metric fitted "
                             "on the same inputs (the shipped model)")
    parser.add_argument("--fusion-dims", type=int, default=64, help="XQDA subspace size of --fusion lomo")
    parser.add_argument("--fusion-alpha", type=float, default=1.0, help="weight of the net's embedding in the fusion")
    parser.add_argument("--fusion-crop", default="128x48", help="crop size HxW of the LOMO features")
    parser.add_argument("--frames", default=None, help="FIRST-LAST: use only these frames of the --seq detections")
    parser.add_argument("--max-len", type=int, default=40, help="tracklets are cut at this many frames")
    parser.add_argument("--val-viper", nargs="*", default=[], help="camera sets whose val identities measure ReID")
    parser.add_argument("--val-gt-seq", nargs="*", default=[], help="held-out sequences whose gt crops measure ReID")
    parser.add_argument("--val-seq", nargs="*", default=[],
                        help="sequences (not trained on) whose tracklets measure ReID and calibrate the appearance gate")
    parser.add_argument("--val-frames", default=None, help="FIRST-LAST frames of --val-seq to measure on")
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate of the head and ID weights")
    parser.add_argument("--trunk-lr", type=float, default=3e-4, help="learning rate of the fine-tuned trunk blocks")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")


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


def run(args: argparse.Namespace) -> int:
    import torch

    from apps.reid_mot.reid_net import parse_crop
    from apps.reid_mot.train import ReIDTrainConfig, train_reid
    from vidml.invocation import command_line

    torch.set_num_threads(max(1, args.threads))
    cfg = ReIDTrainConfig(
        out=args.out, seq=args.seq, gt_seq=args.gt_seq, viper=args.viper, viper_split=args.viper_split, frames=_frames(args.frames, "--frames"),
        max_len=args.max_len, trunk=args.trunk, train_from=args.train_from, dim=args.dim, crop_hw=parse_crop(args.crop),
        steps=args.steps, P=args.P, K=args.K, metric_loss=args.loss, margin=args.margin, miner=args.miner,
        id_loss=args.id_loss, id_weight=args.id_weight, daml=args.daml, sft=args.sft, augment=args.augment,
        fusion=args.fusion, fusion_dims=args.fusion_dims, fusion_alpha=args.fusion_alpha,
        fusion_crop_hw=parse_crop(args.fusion_crop), lr=args.lr, trunk_lr=args.trunk_lr, val_viper=args.val_viper, val_gt_seq=args.val_gt_seq,
        val_seq=args.val_seq, val_frames=_frames(args.val_frames, "--val-frames"), seed=args.seed,
        quiet=args.quiet, command=command_line())
    result = train_reid(cfg)
    print(f"saved {result.path}: {result.metrics}")
    return 0

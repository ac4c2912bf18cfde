"""``vidml train hash``: the HashingNet's bit layer on the frozen pretrained trunk (apps.video_search.train).

    vidml train hash [--bits 128] [--method tuned|lw|itq] [--out vidml/weights/hash128.pt]

Maps the options to a :class:`apps.video_search.train.TrainConfig`, calls ``train_hash`` and prints the
validation metrics; the data, method and losses are described in apps/video_search/train.py. The card
records this command line.
"""
from __future__ import annotations

import argparse

from apps.video_search.train import METHODS, TRAIN_FAMILIES, TrainConfig, train_hash
from apps.video_search.train_data import DEFAULT_DATA, DEFAULT_VAL

_DEFAULTS = TrainConfig()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = _DEFAULTS
    parser.add_argument("--data", nargs="+", default=list(DEFAULT_DATA),
                        help="videos / frame folders / image folders, as paths or relative to ../shared/data "
                             "(default: non-library frames of ../shared/data)")
    parser.add_argument("--val", nargs="*", default=list(DEFAULT_VAL),
                        help="validation sources (never trained on) for the card's metrics")
    parser.add_argument("--out", default=None, help="checkpoint path (default vidml/weights/hash{bits}.pt)")
    parser.add_argument("--bits", type=int, default=d.bits, choices=(32, 64, 128, 256))
    parser.add_argument("--trunk", default=d.trunk, help="pretrained trunk, mnv2@CUT+avgmax")
    parser.add_argument("--size", type=int, default=d.size, help="input side in pixels")
    parser.add_argument("--taps", type=int, nargs="+", default=list(d.taps or []),
                        help="trunk blocks whose avg + max pools make the feature, the last = --trunk's cut "
                             "(e.g. --trunk mnv2@16+avgmax --taps 13 16); none: the cut alone")
    parser.add_argument("--no-trim", dest="trim", action="store_false",
                        help="hash frames with their letterbox / pillarbox bars (default: uniform borders are "
                             "cut off every frame first, vidml.borders)")
    parser.add_argument("--method", default=d.method, choices=METHODS,
                        help="itq: PCA + ITQ; lw: learned whitening + PCA + ITQ; tuned: lw fine-tuned with "
                             "NT-Xent + quantization + bit balance")
    parser.add_argument("--families", nargs="+", default=list(d.families), choices=TRAIN_FAMILIES,
                        help="edit families whose copies the head is fitted on (leave one out to test on it)")
    parser.add_argument("--views", type=int, default=d.views, help="edited copies per frame and family")
    parser.add_argument("--per-source", type=int, default=d.per_source, help="frames kept per video / sequence")
    parser.add_argument("--crops", type=int, default=d.crops, help="fixed-window clips cut from each large source")
    parser.add_argument("--steps", type=int, default=d.steps, help="fine-tuning steps (method tuned)")
    parser.add_argument("--batch", type=int, default=d.batch, help="frames per fine-tuning step")
    parser.add_argument("--lr", type=float, default=d.lr)
    parser.add_argument("--temperature", type=float, default=d.temperature, help="NT-Xent temperature")
    parser.add_argument("--w-quant", type=float, default=d.w_quant, help="weight of the quantization term")
    parser.add_argument("--w-balance", type=float, default=d.w_balance, help="weight of the bit-balance term")
    parser.add_argument("--threads", type=int, default=d.threads, help="torch CPU threads")
    parser.add_argument("--seed", type=int, default=d.seed)
    parser.add_argument("--quiet", action="store_true")


def run(args: argparse.Namespace) -> int:
    from vidml.backbones.weights import shipped
    from vidml.invocation import command_line

    cfg = TrainConfig(data=tuple(args.data), val=tuple(args.val), out=args.out or str(shipped(f"hash{args.bits}")),
                      bits=args.bits, trunk=args.trunk, size=args.size, taps=tuple(args.taps) or None,
                      trim=args.trim, method=args.method,
                      families=tuple(args.families), views=args.views, per_source=args.per_source,
                      crops=args.crops, steps=args.steps, batch=args.batch, lr=args.lr,
                      temperature=args.temperature, w_quant=args.w_quant, w_balance=args.w_balance,
                      seed=args.seed, threads=args.threads, quiet=args.quiet,
                      command=command_line())
    res = train_hash(cfg)
    print(f"saved {res.out} ({res.seconds:.0f} s): {res.metrics}")
    return 0

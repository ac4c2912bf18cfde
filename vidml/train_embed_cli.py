"""``vidml train embed``: train an EmbeddingNet with a DML loss on an identity-labelled image set.

    vidml train embed DATA_DIR [DATA_DIR ...] --loss triplet --miner semihard [--daml] [--sft]
                      [--steps 300 | --epochs E] [--out embed.pt] [--seed 0] [--quiet]

The work (protocol, losses, card) is :func:`vidml.train_embed.train_embed`; this module maps the
arguments to its config and prints the held-out metrics.
"""
from __future__ import annotations

import argparse

from vidml.eval.retrieval import format_metrics
from vidml.invocation import command_line
from vidml.metric.losses import LOSSES
from vidml.metric.miners import MINERS
from vidml.train import set_threads
from vidml.train_embed import TRUNKS, TrainEmbedConfig, train_embed


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
    parser.add_argument("--trunk", default="small", choices=TRUNKS, help="conv trunk")
    parser.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate (default 1e-3)")
    parser.add_argument("--out", default="embed.pt", help="where to write the weights (+ .md card) (default embed.pt)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    cfg = TrainEmbedConfig(tuple(args.data_dir), args.loss, args.miner, args.daml, args.sft, args.steps, args.epochs,
                           args.batch_size, args.m, args.size, args.dim, args.trunk, args.lr, args.out, args.seed,
                           args.quiet, command=command_line())
    res = train_embed(cfg)
    print(f"held-out identities: {format_metrics(res.metrics)}")
    print(f"wrote {res.out} and {res.out.with_suffix('.md')}")
    return 0

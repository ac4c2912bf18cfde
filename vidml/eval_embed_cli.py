"""``vidml eval embed``: retrieval metrics of a trained EmbeddingNet on held-out identities.

    vidml eval embed DATA_DIR [DATA_DIR ...] --weights W.pt [--split test|train|all] [--json]

The work is :func:`vidml.eval_embed.eval_embed`; this module maps the arguments to its config and prints.
"""
from __future__ import annotations

import argparse
import json

from vidml.eval_embed import DEFAULT_WEIGHTS, SPLITS, EvalEmbedConfig, eval_embed
from vidml.train import set_threads


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", nargs="+", metavar="DATA_DIR",
                        help="image folder(s): one sub-folder per identity, or flat files named IDENTITY.xxx")
    parser.add_argument("--weights", default=None,
                        help=f"checkpoint from vidml train embed (default: shipped {DEFAULT_WEIGHTS}.pt)")
    parser.add_argument("--split", default="test", choices=SPLITS,
                        help="which identities to evaluate on (default test: the held-out half)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the k-means behind NMI (default 0)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON object")


def run(args: argparse.Namespace) -> int:
    set_threads(args.threads)
    res = eval_embed(EvalEmbedConfig(tuple(args.data_dir), args.weights, args.split, args.seed))
    if args.json:
        print(json.dumps({k: round(v, 4) for k, v in res.metrics.items()}))
        return 0
    print(f"{res.split} split: {res.identities} identities, {res.images} images (leave-one-out retrieval)")
    print("| " + " | ".join(res.metrics) + " |")
    print("|" + "---|" * len(res.metrics))
    print("| " + " | ".join(f"{v:.3f}" for v in res.metrics.values()) + " |")
    return 0

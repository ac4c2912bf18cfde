"""``vidml eval embed``: retrieval metrics of a trained EmbeddingNet on held-out identities.

    vidml eval embed DATA_DIR [DATA_DIR ...] --weights W.pt [--split test|train|all] [--json]

The folder(s) are read and split exactly as ``vidml train embed`` does (first half of the identities
train, the rest test; see :mod:`vidml.datasets`); images are resized to the size stored in the
checkpoint. Every image of the chosen split is a query against all the others (leave-one-out) and
P@1, R@1/2/4/8, MAP@R, mAP and NMI are printed (definitions: :mod:`vidml.eval.retrieval`).
"""
from __future__ import annotations

import argparse
import json

import torch

from vidml.backbones.embed import EmbeddingNet
from vidml.backbones.weights import load_checkpoint, shipped
from vidml.datasets import load_identity_images, split_by_identity
from vidml.errors import MissingModel
from vidml.eval.retrieval import retrieval_metrics

DEFAULT_WEIGHTS = "embed_faces"


def load_embedding(path) -> tuple[EmbeddingNet, int]:
    """(net in eval mode, input size) from a checkpoint written by ``vidml train embed``."""
    payload = load_checkpoint(path, kind="embed")
    config = payload.get("config", {})
    try:
        net = EmbeddingNet(dim=config["dim"], trunk=config["trunk"], normalize=config.get("normalize", True))
        net.load_state_dict(payload["state_dict"])
    except (KeyError, RuntimeError, ValueError):
        raise MissingModel(f"{path}: checkpoint does not match EmbeddingNet; retrain it with vidml train embed") from None
    net.eval()
    return net, int(config.get("size", 64))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("data_dir", nargs="+", metavar="DATA_DIR",
                        help="image folder(s): one sub-folder per identity, or flat files named IDENTITY.xxx")
    parser.add_argument("--weights", default=None,
                        help=f"checkpoint from vidml train embed (default: shipped {DEFAULT_WEIGHTS}.pt)")
    parser.add_argument("--split", default="test", choices=["test", "train", "all"],
                        help="which identities to evaluate on (default test: the held-out half)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the k-means behind NMI (default 0)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--json", action="store_true", help="print the metrics as one JSON object")


def run(args: argparse.Namespace) -> int:
    if args.threads > 0:
        torch.set_num_threads(args.threads)
    net, size = load_embedding(args.weights or shipped(DEFAULT_WEIGHTS))
    data = load_identity_images(args.data_dir, size=size)
    if args.split != "all":
        train, test = split_by_identity(data)
        data = test if args.split == "test" else train
    metrics = retrieval_metrics(net.embed(data.images), data.labels, seed=args.seed)
    if args.json:
        print(json.dumps({k: round(v, 4) for k, v in metrics.items()}))
        return 0
    print(f"{args.split} split: {data.num_classes} identities, {len(data)} images (leave-one-out retrieval)")
    print("| " + " | ".join(metrics) + " |")
    print("|" + "---|" * len(metrics))
    print("| " + " | ".join(f"{v:.3f}" for v in metrics.values()) + " |")
    return 0

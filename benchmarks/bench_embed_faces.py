"""Faces retrieval benchmark: DML losses (and DAML / SFT) against raw pixels and an untrained net.

    .venv/bin/python benchmarks/bench_embed_faces.py [--datasets att_orl yale] [--steps 200] [--size 32]

For each face set (read from ../shared/data/faces) the identities are split as ``vidml train embed``
does (first half train, second half test, :func:`vidml.datasets.split_by_identity`); every method is
trained on the train half with the same steps, batch (M-per-class), net, seed and augmentation, and
evaluated on the unseen test identities by leave-one-out retrieval (P@1, MAP@R, NMI; definitions in
:mod:`vidml.eval.retrieval`). The anchors: raw pixels (flattened, L2 distance) and the untrained net.
Prints one markdown table per set. Timings are wall-clock on whatever CPU runs it (not asserted).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from vidml.backbones.embed import EmbeddingNet  # noqa: E402
from vidml.datasets import load_identity_images, split_by_identity  # noqa: E402
from vidml.eval.retrieval import retrieval_metrics  # noqa: E402
from vidml.train import set_seed  # noqa: E402
from vidml.train_embed import evaluate, train_embedding  # noqa: E402

FACES = REPO / ".." / "shared" / "data" / "faces"

# name -> keyword arguments of train_embedding (None: not trained)
METHODS: dict[str, dict] = {
    "contrastive (all pairs)": {"loss": "contrastive", "miner": None},
    "triplet + semihard": {"loss": "triplet", "miner": "semihard"},
    "multi-similarity (+ MS miner)": {"loss": "multi_similarity", "miner": "multi_similarity"},
    "ArcFace": {"loss": "arcface", "miner": None},
    "triplet + semihard + DAML": {"loss": "triplet", "miner": "semihard", "daml": True},
    "triplet + semihard + SFT": {"loss": "triplet", "miner": "semihard", "sft": True},
}


def bench(name: str, args: argparse.Namespace) -> list[str]:
    data = load_identity_images(FACES / name, size=args.size)
    train, test = split_by_identity(data)
    rows = []

    def row(method: str, metrics: dict[str, float], seconds: float | None) -> None:
        t = "-" if seconds is None else f"{seconds:.0f}"
        rows.append(f"| {method} | {metrics['P@1']:.3f} | {metrics['MAP@R']:.3f} | {metrics['R@4']:.3f} | "
                    f"{metrics['NMI']:.3f} | {t} |")
        print(f"  {name}: {method}: P@1 {metrics['P@1']:.3f} MAP@R {metrics['MAP@R']:.3f}", file=sys.stderr)

    pixels = test.images.reshape(len(test), -1).astype(np.float32) / 255.0
    row("raw pixels (anchor)", retrieval_metrics(pixels, test.labels, seed=args.seed), None)
    set_seed(args.seed)
    row("untrained net (anchor)", evaluate(EmbeddingNet(trunk=args.trunk), test, args.seed), None)
    only = set(args.methods) if args.methods else None
    for method, kwargs in METHODS.items():
        if only and not any(word.lower() in method.lower() for word in only):
            continue
        per_seed, start = [], time.time()
        for s in range(args.seeds):
            net, _ = train_embedding(train, steps=args.steps, batch_size=args.batch_size, trunk=args.trunk,
                                     seed=args.seed + s, quiet=True, **kwargs)
            per_seed.append(evaluate(net, test, args.seed))
        mean = {k: float(np.mean([m[k] for m in per_seed])) for k in per_seed[0]}
        row(method, mean, (time.time() - start) / args.seeds)
    head = [f"### {name}: train {train.num_classes} identities ({len(train)} images), test {test.num_classes} "
            f"unseen identities ({len(test)} images), {args.size}x{args.size}, trunk {args.trunk}, {args.steps} steps "
            f"x batch {args.batch_size}, mean of {args.seeds} seed(s)", "",
            "| method | P@1 | MAP@R | R@4 | NMI | train s |", "|---|---|---|---|---|---|"]
    return head + rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--datasets", nargs="+", default=["att_orl", "yale"], help="folders under faces/")
    parser.add_argument("--steps", type=int, default=200, help="training steps of every method (default 200)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--size", type=int, default=32, help="image side (default 32)")
    parser.add_argument("--trunk", default="small16", help="EmbeddingNet trunk (default small16)")
    parser.add_argument("--seeds", type=int, default=1, help="average each trained method over this many seeds")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: the CPU is shared)")
    parser.add_argument("--methods", nargs="*", help="only methods whose name contains one of these words")
    args = parser.parse_args()
    if not FACES.exists():
        print(f"benchmark data not found at {FACES} (../shared/data is not shipped)", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    start = time.time()
    for name in args.datasets:
        print("\n".join(bench(name, args)) + "\n", flush=True)
    print(f"total {time.time() - start:.0f} s wall-clock, {args.threads} torch thread(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

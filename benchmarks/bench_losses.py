"""Forward + backward time of vidml's DML losses against pytorch-metric-learning's on the same batch.

    .venv/bin/python benchmarks/bench_losses.py [--n 256 --dim 128 --classes 32 --repeats 30 --threads 1]

For each loss both libraries share, both implementations get the same embeddings, labels and (for
class-weight / proxy losses) the same weights; each timing is one ``loss(x, y).backward()``, the
table gives the median over ``--repeats`` (after 3 warm-up calls), the loss values (which must
agree) and the ratio ours / PML (< 1: ours is faster). ``--mined`` also times the losses on the
tuples of a multi-similarity miner. Prints a markdown table; asserts nothing.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vidml.metric.losses import CLASS_LOSSES, get_loss  # noqa: E402
from vidml.metric.miners import MultiSimilarityMiner  # noqa: E402

try:
    from pytorch_metric_learning import losses as pml
except ImportError:  # pragma: no cover - the anchor is a dev dependency
    sys.exit("bench_losses needs pytorch-metric-learning: pip install -e .[dev]")

ANCHORS = {
    "contrastive": pml.ContrastiveLoss,
    "triplet": pml.TripletMarginLoss,
    "lifted": pml.LiftedStructureLoss,
    "npair": pml.NPairsLoss,
    "multi_similarity": pml.MultiSimilarityLoss,
    "ntxent": pml.NTXentLoss,
    "proxynca": pml.ProxyNCALoss,
    "proxyanchor": pml.ProxyAnchorLoss,
    "normsoftmax": pml.NormalizedSoftmaxLoss,
    "sphereface": pml.SphereFaceLoss,
    "cosface": pml.CosFaceLoss,
    "arcface": pml.ArcFaceLoss,
}


def build(name: str, classes: int, dim: int):
    """Our loss and PML's with default hyper-parameters and identical weights."""
    if name not in CLASS_LOSSES:
        return get_loss(name), ANCHORS[name]()
    theirs = ANCHORS[name](num_classes=classes, embedding_size=dim)
    ours = get_loss(name, num_classes=classes, embedding_size=dim)
    for attr in ("W", "proxies"):
        if hasattr(theirs, attr):
            getattr(ours, attr).data.copy_(getattr(theirs, attr).data)
    return ours, theirs


def time_fb(loss, x: torch.Tensor, y: torch.Tensor, tuples, repeats: int) -> tuple[float, float]:
    """Median seconds of forward + backward, and the loss value. A loss slower than 1 s a call is
    timed over 2 calls after a single warm-up, to keep the whole run short."""
    times, value = [], 0.0
    warmup = 3
    for i in range(repeats + warmup):
        if i == 1 and dt > 1.0:
            warmup, repeats = 1, 2
        if i >= repeats + warmup:
            break
        xi = x.detach().clone().requires_grad_()
        loss.zero_grad(set_to_none=True)
        t0 = time.perf_counter()
        out = loss(xi, y) if tuples is None else loss(xi, y, tuples)
        out.backward()
        dt = time.perf_counter() - t0
        if i >= warmup:
            times.append(dt)
        value = float(out.detach())
    return statistics.median(times), value


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=256, help="batch size")
    ap.add_argument("--dim", type=int, default=128, help="embedding size")
    ap.add_argument("--classes", type=int, default=32)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1, help="torch threads (1: steadier on shared CPUs)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mined", action="store_true", help="also time on multi-similarity-mined pairs")
    ap.add_argument("--only", nargs="*", default=None, help="subset of loss names")
    args = ap.parse_args(argv)

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    x = torch.randn(args.n, args.dim)
    y = torch.arange(args.n) % args.classes  # n / classes samples per class, like an M-per-class batch
    y = y[torch.randperm(args.n)]
    settings = [("all pairs", None)]
    if args.mined:
        settings.append(("MS-mined", MultiSimilarityMiner(0.1)(x, y)))

    print(f"N={args.n}, D={args.dim}, {args.classes} classes, float32, {args.threads} thread(s), "
          f"median of {args.repeats} (2 for calls over 1 s), torch {torch.__version__}\n")
    print("| loss | batch | ours ms | PML ms | ours/PML | ours loss | PML loss |")
    print("|---|---|---:|---:|---:|---:|---:|")
    ratios = []
    for name in args.only or ANCHORS:
        for label, tuples in settings:
            ours, theirs = build(name, args.classes, args.dim)
            t_ours, v_ours = time_fb(ours, x, y, tuples, args.repeats)
            t_pml, v_pml = time_fb(theirs, x, y, tuples, args.repeats)
            ratios.append(t_ours / t_pml)
            print(f"| {name} | {label} | {t_ours * 1e3:.2f} | {t_pml * 1e3:.2f} | {t_ours / t_pml:.2f} "
                  f"| {v_ours:.5f} | {v_pml:.5f} |", flush=True)
    print(f"\nworst ours/PML ratio: {max(ratios):.2f}; geometric mean: "
          f"{torch.tensor(ratios).log().mean().exp().item():.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

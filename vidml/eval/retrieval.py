"""Retrieval metrics of embeddings: P@1, R@K, MAP@R, mAP and NMI (leave-one-out, query set = reference set).

Every sample is a query against all *other* samples, ranked by Euclidean distance (for L2-normalised
embeddings this is the cosine ranking). For a query ``q`` with label ``y_q`` let ``rel(i) = 1`` when the
i-th nearest other sample has label ``y_q``, and ``R = #{j != q : y_j = y_q}`` the number of relevant items.

* ``P@1``   = mean_q rel(1)
* ``R@K``   = mean_q [sum_{i<=K} rel(i) > 0]                          (Recall@K of Song et al., K = 1, 2, 4, 8)
* ``MAP@R`` = mean_q (1/R) sum_{i<=R} P(i) rel(i),   P(i) = (1/i) sum_{j<=i} rel(j)   (Musgrave et al. 2020)
* ``mAP``   = mean_q (1/R) sum_{i<=N-1} P(i) rel(i)                 (average precision over the full ranking)
* ``NMI``   = 2 I(Y; C) / (H(Y) + H(C)), C = k-means clusters of the embeddings with k = #classes

Queries whose class has a single sample (R = 0) are left out of the ranking metrics, as in
pytorch-metric-learning's ``AccuracyCalculator``; P@1 and MAP@R equal its ``precision_at_1`` and
``mean_average_precision_at_r`` on the same embeddings (tests/test_retrieval.py checks it).
"""
from __future__ import annotations

import numpy as np
from scipy.cluster.vq import kmeans2

from vidml.errors import BadInput

RECALL_KS: tuple[int, ...] = (1, 2, 4, 8)


def _ranked_relevance(embeddings: np.ndarray, labels: np.ndarray, chunk: int = 1024) -> np.ndarray:
    """(N, N-1) bool: row q is rel(1..N-1) of query q over the other samples sorted by distance."""
    x = np.asarray(embeddings, dtype=np.float64)
    sq = (x * x).sum(1)
    n = len(x)
    out = np.zeros((n, n - 1), dtype=bool)
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        d = sq[start:stop, None] + sq[None, :] - 2.0 * x[start:stop] @ x.T
        rows = np.arange(stop - start)
        d[rows, start + rows] = np.inf  # leave the query itself out
        order = np.argsort(d, axis=1, kind="stable")[:, : n - 1]
        out[start:stop] = labels[order] == labels[start:stop, None]
    return out


def nmi(labels_true: np.ndarray, labels_pred: np.ndarray) -> float:
    """Normalised mutual information ``2 I(Y;C) / (H(Y) + H(C))`` (natural log; 1 for identical partitions)."""
    _, y = np.unique(np.asarray(labels_true), return_inverse=True)
    _, c = np.unique(np.asarray(labels_pred), return_inverse=True)
    joint = np.zeros((y.max() + 1, c.max() + 1))
    np.add.at(joint, (y, c), 1.0)
    joint /= joint.sum()
    py, pc = joint.sum(1), joint.sum(0)
    nz = joint > 0
    mi = float((joint[nz] * np.log(joint[nz] / (py[:, None] * pc[None, :])[nz])).sum())
    hy = float(-(py[py > 0] * np.log(py[py > 0])).sum())
    hc = float(-(pc[pc > 0] * np.log(pc[pc > 0])).sum())
    if hy + hc == 0.0:
        return 1.0  # one class and one cluster: identical partitions
    return max(0.0, 2.0 * mi / (hy + hc))


def kmeans_nmi(embeddings: np.ndarray, labels: np.ndarray, seed: int = 0) -> float:
    """NMI between ``labels`` and k-means (k-means++ init, k = number of classes) of ``embeddings``."""
    x = np.asarray(embeddings, dtype=np.float64)
    k = len(np.unique(labels))
    if k <= 1:
        return 1.0
    _, clusters = kmeans2(x, k, minit="++", seed=np.random.default_rng(seed), iter=50)
    return nmi(labels, clusters)


def retrieval_metrics(embeddings: np.ndarray, labels: np.ndarray, ks: tuple[int, ...] = RECALL_KS,
                      seed: int = 0) -> dict[str, float]:
    """All metrics of the module docstring for (N, D) embeddings and (N,) labels -> {name: value in [0, 1]}.

    Keys: ``P@1``, ``R@1``, ``R@2``, ``R@4``, ``R@8``, ``MAP@R``, ``mAP``, ``NMI``.
    Raises :class:`BadInput` when no class has two samples (nothing to retrieve).
    """
    x = np.asarray(embeddings)
    y = np.asarray(labels)
    if x.ndim != 2 or len(x) != len(y):
        raise BadInput(f"need (N, D) embeddings and N labels, got {x.shape} and {y.shape}")
    _, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    r = counts[inverse] - 1  # relevant items per query
    keep = r > 0
    if not keep.any():
        raise BadInput("no identity has two or more samples; retrieval needs at least two images of some identity")
    rel = _ranked_relevance(x, y)[keep]
    r = r[keep]
    hits = np.cumsum(rel, axis=1)
    prec = hits / np.arange(1, rel.shape[1] + 1)[None, :]
    within_r = np.arange(rel.shape[1])[None, :] < r[:, None]
    out: dict[str, float] = {"P@1": float(rel[:, 0].mean())}
    for k in ks:
        out[f"R@{k}"] = float((hits[:, min(k, rel.shape[1]) - 1] > 0).mean())
    out["MAP@R"] = float(((prec * rel * within_r).sum(1) / r).mean())
    out["mAP"] = float(((prec * rel).sum(1) / r).mean())
    out["NMI"] = kmeans_nmi(x, y, seed=seed)
    return out


def format_metrics(metrics: dict[str, float]) -> str:
    """One line ``P@1 0.912  R@1 0.912 ...`` for printing."""
    return "  ".join(f"{k} {v:.3f}" for k, v in metrics.items())

"""Face verification metrics on same / different-identity pairs.

* ROC-AUC = P(score of a random same pair > score of a random different pair), computed exactly from
  ranks (Mann-Whitney U): ``AUC = (sum of ranks of same pairs - n1 (n1 + 1) / 2) / (n1 n0)``; ties count 1/2.
* Accuracy at a threshold ``tau``: fraction of pairs with ``(score >= tau) == same``. The threshold is
  chosen on *training* pairs (:func:`best_threshold`) and applied unchanged to held-out pairs.

Scores are similarities (higher = more alike): cosine for float embeddings, minus the Hamming distance for packed codes (the pairwise diagonal of
vidml.metric.distances.hamming).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import rankdata



def roc_auc(scores: np.ndarray, same: np.ndarray) -> float:
    """Exact ROC-AUC of similarity ``scores`` (P,) for labels ``same`` (P,) bool."""
    same = np.asarray(same, bool)
    n1, n0 = int(same.sum()), int((~same).sum())
    if n1 == 0 or n0 == 0:
        raise ValueError("ROC-AUC needs both same and different pairs")
    ranks = rankdata(np.asarray(scores, np.float64))
    return float((ranks[same].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def accuracy(scores: np.ndarray, same: np.ndarray, threshold: float) -> float:
    """Fraction of pairs classified right by ``score >= threshold``."""
    return float(((np.asarray(scores) >= threshold) == np.asarray(same, bool)).mean())


def best_threshold(scores: np.ndarray, same: np.ndarray) -> float:
    """Threshold maximising :func:`accuracy` (midpoints between sorted distinct scores)."""
    s = np.unique(np.asarray(scores, np.float64))
    cands = np.concatenate([[s[0] - 1], (s[:-1] + s[1:]) / 2, [s[-1] + 1]])
    if len(cands) > 2000:
        cands = np.quantile(np.asarray(scores, np.float64), np.linspace(0, 1, 2001))
    accs = [accuracy(scores, same, t) for t in cands]
    return float(cands[int(np.argmax(accs))])


def pair_scores(x: np.ndarray, pairs: np.ndarray, binary: bool = False) -> np.ndarray:
    """Similarity of each pair (i, j): cosine of unit embeddings, or minus the Hamming distance of codes."""
    a, b = x[pairs[:, 0]], x[pairs[:, 1]]
    if binary:
        return -np.bitwise_count(np.asarray(a, np.uint8) ^ np.asarray(b, np.uint8)).sum(1).astype(np.float64)
    return (a * b).sum(1).astype(np.float64)

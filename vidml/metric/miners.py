"""Index tuples and the miners that produce them.

An *indices tuple* names the pairs or triplets of a batch a loss should look at, as in
pytorch-metric-learning (PML):

* triplets ``(a, p, n)``: ``labels[a] == labels[p]``, ``a != p``, ``labels[a] != labels[n]``;
* pairs ``(a1, p, a2, n)``: positive pairs ``(a1[k], p[k])`` and negative pairs ``(a2[k], n[k])``.

A miner is a callable ``miner(embeddings (N, D), labels (N,)) -> indices tuple`` of LongTensors; it
runs without gradients. Distances are taken between L2-normalized embeddings (PML's defaults):

* ``semihard`` / ``hard``: triplets whose margin ``m_apn = d(a, n) - d(a, p)`` (Euclidean) is
  ``0 < m_apn <= margin`` (semi-hard: the negative is farther than the positive but inside the margin)
  or ``m_apn <= 0`` (hard: the negative is closer than the positive) — PML ``TripletMarginMiner``.
* ``multi_similarity`` (Wang et al. 2019): with cosine similarity ``S``, keep a positive pair
  ``(i, j)`` if ``S_ij - eps < max_{k neg of i} S_ik`` and a negative pair ``(i, k)`` if
  ``S_ik + eps > min_{j pos of i} S_ij`` — PML ``MultiSimilarityMiner``.
* ``distance_weighted`` (Wu et al. 2017, "Sampling matters"): for every positive pair ``(a, p)``
  one negative is drawn with probability ``q(d)^-1`` where ``q(d) ∝ d^(D-2) (1 - d^2/4)^((D-3)/2)``
  is the density of distances between uniform points on the unit sphere in D dimensions; ``d`` is
  clipped below at ``cutoff`` and negatives at ``d >= nonzero_loss_cutoff`` get weight 0.

``get_miner(name, **kw)`` builds one by name (semihard, hard, distance_weighted, multi_similarity).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vidml.metric.distances import cosine_similarity, euclidean

Pairs = tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]
Triplets = tuple[torch.Tensor, torch.Tensor, torch.Tensor]


# ----------------------------------------------------------------------------- index tuples
def label_masks(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(N,) labels -> bool (N, N) ``same`` (same label, diagonal False) and ``diff`` (other label)."""
    same = labels[:, None] == labels[None, :]
    diff = ~same
    same = same & ~torch.eye(len(labels), dtype=torch.bool, device=labels.device)
    return same, diff


def all_pairs(labels: torch.Tensor) -> Pairs:
    """Every positive pair (i != j, same label) and negative pair, in row-major order (as PML)."""
    same, diff = label_masks(labels)
    a1, p = torch.where(same)
    a2, n = torch.where(diff)
    return a1, p, a2, n


def all_triplets(labels: torch.Tensor) -> Triplets:
    """Every (anchor, positive, negative) triplet of the batch, in row-major (a, p, n) order."""
    same, diff = label_masks(labels)
    return torch.where(same[:, :, None] & diff[:, None, :])


def to_pairs(indices_tuple, labels: torch.Tensor) -> Pairs:
    """Any indices tuple (or None: all pairs) -> ``(a1, p, a2, n)``; a triplet gives ``(a, p, a, n)``."""
    if indices_tuple is None:
        return all_pairs(labels)
    if len(indices_tuple) == 4:
        return tuple(indices_tuple)
    a, p, n = indices_tuple
    return a, p, a, n


def to_triplets(indices_tuple, labels: torch.Tensor) -> Triplets:
    """Any indices tuple (or None: all triplets) -> ``(a, p, n)``; pairs are joined on a shared anchor."""
    if indices_tuple is None:
        return all_triplets(labels)
    if len(indices_tuple) == 3:
        return tuple(indices_tuple)
    a1, p, a2, n = indices_tuple
    pi, ni = torch.where(a1[:, None] == a2[None, :])
    return a1[pi], p[pi], n[ni]


def miner_weights(indices_tuple, n: int, dtype: torch.dtype, device=None, anchors_only: bool = False) -> torch.Tensor:
    """(n,) weight per batch element: how often it appears in ``indices_tuple`` / the largest count
    (0 if absent); all ones when there is no tuple or it is empty (PML ``convert_to_weights``).
    With ``anchors_only`` only anchors count (``a`` of a triplet, ``a1`` and ``a2`` of pairs)."""
    if indices_tuple is None or all(len(x) == 0 for x in indices_tuple):
        return torch.ones(n, dtype=dtype, device=device)
    used = list(indices_tuple)
    if anchors_only:
        used = used[:1] if len(used) == 3 else [used[0], used[2]]
    counts = torch.bincount(torch.cat(used), minlength=n)[:n].to(dtype)
    return counts / counts.max()


def pair_counts(rows: torch.Tensor, cols: torch.Tensor, shape: tuple[int, int], dtype: torch.dtype,
                device=None) -> torch.Tensor:
    """(R, C) matrix counting how many times each (row, col) pair is listed."""
    out = torch.zeros(shape, dtype=dtype, device=device)
    if len(rows):
        out.index_put_((rows, cols), torch.ones(len(rows), dtype=dtype, device=device), accumulate=True)
    return out


def positives_and_negative_counts(labels: torch.Tensor, indices_tuple, dtype: torch.dtype,
                                  device=None) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Positive pairs ``(a1, p)`` and an (N, N) matrix counting each (anchor, negative) pair.

    Without ``indices_tuple`` every same-label pair is positive and every other-label pair counted once;
    with one (pairs or triplets) only the mined pairs count, as often as they are listed. Losses that take
    a log-sum-exp over each anchor's negatives (lifted structure, NT-Xent) weight it by these counts.
    """
    if indices_tuple is None:
        same, diff = label_masks(labels)
        a1, p = torch.where(same)
        return a1, p, diff.to(dtype)
    a1, p, a2, n = to_pairs(indices_tuple, labels)
    return a1, p, pair_counts(a2, n, (len(labels), len(labels)), dtype, device)


# ----------------------------------------------------------------------------- miners
class TripletMarginMiner:
    """Triplets violating ``margin`` under normalized Euclidean distance.

    ``kind``: "semihard" (``0 < d_an - d_ap <= margin``), "hard" (``d_an - d_ap <= 0``),
    "all" (``d_an - d_ap <= margin``) or "easy" (``d_an - d_ap > margin``).
    """

    def __init__(self, margin: float = 0.2, kind: str = "all", normalize: bool = True):
        if kind not in ("all", "hard", "semihard", "easy"):
            raise ValueError(f"unknown triplet kind {kind!r}")
        self.margin, self.kind, self.normalize = float(margin), kind, normalize

    @torch.no_grad()
    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        x = F.normalize(embeddings, dim=1) if self.normalize else embeddings
        d = euclidean(x)
        same, diff = label_masks(labels)
        m = d[:, None, :] - d[:, :, None]  # m[a, p, n] = d_an - d_ap
        if self.kind == "easy":
            keep = m > self.margin
        else:
            keep = m <= self.margin
            if self.kind == "hard":
                keep &= m <= 0
            elif self.kind == "semihard":
                keep &= m > 0
        keep &= same[:, :, None] & diff[:, None, :]
        return torch.where(keep)


class SemiHardMiner(TripletMarginMiner):
    """Semi-hard triplets: the negative is farther than the positive, but by less than ``margin``."""

    def __init__(self, margin: float = 0.2, normalize: bool = True):
        super().__init__(margin, "semihard", normalize)


class HardMiner(TripletMarginMiner):
    """Hard triplets: the negative is at most as far from the anchor as the positive."""

    def __init__(self, margin: float = 0.2, normalize: bool = True):
        super().__init__(margin, "hard", normalize)


class MultiSimilarityMiner:
    """Multi-similarity pair mining (Wang et al. CVPR 2019) with cosine similarity and ``epsilon``."""

    def __init__(self, epsilon: float = 0.1):
        self.epsilon = float(epsilon)

    @torch.no_grad()
    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Pairs:
        s = cosine_similarity(embeddings)
        same, diff = label_masks(labels)
        big = torch.finfo(s.dtype).max
        # hardest negative (largest similarity) and hardest positive (smallest) per anchor
        max_neg = s.masked_fill(~diff, -big).amax(1, keepdim=True)
        min_pos = s.masked_fill(~same, big).amin(1, keepdim=True)
        a1, p = torch.where(same & (s - self.epsilon < max_neg))
        a2, n = torch.where(diff & (s + self.epsilon > min_pos))
        if not (same.any() and diff.any()):
            empty = torch.empty(0, dtype=torch.long, device=labels.device)
            return empty, empty.clone(), empty.clone(), empty.clone()
        return a1, p, a2, n


class DistanceWeightedMiner:
    """Distance-weighted negative sampling (Wu et al. ICCV 2017) on the unit hypersphere.

    Returns triplets: every positive pair ``(a, p)`` with one negative drawn from
    ``w_an ∝ 1 / q(max(d_an, cutoff))``, ``w_an = 0`` where ``d_an >= nonzero_loss_cutoff`` or same label.
    Anchors whose weights are all 0 give no triplets. ``generator`` makes the draw reproducible.
    """

    def __init__(self, cutoff: float = 0.5, nonzero_loss_cutoff: float = 1.4,
                 generator: torch.Generator | None = None):
        self.cutoff, self.nonzero_loss_cutoff = float(cutoff), float(nonzero_loss_cutoff)
        self.generator = generator

    def weights(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(N, N) sampling probabilities of each negative for each anchor (rows sum to 1 or are 0)."""
        dim = float(embeddings.shape[1])
        d = euclidean(F.normalize(embeddings, dim=1)).clamp_min(self.cutoff)
        # log q(d)^-1 up to a constant; clamp keeps log(1 - d^2/4) finite at d = 2
        log_w = (2.0 - dim) * torch.log(d) - ((dim - 3.0) / 2.0) * torch.log((1.0 - 0.25 * d * d).clamp_min(1e-8))
        same = labels[:, None] == labels[None, :]
        ok = ~same & (d < self.nonzero_loss_cutoff)
        log_w = log_w.masked_fill(~ok, float("-inf"))
        row_max = log_w.amax(1, keepdim=True).clamp_min(-1e30)  # rows with no candidate stay 0
        w = torch.exp(log_w - row_max)
        return w / w.sum(1, keepdim=True).clamp_min(1e-30)

    @torch.no_grad()
    def __call__(self, embeddings: torch.Tensor, labels: torch.Tensor) -> Triplets:
        w = self.weights(embeddings, labels)
        a, p, _, _ = all_pairs(labels)
        has = w.sum(1) > 0
        a, p = a[has[a]], p[has[a]]
        if len(a) == 0:
            empty = torch.empty(0, dtype=torch.long, device=labels.device)
            return empty, empty.clone(), empty.clone()
        n = torch.multinomial(w[a], 1, replacement=True, generator=self.generator).squeeze(1)
        return a, p, n


MINERS = {
    "semihard": SemiHardMiner,
    "hard": HardMiner,
    "distance_weighted": DistanceWeightedMiner,
    "multi_similarity": MultiSimilarityMiner,
}


def get_miner(name: str, **kwargs):
    """Build a miner by name, e.g. ``get_miner("semihard", margin=0.2)``."""
    key = name.lower().replace("-", "_")
    if key not in MINERS:
        raise ValueError(f"unknown miner {name!r}; choose one of {', '.join(MINERS)}")
    return MINERS[key](**kwargs)

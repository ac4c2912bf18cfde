"""Contrastive loss (Hadsell, Chopra & LeCun 2006), as PML ``ContrastiveLoss``.

With Euclidean distances ``d`` of L2-normalized embeddings, positive pairs ``P`` and negative pairs ``Q``:

    L = mean_{(i,j) in P, l>0} [d_ij - m_pos]_+  +  mean_{(i,k) in Q, l>0} [m_neg - d_ik]_+

each part averaged over its non-zero terms (PML's AvgNonZeroReducer), defaults ``m_pos = 0``,
``m_neg = 1``. Without an indices tuple all pairs of the batch are used (computed on masks).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vidml.metric.distances import euclidean
from vidml.metric.losses.base import BaseMetricLoss, avg_nonzero, zero_loss
from vidml.metric.miners import label_masks, to_pairs


class ContrastiveLoss(BaseMetricLoss):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``."""

    def __init__(self, pos_margin: float = 0.0, neg_margin: float = 1.0, normalize: bool = True):
        super().__init__(normalize)
        self.pos_margin, self.neg_margin = float(pos_margin), float(neg_margin)

    def compute_loss(self, x: torch.Tensor, labels: torch.Tensor, indices_tuple) -> torch.Tensor | None:
        if indices_tuple is None:  # all pairs: work on the (N, N) matrix with masks, no gathers
            same, diff = label_masks(labels)
            if same.sum() <= 1 and diff.sum() <= 1:
                return None
            d = euclidean(x)
            pos = F.relu(d - self.pos_margin) * same
            neg = F.relu(self.neg_margin - d) * diff
            return avg_nonzero(pos) + avg_nonzero(neg)
        a1, p, a2, n = to_pairs(indices_tuple, labels)
        if len(a1) <= 1 and len(a2) <= 1:
            return None
        d = euclidean(x)
        loss = zero_loss(x)
        if len(a1):
            loss = loss + avg_nonzero(F.relu(d[a1, p] - self.pos_margin))
        if len(a2):
            loss = loss + avg_nonzero(F.relu(self.neg_margin - d[a2, n]))
        return loss

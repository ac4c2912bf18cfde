"""Lifted structured loss (Oh Song et al. CVPR 2016), in the form of PML ``LiftedStructureLoss``.

With Euclidean distances ``d`` of L2-normalized embeddings, for each positive pair ``(i, j)`` and the
negative pairs ``Q_ij`` whose anchor is ``i`` or ``j``:

    J_ij = [ log sum_{(a, k) in Q_ij} exp(m_neg - d_ak)  +  d_ij - m_pos ]_+^2 / 2

averaged over the positive pairs (defaults ``m_neg = 1``, ``m_pos = 0``). The log-sum-exp over
``Q_ij`` is the log-add of two per-anchor log-sum-exps, ``logaddexp(L_i, L_j)``, so no
(positive pairs x negative pairs) matrix is built. A pair listed twice counts twice.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vidml.metric.distances import euclidean
from vidml.metric.losses.base import BaseMetricLoss
from vidml.metric.miners import positives_and_negative_counts


class LiftedStructureLoss(BaseMetricLoss):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``."""

    def __init__(self, neg_margin: float = 1.0, pos_margin: float = 0.0, normalize: bool = True):
        super().__init__(normalize)
        self.neg_margin, self.pos_margin = float(neg_margin), float(pos_margin)

    def compute_loss(self, x: torch.Tensor, labels: torch.Tensor, indices_tuple) -> torch.Tensor | None:
        a1, p, neg_count = positives_and_negative_counts(labels, indices_tuple, x.dtype, x.device)
        if len(a1) == 0 or not bool((neg_count > 0).any()):
            return None
        d = euclidean(x)
        has_neg = neg_count > 0
        low = torch.finfo(d.dtype).min
        # L_i = log sum_k count_ik exp(m_neg - d_ik) over i's negative pairs
        per_anchor = torch.logsumexp((self.neg_margin - d + neg_count.clamp_min(1).log()).masked_fill(~has_neg, low), 1)
        any_neg = has_neg.any(1)
        lse = torch.logaddexp(per_anchor[a1], per_anchor[p])
        lse = lse.masked_fill(~(any_neg[a1] | any_neg[p]), 0.0)
        loss = F.relu(lse + d[a1, p] - self.pos_margin) ** 2 / 2
        return loss.mean()

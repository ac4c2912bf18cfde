"""NT-Xent / InfoNCE loss (Chen et al. 2020, SimCLR), as PML ``NTXentLoss``: labels define the positives.

With cosine similarities ``S`` and temperature ``T``, for each positive pair ``(i, j)`` and the
negatives ``Q_i`` of its anchor:

    l_ij = -log( exp(S_ij / T) / (exp(S_ij / T) + sum_{k in Q_i} exp(S_ik / T)) )

averaged over positive pairs (default ``T = 0.07``). An indices tuple restricts both sets.
"""
from __future__ import annotations

import torch

from vidml.metric.losses.base import BaseMetricLoss
from vidml.metric.miners import positives_and_negative_counts


class NTXentLoss(BaseMetricLoss):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``."""

    def __init__(self, temperature: float = 0.07):
        super().__init__(normalize=True)
        self.temperature = float(temperature)

    def compute_loss(self, x: torch.Tensor, labels: torch.Tensor, indices_tuple) -> torch.Tensor | None:
        a1, p, neg_count = positives_and_negative_counts(labels, indices_tuple, x.dtype, x.device)
        if len(a1) == 0 or not bool((neg_count > 0).any()):
            return None
        s = (x @ x.T) / self.temperature  # cosine similarities of the normalised rows
        low = torch.finfo(s.dtype).min
        # log sum_k count_ik exp(S_ik / T) over each anchor's negatives (lowest value when none)
        neg_lse = torch.logsumexp((s + neg_count.clamp_min(1).log()).masked_fill(neg_count <= 0, low), 1)
        pos = s[a1, p]
        return (torch.logaddexp(pos, neg_lse[a1]) - pos).mean()

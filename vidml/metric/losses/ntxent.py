"""NT-Xent / InfoNCE loss (Chen et al. 2020, SimCLR), as PML ``NTXentLoss``: labels define the positives.

With cosine similarities ``S`` and temperature ``T``, for each positive pair ``(i, j)`` and the
negatives ``Q_i`` of its anchor:

    l_ij = -log( exp(S_ij / T) / (exp(S_ij / T) + sum_{k in Q_i} exp(S_ik / T)) )

averaged over positive pairs (default ``T = 0.07``). An indices tuple restricts both sets.
"""
from __future__ import annotations

import torch

from vidml.metric.distances import cosine_similarity
from vidml.metric.losses import zero_loss
from vidml.metric.miners import positives_and_negative_counts


class NTXentLoss(torch.nn.Module):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``."""

    def __init__(self, temperature: float = 0.07):
        super().__init__()
        self.temperature = float(temperature)

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor, indices_tuple=None) -> torch.Tensor:
        a1, p, neg_count = positives_and_negative_counts(labels, indices_tuple, embeddings.dtype, embeddings.device)
        if len(a1) == 0 or not bool((neg_count > 0).any()):
            return zero_loss(embeddings)
        s = cosine_similarity(embeddings) / self.temperature
        low = torch.finfo(s.dtype).min
        # log sum_k count_ik exp(S_ik / T) over each anchor's negatives (lowest value when none)
        neg_lse = torch.logsumexp((s + neg_count.clamp_min(1).log()).masked_fill(neg_count <= 0, low), 1)
        pos = s[a1, p]
        return (torch.logaddexp(pos, neg_lse[a1]) - pos).mean()

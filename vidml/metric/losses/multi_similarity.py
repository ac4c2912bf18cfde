"""Multi-similarity loss (Wang et al. CVPR 2019), as PML ``MultiSimilarityLoss``.

With cosine similarities ``S`` and, for each anchor ``i``, its positive set ``P_i`` and negative set ``N_i``:

    L = 1/N sum_i [ 1/alpha log(1 + sum_{j in P_i} exp(-alpha (S_ij - base)))
                  + 1/beta  log(1 + sum_{k in N_i} exp( beta (S_ik - base))) ]

defaults ``alpha = 2``, ``beta = 50``, ``base = 0.5``. An indices tuple restricts ``P_i`` / ``N_i``
to the mined pairs (e.g. from the multi-similarity miner); without one every pair is used.
"""
from __future__ import annotations

import torch

from vidml.metric.losses.base import BaseMetricLoss, masked_logsumexp
from vidml.metric.miners import label_masks, to_pairs


class MultiSimilarityLoss(BaseMetricLoss):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``."""

    def __init__(self, alpha: float = 2.0, beta: float = 50.0, base: float = 0.5):
        super().__init__(normalize=True)
        self.alpha, self.beta, self.base = float(alpha), float(beta), float(base)

    def compute_loss(self, x: torch.Tensor, labels: torch.Tensor, indices_tuple) -> torch.Tensor | None:
        if indices_tuple is None:
            pos_mask, neg_mask = label_masks(labels)
        else:
            a1, p, a2, n = to_pairs(indices_tuple, labels)
            if len(a1) <= 1 and len(a2) <= 1:
                return None
            size = (len(labels), len(labels))
            pos_mask = torch.zeros(size, dtype=torch.bool, device=labels.device)
            neg_mask = torch.zeros_like(pos_mask)
            pos_mask[a1, p] = True
            neg_mask[a2, n] = True
        s = x @ x.T  # cosine similarities of the normalised rows
        pos = masked_logsumexp(-self.alpha * (s - self.base), pos_mask, add_one=True) / self.alpha
        neg = masked_logsumexp(self.beta * (s - self.base), neg_mask, add_one=True) / self.beta
        return (pos + neg).mean()

"""Triplet margin loss (Weinberger & Saul 2009; Schroff et al. 2015), as PML ``TripletMarginLoss``.

For triplets ``(a, p, n)`` and Euclidean distances ``d`` of L2-normalized embeddings:

    l_apn = [d_ap - d_an + margin]_+          (softplus(d_ap - d_an + margin) with ``smooth_loss``)

With ``swap`` the anchor-negative distance is ``min(d_an, d_pn)`` (Balntas et al. 2016).
Reduced by the mean over triplets with ``l > 0`` (PML's AvgNonZeroReducer). Without an indices tuple
every triplet of the batch is used.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vidml.metric.distances import euclidean
from vidml.metric.losses import avg_nonzero, zero_loss
from vidml.metric.miners import to_triplets


class TripletMarginLoss(torch.nn.Module):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``."""

    def __init__(self, margin: float = 0.05, swap: bool = False, smooth_loss: bool = False,
                 normalize: bool = True):
        super().__init__()
        self.margin, self.swap, self.smooth_loss, self.normalize = float(margin), swap, smooth_loss, normalize

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor, indices_tuple=None) -> torch.Tensor:
        a, p, n = to_triplets(indices_tuple, labels)
        if len(a) == 0:
            return zero_loss(embeddings)
        x = F.normalize(embeddings, dim=1) if self.normalize else embeddings
        d = euclidean(x)
        an = d[a, n]
        if self.swap:
            an = torch.minimum(an, d[p, n])
        violation = d[a, p] - an + self.margin
        loss = F.softplus(violation) if self.smooth_loss else F.relu(violation)
        return avg_nonzero(loss)

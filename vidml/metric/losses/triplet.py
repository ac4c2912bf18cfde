"""Triplet margin loss (Weinberger & Saul 2009; Schroff et al. 2015), as PML ``TripletMarginLoss``.

For triplets ``(a, p, n)`` and Euclidean distances ``d`` of L2-normalized embeddings:

    l_apn = [d_ap - d_an + margin]_+          (softplus(d_ap - d_an + margin) with ``smooth_loss``)

With ``swap`` the anchor-negative distance is ``min(d_an, d_pn)`` (Balntas et al. 2016).
Reduced by the mean over triplets with ``l > 0`` (PML's AvgNonZeroReducer). Without an indices tuple
every triplet of the batch is used, computed densely per anchor over its (padded) positives and all
candidate negatives, an (N, max positives, N) tensor, without listing triplet indices.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vidml.metric.distances import euclidean
from vidml.metric.losses.base import BaseMetricLoss, avg_nonzero
from vidml.metric.miners import label_masks, to_triplets


class TripletMarginLoss(BaseMetricLoss):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``."""

    def __init__(self, margin: float = 0.05, swap: bool = False, smooth_loss: bool = False,
                 normalize: bool = True):
        super().__init__(normalize)
        self.margin, self.swap, self.smooth_loss = float(margin), swap, smooth_loss

    def _loss(self, violation: torch.Tensor) -> torch.Tensor:
        return F.softplus(violation) if self.smooth_loss else F.relu(violation)

    def _all_triplets(self, x: torch.Tensor, labels: torch.Tensor) -> torch.Tensor | None:
        same, diff = label_masks(labels)
        n_pos = same.sum(1)
        p_max = int(n_pos.max()) if len(labels) else 0
        if p_max == 0 or not bool(diff.any()):
            return None
        d = euclidean(x)
        # each anchor's positives first (stable order), padded to the largest positive count
        pos_idx = torch.argsort((~same).to(torch.uint8), dim=1, stable=True)[:, :p_max]  # (N, P)
        valid_pos = torch.arange(p_max, device=labels.device)[None, :] < n_pos[:, None]
        d_ap = d.gather(1, pos_idx)  # (N, P)
        d_an = d[:, None, :]  # (N, 1, N)
        if self.swap:
            d_an = torch.minimum(d_an, d[pos_idx])  # d[p, n]: (N, P, N)
        mask = valid_pos[:, :, None] & diff[:, None, :]
        loss = self._loss(d_ap[:, :, None] - d_an + self.margin) * mask
        return loss.sum() / ((loss > 0) & mask).sum().clamp_min(1).to(loss.dtype)

    def compute_loss(self, x: torch.Tensor, labels: torch.Tensor, indices_tuple) -> torch.Tensor | None:
        if indices_tuple is None:
            return self._all_triplets(x, labels)
        a, p, n = to_triplets(indices_tuple, labels)
        if len(a) == 0:
            return None
        d = euclidean(x)
        an = d[a, n]
        if self.swap:
            an = torch.minimum(an, d[p, n])
        return avg_nonzero(self._loss(d[a, p] - an + self.margin))

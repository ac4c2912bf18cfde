"""Proxy-based losses: one learned proxy per class, ``proxies`` of shape ``(num_classes, embedding_size)``.

* ``ProxyNCALoss`` (Movshovitz-Attias et al. ICCV 2017), as PML: with squared Euclidean distances
  between L2-normalized embeddings and proxies, ``D_ic = |x_i - p_c|^2`` (proxies ~ N(0, 1) at init),

      l_i = -log softmax_c(-s D_ic)[y_i],    L = mean_i w_i l_i      (softmax_scale ``s = 1``)

* ``ProxyAnchorLoss`` (Kim et al. CVPR 2020), as PML: with cosines ``S_ic`` to the proxies,
  ``X_c^+`` the samples of class c and ``P^+`` the classes present in the batch,

      L = 1/|P^+| sum_{c in P^+} log(1 + sum_{i in X_c^+} exp(-alpha (S_ic - delta)))
        + 1/C     sum_c          log(1 + sum_{i not in X_c^+} exp(alpha (S_ic + delta)))

  (``alpha = 32``, ``delta = 0.1``; proxies Kaiming-normal, fan_out). A miner's weights ``w_i``
  enter as ``+ (w_i - 1)`` inside each exponent, as PML.

``w_i`` are the miner weights of an indices tuple (occurrence count / max count; ones without one);
ProxyNCA counts only the anchors of the tuple, as PML does for losses against a reference set.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vidml.metric.distances import sq_euclidean
from vidml.metric.losses.base import BaseMetricLoss, masked_logsumexp
from vidml.metric.miners import miner_weights


class ProxyNCALoss(BaseMetricLoss):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``."""

    def __init__(self, num_classes: int, embedding_size: int, softmax_scale: float = 1.0):
        super().__init__(normalize=True)
        self.num_classes, self.softmax_scale = int(num_classes), float(softmax_scale)
        self.proxies = torch.nn.Parameter(torch.randn(num_classes, embedding_size))

    def compute_loss(self, x: torch.Tensor, labels: torch.Tensor, indices_tuple) -> torch.Tensor:
        d = sq_euclidean(x, F.normalize(self.proxies, dim=1))
        loss = F.cross_entropy(-self.softmax_scale * d, labels, reduction="none")
        if indices_tuple is not None:
            loss = loss * miner_weights(indices_tuple, len(labels), loss.dtype, loss.device, anchors_only=True)
        return loss.mean()


class ProxyAnchorLoss(BaseMetricLoss):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``."""

    def __init__(self, num_classes: int, embedding_size: int, margin: float = 0.1, alpha: float = 32.0):
        super().__init__(normalize=True)
        self.num_classes, self.margin, self.alpha = int(num_classes), float(margin), float(alpha)
        self.proxies = torch.nn.Parameter(torch.empty(num_classes, embedding_size))
        torch.nn.init.kaiming_normal_(self.proxies, mode="fan_out")

    def compute_loss(self, x: torch.Tensor, labels: torch.Tensor, indices_tuple) -> torch.Tensor:
        cos = x @ F.normalize(self.proxies, dim=1).T  # (N, C)
        pos_mask = F.one_hot(labels, self.num_classes).bool()
        w = 0.0
        if indices_tuple is not None:
            w = miner_weights(indices_tuple, len(labels), cos.dtype, cos.device)[:, None] - 1
        pos = masked_logsumexp(-self.alpha * (cos - self.margin) + w, pos_mask, dim=0, add_one=True)
        neg = masked_logsumexp(self.alpha * (cos + self.margin) + w, ~pos_mask, dim=0, add_one=True)
        n_pos = pos_mask.any(0).sum()
        pos_term = pos.sum() / n_pos if int(n_pos) > 0 else pos.sum() * 0
        return pos_term + neg.sum() / self.num_classes

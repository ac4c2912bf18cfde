"""Discriminative deep metric learning loss (Hu, Lu & Tan, CVPR 2014).

For a pair ``(i, j)`` with ``l_ij = +1`` (same label) or ``-1`` (different labels) and squared
Euclidean distance ``d_ij^2`` of the embeddings (not normalized by default: DDML's tanh MLP
learns the scale), the pair should satisfy ``d^2 < tau - 1`` if similar and ``d^2 > tau + 1`` if not:

    z_ij = 1 - l_ij (tau - d_ij^2),      g(z) = (1 / beta) log(1 + exp(beta z))   (smoothed hinge)

    L = mean over pairs of g(z_ij)

Without an indices tuple every ordered pair ``i != j`` of the batch is used; with one, its positive
and negative pairs (a triplet tuple gives ``(a, p)`` and ``(a, n)``). The paper's weight-decay term
is left to the optimiser.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vidml.metric.distances import sq_euclidean
from vidml.metric.losses.base import BaseMetricLoss
from vidml.metric.miners import label_masks, to_pairs


class DDMLLoss(BaseMetricLoss):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``."""

    def __init__(self, tau: float = 2.0, beta: float = 1.0, normalize: bool = False):
        super().__init__(normalize)
        if beta <= 0:
            raise ValueError("DDML beta must be > 0")
        self.tau, self.beta = float(tau), float(beta)

    def g(self, z: torch.Tensor) -> torch.Tensor:
        """Generalized logistic loss ``(1/beta) log(1 + exp(beta z))``, computed stably."""
        return F.softplus(self.beta * z) / self.beta

    def compute_loss(self, x: torch.Tensor, labels: torch.Tensor, indices_tuple) -> torch.Tensor | None:
        d2 = sq_euclidean(x)
        if indices_tuple is None:
            same, diff = label_masks(labels)
            if not bool((same | diff).any()):
                return None
            l = same.to(d2.dtype) - diff.to(d2.dtype)  # +1 / -1, 0 on the diagonal
            z = 1.0 - l * (self.tau - d2)
            valid = (same | diff).to(d2.dtype)
            return (self.g(z) * valid).sum() / valid.sum()
        a1, p, a2, n = to_pairs(indices_tuple, labels)
        if len(a1) + len(a2) == 0:
            return None
        z = torch.cat([1.0 - (self.tau - d2[a1, p]), 1.0 + (self.tau - d2[a2, n])])
        return self.g(z).mean()

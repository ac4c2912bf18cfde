"""N-pair loss (Sohn NeurIPS 2016), as PML ``NPairsLoss``.

One positive pair ``(a_c, p_c)`` per class ``c`` of the batch (the first one, in batch order, of the
pairs given or of all pairs); with dot products of L2-normalized embeddings
``S_cc' = a_c . p_c'``, the loss is the softmax cross-entropy that picks ``p_c`` for ``a_c``:

    L = 1/C sum_c [ -S_cc + log sum_c' exp(S_cc') ]
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vidml.metric.losses.base import BaseMetricLoss
from vidml.metric.miners import to_pairs


def first_pair_per_label(a: torch.Tensor, p: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``(a[k], p[k])`` of each distinct ``labels[a[k]]``, in increasing label order."""
    if len(a) == 0:
        return a, p
    _, inverse = torch.unique(labels[a], return_inverse=True)
    pos = torch.arange(len(a), device=a.device)
    first = torch.full((int(inverse.max()) + 1,), len(a), dtype=torch.long, device=a.device)
    first = first.scatter_reduce(0, inverse, pos, reduce="amin")
    return a[first], p[first]


class NPairsLoss(BaseMetricLoss):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``."""

    def compute_loss(self, x: torch.Tensor, labels: torch.Tensor, indices_tuple) -> torch.Tensor | None:
        a1, p, _, _ = to_pairs(indices_tuple, labels)
        a, p = first_pair_per_label(a1, p, labels)
        if len(a) == 0:
            return None
        sim = x[a] @ x[p].T
        return F.cross_entropy(sim, torch.arange(len(a), device=sim.device))

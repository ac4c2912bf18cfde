"""The base every embedding loss shares (pytorch-metric-learning's ``BaseMetricLossFunction`` pattern).

:meth:`BaseMetricLoss.forward` does what every loss needs and nothing a loss is about:

1. checks that ``embeddings`` is ``(N, D)`` and ``labels`` is ``(N,)`` (ValueError otherwise);
2. takes ``labels`` as int64 and L2-normalises the rows, ``x_i = e_i / max(|e_i|, 1e-12)``, when
   ``normalize`` (the losses on the unit sphere; DDML and the margin softmaxes keep the raw rows);
3. calls the subclass's :meth:`compute_loss(x, labels, indices_tuple)`, which returns the scalar loss, or
   ``None`` when the batch holds nothing to learn from (no positive pair, no negative, no triplet);
   ``None`` becomes :func:`zero_loss` of the embeddings, a 0 that keeps the graph connected.

The reducers the losses share are here too: :func:`avg_nonzero` (PML's AvgNonZeroReducer) and
:func:`masked_logsumexp`.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F


def avg_nonzero(losses: torch.Tensor) -> torch.Tensor:
    """Mean of the strictly positive entries (0 when there are none); zeros add nothing to the sum,
    so this is ``sum / max(1, #positive)`` without a data-dependent index (PML's AvgNonZeroReducer)."""
    return losses.sum() / (losses > 0).sum().clamp_min(1).to(losses.dtype)


def masked_logsumexp(x: torch.Tensor, mask: torch.Tensor, dim: int = 1, add_one: bool = False) -> torch.Tensor:
    """``log(sum_{mask} exp(x))`` along ``dim`` (``log(1 + ...)`` with ``add_one``); 0 where the mask
    row is empty. Masked entries are filled with the dtype's lowest value, never -inf, so gradients
    stay finite."""
    low = torch.finfo(x.dtype).min
    out = torch.logsumexp(x.masked_fill(~mask, low), dim=dim)
    if add_one:
        out = torch.logaddexp(out, torch.zeros_like(out))
    return out.masked_fill(~mask.any(dim), 0.0)


def zero_loss(embeddings: torch.Tensor) -> torch.Tensor:
    """A 0 that stays connected to the graph, for batches with nothing to learn from."""
    return (embeddings * 0).sum()


class BaseMetricLoss(torch.nn.Module):
    """``loss(embeddings (N, D), labels (N,), indices_tuple=None) -> scalar``; subclasses write only
    :meth:`compute_loss` (see the module docstring)."""

    def __init__(self, normalize: bool = True) -> None:
        super().__init__()
        self.normalize = normalize

    def compute_loss(self, x: torch.Tensor, labels: torch.Tensor, indices_tuple) -> torch.Tensor | None:
        """The loss of (normalised when ``normalize``) rows ``x``; ``None`` when there is nothing to learn."""
        raise NotImplementedError

    def forward(self, embeddings: torch.Tensor, labels: torch.Tensor, indices_tuple=None) -> torch.Tensor:
        if embeddings.dim() != 2 or labels.dim() != 1 or len(labels) != len(embeddings):
            raise ValueError(f"{type(self).__name__}: embeddings must be (N, D) and labels (N,), "
                             f"got {tuple(embeddings.shape)} and {tuple(labels.shape)}")
        x = F.normalize(embeddings, dim=1) if self.normalize else embeddings
        loss = self.compute_loss(x, labels.long(), indices_tuple)
        return zero_loss(embeddings) if loss is None else loss

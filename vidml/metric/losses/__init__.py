"""Deep metric learning losses, one per file, with the calling convention of pytorch-metric-learning:

    loss = LossClass(**hyper_parameters)
    value = loss(embeddings, labels)                  # (N, D) float, (N,) int -> scalar tensor
    value = loss(embeddings, labels, indices_tuple)   # restricted to mined pairs / triplets

Losses with learned class weights or proxies (ProxyNCA, ProxyAnchor, NormSoftmax, SphereFace, CosFace,
ArcFace) are built with ``num_classes`` and ``embedding_size`` and own parameters to optimise.

``get_loss(name, **kw)`` builds one by its short name (the names the CLI's ``--loss`` accepts).
"""
from __future__ import annotations

import importlib

import torch

# short name -> (module under vidml.metric.losses, class name)
LOSSES: dict[str, tuple[str, str]] = {
    "contrastive": ("contrastive", "ContrastiveLoss"),
    "ddml": ("ddml", "DDMLLoss"),
    "triplet": ("triplet", "TripletMarginLoss"),
    "lifted": ("lifted", "LiftedStructureLoss"),
    "npair": ("npair", "NPairsLoss"),
    "multi_similarity": ("multi_similarity", "MultiSimilarityLoss"),
    "proxynca": ("proxy", "ProxyNCALoss"),
    "proxyanchor": ("proxy", "ProxyAnchorLoss"),
    "normsoftmax": ("margin_softmax", "NormalizedSoftmaxLoss"),
    "sphereface": ("margin_softmax", "SphereFaceLoss"),
    "cosface": ("margin_softmax", "CosFaceLoss"),
    "arcface": ("margin_softmax", "ArcFaceLoss"),
    "ntxent": ("ntxent", "NTXentLoss"),
}

# losses that need num_classes and embedding_size (they own class weights / proxies)
CLASS_LOSSES = {"proxynca", "proxyanchor", "normsoftmax", "sphereface", "cosface", "arcface"}


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


def get_loss(name: str, **kwargs) -> torch.nn.Module:
    """Build a loss by short name, e.g. ``get_loss("arcface", num_classes=20, embedding_size=128)``."""
    key = name.lower().replace("-", "_")
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    module_name, class_name = LOSSES[key]
    module = importlib.import_module(f"vidml.metric.losses.{module_name}")
    return getattr(module, class_name)(**kwargs)

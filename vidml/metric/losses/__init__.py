"""Deep metric learning losses, one per file, with the calling convention of pytorch-metric-learning:

    loss = LossClass(**hyper_parameters)
    value = loss(embeddings, labels)                  # (N, D) float, (N,) int -> scalar tensor
    value = loss(embeddings, labels, indices_tuple)   # restricted to mined pairs / triplets

Losses with learned class weights or proxies (ProxyNCA, ProxyAnchor, NormSoftmax, SphereFace, CosFace,
ArcFace) are built with ``num_classes`` and ``embedding_size`` and own parameters to optimise.

Each class derives from :class:`vidml.metric.losses.base.BaseMetricLoss`, which checks shapes,
L2-normalises and handles empty batches, and writes only ``compute_loss``.

``get_loss(name, **kw)`` builds one by its short name (the names the CLI's ``--loss`` accepts).
"""
from __future__ import annotations

import importlib

import torch

from vidml.metric.losses.base import BaseMetricLoss, avg_nonzero, masked_logsumexp, zero_loss  # noqa: F401

# short name -> "module.ClassName" under vidml.metric.losses
LOSSES: dict[str, str] = {
    "contrastive": "contrastive.ContrastiveLoss",
    "ddml": "ddml.DDMLLoss",
    "triplet": "triplet.TripletMarginLoss",
    "lifted": "lifted.LiftedStructureLoss",
    "npair": "npair.NPairsLoss",
    "multi_similarity": "multi_similarity.MultiSimilarityLoss",
    "proxynca": "proxy.ProxyNCALoss",
    "proxyanchor": "proxy.ProxyAnchorLoss",
    "normsoftmax": "margin_softmax.NormalizedSoftmaxLoss",
    "sphereface": "margin_softmax.SphereFaceLoss",
    "cosface": "margin_softmax.CosFaceLoss",
    "arcface": "margin_softmax.ArcFaceLoss",
    "ntxent": "ntxent.NTXentLoss",
}

# losses that need num_classes and embedding_size (they own class weights / proxies)
CLASS_LOSSES = {"proxynca", "proxyanchor", "normsoftmax", "sphereface", "cosface", "arcface"}


def get_loss(name: str, **kwargs) -> torch.nn.Module:
    """Build a loss by short name, e.g. ``get_loss("arcface", num_classes=20, embedding_size=128)``."""
    key = name.lower().replace("-", "_")
    if key not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; choose one of {', '.join(LOSSES)}")
    module_name, class_name = LOSSES[key].split(".")
    module = importlib.import_module(f"vidml.metric.losses.{module_name}")
    return getattr(module, class_name)(**kwargs)

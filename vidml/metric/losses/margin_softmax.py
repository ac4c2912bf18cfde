"""Normalized / margin softmax losses with class weights, as PML's losses of the same names.

Class weights ``W`` have shape ``(embedding_size, num_classes)`` (PML's layout, so weights can be
copied across), initialised from N(0, 1). With ``cos_ij = x_i . w_j / (|x_i| |w_j|)``, ``y_i`` the label
and ``theta = arccos(cos_{i y_i})``, each loss is the cross-entropy of logits where the target logit
is replaced by ``psi(theta)``:

* ``NormalizedSoftmaxLoss`` (Zhai & Wu 2019): logits ``cos / T``, ``T = 0.05`` (no margin)
* ``SphereFaceLoss`` (Liu et al. 2017, A-Softmax): ``psi = (-1)^k cos(m theta) - 2k`` with
  ``k = floor(theta m / pi)``, integer ``m = 4``, all logits scaled by ``|x_i| * scale`` (scale 1)
* ``CosFaceLoss`` (Wang et al. 2018): ``psi = cos theta - m``, ``m = 0.35``, logits scaled by ``s = 64``
* ``ArcFaceLoss`` (Deng et al. 2019): ``psi = cos(theta + m)`` if ``theta <= pi - m`` else
  ``cos theta - m sin m`` (keeps psi decreasing); **m in degrees** as in PML (28.6 deg = 0.5 rad), ``s = 64``

The per-sample loss is weighted by the miner weights of an indices tuple (how often a sample occurs,
over the largest count; all ones without a tuple) and averaged over the batch.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from vidml.metric.losses.base import BaseMetricLoss
from vidml.metric.miners import miner_weights


class _ClassWeightSoftmax(BaseMetricLoss):
    """Shared part: class weights, cosine logits, target-logit replacement, weighted cross-entropy.

    The rows reach :meth:`compute_loss` unnormalised (SphereFace scales by ``|x_i|``); :meth:`cosine`
    normalises them."""

    def __init__(self, num_classes: int, embedding_size: int, scale: float = 1.0):
        super().__init__(normalize=False)
        self.num_classes, self.embedding_size, self.scale = int(num_classes), int(embedding_size), float(scale)
        self.W = torch.nn.Parameter(torch.randn(embedding_size, num_classes))

    def cosine(self, embeddings: torch.Tensor) -> torch.Tensor:
        """(N, D) -> (N, C) cosine between each embedding and each class weight."""
        return F.normalize(embeddings, dim=1) @ F.normalize(self.W, dim=0)

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        """cos of the target class (N,) -> psi (N,), before scaling."""
        return cos_target

    def scale_logits(self, logits: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        return logits * self.scale

    def logits(self, embeddings: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """(N, C) scaled logits with the margin applied to each sample's target class."""
        cos = self.cosine(embeddings)
        target = cos.gather(1, labels[:, None])
        psi = self.target_logit(target.squeeze(1))[:, None]
        logits = cos.scatter(1, labels[:, None], psi)
        return self.scale_logits(logits, embeddings)

    def compute_loss(self, x: torch.Tensor, labels: torch.Tensor, indices_tuple) -> torch.Tensor:
        loss = F.cross_entropy(self.logits(x, labels), labels, reduction="none")
        if indices_tuple is not None:
            loss = loss * miner_weights(indices_tuple, len(labels), loss.dtype, loss.device)
        return loss.mean()


class NormalizedSoftmaxLoss(_ClassWeightSoftmax):
    """Softmax over cosines to L2-normalized class weights, divided by ``temperature``."""

    def __init__(self, num_classes: int, embedding_size: int, temperature: float = 0.05):
        super().__init__(num_classes, embedding_size, scale=1.0 / temperature)
        self.temperature = float(temperature)


class SphereFaceLoss(_ClassWeightSoftmax):
    """A-Softmax: multiplicative angular margin ``m`` (an integer), logits scaled by ``|x| * scale``."""

    def __init__(self, num_classes: int, embedding_size: int, margin: int = 4, scale: float = 1.0):
        super().__init__(num_classes, embedding_size, scale)
        self.margin = int(margin)
        n = torch.arange(self.margin // 2 + 1, dtype=torch.float64)
        # cos(m t) = sum_n (-1)^n C(m, 2n) cos^(m-2n) t sin^(2n) t  (multiple-angle formula)
        coef = torch.tensor([(-1) ** int(k) * math.comb(self.margin, 2 * int(k)) for k in n], dtype=torch.float64)
        self.register_buffer("_n", n, persistent=False)
        self.register_buffer("_coef", coef, persistent=False)

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        c = cos_target[:, None]
        n, coef = self._n.to(c.dtype), self._coef.to(c.dtype)
        cos_m = (coef * c ** (self.margin - 2 * n) * (1 - c * c) ** n).sum(1)
        with torch.no_grad():
            k = torch.floor(torch.acos(cos_target.clamp(-1, 1)) / (math.pi / self.margin))
        return (1 - 2 * (k % 2)) * cos_m - 2 * k

    def scale_logits(self, logits: torch.Tensor, embeddings: torch.Tensor) -> torch.Tensor:
        return logits * embeddings.norm(dim=1, keepdim=True) * self.scale


class CosFaceLoss(_ClassWeightSoftmax):
    """Additive cosine margin ``m`` on the target class, logits scaled by ``scale``."""

    def __init__(self, num_classes: int, embedding_size: int, margin: float = 0.35, scale: float = 64.0):
        super().__init__(num_classes, embedding_size, scale)
        self.margin = float(margin)

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        return cos_target - self.margin


class ArcFaceLoss(_ClassWeightSoftmax):
    """Additive angular margin ``margin`` (degrees, as PML) on the target class, logits scaled by ``scale``."""

    def __init__(self, num_classes: int, embedding_size: int, margin: float = 28.6, scale: float = 64.0):
        super().__init__(num_classes, embedding_size, scale)
        self.margin = float(margin)
        self._m = math.radians(self.margin)

    def target_logit(self, cos_target: torch.Tensor) -> torch.Tensor:
        m = self._m
        c = cos_target.clamp(-1, 1)
        # cos(t + m) = cos t cos m - sin t sin m, sin t = sqrt(1 - cos^2 t) >= 0 on [0, pi]
        sin = torch.sqrt((1.0 - c * c).clamp_min(1e-12))
        cos_t_m = c * math.cos(m) - sin * math.sin(m)
        # theta <= pi - m  <=>  cos theta >= cos(pi - m) = -cos m
        return torch.where(c >= -math.cos(m), cos_t_m, c - m * math.sin(m))

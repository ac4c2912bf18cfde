"""The tracker's online metric-learning objectives (Hu, Lu, Tan, "Deep metric learning for visual tracking").

Given the learned map ``f`` (a tanh MLP), templates ``m_k`` and a batch of positive samples ``x_p``
(patches within a few pixels of the target) and negatives ``x_n`` (background, parts of the target),
with ``d^2(x) = min_k ||f(x) - f(m_k)||^2 / D`` (``D`` = output size, so ``d^2`` lies in ``[0, 4]``):

* ``linear``   (the paper's):  ``J = (1/P) sum_p d^2(x_p) - (alpha/N) sum_n d^2(x_n) + beta sum ||W||^2``
  -- bounded below because tanh bounds ``f``;
* ``logistic`` (DDML's pairwise form, Hu et al. CVPR 2014): ``J = mean_pairs g(margin - l (tau - d^2)) +
  beta sum ||W||^2`` with ``l = +1`` for positive and ``-1`` for negative pairs and the smooth hinge
  ``g(z) = log(1 + exp(b z)) / b``: positives are pulled below ``tau - margin``, negatives pushed above
  ``tau + margin``, and a pair stops being pushed once it is on the right side.

These are the reference formulas, written with autograd on a :class:`MetricMLP`; the tracker trains with their
closed-form gradients (:mod:`apps.track.metric`, checked against these in the tests), which cost a third of the time.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vidml.backbones.mlp import MetricMLP


def template_sq_dist(net: MetricMLP, x: torch.Tensor, templates: torch.Tensor) -> torch.Tensor:
    """``d^2`` of each row of ``x`` to its nearest template in f-space, divided by the output size."""
    fx, ft = net(x), net(templates)
    d2 = (fx * fx).sum(1, keepdim=True) + (ft * ft).sum(1)[None] - 2 * fx @ ft.T
    return d2.clamp_min(0).min(dim=1).values / fx.shape[1]


def online_objective(net: MetricMLP, templates: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor,
                     kind: str = "logistic", alpha: float = 1.0, beta: float = 1e-4, tau: float = 1.0,
                     margin: float = 0.5, sharpness: float = 10.0) -> torch.Tensor:
    """The scalar objective to minimise (see the module docstring for the formulas)."""
    d_pos = template_sq_dist(net, pos, templates)
    d_neg = template_sq_dist(net, neg, templates)
    decay = beta * net.weight_norm2()
    if kind == "linear":
        return d_pos.mean() - alpha * d_neg.mean() + decay
    if kind == "logistic":
        g_pos = F.softplus(sharpness * (margin - (tau - d_pos))) / sharpness
        g_neg = F.softplus(sharpness * (margin + (tau - d_neg))) / sharpness
        return g_pos.mean() + alpha * g_neg.mean() + decay
    raise ValueError(f"unknown objective {kind!r}; use 'linear' or 'logistic'")

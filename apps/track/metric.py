"""The tracker's online metric ``f`` evaluated and trained with closed-form gradients, without autograd.

``f`` is the tanh MLP of :class:`vidml.backbones.mlp.MetricMLP` (its initial weights are that module's):
``a_0 = x``, ``a_l = tanh(a_{l-1} W_l^T + b_l)``, ``f(x) = a_L``. The objective is
:func:`apps.track.objective.online_objective` (the reference, with autograd; the tests check that the gradients
here equal its gradients): with ``d_i = min_k ||f(x_i) - f(m_k)||^2 / D`` (nearest template ``k_i``) and
``c_i = dJ/dd_i``

* logistic: ``c_p = sigmoid(b (margin - tau + d_p)) / P``, ``c_n = -alpha sigmoid(b (margin + tau - d_n)) / N``;
* linear:   ``c_p = 1 / P``,  ``c_n = -alpha / N``;

the gradient at ``f(x_i)`` is ``g_i = 2 c_i (f(x_i) - f(m_{k_i})) / D`` and at ``f(m_k)`` it is
``-sum_{i: k_i = k} g_i`` (templates go through ``f`` too). Backpropagation through the layers:
``delta_l = g_l * (1 - a_l^2)``, ``dJ/dW_l = delta_l^T a_{l-1} + 2 beta W_l``, ``dJ/db_l = sum_rows delta_l``,
``g_{l-1} = delta_l W_l``. The step is Adam's (torch.optim.Adam's defaults: betas 0.9 / 0.999, eps 1e-8, bias
correction), on one concatenated forward of templates, positives and negatives.

Why: a tracker's step is a 384 -> 128 -> 32 net on ~100 rows; autograd's graph, dispatch and the optimiser's
bookkeeping cost several times the arithmetic (about 2.0 ms a step vs 0.3 ms here, 1 thread).
"""
from __future__ import annotations

import math

import torch

from vidml.backbones.mlp import MetricMLP


def sq_dist_to_nearest(fx: torch.Tensor, ft: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows of ``fx`` (N, D) and templates ``ft`` (K, D) in f-space -> (``min_k ||fx_i - ft_k||^2 / D``, argmin)."""
    d2 = torch.addmm((fx * fx).sum(1, keepdim=True) + (ft * ft).sum(1)[None], fx, ft.T, alpha=-2.0)
    d, k = d2.clamp_min_(0).min(dim=1)
    return d / fx.shape[1], k


class OnlineMetric:
    """``f`` and its Adam training on the online DDML objective (see the module docstring)."""

    def __init__(self, net: MetricMLP, lr: float = 1e-3, kind: str = "logistic", alpha: float = 1.0,
                 beta: float = 1e-4, tau: float = 1.0, margin: float = 0.5, sharpness: float = 10.0) -> None:
        if kind not in ("logistic", "linear"):
            raise ValueError(f"unknown objective {kind!r}; use 'linear' or 'logistic'")
        self.weights = [layer.weight.detach().clone() for layer in net.layers]
        self.biases = [layer.bias.detach().clone() for layer in net.layers]
        self.lr, self.kind, self.alpha, self.beta = lr, kind, alpha, beta
        self.tau, self.margin, self.sharpness = tau, margin, sharpness
        self.params = [p for pair in zip(self.weights, self.biases) for p in pair]
        self.m = [torch.zeros_like(p) for p in self.params]
        self.v = [torch.zeros_like(p) for p in self.params]
        self.t = 0

    def _activations(self, x: torch.Tensor) -> list[torch.Tensor]:
        acts = [x.reshape(len(x), -1)]
        for w, b in zip(self.weights, self.biases):
            acts.append(torch.addmm(b, acts[-1], w.T).tanh_())
        return acts

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(N, ...) inputs -> f(x), (N, D)."""
        return self._activations(x)[-1]

    def _sample_coefficients(self, d: torch.Tensor, n_pos: int) -> torch.Tensor:
        """``c_i = dJ/dd_i`` of the positives (first ``n_pos`` rows) and the negatives."""
        dp, dn = d[:n_pos], d[n_pos:]
        if self.kind == "linear":
            return torch.cat([torch.full_like(dp, 1.0 / len(dp)), torch.full_like(dn, -self.alpha / len(dn))])
        b = self.sharpness
        cp = torch.sigmoid(b * (self.margin - self.tau + dp)) / len(dp)
        cn = torch.sigmoid(b * (self.margin + self.tau - dn)) * (-self.alpha / len(dn))
        return torch.cat([cp, cn])

    def gradients(self, templates: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> list[torch.Tensor]:
        """The objective's gradient for every parameter, in the order W_1, b_1, W_2, b_2, ..."""
        k = len(templates)
        acts = self._activations(torch.cat([templates, pos, neg]))
        f = acts[-1]
        ft, fs = f[:k], f[k:]
        d, nearest = sq_dist_to_nearest(fs, ft)
        c = self._sample_coefficients(d, len(pos))
        gs = (fs - ft[nearest]) * (2.0 * c / f.shape[1])[:, None]
        g = torch.cat([torch.zeros_like(ft).index_add_(0, nearest, gs, alpha=-1.0), gs])
        grads: list[torch.Tensor] = []
        for layer in range(len(self.weights) - 1, -1, -1):
            a, w = acts[layer + 1], self.weights[layer]
            delta = g * (1.0 - a * a)
            grads[:0] = [torch.addmm(w, delta.T, acts[layer], beta=2.0 * self.beta), delta.sum(0)]
            if layer:
                g = delta @ w
        return grads

    def step(self, templates: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> None:
        """One Adam step on the objective of (templates, positives, negatives)."""
        grads = self.gradients(templates, pos, neg)
        self.t += 1
        b1, b2, eps = 0.9, 0.999, 1e-8
        step_size = self.lr / (1.0 - b1 ** self.t)
        root_bc2 = math.sqrt(1.0 - b2 ** self.t)
        for p, g, m, v in zip(self.params, grads, self.m, self.v):
            m.mul_(b1).add_(g, alpha=1.0 - b1)
            v.mul_(b2).addcmul_(g, g, value=1.0 - b2)
            p.addcdiv_(m, (v.sqrt() / root_bc2).add_(eps), value=-step_size)

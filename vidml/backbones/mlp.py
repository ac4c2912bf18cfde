"""The DDML metric network: a small multilayer perceptron with tanh layers (Hu, Lu, Tan 2014/2016).

``f(x) = tanh(W_L ... tanh(W_1 x + b_1) ... + b_L)`` maps an input vector (a flattened, normalised image
patch or a hand-crafted feature) to a point of ``[-1, 1]^D``; the learned distance is the Euclidean one
there, ``d_f^2(x, y) = ||f(x) - f(y)||^2``, which lies in ``[0, 4 D]``. tanh keeps the output bounded,
so an objective that pushes negatives apart (``- sum d^2``) cannot diverge.

The default layer sizes for 32x32 patches are 1024 -> 256 -> 64. Weights start orthogonal (scaled by
``init_gain``), which keeps distances between random inputs spread out before any training.
"""
from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from vidml.metric.distances import sq_euclidean


class MetricMLP(nn.Module):
    """tanh MLP ``f``; ``forward(x) -> f(x)`` of shape (N, sizes[-1]); :meth:`sq_dist` gives ``d_f^2``."""

    def __init__(self, sizes: Sequence[int] = (1024, 256, 64), init_gain: float = 1.0) -> None:
        super().__init__()
        if len(sizes) < 2:
            raise ValueError("MetricMLP needs at least an input and an output size")
        self.sizes = tuple(int(s) for s in sizes)
        self.layers = nn.ModuleList(nn.Linear(a, b) for a, b in zip(self.sizes[:-1], self.sizes[1:]))
        for layer in self.layers:
            nn.init.orthogonal_(layer.weight, gain=init_gain)
            nn.init.zeros_(layer.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.reshape(len(x), -1)
        for layer in self.layers:
            x = torch.tanh(layer(x))
        return x

    def sq_dist(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """(N, ...), (M, ...) inputs -> (N, M) squared distances ``||f(x_i) - f(y_j)||^2``."""
        return sq_euclidean(self(x), self(y))

    def weight_norm2(self) -> torch.Tensor:
        """Sum of squared weights (the ``beta`` weight-decay term of the DDML objectives; biases excluded)."""
        return sum((layer.weight ** 2).sum() for layer in self.layers)

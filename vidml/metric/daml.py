"""Deep Adversarial Metric Learning (DAML, Duan et al., CVPR 2018): synthetic hard negatives.

Easy negatives teach a metric nothing. DAML trains a generator ``G`` beside the embedding that turns a
triplet ``(x, x+, x-)`` of embeddings into a synthetic negative ``x~ = G(x, x+, x-)`` that is *hard*:

    J_gen = ||x~ - x||^2  +  l1 ||x~ - x-||^2  +  l2 [ D(x~, x)^2 - D(x+, x)^2 - alpha ]_+
            (J_hard)          (J_reg)                 (J_adv)

* ``J_hard`` pulls ``x~`` toward the anchor (a negative close to the anchor is hard);
* ``J_reg``  keeps ``x~`` near the real negative it came from, so it still looks like that class;
* ``J_adv``  is zero once ``D(x~, x)^2 <= D(x+, x)^2 + alpha``: it pulls ``x~`` in until it is no farther
  from the anchor than the positive (plus ``alpha``) -- a negative that violates the triplet constraint,
  i.e. adversarial to the current metric.

``D`` is the Euclidean distance in embedding space (where the metric loss acts). The embedding is then
trained with any triplet-style loss on the real batch *plus* ``weight * loss(x, x+, x~)``, the synthetic
negative carrying the label of ``x-``; the two are optimised alternately (generator on detached
embeddings, embedding with the generator fixed), as in the paper's adversarial scheme.

``G`` here is an MLP on ``concat(x, x+, x-)`` (3D -> hidden -> D, ReLU) whose output is added to ``x-``
(last layer zero-initialised, so ``G`` starts as the identity on the negative) and, for L2-normalised
embeddings, projected back to the unit sphere.
"""
from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from vidml.metric.miners import all_triplets


class NegativeGenerator(nn.Module):
    """``x~ = normalize(x- + MLP(concat(x, x+, x-)))``: (T, D) x3 -> (T, D)."""

    def __init__(self, dim: int, hidden: int = 256, normalize: bool = True) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(3 * dim, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, dim))
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)
        self.normalize = normalize

    def forward(self, anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor) -> torch.Tensor:
        out = negative + self.mlp(torch.cat([anchor, positive, negative], dim=1))
        return F.normalize(out, dim=1) if self.normalize else out


def generator_objective(synthetic: torch.Tensor, anchor: torch.Tensor, positive: torch.Tensor,
                        negative: torch.Tensor, lambda1: float = 1.0, lambda2: float = 1.0,
                        alpha: float = 0.2) -> torch.Tensor:
    """Mean over triplets of ``J_gen`` (module docstring)."""
    d_syn = (synthetic - anchor).pow(2).sum(1)           # D(x~, x)^2 = ||x~ - x||^2
    j_hard = d_syn
    j_reg = (synthetic - negative).pow(2).sum(1)
    j_adv = F.relu(d_syn - (positive - anchor).pow(2).sum(1) - alpha)
    return (j_hard + lambda1 * j_reg + lambda2 * j_adv).mean()


class DAML(nn.Module):
    """The generator, its optimiser and the synthetic-negative term added to the embedding's loss."""

    def __init__(self, dim: int, hidden: int = 256, lambda1: float = 1.0, lambda2: float = 1.0,
                 alpha: float = 0.2, weight: float = 1.0, lr: float = 1e-3, max_triplets: int = 256,
                 normalize: bool = True) -> None:
        super().__init__()
        self.generator = NegativeGenerator(dim, hidden, normalize)
        self.lambda1, self.lambda2, self.alpha = lambda1, lambda2, alpha
        self.weight, self.max_triplets = weight, max_triplets
        self.optimizer = torch.optim.Adam(self.generator.parameters(), lr=lr)
        self.last_generator_loss = float("nan")

    def sample_triplets(self, labels: torch.Tensor, rng: torch.Generator | None = None):
        """All triplets of the batch, a random ``max_triplets`` of them when there are more."""
        a, p, n = all_triplets(labels)
        if len(a) > self.max_triplets:
            keep = torch.randperm(len(a), generator=rng)[: self.max_triplets]
            a, p, n = a[keep], p[keep], n[keep]
        return a, p, n

    def update_generator(self, anchor: torch.Tensor, positive: torch.Tensor, negative: torch.Tensor) -> float:
        """One Adam step of the generator on ``J_gen`` (embeddings detached); returns ``J_gen``."""
        a, p, n = anchor.detach(), positive.detach(), negative.detach()
        loss = generator_objective(self.generator(a, p, n), a, p, n, self.lambda1, self.lambda2, self.alpha)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self.optimizer.step()
        self.last_generator_loss = float(loss.detach())
        return self.last_generator_loss

    def synthetic_loss(self, embeddings: torch.Tensor, labels: torch.Tensor, metric_loss: torch.nn.Module,
                       triplets=None, rng: torch.Generator | None = None) -> torch.Tensor:
        """Update the generator, then return ``weight * metric_loss`` on (x, x+, x~) triplets.

        ``metric_loss`` follows the PML convention ``loss(emb, labels, indices_tuple)``; the synthetic
        batch is ``cat(x, x+, x~)`` with labels ``(y, y, y_neg)`` and triplets ``(i, T+i, 2T+i)``.
        Gradients reach the embedding through x, x+ and x- (the generator's own gradients from this
        term are discarded at its next update).
        """
        a, p, n = triplets if triplets is not None else self.sample_triplets(labels, rng)
        if len(a) == 0:
            return embeddings.sum() * 0.0
        xa, xp, xn = embeddings[a], embeddings[p], embeddings[n]
        self.update_generator(xa, xp, xn)
        synthetic = self.generator(xa, xp, xn)
        t = len(a)
        batch = torch.cat([xa, xp, synthetic])
        batch_labels = torch.cat([labels[a], labels[p], labels[n]])
        idx = torch.arange(t, device=embeddings.device)
        return self.weight * metric_loss(batch, batch_labels, (idx, idx + t, idx + 2 * t))

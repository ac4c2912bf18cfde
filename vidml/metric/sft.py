"""Spherical feature transform (SFT): feature-space augmentation by rotation on the hypersphere.

Embeddings of a class scatter around its centre direction. SFT transfers a sample's intra-class variation
from class ``a`` to class ``b`` by the *rotation* that maps the unit centre ``u = c_a/|c_a|`` onto
``w = c_b/|c_b|`` -- not by the translation ``z - c_a + c_b``, which leaves the sphere. With ``theta`` the
angle between ``u`` and ``w`` and ``v = (w - (u.w) u) / |w - (u.w) u|`` the unit direction of ``w``
orthogonal to ``u``, the rotation in the plane span(u, w) (identity on its orthogonal complement) is

    R = I + sin(theta) (v u^T - u v^T) + (cos(theta) - 1) (u u^T + v v^T)          (Rodrigues)

so ``R u = w``, ``|R z| = |z|`` and ``angle(R z, w) = angle(z, u)``. It is applied without forming R:

    R z = z + sin(theta) (v (u.z) - u (v.z)) + (cos(theta) - 1) (u (u.z) + v (v.z)).

When ``u = w`` R is the identity; when ``u = -w`` any ``v`` orthogonal to ``u`` gives a valid rotation.

:func:`sft_augment` makes one synthetic sample per real one: each sample of class ``a`` in a batch is
rotated to a different class ``b`` of the same batch (centres = batch class means, treated as constants)
and labelled ``b``. Train on ``cat(real, synthetic)`` with any metric loss.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

_EPS = 1e-8


def rotate(z: torch.Tensor, src: torch.Tensor, dst: torch.Tensor) -> torch.Tensor:
    """Rotate rows of ``z`` (N, D) by the rotation taking direction ``src`` to ``dst`` (each (D,) or (N, D))."""
    u = F.normalize(src.expand_as(z), dim=-1, eps=_EPS)
    w = F.normalize(dst.expand_as(z), dim=-1, eps=_EPS)
    cos = (u * w).sum(-1, keepdim=True).clamp(-1.0, 1.0)
    ortho = w - cos * u
    norm = ortho.norm(dim=-1, keepdim=True)
    # antipodal centres: pick any direction orthogonal to u (Gram-Schmidt on a basis vector)
    if bool((norm < 1e-6).any()):
        basis = torch.zeros_like(u)
        basis.scatter_(-1, u.abs().argmin(-1, keepdim=True), 1.0)
        alt = basis - (basis * u).sum(-1, keepdim=True) * u
        ortho = torch.where(norm < 1e-6, alt, ortho)
        norm = ortho.norm(dim=-1, keepdim=True)
    v = ortho / norm.clamp_min(_EPS)
    sin = torch.sqrt((1.0 - cos * cos).clamp_min(0.0))
    uz = (u * z).sum(-1, keepdim=True)
    vz = (v * z).sum(-1, keepdim=True)
    return z + sin * (v * uz - u * vz) + (cos - 1.0) * (u * uz + v * vz)


def class_centres(embeddings: torch.Tensor, labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(classes (C,), unit mean directions (C, D)) of the classes present in ``labels``."""
    classes, inverse = torch.unique(labels, return_inverse=True)
    sums = torch.zeros(len(classes), embeddings.shape[1], dtype=embeddings.dtype, device=embeddings.device)
    sums.index_add_(0, inverse, embeddings)
    return classes, F.normalize(sums, dim=1, eps=_EPS)


def sft_augment(embeddings: torch.Tensor, labels: torch.Tensor, generator: torch.Generator | None = None,
                detach: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """One synthetic embedding per input: rotate each sample from its class centre to a random other class's.

    Returns (synthetic (N, D), their labels (N,)). With ``detach`` (default) the synthetic samples are
    constants -- pure feature augmentation: real samples learn from them, no gradient flows back through
    the rotation (on the faces benchmark back-propagating through it hurt). With ``detach=False``
    gradients flow through ``embeddings`` (centres are always constants). With a single class in the
    batch there is nothing to transfer: returns empty tensors.
    """
    classes, centres = class_centres(embeddings.detach(), labels)
    c = len(classes)
    if c < 2:
        return embeddings[:0], labels[:0]
    own = torch.searchsorted(classes, labels)
    # a uniformly random *other* class: own + offset (1..c-1) mod c
    offset = torch.randint(1, c, (len(labels),), generator=generator, device=labels.device)
    target = (own + offset) % c
    synthetic = rotate(embeddings.detach() if detach else embeddings, centres[own], centres[target])
    return synthetic, classes[target]

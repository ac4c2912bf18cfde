"""SFT rotations on the hypersphere and DAML's hard-negative generator."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from vidml.metric.daml import DAML, NegativeGenerator, generator_objective
from vidml.metric.sft import class_centres, rotate, sft_augment


def _angle(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.arccos(F.cosine_similarity(a, b, dim=-1).clamp(-1, 1))


def test_rotation_maps_centre_and_preserves_norm_and_angle():
    g = torch.Generator().manual_seed(0)
    d = 16
    src, dst = torch.randn(d, generator=g, dtype=torch.float64), torch.randn(d, generator=g, dtype=torch.float64)
    z = torch.randn(50, d, generator=g, dtype=torch.float64) * 3
    rz = rotate(z, src, dst)
    assert torch.allclose(rz.norm(dim=1), z.norm(dim=1), atol=1e-10)
    assert torch.allclose(_angle(rz, dst[None]), _angle(z, src[None]), atol=1e-7)
    # the old centre lands on the new one (as directions; norm kept)
    moved = rotate(src[None], src, dst)[0]
    assert torch.allclose(moved, F.normalize(dst, dim=0) * src.norm(), atol=1e-10)
    # a proper rotation: orthogonal with determinant +1, identity off the plane of the centres
    r = rotate(torch.eye(d, dtype=torch.float64), src, dst).T
    assert torch.allclose(r.T @ r, torch.eye(d, dtype=torch.float64), atol=1e-10)
    assert abs(float(torch.linalg.det(r)) - 1.0) < 1e-9
    off_plane = torch.randn(d, dtype=torch.float64, generator=g)
    basis = torch.linalg.qr(torch.stack([src, dst], 1))[0]
    off_plane -= basis @ (basis.T @ off_plane)
    assert torch.allclose(rotate(off_plane[None], src, dst)[0], off_plane, atol=1e-10)
    # pairwise angles inside the class are kept (the variation is transferred, not distorted)
    assert torch.allclose(_angle(rz[:, None], rz[None]), _angle(z[:, None], z[None]), atol=1e-6)


def test_rotation_edge_cases():
    z = torch.randn(4, 3, dtype=torch.float64)
    u = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64)
    assert torch.allclose(rotate(z, u, 2 * u), z)  # same direction: identity
    flipped = rotate(z, u, -u)  # antipodal: still a norm-preserving map taking u to -u
    assert torch.allclose(flipped.norm(dim=1), z.norm(dim=1))
    assert torch.allclose(rotate(u[None], u, -u)[0], -u, atol=1e-12)


def test_sft_augment_transfers_to_other_classes():
    g = torch.Generator().manual_seed(1)
    centres = F.normalize(torch.randn(4, 32, generator=g), dim=1)
    labels = torch.arange(4).repeat_interleave(5) * 7  # labels need not be 0..C-1
    emb = F.normalize(centres[labels // 7] + 0.2 * torch.randn(20, 32, generator=g), dim=1).requires_grad_()
    syn, syn_labels = sft_augment(emb, labels, generator=g, detach=False)
    assert syn.shape == emb.shape and (syn_labels != labels).all()
    assert set(syn_labels.tolist()) <= set(labels.tolist())
    assert torch.allclose(syn.norm(dim=1), torch.ones(20), atol=1e-5)
    classes, c = class_centres(emb.detach(), labels)
    own = c[torch.searchsorted(classes, labels)]
    new = c[torch.searchsorted(classes, syn_labels)]
    assert torch.allclose(_angle(syn, new), _angle(emb, own), atol=1e-3)
    syn.sum().backward()
    assert emb.grad is not None and emb.grad.abs().sum() > 0
    assert not sft_augment(emb, labels, generator=g)[0].requires_grad  # default: constants
    one_class, _ = sft_augment(emb[:5], labels[:5])
    assert len(one_class) == 0


def test_generator_objective_terms():
    x = torch.tensor([[0.0, 0.0]])
    xp = torch.tensor([[1.0, 0.0]])
    xn = torch.tensor([[0.0, 3.0]])
    syn = torch.tensor([[0.0, 2.0]])
    # hard 4, reg 1, adv [4 - 1 - 0.5]_+ = 2.5
    assert float(generator_objective(syn, x, xp, xn, lambda1=1.0, lambda2=2.0, alpha=0.5)) == 4 + 1 + 2 * 2.5
    assert float(generator_objective(syn, x, xp, xn, lambda1=0.0, lambda2=1.0, alpha=10.0)) == 4.0


def test_generator_starts_at_the_negative_and_learns_harder_negatives():
    torch.manual_seed(0)
    g = NegativeGenerator(8)
    a, p, n = (F.normalize(torch.randn(64, 8), dim=1) for _ in range(3))
    assert torch.allclose(g(a, p, n), n, atol=1e-6)
    daml = DAML(8, lr=1e-2)
    with torch.no_grad():
        before = float(generator_objective(daml.generator(a, p, n), a, p, n))
    for _ in range(100):
        daml.update_generator(a, p, n)
    syn = daml.generator(a, p, n).detach()
    assert daml.last_generator_loss < 0.8 * before
    # synthetic negatives are closer to the anchor than the real negatives were: harder
    assert (syn - a).norm(dim=1).mean() < 0.8 * (n - a).norm(dim=1).mean()


def test_synthetic_loss_reaches_the_embedding():
    torch.manual_seed(0)
    emb = F.normalize(torch.randn(16, 8), dim=1).requires_grad_()
    labels = torch.arange(4).repeat_interleave(4)
    daml = DAML(8)

    def triplet(e, y, t):  # a triplet-style loss in PML's calling convention
        a, p, n = t
        assert (y[a] == y[p]).all() and (y[a] != y[n]).all()
        return F.relu((e[a] - e[p]).norm(dim=1) - (e[a] - e[n]).norm(dim=1) + 1.0).mean()

    value = daml.synthetic_loss(emb, labels, triplet)
    assert value.item() > 0
    value.backward()
    assert emb.grad.abs().sum() > 0

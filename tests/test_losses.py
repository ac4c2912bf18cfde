"""Every loss pytorch-metric-learning 2.9 also has gives PML's value (and, for a few, its gradients)
within 1e-4 on random embeddings, with and without a miner's indices tuple; DDML against a value
computed by hand; the registry and edge cases."""
from __future__ import annotations

import math

import pytest
import torch

from vidml.metric.losses import CLASS_LOSSES, LOSSES, get_loss
from vidml.metric.miners import MultiSimilarityMiner, SemiHardMiner

pml_losses = pytest.importorskip("pytorch_metric_learning.losses", reason="needs pytorch-metric-learning (dev extra)")


pytestmark = pytest.mark.usefixtures("one_torch_thread")


N, D, C = 48, 16, 6

# our name -> (PML constructor, kwargs shared by both); defaults on both sides otherwise
PAIRS = {
    "contrastive": (pml_losses.ContrastiveLoss, {"pos_margin": 0.1, "neg_margin": 0.9}),
    "triplet": (pml_losses.TripletMarginLoss, {"margin": 0.2}),
    "lifted": (pml_losses.LiftedStructureLoss, {}),
    "npair": (pml_losses.NPairsLoss, {}),
    "multi_similarity": (pml_losses.MultiSimilarityLoss, {}),
    "ntxent": (pml_losses.NTXentLoss, {"temperature": 0.1}),
    "proxynca": (pml_losses.ProxyNCALoss, {}),
    "proxyanchor": (pml_losses.ProxyAnchorLoss, {}),
    "normsoftmax": (pml_losses.NormalizedSoftmaxLoss, {}),
    "sphereface": (pml_losses.SphereFaceLoss, {}),
    "cosface": (pml_losses.CosFaceLoss, {}),
    "arcface": (pml_losses.ArcFaceLoss, {}),
}


def _batch(seed: int, n: int = N, d: int = D, c: int = C):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, d, generator=g, dtype=torch.float64)
    y = torch.randint(0, c, (n,), generator=g)
    return x, y


def _build(name: str, seed: int):
    """Ours and PML's loss with the same hyper-parameters and (for class losses) the same weights."""
    pml_cls, kw = PAIRS[name]
    if name in CLASS_LOSSES:
        torch.manual_seed(seed)
        theirs = pml_cls(num_classes=C, embedding_size=D, **kw)
        ours = get_loss(name, num_classes=C, embedding_size=D, **kw)
        for attr in ("W", "proxies"):
            if hasattr(theirs, attr):
                getattr(ours, attr).data = getattr(theirs, attr).data.double().clone()
                getattr(theirs, attr).data = getattr(theirs, attr).data.double()
    else:
        theirs, ours = pml_cls(**kw), get_loss(name, **kw)
    return ours, theirs


def test_registry_covers_pml_losses_and_rejects_unknown():
    assert set(PAIRS) | {"ddml"} == set(LOSSES)
    with pytest.raises(ValueError, match="unknown loss"):
        get_loss("nope")


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("seed", [0, 1])
def test_equals_pml_on_all_pairs(name, seed):
    x, y = _batch(seed)
    ours, theirs = _build(name, seed)
    want = theirs(x, y)
    got = ours(x, y)
    assert float(want) > 0  # a non-trivial batch
    assert got.item() == pytest.approx(want.item(), abs=1e-4, rel=1e-5)


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("miner", ["semihard", "multi_similarity"])
def test_equals_pml_with_mined_tuples(name, miner):
    x, y = _batch(3)
    tuples = (SemiHardMiner(margin=0.3) if miner == "semihard" else MultiSimilarityMiner(0.1))(x, y)
    assert len(tuples[0]) > 0
    if len(tuples) == 3:  # a random subset of the triplets keeps PML's (pairs x pairs) matrices small
        keep = torch.randperm(len(tuples[0]), generator=torch.Generator().manual_seed(0))[:300]
        tuples = tuple(t[keep] for t in tuples)
    ours, theirs = _build(name, 3)
    assert ours(x, y, tuples).item() == pytest.approx(theirs(x, y, tuples).item(), abs=1e-4, rel=1e-5)


@pytest.mark.parametrize("name", ["triplet", "contrastive", "multi_similarity", "arcface", "proxyanchor", "lifted"])
def test_gradients_equal_pml(name):
    x, y = _batch(5)
    ours, theirs = _build(name, 5)
    xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
    ours(xa, y).backward()
    theirs(xb, y).backward()
    torch.testing.assert_close(xa.grad, xb.grad, atol=1e-6, rtol=1e-4)
    assert xa.grad.abs().sum() > 0
    if name in CLASS_LOSSES:
        p_ours = next(ours.parameters()).grad
        p_theirs = next(theirs.parameters()).grad
        torch.testing.assert_close(p_ours, p_theirs, atol=1e-6, rtol=1e-4)


@pytest.mark.parametrize("kw", [{"margin": 0.2, "swap": True}, {"margin": 0.1, "smooth_loss": True}])
def test_triplet_variants_equal_pml(kw):
    x, y = _batch(8)
    for tuples in (None, SemiHardMiner(margin=0.3)(x, y)):
        xa, xb = x.clone().requires_grad_(), x.clone().requires_grad_()
        ours, theirs = get_loss("triplet", **kw)(xa, y, tuples), pml_losses.TripletMarginLoss(**kw)(xb, y, tuples)
        assert ours.item() == pytest.approx(theirs.item(), abs=1e-6)
        ours.backward()
        theirs.backward()
        torch.testing.assert_close(xa.grad, xb.grad, atol=1e-6, rtol=1e-4)


def test_ddml_hand_computed():
    # two points of class 0 at distance 1, one of class 1 at distance 2 and sqrt(5) from them
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    y = torch.tensor([0, 0, 1])
    tau, beta = 2.0, 2.0
    g = lambda z: math.log1p(math.exp(beta * z)) / beta  # noqa: E731
    pairs = [(+1, 1.0), (-1, 4.0), (-1, 5.0)]  # (l_ij, d_ij^2), each unordered pair twice
    want = sum(g(1 - l * (tau - d2)) for l, d2 in pairs) / len(pairs)
    got = get_loss("ddml", tau=tau, beta=beta)(x, y)
    assert got.item() == pytest.approx(want, rel=1e-6)
    # the same pairs given as a tuple (ordered once each) give the same mean
    tup = (torch.tensor([0]), torch.tensor([1]), torch.tensor([0, 1]), torch.tensor([2, 2]))
    assert get_loss("ddml", tau=tau, beta=beta)(x, y, tup).item() == pytest.approx(want, rel=1e-6)


def test_ddml_pulls_positives_and_pushes_negatives():
    x = torch.tensor([[0.0, 0.0], [1.5, 0.0], [-0.5, 0.0]], requires_grad=True)
    y = torch.tensor([0, 0, 1])
    loss = get_loss("ddml", tau=2.0, beta=1.0)
    before = loss(x, y)
    before.backward()
    # point 1 (positive of 0, d^2 = 2.25 > tau - 1): descent (-grad) moves it left, toward point 0
    assert x.grad[1, 0] > 0
    # point 2 (negative, d^2 = 0.25 < tau + 1 from 0, left of both): descent moves it further left
    assert x.grad[2, 0] > 0
    with torch.no_grad():
        assert loss(x - 0.1 * x.grad, y) < before


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_single_class_batch_is_finite_and_differentiable(name):
    x = torch.randn(8, D, requires_grad=True)
    y = torch.zeros(8, dtype=torch.long)
    kw = {"num_classes": C, "embedding_size": D} if name in CLASS_LOSSES else {}
    loss = get_loss(name, **kw)(x, y)
    assert torch.isfinite(loss)
    loss.backward()
    assert torch.isfinite(x.grad).all()


def test_triplet_loss_zero_when_classes_are_separated():
    x = torch.tensor([[1.0, 0.0], [0.99, 0.05], [-1.0, 0.0], [-0.99, -0.05]])
    y = torch.tensor([0, 0, 1, 1])
    assert get_loss("triplet", margin=0.2)(x, y).item() == 0.0
    assert get_loss("contrastive")(x, y).item() == pytest.approx(0.05, abs=1e-3)  # only d_ap ~ 0.05 remains

"""Miners: the same index sets as pytorch-metric-learning for semihard / hard / multi-similarity;
distance-weighted sampling checked on its properties and its distribution; the M-per-class sampler."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidml.errors import BadInput
from vidml.metric.miners import (DistanceWeightedMiner, all_pairs, all_triplets, get_miner, miner_weights,
                                 to_triplets)
from vidml.metric.samplers import MPerClassSampler

pml_miners = pytest.importorskip("pytorch_metric_learning.miners", reason="needs pytorch-metric-learning (dev extra)")


pytestmark = pytest.mark.usefixtures("one_torch_thread")



def _batch(seed: int, n: int = 64, d: int = 16, c: int = 8):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g), torch.randint(0, c, (n,), generator=g)


def _set(*cols):
    return set(zip(*(c.tolist() for c in cols)))


@pytest.mark.parametrize("kind", ["semihard", "hard"])
@pytest.mark.parametrize("margin", [0.1, 0.3])
def test_triplet_miners_equal_pml(kind, margin):
    x, y = _batch(int(margin * 10))
    ours = get_miner(kind, margin=margin)(x, y)
    theirs = pml_miners.TripletMarginMiner(margin=margin, type_of_triplets=kind)(x, y)
    assert len(ours[0]) > 0
    assert _set(*ours) == _set(*theirs)
    assert all(t.dtype == torch.long for t in ours)


def test_semihard_and_hard_triplets_satisfy_their_definition():
    x, y = _batch(7)
    d = torch.cdist(F.normalize(x), F.normalize(x))
    a, p, n = get_miner("semihard", margin=0.2)(x, y)
    m = d[a, n] - d[a, p]
    assert ((m > 0) & (m <= 0.2 + 1e-6)).all()
    assert (y[a] == y[p]).all() and (y[a] != y[n]).all() and (a != p).all()
    a, p, n = get_miner("hard", margin=0.2)(x, y)
    assert (d[a, n] <= d[a, p] + 1e-6).all()


@pytest.mark.parametrize("epsilon", [0.05, 0.1, 0.3])
def test_multi_similarity_miner_equals_pml(epsilon):
    x, y = _batch(11)
    a1, p, a2, n = get_miner("multi_similarity", epsilon=epsilon)(x, y)
    b1, q, b2, m = pml_miners.MultiSimilarityMiner(epsilon=epsilon)(x, y)
    assert len(a1) > 0 and len(a2) > 0
    assert _set(a1, p) == _set(b1, q)
    assert _set(a2, n) == _set(b2, m)


def test_all_pairs_and_triplets_counts():
    y = torch.tensor([0, 0, 0, 1, 1, 2])
    a1, p, a2, n = all_pairs(y)
    assert len(a1) == 3 * 2 + 2 * 1 and len(a2) == 36 - 6 - 8
    a, p, n = all_triplets(y)
    assert len(a) == 3 * 2 * 3 + 2 * 1 * 4  # anchors x other positives x negatives
    # pairs sharing an anchor join into triplets
    a, p, n = to_triplets((torch.tensor([0, 3]), torch.tensor([1, 4]), torch.tensor([0, 0, 3]),
                           torch.tensor([5, 4, 0])), y)
    assert _set(a, p, n) == {(0, 1, 5), (0, 1, 4), (3, 4, 0)}


def test_miner_weights_count_occurrences():
    w = miner_weights((torch.tensor([0, 0]), torch.tensor([1, 2]), torch.tensor([3, 3])), 5, torch.float32)
    assert w.tolist() == [1.0, 0.5, 0.5, 1.0, 0.0]
    assert miner_weights(None, 3, torch.float32).tolist() == [1.0, 1.0, 1.0]


def test_distance_weighted_triplets_are_valid_and_cover_every_positive_pair():
    x, y = _batch(2, n=96, d=32, c=12)
    miner = DistanceWeightedMiner(cutoff=0.5, nonzero_loss_cutoff=1.4, generator=torch.Generator().manual_seed(0))
    a, p, n = miner(x, y)
    d = torch.cdist(F.normalize(x), F.normalize(x))
    assert (y[a] == y[p]).all() and (y[a] != y[n]).all() and (a != p).all()
    assert (d[a, n] < 1.4).all()  # negatives beyond the non-zero-loss cutoff are never drawn
    a1, p1, _, _ = all_pairs(y)
    has_candidate = ((y[:, None] != y[None, :]) & (d < 1.4)).any(1)
    assert _set(a, p) == _set(a1[has_candidate[a1]], p1[has_candidate[a1]])


def test_distance_weighted_weights_are_inverse_sphere_density():
    x, y = _batch(4, n=48, d=16, c=6)
    miner = DistanceWeightedMiner(cutoff=0.5, nonzero_loss_cutoff=1.4)
    w = miner.weights(x, y).double().numpy()
    dim = x.shape[1]
    d = np.clip(torch.cdist(F.normalize(x), F.normalize(x)).double().numpy(), 0.5, None)
    q = d ** (dim - 2) * (1 - d ** 2 / 4) ** ((dim - 3) / 2)  # density of distances on S^(dim-1)
    ok = (y.numpy()[:, None] != y.numpy()[None, :]) & (d < 1.4)
    want = np.where(ok, 1 / q, 0)
    want /= np.maximum(want.sum(1, keepdims=True), 1e-300)
    np.testing.assert_allclose(w, want, rtol=1e-3, atol=1e-9)
    assert np.allclose(w.sum(1)[ok.any(1)], 1)


def test_distance_weighted_draws_follow_the_weights():
    x, y = _batch(9, n=40, d=8, c=4)
    miner = DistanceWeightedMiner(cutoff=0.5, nonzero_loss_cutoff=1.4, generator=torch.Generator().manual_seed(1))
    w = miner.weights(x, y)
    anchor = int(torch.argmax((w > 0).sum(1)))  # the anchor with the most candidate negatives
    counts = torch.zeros(len(y))
    draws = 0
    for _ in range(400):
        a, _, n = miner(x, y)
        counts += torch.bincount(n[a == anchor], minlength=len(y)).float()
        draws += int((a == anchor).sum())
    freq = counts / draws
    # every drawn negative has non-zero weight, and frequencies match the weights (3-sigma binomial)
    assert (counts[w[anchor] == 0] == 0).all()
    sigma = torch.sqrt(w[anchor] * (1 - w[anchor]) / draws)
    assert (torch.abs(freq - w[anchor]) <= 3 * sigma + 2e-3).all()


def test_unknown_miner_rejected():
    with pytest.raises(ValueError, match="unknown miner"):
        get_miner("nope")


def test_m_per_class_sampler_batches():
    labels = np.repeat(np.arange(10), [5, 5, 5, 5, 5, 5, 5, 5, 5, 2])
    sampler = MPerClassSampler(labels, m=4, batch_size=16, length_before_new_iter=160, seed=0)
    batches = list(sampler)
    assert len(batches) == len(sampler) == 10
    for b in batches:
        assert len(b) == 16
        classes, counts = np.unique(labels[b], return_counts=True)
        assert len(classes) == 4 and (counts == 4).all()
        for c in classes:  # distinct samples when the class has >= m of them
            if (labels == c).sum() >= 4:
                assert len(set(i for i in b if labels[i] == c)) == 4
    assert batches == list(MPerClassSampler(labels, 4, 16, 160, seed=0))  # seeded: reproducible
    seen = {c for b in batches for c in labels[b]}
    assert len(seen) >= 8  # classes are drawn across the label set, not always the same few


def test_m_per_class_sampler_works_as_batch_sampler():
    data = torch.utils.data.TensorDataset(torch.arange(30), torch.arange(30) // 5)
    sampler = MPerClassSampler((torch.arange(30) // 5), m=2, batch_size=6, length_before_new_iter=30, seed=1)
    loader = torch.utils.data.DataLoader(data, batch_sampler=sampler)
    for _, lab in loader:
        assert len(lab) == 6 and torch.unique(lab, return_counts=True)[1].eq(2).all()


@pytest.mark.parametrize("kw", [dict(m=3, batch_size=16), dict(m=4, batch_size=64), dict(m=0, batch_size=8)])
def test_m_per_class_sampler_rejects_bad_settings(kw):
    with pytest.raises(BadInput):
        MPerClassSampler(np.repeat(np.arange(4), 5), length_before_new_iter=100, **kw)

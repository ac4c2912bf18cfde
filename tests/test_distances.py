"""Distances: Euclidean forms against torch.cdist, cosine against torch, Hamming on packed codes
against a brute-force bit count."""
from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidml.metric.distances import cosine, cosine_similarity, euclidean, hamming, pack_bits, sq_euclidean, unpack_bits


pytestmark = pytest.mark.usefixtures("one_torch_thread")



def test_euclidean_matches_cdist():
    g = torch.Generator().manual_seed(0)
    x, y = torch.randn(30, 12, generator=g, dtype=torch.float64), torch.randn(20, 12, generator=g, dtype=torch.float64)
    torch.testing.assert_close(euclidean(x, y), torch.cdist(x, y), atol=1e-6, rtol=1e-6)
    torch.testing.assert_close(sq_euclidean(x, y), torch.cdist(x, y) ** 2, atol=1e-9, rtol=1e-9)
    d = euclidean(x)
    torch.testing.assert_close(d, d.T)
    assert d.diagonal().abs().max() < 1e-5
    xg = x.clone().requires_grad_()
    euclidean(xg).sum().backward()  # finite gradient even at the zero diagonal
    assert torch.isfinite(xg.grad).all()


def test_cosine_matches_torch():
    g = torch.Generator().manual_seed(1)
    x, y = torch.randn(10, 5, generator=g), torch.randn(7, 5, generator=g)
    want = F.cosine_similarity(x[:, None, :], y[None, :, :], dim=-1)
    torch.testing.assert_close(cosine_similarity(x, y), want, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(cosine(x, y), 1 - want, atol=1e-6, rtol=1e-5)


@pytest.mark.parametrize("n_bits", [64, 128, 40, 13])
def test_hamming_equals_brute_force_bit_count(n_bits):
    rng = np.random.default_rng(n_bits)
    a_bits, b_bits = rng.integers(0, 2, (25, n_bits)), rng.integers(0, 2, (17, n_bits))
    a, b = pack_bits(a_bits), pack_bits(b_bits)
    assert a.dtype == np.uint8 and a.shape == (25, (n_bits + 7) // 8)
    want = np.array([[sum(int(u) != int(v) for u, v in zip(r, s)) for s in b_bits] for r in a_bits])
    got = hamming(a, b)
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(unpack_bits(a, n_bits), a_bits)
    assert (hamming(a, a).diagonal() == 0).all()


def test_hamming_from_signs_and_mismatched_lengths():
    codes = pack_bits(np.array([[0.5, -1.0, 2.0, -0.1, 1, 1, 1, 1], [-1, -1, -1, -1, -1, -1, -1, -1]]))
    assert hamming(codes, codes)[0, 1] == 6
    with pytest.raises(ValueError):
        hamming(np.zeros((1, 8), np.uint8), np.zeros((1, 4), np.uint8))

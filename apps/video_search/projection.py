"""Binary codes from float features without back-propagation: learned whitening + PCA, then ITQ.

Given features ``X`` (N, D) of training frames and ``V`` (N, D) of edited copies of the same frames:

1. centre on the mean ``mu`` of X;
2. learned whitening (Radenovic et al., TPAMI 2018): with the within-pair covariance of the copy
   differences ``Cw = (V - X)^T (V - X) / N`` (+ ``shrink`` * its mean eigenvalue on the diagonal), map
   ``z = Cw^{-1/2} (x - mu)`` -- directions along which copies move are shrunk;
3. PCA of the whitened frames: the ``bits`` directions of largest variance ``P`` (D, bits);
4. ITQ (Gong & Lazebnik, CVPR 2011): an orthogonal rotation ``R`` (bits, bits) minimising
   ``||sign(Z P R) - Z P R||_F^2``, alternating ``B = sign(Z P R)`` and the Procrustes solution
   ``R = U W^T`` of ``svd(P^T Z^T B) = U S W^T``, 50 iterations. With ``bits`` > D the codes get more
   blocks, each the top directions of a random rotation of the PCA basis, ITQ-rotated on its own.

The result is one affine map ``h(x) = W^T x + b`` with ``W = Cw^{-1/2} P R`` and ``b = -W^T mu``: the
HashingNet's bit layer. ``whiten=False`` gives plain PCA-ITQ.
"""
from __future__ import annotations

import numpy as np


def itq_rotation(z: np.ndarray, iters: int = 50, seed: int = 0) -> np.ndarray:
    """ITQ rotation (bits, bits) for centred, projected data ``z`` (N, bits)."""
    rng = np.random.default_rng(seed)
    r, _ = np.linalg.qr(rng.normal(size=(z.shape[1], z.shape[1])))
    for _ in range(iters):
        b = np.sign(z @ r)
        b[b == 0] = 1
        u, _, wt = np.linalg.svd(z.T @ b)
        r = u @ wt
    return r


def inverse_sqrt(c: np.ndarray, shrink: float) -> np.ndarray:
    """``(C + shrink * mean_eig * I)^{-1/2}`` of a symmetric PSD matrix."""
    vals, vecs = np.linalg.eigh(c)
    vals = np.clip(vals, 0, None) + shrink * max(float(vals.mean()), 1e-12)
    return (vecs / np.sqrt(vals)) @ vecs.T


def learn_projection(x: np.ndarray, copies: np.ndarray | None, bits: int, whiten: bool = True,
                     shrink: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``(W (D, bits), b (bits,))`` of the module doc from features ``x`` and copies ``copies`` (row-aligned)."""
    x = np.asarray(x, np.float64)
    mu = x.mean(0)
    if whiten and copies is not None:
        diff = np.asarray(copies, np.float64) - x
        m = inverse_sqrt(diff.T @ diff / len(diff), shrink)
    else:
        m = np.eye(x.shape[1])
    z = (x - mu) @ m
    vals, vecs = np.linalg.eigh(z.T @ z / len(z))
    blocks, order, rng = [], np.argsort(-vals), np.random.default_rng(seed)
    while sum(b.shape[1] for b in blocks) < bits:      # bits > D: more blocks, each a random rotation of the PCA basis
        k = min(bits - sum(b.shape[1] for b in blocks), len(order))
        basis = vecs[:, order] if not blocks else vecs[:, order] @ np.linalg.qr(rng.normal(size=(len(order),) * 2))[0]
        p = basis[:, :k]
        blocks.append(p @ itq_rotation(z @ p, seed=seed + len(blocks)))
    w = m @ np.concatenate(blocks, 1)
    return w.astype(np.float32), (-(mu @ w)).astype(np.float32)

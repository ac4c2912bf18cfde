"""Asymmetric distance: a real-valued query projection against stored binary codes (asymmetric hashing).

The index keeps only the codes ``b = [h(x) > 0]`` (``bits`` bits per frame). A query is hashed by the same
bit layer, but its real-valued pre-codes ``h = h(q)`` (:meth:`vidml.backbones.hashing.HashingNet.projections`)
are kept: a bit the query is unsure of (``|h_i|`` small) should cost less when it disagrees than a bit it
is sure of. With the signs ``B = 2b - 1`` in {-1, +1} of a stored code, the weighted Hamming distance

    d_a(h, b) = bits * sum_i |h_i| [sign(h_i) != B_i] / sum_i |h_i|
              = bits * (|h|_1 - h . B) / (2 |h|_1)                       in [0, bits]

is an affine function of the asymmetric inner product ``h . B`` (Gordo et al., TPAMI 2014; Jegou et al.,
TPAMI 2011, in the binary case), ranks the stored codes as that inner product does, and equals the plain
Hamming distance when every ``|h_i|`` is the same. It is on the bit scale (0 = the query's own signs), so
the alignment's vote weights and the null model take it in place of the Hamming distance, with a match
radius of its own chosen on validation frames (:func:`apps.video_search.train.choose_radius`).

Search (:func:`rerank`): the Hamming top-``candidates`` of ``sign(h)`` (any backend: numpy, faiss, IVF),
then those candidates re-sorted by ``d_a``, the best ``k`` kept. No more bits are stored; the cost is one
(Q, candidates, bits) product on top of the Hamming search.
"""
from __future__ import annotations

import numpy as np

from vidml.metric.distances import unpack_bits

RERANK_CANDIDATES = 4   # Hamming candidates per kept neighbour (k = 64 -> 256 candidates re-ranked)


def signs(codes: np.ndarray, bits: int) -> np.ndarray:
    """(N, bits/8) packed codes -> (N, bits) float32 signs ``2b - 1`` in {-1, +1}."""
    return unpack_bits(codes, bits).astype(np.float32) * 2.0 - 1.0


def weighted_hamming(proj: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``d_a`` (module doc) of every query projection ``proj`` (M, bits) to every code ``codes`` (N, bits/8):
    (M, N) float32."""
    proj = np.atleast_2d(np.asarray(proj, np.float32))
    bits = proj.shape[1]
    if np.asarray(codes).shape[-1] * 8 != bits:
        raise ValueError(f"projections of {bits} bits cannot be compared with {np.asarray(codes).shape[-1]}-byte codes")
    l1 = np.maximum(np.abs(proj).sum(1, keepdims=True), 1e-12)
    return (bits * (l1 - proj @ signs(codes, bits).T) / (2.0 * l1)).astype(np.float32)


def rerank(proj: np.ndarray, db: np.ndarray, dist: np.ndarray, rows: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Re-sort Hamming candidates by ``d_a``: ``proj`` (Q, bits), ``db`` the stored codes, ``dist``/``rows``
    (Q, C) a Hamming search's output (rows it could not fill marked by the int32 maximum, as the IVF
    backend does). Returns (``d_a`` (Q, min(k, C)) float32 ascending, rows (Q, min(k, C)) int64); an
    unfilled candidate keeps an infinite distance."""
    proj = np.atleast_2d(np.asarray(proj, np.float32))
    q, c = rows.shape
    k = min(k, c)
    if q == 0 or c == 0:
        return np.zeros((q, k), np.float32), np.zeros((q, k), np.int64)
    bits = proj.shape[1]
    cand = signs(db[rows.reshape(-1)], bits).reshape(q, c, bits)
    l1 = np.maximum(np.abs(proj).sum(1, keepdims=True), 1e-12)
    da = bits * (l1 - np.einsum("qb,qcb->qc", proj, cand)) / (2.0 * l1)
    da = np.where(dist >= np.iinfo(np.int32).max, np.inf, da).astype(np.float32)
    order = np.argsort(da, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(da, order, 1), np.take_along_axis(rows, order, 1)

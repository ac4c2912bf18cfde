"""Pairwise distances between embeddings, and Hamming distance between packed binary codes.

* ``euclidean(x, y)[i, j]    = ||x_i - y_j||_2``
* ``sq_euclidean(x, y)[i, j] = ||x_i - y_j||_2^2 = |x_i|^2 + |y_j|^2 - 2 x_i . y_j`` (clamped at 0)
* ``cosine(x, y)[i, j]       = 1 - x_i . y_j / (|x_i| |y_j|)`` (inputs are normalized first)
* ``cosine_similarity``      = ``x_i . y_j`` of the L2-normalized rows (PML's CosineSimilarity)
* ``hamming(a, b)[i, j]``    = number of differing bits between packed ``uint8`` codes (numpy popcount)

The torch functions keep gradients; the squared form avoids the sqrt's infinite gradient at 0, and
``euclidean`` adds a tiny epsilon inside the sqrt for the same reason.
"""
from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

_EPS = 1e-12


def sq_euclidean(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """(N, D), (M, D) -> (N, M) squared Euclidean distances."""
    y = x if y is None else y
    d = (x * x).sum(1, keepdim=True) + (y * y).sum(1)[None, :] - 2.0 * x @ y.T
    return d.clamp_min(0.0)


def euclidean(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """(N, D), (M, D) -> (N, M) Euclidean distances (same as ``torch.cdist`` up to eps)."""
    return torch.sqrt(sq_euclidean(x, y) + _EPS)


def cosine_similarity(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """(N, D), (M, D) -> (N, M) cosine similarity of the L2-normalized rows."""
    xn = F.normalize(x, dim=1)
    yn = xn if y is None else F.normalize(y, dim=1)
    return xn @ yn.T


def cosine(x: torch.Tensor, y: torch.Tensor | None = None) -> torch.Tensor:
    """(N, D), (M, D) -> (N, M) cosine distance ``1 - cos``."""
    return 1.0 - cosine_similarity(x, y)


# popcount of every byte value, for Hamming distance on packed codes
_POPCOUNT = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def pack_bits(bits: np.ndarray) -> np.ndarray:
    """(N, B) of {0,1} / bool / signs (>0 means 1) -> (N, ceil(B/8)) uint8, big-endian bits (np.packbits)."""
    bits = np.asarray(bits)
    if bits.dtype != bool:
        bits = bits > 0
    return np.packbits(bits, axis=-1)


def unpack_bits(codes: np.ndarray, n_bits: int) -> np.ndarray:
    """Inverse of :func:`pack_bits`: (N, n_bits/8) uint8 -> (N, n_bits) uint8 in {0, 1}."""
    return np.unpackbits(np.asarray(codes, dtype=np.uint8), axis=-1)[..., :n_bits]


def hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(N, K), (M, K) packed uint8 codes -> (N, M) int32 Hamming distances.

    Uses ``np.bitwise_count`` (numpy >= 2.0, a hardware popcount) on 64-bit words when K is a multiple
    of 8, else a 256-entry lookup table per byte.
    """
    a = np.ascontiguousarray(np.atleast_2d(a), dtype=np.uint8)
    b = np.ascontiguousarray(np.atleast_2d(b), dtype=np.uint8)
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"codes of {a.shape[1]} and {b.shape[1]} bytes cannot be compared")
    if a.shape[1] % 8 == 0 and hasattr(np, "bitwise_count"):
        a64, b64 = a.view(np.uint64), b.view(np.uint64)
        out = np.zeros((a.shape[0], b.shape[0]), dtype=np.int32)
        for w in range(a64.shape[1]):
            out += np.bitwise_count(a64[:, w, None] ^ b64[None, :, w])
        return out
    return _POPCOUNT[a[:, None, :] ^ b[None, :, :]].sum(-1, dtype=np.int32)

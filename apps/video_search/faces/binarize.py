"""Binary face codes: centre, rotate (ITQ, learned), take signs, pack into bytes.

    b(x) = pack_bits( sign( (x - mu) R ) ),    x in R^D (unit embedding), R in R^{D x B} orthonormal columns

``mu`` is the mean training embedding (dlib's descriptors are far from zero-mean: without centring most
bits would be constant). ``R`` is learned by Iterative Quantization (Gong & Lazebnik, CVPR 2011) on the
centred, PCA-projected training embeddings ``V`` (n x B): alternate ``Bq = sign(V R)`` and the orthogonal
Procrustes step ``R = argmin ||Bq - V R||_F``: with ``svd(V^T Bq) = U S W^T``, ``R = U W^T``. It starts from
a random orthogonal matrix (the random-projection / SimHash code, ``iterations=0``) and lowers the
quantisation loss ``||sign(V R) - V R||^2`` monotonically. Codes are compared by Hamming distance
(vidml.metric.distances.hamming); for B = D random rotation, E[hamming] = B * angle(x, y) / pi.
"""
from __future__ import annotations

import numpy as np
import torch

from vidml.metric.distances import pack_bits

from apps.video_search.projection import itq_rotation


class FaceHasher(torch.nn.Module):
    """Holds ``mean`` (D,) and ``projection`` (D, B); :meth:`codes` gives packed uint8 codes (N, B/8)."""

    def __init__(self, dim: int = 128, bits: int = 128) -> None:
        super().__init__()
        self.config = {"dim": dim, "bits": bits}
        self.bits = bits
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("projection", torch.eye(dim, bits))

    def signs(self, embeddings: np.ndarray) -> np.ndarray:
        """(N, D) float -> (N, B) float projections whose signs are the bits."""
        x = np.asarray(embeddings, dtype=np.float32).reshape(-1, self.config["dim"])
        return (x - self.mean.numpy()) @ self.projection.numpy()

    def codes(self, embeddings: np.ndarray) -> np.ndarray:
        """(N, D) float -> (N, B/8) uint8 packed bits."""
        return pack_bits(self.signs(embeddings) > 0)

    @classmethod
    def fit(cls, embeddings: np.ndarray, bits: int = 128, iterations: int = 50, seed: int = 0) -> "FaceHasher":
        """Learn ``mean`` and an ITQ rotation (after PCA to ``bits`` dims when bits < D) from (N, D) data."""
        x = np.asarray(embeddings, dtype=np.float64)
        dim = x.shape[1]
        if bits > dim:
            raise ValueError(f"ITQ gives at most {dim} bits for {dim}-d embeddings, not {bits}")
        mu = x.mean(0)
        xc = x - mu
        _, _, vt = np.linalg.svd(xc, full_matrices=False)
        pca = vt[:bits].T                                     # (D, B)
        rot = itq_rotation(xc @ pca, iterations, seed)
        hasher = cls(dim, bits)
        hasher.mean.copy_(torch.from_numpy(mu.astype(np.float32)))
        hasher.projection.copy_(torch.from_numpy((pca @ rot).astype(np.float32)))
        return hasher

    @staticmethod
    def quantisation_loss(hasher: "FaceHasher", embeddings: np.ndarray) -> float:
        """Mean ``||sign(p) - p||^2`` per sample of the projections ``p`` (after scaling p to unit RMS)."""
        p = hasher.signs(embeddings)
        p = p / max(float(np.sqrt((p ** 2).mean())), 1e-12)
        return float(((np.sign(p) - p) ** 2).sum(1).mean())

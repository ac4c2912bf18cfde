"""XQDA: Cross-view Quadratic Discriminant Analysis (Liao et al., CVPR 2015), closed form, numpy.

Given features x (rows, already centred) with identity labels, the differences of same-identity pairs
(x_i - x_j, y_i = y_j) and of different-identity pairs are modelled as zero-mean Gaussians with
covariances S_I and S_E. Both are computed in closed form from class sums, without forming the pairs
(for all pairs i < j; camera A x camera B pairs when cameras are given, as in the paper):

    S_I = sum_{y_i = y_j} (x_i - x_j)(x_i - x_j)^T / n_I,     S_E = the same over y_i != y_j, / n_E.

XQDA finds the subspace W (d x r) maximising J(w) = w^T S_E w / w^T S_I w: the leading generalised
eigenvectors of (S_E, S_I + lambda I), keeping those with eigenvalue > 1 (where the two classes differ) or
the first ``dims``. In it the log-likelihood ratio gives the distance

    d(x, z) = (x - z)^T W M W^T (x - z),      M = (W^T S_I W)^-1 - (W^T S_E W)^-1.

For a dot-product gallery (the tracker's cosine cost) :func:`fit_xqda` also returns the projection
P = W L, L L^T = M+ (M with its negative eigenvalues clipped to 0), so d(x, z) ~ |P^T x - P^T z|^2 and
P^T x / |P^T x| is a unit embedding. When d exceeds the number of samples the data are first
expressed in an orthonormal basis of their span (QR), as the paper's code does; W is mapped back.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg


@dataclass
class XQDA:
    """mean (d,), W (d, r) subspace, M (r, r) metric, P (d, r) = W L with L L^T = max(M, 0)."""

    mean: np.ndarray
    W: np.ndarray
    M: np.ndarray
    P: np.ndarray

    def project(self, x: np.ndarray) -> np.ndarray:
        """(N, d) features -> (N, r) unit embeddings P^T (x - mean), L2-normalised."""
        z = (np.asarray(x, np.float64) - self.mean) @ self.P
        return (z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def distance(self, x: np.ndarray, z: np.ndarray) -> np.ndarray:
        """(N, M) XQDA distances between rows of x and of z."""
        a, b = (np.asarray(x, np.float64) - self.mean) @ self.W, (np.asarray(z, np.float64) - self.mean) @ self.W
        am, bm = a @ self.M, b @ self.M
        return (am * a).sum(1)[:, None] + (bm * b).sum(1)[None, :] - 2 * am @ b.T


def pair_covariances(x: np.ndarray, labels: np.ndarray, cams: np.ndarray | None = None):
    """(S_I, S_E) of the module docstring; ``cams`` (a/b) restricts pairs to camera A x camera B."""
    labels = np.asarray(labels)
    if cams is None or not ({"a", "b"} <= set(np.asarray(cams).tolist())):
        ga = gb = np.ones(len(x), bool)
    else:
        ga, gb = np.asarray(cams) == "a", np.asarray(cams) == "b"
    xa, ya, xb, yb = x[ga], labels[ga], x[gb], labels[gb]
    ids = np.unique(labels)
    ca = np.array([(ya == k).sum() for k in ids], float)   # per-class counts and sums in each view
    cb = np.array([(yb == k).sum() for k in ids], float)
    sa = np.stack([xa[ya == k].sum(0) for k in ids])
    sb = np.stack([xb[yb == k].sum(0) for k in ids])
    wa, wb = cb[np.searchsorted(ids, ya)], ca[np.searchsorted(ids, yb)]   # each sample's partner count
    # sum over same-class pairs (i in A, j in B) of (x_i - x_j)(x_i - x_j)^T
    s_in = (xa * wa[:, None]).T @ xa + (xb * wb[:, None]).T @ xb - sa.T @ sb - sb.T @ sa
    s_all = len(xb) * xa.T @ xa + len(xa) * xb.T @ xb - np.outer(xa.sum(0), xb.sum(0)) - np.outer(xb.sum(0), xa.sum(0))
    n_in = float((ca * cb).sum())
    n_ex = float(len(xa) * len(xb)) - n_in
    if ga is gb:  # one view: every unordered pair was counted twice, and (i, i) pairs add zero
        n_in, n_ex = (n_in - len(xa)) / 2, n_ex / 2
        s_in, s_all = s_in / 2, s_all / 2
    return s_in / max(n_in, 1.0), (s_all - s_in) / max(n_ex, 1.0)


def pooled_covariances(x: np.ndarray, labels: np.ndarray, cams: np.ndarray | None, sets: np.ndarray | None):
    """(S_I, S_E) averaged over the data sets ``sets`` (N,) (pairs only within a set, each set weighing the
    same however many crops it has; e.g. VIPeR's A x B pairs and a video's gt crops); one set if None."""
    if sets is None:
        return pair_covariances(x, labels, cams)
    sets = np.asarray(sets)
    covs = [pair_covariances(x[sets == k], np.asarray(labels)[sets == k], None if cams is None else np.asarray(cams)[sets == k])
            for k in np.unique(sets)]
    return sum(c[0] for c in covs) / len(covs), sum(c[1] for c in covs) / len(covs)


def fit_xqda(x: np.ndarray, labels: np.ndarray, cams: np.ndarray | None = None, lam: float = 1e-3,
             dims: int | None = None, sets: np.ndarray | None = None) -> XQDA:
    """Learn XQDA on features ``x`` (N, d) with ``labels`` (camera tags ``cams``, data sets ``sets``: see
    :func:`pooled_covariances`); ``dims`` None keeps the eigenvalues > 1. See the module docstring."""
    x = np.asarray(x, np.float64)
    mean = x.mean(0)
    xc = x - mean
    basis = None
    if xc.shape[1] > xc.shape[0]:
        basis, r = np.linalg.qr(xc.T)          # xc^T = Q R, Q (d, n) orthonormal
        xc = r.T
    s_in, s_ex = pooled_covariances(xc, labels, cams, sets)
    s_in = s_in + lam * np.eye(len(s_in))
    vals, vecs = scipy.linalg.eigh(s_ex, s_in)  # S_E v = l S_I v, ascending
    vals, vecs = vals[::-1], vecs[:, ::-1]
    r = min(dims, len(vals)) if dims else max(1, int((vals > 1).sum()))
    w = vecs[:, :r]
    m = np.linalg.inv(w.T @ s_in @ w) - np.linalg.inv(w.T @ s_ex @ w)
    m = (m + m.T) / 2
    ev, eu = np.linalg.eigh(m)
    p = w @ (eu * np.sqrt(np.clip(ev, 0, None)))
    if basis is not None:
        w, p = basis @ w, basis @ p
    return XQDA(mean, w, m, p)

"""A discriminative correlation filter on the trunk's feature map: the tracker's dense localisation cue.

The multi-channel linear filter of DSST (Danelljan et al., BMVC 2014), learned in the Fourier domain on
the same trunk map the particles are pooled from. A region of fixed size in cells (``grid``, set at init:
the box plus the search margin, ``cell`` frame pixels per cell scaling with the box) is resampled from the
window's map by ``roi_align`` and multiplied by a Hann window: ``x`` of shape (C, H, W). With ``X_c`` the
2-D FFT of channel ``c`` and ``G`` that of a Gaussian label (std ``sigma`` cells) centred on the region's
centre, the filter is the running average (rate ``lr``) of

    A_c = conj(G) X_c,        B = sum_c conj(X_c) X_c,

and the response to a region ``z`` is ``y = IFFT( sum_c conj(A_c) Z_c / (B + lambda mean(B)) )``: a map of
(H, W) whose peak lies where the target is (the label's centre if it did not move). The filter suppresses
the background it was trained on -- what a template's cosine similarity cannot -- at the cost of two FFTs
of ``C x H x W`` per frame (``torch.fft`` in float32; the tracker picks ``H``, ``W`` among :func:`fast_size`'s
products of 2, 3 and 5, 2-4x faster than a prime length). ``response_at`` reads the map bilinearly at frame
points (one per particle).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def fast_size(n: int) -> int:
    """The smallest ``m >= n`` whose only prime factors are 2, 3 and 5 (a fast FFT length)."""
    m = max(int(n), 1)
    while True:
        k = m
        for p in (2, 3, 5):
            while k % p == 0:
                k //= p
        if k == 1:
            return m
        m += 1


def hann2d(h: int, w: int) -> np.ndarray:
    """Outer product of two Hann windows (endpoints excluded, so no row or column is all zero)."""
    return np.outer(np.hanning(h + 2)[1:-1], np.hanning(w + 2)[1:-1])


def gaussian_label(h: int, w: int, sigma: float) -> np.ndarray:
    """(h, w) Gaussian of std ``sigma`` cells centred at ((h - 1) / 2, (w - 1) / 2)."""
    y = np.arange(h) - (h - 1) / 2
    x = np.arange(w) - (w - 1) / 2
    return np.exp(-0.5 * (y[:, None] ** 2 + x[None, :] ** 2) / sigma ** 2)


@dataclass
class Region:
    """Where a filter region lies in the frame: top-left corner and frame pixels per cell (x, y)."""

    origin: np.ndarray
    cell: np.ndarray


class CorrelationFilter:
    """DSST's multi-channel linear correlation filter (see the module docstring)."""

    def __init__(self, shape: tuple[int, int], sigma: float, lam: float = 1e-2, lr: float = 0.02) -> None:
        self.shape = (int(shape[0]), int(shape[1]))
        self.lam, self.lr = lam, lr
        self.hann = torch.from_numpy(hann2d(*self.shape)).float()
        # real signals: the half spectrum (rfft2) holds everything; ``weight`` counts each of its columns
        # as often as it stands in the full spectrum (so ``mean(B)`` is the full spectrum's)
        self.G = torch.fft.rfft2(torch.from_numpy(gaussian_label(*self.shape, sigma)).float())
        cols, w = np.arange(self.G.shape[1]), self.shape[1]
        self.weight = torch.from_numpy(np.where((cols == 0) | (2 * cols == w), 1.0, 2.0)).float()
        self.A: torch.Tensor | None = None
        self.B: torch.Tensor | None = None

    def _spectrum(self, x) -> torch.Tensor:
        return torch.fft.rfft2(torch.as_tensor(x, dtype=torch.float32) * self.hann)

    def learn(self, x, rate: float | None = None) -> None:
        """Fold the region ``x`` (C, H, W; array or tensor), centred on the target, into the filter (the first
        one sets it)."""
        X = self._spectrum(x)
        A, B = self.G.conj()[None] * X, torch.view_as_real(X).square().sum((0, -1))
        if self.A is None:
            self.A, self.B = A, B
            return
        r = self.lr if rate is None else rate
        self.A.mul_(1 - r).add_(A, alpha=r)
        self.B.mul_(1 - r).add_(B, alpha=r)

    def response(self, z) -> np.ndarray:
        """(H, W) real response to the region ``z`` (C, H, W; array or tensor)."""
        Z = self._spectrum(z)
        num = (self.A.conj() * Z).sum(0)
        mean_b = float((self.B * self.weight).sum()) / (self.shape[0] * self.shape[1])
        return torch.fft.irfft2(num / (self.B + self.lam * mean_b), s=self.shape).numpy().astype(np.float64)


def response_at(resp: np.ndarray, region: Region, points: np.ndarray) -> np.ndarray:
    """The response read bilinearly at frame points (N, 2); points outside the region read its minimum."""
    h, w = resp.shape
    u = (points[:, 0] - region.origin[0]) / region.cell[0] - 0.5
    v = (points[:, 1] - region.origin[1]) / region.cell[1] - 0.5
    inside = (u >= 0) & (u <= w - 1) & (v >= 0) & (v <= h - 1)
    u, v = np.clip(u, 0, w - 1), np.clip(v, 0, h - 1)
    u0, v0 = np.minimum(u.astype(int), w - 2), np.minimum(v.astype(int), h - 2)
    fu, fv = u - u0, v - v0
    out = (resp[v0, u0] * (1 - fu) * (1 - fv) + resp[v0, u0 + 1] * fu * (1 - fv)
           + resp[v0 + 1, u0] * (1 - fu) * fv + resp[v0 + 1, u0 + 1] * fu * fv)
    return np.where(inside, out, resp.min())


def peak(resp: np.ndarray, region: Region) -> tuple[np.ndarray, float]:
    """The response's maximum as a frame point (sub-cell by a parabola through each axis' neighbours) and
    its height."""
    h, w = resp.shape
    i, j = np.unravel_index(int(np.argmax(resp)), resp.shape)

    def offset(a: float, b: float, c: float) -> float:
        den = a - 2 * b + c
        return 0.0 if abs(den) < 1e-12 else float(np.clip(0.5 * (a - c) / den, -0.5, 0.5))

    dj = offset(resp[i, j - 1], resp[i, j], resp[i, j + 1]) if 0 < j < w - 1 else 0.0
    di = offset(resp[i - 1, j], resp[i, j], resp[i + 1, j]) if 0 < i < h - 1 else 0.0
    point = region.origin + (np.array([j + dj, i + di]) + 0.5) * region.cell
    return point, float(resp[i, j])


class ScaleFilter:
    """DSST's scale filter: the 1-D correlation filter over a pyramid of ``n`` box sizes around the estimate.

    Sample ``k`` (``k = 0 .. n - 1``) is the box of the current size times ``step^(k - (n - 1) / 2)`` at the
    estimated centre, pooled from the frame's map like a particle (a D-vector); the ``n x D`` stack is a
    D-channel signal of length ``n`` (windowed by a Hann window along the scales) and
    :class:`CorrelationFilter` of shape ``(n, 1)`` learns the Gaussian label (std ``sigma`` scale steps)
    centred on the middle scale. The response's peak ``k*`` (sub-step by a parabola) gives the size change
    ``step^(k* - (n - 1) / 2)``.
    """

    def __init__(self, n: int = 17, step: float = 1.03, sigma: float = 1.0, lam: float = 1e-2,
                 lr: float = 0.02) -> None:
        self.n, self.step = int(n), float(step)
        self.filter = CorrelationFilter((self.n, 1), sigma, lam, lr)
        self.factors = step ** (np.arange(self.n) - (self.n - 1) / 2)

    def boxes(self, centre: np.ndarray, size: np.ndarray) -> np.ndarray:
        """The ``n`` xywh boxes of the pyramid around ``centre`` for the size ``size`` (w, h)."""
        sizes = self.factors[:, None] * np.asarray(size, np.float64)[None]
        return np.c_[np.asarray(centre)[None] - sizes / 2, sizes]

    @staticmethod
    def _signal(samples: np.ndarray) -> np.ndarray:
        return np.asarray(samples, np.float64).T[:, :, None]        # (D, n, 1)

    def learn(self, samples: np.ndarray) -> None:
        """Fold the (n, D) samples of the pyramid around the target's box into the filter."""
        self.filter.learn(self._signal(samples))

    def log_change(self, samples: np.ndarray) -> float:
        """The log size change the (n, D) samples of the pyramid around the current size point to."""
        resp = self.filter.response(self._signal(samples))
        point, _ = peak(resp, Region(np.zeros(2), np.ones(2)))
        return float((point[1] - 0.5 - (self.n - 1) / 2) * np.log(self.step))

"""LOMO: Local Maximal Occurrence features of a person crop (Liao et al., CVPR 2015), in numpy + OpenCV.

For a crop resized to 128x48 (any size works; the published setting):

1. colour: multi-scale Retinex (sigmas 5 and 20, :func:`retinex`) -> HSV, each channel in 8 bins -> a joint
   8x8x8 = 512-bin code per pixel;  texture: SILTP codes of the grey crop (scale-invariant local ternary
   pattern, tau 0.3, 4 neighbours at radius R in {3, 5}: 3^4 = 81 codes each, :func:`siltp`);
2. histograms of each code over 10x10 windows with stride 5; for every row of windows the *maximum* over
   the windows of that row (the "local maximal occurrence", robust to viewpoint / horizontal shift);
3. the same on a 3-level pyramid (2x2 average pooling), rows of all levels concatenated;
4. x -> log(1 + x), then the colour part and the texture part are each L2-normalised.

At 128x48: (24 + 11 + 5) rows x (512 + 2 * 81) bins = 26,960 dimensions. Histograms over windows are sums
of 5x5 cell histograms (``numpy.bincount``), so a crop costs about a millisecond plus its Retinex.
The features are meant for a learned metric (apps/reid_mot/xqda.py), not for a plain dot product.
"""
from __future__ import annotations

import cv2
import numpy as np

COLOR_BINS, SILTP_TAU, SILTP_RADII, CELL, LEVELS = 8, 0.3, (3, 5), 5, 3


def _blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian blur, on an area-downsampled copy (by 4 for sigma >= 10, by 2 for sigma >= 4) resized back:
    the same low-pass within a few percent, 5-15x cheaper than a 41- or 161-tap kernel on a 128x48 crop."""
    f = 4 if sigma >= 10 else 2 if sigma >= 4 else 1
    if f == 1:
        return cv2.GaussianBlur(img, (0, 0), sigma)
    h, w = img.shape[:2]
    small = cv2.resize(img, (max(1, w // f), max(1, h // f)), interpolation=cv2.INTER_AREA)
    return cv2.resize(cv2.GaussianBlur(small, (0, 0), sigma / f), (w, h), interpolation=cv2.INTER_LINEAR)


def retinex(rgb: np.ndarray, sigmas: tuple[float, ...] = (5.0, 20.0), clip: float = 0.01) -> np.ndarray:
    """Multi-scale Retinex with colour restoration (Jobson et al.) of uint8 RGB crops (N, h, w, 3) -> uint8:
    R_c = mean_s [log I_c - log(G_s * I_c)] * [log(125 I_c) - log(sum_c I_c)], then each channel of each
    crop is stretched so its ``clip`` and ``1 - clip`` quantiles (of every 6th pixel) map to 0 and 255
    (simplest colour balance)."""
    img = rgb.astype(np.float32) + 1.0
    log_i = np.log(img)
    blurred = np.stack([sum(np.log(_blur(c, s)) for s in sigmas) for c in img])
    msr = (log_i - blurred / len(sigmas)) * (np.float32(np.log(125.0)) + log_i - np.log(img.sum(-1, keepdims=True)))
    flat = np.ascontiguousarray(msr.reshape(len(msr), -1, 3)[:, ::6].transpose(0, 2, 1))
    k = flat.shape[2] - 1
    ranks = [int(round(clip * k)), int(round((1 - clip) * k))]
    lo, hi = np.moveaxis(np.partition(flat, ranks, axis=2)[:, :, ranks], 2, 0)  # (N, 3) each
    scale = 255.0 / np.maximum(hi - lo, 1e-6)
    return np.clip((msr - lo[:, None, None]) * scale[:, None, None], 0, 255).astype(np.uint8)


def hsv_codes(rgb: np.ndarray) -> np.ndarray:
    """Joint HSV code in [0, 512) per pixel of uint8 RGB crops (N, h, w, 3) -> (N, h, w) (8 bins per channel)."""
    n, h, w, _ = rgb.shape
    hsv = cv2.cvtColor(np.ascontiguousarray(rgb).reshape(n * h, w, 3), cv2.COLOR_RGB2HSV_FULL)  # H, S, V in 0..255
    q = (hsv.reshape(n, h, w, 3) // (256 // COLOR_BINS)).astype(np.int32)
    return (q[..., 0] * COLOR_BINS + q[..., 1]) * COLOR_BINS + q[..., 2]


def siltp(gray: np.ndarray, radius: int, tau: float = SILTP_TAU) -> np.ndarray:
    """SILTP code in [0, 81) per pixel of grey crops (N, h, w): for the 4 neighbours n at ``radius`` (right,
    down, left, up) the ternary digit is 1 if n > (1 + tau) c, 2 if n < (1 - tau) c, else 0 (c the centre,
    borders replicated)."""
    g = gray.astype(np.float32)
    r, (h, w) = radius, g.shape[1:]
    p = np.pad(g, ((0, 0), (r, r), (r, r)), mode="edge")
    neigh = (p[:, r:r + h, 2 * r:], p[:, 2 * r:, r:r + w], p[:, r:r + h, :w], p[:, :h, r:r + w])
    code = np.zeros(g.shape, np.int32)
    for k, n in enumerate(neigh):
        code += ((n > (1 + tau) * g) + 2 * (n < (1 - tau) * g)) * 3 ** k
    return code


def max_occurrence(codes: np.ndarray, bins: int) -> np.ndarray:
    """(N, rows, bins): per row of 10x10 windows (stride 5) of code images (N, H, W), the max over the row's
    windows of the window histogram. Windows are 2x2 blocks of 5x5 cells: sums of cell counts."""
    n, ch, cw = len(codes), codes.shape[1] // CELL, codes.shape[2] // CELL
    c = codes[:, :ch * CELL, :cw * CELL]
    cell = (np.arange(ch * CELL)[:, None] // CELL) * cw + np.arange(cw * CELL)[None, :] // CELL
    index = (np.arange(n)[:, None, None] * (ch * cw) + cell) * bins + c
    hist = np.bincount(index.ravel(), minlength=n * ch * cw * bins).reshape(n, ch, cw, bins).astype(np.int16)
    rows = hist[:, :-1] + hist[:, 1:]                     # pairs of cell rows, then pairs of cell columns
    return (rows[:, :, :-1] + rows[:, :, 1:]).max(axis=2).astype(np.float32)


def _pool(img: np.ndarray) -> np.ndarray:
    """2x2 average pooling over axes 1, 2."""
    h, w = img.shape[1] // 2 * 2, img.shape[2] // 2 * 2
    x = img[:, :h, :w].astype(np.float32)
    return (x[:, 0::2, 0::2] + x[:, 1::2, 0::2] + x[:, 0::2, 1::2] + x[:, 1::2, 1::2]) / 4


def lomo_features(crops: np.ndarray) -> np.ndarray:
    """uint8 RGB crops (N, h, w, 3) -> (N, D) float32 LOMO features (module docstring; D = 26,960 at 128x48)."""
    crops = np.asarray(crops, np.uint8)
    if len(crops) == 0:
        return np.zeros((0, lomo_dim(crops.shape[1:3])), np.float32)
    colour, texture = [], []
    ret = retinex(crops)
    gray = cv2.cvtColor(np.ascontiguousarray(crops).reshape(-1, crops.shape[2], 3), cv2.COLOR_RGB2GRAY)
    gray = gray.reshape(crops.shape[:3]).astype(np.float32)
    for _ in range(LEVELS):
        colour.append(max_occurrence(hsv_codes(ret), COLOR_BINS ** 3))
        texture += [max_occurrence(siltp(gray, r), 81) for r in SILTP_RADII]
        ret, gray = np.round(_pool(ret)).astype(np.uint8), _pool(gray)
    parts = [np.log1p(np.concatenate([p.reshape(len(crops), -1) for p in part], axis=1)) for part in (colour, texture)]
    return np.concatenate([p / np.maximum(np.linalg.norm(p, axis=1, keepdims=True), 1e-12) for p in parts], axis=1)


def lomo_dim(size_hw: tuple[int, int]) -> int:
    """Length of the LOMO vector of a crop of ``size_hw``."""
    h, w, rows = int(size_hw[0]), int(size_hw[1]), 0
    for _ in range(LEVELS):
        rows += max(h // CELL - 1, 0) if w // CELL >= 2 else 0
        h, w = h // 2, w // 2
    return rows * (COLOR_BINS ** 3 + 81 * len(SILTP_RADII))

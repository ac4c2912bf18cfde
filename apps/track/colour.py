"""Colour-histogram likelihood (Pérez, Hue, Vermaak, Gangnet, "Color-based probabilistic tracking", ECCV 2002).

Each particle's box is sampled as a small ``size x size`` RGB patch (one vectorised ``cv2.remap``, see
:func:`vidml.boxes.warp_patches`), quantised to ``bins^3`` colour cells (``bins`` levels per channel) and
normalised to a histogram ``h`` (sums to 1). Its distance to the reference histogram ``q`` is
``d_c^2 = 1 - sum_u sqrt(h_u q_u)`` (one minus the Bhattacharyya coefficient, in ``[0, 1]``). The tracker
adds ``-lambda * d_c^2`` to the log-weights: the grey-level metric tells the shape, colour tells people in
different clothes apart when they cross.
"""
from __future__ import annotations

import numpy as np

from vidml.boxes import warp_patches


def colour_histograms(rgb: np.ndarray, states: np.ndarray, size: int = 12, bins: int = 4) -> np.ndarray:
    """(H, W, 3) uint8 image, (N, 6) affine states -> (N, bins^3) colour histograms, each summing to 1."""
    return patch_histograms(warp_patches(rgb, states, (size, size)), bins)


def patch_histograms(patches: np.ndarray, bins: int = 4) -> np.ndarray:
    """(N, ..., 3) uint8 RGB patches -> (N, bins^3) colour histograms, each summing to 1."""
    p = patches.reshape(len(patches), -1, 3)
    # levels in [0, bins): floor(v * bins / 256), in uint8 arithmetic when bins divides 256 (the usual case)
    q = p // (256 // bins) if 256 % bins == 0 else (p.astype(np.int32) * bins) // 256
    cell = (q[..., 0].astype(np.int32) * bins + q[..., 1]) * bins + q[..., 2]
    n, cells = len(patches), bins ** 3
    flat = (cell + np.arange(n)[:, None] * cells).ravel()
    hist = np.bincount(flat, minlength=n * cells).reshape(n, cells).astype(np.float64)
    return hist / hist.sum(axis=1, keepdims=True)


def bhattacharyya_sq(hist: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """``1 - sum_u sqrt(h_u q_u)`` for each row ``h`` of ``hist`` against ``reference`` (``q``)."""
    return np.clip(1.0 - np.sqrt(hist * reference[None]).sum(axis=1), 0.0, 1.0)

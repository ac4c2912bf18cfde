"""Training samples around a tracked box: positives within a few pixels, negatives far away or partial.

All samples are affine states ``(cx, cy, s, a, r, k)`` (see :mod:`vidml.boxes`) drawn around a box with
centre ``c`` and size ``z = sqrt(w h)``:

* positives: centre shifted by ``U(-pos_shift, pos_shift) * z`` per axis, scale by ``exp(U(-0.03, 0.03))``
  (IoU with the box stays above ~0.8);
* negatives, three kinds in equal parts: *background* (centre 0.8 to 2.5 box sizes away), *parts* (centre
  0.3 to 0.8 box sizes away: a piece of the target with some background), and *wrong scale* (same centre,
  scale x0.6-0.75 or x1.35-1.6) so that the metric also tells the right size.
"""
from __future__ import annotations

import numpy as np

from vidml.boxes import xywh_to_affine


def positive_states(box: np.ndarray, n: int, rng: np.random.Generator, pos_shift: float = 0.04) -> np.ndarray:
    """``n`` affine states within ``pos_shift`` box sizes of ``box`` (xywh); the first one is the box itself."""
    st = np.repeat(xywh_to_affine(box)[None], n, axis=0)
    z = np.exp(st[0, 2])
    st[1:, :2] += rng.uniform(-pos_shift, pos_shift, (n - 1, 2)) * z
    st[1:, 2] += rng.uniform(-0.03, 0.03, n - 1)
    return st


def negative_states(box: np.ndarray, n: int, rng: np.random.Generator, frame_size: tuple[int, int]) -> np.ndarray:
    """``n`` affine states that are clearly not the target (background, parts, wrong scale)."""
    st = np.repeat(xywh_to_affine(box)[None], n, axis=0)
    z = np.exp(st[0, 2])
    kind = np.arange(n) % 3
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(kind == 0, rng.uniform(0.8, 2.5, n), rng.uniform(0.3, 0.8, n)) * z
    moved = kind < 2
    st[moved, 0] += (radius * np.cos(angle))[moved]
    st[moved, 1] += (radius * np.sin(angle))[moved]
    rescaled = kind == 2
    factor = np.where(rng.random(n) < 0.5, rng.uniform(0.6, 0.75, n), rng.uniform(1.35, 1.6, n))
    st[rescaled, 2] += np.log(factor)[rescaled]
    st[rescaled, :2] += rng.uniform(-0.1, 0.1, (int(rescaled.sum()), 2)) * z
    # keep centres inside the frame so that background samples show background, not replicated borders
    st[:, 0] = np.clip(st[:, 0], 0, frame_size[0] - 1)
    st[:, 1] = np.clip(st[:, 1], 0, frame_size[1] - 1)
    return st

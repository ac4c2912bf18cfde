"""Image augmentation of ReID training crops: uint8 RGB (N, h, w, 3) in, same shape out.

* ``basic``  -- horizontal flip, brightness/contrast, a small shift;
* ``strong`` -- what ReID baselines use (e.g. BoT): random resized crop, flip, per-channel gain and bias,
  blur / down-up sampling (low-resolution detections) and random erasing.
"""
from __future__ import annotations

import cv2
import numpy as np


def augment_basic(crops: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Flip (p 0.5), brightness/contrast (gain 0.75-1.25, bias +-20), one +-3 px shift for the batch."""
    out = crops.astype(np.float32)
    flip = rng.random(len(out)) < 0.5
    out[flip] = out[flip, :, ::-1]
    gain = rng.uniform(0.75, 1.25, (len(out), 1, 1, 1))
    bias = rng.uniform(-20, 20, (len(out), 1, 1, 1))
    out = out * gain + bias
    dy, dx = rng.integers(-3, 4, 2)
    out = np.roll(out, (int(dy), int(dx)), axis=(1, 2))
    return np.clip(out, 0, 255).astype(np.uint8)


def augment_strong(crops: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per crop: random resized crop (80-100% of the area, aspect x0.85-1.15), flip, per-channel gain and
    bias, blur or down-up sampling (p 0.3, low-resolution detections), random erasing (p 0.5, 2-25% area)."""
    n, h, w, _ = crops.shape
    out = np.empty_like(crops)
    for i, c in enumerate(crops):
        area, ar = rng.uniform(0.8, 1.0), rng.uniform(0.85, 1.15)
        ch = int(round(min(h, h * np.sqrt(area / ar)))), int(round(min(w, w * np.sqrt(area * ar))))
        y0, x0 = rng.integers(0, h - ch[0] + 1), rng.integers(0, w - ch[1] + 1)
        c = cv2.resize(c[y0:y0 + ch[0], x0:x0 + ch[1]], (w, h), interpolation=cv2.INTER_LINEAR)
        if rng.random() < 0.5:
            c = c[:, ::-1]
        if rng.random() < 0.3:
            f = rng.uniform(0.4, 0.7)
            c = cv2.resize(cv2.resize(c, (max(4, int(w * f)), max(4, int(h * f)))), (w, h))
        c = c.astype(np.float32) * rng.uniform(0.7, 1.3) * rng.uniform(0.9, 1.1, 3) + rng.uniform(-25, 25)
        if rng.random() < 0.5:
            ea, er = rng.uniform(0.02, 0.25) * h * w, rng.uniform(0.3, 3.3)
            eh, ew = min(h, int(np.sqrt(ea * er))), min(w, int(np.sqrt(ea / er)))
            ey, ex = rng.integers(0, h - eh + 1), rng.integers(0, w - ew + 1)
            c[ey:ey + eh, ex:ex + ew] = rng.uniform(0, 255, 3)
        out[i] = np.clip(c, 0, 255).astype(np.uint8)
    return out


AUGMENTS = {"basic": augment_basic, "strong": augment_strong}

"""The ``camcord`` edit: a video re-shot with a camera off a screen in a room (training and validation only).

A camcorded copy (a film filmed off a TV) undergoes several edits at once, none of which the benchmark's
families draw together; drawn ONCE per clip, as every edit of :mod:`apps.video_search.augment`:

1. the screen: the frame, optionally letterboxed (16:9 content on a 4:3 screen: black bars of 8-14 % of the
   height), is warped onto a quadrilateral covering 55-100 % of each side of the output, at a random place,
   each corner moved by up to 6 % of the side (perspective, keystone);
2. the room: everything outside the screen is a dark picture (one of ``backgrounds`` at 10-35 %
   brightness, else a dark smooth colour field), with a dark bezel of 1-3 % around the screen;
3. the camera: per-channel gains 0.75-1.25 (white balance), contrast * 0.6-1.0 about the mean, brightness
   -30..+30, Gaussian blur (sigma 0.6-1.8 at 360 px), a faint moire (a sinusoid of period 3-7 px,
   amplitude 3-8 grey levels, random angle) and sensor noise (sigma 2-6).

It is not one of :data:`apps.video_search.augment.FAMILIES` (so the benchmark's query draws are
unchanged); :mod:`apps.video_search.train` adds its copies as a training family of its own, and a
leave-one-family-out head of geometric, photometric or compositing leaves it out too (it contains those).
"""
from __future__ import annotations

from typing import Callable, Sequence

import cv2
import numpy as np

CAMCORD_OVERLAPS = ("geometric", "photometric", "compositing")   # families whose edits camcord contains


def _room(rng: np.random.Generator, backgrounds: Sequence[np.ndarray] | None) -> np.ndarray:
    """A dark picture of the room around the screen."""
    if backgrounds:
        return (backgrounds[int(rng.integers(len(backgrounds)))] * rng.uniform(0.1, 0.35)).astype(np.uint8)
    field = rng.integers(0, 40, (3, 4, 3)).astype(np.uint8)
    return cv2.resize(field, (64, 48), interpolation=cv2.INTER_CUBIC)


def _quad(rng: np.random.Generator) -> np.ndarray:
    """Screen corners (4, 2) in fractions of the output (tl, tr, br, bl)."""
    sx, sy = rng.uniform(0.55, 1.0, 2)
    x0, y0 = rng.uniform(0, 1 - sx), rng.uniform(0, 1 - sy)
    corners = np.array([[x0, y0], [x0 + sx, y0], [x0 + sx, y0 + sy], [x0, y0 + sy]])
    return corners + rng.uniform(-0.06, 0.06, (4, 2))


def camcord(rng: np.random.Generator, h: int, w: int,
            backgrounds: Sequence[np.ndarray] | None = None) -> Callable[[np.ndarray], np.ndarray]:
    """The camcord edit (module doc) for frames of h x w: frame -> frame (uint8 RGB, same size)."""
    room, quad = _room(rng, backgrounds), _quad(rng)
    bars = rng.uniform(0.08, 0.14) if rng.random() < 0.5 else 0.0
    bezel = rng.uniform(0.01, 0.03)
    gains = rng.uniform(0.75, 1.25, 3)
    contrast, bright = rng.uniform(0.6, 1.0), rng.uniform(-30, 30)
    sigma, noise, seed = rng.uniform(0.6, 1.8), rng.uniform(2, 6), int(rng.integers(1 << 31))
    period, amp, angle = rng.uniform(3, 7), rng.uniform(3, 8), rng.uniform(0, np.pi)

    def apply(f: np.ndarray) -> np.ndarray:
        H, W = f.shape[:2]
        src = f.copy()
        if bars:
            b = int(round(bars * H))
            src[:b], src[H - b:] = 0, 0
        pad = max(1, int(round(bezel * max(H, W))))
        src = cv2.copyMakeBorder(src, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=(12, 12, 12))
        sh, sw = src.shape[:2]
        m = cv2.getPerspectiveTransform(np.float32([[0, 0], [sw, 0], [sw, sh], [0, sh]]),
                                        np.float32(quad * [W, H]))
        out = cv2.resize(room, (W, H), interpolation=cv2.INTER_LINEAR)
        out = cv2.warpPerspective(src, m, (W, H), dst=out, borderMode=cv2.BORDER_TRANSPARENT)
        x = out.astype(np.float32) * gains
        x = (x - x.mean()) * contrast + x.mean() + bright
        x = cv2.GaussianBlur(x, (0, 0), sigma * max(H, W) / 360.0)
        yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
        x += (amp * np.sin(2 * np.pi * (xx * np.cos(angle) + yy * np.sin(angle)) / period))[..., None]
        x += np.random.default_rng(seed).normal(0, noise, x.shape).astype(np.float32)
        return np.clip(x, 0, 255).astype(np.uint8)
    return apply

"""Copy transformations: what a near-duplicate of a video undergoes (for training and for benchmarks).

``make_transform(name, rng, shape)`` draws the parameters ONCE and returns a function frame -> frame
(uint8 RGB, any size in, same size out unless noted), so a whole clip gets one consistent edit:

=============  =====================================================================================
crop           keep a random window of 55-85 % of each side, resized back to the frame size
scale          downscale to 25-50 % then upscale back (loss of detail)
letterbox      shrink to 60-85 % and pad with black bars (top/bottom or left/right) to the frame size
colour         brightness * 0.6-1.4, contrast * 0.6-1.4, saturation * 0.3-1.6, hue shift +-12 deg
blur           Gaussian blur, sigma 1.5-3.5 (relative to a 360-px frame)
noise          additive Gaussian noise, sigma 8-20 grey levels
jpeg           JPEG at quality 10-30
flip           horizontal mirror
overlay        a caption (random text, 1-2 lines) and a solid logo box covering 3-8 % of the frame
reencode       identity here (the benchmark writes every query clip as mp4, which re-encodes it)
=============  =====================================================================================
"""
from __future__ import annotations

import string
from typing import Callable

import cv2
import numpy as np

TRANSFORMS = ("reencode", "crop", "scale", "letterbox", "colour", "blur", "noise", "jpeg", "flip", "overlay")
Transform = Callable[[np.ndarray], np.ndarray]


def _crop(rng: np.random.Generator, h: int, w: int) -> Transform:
    fh, fw = rng.uniform(0.55, 0.85, 2)
    ch, cw = int(h * fh), int(w * fw)
    y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
    return lambda f: cv2.resize(f[y0:y0 + ch, x0:x0 + cw], (f.shape[1], f.shape[0]), interpolation=cv2.INTER_LINEAR)


def _scale(rng: np.random.Generator, h: int, w: int) -> Transform:
    s = rng.uniform(0.25, 0.5)

    def apply(f: np.ndarray) -> np.ndarray:
        small = cv2.resize(f, (max(8, int(f.shape[1] * s)), max(8, int(f.shape[0] * s))), interpolation=cv2.INTER_AREA)
        return cv2.resize(small, (f.shape[1], f.shape[0]), interpolation=cv2.INTER_LINEAR)
    return apply


def _letterbox(rng: np.random.Generator, h: int, w: int) -> Transform:
    s, vertical = rng.uniform(0.6, 0.85), bool(rng.integers(2))

    def apply(f: np.ndarray) -> np.ndarray:
        fh, fw = f.shape[:2]
        nh, nw = (int(fh * s), fw) if vertical else (fh, int(fw * s))
        out = np.zeros_like(f)
        y0, x0 = (fh - nh) // 2, (fw - nw) // 2
        out[y0:y0 + nh, x0:x0 + nw] = cv2.resize(f, (nw, nh), interpolation=cv2.INTER_AREA)
        return out
    return apply


def _colour(rng: np.random.Generator, h: int, w: int) -> Transform:
    b, c, s = rng.uniform(0.6, 1.4), rng.uniform(0.6, 1.4), rng.uniform(0.3, 1.6)
    hue = rng.uniform(-6, 6)  # OpenCV hue unit = 2 degrees

    def apply(f: np.ndarray) -> np.ndarray:
        hsv = cv2.cvtColor(f, cv2.COLOR_RGB2HSV).astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + hue) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] * s, 0, 255)
        x = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
        x = (x - x.mean()) * c + x.mean() * b
        return np.clip(x, 0, 255).astype(np.uint8)
    return apply


def _blur(rng: np.random.Generator, h: int, w: int) -> Transform:
    sigma = rng.uniform(1.5, 3.5)
    return lambda f: cv2.GaussianBlur(f, (0, 0), sigma * max(f.shape[:2]) / 360.0)


def _noise(rng: np.random.Generator, h: int, w: int) -> Transform:
    sigma, seed = rng.uniform(8, 20), int(rng.integers(1 << 31))

    def apply(f: np.ndarray) -> np.ndarray:
        n = np.random.default_rng(seed).normal(0, sigma, f.shape).astype(np.float32)
        return np.clip(f.astype(np.float32) + n, 0, 255).astype(np.uint8)
    return apply


def _jpeg(rng: np.random.Generator, h: int, w: int) -> Transform:
    q = int(rng.integers(10, 31))

    def apply(f: np.ndarray) -> np.ndarray:
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
        return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return apply


def _flip(rng: np.random.Generator, h: int, w: int) -> Transform:
    return lambda f: np.ascontiguousarray(f[:, ::-1])


def _overlay(rng: np.random.Generator, h: int, w: int) -> Transform:
    words = ["".join(rng.choice(list(string.ascii_letters + string.digits), int(rng.integers(4, 10))))
             for _ in range(int(rng.integers(1, 3)))]
    text_y = rng.uniform(0.1, 0.95, len(words))
    text_x = rng.uniform(0.0, 0.4, len(words))
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    logo_colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    area = rng.uniform(0.03, 0.08)
    aspect = rng.uniform(0.7, 1.6)
    lx, ly = rng.uniform(0.0, 1.0, 2)

    def apply(f: np.ndarray) -> np.ndarray:
        out = f.copy()
        fh, fw = f.shape[:2]
        scale = max(fh, fw) / 400.0
        for word, y, x in zip(words, text_y, text_x):
            cv2.putText(out, word, (int(x * fw), int(y * fh)), cv2.FONT_HERSHEY_SIMPLEX, 1.2 * scale, colour,
                        max(1, int(3 * scale)), cv2.LINE_AA)
        bw = int(np.sqrt(area * fh * fw * aspect)); bh = int(area * fh * fw / max(bw, 1))
        x0, y0 = int(lx * (fw - bw)), int(ly * (fh - bh))
        cv2.rectangle(out, (x0, y0), (x0 + bw, y0 + bh), logo_colour, -1)
        cv2.putText(out, "TV", (x0 + bw // 5, y0 + 2 * bh // 3), cv2.FONT_HERSHEY_SIMPLEX, 0.8 * bh / 30.0,
                    tuple(255 - c for c in logo_colour), max(1, bh // 15), cv2.LINE_AA)
        return out
    return apply


_MAKERS = {"reencode": lambda rng, h, w: (lambda f: f), "crop": _crop, "scale": _scale, "letterbox": _letterbox,
           "colour": _colour, "blur": _blur, "noise": _noise, "jpeg": _jpeg, "flip": _flip, "overlay": _overlay}


def make_transform(name: str, rng: np.random.Generator, shape: tuple[int, ...]) -> Transform:
    """A transformation ``name`` (one of :data:`TRANSFORMS`) with parameters drawn from ``rng`` once,
    for frames of ``shape`` (H, W[, 3])."""
    if name not in _MAKERS:
        raise ValueError(f"unknown transformation {name!r}; choose one of {', '.join(TRANSFORMS)}")
    return _MAKERS[name](rng, int(shape[0]), int(shape[1]))


def random_view(frame: np.ndarray, rng: np.random.Generator, max_ops: int = 3) -> np.ndarray:
    """A training view: 1..``max_ops`` random transformations (in random order) applied to ``frame``."""
    names = rng.choice(TRANSFORMS[1:], size=int(rng.integers(1, max_ops + 1)), replace=False)
    for name in names:
        frame = make_transform(str(name), rng, frame.shape)(frame)
    return frame

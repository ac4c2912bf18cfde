"""Copy edits: what a near-duplicate of a video undergoes (for training and for benchmarks), in five families.

``make_transform(name, rng, shape, backgrounds=None)`` draws the parameters ONCE and returns a function
frame -> frame (uint8 RGB, same size out), so a whole clip gets one consistent edit.
``make_clip_transform(name, rng)`` does the same for the temporal edits, clip -> clip:
``(frames, fps) -> (frames, fps)``.

=============  ============  ==========================================================================
family         edit          what
=============  ============  ==========================================================================
geometric      crop          keep a random window of 55-85 % of each side, resized back to the frame size
               scale         downscale to 25-50 % then upscale back (loss of detail)
               rotate        rotate by 4-15 deg (either way) about the centre, zoomed 1.0-1.15, black corners
               letterbox     shrink the height to 60-85 %, black bars top and bottom
               pillarbox     shrink the width to 60-85 %, black bars left and right
               flip          horizontal mirror
photometric    brightness    + 25-70 grey levels, either way
               contrast      * 0.5-0.75 or * 1.35-1.8 about the mean
               gamma         x^g, g in 0.45-0.7 or 1.5-2.2
               colour        saturation * 0.3-1.6, hue +-12 deg, brightness / contrast * 0.6-1.4
               greyscale     luma only (3 equal channels)
               noise         additive Gaussian noise, sigma 8-20 grey levels
               blur          Gaussian blur, sigma 1.5-3.5 (relative to a 360-px frame)
               jpeg          JPEG at quality 10-30
compositing    pip           the frame shrunk to 40-65 % of each side, pasted at a random place on another
                             picture (``backgrounds``; a random smooth colour field when none is given)
               side_by_side  the frame (aspect kept) in the left or right half, other content in the other
overlays       text          1-3 captions of random text, random colour, place and size
               logo          a solid box with a label covering 3-8 % of the frame, random place
               bands         a coloured band (12-22 % of the height) with text at the top or bottom
               overlay       text + logo together (the edit of earlier benchmarks)
temporal       speed         playback * 0.75-0.9 or * 1.1-1.33 (frames resampled, same fps)
               drop          20-40 % of the frames dropped at random (gaps in the copy)
               fps           re-timed to 8-15 fps (frames resampled in time, duration kept)
(none)         reencode      identity here (the benchmark writes every query clip as mp4, re-encoding it)
(training)     camcord       re-shot off a screen in a dark room (:mod:`apps.video_search.camcord`)
=============  ============  ==========================================================================
"""
from __future__ import annotations

import string
from typing import Callable, Sequence

import cv2
import numpy as np

from apps.video_search.camcord import camcord

FAMILIES: dict[str, tuple[str, ...]] = {
    "geometric": ("crop", "scale", "rotate", "letterbox", "pillarbox", "flip"),
    "photometric": ("brightness", "contrast", "gamma", "colour", "greyscale", "noise", "blur", "jpeg"),
    "compositing": ("pip", "side_by_side"),
    "overlays": ("text", "logo", "bands"),
    "temporal": ("speed", "drop", "fps"),
}
FRAME_EDITS = tuple(e for f in ("geometric", "photometric", "compositing", "overlays") for e in FAMILIES[f])
CLIP_EDITS = FAMILIES["temporal"]
TRAIN_ONLY = ("camcord",)   # a screen re-shot with a camera (apps.video_search.camcord): no family, not in benchmarks
TRANSFORMS = ("reencode",) + FRAME_EDITS + ("overlay",) + TRAIN_ONLY
Transform = Callable[[np.ndarray], np.ndarray]
ClipTransform = Callable[[list, float], tuple[list, float]]


def family_of(name: str) -> str:
    """The family of an edit (``overlay`` -> overlays, ``reencode`` -> none)."""
    for fam, edits in FAMILIES.items():
        if name in edits:
            return fam
    return "overlays" if name == "overlay" else "none"


def _resize(f: np.ndarray, w: int, h: int) -> np.ndarray:
    return cv2.resize(f, (max(1, w), max(1, h)), interpolation=cv2.INTER_AREA)


# -- geometric ------------------------------------------------------------------------------------------
def _crop(rng, h, w, bg) -> Transform:
    fh, fw = rng.uniform(0.55, 0.85, 2)
    ry, rx = rng.uniform(0, 1, 2)

    def apply(f):
        H, W = f.shape[:2]
        ch, cw = int(H * fh), int(W * fw)
        y0, x0 = int(ry * (H - ch)), int(rx * (W - cw))
        return cv2.resize(f[y0:y0 + ch, x0:x0 + cw], (W, H), interpolation=cv2.INTER_LINEAR)
    return apply


def _scale(rng, h, w, bg) -> Transform:
    s = rng.uniform(0.25, 0.5)

    def apply(f):
        small = _resize(f, max(8, int(f.shape[1] * s)), max(8, int(f.shape[0] * s)))
        return cv2.resize(small, (f.shape[1], f.shape[0]), interpolation=cv2.INTER_LINEAR)
    return apply


def _rotate(rng, h, w, bg) -> Transform:
    angle = rng.uniform(4, 15) * rng.choice([-1, 1])
    zoom = rng.uniform(1.0, 1.15)

    def apply(f):
        H, W = f.shape[:2]
        m = cv2.getRotationMatrix2D((W / 2, H / 2), angle, zoom)
        return cv2.warpAffine(f, m, (W, H), flags=cv2.INTER_LINEAR, borderValue=(0, 0, 0))
    return apply


def _boxed(s: float, vertical: bool) -> Transform:
    def apply(f):
        H, W = f.shape[:2]
        nh, nw = (int(H * s), W) if vertical else (H, int(W * s))
        out = np.zeros_like(f)
        y0, x0 = (H - nh) // 2, (W - nw) // 2
        out[y0:y0 + nh, x0:x0 + nw] = _resize(f, nw, nh)
        return out
    return apply


def _letterbox(rng, h, w, bg) -> Transform:
    return _boxed(rng.uniform(0.6, 0.85), True)


def _pillarbox(rng, h, w, bg) -> Transform:
    return _boxed(rng.uniform(0.6, 0.85), False)


def _flip(rng, h, w, bg) -> Transform:
    return lambda f: np.ascontiguousarray(f[:, ::-1])


# -- photometric ----------------------------------------------------------------------------------------
def _lut(table: np.ndarray) -> Transform:
    table = np.clip(table, 0, 255).astype(np.uint8)
    return lambda f: cv2.LUT(f, table)


def _brightness(rng, h, w, bg) -> Transform:
    return _lut(np.arange(256.0) + rng.uniform(25, 70) * rng.choice([-1, 1]))


def _contrast(rng, h, w, bg) -> Transform:
    c = rng.uniform(0.5, 0.75) if rng.random() < 0.5 else rng.uniform(1.35, 1.8)

    def apply(f):
        m = float(f.mean())
        return np.clip((f.astype(np.float32) - m) * c + m, 0, 255).astype(np.uint8)
    return apply


def _gamma(rng, h, w, bg) -> Transform:
    g = rng.uniform(0.45, 0.7) if rng.random() < 0.5 else rng.uniform(1.5, 2.2)
    return _lut(255.0 * (np.arange(256.0) / 255.0) ** g)


def _colour(rng, h, w, bg) -> Transform:
    b, c, s = rng.uniform(0.6, 1.4), rng.uniform(0.6, 1.4), rng.uniform(0.3, 1.6)
    hue = rng.uniform(-6, 6)  # OpenCV hue unit = 2 degrees

    def apply(f):
        hsv = cv2.cvtColor(f, cv2.COLOR_RGB2HSV).astype(np.float32)
        hsv[..., 0] = (hsv[..., 0] + hue) % 180
        hsv[..., 1] = np.clip(hsv[..., 1] * s, 0, 255)
        x = cv2.cvtColor(hsv.astype(np.uint8), cv2.COLOR_HSV2RGB).astype(np.float32)
        x = (x - x.mean()) * c + x.mean() * b
        return np.clip(x, 0, 255).astype(np.uint8)
    return apply


def _greyscale(rng, h, w, bg) -> Transform:
    return lambda f: np.repeat(cv2.cvtColor(f, cv2.COLOR_RGB2GRAY)[..., None], 3, 2)


def _blur(rng, h, w, bg) -> Transform:
    sigma = rng.uniform(1.5, 3.5)
    return lambda f: cv2.GaussianBlur(f, (0, 0), sigma * max(f.shape[:2]) / 360.0)


def _noise(rng, h, w, bg) -> Transform:
    sigma, seed = rng.uniform(8, 20), int(rng.integers(1 << 31))

    def apply(f):
        n = np.random.default_rng(seed).normal(0, sigma, f.shape).astype(np.float32)
        return np.clip(f.astype(np.float32) + n, 0, 255).astype(np.uint8)
    return apply


def _jpeg(rng, h, w, bg) -> Transform:
    q = int(rng.integers(10, 31))

    def apply(f):
        ok, buf = cv2.imencode(".jpg", cv2.cvtColor(f, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, q])
        return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    return apply


# -- compositing ----------------------------------------------------------------------------------------
def _background(rng: np.random.Generator, backgrounds: Sequence[np.ndarray] | None) -> np.ndarray:
    """Other content: one of ``backgrounds`` (RGB), else a smooth random colour field."""
    if backgrounds:
        return backgrounds[int(rng.integers(len(backgrounds)))]
    field = rng.integers(0, 256, (3, 4, 3)).astype(np.uint8)
    return cv2.resize(field, (64, 48), interpolation=cv2.INTER_CUBIC)


def _pip(rng, h, w, bg) -> Transform:
    back = _background(rng, bg)
    sy, sx = rng.uniform(0.4, 0.65, 2)
    ry, rx = rng.uniform(0, 1, 2)

    def apply(f):
        H, W = f.shape[:2]
        out = cv2.resize(back, (W, H), interpolation=cv2.INTER_LINEAR)
        nh, nw = max(8, int(H * sy)), max(8, int(W * sx))
        y0, x0 = int(ry * (H - nh)), int(rx * (W - nw))
        out[y0:y0 + nh, x0:x0 + nw] = _resize(f, nw, nh)
        return out
    return apply


def _side_by_side(rng, h, w, bg) -> Transform:
    back, left = _background(rng, bg), bool(rng.integers(2))

    def apply(f):
        H, W = f.shape[:2]
        half = W // 2
        out = cv2.resize(back, (W, H), interpolation=cv2.INTER_LINEAR)
        s = min(half / W, 1.0)                       # the frame keeps its aspect inside its half
        nh, nw = max(8, int(H * s)), max(8, int(W * s))
        x0 = (0 if left else half) + (half - nw) // 2
        y0 = (H - nh) // 2
        out[:, (0 if left else half):(half if left else W)] = 0
        out[y0:y0 + nh, x0:x0 + nw] = _resize(f, nw, nh)
        return out
    return apply


# -- overlays -------------------------------------------------------------------------------------------
def _words(rng, n: int) -> list[str]:
    return ["".join(rng.choice(list(string.ascii_letters + string.digits), int(rng.integers(4, 12)))) for _ in range(n)]


def _text(rng, h, w, bg) -> Transform:
    words = _words(rng, int(rng.integers(1, 4)))
    ys, xs = rng.uniform(0.1, 0.95, len(words)), rng.uniform(0.0, 0.4, len(words))
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    size = rng.uniform(0.8, 1.6)

    def apply(f):
        out = f.copy()
        H, W = f.shape[:2]
        scale = max(H, W) / 400.0
        for word, y, x in zip(words, ys, xs):
            cv2.putText(out, word, (int(x * W), int(y * H)), cv2.FONT_HERSHEY_SIMPLEX, size * scale, colour,
                        max(1, int(3 * scale)), cv2.LINE_AA)
        return out
    return apply


def _logo(rng, h, w, bg) -> Transform:
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    area, aspect = rng.uniform(0.03, 0.08), rng.uniform(0.7, 1.6)
    lx, ly = rng.uniform(0.0, 1.0, 2)
    label = _words(rng, 1)[0][:3]

    def apply(f):
        out = f.copy()
        H, W = f.shape[:2]
        bw = int(np.sqrt(area * H * W * aspect))
        bh = int(area * H * W / max(bw, 1))
        x0, y0 = int(lx * (W - bw)), int(ly * (H - bh))
        cv2.rectangle(out, (x0, y0), (x0 + bw, y0 + bh), colour, -1)
        cv2.putText(out, label, (x0 + bw // 8, y0 + 2 * bh // 3), cv2.FONT_HERSHEY_SIMPLEX, 0.6 * bh / 30.0,
                    tuple(255 - c for c in colour), max(1, bh // 15), cv2.LINE_AA)
        return out
    return apply


def _bands(rng, h, w, bg) -> Transform:
    frac, top = rng.uniform(0.12, 0.22), bool(rng.integers(2))
    colour = tuple(int(c) for c in rng.integers(0, 256, 3))
    word = " ".join(_words(rng, 3))

    def apply(f):
        out = f.copy()
        H, W = f.shape[:2]
        bh = int(H * frac)
        y0 = 0 if top else H - bh
        out[y0:y0 + bh] = colour
        cv2.putText(out, word, (W // 40, y0 + 2 * bh // 3), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * bh / 20.0,
                    tuple(255 - c for c in colour), max(1, bh // 20), cv2.LINE_AA)
        return out
    return apply


def _overlay(rng, h, w, bg) -> Transform:
    text, logo = _text(rng, h, w, bg), _logo(rng, h, w, bg)
    return lambda f: logo(text(f))


_MAKERS = {"reencode": lambda rng, h, w, bg: (lambda f: f), "crop": _crop, "scale": _scale, "rotate": _rotate,
           "letterbox": _letterbox, "pillarbox": _pillarbox, "flip": _flip, "brightness": _brightness,
           "contrast": _contrast, "gamma": _gamma, "colour": _colour, "greyscale": _greyscale, "blur": _blur,
           "noise": _noise, "jpeg": _jpeg, "pip": _pip, "side_by_side": _side_by_side, "text": _text,
           "logo": _logo, "bands": _bands, "overlay": _overlay, "camcord": camcord}


def make_transform(name: str, rng: np.random.Generator, shape: tuple[int, ...],
                   backgrounds: Sequence[np.ndarray] | None = None) -> Transform:
    """A frame edit ``name`` (one of :data:`TRANSFORMS`) with parameters drawn from ``rng`` once, for frames
    of ``shape`` (H, W[, 3]); ``backgrounds``: RGB pictures the compositing edits paste the frame onto."""
    if name not in _MAKERS:
        raise ValueError(f"unknown transformation {name!r}; choose one of {', '.join(TRANSFORMS + CLIP_EDITS)}")
    return _MAKERS[name](rng, int(shape[0]), int(shape[1]), backgrounds)


def make_clip_transform(name: str, rng: np.random.Generator) -> ClipTransform:
    """A temporal edit (``speed``, ``drop``, ``fps``): ``(frames, fps) -> (frames, fps)``, parameters drawn once.

    speed: frame ``j`` of the copy is source frame ``round(j * r)`` (r = playback rate), same fps;
    drop: each frame kept with probability 1 - q; fps: source time ``j / fps_new`` -> nearest source frame.
    """
    if name == "speed":
        r = rng.uniform(0.75, 0.9) if rng.random() < 0.5 else rng.uniform(1.1, 1.33)
        return lambda frames, fps: ([frames[int(round(j * r))] for j in range(int(len(frames) / r))
                                     if int(round(j * r)) < len(frames)], fps)
    if name == "drop":
        q, seed = rng.uniform(0.2, 0.4), int(rng.integers(1 << 31))

        def drop(frames, fps):
            keep = np.random.default_rng(seed).random(len(frames)) >= q
            keep[0] = True
            return [f for f, k in zip(frames, keep) if k], fps
        return drop
    if name == "fps":
        new = rng.uniform(8.0, 15.0)

        def refps(frames, fps):
            n = max(1, int(len(frames) / fps * new))
            return [frames[min(len(frames) - 1, int(round(j * fps / new)))] for j in range(n)], new
        return refps
    raise ValueError(f"unknown temporal edit {name!r}; choose one of {', '.join(CLIP_EDITS)}")


def random_view(frame: np.ndarray, rng: np.random.Generator, max_ops: int = 3,
                edits: Sequence[str] = FRAME_EDITS, backgrounds: Sequence[np.ndarray] | None = None) -> np.ndarray:
    """A training view: 1..``max_ops`` random frame edits drawn from ``edits`` (random order) applied to ``frame``."""
    names = rng.choice(list(edits), size=min(len(edits), int(rng.integers(1, max_ops + 1))), replace=False)
    for name in names:
        frame = make_transform(str(name), rng, frame.shape, backgrounds)(frame)
    return frame

"""Box formats and overlaps.

Formats (all float, pixels, x to the right, y down):

* ``xywh``   -- left, top, width, height (OTB and MOTChallenge files)
* ``xyxy``   -- left, top, right, bottom (right = left + width)
* ``cxcywh`` -- centre x, centre y, width, height

IoU(a, b) = |a ∩ b| / |a ∪ b| with continuous coordinates (no +1 pixel convention, as in TrackEval
and the OTB toolkit's overlap ratio).
"""
from __future__ import annotations

import numpy as np

from vidml.errors import BadInput


def xywh_to_xyxy(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., :2] + b[..., 2:4]], axis=-1)


def xyxy_to_xywh(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2], b[..., 2:4] - b[..., :2]], axis=-1)


def xywh_to_cxcywh(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2] + b[..., 2:4] / 2, b[..., 2:4]], axis=-1)


def cxcywh_to_xywh(b: np.ndarray) -> np.ndarray:
    b = np.asarray(b, dtype=np.float64)
    return np.concatenate([b[..., :2] - b[..., 2:4] / 2, b[..., 2:4]], axis=-1)


def intersection_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection areas between boxes ``a`` (N, 4) and ``b`` (M, 4) in xywh -> (N, M)."""
    a = xywh_to_xyxy(np.atleast_2d(a))
    b = xywh_to_xyxy(np.atleast_2d(b))
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    return np.prod(np.clip(rb - lt, 0, None), axis=-1)


def iou_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix between boxes ``a`` (N, 4) and ``b`` (M, 4) in xywh -> (N, M)."""
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    inter = intersection_xywh(a, b)
    area_a = np.clip(a[:, 2], 0, None) * np.clip(a[:, 3], 0, None)
    area_b = np.clip(b[:, 2], 0, None) * np.clip(b[:, 3], 0, None)
    union = area_a[:, None] + area_b[None, :] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def iou_pairs_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Element-wise IoU of matching rows of ``a`` and ``b`` (N, 4) in xywh -> (N,)."""
    a = xywh_to_xyxy(np.atleast_2d(a))
    b = xywh_to_xyxy(np.atleast_2d(b))
    lt = np.maximum(a[:, :2], b[:, :2])
    rb = np.minimum(a[:, 2:], b[:, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    union = np.prod(a[:, 2:] - a[:, :2], axis=-1) + np.prod(b[:, 2:] - b[:, :2], axis=-1) - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0)


def parse_box(text: str) -> np.ndarray:
    """Parse ``"x,y,w,h"`` (commas or spaces) into a float array; malformed text -> BadInput."""
    parts = text.replace(",", " ").split()
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != 4 or not np.all(np.isfinite(values)):
        raise BadInput(f"box {text!r} is not four numbers x,y,w,h (e.g. --init 120,80,40,90)")
    return np.array(values)


def check_box_in_frame(box: np.ndarray, size: tuple[int, int], what: str = "box") -> None:
    """Raise BadInput unless ``box`` (xywh) has positive size and overlaps the ``(width, height)`` frame."""
    x, y, w, h = (float(v) for v in box)
    width, height = size
    if w <= 0 or h <= 0:
        raise BadInput(f"{what} {x:g},{y:g},{w:g},{h:g} has zero or negative size; give a width and height > 0")
    if x >= width or y >= height or x + w <= 0 or y + h <= 0:
        raise BadInput(f"{what} {x:g},{y:g},{w:g},{h:g} lies outside the {width}x{height} frame; "
                       "give x,y,w,h inside the first frame")


def clip_xywh(box: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Clip xywh boxes to the frame ``(width, height)``."""
    b = xywh_to_xyxy(box)
    b[..., [0, 2]] = np.clip(b[..., [0, 2]], 0, size[0])
    b[..., [1, 3]] = np.clip(b[..., [1, 3]], 0, size[1])
    return xyxy_to_xywh(b)


# -- affine warps and vectorised patch crops (used by the particle-filter tracker) ---------------------
#
# An affine state holds six numbers per box, ``(cx, cy, s, a, r, k)``: centre (pixels), log-scale
# ``s = log(sqrt(w h))``, log-aspect ``a = log(h / w) / 2``, rotation ``r`` (radians) and skew ``k``. It maps
# a normalised patch coordinate ``(u, v)`` in ``[-1/2, 1/2]^2`` to the image point
#
#     [x, y]^T = R(r) [[1, k], [0, 1]] diag(w, h) [u, v]^T + [cx, cy]^T,   w = e^(s - a), h = e^(s + a),
#
# so ``(r, k) = (0, 0)`` is the axis-aligned box ``cx, cy, w, h``.


def xywh_to_affine(box: np.ndarray) -> np.ndarray:
    """xywh boxes (..., 4) -> affine states (..., 6) with zero rotation and skew."""
    b = np.asarray(box, dtype=np.float64)
    w, h = np.maximum(b[..., 2], 1e-6), np.maximum(b[..., 3], 1e-6)
    out = np.zeros(b.shape[:-1] + (6,))
    out[..., 0] = b[..., 0] + w / 2
    out[..., 1] = b[..., 1] + h / 2
    out[..., 2] = 0.5 * np.log(w * h)
    out[..., 3] = 0.5 * np.log(h / w)
    return out


def affine_matrices(states: np.ndarray) -> np.ndarray:
    """Affine states (N, 6) -> (N, 2, 3) matrices taking ``[u, v, 1]`` (patch, centred unit square) to pixels."""
    st = np.atleast_2d(np.asarray(states, dtype=np.float64))
    cx, cy, s, a, r, k = st.T
    w, h = np.exp(s - a), np.exp(s + a)
    c, sn = np.cos(r), np.sin(r)
    m = np.empty((len(st), 2, 3))
    # R(r) @ [[1, k], [0, 1]] @ diag(w, h)
    m[:, 0, 0], m[:, 0, 1] = c * w, (c * k - sn) * h
    m[:, 1, 0], m[:, 1, 1] = sn * w, (sn * k + c) * h
    m[:, 0, 2], m[:, 1, 2] = cx, cy
    return m


def affine_to_xywh(states: np.ndarray) -> np.ndarray:
    """Axis-aligned xywh box of each affine state (the box of the width/height part, rotation ignored)."""
    st = np.asarray(states, dtype=np.float64)
    w, h = np.exp(st[..., 2] - st[..., 3]), np.exp(st[..., 2] + st[..., 3])
    return np.stack([st[..., 0] - w / 2, st[..., 1] - h / 2, w, h], axis=-1)


def warp_patches(image: np.ndarray, states: np.ndarray, size: tuple[int, int] = (32, 32),
                 chunk: int = 1000) -> np.ndarray:
    """Sample every affine state of ``states`` (N, 6) from ``image`` as an ``size=(pw, ph)`` patch, all at once.

    One ``cv2.remap`` (bilinear, replicated border) runs over a stacked sampling grid of shape
    ``(N * ph, pw)`` -- pixel centres of the patch at ``u = (j + 1/2) / pw - 1/2`` -- so the cost is one pass
    of OpenCV over ``N * ph * pw`` samples. Returns ``(N, ph, pw)`` (grey image) or ``(N, ph, pw, C)``.
    """
    import cv2

    pw, ph = size
    mats = affine_matrices(states).astype(np.float32)
    uu, vv = np.meshgrid((np.arange(pw, dtype=np.float32) + 0.5) / pw - 0.5,
                         (np.arange(ph, dtype=np.float32) + 0.5) / ph - 0.5)
    grid = np.stack([uu.ravel(), vv.ravel(), np.ones(pw * ph, np.float32)])  # (3, ph * pw)
    mats[:, :, 2] -= 0.5  # continuous coordinates -> pixel-centre indices
    out = []
    for lo in range(0, len(mats), chunk):
        maps = mats[lo:lo + chunk] @ grid  # (n, 2, ph * pw)
        n = len(maps)
        map_x = np.ascontiguousarray(maps[:, 0].reshape(n * ph, pw))
        map_y = np.ascontiguousarray(maps[:, 1].reshape(n * ph, pw))
        patches = cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        out.append(patches.reshape((n, ph, pw) + image.shape[2:]))
    return np.concatenate(out) if out else np.zeros((0, ph, pw) + image.shape[2:], image.dtype)

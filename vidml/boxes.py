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


def iou_xywh(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU matrix between boxes ``a`` (N, 4) and ``b`` (M, 4) in xywh -> (N, M)."""
    a = xywh_to_xyxy(np.atleast_2d(a))
    b = xywh_to_xyxy(np.atleast_2d(b))
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area_a = np.prod(np.clip(a[:, 2:] - a[:, :2], 0, None), axis=-1)
    area_b = np.prod(np.clip(b[:, 2:] - b[:, :2], 0, None), axis=-1)
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

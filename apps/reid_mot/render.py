"""Drawing tracks on frames: one stable colour per id, the id written above the box.

Colour of id k: hue = (k * 0.618034) mod 1 (golden-ratio steps, so neighbouring ids differ), full
saturation and value, converted HSV -> RGB; the same id always gets the same colour in every frame.
"""
from __future__ import annotations

import colorsys
from typing import Iterable

import cv2
import numpy as np


def id_color(track_id: int) -> tuple[int, int, int]:
    """Stable RGB colour of a track id."""
    r, g, b = colorsys.hsv_to_rgb((track_id * 0.618033988749895) % 1.0, 0.85, 1.0)
    return int(r * 255), int(g * 255), int(b * 255)


def draw_tracks(frame: np.ndarray, tracks: Iterable[tuple[int, np.ndarray]], frame_no: int | None = None) -> np.ndarray:
    """Copy of RGB ``frame`` with ``(id, xywh)`` boxes drawn, ids labelled, and the frame number at top-left."""
    out = np.ascontiguousarray(frame.copy())
    thick = max(1, round(min(out.shape[:2]) / 300))
    scale = max(0.4, min(out.shape[:2]) / 800)
    for tid, box in tracks:
        x, y, w, h = (int(round(v)) for v in box)
        color = id_color(int(tid))
        cv2.rectangle(out, (x, y), (x + w, y + h), color, thick)
        label = str(int(tid))
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
        cv2.rectangle(out, (x, y - th - 4), (x + tw + 2, y), color, -1)
        cv2.putText(out, label, (x + 1, y - 3), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1, cv2.LINE_AA)
    if frame_no is not None:
        cv2.putText(out, f"frame {frame_no}", (5, int(20 * scale / 0.4)), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (255, 255, 255), 1, cv2.LINE_AA)
    return out

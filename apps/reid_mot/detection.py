"""Detections: MOTChallenge ``det.txt`` parsing and the per-frame detection array.

A ``det.txt`` line is ``frame,id,x,y,w,h,score[,...]`` (1-based frame, ``id`` = -1, box in pixels, top-left
x, y and width, height). Per frame the tracker takes a float array ``(N, 5)`` = ``x, y, w, h, score``.
Malformed lines (fewer than 7 columns, text, NaN/inf, non-positive width or height, frame < 1) raise
:class:`vidml.errors.BadInput` naming the file and line.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vidml.errors import BadInput


def parse_det_txt(path: str | os.PathLike, num_frames: int | None = None) -> dict[int, np.ndarray]:
    """Read ``det.txt`` -> ``{frame: (N, 5) [x, y, w, h, score]}`` (frames without detections are absent)."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: detections not found; a MOTChallenge sequence needs det/det.txt")
    by_frame: dict[int, list[list[float]]] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if not text:
            continue
        parts = [p.strip() for p in text.split(",")]
        if len(parts) < 7:
            raise BadInput(f"{path}:{n}: expected at least 7 comma-separated columns "
                           f"(frame,id,x,y,w,h,score), got {len(parts)}; fix the line")
        try:
            values = [float(p) for p in parts[:7]]
        except ValueError:
            raise BadInput(f"{path}:{n}: non-numeric value in frame,id,x,y,w,h,score; fix the line") from None
        if not np.all(np.isfinite(values)):
            raise BadInput(f"{path}:{n}: NaN or infinite value in frame,id,x,y,w,h,score; fix the line")
        frame, _, x, y, w, h, score = values
        if w <= 0 or h <= 0:
            raise BadInput(f"{path}:{n}: box width/height must be > 0, got w={w:g} h={h:g}; fix the line")
        if frame < 1 or frame != int(frame) or (num_frames is not None and frame > num_frames):
            limit = f" (seqLength is {num_frames})" if num_frames is not None else ""
            raise BadInput(f"{path}:{n}: frame {frame:g} is not a frame number 1..N{limit}; fix the line")
        by_frame.setdefault(int(frame), []).append([x, y, w, h, score])
    return {f: np.array(rows, dtype=np.float64) for f, rows in by_frame.items()}


def frame_detections(dets: dict[int, np.ndarray], frame: int) -> np.ndarray:
    """The ``(N, 5)`` detections of a 1-based ``frame`` (an empty (0, 5) array if none)."""
    return dets.get(frame, np.zeros((0, 5)))

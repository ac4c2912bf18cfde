"""Run a tracker over a whole sequence: frames in, MOTChallenge result rows out, with timings.

Result rows are ``frame,id,x,y,w,h,conf,-1,-1,-1`` (1-based frame and id), the format TrackEval reads.
Timings: ``assoc_s`` is the time spent in ``Tracker.update`` minus the appearance encoder (association
alone: Kalman, costs, Hungarian, lifecycle); ``total_s`` is end to end (frame decoding, crops, ReID
forward, association).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from apps.reid_mot.sequence import Sequence
from apps.reid_mot.tracker import Tracker


class _TimedEncoder:
    """Wraps an encoder to accumulate the seconds spent in it."""

    def __init__(self, encoder) -> None:
        self.encoder, self.seconds = encoder, 0.0

    def __call__(self, frame, boxes):
        t0 = time.perf_counter()
        out = self.encoder(frame, boxes)
        self.seconds += time.perf_counter() - t0
        return out


@dataclass
class RunResult:
    rows: np.ndarray                       # (K, 10) MOTChallenge result rows
    frames: int
    total_s: float
    assoc_s: float
    per_frame: list = field(default_factory=list)  # [(frame, [(id, xywh), ...])] when keep_boxes

    @property
    def fps(self) -> float:
        return self.frames / max(self.total_s, 1e-9)

    @property
    def assoc_fps(self) -> float:
        return self.frames / max(self.assoc_s, 1e-9)


def run_sequence(seq: Sequence, tracker: Tracker, progress: Callable | None = None,
                 keep_boxes: bool = False) -> RunResult:
    """Track every frame of ``seq``; frames are decoded only when the tracker has an encoder (or to render)."""
    timed = None
    if tracker.encoder is not None:
        timed = _TimedEncoder(tracker.encoder)
        tracker.encoder = timed
    rows, per_frame = [], []
    update_s = 0.0
    t_start = time.perf_counter()
    frames = range(1, len(seq) + 1)
    for k in (progress(frames) if progress else frames):
        frame = seq.frame(k) if timed is not None else None
        t0 = time.perf_counter()
        tracks = tracker.update(seq.dets(k), frame)
        update_s += time.perf_counter() - t0
        for t in tracks:
            x, y, w, h = t.box
            rows.append([k, t.track_id, x, y, w, h, t.score, -1, -1, -1])
        if keep_boxes:
            per_frame.append((k, [(t.track_id, t.box.copy()) for t in tracks]))
    total = time.perf_counter() - t_start
    if timed is not None:
        tracker.encoder = timed.encoder
    enc_s = timed.seconds if timed is not None else 0.0
    return RunResult(np.array(rows, np.float64).reshape(-1, 10), len(seq), total, update_s - enc_s, per_frame)


def format_rows(rows: np.ndarray) -> str:
    """MOTChallenge text of result rows (3 decimals for boxes)."""
    return "".join(f"{int(r[0])},{int(r[1])},{r[2]:.3f},{r[3]:.3f},{r[4]:.3f},{r[5]:.3f},{r[6]:.4f},-1,-1,-1\n"
                   for r in rows)

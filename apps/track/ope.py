"""Running a tracker over one sequence, one pass (OTB's OPE protocol), timing only the tracker.

A tracker is anything with ``init(frame_rgb, box_xywh)`` and ``update(frame_rgb) -> (box, confidence)``;
:class:`OpenCVTracker` adapts OpenCV's trackers (``cv2.TrackerMIL_create`` ...: BGR frames, integer
boxes, ``update -> (ok, box)``; when ``ok`` is false the last box is kept). ``fps`` counts the time spent
in ``init`` + ``update`` calls only (decoding frames is not the tracker's cost), as the OTB toolkit does.
"""
from __future__ import annotations

import time
from typing import Callable

import cv2
import numpy as np

from apps.track.sequences import Sequence


class OpenCVTracker:
    """OpenCV tracker behind the vidml API (RGB in, float xywh + confidence 1/0 out)."""

    def __init__(self, factory: Callable[[], object]) -> None:
        self.factory = factory
        self.box = np.zeros(4)

    def init(self, frame: np.ndarray, box) -> "OpenCVTracker":
        self.tracker = self.factory()
        self.box = np.asarray(box, np.float64)
        self.tracker.init(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), tuple(int(round(v)) for v in self.box))
        return self

    def update(self, frame: np.ndarray) -> tuple[np.ndarray, float]:
        ok, box = self.tracker.update(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
        if ok:
            self.box = np.asarray(box, np.float64)
        return self.box.copy(), float(ok)


def make_tracker(name: str, seed: int = 0, **options):
    """A tracker by name: ``vidml`` (this package's) or ``mil`` (OpenCV TrackerMIL, in opencv-python)."""
    if name == "vidml":
        from apps.track.tracker import Tracker

        return Tracker(seed=seed, **options)
    if name == "mil":
        return OpenCVTracker(cv2.TrackerMIL_create)
    raise ValueError(f"unknown tracker {name!r}")


def run_sequence(tracker, seq: Sequence) -> tuple[np.ndarray, float]:
    """Boxes (T, 4) for every frame of ``seq`` (the first is the given box) and the tracker's frames/s."""
    frames = seq.frames()
    first = next(frames)
    boxes = np.zeros((len(seq), 4))
    boxes[0] = seq.gt[0]
    t0 = time.perf_counter()
    tracker.init(first, seq.gt[0])
    spent = time.perf_counter() - t0
    for i, frame in enumerate(frames, 1):
        t0 = time.perf_counter()
        box, _ = tracker.update(frame)
        spent += time.perf_counter() - t0
        boxes[i] = box
    return boxes, len(seq) / max(spent, 1e-9)


def score_from(boxes: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes and gt of the scored frames: every frame after the first that has ground truth."""
    return boxes[1:], gt[1:]

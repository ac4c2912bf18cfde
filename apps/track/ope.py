"""Running a tracker over one sequence, one pass (OTB's OPE protocol), timing only the tracker.

A tracker is anything with ``init(frame_rgb, box_xywh)`` and ``update(frame_rgb) -> (box, confidence)``;
:class:`OpenCVTracker` adapts OpenCV's trackers (``cv2.TrackerMIL_create`` ...: BGR frames, integer
boxes, ``update -> (ok, box)``; when ``ok`` is false the last box is kept). The loop is
:func:`apps.track.loop.track_video`, the same one ``vidml track`` runs: ``fps`` counts the time spent in
``init`` + ``update`` calls only (decoding frames is not the tracker's cost), as the OTB toolkit does.
"""
from __future__ import annotations

from typing import Callable

import cv2
import numpy as np

from apps.track.loop import TrackResult, track_video
from apps.track.sequences import Sequence
from vidml.boxes import clip_xywh


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


def start_box(seq: Sequence) -> np.ndarray:
    """The box every tracker starts from: the first ground-truth box clipped to the frame (as ``vidml track``
    clips its --init box; a MOTChallenge box may start partly outside the image)."""
    return clip_xywh(np.asarray(seq.gt[0], np.float64), seq.reader.size)


def track_sequence(tracker, seq: Sequence) -> TrackResult:
    """:func:`track_video` over ``seq``'s frames from :func:`start_box`."""
    return track_video(seq.frames(), tracker, start_box(seq))


def score_from(boxes: np.ndarray, gt: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boxes and gt of the scored frames: every frame after the first that has ground truth."""
    return boxes[1:], gt[1:]

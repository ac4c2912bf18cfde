"""The one per-frame tracking loop, used by ``vidml track``, ``vidml eval sot`` and ``benchmarks/bench_sot.py``.

``track_video(frames, tracker, box)`` calls ``tracker.init(first_frame, box)`` then ``tracker.update(frame)
-> (box, confidence)`` for every later frame of ANY iterable of RGB frames (a FrameReader, a generator over a
camera, a list). A tracker with a ``warm_up()`` method is warmed first (weights, thread pool, first kernel
calls), outside the timing. ``TrackResult.seconds`` counts the ``init`` + ``update`` calls only (decoding,
drawing and writing are not the tracker's cost), so ``fps = frames / seconds`` is the OTB toolkit's figure
and the one ``vidml track`` reports; ``cpu_seconds`` is the same calls' CPU time of the calling thread (with one
thread, the tracker's compute cost, which a loaded machine does not inflate). ``on_frame(i, frame, box, confidence)`` (optional) sees every frame
after it was tracked, e.g. to draw it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterable, Protocol

import numpy as np


class SingleObjectTracker(Protocol):
    def init(self, frame: np.ndarray, box) -> object: ...

    def update(self, frame: np.ndarray) -> tuple[np.ndarray, float]: ...


@dataclass
class TrackResult:
    """Boxes (T, 4) xywh (the first is the given box), a confidence per frame (1 on frame 0), tracker time."""

    boxes: np.ndarray
    confidences: np.ndarray
    seconds: float          # init + update time, seconds
    cpu_seconds: float      # the same calls' CPU time of this thread (time.thread_time: load does not count)
    warm_up_seconds: float  # the start-up paid before the first frame (not in ``seconds``)
    stopped: BaseException | None = None  # the ``stop_on`` error that ended the frames early, if any

    @property
    def frames(self) -> int:
        return len(self.boxes)

    @property
    def fps(self) -> float:
        return self.frames / max(self.seconds, 1e-9)


def track_video(frames: Iterable[np.ndarray], tracker: SingleObjectTracker, box,
                on_frame: Callable[[int, np.ndarray, np.ndarray, float], None] | None = None,
                stop_on: tuple[type[BaseException], ...] = ()) -> TrackResult:
    """Track ``box`` (x, y, w, h) from the first of ``frames`` through the rest (see the module docstring).

    An exception of a ``stop_on`` type, raised by the frames or by ``on_frame`` (a live source that stops,
    the user closing a window), ends the loop: the result holds the frames tracked so far and ``stopped``.
    """
    t0 = time.perf_counter()
    if hasattr(tracker, "warm_up"):
        tracker.warm_up()
    warm = time.perf_counter() - t0
    boxes, confs, spent, cpu, stopped = [], [], 0.0, 0.0, None
    try:
        for i, frame in enumerate(frames):
            t0, c0 = time.perf_counter(), time.thread_time()
            if i == 0:
                tracker.init(frame, box)
                b, c = np.asarray(box, np.float64).reshape(4), 1.0
            else:
                b, c = tracker.update(frame)
            spent += time.perf_counter() - t0
            cpu += time.thread_time() - c0
            boxes.append(np.asarray(b, np.float64))
            confs.append(float(c))
            if on_frame is not None:
                on_frame(i, frame, boxes[-1], confs[-1])
    except stop_on as err:
        stopped = err
    return TrackResult(np.array(boxes).reshape(-1, 4), np.array(confs), spent, cpu, warm, stopped)

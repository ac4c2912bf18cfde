"""Run a tracker over frames: frames (and their detections) in, MOTChallenge result rows out, with timings.

Result rows are ``frame,id,x,y,w,h,conf,-1,-1,-1`` (1-based frame and id), the format TrackEval reads;
detection rows (``--save-det``) are det.txt's ``frame,-1,x,y,w,h,score,-1,-1,-1``.
Timings: ``detect_s`` is the time in the detector, ``assoc_s`` the time spent in ``Tracker.update`` minus
the appearance encoder (association alone: Kalman, costs, Hungarian, lifecycle); ``total_s`` is end to
end (frame decoding, detection, crops, ReID forward, association).

:func:`run_frames` is the one per-frame loop. With ``live=True`` (a URL or camera) it never loses work:
when the source fails part-way (a stream that stalls: :class:`vidml.errors.VideoError`) or the user
presses Ctrl-C, it stops and returns what was tracked so far with ``stopped`` = the reason, for the caller
to write out. A file that fails to decode still raises (no half-written results from a damaged file).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np

from apps.reid_mot.sequence import Sequence
from apps.reid_mot.track import TrackState
from apps.reid_mot.tracker import Tracker
from vidml.errors import VideoError


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
    det_rows: np.ndarray = field(default_factory=lambda: np.zeros((0, 10)))  # det.txt rows of the detector
    detect_s: float = 0.0
    stopped: str | None = None             # why the source ended early (results are those of `frames`)
    interrupted: bool = False              # the user pressed Ctrl-C (live sources)

    @property
    def fps(self) -> float:
        return self.frames / max(self.total_s, 1e-9)

    @property
    def assoc_fps(self) -> float:
        return self.frames / max(self.assoc_s, 1e-9)


def _backfill(pending: dict, tracker: Tracker, confirmed: list, k: int) -> list:
    """Rows of the tentative frames of the tracks confirmed in frame ``k`` (kept in ``pending`` by id)."""
    for t in tracker.tracks:
        if t.state == TrackState.TENTATIVE and t.time_since_update == 0:
            pending.setdefault(t.track_id, []).append([k, t.track_id, *t.box, t.score, -1, -1, -1])
    out = [r for t in confirmed for r in pending.pop(t.track_id, [])]
    alive = {t.track_id for t in tracker.tracks}
    for tid in [tid for tid in pending if tid not in alive]:  # deleted while tentative
        del pending[tid]
    return out


Detect = Callable[[int, "np.ndarray | None"], np.ndarray]
OnFrame = Callable[[int, "np.ndarray | None", list], "bool | None"]


def run_frames(frames: Iterable, tracker: Tracker, detect: Detect, progress: Callable | None = None,
               on_frame: OnFrame | None = None, live: bool = False, backfill: bool = True) -> RunResult:
    """Track ``frames`` (RGB arrays, or None where no pixels are needed), frame k = 1, 2, ...

    ``detect(k, frame) -> (N, 5)`` gives the detections of frame k; ``on_frame(k, frame, tracks)`` is
    called after each update (drawing, live display) and stops the run by returning False. ``backfill``:
    a track's boxes of the frames it was tentative in (before ``n_init`` hits) join the results when it is
    confirmed (tracks never confirmed add nothing).
    """
    timed = None
    if tracker.encoder is not None:
        timed = _TimedEncoder(tracker.encoder)
        tracker.encoder = timed
    rows, det_rows, pending = [], [], {}
    update_s = detect_s = 0.0
    stopped, interrupted, done = None, False, 0
    t_start = time.perf_counter()
    try:
        for k, frame in enumerate(progress(frames) if progress else frames, 1):
            t0 = time.perf_counter()
            dets = np.asarray(detect(k, frame), np.float64).reshape(-1, 5)
            t1 = time.perf_counter()
            tracks = tracker.update(dets, frame)
            update_s += time.perf_counter() - t1
            detect_s += t1 - t0
            det_rows += [[k, -1, *d, -1, -1, -1] for d in dets]
            rows += _backfill(pending, tracker, tracks, k) if backfill else []
            rows += [[k, t.track_id, *t.box, t.score, -1, -1, -1] for t in tracks]
            done = k
            if on_frame is not None and on_frame(k, frame, tracks) is False:
                break
    except VideoError as err:  # the source failed part-way: keep frames 1..done
        if not live:
            raise
        stopped = str(err)
    except KeyboardInterrupt:
        if not live:
            raise
        stopped, interrupted = "interrupted (Ctrl-C)", True
    finally:
        if timed is not None:
            tracker.encoder = timed.encoder
    total = time.perf_counter() - t_start
    enc_s = timed.seconds if timed is not None else 0.0
    rows = sorted((r for r in rows if r[0] <= done), key=lambda r: (r[0], r[1]))  # a frame cut off mid-update
    # (Ctrl-C) is not half-reported; backfilled rows in frame order
    det_rows = [r for r in det_rows if r[0] <= done]
    return RunResult(np.array(rows, np.float64).reshape(-1, 10), done, total, update_s - enc_s,
                     np.array(det_rows, np.float64).reshape(-1, 10), detect_s, stopped, interrupted)


def run_sequence(seq: Sequence, tracker: Tracker, progress: Callable | None = None) -> RunResult:
    """Track every frame of ``seq`` with its det.txt; frames are decoded only when the tracker has an encoder."""
    needs_pixels = tracker.encoder is not None
    frames = (seq.frame(k) if needs_pixels else None for k in range(1, len(seq) + 1))
    return run_frames(frames, tracker, lambda k, _: seq.dets(k), progress)

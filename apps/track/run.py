"""``vidml track``'s work as a plain function: :func:`track_file` (a :class:`TrackJob` in, a :class:`TrackOutput` out).

* The ``--init`` box (x, y, w, h) must have positive size and overlap the first frame; a box that extends
  past the frame is clipped to it (:func:`clip_init_box`, with a warning through ``warn``), one wholly
  outside is a :class:`vidml.errors.BadInput`.
* Boxes are written atomically to ``out`` (nothing to stdout here; ``out == "-"`` leaves the text to the
  caller) in ``otb`` format -- one ``x,y,w,h`` line per frame, frame 1 the --init box -- or ``json``:
  ``{"video", "init", "fps", "frames": [{"frame": i, "box": [x, y, w, h], "confidence": c}, ...]}``
  with ``c`` in [0, 1] (1 - the estimate's learned distance to the first template / that of the frame's
  negatives; 1 on frame 0) and ``fps`` = frames / (init + update seconds).
* ``render``: every frame with the box drawn (green when confident, orange when not), written atomically.
* Live sources (issue 12): ``video`` may be an http(s)/rtsp URL or a camera index (read by
  :func:`vidml.stream_source.open_source`); ``init=None`` lets the user draw the box on the first frame
  (needs a display), ``show`` draws each frame in a window. A live source that stops (no frame within
  ``timeout`` s) still gets the boxes (and render) of the frames tracked so far, then StreamError (exit 2).
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np

from apps.track.loop import TrackResult, track_video
from vidml.boxes import check_box_in_frame, clip_xywh
from vidml.errors import BadInput
from vidml.outputs import atomic_write_text, check_output_path
from vidml.progress import progress_bar
from vidml.display import LiveWindow, StopRequested, select_box
from vidml.stream_source import DEFAULT_TIMEOUT_S, StreamError, first_frame, open_source, source_length
from vidml.video import FrameWriter

FORMATS = ("otb", "json")


@dataclass
class TrackJob:
    """One ``vidml track`` run."""

    video: str
    init: np.ndarray | None         # x, y, w, h in the first frame, pixels; None: drawn by the user
    out: str = "-"                  # "-": the caller prints TrackOutput.text
    format: str = "otb"
    render: str = ""
    particles: int = 400
    threads: int = 1
    seed: int = 0
    quiet: bool = True
    tracker_options: dict = field(default_factory=dict)
    show: bool = False              # draw each frame in a window (needs a display)
    timeout: float = DEFAULT_TIMEOUT_S  # seconds to wait for a frame of a URL / camera


@dataclass
class TrackOutput:
    result: TrackResult
    init: np.ndarray                # the box tracking started from (clipped to the frame)
    text: str                       # the boxes as written (otb or json)


def clip_init_box(box: np.ndarray, size: tuple[int, int], warn: Callable[[str], None]) -> np.ndarray:
    """``box`` clipped to the ``(width, height)`` frame (``warn`` is told when it changed); BadInput when it
    has no size or lies wholly outside."""
    box = np.asarray(box, np.float64).reshape(4)
    check_box_in_frame(box, size, "--init box")
    clipped = clip_xywh(box, size)
    if not np.allclose(clipped, box):
        warn(f"--init box {','.join(f'{v:g}' for v in box)} extends past the {size[0]}x{size[1]} frame; "
             f"clipped to {','.join(f'{v:g}' for v in clipped)}")
    return clipped


def draw(frame: np.ndarray, box: np.ndarray, confidence: float, index: int) -> np.ndarray:
    """The frame (RGB) with the box and ``#index conf`` drawn on it."""
    out = frame.copy() if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    x, y, w, h = (int(round(v)) for v in box)
    colour = (0, 220, 0) if confidence >= 0.5 else (255, 140, 0)
    thick = max(2, round(min(out.shape[:2]) / 240))
    cv2.rectangle(out, (x, y), (x + w, y + h), colour, thick)
    cv2.putText(out, f"#{index} conf {confidence:.2f}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    return out


def otb_lines(boxes: np.ndarray) -> str:
    """OTB results text: one ``x,y,w,h`` line per frame, 2 decimals."""
    return "".join(",".join(f"{v:.2f}" for v in b) + "\n" for b in boxes)


def format_boxes(result: TrackResult, fmt: str, video: str, init: np.ndarray) -> str:
    """The boxes as text: ``otb`` lines or the ``json`` document (see the module docstring)."""
    if fmt == "otb":
        return otb_lines(result.boxes)
    frames = [{"frame": i, "box": [round(float(v), 2) for v in b], "confidence": round(float(c), 4)}
              for i, (b, c) in enumerate(zip(result.boxes, result.confidences))]
    return json.dumps({"video": video, "init": [float(v) for v in init], "fps": round(result.fps, 2),
                       "frames": frames}, indent=1) + "\n"


def track_file(job: TrackJob, warn: Callable[[str], None] = lambda message: None) -> TrackOutput:
    """Track ``job.init`` through ``job.video``; write ``job.out`` / ``job.render`` (see the module docstring)."""
    if job.particles < 10:
        raise BadInput(f"--particles {job.particles} is too few; use at least 10 (default 400)")
    if job.format not in FORMATS:
        raise BadInput(f"--format {job.format!r}: use one of {', '.join(FORMATS)}")
    reader = open_source(job.video, timeout=job.timeout)
    box = clip_init_box(job.init if job.init is not None else select_box(first_frame(reader)), reader.size, warn)
    if job.out != "-":
        check_output_path(job.out, "--out")
    from apps.track.tracker import Tracker  # torch is imported only once the inputs are known to be good
    from vidml.train import set_seed

    set_seed(job.seed)
    tracker = Tracker(seed=job.seed, particles=job.particles, threads=job.threads, **job.tracker_options)
    writer = FrameWriter(job.render, reader.fps) if job.render else None
    bar = progress_bar(total=source_length(reader), unit="frame", desc="track", quiet=job.quiet)
    window = LiveWindow(f"vidml track {job.video}") if job.show else None

    def on_frame(i: int, frame: np.ndarray, b: np.ndarray, c: float) -> None:
        if writer is not None or window is not None:
            drawn = draw(frame, b, c, i)
            if writer is not None:
                writer.write(drawn)
            if window is not None and not window.show(drawn):
                raise StopRequested
        bar.update(1)
        bar.set_postfix(conf=f"{c:.2f}", refresh=False)

    try:  # a live source that stops / q pressed ends the loop, keeping what was tracked
        result = track_video(reader, tracker, box, on_frame, stop_on=(StreamError, StopRequested))
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        bar.close()
        if window is not None:
            window.close()
    if writer is not None:
        writer.close()
    text = format_boxes(result, job.format, str(job.video), box)
    if job.out != "-":
        atomic_write_text(job.out, text)
    if isinstance(result.stopped, StreamError):
        if job.out == "-":
            sys.stdout.write(text)
        where = ", ".join(p for p in ((job.out if job.out != "-" else "stdout"), job.render) if p)
        raise StreamError(f"{result.stopped}; the {result.frames} frames tracked so far are in {where}")
    return TrackOutput(result, box, text)

"""``vidml track VIDEO --init x,y,w,h``: follow one object through a video or a folder of frames.

Outputs (written atomically):

* ``--out FILE`` (default: stdout) in ``--format otb``: one ``x,y,w,h`` line per frame (the OTB results
  format; frame 1 is the --init box), or ``--format json``:
  ``{"video", "init", "fps", "frames": [{"frame": i, "box": [x, y, w, h], "confidence": c}, ...]}`` with
  ``c`` in [0, 1] (1 - learned distance of the best particle / that of the negatives; 1 on frame 0);
* ``--render FILE.mp4``: every frame with the box drawn (green when confident, orange when not).

A progress bar shows the tracker's frames/s on a terminal (``--quiet`` hides it).
"""
from __future__ import annotations

import argparse
import json
import sys
import time

import cv2
import numpy as np
from tqdm import tqdm

from vidml.boxes import check_box_in_frame, parse_box
from vidml.errors import BadInput
from vidml.train import set_seed
from vidml.progress import show_progress
from vidml.video import FrameReader, FrameWriter
from vidml.outputs import atomic_write_text, check_output_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="video file (anything FFmpeg reads) or folder of frames (OTB img/ layout)")
    parser.add_argument("--init", required=True, metavar="X,Y,W,H", help="the object's box in the first frame (pixels)")
    parser.add_argument("--out", default="-", help="where to write the boxes (default: stdout)")
    parser.add_argument("--format", choices=("otb", "json"), default="otb",
                        help="otb: x,y,w,h per line; json: boxes with a confidence per frame")
    parser.add_argument("--render", default="", metavar="MP4", help="also write the video with the box drawn")
    parser.add_argument("--particles", type=int, default=400, help="particles of the filter (default 400)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def draw(frame: np.ndarray, box: np.ndarray, confidence: float, index: int) -> np.ndarray:
    """The frame (RGB) with the box and ``#index conf`` drawn on it."""
    out = frame.copy() if frame.ndim == 3 else cv2.cvtColor(frame, cv2.COLOR_GRAY2RGB)
    x, y, w, h = (int(round(v)) for v in box)
    colour = (0, 220, 0) if confidence >= 0.5 else (255, 140, 0)
    thick = max(2, round(min(out.shape[:2]) / 240))
    cv2.rectangle(out, (x, y), (x + w, y + h), colour, thick)
    cv2.putText(out, f"#{index} conf {confidence:.2f}", (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, 1, cv2.LINE_AA)
    return out


def run(args: argparse.Namespace) -> int:
    if args.particles < 10:
        raise BadInput(f"--particles {args.particles} is too few; use at least 10 (default 400)")
    reader = FrameReader(args.video)
    box = parse_box(args.init)
    check_box_in_frame(box, reader.size, "--init box")
    if args.out != "-":
        check_output_path(args.out, "--out")
    from apps.track.tracker import Tracker  # torch import only once the inputs are known to be good

    set_seed(args.seed)
    tracker = Tracker(seed=args.seed, particles=args.particles, threads=args.threads)
    boxes, confs = [box], [1.0]
    writer = FrameWriter(args.render, reader.fps) if args.render else None
    bar = tqdm(total=len(reader), unit="frame", desc="track", disable=not show_progress(args.quiet), dynamic_ncols=True)
    spent = 0.0
    try:
        for i, frame in enumerate(reader):
            t0 = time.perf_counter()
            if i == 0:
                tracker.init(frame, box)
            else:
                b, c = tracker.update(frame)
                boxes.append(b)
                confs.append(c)
            spent += time.perf_counter() - t0
            if writer is not None:
                writer.write(draw(frame, boxes[i], confs[i], i))
            bar.update(1)
            bar.set_postfix(fps=f"{(i + 1) / max(spent, 1e-9):.1f}", conf=f"{confs[i]:.2f}", refresh=False)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    finally:
        bar.close()
    if writer is not None:
        writer.close()
    fps = len(boxes) / max(spent, 1e-9)
    if args.format == "otb":
        text = "".join(",".join(f"{v:.2f}" for v in b) + "\n" for b in boxes)
    else:
        text = json.dumps({"video": str(args.video), "init": [float(v) for v in box], "fps": round(fps, 2),
                           "frames": [{"frame": i, "box": [round(float(v), 2) for v in b], "confidence": round(float(c), 4)}
                                      for i, (b, c) in enumerate(zip(boxes, confs))]}, indent=1) + "\n"
    if args.out == "-":
        sys.stdout.write(text)
    else:
        atomic_write_text(args.out, text)
    if not args.quiet:
        print(f"tracked {len(boxes)} frames at {fps:.1f} frames/s"
              + (f"; boxes -> {args.out}" if args.out != "-" else "")
              + (f"; video -> {args.render}" if args.render else ""), file=sys.stderr)
    return 0

"""``vidml track VIDEO --init x,y,w,h``: follow one object through a video or a folder of frames.

The work is :func:`apps.track.run.track_file` (outputs and formats in its docstring); this module maps the
arguments to a :class:`apps.track.run.TrackJob`, calls it and prints. ``--init`` accepts boxes that start with
a minus sign (``--init -5,-5,40,40``: a box partly above/left of the frame, clipped with a warning).
"""
from __future__ import annotations

import argparse
import re
import sys

from vidml.boxes import parse_box

# argparse takes any word starting with "-" for an option unless it looks like a negative number; a box
# "-5,-5,40,40" is a list of numbers, so it is added to what counts as one (argparse has no public hook).
NUMBER_LIST = re.compile(r"^-\d+$|^-\d*\.\d+$|^-?\d*\.?\d+(e-?\d+)?([, ]+-?\d*\.?\d+(e-?\d+)?)+$")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser._negative_number_matcher = NUMBER_LIST
    parser.add_argument("video", help="video file (anything FFmpeg reads), folder of frames (OTB img/ layout), "
                                      "an http(s)/rtsp URL or a camera index (0)")
    parser.add_argument("--init", metavar="X,Y,W,H",
                        help="the object's box in the first frame (pixels); clipped to the frame if it extends past it; "
                             "without it, draw the box on the first frame (needs a display)")
    parser.add_argument("--show", action="store_true", help="draw the box on each frame in a window (needs a display)")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for a frame of a URL/camera (default 10); if it stops, the boxes "
                             "tracked so far are written, exit status 2")
    parser.add_argument("--out", default="-", help="where to write the boxes (default: stdout)")
    parser.add_argument("--format", choices=("otb", "json"), default="otb",
                        help="otb: x,y,w,h per line; json: boxes with a confidence per frame")
    parser.add_argument("--render", default="", metavar="MP4", help="also write the video with the box drawn")
    parser.add_argument("--particles", type=int, default=400, help="particles of the filter (default 400)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true", help="no progress bar, no summary line")


def run(args: argparse.Namespace) -> int:
    from apps.track.run import TrackJob, track_file

    job = TrackJob(video=args.video, init=parse_box(args.init) if args.init else None, out=args.out, format=args.format,
                   render=args.render, particles=args.particles, threads=args.threads, seed=args.seed,
                   quiet=args.quiet, show=args.show, timeout=args.timeout)
    output = track_file(job, warn=lambda message: print(f"vidml: warning: {message}", file=sys.stderr))
    if args.out == "-":
        sys.stdout.write(output.text)
    if not args.quiet:
        r = output.result
        print(f"tracked {r.frames} frames at {r.fps:.1f} frames/s (init + update time; start-up "
              f"{r.warm_up_seconds:.2f} s before the first frame not counted)"
              + (f"; boxes -> {args.out}" if args.out != "-" else "")
              + (f"; video -> {args.render}" if args.render else ""), file=sys.stderr)
    return 0

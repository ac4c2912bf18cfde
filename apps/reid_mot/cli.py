"""``vidml reid-mot``: track people (Kalman + ReID + Hungarian) in a sequence, a video, a stream or a camera.

    vidml reid-mot SEQ_DIR [--out results.txt] [--render out.mp4] [--eval]
    vidml reid-mot VIDEO | URL | CAMERA_INDEX [--detector ssdlite|hog] [--det-thresh T] [--save-det det.txt]
    vidml reid-mot ROOT --all [--out results_dir/] [--eval]

Writes MOTChallenge results ``frame,id,x,y,w,h,conf,-1,-1,-1`` (atomically). A MOTChallenge folder is
tracked on its det/det.txt unless --detector is given; anything else is run through a person detector
(default ssdlite). ``--eval`` scores with TrackEval against gt (HOTA, DetA, AssA, IDF1, MOTA, IDSW).
A live source that stops (no frame for --timeout seconds) or Ctrl-C: the results, --save-det and --render
of the frames tracked so far are written, then one line and exit status 2 (130 for Ctrl-C).
"""
from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from apps.reid_mot.pipeline import MotConfig

COLUMNS = ["sequence", "frames", "HOTA", "DetA", "AssA", "IDF1", "MOTA", "IDSW", "fps", "assoc fps"]
PLAIN = ["sequence", "frames", "fps", "assoc fps"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a MOTChallenge sequence folder (seqinfo.ini, img1/, det/det.txt), a video file or "
                                     "folder of frames, an http(s)/rtsp URL, or a camera index (0); with --all a folder of sequences")
    parser.add_argument("--all", action="store_true", help="run every sequence under PATH and print one table")
    parser.add_argument("--out", help="results txt (default NAME.txt here); with --all a folder (default reid-mot-results/)")
    parser.add_argument("--render", help="write an mp4 with boxes and ids (one source only)")
    parser.add_argument("--show", action="store_true", help="draw the tracks in a window as they come (needs a display; q quits)")
    parser.add_argument("--eval", action="store_true", help="score the results against gt/gt.txt (or --gt) with TrackEval")
    parser.add_argument("--gt", help="ground truth for --eval when PATH is not a MOTChallenge folder")
    parser.add_argument("--detector", choices=["ssdlite", "hog"], default=None,
                        help="person detector (default for videos/streams: ssdlite, SSDLite-MobileNetV2; hog: OpenCV's "
                             "HOG baseline); on a MOTChallenge folder it replaces det/det.txt")
    parser.add_argument("--det-thresh", type=float, default=None,
                        help="drop detections scoring below T (default: the detector's own: ssdlite 0.1, hog 0.3)")
    parser.add_argument("--save-det", metavar="DET_TXT", help="also write the detections used, in det.txt format")
    parser.add_argument("--timeout", type=float, default=10.0,
                        help="seconds to wait for a frame of a URL/camera before giving up (default 10). A stream that "
                             "stops (or Ctrl-C on a live source): --out, --save-det and --render are written with the "
                             "frames tracked until then, then exit status 2 (130 for Ctrl-C)")
    parser.add_argument("--mode", choices=["reid", "sort", "byte"], default="reid",
                        help="reid: appearance + IoU + low-score stage (default); sort: Kalman+IoU+Hungarian; byte: two-stage IoU")
    parser.add_argument("--appearance", choices=["reid", "hist", "off"], default="reid",
                        help="appearance features: trained ReID net (default), HSV histogram, or off (= --mode sort)")
    parser.add_argument("--weights", help="ReID checkpoint (default: the shipped vidml/weights/reid_mnv2.pt)")
    parser.add_argument("--det", help="detections file instead of SEQ/det/det.txt (or for a video)")
    parser.add_argument("--interpolate", type=float, default=2.0, metavar="SECONDS",
                        help="fill each track's gaps of at most SECONDS linearly in the results (default 2; 0: off)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: small batches; more threads only add contention)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1,
                        help="with --all: sequences tracked in parallel on a local Dask cluster of N processes (default 1: serial)")
    parser.add_argument("--scheduler", default=None,
                        help="with --all: address of an existing Dask scheduler (tcp://HOST:8786) to run the sequences on")
    parser.add_argument("--quiet", action="store_true")


def config_from(args: argparse.Namespace) -> MotConfig:
    """The typed config of the parsed arguments."""
    from apps.reid_mot.pipeline import MotConfig
    from vidml.errors import BadInput

    if args.det_thresh is not None and not 0.0 <= args.det_thresh <= 1.0:
        raise BadInput(f"--det-thresh {args.det_thresh:g}: give a score in [0, 1]")
    if args.det and args.detector:
        raise BadInput("--det and --detector both give the detections; choose one")
    if args.interpolate < 0:
        raise BadInput(f"--interpolate {args.interpolate:g}: give a number of seconds >= 0 (0: off)")
    if args.timeout <= 0:
        raise BadInput(f"--timeout {args.timeout:g}: give a positive number of seconds")
    return MotConfig(path=args.path, out=args.out, render=args.render, eval=args.eval, gt=args.gt, mode=args.mode,
                     appearance=args.appearance, weights=args.weights, det=args.det, detector=args.detector,
                     det_thresh=args.det_thresh, save_det=args.save_det, show=args.show, timeout=args.timeout,
                     threads=args.threads, seed=args.seed, quiet=args.quiet, workers=args.workers, scheduler=args.scheduler,
                     interpolate=args.interpolate)


def run(args: argparse.Namespace) -> int:
    import torch

    from apps.reid_mot.pipeline import track_all, track_source
    from vidml.eval.mot import format_table
    from vidml.train import set_seed

    cfg = config_from(args)
    torch.set_num_threads(max(1, cfg.threads))
    set_seed(cfg.seed)
    if args.all:
        rows, out_dir = track_all(cfg)
        print(format_table(rows, COLUMNS if cfg.eval else PLAIN))
        print(f"results in {out_dir}/")
        return 0
    row = track_source(cfg)
    print(format_table([row], COLUMNS if cfg.eval else PLAIN))
    extra = "".join(f", {what} in {p}" for what, p in (("detections", cfg.save_det), ("video", cfg.render)) if p)
    print(f"results in {row['out']}{extra}")
    return 0

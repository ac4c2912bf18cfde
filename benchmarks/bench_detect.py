"""Person detection for reid-mot: each detector against the public detections, and tracking with each.

Sequences (../shared/data/mot): PETS09-S2L1-dev (480x360, 400 frames; the split the ssdlite input size and
its tracker threshold were chosen on) and TUD-Campus (640x480, 71 frames; not used to choose anything).
Detectors:

* ``public``  -- the sequence's det/det.txt (SORT's detections, what `vidml reid-mot SEQ` uses)
* ``ssdlite`` -- `--detector ssdlite` (the default for videos and streams): SSDLite-MobileNetV2 via cv2.dnn
* ``hog``     -- `--detector hog`: OpenCV's HOG people detector (frames upsampled 2x)

Columns: AP@0.5 (vidml.eval.detection, VOC all-point AP over all boxes each detector keeps), its recall
and precision; ``det fps`` (detector alone); HOTA/AssA/IDF1/MOTA (TrackEval) of `reid-mot`'s default
tracker (ReID appearance) on those detections, with the detector's own high/low score split; ``e2e fps``
= frames / (detector + tracker incl. ReID) wall time, frames decoded beforehand; ``cpu fps`` = frames / the
process's CPU time for the same work (with ``--threads 1`` it is what one idle core gives; a loaded
machine stretches wall time, much less CPU time). Threads: ``--threads`` for both OpenCV (the detectors)
and torch (ReID), default 2. Absolute fps depend on the load of the machine (six engineers share two
cores here); compare rows measured in the same run.

    .venv/bin/python benchmarks/bench_detect.py [--seqs PETS09-S2L1-dev TUD-Campus] [--detectors public ssdlite hog]
"""
from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO / ".." / "shared" / "data" / "mot"


def detect_all(name: str, seq, frames: list) -> tuple[dict, float, float, float | None]:
    """{frame: (N, 5)} of a detector over the frames, its wall and CPU seconds, its tracker high_thresh
    (None for the public detections)."""
    from apps.reid_mot.detectors import make_detector

    if name == "public":
        return {k: seq.dets(k) for k in range(1, len(seq) + 1)}, 0.0, 0.0, None
    det = make_detector(name)
    t0, c0 = time.perf_counter(), time.process_time()
    out = {k: det(f) for k, f in enumerate(frames, 1)}
    return out, time.perf_counter() - t0, time.process_time() - c0, det.high_thresh


def track(dets: dict, frames: list, high_thresh: float | None, seq) -> tuple[dict, float, float]:
    """TrackEval metrics of the default reid-mot tracker on ``dets``, its wall and CPU seconds."""
    import numpy as np

    from apps.reid_mot.pipeline import build_tracker
    from apps.reid_mot.runner import run_frames
    from vidml.eval.mot import evaluate_mot
    from vidml.motchallenge import write_results

    tracker = build_tracker("reid", "reid", None, high_thresh)
    c0 = time.process_time()
    res = run_frames(frames, tracker, lambda k, _: dets.get(k, np.zeros((0, 5))))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "res.txt"
        cpu = time.process_time() - c0
        write_results(out, res.rows)
        return evaluate_mot(seq.gt_path, out, len(seq), seq.name), res.total_s, cpu


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seqs", nargs="+", default=["PETS09-S2L1-dev", "TUD-Campus"])
    ap.add_argument("--detectors", nargs="+", default=["public", "ssdlite", "hog"])
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import cv2
    import torch

    from apps.reid_mot.sequence import Sequence
    from vidml.eval.detection import average_precision, gt_boxes_by_frame
    from vidml.eval.mot import format_table
    from vidml.motchallenge import read_boxes

    cv2.setNumThreads(args.threads)
    torch.set_num_threads(args.threads)
    for name in args.seqs:
        seq = Sequence(DATA / name)
        frames = [seq.frame(k) for k in range(1, len(seq) + 1)]
        gt = gt_boxes_by_frame(read_boxes(seq.gt_path))
        rows = []
        for det_name in args.detectors:
            dets, det_s, det_cpu, high = detect_all(det_name, seq, frames)
            metrics, track_s, track_cpu = track(dets, frames, high, seq)
            row = {"detector": det_name, **average_precision(dets, gt), **metrics,
                   "det fps": len(frames) / det_s if det_s else float("nan"),
                   "e2e fps": len(frames) / (det_s + track_s), "cpu fps": len(frames) / (det_cpu + track_cpu)}
            rows.append(row)
            print(f"  {name} {det_name}: AP {row['AP']:.3f} HOTA {row['HOTA']:.3f}", file=sys.stderr, flush=True)
        w, h = seq.size
        print(f"\n{name} ({len(seq)} frames, {w}x{h}, {args.threads} threads)")
        print(format_table(rows, ["detector", "AP", "recall", "precision", "det fps", "HOTA", "AssA", "IDF1",
                                  "MOTA", "e2e fps", "cpu fps"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

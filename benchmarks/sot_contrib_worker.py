"""Run OpenCV-contrib trackers (CSRT, KCF, ...) over image sequences; used by bench_sot.py.

Runs inside the separate opencv-contrib venv (numpy + opencv-contrib-python only; never imports vidml).
Usage: python sot_contrib_worker.py JOB.json OUT.json, where JOB.json is
``{"trackers": ["CSRT", "KCF"], "threads": 1, "sequences": [{"name": ..., "files": [...], "init": [x, y, w, h]}]}``
and OUT.json gets ``{tracker: {sequence: {"boxes": [[x, y, w, h], ...], "seconds": float}}}``: one box per
frame (the first is the init box; a failed update keeps the last box) and the init + update time in seconds
(the time itself, so that the benchmark's fps = frames / seconds is not a round trip through a ratio), and
"cpu_seconds": the same calls' CPU time of this thread (time.thread_time; one OpenCV thread).
"""
import json
import sys
import time

import cv2


def make(name):
    factory = getattr(cv2, f"Tracker{name}_create", None) or getattr(cv2.legacy, f"Tracker{name}_create")
    return factory()


def main(job_path, out_path):
    job = json.load(open(job_path))
    cv2.setNumThreads(int(job.get("threads", 1)))
    out = {}
    for seq in job["sequences"]:
        frames = [cv2.imread(f, cv2.IMREAD_COLOR) for f in seq["files"]]
        for name in job["trackers"]:
            tracker = make(name)
            box = [float(v) for v in seq["init"]]
            boxes = [box]
            t0, c0 = time.perf_counter(), time.thread_time()
            tracker.init(frames[0], tuple(int(round(v)) for v in box))
            for frame in frames[1:]:
                ok, new = tracker.update(frame)
                if ok:
                    box = [float(v) for v in new]
                boxes.append(box)
            spent, cpu = time.perf_counter() - t0, time.thread_time() - c0
            out.setdefault(name, {})[seq["name"]] = {"boxes": boxes, "seconds": spent, "cpu_seconds": cpu}
            print(f"{name} {seq['name']} {len(frames) / max(spent, 1e-9):.1f} fps", file=sys.stderr, flush=True)
    with open(out_path, "w") as fh:
        json.dump(out, fh)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])

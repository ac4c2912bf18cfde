"""``vidml faces VIDEO --out DIR [--fps 2]``: write the aligned 112x112 face crops found in a video.

Every ``1/fps`` s a frame is sampled (FrameReader, decord), faces are detected (dlib HOG), landmarked
(68 points) and aligned to the ArcFace 112x112 template by Umeyama. Each crop is written atomically as
``DIR/face_{frame:06d}_{k}.png`` and ``DIR/faces.json`` lists ``{file, frame, time, box [x,y,w,h], score}``.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from vidml.errors import BadInput, OutputError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="video file (or image folder) to scan")
    parser.add_argument("--out", required=True, help="folder for the crops and faces.json (created)")
    parser.add_argument("--fps", type=float, default=2.0, help="frames sampled per second (default 2)")
    parser.add_argument("--upsample", type=int, default=0, help="detector 2x upsamplings (1 finds ~40 px faces)")
    parser.add_argument("--seed", type=int, default=0, help="unused (the stage is deterministic)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def _write_png(path: Path, rgb) -> None:
    import cv2

    from vidml.outputs import atomic_write_bytes

    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    atomic_write_bytes(path, buf.tobytes())


def run(args: argparse.Namespace) -> int:
    if args.fps <= 0:
        raise BadInput(f"--fps must be > 0, not {args.fps}")
    from tqdm import tqdm

    from apps.video_search.faces.align import align_face
    from apps.video_search.faces.detect import FaceDetector
    from vidml.progress import show_progress
    from vidml.video import FrameReader
    from vidml.outputs import atomic_write_text

    reader = FrameReader(args.video)
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{out}: cannot create the output folder ({err.strerror}); choose another --out") from None
    detector = FaceDetector(points=68, upsample=args.upsample)
    stride = max(1, int(round(reader.fps / args.fps)))
    listing = []
    bar = tqdm(total=len(reader), unit="frame", disable=not show_progress(args.quiet))
    for idx, frames in reader.batches(stride=stride, batch_size=16):
        for i, frame in zip(idx.tolist(), frames):
            for k, face in enumerate(detector(frame)):
                name = f"face_{i:06d}_{k}.png"
                _write_png(out / name, align_face(frame, face.landmarks))
                listing.append({"file": name, "frame": i, "time": round(reader.time_of(i), 3),
                                "box": [round(float(v), 1) for v in face.box], "score": round(face.score, 3)})
        bar.update(len(idx) * stride)
    bar.close()
    atomic_write_text(out / "faces.json", json.dumps(listing, indent=1) + "\n")
    print(f"{len(listing)} aligned face crops from {len(range(0, len(reader), stride))} sampled frames -> {out}")
    return 0

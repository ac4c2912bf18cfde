"""Aligned 112x112 face crops of a video (``vidml faces``).

Every ``1/fps`` s a frame is sampled (FrameReader, decord), faces are detected (dlib HOG), landmarked
(68 points) and aligned to the ArcFace 112x112 template by Umeyama. Each crop is written atomically as
``OUT/face_{frame:06d}_{k}.png`` and ``OUT/faces.json`` lists ``{file, frame, time, box [x,y,w,h], score}``.
Nothing here draws random numbers: the same video gives the same crops.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidml.errors import BadInput, OutputError


@dataclass(frozen=True)
class FacesConfig:
    """``fps``: frames sampled per second; ``upsample``: the detector's 2x upsamplings (1 finds ~40 px faces)."""

    video: str
    out: str
    fps: float = 2.0
    upsample: int = 0
    quiet: bool = True


@dataclass
class FacesResult:
    """The ``faces.json`` listing, how many frames were sampled, and the output folder."""

    listing: list[dict]
    sampled_frames: int
    out: Path


def _write_png(path: Path, rgb: np.ndarray) -> None:
    import cv2

    from vidml.outputs import atomic_write_bytes

    ok, buf = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    atomic_write_bytes(path, buf.tobytes())


def extract_faces(cfg: FacesConfig) -> FacesResult:
    """Detect, align and write the faces of ``cfg.video`` into ``cfg.out`` (created), with ``faces.json``."""
    if cfg.fps <= 0:
        raise BadInput(f"--fps must be > 0, not {cfg.fps}")
    from apps.video_search.faces.align import align_face
    from apps.video_search.faces.detect import FaceDetector
    from apps.video_search.stream import stride_for
    from vidml.outputs import atomic_write_text
    from vidml.progress import progress_bar
    from vidml.video import FrameReader

    reader = FrameReader(cfg.video)
    out = Path(cfg.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise OutputError(f"{out}: cannot create the output folder ({err.strerror}); choose another --out") from None
    detector = FaceDetector(points=68, upsample=cfg.upsample)
    stride = stride_for(reader.fps, cfg.fps)  # cfg.fps > 0, checked above
    listing = []
    bar = progress_bar(total=len(reader), unit="frame", quiet=cfg.quiet)
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
    return FacesResult(listing, len(range(0, len(reader), stride)), out)

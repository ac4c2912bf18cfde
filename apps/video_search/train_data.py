"""Training frames for the HashingNet: clips and images under ../shared/data, read once and kept small.

Data (any mix): video files and frame-sequence folders (``img/``, ``img1/`` or >= 20 numbered images) give
*clips* of up to ``per_source`` evenly strided frames in time order; other image files (any format OpenCV or
Pillow reads, e.g. the Yale GIFs) give one-frame clips. Frames are kept at <= ``MAX_SIDE`` px. A source
larger than 2 * MAX_SIDE also gives ``crops`` extra clips: one fixed window (25-50 % of each side, random
place) cut from every frame at full resolution -- more distinct content from the few large frames.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vidml.errors import BadInput
from vidml.video import IMAGE_SUFFIXES, VIDEO_SUFFIXES, FrameReader

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / ".." / "shared" / "data"
# training sources: real frames that are NOT in the benchmark library (../shared/data/videos) nor its
# distractors: no mot/PETS09 (the vtest videos' scene), no sot/bag (= pysot_bag.avi), no sot/Dudek20 and no
# hamilton clip (the benchmark's distractor sources)
DEFAULT_DATA = ("sot/juice", "sot/UAV123_wakeboard7", "mot/MOT17-mini", "faces/dlib_landmarks",
                "faces/face_recognition_examples/knn_examples", "faces/att_orl", "faces/yale")
# validation sources (model and bit count chosen on them; never trained on): other scenes again
DEFAULT_VAL = ("sot/Human3", "mot/TUD-Campus")
MAX_SIDE = 128


def small(frame: np.ndarray, side: int = MAX_SIDE) -> np.ndarray:
    """``frame`` shrunk (INTER_AREA) so that its longer side is <= ``side``."""
    h, w = frame.shape[:2]
    s = side / max(h, w)
    return cv2.resize(frame, (max(1, int(w * s)), max(1, int(h * s))), interpolation=cv2.INTER_AREA) if s < 1 else frame


def _windows(shape: tuple[int, ...], crops: int, rng: np.random.Generator) -> list[tuple[int, int, int, int]]:
    """``crops`` fixed windows (y0, x0, h, w) of 25-50 % of each side when the frame is > 2 * MAX_SIDE."""
    h, w = int(shape[0]), int(shape[1])
    if crops <= 0 or max(h, w) <= 2 * MAX_SIDE:
        return []
    out = []
    for _ in range(crops):
        fh, fw = rng.uniform(0.25, 0.5, 2)
        ch, cw = max(16, int(h * fh)), max(16, int(w * fw))
        out.append((int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1)), ch, cw))
    return out


def _with_windows(frames: list[np.ndarray], crops: int, rng: np.random.Generator) -> list[list[np.ndarray]]:
    """The clip ``frames`` (full resolution) shrunk, plus one shrunk clip per fixed window."""
    wins = _windows(frames[0].shape, crops, rng) if frames else []
    return [[small(f) for f in frames]] + [[small(np.ascontiguousarray(f[y:y + h, x:x + w])) for f in frames]
                                           for y, x, h, w in wins]


def read_clip(path: Path, per_source: int, crops: int = 0, rng: np.random.Generator | None = None
              ) -> list[list[np.ndarray]]:
    """The clip of ``path`` (<= ``per_source`` evenly strided frames) and its fixed-window clips."""
    reader = FrameReader(path)
    stride = max(1, len(reader) // per_source)
    frames = [f for _, f in reader.frames(stride=stride)][:per_source]
    return _with_windows(frames, crops, rng or np.random.default_rng(0))


def _read_image(path: Path) -> np.ndarray | None:
    """RGB image at full resolution (OpenCV, else Pillow for GIF and other formats), or None if unreadable."""
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if bgr is not None:
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    try:
        from PIL import Image

        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except (OSError, ValueError):
        return None


def load_clips(paths: list[Path], per_source: int, crops: int = 0,
               rng: np.random.Generator | None = None) -> list[list[np.ndarray]]:
    """Clips (lists of RGB frames in time order) from videos, sequence folders and image files under ``paths``
    (+ ``crops`` fixed-window clips per large source, windows drawn from ``rng``)."""
    rng = rng or np.random.default_rng(0)
    clips: list[list[np.ndarray]] = []
    for p in paths:
        if not p.exists():
            raise BadInput(f"{p}: training data not found; pass existing paths with --data")
        if p.is_file():
            if p.suffix.lower() in VIDEO_SUFFIXES:
                clips.extend(read_clip(p, per_source, crops, rng))
            elif not p.name.startswith(".") and (img := _read_image(p)) is not None:
                clips.extend(_with_windows([img], crops, rng))
            continue
        images = sorted(q for q in p.iterdir() if q.suffix.lower() in IMAGE_SUFFIXES)
        if (p / "img").is_dir() or (p / "img1").is_dir() or len(images) >= 20:
            clips.extend(read_clip(p, per_source, crops, rng))
            continue
        clips.extend(load_clips(sorted(q for q in p.iterdir() if not q.name.startswith(".")), per_source, crops, rng))
    return [c for c in clips if c]


def resolve(paths) -> list[Path]:
    """Paths as given, or relative to ../shared/data when they do not exist as given."""
    return [Path(p) if Path(p).exists() or Path(p).is_absolute() else DATA / p for p in paths]

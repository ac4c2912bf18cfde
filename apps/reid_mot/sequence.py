"""A MOTChallenge sequence folder: ``seqinfo.ini``, ``img1/`` frames, ``det/det.txt``, ``gt/gt.txt``.

Layout (https://motchallenge.net/instructions/)::

    SEQ/seqinfo.ini      [Sequence] name, imDir (img1), frameRate, seqLength, imWidth, imHeight, imExt (.jpg)
    SEQ/img1/000001.jpg  frames 1..seqLength, 6-digit 1-based names
    SEQ/det/det.txt      public detections (see detection.py)
    SEQ/gt/gt.txt        ground truth (optional; used by --eval)

The files are read by :mod:`vidml.motchallenge`. Every problem a user can cause (no seqinfo.ini, no
seqLength, a missing frame, no det.txt) raises :class:`vidml.errors.BadInput` with one line. Frames are decoded by :class:`vidml.video.FrameReader`
(RGB uint8).
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.motchallenge import read_detections, read_seqinfo
from vidml.video import FrameReader


class Sequence:
    """One MOTChallenge sequence: ``len(seq)`` frames, ``seq.frame(k)`` for 1-based ``k``, ``seq.detections``."""

    def __init__(self, root: str | os.PathLike, det_path: str | os.PathLike | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise BadInput(f"{self.root}: not a folder; give a MOTChallenge sequence folder (seqinfo.ini, img1/, det/)")
        info = read_seqinfo(self.root)
        self.length = info.length
        self.fps = info.fps if info.fps is not None else 30.0
        self.name = info.name
        self.image_dir = info.image_dir
        missing = [k for k in range(1, self.length + 1) if not info.frame_path(k).is_file()]
        if missing:
            raise BadInput(f"{self.image_dir}: {len(missing)} of {self.length} frames missing "
                           f"(first: {info.frame_path(missing[0]).name}); restore them or lower seqLength in seqinfo.ini")
        self.reader = FrameReader(self.image_dir, fps=self.fps)
        self.det_path = Path(det_path) if det_path else self.root / "det" / "det.txt"
        self.detections = read_detections(self.det_path, self.length)
        self.gt_path = self.root / "gt" / "gt.txt"
        self.size = self.reader.size

    def __len__(self) -> int:
        return self.length

    def frame(self, k: int) -> np.ndarray:
        """RGB uint8 frame ``k`` (1-based, as in det.txt)."""
        return self.reader[k - 1]

    def dets(self, k: int) -> np.ndarray:
        """(N, 5) ``x, y, w, h, score`` detections of frame ``k``."""
        return self.detections.get(k, np.zeros((0, 5)))


def find_sequences(root: str | os.PathLike) -> list[Path]:
    """Every folder under ``root`` (itself included) that holds a seqinfo.ini, sorted by path."""
    root = Path(root)
    if not root.is_dir():
        raise BadInput(f"{root}: not a folder; give a folder of MOTChallenge sequences")
    found = sorted(p.parent for p in root.rglob("seqinfo.ini"))
    if not found:
        raise BadInput(f"{root}: no MOTChallenge sequences (folders with seqinfo.ini) found under it")
    return found

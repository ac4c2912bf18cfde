"""A MOTChallenge sequence folder: ``seqinfo.ini``, ``img1/`` frames, ``det/det.txt``, ``gt/gt.txt``.

Layout (https://motchallenge.net/instructions/)::

    SEQ/seqinfo.ini      [Sequence] name, imDir (img1), frameRate, seqLength, imWidth, imHeight, imExt (.jpg)
    SEQ/img1/000001.jpg  frames 1..seqLength, 6-digit 1-based names
    SEQ/det/det.txt      public detections (see detection.py)
    SEQ/gt/gt.txt        ground truth (optional; used by --eval)

Every problem a user can cause (no seqinfo.ini, no seqLength, a missing frame, no det.txt) raises
:class:`vidml.errors.BadInput` with one line. Frames are decoded by :class:`vidml.video.FrameReader`
(RGB uint8).
"""
from __future__ import annotations

import configparser
import os
from pathlib import Path

import numpy as np

from apps.reid_mot.detection import parse_det_txt
from vidml.errors import BadInput
from vidml.video import FrameReader


class Sequence:
    """One MOTChallenge sequence: ``len(seq)`` frames, ``seq.frame(k)`` for 1-based ``k``, ``seq.detections``."""

    def __init__(self, root: str | os.PathLike, det_path: str | os.PathLike | None = None) -> None:
        self.root = Path(root)
        if not self.root.is_dir():
            raise BadInput(f"{self.root}: not a folder; give a MOTChallenge sequence folder (seqinfo.ini, img1/, det/)")
        ini = self.root / "seqinfo.ini"
        if not ini.is_file():
            raise BadInput(f"{ini}: missing; a MOTChallenge sequence needs seqinfo.ini with [Sequence] seqLength")
        cfg = configparser.ConfigParser()
        try:
            cfg.read(ini)
            info = cfg["Sequence"]
        except (configparser.Error, KeyError):
            raise BadInput(f"{ini}: no [Sequence] section; write one with name, seqLength, frameRate, imDir") from None
        if "seqLength" not in info:
            raise BadInput(f"{ini}: no seqLength; add `seqLength=N` (the number of frames) under [Sequence]")
        try:
            self.length = int(info["seqLength"])
            self.fps = float(info.get("frameRate", "30"))
        except ValueError:
            raise BadInput(f"{ini}: seqLength/frameRate are not numbers; fix them") from None
        if self.length < 1 or self.fps <= 0:
            raise BadInput(f"{ini}: seqLength must be >= 1 and frameRate > 0")
        self.name = info.get("name", self.root.name)
        self.image_dir = self.root / info.get("imDir", "img1")
        ext = info.get("imExt", ".jpg")
        missing = [k for k in range(1, self.length + 1) if not (self.image_dir / f"{k:06d}{ext}").is_file()]
        if missing:
            raise BadInput(f"{self.image_dir}: {len(missing)} of {self.length} frames missing (first: {missing[0]:06d}{ext}); "
                           "restore them or lower seqLength in seqinfo.ini")
        self.reader = FrameReader(self.image_dir, fps=self.fps)
        self.det_path = Path(det_path) if det_path else self.root / "det" / "det.txt"
        self.detections = parse_det_txt(self.det_path, self.length)
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

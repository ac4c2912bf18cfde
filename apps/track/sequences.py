"""Single-object sequences for one-pass evaluation: OTB folders and MOTChallenge identity tracks.

* OTB layout: ``SEQ/img/0001.jpg ...`` + ``SEQ/groundtruth_rect.txt`` (one ``x,y,w,h`` per frame; commas,
  tabs or spaces). :func:`otb_sequences` finds every such folder under a root.
* MOTChallenge layout: ``SEQ/img1/000001.jpg`` + ``SEQ/gt/gt.txt`` (``frame,id,x,y,w,h,conf,class,vis``).
  :func:`mot_track_sequences` turns each identity (rows with ``conf == 1``) into a sequence from its first
  to its last frame; frames inside a gap have no ground truth (NaN rows) and are not scored.

The tracker starts from the first ground-truth box; the metrics score every later frame that has one.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.motchallenge import read_boxes
from vidml.video import FrameReader


@dataclass
class Sequence:
    """Frames ``start .. start + len(gt) - 1`` of ``reader``, with ground truth (T, 4) xywh (NaN = none)."""

    name: str
    reader: FrameReader
    start: int
    gt: np.ndarray

    def __len__(self) -> int:
        return len(self.gt)

    def frame(self, i: int) -> np.ndarray:
        return self.reader[self.start + i]

    def frames(self):
        """Every frame of the sequence in order (RGB uint8)."""
        for i in range(len(self.gt)):
            yield self.reader[self.start + i]


def read_box_file(path: Path) -> np.ndarray:
    """``x,y,w,h`` rows (commas, tabs or spaces) -> (T, 4) float; a malformed file -> BadInput."""
    rows = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        parts = line.replace(",", " ").replace("\t", " ").split()
        try:
            values = [float(v) for v in parts[:4]]
        except ValueError:
            values = []
        if len(values) != 4:
            raise BadInput(f"{path}:{n}: expected x,y,w,h, got {line.strip()!r}")
        rows.append(values)
    if not rows:
        raise BadInput(f"{path}: no boxes in the file; expected one x,y,w,h line per frame")
    return np.array(rows)


def otb_sequences(root: str | Path) -> list[Sequence]:
    """Every OTB sequence folder (``img/`` + ``groundtruth_rect.txt``) at or directly under ``root``."""
    root = Path(root)
    if not root.is_dir():
        raise BadInput(f"{root}: no such folder; give a folder of OTB sequences (SEQ/img + SEQ/groundtruth_rect.txt)")
    candidates = [root] + sorted(p for p in root.iterdir() if p.is_dir())
    seqs = []
    for folder in candidates:
        gt_file = folder / "groundtruth_rect.txt"
        if not (gt_file.is_file() and (folder / "img").is_dir()):
            continue
        gt = read_box_file(gt_file)
        reader = FrameReader(folder / "img")
        n = min(len(gt), len(reader))
        seqs.append(Sequence(folder.name, reader, 0, gt[:n]))
    return seqs


def mot_track_sequences(seq_dir: str | Path, min_frames: int = 10) -> list[Sequence]:
    """Each identity of ``seq_dir/gt/gt.txt`` (conf == 1 rows, at least ``min_frames``) as a sequence."""
    seq_dir = Path(seq_dir)
    gt_file = seq_dir / "gt" / "gt.txt"
    if not gt_file.is_file():
        raise BadInput(f"{gt_file}: not found; give a MOTChallenge sequence folder (img1/, gt/gt.txt)")
    rows = read_boxes(gt_file, "ground-truth")
    rows = rows[rows[:, 6] == 1]
    reader = FrameReader(seq_dir)
    seqs = []
    for tid in np.unique(rows[:, 1]).astype(int):
        r = rows[rows[:, 1] == tid]
        frames = r[:, 0].astype(int)
        first, last = frames.min(), min(frames.max(), len(reader))
        if last - first + 1 < min_frames:
            continue
        gt = np.full((last - first + 1, 4), np.nan)
        keep = frames <= last
        gt[frames[keep] - first] = r[keep, 2:6]
        seqs.append(Sequence(f"{seq_dir.name}/id{tid}", reader, first - 1, gt))
    return seqs

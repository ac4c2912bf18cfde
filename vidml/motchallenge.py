"""The MOTChallenge text formats (https://motchallenge.net/instructions/): read with validation, write.

A sequence folder::

    SEQ/seqinfo.ini      [Sequence] name, imDir (img1), frameRate, seqLength, imWidth, imHeight, imExt (.jpg)
    SEQ/img1/000001.jpg  frames 1..seqLength, 6-digit 1-based names
    SEQ/det/det.txt      public detections  ``frame,id,x,y,w,h,score[,...]``       (id = -1)
    SEQ/gt/gt.txt        ground truth       ``frame,id,x,y,w,h,flag,class,visibility``  (flag 0 = ignore;
                         MOT15 files have -1 for class, MOT16/17/20 give it, 1 = pedestrian)
    results              ``frame,id,x,y,w,h,conf,-1,-1,-1``

Frames are 1-based, boxes in pixels (top-left x, y, width, height). Every problem a user can cause (a
missing file, a line that is not numbers, NaN, a non-positive box, a frame outside 1..seqLength, a
seqinfo.ini without [Sequence] or seqLength) raises :class:`vidml.errors.BadInput` with one line naming
the file and, for text files, ``FILE:LINE``.
"""
from __future__ import annotations

import configparser
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.outputs import atomic_write_text

GT_COLUMNS = 10  # frame,id,x,y,w,h,flag,class,visibility(,z): rows are padded with -1 to this width


@dataclass(frozen=True)
class SeqInfo:
    """What ``seqinfo.ini`` says; ``length`` / ``fps`` are None when the file does not give them."""

    name: str
    image_dir: Path
    ext: str = ".jpg"
    length: int | None = None
    fps: float | None = None

    def frame_path(self, k: int) -> Path:
        """The image of 1-based frame ``k``: ``imDir/{k:06d}{imExt}``."""
        return self.image_dir / f"{k:06d}{self.ext}"


def read_seqinfo(seq_dir: str | os.PathLike, required: bool = True) -> SeqInfo:
    """Parse ``seq_dir/seqinfo.ini``.

    ``required``: the file must exist and give ``seqLength`` (a sequence to track); otherwise a missing file
    gives the defaults (name = folder name, ``img1``, ``.jpg``, no length, no frame rate). Present values are
    always checked: seqLength an integer >= 1, frameRate a number > 0.
    """
    seq_dir = Path(seq_dir)
    ini = seq_dir / "seqinfo.ini"
    if not ini.is_file():
        if required:
            raise BadInput(f"{ini}: missing; a MOTChallenge sequence needs seqinfo.ini with [Sequence] seqLength")
        return SeqInfo(seq_dir.name, seq_dir / "img1")
    cfg = configparser.ConfigParser()
    try:
        cfg.read(ini)
        info = cfg["Sequence"]
    except (configparser.Error, KeyError, UnicodeDecodeError):
        raise BadInput(f"{ini}: no [Sequence] section; write one with name, seqLength, frameRate, imDir") from None
    if required and "seqLength" not in info:
        raise BadInput(f"{ini}: no seqLength; add `seqLength=N` (the number of frames) under [Sequence]")
    try:
        length = int(info["seqLength"]) if "seqLength" in info else None
        fps = float(info["frameRate"]) if "frameRate" in info else None
    except ValueError:
        raise BadInput(f"{ini}: seqLength/frameRate are not numbers; fix them") from None
    if (length is not None and length < 1) or (fps is not None and fps <= 0):
        raise BadInput(f"{ini}: seqLength must be >= 1 and frameRate > 0")
    return SeqInfo(info.get("name", seq_dir.name), seq_dir / info.get("imDir", "img1"), info.get("imExt", ".jpg"),
                   length, fps)


def seqinfo_fps(seq_dir: str | os.PathLike) -> float | None:
    """frameRate of ``seq_dir/seqinfo.ini`` if the file is there and valid, else None (never raises)."""
    try:
        return read_seqinfo(seq_dir, required=False).fps
    except BadInput:
        return None


def _numbers(line: str) -> list[float] | None:
    """The comma-separated numbers of a line, or None when one is not a number."""
    try:
        return [float(p) for p in line.replace(" ", "").split(",")]
    except ValueError:
        return None


def read_detections(path: str | os.PathLike, num_frames: int | None = None) -> dict[int, np.ndarray]:
    """Read ``det.txt`` -> ``{frame: (N, 5) [x, y, w, h, score]}`` (frames without detections are absent).

    A line needs at least 7 columns, finite numbers, ``w, h > 0`` and an integer frame in 1..``num_frames``.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: detections not found; a MOTChallenge sequence needs det/det.txt")
    by_frame: dict[int, list[list[float]]] = {}
    for n, line in enumerate(path.read_text().splitlines(), 1):
        text = line.strip()
        if not text:
            continue
        parts = [p.strip() for p in text.split(",")]
        if len(parts) < 7:
            raise BadInput(f"{path}:{n}: expected at least 7 comma-separated columns "
                           f"(frame,id,x,y,w,h,score), got {len(parts)}; fix the line")
        try:
            values = [float(p) for p in parts[:7]]
        except ValueError:
            raise BadInput(f"{path}:{n}: non-numeric value in frame,id,x,y,w,h,score; fix the line") from None
        if not np.all(np.isfinite(values)):
            raise BadInput(f"{path}:{n}: NaN or infinite value in frame,id,x,y,w,h,score; fix the line")
        frame, _, x, y, w, h, score = values
        if w <= 0 or h <= 0:
            raise BadInput(f"{path}:{n}: box width/height must be > 0, got w={w:g} h={h:g}; fix the line")
        if frame < 1 or frame != int(frame) or (num_frames is not None and frame > num_frames):
            limit = f" (seqLength is {num_frames})" if num_frames is not None else ""
            raise BadInput(f"{path}:{n}: frame {frame:g} is not a frame number 1..N{limit}; fix the line")
        by_frame.setdefault(int(frame), []).append([x, y, w, h, score])
    return {f: np.array(rows, dtype=np.float64) for f, rows in by_frame.items()}


def read_boxes(path: str | os.PathLike, what: str = "ground-truth", columns: int | None = GT_COLUMNS) -> np.ndarray:
    """Rows of a gt or results file as a float ``(N, columns)`` array, short rows padded with -1.

    ``columns=None`` keeps the width of the widest line (what ``np.loadtxt`` gives for a regular file).
    A line needs at least 6 numbers, the first six finite (frame,id,x,y,w,h); else BadInput ``FILE:LINE``.
    """
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: {what} file not found; give a MOTChallenge txt (frame,id,x,y,w,h,...)")
    rows = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        values = _numbers(line) or []
        if len(values) < 6 or not np.all(np.isfinite(values[:6])):
            raise BadInput(f"{path}:{n}: {what} line is not frame,id,x,y,w,h,... numbers; fix or remove it")
        rows.append(values)
    width = columns or max((len(r) for r in rows), default=GT_COLUMNS)
    out = np.full((len(rows), width), -1.0)
    for i, r in enumerate(rows):
        out[i, :min(len(r), width)] = r[:width]
    return out


def has_classes(gt: np.ndarray) -> bool:
    """True for MOT16/17-style gt, whose 8th column holds class ids 1..13 (1 = pedestrian); MOT15's holds -1 / 0."""
    return bool(np.any(gt[:, 7] > 0) and np.all(np.isin(gt[:, 7], np.arange(1, 14))))


def format_results(rows: np.ndarray) -> str:
    """MOTChallenge results text of ``(N, >=7)`` rows ``frame,id,x,y,w,h,conf`` (3 decimals for boxes)."""
    return "".join(f"{int(r[0])},{int(r[1])},{r[2]:.3f},{r[3]:.3f},{r[4]:.3f},{r[5]:.3f},{r[6]:.4f},-1,-1,-1\n"
                   for r in rows)


def write_results(path: str | os.PathLike, rows: np.ndarray) -> Path:
    """Write :func:`format_results` of ``rows`` to ``path`` atomically."""
    return atomic_write_text(path, format_results(rows))

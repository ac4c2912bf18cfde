"""Training data for the ReID embedding: identity-labelled crops without touching a scored sequence's gt.

Two sources, each giving ``crops`` (N, h, w, 3) uint8 RGB, ``labels`` (N,) int and ``groups``: lists of
labels that are certainly different people (so a batch drawn from one group has true negatives):

* :func:`tracklet_crops` -- self-supervised, from a sequence's *detections* only. Detections are linked
  frame to frame when the link is unambiguous: IoU(a, b) >= ``min_iou``, b is a's best match and a is b's,
  and no other candidate has IoU >= ``ambiguous_iou`` with either. A tracklet (cut at ``max_len`` frames)
  is one person; tracklets alive in the same frame are different people (one group per frame).
* :func:`gt_crops` -- labelled crops from MOTChallenge gt of the frames present in ``img1/`` (e.g.
  MOT17-mini: few frames, many identities); one group per sequence.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from apps.reid_mot.appearance import crop_boxes
from vidml.boxes import iou_xywh
from vidml.motchallenge import read_boxes, read_detections, read_seqinfo


def link_tracklets(dets: dict[int, np.ndarray], min_iou: float = 0.5, ambiguous_iou: float = 0.2,
                   min_score: float = 0.7, min_len: int = 4, max_len: int = 40) -> list[list[tuple[int, np.ndarray]]]:
    """Unambiguous IoU tracklets ``[[(frame, xywh), ...], ...]`` from ``{frame: (N, 5)}`` detections."""
    done, active = [], []
    for k in sorted(dets):
        d = dets[k][dets[k][:, 4] >= min_score]
        prev = [t for t in active if t[-1][0] == k - 1 and len(t) < max_len]
        done += [t for t in active if not (t[-1][0] == k - 1 and len(t) < max_len)]
        used, nxt = set(), []
        if prev and len(d):
            iou = iou_xywh(np.array([t[-1][1] for t in prev]), d[:, :4])
            for i, t in enumerate(prev):
                j = int(np.argmax(iou[i]))
                row = np.sort(iou[i])[::-1]
                col = np.sort(iou[:, j])[::-1]
                clear = iou[i, j] >= min_iou and int(np.argmax(iou[:, j])) == i
                clear &= (len(row) < 2 or row[1] < ambiguous_iou) and (len(col) < 2 or col[1] < ambiguous_iou)
                if clear:
                    t.append((k, d[j, :4].copy()))
                    used.add(j)
                    nxt.append(t)
                else:
                    done.append(t)
        else:
            done += prev
        nxt += [[(k, d[j, :4].copy())] for j in range(len(d)) if j not in used]
        active = nxt
    done += active
    return [t for t in done if len(t) >= min_len]


def tracklet_crops(seq_dir: str | Path, size_hw: tuple[int, int], frames: tuple[int, int] | None = None,
                   return_frames: bool = False, **link_kw):
    """Crops, labels and per-frame groups from the detections of one sequence (no gt used).

    ``frames = (first, last)`` keeps the detections of those frames only (inclusive); with ``return_frames``
    the frame number of every crop is returned too, as a fourth array.
    """
    seq_dir = Path(seq_dir)
    dets = read_detections(seq_dir / "det" / "det.txt")
    if frames is not None:
        dets = {k: v for k, v in dets.items() if frames[0] <= k <= frames[1]}
    tracklets = link_tracklets(dets, **link_kw)
    by_frame: dict[int, list[tuple[int, np.ndarray]]] = {}
    for label, t in enumerate(tracklets):
        for k, box in t:
            by_frame.setdefault(k, []).append((label, box))
    frame_path = _frame_paths(seq_dir)
    crops, labels, groups, crop_frames = [], [], [], []
    for k, items in sorted(by_frame.items()):
        img = _read_rgb(frame_path(k))
        if img is None:
            continue
        crops.append(crop_boxes(img, np.array([b for _, b in items]), size_hw))
        labels += [lab for lab, _ in items]
        crop_frames += [k] * len(items)
        if len(items) >= 2:
            groups.append(sorted({lab for lab, _ in items}))
    out = _stack(crops, size_hw), np.array(labels, np.int64), groups
    return (*out, np.array(crop_frames, np.int64)) if return_frames else out


def gt_crops(seq_dir: str | Path, size_hw: tuple[int, int], min_visibility: float = 0.3, label_offset: int = 0,
             return_frames: bool = False):
    """Crops of gt boxes (flag 1, pedestrian class if given, visibility >= min) in the frames present
    (with ``return_frames``, also the frame number of every crop as a fourth array)."""
    seq_dir = Path(seq_dir)
    gt = read_boxes(seq_dir / "gt" / "gt.txt", columns=None)
    keep = gt[:, 6] != 0
    if gt.shape[1] > 7:
        keep &= np.isin(gt[:, 7], (-1, 1))
    if gt.shape[1] > 8:
        keep &= gt[:, 8] >= min_visibility
    gt = gt[keep & (gt[:, 4] > 4) & (gt[:, 5] > 8)]
    frame_path = _frame_paths(seq_dir)
    crops, labels, crop_frames = [], [], []
    ids = {int(i): n + label_offset for n, i in enumerate(np.unique(gt[:, 1]))}
    for k in np.unique(gt[:, 0]).astype(int):
        img = _read_rgb(frame_path(k))
        if img is None:
            continue
        rows = gt[gt[:, 0] == k]
        crops.append(crop_boxes(img, rows[:, 2:6], size_hw))
        labels += [ids[int(i)] for i in rows[:, 1]]
        crop_frames += [k] * len(rows)
    labels = np.array(labels, np.int64)
    out = _stack(crops, size_hw), labels, [sorted(set(labels.tolist()))] if len(labels) else []
    return (*out, np.array(crop_frames, np.int64)) if return_frames else out


def _frame_paths(seq_dir: Path):
    """``k -> path of frame k`` (1-based) from seqinfo.ini's imDir / imExt (img1, .jpg when absent), read once.

    Not :class:`apps.reid_mot.sequence.Sequence`: training reads sequences with frames missing (MOT17-mini
    keeps a few frames of each), which a sequence to track must not have."""
    return read_seqinfo(seq_dir, required=False).frame_path


def _read_rgb(path: Path) -> np.ndarray | None:
    bgr = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
    return None if bgr is None else cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _stack(crops: list[np.ndarray], size_hw: tuple[int, int]) -> np.ndarray:
    return np.concatenate(crops) if crops else np.zeros((0, *size_hw, 3), np.uint8)

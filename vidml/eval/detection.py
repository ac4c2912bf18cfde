"""Detection quality: average precision at an IoU threshold (PASCAL VOC's all-point AP), per sequence.

Detections ``{frame: (N, 5) x, y, w, h, score}`` are ranked by score over the whole sequence; each, in
turn, matches the unmatched ground-truth box of its frame with the highest IoU if that IoU >= ``iou``
(a true positive), else it is a false positive. With TP/FP cumulated down the ranking,

    recall_k = TP_k / |gt|,   precision_k = TP_k / k,
    AP = sum_k (r_k - r_{k-1}) * max_{j >= k} precision_j      (precision made monotone, all points)

which is VOC2010+'s AP (Everingham et al., IJCV 2015). Ground truth comes as ``(M, >= 6)`` MOTChallenge
rows ``frame, id, x, y, w, h[, flag, class, visibility]``: rows with flag 0 are ignored, and when a class
column names classes (MOT16/17: 1 = pedestrian) only pedestrians count.
"""
from __future__ import annotations

import numpy as np

from vidml.boxes import iou_xywh
from vidml.motchallenge import has_classes


def gt_boxes_by_frame(gt_rows: np.ndarray) -> dict[int, np.ndarray]:
    """``{frame: (M, 4) xywh}`` of the pedestrians to detect (see the module docstring for the filter)."""
    rows = np.asarray(gt_rows, np.float64)
    if rows.shape[1] > 6:
        rows = rows[rows[:, 6] != 0]
    if rows.shape[1] > 7 and has_classes(rows):
        rows = rows[rows[:, 7] == 1]
    return {int(f): rows[rows[:, 0] == f, 2:6] for f in np.unique(rows[:, 0])}


def average_precision(dets: dict[int, np.ndarray], gt: dict[int, np.ndarray], iou: float = 0.5) -> dict[str, float]:
    """``{"AP", "recall", "precision", "dets", "gt"}``; recall/precision are those of the whole detection list."""
    n_gt = int(sum(len(b) for b in gt.values()))
    items = [(float(d[4]), f, i) for f, arr in dets.items() for i, d in enumerate(np.asarray(arr).reshape(-1, 5))]
    items.sort(key=lambda t: -t[0])
    used = {f: np.zeros(len(b), bool) for f, b in gt.items()}
    tp = np.zeros(len(items))
    for k, (_, f, i) in enumerate(items):
        boxes = gt.get(f)
        if boxes is None or len(boxes) == 0:
            continue
        overlaps = iou_xywh(np.asarray(dets[f])[i:i + 1, :4], boxes)[0]
        overlaps[used[f]] = -1.0
        j = int(np.argmax(overlaps))
        if overlaps[j] >= iou:
            used[f][j] = True
            tp[k] = 1.0
    ctp = np.cumsum(tp)
    recall = ctp / max(n_gt, 1)
    precision = ctp / np.arange(1, len(items) + 1)
    mono = np.maximum.accumulate(precision[::-1])[::-1] if len(items) else precision
    ap = float(np.sum(np.diff(np.concatenate([[0.0], recall])) * mono))
    return {"AP": ap, "recall": float(recall[-1]) if len(items) else 0.0,
            "precision": float(precision[-1]) if len(items) else 0.0, "dets": len(items), "gt": n_gt}

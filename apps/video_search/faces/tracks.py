"""Group per-frame face detections of neighbouring sampled frames into face tracks.

Frame by frame, each open track (last box ``b``, mean unit embedding ``m``) is matched to the new faces by
the Hungarian algorithm (scipy.optimize.linear_sum_assignment) on the cost
``c = (1 - cos(m, e)) + (1 - IoU(b, box))``; a match needs ``cos >= min_cos`` and either
``IoU >= min_iou`` or ``cos >= strong_cos`` (a face that moved far but is clearly the same person).
A track not matched for more than ``max_gap`` sampled frames is closed; unmatched faces open tracks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

from vidml.boxes import iou_xywh


@dataclass
class FaceTrack:
    start: float
    end: float
    box: np.ndarray
    embeddings: list = field(default_factory=list)
    boxes: list = field(default_factory=list)
    last_frame: int = 0

    @property
    def mean(self) -> np.ndarray:
        m = np.mean(self.embeddings, 0)
        return m / max(float(np.linalg.norm(m)), 1e-12)


def group_tracks(detections: list[tuple[float, np.ndarray, np.ndarray]], min_cos: float = 0.8,
                 min_iou: float = 0.2, strong_cos: float = 0.9, max_gap: int = 2) -> list[FaceTrack]:
    """``detections``: per sampled frame, ``(time, boxes (n, 4) xywh, embeddings (n, D) unit)`` in order.

    Returns the tracks sorted by start time.
    """
    open_, done = [], []
    for f, (t, boxes, emb) in enumerate(detections):
        still = []
        for tr in open_:
            (done if f - tr.last_frame > max_gap else still).append(tr)
        open_ = still
        used = set()
        if open_ and len(boxes):
            means = np.stack([tr.mean for tr in open_])
            cos = means @ np.asarray(emb).T
            iou = iou_xywh(np.stack([tr.box for tr in open_]), boxes)
            rows, cols = linear_sum_assignment((1 - cos) + (1 - iou))
            for r, c in zip(rows, cols):
                if cos[r, c] >= min_cos and (iou[r, c] >= min_iou or cos[r, c] >= strong_cos):
                    tr = open_[r]
                    tr.end, tr.box, tr.last_frame = float(t), boxes[c], f
                    tr.embeddings.append(emb[c])
                    tr.boxes.append(boxes[c])
                    used.add(c)
        for c in range(len(boxes)):
            if c not in used:
                open_.append(FaceTrack(float(t), float(t), boxes[c], [emb[c]], [boxes[c]], f))
    return sorted(done + open_, key=lambda tr: tr.start)

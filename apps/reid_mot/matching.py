"""Costs, gating and Hungarian assignment between tracks (rows) and detections (columns).

* ``iou_cost``          1 - IoU(track box, detection box)
* ``mahalanobis_gate``  True where the squared Mahalanobis distance of the detection to the track's Kalman
                        prediction is within ``threshold`` (default the chi-square 95% quantile, 4 dof: 9.4877)
* ``mahalanobis_distance`` that squared distance divided by the same quantile, d^2 / chi2_95: a motion
                        cost that is 1 at the gate's edge and grows with the track's uncertainty
* ``covered_fraction``  per box, the largest fraction of its area that another box of the same frame covers
* ``linear_assignment`` Hungarian (scipy.optimize.linear_sum_assignment) on the cost; pairs whose cost
                        is above ``max_cost`` are dropped. Returns matches, unmatched rows, unmatched cols.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.optimize import linear_sum_assignment
from scipy.stats import chi2

from vidml.boxes import intersection_xywh, iou_xywh

#: chi-square 0.95 quantiles by degrees of freedom (deep_sort's table); 4 dof for (cx, cy, a, h)
CHI2_95 = {k: float(chi2.ppf(0.95, k)) for k in range(1, 10)}
INF = 1e5


def iou_cost(track_boxes: np.ndarray, det_boxes: np.ndarray) -> np.ndarray:
    """(T, D) matrix of 1 - IoU between xywh boxes."""
    if len(track_boxes) == 0 or len(det_boxes) == 0:
        return np.zeros((len(track_boxes), len(det_boxes)))
    return 1.0 - iou_xywh(track_boxes, det_boxes)


def mahalanobis_gate(tracks: Sequence, det_boxes: np.ndarray, dof: int = 4, threshold: float | None = None) -> np.ndarray:
    """(T, D) boolean: True where detection j's d^2 to track i is <= ``threshold`` (None: CHI2_95[dof])."""
    if len(tracks) == 0 or len(det_boxes) == 0:
        return np.zeros((len(tracks), len(det_boxes)), bool)
    limit = CHI2_95[dof] if threshold is None else threshold
    return np.stack([t.kalman.gating_distance(det_boxes) <= limit for t in tracks])


def mahalanobis_distance(tracks: Sequence, det_boxes: np.ndarray, dof: int = 4) -> np.ndarray:
    """(T, D) squared Mahalanobis distance over the chi-square 95% quantile (<= 1 inside the gate)."""
    if len(tracks) == 0 or len(det_boxes) == 0:
        return np.zeros((len(tracks), len(det_boxes)))
    return np.stack([t.kalman.gating_distance(det_boxes) for t in tracks]) / CHI2_95[dof]


def covered_fraction(boxes_xywh: np.ndarray) -> np.ndarray:
    """(N,) for each box, max over the other boxes of area(intersection) / area(box) (0 when alone)."""
    b = np.asarray(boxes_xywh, np.float64).reshape(-1, 4)
    if len(b) < 2:
        return np.zeros(len(b))
    inter = intersection_xywh(b, b)
    np.fill_diagonal(inter, 0)
    return (inter / np.maximum(b[:, 2] * b[:, 3], 1e-12)[:, None]).max(1)


def linear_assignment(cost: np.ndarray, max_cost: float) -> tuple[list[tuple[int, int]], list[int], list[int]]:
    """Hungarian assignment of ``cost`` (T, D); pairs costing more than ``max_cost`` stay unmatched."""
    T, D = cost.shape
    if T == 0 or D == 0:
        return [], list(range(T)), list(range(D))
    c = np.where(np.isfinite(cost), cost, INF)
    c = np.minimum(c, max_cost + 1e-5)
    rows, cols = linear_sum_assignment(c)
    matches = [(int(r), int(k)) for r, k in zip(rows, cols) if cost[r, k] <= max_cost]
    mr = {r for r, _ in matches}
    mc = {k for _, k in matches}
    return matches, [r for r in range(T) if r not in mr], [k for k in range(D) if k not in mc]

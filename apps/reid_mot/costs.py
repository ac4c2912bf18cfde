"""The contracts of the tracker's pluggable parts, as ``typing.Protocol`` types, and the built-in costs by name.

:class:`apps.reid_mot.tracker.Tracker` takes an appearance encoder and four cost functions; anything with
the call signature below fits (no base class to inherit), e.g. ``Tracker(motion_cost=get_cost("iou"))``.
Shapes: ``T`` tracks, ``D`` detections, boxes ``x, y, w, h`` in pixels, features unit vectors.

* :class:`Encoder`         ``encoder(frame (H, W, 3) uint8 RGB, boxes (D, 4)) -> (D, d) float32`` unit vectors
  (:class:`~apps.reid_mot.appearance.ReIDEncoder`, :class:`~apps.reid_mot.appearance.HistogramEncoder`)
* :class:`AppearanceCost`  ``cost(galleries [T x (k_i, d)], features (D, d)) -> (T, D)``   (``gallery``)
* :class:`BoxCost`         ``cost(track_boxes (T, 4), det_boxes (D, 4)) -> (T, D)``      (``iou``)
* :class:`TrackGate`       ``gate(tracks, det_boxes (D, 4)) -> (T, D) bool``             (``mahalanobis_gate``)
* :class:`TrackDistance`   ``distance(tracks, det_boxes (D, 4)) -> (T, D)``              (``mahalanobis``)

Every cost is >= 0, smaller is better, and ``(T, D)`` with T or D zero gives an empty matrix.
"""
from __future__ import annotations

from typing import Callable, Protocol, Sequence, runtime_checkable

import numpy as np

from apps.reid_mot.appearance import gallery_cost
from apps.reid_mot.matching import iou_cost, mahalanobis_distance, mahalanobis_gate


@runtime_checkable
class Encoder(Protocol):
    def __call__(self, frame: np.ndarray, boxes_xywh: np.ndarray) -> np.ndarray: ...


class AppearanceCost(Protocol):
    def __call__(self, galleries: Sequence[np.ndarray], features: np.ndarray) -> np.ndarray: ...


class BoxCost(Protocol):
    def __call__(self, track_boxes: np.ndarray, det_boxes: np.ndarray) -> np.ndarray: ...


class TrackGate(Protocol):
    def __call__(self, tracks: Sequence, det_boxes: np.ndarray) -> np.ndarray: ...


class TrackDistance(Protocol):
    def __call__(self, tracks: Sequence, det_boxes: np.ndarray) -> np.ndarray: ...


#: the built-in costs: name -> function (see the module docstring for which slot each fills)
COSTS: dict[str, Callable[..., np.ndarray]] = {
    "gallery": gallery_cost,
    "iou": iou_cost,
    "mahalanobis_gate": mahalanobis_gate,
    "mahalanobis": mahalanobis_distance,
}


def get_cost(name: str) -> Callable[..., np.ndarray]:
    """A built-in cost by name; an unknown name raises ValueError naming the choices."""
    if name not in COSTS:
        raise ValueError(f"unknown cost {name!r}; choose one of {', '.join(COSTS)}")
    return COSTS[name]

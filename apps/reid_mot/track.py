"""One track: a Kalman filter, an appearance gallery and the lifecycle tentative -> confirmed -> lost -> deleted.

* tentative: born from an unmatched detection; confirmed after ``n_init`` consecutive hits, deleted at the
  first miss;
* confirmed: matched in the current frame;
* lost: confirmed but missed for 1..``max_age`` frames (still predicted and matchable); deleted after.

The gallery keeps the last ``budget`` appearance features (unit vectors); with ``ema`` in (0, 1) it keeps one
feature instead, updated as g <- normalize(ema * g + (1 - ema) * f).
"""
from __future__ import annotations

import enum

import numpy as np

from apps.reid_mot.kalman import BoxKalman


class TrackState(enum.Enum):
    TENTATIVE = 1
    CONFIRMED = 2
    LOST = 3
    DELETED = 4


class Track:
    """A tracked object; ``box`` is the Kalman state as xywh, ``track_id`` a positive int."""

    def __init__(self, track_id: int, box_xywh: np.ndarray, score: float, feature: np.ndarray | None,
                 n_init: int = 3, budget: int = 50, ema: float | None = None) -> None:
        self.track_id = track_id
        self.kalman = BoxKalman(box_xywh)
        self.score = float(score)
        self.hits = 1
        self.age = 1
        self.time_since_update = 0
        self.n_init = n_init
        self.budget = budget
        self.ema = ema
        self.state = TrackState.CONFIRMED if n_init <= 1 else TrackState.TENTATIVE
        self._features: list[np.ndarray] = []
        if feature is not None:
            self._features.append(np.asarray(feature, np.float32))

    @property
    def box(self) -> np.ndarray:
        return self.kalman.box()

    @property
    def gallery(self) -> np.ndarray:
        """(k, d) appearance features (k = 0 when the tracker runs without appearance)."""
        return np.array(self._features, np.float32) if self._features else np.zeros((0, 0), np.float32)

    def is_confirmed(self) -> bool:
        return self.state in (TrackState.CONFIRMED, TrackState.LOST)

    def predict(self) -> None:
        self.kalman.predict()
        self.age += 1
        self.time_since_update += 1

    def update(self, box_xywh: np.ndarray, score: float, feature: np.ndarray | None) -> None:
        self.kalman.update(box_xywh)
        self.score = float(score)
        self.hits += 1
        self.time_since_update = 0
        if feature is not None:
            if self.ema is not None and self._features:
                g = self.ema * self._features[0] + (1 - self.ema) * feature
                self._features = [g / max(np.linalg.norm(g), 1e-12)]
            else:
                self._features.append(np.asarray(feature, np.float32))
                del self._features[:-self.budget]
        if self.state == TrackState.TENTATIVE and self.hits >= self.n_init:
            self.state = TrackState.CONFIRMED
        elif self.state == TrackState.LOST:
            self.state = TrackState.CONFIRMED

    def mark_missed(self, max_age: int) -> None:
        if self.state == TrackState.TENTATIVE or self.time_since_update > max_age:
            self.state = TrackState.DELETED
        else:
            self.state = TrackState.LOST

"""The multi-object tracker: ``Tracker(...).update(detections, frame) -> tracks``.

One ``update`` per frame, in numbered steps (DeepSORT's cascade + ByteTrack's low-score stage):

1. predict every track with its Kalman filter;
2. split detections into high (score >= ``high_thresh``) and low (``low_thresh`` <= score < high);
3. embed the high detections' crops (one batched forward) when an appearance encoder is given;
4. stage A (appearance, confirmed tracks, cascade by time since update): a pair (track i, detection j) is
   admissible when its appearance distance a_ij = ``appearance_cost`` (cosine distance to the track's
   gallery) is at most ``max_cos_dist``, j lies in i's Mahalanobis 95% gate (``motion_gate``) and, for
   tracks seen last frame, IoU >= ``min_iou_appearance``. Admissible pairs cost (DeepSORT's eq. 5)

       c_ij = w a_ij + (1 - w) m_ij,     m_ij = d^2_Mahalanobis(i, j) / chi2_95   (``motion_distance``)

   with w = ``appearance_weight`` (1: appearance alone, as deep_sort; StrongSORT's 0.98 a + 0.02 d^2 is
   w ~ 0.84 on this scale), so that two look-alikes in the gate are told apart by where the track should be.
   Hungarian on c; the rest stay unmatched. Without an encoder stage A is skipped;
5. stage B (motion): the tracks left (tentative, and confirmed ones not matched in A -- with an encoder only
   those seen in the last frame, as deep_sort) against the high detections left, cost = ``motion_cost``
   (1 - IoU), Hungarian, pairs above ``max_iou_dist`` dropped;
6. stage C (ByteTrack, ``use_low``): confirmed tracks seen in the last frame and still unmatched against
   the low detections, 1 - IoU, above ``max_low_iou_dist`` dropped;
7. lifecycle: matched tracks update their Kalman filter and, unless another high detection covers more
   than ``max_covered`` of the detection's box (its crop then shows someone else too), their appearance
   gallery; unmatched tracks are marked missed (tentative -> deleted, confirmed -> lost, lost too long
   -> deleted); unmatched high detections with score >= ``new_track_thresh`` start tentative tracks;
8. return the confirmed tracks matched in this frame.

Detections are ``(N, 5)`` arrays ``x, y, w, h, score`` (pixels). Costs are pluggable callables (their
Protocol types and the built-ins by name are in :mod:`apps.reid_mot.costs`):
``appearance_cost(galleries, features) -> (T, D)``, ``motion_cost(track_boxes, det_boxes) -> (T, D)``,
``motion_gate(tracks, det_boxes) -> (T, D) bool``, ``motion_distance(tracks, det_boxes) -> (T, D)``.
"""
from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from apps.reid_mot.appearance import gallery_cost
from apps.reid_mot.costs import AppearanceCost, BoxCost, Encoder, TrackDistance, TrackGate
from apps.reid_mot.matching import covered_fraction, iou_cost, linear_assignment, mahalanobis_distance, mahalanobis_gate
from apps.reid_mot.track import Track, TrackState
from vidml.boxes import iou_xywh


#: stage A's motion gate on d^2 in preset ``reid`` (make_tracker); the chi-square 95% quantile is 9.49
APPEARANCE_MOTION_CHI2 = 50.0


class Tracker:
    """Kalman + (optional) ReID appearance + Hungarian multi-object tracker; see the module docstring."""

    def __init__(self, encoder: Encoder | None = None, *,
                 appearance_cost: AppearanceCost = gallery_cost, motion_cost: BoxCost = iou_cost,
                 motion_gate: TrackGate = mahalanobis_gate, motion_distance: TrackDistance = mahalanobis_distance,
                 appearance_weight: float = 1.0, max_covered: float = 1.0, high_thresh: float = 0.6, low_thresh: float = 0.1,
                 new_track_thresh: float | None = None, use_low: bool = True, max_cos_dist: float = 0.3,
                 min_iou_appearance: float = 0.0, max_iou_dist: float = 0.7, max_low_iou_dist: float = 0.5,
                 n_init: int = 3, max_age: int = 30, budget: int = 50, ema: float | None = None) -> None:
        self.encoder = encoder
        self.appearance_cost = appearance_cost
        self.motion_cost = motion_cost
        self.motion_gate = motion_gate
        self.motion_distance = motion_distance
        self.appearance_weight, self.max_covered = appearance_weight, max_covered
        self.high_thresh, self.low_thresh = high_thresh, low_thresh
        self.new_track_thresh = high_thresh if new_track_thresh is None else new_track_thresh
        self.use_low = use_low
        self.max_cos_dist, self.min_iou_appearance = max_cos_dist, min_iou_appearance
        self.max_iou_dist, self.max_low_iou_dist = max_iou_dist, max_low_iou_dist
        self.n_init, self.max_age, self.budget, self.ema = n_init, max_age, budget, ema
        self.tracks: list[Track] = []
        self._next_id = 1

    # ------------------------------------------------------------------------------------------
    def update(self, detections: np.ndarray, frame: np.ndarray | None = None) -> list[Track]:
        """Advance one frame with ``detections`` (N, 5) xywh+score; returns the confirmed, matched tracks."""
        dets = np.asarray(detections, dtype=np.float64).reshape(-1, 5)

        # 1. predict
        for t in self.tracks:
            t.predict()

        # 2. split detections by score
        high = dets[dets[:, 4] >= self.high_thresh]
        low = dets[(dets[:, 4] >= self.low_thresh) & (dets[:, 4] < self.high_thresh)] if self.use_low else dets[:0]

        # 3. appearance features of the high detections (one batched forward)
        feats = None
        if self.encoder is not None:
            if frame is None:
                raise ValueError("Tracker with an appearance encoder needs the frame in update()")
            feats = np.asarray(self.encoder(frame, high[:, :4]), np.float32)

        # 4. stage A: appearance cascade over confirmed tracks, most recently seen first
        matches, stage_b, unmatched_dets = self._appearance_cascade(high, feats)

        # 5. stage B: IoU for what is left
        m, left_tracks, unmatched_dets = self._iou_match(stage_b, high, unmatched_dets, self.max_iou_dist)
        matches += m

        # 6. stage C: low-score detections against confirmed tracks seen in the last frame (ByteTrack)
        low_matches: list[tuple[Track, int]] = []
        if len(low):
            cand = [t for t in left_tracks if t.is_confirmed() and t.time_since_update == 1]
            low_matches, _, _ = self._iou_match(cand, low, list(range(len(low))), self.max_low_iou_dist)

        # 7. lifecycle
        self._lifecycle(high, low, feats, matches, low_matches, unmatched_dets)

        # 8. output
        return [t for t in self.tracks if t.state == TrackState.CONFIRMED and t.time_since_update == 0]

    # ------------------------------------------------------------------------------------------
    def _appearance_cascade(self, high: np.ndarray, feats: np.ndarray | None):
        """Step 4 -> (matches, the tracks for stage B, unmatched detection indices)."""
        matches: list[tuple[Track, int]] = []
        unmatched_dets = list(range(len(high)))
        pool = list(self.tracks)
        if feats is None:
            return matches, pool, unmatched_dets
        for level in range(1, self.max_age + 2):
            if not unmatched_dets:
                break
            level_tracks = [t for t in pool if t.is_confirmed() and t.time_since_update == level]
            if not level_tracks:
                continue
            m, _, unmatched_dets = self._appearance_match(level_tracks, high, feats, unmatched_dets)
            matches += m
            matched_ids = {id(t) for t, _ in m}
            pool = [t for t in pool if id(t) not in matched_ids]
        return matches, [t for t in pool if not t.is_confirmed() or t.time_since_update == 1], unmatched_dets

    def _lifecycle(self, high: np.ndarray, low: np.ndarray, feats: np.ndarray | None, matches: list,
                   low_matches: list, unmatched_dets: list[int]) -> None:
        """Step 7: update matched tracks, mark the others missed, start tracks, drop the deleted."""
        clear = np.ones(len(high), bool)  # crops that show one person only
        if feats is not None and self.max_covered < 1.0:
            clear = covered_fraction(high[:, :4]) <= self.max_covered
        for t, j in matches:
            t.update(high[j, :4], high[j, 4], None if feats is None or not clear[j] else feats[j])
        for t, j in low_matches:
            t.update(low[j, :4], low[j, 4], None)
        updated = {id(t) for t, _ in matches + low_matches}
        for t in self.tracks:
            if id(t) not in updated:
                t.mark_missed(self.max_age)
        for j in unmatched_dets:
            if high[j, 4] >= self.new_track_thresh:
                self.tracks.append(Track(self._next_id, high[j, :4], high[j, 4], None if feats is None else feats[j],
                                         self.n_init, self.budget, self.ema))
                self._next_id += 1
        self.tracks = [t for t in self.tracks if t.state != TrackState.DELETED]

    def _appearance_match(self, tracks: Sequence[Track], dets: np.ndarray, feats: np.ndarray, det_idx: list[int]):
        boxes = dets[det_idx, :4]
        app = self.appearance_cost([t.gallery for t in tracks], feats[det_idx])
        ok = self.motion_gate(tracks, boxes) & (app <= self.max_cos_dist)
        if self.min_iou_appearance > 0:
            iou = iou_xywh(np.array([t.box for t in tracks]), boxes)
            recent = np.array([t.time_since_update == 1 for t in tracks])[:, None]
            ok &= ~(recent & (iou < self.min_iou_appearance))
        w = self.appearance_weight
        cost = app if w >= 1 else w * app + (1 - w) * self.motion_distance(tracks, boxes)
        cost = np.where(ok, cost, np.inf)
        pairs, um_t, um_d = linear_assignment(cost, max_cost=1e4)
        return [(tracks[r], det_idx[c]) for r, c in pairs], [tracks[r] for r in um_t], [det_idx[c] for c in um_d]

    def _iou_match(self, tracks: Sequence[Track], dets: np.ndarray, det_idx: list[int], max_dist: float):
        if not tracks or not det_idx:
            return [], list(tracks), list(det_idx)
        cost = self.motion_cost(np.array([t.box for t in tracks]), dets[det_idx, :4])
        pairs, um_t, um_d = linear_assignment(cost, max_dist)
        return [(tracks[r], det_idx[c]) for r, c in pairs], [tracks[r] for r in um_t], [det_idx[c] for c in um_d]


def make_tracker(mode: str, encoder=None, **overrides) -> Tracker:
    """Preset trackers compared in benchmarks/bench_mot.py.

    * ``reid``  -- appearance cascade + IoU + low-score stage (needs ``encoder``; an encoder's own
                   ``max_cos_dist``, calibrated when its weights were trained, replaces the default gate).
                   Its motion gate in stage A is d^2 <= ``APPEARANCE_MOTION_CHI2`` (50) instead of the
                   chi-square 95% quantile (9.49): deep_sort's Kalman noise is set for 30 fps, and at lower
                   frame rates or after a few missed frames the 95% gate drops the right detection, so
                   the appearance decides among more candidates (chosen on PETS09-S2L1-dev at 7, 3.5 and
                   2.3 fps, benchmarks/mot_tune.py; figures in docs/reid_mot.md)
    * ``sort``  -- appearance off: Kalman + IoU + Hungarian, every detection high, no low stage
    * ``byte``  -- appearance off, ByteTrack-style two-stage IoU (high, then low-score detections)
    """
    if mode == "reid":
        if encoder is None:
            raise ValueError("mode 'reid' needs an encoder")
        kw = dict(encoder=encoder, motion_gate=functools.partial(mahalanobis_gate, threshold=APPEARANCE_MOTION_CHI2))
        if getattr(encoder, "max_cos_dist", None) is not None:  # calibrated with the weights (train_cli)
            kw["max_cos_dist"] = float(encoder.max_cos_dist)
    elif mode == "sort":
        kw = dict(encoder=None, high_thresh=0.0, use_low=False)
    elif mode == "byte":
        kw = dict(encoder=None, use_low=True)
    else:
        raise ValueError(f"unknown tracker mode {mode!r}; choose reid, sort or byte")
    kw.update(overrides)
    return Tracker(**kw)

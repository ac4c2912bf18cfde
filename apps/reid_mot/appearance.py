"""Appearance: ReID embeddings of detection crops and the cosine cost to each track's gallery.

* :class:`ReIDEncoder` crops every detection of a frame, resizes the crops to ``(crop_h, crop_w)`` and runs
  the shared :class:`vidml.backbones.embed.EmbeddingNet` once on the batch -> unit vectors (N, D).
  A ``--fusion lomo`` checkpoint loads as apps/reid_mot/fusion.FusedEncoder: LOMO + the net under XQDA.
* :class:`HistogramEncoder` is a training-free fallback: an L2-normalised HSV colour histogram of the
  crop's upper and lower halves.
* :func:`gallery_cost` is deep_sort's nearest-neighbour metric: for track i with gallery G_i (its last
  ``budget`` features, unit vectors) and detection feature f_j,

      cost[i, j] = min_{g in G_i} (1 - g . f_j)        (cosine distance, in [0, 2])
"""
from __future__ import annotations

import os
from typing import Sequence

import cv2
import numpy as np

from vidml.boxes import clip_xywh


def crop_boxes(frame: np.ndarray, boxes_xywh: np.ndarray, size_hw: tuple[int, int]) -> np.ndarray:
    """Crops of ``boxes_xywh`` (N, 4) from an RGB frame resized to ``size_hw`` -> (N, h, w, 3) uint8."""
    H, W = frame.shape[:2]
    h, w = size_hw
    out = np.zeros((len(boxes_xywh), h, w, 3), np.uint8)
    for i, b in enumerate(clip_xywh(np.asarray(boxes_xywh, float).reshape(-1, 4), (W, H))):
        x0, y0 = int(b[0]), int(b[1])
        x1, y1 = int(np.ceil(b[0] + b[2])), int(np.ceil(b[1] + b[3]))
        if x1 - x0 < 2 or y1 - y0 < 2:
            continue
        out[i] = cv2.resize(frame[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_LINEAR)
    return out


class ReIDEncoder:
    """EmbeddingNet on detection crops. ``encoder(frame, boxes) -> (N, D)`` unit vectors."""

    def __init__(self, net, crop_hw: tuple[int, int] = (64, 32), max_cos_dist: float | None = None) -> None:
        self.net = net.eval()
        self.crop_hw = tuple(crop_hw)
        self.max_cos_dist = max_cos_dist  # the appearance gate calibrated for this net (None: tracker default)

    @classmethod
    def load(cls, path: str | os.PathLike):
        """Load weights written by ``vidml train reid`` (a ``reid`` checkpoint with its model card); a
        fine-tuned pretrained trunk gets its frozen base from the package (apps.reid_mot.reid_net). A fused
        checkpoint (``--fusion lomo``) loads as a :class:`apps.reid_mot.fusion.FusedEncoder` (same interface)."""
        from apps.reid_mot.reid_net import load_reid_net
        from vidml.backbones.weights import load_checkpoint

        ckpt = load_checkpoint(path, kind="reid")
        cfg = ckpt["config"]
        if cfg.get("fusion") == "lomo":  # LOMO + this net under XQDA (apps/reid_mot/fusion.py)
            from apps.reid_mot.fusion import load_fused

            return load_fused(cfg, ckpt["state_dict"], path)
        net = load_reid_net(cfg, ckpt["state_dict"], path)
        return cls(net, tuple(cfg.get("crop_hw", (64, 32))), cfg.get("max_cos_dist"))

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """(N, D) unit embeddings of uint8 RGB crops already at ``crop_hw``."""
        return self.net.embed(crops)

    def __call__(self, frame: np.ndarray, boxes_xywh: np.ndarray) -> np.ndarray:
        if len(boxes_xywh) == 0:
            return np.zeros((0, self.net.config["dim"]), np.float32)
        return self.net.embed(crop_boxes(frame, boxes_xywh, self.crop_hw))


class HistogramEncoder:
    """HSV histogram (8x8x4 bins) of the upper and lower half of each crop, concatenated, L2-normalised."""

    def __init__(self, crop_hw: tuple[int, int] = (64, 32)) -> None:
        self.crop_hw = crop_hw

    def __call__(self, frame: np.ndarray, boxes_xywh: np.ndarray) -> np.ndarray:
        return histogram_features(crop_boxes(frame, boxes_xywh, self.crop_hw))


def histogram_features(crops: np.ndarray) -> np.ndarray:
    """uint8 RGB crops (N, h, w, 3) -> (N, 512): sqrt of the 8x8x4 HSV histograms of the upper and lower
    half, concatenated and L2-normalised (the Hellinger kernel as a dot product)."""
    feats = []
    for c in crops:
        hsv = cv2.cvtColor(c, cv2.COLOR_RGB2HSV)
        half = hsv.shape[0] // 2
        parts = [cv2.calcHist([p], [0, 1, 2], None, [8, 8, 4], [0, 180, 0, 256, 0, 256]).ravel()
                 for p in (hsv[:half], hsv[half:])]
        f = np.sqrt(np.concatenate(parts))
        feats.append(f / max(np.linalg.norm(f), 1e-12))
    return np.array(feats, np.float32).reshape(len(crops), 512)


def gallery_cost(galleries: Sequence[np.ndarray], features: np.ndarray) -> np.ndarray:
    """(T, D) nearest-neighbour cosine distance between each track gallery (k_i, d) and features (D, d)."""
    if len(galleries) == 0 or len(features) == 0:
        return np.zeros((len(galleries), len(features)))
    return np.stack([np.min(1.0 - g @ features.T, axis=0) if len(g) else np.ones(len(features)) for g in galleries])

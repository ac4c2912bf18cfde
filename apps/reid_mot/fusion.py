"""The fused ReID embedding: LOMO colour/texture features + the fine-tuned net, under a learned XQDA metric.

For a person crop c (resized to ``lomo_hw``, 128x48; the net sees it area-resized to its own crop size):

    x(c) = [ LOMO(c) ; alpha * f_net(c) ]           (lomo.py: 26,960-d; f_net: the net's unit embedding)
    e(c) = P^T (x(c) - mean) / |P^T (x(c) - mean)|  (xqda.py: P from XQDA, ``dims`` columns)

so e is a unit vector like the net's own embedding, and every consumer (the tracker's cosine gallery
cost, ``vidml eval reid``) uses it unchanged. XQDA is fitted in closed form on the net's training crops:
VIPeR's *train* identities (camera A x camera B pairs) and gt crops of MOT sequences (all pairs of one
video), each data set weighing the same (xqda.pooled_covariances).

Checkpoint (kind ``reid``, apps/reid_mot/appearance.ReIDEncoder.load dispatches on ``config["fusion"]``):
config ``{"fusion": "lomo", "net": <the net's config>, "lomo_hw", "alpha", "max_cos_dist", ...}``; state
``net.<k>`` (the net's trained tensors, reid_net.trained_state_dict), ``xqda.mean`` and ``xqda.P``
(float16: P is 27,088 x dims).
"""
from __future__ import annotations

import cv2
import numpy as np
import torch

from apps.reid_mot.appearance import crop_boxes
from apps.reid_mot.lomo import lomo_dim, lomo_features
from apps.reid_mot.xqda import XQDA, fit_xqda


class FusedEncoder:
    """``encoder(frame, boxes) -> (N, dims)`` unit vectors; ``embed(crops at crop_hw)`` for stored crops."""

    def __init__(self, net, net_hw: tuple[int, int], lomo_hw: tuple[int, int], alpha: float,
                 mean: np.ndarray | None = None, P: np.ndarray | None = None, max_cos_dist: float | None = None) -> None:
        self.net, self.net_hw, self.crop_hw, self.alpha = net.eval(), tuple(net_hw), tuple(lomo_hw), float(alpha)
        self.mean = None if mean is None else np.asarray(mean, np.float32)
        self.P = None if P is None else np.asarray(P, np.float16).astype(np.float32)  # as stored (float16)
        self.max_cos_dist = max_cos_dist
        self._P = self._mean = None  # torch views of P and mean (embed)

    def features(self, crops: np.ndarray) -> np.ndarray:
        """x(c) of the module docstring for uint8 RGB crops (N, *crop_hw, 3) -> (N, D) float32."""
        small = np.stack([cv2.resize(c, self.net_hw[::-1], interpolation=cv2.INTER_AREA) for c in crops]) \
            if len(crops) else np.zeros((0, *self.net_hw, 3), np.uint8)
        return np.hstack([lomo_features(crops), self.alpha * np.asarray(self.net.embed(small), np.float32)])

    def embed(self, crops: np.ndarray) -> np.ndarray:
        """e(c) of the module docstring: (N, dims) unit vectors. The (N x 27,088) @ (27,088 x dims) product
        runs in torch, which keeps to ``torch.set_num_threads`` (reid-mot --threads): numpy's OpenBLAS
        starts a thread per core, and on a loaded machine that one product took 220 ms instead of 0.9 ms."""
        if self._P is None:  # float64: the rows' sums do not depend on the batch they come in
            self._P, self._mean = torch.from_numpy(self.P).double(), torch.from_numpy(self.mean).double()
        with torch.no_grad():
            x = torch.from_numpy(np.ascontiguousarray(self.features(crops), np.float32)).double()
            z = ((x - self._mean) @ self._P).float().numpy()
        return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)

    def __call__(self, frame: np.ndarray, boxes_xywh: np.ndarray) -> np.ndarray:
        if len(boxes_xywh) == 0:
            return np.zeros((0, self.P.shape[1]), np.float32)
        return self.embed(crop_boxes(frame, boxes_xywh, self.crop_hw))

    def fit(self, crops: np.ndarray, labels: np.ndarray, cams: np.ndarray, sets: np.ndarray, dims: int | None,
            lam: float = 1e-3) -> XQDA:
        """Fit XQDA on the features of ``crops`` (xqda.fit_xqda) and keep its mean and projection."""
        model = fit_xqda(self.features(crops), labels, cams, lam=lam, dims=dims, sets=sets)
        self.mean, self.P = model.mean.astype(np.float32), model.P.astype(np.float16).astype(np.float32)
        self._P = self._mean = None
        return model

    def checkpoint(self, net_state: dict) -> tuple[dict, dict]:
        """(config, state) of the module docstring, for vidml.backbones.weights.save_checkpoint."""
        config = {"fusion": "lomo", "net": dict(self.net.config, crop_hw=list(self.net_hw)),
                  "lomo_hw": list(self.crop_hw), "alpha": self.alpha, "dim": int(self.P.shape[1]),
                  "crop_hw": list(self.crop_hw)}
        if self.max_cos_dist is not None:
            config["max_cos_dist"] = self.max_cos_dist
        state = {f"net.{k}": v for k, v in net_state.items()}
        state["xqda.mean"] = torch.from_numpy(self.mean)
        state["xqda.P"] = torch.from_numpy(self.P.astype(np.float16))
        return config, state


def load_fused(config: dict, state: dict, path: object = "checkpoint") -> FusedEncoder:
    """Rebuild a :class:`FusedEncoder` from a fused checkpoint's config and state (module docstring)."""
    from apps.reid_mot.reid_net import load_reid_net
    from vidml.errors import MissingModel

    try:
        net = load_reid_net(config["net"], {k[4:]: v for k, v in state.items() if k.startswith("net.")}, path)
        mean, P = state["xqda.mean"].float().numpy(), state["xqda.P"].numpy()
        enc = FusedEncoder(net, config["net"]["crop_hw"], config["lomo_hw"], config["alpha"], mean, P,
                           config.get("max_cos_dist"))
    except (KeyError, TypeError, AttributeError) as err:
        raise MissingModel(f"{path}: not a complete fused ReID checkpoint ({err}); retrain it with "
                           "vidml train reid --fusion lomo") from None

    if mean.shape != (P.shape[0],) or P.shape[0] != lomo_dim(enc.crop_hw) + int(config["net"]["dim"]):
        raise MissingModel(f"{path}: fused ReID checkpoint with mismatched XQDA shapes; retrain it")
    return enc


def fusion_sets(viper: list[str], gt_seq: list[str], seq: list[str], lomo_hw: tuple[int, int],
                frames: tuple[int, int] | None = None, max_len: int = 40, viper_split: str = "train"):
    """(crops, labels, cams, sets) at ``lomo_hw`` of the net's training inputs, one XQDA data set each:
    a camera set's ``viper_split`` identities (cams a/b), a sequence's gt crops, its detection tracklets."""
    from apps.reid_mot.reid_data import gt_crops, tracklet_crops
    from apps.reid_mot.reid_sets import load_camera_crops

    parts = []
    for root in viper:
        cam = load_camera_crops(root, lomo_hw, viper_split)
        parts.append((cam.crops, cam.labels, cam.cams))
    for s in gt_seq:
        c, l, _ = gt_crops(s, lomo_hw)
        parts.append((c, l, np.full(len(l), "")))
    for s in seq:
        c, l, _ = tracklet_crops(s, lomo_hw, frames=frames, max_len=max_len)
        parts.append((c, l, np.full(len(l), "")))
    parts = [p for p in parts if len(p[1]) and len(np.unique(p[1])) >= 2]
    sets = np.concatenate([np.full(len(p[1]), k) for k, p in enumerate(parts)])
    labels = np.concatenate([p[1] + 100_000 * k for k, p in enumerate(parts)])  # distinct across sets
    return np.concatenate([p[0] for p in parts]), labels, np.concatenate([p[2] for p in parts]), sets


def fuse_with_lomo(net, cfg) -> FusedEncoder:
    """The fused encoder of a trained ``net`` (ReIDTrainConfig ``cfg``: its inputs, ``fusion_dims``,
    ``fusion_alpha``, ``fusion_crop_hw``), XQDA fitted on the net's own training inputs (:func:`fusion_sets`)."""
    crops, labels, cams, sets = fusion_sets(cfg.viper, cfg.gt_seq, cfg.seq, cfg.fusion_crop_hw, cfg.frames, cfg.max_len,
                                            cfg.viper_split)
    enc = FusedEncoder(net, cfg.crop_hw, cfg.fusion_crop_hw, cfg.fusion_alpha)
    enc.fit(crops, labels, cams, sets, cfg.fusion_dims)
    return enc

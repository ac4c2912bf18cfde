"""``evaluate_reid(EvalReIDConfig) -> ReIDEvalResult``: CMC and mAP of a ReID feature on a camera set.

The set is an identity-per-folder folder (reid_sets.py; ``split`` picks the train / val / test
identities of its fixed split, or all); the protocol and the metrics are reid_eval.camera_reid_metrics
(camera A probes vs camera B gallery, else leave-one-out). Features:

* ``net``    -- a ReID checkpoint (default: the one reid-mot ships, LOMO + net under XQDA: fusion.py), crops
  resized to its crop size;
* ``hist``   -- the HSV histogram of ``--appearance hist`` (appearance.histogram_features);
* ``pixels`` -- the raw RGB pixels of the crop, mean-subtracted per crop (the no-feature baseline);
* ``trunk``  -- the untrained shared trunk's pooled ImageNet features (``trunk`` name, e.g. mnv2@13+parts).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = ("net", "hist", "pixels", "trunk")
DEFAULT_WEIGHTS = "reid_mnv2"


@dataclass
class EvalReIDConfig:
    folder: str
    weights: str | None = None
    features: str = "net"
    split: str = "all"
    crop_hw: tuple[int, int] = (128, 64)
    trunk: str = "mnv2@13+parts"


@dataclass
class ReIDEvalResult:
    metrics: dict[str, float]      # R1, R5, R10, R20, mAP in percent
    identities: int
    crops: int
    protocol: str                  # "cam_a probes vs cam_b gallery" or "leave-one-out"
    features: str


def feature_function(cfg: EvalReIDConfig):
    """(crops -> (N, D) features, crop size HxW) for ``cfg.features``."""
    from apps.reid_mot.appearance import ReIDEncoder, histogram_features
    from vidml.backbones.weights import shipped
    from vidml.errors import BadInput

    if cfg.features == "net":
        enc = ReIDEncoder.load(cfg.weights or shipped(DEFAULT_WEIGHTS))
        return enc.embed, enc.crop_hw
    if cfg.features == "hist":
        return histogram_features, cfg.crop_hw
    if cfg.features == "pixels":
        def pixels(crops: np.ndarray) -> np.ndarray:
            x = crops.reshape(len(crops), -1).astype(np.float32)
            return x - x.mean(1, keepdims=True)
        return pixels, cfg.crop_hw
    if cfg.features == "trunk":
        import torch

        from vidml.backbones.embed import make_trunk, to_tensor

        trunk = make_trunk(cfg.trunk).eval()

        def trunk_features(crops: np.ndarray) -> np.ndarray:
            with torch.inference_mode():
                return np.concatenate([trunk(to_tensor(crops[i:i + 128])).numpy() for i in range(0, len(crops), 128)])
        return trunk_features, cfg.crop_hw
    raise BadInput(f"unknown features {cfg.features!r}; choose one of {', '.join(FEATURES)}")


def evaluate_reid(cfg: EvalReIDConfig) -> ReIDEvalResult:
    """Read the crops of ``cfg.split``, compute the features, score them (module docstring)."""
    from apps.reid_mot.reid_eval import camera_reid_metrics
    from apps.reid_mot.reid_sets import load_camera_crops

    embed, crop_hw = feature_function(cfg)
    data = load_camera_crops(cfg.folder, tuple(crop_hw), cfg.split)
    metrics = camera_reid_metrics(embed(data.crops), data.labels, data.cams)
    cams = set(data.cams.tolist())
    protocol = "cam_a probes vs cam_b gallery" if {"a", "b"} <= cams else "leave-one-out"
    return ReIDEvalResult(metrics, len(data.names), len(data), protocol, cfg.features)

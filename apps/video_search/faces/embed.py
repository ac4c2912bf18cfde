"""Face embeddings: dlib's 128-d metric-learned ResNet, or our own EmbeddingNet, on aligned crops.

Both take the crops made by :mod:`apps.video_search.faces.align` (Umeyama to the ArcFace template) and
return L2-normalised float32 vectors, so cosine similarity = dot product and
``||a - b||^2 = 2 - 2 cos(a, b)``.

* :class:`DlibEmbedder` -- ``dlib_face_recognition_resnet_model_v1`` (ResNet-29, trained by D. King with
  a pairwise hinge metric loss on ~3M faces). It was trained on dlib's own 150x150 chips, whose geometry
  differs from ArcFace's (eyes at y=47/150 instead of 51.7/112): fed the ArcFace crop its held-out ROC-AUC
  drops from 1.00 to 0.97-0.98. So we align with our Umeyama to :data:`DLIB_TEMPLATE`, the same five points
  measured in dlib's chips (``get_face_chip_details(shape, 150, 0.25)``, mean over held-out faces).
* :class:`NetEmbedder` -- our EmbeddingNet (vidml.backbones.embed) trained by
  ``vidml train faces`` on att_orl + Yale crops (vidml/weights/face_embed.pt).
"""
from __future__ import annotations

import cv2
import numpy as np

from apps.video_search.faces.align import ARCFACE_SIZE, align_face
from apps.video_search.faces.models import recognition_net

DLIB_CHIP = 150
# eye centres, nose tip, mouth corners in dlib's 150x150 chip (68-point landmarks)
DLIB_TEMPLATE = np.array([[47.27, 47.13], [100.64, 47.29], [74.24, 74.53], [51.55, 104.7], [96.88, 104.92]])
# eye centres and nose bottom in dlib's chip (5-point landmarks)
DLIB_TEMPLATE_3 = np.array([[47.32, 47.38], [100.64, 47.4], [74.12, 86.75]])


def _normalise(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32).reshape(len(x), -1)
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


class DlibEmbedder:
    """dlib's 128-d face embedding on our aligned 150x150 chips."""

    name = "dlib"
    dim = 128

    def __init__(self) -> None:
        self._net = recognition_net()

    def chip(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        """The aligned chip this net embeds, (150, 150, 3) uint8 RGB."""
        ref = DLIB_TEMPLATE if len(landmarks) == 68 else DLIB_TEMPLATE_3
        return align_face(image, landmarks, DLIB_CHIP, reference=ref)

    def embed_chips(self, chips: list[np.ndarray] | np.ndarray) -> np.ndarray:
        """(N, 150, 150, 3) uint8 RGB chips -> (N, 128) unit vectors."""
        if len(chips) == 0:
            return np.zeros((0, self.dim), np.float32)
        chips = [np.ascontiguousarray(c) for c in chips]
        return _normalise(np.array([np.asarray(v) for v in self._net.compute_face_descriptor(chips)]))

    def embed(self, image: np.ndarray, landmarks_list: list[np.ndarray]) -> np.ndarray:
        """Embed every face (given by its landmarks) of one image -> (n, 128)."""
        return self.embed_chips([self.chip(image, lm) for lm in landmarks_list])


class NetEmbedder:
    """Our EmbeddingNet on the ArcFace 112x112 crop resized to the net's input size."""

    name = "ours"

    def __init__(self, path=None) -> None:
        from vidml.backbones.embed import EmbeddingNet
        from vidml.backbones.weights import load_checkpoint, shipped

        payload = load_checkpoint(path or shipped("face_embed"), kind="face_embed")
        cfg = payload["config"]
        net = EmbeddingNet(**{k: cfg[k] for k in ("dim", "trunk", "normalize")})
        net.load_state_dict(payload["state_dict"])
        self._setup(net, cfg)

    @classmethod
    def from_model(cls, net, config: dict) -> "NetEmbedder":
        """Wrap an in-memory EmbeddingNet (used while training)."""
        self = cls.__new__(cls)
        self._setup(net, config)
        return self

    def _setup(self, net, cfg: dict) -> None:
        self._net = net.eval()
        self.input_size = int(cfg.get("input_size", 64))
        self.padding = float(cfg.get("padding", 0.0))
        self.grey = bool(cfg.get("grey", True))
        self.dim = int(cfg["dim"])

    def chip(self, image: np.ndarray, landmarks: np.ndarray) -> np.ndarray:
        return align_face(image, landmarks, self.input_size, self.padding)

    def embed_chips(self, chips) -> np.ndarray:
        """(N, S, S, 3) uint8 RGB ArcFace crops at the net's size -> (N, dim) unit vectors."""
        if len(chips) == 0:
            return np.zeros((0, self.dim), np.float32)
        x = np.stack([np.ascontiguousarray(c) for c in chips])
        if self.grey:
            y = (x.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)).round().clip(0, 255)
            x = np.repeat(y.astype(np.uint8)[..., None], 3, axis=-1)
        return _normalise(self._net.embed(x))

    def embed(self, image: np.ndarray, landmarks_list: list[np.ndarray]) -> np.ndarray:
        return self.embed_chips([self.chip(image, lm) for lm in landmarks_list])


def box_crop(image: np.ndarray, box_xywh: np.ndarray, size: int) -> np.ndarray:
    """No-alignment baseline: the detector box, squared and resized to ``size`` (used in the benchmark)."""
    x, y, w, h = box_xywh
    side = max(w, h)
    cx, cy = x + w / 2, y + h / 2
    m = np.array([[size / side, 0, size / 2 - cx * size / side], [0, size / side, size / 2 - cy * size / side]])
    return cv2.warpAffine(image, m, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def make_embedder(name: str = "dlib"):
    """``"dlib"`` (default: measured better, see the benchmark) or ``"ours"``."""
    if name == "dlib":
        return DlibEmbedder()
    if name == "ours":
        return NetEmbedder()
    raise ValueError(f"unknown face embedder {name!r}; choose dlib or ours")


__all__ = ["DlibEmbedder", "NetEmbedder", "box_crop", "make_embedder", "ARCFACE_SIZE"]

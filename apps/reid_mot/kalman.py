"""Constant-velocity Kalman filter on (cx, cy, a, h) for one track, built on filterpy.

State x = [cx, cy, a, h, vcx, vcy, va, vh] (centre, aspect a = w / h, height, and their velocities);
measurement z = [cx, cy, a, h]. Transition F = [[I, dt I], [0, I]] with dt = 1 frame, H = [I, 0].
Noise follows deep_sort (Wojke et al. 2017): standard deviations proportional to the height h,

    process   Q = diag((sp h)^2, (sp h)^2, 1e-2^2, (sp h)^2, (sv h)^2, (sv h)^2, 1e-5^2, (sv h)^2)
    measure   R = diag((sp h)^2, (sp h)^2, 1e-1^2, (sp h)^2)

with sp = 1/20, sv = 1/160. The squared Mahalanobis distance of a measurement z to the predicted state,

    d^2 = (z - H x)^T (H P H^T + R)^{-1} (z - H x),

is chi-square with 4 degrees of freedom; ``CHI2_95[4] = 9.4877`` gates impossible pairs (matching.py).
"""
from __future__ import annotations

import numpy as np
from filterpy.kalman import KalmanFilter

STD_POS = 1.0 / 20
STD_VEL = 1.0 / 160


def xywh_to_xyah(b: np.ndarray) -> np.ndarray:
    """(…, 4) xywh -> (…, 4) cx, cy, a = w / h, h."""
    b = np.asarray(b, dtype=np.float64)
    return np.stack([b[..., 0] + b[..., 2] / 2, b[..., 1] + b[..., 3] / 2, b[..., 2] / b[..., 3], b[..., 3]], -1)


def xyah_to_xywh(s: np.ndarray) -> np.ndarray:
    """(…, >=4) cx, cy, a, h -> (…, 4) xywh."""
    s = np.asarray(s, dtype=np.float64)
    w = s[..., 2] * s[..., 3]
    return np.stack([s[..., 0] - w / 2, s[..., 1] - s[..., 3] / 2, w, s[..., 3]], -1)


class BoxKalman:
    """filterpy ``KalmanFilter`` (dim_x=8, dim_z=4) with height-scaled noise; boxes in and out as xywh."""

    def __init__(self, box_xywh: np.ndarray) -> None:
        kf = KalmanFilter(dim_x=8, dim_z=4)
        kf.F = np.eye(8)
        kf.F[:4, 4:] = np.eye(4)
        kf.H = np.eye(4, 8)
        z = xywh_to_xyah(box_xywh)
        kf.x = np.r_[z, np.zeros(4)].reshape(8, 1)
        h = z[3]
        std = [2 * STD_POS * h, 2 * STD_POS * h, 1e-2, 2 * STD_POS * h,
               10 * STD_VEL * h, 10 * STD_VEL * h, 1e-5, 10 * STD_VEL * h]
        kf.P = np.diag(np.square(std))
        self.kf = kf

    @property
    def mean(self) -> np.ndarray:
        return self.kf.x[:, 0]

    def box(self) -> np.ndarray:
        """Current state as xywh."""
        return xyah_to_xywh(self.mean[:4])

    def predict(self) -> None:
        h = max(self.mean[3], 1.0)
        self.kf.Q = np.diag(np.square([STD_POS * h, STD_POS * h, 1e-2, STD_POS * h,
                                       STD_VEL * h, STD_VEL * h, 1e-5, STD_VEL * h]))
        self.kf.predict()
        if self.kf.x[3, 0] <= 1.0:  # a height collapsing to zero: stop shrinking
            self.kf.x[7, 0] = 0.0
            self.kf.x[3, 0] = max(self.kf.x[3, 0], 1.0)

    def _measurement_noise(self) -> np.ndarray:
        h = max(self.mean[3], 1.0)
        return np.diag(np.square([STD_POS * h, STD_POS * h, 1e-1, STD_POS * h]))

    def update(self, box_xywh: np.ndarray) -> None:
        self.kf.update(xywh_to_xyah(box_xywh).reshape(4, 1), R=self._measurement_noise())

    def gating_distance(self, boxes_xywh: np.ndarray) -> np.ndarray:
        """Squared Mahalanobis distances (M,) of measurements ``boxes_xywh`` (M, 4) to the predicted state."""
        kf = self.kf
        S = kf.H @ kf.P @ kf.H.T + self._measurement_noise()
        d = xywh_to_xyah(boxes_xywh) - (kf.H @ kf.x)[:, 0]
        L = np.linalg.cholesky(S)
        y = np.linalg.solve(L, d.T)
        return np.sum(y * y, axis=0)

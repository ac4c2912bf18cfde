"""Similarity alignment of a face to the ArcFace 112x112 template (Umeyama least squares).

Five reference points, in the order used throughout (image coordinates, x right, y down; "left" means
image-left, i.e. the subject's right eye):

    0 left eye centre   (38.2946, 51.6963)      3 left mouth corner  (41.5493, 92.3655)
    1 right eye centre  (73.5318, 51.5014)      4 right mouth corner (70.7299, 92.2041)
    2 nose tip          (56.0252, 71.7366)

How dlib's landmarks map onto them (see :func:`five_points`):

* 68-point predictor (iBUG 300-W numbering, 0-based): eye centre = mean of the six eye points
  (36-41 image-left eye, 42-47 image-right eye); nose tip = 30; mouth corners = 48 and 54.
  All five template points are matched: this is the default.
* 5-point predictor: points 2,3 are the image-left eye's corners, 0,1 the image-right eye's, 4 the
  bottom of the nose (iBUG 33, *not* the tip). Eye centre = mean of the two corners; the nose-bottom is
  matched to :data:`NOSE_BOTTOM`, the template position of iBUG point 33 (measured: mean of point 33
  after aligning the 25 faces of dlib's landmark test set on their 5 true points, see
  benchmarks/bench_faces.py); no mouth corners, so the fit uses 3 points.

The similarity transform ``dst ~ s R src + t`` minimising ``sum_i ||dst_i - (s R src_i + t)||^2`` is
Umeyama's closed form (IEEE PAMI 1991): with centred point sets ``X = src - mu_s``, ``Y = dst - mu_d``,
``Sigma = Y^T X / n = U D V^T`` (SVD), ``S = diag(1, det(U) det(V))`` (to exclude reflections),
``R = U S V^T``, ``s = trace(D S) / var(src)`` with ``var(src) = ||X||^2 / n``, ``t = mu_d - s R mu_s``.
"""
from __future__ import annotations

import cv2
import numpy as np

ARCFACE_TEMPLATE = np.array([[38.2946, 51.6963], [73.5318, 51.5014], [56.0252, 71.7366],
                             [41.5493, 92.3655], [70.7299, 92.2041]], dtype=np.float64)
ARCFACE_SIZE = 112
# Template position (112x112 frame) of the bottom of the nose (iBUG 33), for the 5-point predictor.
NOSE_BOTTOM = np.array([55.54, 79.50], dtype=np.float64)


def umeyama(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares similarity transform (rotation, uniform scale, translation) taking ``src`` to ``dst``.

    ``src``, ``dst``: (n, 2) corresponding points, n >= 2. Returns the 2x3 matrix ``M = [s R | t]``
    so that ``dst ~ src @ M[:, :2].T + M[:, 2]`` (the form ``cv2.warpAffine`` takes).
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    if src.shape != dst.shape or src.ndim != 2 or src.shape[1] != 2 or len(src) < 2:
        raise ValueError(f"umeyama needs two (n>=2, 2) point sets of the same shape, got {src.shape} and {dst.shape}")
    mu_s, mu_d = src.mean(0), dst.mean(0)
    x, y = src - mu_s, dst - mu_d
    var_s = (x ** 2).sum() / len(src)
    if var_s <= 1e-12:
        raise ValueError("umeyama: source points are all the same point")
    u, d, vt = np.linalg.svd(y.T @ x / len(src))
    sign = np.diag([1.0, np.sign(np.linalg.det(u) * np.linalg.det(vt)) or 1.0])
    rot = u @ sign @ vt
    scale = float(np.trace(np.diag(d) @ sign) / var_s)
    t = mu_d - scale * rot @ mu_s
    return np.hstack([scale * rot, t[:, None]])


def apply_transform(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Map (n, 2) points through a 2x3 affine matrix."""
    points = np.asarray(points, dtype=np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def five_points(landmarks: np.ndarray) -> np.ndarray:
    """dlib landmarks (68, 2) or (5, 2) -> the points matched to the template, as in the module doc.

    68 points -> (5, 2) [left eye, right eye, nose tip, left mouth, right mouth];
    5 points  -> (3, 2) [left eye, right eye, nose bottom].
    """
    p = np.asarray(landmarks, dtype=np.float64)
    if len(p) == 68:
        return np.stack([p[36:42].mean(0), p[42:48].mean(0), p[30], p[48], p[54]])
    if len(p) == 5:
        return np.stack([p[2:4].mean(0), p[0:2].mean(0), p[4]])
    raise ValueError(f"expected 68 or 5 dlib landmarks, got {len(p)}")


def template(n_points: int, size: int = ARCFACE_SIZE, padding: float = 0.0) -> np.ndarray:
    """Reference points for an output of ``size`` pixels with ``padding`` (fraction of the 112 frame
    added on each side): ``T' = (T + padding*112) * size / (112 * (1 + 2*padding))``.

    ``n_points`` = 5 (68-point landmarks) or 3 (5-point landmarks: eyes + nose bottom).
    """
    ref = ARCFACE_TEMPLATE if n_points == 5 else np.vstack([ARCFACE_TEMPLATE[:2], NOSE_BOTTOM])
    return (ref + padding * ARCFACE_SIZE) * size / (ARCFACE_SIZE * (1 + 2 * padding))


def alignment_matrix(landmarks: np.ndarray, size: int = ARCFACE_SIZE, padding: float = 0.0,
                     reference: np.ndarray | None = None) -> np.ndarray:
    """2x3 similarity taking image coordinates to the aligned crop (Umeyama on :func:`five_points`).

    ``reference``: template points in output pixels, (5, 2) for 68-point and (3, 2) for 5-point landmarks
    (default: the ArcFace template via :func:`template`)."""
    pts = five_points(landmarks)
    ref = template(len(pts), size, padding) if reference is None else np.asarray(reference, np.float64)[:len(pts)]
    return umeyama(pts, ref)


def align_face(image: np.ndarray, landmarks: np.ndarray, size: int = ARCFACE_SIZE, padding: float = 0.0,
               reference: np.ndarray | None = None) -> np.ndarray:
    """Warp ``image`` (H, W, 3) uint8 so the face's landmarks land on the template -> (size, size, 3)."""
    matrix = alignment_matrix(landmarks, size, padding, reference)
    return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)

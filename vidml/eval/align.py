"""Landmark accuracy: normalised mean error (NME), normalised by the inter-ocular distance.

For one face with predicted points ``p_i`` and ground truth ``g_i`` (i = 1..n),

    NME = (1/n) sum_i ||p_i - g_i||_2 / d_io,    d_io = ||g_outer_left_eye - g_outer_right_eye||_2

(the 300-W convention: outer eye corners, iBUG points 36 and 45 0-based). The dataset NME is the mean
over faces. :func:`read_dlib_xml` reads dlib's imglab XML (``<image file><box ...><part name x y/>``).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from vidml.errors import BadInput


def nme(pred: np.ndarray, gt: np.ndarray, interocular: float) -> float:
    """NME of one face: mean point error over ``interocular`` (pixels)."""
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if pred.shape != gt.shape:
        raise ValueError(f"prediction {pred.shape} and ground truth {gt.shape} differ in shape")
    if interocular <= 0:
        raise ValueError("inter-ocular distance must be > 0")
    return float(np.linalg.norm(pred - gt, axis=-1).mean() / interocular)


def interocular_68(gt68: np.ndarray) -> float:
    """Outer-eye-corner distance of 68-point iBUG landmarks (points 36 and 45)."""
    gt68 = np.asarray(gt68, np.float64)
    return float(np.linalg.norm(gt68[36] - gt68[45]))


def read_dlib_xml(path: str | Path) -> list[dict]:
    """Faces of a dlib landmark XML -> [{"image": Path, "box": (4,) xywh, "points": (n, 2)}]."""
    path = Path(path)
    try:
        root = ET.parse(path).getroot()
    except (OSError, ET.ParseError) as err:
        raise BadInput(f"{path}: cannot read as dlib landmark XML ({err}); check the file") from None
    faces = []
    for im in root.iter("image"):
        for box in im.iter("box"):
            parts = sorted(box.iter("part"), key=lambda p: int(p.get("name")))
            faces.append({"image": path.parent / im.get("file"),
                          "box": np.array([float(box.get(k)) for k in ("left", "top", "width", "height")]),
                          "points": np.array([[float(p.get("x")), float(p.get("y"))] for p in parts])})
    return faces

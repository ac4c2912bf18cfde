"""Where dlib's face models live: the ``.dat`` files shipped by the PyPI package ``face-recognition-models``.

That package's own ``import`` needs ``pkg_resources`` (often absent), so we never import it: we ask
importlib where it is installed and read ``models/*.dat`` by path. Files:

* ``shape_predictor_68_face_landmarks.dat``  -- 68-point iBUG 300-W landmarks (ERT regression trees)
* ``shape_predictor_5_face_landmarks.dat``   -- 5 points: 2 corners of each eye + the bottom of the nose
* ``dlib_face_recognition_resnet_model_v1.dat`` -- dlib's 128-d metric-learned ResNet face embedding

A missing package or file raises :class:`vidml.errors.MissingModel` with the one-line fix.
"""
from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

from vidml.errors import MissingModel

PACKAGE = "face_recognition_models"
PREDICTOR_68 = "shape_predictor_68_face_landmarks.dat"
PREDICTOR_5 = "shape_predictor_5_face_landmarks.dat"
RECOGNITION = "dlib_face_recognition_resnet_model_v1.dat"


def model_path(filename: str) -> Path:
    """Absolute path of one of dlib's model files, or :class:`MissingModel` saying how to install it."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise MissingModel(f"dlib face model {filename} not found: install it with `pip install face-recognition-models`")
    for folder in spec.submodule_search_locations:
        path = Path(folder) / "models" / filename
        if path.is_file():
            return path
    raise MissingModel(f"dlib face model {filename} is missing from {PACKAGE}; reinstall it with "
                       "`pip install --force-reinstall face-recognition-models`")


@functools.lru_cache(maxsize=None)
def shape_predictor(points: int = 68):
    """A cached ``dlib.shape_predictor`` with 68 or 5 points."""
    import dlib

    if points not in (5, 68):
        raise ValueError(f"dlib ships 5- and 68-point predictors, not {points}")
    return dlib.shape_predictor(str(model_path(PREDICTOR_68 if points == 68 else PREDICTOR_5)))


@functools.lru_cache(maxsize=None)
def frontal_detector():
    """dlib's HOG + linear SVM frontal face detector (built into dlib, no file needed)."""
    import dlib

    return dlib.get_frontal_face_detector()


@functools.lru_cache(maxsize=None)
def recognition_net():
    """dlib's 128-d face embedding ResNet (``face_recognition_model_v1``)."""
    import dlib

    return dlib.face_recognition_model_v1(str(model_path(RECOGNITION)))

"""Identity-per-folder person crops with camera tags (VIPeR's layout) and their fixed identity split.

Layout: ``ROOT/<identity>/<file>`` (identities in natural order, :func:`vidml.datasets.list_identities`);
a file named ``cam_a_*`` was seen by camera A, ``cam_b_*`` by camera B, anything else has no camera.
Crops are read as RGB and resized to ``(h, w)`` (bilinear).

:func:`split_identities` is the protocol of the ReID figures: the identities (natural order) are shuffled
by a fixed permutation (``numpy.random.default_rng(SPLIT_SEED).permutation``, as VIPeR's protocol draws
random halves); the first ``1 - val - test`` of it train, the next ``val`` validate (model choices are made
there), the last ``test`` are held out (reported, never trained or tuned on): 176 / 40 / 100 of
VIPeR-train's 316. ``dev`` = train + val (216): a final model may be refitted there once its recipe was
chosen on val; it is then reported on test only. Not the natural order: VIPeR numbers its people by viewpoint pair, so its last 100
folders are mostly front-vs-back (0/180 degree) pairs and its first ones side views -- a split by
number puts a different task in each part.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from vidml.datasets import list_identities
from vidml.errors import BadInput

SPLITS = ("train", "val", "test", "dev", "all")
VAL_FRACTION, TEST_FRACTION = 0.127, 0.317   # 40 and 100 of VIPeR-train's 316 identities
SPLIT_SEED = 0


@dataclass
class CameraCrops:
    """crops (N, h, w, 3) uint8 RGB, labels (N,) int (identity index in natural order), cams (N,) str
    ('a', 'b' or ''), names[label] the identity folder names."""

    crops: np.ndarray
    labels: np.ndarray
    cams: np.ndarray
    names: list[str]

    def __len__(self) -> int:
        return len(self.labels)


def camera_of(name: str) -> str:
    """``cam_a_001_45.bmp`` -> ``'a'``, ``cam_b_...`` -> ``'b'``, anything else -> ``''``."""
    low = name.lower()
    return "a" if low.startswith("cam_a_") else "b" if low.startswith("cam_b_") else ""


def split_identities(n: int, split: str) -> np.ndarray:
    """Indices (into the natural order, sorted) of the identities of ``split`` among ``n`` (module docstring)."""
    if split not in SPLITS:
        raise BadInput(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    n_test, n_val = int(round(n * TEST_FRACTION)), int(round(n * VAL_FRACTION))
    n_train = n - n_test - n_val
    bounds = {"train": (0, n_train), "val": (n_train, n_train + n_val), "test": (n_train + n_val, n),
              "dev": (0, n_train + n_val), "all": (0, n)}
    a, b = bounds[split]
    return np.sort(np.random.default_rng(SPLIT_SEED).permutation(n)[a:b])


def load_camera_crops(root: str | Path, size_hw: tuple[int, int], split: str = "all") -> CameraCrops:
    """Every crop of the identities of ``split`` under ``root``, resized to ``size_hw``."""
    identities = list_identities(root)
    keep = split_identities(len(identities), split)
    crops, labels, cams, names = [], [], [], []
    for label, i in enumerate(keep):
        name, files = identities[i]
        names.append(name)
        for f in files:
            bgr = cv2.imread(str(f), cv2.IMREAD_COLOR)
            if bgr is None:
                raise BadInput(f"{f}: not a readable image; remove or replace it")
            crops.append(cv2.resize(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), (size_hw[1], size_hw[0]),
                                    interpolation=cv2.INTER_LINEAR))
            labels.append(label)
            cams.append(camera_of(f.name))
    if not crops:
        raise BadInput(f"{root}: no identities in split {split!r}")
    return CameraCrops(np.stack(crops), np.array(labels, np.int64), np.array(cams), names)

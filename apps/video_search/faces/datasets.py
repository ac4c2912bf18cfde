"""Identity-labelled face photo sets under ../shared/data/faces, read as RGB uint8 arrays.

* ``att_orl``: ``sN/K.pgm`` -- 40 people x 10 grey 92x112 photos; identity ``att_sN``.
* ``yale``: ``subjectNN.condition`` (GIF without suffix) -- 15 people x 11 conditions; identity ``yale_NN``.
* ``knn``: face_recognition_examples ``knn_examples/train/<name>/*.jpg`` -- 5 people; identity ``<name>``.

The split used for training and evaluation keeps identities disjoint: :data:`YALE_TRAIN` subjects go to
training (with all of att_orl), the other Yale subjects and the knn people are held out for verification.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from vidml.errors import BadInput

YALE_TRAIN = {f"{i:02d}" for i in range(1, 9)}  # subjects 01-08 train, 09-15 held out


def read_rgb(path: str | Path) -> np.ndarray:
    """Any image Pillow reads (jpg, png, pgm, gif...) -> (H, W, 3) uint8 RGB; BadInput if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such image file; check the path")
    try:
        with Image.open(path) as im:
            return np.asarray(im.convert("RGB"))
    except Exception:
        raise BadInput(f"{path}: cannot read as an image (jpg, png, ...); is the file damaged?") from None


def att_orl(root: Path) -> list[tuple[Path, str]]:
    """(path, identity) of every AT&T/ORL photo."""
    return [(p, f"att_{p.parent.name}") for p in sorted(Path(root).glob("s*/*.pgm"))]


def yale(root: Path, subjects: set[str] | None = None) -> list[tuple[Path, str]]:
    """(path, identity) of Yale photos, optionally only ``subjects`` ('01'..'15')."""
    out = []
    for p in sorted(Path(root).glob("subject*.*")):
        sid = p.name.split(".")[0].replace("subject", "")
        if subjects is None or sid in subjects:
            out.append((p, f"yale_{sid}"))
    return out


def knn_examples(root: Path) -> list[tuple[Path, str]]:
    """(path, identity) of the face_recognition knn_examples training photos (one face each)."""
    return [(p, p.parent.name) for p in sorted(Path(root).glob("knn_examples/train/*/*"))
            if p.suffix.lower() in {".jpg", ".jpeg", ".png"}]


def train_items(faces_root: Path) -> list[tuple[Path, str]]:
    """Training identities: all of att_orl + Yale subjects in :data:`YALE_TRAIN`."""
    return att_orl(faces_root / "att_orl") + yale(faces_root / "yale", YALE_TRAIN)


def test_items(faces_root: Path) -> list[tuple[Path, str]]:
    """Held-out identities: the other Yale subjects + the knn_examples people."""
    held = {f"{i:02d}" for i in range(1, 16)} - YALE_TRAIN
    return yale(faces_root / "yale", held) + knn_examples(faces_root / "face_recognition_examples")


def same_different_pairs(labels: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """All unordered pairs (i < j) of a labelled set -> ((P, 2) indices, (P,) bool same identity)."""
    i, j = np.triu_indices(len(labels), k=1)
    lab = np.asarray(labels)
    return np.stack([i, j], 1), lab[i] == lab[j]


def detect_items(items: list[tuple[Path, str]], detector) -> tuple[list[np.ndarray], list, list[str], list[Path]]:
    """Read each photo and keep its largest detected face -> (images, faces, labels, photos without a face)."""
    images, faces, labels, missed = [], [], [], []
    for path, label in items:
        image = read_rgb(path)
        found = detector(image)
        if not found:
            missed.append(path)
            continue
        images.append(image)
        faces.append(max(found, key=lambda f: f.box[2] * f.box[3]))
        labels.append(label)
    return images, faces, labels, missed

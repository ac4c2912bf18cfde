"""Identity-labelled image sets for training and evaluating embeddings on disjoint identities.

Two layouts are read (any format Pillow opens: PGM, GIF, PNG, JPEG, ...; files without an extension too):

* **one sub-folder per identity**  ``ROOT/<identity>/*`` (e.g. AT&T/ORL ``s1/1.pgm``); loose files in
  ROOT (a README) are ignored.
* **flat folder**, the identity a filename prefix: the image extension (if any) is dropped and the name is
  cut at its last ``.``, ``_`` or ``-``: ``subject01.glasses`` -> ``subject01`` (Yale),
  ``alice_003.jpg`` -> ``alice``.

Images are converted to RGB (grey -> 3 equal channels) and resized to ``size x size`` (bilinear), giving
uint8 arrays (N, size, size, 3). Identities are ordered by natural sort of their names (``s2`` before
``s10``) and labelled 0..C-1 in that order. Several roots can be merged; their identities stay distinct
(named ``rootname/identity``).

:func:`split_by_identity` is the deterministic protocol of the benchmarks: the first ``ceil(C/2)``
identities (in that order) train, the rest test -- no identity is in both halves.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from vidml.errors import BadInput

_NOT_IMAGES = {".txt", ".md", ".csv", ".json", ".xml", ".db", ".ini", ".py", ".zip", ".tar", ".gz"}
_IMAGE_EXT = {".pgm", ".ppm", ".pbm", ".gif", ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"}


@dataclass
class IdentitySet:
    """Images (N, H, W, 3) uint8 RGB, labels (N,) int64 in 0..C-1, ``names[label]`` and source paths."""

    images: np.ndarray
    labels: np.ndarray
    names: list[str]
    paths: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.labels)

    @property
    def num_classes(self) -> int:
        return len(np.unique(self.labels))

    def subset(self, mask: np.ndarray) -> "IdentitySet":
        """The samples where ``mask`` is true, labels renumbered 0..C'-1 keeping their order."""
        kept = np.unique(self.labels[mask])
        remap = {old: new for new, old in enumerate(kept)}
        return IdentitySet(self.images[mask], np.array([remap[v] for v in self.labels[mask]], np.int64),
                           [self.names[v] for v in kept], [p for p, m in zip(self.paths, mask) if m])


def natural_key(text: str) -> list:
    """Sort key that orders digit runs by value: ``s2 < s10``."""
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", text)]


def identity_from_filename(name: str) -> str:
    """Identity of a file in a flat folder: drop an image extension, cut at the last ``.``/``_``/``-``."""
    stem = name
    suffix = Path(name).suffix.lower()
    if suffix in _IMAGE_EXT:
        stem = name[: -len(suffix)]
    cut = max(stem.rfind("."), stem.rfind("_"), stem.rfind("-"))
    return stem[:cut] if cut > 0 else stem


def _candidate(path: Path) -> bool:
    return path.is_file() and not path.name.startswith(".") and path.suffix.lower() not in _NOT_IMAGES \
        and not path.name.lower().startswith("readme")


def _read(path: Path, size: int) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as im:
            im.seek(0)
            rgb = im.convert("RGB").resize((size, size), Image.BILINEAR)
            return np.asarray(rgb, dtype=np.uint8)
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise BadInput(f"{path}: not a readable image ({err.__class__.__name__}); remove or replace it") from None


def list_identities(root: str | Path) -> list[tuple[str, list[Path]]]:
    """[(identity, [image paths])] of one root in natural order (layout: see the module docstring)."""
    root = Path(root)
    if not root.is_dir():
        raise BadInput(f"{root}: not a folder; pass a folder with one sub-folder per identity "
                       "(or images named IDENTITY.xxx)")
    subdirs = sorted((d for d in root.iterdir() if d.is_dir() and not d.name.startswith(".")),
                     key=lambda d: natural_key(d.name))
    groups: dict[str, list[Path]] = {}
    if subdirs:
        for d in subdirs:
            files = sorted((f for f in d.iterdir() if _candidate(f)), key=lambda f: natural_key(f.name))
            if files:
                groups[d.name] = files
    else:
        for f in sorted((f for f in root.iterdir() if _candidate(f)), key=lambda f: natural_key(f.name)):
            groups.setdefault(identity_from_filename(f.name), []).append(f)
    if not groups:
        raise BadInput(f"{root}: no images found; expected ROOT/IDENTITY/*.jpg|png|pgm... or ROOT/IDENTITY.xxx files")
    return sorted(groups.items(), key=lambda kv: natural_key(kv[0]))


def load_identity_images(roots: str | Path | Sequence[str | Path], size: int = 64) -> IdentitySet:
    """Read every image of one or more roots into an :class:`IdentitySet` (see the module docstring)."""
    roots = [roots] if isinstance(roots, (str, Path)) else list(roots)
    if not roots:
        raise BadInput("no data folder given")
    if size < 8:
        raise BadInput(f"--size {size} is too small; use 32 or more")
    images, labels, names, paths = [], [], [], []
    for root in roots:
        prefix = f"{Path(root).name}/" if len(roots) > 1 else ""
        for identity, files in list_identities(root):
            label = len(names)
            names.append(prefix + identity)
            for f in files:
                images.append(_read(f, size))
                labels.append(label)
                paths.append(str(f))
    return IdentitySet(np.stack(images), np.asarray(labels, np.int64), names, paths)


def split_by_identity(data: IdentitySet) -> tuple[IdentitySet, IdentitySet]:
    """(train, test): the first ``ceil(C/2)`` identities in label order train, the others test."""
    if data.num_classes < 2:
        raise BadInput(f"only {data.num_classes} identity found; need two or more to split train/test by identity")
    n_train = math.ceil(data.num_classes / 2)
    is_train = data.labels < n_train
    return data.subset(is_train), data.subset(~is_train)


def augment(images: "np.ndarray", rng: np.random.Generator, max_shift: float = 0.1) -> np.ndarray:
    """Light training augmentation on uint8 (N, H, W, 3): random horizontal flip and a random shift of up
    to ``max_shift`` of the side (edge pixels replicated). Returns a new array."""
    n, h, w, _ = images.shape
    out = np.empty_like(images)
    pad = max(1, int(round(max_shift * h)))
    padded = np.pad(images, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    dy = rng.integers(0, 2 * pad + 1, n)
    dx = rng.integers(0, 2 * pad + 1, n)
    flip = rng.random(n) < 0.5
    for i in range(n):
        crop = padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w]
        out[i] = crop[:, ::-1] if flip[i] else crop
    return out

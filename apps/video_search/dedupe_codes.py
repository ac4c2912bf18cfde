"""The query side of the dedupe self-join: each library video's region codes, cached beside the index.

The index holds one whole-frame code per sampled frame. A video shown inside other content (a
picture-in-picture, one half of a side-by-side composite) or a crop of another is then far from its source
in whole-frame codes. So each library video is hashed once more on the rectangles of a region set
(:mod:`apps.video_search.regions`, :data:`REGION_SETS`) and those codes query the index's whole-frame
codes. Every video is a query, so both directions of a pair are covered: the composite's inner rectangle
finds its source, and the source's centre window finds a crop of it.

Region sets (fractions x, y, w, h of the frame; R rectangles: the query costs R times the hashing and
Hamming search of whole frames):

    whole    the index's own codes, nothing decoded again                                   (R = 1)
    halves   + left and right halves, squeezed (0, 0, .5, 1) and aspect kept (0, .25, .5, .5):
             the two ways a side-by-side of two videos is laid out                          (R = 5)
    all      halves + the centre 60 % and the four 60 % corner windows of regions.REGIONS
             (crops, a picture-in-picture near a corner)                                    (R = 10)
    +inset   (after halves or all) one more: the video's own inset, the rectangle where its frames
             change (apps.video_search.inset, snapped to its border: a picture-in-picture at any
             place and size), or its whole frame again when it has none; a second decoding of
             the videos that have one                                                       (R + 1)

Cache: ``<index>/regions/<key>.npz`` with ``codes`` (Q, R, bits/8) uint8 and ``times`` (Q,) float32,
``key`` = sha1 of (resolved path, size, mtime, hasher sha256, fps, rectangles), so an edited video, another
model, rate or region set is hashed afresh. Written atomically, read with ``allow_pickle=False``; an
unreadable entry is recomputed. A library video that can no longer be decoded is queried with its index
codes (whole frame only). :meth:`RegionCodes.prefetch` hashes the missing entries on Dask worker processes
first (``video-dedupe --workers N``, as the indexing does; each worker loads the model from its weights).
"""
from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vidml.errors import VideoError
from vidml.index import Index
from vidml.outputs import atomic_write_bytes

from apps.video_search.inset import TemporalSpread
from apps.video_search.regions import REGIONS, WHOLE, RegionHasher
from apps.video_search.stream import hash_video

SIDE_BY_SIDE = ((0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 0.5, 1.0), (0.0, 0.25, 0.5, 0.5), (0.5, 0.25, 0.5, 0.5))
REGION_SETS = {"whole": WHOLE, "halves": WHOLE + SIDE_BY_SIDE, "all": WHOLE + SIDE_BY_SIDE + REGIONS[3:]}
REGION_CHOICES = tuple(REGION_SETS) + ("halves+inset", "all+inset")   # what --regions takes (module doc)


class RegionCodes:
    """``codes_of(v) -> (codes (Q, R, bits/8), times (Q,))`` for the video at position ``v`` of ``index``;
    ``rows(v)``: its index rows (``starts``: the first row of every video, computed once here)."""

    def __init__(self, index: Index, hasher=None, regions: str = "all", cache: bool = True) -> None:
        if regions not in REGION_CHOICES:
            raise ValueError(f"unknown region set {regions!r}; choose {', '.join(REGION_CHOICES)}")
        base, _, extra = regions.partition("+")
        self.index, self.rects, self.inset = index, REGION_SETS[base], extra == "inset"
        self.hasher = RegionHasher(hasher, self.rects) if hasher is not None and len(self.rects) > 1 else None
        self.fps = float(index.manifest.get("fps") or 2.0)
        self.sha = str((index.manifest.get("hasher") or {}).get("sha256"))
        self.folder = Path(index.path) / "regions" if cache else None
        self.starts = np.searchsorted(index.video_of, np.arange(len(index.videos) + 1))
        self.decoded = 0

    def rows(self, v: int) -> slice:
        """The index rows of video ``v`` (a video's rows are contiguous)."""
        return slice(int(self.starts[v]), int(self.starts[v + 1]))

    def whole(self, v: int) -> tuple[np.ndarray, np.ndarray]:
        """The index's own codes of video ``v`` as (Q, 1, bits/8) and its times."""
        own = self.rows(v)
        return self.index.codes[own][:, None], self.index.times[own].astype(np.float64)

    def cache_path(self, v: int) -> Path | None:
        """Where video ``v``'s region codes are cached (module doc; None without a cache)."""
        entry = self.index.videos[v]
        rects = list(self.rects) + (["inset"] if self.inset else [])
        key = hashlib.sha1(json.dumps([entry["path"], entry.get("size"), entry.get("mtime"), self.sha, self.fps,
                                       rects]).encode()).hexdigest()
        return self.folder / f"{key}.npz" if self.folder is not None else None

    def codes_of(self, v: int) -> tuple[np.ndarray, np.ndarray]:
        if self.hasher is None:
            return self.whole(v)
        path = self.cache_path(v)
        found = _load(path)
        if found is None:
            found = hash_regions(RegionTask(self.index.videos[v]["path"], path, self.rects, self.fps,
                                            inset=self.inset), self.hasher)
            self.decoded += found is not None
        return self.whole(v) if found is None else found

    def prefetch(self, videos: list[int], workers: int, weights, quiet: bool = True) -> int:
        """Hash the region codes of the ``videos`` not cached yet on ``workers`` Dask processes (each loads
        the hashing model from ``weights``, as the indexing workers do) into the cache; returns how many.
        (An entry that is there but spoilt is hashed again by :meth:`codes_of`, in this process.)"""
        if self.hasher is None or self.folder is None or workers <= 1:
            return 0
        from vidml.parallel import map_tasks

        tasks = [RegionTask(self.index.videos[v]["path"], self.cache_path(v), self.rects, self.fps,
                            None if weights is None else str(weights), self.inset)
                 for v in videos if not self.cache_path(v).exists()]
        if tasks:
            self.folder.mkdir(parents=True, exist_ok=True)
            map_tasks(hash_regions, tasks, workers=workers, desc="region codes", quiet=quiet)
        return len(tasks)


@dataclass
class RegionTask:
    """One video to hash on ``rects`` at ``fps`` samples/s, cached at ``cache`` (None: not cached); ``weights``:
    the hashing model a worker process loads."""

    path: str
    cache: Path | None
    rects: tuple
    fps: float
    weights: str | None = None
    inset: bool = False       # one more rectangle: the video's inset (apps.video_search.inset), else its whole frame


def _load(path: Path | None) -> tuple[np.ndarray, np.ndarray] | None:
    """A cache entry's ``(codes, times)``, or None when there is none or it cannot be read."""
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return z["codes"], z["times"].astype(np.float64)
    except (OSError, ValueError, KeyError):
        return None                                          # unreadable: hashed again


def hash_regions(task: RegionTask, hasher: RegionHasher | None = None) -> tuple[np.ndarray, np.ndarray] | None:
    """Decode ``task.path`` once and hash every sampled frame on the rectangles: ``(codes (Q, R, bits/8),
    times (Q,))``, also written to ``task.cache``; None when the video cannot be decoded or has no frames.
    ``hasher``: in-process; None in a worker (the model of ``task.weights``, loaded once per process)."""
    if hasher is None:
        from apps.video_search.library import _worker_hasher

        hasher = RegionHasher(_worker_hasher(task.weights), task.rects)
    spread = TemporalSpread() if task.inset else None
    try:
        hv = hash_video(task.path, hasher, fps=task.fps, on_batch=spread.add if spread else None)
        if len(hv.times) == 0:
            return None
        codes = hv.codes.reshape(len(hv.times), len(task.rects), -1)
        if spread is not None:
            codes = np.concatenate([codes, _inset_codes(task, hasher, spread, codes[:, :1])], axis=1)
    except (VideoError, OSError):
        return None
    if task.cache is not None:
        buf = io.BytesIO()
        np.savez(buf, codes=codes, times=hv.times)
        task.cache.parent.mkdir(exist_ok=True)
        atomic_write_bytes(task.cache, buf.getvalue(), "region code cache")
    return codes, hv.times.astype(np.float64)


def _inset_codes(task: RegionTask, hasher: RegionHasher, spread: TemporalSpread, whole: np.ndarray) -> np.ndarray:
    """(Q, 1, bits/8): each sampled frame's code on the video's inset (a second decoding), or ``whole`` (its
    whole-frame codes) when its frames change everywhere alike (no inset)."""
    rect = spread.inset()
    if not rect:
        return whole
    hv = hash_video(task.path, RegionHasher(hasher.hasher, rect), fps=task.fps)
    if len(hv.times) != len(whole):
        return whole
    return hv.codes.reshape(len(hv.times), 1, -1)

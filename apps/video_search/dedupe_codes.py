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

Layouts (``layout=True``, an index and a hasher with layout codes, :mod:`vidml.backbones.layout`): each
rectangle's layout codes as shown and mirrored are kept too, ``layouts_of(v)`` (Q, 2 R, layout_bits/8)
(rectangle-major, as ``clip_search.hash_query`` gives a query's), from the same trunk passes (the mirrored view
costs the trunk's first blocks again); for the dedupe's temporal contrast (:func:`apps.video_search.reporting.
strongest_contrast`), where a composite's copy has the layout of its rectangle, not the whole frame's.

Cache: ``<index>/regions/<key>.npz`` with ``codes`` (Q, R, bits/8) uint8 and ``times`` (Q,) float32
(and ``layouts`` (Q, 2 R, layout_bits/8) uint8 with layouts), ``key`` = sha1 of (resolved path, size, mtime,
hasher sha256, fps, rectangles, and "layout" with layouts), so an edited video, another model, rate or region
set is hashed afresh. Written atomically, read with ``allow_pickle=False``; an
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
    ``layouts_of(v)``: its layout views (module doc; None without layouts); ``rows(v)``: its index rows
    (``starts``: the first row of every video, computed once here)."""

    def __init__(self, index: Index, hasher=None, regions: str = "all", cache: bool = True,
                 layout: bool = False) -> None:
        if regions not in REGION_CHOICES:
            raise ValueError(f"unknown region set {regions!r}; choose {', '.join(REGION_CHOICES)}")
        base, _, extra = regions.partition("+")
        self.index, self.rects, self.inset = index, REGION_SETS[base], extra == "inset"
        self.hasher = RegionHasher(hasher, self.rects) if hasher is not None and len(self.rects) > 1 else None
        self.layout = bool(layout and index.layout is not None and (
            self.hasher is None or getattr(hasher, "layout", None) is not None))
        self.fps = float(index.manifest.get("fps") or 2.0)
        self.sha = str((index.manifest.get("hasher") or {}).get("sha256"))
        self.folder = Path(index.path) / "regions" if cache else None
        self.starts = np.searchsorted(index.video_of, np.arange(len(index.videos) + 1))
        self.decoded = 0
        self._last: tuple[int, tuple] | None = None     # the last video's entry: codes_of then layouts_of

    def rows(self, v: int) -> slice:
        """The index rows of video ``v`` (a video's rows are contiguous)."""
        return slice(int(self.starts[v]), int(self.starts[v + 1]))

    def whole(self, v: int) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """The index's own codes of video ``v`` as (Q, 1, bits/8), its times, and its layouts as shown (Q, 1,
        layout_bits/8; None without layouts)."""
        own = self.rows(v)
        lay = self.index.layout[own][:, None] if self.layout else None
        return self.index.codes[own][:, None], self.index.times[own].astype(np.float64), lay

    def cache_path(self, v: int) -> Path | None:
        """Where video ``v``'s region codes are cached (module doc; None without a cache)."""
        entry = self.index.videos[v]
        rects = list(self.rects) + (["inset"] if self.inset else []) + (["layout"] if self.layout else [])
        key = hashlib.sha1(json.dumps([entry["path"], entry.get("size"), entry.get("mtime"), self.sha, self.fps,
                                       rects]).encode()).hexdigest()
        return self.folder / f"{key}.npz" if self.folder is not None else None

    def codes_of(self, v: int) -> tuple[np.ndarray, np.ndarray]:
        return self._entry(v)[:2]

    def layouts_of(self, v: int) -> np.ndarray | None:
        return self._entry(v)[2]

    def _entry(self, v: int) -> tuple:
        if self._last is None or self._last[0] != v:
            self._last = (v, self._hashed(v))
        return self._last[1]

    def _hashed(self, v: int) -> tuple:
        if self.hasher is None:
            return self.whole(v)
        path = self.cache_path(v)
        found = _load(path, self.layout)
        if found is None:
            found = hash_regions(self._task(v, None), self.hasher)
            self.decoded += found is not None
        return self.whole(v) if found is None else found

    def _task(self, v: int, weights) -> "RegionTask":
        return RegionTask(self.index.videos[v]["path"], self.cache_path(v), self.rects, self.fps,
                          None if weights is None else str(weights), self.inset, self.layout)

    def prefetch(self, videos: list[int], workers: int, weights, quiet: bool = True) -> int:
        """Hash the region codes of the ``videos`` not cached yet on ``workers`` Dask processes (each loads
        the hashing model from ``weights``, as the indexing workers do) into the cache; returns how many.
        (An entry that is there but spoilt is hashed again by :meth:`codes_of`, in this process.)"""
        if self.hasher is None or self.folder is None or workers <= 1:
            return 0
        from vidml.parallel import map_tasks

        tasks = [self._task(v, weights) for v in videos if not self.cache_path(v).exists()]
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
    layout: bool = False      # each rectangle's layout views kept too (module doc)


def _load(path: Path | None, layout: bool = False) -> tuple | None:
    """A cache entry's ``(codes, times, layouts)`` (layouts None unless ``layout``), or None when there is none,
    it cannot be read, or it lacks the layouts asked for."""
    if path is None or not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            return z["codes"], z["times"].astype(np.float64), (z["layouts"] if layout else None)
    except (OSError, ValueError, KeyError):
        return None                                          # unreadable: hashed again


def hash_regions(task: RegionTask, hasher: RegionHasher | None = None) -> tuple | None:
    """Decode ``task.path`` once and hash every sampled frame on the rectangles: ``(codes (Q, R, bits/8),
    times (Q,), layouts (Q, 2 R, layout_bits/8) or None)`` (layouts with ``task.layout``), also written to
    ``task.cache``; None when the video cannot be decoded or has no frames. ``hasher``: in-process; None in a
    worker (the model of ``task.weights``, loaded once per process)."""
    net = _worker_net(task) if hasher is None else hasher.hasher
    rh = RegionHasher(net, task.rects, keep_layout=task.layout)    # its own: it collects this video's layouts
    spread = TemporalSpread() if task.inset else None
    try:
        hv = hash_video(task.path, rh, fps=task.fps, on_batch=spread.add if spread else None)
        q = len(hv.times)
        if q == 0:
            return None
        codes = hv.codes.reshape(q, len(task.rects), -1)
        layouts = np.concatenate(rh.layouts).reshape(q, 2 * len(task.rects), -1) if task.layout else None
        if spread is not None:
            more, more_layouts = _inset_codes(task, net, spread, codes[:, :1], None if layouts is None else layouts[:, :2])
            codes = np.concatenate([codes, more], axis=1)
            layouts = None if layouts is None else np.concatenate([layouts, more_layouts], axis=1)
    except (VideoError, OSError):
        return None
    if task.cache is not None:
        buf = io.BytesIO()
        np.savez(buf, codes=codes, times=hv.times, **({} if layouts is None else {"layouts": layouts}))
        task.cache.parent.mkdir(exist_ok=True)
        atomic_write_bytes(task.cache, buf.getvalue(), "region code cache")
    return codes, hv.times.astype(np.float64), layouts


def _worker_net(task: RegionTask):
    from apps.video_search.library import _worker_hasher

    return _worker_hasher(task.weights)


def _inset_codes(task: RegionTask, net, spread: TemporalSpread, whole: np.ndarray,
                 whole_layouts: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """``(codes (Q, 1, bits/8), layouts (Q, 2, layout_bits/8) or None)``: each sampled frame's code (and layout
    views, with ``task.layout``) on the video's inset (a second decoding), or ``whole`` / ``whole_layouts``
    (its whole frame's) when its frames change everywhere alike (no inset)."""
    rect = spread.inset()
    if not rect:
        return whole, whole_layouts
    rh = RegionHasher(net, rect, keep_layout=task.layout)
    hv = hash_video(task.path, rh, fps=task.fps)
    if len(hv.times) != len(whole):
        return whole, whole_layouts
    return hv.codes.reshape(len(hv.times), 1, -1), (np.concatenate(rh.layouts) if task.layout else None)

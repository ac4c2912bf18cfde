"""Decode a video once (decord, strided, batched) and hash its sampled frames.

Sampling: a video of ``fps_v`` frames/s sampled at ``fps`` codes/s keeps every ``stride = max(1,
round(fps_v / fps))``-th frame; frame ``i`` is at ``t = i / fps_v`` seconds. A *hasher* is anything with
``bits`` and ``codes(frames_uint8_rgb) -> (N, bits/8) uint8`` (the HashingNet, or the pHash baseline).

``on_batch(frames, times)`` (optional) sees every decoded batch of sampled frames, e.g. the face stage.
A hasher with layout codes (``layout`` not None and ``codes_and_layout(frames) -> (codes, layout)``, the
HashingNet of :mod:`vidml.backbones.layout`) gives both from one trunk pass; they are kept as ``layout``.

Decoding and hashing overlap: a helper thread decodes batches b + 1 .. b + PREFETCH_DEPTH (decord works
outside the GIL) and, for
a hasher with ``content_boxes`` (the HashingNet that trims borders), finds each frame's content box (grey
thumbnails; OpenCV works outside the GIL too), while the main thread crops and resizes batch b to the
net's input size (``prepare`` with those boxes) and hashes it (torch too), so the two cores of a small
machine both work. The split balances the two threads: per sampled frame (2026-12-03, 1 thread each, the
test library, throw-away timings) decoding is about 5 ms, the border search 0.5-2.5 ms, the resize
0.9-3.7 ms and the trunk 4.6 ms; with the whole ``prepare`` in the helper thread, that thread was the
bottleneck. :func:`hash_videos` runs one such stream over a whole list of videos, so the helper decodes
the next video's first batch while the main thread hashes this one's last (a library of short videos,
one batch each, was otherwise decoded and hashed in turn). The frames, their order and hence the codes
are exactly those of a plain sequential loop.
"""
from __future__ import annotations

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol

import numpy as np

from vidml.errors import VideoError
from vidml.video import FrameReader


# Sampled frames per decoded batch, and batches the helper thread decodes ahead of the hashing. Batches differ
# in decoding cost (the test library: a stride of 15 decodes 15 frames a sample, a GIF one), and with one 64-frame
# batch ahead the hashing thread waited 3.6 ms a frame of its 8 (2026-12-03, /tmp profile of video-index on the
# test library); video-index --no-faces, same run, two rounds: 64 x 1 111-131 frames/s, 16 x 1 136-164,
# **16 x 4 163-179**, 8 x 8 144-180, 32 x 2 134-178 (decoding alone ~200). The same frames in flight as 64 x 1.
BATCH_SIZE = 16
PREFETCH_DEPTH = 4


class Hasher(Protocol):
    bits: int

    def codes(self, frames: np.ndarray) -> np.ndarray: ...


@dataclass
class HashedVideo:
    """Codes and times of one video's sampled frames, and the facts the index keeps about the file."""

    path: str
    fps: float
    frames: int
    duration: float
    codes: np.ndarray
    times: np.ndarray
    size: tuple[int, int] = (0, 0)
    extra: list = field(default_factory=list)
    layout: np.ndarray | None = None    # (N, layout_bits/8) uint8 layout codes, when the hasher has them

    def entry(self) -> dict:
        st = Path(self.path).stat()
        return {"path": str(Path(self.path).resolve()), "size": st.st_size, "mtime": st.st_mtime, "fps": self.fps,
                "frames": self.frames, "duration": self.duration, "width": self.size[0], "height": self.size[1],
                "codes": int(len(self.codes))}


def stride_for(video_fps: float, fps: float) -> int:
    """Frames to step so that about ``fps`` frames per second are kept."""
    return max(1, int(round(video_fps / fps))) if fps > 0 else 1


def _prefetched(batches: Iterator) -> Iterator:
    """The items of ``batches`` in order, produced by one helper thread up to :data:`PREFETCH_DEPTH` items ahead
    of the caller: batches differ in decoding cost (a stride of 15 decodes 15 frames a sample, a GIF one), so a
    queue of several absorbs what one-ahead would stall on."""
    end = object()
    with ThreadPoolExecutor(max_workers=1) as pool:   # one worker: the next() calls run in order
        pending = deque(pool.submit(next, batches, end) for _ in range(PREFETCH_DEPTH))
        while True:
            item = pending.popleft().result()     # re-raises a decoding error (VideoError) here
            if item is end:
                return
            pending.append(pool.submit(next, batches, end))
            yield item


def _prepared(hasher, frames, boxes) -> np.ndarray:
    """The frames as the hasher takes them: ``prepare`` with the boxes found (else the frames themselves)."""
    prepare = getattr(hasher, "prepare", None)
    if prepare is None:
        return frames
    return prepare(frames, boxes=boxes) if boxes is not None else prepare(frames)


class _Hashing:
    """One video's codes, times, layouts and ``on_batch`` records as its batches come."""

    def __init__(self, path, reader: FrameReader, hasher, on_batch=None, progress=None) -> None:
        self.path, self.reader, self.hasher, self.on_batch, self.progress = path, reader, hasher, on_batch, progress
        self.with_layout = getattr(hasher, "layout", None) is not None and hasattr(hasher, "codes_and_layout")
        self.codes, self.times, self.extra, self.layout = [], [], [], []

    def add(self, idx: np.ndarray, frames: np.ndarray, boxes, stride: int) -> None:
        t = idx.astype(np.float64) / self.reader.fps
        ready = _prepared(self.hasher, frames, boxes)
        if self.with_layout:
            c, lay = self.hasher.codes_and_layout(ready)
            self.codes.append(c); self.layout.append(lay)
        else:
            self.codes.append(self.hasher.codes(ready))
        self.times.append(t)
        if self.on_batch is not None:
            self.extra.extend(self.on_batch(frames, t) or [])
        if self.progress is not None:
            self.progress(len(idx) * stride)

    def result(self) -> HashedVideo:
        r, nb = self.reader, self.hasher.bits // 8
        return HashedVideo(path=str(self.path), fps=r.fps, frames=len(r), duration=len(r) / r.fps,
                           codes=np.concatenate(self.codes) if self.codes else np.zeros((0, nb), np.uint8),
                           times=np.concatenate(self.times).astype(np.float32) if self.times else np.zeros(0, np.float32),
                           size=r.size, extra=self.extra, layout=np.concatenate(self.layout) if self.layout else None)


def _video_batches(paths: list, hasher, fps: float, batch_size: int, readers: list | None = None) -> Iterator[tuple]:
    """One stream over every video of ``paths`` in order: ``("batch", k, reader, idx, frames, boxes, stride)``
    per batch of sampled frames of video k (``boxes``: their content boxes when the hasher has
    ``content_boxes``, else None), then ``("end", k, reader)``, or ``("failed", k, VideoError)`` when video k
    cannot be opened or decoded (the stream goes on with the next one). ``readers[k]``: video k's open reader."""
    boxes_of = getattr(hasher, "content_boxes", None)
    for k, path in enumerate(paths):
        try:
            reader = readers[k] if readers and readers[k] is not None else FrameReader(path)
            stride = stride_for(reader.fps, fps)
            for idx, frames in reader.batches(stride=stride, batch_size=batch_size):
                yield "batch", k, reader, idx, frames, (boxes_of(frames) if boxes_of is not None else None), stride
        except VideoError as err:
            yield "failed", k, err
            continue
        yield "end", k, reader


def hash_videos(paths: list, hasher: Hasher, fps: float = 2.0, batch_size: int | None = None,
                on_batch_for: Callable[[int], Callable | None] | None = None,
                progress_for: Callable[[int], Callable[[int], None] | None] | None = None,
                readers: list | None = None) -> Iterator[HashedVideo | VideoError]:
    """Per path of ``paths``, in order: its :class:`HashedVideo`, or the VideoError that stopped it.

    Decoding runs up to PREFETCH_DEPTH batches ahead in a helper thread over the whole list (module doc), so
    the next video's first batch is decoded while this one's last is hashed: on a library of short videos
    (one or two batches each) a video-by-video pipeline would decode and hash each in turn. ``on_batch_for(k)`` /
    ``progress_for(k)``: video k's ``on_batch`` and ``progress`` (:func:`hash_video`), asked for when its
    first batch comes."""
    current = None
    for item in _prefetched(_video_batches(paths, hasher, fps, batch_size or BATCH_SIZE, readers)):
        kind, k = item[0], item[1]
        if kind == "failed":
            current = None
            yield item[2]
        elif kind == "end":
            yield (current or _Hashing(paths[k], item[2], hasher)).result()
            current = None
        else:
            if current is None:
                current = _Hashing(paths[k], item[2], hasher, on_batch_for(k) if on_batch_for else None,
                                   progress_for(k) if progress_for else None)
            current.add(*item[3:])


def hash_video(path: str | Path, hasher: Hasher, fps: float = 2.0, batch_size: int | None = None,
               on_batch: Callable[[np.ndarray, np.ndarray], list] | None = None,
               progress: Callable[[int], None] | None = None, reader: FrameReader | None = None) -> HashedVideo:
    """Decode ``path`` once at ``fps`` samples/s and hash every sampled frame (raises VideoError if undecodable).

    ``progress(n)`` is called with the number of source frames covered by each batch.
    """
    stream = hash_videos([path], hasher, fps, batch_size, lambda k: on_batch, lambda k: progress, [reader])
    try:
        out = next(stream)
    finally:
        stream.close()
    if isinstance(out, VideoError):
        raise out
    return out

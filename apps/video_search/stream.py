"""Decode a video once (decord, strided, batched) and hash its sampled frames.

Sampling: a video of ``fps_v`` frames/s sampled at ``fps`` codes/s keeps every ``stride = max(1,
round(fps_v / fps))``-th frame; frame ``i`` is at ``t = i / fps_v`` seconds. A *hasher* is anything with
``bits`` and ``codes(frames_uint8_rgb) -> (N, bits/8) uint8`` (the HashingNet, or the pHash baseline).

``on_batch(frames, times)`` (optional) sees every decoded batch of sampled frames, e.g. the face stage.
A hasher with layout codes (``layout`` not None and ``codes_and_layout(frames) -> (codes, layout)``, the
HashingNet of :mod:`vidml.backbones.layout`) gives both from one trunk pass; they are kept as ``layout``.

Decoding and hashing overlap: a helper thread decodes batch b + 1 (decord works outside the GIL) and, for
a hasher with ``content_boxes`` (the HashingNet that trims borders), finds each frame's content box (grey
thumbnails; OpenCV works outside the GIL too), while the main thread crops and resizes batch b to the
net's input size (``prepare`` with those boxes) and hashes it (torch too), so the two cores of a small
machine both work. The split balances the two threads: per sampled frame (2026-12-03, 1 thread each, the
test library, throw-away timings) decoding is about 5 ms, the border search 0.5-2.5 ms, the resize
0.9-3.7 ms and the trunk 4.6 ms; with the whole ``prepare`` in the helper thread, that thread was the
bottleneck. The frames, their order and hence the codes are exactly those of a plain sequential loop.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Protocol

import numpy as np

from vidml.video import FrameReader


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
    """The items of ``batches`` in order, the next one produced by a helper thread while the caller works."""
    end = object()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pending = pool.submit(next, batches, end)
        while True:
            item = pending.result()          # re-raises a decoding error (VideoError) here
            if item is end:
                return
            pending = pool.submit(next, batches, end)
            yield item


def _with_boxes(batches: Iterator, hasher) -> Iterator:
    """``(idx, frames, boxes)``: each batch and, when the hasher has ``content_boxes``, its frames' content
    boxes (else None)."""
    boxes_of = getattr(hasher, "content_boxes", None)
    for idx, frames in batches:
        yield idx, frames, (boxes_of(frames) if boxes_of is not None else None)


def _prepared(hasher, frames, boxes) -> np.ndarray:
    """The frames as the hasher takes them: ``prepare`` with the boxes found (else the frames themselves)."""
    prepare = getattr(hasher, "prepare", None)
    if prepare is None:
        return frames
    return prepare(frames, boxes=boxes) if boxes is not None else prepare(frames)


def hash_video(path: str | Path, hasher: Hasher, fps: float = 2.0, batch_size: int = 64,
               on_batch: Callable[[np.ndarray, np.ndarray], list] | None = None,
               progress: Callable[[int], None] | None = None, reader: FrameReader | None = None) -> HashedVideo:
    """Decode ``path`` once at ``fps`` samples/s and hash every sampled frame (raises VideoError if undecodable).

    ``progress(n)`` is called with the number of source frames covered by each batch.
    """
    reader = reader or FrameReader(path)
    stride = stride_for(reader.fps, fps)
    codes, times, extra, layout = [], [], [], []
    with_layout = getattr(hasher, "layout", None) is not None and hasattr(hasher, "codes_and_layout")
    for idx, frames, boxes in _prefetched(_with_boxes(reader.batches(stride=stride, batch_size=batch_size), hasher)):
        t = idx.astype(np.float64) / reader.fps
        ready = _prepared(hasher, frames, boxes)
        if with_layout:
            c, lay = hasher.codes_and_layout(ready)
            codes.append(c); layout.append(lay)
        else:
            codes.append(hasher.codes(ready))
        times.append(t)
        if on_batch is not None:
            extra.extend(on_batch(frames, t) or [])
        if progress is not None:
            progress(len(idx) * stride)
    nb = hasher.bits // 8
    return HashedVideo(path=str(path), fps=reader.fps, frames=len(reader), duration=len(reader) / reader.fps,
                       codes=np.concatenate(codes) if codes else np.zeros((0, nb), np.uint8),
                       times=np.concatenate(times).astype(np.float32) if times else np.zeros(0, np.float32),
                       size=reader.size, extra=extra, layout=np.concatenate(layout) if layout else None)

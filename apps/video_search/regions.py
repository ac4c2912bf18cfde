"""Region codes of query frames: a copy shown inside another frame or beside other content is still found.

A composite query (the video as a picture-in-picture, or in one half of a side-by-side) holds the library
frame in a sub-rectangle, so the whole query frame's code is far from it. At query time each frame is also
hashed on a few inner rectangles (fractions ``x, y, w, h`` of the frame):

    the whole frame, its left and right halves, its four corner windows of 60 % x 60 %, its centre 60 %

and a query frame's neighbours are the union over its rectangles (the best vote per frame counts once in
:func:`apps.video_search.alignment.align`; the null model takes a frame as close to a library frame when
any of its rectangles is, :class:`apps.video_search.null_model.QueryNull`). The index is unchanged; the
query costs ``len(REGIONS)`` times the hashing and Hamming search of whole frames.
"""
from __future__ import annotations

import numpy as np

WHOLE = ((0.0, 0.0, 1.0, 1.0),)
REGIONS = WHOLE + ((0.0, 0.0, 0.5, 1.0), (0.5, 0.0, 0.5, 1.0), (0.0, 0.0, 0.6, 0.6), (0.4, 0.0, 0.6, 0.6),
                   (0.0, 0.4, 0.6, 0.6), (0.4, 0.4, 0.6, 0.6), (0.2, 0.2, 0.6, 0.6))


def crops(frame: np.ndarray, regions=REGIONS) -> list[np.ndarray]:
    """The sub-images of ``frame`` for each rectangle of ``regions``."""
    h, w = frame.shape[:2]
    out = []
    for x, y, rw, rh in regions:
        x0, y0 = int(round(x * w)), int(round(y * h))
        x1, y1 = max(x0 + 1, int(round((x + rw) * w))), max(y0 + 1, int(round((y + rh) * h)))
        out.append(frame[y0:y1, x0:x1])
    return out


class RegionHasher:
    """Wraps a hasher: ``codes(frames)`` -> (N * R, bits/8), the R region codes of each frame consecutive.

    ``keep_layout`` (whole frames, a hasher with ``codes_and_layout_views``): each frame's layout codes as
    shown and mirrored are kept in :attr:`layouts` ((N, 2, layout_bits/8) per batch), computed with the codes."""

    def __init__(self, hasher, regions=REGIONS, keep_layout: bool = False) -> None:
        self.hasher, self.regions, self.bits = hasher, tuple(regions), hasher.bits
        self.keep_layout, self.layouts = keep_layout, []

    def parts(self, frames: np.ndarray) -> np.ndarray:
        """The region sub-images of every frame, prepared as the hasher prepares a frame (``prepare``: the
        HashingNet trims each sub-image's borders, then resizes it; else a plain resize), or the frames
        themselves for the whole frame alone."""
        if len(self.regions) == 1 and self.regions[0] == WHOLE[0]:
            return frames
        subs = [c for f in frames for c in crops(f, self.regions)]
        if hasattr(self.hasher, "prepare"):
            return self.hasher.prepare(subs)
        size = getattr(self.hasher, "size", 128)
        import cv2

        parts = [cv2.resize(c, (size, size), interpolation=cv2.INTER_AREA) for c in subs]
        return np.stack(parts) if parts else np.zeros((0, size, size, 3), np.uint8)

    def codes(self, frames: np.ndarray) -> np.ndarray:
        parts = self.parts(frames)
        if len(parts) == 0:
            return np.zeros((0, self.bits // 8), np.uint8)
        if self.keep_layout:
            codes, views = self.hasher.codes_and_layout_views(parts)
            self.layouts.append(views)
            return codes
        return self.hasher.codes(parts)

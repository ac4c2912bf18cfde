"""Uniform borders of a frame (letterbox / pillarbox bars, the empty part of a composite): find and trim them.

A copy is often the same picture with bars added: a 4:3 film letterboxed into 16:9, a portrait phone video
pillarboxed, a clip scaled into one half of a side-by-side composite. Trimming uniform bands off every
frame before it is hashed, on the library side and the query side alike, maps all of these back onto the
picture itself (``HashingNet.prepare`` resizes to a square, aspect not kept, so the trimmed content and
the original frame give the same input).

Rule, on grey thumbnails of ``GRID`` lines of ``ALONG`` cells each (rows: ``ALONG`` wide, ``GRID`` high;
columns: the transpose; OpenCV INTER_AREA, so that pixel noise of std s shrinks to about s / sqrt(cell
area): JPEG ringing and added noise do not break a bar):

* a row (column) is *flat* when the standard deviation of its cells is <= ``FLAT_STD`` grey levels and its
  mean is within ``FLAT_STD`` of the outermost line's mean: a band of one colour, black or not. Measured
  (throw-away scripts on ../shared/data/videos): bars of the letterbox / pillarbox edits <= 0.7 with
  added noise (0 without); the two outermost lines of megamind's dark scenes >= 1.99 (the rules tried
  first, 6 on 96-cell lines and 2.5 on 24-cell ones, cut dark backgrounds off some frames and not off
  others, which moved a cropped copy's codes away from its source). A coloured bar under heavy noise
  (std ~2.3) is therefore not cut: the frame is then hashed whole, as before trimming existed;
* the band of one side is the run of flat rows (columns) from that edge inward; it is trimmed when it is
  at least ``MIN_BAND`` grid rows thick, and at most ``MAX_BAND`` of the frame (a frame that is flat
  everywhere, a fade to black, is kept whole). Each side on its own: a flat road or sky at an edge is cut
  too, alike on the library side and the query side; a one-colour banner laid over the picture is cut
  down to its text. Requiring centred pairs of bars instead (both bands of an axis, thicknesses within
  25 %) lost on the validation split (with the first flatness rule and heads refitted on trimmed frames:
  clip mAP 0.932 -> 0.842, copies reported 0.82 -> 0.75; card of hash256);
* the box is found on the thumbnail and scaled back to the frame's pixels, rounded inward by one grid
  step so no bar pixels remain (a 1/GRID error of the content's edge, which the codes absorb).

Written here (not a library call): OpenCV and imagededup have no border detector; ffmpeg's ``cropdetect``
is a filter of the ffmpeg binary, which vidml does not run, and it only sees black bars.
"""
from __future__ import annotations

import cv2
import numpy as np

GRID = 96
ALONG = 24
FLAT_STD = 1.5
MIN_BAND = 2
MAX_BAND = 0.45


def _band(lines: np.ndarray) -> int:
    """Number of flat lines of ``lines`` (GRID, ALONG) from index 0 inward (module doc)."""
    std = lines.std(1)
    mean = lines.mean(1)
    flat = (std <= FLAT_STD) & (np.abs(mean - mean[0]) <= FLAT_STD)
    n = int(np.argmin(flat)) if not flat.all() else len(flat)
    return n if MIN_BAND <= n <= MAX_BAND * len(lines) else 0


def _thumbnails(grey: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(rows (GRID, ALONG), cols (GRID, ALONG)): the area averages of ``grey`` on GRID x ALONG and ALONG x GRID
    cells, rounded to grey levels. One float area resize to GRID x GRID and block means of GRID / ALONG of its
    cells (area averages of area averages on nested cells) instead of two uint8 area resizes: the same values,
    and the same boxes on 3,585 library frames and edits of them, at about 0.7 of the time."""
    square = cv2.resize(grey.astype(np.float32), (GRID, GRID), interpolation=cv2.INTER_AREA)
    k = GRID // ALONG
    rows = np.rint(square.reshape(GRID, ALONG, k).mean(2))
    cols = np.rint(square.reshape(ALONG, k, GRID).mean(1)).T
    return rows.astype(np.float32), cols.astype(np.float32)


def content_box(frame: np.ndarray) -> tuple[int, int, int, int]:
    """(x0, y0, x1, y1) pixel box of ``frame`` (H, W[, 3] uint8) without its uniform borders; the whole
    frame when it has none."""
    h, w = frame.shape[:2]
    rows, cols = _thumbnails(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY) if frame.ndim == 3 else frame)
    top, bottom = _band(rows), _band(rows[::-1])
    left, right = _band(cols), _band(cols[::-1])
    sy, sx = h / GRID, w / GRID
    y0, y1 = int(np.ceil((top + (top > 0)) * sy)), h - int(np.ceil((bottom + (bottom > 0)) * sy))
    x0, x1 = int(np.ceil((left + (left > 0)) * sx)), w - int(np.ceil((right + (right > 0)) * sx))
    if y1 - y0 < 8 or x1 - x0 < 8:
        return 0, 0, w, h
    return x0, y0, x1, y1


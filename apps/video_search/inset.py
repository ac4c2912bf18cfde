"""Where a composite query shows its video: the rectangle whose pixels change over time.

A picture-in-picture (a clip inset into a still frame: a news graphic, a web page, a photo) is found by
:mod:`apps.video_search.regions`' fixed rectangles only when the inset fills one of them; an inset of
40 % x 40 % at an odd place fills none. But the inset is where the frames *change*: over the query's
sampled frames, let s(p) = log(std_t(grey_t(p)) + 0.25) per pixel p of a 160 x 120 grey thumbnail,
averaged onto a GW x GH grid of cells. The inset is the axis-aligned rectangle R of cells that best splits
s in two (Otsu's criterion restricted to rectangles: the between-class variance

    B(R) = n_in n_out (mean_in - mean_out)^2 / n^2

is largest among those covering ``MIN_AREA``-``MAX_AREA`` of the frame; every rectangle is scored
through integral images of s, O(GW^2 GH^2) = 381k at 40 x 30). R is kept when its cells change clearly
more than the rest (``mean_in - mean_out >= MIN_GAP``: a standard deviation e^MIN_GAP = 2.7 times
larger); a clip whose frames change everywhere (a moving camera, a composite beside another video) has
none.

Prototype (2026-12-03, pip insets of 40-65 % per side on Dudek20 frames, re-encoded as mp4, sampled at
4 fps; videos of the validation and calibration splits): IoU with the true inset 0.90-0.97 for moving
content (Human3, juice, wakeboard, megamind, hamilton); 0.22-0.63 for fixed cameras (PETS09, car
traffic, TUD-Campus), where only the walkers and cars change; gaps 1.6-4.3. Plain clips of the same
videos: a gap of 1.1-2.7 for the fixed cameras and close-ups (so they get a rectangle too: one more crop
in the region pass, which runs only when whole frames find nothing), -1.1 for juice's and the
wakeboarder's moving cameras. 8-28 ms per clip.

Snapping to the inset's border (2026-12-04). For a fixed camera the rectangle above covers only where
walkers and cars pass. But a pasted inset has a straight step along its whole border in the clip's
*mean* grey thumbnail m: each side of the rectangle is moved outward (or up to ``SNAP_SLACK`` px inward)
to the line L whose step is strongest over the rectangle's span,

    strength(L) = median over the span of |m(p) - m(p')|   (p, p' the two pixels either side of L),

when that is >= ``SNAP_MIN_STEP`` grey levels (else the side stays); twice round, so each side is scored
over the other sides' snapped span. The median asks for a step along the whole side, not a single edge
crossing it. Prototype (two draws of 28 pip composites on Dudek20 frames, 4 per video, re-encoded as mp4,
sampled at 4 fps; car traffic, PETS09 arjun, TUD-Campus and the overhead pedestrians as fixed cameras,
Human3, juice and megamind as moving ones): mean IoU with the true inset 0.58 / 0.59 -> 0.82 / 0.88 for
the fixed cameras, 0.92 / 0.94 -> 0.98 / 0.98 for the moving ones (the largest step rather than the
innermost one >= 6 grey levels: 0.69 for the fixed cameras of the first draw). The remaining misses
overshoot to an edge of the picture behind the inset.
"""
from __future__ import annotations

import cv2
import numpy as np

THUMB = (160, 120)          # grey thumbnail the spread is measured on (w, h)
GRID = (40, 30)             # cells the rectangle is searched on (w, h)
MIN_AREA, MAX_AREA = 0.08, 0.85
MIN_GAP = 1.0               # log-std by which the rectangle must change more than the rest
_FLOOR = 0.25               # grey levels added before the log (encoder noise of a still picture is ~0.5)
SNAP_MIN_STEP = 6.0         # grey levels: the median step along a side for it to snap there
SNAP_SLACK = 3              # thumbnail px a side may move inward when snapping


class TemporalSpread:
    """Running per-pixel mean and variance of the grey thumbnails of a clip's frames (Welford), fed batch
    by batch (``add(frames, times)``: an ``on_batch`` of :func:`apps.video_search.stream.hash_video`)."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, None, None

    def add(self, frames, times=None) -> list:
        for f in frames:
            g = cv2.resize(cv2.cvtColor(np.ascontiguousarray(f), cv2.COLOR_RGB2GRAY), THUMB,
                           interpolation=cv2.INTER_AREA).astype(np.float64)
            if self.mean is None:
                self.mean, self.m2 = np.zeros_like(g), np.zeros_like(g)
            self.n += 1
            d = g - self.mean
            self.mean += d / self.n
            self.m2 += d * (g - self.mean)
        return []

    def std(self) -> np.ndarray | None:
        return None if self.n < 2 else np.sqrt(self.m2 / self.n)

    def inset(self) -> tuple[tuple[float, float, float, float], ...]:
        """``((x, y, w, h),)`` in fractions of the frame (module doc), or ``()`` when there is none."""
        sd = self.std()
        found = () if sd is None else inset_of_spread(sd)
        return tuple(snapped_to_border(self.mean, r) for r in found)


def inset_of_spread(sd: np.ndarray) -> tuple[tuple[float, float, float, float], ...]:
    """The rectangle of the module doc for a per-pixel temporal standard deviation ``sd`` (H, W)."""
    gw, gh = GRID
    s = cv2.resize(np.log(sd.astype(np.float32) + _FLOOR), (gw, gh), interpolation=cv2.INTER_AREA).astype(np.float64)
    integral = np.zeros((gh + 1, gw + 1))
    integral[1:, 1:] = s.cumsum(0).cumsum(1)
    xa, xb = np.triu_indices(gw + 1, 1)
    ya, yb = np.triu_indices(gh + 1, 1)
    inside = integral[yb][:, xb] - integral[ya][:, xb] - integral[yb][:, xa] + integral[ya][:, xa]
    n = gw * gh
    n_in = (yb - ya)[:, None] * (xb - xa)[None, :]
    n_out = n - n_in
    gap = inside / n_in - (integral[-1, -1] - inside) / np.maximum(n_out, 1)
    ok = (n_in >= MIN_AREA * n) & (n_in <= MAX_AREA * n)
    between = np.where(ok, n_in * n_out * gap ** 2, -1.0)
    i, j = np.unravel_index(int(np.argmax(between)), between.shape)
    if between[i, j] < 0 or gap[i, j] < MIN_GAP:       # the best split, if it is the inset changing more
        return ()
    return ((float(xa[j] / gw), float(ya[i] / gh), float((xb[j] - xa[j]) / gw), float((yb[i] - ya[i]) / gh)),)


def inset_of_frames(frames) -> tuple[tuple[float, float, float, float], ...]:
    """:meth:`TemporalSpread.inset` of a list of RGB frames."""
    spread = TemporalSpread()
    spread.add(frames)
    return spread.inset()


def _strongest_line(step: np.ndarray, lo: int, hi: int, a: int, b: int) -> tuple[int, float]:
    """(line, strength) of the line in ``lo..hi`` of ``step`` (lines x positions) with the largest median
    step over positions ``a:b``."""
    med = np.median(step[lo:hi + 1, a:max(b, a + 1)], axis=1)
    i = int(np.argmax(med))
    return lo + i, float(med[i])


def _snapped(side: int, step: np.ndarray, lo: int, hi: int, a: int, b: int) -> int:
    """A rectangle's ``side`` moved to the strongest line in ``lo..hi`` (over positions ``a:b``) when its
    median step is >= SNAP_MIN_STEP, else left where it is."""
    line, strength = _strongest_line(step, lo, hi, a, b)
    return line if strength >= SNAP_MIN_STEP else side


def snapped_to_border(mean: np.ndarray, rect: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``rect`` (x, y, w, h fractions) with each side moved to the strongest straight step of the mean
    thumbnail ``mean`` (H, W) within reach (module doc: snapping)."""
    h, w = mean.shape
    x0, x1 = int(round(rect[0] * w)), int(round((rect[0] + rect[2]) * w))
    y0, y1 = int(round(rect[1] * h)), int(round((rect[1] + rect[3]) * h))
    pad = np.pad(mean, 1, mode="edge")
    cols = np.abs(pad[1:-1, 1:] - pad[1:-1, :-1]).T      # (W + 1, H): step at the line left of column c
    rows = np.abs(pad[1:, 1:-1] - pad[:-1, 1:-1])        # (H + 1, W): step at the line above row r
    cols[[0, -1]] = 0.0                                  # the frame's own border is no step
    rows[[0, -1]] = 0.0
    k = SNAP_SLACK
    for _ in range(2):                                   # each side scored over the others' snapped span
        x0 = _snapped(x0, cols, 1, min(x0 + k, w - 1), y0, y1)
        x1 = _snapped(x1, cols, max(x1 - k, 1), w - 1, y0, y1)
        y0 = _snapped(y0, rows, 1, min(y0 + k, h - 1), x0, x1)
        y1 = _snapped(y1, rows, max(y1 - k, 1), h - 1, x0, x1)
    return (x0 / w, y0 / h, (x1 - x0) / w, (y1 - y0) / h)

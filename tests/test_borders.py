"""Uniform-border trimming (vidml.borders) and its use by the HashingNet: barred copies hash like their source."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from conftest import DATA, SAMPLES, needs_data
from apps.video_search import augment
from vidml.borders import content_box


def _frame() -> np.ndarray:
    return cv2.imread(str(SAMPLES / "juice" / "frame_000100.jpg"))[:, :, ::-1].copy()


def _barred(f: np.ndarray, top: int, bottom: int, left: int, right: int, value=(0, 0, 0)) -> np.ndarray:
    out = np.empty((f.shape[0] + top + bottom, f.shape[1] + left + right, 3), np.uint8)
    out[:] = value
    out[top:top + f.shape[0], left:left + f.shape[1]] = f
    return out


def test_bars_of_any_colour_are_cut_to_within_one_grid_step():
    f = _frame()[:200]                   # the sample's last rows are a dark band of its own: keep them out
    for bars, value in (((60, 60, 0, 0), (0, 0, 0)), ((0, 0, 90, 30), (40, 120, 200)), ((25, 0, 0, 70), (255, 255, 255))):
        g = _barred(f, *bars, value=value)
        x0, y0, x1, y1 = content_box(g)
        top, bottom, left, right = bars
        h, w = g.shape[:2]
        step_y, step_x = 2 * h / 96 + 1, 2 * w / 96 + 1     # rounded inward by at most one grid step
        assert top <= y0 <= top + step_y and h - bottom - step_y <= y1 <= h - bottom, (bars, (x0, y0, x1, y1))
        assert left <= x0 <= left + step_x and w - right - step_x <= x1 <= w - right, (bars, (x0, y0, x1, y1))


def test_each_side_is_trimmed_on_its_own():
    f = _frame()[:200]
    banner = _barred(f, 50, 0, 0, 0, value=(200, 30, 30))      # a flat band at one edge only
    x0, y0, x1, y1 = content_box(banner)
    assert (x0, x1, y1) == (0, banner.shape[1], banner.shape[0]) and 50 <= y0 <= 50 + 2 * banner.shape[0] / 96 + 1
    thin = _barred(f, 1, 1, 0, 0)                              # one pixel row: under MIN_BAND, an encoder's edge
    assert content_box(thin) == (0, 0, thin.shape[1], thin.shape[0])


def test_noisy_bars_are_still_bars_but_content_and_flat_frames_stay_whole():
    f = _frame()[:200]
    noisy = augment.make_transform("noise", np.random.default_rng(0), (0, 0))(_barred(f, 50, 50, 0, 0))
    assert 50 <= content_box(noisy)[1] <= 50 + 2 * noisy.shape[0] / 96 + 1
    assert content_box(f) == (0, 0, f.shape[1], f.shape[0])
    black = np.zeros((120, 160, 3), np.uint8)                  # a fade to black: nothing to trim to
    assert content_box(black) == (0, 0, 160, 120)


@needs_data
def test_a_dark_background_is_content_not_a_bar():
    from vidml.video import FrameReader

    f = FrameReader(DATA / "videos" / "megamind_720x528.avi").get_batch([36])[0]   # a night scene, dark left third
    x0, y0, x1, y1 = content_box(f)
    assert (x0, x1, y1) == (0, f.shape[1], f.shape[0]) and y0 <= 0.05 * f.shape[0]   # a thin top bar at most
    letterboxed = augment.make_transform("letterbox", np.random.default_rng(0), f.shape)(f)
    bars = int(np.flatnonzero(letterboxed.max((1, 2)) > 0)[0])                       # the edit's top bar
    assert bars <= content_box(letterboxed)[1] <= bars + 0.05 * f.shape[0]


def test_trimming_hashnet_maps_letterbox_and_pillarbox_copies_onto_their_source():
    from apps.video_search.library import load_hasher

    net, _ = load_hasher(None)
    if not net.trim:
        pytest.skip("the shipped hashing model does not trim borders")
    f = _frame()
    f[..., 1] = (f[..., 1] * 0.6).astype(np.uint8)
    edits = [augment.make_transform(n, np.random.default_rng(s), f.shape)(f)
             for n in ("letterbox", "pillarbox") for s in range(3)]
    from vidml.metric.distances import hamming

    d_trim = hamming(net.codes(np.stack(edits)), net.codes(f[None]))[:, 0]
    net.trim = False
    d_plain = hamming(net.codes(np.stack(edits)), net.codes(f[None]))[:, 0]
    net.trim = True
    assert (d_trim <= net.radius // 2).all(), d_trim           # well inside the match radius
    assert d_trim.mean() < 0.6 * d_plain.mean(), (d_trim, d_plain)

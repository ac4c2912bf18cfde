"""Still frames in the temporal contrast (apps.video_search.dedupe_verify, "Still frames carry no evidence"):
a copy of a still shot cannot be told from another moment of it, so its contrast is +inf ("cannot tell"), while
a fixed camera whose search codes barely change but whose layouts move is still judged, and so is a moving
query against a still video (both found out)."""
from __future__ import annotations

import numpy as np

from conftest import drifting_bits, flip_bits

from vidml.index import Index


def _reencoded(rng, frame: np.ndarray, n: int, k: int) -> np.ndarray:
    """n packed codes: one still ``frame`` (unpacked bits) with the same k bits flipped in each (a re-encoded
    still shot: every frame encoded alike)."""
    return np.packbits(flip_bits(frame[None].astype(bool), k, rng).repeat(n, 0), axis=1)


def test_a_still_shots_copy_cannot_be_told_and_a_still_stretch_before_motion_is_left_out():
    """u: 10 s of one picture, then 10 s of motion (40 bits a frame). A re-encoded copy of 5 s of the still
    stretch: every far line in the stretch agrees as well as the placement, so without picture codes its
    contrast is 0.0 exactly; with them those frames are left out and only lines reaching the motion count.
    A u that is still throughout leaves no frame to judge by: +inf. A moving query there (another recording
    of the room, u empty) keeps its frames: 0.0."""
    from apps.video_search.dedupe_verify import line_contrast

    rng = np.random.default_rng(0)
    still = drifting_bits(rng, 20, 1024, 0)
    u = np.concatenate([still, drifting_bits(rng, 20, 1024, 40)])
    u_t, t = np.arange(40) * 0.5, np.arange(10) * 0.5
    copy = _reencoded(rng, still[0], 10, 30)                  # u's 2-7 s
    packed = np.packbits(u, axis=1)
    anchor = (2.25, 4.25)
    assert line_contrast(copy[:, None], t, packed, u_t, anchor, 0.5)[0] == 0.0
    c = line_contrast(copy[:, None], t, packed, u_t, anchor, 0.5, picture=(packed, copy))[0]
    assert np.isfinite(c) and c > 100          # measured: the motion frames are ~500 bits from the still picture
    all_still = np.packbits(np.concatenate([still, still]), axis=1)
    assert line_contrast(copy[:, None], t, all_still, u_t, anchor, 0.5)[0] == 0.0
    assert line_contrast(copy[:, None], t, all_still, u_t, anchor, 0.5, picture=(all_still, copy))[0] == float("inf")
    moving = np.packbits(drifting_bits(rng, 10, 1024, 40), axis=1)    # its picture codes change 40 bits a frame
    assert line_contrast(copy[:, None], t, all_still, u_t, anchor, 0.5, picture=(all_still, moving))[0] == 0.0


def _index(tmp_path, videos: list[tuple[np.ndarray, np.ndarray]]) -> Index:
    index = Index(tmp_path / "syn.vidx", bits=256)
    for i, (codes, layout) in enumerate(videos):
        index.add({"path": f"/syn/{i}.mp4", "size": 1, "mtime": 0.0}, np.packbits(codes, axis=1),
                  np.arange(len(codes)) * 0.5, layout=np.packbits(layout, axis=1))
    return index


def test_video_search_reports_a_still_copy_but_not_another_moment_of_a_fixed_camera(tmp_path):
    """Video 0: a fixed camera whose 256-bit search codes are all one code (they ignore small changes) while its
    1024-bit layouts move (16 bits a frame). Video 1: a still shot (both codes constant). A clip of video 0
    at another moment (its own layouts): judged by the layouts, not left out by the still search codes, so
    it stays below video-search's 2-bit gate. A re-encoded clip of video 1: +inf, reported; a clip of that
    view with someone walking (its layouts move, video 1's do not): judged, not reported."""
    from apps.video_search.alignment import ClipMatch
    from apps.video_search.reporting import DEFAULT_MIN_CONTRAST, match_contrast, passes

    rng = np.random.default_rng(1)
    fixed_codes = drifting_bits(rng, 60, 256, 0)
    still_codes, still_layout = drifting_bits(rng, 60, 256, 0), drifting_bits(rng, 60, 1024, 0)
    index = _index(tmp_path, [(fixed_codes, drifting_bits(rng, 60, 1024, 16)), (still_codes, still_layout)])
    t = np.arange(12) * 0.5
    m = lambda video: ClipMatch(video=video, score=0.9, offset=10.0, video_start=10.0, video_end=15.5,  # noqa: E731
                                query_start=0.0, query_end=5.5, frames=12)
    other = (np.packbits(flip_bits(fixed_codes[20:32].astype(bool), 4, rng), axis=1)[:, None],
             np.stack([np.packbits(drifting_bits(rng, 12, 1024, 16), axis=1)] * 2, 1))    # shown, mirrored
    c_other = match_contrast(index, *other[:1], t, m(0), other[1])
    assert np.isfinite(c_other) and c_other < DEFAULT_MIN_CONTRAST
    assert not passes(0.9, 0.0, c_other, 0.1, 1.0, DEFAULT_MIN_CONTRAST)
    copy = (_reencoded(rng, still_codes[0], 12, 4)[:, None], np.stack([_reencoded(rng, still_layout[0], 12, 8)] * 2, 1))
    c_copy = match_contrast(index, copy[0], t, m(1), copy[1])
    assert c_copy == float("inf") and passes(0.9, 0.0, c_copy, 0.1, 1.0, DEFAULT_MIN_CONTRAST)
    walker = (copy[0], np.stack([np.packbits(drifting_bits(rng, 12, 1024, 16), axis=1)] * 2, 1))  # someone moves
    c_walker = match_contrast(index, walker[0], t, m(1), walker[1])
    assert np.isfinite(c_walker) and not passes(0.9, 0.0, c_walker, 0.1, 1.0, DEFAULT_MIN_CONTRAST)

"""The split contrast of apps.video_search.dedupe_verify and video-search's use of it (apps.video_search.reporting):
a copy of a fixed camera's view that voting placed at the wrong moment."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import drifting_bits

from vidml.index import Index


def test_split_contrast_finds_a_misplaced_copy_and_not_another_moment():
    """Layouts of a fixed camera drift as walkers move (16 of 1024 bits a frame). A copy of 8 s of u (24 bits
    a frame flipped by its edit) whose vote landed 15 s away from its moment: about that anchor its line
    contrast is below 0; each half of its frames finds the moment for the other, so its split contrast is
    high. A clip of another moment (layouts of its own) stays low by both."""
    from apps.video_search.dedupe_verify import line_contrast, split_contrast

    rng = np.random.default_rng(2)
    u, t_u = drifting_bits(rng, 80, 1024, 16), np.arange(80) * 0.5
    copy = u[30:46].copy()                                   # u's 15-22.5 s
    for row in copy:
        row[rng.choice(1024, 24, replace=False)] ^= 1
    t = np.arange(16) * 0.5
    packed, u_packed = np.packbits(copy, axis=1)[:, None], np.packbits(u, axis=1)
    wrong = (3.75, 3.75 + 30.0)                              # the right anchor is 3.75 -> 18.75
    assert line_contrast(packed, t, u_packed, t_u, wrong, 0.5)[0] < 0
    assert line_contrast(packed, t, u_packed, t_u, (3.75, 18.75), 0.5)[0] > 30    # measured: 58.6 bits of 1024
    c, offset = split_contrast(packed, t, u_packed, t_u, 0.5)
    assert c > 30 and offset == pytest.approx(15.0, abs=0.5)             # measured: 57.3 bits, at 15 s
    other = np.packbits(drifting_bits(rng, 16, 1024, 16), axis=1)[:, None]
    assert split_contrast(other, t, u_packed, t_u, 0.5)[0] < 10          # measured: -8.0
    assert split_contrast(packed[:3], t[:3], u_packed, t_u, 0.5) == (-float("inf"), None)   # too few to split


def test_a_match_the_split_contrast_passes_is_placed_where_its_layouts_are(tmp_path):
    """video-search's rule: a match below the gate that only the split contrast lifts over it is reported at
    the offset the query's halves agree on, its video span moved with it (the vote's offset was wrong)."""
    from apps.video_search.alignment import ClipMatch
    from apps.video_search.reporting import contrasts, moved_to

    rng = np.random.default_rng(2)
    lay = drifting_bits(rng, 80, 1024, 16)
    index = Index(tmp_path / "syn.vidx", bits=64)
    codes = np.zeros((80, 8), np.uint8)                      # a static scene by its search codes
    index.add({"path": "/syn/0.mp4", "size": 1, "mtime": 0.0}, codes, np.arange(80) * 0.5,
              layout=np.packbits(lay, axis=1))
    copy = lay[30:46].copy()
    for row in copy:
        row[rng.choice(1024, 24, replace=False)] ^= 1
    q_lay = np.repeat(np.packbits(copy, axis=1)[:, None], 2, 1)   # as shown and mirrored
    t = np.arange(16) * 0.5
    wrong = ClipMatch(video=0, score=1.0, offset=30.0, video_start=30.0, video_end=37.5, query_start=0.0,
                      query_end=7.5, frames=16, support=16)
    moved: dict = {}
    c = contrasts(index, codes[:16, None], t, [wrong], [0.0], 0.5, 1.0, layout=q_lay, min_contrast=2.0, moved=moved)
    assert c[0] >= 2.0 and set(moved) == {0} and moved[0] == pytest.approx(15.0, abs=0.5)
    m = moved_to(wrong, moved[0])
    assert (m.video_start, m.video_end) == pytest.approx((moved[0], moved[0] + 7.5)) and m.score == 1.0
    kept: dict = {}
    contrasts(index, codes[:16, None], t, [wrong], [0.0], 0.5, 1.0, layout=q_lay, moved=kept)   # no gate: no move
    assert kept == {}

"""Query expansion (apps.video_search.expansion): a clip found in video A is also reported in A's far copy B
(too far from the edited query for a vote), placed where the query is in B; unrelated videos are not."""
import numpy as np
import pytest

from vidml.index import Index
from vidml.metric.distances import pack_bits

from conftest import flip_bits


def _library(tmp_path, rng) -> tuple[Index, np.ndarray]:
    """A (40 frames of 256 bits, 2 codes/s), B = A 3 s later with 80 bits of each frame flipped (a camcorded
    recording), and 8 unrelated videos."""
    source = rng.random((40, 256)) > 0.5
    index = Index(tmp_path / "t.vidx", bits=256)
    index.manifest["hasher"] = {"radius": 60}
    index.manifest["fps"] = 2.0
    times = np.arange(40, dtype=np.float32) * 0.5
    index.add({"path": str(tmp_path / "a.mp4")}, pack_bits(source), times)
    index.add({"path": str(tmp_path / "b_camcorded.mp4")}, pack_bits(flip_bits(source, 80, rng)), times + 3.0)
    for v in range(8):
        index.add({"path": str(tmp_path / f"other{v}.mp4")}, pack_bits(rng.random((40, 256)) > 0.5), times)
    return index, source


def test_the_far_copy_of_the_found_video_is_reported_at_the_query_place(tmp_path):
    from apps.video_search.clip_search import match_codes, query_null
    from apps.video_search.expansion import with_partners
    from apps.video_search.reporting import contrasts

    rng = np.random.default_rng(0)
    index, source = _library(tmp_path, rng)
    query = pack_bits(flip_bits(source[10:20], 40, rng))[:, None]     # an edited clip of A's 5-9.5 s
    qt = np.arange(10) * 0.5
    matches = match_codes(index, query, qt)
    assert matches[0].video == 0 and all(m.video != 1 for m in matches)   # B: 80 + 40 bits off, no vote
    null = query_null(index, query, qt)
    ev = [null.evalue(m.video, m.support) for m in matches]
    con = contrasts(index, query, qt, matches, ev, 0.4, 0.01)
    rule = (0.4, 0.01, 2.0)
    out, ev2, con2 = with_partners(index, matches, ev, con, rule)
    shown = [m for m, e, c in zip(out, ev2, con2) if m.score >= 0.4 and e <= 0.01 and c >= 2.0]
    assert [m.video for m in shown] == [0, 1]
    b = shown[1]
    assert b.offset == pytest.approx(5.0 + 3.0 - 0.0, abs=0.6) and b.video_start == pytest.approx(8.0, abs=0.6)
    assert (b.query_start, b.query_end) == (shown[0].query_start, shown[0].query_end)
    assert b.score <= shown[0].score
    unchanged = with_partners(index, matches, ev, con, (0.99, 0.01, 2.0))     # nothing reported: no expansion
    assert unchanged[0] is matches


def test_an_unrelated_query_expands_nothing_and_an_unrelated_video_is_not_a_partner(tmp_path):
    from apps.video_search.expansion import partner_matches
    from apps.video_search.alignment import ClipMatch

    rng = np.random.default_rng(1)
    index, _ = _library(tmp_path, rng)
    other = ClipMatch(video=2, score=0.9, offset=0.0, video_start=5.0, video_end=9.5, query_start=0.0,
                      query_end=4.5, frames=10, support=10)               # "found" in an unrelated video
    assert partner_matches(index, other, (0.4, 0.01, 2.0), set()) == []
    a = ClipMatch(video=0, score=0.9, offset=5.0, video_start=5.0, video_end=9.5, query_start=0.0,
                  query_end=4.5, frames=10, support=10)
    found = partner_matches(index, a, (0.4, 0.01, 2.0), set())
    assert [m.video for m, _, _ in found] == [1]
    assert partner_matches(index, a, (0.4, 0.01, 2.0), {1}) == []          # already reported: not again


def test_a_partner_hit_names_the_video_it_was_found_through(tmp_path):
    from apps.video_search.alignment import ClipMatch
    from apps.video_search.clip_search import _as_hit
    from apps.video_search.expansion import on_query_span

    index, _ = _library(tmp_path, np.random.default_rng(2))
    best = ClipMatch(video=0, score=0.8, offset=5.0, video_start=5.0, video_end=9.5, query_start=0.0,
                     query_end=4.5, frames=10, support=10)
    found = ClipMatch(video=1, score=0.6, offset=8.0, video_start=-2.0, video_end=20.0, query_start=-10.0,
                      query_end=15.0, frames=40, support=20)        # A's frames +- 10 s, in the query's time
    hit = _as_hit(index, on_query_span(found, best), 1e-5, 9.0, (0.4, 0.01, 2.0))
    assert hit["via"] == str(tmp_path / "a.mp4") and hit["video"] == str(tmp_path / "b_camcorded.mp4")
    assert (hit["video_start"], hit["video_end"], hit["score"]) == (8.0, 12.5, 0.6) and hit["reported"]
    assert _as_hit(index, best, 1e-5, 9.0, (0.4, 0.01, 2.0))["via"] is None

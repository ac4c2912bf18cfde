"""The tail of the ranking (apps.video_search.ranking): a copy with no vote within the match radius still
ranks above unrelated videos, and is never reported."""
import numpy as np

from vidml.index import Index
from vidml.metric.distances import pack_bits

from conftest import flip_bits


def test_a_far_copy_leads_the_tail_and_is_not_reported(tmp_path):
    from apps.video_search.clip_search import match_codes
    from apps.video_search.ranking import rank_tail, tail_radius

    rng = np.random.default_rng(0)
    source = rng.random((40, 64)) > 0.5                       # 40 frames of the original at 2 codes/s
    index = Index(tmp_path / "t.vidx", bits=64)
    index.manifest["hasher"] = {"radius": 12}
    index.manifest["fps"] = 2.0
    times = np.arange(40, dtype=np.float32) * 0.5
    index.add({"path": str(tmp_path / "far_copy.mp4")}, pack_bits(flip_bits(source, 20, rng)), times)   # 20 bits off
    for v in range(6):
        index.add({"path": str(tmp_path / f"other{v}.mp4")}, pack_bits(rng.random((40, 64)) > 0.5), times)
    query = pack_bits(source[10:20])[:, None]                 # a clip of the original: 10 frames from 5 s
    qt = np.arange(10) * 0.5
    matches = match_codes(index, query, qt)
    assert all(m.video != 0 for m in matches)                 # nothing within the match radius
    assert 12 < tail_radius(index) < 32
    tail = rank_tail(index, matches, query, qt)
    assert tail and tail[0].video == 0 and tail[0].score == 0.0 and tail[0].support == 0
    assert tail[0].tail_score > 0.5 and abs(tail[0].offset - 5.0) < 0.6
    assert [m.tail_score for m in tail] == sorted((m.tail_score for m in tail), reverse=True)

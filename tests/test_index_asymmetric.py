"""Asymmetric distance: real-valued query projections against stored binary codes (vidml.index.asymmetric)."""
import numpy as np

from vidml.index import Index
from vidml.index.asymmetric import rerank, weighted_hamming
from vidml.metric.distances import hamming, pack_bits


def test_weighted_hamming_is_hamming_for_equal_magnitudes_and_discounts_unsure_bits():
    rng = np.random.default_rng(0)
    db = pack_bits(rng.random((50, 64)) > 0.5)
    signs = np.where(rng.random((5, 64)) > 0.5, 1.0, -1.0).astype(np.float32)
    assert np.allclose(weighted_hamming(3.0 * signs, db), hamming(pack_bits(signs > 0), db))
    h = np.ones((1, 64), np.float32)
    h[0, :8] = 0.01                                    # the query is unsure of its first 8 bits
    near_unsure = pack_bits(np.r_[np.zeros(8), np.ones(56)][None] > 0)      # 8 unsure bits differ
    near_sure = pack_bits(np.r_[np.ones(60), np.zeros(4)][None] > 0)        # 4 sure bits differ
    d = weighted_hamming(h, np.concatenate([near_unsure, near_sure]))[0]
    assert d[0] < 0.2 < 3.0 < d[1]                     # Hamming would rank them the other way (8 vs 4)
    assert d.min() >= 0 and weighted_hamming(h, pack_bits(h < 0))[0, 0] == 64   # every bit wrong: the maximum


def test_rerank_sorts_candidates_and_keeps_unfilled_rows_out():
    rng = np.random.default_rng(1)
    db = pack_bits(rng.random((40, 64)) > 0.5)
    proj = rng.normal(size=(3, 64)).astype(np.float32)
    rows = np.tile(np.arange(10), (3, 1))
    dist = np.zeros((3, 10), np.int32)
    dist[:, -1] = np.iinfo(np.int32).max                # an IVF list could not fill this one
    d, r = rerank(proj, db, dist, rows, k=10)
    full = weighted_hamming(proj, db[:10])
    assert np.all(np.diff(d, axis=1)[:, :-1] >= 0) and np.isinf(d[:, -1]).all() and (r[:, -1] == 9).all()
    assert np.allclose(d[:, :-1], np.take_along_axis(full, r[:, :-1], 1))


def test_index_search_asymmetric_finds_the_nearest_by_the_asymmetric_distance(tmp_path):
    rng = np.random.default_rng(2)
    codes = pack_bits(rng.random((300, 64)) > 0.5)
    index = Index(tmp_path / "a.vidx", bits=64)
    index.add({"path": str(tmp_path / "v.mp4")}, codes, np.arange(300, dtype=np.float32))
    proj = rng.normal(size=(4, 64)).astype(np.float32)
    d, rows = index.search_asymmetric(proj, k=5, candidates=300)       # every row a candidate: exact
    exact = np.sort(weighted_hamming(proj, codes), 1)[:, :5]
    assert rows.shape == (4, 5) and np.allclose(d, exact)


def test_clip_search_matches_float_projections_by_the_asymmetric_radius(tmp_path):
    from apps.video_search.clip_search import match_codes, match_radius, query_null

    rng = np.random.default_rng(3)
    proj_lib = rng.normal(size=(2, 30, 64)).astype(np.float32)          # two videos of 30 frames
    index = Index(tmp_path / "b.vidx", bits=64)
    index.manifest["hasher"] = {"radius": 16, "radius_asym": 12.5}
    for v in range(2):
        index.add({"path": str(tmp_path / f"v{v}.mp4")}, pack_bits(proj_lib[v] > 0),
                  np.arange(30, dtype=np.float32) * 0.5)
    query = proj_lib[1, 4:14] + rng.normal(0, 0.3, (10, 64)).astype(np.float32)    # a noisy copy of video 1
    times = np.arange(10) * 0.5
    assert match_radius(index, asymmetric=True) == 12.5 and match_radius(index) == 16
    best = match_codes(index, query[:, None], times)[0]
    assert best.video == 1 and best.score > 0.5 and abs(best.offset - 2.0) < 0.3
    null = query_null(index, query[:, None], times)
    assert null.evalue(best.video, best.support) < 0.01

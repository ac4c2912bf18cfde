"""Null model of chance clip matches, bit decorrelation, IVF search, overlapped decoding, training data."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.stats import binom

from conftest import DATA, needs_data
from apps.video_search import null_model
from vidml.metric.losses.hashing import BitDecorrelationLoss, PreCodeCentring
from vidml.metric.distances import pack_bits


def _flip(codes: np.ndarray, nbits: int, rng: np.random.Generator) -> np.ndarray:
    bits = np.unpackbits(codes, axis=1)
    for row in bits:
        row[rng.choice(bits.shape[1], nbits, replace=False)] ^= 1
    return np.packbits(bits, axis=1)


def test_poisson_binomial_tail_equals_binomial_for_equal_rates():
    for m in (0, 1, 3, 7):
        assert null_model.poisson_binomial_sf(m, np.full(12, 0.2)) == pytest.approx(binom.sf(m - 1, 12, 0.2), rel=1e-9)
    # unequal rates: P(S >= 2) of two coins = p1 * p2
    assert null_model.poisson_binomial_sf(2, np.array([0.5, 0.1])) == pytest.approx(0.05)


def test_copy_matrix_finds_the_reencoded_video_only():
    rng = np.random.default_rng(0)
    a, b = rng.integers(0, 256, (40, 8), dtype=np.uint8), rng.integers(0, 256, (30, 8), dtype=np.uint8)
    codes = np.concatenate([a, b, _flip(a[5:35], 3, rng)])            # video 2 = a re-encode of part of video 0
    vids = np.repeat([0, 1, 2], [40, 30, 30])
    videos, copies = null_model.copy_matrix(codes, vids, radius=16)
    assert videos.tolist() == [0, 1, 2]
    assert copies.tolist() == [[True, False, True], [False, True, False], [True, False, True]]
    cdf, n = null_model.library_cdf(codes, vids, 64, 16)
    assert n == 40 * 30 + 30 * 30 and cdf[16] < 0.01 < 0.3 < cdf[32]  # unrelated random codes: ~32 bits apart


def test_query_null_separates_a_copy_from_a_generic_query():
    """A query whose frames are close to many unrelated frames (flat, generic) needs far more support than a
    distinctive one; the e-value grows with the library size and shrinks with support."""
    rng = np.random.default_rng(1)
    lib = rng.integers(0, 256, (300, 8), dtype=np.uint8)
    vids = np.repeat(np.arange(10), 30)
    generic = lib[0]
    lib[30:300:3] = _flip(np.repeat(generic[None], 90, 0), 2, rng)   # every 3rd frame of videos 1-9 looks "generic"
    videos, copies = null_model.copy_matrix(lib, vids, 16)
    times = np.arange(10) / 2.0
    distinctive = null_model.QueryNull(_flip(lib[:10], 3, rng), times, lib, vids, videos, copies, 16, 300, 0.5)
    flat = null_model.QueryNull(np.repeat(generic[None], 10, 0), times, lib, vids, videos, copies, 16, 300, 0.5)
    assert distinctive.evalue(0, 10) < 1e-12 < 0.01 < flat.evalue(0, 10)
    assert distinctive.evalue(0, 2) > distinctive.evalue(0, 6)
    big = null_model.QueryNull(_flip(lib[:10], 3, rng), times, lib, vids, videos, copies, 16, 300_000, 0.5)
    assert big.evalue(0, 3) == pytest.approx(1000 * distinctive.evalue(0, 3))


def test_bit_decorrelation_loss_known_values():
    loss = BitDecorrelationLoss()
    same = torch.tensor([[1.0] * 8, [-1.0] * 8]).repeat(8, 1)        # all bits equal: every covariance is 1
    assert float(loss(same)) == pytest.approx(1.0)
    walsh = torch.tensor([[(-1.0) ** bin(i & j).count("1") for j in range(1, 9)] for i in range(16)])
    assert float(loss(walsh)) == pytest.approx(0.0, abs=1e-9)           # Walsh columns: balanced, uncorrelated
    x = torch.randn(64, 16, requires_grad=True)
    loss(torch.tanh(x)).backward()
    assert x.grad is not None and float(x.grad.abs().sum()) > 0


def test_pre_code_centring_revives_a_bit_stuck_at_one_sign():
    stuck = torch.tensor([[5.0, 1.0], [7.0, -1.0], [6.0, 1.0], [6.0, -1.0]], requires_grad=True)
    loss = PreCodeCentring()(stuck)
    assert float(loss.detach()) == pytest.approx((36.0 / (0.5 + 1e-4) + 0.0) / 2, rel=1e-4)  # bit 0: mean 6, var 0.5
    loss.backward()
    assert float(stuck.grad[:, 0].sum()) > 0 and float(stuck.grad[:, 1].abs().sum()) == pytest.approx(0.0, abs=1e-6)
    # the same bit through tanh is saturated: DeepBit's balance gradient has all but vanished
    relaxed = torch.tensor([[5.0], [7.0], [6.0], [6.0]], requires_grad=True)
    torch.tanh(relaxed).mean(0).pow(2).mean().backward()
    assert float(relaxed.grad.abs().max()) < 1e-3


def test_ivf_agrees_with_exact_search_when_every_list_is_probed():
    from vidml.index.search import FaissBinaryIVF, topk_numpy

    rng = np.random.default_rng(2)
    db = rng.integers(0, 256, (5000, 8), dtype=np.uint8)
    q = _flip(db[:20], 4, rng)
    ivf = FaissBinaryIVF(db, nlist=16, nprobe=16)
    d, rows = ivf.search(q, 5)
    de, _ = topk_numpy(q, db, 5)
    assert np.array_equal(d, de) and rows[:, 0].tolist() == list(range(20))


@needs_data
def test_overlapped_decoding_gives_the_codes_of_a_plain_loop():
    from apps.video_search import stream
    from vidml.video import FrameReader

    class Mean:
        bits = 8

        def codes(self, frames):
            return pack_bits(frames.reshape(len(frames), -1, 8).mean(1) > 110)

    path = DATA / "videos" / "pysot_bag.avi"
    hv = stream.hash_video(path, Mean(), fps=5.0, batch_size=7)
    r = FrameReader(path)
    idx = np.arange(0, len(r), stream.stride_for(r.fps, 5.0))
    assert np.array_equal(hv.codes, Mean().codes(r.get_batch(idx.tolist())))
    assert np.allclose(hv.times, idx / r.fps)


@needs_data
def test_one_decoding_stream_over_many_videos_gives_each_video_s_codes_and_its_own_failure(tmp_path):
    """hash_videos: a damaged file between two videos fails alone, in its place, and the others' codes,
    times and lengths are those of hash_video on each (the helper thread runs across the videos)."""
    from apps.video_search import stream
    from vidml.errors import VideoError

    class Mean:
        bits = 8

        def codes(self, frames):
            return pack_bits(frames.reshape(len(frames), -1, 8).mean(1) > 110)

    bad = tmp_path / "damaged.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 8)
    paths = [DATA / "videos" / "pysot_bag.avi", bad, DATA / "videos" / "megamind_720x528.avi"]
    out = list(stream.hash_videos(paths, Mean(), fps=5.0, batch_size=7))
    assert len(out) == 3 and isinstance(out[1], VideoError) and "damaged.mp4" in str(out[1])
    for p, hv in zip(paths[::2], out[::2]):
        alone = stream.hash_video(p, Mean(), fps=5.0, batch_size=7)
        assert len(hv.codes) > 10 and hv.path == str(p) and hv.frames == alone.frames
        assert np.array_equal(hv.codes, alone.codes) and np.array_equal(hv.times, alone.times)


@needs_data
def test_overlapped_decoding_with_border_boxes_gives_the_shipped_net_s_codes_of_a_plain_loop(tmp_path):
    """The trimming HashingNet: boxes found in the decoding thread, crop + resize + trunk in the caller's."""
    from apps.video_search import stream
    from apps.video_search.library import load_hasher
    from vidml.video import FrameReader, FrameWriter

    net, _ = load_hasher(None)
    src = FrameReader(DATA / "videos" / "megamind_720x528.avi")
    path = tmp_path / "letterboxed.mp4"
    with FrameWriter(path, src.fps) as w:       # 60 px black bars above and below: boxes that are not whole
        for _, f in src.frames(stride=1):
            w.write(np.pad(f, ((60, 60), (0, 0), (0, 0))))
    hv = stream.hash_video(path, net, fps=2.0, batch_size=5)
    r = FrameReader(path)
    frames = r.get_batch(np.arange(0, len(r), stream.stride_for(r.fps, 2.0)).tolist())
    codes, layout = net.codes_and_layout(frames)
    assert len(codes) > 10 and np.array_equal(hv.codes, codes) and np.array_equal(hv.layout, layout)
    boxes = net.content_boxes(frames)     # the bars are cut off (a fade to black stays whole)
    assert sum(y0 >= 60 and y1 <= 60 + 528 for _, y0, _, y1 in boxes) >= 0.8 * len(boxes), boxes


@needs_data
def test_training_data_reads_gif_faces_and_cuts_windows_from_large_frames():
    from apps.video_search.train_data import MAX_SIDE, load_clips

    yale = load_clips([DATA / "faces" / "yale" / "subject01.happy"], 10, crops=3)
    assert len(yale) == 4 and all(len(c) == 1 and max(c[0].shape[:2]) <= MAX_SIDE for c in yale)
    assert len(load_clips([DATA / "faces" / "att_orl" / "s1"], 10, crops=3)) == 10   # 92x112: no windows
    mot = load_clips([DATA / "mot" / "MOT17-mini" / "MOT17-02-FRCNN"], 10, crops=2)
    assert len(mot) == 3 and len({len(c) for c in mot}) == 1                     # windows keep the time order


@needs_data
def test_search_reports_an_evalue_and_a_one_video_library_still_finds_its_copy(tmp_path, capsys):
    """One indexed video (no unrelated content to calibrate on: the fair-bit fallback): a jpeg copy of a
    sub-clip is found with a small e-value; demanding an impossible e-value says "no match"; a bad
    --max-evalue is a one-line user error."""
    import json
    import os

    from apps.video_search.augment import make_transform
    from vidml.cli import main
    from vidml.video import FrameReader, FrameWriter

    lib = tmp_path / "lib"
    lib.mkdir()
    os.symlink(DATA / "videos" / "pysot_bag.avi", lib / "bag.avi")
    index = tmp_path / "lib.vidx"
    assert main(["video-index", str(lib), "--index", str(index), "--quiet", "--no-faces"]) == 0
    r = FrameReader(DATA / "videos" / "pysot_bag.avi")
    fn = make_transform("jpeg", np.random.default_rng(0), (r.size[1], r.size[0]))
    clip = tmp_path / "copy.mp4"
    with FrameWriter(clip, r.fps) as w:
        for _, batch in r.batches(start=50, stop=150, batch_size=32):
            for f in batch:
                w.write(fn(f))
    capsys.readouterr()
    assert main(["video-search", "--query", str(clip), "--index", str(index), "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["matches"]
    assert len(hits) == 1 and hits[0]["evalue"] < 1e-6 and abs(hits[0]["offset"] - 2.0) <= 0.5
    assert main(["video-search", "--query", str(clip), "--index", str(index), "--max-evalue", "1e-300"]) == 0
    assert capsys.readouterr().out.startswith("no match")
    assert main(["video-search", "--query", str(clip), "--index", str(index), "--max-evalue", "0"]) == 2
    assert "--max-evalue" in capsys.readouterr().err


def test_null_sample_is_keyed_on_what_it_was_computed_from(tmp_path):
    """Another index (even at a reused id()) never gets this one's null model; the same content shares it."""
    from apps.video_search.clip_search import library_sample
    from vidml.index import Index

    def make(seed, name):
        idx = Index(tmp_path / name)
        rng = np.random.default_rng(seed)
        for v in range(3):
            idx.add({"path": str(tmp_path / f"{name}{v}.mp4")}, rng.integers(0, 256, (100, 8), dtype=np.uint8),
                    np.arange(100, dtype=np.float32) / 2)
        return idx

    a = make(0, "a")
    first = library_sample(a, 16)
    assert np.array_equal(first[0], a.codes[null_model.sample_rows(len(a))])
    assert library_sample(make(0, "a2"), 16) is first          # same content: the cached model
    del a
    b = make(1, "b")                                            # new content (id() may be the freed one's)
    assert np.array_equal(library_sample(b, 16)[0], b.codes[null_model.sample_rows(len(b))])


def test_at_a_loose_radius_the_null_still_has_unrelated_videos_to_measure_chance_on(tmp_path):
    """Votes counted at a loose radius (query expansion's partner radius) keep the copy relation of the match
    radius: at the loose one every video of a library of similar scenes would look like a copy of every other,
    no unrelated row would be left, and the fair-coin fallback would call chance agreement significant."""
    from apps.video_search.clip_search import query_null
    from vidml.index import Index
    from vidml.metric.distances import pack_bits

    rng = np.random.default_rng(0)
    index = Index(tmp_path / "s.vidx", bits=256)
    index.manifest["hasher"] = {"radius": 40}
    base = rng.random(256) < 0.5                     # one kind of scene: codes share most bits
    for v in range(8):
        bits = np.stack([base ^ (rng.random(256) < 0.3) for _ in range(60)])
        index.add({"path": str(tmp_path / f"v{v}.mp4")}, pack_bits(bits), np.arange(60, dtype=np.float32) / 2)
    query = pack_bits(np.stack([base ^ (rng.random(256) < 0.3) for _ in range(8)]))
    t = np.arange(8) / 2.0
    loose = query_null(index, query, t, radius=110)  # unrelated pairs are ~107 bits apart: most are within
    assert not loose.copies[~np.eye(len(loose.videos), dtype=bool)].any()      # still no video a copy of another
    assert (loose.rates(0) > 0.5).all()               # chance measured: most unrelated rows within 110 bits
    assert loose.evalue(0, 6) > 0.01                  # 6 of 8 frames voting is no evidence at that radius

"""Edit families of the copy benchmark/training, region codes of composite queries, the ITQ projection."""
from __future__ import annotations

import numpy as np
import pytest

from conftest import SAMPLES
from apps.video_search import augment
from apps.video_search.projection import itq_rotation, learn_projection
from apps.video_search.regions import REGIONS, RegionHasher, crops


def _frame() -> np.ndarray:
    import cv2

    f = cv2.imread(str(SAMPLES / "juice" / "frame_000100.jpg"))[:, :, ::-1].copy()   # a grey sequence:
    f[..., 1] = (f[..., 1] * 0.6).astype(np.uint8)                                     # tinted, so colour edits bite
    return f


def test_every_frame_edit_keeps_the_shape_and_changes_the_frame():
    f = _frame()
    assert set(augment.FRAME_EDITS) == {e for fam in ("geometric", "photometric", "compositing", "overlays")
                                        for e in augment.FAMILIES[fam]}
    back = [np.full((50, 80, 3), (0, 200, 0), np.uint8)]
    for name in augment.TRANSFORMS:
        g = augment.make_transform(name, np.random.default_rng(3), f.shape, back)(f)
        assert g.shape == f.shape and g.dtype == np.uint8, name
        assert (name == "reencode") == np.array_equal(g, f), name
    pip = augment.make_transform("pip", np.random.default_rng(3), f.shape, back)(f)
    assert (pip == (0, 200, 0)).all(2).mean() > 0.3           # the frame sits on the other picture
    grey = augment.make_transform("greyscale", np.random.default_rng(0), f.shape)(f)
    assert np.array_equal(grey[..., 0], grey[..., 2])
    with pytest.raises(ValueError):
        augment.make_transform("warp", np.random.default_rng(0), f.shape)
    assert augment.family_of("bands") == "overlays" and augment.family_of("overlay") == "overlays"


def test_temporal_edits_retime_the_clip():
    frames = [np.full((4, 4, 3), i, np.uint8) for i in range(100)]
    rng = np.random.default_rng(0)
    sped, fps = augment.make_clip_transform("speed", rng)(frames, 25.0)
    assert fps == 25.0 and len(sped) != 100 and [int(f[0, 0, 0]) for f in sped] == sorted(int(f[0, 0, 0]) for f in sped)
    dropped, _ = augment.make_clip_transform("drop", rng)(frames, 25.0)
    assert 50 < len(dropped) < 90 and int(dropped[0][0, 0, 0]) == 0
    refps, new = augment.make_clip_transform("fps", rng)(frames, 25.0)
    assert 8 <= new <= 15 and len(refps) / new == pytest.approx(100 / 25.0, abs=0.2)  # duration kept


def test_region_hasher_hashes_each_rectangle_of_each_frame():
    class Mean:
        bits, size = 8, 16

        def codes(self, frames):
            return np.packbits(frames.reshape(len(frames), -1, 8).mean(1)[:, :8] > 100, axis=1)

    frames = np.stack([_frame(), _frame()[::-1]])
    codes = RegionHasher(Mean()).codes(frames)
    assert codes.shape == (2 * len(REGIONS), 1)
    left, right = crops(frames[0])[1:3]
    assert left.shape[1] + right.shape[1] == frames.shape[2] and left.shape[0] == frames.shape[1]


def test_itq_rotation_is_orthogonal_and_lowers_quantisation_loss():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(500, 8)) @ rng.normal(size=(8, 8))
    r = itq_rotation(z)
    np.testing.assert_allclose(r @ r.T, np.eye(8), atol=1e-8)
    loss = lambda m: float(((np.sign(z @ m) - z @ m) ** 2).sum())  # noqa: E731
    assert loss(r) < loss(np.eye(8))


def test_learned_projection_ignores_the_directions_copies_move_along():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 6))
    x[:, 0] *= 3                         # the largest variance, but copies move along it: a nuisance
    copies = x + rng.normal(size=x.shape) * [10, 0.05, 0.05, 0.05, 0.05, 0.05]
    w, b = learn_projection(x, copies, 4)
    assert w.shape == (6, 4) and b.shape == (4,)
    flips = ((x @ w + b > 0) != (copies @ w + b > 0)).mean()
    w_pca, b_pca = learn_projection(x, copies, 4, whiten=False)
    assert flips < 0.1 < ((x @ w_pca + b_pca > 0) != (copies @ w_pca + b_pca > 0)).mean()
    w_more, _ = learn_projection(x, copies, 16)                  # more bits than dimensions: more blocks
    assert w_more.shape == (6, 16)


def test_train_hash_fits_a_head_on_the_frozen_trunk_and_saves_only_it(tmp_path, one_torch_thread):
    from apps.video_search.train import TrainConfig, train_hash
    from vidml.backbones.hashing import load_hashing_net
    from vidml.metric.distances import hamming

    cfg = TrainConfig(data=(str(SAMPLES / "juice"),), val=(), out=str(tmp_path / "h.pt"), bits=64, size=64,
                      per_source=12, crops=0, views=1, method="tuned", steps=20, batch=16, quiet=True,
                      command="vidml train hash x")
    res = train_hash(cfg)
    assert res.out.stat().st_size < 100_000 and res.metrics["train_frames"] == 12
    assert res.card["command"] == "vidml train hash x" and res.card["method"] == "tuned"
    net, card = load_hashing_net(res.out)
    assert net.config["trunk"] == "mnv2@13+avgmax" and card["families"] == list(cfg.families)
    f = _frame()
    copy = augment.make_transform("jpeg", np.random.default_rng(0), f.shape)(f)
    codes = net.codes(np.stack([f, copy, np.ascontiguousarray(f[::-1, ::-1])]))
    np.testing.assert_array_equal(codes, res.net.codes(np.stack([f, copy, np.ascontiguousarray(f[::-1, ::-1])])))
    d = hamming(codes[:1], codes)[0]
    assert d[1] < d[2]                               # a JPEG copy is nearer than the frame turned upside down


def test_tapped_features_pool_each_block_and_survive_a_head_only_checkpoint(tmp_path, one_torch_thread):
    import torch
    import torch.nn.functional as F

    from vidml.backbones.hashing import HashingNet, load_hashing_net
    from vidml.backbones.weights import save_checkpoint

    frames = np.stack([_frame(), _frame()[::-1].copy()])
    net = HashingNet(bits=64, trunk="mnv2@16+avgmax", size=64, taps=(13, 16)).eval()
    assert net.bit_layer.in_features == 2 * (96 + 160)
    x = torch.from_numpy(net.prepare(frames)).permute(0, 3, 1, 2).float() / 255
    m13 = net.trunk.blocks[:14]((x - net.trunk.mean) / net.trunk.std)
    m16 = net.trunk.blocks[14:](m13)
    parts = [F.normalize(p(m, 1).flatten(1), dim=1) for m in (m13, m16)
             for p in (F.adaptive_avg_pool2d, F.adaptive_max_pool2d)]
    np.testing.assert_allclose(net.embed(frames), (torch.cat(parts, 1) / 2).numpy(), atol=1e-5)
    path = save_checkpoint(tmp_path / "h.pt", "hashing", dict(net.config, head_only=True), net.saved_module(), {})
    again, _ = load_hashing_net(path)
    assert again.taps == (13, 16)
    np.testing.assert_array_equal(net.codes(frames), again.codes(frames))
    with pytest.raises(ValueError):
        HashingNet(bits=64, trunk="mnv2@13+avgmax", taps=(13, 16))   # the last tap must be the trunk's cut


def _cascade_index(tmp_path):
    from vidml.index import Index

    rng = np.random.default_rng(0)
    index = Index(tmp_path / "c.vidx")
    index.manifest.update(fps=2.0, hasher={"radius": 20})
    videos = [rng.integers(0, 256, (300, 8), dtype=np.uint8) for _ in range(3)]
    for i, codes in enumerate(videos):
        index.add({"path": str(tmp_path / f"v{i}.mp4")}, codes, (np.arange(300) / 2.0).astype(np.float32))
    return index, videos


def test_region_cascade_searches_rectangles_only_when_the_whole_frames_find_nothing(tmp_path):
    from apps.video_search.clip_search import cascade

    index, videos = _cascade_index(tmp_path)
    times = np.arange(12) / 4.0                                        # 3 s at 4 samples/s
    calls = []

    def regions_of(v):
        def more():
            calls.append(v)
            return np.repeat(videos[v][np.arange(12) // 2 + 40][:, None], 7, 1)   # every rectangle = video v
        return more

    whole = videos[1][np.arange(12) // 2 + 100][:, None]               # frames 100.. of video 1, whole
    matches, null = cascade(index, whole, times, regions_of(2))
    assert calls == [] and matches[0].video == 1 and abs(matches[0].offset - 50.0) <= 0.5
    unrelated = np.random.default_rng(9).integers(0, 256, (12, 1, 8), dtype=np.uint8)
    matches, null = cascade(index, unrelated, times, regions_of(2))
    assert calls == [2] and matches[0].video == 2 and abs(matches[0].offset - 20.0) <= 0.5
    assert null.evalue(matches[0].video, matches[0].support) <= 0.01
    matches, _ = cascade(index, unrelated, times, None)                 # regions off: whole frames only
    assert not matches or matches[0].score < 0.4
    used: list = []                                  # the region pass: one query frame per library step (0.5 s)
    matches, _ = cascade(index, unrelated, times, regions_of(2), used=used)
    codes, frames = used[0]
    assert frames.tolist() == [0, 2, 4, 6, 8, 10] and codes.shape == (6, 8, 8) and matches[0].video == 2


def test_index_hashes_with_one_core_left_to_decoding_and_restores_torch_threads(tmp_path):
    import os

    import torch

    from apps.video_search.library import IndexConfig, hashing_threads, index_library
    from vidml.video import FrameWriter

    (tmp_path / "lib").mkdir()
    with FrameWriter(tmp_path / "lib" / "a.mp4", 10.0) as w:
        for i in range(20):
            w.write(np.roll(_frame(), 7 * i, axis=1))

    class Recorder:                     # a hasher that notes the torch thread count it runs under
        bits, seen = 64, []

        def codes(self, frames):
            self.seen.append(torch.get_num_threads())
            return np.zeros((len(frames), 8), np.uint8)

    before, rec = torch.get_num_threads(), Recorder()
    info = {"name": "rec", "sha256": "0", "bits": 64, "radius": 16}
    rep = index_library(IndexConfig(tmp_path / "lib", tmp_path / "i.vidx", faces=False, quiet=True), rec, info)
    assert rep.sampled_frames == 4 and set(rec.seen) == {hashing_threads()} and torch.get_num_threads() == before
    assert hashing_threads() == max(1, len(os.sched_getaffinity(0)) - 1)
    rec.seen.clear()
    index_library(IndexConfig(tmp_path / "lib", tmp_path / "j.vidx", faces=False, quiet=True, threads=3), rec, info)
    assert set(rec.seen) == {3} and torch.get_num_threads() == before


def test_choose_radius_keeps_one_percent_of_unrelated_pairs_for_both_distances():
    import torch

    from apps.video_search.train import FRAME_FAMILIES, _distances, choose_radius, copy_map
    from vidml.backbones.hashing import HashingNet

    torch.manual_seed(0)
    net = HashingNet(bits=64, pretrained=False).eval()
    rng = np.random.default_rng(0)
    dim = net.bit_layer.in_features
    db = rng.normal(size=(60, dim)).astype(np.float32)
    feats = {"db": db, "clip": np.repeat(np.arange(12), 5),
             "queries": {f: db + rng.normal(0, 0.3, db.shape).astype(np.float32) for f in FRAME_FAMILIES + ("camcord",)}}
    other = feats["clip"][:, None] != feats["clip"][None, :]
    for asym in (False, True):
        r = choose_radius(net, feats, asymmetric=asym)
        d = np.concatenate([_distances(net, feats["queries"][f], db, False, asym)[other] for f in FRAME_FAMILIES])
        assert (d <= r).mean() <= 0.01 < (d <= r + 1.0).mean()
    assert isinstance(choose_radius(net, feats), int) and isinstance(choose_radius(net, feats, asymmetric=True), float)
    m = copy_map(net, feats, asymmetric=True)
    assert set(m) == set(FRAME_FAMILIES) | {"camcord", "mAP"} and m["mAP"] > 0.3   # chance: ~0.05 (own frame of 60, neighbours unrelated)

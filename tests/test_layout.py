"""Layout codes (vidml.backbones.layout): a fixed SimHash of a trunk map on a k x k grid, stored in the index
beside the search codes, and the temporal contrast that uses them (apps.video_search.reporting): on a fixed
camera's view (PETS09) a copy stands out at its time mapping by its layout, another moment does not."""
from __future__ import annotations

import glob

import cv2
import numpy as np
import pytest
import torch

from conftest import DATA, REPO, needs_data


def test_rademacher_planes_are_the_fixed_pcg64_bits():
    from vidml.backbones.layout import rademacher

    # known answer: bits of PCG64(3).random_raw(), least significant byte first; the same on every NumPy
    assert rademacher(2, 8, 3).astype(int).tolist() == [[-1, -1, -1, -1, -1, 1, 1, 1], [-1, -1, 1, 1, 1, 1, -1, 1]]
    assert float(rademacher(3, 1024, 3).sum()) == -10.0


def test_hamming_of_layout_codes_estimates_the_angle():
    from vidml.backbones.layout import LayoutCoder
    from vidml.metric.distances import hamming

    coder = LayoutCoder(channels=8, grid=3, bits=1024, seed=3)
    g = torch.Generator().manual_seed(0)
    fmap = torch.randn(2, 8, 7, 7, generator=g)
    fmap[1] = fmap[0] + 0.8 * torch.randn(8, 7, 7, generator=g)      # a related map
    d = coder.describe(fmap)
    angle = float(torch.arccos((d[0] * d[1]).sum().clamp(-1, 1))) / np.pi
    codes = coder.codes(fmap)
    est = float(hamming(codes[:1], codes[1:])[0, 0]) / 1024
    assert 0.05 < angle < 0.45 and abs(est - angle) < 0.05     # E[H] / bits = angle / pi; sd ~ 0.015


def _juice_frames() -> np.ndarray:
    paths = sorted(glob.glob(str(REPO / "samples" / "juice" / "*.jpg")))[:6]
    return np.stack([cv2.cvtColor(cv2.imread(p), cv2.COLOR_BGR2RGB) for p in paths])


def test_one_pass_gives_the_search_codes_and_the_mirrored_view_is_the_flipped_frame():
    from apps.video_search.library import load_hasher
    from vidml.metric.distances import hamming

    net, _ = load_hasher(None)
    frames = _juice_frames()
    codes, layout = net.codes_and_layout(frames)
    assert np.array_equal(codes, net.codes(frames)) and layout.shape == (len(frames), 1024 // 8)
    q_codes, views = net.codes_and_layout_views(frames)
    assert np.array_equal(q_codes, codes) and np.array_equal(views[:, 0], layout)
    _, flipped = net.codes_and_layout(np.ascontiguousarray(frames[:, :, ::-1]))
    assert np.diag(hamming(views[:, 1], flipped)).max() <= 16            # the same up to resampling
    assert np.diag(hamming(views[:, 0], flipped)).min() >= 64            # a layout is not mirror-symmetric


def test_a_layout_of_an_earlier_block_comes_from_the_same_trunk_pass():
    from vidml.backbones.embed import to_tensor
    from vidml.backbones.hashing import HashingNet

    torch.manual_seed(0)
    net = HashingNet(bits=64, trunk="mnv2@13+avgmax", size=112, layout={"grid": 6, "block": 3}).eval()
    assert net.config["layout"] == {"grid": 6, "bits": 1024, "seed": 3, "block": 3}
    frames = _juice_frames()
    codes, layout = net.codes_and_layout(frames)
    x = to_tensor(net.prepare(frames))
    with torch.no_grad():
        block3 = net.trunk.maps_at(x, (3,))[0]                        # (N, 24, 28, 28) at 112 px
        mirrored = net.layout.codes(net.trunk.maps_at(torch.flip(x, dims=[3]), (3,))[0])
    assert block3.shape[1:] == (24, 28, 28) and net.layout.planes.shape == (24 * 36, 1024)
    assert np.array_equal(codes, net.codes(frames)) and np.array_equal(layout, net.layout.codes(block3))
    assert np.array_equal(net.codes_and_layout_views(frames)[1][:, 1], mirrored)
    with pytest.raises(ValueError, match="block"):
        HashingNet(bits=64, trunk="mnv2@13+avgmax", layout={"block": 14})


def test_index_keeps_layout_codes_and_reads_an_index_without_them(tmp_path):
    from vidml.errors import BadInput
    from vidml.index import Index
    from vidml.index import store

    rng = np.random.default_rng(0)
    codes, lay, times = (rng.integers(0, 256, (5, 8), dtype=np.uint8), rng.integers(0, 256, (5, 16), dtype=np.uint8),
                         np.arange(5, dtype=np.float32))
    idx = Index(tmp_path / "a.vidx", bits=64)
    idx.add({"path": str(tmp_path / "v1.mp4")}, codes, times, layout=lay)
    idx.add({"path": str(tmp_path / "v2.mp4")}, codes[:3], times[:3], layout=lay[:3])
    idx.save()
    again = Index(tmp_path / "a.vidx")
    assert np.array_equal(again.layout, np.concatenate([lay, lay[:3]]))
    with pytest.raises(ValueError):
        again.add({"path": str(tmp_path / "v3.mp4")}, codes, times, layout=lay[:2])
    plain = Index(tmp_path / "b.vidx", bits=64)
    plain.add({"path": str(tmp_path / "v1.mp4")}, codes, times)
    plain.save()
    assert Index(tmp_path / "b.vidx").layout is None
    seg = tmp_path / "c.vidx"
    seg.mkdir()
    store.write_segment(seg, "seg-000001.npz", codes, times, {}, layout=lay[:4])    # rows do not match
    with pytest.raises(BadInput, match="layout"):
        store.read_segment(seg, "seg-000001.npz")


def _write(src, dst, start_s: float, length_s: float, edit: str | None = None) -> None:
    """``length_s`` s of ``src`` from ``start_s``, under ``edit`` (apps.video_search.augment), re-encoded."""
    from apps.video_search.augment import make_transform
    from vidml.video import FrameReader, FrameWriter

    r = FrameReader(src)
    a = r.index_at(start_s)
    fn = make_transform(edit, np.random.default_rng(0), (r.size[1], r.size[0])) if edit else None
    with FrameWriter(dst, r.fps) as w:
        for _, batch in r.batches(start=a, stop=min(len(r), a + int(length_s * r.fps)), batch_size=32):
            for f in batch:
                w.write(fn(f) if fn else f)


@needs_data
def test_layout_contrast_tells_a_flipped_copy_from_another_moment_of_a_fixed_camera(tmp_path):
    from apps.video_search.clip_search import hash_query, match_codes
    from apps.video_search.library import IndexConfig, index_library, load_hasher
    from apps.video_search.reporting import DEFAULT_MIN_CONTRAST, match_contrast
    from vidml.index import Index
    from vidml.video import FrameReader

    src = DATA / "videos" / "vtest_pets09_480x360_arjun.avi"    # a fixed camera, small walkers
    r = FrameReader(src)
    half = len(r) / r.fps / 2
    (tmp_path / "lib").mkdir()
    _write(src, tmp_path / "lib" / "first_half.mp4", 0.0, half)
    net, info = load_hasher(None)
    index_library(IndexConfig(tmp_path / "lib", tmp_path / "lib.vidx", faces=False, quiet=True), net, info)
    index = Index(tmp_path / "lib.vidx")
    assert index.layout is not None and index.layout.shape == (len(index), 128)
    out = {}
    for name, start in (("copy", half / 3), ("other", half + 3.0)):
        _write(src, tmp_path / f"{name}.mp4", start, 4.0, "flip")
        codes, times, lay = hash_query(tmp_path / f"{name}.mp4", net, 4.0, regions=False, layout=True)
        m = match_codes(index, codes, times)[0]
        out[name] = (match_contrast(index, codes, times, m), match_contrast(index, codes, times, m, lay))
    (copy_codes, copy_both), (other_codes, other_both) = out["copy"], out["other"]
    # by its search codes the flipped copy stands out at its own time mapping hardly more than another moment
    # does (a static scene, small walkers); by its layout (mirrored view) it does. Measured: copy 2.35 bits by
    # the codes, 12.1 with the layouts (block-3 map, 6 x 6 grid); the other moment -1.6 by the codes, -5.6 with
    # the layouts (the codes' contrast counts less CODES_MARGIN there)
    assert copy_both >= DEFAULT_MIN_CONTRAST > max(other_both, other_codes)
    assert copy_both - copy_codes >= 2.0


@needs_data
def test_a_side_by_side_copy_of_a_fixed_camera_stands_out_by_its_rectangle_s_layout(tmp_path):
    from apps.video_search.clip_search import REGIONS, hash_query, match_codes, search_clip
    from apps.video_search.library import IndexConfig, index_library, load_hasher
    from apps.video_search.null_model import DEFAULT_EVALUE
    from apps.video_search.reporting import DEFAULT_MIN_CONTRAST, contrasts
    from vidml.index import Index
    from vidml.video import FrameReader

    src = DATA / "videos" / "vtest_pets09_480x360_arjun.avi"
    half = len(FrameReader(src)) / FrameReader(src).fps / 2
    (tmp_path / "lib").mkdir()
    _write(src, tmp_path / "lib" / "first_half.mp4", 0.0, half)
    net, info = load_hasher(None)
    index_library(IndexConfig(tmp_path / "lib", tmp_path / "lib.vidx", faces=False, quiet=True), net, info)
    index = Index(tmp_path / "lib.vidx")
    found, inner = {}, {}
    for name, start in (("copy", half / 3), ("other", half + 3.0)):
        clip = tmp_path / f"{name}.mp4"
        _write(src, clip, start, 4.0, "side_by_side")      # the view in one half, a plain field in the other
        found[name] = search_clip(index, clip, hasher=net)
        codes, times, whole = hash_query(clip, net, 4.0, regions=True, layout=True)
        m = match_codes(index, codes, times)[:1]
        ev, rule = [0.0], (0.0, DEFAULT_EVALUE)
        inner[name] = (contrasts(index, codes, times, m, ev, *rule, layout=whole[:, :2])[0],
                       contrasts(index, codes, times, m, ev, *rule, layout=whole[:, :2],
                                 more_layout=lambda: whole[:, 2:])[0])
        assert whole.shape[1] == 2 * len(REGIONS)
    # the whole frame's layout is half a plain field; the rectangle holding the copy has the view's layout.
    # Measured: the copy 6.8 bits with the rectangles' layouts; the other moment below 0 either way
    assert inner["copy"][1] >= max(inner["copy"][0] + 2.0, 6.0) and max(inner["other"]) < 0.0, inner
    assert found["copy"] and not found["other"] and inner["copy"][1] >= DEFAULT_MIN_CONTRAST

"""video-index / video-search end to end on real videos: a transformed sub-clip is found at the right
place, a clip from no library video is "no match", re-indexing adds only new videos, bad files are skipped."""
from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pytest

from conftest import DATA, needs_data
from vidml.cli import main

pytestmark = needs_data
LIB = ["megamind_720x528.avi", "pysot_bag.avi", "car_traffic_small.mp4"]


def _write_clip(src, dst, start_s, length_s, transforms, seed=0):
    from apps.video_search.augment import make_transform
    from vidml.video import FrameReader, FrameWriter

    r = FrameReader(src)
    rng = np.random.default_rng(seed)
    fns = [make_transform(t, rng, (r.size[1], r.size[0])) for t in transforms]
    a = r.index_at(start_s)
    with FrameWriter(dst, r.fps) as w:
        for _, batch in r.batches(start=a, stop=a + int(length_s * r.fps), batch_size=32):
            for f in batch:
                for fn in fns:
                    f = fn(f)
                w.write(f)


@pytest.fixture(scope="module")
def library(tmp_path_factory):
    root = tmp_path_factory.mktemp("vs")
    lib = root / "lib"
    lib.mkdir()
    for name in LIB[:2]:
        os.symlink(DATA / "videos" / name, lib / name)
    (lib / "broken.mp4").write_bytes(b"this is not a video")
    index = root / "lib.vidx"
    assert main(["video-index", str(lib), "--index", str(index), "--quiet", "--no-faces"]) == 0
    return root, lib, index


def test_reindex_adds_only_new_videos_and_skips_broken(library, capsys):
    root, lib, index = library
    from vidml.index import Index

    idx = Index(index)
    assert sorted(os.path.basename(v["path"]) for v in idx.videos) == sorted(LIB[:2])
    assert [os.path.basename(f["path"]) for f in idx.manifest["failed"]] == ["broken.mp4"]
    os.symlink(DATA / "videos" / LIB[2], lib / LIB[2])
    capsys.readouterr()
    assert main(["video-index", str(lib), "--index", str(index), "--quiet", "--no-faces"]) == 0
    out = capsys.readouterr()
    assert "indexed 1 video(s)" in out.out and "2 unchanged" in out.out and "broken.mp4" in out.err
    assert len(Index(index).videos) == 3


def _search(index, clip, capsys, *extra):
    capsys.readouterr()
    assert main(["video-search", "--query", str(clip), "--index", str(index), "--json", *extra]) == 0
    return json.loads(capsys.readouterr().out)["matches"]


@pytest.mark.parametrize("transforms,start", [(["crop"], 3.0), (["overlay"], 8.0), (["flip", "colour"], 5.5)])
def test_transformed_subclip_is_found_in_the_right_video(library, capsys, transforms, start):
    root, lib, index = library
    clip = root / f"query_{'_'.join(transforms)}.mp4"
    _write_clip(DATA / "videos" / "megamind_720x528.avi", clip, start, 3.0, transforms)
    hits = _search(index, clip, capsys)
    assert hits and os.path.basename(hits[0]["video"]) == "megamind_720x528.avi"
    assert all(h["score"] <= hits[0]["score"] for h in hits)
    assert 0.0 <= hits[0]["query_start"] <= hits[0]["query_end"] <= 3.0 + 0.5


@pytest.mark.parametrize("video,transform,start", [
    pytest.param("pysot_bag.avi", "overlay", 2.0, marks=pytest.mark.xfail(
        strict=True, reason="known shortfall of the hash256 codes (pretrained trunk): found in the right video, but "
        "placed 1.07 s off (hash64 was within 1 s): the slowly moving bag scene gets near-identical codes for ~1 s")),
    ("megamind_720x528.avi", "flip", 5.5)])
def test_transformed_subclip_is_placed_at_its_start_time(library, capsys, video, transform, start):
    root, lib, index = library
    if not (lib / video).exists():
        os.symlink(DATA / "videos" / video, lib / video)
        assert main(["video-index", str(lib), "--index", str(index), "--quiet", "--no-faces"]) == 0
    clip = root / f"place_{transform}_{video}.mp4"
    _write_clip(DATA / "videos" / video, clip, start, 4.0, [transform])
    hits = _search(index, clip, capsys)
    assert hits and os.path.basename(hits[0]["video"]) == video
    assert abs(hits[0]["offset"] - start) <= 1.0
    assert hits[0]["video_start"] >= start - 1.0 and hits[0]["video_end"] <= start + 4.0 + 1.0


@pytest.mark.parametrize("video,start", [
    ("megamind_720x528.avi", 3.0),   # a 1-8 s talking head: the start is placed right
    pytest.param("car_traffic_small.mp4", 12.0, marks=pytest.mark.xfail(
        strict=True, reason="known shortfall: the codes are crop-invariant enough to give the fixed traffic camera "
        "nearly one code for seconds, so a cropped clip's start inside it is ambiguous"))])
def test_start_of_a_cropped_clip_inside_a_near_static_shot(library, capsys, video, start):
    root, lib, index = library
    if not (lib / video).exists():
        os.symlink(DATA / "videos" / video, lib / video)
        assert main(["video-index", str(lib), "--index", str(index), "--quiet", "--no-faces"]) == 0
    clip = root / f"static_crop_{video}.mp4"
    _write_clip(DATA / "videos" / video, clip, start, 4.0, ["crop"])
    # placement only (whether the default 0.4 reports it is the calibration's business: hash256 scores this crop ~0.4)
    hits = _search(index, clip, capsys, "--threshold", "0")
    assert hits and os.path.basename(hits[0]["video"]) == video and abs(hits[0]["offset"] - start) <= 1.0


def test_clip_from_no_library_video_scores_below_a_copy_and_no_match_is_said(library, capsys):
    root, lib, index = library
    clip = root / "distractor.mp4"
    _write_clip(DATA / "faces" / "face_recognition_examples" / "short_hamilton_clip.mp4", clip, 1.0, 4.0, ["jpeg"])
    copy = root / "copy_jpeg.mp4"
    _write_clip(DATA / "videos" / "pysot_bag.avi", copy, 1.0, 4.0, ["jpeg"])
    top_distractor = max([h["score"] for h in _search(index, clip, capsys, "--threshold", "0")] or [0.0])
    top_copy = _search(index, copy, capsys)[0]["score"]
    assert top_copy > top_distractor
    ranked = _search(index, copy, capsys, "--all")            # the whole ranking: the copy first and reported
    assert ranked[0]["reported"] and os.path.basename(ranked[0]["video"]) == "pysot_bag.avi"
    assert not any(h["reported"] for h in _search(index, clip, capsys, "--all"))
    capsys.readouterr()
    threshold = f"{(top_copy + top_distractor) / 2:.3f}"
    assert main(["video-search", "--query", str(clip), "--index", str(index), "--threshold", threshold]) == 0
    assert capsys.readouterr().out.startswith("no match")


def test_user_errors_are_one_line_exit_2(library, tmp_path, capsys):
    root, lib, index = library
    assert main(["video-search", "--query", str(tmp_path / "missing.mp4"), "--index", str(index)]) == 2
    assert main(["video-search", "--query", str(lib / "broken.mp4"), "--index", str(index)]) == 2
    assert main(["video-search", "--query", "x.mp4", "--index", str(tmp_path / "nope.vidx")]) == 2
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["video-index", str(empty), "--index", str(tmp_path / "e.vidx"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and all(line.startswith("vidml: error:") for line in err)


def test_an_index_of_other_weights_says_reindex_and_ivf_search_works(library, tmp_path, capsys):
    root, lib, index = library
    clip = root / "ivf_query.mp4"
    _write_clip(DATA / "videos" / "pysot_bag.avi", clip, 1.0, 3.0, ["jpeg"])
    hits = _search(index, clip, capsys, "--backend", "ivf")
    assert hits and os.path.basename(hits[0]["video"]) == "pysot_bag.avi"
    one = _search(index, clip, capsys, "--backend", "ivf", "--nprobe", "1")   # one list: fewer frames found
    assert sum(h["score"] for h in one) <= sum(h["score"] for h in hits)
    from vidml.index import Index
    from vidml.index.search import HammingSearcher

    probed = Index(index)
    probed.nprobe = 1
    assert probed._searcher_for("ivf")._faiss.index.nprobe == 1
    assert isinstance(probed._searcher, HammingSearcher)
    capsys.readouterr()
    assert main(["video-search", "--query", str(clip), "--index", str(index), "--nprobe", "4"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--backend ivf" in err[0]
    other = tmp_path / "other.vidx"
    shutil.copytree(index, other)
    manifest = json.loads((other / "manifest.json").read_text())
    manifest["hasher"] = {"name": "hash64", "sha256": "0" * 64, "bits": 64}
    (other / "manifest.json").write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["video-search", "--query", str(clip), "--index", str(other)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vidml: error:") and "re-index" in err[0]
    assert main(["video-index", str(lib), "--index", str(other), "--quiet", "--no-faces"]) == 2
    assert "re-index" in capsys.readouterr().err


def test_face_flag_without_face_search_is_a_clear_error(library, capsys):
    pytest.importorskip("torch")
    try:
        import apps.video_search.face_search  # noqa: F401
        pytest.skip("face search is built; its own tests cover --face")
    except ImportError:
        pass
    root, lib, index = library
    assert main(["video-search", "--face", "x.jpg", "--index", str(index)]) == 2
    assert "face search not built yet" in capsys.readouterr().err

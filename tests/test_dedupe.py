"""vidml video-dedupe: pairs of videos sharing a segment (known answers on real clips and planted codes),
clusters, the HTML report (thumbnails; a headless Chromium screenshot when chromium is installed)."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from conftest import DATA, needs_data

from apps.video_search.dedupe import DedupeConfig, DedupePair, cluster_pairs, find_pairs
from vidml.index import Index

VIDEOS = DATA / "videos"


def _walk(rng, n: int) -> np.ndarray:
    """n unpacked 64-bit codes, each 2 bits from the previous (a video's frames drift slowly)."""
    bits = np.unpackbits(rng.integers(0, 256, (1, 8), dtype=np.uint8), axis=1).repeat(n, 0)
    for t in range(1, n):
        bits[t] = bits[t - 1]
        bits[t, rng.choice(64, 2, replace=False)] ^= 1
    return bits


def test_find_pairs_on_planted_codes(tmp_path):
    """Video 1 holds video 0's rows 10..39 (3 bits flipped each) from its 5th second; video 2 is static (one
    code repeated, whose own rows would fill every top-k slot); video 3 copies a span of the static one."""
    rng = np.random.default_rng(0)
    vids = [_walk(rng, 60) for _ in range(5)]
    span = vids[0][10:40].copy()
    for row in span:
        row[rng.choice(64, 3, replace=False)] ^= 1
    vids[1][10:40] = span
    vids[2] = np.repeat(vids[2][:1], 200, 0)
    vids[3][0:30] = vids[2][:30]
    index = Index(tmp_path / "syn.vidx", bits=64)
    for i, v in enumerate(vids):
        index.add({"path": f"/syn/{i}.mp4", "size": 1, "mtime": 0.0}, np.packbits(v, axis=1), np.arange(len(v)) * 0.5)
    pairs = find_pairs(index, list(range(5)), DedupeConfig(None, threshold=0.2))
    assert {frozenset((Path(p.a).stem, Path(p.b).stem)) for p in pairs} == {frozenset("10"), frozenset("32")}
    p = next(p for p in pairs if {Path(p.a).stem, Path(p.b).stem} == {"0", "1"})
    spans = {Path(p.a).stem: (p.a_start, p.a_end), Path(p.b).stem: (p.b_start, p.b_end)}
    assert spans["1"] == pytest.approx((5.0, 19.5), abs=1.5)       # rows 10..39 of video 1 (+- the 2-bit drift)...
    assert spans["0"] == pytest.approx((5.0, 19.5), abs=1.5)       # ... are rows 10..39 of video 0
    assert p.score > 0.35 and p.evalue <= 0.01          # 30 of 60 frames agree (weighted by distance)
    for backend in ("faiss", "ivf"):
        again = find_pairs(index, list(range(5)), DedupeConfig(None, threshold=0.2, backend=backend))
        assert {(q.a, q.b) for q in again} == {(q.a, q.b) for q in pairs}


def test_clusters_are_connected_components():
    def pair(a, b):
        return DedupePair(a, b, 0.0, 1.0, 0.0, 1.0, 0.9, 0.0)

    pairs = [pair("a", "b"), pair("c", "b"), pair("d", "e")]
    assert cluster_pairs(pairs) == [["a", "b", "c"], ["d", "e"]]
    assert [p.cluster for p in pairs] == [0, 0, 1]
    assert cluster_pairs([]) == []


def _hashing_weights() -> Path:
    """The shipped default HashingNet, or (while a new default is being trained) any shipped one."""
    import torch

    from apps.video_search.library import DEFAULT_WEIGHTS
    from vidml.backbones.weights import WEIGHTS_DIR, shipped

    if shipped(DEFAULT_WEIGHTS).exists():
        return shipped(DEFAULT_WEIGHTS)
    return next(p for p in sorted(WEIGHTS_DIR.glob("*.pt")) if torch.load(p, weights_only=True)["kind"] == "hashing")


def _cli(*argv) -> tuple[int, str, str]:
    """``vidml ARGV`` in this process (the command line's own entry point): (exit status, stdout, stderr)."""
    import contextlib
    import io

    from vidml.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        rc = main([str(a) for a in argv])
    return rc, out.getvalue(), err.getvalue()


@pytest.fixture(scope="module")
def deduped(tmp_path_factory):
    """A real library: megamind, a JPEG-degraded, re-encoded 5 s sub-clip of it (from 3.0 s), bag and demo."""
    if not DATA.exists():
        pytest.skip("needs ../shared/data (benchmark data, not shipped with vidml)")
    from apps.video_search.augment import make_transform
    from vidml.video import FrameReader, FrameWriter

    root = tmp_path_factory.mktemp("dedupe")
    lib = root / "lib"
    lib.mkdir()
    for name in ("megamind_720x528.avi", "pysot_bag.avi", "demo.mp4"):
        shutil.copy(VIDEOS / name, lib / name)
    r = FrameReader(VIDEOS / "megamind_720x528.avi")
    edit = make_transform("jpeg", np.random.default_rng(1), (r.size[1], r.size[0]))
    a = r.index_at(3.0)
    with FrameWriter(lib / "copy.mp4", r.fps / 2) as w:
        for _, batch in r.batches(stride=2, start=a, stop=a + int(5 * r.fps)):
            for f in batch:
                w.write(edit(f))
    rc, out, err = _cli("video-dedupe", lib, "--index", root / "lib.vidx", "--json", "--report", root / "report.html",
                        "--quiet", "--threads", "1", "--weights", _hashing_weights())
    assert rc == 0, err[-2000:]
    return root, json.loads(out)


@needs_data
def test_dedupe_finds_the_planted_copy_and_only_it(deduped):
    root, res = deduped
    assert res["videos"] == 4 and res["indexed"] == 4
    assert [sorted(Path(v).name for v in c) for c in res["clusters"]] == [["copy.mp4", "megamind_720x528.avi"]]
    (p,) = res["pairs"]
    copy_side = "a" if Path(p["a"]).name == "copy.mp4" else "b"
    orig = "b" if copy_side == "a" else "a"
    offset = p[f"{orig}_start"] - p[f"{copy_side}_start"]        # where the copy's time 0 sits in megamind
    assert offset == pytest.approx(3.0, abs=0.6) and p["score"] >= 0.5
    # a second run reuses the index (nothing re-hashed) and gives the same pairs
    from apps.video_search.dedupe import dedupe_library

    again = dedupe_library(DedupeConfig(root / "lib", index=root / "lib.vidx", weights=_hashing_weights(), quiet=True))
    assert again.indexed == 0 and again.as_dict()["pairs"] == res["pairs"]


@needs_data
def test_report_has_thumbnails_side_by_side(deduped, tmp_path):
    root, _ = deduped
    page = (root / "report.html").read_text()
    assert page.count('src="data:image/jpeg;base64,') == 6     # 3 moments x (copy, original)
    assert "Cluster 1: 2 videos" in page and "copy.mp4" in page and "<script" not in page
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        pytest.skip("chromium not installed (apt-get install -y chromium): no screenshot taken")
    png = tmp_path / "shot.png"
    subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--screenshot={png}",
                    "--window-size=1280,900", (root / "report.html").as_uri()], capture_output=True, timeout=120)
    import cv2

    shot = cv2.imread(str(png))
    assert shot is not None and shot.shape[:2] == (900, 1280)
    assert shot[150:450, :700].std() > 20      # the thumbnails rendered (a blank page is flat)


def test_dedupe_bad_input_is_one_line(tmp_path):
    from apps.video_search.dedupe import dedupe_library
    from vidml.errors import BadInput

    (tmp_path / "empty").mkdir()
    rc, _, err = _cli("video-dedupe", tmp_path / "empty", "--index", tmp_path / "e.vidx", "--quiet")
    assert rc == 2 and err.startswith("vidml: error: ") and err.count("\n") == 1, err
    assert "no video files" in err and not (tmp_path / "e.vidx").exists()
    with pytest.raises(BadInput, match="no index here"):
        dedupe_library(DedupeConfig(None, index=tmp_path / "none.vidx"))
    with pytest.raises(BadInput, match="--threshold"):
        dedupe_library(DedupeConfig(tmp_path / "empty", threshold=2.0))


@needs_data
def test_video_search_report(deduped):
    root, _ = deduped
    rc, out, err = _cli("video-search", "--query", root / "lib" / "copy.mp4", "--index", root / "lib.vidx", "--json",
                        "--report", root / "search.html", "--weights", _hashing_weights())
    assert rc == 0, err[-2000:]
    names = [Path(m["video"]).name for m in json.loads(out)["matches"]]
    page = (root / "search.html").read_text()
    assert names[:2] == ["copy.mp4", "megamind_720x528.avi"] and "megamind_720x528.avi" in page   # itself, its source
    assert page.count('src="data:image/jpeg;base64,') == 6 * len(names)   # query beside match, 3 moments each

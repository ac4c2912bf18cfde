"""vidml video-dedupe: pairs of videos sharing a segment (known answers on real clips and planted codes),
clusters, the HTML report (thumbnails; a headless Chromium screenshot when chromium is installed)."""
from __future__ import annotations

import json
import shutil
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
    """A real library: megamind, a JPEG-degraded, re-encoded 5 s sub-clip of it (from 3.0 s), bag, a side-by-side
    composite of bag's 2.0-6.0 s (bag shrunk into one half, aspect kept; found by the region codes) and demo."""
    if not DATA.exists():
        pytest.skip("needs ../shared/data (benchmark data, not shipped with vidml)")
    from apps.video_search.augment import make_transform
    from vidml.video import FrameReader, FrameWriter

    root = tmp_path_factory.mktemp("dedupe")
    lib = root / "lib"
    lib.mkdir()
    for name in ("megamind_720x528.avi", "pysot_bag.avi", "demo.mp4"):
        shutil.copy(VIDEOS / name, lib / name)
    def plant(source: str, edit_name: str, seed: int, start: float, seconds: float, out: str) -> None:
        """Write ``seconds`` of ``source`` from ``start`` at half its frame rate, each frame edited."""
        r = FrameReader(VIDEOS / source)
        edit = make_transform(edit_name, np.random.default_rng(seed), (r.size[1], r.size[0]))
        a = r.index_at(start)
        with FrameWriter(lib / out, r.fps / 2) as w:
            for _, batch in r.batches(stride=2, start=a, stop=a + int(seconds * r.fps)):
                for f in batch:
                    w.write(edit(f))

    plant("megamind_720x528.avi", "jpeg", 1, 3.0, 5, "copy.mp4")
    plant("pysot_bag.avi", "side_by_side", 0, 2.0, 4, "sbs.mp4")
    rc, out, err = _cli("video-dedupe", lib, "--index", root / "lib.vidx", "--json", "--report", root / "report.html",
                        "--quiet", "--threads", "1", "--weights", _hashing_weights())
    assert rc == 0, err[-2000:]
    return root, json.loads(out)


@needs_data
def test_dedupe_finds_the_planted_copies_and_only_them(deduped):
    root, res = deduped
    assert res["videos"] == 5 and res["indexed"] == 5
    assert sorted(sorted(Path(v).name for v in c) for c in res["clusters"]) == [
        ["copy.mp4", "megamind_720x528.avi"], ["pysot_bag.avi", "sbs.mp4"]]
    (p,) = [q for q in res["pairs"] if "copy.mp4" in (Path(q["a"]).name, Path(q["b"]).name)]
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
    assert page.count('src="data:image/jpeg;base64,') == 12    # 2 pairs x 3 moments x (copy, original)
    assert "Cluster 2: 2 videos" in page and "copy.mp4" in page and "sbs.mp4" in page and "<script" not in page
    assert page.count("contrast <b>") == 2
    from apps.video_search.report import chromium, screenshot

    if chromium() is None:
        pytest.skip("chromium not installed (apt-get install -y chromium): no screenshot taken")
    import cv2

    png = screenshot(root / "report.html", tmp_path / "shot.png")
    assert png is not None, "chromium wrote no screenshot"
    shot = cv2.imread(str(png))
    assert shot is not None and shot.shape[:2] == (900, 1280)
    assert shot[150:450, :700].std() > 20      # the thumbnails rendered (a blank page is flat)


@needs_data
def test_side_by_side_needs_the_region_codes(deduped):
    """The composite is found through its half-frame codes (2.0 s into bag), not by whole frames; the region
    codes (10 rectangles and the inset) come from the cache beside the index on a second run, and a spoilt
    cache entry is hashed again."""
    from apps.video_search.dedupe import dedupe_library
    from apps.video_search.dedupe_codes import RegionCodes
    from apps.video_search.library import load_hasher

    root, res = deduped
    (p,) = [q for q in res["pairs"] if "sbs.mp4" in (Path(q["a"]).name, Path(q["b"]).name)]
    side = "a" if Path(p["a"]).name == "sbs.mp4" else "b"
    other = "b" if side == "a" else "a"
    assert p[f"{other}_start"] - p[f"{side}_start"] == pytest.approx(2.0, abs=0.6) and p["score"] >= 0.5
    whole = dedupe_library(DedupeConfig(None, index=root / "lib.vidx", regions="whole", quiet=True))
    assert not [q for q in whole.pairs if "sbs.mp4" in (Path(q.a).name, Path(q.b).name)]
    index = Index(root / "lib.vidx")
    codes = RegionCodes(index, load_hasher(_hashing_weights())[0], "all+inset", layout=True)      # the default
    first = [codes.codes_of(v)[0] for v in range(len(index.videos))]
    assert codes.decoded == 0 and all(c.shape[1] == 11 for c in first)     # all from the cache
    victim = sorted((root / "lib.vidx" / "regions").glob("*.npz"))[0]
    victim.write_bytes(b"not an npz")
    again = [codes.codes_of(v)[0] for v in range(len(index.videos))]
    assert codes.decoded == 1 and all(np.array_equal(x, y) for x, y in zip(first, again))


@needs_data
def test_region_codes_hashed_on_workers(deduped, tmp_path):
    """--workers 2: the missing region codes are hashed on two Dask processes into the cache, equal to the
    in-process ones; the pairing then decodes nothing."""
    from apps.video_search.dedupe_codes import RegionCodes
    from apps.video_search.library import load_hasher

    root, _ = deduped
    index = Index(root / "lib.vidx")
    hasher = load_hasher(_hashing_weights())[0]
    few = list(np.argsort(np.bincount(index.video_of))[:2])                   # the two shortest videos
    serial = [RegionCodes(index, hasher, "all", cache=False).codes_of(v)[0] for v in few]
    codes = RegionCodes(index, hasher, "all")
    codes.folder = tmp_path / "regions"                                       # an empty cache (the index's stays)
    assert codes.prefetch(few, workers=2, weights=_hashing_weights()) == 2
    assert codes.prefetch(few, workers=2, weights=_hashing_weights()) == 0   # all cached: no workers started
    got = [codes.codes_of(v)[0] for v in few]
    assert codes.decoded == 0 and all(np.array_equal(x, y) for x, y in zip(serial, got))


def _static(rng, base: np.ndarray, n: int, flips: int = 4) -> np.ndarray:
    """n unpacked codes: ``base`` with ``flips`` random bits flipped in each (one scene, small changes)."""
    out = np.repeat(base[None], n, 0)
    for row in out:
        row[rng.choice(len(base), flips, replace=False)] ^= 1
    return out


def test_offset_contrast_tells_a_copy_from_another_recording(tmp_path):
    """A copy of moving content has a placement far better than any other (high contrast); two recordings of
    one static scene agree as well at every offset (contrast about 0), so --min-contrast drops only them."""
    from apps.video_search.dedupe_verify import offset_contrast

    rng = np.random.default_rng(0)
    vids = [_walk(rng, 80) for _ in range(4)]
    copy = vids[0][20:50].copy()
    for row in copy:
        row[rng.choice(64, 3, replace=False)] ^= 1
    vids.append(copy)                                           # 4: a copy of video 0's 10.0-24.5 s
    base = np.unpackbits(rng.integers(0, 256, 8, dtype=np.uint8))
    vids += [_static(rng, base, 60), _static(rng, base, 60)]   # 5, 6: one static scene, two recordings
    index = Index(tmp_path / "syn.vidx", bits=64)
    for i, v in enumerate(vids):
        index.add({"path": f"/syn/{i}.mp4", "size": 1, "mtime": 0.0}, np.packbits(v, axis=1), np.arange(len(v)) * 0.5)
    t = np.arange(30) * 0.5
    c_copy = offset_contrast(np.packbits(copy, axis=1)[:, None], t, index.codes[:80], index.times[:80], 10.0, 0.5)
    c_rec = offset_contrast(np.packbits(vids[5][:30], axis=1)[:, None], t, np.packbits(vids[6], axis=1),
                            np.arange(60) * 0.5, 0.0, 0.5)
    assert c_copy > 5 and abs(c_rec) < 1.5
    found = {frozenset((Path(p.a).stem, Path(p.b).stem)): p for p in
             find_pairs(index, list(range(7)), DedupeConfig(None, threshold=0.2, min_contrast=float("-inf")))}
    assert set(found) == {frozenset("04"), frozenset("56")}
    assert found[frozenset("04")].contrast > 5 and found[frozenset("56")].contrast < 1.5
    strict = find_pairs(index, list(range(7)), DedupeConfig(None, threshold=0.2, min_contrast=2.0))
    assert {frozenset((Path(p.a).stem, Path(p.b).stem)) for p in strict} == {frozenset("04")}
    longer = find_pairs(index, list(range(7)), DedupeConfig(None, threshold=0.2, min_contrast=2.0, min_span=20.0))
    assert longer == []                                        # the copy shares 14.5 s, not 20


def test_line_contrast_follows_a_speed_copy():
    """A copy played 1.5x faster agrees with its source only near one point at rate 1 (a low contrast);
    the line contrast finds its rate and a placement far better than any other; two recordings of one static
    scene still score about 0 at every rate."""
    from apps.video_search.dedupe_verify import line_contrast

    rng = np.random.default_rng(1)
    src, t_src = _walk(rng, 80), np.arange(80) * 0.5
    k = np.arange(26)
    fast = src[20 + np.round(1.5 * k).astype(int)].copy()   # frame k at 0.5 k s = source time 10 + 0.75 k s
    for row in fast:
        row[rng.choice(64, 3, replace=False)] ^= 1
    codes, t = np.packbits(fast, axis=1)[:, None], k * 0.5
    u = np.packbits(src, axis=1)
    anchor = (6.5, 10.0 + 1.5 * 6.5)
    c_line, speed = line_contrast(codes, t, u, t_src, anchor, 0.5)
    assert c_line > 5 and abs(speed - 1.5) < 0.1
    assert line_contrast(codes, t, u, t_src, anchor, 0.5, speeds=(1.0,))[0] < c_line - 3   # rate 1: the ends disagree
    base = np.unpackbits(rng.integers(0, 256, 8, dtype=np.uint8))
    a, b = _static(rng, base, 30), _static(rng, base, 60)
    c_rec, _ = line_contrast(np.packbits(a, axis=1)[:, None], np.arange(30) * 0.5, np.packbits(b, axis=1),
                             np.arange(60) * 0.5, (7.0, 12.0), 0.5)
    assert c_rec < 1.5


def test_pairs_through_a_common_video():
    """A and C both copy B's 10-20 s (A at half speed): A ~ C is derived on the moment they share, with A's and
    C's own times; D copies B's 40-50 s (another moment: nothing shared with A or C); E's link is too weak."""
    from apps.video_search.dedupe_chain import chained_pairs

    direct = [DedupePair("A", "B", 0.0, 20.0, 10.0, 20.0, 0.9, 1e-9, contrast=20.0),   # A's t -> B's 10 + t / 2
              DedupePair("B", "C", 12.0, 22.0, 0.0, 10.0, 0.8, 1e-8, contrast=12.0),   # B's 12-22 s is C's 0-10 s
              DedupePair("D", "B", 0.0, 10.0, 40.0, 50.0, 0.9, 1e-9, contrast=30.0),
              DedupePair("E", "B", 0.0, 10.0, 10.0, 20.0, 0.9, 1e-9, contrast=2.0)]
    derived = chained_pairs(direct, min_contrast=8.0)
    assert len(derived) == 1
    p = derived[0]
    assert (p.a, p.b, p.via) == ("A", "C", "B") and p.score == 0.8 and p.contrast == 12.0 and p.evalue == 1e-8
    assert np.allclose([p.a_start, p.a_end, p.b_start, p.b_end], [4.0, 20.0, 0.0, 8.0])   # B's 12-20 s
    assert chained_pairs(direct + [DedupePair("A", "C", 0, 1, 0, 1, 0.5, 1e-3)], 8.0) == []   # already direct
    assert len(chained_pairs(direct, min_contrast=0.0)) == 3                               # + A ~ E, C ~ E


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
    with pytest.raises(BadInput, match="--nprobe"):
        dedupe_library(DedupeConfig(tmp_path / "empty", nprobe=0))


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


def test_report_moments_sit_on_the_first_videos_frames_and_follow_a_speed_copy():
    """The thumbnails' times: a's on its frame grid (at 4 fps, 10 % of a 1-5 s span, 1.4 s, is shown by the
    frame at 1.5 s), b's mapped at the spans' rate (b's span twice as long: a GIF preview sped up 2x)."""
    from apps.video_search.report import moments

    def flat(ms):
        return pytest.approx([t for m in ms for t in m])

    assert [t for m in moments(1.0, 5.0, 10.0, 18.0, a_fps=4.0) for t in m] == flat([(1.5, 11.0), (3.0, 14.0), (4.5, 17.0)])
    assert [t for m in moments(1.0, 5.0, 10.0, 18.0) for t in m] == flat([(1.4, 10.8), (3.0, 14.0), (4.6, 17.2)])
    assert [t for m in moments(1.0, 5.0, 10.0) for t in m] == flat([(1.4, 10.4), (3.0, 12.0), (4.6, 13.6)])   # rate 1


def test_short_pairs_need_a_higher_contrast():
    """A pair sharing less than short_span s passes only at contrast >= short_contrast; longer ones at min_contrast."""
    from apps.video_search.dedupe import DedupePair, passes

    short = DedupePair("A", "B", 0.0, 2.0, 5.0, 7.0, 0.5, 1e-9, contrast=5.0)       # 2 s shared
    long_ = DedupePair("A", "C", 0.0, 6.0, 5.0, 11.0, 0.5, 1e-9, contrast=5.0)      # 6 s shared
    assert passes(long_, -2.0, 0.0, 3.0, 8.0) and not passes(short, -2.0, 0.0, 3.0, 8.0)
    assert passes(short, -2.0, 0.0, 3.0, 4.0) and passes(short, -2.0)               # no short rule: min_contrast only
    assert not passes(long_, 6.0, 0.0, 3.0, 8.0) and not passes(long_, -2.0, 7.0)  # min_contrast, min_span still hold



def test_layout_contrast_tells_a_copy_of_a_static_scene_from_another_recording(tmp_path):
    """``DedupeConfig(layout=True)`` (the default) takes the larger of the layout codes' line contrast and the
    search codes' less CODES_MARGIN (video-search's rule); ``layout=False`` the search codes' alone. Planted: three videos of one static scene whose
    search codes barely drift (1 bit a frame); video 1 copies video 0's 10-24.5 s, so its layouts (where small
    things are) follow video 0's there, while video 2, another recording, has layouts of its own."""
    rng = np.random.default_rng(0)
    base = np.unpackbits(rng.integers(0, 256, 8, dtype=np.uint8))

    def drift(start: np.ndarray, n: int, step: int) -> np.ndarray:     # n unpacked codes, ``step`` bits a frame
        bits = np.repeat(start[None], n, 0)
        for t in range(1, n):
            bits[t] = bits[t - 1]
            bits[t, rng.choice(bits.shape[1], step, replace=False)] ^= 1
        return bits

    def noisy(rows: np.ndarray, flips: int) -> np.ndarray:
        out = rows.copy()
        for row in out:
            row[rng.choice(out.shape[1], flips, replace=False)] ^= 1
        return out

    new_layout = lambda n: drift(np.unpackbits(rng.integers(0, 256, 128, dtype=np.uint8)), n, 16)  # noqa: E731
    codes0, lay0 = drift(base, 80, 1), new_layout(80)
    videos = [(codes0, lay0), (noisy(codes0[20:50], 1), noisy(lay0[20:50], 24)), (drift(base, 80, 1), new_layout(80))]
    index = Index(tmp_path / "syn.vidx", bits=64)
    for i, (c, lay) in enumerate(videos):
        index.add({"path": f"/syn/{i}.mp4", "size": 1, "mtime": 0.0}, np.packbits(c, axis=1),
                  np.arange(len(c)) * 0.5, layout=np.packbits(lay, axis=1))
    cfg = dict(threshold=0.2, min_contrast=float("-inf"), short_contrast=float("-inf"), chain_contrast=float("inf"))

    def contrasts(layout: bool) -> dict:
        return {frozenset((Path(p.a).stem, Path(p.b).stem)): p.contrast
                for p in find_pairs(index, [0, 1, 2], DedupeConfig(None, layout=layout, **cfg))}

    plain, both = contrasts(False), contrasts(True)
    copy, other = frozenset("01"), frozenset("02")
    assert copy in plain and set(plain) == set(both)
    # measured: the copy 3.8 bits by the search codes, 14.5 with the layouts; the copy against video 2 -0.6
    assert both[copy] >= plain[copy] + 3 and both[copy] > 5          # the layouts single the copy out
    assert all(both.get(k, -1) < 2 for k in (other, frozenset("12")))   # another recording: no line stands out


@needs_data
def test_a_still_shots_copy_is_paired_at_any_gate_and_video_search_reports_it(tmp_path):
    """A still shot (one real Dudek20 frame for 8 s) and a JPEG-degraded 6 s copy of it: nothing moves, so every
    time mapping agrees alike and no frame can tell the copy's moment from another: contrast +inf ("cannot
    tell", dedupe_verify: still frames carry no evidence), left to score and e-value. video-dedupe pairs them
    at any gate; video-search, with its 2-bit gate, reports the source (and the indexed copy itself) for the
    copy; it used to answer "no match" (contrast 0)."""
    from apps.video_search.augment import make_transform
    from apps.video_search.dedupe import dedupe_library
    from apps.video_search.search import SearchConfig, search
    from vidml.video import FrameReader, FrameWriter

    lib = tmp_path / "lib"
    lib.mkdir()
    frame = next(iter(FrameReader(DATA / "sot" / "Dudek20")))
    copy = make_transform("jpeg", np.random.default_rng(0), frame.shape[:2])(frame)
    for name, f, n in (("slide.mp4", frame, 80), ("slide_copy.mp4", copy, 60)):
        with FrameWriter(lib / name, 10) as w:
            for _ in range(n):
                w.write(f)
    shutil.copy(VIDEOS / "pysot_bag.avi", lib / "pysot_bag.avi")
    cfg = DedupeConfig(lib, index=tmp_path / "lib.vidx", quiet=True, weights=_hashing_weights(), min_contrast=30.0,
                       report=tmp_path / "report.html")
    (p,) = dedupe_library(cfg).pairs
    assert {Path(p.a).name, Path(p.b).name} == {"slide.mp4", "slide_copy.mp4"} and p.score >= 0.5
    assert p.contrast == float("inf")
    assert "contrast <b>n/a</b> (cannot tell: too short to shift, or a still shot)" in (tmp_path / "report.html").read_text()
    found = search(SearchConfig(str(lib / "slide_copy.mp4"), index=str(tmp_path / "lib.vidx"),
                                weights=_hashing_weights()))
    assert {Path(h["video"]).name for h in found.matches} == {"slide.mp4", "slide_copy.mp4"}   # the file itself too


@needs_data
def test_a_fixed_cameras_picture_in_picture_is_paired_through_its_inset(tmp_path):
    """car_traffic's fixed camera shown 6 s from 10 s as a 41 % x 40 % inset of a still Dudek20 frame, at no
    fixed rectangle: each video's inset (where its frames change, snapped to its border) pairs it with its
    source at its place; the fixed rectangles alone leave it a faint, unreported placement."""
    import cv2

    from apps.video_search.dedupe import dedupe_library
    from vidml.video import FrameReader, FrameWriter

    lib = tmp_path / "lib"
    lib.mkdir()
    for name in ("car_traffic_small.mp4", "pysot_bag.avi"):
        shutil.copy(VIDEOS / name, lib / name)
    still = next(iter(FrameReader(DATA / "sot" / "Dudek20")))
    r = FrameReader(VIDEOS / "car_traffic_small.mp4")
    a = r.index_at(10.0)
    with FrameWriter(lib / "pip.mp4", r.fps / 2) as w:
        for _, batch in r.batches(stride=2, start=a, stop=a + int(6 * r.fps)):
            for f in batch:
                page = cv2.resize(still, (640, 480), interpolation=cv2.INTER_LINEAR)
                page[250:440, 300:560] = cv2.resize(f, (260, 190), interpolation=cv2.INTER_AREA)
                w.write(page)

    def pairs(regions: str) -> list:
        cfg = DedupeConfig(lib, index=tmp_path / "lib.vidx", regions=regions, quiet=True, weights=_hashing_weights())
        return [(Path(p.a).name, Path(p.b).name, p) for p in dedupe_library(cfg).pairs]

    (found,) = pairs("all+inset")              # the default
    assert {found[0], found[1]} == {"pip.mp4", "car_traffic_small.mp4"} and found[2].score >= 0.3
    p = found[2]
    pip_start, car_start = (p.a_start, p.b_start) if found[0] == "pip.mp4" else (p.b_start, p.a_start)
    assert car_start - pip_start == pytest.approx(10.0, abs=1.5)
    assert pairs("all") == []


@needs_data
def test_region_layouts_are_the_index_layouts_and_find_a_composites_half(deduped, tmp_path):
    """``RegionCodes(layout=True)`` keeps each rectangle's layout views (shown, mirrored): the whole frame's
    shown view is the index's own layout of that frame; the composite's half that holds bag is nearer bag's
    layouts at the same moment than the composite's whole frame is (what the dedupe contrast looks at)."""
    from apps.video_search.dedupe_codes import RegionCodes
    from apps.video_search.library import load_hasher
    from vidml.metric.distances import hamming

    root, res = deduped
    index = Index(root / "lib.vidx")
    codes = RegionCodes(index, load_hasher(_hashing_weights())[0], "all+inset", layout=True)
    codes.folder = tmp_path / "regions"
    names = [Path(v["path"]).name for v in index.videos]
    sbs, bag = names.index("sbs.mp4"), names.index("pysot_bag.avi")
    lay, rows = codes.layouts_of(sbs), codes.rows(sbs)
    assert lay.shape == (len(index.times[rows]), 22, index.layout.shape[1])       # 11 rectangles x 2 views
    same = np.diag(hamming(lay[:, 0], index.layout[rows]))
    assert np.median(same) <= 8                                                 # of 1024 bits: the same frames
    (p,) = [q for q in res["pairs"] if "sbs.mp4" in (Path(q["a"]).name, Path(q["b"]).name)]
    shift = p["b_start"] - p["a_start"] if Path(p["a"]).name == "sbs.mp4" else p["a_start"] - p["b_start"]
    t, u_rows = index.times[rows], codes.rows(bag)
    u_t = index.times[u_rows]
    j = np.abs(u_t[None, :] - (t[:, None] + shift)).argmin(1)                   # bag's frame at the same moment
    d = np.stack([np.diag(hamming(lay[:, v], index.layout[u_rows][j])) for v in range(0, 22, 2)], 1)
    whole, best_half = np.median(d[:, 0]), np.median(d[:, 1:5], 0).min()       # views of the 4 side-by-side rects
    # measured: the same frames 0 bits apart; bag's moment 463 bits from the whole frame (512: unrelated),
    # 218 from the aspect-kept half that holds it, 227 from the composite's inset
    assert best_half < whole - 150, (whole, np.median(d, 0))


def test_a_placement_too_short_to_test_in_one_video_is_tested_from_the_other(tmp_path):
    """v→u: u (2 s, a copy of v's 2-3.5 s) leaves no room to place v's frames 2 s elsewhere (+inf, "cannot
    tell"); tested from u's side (u's frames in v, 6 s, which has room) the copy stands out by many bits."""
    from apps.video_search.alignment import ClipMatch
    from apps.video_search.dedupe import _contrast, _reverse_contrast
    from apps.video_search.dedupe_codes import RegionCodes

    rng = np.random.default_rng(3)
    v = _walk(rng, 12)
    v[::2] = np.unpackbits(rng.integers(0, 256, (6, 8), dtype=np.uint8), axis=1)   # frames that differ a lot
    index = Index(tmp_path / "syn.vidx", bits=64)
    for i, codes in enumerate((v, v[4:8].copy())):
        index.add({"path": f"/syn/{i}.mp4", "size": 1, "mtime": 0.0}, np.packbits(codes, axis=1),
                  np.arange(len(codes)) * 0.5)
    cfg = DedupeConfig(None, layout=False)
    codes = RegionCodes(index, None, "whole")
    m = ClipMatch(video=1, score=0.33, offset=-2.0, video_start=0.0, video_end=1.5, query_start=2.0, query_end=3.5,
                  frames=12)
    q, t = codes.codes_of(0)
    assert _contrast(index, q, t, m, codes.rows(1), 0.5, "line") == float("inf")
    back = _reverse_contrast(index, codes, 0, m, 0.5, cfg)
    assert np.isfinite(back) and back > 10       # measured 16.5 bits: u's 4 frames agree only at their moment


def _benchmark_module(name: str):
    """``benchmarks/<name>.py`` imported afresh (a context manager: benchmarks/ on sys.path meanwhile)."""
    import contextlib
    import importlib
    import sys

    @contextlib.contextmanager
    def loaded():
        bench = str(Path(__file__).resolve().parent.parent / "benchmarks")
        sys.path.insert(0, bench)
        try:
            sys.modules.pop(name, None)
            yield importlib.import_module(name)
        finally:
            sys.path.remove(bench)
            sys.modules.pop(name, None)

    return loaded()


def test_the_benchmarks_self_join_timing_finds_its_planted_copies(tmp_path):
    """benchmarks/bench_dedupe.py's synthetic timing (every search backend, region sets as random extra codes):
    at 40 videos each row finds every planted copy span and no false pair."""
    with _benchmark_module("dedupe_scale") as module:
        rows = module.scale_rows(40, (0.10, -1.0, 0.0, "line"), 0, tmp_path, 64)
    assert len(rows) == 8
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        found, planted = map(int, cells[5].split("/"))
        assert planted > 0 and found == planted and cells[6] == "0", row


def test_the_benchmarks_gate_in_the_targets_form():
    """choose_gate: 9 known TUNE pairs (contrast 10, one at 1) and 3 hard negatives (0, 2, 5 bits). Gates up to 1
    find 9/9 with 2-3 false; 2-5 find 8/9 (the copy at 1 dropped) with 1-2 false; 6 and 8 find 8/9 with none:
    the fewest false pairs at >= 8/9 found, then the lowest gate, is 6. A floor no gate reaches keeps F1's."""
    with _benchmark_module("dedupe_choice") as bench:
        def pair(a: str, b: str, contrast: float) -> DedupePair:
            return DedupePair(a, b, 0.0, 5.0, 0.0, 5.0, score=0.5, evalue=1e-9, contrast=contrast)

        copies = [pair(f"c{i}", f"d{i}", 1.0 if i == 0 else 10.0) for i in range(9)]
        hard = [pair(f"h{i}", f"k{i}", c) for i, c in enumerate((0.0, 2.0, 5.0))]
        truth = {n: {"split": "tune"} for p in copies + hard for n in (p.a, p.b)}
        known = {frozenset((p.a, p.b)) for p in copies}
        neutral = {frozenset((p.a, p.b)) for p in hard}
        args = (0.10, -1.0, 0.0, (0.0, float("-inf")), float("inf"), truth, known, neutral, set())
        g, out = bench.choose_gate(copies + hard, *args)
        assert g == 6.0 and {p.a for p in out} == {f"c{i}" for i in range(1, 9)}
        bench.RECALL_FLOOR = 1.01
        assert bench.choose_gate(copies + hard, *args)[0] == -1.0


@needs_data
def test_dedupes_contrast_passes_a_gate_exactly_when_video_searchs_rule_does(deduped, tmp_path):
    """``reporting.strongest_contrast`` (video-dedupe, gate-free) is >= g exactly when video-search's lazy
    ``reporting.contrasts`` at gate g passes the match: the side-by-side composite placed in bag and in megamind
    (another video), at gates from -4 to 30 bits."""
    from apps.video_search.alignment import ClipMatch
    from apps.video_search.dedupe_codes import RegionCodes
    from apps.video_search.library import load_hasher
    from apps.video_search.reporting import contrasts, strongest_contrast

    root, res = deduped
    index = Index(root / "lib.vidx")
    codes = RegionCodes(index, load_hasher(_hashing_weights())[0], "all+inset", layout=True)
    codes.folder = tmp_path / "regions"
    names = [Path(v["path"]).name for v in index.videos]
    sbs = names.index("sbs.mp4")
    q, t = codes.codes_of(sbs)
    lay = codes.layouts_of(sbs)
    for other, offset in (("pysot_bag.avi", 2.0), ("megamind_720x528.avi", 5.0)):
        m = ClipMatch(video=names.index(other), score=0.5, offset=offset, video_start=offset,
                      video_end=offset + t[-1], query_start=0.0, query_end=float(t[-1]), frames=len(t))
        best = strongest_contrast(index, q, t, m, lay[:, :2], lay[:, 2:])
        for gate in (-4.0, -1.0, 0.0, 2.0, 4.0, 8.0, 16.0, 30.0):
            lazy = contrasts(index, q, t, [m], [0.0], 0.0, 1.0, layout=lay[:, :2], more_layout=lambda: lay[:, 2:],
                             min_contrast=gate)[0]
            assert (lazy >= gate) == (best >= gate), (other, gate, lazy, best)

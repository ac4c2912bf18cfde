"""The temporal-contrast gate of video-search's reporting rule (apps.video_search.reporting) on real frames:
with the first half of a video indexed, a re-encoded copy of a clip of that half is reported (its frames agree
best at its own time mapping), a clip of the same camera's second half is not (same scene, another moment:
it agrees about equally everywhere); the table and JSON show the contrast; bad --min-contrast is exit 2."""
from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest

from conftest import DATA, needs_data
from vidml.cli import main

pytestmark = needs_data
VIDEO = "car_traffic_small.mp4"    # a fixed traffic camera: the same scene all along, cars moving


def _write(src, dst, start_s: float, length_s: float, quality: int = 40) -> None:
    """``length_s`` s of ``src`` from ``start_s``, JPEG-degraded (quality) and re-encoded."""
    from apps.video_search.augment import make_transform
    from vidml.video import FrameReader, FrameWriter

    r = FrameReader(src)
    a = r.index_at(start_s)
    fn = make_transform("jpeg", np.random.default_rng(0), (r.size[1], r.size[0])) if quality else None
    with FrameWriter(dst, r.fps) as w:
        for _, batch in r.batches(start=a, stop=min(len(r), a + int(length_s * r.fps)), batch_size=32):
            for f in batch:
                w.write(fn(f) if fn else f)


@pytest.fixture(scope="module")
def halves(tmp_path_factory):
    from vidml.video import FrameReader

    root = tmp_path_factory.mktemp("contrast")
    lib = root / "lib"
    lib.mkdir()
    r = FrameReader(DATA / "videos" / VIDEO)
    half = len(r) / r.fps / 2
    _write(DATA / "videos" / VIDEO, lib / "first_half.mp4", 0.0, half, quality=0)
    index = root / "lib.vidx"
    assert main(["video-index", str(lib), "--index", str(index), "--quiet", "--no-faces"]) == 0
    copy, other = root / "copy.mp4", root / "other_half.mp4"
    _write(DATA / "videos" / VIDEO, copy, half / 3, 4.0)
    _write(DATA / "videos" / VIDEO, other, half + 2.0, 4.0)
    return index, copy, other


def _json(args, capsys) -> dict:
    capsys.readouterr()
    assert main(["video-search", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_copy_passes_the_gate_and_the_same_scene_at_another_moment_does_not(halves, capsys):
    index, copy, other = halves
    hits = _json(["--query", str(copy), "--index", str(index)], capsys)["matches"]
    assert len(hits) == 1 and os.path.basename(hits[0]["video"]) == "first_half.mp4"
    from apps.video_search.reporting import DEFAULT_MIN_CONTRAST

    assert hits[0]["contrast"] != "inf" and hits[0]["contrast"] >= DEFAULT_MIN_CONTRAST
    ranked = _json(["--query", str(other), "--index", str(index), "--all"], capsys)["matches"]
    same = [h for h in ranked if os.path.basename(h["video"]) == "first_half.mp4"][0]
    assert not same["reported"] and same["contrast"] < DEFAULT_MIN_CONTRAST    # measured: -3.1 bits (copy: 19.2)
    # score and e-value alone report it (the same static scene): it is the contrast that stops it
    gate_off = _json(["--query", str(other), "--index", str(index), "--min-contrast=-inf"], capsys)
    assert gate_off["min_contrast"] == -math.inf
    assert [os.path.basename(h["video"]) for h in gate_off["matches"]] == ["first_half.mp4"]
    assert gate_off["matches"][0]["score"] >= 0.4 and gate_off["matches"][0]["evalue"] <= 0.01


def test_table_shows_the_contrast_column(halves, capsys):
    index, copy, _ = halves
    capsys.readouterr()
    assert main(["video-search", "--query", str(copy), "--index", str(index)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "| contrast |" in lines[0]
    cell = lines[2].split("|")[7].strip()
    assert float(cell) >= 0


@pytest.mark.parametrize("bad", ["nan", "inf"])   # nothing could ever pass
def test_bad_min_contrast_is_one_line_exit_2(halves, capsys, bad):
    index, copy, _ = halves
    capsys.readouterr()
    assert main(["video-search", "--query", str(copy), "--index", str(index), "--min-contrast", bad]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vidml: error:")

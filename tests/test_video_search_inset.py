"""The inset of a picture-in-picture query (apps.video_search.inset): found where the clip plays, and what
lets video-search find such a composite at all."""
from __future__ import annotations

import json
import os

import cv2
import numpy as np
import pytest

from conftest import DATA, needs_data
from vidml.cli import main

pytestmark = needs_data
INSET = (380, 300, 300, 200)      # x, y, w, h in a 720 x 528 frame: 42 % x 38 %, lower right, in no fixed rectangle


def _frames(rel: str, start_s: float, n: int, step: int = 2) -> tuple[list, float]:
    """(``n`` frames of ``rel`` from ``start_s`` on, every ``step``-th, their frame rate)."""
    from vidml.video import FrameReader

    r = FrameReader(DATA / rel)
    a = r.index_at(start_s)
    return [f for _, b in r.batches(stride=step, start=a, stop=a + n * step) for f in b], r.fps / step


def _write_pip(path, frames: list, fps: float) -> None:
    """``frames`` resized into INSET of a still Dudek20 frame (a picture-in-picture), as an mp4."""
    from vidml.video import FrameReader, FrameWriter

    still = next(iter(FrameReader(DATA / "sot" / "Dudek20")))
    x, y, w, h = INSET
    with FrameWriter(path, fps) as out:
        for f in frames:
            page = cv2.resize(still, (720, 528), interpolation=cv2.INTER_LINEAR)
            page[y:y + h, x:x + w] = cv2.resize(f, (w, h), interpolation=cv2.INTER_AREA)
            out.write(page)


def _iou(a, b) -> float:
    iw = max(0.0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))
    return iw * ih / (a[2] * a[3] + b[2] * b[3] - iw * ih)


def test_the_inset_is_where_the_clip_plays_and_a_moving_camera_has_none(tmp_path):
    from apps.video_search.inset import inset_of_frames
    from vidml.video import FrameReader

    clip = tmp_path / "pip.mp4"
    _write_pip(clip, *_frames("videos/megamind_720x528.avi", 2.0, 40))
    r = FrameReader(clip)
    found = inset_of_frames([f for _, b in r.batches(stride=2) for f in b])
    truth = (INSET[0] / 720, INSET[1] / 528, INSET[2] / 720, INSET[3] / 528)
    assert len(found) == 1 and _iou(found[0], truth) >= 0.8, (found, truth)
    # the juice sequence's hand-held camera moves the whole frame: no rectangle changes more than the rest
    assert inset_of_frames(_frames("sot/juice", 0.0, 16, step=6)[0]) == ()


def test_a_fixed_cameras_inset_snaps_to_its_border(tmp_path, monkeypatch):
    """PETS09's fixed camera changes only where people walk: the spread alone covers part of the inset,
    the border's step in the mean frame gives the rest."""
    from apps.video_search import inset
    from vidml.video import FrameReader

    clip = tmp_path / "pip_pets.mp4"
    _write_pip(clip, *_frames("videos/vtest_pets09_480x360_arjun.avi", 10.0, 40, step=3))
    frames = [f for _, b in FrameReader(clip).batches(stride=2) for f in b]
    truth = (INSET[0] / 720, INSET[1] / 528, INSET[2] / 720, INSET[3] / 528)
    snapped = inset.inset_of_frames(frames)
    assert len(snapped) == 1 and _iou(snapped[0], truth) >= 0.85, (snapped, truth)
    monkeypatch.setattr(inset, "snapped_to_border", lambda mean, rect: rect)
    unsnapped = inset.inset_of_frames(frames)
    assert len(unsnapped) == 1 and _iou(unsnapped[0], truth) < 0.75, (unsnapped, truth)


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("inset")
    (root / "lib").mkdir()
    for name in ("megamind_720x528.avi", "pysot_bag.avi"):
        os.symlink(DATA / "videos" / name, root / "lib" / name)
    assert main(["video-index", str(root / "lib"), "--index", str(root / "lib.vidx"), "--quiet", "--no-faces"]) == 0
    return root


def test_a_picture_in_picture_is_found_through_its_inset_and_not_without_it(index, capsys, monkeypatch):
    from apps.video_search import inset

    clip = index / "pip.mp4"
    _write_pip(clip, *_frames("videos/megamind_720x528.avi", 2.0, 40))

    def hits() -> list:
        capsys.readouterr()
        assert main(["video-search", "--query", str(clip), "--index", str(index / "lib.vidx"), "--json"]) == 0
        return json.loads(capsys.readouterr().out)["matches"]

    found = hits()
    assert found and os.path.basename(found[0]["video"]) == "megamind_720x528.avi"
    assert 1.2 <= found[0]["video_start"] <= 3.2, found[0]      # the clip starts 2 s into megamind
    monkeypatch.setattr(inset.TemporalSpread, "inset", lambda self: ())
    assert hits() == []           # the fixed rectangles alone: the 42 % x 38 % inset fills none of them

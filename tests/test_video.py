"""FrameReader / FrameWriter on real videos and frame folders, and the clear errors on bad files."""
from __future__ import annotations

import os

import cv2
import numpy as np
import pytest

from conftest import DATA, SAMPLES, needs_data
from vidml.errors import OutputError, VideoError
from vidml.video import FrameReader, FrameWriter
from vidml.outputs import atomic_write_text


def test_image_folder_sample():
    reader = FrameReader(SAMPLES / "juice")
    assert len(reader) == 151
    assert reader.size == (320, 240)
    frame = reader[0]
    assert frame.shape == (240, 320, 3) and frame.dtype == np.uint8
    # RGB order: equals OpenCV's BGR read of the first (numerically smallest) frame, channels reversed
    bgr = cv2.imread(str(SAMPLES / "juice" / "frame_000100.jpg"))
    assert np.array_equal(frame, bgr[:, :, ::-1])
    assert reader.time_of(30) == pytest.approx(1.0)


@needs_data
def test_decord_matches_opencv_frames():
    path = DATA / "videos" / "vtest_pets09_480x360_gautam.mp4"
    reader = FrameReader(path)
    assert len(reader) == 795 and reader.size == (480, 360)
    assert reader.fps == pytest.approx(10.0, abs=0.01)
    cap = cv2.VideoCapture(str(path))
    for _ in range(3):
        ok, bgr = cap.read()
    cap.release()
    assert ok
    assert np.array_equal(reader[2], bgr[:, :, ::-1])
    assert reader.index_at(reader.time_of(123)) == 123


@needs_data
def test_strided_batches_and_random_access_agree():
    reader = FrameReader(DATA / "videos" / "megamind_720x528.avi")
    seen = []
    for idx, batch in reader.batches(stride=25, batch_size=4):
        assert batch.shape[1:] == (528, 720, 3)
        seen.extend(idx.tolist())
        last = (idx, batch)
    assert seen == list(range(0, len(reader), 25))
    idx, batch = last
    assert np.array_equal(batch[-1], reader[int(idx[-1])])


@needs_data
def test_mot_layout_takes_frame_rate_from_seqinfo():
    reader = FrameReader(DATA / "mot" / "PETS09-S2L1-dev")
    assert len(reader) == 400 and reader.fps == pytest.approx(7.0)
    otb = FrameReader(DATA / "sot" / "bag")
    assert len(otb) == 196


@needs_data
def test_gif_reads_all_frames():
    reader = FrameReader(DATA / "videos" / "visil_video1.gif")
    assert len(reader) == 60 and reader.size == (256, 256)
    assert reader[59].shape == (256, 256, 3)


@pytest.mark.parametrize("make", ["missing", "empty", "text", "truncated", "empty_dir"])
def test_bad_inputs_raise_one_line_video_error(tmp_path, make):
    path = tmp_path / "clip.mp4"
    if make == "empty":
        path.write_bytes(b"")
    elif make == "text":
        path.write_text("this is not a video\n" * 50)
    elif make == "truncated":
        src = DATA / "videos" / "vtest_pets09_480x360_gautam.mp4"
        if not src.exists():
            pytest.skip("needs ../shared/data")
        path.write_bytes(src.read_bytes()[:4000])
    elif make == "empty_dir":
        path = tmp_path / "frames"
        path.mkdir()
    with pytest.raises(VideoError) as err:
        reader = FrameReader(path)
        reader.get_batch(range(len(reader)))
    message = str(err.value)
    assert "\n" not in message and str(path) in message


def test_frame_writer_is_atomic(tmp_path):
    frames = FrameReader(SAMPLES / "juice").get_batch(range(10))
    out = tmp_path / "out.mp4"
    with FrameWriter(out, fps=10) as writer:
        for f in frames:
            writer.write(f)
    back = FrameReader(out)
    assert len(back) == 10 and back.size == (320, 240)
    # an exception mid-write leaves nothing behind
    bad = tmp_path / "bad.mp4"
    with pytest.raises(RuntimeError):
        with FrameWriter(bad, fps=10) as writer:
            writer.write(frames[0])
            raise RuntimeError("interrupted")
    assert not bad.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions")
def test_readonly_folder_is_reported(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(OutputError):
        atomic_write_text(ro / "x.txt", "hi")


@needs_data
def test_strided_and_out_of_order_reads_equal_a_sequential_decode():
    # decord's own seeking returns damaged frames from this XviD AVI (frames 108.. of a stride-12 read
    # matched no decoded frame); FrameReader must give exactly the frames a sequential OpenCV decode gives.
    path = DATA / "videos" / "megamind_720x528.avi"
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        frames.append(bgr[:, :, ::-1])
    cap.release()
    reader = FrameReader(path)
    assert len(reader) == len(frames) == 270
    for idx, batch in reader.batches(stride=12, batch_size=8):
        for i, frame in zip(idx.tolist(), batch):
            assert np.array_equal(frame, frames[i]), f"frame {i}"
    wanted = [269, 3, 150, 150, 0, 120]  # backwards, repeated and forwards in one call
    for i, frame in zip(wanted, reader.get_batch(wanted)):
        assert np.array_equal(frame, frames[i]), f"frame {i}"
    middle = [i for idx, _ in reader.batches(start=200, stop=210) for i in idx.tolist()]
    assert middle == list(range(200, 210))
    assert all(np.array_equal(f, frames[i]) for idx, b in reader.batches(start=200, stop=210) for i, f in zip(idx, b))

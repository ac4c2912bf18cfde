"""Live sources: a video served over HTTP on 127.0.0.1 (python's http.server in a thread), a stalled
stream, a URL nobody answers, a camera that is not there; open_source's choice of reader."""
from __future__ import annotations

import functools
import http.server
import socket
import threading
import time

import numpy as np
import pytest

from conftest import DATA, needs_data
from test_detect import make_video
from vidml.cli import main
from vidml.motchallenge import read_boxes
from vidml.stream_source import StreamError, StreamReader, is_live, open_source
from vidml.video import FrameReader

TUD = DATA / "mot" / "TUD-Campus"
N = 20


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


class _Stalling(_Quiet):
    """Announces the whole file but sends only its first half, then keeps the connection open."""

    def do_GET(self):
        data = (self.server.folder / self.path.lstrip("/")).read_bytes()
        self.send_response(200)
        self.send_header("Content-Type", "video/x-msvideo")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data[: len(data) // 2])
        self.wfile.flush()
        time.sleep(8)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """(base URL, folder) of an http.server on 127.0.0.1 serving tud.mp4 (moov at the end) and tud.avi."""
    folder = tmp_path_factory.mktemp("served")
    frames = [TUD / "img1" / f"{k:06d}.jpg" for k in range(1, N + 1)]
    make_video(folder / "tud.mp4", frames)
    make_video(folder / "tud.avi", frames, "MJPG")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder
    server.shutdown()


def test_is_live_and_open_source(tmp_path):
    assert is_live("http://x/y.mp4") and is_live("RTSP://cam/1") and is_live(0) and is_live("1")
    assert not is_live("clip.mp4") and not is_live(str(tmp_path))
    assert isinstance(open_source(str(DATA / "videos" / "pysot_bag.avi")), FrameReader) if DATA.exists() else True


@needs_data
def test_http_stream_gives_every_frame_of_the_file(served):
    base, folder = served
    for name in ("tud.mp4", "tud.avi"):  # the mp4's index is at its end: http.server cannot seek to it
        reader = StreamReader(f"{base}/{name}", timeout=5)
        frames = list(reader)
        reader.close()
        local = list(FrameReader(folder / name))
        assert reader.size == (640, 480) and reader.length == N and len(frames) == N
        assert max(float(np.abs(a.astype(int) - b).mean()) for a, b in zip(frames, local)) < 1.0


@needs_data
def test_reid_mot_over_http_writes_the_same_rows_as_the_file(served, tmp_path, capsys):
    base, folder = served
    over_http, local = tmp_path / "http.txt", tmp_path / "file.txt"
    assert main(["reid-mot", f"{base}/tud.avi", "--out", str(over_http), "--quiet", "--mode", "sort"]) == 0
    assert main(["reid-mot", str(folder / "tud.avi"), "--out", str(local), "--quiet", "--mode", "sort"]) == 0
    rows = read_boxes(over_http)
    assert len(rows) > 40 and rows[:, 0].max() <= N
    assert over_http.read_text() == local.read_text()


@needs_data
def test_stalled_stream_exits_2_and_keeps_what_was_tracked(served, tmp_path, capsys):
    _, folder = served
    handler = functools.partial(_Stalling, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.folder = folder
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = tmp_path / "partial.txt"
    t0 = time.perf_counter()
    code = main(["reid-mot", f"http://127.0.0.1:{server.server_address[1]}/tud.avi", "--out", str(out),
                 "--timeout", "2", "--quiet", "--mode", "sort"])
    assert code == 2 and time.perf_counter() - t0 < 30
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("vidml: error:") and "tracked so far" in err[0], err
    frames = read_boxes(out)[:, 0]
    assert 1 <= frames.max() < N
    server.shutdown()


def test_url_that_does_not_answer_and_missing_camera_exit_2(tmp_path, capsys):
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)  # accepts connections, never answers
    t0 = time.perf_counter()
    for source in (f"http://127.0.0.1:{silent.getsockname()[1]}/x.mp4", "7"):
        out = tmp_path / "never.txt"
        assert main(["reid-mot", source, "--out", str(out), "--timeout", "1.5", "--quiet", "--mode", "sort"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("vidml: error:") and "no frame" in err[0], err
        assert not out.exists()
    assert time.perf_counter() - t0 < 20
    silent.close()


def test_stream_error_is_a_video_error():
    from vidml.errors import VideoError

    assert issubclass(StreamError, VideoError)


def test_show_without_a_display_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["reid-mot", "http://127.0.0.1:9/x.mp4", "--show", "--out", str(tmp_path / "r.txt"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "needs a display" in err[0]


def test_run_frames_keeps_the_frames_before_a_stall_only_for_live_sources():
    from apps.reid_mot.runner import run_frames
    from apps.reid_mot.tracker import make_tracker

    def frames():
        for _ in range(6):
            yield None
        raise StreamError("camera 0: stream stalled after 6 frames within 1 s")

    def detect(k, _):
        return np.array([[10.0 + 3 * k, 20, 10, 30, 0.9], [80.0 - 3 * k, 20, 10, 30, 0.9]])

    result = run_frames(frames(), make_tracker("sort"), detect, live=True)
    assert result.frames == 6 and "stalled" in result.stopped
    assert set(result.rows[:, 0].astype(int)) == {1, 2, 3, 4, 5, 6} and len(result.det_rows) == 12  # n_init 3, backfilled
    with pytest.raises(StreamError):
        run_frames(frames(), make_tracker("sort"), detect, live=False)


@needs_data
def test_track_over_http_gives_a_box_for_every_frame(served, tmp_path, capsys):
    base, _ = served
    out = tmp_path / "boxes.txt"
    gt = read_boxes(TUD / "gt" / "gt.txt")
    x, y, w, h = gt[(gt[:, 0] == 1)][0, 2:6]  # a person of frame 1
    assert main(["track", f"{base}/tud.mp4", "--init", f"{x:g},{y:g},{w:g},{h:g}", "--out", str(out), "--quiet"]) == 0
    boxes = np.loadtxt(out, delimiter=",").reshape(-1, 4)
    assert len(boxes) == N and np.allclose(boxes[0], [x, y, w, h], atol=0.01)


def test_track_without_init_or_display_is_one_line(monkeypatch, tmp_path, capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    video = DATA / "videos" / "pysot_bag.avi"
    if not video.exists():
        pytest.skip("needs ../shared/data/videos")
    assert main(["track", str(video), "--out", str(tmp_path / "b.txt"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no display" in err[0] and "--init x,y,w,h" in err[0]
    assert not (tmp_path / "b.txt").exists()


@needs_data
def test_track_on_a_stalled_stream_keeps_the_boxes_so_far(served, tmp_path, capsys):
    _, folder = served
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Stalling, directory=str(folder)))
    server.folder = folder
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = tmp_path / "boxes.txt"
    code = main(["track", f"http://127.0.0.1:{server.server_address[1]}/tud.avi", "--init", "282,201,92,184",
                 "--out", str(out), "--timeout", "2", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and "tracked so far" in err[0], err
    assert 1 <= len(np.loadtxt(out, delimiter=",").reshape(-1, 4)) < N
    server.shutdown()


class _MJPEG(_Quiet):
    """A live camera as IP cameras serve one: multipart/x-mixed-replace JPEGs, no length, then it hangs up."""

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=frame")
        self.end_headers()
        for k in range(1, 13):
            data = (TUD / "img1" / f"{k:06d}.jpg").read_bytes()
            self.wfile.write(b"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n" % len(data) + data + b"\r\n")


@needs_data
def test_track_command_on_a_live_mjpeg_stream_exits_0(tmp_path):
    import subprocess
    import sys

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _MJPEG)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out = tmp_path / "boxes.txt"
    proc = subprocess.run([sys.executable, "-m", "vidml.cli", "track", f"http://127.0.0.1:{server.server_address[1]}/cam.mjpg",
                           "--init", "282,201,92,184", "--out", str(out), "--quiet", "--timeout", "5"],
                          capture_output=True, text=True, timeout=120)
    server.shutdown()
    assert proc.returncode == 0, proc.stderr[-1000:]  # the reading thread ends before the interpreter does
    assert len(np.loadtxt(out, delimiter=",").reshape(-1, 4)) == 12

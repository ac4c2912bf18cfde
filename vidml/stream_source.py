"""Live sources: http(s)/rtsp URLs and cameras through OpenCV's ``VideoCapture``, and ``open_source``.

decord reads files only. :class:`StreamReader` gives the part of :class:`vidml.video.FrameReader`'s
interface a single forward pass needs -- ``fps``, ``size`` (width, height), ``length`` (``None``: unknown),
iteration over RGB ``uint8`` frames -- for

* a URL ``http://``, ``https://``, ``rtsp://``, ``rtmp://`` (OpenCV's FFmpeg backend), and
* a camera index ``0``, ``1``, ... (the platform's camera backend, V4L2 on Linux).

A background thread reads frames into a small queue (``queue_size``; it blocks when full, so no frame is
dropped and a slow consumer never loses one); the consumer waits at most ``timeout`` seconds for the next
frame. So a URL that does not answer, a stream that stalls and a camera that hangs all end in
:class:`StreamError` (one line, exit status 2) instead of a hang. The FFmpeg backend is also given
``CAP_PROP_OPEN_TIMEOUT_MSEC`` / ``CAP_PROP_READ_TIMEOUT_MSEC`` so its own blocking calls return.

An mp4 whose index (``moov``) sits at the end of the file cannot be demuxed from a server that ignores
HTTP Range requests (Python's ``http.server`` does): FFmpeg must seek to the end first. When FFmpeg gives
no frame from an http(s) URL that answers with a ``Content-Length`` (a file, not a live stream), the file
is fetched to a temporary file (each read bounded by ``timeout``; at most ``MAX_FETCH_BYTES``) and
decoded from there; the copy is deleted on :meth:`StreamReader.close`.

End of stream: when the source announces a frame count (a file served over HTTP), fewer frames than that
is a :class:`StreamError`; a source with no count (a live stream, a camera) ends when ``read`` reports no
more frames.
"""
from __future__ import annotations

import atexit
import os
import queue
import re
import tempfile
import threading
import urllib.request
import weakref
from pathlib import Path
from typing import Iterator

import cv2
import numpy as np

from vidml.errors import VideoError
from vidml.native_log import first_line

# FFmpeg's and OpenCV's own log lines (a refused connection, a timeout) would reach the user's terminal
# beside our one-line error: quiet them (read when the FFmpeg backend first opens something).
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
URL_SCHEMES = ("http://", "https://", "rtsp://", "rtsps://", "rtmp://", "udp://", "tcp://")
DEFAULT_TIMEOUT_S = 10.0
MAX_FETCH_BYTES = 4 << 30


_OPEN: "weakref.WeakSet[StreamReader]" = weakref.WeakSet()


@atexit.register
def _close_open_readers() -> None:
    """Stop every reading thread before the interpreter exits: a daemon thread killed inside OpenCV's C++
    (``VideoCapture.read``/``release``) aborts the process ("terminate called without an active exception")."""
    for reader in list(_OPEN):
        reader.close()


class StreamError(VideoError):
    """A live source could not be opened, stalled, or ended before the frames it announced."""


def is_live(spec: str | os.PathLike | int) -> bool:
    """True for a URL or a camera index (an int or a string of digits that is not an existing path)."""
    if isinstance(spec, int):
        return True
    text = str(spec)
    if text.lower().startswith(URL_SCHEMES):
        return True
    return bool(re.fullmatch(r"\d{1,3}", text)) and not Path(text).exists()


def _redact(spec: str) -> str:
    """The URL without a ``user:password@`` part (it may be printed)."""
    return re.sub(r"(://)[^/@]*@", r"\1***@", spec)


class StreamReader:
    """Forward-only RGB frames of a URL or camera (see the module docstring)."""

    def __init__(self, spec: str | int, timeout: float = DEFAULT_TIMEOUT_S, queue_size: int = 8) -> None:
        cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)  # its WARN lines: see OPENCV_FFMPEG_LOGLEVEL
        self.spec = int(spec) if not isinstance(spec, int) and str(spec).isdigit() else spec
        self.name = f"camera {self.spec}" if isinstance(self.spec, int) else _redact(str(self.spec))
        self.timeout = float(timeout)
        self.length: int | None = None
        self._queue: queue.Queue = queue.Queue(maxsize=max(1, queue_size))
        self._stop = threading.Event()
        self._fps = 0.0
        self._fetched: Path | None = None
        self._progress = [0]  # bytes fetched so far by the fallback (a download that moves is not a stall)
        self._thread = threading.Thread(target=self._produce, name="vidml-stream", daemon=True)
        self._thread.start()
        _OPEN.add(self)
        kind, value = self._next(0)
        if kind != "frame":
            self.close()
            raise StreamError(f"{self.name}: no frame could be read ({value}); check the address / camera")
        self._first: np.ndarray | None = value
        self._height, self._width = value.shape[:2]

    # -- the reading thread ---------------------------------------------------------------------
    def _capture(self, address: str) -> cv2.VideoCapture:
        ms = int(self.timeout * 1000)
        return cv2.VideoCapture(address, cv2.CAP_FFMPEG,
                                [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, ms, cv2.CAP_PROP_READ_TIMEOUT_MSEC, ms])

    def _open(self) -> tuple[cv2.VideoCapture, np.ndarray | None]:
        """The capture and its first frame (None if it gave none), with the file fallback for http(s)."""
        if isinstance(self.spec, int):
            cap = cv2.VideoCapture(self.spec)
        else:
            cap = self._capture(str(self.spec))
        ok, first = cap.read() if cap.isOpened() else (False, None)
        if ok or isinstance(self.spec, int) or not str(self.spec).lower().startswith(("http://", "https://")):
            return cap, first if ok else None
        cap.release()
        self._fetched = _fetch(str(self.spec), self.timeout, self._stop, self._progress)
        cap = self._capture(str(self._fetched))
        ok, first = cap.read() if cap.isOpened() else (False, None)
        return cap, first if ok else None

    def _put(self, item: tuple) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _produce(self) -> None:
        cap = None
        try:
            cap, bgr = self._open()
            if bgr is None:
                self._put(("error", "OpenCV could not open it or read a frame"))
                return
            self._fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
            count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
            self.length = count if count > 0 and not isinstance(self.spec, int) else None
            ok = True
            while not self._stop.is_set():
                if bgr is None:
                    ok, bgr = cap.read()
                if not ok or bgr is None:
                    self._put(("end", "the source reports no more frames"))
                    return
                if not self._put(("frame", cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))):
                    return
                bgr = None
        except _FetchError as err:
            self._put(("error", str(err)))
        except Exception as err:  # OpenCV raises cv2.error with FFmpeg's words; the consumer prints it
            self._put(("error", first_line(err)))
        finally:
            if cap is not None:
                cap.release()

    def _next(self, done: int) -> tuple[str, object]:
        """The next queue item, or ("stall", why) after ``timeout`` s with no frame (and no fallback download moving)."""
        seen = -1
        while True:
            try:
                return self._queue.get(timeout=self.timeout)
            except queue.Empty:
                if self._progress[0] == seen or self._progress[0] == 0:
                    break
                seen = self._progress[0]  # the fallback download is still moving: wait on
        what = "did not answer" if done == 0 else f"stalled after {done} frames"
        return "stall", f"{what} within {self.timeout:g} s"

    # -- the FrameReader-like interface -------------------------------------------------------
    @property
    def fps(self) -> float:
        """The source's frame rate (30 when it does not say)."""
        return self._fps if 0 < self._fps < 1000 else 30.0

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the first frame."""
        return self._width, self._height

    def peek(self) -> np.ndarray:
        """The first frame, without consuming it (e.g. to draw the box to track on it)."""
        if self._first is None:
            raise RuntimeError("peek() after iteration started")
        return self._first

    def __iter__(self) -> Iterator[np.ndarray]:
        """Every frame in order; StreamError on a stall, an error, or fewer frames than announced."""
        done = 0
        if self._first is not None:
            first, self._first = self._first, None
            done = 1
            yield first
        while True:
            kind, value = self._next(done)
            if kind == "frame":
                done += 1
                yield value
                continue
            self.close()  # let the reading thread finish before anyone exits (a C++ thread killed mid-release aborts)
            if kind == "end" and (self.length is None or done >= self.length):
                return
            if kind == "end":
                value = f"ended after {done} of the {self.length} frames it announced"
            raise StreamError(f"{self.name}: stream {value}")

    def close(self) -> None:
        """Stop the reading thread and wait for it (a blocked read ends by FFmpeg's timeout); drop any copy."""
        self._stop.set()
        if self._thread is not threading.current_thread():
            self._thread.join(self.timeout + 2.0)
        if self._fetched is not None and not self._thread.is_alive():
            self._fetched.unlink(missing_ok=True)

    def __enter__(self) -> "StreamReader":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"StreamReader({self.name!r}, fps={self.fps:.2f}, size={self.size})"


class _FetchError(Exception):
    pass


def _fetch(url: str, timeout: float, stop: threading.Event, progress: list[int]) -> Path:
    """Copy a file served at ``url`` to a temp file (the non-seekable-server fallback of the module docstring)."""
    try:
        resp = urllib.request.urlopen(url, timeout=timeout)  # noqa: S310 -- the user's own http(s) URL
    except Exception as err:
        raise _FetchError(f"HTTP request failed: {getattr(err, 'reason', None) or err}") from None
    with resp:
        size = int(resp.headers.get("Content-Length") or -1)
        if size <= 0 or size > MAX_FETCH_BYTES:
            raise _FetchError("FFmpeg read no frame and the server sends no file length (a live stream FFmpeg cannot decode?)")
        fd, tmp = tempfile.mkstemp(prefix="vidml-stream-", suffix=Path(url.split("?")[0]).suffix or ".mp4")
        with os.fdopen(fd, "wb") as out:
            try:
                while not stop.is_set():
                    chunk = resp.read(1 << 20)
                    if not chunk:
                        break
                    out.write(chunk)
                    progress[0] += len(chunk)
            except Exception as err:
                Path(tmp).unlink(missing_ok=True)
                raise _FetchError(f"download stopped ({err})") from None
    return Path(tmp)


def open_source(spec: str | os.PathLike | int, timeout: float = DEFAULT_TIMEOUT_S):
    """A reader for ``spec``: :class:`StreamReader` for a URL or camera index, else :class:`FrameReader`
    (decord for video files, image folders, GIFs). Both iterate RGB frames and have ``fps`` and ``size``;
    ``source_length(reader)`` is the frame count or None."""
    if is_live(spec):
        return StreamReader(spec, timeout=timeout)
    from vidml.video import FrameReader

    return FrameReader(spec)


def first_frame(reader) -> np.ndarray:
    """Frame 0 of a reader from :func:`open_source`, leaving a live source's iteration to start at it."""
    return reader.peek() if isinstance(reader, StreamReader) else reader[0]


def source_length(reader) -> int | None:
    """Number of frames of a reader from :func:`open_source`, None when unknown (a live source)."""
    if isinstance(reader, StreamReader):
        return reader.length
    return len(reader)

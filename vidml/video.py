"""Reading frames (decord, or a folder of numbered images) and writing annotated video (OpenCV).

:class:`FrameReader` gives one interface over

* a video file, decoded by decord (mp4, avi, mkv, webm, gif, ... whatever its FFmpeg reads), and
* an animated GIF (decord's FFmpeg cannot measure a GIF's length, so GIFs are decoded with Pillow), and
* a folder of numbered images: the OTB layout (``seq/img/0001.jpg``) and the MOTChallenge layout
  (``seq/img1/000001.jpg``); pass the sequence folder or the image folder itself.

Video files are decoded forward only (never by decord's seeks, which return damaged frames from common
AVIs): strided reading decodes every frame and keeps one in ``stride``; reading backwards rewinds to frame 0.

Frames are numpy ``uint8`` arrays of shape ``(H, W, 3)`` in **RGB** order (OpenCV's ``imread`` gives BGR;
we convert). Frame ``i`` is shown at time ``i / fps`` seconds. A missing, empty, corrupt or non-video file
raises :class:`vidml.errors.VideoError`, which the CLI prints as one line with exit status 2.

:class:`FrameWriter` writes an mp4 to a temporary file in the destination folder and renames it into
place on :meth:`FrameWriter.close`, so an interrupted run never leaves half a video behind. Atomic writes of
other files and output-path checks live in :mod:`vidml.outputs`; keeping decord's and FFmpeg's log lines
off the terminal in :mod:`vidml.native_log`.
"""
from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import Iterator, Sequence

import cv2
import numpy as np

from vidml.errors import OutputError, VideoError
from vidml.motchallenge import seqinfo_fps
from vidml.native_log import decode_reason, first_line, native_log_captured
from vidml.outputs import check_output_path, default_mode

VIDEO_SUFFIXES = {".mp4", ".avi", ".mkv", ".webm", ".mov", ".m4v", ".mpg", ".mpeg", ".gif", ".flv", ".wmv", ".ts"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".ppm", ".tif", ".tiff"}
DEFAULT_IMAGE_FPS = 30.0


def _numbered_images(folder: Path) -> list[Path]:
    """Image files of ``folder`` sorted by the number in their name (``0001.jpg`` < ``0010.jpg``)."""
    files = [p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]

    def key(p: Path) -> tuple[int, str]:
        digits = re.findall(r"\d+", p.stem)
        return (int(digits[-1]) if digits else -1, p.name)

    return sorted(files, key=key)


def _image_folder_of(path: Path) -> Path | None:
    """The folder holding the frames of a sequence folder (``img/``, ``img1/``) or the folder itself."""
    for sub in ("img", "img1"):
        if (path / sub).is_dir():
            return path / sub
    return path if any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.iterdir()) else None


class FrameReader:
    """Random-access, strided and batched reading of RGB frames from a video file or an image folder.

    >>> reader = FrameReader("clip.mp4")           # doctest: +SKIP
    >>> len(reader), reader.fps, reader.size        # frames, frames/s, (width, height)
    >>> frame = reader[10]                          # (H, W, 3) uint8 RGB
    >>> for idx, batch in reader.batches(stride=15, batch_size=32): ...
    """

    def __init__(self, path: str | os.PathLike, fps: float | None = None, num_threads: int = 0) -> None:
        self.path = Path(path)
        self._files: list[Path] | None = None
        self._gif: np.ndarray | None = None
        self._vr = None
        if not self.path.exists():
            raise VideoError(f"{self.path}: no such file or folder; check the path")
        if self.path.is_dir():
            folder = _image_folder_of(self.path)
            if folder is None:
                raise VideoError(f"{self.path}: folder holds no images (expected img/ or img1/ with numbered frames)")
            self._files = _numbered_images(folder)
            first = cv2.imread(str(self._files[0]), cv2.IMREAD_COLOR)
            if first is None:
                raise VideoError(f"{self._files[0]}: cannot decode this image; is the file damaged?")
            self._height, self._width = first.shape[:2]
            self._fps = fps or seqinfo_fps(folder.parent) or seqinfo_fps(folder) or DEFAULT_IMAGE_FPS
            self._len = len(self._files)
            return
        if self.path.stat().st_size == 0:
            raise VideoError(f"{self.path}: file is empty; re-copy or re-encode the video")
        if self.path.suffix.lower() == ".gif":
            self._open_gif(fps)
            return
        import decord  # local import: decord is slow to import and not needed for image folders

        try:
            with native_log_captured() as log:
                self._vr = decord.VideoReader(str(self.path), ctx=decord.cpu(0), num_threads=num_threads)
                self._len = len(self._vr)
                if self._len == 0:
                    raise VideoError(f"{self.path}: video has no frames; re-encode it")
                height, width = self._vr[0].shape[:2]
        except VideoError:
            raise
        except Exception as err:  # decord raises DECORDError / RuntimeError with FFmpeg's words
            raise VideoError(f"{self.path}: cannot decode as video ({decode_reason(err, log)}); "
                             "is it a complete video file? try re-encoding it with ffmpeg") from None
        self._vr.seek(0)
        self._pos = 0  # the index of the frame decord's next() returns
        self._width, self._height = int(width), int(height)
        avg = float(self._vr.get_avg_fps() or 0.0)
        self._fps = fps or (avg if avg > 0 else DEFAULT_IMAGE_FPS)

    def _open_gif(self, fps: float | None) -> None:
        """Decode every frame of an animated GIF with Pillow (GIFs are small; kept in memory)."""
        from PIL import Image, ImageSequence

        try:
            with Image.open(self.path) as im:
                durations = []
                frames = []
                for frame in ImageSequence.Iterator(im):
                    frames.append(np.asarray(frame.convert("RGB")))
                    durations.append(frame.info.get("duration", 0) or 0)
        except Exception as err:
            raise VideoError(f"{self.path}: cannot decode as GIF ({first_line(err)}); is the file complete?") from None
        self._gif = np.stack(frames)
        self._len = len(frames)
        self._height, self._width = frames[0].shape[:2]
        mean_ms = float(np.mean(durations)) if durations else 0.0
        self._fps = fps or (1000.0 / mean_ms if mean_ms > 0 else 10.0)

    # -- properties -------------------------------------------------------------------------
    def __len__(self) -> int:
        return self._len

    @property
    def fps(self) -> float:
        """Frames per second (the container's average rate; seqinfo.ini's frameRate for MOT folders)."""
        return self._fps

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return self._width, self._height

    @property
    def files(self) -> list[Path] | None:
        """The frame image paths in order for an image folder, ``None`` for a video file."""
        return None if self._files is None else list(self._files)

    def time_of(self, index: int) -> float:
        """Presentation time of frame ``index`` in seconds, ``index / fps``."""
        return index / self._fps

    def index_at(self, seconds: float) -> int:
        """Index of the frame shown at ``seconds`` (clamped to the video)."""
        return int(min(max(round(seconds * self._fps), 0), self._len - 1))

    # -- access -------------------------------------------------------------------------------
    def _check(self, index: int) -> int:
        if index < 0:
            index += self._len
        if not 0 <= index < self._len:
            raise IndexError(f"frame {index} outside 0..{self._len - 1}")
        return index

    def _read_image(self, index: int) -> np.ndarray:
        path = self._files[index]
        bgr = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if bgr is None:
            raise VideoError(f"{path}: cannot decode this frame; is the file damaged or missing?")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)

    def __getitem__(self, index: int) -> np.ndarray:
        index = self._check(int(index))
        if self._files is not None:
            return self._read_image(index)
        return self.get_batch([index])[0]

    def get_batch(self, indices: Sequence[int]) -> np.ndarray:
        """Frames at ``indices`` as one ``(N, H, W, 3)`` uint8 array."""
        indices = [self._check(int(i)) for i in indices]
        if self._gif is not None:
            return self._gif[indices]
        if self._files is not None:
            return np.stack([self._read_image(i) for i in indices]) if indices else np.zeros((0, self._height, self._width, 3), np.uint8)
        try:
            with native_log_captured() as log:
                return self._decode_forward(indices)
        except Exception as err:
            self._pos = self._len  # position unknown after a failure: the next read rewinds
            raise VideoError(f"{self.path}: decoding failed near frame {indices[0]} ({decode_reason(err, log)}); "
                             "the file may be truncated; try re-encoding it") from None

    def _decode_forward(self, indices: list[int]) -> np.ndarray:
        """Decode ``indices`` by reading the file forward only, never by seeking.

        decord's seeks (``get_batch``, ``seek``, ``seek_accurate``) land on damaged or wrong frames in common
        MPEG-4/XviD AVIs: in ../shared/data/videos three of five AVIs give frames that match no frame of a
        sequential decode, and which ones differ changes from run to run with threaded decoding. Reading
        every frame forward with ``next()`` gives exactly OpenCV's frames, and for the
        strides used here it costs about what the seeks did. Going back means rewinding to frame 0.
        """
        out = np.empty((len(indices), self._height, self._width, 3), np.uint8)
        last: tuple[int, np.ndarray] | None = None
        for j in np.argsort(np.asarray(indices), kind="stable"):
            i = indices[j]
            if last is not None and last[0] == i:
                out[j] = last[1]
                continue
            if i < self._pos:
                self._vr.seek(0)  # frame 0 is a keyframe: the one seek that is always exact
                self._pos = 0
            while self._pos < i:  # decord's skip_frames seeks too, and lands wrong on the same AVIs
                self._vr.next()
                self._pos += 1
            frame = self._vr.next().asnumpy()
            self._pos = i + 1
            out[j] = frame
            last = (i, frame)
        return out

    def batches(self, stride: int = 1, batch_size: int = 32, start: int = 0,
                stop: int | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield ``(indices, frames)`` for frames ``start, start+stride, ... < stop`` in batches."""
        stop = self._len if stop is None else min(stop, self._len)
        wanted = np.arange(start, stop, max(1, stride))
        for lo in range(0, len(wanted), batch_size):
            idx = wanted[lo:lo + batch_size]
            yield idx, self.get_batch(idx.tolist())

    def __iter__(self) -> Iterator[np.ndarray]:
        """Every frame in order (sequential decoding: the fast path for a full pass)."""
        if self._files is not None:
            for i in range(self._len):
                yield self._read_image(i)
            return
        for _, frames in self.batches(stride=1, batch_size=16):
            yield from frames

    def frames(self, stride: int = 1) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(index, frame)`` every ``stride`` frames."""
        for idx, batch in self.batches(stride=stride, batch_size=16):
            yield from zip(idx.tolist(), batch)

    def __repr__(self) -> str:
        return f"FrameReader({str(self.path)!r}, frames={self._len}, fps={self._fps:.2f}, size={self.size})"


class FrameWriter:
    """Write RGB frames to an mp4 (``mp4v``) through a temp file renamed into place on close.

    Use as a context manager; on an exception the temp file is removed and nothing is left behind.
    """

    def __init__(self, path: str | os.PathLike, fps: float, size: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self.size = size
        check_output_path(self.path, "video")
        folder = self.path.parent if str(self.path.parent) else Path(".")
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=self.path.suffix or ".mp4", dir=folder)
        os.close(fd)
        os.chmod(tmp, default_mode())
        self._tmp = Path(tmp)
        self._writer: cv2.VideoWriter | None = None
        self.count = 0

    def write(self, frame_rgb: np.ndarray) -> None:
        """Append one (H, W, 3) uint8 RGB frame; the first frame fixes the size unless given."""
        if self._writer is None:
            h, w = frame_rgb.shape[:2]
            self.size = self.size or (w, h)
            self._writer = cv2.VideoWriter(str(self._tmp), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, self.size)
            if not self._writer.isOpened():
                raise OutputError(f"{self.path}: OpenCV cannot open an mp4 writer here")
        if (frame_rgb.shape[1], frame_rgb.shape[0]) != self.size:
            frame_rgb = cv2.resize(frame_rgb, self.size)
        self._writer.write(cv2.cvtColor(np.ascontiguousarray(frame_rgb), cv2.COLOR_RGB2BGR))
        self.count += 1

    def close(self) -> Path:
        """Finish the file and move it into place; returns the final path."""
        if self._writer is not None:
            self._writer.release()
        os.replace(self._tmp, self.path)
        return self.path

    def abort(self) -> None:
        """Drop the partial file."""
        if self._writer is not None:
            self._writer.release()
        self._tmp.unlink(missing_ok=True)

    def __enter__(self) -> "FrameWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

"""Keeping native libraries' log lines (decord's C++ LOG, FFmpeg's av_log) off the user's terminal.

decord and FFmpeg write to file descriptor 2 directly, below Python's ``sys.stderr``, so a corrupt video
would print a screen of C-level noise before vidml's one-line error. :func:`native_log_captured` points
fd 2 at a temp file while they run and hands back the lines; :func:`decode_reason` quotes FFmpeg's own
words for a failure (a line ``[mov,mp4,... @ 0x55..] moov atom not found``) or the exception's first line.
"""
from __future__ import annotations

import contextlib
import os
import re
import tempfile
from typing import Iterator

_FFMPEG_LOG = re.compile(r"^\[[^\]]+ @ 0x[0-9a-fA-F]+\]\s*(.+)$")  # "[mov,mp4,... @ 0x55..] moov atom not found"
_NATIVE_PREFIX = re.compile(r"^\[\d\d:\d\d:\d\d\] \S+:\d+: (Error: |ERROR |Check failed: )?")  # decord's C++ LOG


def first_line(err: BaseException) -> str:
    """The first line of an exception's message (at most 160 characters), else its type's name."""
    text = str(err).strip().splitlines()
    return text[0][:160] if text else type(err).__name__


@contextlib.contextmanager
def native_log_captured() -> Iterator[list[str]]:
    """Point file descriptor 2 at a temp file inside the ``with`` block, so native log lines never reach the
    user's terminal (a user error must print one line); yields a list that receives those lines on exit,
    for :func:`decode_reason` to quote."""
    lines: list[str] = []
    try:
        saved = os.dup(2)
    except OSError:  # no stderr at all: nothing to protect
        yield lines
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines.extend(tmp.read().decode(errors="replace").splitlines())


def decode_reason(err: BaseException, log: list[str]) -> str:
    """FFmpeg's own words for a decoding failure (first FFmpeg log line), else decord's message sans prefix."""
    for line in log:
        m = _FFMPEG_LOG.match(line.strip())
        if m:
            return m.group(1)[:160]
    return _NATIVE_PREFIX.sub("", first_line(err))

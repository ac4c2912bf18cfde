"""Writing outputs safely: path checks before the work, atomic file writes after it.

:func:`check_output_path` fails in a second on a mistyped or read-only output folder, before a long run.
:func:`atomic_write_bytes` / :func:`atomic_write_text` write through a temp file in the destination folder,
fsync it, rename it into place and fsync the folder, so a reader sees the old file or the new one, never
half of one (the index store, weights, plots, results and face crops all write this way).
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

from vidml.errors import OutputError


def default_mode() -> int:
    """Permissions a new file gets from the process umask (mkstemp's temp files are 0600)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _folder_of(path: Path) -> Path:
    return path.parent if str(path.parent) else Path(".")


def check_output_path(path: str | os.PathLike, what: str = "output") -> Path:
    """Raise OutputError now, before any work, unless ``path`` can be created: its folder exists and is writable.

    Long commands call this on every output path first, so a mistyped folder fails in a second, not
    after the whole run.
    """
    path = Path(path)
    folder = _folder_of(path)
    if not folder.is_dir():
        raise OutputError(f"{folder}: {what} folder does not exist (or is a file); create it or choose another path")
    if not os.access(folder, os.W_OK):
        raise OutputError(f"{folder}: {what} folder is not writable; choose another path")
    if path.is_dir() and what != "index":
        raise OutputError(f"{path}: is a folder; give a file name for the {what}")
    return path


def _fsync_dir(folder: Path) -> None:
    """Flush a folder's entry table so a rename inside it survives a power cut (best effort)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: str | os.PathLike, data: bytes, what: str = "output",
                       fix: str = "choose another output path") -> Path:
    """Write ``data`` to ``path`` through a temp file in the same folder, fsync, rename, fsync the folder.

    A reader sees the old file or the new one, never half of one; an interrupted write leaves at most a
    hidden ``.NAME.*.tmp`` file. A folder that cannot be written raises OutputError ``... ; {fix}``.
    """
    path = Path(path)
    folder = _folder_of(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    except OSError as err:
        raise OutputError(f"{folder}: cannot write the {what} here ({err.strerror}); {fix}") from None
    try:
        os.chmod(tmp, default_mode())
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(folder)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`)."""
    path = Path(path)
    folder = _folder_of(path)
    if not folder.is_dir():
        raise OutputError(f"{folder}: output folder does not exist; create it first")
    return atomic_write_bytes(path, text.encode())

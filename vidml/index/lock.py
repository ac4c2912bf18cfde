"""One writer at a time: an advisory ``fcntl.flock`` on the index folder itself.

A writer (``Index(path, writer=True)``, which ``vidml video-index`` uses) takes an exclusive lock on the
folder before it reads the manifest and keeps it until it is closed (or its process ends: the kernel
drops the lock of a process that exits or is killed, even by ``kill -9``, so a stale lock is impossible).
A second writer **waits**: it prints one line on stderr saying so, blocks until the first is done, and
then reads the manifest that run committed, so nothing the first one indexed is lost or hashed twice.

The lock is taken on the folder's own file descriptor, not on a lock file: nothing is created inside the
index, so a reader or a failed run leaves the folder byte-for-byte as it was. Readers take no lock; they
never see a half commit because the manifest is replaced by an atomic rename (see
:mod:`vidml.index.store`), and :class:`~vidml.index.index.Index` reloads when a commit removed a
segment between its reading the manifest and the segment.
"""
from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

from vidml.errors import OutputError


class FolderLock:
    """Exclusive advisory lock on ``folder`` (created if absent); :meth:`acquire` waits with a message."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self.fd: int | None = None
        self.created = False

    def acquire(self, message: str | None = None) -> "FolderLock":
        """Block until this process holds the lock; print ``message`` to stderr first if it has to wait."""
        told = False
        while self.fd is None:
            fd = self._open()
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if message and not told:
                    print(message, file=sys.stderr, flush=True)
                    told = True
                fcntl.flock(fd, fcntl.LOCK_EX)
            if self._same_folder(fd):
                self.fd = fd
            else:  # the holder removed the (empty) folder meanwhile: lock the one that is there now
                os.close(fd)
        return self

    def _open(self) -> int:
        try:
            self.folder.mkdir()
            self.created = True
        except FileExistsError:
            pass
        except OSError as err:
            raise OutputError(f"{self.folder}: cannot create the index folder ({err.strerror}); choose another --index") from None
        try:
            return os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
        except NotADirectoryError:
            from vidml.errors import BadInput

            raise BadInput(f"{self.folder}: exists and is not a vidml index folder; pass another --index path") from None

    def _same_folder(self, fd: int) -> bool:
        try:
            st = os.stat(self.folder)
        except FileNotFoundError:
            return False
        own = os.fstat(fd)
        return (st.st_ino, st.st_dev) == (own.st_ino, own.st_dev)

    def release(self, remove_if_empty: bool = False) -> None:
        """Drop the lock; with ``remove_if_empty``, first delete the folder if this lock created it and it is
        still empty (a run that committed nothing leaves no folder behind)."""
        if self.fd is None:
            return
        if remove_if_empty and self.created:
            try:
                self.folder.rmdir()
            except OSError:
                pass
        os.close(self.fd)
        self.fd = None

    @property
    def held(self) -> bool:
        return self.fd is not None

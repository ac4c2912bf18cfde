"""The :class:`Index` object: frame codes of many videos, searchable by Hamming distance, saved atomically.

>>> idx = Index("lib.vidx", bits=64, hasher={"name": "hash64"})     # doctest: +SKIP
>>> idx.add({"path": "/v/a.mp4", "size": 123, "mtime": 1.0, "fps": 25.0}, codes, times, faces=[])
>>> idx.save()                                   # one new segment + the manifest (see vidml.index.store)
>>> dist, rows = idx.search(query_codes, k=20)   # (Q, k) Hamming distances and row numbers
>>> idx.video_of[rows], idx.times[rows]          # which video, at which time (seconds)

Rows of all live videos are concatenated in memory: ``codes`` (N, bits/8) uint8, ``times`` (N,) float32
seconds, ``video_of`` (N,) int32 index into ``videos`` (list of entry dicts, see vidml.index.store).
Adding a video whose path is already indexed replaces it.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from vidml.errors import BadInput, OutputError
from vidml.index import store
from vidml.index.search import HammingSearcher


class Index:
    """An index folder opened for reading and appending (created on the first :meth:`save`)."""

    def __init__(self, path: str | Path, bits: int | None = None, hasher: dict | None = None) -> None:
        self.path = Path(path)
        manifest = store.read_manifest(self.path)
        self.manifest = manifest or {"bits": bits, "hasher": hasher or {}, "videos": [], "next_segment": 1, "failed": []}
        if bits is not None and self.manifest.get("bits") not in (None, bits):
            raise BadInput(f"{self.path}: index holds {self.manifest['bits']}-bit codes, not {bits}; use another --index")
        if hasher and manifest and self.manifest.get("hasher", {}).get("sha256") not in (None, hasher.get("sha256")):
            raise BadInput(f"{self.path}: index was built with another hashing model "
                           f"({self.manifest['hasher'].get('name')}); re-index into a new --index")
        self.bits = self.manifest.get("bits")
        self.videos: list[dict] = []
        self._codes: list[np.ndarray] = []
        self._times: list[np.ndarray] = []
        self._faces: list[list[dict]] = []
        self._pending: list[int] = []  # positions in self.videos not yet saved
        self._searcher: HammingSearcher | None = None
        cache: dict[str, tuple] = {}
        for entry in self.manifest["videos"]:
            if entry["segment"] not in cache:
                cache[entry["segment"]] = store.read_segment(self.path, entry["segment"])
            codes, times, faces = cache[entry["segment"]]
            a, b = entry["rows"]
            fa, fb = entry.get("faces", [0, 0])
            self._append(dict(entry), codes[a:b], times[a:b], faces[fa:fb])
        self._rebuild()

    # -- building ---------------------------------------------------------------------------------
    def _append(self, entry: dict, codes: np.ndarray, times: np.ndarray, faces: list[dict]) -> None:
        self.videos.append(entry)
        self._codes.append(np.ascontiguousarray(codes, np.uint8))
        self._times.append(np.asarray(times, np.float32))
        self._faces.append(list(faces))

    def _rebuild(self) -> None:
        nb = (self.bits or 64) // 8
        self.codes = np.concatenate(self._codes) if self._codes else np.zeros((0, nb), np.uint8)
        self.times = np.concatenate(self._times) if self._times else np.zeros(0, np.float32)
        self.video_of = np.concatenate([np.full(len(c), i, np.int32) for i, c in enumerate(self._codes)]) \
            if self._codes else np.zeros(0, np.int32)
        self._searcher = None

    def find(self, path: str | Path) -> int | None:
        """Position of the video at ``path`` in :attr:`videos`, or None."""
        key = str(Path(path).resolve())
        for i, v in enumerate(self.videos):
            if v["path"] == key:
                return i
        return None

    def is_current(self, path: str | Path) -> bool:
        """True when ``path`` is indexed with the same size and modification time as on disk now."""
        i = self.find(path)
        if i is None:
            return False
        st = Path(path).stat()
        return self.videos[i]["size"] == st.st_size and abs(self.videos[i]["mtime"] - st.st_mtime) < 1e-3

    def add(self, entry: dict, codes: np.ndarray, times: np.ndarray, faces: list[dict] | None = None) -> None:
        """Stage a video (entry needs ``path``; codes (n, bits/8) uint8; times (n,) s); replaces the same path."""
        codes = np.atleast_2d(np.asarray(codes, np.uint8))
        if self.bits is None:
            self.bits = self.manifest["bits"] = codes.shape[1] * 8
        if codes.shape[1] * 8 != self.bits or len(codes) != len(times):
            raise ValueError(f"codes {codes.shape} / times {len(times)} do not fit a {self.bits}-bit index")
        entry = dict(entry, path=str(Path(entry["path"]).resolve()))
        self.remove(entry["path"])
        self._append(entry, codes, times, faces or [])
        self._pending.append(len(self.videos) - 1)
        self._rebuild()

    def remove(self, path: str | Path) -> bool:
        """Drop a video (saved or staged); True when it was there."""
        i = self.find(path)
        if i is None:
            return False
        for lst in (self.videos, self._codes, self._times, self._faces):
            del lst[i]
        self._pending = [p - (p > i) for p in self._pending if p != i]
        self._rebuild()
        return True

    def save(self, failed: list[dict] | None = None) -> None:
        """Commit: write staged videos as one new segment, then the manifest (atomic; see vidml.index.store)."""
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise OutputError(f"{self.path}: cannot create the index folder ({err.strerror}); choose another --index") from None
        if self._pending:
            name = f"seg-{int(self.manifest['next_segment']):06d}.npz"
            self.manifest["next_segment"] = int(self.manifest["next_segment"]) + 1
            codes, times, faces, row, face_row = [], [], [], 0, 0
            for p in self._pending:
                e = self.videos[p]
                n, nf = len(self._codes[p]), len(self._faces[p])
                e.update(segment=name, rows=[row, row + n], faces=[face_row, face_row + nf])
                codes.append(self._codes[p]); times.append(self._times[p]); faces.extend(self._faces[p])
                row, face_row = row + n, face_row + nf
            store.write_segment(self.path, name, np.concatenate(codes), np.concatenate(times), faces)
        self.manifest["videos"] = self.videos
        if failed is not None:
            self.manifest["failed"] = failed
        store.write_manifest(self.path, self.manifest)
        self._pending = []
        store.remove_orphans(self.path, self.manifest)

    # -- querying ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.codes)

    def search(self, query_codes: np.ndarray, k: int = 20, backend: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """Hamming top-k rows for each query code: (dist, rows), each (Q, k)."""
        if len(self.codes) == 0:
            raise BadInput(f"{self.path}: index is empty; run vidml video-index on a folder with videos first")
        if self._searcher is None or (backend != "auto" and self._searcher.backend != backend):
            self._searcher = HammingSearcher(self.codes, backend)
        return self._searcher.search(query_codes, k)

    def face_records(self) -> list[dict]:
        """Every stored face record, each with ``video`` (the video's path) added."""
        return [dict(rec, video=v["path"]) for v, recs in zip(self.videos, self._faces) for rec in recs]

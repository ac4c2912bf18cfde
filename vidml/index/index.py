"""The :class:`Index` object: frame codes of many videos, searchable by Hamming distance, saved atomically.

>>> idx = Index("lib.vidx", bits=64, hasher={"name": "hash64"}, writer=True)   # doctest: +SKIP
>>> idx.add({"path": "/v/a.mp4", "size": 123, "mtime": 1.0, "fps": 25.0}, codes, times, sets={"tracks": [...]})
>>> idx.save()                                   # one new segment + the manifest (see vidml.index.store)
>>> dist, rows = idx.search(query_codes, k=20)   # (Q, k) Hamming distances and row numbers
>>> idx.video_of[rows], idx.times[rows]          # which video, at which time (seconds)
>>> idx.records("tracks")                        # every record of that set, each with "video" (its path)

Rows of all live videos are concatenated in memory: ``codes`` (N, bits/8) uint8, ``times`` (N,) float32
seconds, ``video_of`` (N,) int32 index into ``videos`` (list of entry dicts, see vidml.index.store);
``layout`` (N, layout_bits/8) uint8: the hasher's layout codes (vidml.backbones.layout), or None when
any video lacks them (an index built by a hasher without them).
Adding a video whose path is already indexed replaces it.

Writers: ``writer=True`` takes the index's lock (:mod:`vidml.index.lock`) *before* reading the manifest
and holds it until :meth:`close` (or ``with``, or the end of the process); a second writer waits for it
with a message on stderr. An Index opened without ``writer`` takes the lock for the length of each
:meth:`save` and refuses (BadInput, nothing written) to commit over a manifest another writer committed
after it was opened, instead of silently dropping that writer's videos.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.index import store
from vidml.index.lock import FolderLock
from vidml.index.search import HammingSearcher

LOAD_TRIES = 5  # a reader reloads when a commit removed a segment under it, at most this often


def check_hasher(path: str | Path, manifest: dict | None, info: dict) -> None:
    """BadInput (one line: re-index) when the index at ``path`` (its ``manifest``) was built with other
    weights (``hasher.sha256``) or another bit count than ``info`` (``name``, ``sha256``, ``bits``) says;
    unknown values on either side pass. The one hasher-identity check of vidml (index, search, dedupe)."""
    built, bits = (manifest or {}).get("hasher") or {}, (manifest or {}).get("bits")
    same_bits = None in (bits, info.get("bits")) or bits == info.get("bits")
    if same_bits and built.get("sha256") in (None, info.get("sha256")):
        return
    raise BadInput(f"{path}: built with the hashing model {built.get('name')!r} ({bits} bits), not "
                   f"{info.get('name')!r} ({info.get('bits')} bits); re-index: vidml video-index LIBRARY --index NEW.vidx "
                   "(or pass the --weights it was built with)")


class Index:
    """An index folder opened for reading and appending (created on the first :meth:`save`)."""

    def __init__(self, path: str | Path, bits: int | None = None, hasher: dict | None = None,
                 writer: bool = False) -> None:
        self.path = Path(path)
        self._lock = FolderLock(self.path)
        if writer:
            self._lock.acquire(f"vidml: waiting: another vidml is writing {self.path}; this run continues "
                               "when it ends (Ctrl-C to stop)")
        try:
            manifest, segments = self._read()
        except BaseException:
            self.close()
            raise
        self.manifest = manifest or {"bits": bits, "hasher": hasher or {}, "videos": [], "next_segment": 1, "failed": []}
        self._generation = int(self.manifest.get("generation", 0))
        if bits is not None and self.manifest.get("bits") not in (None, bits):
            self.close()
            raise BadInput(f"{self.path}: index holds {self.manifest['bits']}-bit codes, not {bits}; use another --index")
        if hasher and manifest:
            try:
                check_hasher(self.path, manifest, hasher)
            except BadInput:
                self.close()
                raise
        self.bits = self.manifest.get("bits")
        self.videos: list[dict] = []
        self._codes: list[np.ndarray] = []
        self._times: list[np.ndarray] = []
        self._sets: list[dict[str, list[dict]]] = []
        self._layout: list[np.ndarray | None] = []
        self._pending: list[int] = []  # positions in self.videos not yet saved
        self._searcher: HammingSearcher | None = None
        self.nprobe: int | None = None       # the IVF backend's lists probed (None: its default); set before searching
        for entry in self.manifest["videos"]:
            codes, times, sets, layout = segments[entry["segment"]]
            a, b = entry["rows"]
            own = {name: sets.get(name, [])[ra:rb] for name, (ra, rb) in entry.get("sets", {}).items()}
            self._append(dict(entry), codes[a:b], times[a:b], own, None if layout is None else layout[a:b])
        self._rebuild()

    def _read(self) -> tuple[dict | None, dict[str, tuple]]:
        """(manifest, {segment: its contents}); retried when a concurrent commit deleted a segment the
        manifest read a moment before still named (the new manifest does not)."""
        for attempt in range(LOAD_TRIES):
            manifest = store.read_manifest(self.path)
            segments: dict[str, tuple] = {}
            try:
                for entry in (manifest or {}).get("videos", []):
                    if entry["segment"] not in segments:
                        segments[entry["segment"]] = store.read_segment(self.path, entry["segment"])
                return manifest, segments
            except BadInput:
                again = store.read_manifest(self.path)
                if attempt + 1 == LOAD_TRIES or (again or {}).get("generation") == manifest.get("generation"):
                    raise
        raise AssertionError("unreachable")

    # -- building ---------------------------------------------------------------------------------
    def _append(self, entry: dict, codes: np.ndarray, times: np.ndarray, sets: dict[str, list[dict]],
                layout: np.ndarray | None = None) -> None:
        self.videos.append(entry)
        self._layout.append(None if layout is None else np.ascontiguousarray(layout, np.uint8))
        self._codes.append(np.ascontiguousarray(codes, np.uint8))
        self._times.append(np.asarray(times, np.float32))
        self._sets.append({name: list(recs) for name, recs in sets.items()})

    def _rebuild(self) -> None:
        nb = (self.bits or 64) // 8
        self.codes = np.concatenate(self._codes) if self._codes else np.zeros((0, nb), np.uint8)
        self.times = np.concatenate(self._times) if self._times else np.zeros(0, np.float32)
        self.video_of = np.concatenate([np.full(len(c), i, np.int32) for i, c in enumerate(self._codes)]) \
            if self._codes else np.zeros(0, np.int32)
        has = self._layout and all(x is not None for x in self._layout)
        self.layout = np.concatenate(self._layout) if has else None
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

    def add(self, entry: dict, codes: np.ndarray, times: np.ndarray, sets: dict[str, list[dict]] | None = None,
            layout: np.ndarray | None = None) -> None:
        """Stage a video (entry needs ``path``; codes (n, bits/8) uint8; times (n,) s; ``sets``: named lists
        of JSON-able records; ``layout``: its (n, layout_bits/8) layout codes); replaces the same path."""
        codes = np.atleast_2d(np.asarray(codes, np.uint8))
        if self.bits is None:
            self.bits = self.manifest["bits"] = codes.shape[1] * 8
        if codes.shape[1] * 8 != self.bits or len(codes) != len(times):
            raise ValueError(f"codes {codes.shape} / times {len(times)} do not fit a {self.bits}-bit index")
        entry = dict(entry, path=str(Path(entry["path"]).resolve()))
        self.remove(entry["path"])
        if layout is not None and len(layout) != len(codes):
            raise ValueError(f"layout codes {np.shape(layout)} do not fit {len(codes)} code rows")
        self._append(entry, codes, times, {k: v for k, v in (sets or {}).items() if v}, layout)
        self._pending.append(len(self.videos) - 1)
        self._rebuild()

    def remove(self, path: str | Path) -> bool:
        """Drop a video (saved or staged); True when it was there."""
        i = self.find(path)
        if i is None:
            return False
        for lst in (self.videos, self._codes, self._times, self._sets, self._layout):
            del lst[i]
        self._pending = [p - (p > i) for p in self._pending if p != i]
        self._rebuild()
        return True

    # -- committing -------------------------------------------------------------------------------
    def save(self, failed: list[dict] | None = None) -> None:
        """Commit: write staged videos as one new segment, then the manifest (atomic; see vidml.index.store).
        Without the writer lock, it is taken for this commit (waiting for another writer to finish)."""
        temporary = not self._lock.held
        if temporary:
            self._lock.acquire(f"vidml: waiting: another vidml is writing {self.path}")
        try:
            on_disk = store.read_manifest(self.path)
            if int((on_disk or {}).get("generation", 0)) != self._generation:
                raise BadInput(f"{self.path}: another run committed to this index after this one opened it; "
                               "nothing saved (open it with writer=True to wait for the other run)")
            self._commit(failed)
        finally:
            if temporary:
                self._lock.release()

    def _commit(self, failed: list[dict] | None) -> None:
        if self._pending:
            name = f"seg-{int(self.manifest['next_segment']):06d}.npz"
            self.manifest["next_segment"] = int(self.manifest["next_segment"]) + 1
            codes, times, sets, row, set_rows = [], [], {}, 0, {}
            for p in self._pending:
                e, n = self.videos[p], len(self._codes[p])
                e.update(segment=name, rows=[row, row + n], sets={})
                for set_name, recs in self._sets[p].items():
                    lo = set_rows.get(set_name, 0)
                    e["sets"][set_name] = [lo, lo + len(recs)]
                    sets.setdefault(set_name, []).extend(recs)
                    set_rows[set_name] = lo + len(recs)
                codes.append(self._codes[p]); times.append(self._times[p])
                row += n
            layouts = [self._layout[p] for p in self._pending]
            layout = np.concatenate(layouts) if all(x is not None for x in layouts) else None
            store.write_segment(self.path, name, np.concatenate(codes), np.concatenate(times), sets, layout)
        self.manifest["videos"] = self.videos
        if failed is not None:
            self.manifest["failed"] = failed
        self.manifest["generation"] = self._generation + 1
        store.write_manifest(self.path, self.manifest)
        self._generation += 1
        self._pending = []
        store.remove_orphans(self.path, self.manifest)

    def close(self) -> None:
        """Release the writer lock (a folder this writer created and never committed to is removed)."""
        if getattr(self, "_lock", None) is not None:
            self._lock.release(remove_if_empty=True)

    def __enter__(self) -> "Index":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __del__(self) -> None:
        self.close()

    # -- querying ---------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.codes)

    def _searcher_for(self, backend: str) -> HammingSearcher:
        """The Hamming searcher over every code (rebuilt when another backend is asked for); BadInput if empty."""
        if len(self.codes) == 0:
            raise BadInput(f"{self.path}: index is empty; run vidml video-index on a folder with videos first")
        if self._searcher is None or (backend != "auto" and self._searcher.backend != backend):
            self._searcher = HammingSearcher(self.codes, backend, nprobe=self.nprobe)
        return self._searcher

    def search(self, query_codes: np.ndarray, k: int = 20, backend: str = "auto") -> tuple[np.ndarray, np.ndarray]:
        """Hamming top-k rows for each query code: (dist, rows), each (Q, k)."""
        return self._searcher_for(backend).search(query_codes, k)

    def search_asymmetric(self, proj: np.ndarray, k: int = 20, backend: str = "auto",
                          candidates: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Top-k rows by the asymmetric distance of real-valued query projections ``proj`` (Q, bits):
        the Hamming top-``candidates`` (default RERANK_CANDIDATES * k) of their signs, re-sorted by
        :func:`vidml.index.asymmetric.weighted_hamming`. Returns (float32 dist, rows), each (Q, k)."""
        from vidml.index.asymmetric import RERANK_CANDIDATES, rerank
        from vidml.metric.distances import pack_bits

        proj = np.atleast_2d(np.asarray(proj, np.float32))
        dist, rows = self.search(pack_bits(proj > 0), k=candidates or RERANK_CANDIDATES * k, backend=backend)
        return rerank(proj, self.codes, dist, rows, k)

    def range_search(self, query_codes: np.ndarray, radius: int, backend: str = "auto") -> tuple[np.ndarray, ...]:
        """Every row within ``radius`` bits of each query code: ``(lims, dist, rows)`` (vidml.index.search)."""
        return self._searcher_for(backend).range_search(query_codes, radius)

    def set_names(self) -> list[str]:
        """Names of the record sets any video carries."""
        return sorted({name for sets in self._sets for name in sets})

    def records(self, name: str) -> list[dict]:
        """Every record of set ``name``, each with ``video`` (the video's path) added."""
        return [dict(rec, video=v["path"]) for v, sets in zip(self.videos, self._sets) for rec in sets.get(name, [])]

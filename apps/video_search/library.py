"""Index a folder of videos: walk it, hash each video once, store codes (+ face records), commit atomically.

Python API (no CLI needed)::

    from apps.video_search.library import index_library, load_hasher
    report = index_library("videos/", "lib.vidx", fps=2.0)        # adds new / changed videos only
    report.added, report.unchanged, report.failed                  # paths; failed: (path, reason)

A video is re-hashed when its size or modification time differ from the indexed ones. A video that
cannot be decoded is reported and skipped; the others are indexed. The index is committed every
``commit_every`` seconds and at the end (and on Ctrl-C), so an interrupted run keeps what it finished.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from vidml.backbones.weights import sha256, shipped
from vidml.errors import BadInput, VideoError
from vidml.index import Index
from vidml.progress import show_progress
from vidml.video import VIDEO_SUFFIXES

from apps.video_search.face_stage import RECORD_SET
from apps.video_search.stream import hash_video

DEFAULT_WEIGHTS = "hash64"


def load_hasher(weights: str | Path | None = None):
    """(HashingNet in eval mode, info dict for the index manifest) from ``weights`` or the shipped hash64.pt."""
    from vidml.backbones.hashing import load_hashing_net

    path = Path(weights) if weights else shipped(DEFAULT_WEIGHTS)
    net, _card = load_hashing_net(path)
    return net, {"name": path.stem, "sha256": sha256(path), "bits": net.bits}


def find_videos(folder: str | Path) -> list[Path]:
    """Video files under ``folder`` (recursive; hidden files/folders and *.vidx indexes skipped), sorted."""
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such folder; pass the folder that holds your videos")
    out = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder).parts
        if any(part.startswith(".") or part.endswith(".vidx") for part in rel):
            continue
        if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES:
            out.append(p)
    return out


def _face_stage():
    """The face half's ``face_records(frames_rgb, times, video_id)`` if it is built, else None."""
    try:
        from apps.video_search.face_stage import face_records
    except ImportError:
        return None
    return face_records


@dataclass
class IndexReport:
    added: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    sampled_frames: int = 0
    seconds: float = 0.0


_WORKER_HASHERS: dict[str, tuple] = {}


def _worker_hasher(weights: str | None):
    """The hasher of a Dask worker process, loaded once per process and weights file."""
    key = str(weights)
    if key not in _WORKER_HASHERS:
        import torch

        torch.set_num_threads(1)  # one single-threaded worker process per core
        _WORKER_HASHERS[key] = load_hasher(weights)
    return _WORKER_HASHERS[key][0]


def hash_one(task: tuple, hasher=None, progress=None) -> tuple:
    """Hash one video (a task of the Dask map): ``("ok", entry, codes, times, faces)`` or ``("failed", path, why)``.

    ``task = (path, weights, fps, faces)``. In a worker the hasher is loaded from ``weights``; in-process
    callers pass their ``hasher``. Paths must be visible to the workers (same machine or shared storage).
    """
    path, weights, fps, faces = task
    hasher = hasher or _worker_hasher(weights)
    face_fn = _face_stage() if faces else None
    on_batch = None
    if face_fn is not None:
        vid = str(Path(path).resolve())
        on_batch = lambda frames, times: face_fn(frames, times, vid)  # noqa: E731
    try:
        from vidml.video import FrameReader

        reader = FrameReader(path)
        hv = hash_video(path, hasher, fps=fps, on_batch=on_batch, progress=progress, reader=reader)
    except VideoError as err:
        return ("failed", str(path), str(err))
    if len(hv.codes) == 0:
        return ("failed", str(path), f"{path}: no frames could be sampled")
    return ("ok", hv.entry(), hv.codes, hv.times, hv.extra)


def index_library(folder: str | Path, index_path: str | Path, fps: float = 2.0, weights: str | Path | None = None,
                  faces: bool = True, quiet: bool = False, commit_every: float = 120.0, hasher=None,
                  hasher_info: dict | None = None, workers: int = 1, scheduler: str | None = None,
                  prune: bool = False) -> IndexReport:
    """Hash the videos of ``folder`` into the index at ``index_path`` (created if absent); see module doc.

    ``workers > 1`` hashes one video per task on a local Dask cluster (``scheduler``: an existing one);
    the client merges results into the index in the order of the video list, so the index is the same
    as a serial run's.
    """
    videos = find_videos(folder)
    if not videos:
        raise BadInput(f"{folder}: no video files found (looked for {', '.join(sorted(VIDEO_SUFFIXES))})")
    existed = (Path(index_path) / "manifest.json").exists()
    if not existed:
        from vidml.outputs import check_output_path

        check_output_path(index_path, "index")
    if hasher is None:
        hasher, hasher_info = load_hasher(weights)
    index = Index(index_path, bits=hasher.bits, hasher=hasher_info, writer=True)  # waits for another writer
    if index.videos and abs(float(index.manifest.get("fps", fps)) - fps) > 1e-6:
        raise BadInput(f"{index_path}: index was built at --fps {index.manifest['fps']:g}, not {fps:g}; "
                       "use the same --fps or a new --index")
    index.manifest["fps"] = fps
    report = IndexReport()
    if prune:  # forget videos under this folder whose files are gone
        root = str(Path(folder).resolve())
        for entry in list(index.videos):
            if entry["path"].startswith(root + "/") and not Path(entry["path"]).exists():
                index.remove(entry["path"])
                report.removed.append(entry["path"])
    todo = []
    for p in videos:
        (report.unchanged if index.is_current(p) else todo).append(p)
    report.unchanged = [str(p) for p in report.unchanged]
    progress = show_progress(quiet)
    t0 = time.time()
    state = {"last_commit": t0}

    def merge(result: tuple) -> None:
        if result[0] == "failed":
            report.failed.append((result[1], result[2]))
            return
        _, entry, codes, times, extra = result
        index.add(entry, codes, times, sets={RECORD_SET: extra})
        report.added.append(entry["path"])
        report.sampled_frames += len(codes)
        if time.time() - state["last_commit"] > commit_every:
            index.save(failed=[{"path": a, "reason": b} for a, b in report.failed])
            state["last_commit"] = time.time()

    tasks = [(str(p), str(weights) if weights else None, fps, faces) for p in todo]
    try:
        if workers <= 1 and scheduler is None:
            overall = tqdm(total=len(todo), desc="videos", unit="video", disable=not progress, position=0,
                           dynamic_ncols=True)
            for task in tasks:
                bar = tqdm(desc=Path(task[0]).name[:30], unit="frame", leave=False, position=1,
                           disable=not progress, dynamic_ncols=True)
                merge(hash_one(task, hasher=hasher, progress=bar.update))
                bar.close()
                overall.update(1)
            overall.close()
        else:
            from vidml.parallel import map_tasks

            # results are merged in list order once all are back, so the index equals a serial run's
            results = map_tasks(hash_one, tasks, workers=workers, scheduler=scheduler, desc="videos", quiet=quiet)
            for result in results:
                merge(result)
    finally:
        report.seconds = time.time() - t0
        nothing_decoded = not existed and not report.added and report.failed and len(report.failed) == len(todo)
        if not nothing_decoded and (report.added or report.failed or report.removed or not existed):
            index.save(failed=[{"path": a, "reason": b} for a, b in report.failed])
    if nothing_decoded:
        raise BadInput(f"{folder}: none of its {len(todo)} video(s) could be decoded (first: {report.failed[0][1]}); "
                       "no index written")
    return report

"""Index a folder of videos: walk it, hash each video once, store codes (+ face records), commit atomically.

Python API (no CLI needed)::

    from apps.video_search.library import IndexConfig, index_library
    report = index_library(IndexConfig("videos/", "lib.vidx", fps=2.0))   # adds new / changed videos only
    report.added, report.unchanged, report.failed                          # paths; failed: (path, reason)

A video is re-hashed when its size or modification time differ from the indexed ones. A video that
cannot be decoded is reported and skipped; the others are indexed. The index is committed every
``commit_every`` seconds and at the end (and on Ctrl-C), so an interrupted run keeps what it finished.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from vidml.backbones.weights import sha256, shipped
from vidml.errors import BadInput, VideoError
from vidml.index import Index
from vidml.progress import progress_bar
from vidml.video import VIDEO_SUFFIXES

from apps.video_search.face_stage import RECORD_SET
from apps.video_search.stream import hash_video, hash_videos

DEFAULT_WEIGHTS = "hash256"


def load_hasher(weights: str | Path | None = None):
    """(HashingNet in eval mode, info dict for the index manifest) from ``weights`` or the shipped default."""
    from vidml.backbones.hashing import load_hashing_net

    path = Path(weights) if weights else shipped(DEFAULT_WEIGHTS)
    net, _card = load_hashing_net(path)
    info = {"name": path.stem, "sha256": sha256(path), "bits": net.bits, "radius": net.radius}
    if net.radius_asym:
        info["radius_asym"] = net.radius_asym
    return net, info


def check_same_hasher(index: Index, info: dict) -> None:
    """BadInput (one line: re-index) when ``index`` was built with other weights than ``info``'s
    (:func:`vidml.index.index.check_hasher`, the one place of that check)."""
    from vidml.index.index import check_hasher

    check_hasher(index.path, index.manifest, info)


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
class IndexConfig:
    """What ``vidml video-index`` does: ``folder`` -> ``index`` at ``fps`` codes/s with ``weights``."""

    folder: str | Path
    index: str | Path = "lib.vidx"
    fps: float = 2.0
    weights: str | Path | None = None
    faces: bool = True
    quiet: bool = False
    commit_every: float = 120.0
    workers: int = 1
    scheduler: str | None = None
    prune: bool = False
    threads: int = 0   # torch threads of a serial run; 0: hashing_threads() (one core is left to decoding)


@dataclass
class HashTask:
    """One video to hash (what a Dask task receives)."""

    path: str
    weights: str | None
    fps: float
    faces: bool


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


def _on_batch(task: HashTask):
    """The face stage's ``on_batch`` for ``task`` (None: faces off or not built)."""
    face_fn = _face_stage() if task.faces else None
    if face_fn is None:
        return None
    vid = str(Path(task.path).resolve())
    return lambda frames, times: face_fn(frames, times, vid)


def _result(task: HashTask, hv) -> tuple:
    """``("ok", entry, codes, times, faces, layout)`` of a HashedVideo, or ``("failed", path, why)``
    (``hv`` a VideoError, or no frame sampled)."""
    if isinstance(hv, VideoError):
        return ("failed", task.path, str(hv))
    if len(hv.codes) == 0:
        return ("failed", task.path, f"{task.path}: no frames could be sampled")
    return ("ok", hv.entry(), hv.codes, hv.times, hv.extra, hv.layout)


def hash_one(task: HashTask, hasher=None, progress=None) -> tuple:
    """Hash one video: ``("ok", entry, codes, times, faces, layout)`` or ``("failed", path, why)``.

    In a worker the hasher is loaded from ``task.weights``; in-process callers pass their ``hasher``.
    Paths must be visible to the workers (same machine or shared storage).
    """
    hasher = hasher or _worker_hasher(task.weights)
    try:
        hv = hash_video(task.path, hasher, fps=task.fps, on_batch=_on_batch(task), progress=progress)
    except VideoError as err:
        hv = err
    return _result(task, hv)


def _open_index(cfg: IndexConfig, hasher, info: dict) -> tuple[Index, bool]:
    """(the index opened for writing, whether it existed); refuses another --fps or other weights."""
    existed = (Path(cfg.index) / "manifest.json").exists()
    if not existed:
        from vidml.outputs import check_output_path

        check_output_path(cfg.index, "index")
    index = Index(cfg.index, hasher=None, writer=True)  # waits for another writer
    try:
        check_same_hasher(index, info)
        if index.videos and abs(float(index.manifest.get("fps", cfg.fps)) - cfg.fps) > 1e-6:
            raise BadInput(f"{cfg.index}: index was built at --fps {index.manifest['fps']:g}, not {cfg.fps:g}; "
                           "use the same --fps or a new --index")
    except BadInput:
        index.close()
        raise
    if not existed:
        index.bits, index.manifest["bits"], index.manifest["hasher"] = info["bits"], info["bits"], info
    index.manifest["fps"] = cfg.fps
    return index, existed


def _prune(index: Index, folder: str | Path, report: IndexReport) -> None:
    """Forget videos under ``folder`` whose files are gone."""
    root = str(Path(folder).resolve())
    for entry in list(index.videos):
        if entry["path"].startswith(root + "/") and not Path(entry["path"]).exists():
            index.remove(entry["path"])
            report.removed.append(entry["path"])


def hashing_threads() -> int:
    """Torch threads for hashing while :func:`apps.video_search.stream.hash_video`'s helper thread decodes:
    the CPU cores this process may use less one, at least 1. On 2 shared cores, 2 torch threads beside the
    decoder ran video-index at 0.16-0.22 x decoding alone, 1 thread at 0.49-0.62 x (the same run, load ~6);
    on a nearly idle machine (load 1.5) 2 threads gave 0.68-0.75 x, 1 thread 0.57-0.74 x."""
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return max(1, cores - 1)


def _hash_all(tasks: list[HashTask], cfg: IndexConfig, hasher, merge) -> None:
    """Hash every task (serially with bars, or on Dask) and ``merge`` each result in list order."""
    if cfg.workers <= 1 and cfg.scheduler is None:
        import torch

        before = torch.get_num_threads()
        torch.set_num_threads(cfg.threads if cfg.threads > 0 else hashing_threads())
        try:
            _hash_serial(tasks, cfg, hasher, merge)
        finally:
            torch.set_num_threads(before)
        return
    from vidml.parallel import map_tasks

    # results are merged in list order once all are back, so the index equals a serial run's
    for result in map_tasks(hash_one, tasks, workers=cfg.workers, scheduler=cfg.scheduler, desc="videos",
                            quiet=cfg.quiet):
        merge(result)


def _hash_serial(tasks: list[HashTask], cfg: IndexConfig, hasher, merge) -> None:
    """Hash every task in this process, one decoding stream over all of them
    (:func:`apps.video_search.stream.hash_videos`), with a bar per video, merging each result."""
    overall = progress_bar(total=len(tasks), desc="videos", unit="video", quiet=cfg.quiet, position=0)
    bars = []

    def progress_for(k: int):
        bars.append(progress_bar(desc=Path(tasks[k].path).name[:30], unit="frame", quiet=cfg.quiet, leave=False,
                                 position=1))
        return bars[-1].update

    stream = hash_videos([t.path for t in tasks], hasher, fps=cfg.fps, on_batch_for=lambda k: _on_batch(tasks[k]),
                         progress_for=progress_for)
    try:
        for task, hv in zip(tasks, stream):
            merge(_result(task, hv))
            while bars:
                bars.pop().close()
            overall.update(1)
    finally:
        stream.close()           # stops the helper thread (on Ctrl-C too)
    overall.close()


def index_library(cfg: IndexConfig, hasher=None, hasher_info: dict | None = None) -> IndexReport:
    """Hash the videos of ``cfg.folder`` into ``cfg.index`` (created if absent); see the module doc.

    ``hasher``/``hasher_info``: an in-process hasher instead of ``cfg.weights`` (benchmarks). With
    ``cfg.workers > 1`` one video per task runs on a local Dask cluster (``cfg.scheduler``: an existing one).
    """
    videos = find_videos(cfg.folder)
    if not videos:
        raise BadInput(f"{cfg.folder}: no video files found (looked for {', '.join(sorted(VIDEO_SUFFIXES))})")
    if hasher is None:
        hasher, hasher_info = load_hasher(cfg.weights)
    index, existed = _open_index(cfg, hasher, hasher_info)
    report = IndexReport()
    try:
        if cfg.prune:
            _prune(index, cfg.folder, report)
        todo = [p for p in videos if not index.is_current(p)]
        todo_set = set(todo)
        report.unchanged = [str(p) for p in videos if p not in todo_set]
        t0 = last = time.time()

        def merge(result: tuple) -> None:
            nonlocal last
            if result[0] == "failed":
                report.failed.append((result[1], result[2]))
                return
            _, entry, codes, times, extra, layout = result
            index.add(entry, codes, times, sets={RECORD_SET: extra}, layout=layout)
            report.added.append(entry["path"])
            report.sampled_frames += len(codes)
            if time.time() - last > cfg.commit_every:
                index.save(failed=[{"path": a, "reason": b} for a, b in report.failed])
                last = time.time()

        tasks = [HashTask(str(p), str(cfg.weights) if cfg.weights else None, cfg.fps, cfg.faces) for p in todo]
        try:
            _hash_all(tasks, cfg, hasher, merge)
        finally:
            report.seconds = time.time() - t0
            nothing = not existed and not report.added and report.failed and len(report.failed) == len(todo)
            if not nothing and (report.added or report.failed or report.removed or not existed):
                index.save(failed=[{"path": a, "reason": b} for a, b in report.failed])
    finally:
        index.close()
    if nothing:
        raise BadInput(f"{cfg.folder}: none of its {len(todo)} video(s) could be decoded "
                       f"(first: {report.failed[0][1]}); no index written")
    return report

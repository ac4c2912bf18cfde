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
from vidml.train import show_progress
from vidml.video import VIDEO_SUFFIXES

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
    sampled_frames: int = 0
    seconds: float = 0.0


def index_library(folder: str | Path, index_path: str | Path, fps: float = 2.0, weights: str | Path | None = None,
                  faces: bool = True, quiet: bool = False, commit_every: float = 120.0, hasher=None,
                  hasher_info: dict | None = None) -> IndexReport:
    """Hash the videos of ``folder`` into the index at ``index_path`` (created if absent); see module doc."""
    videos = find_videos(folder)
    if not videos:
        raise BadInput(f"{folder}: no video files found (looked for {', '.join(sorted(VIDEO_SUFFIXES))})")
    if hasher is None:
        hasher, hasher_info = load_hasher(weights)
    index = Index(index_path, bits=hasher.bits, hasher=hasher_info)
    if index.videos and abs(float(index.manifest.get("fps", fps)) - fps) > 1e-6:
        raise BadInput(f"{index_path}: index was built at --fps {index.manifest['fps']:g}, not {fps:g}; "
                       "use the same --fps or a new --index")
    index.manifest["fps"] = fps
    face_fn = _face_stage() if faces else None
    report = IndexReport()
    todo = []
    for p in videos:
        (report.unchanged if index.is_current(p) else todo).append(p)
    report.unchanged = [str(p) for p in report.unchanged]
    progress = show_progress(quiet)
    overall = tqdm(total=len(todo), desc="videos", unit="video", disable=not progress, position=0, dynamic_ncols=True)
    t0 = last_commit = time.time()
    try:
        for p in todo:
            on_batch = None
            if face_fn is not None:
                vid = str(p.resolve())
                on_batch = lambda frames, times, _vid=vid: face_fn(frames, times, _vid)  # noqa: E731
            try:
                from vidml.video import FrameReader

                reader = FrameReader(p)
                bar = tqdm(total=len(reader), desc=p.name[:30], unit="frame", leave=False, position=1,
                           disable=not progress, dynamic_ncols=True)
                hv = hash_video(p, hasher, fps=fps, on_batch=on_batch, progress=bar.update, reader=reader)
                bar.close()
            except VideoError as err:
                report.failed.append((str(p), str(err)))
                overall.update(1)
                continue
            if len(hv.codes) == 0:
                report.failed.append((str(p), f"{p}: no frames could be sampled"))
                overall.update(1)
                continue
            index.add(hv.entry(), hv.codes, hv.times, faces=hv.extra)
            report.added.append(str(p))
            report.sampled_frames += len(hv.codes)
            overall.update(1)
            if time.time() - last_commit > commit_every:
                index.save(failed=[{"path": a, "reason": b} for a, b in report.failed])
                last_commit = time.time()
    finally:
        overall.close()
        report.seconds = time.time() - t0
        if report.added or report.failed or not (Path(index_path) / "manifest.json").exists():
            index.save(failed=[{"path": a, "reason": b} for a, b in report.failed])
    return report

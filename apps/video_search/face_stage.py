"""The face stage of ``vidml video-index``: sampled frames -> aligned faces -> face tracks -> records.

``face_records(frames_rgb, times, video_id)`` is called by the indexer for each decoded batch of sampled
frames ((N, H, W, 3) uint8 RGB, times in seconds). Each face is detected (dlib HOG), landmarked (68 points),
aligned by Umeyama to dlib's chip template, embedded (dlib's 128-d net, which beat ours on held-out pairs,
see benchmarks/bench_faces.py), and faces of one person in neighbouring frames are grouped into a track
(IoU + embedding, :mod:`apps.video_search.faces.tracks`). One JSON-able record per track segment:

    {"start": s, "end": s, "n_frames": int, "box": [x, y, w, h] (median box, pixels),
     "code": (16,) uint8 -- 128-bit ITQ code of the track's mean embedding, "model": "face_hash_dlib"}

The indexer stores them as the index's record set :data:`RECORD_SET`. A track is cut at batch
boundaries (the stage keeps no state between calls); search merges the spans of
one person that touch.
"""
from __future__ import annotations

import functools

import numpy as np

HASH_MODEL = "face_hash_dlib"
RECORD_SET = "faces"  # the name of these records' set in the index (vidml.index.Index.records)


@functools.lru_cache(maxsize=1)
def pipeline():
    """(detector, embedder, hasher), loaded once."""
    from apps.video_search.faces.binarize import FaceHasher
    from apps.video_search.faces.detect import FaceDetector
    from apps.video_search.faces.embed import DlibEmbedder
    from vidml.backbones.weights import load_checkpoint, shipped

    payload = load_checkpoint(shipped(HASH_MODEL), kind="face_hash")
    hasher = FaceHasher(**payload["config"])
    hasher.load_state_dict(payload["state_dict"])
    return FaceDetector(points=68, upsample=0), DlibEmbedder(), hasher


def face_records(frames_rgb: np.ndarray, times, video_id: str | None = None) -> list[dict]:
    """Face track records of one batch of sampled frames of one video (see the module doc)."""
    from apps.video_search.faces.tracks import group_tracks

    detector, embedder, hasher = pipeline()
    per_frame = []
    for frame, t in zip(frames_rgb, np.asarray(times, np.float64)):
        faces = detector(frame)
        boxes = np.array([f.box for f in faces]).reshape(-1, 4)
        emb = embedder.embed(frame, [f.landmarks for f in faces])
        per_frame.append((float(t), boxes, emb))
    records = []
    for tr in group_tracks(per_frame):
        records.append({"start": round(tr.start, 3), "end": round(tr.end, 3), "n_frames": len(tr.embeddings),
                        "box": [round(float(v), 1) for v in np.median(np.stack(tr.boxes), 0)],
                        "code": hasher.codes(tr.mean[None])[0], "model": HASH_MODEL})
    return records

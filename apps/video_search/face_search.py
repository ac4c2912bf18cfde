"""``vidml video-search --face photo.jpg [--pick N]``: in which indexed videos, and when, does this person appear?

The photo's face (exactly one, or the ``--pick``-th from the left) is aligned and coded like the index's
face tracks; every stored track whose code is within ``max_bits`` Hamming distance (default
:data:`MAX_BITS` of 128, chosen on held-out pairs: same-person codes rarely differ by more) is a hit.
Hits of one video are merged into time spans (tracks closer than ``GAP`` s join); videos are ranked by
their best (smallest) distance. Score = 1 - distance / bits.
"""
from __future__ import annotations

import json

import numpy as np

from vidml.errors import BadInput

MAX_BITS = 40
GAP = 2.0


def query_code(photo: str, pick: int | None = None) -> np.ndarray:
    """(16,) uint8 code of the face in ``photo``; BadInput when there is no face or several without --pick."""
    from apps.video_search.face_stage import pipeline
    from apps.video_search.faces.datasets import read_rgb
    from apps.video_search.faces.detect import FaceDetector

    image = read_rgb(photo)
    detector, embedder, hasher = pipeline()
    faces = FaceDetector(points=detector.points, upsample=1).__call__(image)
    if not faces:
        raise BadInput(f"{photo}: no face found; use a photo with a frontal face of at least ~40 px")
    if pick is None and len(faces) > 1:
        boxes = ", ".join(f"{i}: ({int(f.box[0])},{int(f.box[1])},{int(f.box[2])}x{int(f.box[3])})" for i, f in enumerate(faces))
        raise BadInput(f"{photo}: {len(faces)} faces found (left to right {boxes}); choose one with --pick N")
    idx = 0 if pick is None else pick
    if not 0 <= idx < len(faces):
        raise BadInput(f"--pick {idx} is out of range: {photo} has {len(faces)} face(s), pick 0..{len(faces) - 1}")
    emb = embedder.embed(image, [faces[idx].landmarks])
    return hasher.codes(emb)[0]


def search_faces(records: list[dict], code: np.ndarray, max_bits: int = MAX_BITS, top: int = 10) -> list[dict]:
    """Rank videos by the best Hamming distance of their face tracks to ``code``; merge hit spans per video."""
    by_video: dict[str, list[tuple[float, float, int]]] = {}
    for rec in records:
        d = int(np.bitwise_count(np.asarray(rec["code"], np.uint8) ^ code).sum())
        if d <= max_bits:
            by_video.setdefault(rec["video"], []).append((float(rec["start"]), float(rec["end"]), d))
    bits = 8 * len(code)
    out = []
    for video, hits in by_video.items():
        hits.sort()
        spans = []
        for s, e, d in hits:
            if spans and s - spans[-1]["end"] <= GAP:
                spans[-1]["end"] = max(spans[-1]["end"], e)
                spans[-1]["distance"] = min(spans[-1]["distance"], d)
            else:
                spans.append({"start": s, "end": e, "distance": d})
        best = min(sp["distance"] for sp in spans)
        out.append({"video": video, "distance": best, "score": round(1 - best / bits, 4), "spans": spans})
    out.sort(key=lambda r: (r["distance"], -len(r["spans"])))
    return out[:top]


def run_face_search(args, index) -> int:
    """Entry point used by apps.video_search.search_cli when ``--face`` is given."""
    from apps.video_search.face_stage import RECORD_SET

    records = index.records(RECORD_SET)
    if not records:
        raise BadInput(f"{getattr(args, 'index', 'index')}: holds no face records; re-index without --no-faces")
    code = query_code(args.face, getattr(args, "pick", None))
    top = getattr(args, "top", 10) or 10
    max_bits = getattr(args, "max_bits", None) or MAX_BITS
    hits = search_faces(records, code, max_bits=max_bits, top=top)
    if getattr(args, "json", False):
        print(json.dumps({"face": str(args.face), "max_bits": max_bits, "matches": hits}, indent=1))
        return 0
    if not hits:
        print(f"no match: the person in {args.face} is in none of the {len(index.videos)} indexed video(s) "
              f"(no face track within {max_bits} bits)")
        return 0
    print("| rank | video | time spans (s) | best distance (bits) | score |")
    print("|---:|---|---|---:|---:|")
    for i, h in enumerate(hits, 1):
        spans = ", ".join(f"{s['start']:.1f}-{s['end']:.1f}" for s in h["spans"])
        print(f"| {i} | {h['video']} | {spans} | {h['distance']} | {h['score']:.3f} |")
    return 0

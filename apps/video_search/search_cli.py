"""``vidml video-search --query clip.mp4 [--index lib.vidx] [--top 10] [--json]``: where does a clip appear?

Prints a table (video, matched start-end in that video, query start-end, score, e-value) or, with
``--json``, a JSON list of the same. A match is reported when its score >= ``--threshold`` and its
e-value (expected number of chance placements as good, null model of apps.video_search.null_model)
<= ``--max-evalue``; no such match is said plainly. ``--face IMAGE`` dispatches to the
face search (apps.video_search.face_search).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from vidml.errors import BadInput


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--query", help="query video clip")
    parser.add_argument("--face", help="query face image (face search; built by the face half)")
    parser.add_argument("--pick", type=int, default=None,
                        help="with --face: which face of a photo with several, 0 = leftmost (the error lists them)")
    parser.add_argument("--max-bits", type=int, default=None,
                        help="with --face: largest Hamming distance between face codes that counts as the same person")
    parser.add_argument("--index", default="lib.vidx", help="index folder written by vidml video-index")
    parser.add_argument("--top", type=int, default=10, help="at most this many videos (default 10)")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--threshold", type=float, default=None, help="minimum score in [0, 1] (default 0.25)")
    parser.add_argument("--max-evalue", type=float, default=None,
                        help="largest e-value (expected chance matches, null model of the index) reported (default 0.01)")
    parser.add_argument("--weights", default=None, help="HashingNet checkpoint (must be the one used to index)")
    parser.add_argument("--backend", choices=("auto", "numpy", "faiss"), default="auto", help="Hamming search backend")
    parser.add_argument("--seed", type=int, default=0, help="seed (search is deterministic; kept for uniformity)")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def _fmt(t: float) -> str:
    m, s = divmod(max(t, 0.0), 60.0)
    return f"{int(m)}:{s:05.2f}"


def run(args: argparse.Namespace) -> int:
    from vidml.index import Index

    if not Path(args.index).exists():
        raise BadInput(f"{args.index}: no index here; build one with vidml video-index LIBRARY --index {args.index}")
    index = Index(args.index)
    if args.face:
        try:
            from apps.video_search.face_search import run_face_search
        except ImportError:
            raise BadInput("face search not built yet; use --query CLIP for clip search") from None
        return int(run_face_search(args, index) or 0)
    if not args.query:
        raise BadInput("pass --query CLIP (a video file) to search for")
    if args.top < 1:
        raise BadInput(f"--top must be >= 1, not {args.top}")
    from apps.video_search.clip_search import DEFAULT_THRESHOLD, search_clip
    from apps.video_search.library import load_hasher

    hasher, info = load_hasher(args.weights)
    if index.manifest.get("hasher", {}).get("sha256") not in (None, info["sha256"]):
        raise BadInput(f"{args.index}: index was built with model {index.manifest['hasher'].get('name')!r}, not "
                       f"{info['name']!r}; pass the same --weights used for video-index")
    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    from apps.video_search.null_model import DEFAULT_EVALUE

    max_e = DEFAULT_EVALUE if args.max_evalue is None else args.max_evalue
    if max_e <= 0:
        raise BadInput(f"--max-evalue must be > 0, not {args.max_evalue}")
    hits = search_clip(index, args.query, hasher=hasher, top=args.top, threshold=threshold, backend=args.backend,
                       max_evalue=max_e)
    if args.json:
        print(json.dumps({"query": str(args.query), "threshold": threshold, "matches": hits}, indent=1))
        return 0
    if not hits:
        print(f"no match: {args.query} is not in the {len(index.videos)} indexed video(s) "
              f"(no score >= {threshold} with e-value <= {max_e:g})")
        return 0
    print("| rank | video | match start-end | query start-end | score | e-value |")
    print("|---:|---|---|---|---:|---:|")
    for i, h in enumerate(hits, 1):
        print(f"| {i} | {h['video']} | {_fmt(h['video_start'])}-{_fmt(h['video_end'])} | "
              f"{_fmt(h['query_start'])}-{_fmt(h['query_end'])} | {h['score']:.3f} | {h['evalue']:.2g} |")
    return 0

"""``vidml video-index LIBRARY_DIR [--index lib.vidx] [--fps 2]``: hash a video library into an index."""
from __future__ import annotations

import argparse
import sys

from apps.video_search.library import IndexConfig, index_library


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("library", nargs="?", help="folder of videos (mp4, avi, mkv, webm, gif, ...), searched recursively")
    parser.add_argument("--index", default="lib.vidx", help="index folder to create or update (default lib.vidx)")
    parser.add_argument("--fps", type=float, default=2.0, help="frames hashed per second of video (default 2)")
    parser.add_argument("--weights", default=None, help="HashingNet checkpoint (default: shipped vidml/weights/hash256.pt)")
    parser.add_argument("--check", action="store_true",
                        help="verify the index (segments readable, rows consistent, videos still on disk) and exit")
    parser.add_argument("--prune", action="store_true",
                        help="drop indexed videos under LIBRARY_DIR whose files are gone")
    parser.add_argument("--no-faces", action="store_true", help="skip the face stage (faster)")
    parser.add_argument("--threads", type=int, default=0,
                        help="torch CPU threads (0 = the cores less one: one core decodes while the other hashes)")
    parser.add_argument("--seed", type=int, default=0, help="seed (indexing is deterministic; kept for uniformity)")
    parser.add_argument("--workers", type=int, default=1,
                        help="videos hashed in parallel on a local Dask cluster of N processes (default 1: serial)")
    parser.add_argument("--scheduler", default=None,
                        help="address of an existing Dask scheduler (tcp://HOST:8786); videos must be readable there")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    from vidml.errors import BadInput
    from vidml.train import set_seed

    if args.check:
        return _check(args.index)
    if args.library is None:
        raise BadInput("give the LIBRARY_DIR to index (or --check to verify an existing --index)")
    if args.fps <= 0:
        raise BadInput(f"--fps must be > 0, not {args.fps}")
    set_seed(args.seed)
    rep = index_library(IndexConfig(args.library, args.index, fps=args.fps, weights=args.weights,
                                    faces=not args.no_faces, quiet=args.quiet, workers=args.workers,
                                    scheduler=args.scheduler, prune=args.prune, threads=max(0, args.threads)))
    rate = rep.sampled_frames / rep.seconds if rep.seconds > 0 else 0.0
    print(f"indexed {len(rep.added)} video(s) ({rep.sampled_frames} frames, {rate:.0f} frames/s), "
          f"{len(rep.unchanged)} unchanged, {len(rep.failed)} failed"
          + (f", {len(rep.removed)} removed" if rep.removed else "") + f" -> {args.index}")
    if rep.failed:
        print("skipped (cannot decode):", file=sys.stderr)
        for path, reason in rep.failed:
            print(f"  {reason}", file=sys.stderr)
    return 0


def _check(index_path: str) -> int:
    """``--check``: print what the index holds; one line per problem and exit 2 if it is damaged."""
    from pathlib import Path

    from vidml.errors import BadInput
    from vidml.index import store

    summary, problems = store.verify(Path(index_path))
    manifest = store.read_manifest(Path(index_path))
    missing = [v["path"] for v in manifest.get("videos", []) if not Path(v["path"]).exists()]
    print(f"{index_path}: format v{summary['version']}, {summary['bits']}-bit codes, {summary['videos']} video(s), "
          f"{summary['codes']} codes in {summary['segments']} segment(s); {len(missing)} video file(s) no longer on disk"
          + (f"; {len(summary['orphans'])} orphan segment(s) (removed by the next save)" if summary["orphans"] else ""))
    if problems:
        raise BadInput(f"{index_path}: damaged, {len(problems)} problem(s); first: {problems[0]}")
    return 0

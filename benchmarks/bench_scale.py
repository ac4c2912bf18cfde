"""Scale-out: wall time of `vidml video-index` on ../shared/data/videos with 1 vs N Dask workers, and a
projection of index size and query latency to 10^4 hours of video from measured per-code costs.

    .venv/bin/python benchmarks/bench_scale.py [--videos ../shared/data/videos] [--workers 2] [--faces]

Each row indexes the whole folder into a fresh index through the real CLI (one process per run, so
start-up costs are included as a user sees them). The projection times a Hamming top-k query of a 10 s
clip (20 frame codes at 2 fps) against 10^6 random 64-bit codes with numpy and faiss and scales it
linearly (both are exhaustive scans), as written up in docs/scale.md.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def index_once(videos: Path, workers: int, faces: bool, out: Path) -> float:
    cmd = [sys.executable, "-m", "vidml.cli", "video-index", str(videos), "--index", str(out), "--quiet",
           "--workers", str(workers)] + ([] if faces else ["--no-faces"])
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if done.returncode != 0:
        raise SystemExit(f"video-index failed: {done.stderr.strip()}")
    return wall


def query_ms(n_codes: int, backend: str, repeats: int = 5) -> float:
    import numpy as np

    from vidml.index.search import HammingSearcher

    rng = np.random.default_rng(0)
    db = rng.integers(0, 256, (n_codes, 8), dtype=np.uint8)
    queries = db[rng.integers(0, n_codes, 20)]
    searcher = HammingSearcher(db, backend=backend)
    searcher.search(queries, 64)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        searcher.search(queries, 64)
        times.append(time.perf_counter() - t0)
    return 1000 * sorted(times)[len(times) // 2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--videos", default=str(REPO / ".." / "shared" / "data" / "videos"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--faces", action="store_true", help="include the face stage (default: frame codes only)")
    parser.add_argument("--copies", type=int, default=4,
                        help="index K copies of the folder (the real one is small; more work amortises Dask's start)")
    args = parser.parse_args()
    videos = Path(args.videos)
    if not videos.is_dir():
        print(f"{videos}: not found (needs ../shared/data)", file=sys.stderr)
        return 2

    import shutil

    print(f"## Indexing {args.copies} copies of {videos} ({'with' if args.faces else 'without'} faces)\n")
    print("| workers | wall s | speed-up vs 1 |\n|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        lib = Path(tmp) / "lib"
        for k in range(args.copies):
            shutil.copytree(videos, lib / f"copy{k}")
        base = None
        for w in sorted({1, args.workers}):
            wall = index_once(lib, w, args.faces, Path(tmp) / f"w{w}.vidx")
            base = base or wall
            print(f"| {w} | {wall:.1f} | {base / wall:.2f} |")
        from vidml.index import Index

        idx = Index(Path(tmp) / "w1.vidx")
        n_codes = len(idx)
        hours = sum(v["duration"] for v in idx.videos) / 3600
        size = sum(p.stat().st_size for p in (Path(tmp) / "w1.vidx").iterdir())

    print("\n## Projection to 10^4 hours of video (2 codes/s, 64 bits)\n")
    codes_per_hour = 2 * 3600
    total = 10_000 * codes_per_hour
    bytes_per_code = size / max(n_codes, 1)
    print(f"measured: {n_codes} codes for {hours * 60:.1f} min of video, {bytes_per_code:.1f} bytes/code on disk "
          "(8 B code + 4 B time + npz/manifest overhead)\n")
    print("| quantity | at 10^6 codes (measured) | at 10^4 h = 7.2e7 codes (projected) |\n|---|---:|---:|")
    print(f"| index size | {bytes_per_code * 1e6 / 2**20:.0f} MiB | {bytes_per_code * total / 2**30:.2f} GiB |")
    for backend in ("numpy", "faiss"):
        ms = query_ms(1_000_000, backend)
        print(f"| query, 10 s clip, {backend} | {ms:.1f} ms | {ms * total / 1e6 / 1000:.2f} s |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Near-duplicate clip search on ../shared/data/videos: vidml (learned 64-bit frame hashes) against
per-frame pHash (imagehash, same index and temporal alignment) and the whole-video 64-bit videohash.

    .venv/bin/python benchmarks/bench_video_search.py [--seed 0] [--threads 2] [--weights PATH] [--quick]

Library: every video of ../shared/data/videos. Content groups (relevant to each other): the three PETS09
vtest encodes; visil_video2 is a camcorded copy of visil_video1. Queries: from every library video of
>= 3 s, one sub-clip of 3-10 s (random start) per copy transformation of apps.video_search.augment
(reencode, crop, scale, letterbox, colour, blur, noise, jpeg, flip, overlay), written as mp4 (mp4v
re-encoding, <= 10 fps). Distractors (in no library video): sub-clips of the hamilton clip
(faces/face_recognition_examples) and of sot/Dudek20 under the same transformations.

Metrics: mAP over library videos (relevant = the query's content group), P@1, median start-time error
(seconds; top-1 = source video only), uAP: one precision-recall curve over all (query, video) scores,
distractors included. A top-1 match is *reported* when its score >= the default threshold and its
e-value under the per-query null model (apps.video_search.null_model) is <= 0.01 -- the rule of
``vidml video-search``: "copies reported" = share of real queries whose top-1 is relevant and reported,
"distractor FP" = share of distractors whose top-1 is reported, "FP, score only" = the same without the
e-value test (the rule before it). videohash has no null model (score only).
videohash: the published algorithm of akamhy/videohash (frames at 1 fps -> collage -> imagehash.whash,
64 bits) re-implemented here because the package shells out to an ffmpeg binary; a whole-video hash
has no time alignment, so its start error is n/a.
Speed: indexing frames/s (decode + hash, --threads torch threads, machine shared), decoding alone (its
bound: decoding is forward-only, so every frame of a video is decoded to sample 2 per second), and one query clip's
search + alignment at 10^4, 10^5, 10^6 codes (random codes + the library) with numpy, exact faiss and
approximate faiss IVF (its build time and its recall of the exact neighbours within the match radius).
"""
from __future__ import annotations

import argparse
import math
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
DATA = REPO / ".." / "shared" / "data"
GROUPS = [{"vtest_pets09_480x360_arjun.avi", "vtest_pets09_480x360_gautam.avi", "vtest_pets09_480x360_gautam.mp4"},
          {"visil_video1.gif", "visil_video2.gif"}]
DISTRACTORS = ["faces/face_recognition_examples/short_hamilton_clip.mp4", "sot/Dudek20"]


class PHasher:
    """Per-frame 64-bit pHash (imagehash.phash of the RGB frame)."""

    bits = 64

    def codes(self, frames: np.ndarray) -> np.ndarray:
        import imagehash
        from PIL import Image

        from vidml.metric.distances import pack_bits
        return pack_bits(np.stack([imagehash.phash(Image.fromarray(f)).hash.reshape(-1) for f in frames]))


def videohash(path: Path) -> np.ndarray:
    """akamhy/videohash: frames at 1 fps, 144x144 tiles in a square collage 1024 px wide, wavelet hash."""
    import cv2
    import imagehash
    from PIL import Image

    from apps.video_search.stream import stride_for
    from vidml.metric.distances import pack_bits
    from vidml.video import FrameReader

    r = FrameReader(path)
    frames = [cv2.resize(f, (144, 144), interpolation=cv2.INTER_AREA) for _, f in r.frames(stride_for(r.fps, 1.0))]
    cols = math.ceil(math.sqrt(len(frames)))
    rows = math.ceil(len(frames) / cols)
    grid = np.zeros((rows * 144, cols * 144, 3), np.uint8)
    for i, f in enumerate(frames):
        grid[(i // cols) * 144:(i // cols + 1) * 144, (i % cols) * 144:(i % cols + 1) * 144] = f
    grid = cv2.resize(grid, (1024, int(1024 * grid.shape[0] / grid.shape[1])))
    return pack_bits(imagehash.whash(Image.fromarray(grid)).hash.reshape(1, -1))[0]


def make_queries(library: list[Path], out: Path, seed: int, quick: bool) -> list[dict]:
    """Write the query clips; returns dicts: path, source (name or None), start (s), transform."""
    from apps.video_search.augment import TRANSFORMS, make_transform
    from vidml.video import FrameReader, FrameWriter

    rng = np.random.default_rng(seed)
    sources = [(p, p.name) for p in library] + [(DATA / d, None) for d in DISTRACTORS]
    queries = []
    for path, name in sources:
        r = FrameReader(path)
        step = max(1, int(round(r.fps / 10.0)))      # written at <= 10 fps
        fps_out = r.fps / step
        if len(r) / r.fps < 3.0 and name is not None:
            continue
        if len(r) / r.fps < 3.0:                       # a short distractor sequence: slow it to >= 3 s
            step, fps_out = 1, min(r.fps, len(r) / 4.0)
        dur_src = len(r) / r.fps
        for tname in (TRANSFORMS if not quick else ("reencode", "crop", "flip", "overlay")):
            length = rng.uniform(3.0, min(10.0, dur_src)) if name is not None else min(dur_src, rng.uniform(3.0, 10.0))
            start = rng.uniform(0.0, max(0.0, dur_src - length)) if name is not None else 0.0
            a = r.index_at(start)
            b = min(len(r), a + max(3, int(round(length * r.fps))))
            if name is None:
                a, b = 0, len(r)
            fn = make_transform(tname, rng, (r.size[1], r.size[0]))
            qpath = out / f"q{len(queries):03d}_{tname}.mp4"
            with FrameWriter(qpath, fps_out) as w:
                for _, batch in r.batches(stride=step, batch_size=32, start=a, stop=b):
                    for f in batch:
                        w.write(fn(f))
            queries.append({"path": qpath, "source": name, "start": a / r.fps, "transform": tname})
    return queries


def average_precision(ranked: list[str], relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for i, v in enumerate(ranked, 1):
        if v in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant) if relevant else 0.0


def micro_ap(scores: list[float], labels: list[bool]) -> float:
    order = np.argsort(-np.asarray(scores), kind="stable")
    lab = np.asarray(labels)[order]
    if lab.sum() == 0:
        return 0.0
    prec = np.cumsum(lab) / np.arange(1, len(lab) + 1)
    return float((prec * lab).sum() / lab.sum())


def group_of(name: str) -> set[str]:
    for g in GROUPS:
        if name in g:
            return g
    return {name}


def rank_videos(method: str, q: dict, ctx: dict) -> list[tuple[str, float, float | None, float]]:
    """[(video name, score, predicted start or None, e-value)] best first, every library video listed."""
    from apps.video_search.clip_search import match_codes, query_null
    from apps.video_search.stream import hash_video

    names = ctx["names"]
    if method == "videohash":   # no null model: e-value 0 (accepted on the score alone)
        code = videohash(q["path"])
        d = np.array([np.unpackbits(code ^ c).sum() for c in ctx["vh"]])
        return sorted(((n, 1.0 - di / 64.0, None, 0.0) for n, di in zip(names, d)), key=lambda t: -t[1])
    index, hasher = ctx[method]
    hv = hash_video(q["path"], hasher, fps=2.0 * ctx["fps"])
    matches = match_codes(index, hv.codes, hv.times)
    null = query_null(index, hv.codes, hv.times)
    out = [(Path(index.videos[m.video]["path"]).name, m.score, m.offset, null.evalue(m.video, m.support))
           for m in matches]
    seen = {n for n, *_ in out}
    return out + [(n, 0.0, None, float("inf")) for n in names if n not in seen]


def evaluate(method: str, queries: list[dict], ctx: dict, threshold: float, max_evalue: float) -> tuple[dict, dict]:
    per_t: dict[str, list[float]] = {}
    aps, p1s, errs, fp, fp_score, found, pooled_s, pooled_l = [], [], [], [], [], [], [], []
    tops = []  # (top-1 score, its e-value, real query?, top-1 relevant?) for the operating-point table
    for q in queries:
        ranked = rank_videos(method, q, ctx)
        tops.append((ranked[0][1], ranked[0][3], q["source"] is not None,
                     q["source"] is not None and ranked[0][0] in group_of(q["source"])))
        for n, s, *_ in ranked:
            pooled_s.append(s)
            pooled_l.append(q["source"] is not None and n in group_of(q["source"]))
        reported = ranked[0][1] >= threshold and ranked[0][3] <= max_evalue
        if q["source"] is None:
            fp.append(reported)
            fp_score.append(ranked[0][1] >= threshold)
            continue
        rel = group_of(q["source"])
        ap = average_precision([n for n, *_ in ranked], rel)
        aps.append(ap); per_t.setdefault(q["transform"], []).append(ap)
        p1s.append(ranked[0][0] in rel)
        found.append(reported and ranked[0][0] in rel)
        if ranked[0][0] == q["source"] and ranked[0][2] is not None:
            errs.append(abs(ranked[0][2] - q["start"]))
    summary = {"mAP": np.mean(aps), "P@1": np.mean(p1s), "uAP": micro_ap(pooled_s, pooled_l),
               "start_err_median_s": float(np.median(errs)) if errs else float("nan"),
               "distractor_FP": float(np.mean(fp)) if fp else float("nan"),
               "distractor_FP_score_only": float(np.mean(fp_score)) if fp_score else float("nan"),
               "copies_reported": float(np.mean(found)) if found else float("nan"), "tops": tops}
    return summary, {t: float(np.mean(v)) for t, v in per_t.items()}


def speed_table(index, hasher, query: Path, fps: float, seed: int) -> list[tuple]:
    """Per size n: (n, query frames, numpy ms, faiss ms, ivf ms, ivf recall, ivf build s); search + alignment,
    best of 3. IVF recall = share of the exact search's neighbours within the match radius that IVF finds."""
    from apps.video_search.alignment import align
    from apps.video_search.stream import hash_video
    from vidml.index.search import HammingSearcher

    rng = np.random.default_rng(seed)
    hv = hash_video(query, hasher, fps=2.0 * fps)
    radius = index.bits // 4
    rows = []
    for n in (10_000, 100_000, 1_000_000):
        extra = n - len(index.codes)
        db = np.concatenate([index.codes, rng.integers(0, 256, (extra, index.codes.shape[1]), dtype=np.uint8)])
        vid = np.concatenate([index.video_of, np.full(extra, len(index.videos), np.int32)])
        tms = np.concatenate([index.times, rng.uniform(0, 3600, extra).astype(np.float32)])
        row: list = [n, len(hv.codes)]
        found = {}
        build = 0.0
        for backend in ("numpy", "faiss", "ivf"):
            t = time.perf_counter()
            s = HammingSearcher(db, backend)
            build = time.perf_counter() - t
            s.search(hv.codes[:2], 64)
            best = float("inf")
            for _ in range(3):
                t = time.perf_counter()
                d, r = s.search(hv.codes, 64)
                align(hv.times.astype(np.float64), d, r, vid, tms, radius, 1.0 / fps)
                best = min(best, time.perf_counter() - t)
            row.append(best * 1000)
            found[backend] = {(i, int(j)) for i, j in zip(*np.nonzero(d <= radius)) for j in [r[i, j]]}
        exact = found["faiss"]
        row += [len(exact & found["ivf"]) / max(len(exact), 1), build]
        rows.append(tuple(row))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weights", default=None, help="HashingNet checkpoint (default: shipped hash64.pt)")
    ap.add_argument("--fps", type=float, default=2.0, help="library sampling rate")
    ap.add_argument("--quick", action="store_true", help="only reencode, crop, flip, overlay")
    args = ap.parse_args()
    import torch

    from apps.video_search.clip_search import DEFAULT_THRESHOLD
    from apps.video_search.null_model import DEFAULT_EVALUE, library_cdf
    from apps.video_search.library import find_videos, index_library, load_hasher
    from vidml.index import Index

    torch.set_num_threads(args.threads)
    if not (DATA / "videos").is_dir():
        print("needs ../shared/data/videos (benchmark data, not shipped)")
        return 2
    library = find_videos(DATA / "videos")
    net, info = load_hasher(args.weights)
    tmp = Path(tempfile.mkdtemp(prefix="bench_vs_"))
    ctx: dict = {"names": [p.name for p in library], "fps": args.fps}
    speed = []
    for method, hasher, hinfo in (("vidml", net, info), ("pHash", PHasher(), {"name": "phash"})):
        rep = index_library(DATA / "videos", tmp / f"{method}.vidx", fps=args.fps, faces=False, quiet=True,
                            hasher=hasher, hasher_info=hinfo)
        ctx[method] = (Index(tmp / f"{method}.vidx"), hasher)
        speed.append((method, rep.sampled_frames, rep.seconds))
    t = time.time()
    ctx["vh"] = [videohash(p) for p in library]
    speed.append(("videohash", len(library), time.time() - t))
    queries = make_queries(library, tmp, args.seed, args.quick)
    n_dis = sum(q["source"] is None for q in queries)
    print(f"library: {len(library)} videos; queries: {len(queries) - n_dis} + {n_dis} distractors; "
          f"reported = score >= {DEFAULT_THRESHOLD} and e-value <= {DEFAULT_EVALUE}; weights {info['name']}")
    for m in ("vidml", "pHash"):
        idx = ctx[m][0]
        cdf, n = library_cdf(idx.codes, idx.video_of, idx.bits, idx.bits // 4)
        print(f"{m}: library frames of unrelated videos ({n} pairs): P(d <= {idx.bits // 4}) = "
              f"{cdf[idx.bits // 4]:.1e}, median distance {int(np.searchsorted(cdf, 0.5))} of {idx.bits} bits")
    print()
    results = {m: evaluate(m, queries, ctx, DEFAULT_THRESHOLD, DEFAULT_EVALUE) for m in ("vidml", "pHash", "videohash")}
    print("| method | mAP | P@1 | uAP | start err median (s) | copies reported | distractor FP | FP, score only |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for m, (s, _) in results.items():
        print(f"| {m} | {s['mAP']:.3f} | {s['P@1']:.3f} | {s['uAP']:.3f} | {s['start_err_median_s']:.2f} | "
              f"{s['copies_reported']:.2f} | {s['distractor_FP']:.2f} | {s['distractor_FP_score_only']:.2f} |")
    thresholds = (0.25, 0.3, 0.35, 0.4, 0.5)
    print(f"\nvidml operating points (reported = score >= threshold and e-value <= {DEFAULT_EVALUE})\n")
    print("| threshold | " + " | ".join(f"{t:g}" for t in thresholds) + " |\n|---|" + "---:|" * len(thresholds))
    tops = results["vidml"][0]["tops"]
    for label, real in (("copies reported", True), ("distractor FP", False)):
        cells = []
        for t in thresholds:
            hit = [(s_ >= t and e <= DEFAULT_EVALUE and (rel or not real)) for s_, e, is_real, rel in tops if is_real == real]
            cells.append(f"{np.mean(hit):.2f}")
        print(f"| {label} | " + " | ".join(cells) + " |")
    print("\nmAP per transformation\n\n| transformation | " + " | ".join(results) + " |")
    print("|---|" + "---:|" * len(results))
    for tname in results["vidml"][1]:
        print(f"| {tname} | " + " | ".join(f"{results[m][1][tname]:.3f}" for m in results) + " |")
    print(f"\nindexing (decode + hash, {args.threads} torch thread(s), shared CPU)\n\n| method | frames | seconds | frames/s |\n|---|---:|---:|---:|")
    for m, n, s in speed:
        unit = "videos" if m == "videohash" else "frames"
        print(f"| {m} | {n} {unit} | {s:.1f} | {n / s:.1f} |")
    t, n_dec = time.perf_counter(), 0
    from apps.video_search.stream import stride_for
    from vidml.video import FrameReader
    for p in library:   # the bound on indexing: every frame must be decoded (forward), 1 in `stride` is kept
        r = FrameReader(p)
        n_dec += sum(len(i) for i, _ in r.batches(stride=stride_for(r.fps, args.fps), batch_size=64))
    print(f"\ndecoding alone (decord, forward, every frame decoded): {n_dec / (time.perf_counter() - t):.0f} "
          "sampled frames/s")
    frames = np.random.default_rng(0).integers(0, 256, (512, 360, 640, 3), dtype=np.uint8)
    net.codes(frames[:32]); t = time.perf_counter(); net.codes(frames)
    print(f"\nHashingNet alone (resize + net on 640x360 frames): {512 / (time.perf_counter() - t):.0f} frames/s")
    idx = ctx["vidml"][0]
    longest = max((q for q in queries if q["source"]), key=lambda q: q["path"].stat().st_size)
    print(f"\nquery latency, search + alignment of one clip ({longest['path'].name}), best of 3\n")
    print("| codes | query frames | numpy ms | faiss flat ms | faiss IVF ms | IVF recall (d <= radius) | IVF build s |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for n, qn, a, b, c, rec, build in speed_table(idx, net, longest["path"], args.fps, args.seed):
        print(f"| {n:,} | {qn} | {a:.1f} | {b:.1f} | {c:.1f} | {rec:.3f} | {build:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())

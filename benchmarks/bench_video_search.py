"""Near-duplicate clip search on ../shared/data/videos under five edit families, with its anchors in one run.

    .venv/bin/python benchmarks/bench_video_search.py [--seed 0] [--threads 2] [--weights PATH] [--per-family 1]

Library: every video of ../shared/data/videos (NOT used for training or choosing: the HashingNet is trained
on other sources, apps/video_search/train_data.py). Relevant groups: the three PETS09 vtest encodes;
visil_video2 is a camcorded copy of visil_video1. Queries (test split): from every library video of >= 3 s,
``--per-family`` 4-s clips per edit family of apps.video_search.augment (edit drawn within the family;
compositing pastes onto frames of the distractors), written as mp4 (re-encoded) at <= 10 fps; distractors:
the same from the hamilton clip and sot/Dudek20 (in no library video).

Methods, all on the same decoded frames (benchmarks/video_search_protocol.py):
* vidml: the shipped head under video-search's region cascade (whole frames; the inner rectangles of
  apps.video_search.regions only when nothing is reported: the default), the videos without a vote
  ranked by the tail of apps.video_search.ranking (the ranking of ``video-search --all``; "no tail": in
  index order, as before 2026-12-02 b11), "every region" (all rectangles always), "whole frame" (none),
  "asymmetric" (query projections vs codes, vidml.index.asymmetric; heads with an asymmetric radius);
* vidml LOFO: for each family, a head fitted (same method, data and other families as the shipped one;
  camcord, when trained on, goes with geometric, photometric and compositing) WITHOUT that family's
  copies, scored on that family's queries only (+ region codes, + tail);
* float: the untrained pretrained features (the HashingNet's trunk, global avg + max pool, cosine), the
  same alignment (distance = 64 * angle / pi, radius 16): the reference the codes must reach, on whole
  frames and ("float regions") on the same rectangles as the codes ("+ tail": ordered as the codes' tail);
* pHash: imagehash.phash per frame, the same index, alignment and null model;
* vPDQ: Meta's vpdq (PDQ per frame, quality >= 50) in a side venv built against FFmpeg dev libraries
  (benchmarks/video_search_vpdq.py), the same alignment and null model at distance <= 31; the script
  says what is missing.

Metrics: mAP over library videos per query (relevant = the query's group; "source only": the video the
clip was cut from alone, so another member of its group, e.g. the camcorded visil_video2 of a visil_video1
clip, neither counts nor is missed), P@1, "reported" = top-1
relevant with score >= threshold and e-value <= max e-value (the rule of vidml video-search), distractor FP.
Calibration (first section, benchmarks/video_search_calibration.py; it chooses a reporting rule for this
draw; the tables use video-search's defaults, chosen on three such draws pooled (the card), and add a row
at this draw's rule when it differs): an index of the FIRST HALVES of
car_traffic, vtest arjun (choose split) and megamind, hamilton, visil_video1 (report split); copies =
edited clips of first halves, hard negatives = edited clips of second halves (same scene / person, not a
copy). The (score threshold, max e-value) with the most copies reported and <= 1/7 negatives reported on
the choose split is chosen (none qualifying: the most copies at the strictest threshold; e-value ties keep
the code default); both rates are reported on the report split, and (with the LOFO heads) also for
each query matched by the head fitted without its edit's family: the rates under edits never trained on.
Speed: video-index (faces off, the real command's function) vs decoding alone, in this run (SPEED_ROUNDS
rounds in turn, each ratio and their median), with the time per frame of decoding, resizing and the trunk
alone; one query's search + alignment at 10^4..10^6 codes, whole frames and every rectangle (faiss flat,
faiss IVF at two nprobe values with their recall).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
DATA = REPO / ".." / "shared" / "data"
DISTRACTORS = ["faces/face_recognition_examples/short_hamilton_clip.mp4", "sot/Dudek20"]


def lofo_heads(net, seed: int, info: dict) -> dict:
    """family -> a copy of ``net`` whose head was fitted without that family's copies (same data, method and
    other families as the shipped head, ``info`` = its card)."""
    import copy

    from dataclasses import replace

    from apps.video_search.augment import FAMILIES
    from apps.video_search.camcord import CAMCORD_OVERLAPS

    from apps.video_search.train import DEFAULT_FAMILIES, TrainConfig, build_cache, choose_radius, fit_head, val_features
    from apps.video_search.train_data import load_clips, resolve

    cfg = replace(TrainConfig(), bits=net.bits, trunk=net.config["trunk"], size=net.size, quiet=True, seed=seed)
    clips = load_clips(resolve(cfg.data), cfg.per_source, cfg.crops, np.random.default_rng(cfg.seed))
    cache = build_cache(net, clips, cfg.views, cfg.seed)
    val = val_features(net, load_clips(resolve(cfg.val), cfg.per_source, cfg.crops, np.random.default_rng(seed + 1)),
                       seed + 1)
    heads = {}
    trained = tuple(info.get("families") or DEFAULT_FAMILIES)      # the shipped head's training families
    for fam in FAMILIES:
        head = copy.deepcopy(net)
        # camcord contains geometric, photometric and compositing edits: left out with any of them
        others = tuple(f for f in trained if f != fam and not (f == "camcord" and fam in CAMCORD_OVERLAPS))
        fit_head(head, cache, replace(cfg, families=others))
        head.radius = choose_radius(head, val, others)       # the held family plays no part in choosing it
        if getattr(net, "radius_asym", None):
            head.radius_asym = choose_radius(head, val, others, asymmetric=True)
        heads[fam] = head
    return heads


def card_of(weights: str | None) -> dict:
    """The card of the HashingNet checkpoint ``weights`` (default: the shipped one)."""
    from apps.video_search.library import DEFAULT_WEIGHTS
    from vidml.backbones.hashing import load_hashing_net
    from vidml.backbones.weights import shipped

    return load_hashing_net(weights or shipped(DEFAULT_WEIGHTS))[1]


METHODS = ("vidml", "vidml with expansion", "vidml without the contrast gate", "vidml no tail", "vidml asymmetric",
           "vidml every region", "vidml whole frame", "vidml LOFO", "vidml LOFO with expansion", "vidml LOFO no tail",
           "vidml LOFO without the contrast gate", "vidml LOFO asymmetric", "float", "float regions",
           "float regions + tail", "pHash")


def evaluate(queries, qfeats, lib, net, heads, tmp, fps, rule: tuple, chosen: tuple | None = None) -> dict:
    """method -> list of (query, score dict). vidml = the defaults of video-search (Hamming codes, region
    cascade, tail ordered by apps.video_search.ranking); "asymmetric": the query's projections against
    the codes (vidml.index.asymmetric; only for a head with an asymmetric radius). ``rule`` = (threshold,
    max e-value, min contrast): video-search's reporting rule (apps.video_search.reporting), the contrast
    computed as video-search does for every code method; float has none (score only). ``chosen``: another
    rule (this run's calibration draw's choice, when it is not the default), reported as a row of its own."""
    from video_search_protocol import code_index, float_tail_radius, query_side, rank_codes, rank_floats, score

    from apps.video_search.ranking import TAIL_RATE

    index = lambda h: code_index(lib, h.codes_of_features(lib.feats), tmp, fps, h.radius,  # noqa: E731
                                 getattr(h, "radius_asym", None))
    indexes = {"vidml": index(net), "pHash": code_index(lib, lib.phash, tmp, fps, 16, layout=False)}
    indexes.update({fam: index(h) for fam, h in heads.items()})
    out: dict[str, list] = {m: [] for m in METHODS}
    ftail = float_tail_radius(lib, TAIL_RATE)

    def add(m: str, q: dict, ranked: list, gate: bool = True, by: tuple | None = None) -> None:
        by = by or rule
        out.setdefault(m, []).append((q, score(ranked, q, *(by if gate else by[:2] + (-float("inf"),)))))

    def codes_rank(ix, c, t, cascade=True, tail=True, expand=False):
        return rank_codes(ix, lib.names, c, t, rule[:2] if cascade else None, tail, contrast=rule[:2], layout=lay,
                          expand=rule if expand and cascade else None, share=rule if cascade else None)

    for q, (f, t, ph, lay) in zip(queries, qfeats):
        flat = f.reshape(-1, f.shape[-1])
        codes = query_side(net, flat, len(f))
        ranked = codes_rank(indexes["vidml"], codes, t)
        add("vidml", q, ranked)
        add("vidml without the contrast gate", q, ranked, gate=False)    # the rule before the gate
        if chosen and chosen != rule:
            add("vidml at the draw's rule (contrast >= %g)" % chosen[2], q, ranked, by=chosen)
        add("vidml with expansion", q, codes_rank(indexes["vidml"], codes, t, expand=True))
        add("vidml no tail", q, codes_rank(indexes["vidml"], codes, t, tail=False))
        if getattr(net, "radius_asym", None):
            add("vidml asymmetric", q, codes_rank(indexes["vidml"], query_side(net, flat, len(f), True), t))
        add("vidml every region", q, codes_rank(indexes["vidml"], codes, t, False))
        add("vidml whole frame", q, codes_rank(indexes["vidml"], codes[:, :1], t, False))
        if q["family"] in heads:
            h, ix = heads[q["family"]], indexes[q["family"]]
            hc = query_side(h, flat, len(f))
            ranked = codes_rank(ix, hc, t)
            add("vidml LOFO", q, ranked)
            add("vidml LOFO without the contrast gate", q, ranked, gate=False)
            add("vidml LOFO with expansion", q, codes_rank(ix, hc, t, expand=True))
            add("vidml LOFO no tail", q, codes_rank(ix, hc, t, tail=False))
            if getattr(h, "radius_asym", None):
                add("vidml LOFO asymmetric", q, codes_rank(ix, query_side(h, flat, len(f), True), t))
        add("float", q, rank_floats(lib, f[:, :1], t, fps))
        add("float regions", q, rank_floats(lib, f, t, fps))
        add("float regions + tail", q, rank_floats(lib, f, t, fps, tail=ftail))
        add("pHash", q, codes_rank(indexes["pHash"], ph[:, None], t, False, False))   # the anchor as before
    return {m: rows for m, rows in out.items() if rows}


def summary(rows: list, family: str | None = None) -> dict:
    real = [s for q, s in rows if q["source"] is not None and (family is None or q["family"] == family)]
    dis = [s for q, s in rows if q["source"] is None and (family is None or q["family"] == family)]
    mean = lambda xs: float(np.mean(xs)) if xs else float("nan")  # noqa: E731
    return {"mAP": mean([s["ap"] for s in real]), "dmAP": mean([s["dap"] for s in real]),
            "smAP": mean([s["sap"] for s in real]),
            "P@1": mean([s["p1"] for s in real]),
            "reported": mean([s["found"] for s in real]), "FP": mean([s["fp"] for s in dis]), "n": len(real)}


def print_tables(results: dict, families: list[str]) -> None:
    print("| method | mAP (whole ranking) | default-output mAP | default-output mAP, source only | P@1 | copies reported "
          "| distractor FP | queries |\n|---|---:|---:|---:|---:|---:|---:|---:|")
    for m, rows in results.items():
        s = summary(rows)
        print(f"| {m} | {s['mAP']:.3f} | {s['dmAP']:.3f} | {s['smAP']:.3f} | {s['P@1']:.3f} | {s['reported']:.2f} | "
              f"{s['FP']:.2f} | {s['n']} |")
    print("\nmAP per edit family, whole ranking / default output (vidml LOFO: head fitted without that family)\n")
    print("| family | " + " | ".join(results) + " |\n|---|" + "---:|" * len(results))
    for fam in families:
        cell = lambda s: f"{s['mAP']:.3f} / {s['dmAP']:.3f}"  # noqa: E731
        print(f"| {fam} | " + " | ".join(cell(summary(rows, fam)) for rows in results.values()) + " |")


SPEED_ROUNDS = 3   # decoding alone, then video-index, this many times in turn: one pass of either varies 10-15 %


def _decode_pass(library_dir: Path, fps: float) -> tuple[float, list]:
    """(sampled frames per second of decoding alone, a few kept frames per batch): every frame is decoded
    (forward), 1 in ``stride`` kept, as video-index reads the library."""
    from apps.video_search.library import find_videos
    from apps.video_search.stream import stride_for
    from vidml.video import FrameReader

    t = time.perf_counter()
    n_dec, kept = 0, []
    for p in find_videos(library_dir):
        r = FrameReader(p)
        for i, b in r.batches(stride=stride_for(r.fps, fps), batch_size=64):
            n_dec += len(i)
            kept.append(b[:: max(1, len(b) // 8)])   # a few frames per batch for the resize / trunk timings
    return n_dec / (time.perf_counter() - t), kept


def speed(net, info, library_dir: Path, tmp: Path, fps: float, threads: int, rounds: int = SPEED_ROUNDS) -> None:
    """video-index (faces off) vs decoding alone, the same library, this run, in ``rounds`` interleaved rounds
    (each ratio, and their median); and where the time goes (decode; border search + resize; trunk, bit layer
    and layout codes at video-index's batch size: each alone)."""
    from apps.video_search.library import IndexConfig, index_library
    from apps.video_search.stream import BATCH_SIZE

    decs, idxs = [], []
    for k in range(rounds):
        dec, kept = _decode_pass(library_dir, fps)
        rep = index_library(IndexConfig(library_dir, tmp / f"speed{k}.vidx", fps=fps, faces=False, quiet=True),
                            hasher=net, hasher_info=info)
        decs.append(dec)
        idxs.append(rep.sampled_frames / rep.seconds)
    t = time.perf_counter()
    small = [net.prepare(b) for b in kept]
    resize = (time.perf_counter() - t) / sum(len(b) for b in kept)
    small = np.concatenate(small)
    hash_batch = getattr(net, "codes_and_layout", None) if getattr(net, "layout", None) is not None else None
    hash_batch = hash_batch or net.codes      # what video-index runs on each batch, at its batch size
    t = time.perf_counter()
    for lo in range(0, len(small), BATCH_SIZE):
        hash_batch(small[lo:lo + BATCH_SIZE])
    trunk = (time.perf_counter() - t) / len(small)
    ratios = [i / d for i, d in zip(idxs, decs)]
    print(f"\nspeed ({threads} torch threads, 2 shared cores, load {os.getloadavg()[0]:.1f} at the end): decoding "
          f"alone {np.median(decs):.1f} sampled frames/s (median of {rounds}; {1000 / np.median(decs):.1f} ms each, every "
          f"frame decoded); resize alone {resize * 1000:.1f} ms (with the border search); trunk, bit layer and layout "
          f"codes alone {trunk * 1000:.1f} ms per frame ({net.size} px, batches of {BATCH_SIZE} as video-index hashes "
          f"them); video-index --no-faces {np.median(idxs):.1f} frames/s; video-index / decoding by round "
          + ", ".join(f"{r:.2f}" for r in ratios) + f": median {np.median(ratios):.2f} x decoding")


def _timed_search(searcher, flat: np.ndarray, q: int, qtimes, vid, tms, radius: int, fps: float):
    """(best of 3 ms, {(query code, row) within radius}) of one query's search + alignment."""
    from apps.video_search.alignment import align

    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        d, rows = searcher.search(flat, 64)
        align(qtimes, d.reshape(q, -1), rows.reshape(q, -1), vid, tms, radius, 1.0 / fps)
        best = min(best, time.perf_counter() - t)
    return best * 1000, {(i, int(rows[i, j])) for i, j in zip(*np.nonzero(d <= radius))}


LATENCY_NPROBES = (None, 16)   # None: the backend's default (a quarter of the lists)
SEARCH_THREADS = 2             # video-search leaves faiss its default, every core: the laptop's two


def _on_threads(n: int, fn):
    """``fn()`` with faiss's OpenMP searching on ``n`` threads (the other columns: the run's, 1 with
    OMP_NUM_THREADS=1), then back."""
    import faiss

    before = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        return fn()
    finally:
        faiss.omp_set_num_threads(before)


def latency(index_codes: np.ndarray, video_of, times, query_codes: np.ndarray, qtimes, fps: float, seed: int,
            radius: int) -> None:
    """One query's search + alignment at 10^4..10^6 codes (the library + random codes), best of 3: whole
    frames only (the cascade's first pass, all a found copy costs) and the inner rectangles of one query frame
    per library sampling step (its second pass, apps.video_search.clip_search.region_frames; the whole frames'
    neighbours come from the first), and a query expansion's search; the IVF at its default nprobe also with
    faiss on ``SEARCH_THREADS`` threads, as video-search runs it on a two-core laptop."""
    from vidml.index.search import FaissBinary, FaissBinaryIVF

    from apps.video_search.clip_search import region_frames

    rng = np.random.default_rng(seed)
    q, r, nb = query_codes.shape
    radius = int(radius)
    keep = region_frames(qtimes, 1.0 / fps)
    sets = {"whole frame": (query_codes[:, :1].reshape(-1, nb), qtimes, radius),
            f"{r - 1} inner rectangles": (query_codes[keep, 1:].reshape(-1, nb), qtimes[keep], radius),
            "expansion": expansion_query(index_codes, video_of, times, radius)}
    print(f"\nquery latency: search + alignment of one query ({q} frames; whole frame = {q} codes, regions = "
          f"{len(keep)} frames x {r - 1} inner rectangles = {len(keep) * (r - 1)} codes (the region pass; it reuses the whole "
          f"frames' neighbours); expansion = a reported video's {len(sets['expansion'][1])} "
          f"rows at the partner radius {sets['expansion'][2]}), best of 3; IVF recall = share of the exact (code, row) "
          "pairs within the radius found\n")
    print("| codes | query codes | faiss flat ms | " + " | ".join(f"IVF nprobe {p or 'default'} ms (recall)"
                                                             for p in LATENCY_NPROBES)
          + f" | IVF default, faiss on {SEARCH_THREADS} threads ms | IVF build s |")
    print("|---:|---|---:|" + "---:|" * len(LATENCY_NPROBES) + "---:|---:|")
    for n in (10_000, 100_000, 1_000_000):
        extra = n - len(index_codes)
        db = np.concatenate([index_codes, rng.integers(0, 256, (extra, nb), dtype=np.uint8)])
        vid = np.concatenate([video_of, np.full(extra, video_of.max() + 1, np.int32)])
        tms = np.concatenate([times, rng.uniform(0, 3600, extra)]).astype(np.float32)
        flat = FaissBinary(db)
        t = time.perf_counter()
        ivf = FaissBinaryIVF(db)
        build, default = time.perf_counter() - t, ivf.index.nprobe
        for label, (codes, qt, rad) in sets.items():
            ms, exact = _timed_search(flat, codes, len(qt), qt, vid, tms, rad, fps)
            cells = []
            for nprobe in LATENCY_NPROBES:
                ivf.index.nprobe = min(nprobe or default, ivf.index.nlist)
                ims, found = _timed_search(ivf, codes, len(qt), qt, vid, tms, rad, fps)
                cells.append(f"{ims:.1f} ({len(found & exact) / max(len(exact), 1):.2f})")
            ivf.index.nprobe = default
            cells.append(f"{_on_threads(SEARCH_THREADS, lambda: _timed_search(ivf, codes, len(qt), qt, vid, tms, rad, fps)[0]):.1f}")
            print(f"| {n:,} | {label} | {ms:.1f} | " + " | ".join(cells) + f" | {build:.1f} |")


def expansion_query(codes: np.ndarray, video_of: np.ndarray, times: np.ndarray, radius: int) -> tuple:
    """(codes, times, partner radius) of a query expansion's second search (apps.video_search.expansion): the
    first library video's rows over a 4 s span +- CONTEXT_S, at the partner radius of these library codes."""
    from apps.video_search.expansion import CONTEXT_S, PARTNER_RATE
    from apps.video_search.ranking import radius_at_rate

    rows = np.flatnonzero((video_of == video_of[0]) & (times <= times[video_of == video_of[0]].min() + 4 + 2 * CONTEXT_S))
    return (codes[rows], times[rows].astype(np.float64),
            radius_at_rate(codes, video_of, codes.shape[1] * 8, radius, PARTNER_RATE))


def print_short_queries(results: dict, methods=("vidml", "vidml LOFO")) -> None:
    """Each query whose default output misses part of its group: (source, edit, default-output AP, what
    was reported), so the table's gap can be read per query."""
    for m in methods:
        short = [(q["source"], q["edit"], round(s["dap"], 2), s["shown"]) for q, s in results.get(m, [])
                 if q["source"] is not None and s["dap"] < 1]
        print(f"\n{m}: queries whose default output has AP < 1 (source, edit, AP, reported): {short}")


def latency_of_longest(net, lib, qfeats: list, fps: float, seed: int) -> None:
    f, t = max(qfeats, key=lambda x: (x[0].shape[1], len(x[1])))[:2]   # the most rectangles (an inset), longest
    codes = net.codes_of_features(f.reshape(-1, f.shape[-1])).reshape(len(t), -1, net.bits // 8)
    latency(net.codes_of_features(lib.feats), lib.video_of, lib.times, codes, t, fps, seed, net.radius)


def test_split(net, paths: list, tmp: Path, args, backgrounds) -> tuple:
    """(queries, library features, per query (region features, times, pHash codes, layout views)) of the
    test split."""
    from video_search_protocol import library_features, make_queries, phash_codes, region_views, sampled

    from vidml.video import FrameReader

    def seconds(path: Path) -> float:
        r = FrameReader(path)                     # opened once per path
        return len(r) / r.fps

    sources = [(p, p.name) for p in paths if seconds(p) >= 3.0] + [(DATA / d, None) for d in DISTRACTORS]
    queries = make_queries(sources, tmp, args.seed, args.per_family, backgrounds)
    lib = library_features(net, paths, args.fps, phash=True)   # each video decoded once for both
    qfeats = []
    for q in queries:
        frames, t = sampled(q["path"], 2 * args.fps)
        f, lay = region_views(net, frames)
        qfeats.append((f, t, phash_codes(frames), lay))
    return queries, lib, qfeats


def backgrounds(indexed: list[Path] = ()) -> list:
    """The frames compositing edits paste a query onto: the DISTRACTORS sampled at 1 fps, but none of
    ``indexed`` (the calibration indexes the hamilton clip: a composite pasted on its frames is a copy of
    it, so its queries get Dudek20's alone; before 2026-12-03 they got both, and 4 of the 60 calibration
    copies of seeds 0 and 1 (6 per video) matched the hamilton frame they lay on first)."""
    from video_search_protocol import sampled

    skip = {Path(p).resolve() for p in indexed}
    return [f for d in DISTRACTORS if (DATA / d).resolve() not in skip for f in sampled(DATA / d, 1.0)[0]]


def calibration_paths(paths: list[Path]) -> list[Path]:
    """The calibration's videos: the choose and report splits' videos of ``paths`` and the first distractor."""
    from video_search_calibration import CAL_CHOOSE, CAL_REPORT

    return [p for p in paths if p.name in CAL_CHOOSE + CAL_REPORT] + [DATA / DISTRACTORS[0]]


def parse_args() -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--weights", default=None, help="HashingNet checkpoint (default: the shipped one)")
    ap.add_argument("--fps", type=float, default=2.0, help="library sampling rate")
    ap.add_argument("--per-family", type=int, default=1, help="query clips per source and edit family")
    ap.add_argument("--no-lofo", action="store_true", help="skip the leave-one-family-out heads")
    ap.add_argument("--no-speed", action="store_true", help="skip the speed sections")
    ap.add_argument("--calibration-only", action="store_true", help="only the calibration section")
    ap.add_argument("--speed-only", action="store_true", help="only video-index against decoding alone")
    ap.add_argument("--no-layout", dest="layout", action="store_false",
                    help="calibration: the contrast of the search codes alone (the rule before 2026-12-03)")
    ap.add_argument("--cal-lofo", action="store_true",
                    help="with --calibration-only: its rates also under the LOFO heads (each query by the head without its "
                         "family; always in a full run)")
    ap.add_argument("--cal-per-video", type=int, default=4, help="calibration copies (and negatives) per video")
    return ap.parse_args()


def main() -> int:
    args = parse_args()
    import torch

    from video_search_calibration import calibration
    from video_search_vpdq import vpdq_rows, vpdq_status

    from apps.video_search.augment import FAMILIES
    from apps.video_search.clip_search import DEFAULT_THRESHOLD
    from apps.video_search.library import find_videos, load_hasher
    from apps.video_search.null_model import DEFAULT_EVALUE
    from apps.video_search.reporting import DEFAULT_MIN_CONTRAST

    torch.set_num_threads(args.threads)
    if not (DATA / "videos").is_dir():
        print("needs ../shared/data/videos (benchmark data, not shipped)")
        return 2
    t0 = time.time()
    paths = find_videos(DATA / "videos")
    net, info = load_hasher(args.weights)
    tmp = Path(tempfile.mkdtemp(prefix="bench_vs_"))
    if args.speed_only:
        speed(net, info, DATA / "videos", tmp, args.fps, args.threads)
        return 0
    need_heads = args.cal_lofo or not (args.no_lofo or args.calibration_only)
    heads = lofo_heads(net, args.seed, card_of(args.weights)) if need_heads else {}
    cal = calibration_paths(paths)
    chosen = calibration(net, cal, args.fps, tmp, args.seed, args.cal_per_video, backgrounds(cal), args.layout, heads)
    rule = (DEFAULT_THRESHOLD, DEFAULT_EVALUE, DEFAULT_MIN_CONTRAST)   # what video-search reports (see the card)
    if args.calibration_only:
        return 0
    queries, lib, qfeats = test_split(net, paths, tmp, args, backgrounds())
    n_dis = sum(q["source"] is None for q in queries)
    print(f"\nlibrary: {len(paths)} videos, {len(lib.times)} codes; queries: {len(queries) - n_dis} + {n_dis} "
          f"distractors; weights {info['name']} ({net.bits} bits, radius {net.radius}, trunk {net.config['trunk']} "
          f"at {net.size} px); reported = score >= {rule[0]:g}, e-value <= {rule[1]:g}, contrast >= {rule[2]:g} "
          f"(video-search's defaults, chosen on three calibration draws pooled: the card; this draw chose "
          f"{chosen[0]:g} / {chosen[1]:g} / {chosen[2]:g}); "
          f"float has no null model nor contrast (score only)\n{vpdq_status()}\n")
    results = evaluate(queries, qfeats, lib, net, heads, tmp, args.fps, rule, chosen)
    if not vpdq_status():
        results["vPDQ"] = vpdq_rows(queries, paths, tmp, args.fps, rule)
    print_tables(results, list(FAMILIES))
    print_short_queries(results)
    if not args.no_speed:
        speed(net, info, DATA / "videos", tmp, args.fps, args.threads)
        latency_of_longest(net, lib, qfeats, args.fps, args.seed)
    print(f"\ntotal {time.time() - t0:.0f} s")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

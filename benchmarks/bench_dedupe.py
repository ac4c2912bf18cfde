"""Library deduplication (`vidml video-dedupe`): pair precision / recall on a real library with planted
copies and same-scene hard negatives, the time of the self-join at 10^3 videos (synthetic codes) and its
projection to 10^5.

    .venv/bin/python benchmarks/bench_dedupe.py [--seeds 0,1,2] [--threads 1] [--weights PATH] [--regions all]
        [--speeds 1] [--scale 1000] [--no-phash] [--workdir DIR] [--contrast-table] [--screenshot report.png]
        [--hard-tune] [--no-layout]

Library (one folder, indexed once; ``--workdir`` keeps it, its indexes and region codes for the next run):
the 10 clips of ../shared/data/videos, 6 real distractor clips that copy nothing in it (sot/Dudek20,
sot/juice, sot/Human3, sot/UAV123_wakeboard7, mot/TUD-Campus frames and the hamilton clip, as mp4), and
* planted copies: a 4-12 s sub-clip of a library clip under one frame edit of apps.video_search.augment
  (any family), with probability 0.3 followed by a temporal edit, mp4 <= 10 fps; composites are pasted on
  real photos that are in no library video (``backgrounds``), one photo per copy;
* per GIF_PREVIEWS source a GIF preview (3-6 s, 240 px, 4-8 fps, 256 colours, half sped up 1.5-2x) and a
  side-by-side copy (their own random stream);
* RECORDINGS: two disjoint re-encoded sub-clips of one scene (PETS09, megamind, car_traffic, visil,
  pedestrians, the hamilton clip, Human3): other moments of the same camera / person / room.

Content groups: the three PETS09 vtest encodes are one (one recording, three encodes), visil_video2 is a
camcorded visil_video1; a planted clip belongs to its source's group. Two files of one group are a *known
copy pair* when their spans in the group's timeline overlap by >= 1 s, a *same-scene hard negative* when
they are >= GAP_S = 2 s apart (counted as a false pair, and reported separately), ignored in between (the
same moment of one shot, nearly); every other predicted pair is a false pair of *other content*.

``--hard-tune`` adds TUNE's hard pairs (dedupe_library.HARD_TUNE_CAMCORDS: a camcorded copy of a megamind and
a PETS09 sub-clip, and a 1.5-2x GIF preview of the static PETS09 camera); TEST stays as it was.

Splits (fixed before looking at results): TUNE = PETS09, megamind, demo + hamilton, Dudek20, juice; TEST =
visil, car_traffic, pedestrians_overhead, pysot_bag + Human3, wakeboard7, TUD-Campus. Planted clips are of
the split's own sources. ``video-dedupe``'s score threshold, minimum offset contrast and minimum shared
span are chosen jointly on TUNE (best pair F1; e-value <= 0.01 throughout), then the short-pair rule and the
links of pairs through a common video (F1 again). Beside them the bench reports the contrast gate chosen in
the form of the issue's target (``dedupe_choice.choose_gate``: among the gates whose TUNE output finds >= 8/9 of TUNE's
known pairs, the fewest false pairs, then the lowest gate), and the output by gate. That row was added on
2026-12-04 (fourteenth session) *after* the TEST curve of draws 0-2 had been seen, so their TEST figures at it
are no clean estimate (fresh draws, ``--seeds 3,4,5``, are); it is not video-dedupe's default because, measured,
it drops a real picture-in-picture of car_traffic's fixed camera (0.21 bits; tests/test_dedupe.py). (A copy of a
still shot, once 0 bits, is +inf since the fifteenth session: it passes any gate.)
TEST is reported at the chosen settings, and without the contrast / span tests (ablation).

**Draws** (``--seeds``, default 0,1,2; since 2026-12-04): the library is drawn once per seed (other
sub-clips, edits, recordings, each draw its own index in ``WORKDIR/seed<S>``) and every setting is chosen on
the TUNE splits of all draws pooled; TEST is given pooled and per draw. One draw's TUNE held one to three
deciding pairs: the best contrast gate was -1 bits on draw 0, -1 to 0 on draw 1 and 2 to 3 on draw 2. A false
pair between the splits counts against TEST. TEST is also reported on the pairs with at least one unedited
clip (copy-to-copy pairs left out).

Anchor: the same library deduplicated by per-frame pHash (imagehash) codes through the same pipeline
(regions, null model, contrast; its own settings chosen on TUNE).

Speed: ``--scale`` synthetic videos (60 random codes each, of the model's bit count B, a random walk of
B/32-bit steps; 10 % are instead 30-code copies of a span of another, 0-7B/64 bits flipped per code; R - 1
random codes a frame stand for the other rectangles of a region set) deduplicated with each search backend.
Exact backends and the index's IVF (a quarter of its sqrt(N) lists) cost O(R N^2): the projection to 10^5
videos multiplies by (10^5 / scale)^2; an IVF with a fixed nprobe scans N / nlist codes a query, O(R N^1.5).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))
from video_search_protocol import phash_codes  # noqa: E402
from dedupe_library import build_library, known_pairs  # noqa: E402
from dedupe_choice import (CONTRASTS, pair_names, choose_chain, choose_gate, choose_short, choose_threshold,  # noqa: E402
                           evaluate, output_at)
from dedupe_scale import scale_rows  # noqa: E402
from apps.video_search.dedupe import DEFAULT_REGIONS  # noqa: E402

class PHasher:
    """Per-frame 64-bit pHash (imagehash.phash), the anchor."""

    bits = 64

    def codes(self, frames: np.ndarray) -> np.ndarray:
        return phash_codes(frames)


def dedupe_real(lib: Path, tmp: Path, method: str, weights: str | None, regions: str, speeds=(1.0,),
                contrast: str = "line", layout: bool = True):
    """(all significant pairs at threshold 0, index seconds) of one method on the library; the index (and its
    region-code cache) in ``tmp`` is reused when it is there."""
    from apps.video_search.dedupe import DedupeConfig, dedupe_library

    cfg = DedupeConfig(lib, index=tmp / f"{method}.vidx", threshold=0.0, min_contrast=float("-inf"), min_span=0.0,
                       weights=weights, quiet=True, regions=regions, speeds=speeds, contrast=contrast, layout=layout,
                       chain_contrast=float("inf"), short_contrast=float("-inf"))  # short rule, chain: chosen on TUNE after
    if method == "phash":
        res = dedupe_library(cfg, PHasher(), {"name": "phash", "sha256": "phash", "bits": 64})
    else:
        res = dedupe_library(cfg)
    check_index_holds_library(cfg.index, res.videos)
    return res, res.index_seconds


def check_index_holds_library(index_path: Path, videos: int) -> None:
    """Stop when the workdir's index holds videos that are not the library's: a copied workdir re-indexes its
    library beside the old paths, and the other copies then crowd each frame's k nearest rows and the null
    sample (every figure would change)."""
    from vidml.index import Index

    held = len(Index(index_path).videos)
    if held != videos:
        raise SystemExit(f"{index_path}: holds {held} videos, the library {videos}; use a fresh --workdir "
                         "(a copied workdir keeps the old library's paths)")


def screenshot(report: Path, png: Path) -> str:
    from apps.video_search.report import screenshot as shoot

    shot = shoot(report, png)
    if shot is None:
        return "no screenshot (chromium not installed: apt-get install -y chromium; or it wrote nothing)"
    return f"screenshot {shot} ({shot.stat().st_size} bytes)"


def print_split_rows(method: str, res, t: float, c: float, L: float, truth, known, neutral, ignored, match_s: float,
                     index_s: float) -> None:
    for split, orig in (("tune", False), ("test", False), ("test", True)):
        e = evaluate(res.pairs, truth, known, neutral, split, t, with_original=orig, min_contrast=c, ignored=ignored,
                     min_span=L)
        name = split.upper() + (", pairs with an unedited clip" if orig else "")
        hard = f"{e['hard_paired']}/{e['hard']}" if not orig else "-"
        if (c > float("-inf") or L > 0) and not orig:  # the same threshold, no contrast / span test (ablation)
            n = evaluate(res.pairs, truth, known, neutral, split, t, ignored=ignored)
            print(f"| {method}, no contrast / span test | {split.upper()} | {t:.2f}, -inf, 0 | {n['known']} | {n['tp']} | {n['fp']} | "
                  f"{n['fp_other']} | {n['hard_paired']}/{n['hard']} | {n['precision']:.2f} | {n['recall']:.2f} | | |")
        print(f"| {method} | {name} | {t:.2f}, {c:g}, {L:g} | {e['known']} | {e['tp']} | {e['fp']} | {e['fp_other']} | {hard} | "
              f"{e['precision']:.2f} | {e['recall']:.2f} | {index_s:.0f} | {match_s:.1f} |")


def gate_curve(pairs, t: float, L: float, short: tuple[float, float], x: float, truth, known, neutral,
               ignored) -> None:
    """The output (:func:`output_at`) at every contrast gate of CONTRASTS, the other settings as chosen: found /
    false on TUNE and TEST pooled. A curve to pick another ``--min-contrast`` from; nothing is chosen on its
    TEST column."""
    print(f"\nvidml's output by contrast gate (threshold {t:.2f}, span {L:g}, links >= {x:g} bits; TEST shown, "
          "not used to choose):\n")
    print("| --min-contrast | TUNE found / false | TEST found / false | TEST hard negatives paired |")
    print("|---:|---:|---:|---:|")
    for g in CONTRASTS:
        out = output_at(pairs, t, g, L, short, x)
        a, b = (evaluate(out, truth, known, neutral, split, t, min_contrast=g, ignored=ignored, min_span=L)
                for split in ("tune", "test"))
        print(f"| {g:g} | {a['tp']}/{a['known']}, {a['fp']} | {b['tp']}/{b['known']}, {b['fp']} | "
              f"{b['hard_paired']}/{b['hard']} |")


def print_output_rows(label: str, out: list, t: float, c: float, L: float, rows: list) -> None:
    """Table rows of an output (direct + chained pairs) on TUNE, TEST (pooled, then per draw: ``rows`` =
    (label, truth, known, neutral, ignored) with the pooled first) and TEST's pairs with an unedited clip."""
    for split, orig in (("tune", False), ("test", False), ("test", True)):
        for name, tr, kn, ne, ig in rows if split == "test" and not orig else rows[:1]:
            mine = [p for p in out if pair_names(p) <= set(tr)]
            e = evaluate(mine, tr, kn, ne, split, t, with_original=orig, min_contrast=c, ignored=ig, min_span=L)
            hard = "-" if orig else f"{e['hard_paired']}/{e['hard']}"
            print(f"| {label} | {split.upper() + name + (', pairs with an unedited clip' if orig else '')} | "
                  f"{t:.2f}, {c:g}, {L:g} | {e['known']} | {e['tp']} | {e['fp']} | {e['fp_other']} | {hard} | "
                  f"{e['precision']:.2f} | {e['recall']:.2f} | | |")


def print_errors(res, final: list, truth, known, neutral, ignored) -> None:
    """TEST's known pairs missing from ``final`` (the output: kept direct pairs + chained ones) and every false
    pair / paired hard negative of either split in it, with scores and contrasts (those of ``res``' direct pairs)."""
    found = {pair_names(p) for p in final}
    best = {pair_names(p): (p.score, p.contrast) for p in res.pairs}
    missed = [k for k in known if all(truth[n]["split"] == "test" for n in k) and k not in found]
    print("\nvidml TEST: missed " + ", ".join(sorted(
        " ~ ".join(sorted(k)) + " ({:.2f}, {:g})".format(*best.get(k, (0, 0))) for k in missed)))
    wrong = [p for p in final if pair_names(p) not in known | ignored]
    print("false pairs / paired hard negatives: " + (", ".join(
        f"{Path(p.a).name} ~ {Path(p.b).name} ({p.score:.2f}, {p.contrast:g}, {'hard negative' if pair_names(p) in neutral else 'false'}"
        + (f", via {Path(p.via).name})" if p.via else ")") for p in wrong) or "none"))


def contrast_table(res, truth, known, neutral, ignored) -> None:
    """TUNE/TEST pairs by kind (known / hard negative / other) with score, contrast, span (diagnostics)."""
    from apps.video_search.dedupe import span_of

    for p in res.pairs:
        k = pair_names(p)
        kind = "known" if k in known else "hard" if k in neutral else "near" if k in ignored else "other"
        split = "/".join(sorted({truth[n]["split"] for n in k}))
        print(f"  {split:9s} {kind:5s} {p.score:.2f} {p.contrast:7.2f} {span_of(p):5.1f} {p.evalue:.2g}  {' ~ '.join(sorted(k))}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seeds", default="0,1,2",
                    help="library draws (comma-separated seeds): settings are chosen on their TUNE splits pooled, TEST "
                         "is given pooled and per draw (default 0,1,2; one seed: the earlier single-draw protocol)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--weights", default=None, help="HashingNet checkpoint (default: the shipped one)")
    ap.add_argument("--regions", default=DEFAULT_REGIONS,
                    help=f"region set of the query side (whole, halves, all, halves+inset, all+inset; default {DEFAULT_REGIONS})")
    ap.add_argument("--scale", type=int, default=1000, help="synthetic videos for the timing (0: skip)")
    ap.add_argument("--contrast-table", action="store_true", help="print every pair's score and contrast")
    ap.add_argument("--speeds", default="1", help="playback speeds the voting tries, comma-separated")
    ap.add_argument("--no-phash", action="store_true", help="skip the pHash anchor")
    ap.add_argument("--contrast", default="line", choices=("line", "offset"),
                    help="form of the contrast test (offset: rate 1 only, the earlier form)")
    ap.add_argument("--no-layout", dest="layout", action="store_false",
                    help="contrast of the search codes alone (default: video-search's, with the layout codes)")
    ap.add_argument("--hard-tune", action="store_true",
                    help="TUNE also gets camcorded copies and a fast GIF of a static camera (dedupe_library; "
                         "TEST unchanged); a --workdir keeps the library it was built with")
    ap.add_argument("--workdir", default=None, help="keep the library, indexes and region codes here (reused)")
    ap.add_argument("--report", default="dedupe_report.html", help="HTML report of vidml's pairs (TEST threshold)")
    ap.add_argument("--screenshot", default="dedupe_report.png", help="headless Chromium screenshot of the report")
    args = ap.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    if args.workdir:
        run(args, Path(args.workdir))
        return
    with tempfile.TemporaryDirectory() as tmp:
        run(args, Path(tmp))


@dataclass
class Draw:
    """One library draw (seed): its files under ``folder`` and its ground truth, names prefixed by ``prefix``
    (when several draws are pooled, so that two draws' files of one name stay apart)."""

    seed: int
    folder: Path
    prefix: str
    truth: dict
    known: set
    neutral: set
    ignored: set


def load_draw(args, folder: Path, seed: int, prefix: str) -> Draw:
    """Build (or reuse) draw ``seed``'s library in ``folder``; its ground truth with every name prefixed."""
    import json

    if (folder / "truth.json").exists():
        truth = json.loads((folder / "truth.json").read_text())
    else:
        (folder / "lib").mkdir(parents=True)
        truth = build_library(folder / "lib", seed, args.hard_tune)
        (folder / "truth.json").write_text(json.dumps(truth))
    known, neutral, ignored = known_pairs(truth)
    named = lambda pairs: {frozenset(prefix + n for n in k) for k in pairs}  # noqa: E731
    return Draw(seed, folder, prefix, {prefix + n: v for n, v in truth.items()}, named(known), named(neutral),
                named(ignored))


def prefixed(pair, prefix: str):
    """``pair`` with its videos' file names (and ``via``'s) prefixed; :func:`unprefixed` undoes it."""
    import dataclasses

    name = lambda x: x and str(Path(x).with_name(prefix + Path(x).name))  # noqa: E731
    return dataclasses.replace(pair, a=name(pair.a), b=name(pair.b), via=name(pair.via))


def unprefixed(pair, prefix: str):
    import dataclasses

    name = lambda x: x and str(Path(x).with_name(Path(x).name[len(prefix):]))  # noqa: E731
    return dataclasses.replace(pair, a=name(pair.a), b=name(pair.b), via=name(pair.via))


def pooled_truth(draws: list[Draw]) -> tuple[dict, set, set, set]:
    truth = {n: v for d in draws for n, v in d.truth.items()}
    return (truth, set().union(*(d.known for d in draws)), set().union(*(d.neutral for d in draws)),
            set().union(*(d.ignored for d in draws)))


def run(args, tmp: Path) -> None:
    import dataclasses

    from apps.video_search.dedupe import cluster_pairs
    from apps.video_search.report import dedupe_report

    seeds = [int(x) for x in str(args.seeds).split(",")]
    many = len(seeds) > 1
    draws = [load_draw(args, tmp / f"seed{s}" if many else tmp, s, f"s{s}_" if many else "") for s in seeds]
    truth, known, neutral, ignored = pooled_truth(draws)
    for d in draws:
        tune = lambda pairs: sum(all(d.truth[n]["split"] == "tune" for n in k) for k in pairs)  # noqa: E731
        print(f"## Library draw {d.seed}: {len(d.truth)} videos ({sum('edit' in t for t in d.truth.values())} planted), "
              f"{len(d.known)} known copy pairs ({tune(d.known)} TUNE), {len(d.neutral)} same-scene hard negatives "
              f"({tune(d.neutral)} TUNE); query regions: {args.regions}")
    print(f"\nSettings chosen on TUNE pooled over draw(s) {args.seeds}; TEST rows pooled, then per draw.\n")
    print("| method | split | threshold, contrast, span (chosen on TUNE) | known pairs | found | false pairs | of them other content "
          "| hard negatives paired | precision | recall | index s | match s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    results = {}
    for method in ("vidml",) + (() if args.no_phash else ("phash",)):
        runs = [dedupe_real(d.folder / "lib", d.folder, method, args.weights, args.regions,
                            tuple(float(x) for x in args.speeds.split(",")), args.contrast, args.layout) for d in draws]
        pairs = [prefixed(p, d.prefix) for d, (r, _) in zip(draws, runs) for p in r.pairs]
        res = dataclasses.replace(runs[0][0], pairs=pairs, match_seconds=sum(r.match_seconds for r, _ in runs))
        index_s = sum(s for _, s in runs)
        t, c, L = choose_threshold(res.pairs, truth, known, neutral, ignored)
        print_split_rows(method, res, t, c, L, truth, known, neutral, ignored, res.match_seconds, index_s)
        sp, sc, short = choose_short(res.pairs, t, c, L, truth, known, neutral, ignored)
        if sp > 0:
            method = f"{method}, pairs < {sp:g} s need contrast >= {sc:g}"
            print_split_rows(method, dataclasses.replace(res, pairs=short), t, c, L, truth, known, neutral, ignored,
                             res.match_seconds, index_s)
        x, final = choose_chain(short, t, c, L, truth, known, neutral, ignored)
        results[method.split(",")[0]] = (res, t, c, L, final, (sp, sc), x)
        rows = [("", truth, known, neutral, ignored)] + ([(f" draw {d.seed}", d.truth, d.known, d.neutral, d.ignored)
                                                          for d in draws] if many else [])
        label = f"{method} + pairs through a common video (links >= {x:g} bits)"
        print_output_rows(label, final, t, c, L, rows)
        g, target = choose_gate(res.pairs, t, c, L, (sp, sc), x, truth, known, neutral, ignored)
        if g != c:
            print_output_rows(f"{label}, gate in the target's form (not the default)", target, t, g, L, rows)
        if args.contrast_table:
            contrast_table(res, truth, known, neutral, ignored)
    res, t, c, L, final, rule, x = results["vidml"]
    print_errors(res, final, truth, known, neutral, ignored)
    gate_curve(res.pairs, t, L, rule, x, truth, known, neutral, ignored)
    first = draws[0]
    kept = [unprefixed(p, first.prefix) for p in final if pair_names(p) <= set(first.truth)]
    shown = dataclasses.replace(res, pairs=kept, clusters=cluster_pairs(kept))
    dedupe_report(args.report, shown)
    print(f"\nreport {args.report} (draw {first.seed}): {len(kept)} pairs, {len(shown.clusters)} clusters; "
          + screenshot(Path(args.report), Path(args.screenshot)))
    if args.scale:
        print(f"\n## Self-join speed, synthetic {res.bits}-bit codes (radius {res.bits // 4}, threshold {t:.2f}, "
              f"contrast {c:g}, span {L:g}; "
              "1 thread, machine shared)\n")
        print("| backend | query regions (R) | videos | codes | seconds | planted pairs found | false pairs | projected 10^5 videos |")
        print("|---|---|---:|---:|---:|---:|---:|---:|")
        for row in scale_rows(args.scale, (t, c, L, args.contrast), first.seed, tmp, res.bits):
            print(row)


if __name__ == "__main__":
    main()

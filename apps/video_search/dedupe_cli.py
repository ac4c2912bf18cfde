"""``vidml video-dedupe LIBRARY [--index lib.vidx] [--json] [--report report.html] [--threshold T]``.

Indexes the library (reusing what is indexed), then lists every pair of videos that share a segment, with
both time spans, score and e-value, grouped into clusters of copies (apps.video_search.dedupe).
"""
from __future__ import annotations

import argparse
import json

from apps.video_search.alignment import fmt_time
from apps.video_search.dedupe import DedupeConfig, dedupe_library
from apps.video_search.search import BACKENDS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from apps.video_search.dedupe import (DEFAULT_CHAIN_CONTRAST, DEFAULT_MIN_CONTRAST, DEFAULT_MIN_SPAN, DEFAULT_REGIONS,
                                          DEFAULT_SHORT_CONTRAST, DEFAULT_SHORT_SPAN, DEFAULT_THRESHOLD)
    from apps.video_search.dedupe_codes import REGION_CHOICES
    from apps.video_search.null_model import DEFAULT_EVALUE

    parser.add_argument("library", nargs="?", help="folder of videos (indexed first; omit to use --index as it is)")
    parser.add_argument("--index", default="lib.vidx", help="index folder to create, update or reuse (default lib.vidx)")
    parser.add_argument("--threshold", type=float, default=DEFAULT_THRESHOLD,
                        help=f"minimum pair score in [0, 1]: share of one video's frames agreeing (default {DEFAULT_THRESHOLD})")
    parser.add_argument("--max-evalue", type=float, default=DEFAULT_EVALUE,
                        help=f"largest e-value over the whole run (expected chance pairs) kept (default {DEFAULT_EVALUE})")
    parser.add_argument("--report", default=None, help="write an HTML page with matched frames side by side")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--fps", type=float, default=2.0, help="frames hashed per second when indexing (default 2)")
    parser.add_argument("--weights", default=None, help="HashingNet checkpoint (default: the shipped one)")
    parser.add_argument("--regions", choices=REGION_CHOICES, default=DEFAULT_REGIONS,
                        help="rectangles each video is also hashed on to find it inside composites: whole (none), "
                             "halves (side-by-side layouts), all (+ crops / corner windows), +inset (+ where the video's "
                             f"frames change: a picture-in-picture's inset); default {DEFAULT_REGIONS}")
    parser.add_argument("--min-contrast", type=float, default=DEFAULT_MIN_CONTRAST,
                        help="minimum offset contrast of a pair (how much better its placement is than another "
                             f"moment of the same two videos, in bits; drops same-scene recordings; a negative value as "
                             f"--min-contrast=-2); default {DEFAULT_MIN_CONTRAST:g} (chosen on the benchmark's TUNE splits; "
                             "3 pairs fewer other moments of a fixed camera but loses a weakly contrasted "
                             "picture-in-picture of one; a still shot's copy is +inf, paired at any gate; "
                             "-inf: no gate)")
    parser.add_argument("--no-layout", dest="layout", action="store_false",
                        help="contrast of the search codes alone (default: as video-search, also where things are in "
                             "the frame by the layout codes, so a copy of a fixed camera's view stands out by its walkers)")
    parser.add_argument("--chain-contrast", type=float, default=DEFAULT_CHAIN_CONTRAST,
                        help="also pair two videos that copy one moment of a third, through pairs of at least this "
                             f"contrast (bits; inf: direct pairs only); default {DEFAULT_CHAIN_CONTRAST:g}")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="Hamming search backend (ivf: approximate, for large libraries)")
    parser.add_argument("--min-span", type=float, default=DEFAULT_MIN_SPAN,
                        help=f"minimum seconds of shared segment of a pair (default {DEFAULT_MIN_SPAN:g})")
    parser.add_argument("--short-span", type=float, default=DEFAULT_SHORT_SPAN,
                        help=f"a pair sharing fewer seconds than this needs --short-contrast (default {DEFAULT_SHORT_SPAN:g}: no such rule)")
    parser.add_argument("--short-contrast", type=float, default=DEFAULT_SHORT_CONTRAST,
                        help=f"minimum contrast of a short pair, bits (default {DEFAULT_SHORT_CONTRAST:g})")
    parser.add_argument("--nprobe", type=int, default=None,
                        help="search an IVF probing this many lists per code (large libraries: cost ~ N^1.5, "
                             "not N^2; default: the --backend as it is)")
    parser.add_argument("--workers", type=int, default=1, help="videos hashed in parallel, for the index and the region codes (Dask, default 1)")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0 = torch's default)")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")


def run(args: argparse.Namespace) -> int:
    if args.threads > 0:  # torch is imported only when asked for
        from vidml.train import set_threads

        set_threads(args.threads)
    cfg = DedupeConfig(library=args.library, index=args.index, threshold=args.threshold, max_evalue=args.max_evalue,
                       fps=args.fps, weights=args.weights, backend=args.backend, report=args.report,
                       quiet=args.quiet, workers=args.workers, regions=args.regions, min_contrast=args.min_contrast,
                       min_span=args.min_span, nprobe=args.nprobe, chain_contrast=args.chain_contrast,
                       short_span=args.short_span, short_contrast=args.short_contrast, layout=args.layout)
    result = dedupe_library(cfg)
    if args.json:
        print(json.dumps(result.as_dict(), indent=1))
        return 0
    print(f"{result.videos} videos ({result.indexed} newly indexed): {len(result.pairs)} pair(s) sharing a segment "
          f"in {len(result.clusters)} cluster(s); matching took {result.match_seconds:.1f} s")
    if result.pairs:
        print("| cluster | video A | A start-end | video B | B start-end | score | e-value | contrast | via |")
        print("|---:|---|---|---|---|---:|---:|---:|---|")
        for p in sorted(result.pairs, key=lambda p: (p.cluster, -p.score)):
            print(f"| {p.cluster + 1} | {p.a} | {fmt_time(p.a_start)}-{fmt_time(p.a_end)} | {p.b} | "
                  f"{fmt_time(p.b_start)}-{fmt_time(p.b_end)} | {p.score:.3f} | {p.evalue:.2g} | {p.contrast:.2f} | {p.via or ''} |")
    if result.report:
        print(f"report: {result.report}")
    return 0

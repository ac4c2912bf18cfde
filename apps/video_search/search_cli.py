"""``vidml video-search --query clip.mp4 [--index lib.vidx] [--top 10] [--json]``: where does a clip appear?

Prints a table (video, matched start-end in that video, query start-end, score, e-value, contrast) or,
with ``--json``, a JSON list of the same. A match is reported when its score >= ``--threshold``, its
e-value (expected number of chance placements as good, null model of apps.video_search.null_model)
<= ``--max-evalue`` and its temporal contrast (bits by which the frames agree better at the match's time
mapping than at any mapping >= 2 s elsewhere in the same video; "inf": cannot tell, not tested: too short
to shift, or a still shot whose every moment looks alike)
>= ``--min-contrast`` (apps.video_search.reporting); no such match is said plainly. A video found through
the best match's own frames (its library copy, apps.video_search.expansion) is marked "(via that video)"
(JSON ``via``) when ``--expand`` asks for such copies (off by default: it also reports other clips of the
same scene, see that module).
``--face IMAGE`` dispatches to the face search
(apps.video_search.face_search). Search draws no random numbers, so it takes no --seed.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from vidml.errors import BadInput

from apps.video_search.alignment import fmt_time
from apps.video_search.reporting import DEFAULT_MIN_CONTRAST
from apps.video_search.search import BACKENDS, SearchConfig, open_index, search


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
    parser.add_argument("--threshold", type=float, default=None, help="minimum score in [0, 1] (default 0.4)")
    parser.add_argument("--max-evalue", type=float, default=None,
                        help="largest e-value (expected chance matches, null model of the index) reported (default 0.01)")
    parser.add_argument("--min-contrast", type=float, default=None,
                        help="smallest temporal contrast in bits reported (default %g): how much better the frames "
                             "agree at the match's time mapping than >= 2 s elsewhere in that video, by the layout "
                             "codes (where things are; per 256 bits, also about the time mapping each half of the "
                             "clip's layouts finds for the other) or by the search codes less 4 bits (the "
                             "largest); a copy scores "
                             "high, another recording of the same scene ~0; 'inf' (cannot tell: too short to shift, "
                             "or a still shot) is not tested; "
                             "-inf: no gate" % DEFAULT_MIN_CONTRAST)
    parser.add_argument("--weights", default=None, help="HashingNet checkpoint (must be the one used to index)")
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="Hamming search: numpy / faiss exact, ivf approximate (faster at 10^6 codes), auto")
    parser.add_argument("--nprobe", type=int, default=None,
                        help="with --backend ivf: inverted lists probed per code (default a quarter of them); fewer "
                             "is faster at a lower recall (docs/scale.md: at 10^6 codes 170 of 1000 lists cut the "
                             "region pass from ~40 to ~23-31 ms at recall 0.77 instead of 0.90)")
    parser.add_argument("--no-regions", action="store_true",
                        help="whole query frames only (by default, when they find nothing, the frames' inner "
                             "rectangles, and the rectangle where the clip's frames change (a picture-in-picture's "
                             "inset), are searched too: copies shown inside other frames)")
    parser.add_argument("--expand", action="store_true",
                        help="also search the best match's own frames again, so that its library copies (e.g. a "
                             "camcorded recording too far from the clip itself) are reported too, 'via' it; off by "
                             "default: it also reports other clips of the same scene when the library holds them")
    parser.add_argument("--all", action="store_true",
                        help="the whole ranking (each row says whether it is reported), also videos with only weak "
                             "evidence at the looser tail radius (apps.video_search.ranking)")
    parser.add_argument("--report", default=None, help="also write an HTML page: query and matched frames side by side")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def run(args: argparse.Namespace) -> int:
    if args.face:
        index = open_index(args.index)
        try:
            from apps.video_search.face_search import run_face_search
        except ImportError:
            raise BadInput("face search not built yet; use --query CLIP for clip search") from None
        return int(run_face_search(args, index) or 0)
    if not args.query:
        raise BadInput("pass --query CLIP (a video file) to search for")
    if args.report:
        from vidml.outputs import check_output_path

        check_output_path(args.report, "report")  # fail before the search, not after it
    res = search(SearchConfig(query=args.query, index=args.index, top=args.top, threshold=args.threshold,
                              max_evalue=args.max_evalue, min_contrast=args.min_contrast, weights=args.weights,
                              backend=args.backend, regions=not args.no_regions, rank_all=args.all,
                              expand=args.expand, nprobe=args.nprobe))
    if args.report:
        from apps.video_search.report import search_report

        search_report(args.report, res.query, res.matches)
    if args.json:
        print(json.dumps({"query": res.query, "threshold": res.threshold, "max_evalue": res.max_evalue,
                          "min_contrast": res.min_contrast, "matches": res.matches}, indent=1))
        return 0
    if not res.matches:
        print(f"no match: {res.query} is not in the {res.videos} indexed video(s) "
              f"(no score >= {res.threshold} with e-value <= {res.max_evalue:g} and contrast >= {res.min_contrast:g})")
        return 0
    extra = " reported | tail score |" if args.all else ""
    print("| rank | video | match start-end | query start-end | score | e-value | contrast |" + extra)
    print("|---:|---|---|---|---:|---:|---:|" + ("---|---:|" if args.all else ""))
    for i, h in enumerate(res.matches, 1):
        more = f" {'yes' if h['reported'] else 'no'} | {h['tail_score']:.3f} |" if args.all else ""
        video = h["video"] + (f" (via {Path(h['via']).name})" if h.get("via") else "")
        print(f"| {i} | {video} | {fmt_time(h['video_start'])}-{fmt_time(h['video_end'])} | "
              f"{fmt_time(h['query_start'])}-{fmt_time(h['query_end'])} | {h['score']:.3f} | {h['evalue']:.2g} | "
              f"{_contrast(h['contrast'])} |" + more)
    return 0


def _contrast(c) -> str:
    """A table cell of a match's contrast: bits, "inf" (cannot tell: too short or still) or "-" (not computed)."""
    return "-" if c is None else str(c) if isinstance(c, str) else f"{c:.1f}"

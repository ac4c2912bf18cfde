"""``vidml reid-mot``: track people in MOTChallenge sequences (Kalman + ReID + Hungarian).

    vidml reid-mot SEQ [--out results.txt] [--render out.mp4] [--eval]
    vidml reid-mot ROOT --all [--out results_dir/] [--eval]

Writes MOTChallenge results ``frame,id,x,y,w,h,conf,-1,-1,-1`` (atomically). ``--eval`` scores them with
TrackEval against SEQ/gt/gt.txt (HOTA, DetA, AssA, IDF1, MOTA, IDSW). ``--appearance off`` gives the
SORT-like tracker, ``--mode byte`` the ByteTrack-style two-stage IoU tracker.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from vidml.errors import BadInput, MissingModel

COLUMNS = ["sequence", "frames", "HOTA", "DetA", "AssA", "IDF1", "MOTA", "IDSW", "fps", "assoc fps"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="a MOTChallenge sequence folder (seqinfo.ini, img1/, det/det.txt), or with --all a folder of them")
    parser.add_argument("--all", action="store_true", help="run every sequence under PATH and print one table")
    parser.add_argument("--out", help="results txt (default NAME.txt here); with --all a folder (default reid-mot-results/)")
    parser.add_argument("--render", help="write an mp4 with boxes and ids (single sequence only)")
    parser.add_argument("--eval", action="store_true", help="score the results against gt/gt.txt with TrackEval")
    parser.add_argument("--mode", choices=["reid", "sort", "byte"], default="reid",
                        help="reid: appearance + IoU + low-score stage (default); sort: Kalman+IoU+Hungarian; byte: two-stage IoU")
    parser.add_argument("--appearance", choices=["reid", "hist", "off"], default="reid",
                        help="appearance features: trained ReID net (default), HSV histogram, or off (= --mode sort)")
    parser.add_argument("--weights", help="ReID checkpoint (default: the shipped vidml/weights/reid_small16.pt)")
    parser.add_argument("--det", help="detections file instead of SEQ/det/det.txt")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1: small batches; more threads only add contention)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=1,
                        help="with --all: sequences tracked in parallel on a local Dask cluster of N processes (default 1: serial)")
    parser.add_argument("--scheduler", default=None,
                        help="with --all: address of an existing Dask scheduler (tcp://HOST:8786) to run the sequences on")
    parser.add_argument("--quiet", action="store_true")


def build_tracker(mode: str, appearance: str, weights: str | None):
    """The tracker for ``--mode``/``--appearance`` (loads the ReID weights when needed)."""
    from apps.reid_mot.appearance import HistogramEncoder, ReIDEncoder
    from apps.reid_mot.tracker import make_tracker
    from vidml.backbones.weights import shipped

    if appearance == "off" or mode in ("sort", "byte"):
        return make_tracker("sort" if mode == "reid" else mode)
    if appearance == "hist":
        return make_tracker("reid", HistogramEncoder())
    path = Path(weights) if weights else shipped("reid_small16")
    if not path.is_file():
        raise MissingModel(f"{path}: ReID weights not found; train them with `vidml train reid` "
                           "or run with --appearance off / --appearance hist")
    return make_tracker("reid", ReIDEncoder.load(path))


def track_one(seq_dir, args, out_path: Path, render: str | None = None) -> dict:
    """Track one sequence, write results to ``out_path``; returns a table row (with metrics if --eval)."""
    from tqdm import tqdm

    from apps.reid_mot.render import draw_tracks
    from apps.reid_mot.runner import format_rows, run_sequence
    from apps.reid_mot.sequence import Sequence
    from vidml.progress import show_progress
    from vidml.video import FrameWriter
    from vidml.outputs import atomic_write_text, check_output_path

    check_output_path(out_path, "results")
    if render:
        check_output_path(render, "--render")
    seq = Sequence(seq_dir, args.det)
    tracker = build_tracker(args.mode, args.appearance, args.weights)
    bar = (lambda it: tqdm(it, desc=seq.name, unit="frame", disable=not show_progress(args.quiet), leave=False))
    result = run_sequence(seq, tracker, progress=bar, keep_boxes=bool(render))
    atomic_write_text(out_path, format_rows(result.rows))
    if render:
        with FrameWriter(render, seq.fps, seq.size) as writer:
            for k, boxes in bar(result.per_frame):
                writer.write(draw_tracks(seq.frame(k), boxes, k))
    row = {"sequence": seq.name, "frames": len(seq), "fps": result.fps, "assoc fps": result.assoc_fps}
    if args.eval:
        if not seq.gt_path.is_file():
            raise BadInput(f"{seq.gt_path}: no ground truth for --eval; run without --eval")
        from vidml.eval.mot import evaluate_mot

        row.update(evaluate_mot(seq.gt_path, out_path, len(seq), seq.name))
    return row


def _track_task(task: tuple) -> dict | str:
    """One sequence of ``--all`` (a Dask task): its table row, or the one-line reason it was skipped."""
    import torch

    seq_dir, args, out_path = task
    torch.set_num_threads(max(1, args.threads))
    try:
        return track_one(seq_dir, args, out_path)
    except BadInput as err:
        return str(err)


def run(args: argparse.Namespace) -> int:
    import torch

    from apps.reid_mot.sequence import find_sequences
    from vidml.eval.mot import format_table
    from vidml.train import set_seed

    torch.set_num_threads(max(1, args.threads))
    set_seed(args.seed)
    if args.all:
        if args.render:
            raise BadInput("--render works on one sequence; drop --all or --render")
        out_dir = Path(args.out or "reid-mot-results")
        out_dir.mkdir(parents=True, exist_ok=True)
        from vidml.parallel import map_tasks

        tasks = [(seq_dir, args, out_dir / f"{seq_dir.name}.txt") for seq_dir in find_sequences(args.path)]
        rows = []
        for seq_dir, result in zip([t[0] for t in tasks], map_tasks(_track_task, tasks, workers=args.workers,
                                                                     scheduler=args.scheduler, desc="sequences",
                                                                     quiet=args.quiet)):
            if isinstance(result, str):
                print(f"vidml: skipped {seq_dir}: {result}", file=sys.stderr)
            else:
                rows.append(result)
        if not rows:
            raise BadInput(f"{args.path}: no sequence could be tracked (see the messages above)")
        print(format_table(rows, COLUMNS if args.eval else ["sequence", "frames", "fps", "assoc fps"]))
        print(f"results in {out_dir}/")
        return 0
    out = Path(args.out) if args.out else Path(f"{Path(args.path).resolve().name}.txt")
    row = track_one(args.path, args, out, args.render)
    print(format_table([row], COLUMNS if args.eval else ["sequence", "frames", "fps", "assoc fps"]))
    print(f"results in {out}" + (f", video in {args.render}" if args.render else ""))
    return 0

"""``vidml eval sot ROOT``: OTB one-pass evaluation of a tracker over every sequence under ROOT.

ROOT is a folder of OTB sequences (``SEQ/img/`` + ``SEQ/groundtruth_rect.txt``), one such sequence, or a
MOTChallenge sequence (``img1/`` + ``gt/gt.txt``), whose every identity becomes a single-object sequence.
Each sequence starts from its first ground-truth box; every later frame with ground truth is scored.
Prints per-sequence success AUC (21 IoU thresholds), precision at 20 px and fps (init + update time, after a warm-up; apps.track.loop.track_video), then
the mean over sequences and the pooled (all frames) numbers; ``--plots DIR`` writes success.png and
precision.png (pooled curves), ``--results DIR`` one OTB box file per sequence.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from vidml.errors import BadInput
from vidml.outputs import atomic_write_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("root", help="folder of OTB sequences, one sequence, or a MOTChallenge sequence folder")
    parser.add_argument("--tracker", choices=("vidml", "mil"), default="vidml",
                        help="vidml (this package) or mil (OpenCV TrackerMIL)")
    parser.add_argument("--plots", default="", metavar="DIR", help="write success.png and precision.png here")
    parser.add_argument("--results", default="", metavar="DIR", help="write SEQ.txt boxes (x,y,w,h per frame) here")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch and OpenCV (default 1)")
    parser.add_argument("--workers", type=int, default=1,
                        help="sequences evaluated in parallel on a local Dask cluster of N processes (default 1: serial)")
    parser.add_argument("--scheduler", default=None,
                        help="address of an existing Dask scheduler (tcp://HOST:8786) to run the sequences on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quiet", action="store_true")


def _sequences(root: Path) -> list:
    from apps.track.sequences import mot_track_sequences, otb_sequences

    return mot_track_sequences(root) if (root / "gt" / "gt.txt").is_file() else otb_sequences(root)


def _eval_task(task: tuple) -> tuple:
    """One sequence (a Dask task): (name, frames, auc, p20, fps, ious, errors, boxes). The worker rebuilds the
    sequence from ``root`` and its position, so nothing unpicklable (open readers) crosses processes."""
    import cv2
    import torch

    from apps.track.ope import make_tracker, score_from, track_sequence
    from vidml.eval.sot import curves, overlaps_and_errors

    root, position, name, seed, threads = task
    torch.set_num_threads(threads)
    cv2.setNumThreads(threads)
    seq = _sequences(Path(root))[position]
    tracker = make_tracker(name, seed=seed, **({"threads": threads} if name == "vidml" else {}))
    tracked = track_sequence(tracker, seq)
    iou, err = overlaps_and_errors(*score_from(tracked.boxes, seq.gt))
    result = curves(iou, err)
    return seq.name, len(seq), result.auc, result.p20, tracked.fps, iou, err, tracked.boxes


def run(args: argparse.Namespace) -> int:
    import cv2
    import torch

    from apps.track.run import otb_lines
    from vidml.eval.sot import curves, plot_curves
    from vidml.parallel import map_tasks

    root = Path(args.root)
    seqs = _sequences(root)
    if not seqs:
        raise BadInput(f"{root}: no sequences found; expected SEQ/img/ + SEQ/groundtruth_rect.txt folders "
                       "or a MOTChallenge folder with gt/gt.txt")
    torch.set_num_threads(args.threads)
    cv2.setNumThreads(args.threads)
    if args.results:
        Path(args.results).mkdir(parents=True, exist_ok=True)
    tasks = [(str(root), i, args.tracker, args.seed, args.threads) for i in range(len(seqs))]
    done = map_tasks(_eval_task, tasks, workers=args.workers, scheduler=args.scheduler,
                     desc=f"eval {args.tracker}", quiet=args.quiet)
    rows, ious, errs = [], [], []
    for name, n, auc, p20, fps, iou, err, boxes in done:
        ious.append(iou)
        errs.append(err)
        rows.append((name, n, auc, p20, fps))
        if args.results:
            text = otb_lines(boxes)
            atomic_write_text(Path(args.results) / f"{name.replace('/', '_')}.txt", text)
    pooled = curves(np.concatenate(ious), np.concatenate(errs))
    print(f"| sequence | frames | AUC | P@20 | fps |  ({args.tracker})\n|---|---|---|---|---|")
    for name, n, auc, p20, fps in rows:
        print(f"| {name} | {n} | {auc:.3f} | {p20:.3f} | {fps:.1f} |")
    mean = np.mean([r[2:] for r in rows], axis=0)
    print(f"| mean of {len(rows)} | {sum(r[1] for r in rows)} | {mean[0]:.3f} | {mean[1]:.3f} | {mean[2]:.1f} |")
    print(f"| pooled frames | {pooled.frames} | {pooled.auc:.3f} | {pooled.p20:.3f} | |")
    if args.plots:
        for path in plot_curves({args.tracker: pooled}, args.plots, title=root.name):
            print(f"wrote {path}", file=sys.stderr)
    return 0

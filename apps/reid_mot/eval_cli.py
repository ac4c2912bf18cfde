"""``vidml eval mot``: TrackEval metrics (HOTA, DetA, AssA, IDF1, MOTA, IDSW) of MOTChallenge results.

    vidml eval mot GT.txt RESULTS.txt [--seq-length N]
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("gt", help="ground truth txt (frame,id,x,y,w,h,flag,class,visibility)")
    parser.add_argument("results", help="tracker results txt (frame,id,x,y,w,h,conf,-1,-1,-1)")
    parser.add_argument("--seq-length", type=int, help="number of frames (default: last frame in the files)")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from vidml.errors import BadInput
    from vidml.eval.mot import evaluate_mot, format_table

    if not Path(args.results).is_file():
        raise BadInput(f"{args.results}: results file not found; write it with vidml reid-mot --out")
    m = evaluate_mot(args.gt, args.results, args.seq_length, "seq")
    print(format_table([m], ["HOTA", "DetA", "AssA", "IDF1", "MOTA", "IDSW", "FP", "FN", "IDs", "GT_IDs"]))
    return 0

"""``vidml faces VIDEO --out DIR [--fps 2]``: write the aligned 112x112 face crops found in a video.

The work is :func:`apps.video_search.faces.extract.extract_faces` (see there for the format of the crops and
``faces.json``). The stage draws no random numbers, so this command takes no ``--seed``.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("video", help="video file (or image folder) to scan")
    parser.add_argument("--out", required=True, help="folder for the crops and faces.json (created)")
    parser.add_argument("--fps", type=float, default=2.0, help="frames sampled per second (default 2)")
    parser.add_argument("--upsample", type=int, default=0, help="detector 2x upsamplings (1 finds ~40 px faces)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from apps.video_search.faces.extract import FacesConfig, extract_faces

    res = extract_faces(FacesConfig(args.video, args.out, args.fps, args.upsample, args.quiet))
    print(f"{len(res.listing)} aligned face crops from {res.sampled_frames} sampled frames -> {res.out}")
    return 0

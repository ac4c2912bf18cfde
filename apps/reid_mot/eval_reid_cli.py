"""``vidml eval reid``: CMC rank 1/5/10/20 and mAP of a ReID feature on an identity-per-folder set.

    vidml eval reid FOLDER [--weights W.pt] [--features net|hist|pixels|trunk] [--split all|train|val|test] [--json]

FOLDER holds one sub-folder per identity; files named ``cam_a_*`` are the probes and ``cam_b_*`` the
gallery (VIPeR's layout), otherwise every crop is a query against all the others (leave-one-out).
``--split`` keeps the identities of the fixed, seeded identity split of apps/reid_mot/reid_sets.py
(VIPeR-train: 176 train, 40 val, 100 test identities). ``--json`` prints ``{"R1", "R5", "R10", "R20", "mAP"}`` in
percent. Definitions: apps/reid_mot/reid_eval.py.
"""
from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("folder", metavar="FOLDER", help="one sub-folder per identity (cam_a_/cam_b_ file prefixes)")
    parser.add_argument("--weights", default=None, help="ReID checkpoint (default: the shipped vidml/weights/reid_mnv2.pt)")
    parser.add_argument("--features", default="net", choices=["net", "hist", "pixels", "trunk"],
                        help="net: the ReID checkpoint (default); hist / pixels / trunk: the training-free baselines")
    parser.add_argument("--split", default="all", choices=["all", "train", "val", "test"],
                        help="identities to evaluate on (default all)")
    parser.add_argument("--crop", default="128x64", help="crop size HxW of the hist / pixels / trunk features")
    parser.add_argument("--trunk", default="mnv2@13+parts", help="trunk of --features trunk")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", action="store_true", help="print the metrics (percent) as one JSON object")


def run(args: argparse.Namespace) -> int:
    import torch

    from apps.reid_mot.eval_reid import EvalReIDConfig, evaluate_reid
    from apps.reid_mot.reid_net import parse_crop

    torch.set_num_threads(max(1, args.threads))
    cfg = EvalReIDConfig(args.folder, args.weights, args.features, args.split, parse_crop(args.crop), args.trunk)
    result = evaluate_reid(cfg)
    if args.json:
        print(json.dumps(result.metrics))
        return 0
    print(f"{args.folder} ({args.split} split): {result.identities} identities, {result.crops} crops, "
          f"{result.protocol}; features {result.features}")
    print("| " + " | ".join(result.metrics) + " |")
    print("|" + "---|" * len(result.metrics))
    print("| " + " | ".join(f"{v:.2f}" for v in result.metrics.values()) + " |")
    return 0

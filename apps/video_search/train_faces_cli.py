"""``vidml train faces``: train our face embedding and the 128-bit ITQ face codes used by ``video-search --face``.

    vidml train faces --loss arcface --steps 300 --size 64 --threads 1 --quiet

The work is :func:`apps.video_search.faces.train.train_faces` (photos, detection, training, held-out
verification, the three checkpoints and their cards); this module maps the arguments and prints.
"""
from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--loss", default="arcface", help="vidml.metric.losses name (arcface, cosface, triplet, ...)")
    parser.add_argument("--steps", type=int, default=300, help="optimisation steps of our net (default 300)")
    parser.add_argument("--size", type=int, default=64, help="input crop size of our net (default 64)")
    parser.add_argument("--trunk", default="small16", help="EmbeddingNet trunk (default small16)")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam learning rate (default 2e-3)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default 1)")
    parser.add_argument("--data", default=None, help="the faces data folder (att_orl/, yale/, "
                        "face_recognition_examples/; default ../shared/data/faces beside the checkout)")
    parser.add_argument("--out", default=None, help="folder for face_embed.pt / face_hash_*.pt (default vidml/weights)")
    parser.add_argument("--skip-net", action="store_true", help="only fit the dlib ITQ code")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    from apps.video_search.faces.train import TrainFacesConfig, train_faces
    from vidml.invocation import command_line
    from vidml.train import set_threads

    set_threads(args.threads)
    paths = {k: v for k, v in (("out", args.out), ("faces_root", args.data)) if v is not None}
    cfg = TrainFacesConfig(args.loss, args.steps, args.size, args.trunk, args.lr, seed=args.seed, skip_net=args.skip_net,
                           quiet=args.quiet, command=command_line(), **paths)
    res = train_faces(cfg)
    print(res.data)
    print("dlib + ITQ:", res.dlib)
    if res.ours is not None:
        print("ours + ITQ:", res.ours)
    print(f"wrote {', '.join(str(p) for p in res.written)} [{res.seconds:.0f} s]")
    return 0

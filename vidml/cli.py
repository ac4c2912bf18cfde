"""The ``vidml`` command: argument parsing and dispatch only.

Each subcommand lives in a module exposing ``add_arguments(parser)`` and ``run(args) -> int``; this file
imports only the module of the chosen subcommand, so ``vidml --help`` is instant and an app's heavy
imports (torch, ...) are paid only when it runs. A :class:`vidml.errors.VidmlError` becomes one line on
stderr and exit status 2; Ctrl-C becomes exit 130.

``train`` and ``eval`` take a second word naming what to train or evaluate (``vidml train embed``).
"""
from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from vidml import __version__
from vidml.errors import VidmlError
from vidml.invocation import invoked

# name -> (module implementing it, one line of help)
COMMANDS: dict[str, tuple[str, str]] = {
    "track": ("apps.track.cli", "track one object in a video with a particle filter and a learned metric"),
    "reid-mot": ("apps.reid_mot.cli", "track many people in a MOTChallenge sequence, a video, a URL or a camera (detector + Kalman + ReID + Hungarian)"),
    "video-index": ("apps.video_search.index_cli", "hash the frames of a video library into a searchable index"),
    "video-search": ("apps.video_search.search_cli", "find where a clip (or a face) appears in an indexed library"),
    "video-dedupe": ("apps.video_search.dedupe_cli", "every pair of library videos sharing a segment, in clusters of copies"),
    "faces": ("apps.video_search.faces_cli", "write the aligned 112x112 face crops found in a video"),
    "train": ("", "train a model: embed | reid | hash | faces"),
    "eval": ("", "evaluate a model or tracker: embed | sot | mot"),
    "bench": ("vidml.bench_cli", "list and run the side-by-side benchmarks in benchmarks/"),
}

# second-level commands of `train` and `eval`: name -> (module, help)
TRAIN: dict[str, tuple[str, str]] = {
    "embed": ("vidml.train_embed_cli", "train an EmbeddingNet with a DML loss on an identity-per-folder image set"),
    "reid": ("apps.reid_mot.train_cli", "train the ReID embedding used by reid-mot"),
    "hash": ("apps.video_search.train_cli", "train the HashingNet used by video-index/video-search"),
    "faces": ("apps.video_search.train_faces_cli", "train the face embedding and the 128-bit face codes used by --face"),
}
EVAL: dict[str, tuple[str, str]] = {
    "embed": ("vidml.eval_embed_cli", "retrieval metrics (P@1, R@K, MAP@R, NMI) of embeddings on held-out identities"),
    "sot": ("apps.track.eval_cli", "OTB one-pass evaluation (success AUC, precision@20px, fps) of a tracker"),
    "mot": ("apps.reid_mot.eval_cli", "TrackEval metrics (HOTA, IDF1, MOTA) of MOTChallenge results"),
    "reid": ("apps.reid_mot.eval_reid_cli", "CMC rank 1/5/10/20 and mAP of a ReID model on an identity-per-folder set"),
}


def _group_help(table: dict[str, tuple[str, str]]) -> str:
    width = max(len(k) for k in table) + 2
    return "\n".join(f"  {name:<{width}}{text}" for name, (_, text) in table.items())


def _top_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vidml",
        description="vidml: video understanding built on deep metric learning.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands:\n" + _group_help(COMMANDS) + "\n\nRun `vidml COMMAND --help` for the options of one.",
    )
    parser.add_argument("--version", action="version", version=f"vidml {__version__}")
    parser.add_argument("command", nargs="?", metavar="COMMAND", help="one of: " + ", ".join(COMMANDS))
    return parser


def _load(module_name: str, prog: str, help_text: str):
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name and module_name.startswith(err.name):
            return None
        raise
    parser = argparse.ArgumentParser(prog=prog, description=help_text,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    module.add_arguments(parser)
    return module, parser


def _dispatch(table: dict[str, tuple[str, str]], argv: list[str], prog: str) -> int:
    name = argv[0]
    module_name, help_text = table[name]
    loaded = _load(module_name, f"{prog} {name}", help_text)
    if loaded is None:
        print(f"vidml: `{prog} {name}` is not built yet", file=sys.stderr)
        return 2
    module, parser = loaded
    args = parser.parse_args(argv[1:])
    return int(module.run(args) or 0)


def _second_level(table: dict[str, tuple[str, str]], argv: list[str], prog: str) -> int:
    if not argv or argv[0] in ("-h", "--help"):
        print(f"usage: {prog} WHAT [options]\n\nwhat:\n{_group_help(table)}")
        return 0 if argv else 2
    if argv[0] not in table:
        print(f"vidml: unknown `{prog} {argv[0]}`; choose one of: {', '.join(table)}", file=sys.stderr)
        return 2
    return _dispatch(table, argv, prog)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    top = _top_parser()
    if not argv or argv[0].startswith("-"):
        top.parse_args(argv)  # handles --help / --version
        top.print_help()
        return 2
    name = argv[0]
    if name not in COMMANDS:
        print(f"vidml: unknown command `{name}`; choose one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    try:
        with invoked(argv):  # model cards record this argv (vidml.invocation.command_line)
            if name == "train":
                return _second_level(TRAIN, argv[1:], "vidml train")
            if name == "eval":
                return _second_level(EVAL, argv[1:], "vidml eval")
            return _dispatch(COMMANDS, argv, "vidml")
    except VidmlError as err:
        print(f"vidml: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("vidml: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

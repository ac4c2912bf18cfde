"""The vidml command: help lists every subcommand, unknown commands and user errors exit 2 with one line."""
from __future__ import annotations

import subprocess
import sys

from vidml.cli import COMMANDS, EVAL, TRAIN, main


def run_cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vidml.cli", *argv], capture_output=True, text=True, timeout=120)


def test_help_lists_every_subcommand():
    out = run_cli("--help")
    assert out.returncode == 0
    for name in ["track", "reid-mot", "video-index", "video-search", "train", "eval", "bench"]:
        assert f"  {name} " in out.stdout
    sub = run_cli("train", "--help")
    assert sub.returncode == 0 and all(k in sub.stdout for k in TRAIN)
    sub = run_cli("eval", "--help")
    assert sub.returncode == 0 and all(k in sub.stdout for k in EVAL)


def test_unknown_command_exits_2(capsys):
    assert main(["frobnicate"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "unknown command" in err
    assert main(["train", "nothing"]) == 2


def test_every_subcommand_has_help_or_says_not_built():
    for name in COMMANDS:
        if name in ("train", "eval"):
            continue
        out = run_cli(name, "--help")
        assert out.returncode == 0 and "usage: vidml" in out.stdout or (
            out.returncode == 2 and "not built yet" in out.stderr), (name, out.stderr[-500:])


def test_bench_lists_benchmarks():
    out = run_cli("bench")
    assert out.returncode == 0, out.stderr
    names = [line.split()[0] for line in out.stdout.splitlines() if line.strip()]
    assert {"losses", "sot", "mot", "video_search", "embed_faces", "scale"} <= set(names)
    bad = run_cli("bench", "nonexistent")
    assert bad.returncode == 2 and "no benchmark" in bad.stderr

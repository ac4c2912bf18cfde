"""`vidml bench [NAME] [-- ARGS]`: list the side-by-side benchmarks in benchmarks/, or run one.

Each benchmark is a script ``benchmarks/bench_NAME.py`` that runs vidml and its anchor on the same input in
one run and prints a markdown table. They live in the source checkout (not in an installed wheel).
"""
from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from vidml.errors import BadInput

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"


def _benchmarks() -> dict[str, Path]:
    if not BENCH_DIR.is_dir():
        return {}
    return {p.stem.removeprefix("bench_"): p for p in sorted(BENCH_DIR.glob("bench_*.py"))}


def _summary(path: Path) -> str:
    import ast

    try:
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    except SyntaxError:
        doc = ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="benchmark to run (omit to list them)")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="arguments passed to the benchmark script")


def run(args: argparse.Namespace) -> int:
    found = _benchmarks()
    if not found:
        raise BadInput(f"{BENCH_DIR}: no benchmarks here; they ship with the vidml source checkout")
    if args.name is None:
        width = max(map(len, found)) + 2
        for name, path in found.items():
            print(f"{name:<{width}}{_summary(path)}")
        return 0
    if args.name not in found:
        raise BadInput(f"no benchmark {args.name!r}; choose one of: {', '.join(found)}")
    return subprocess.call([sys.executable, str(found[args.name]), *args.args])

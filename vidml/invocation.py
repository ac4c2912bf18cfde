"""The command line a run was started with, as model cards record it.

:func:`vidml.cli.main` records the argv it was given (not ``sys.argv``: tests and scripts call ``main([...])``)
for the length of the call; a command module puts :func:`command_line` into its config's ``command`` field,
and the training function writes that string on the card. Called from Python without ``main``, there is no
command line and the function records its config instead (see :func:`card_command`).

    >>> command_line(["train", "embed", "data dir", "--steps", "3"])
    "vidml train embed 'data dir' --steps 3"
"""
from __future__ import annotations

import contextlib
import shlex
from typing import Iterator, Sequence

_ARGV: list[str] | None = None  # the argv of the vidml.cli.main call in progress


@contextlib.contextmanager
def invoked(argv: Sequence[str]) -> Iterator[None]:
    """Record ``argv`` (the words after ``vidml``) as the running command for the ``with`` block."""
    global _ARGV
    saved, _ARGV = _ARGV, [str(a) for a in argv]
    try:
        yield
    finally:
        _ARGV = saved


def command_line(argv: Sequence[str] | None = None, prog: str = "vidml") -> str:
    """``prog`` and ``argv`` as one shell-quoted line (``shlex.join``), which a shell turns back into ``argv``.

    ``argv`` defaults to the words :func:`vidml.cli.main` was given in the call in progress; "" when there
    is none (the function was called from Python).
    """
    words = _ARGV if argv is None else [str(a) for a in argv]
    return "" if words is None else shlex.join([prog, *words])


def card_command(command: str, config: object) -> str:
    """What a model card records as its command: the command line, else the config it was called with."""
    return command or f"(called from Python) {config!r}"

"""Progress bars: drawn on a terminal, quiet with ``--quiet`` or when stderr is not a terminal.

Kept apart from :mod:`vidml.train` so that code that only shows progress (the Dask task map, indexing,
tracking) does not import torch.
"""
from __future__ import annotations

import sys
from typing import Iterable

from tqdm import tqdm


def show_progress(quiet: bool = False) -> bool:
    """True when a progress bar should be drawn: not ``--quiet`` and stderr is a terminal."""
    return not quiet and sys.stderr.isatty()


def progress_bar(iterable: Iterable | None = None, total: int | None = None, desc: str | None = None,
                 unit: str = "it", quiet: bool = False, **kwargs) -> tqdm:
    """A tqdm bar over ``iterable`` (or of ``total`` steps), disabled unless :func:`show_progress`."""
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not show_progress(quiet),
                dynamic_ncols=True, **kwargs)

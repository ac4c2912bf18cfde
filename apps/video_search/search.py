"""``search(cfg) -> SearchResult``: the work of ``vidml video-search --query``, without argparse.

Opens the index, loads the hasher (``cfg.weights``, default the shipped one) and refuses, in one line, an
index built with other weights (re-index); then :func:`apps.video_search.clip_search.search_clip`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from vidml.errors import BadInput

from apps.video_search.clip_search import DEFAULT_THRESHOLD, search_clip
from apps.video_search.null_model import DEFAULT_EVALUE
from apps.video_search.reporting import DEFAULT_MIN_CONTRAST

BACKENDS = ("auto", "numpy", "faiss", "ivf")


@dataclass
class SearchConfig:
    query: str
    index: str = "lib.vidx"
    top: int = 10
    threshold: float | None = None        # None: DEFAULT_THRESHOLD
    max_evalue: float | None = None       # None: DEFAULT_EVALUE
    min_contrast: float | None = None     # None: DEFAULT_MIN_CONTRAST (bits)
    weights: str | None = None
    backend: str = "auto"
    regions: bool = True
    rank_all: bool = False                # the whole ranking (reported flag), not only what is reported
    expand: bool = False                  # the best video's library copies too (apps.video_search.expansion)
    nprobe: int | None = None             # --backend ivf: lists probed (None: a quarter of them)


@dataclass
class SearchResult:
    query: str
    threshold: float
    max_evalue: float
    min_contrast: float
    videos: int
    matches: list[dict] = field(default_factory=list)


def open_index(path: str | Path):
    """The index at ``path`` (read-only use), or BadInput when there is none."""
    from vidml.index import Index

    if not Path(path).exists():
        raise BadInput(f"{path}: no index here; build one with vidml video-index LIBRARY --index {path}")
    return Index(path)


def search(cfg: SearchConfig) -> SearchResult:
    """Clip search with the checks of the command line (see the module doc)."""
    from apps.video_search.library import check_same_hasher, load_hasher

    if cfg.top < 1:
        raise BadInput(f"--top must be >= 1, not {cfg.top}")
    if cfg.backend not in BACKENDS:
        raise BadInput(f"--backend must be one of {', '.join(BACKENDS)}, not {cfg.backend!r}")
    threshold = DEFAULT_THRESHOLD if cfg.threshold is None else cfg.threshold
    max_e = DEFAULT_EVALUE if cfg.max_evalue is None else cfg.max_evalue
    if max_e <= 0:
        raise BadInput(f"--max-evalue must be > 0, not {cfg.max_evalue}")
    min_c = DEFAULT_MIN_CONTRAST if cfg.min_contrast is None else cfg.min_contrast
    if not min_c == min_c or min_c == float("inf"):      # NaN or +inf: nothing could ever be reported
        raise BadInput(f"--min-contrast must be a finite number of bits (or -inf: no gate), not {cfg.min_contrast}")
    if cfg.nprobe is not None and (cfg.nprobe < 1 or cfg.backend != "ivf"):
        raise BadInput(f"--nprobe must be >= 1 and goes with --backend ivf (got {cfg.nprobe} with --backend "
                       f"{cfg.backend})")
    index = open_index(cfg.index)
    index.nprobe = cfg.nprobe
    hasher, info = load_hasher(cfg.weights)
    check_same_hasher(index, info)
    hits = search_clip(index, cfg.query, hasher=hasher, top=cfg.top, threshold=threshold, backend=cfg.backend,
                       max_evalue=max_e, regions=cfg.regions, rank_all=cfg.rank_all, min_contrast=min_c,
                       expand=cfg.expand)
    return SearchResult(str(cfg.query), threshold, max_e, min_c, len(index.videos), hits)

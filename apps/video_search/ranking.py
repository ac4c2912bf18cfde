"""The whole ranking of library videos for a query: the matches, then the tail ordered by weaker evidence.

Clip search (:mod:`apps.video_search.clip_search`) votes with neighbours within the model's match radius
``r`` (chosen so that ~1 % of unrelated frame pairs fall within it) and reports a video only when its
score and e-value pass. A copy under an edit the model never saw (a film camcorded off a TV) may get no
vote at all within ``r``: it then ties at score 0 with every unrelated video. The tail of the ranking is
ordered instead by the same temporal voting at a looser *tail radius*

    r_tail = the largest d with F0(d) <= TAIL_RATE,

``F0`` the distance distribution of pairs of sampled frames of unrelated library videos
(:func:`apps.video_search.null_model.library_cdf`; so ``r_tail`` follows the library and the model), and
the videos without a vote within ``r`` are ranked by that tail score (a placement many query frames agree
on at a loose radius is still better evidence than none). Nothing in the tail is *reported*: its score
stays 0 and it carries ``tail_score``; the reporting rule is untouched.

``TAIL_RATE`` = 0.2 was chosen on the validation split (benchmarks/video_search_val.py: clip mAP of the
shipped model 0.844 without the tail ordering; 0.903 / 0.909 / 0.919 / 0.903 / 0.888 / 0.885 at rates
0.05 / 0.1 / 0.2 / 0.3 / 0.4 / 0.5).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from vidml.index import Index
from vidml.metric.distances import pack_bits

from apps.video_search import null_model
from apps.video_search.alignment import ClipMatch

TAIL_RATE = 0.2

_TAIL_CACHE: dict[tuple, int] = {}


def tail_radius(index: Index, rate: float = TAIL_RATE) -> int:
    """``r_tail`` of the module doc for ``index`` (cached on the sampled rows' codes and videos)."""
    from apps.video_search.clip_search import cached, match_radius, sample_key

    return cached(_TAIL_CACHE, sample_key(index) + (rate,),
                  lambda: radius_at_rate(index.codes, index.video_of, index.bits, match_radius(index), rate))


def radius_at_rate(codes: np.ndarray, video_of: np.ndarray, bits: int, radius: int, rate: float) -> int:
    """The largest d with ``F0(d) <= rate`` (F0: :func:`apps.video_search.null_model.library_cdf` of these
    library codes), at least the match ``radius``: the tail radius, and query expansion's partner radius."""
    f0, _ = null_model.library_cdf(codes, video_of, bits, radius)
    return int(max(radius, np.searchsorted(f0, rate, side="right") - 1))


def rank_tail(index: Index, matches: list[ClipMatch], codes: np.ndarray, times: np.ndarray, k: int = 64,
              backend: str = "auto", rate: float = TAIL_RATE) -> list[ClipMatch]:
    """The videos with no vote in ``matches`` that get votes within the tail radius, best ``tail_score``
    first (score 0, support 0: never reported). ``codes``: the query codes (or projections, whose signs
    are used) of the pass that gave ``matches``."""
    from apps.video_search.clip_search import is_projection, match_codes

    codes = np.asarray(codes)
    if is_projection(codes):
        codes = pack_bits(codes > 0)
    voted = {m.video for m in matches}
    loose = match_codes(index, codes, times, k=k, radius=tail_radius(index, rate), backend=backend)
    return [replace(m, score=0.0, support=0, tail_score=m.score) for m in loose if m.video not in voted]

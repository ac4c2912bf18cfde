"""Query expansion: the copies of a copy. A clip found in library video A is also in A's copies.

A library may hold one film twice: an encode and a camcorded recording of it, a TV capture and a web
re-upload. An edited query clip can be close enough to A to be reported while its codes are too far from
the camcorded B (two degradations add up): B then gets few votes, or none, within the match radius. But
A's own frames are the undegraded source; so, as in query expansion for image retrieval (Chum et al.,
"Total recall", ICCV 2007), A's frames are searched again:

1. the best reported match (video A, placement ``offset``: query time t is at ``t + offset`` in A) gives
   A's index rows within ``CONTEXT_S`` seconds of its matched span, an *expanded query* whose times are
   put in the query's frame, ``t = u - offset`` (so a placement found in B is the query's placement in B);
2. they are aligned against the index at the looser *partner radius* (the largest d with ``F0(d) <=
   PARTNER_RATE``, F0 the distance distribution of unrelated library frames, as the tail radius of
   :mod:`apps.video_search.ranking`), every video but A;
3. a video B is reported when that match passes the same rule as a direct one: score >= threshold,
   e-value <= max e-value (the null model of :mod:`apps.video_search.null_model` at the partner radius,
   A's own rows counted as related: they are the expanded query), and a temporal contrast (the layout codes
   of A's rows against B's, :mod:`apps.video_search.reporting`) >= min contrast. Its score is the smaller of
   the query's score in A and A's in B (a chain is as strong as its weaker link), its spans the query's
   span placed in B.

A hard negative query (another moment of the same scene) that was not reported in A expands nothing; one
that was is a false report already. But a library that also holds *another clip of A's scene* (another
moment of the same camera, the same person on the same stage) gets that clip reported too: at the partner
radius another moment of one scene and a camcorded copy look alike, by score, e-value and contrast. So
video-search expands only when asked (``--expand``). Measured (benchmarks/video_search_partners.py
``--second-halves``, each video's second half indexed as a video of its own; rate 0.1): copies reporting
another video went from 0.12 / 0.08 without expansion to 0.50 / 0.58 (seed 0, choose / report split) and
from 0.25 / 0.00 to 0.42 / 0.56 (seed 1); no rate of 0.05-0.3 is clean both with and without such clips. Cost: one more search of ~``(span + 2 CONTEXT_S) * fps`` codes (49 for a 4 s
clip at 2 fps), once per query with a report: at 10^6 codes 32 ms with IVF (docs/scale.md). In a huge library
a partner's frames also compete with every other row for the ``k`` neighbours a frame keeps.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from vidml.index import Index

from apps.video_search import reporting
from apps.video_search.alignment import ClipMatch

CONTEXT_S = 10.0      # seconds of A around the matched span that form the expanded query
PARTNER_RATE = 0.1    # F0 quantile of the partner radius; chosen by benchmarks/video_search_partners.py: card


def expanded_query(index: Index, m: ClipMatch, context_s: float = CONTEXT_S) -> tuple:
    """``(codes (n, 1, nb), times (n,), layout (n, 1, layout_nb) or None)``: video ``m.video``'s index rows
    within ``context_s`` of ``m``'s video span, at their times in the query's frame (``u - m.offset``)."""
    rows = reporting.video_rows(index, m.video)
    t = index.times[rows].astype(np.float64)
    rows = rows[(t >= m.video_start - context_s) & (t <= m.video_end + context_s)]
    layout = index.layout[rows][:, None] if getattr(index, "layout", None) is not None else None
    return index.codes[rows][:, None], index.times[rows].astype(np.float64) - m.offset, layout


def partner_matches(index: Index, best: ClipMatch, rule: tuple, exclude: set[int], k: int = 64,
                    backend: str = "auto", rate: float | None = None,
                    context_s: float | None = None) -> list[tuple[ClipMatch, float, float]]:
    """``[(match, e-value, contrast)]`` of the videos not in ``exclude`` (nor ``best.video``) that the
    expanded query of ``best`` reports under ``rule`` = (threshold, max e-value, min contrast) (module
    doc), best first, each placed on the query's span (``rate``, ``context_s``: default PARTNER_RATE,
    CONTEXT_S)."""
    from apps.video_search.clip_search import match_codes, query_null
    from apps.video_search.ranking import tail_radius

    threshold, max_evalue, min_contrast = rule
    rate, context_s = PARTNER_RATE if rate is None else rate, CONTEXT_S if context_s is None else context_s
    codes, times, layout = expanded_query(index, best, context_s)
    if len(times) < 2:
        return []
    radius = tail_radius(index, rate)
    found = [m for m in match_codes(index, codes, times, k=k, radius=radius, backend=backend)
             if m.video != best.video and m.video not in exclude and m.score >= threshold]
    if not found:
        return []
    null = query_null(index, codes, times, radius)
    out = []
    for m in found[:reporting.CONTRAST_TOP]:
        e = null.evalue(m.video, m.support, related=(best.video,))
        if e > max_evalue:
            continue
        c = reporting.match_contrast(index, codes, times, m, layout)
        if reporting.passes(m.score, e, c, threshold, max_evalue, min_contrast):
            out.append((on_query_span(m, best), e, c))
    return out


def on_query_span(m: ClipMatch, best: ClipMatch) -> ClipMatch:
    """Partner match ``m`` (offset in the query's frame) as a match of the query: ``best``'s query span
    placed at ``m.offset``, the score the smaller of the two links', ``via`` the video it was found through."""
    return replace(m, score=min(m.score, best.score), query_start=best.query_start, query_end=best.query_end,
                   video_start=max(0.0, best.query_start + m.offset), video_end=best.query_end + m.offset,
                   frames=min(m.frames, best.frames), support=min(m.support, best.support), via=best.video)


def with_partners(index: Index, matches: list[ClipMatch], evalues: list[float], contrasts: list[float],
                  rule: tuple, k: int = 64, backend: str = "auto", rate: float | None = None,
                  context_s: float | None = None) -> tuple[list[ClipMatch], list[float], list[float]]:
    """``(matches, evalues, contrasts)`` with the partners of the best match that passes ``rule`` (module
    doc; :func:`partner_matches`) in place of those videos' direct matches, all ordered by score."""
    shown = [i for i, (m, e, c) in enumerate(zip(matches, evalues, contrasts)) if reporting.passes(m.score, e, c, *rule)]
    if not shown:
        return matches, evalues, contrasts
    found = partner_matches(index, matches[shown[0]], rule, {matches[i].video for i in shown}, k=k,
                            backend=backend, rate=rate, context_s=context_s)
    if not found:
        return matches, evalues, contrasts
    partners = {m.video for m, _, _ in found}
    rows = [r for r in zip(matches, evalues, contrasts) if r[0].video not in partners] + found
    rows.sort(key=lambda r: -r[0].score)           # stable: direct matches keep their order
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]

"""Pairs through a common video: when A and C both copy one moment of B, A and C share that moment too.

Two composites of one source (a picture-in-picture and a side-by-side copy of B) never meet each other in
the self-join (a query rectangle meets the index's whole frames only), and two copies edited in different
ways may sit too far apart; each still meets B, with a span in B's timeline. For two direct pairs (A, B)
and (C, B) whose spans in B overlap on [lo, hi] with ``hi - lo >= MIN_OVERLAP_S``, the derived pair (A, C)
has

    A's span = lo..hi mapped through the (A, B) pair's span correspondence (linear between the span ends, so
               a playback rate carries over), C's span likewise;
    score = min of the two links' scores, contrast = min of theirs, e-value = max of theirs, via = B.

Only links whose contrast is ``>= min_contrast`` are used: a same-scene pair (another moment of one room)
taken as a link would spread to every copy of its partner, and a high contrast is what a same-scene pair
rarely reaches (:mod:`apps.video_search.dedupe_verify`). One hop only, and never where A and C already form
a direct pair. Disjoint moments of B (two clips of B at other times) share nothing and are never paired.
"""
from __future__ import annotations

import dataclasses

MIN_OVERLAP_S = 1.0   # seconds of B both links must cover (the benchmark's "share a segment": 0.5 ties it on TUNE, 2 loses)


def _through(t: float, s0: float, s1: float, d0: float, d1: float) -> float:
    """``t`` of the span ``s0..s1`` mapped onto ``d0..d1`` (linear between the ends)."""
    return d0 + (t - s0) * ((d1 - d0) / (s1 - s0) if s1 > s0 else 1.0)


def _towards(pair, hub: str) -> tuple:
    """``(other video, its start, its end, hub's start, hub's end)`` of a pair that has ``hub`` on one side."""
    if pair.a == hub:
        return pair.b, pair.b_start, pair.b_end, pair.a_start, pair.a_end
    return pair.a, pair.a_start, pair.a_end, pair.b_start, pair.b_end


def chained_pairs(pairs: list, min_contrast: float) -> list:
    """The derived pairs (module doc) of the direct ``pairs`` (:class:`apps.video_search.dedupe.DedupePair`),
    one per pair of videos (the highest score over the common videos), none that ``pairs`` holds already."""
    if min_contrast == float("inf"):
        return []     # off (an untestable link, contrast +inf, would pass ">= inf")
    direct = {frozenset((p.a, p.b)) for p in pairs}
    links: dict[str, list] = {}
    for p in pairs:
        if p.contrast >= min_contrast:
            links.setdefault(p.a, []).append(p)
            links.setdefault(p.b, []).append(p)
    out: dict[frozenset, object] = {}
    for hub, ps in links.items():
        for i, p in enumerate(ps):
            x, x0, x1, h0, h1 = _towards(p, hub)
            for q in ps[i + 1:]:
                y, y0, y1, g0, g1 = _towards(q, hub)
                lo, hi, key = max(h0, g0), min(h1, g1), frozenset((x, y))
                if x == y or key in direct or hi - lo < MIN_OVERLAP_S:
                    continue
                score = min(p.score, q.score)
                if key in out and out[key].score >= score:
                    continue
                out[key] = dataclasses.replace(
                    p, a=x, b=y, a_start=_through(lo, h0, h1, x0, x1), a_end=_through(hi, h0, h1, x0, x1),
                    b_start=_through(lo, g0, g1, y0, y1), b_end=_through(hi, g0, g1, y0, y1), score=score,
                    evalue=max(p.evalue, q.evalue), contrast=min(p.contrast, q.contrast), via=hub)
    return sorted(out.values(), key=lambda p: (-p.score, p.a, p.b))

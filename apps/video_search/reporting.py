"""The reporting rule of clip search: which matches ``vidml video-search`` prints.

A match (video v, placement ``offset``, ``score``, ``support``) is *reported* when

    score >= threshold  and  e-value <= max_evalue  and  (contrast >= min_contrast  or  contrast = +inf)

* score, e-value: :mod:`apps.video_search.alignment`, :mod:`apps.video_search.null_model` (chance
  agreement with *other* videos);
* contrast: the temporal contrast of the placement against the other time mappings of the *same* video,
  :func:`apps.video_search.dedupe_verify.line_contrast` (bits by which the best line through the anchor
  beats the best line putting the query's frames >= 2 s elsewhere in v). A copy agrees best at its own
  time mapping (many bits); another recording of the same scene (a static camera, the same room at another
  moment) agrees about equally at every mapping (about 0 bits or less). The anchor is the middle of the
  matched query span ``t_a = (query_start + query_end) / 2`` at ``u_a = t_a + offset``.
* +inf (v too short to place the query 2 s elsewhere, or a still shot: every frame of v that the far mappings
  reach shows the same picture as at the placement, and so do the query's own frames, dedupe_verify's "still
  frames carry no evidence"): the contrast cannot tell, and the score / e-value rule alone decides. A copy of
  a slide or a paused screen is so reported. Another recording of a fixed camera is still tested where
  anything moves in it (its layouts move with the people); one where nothing moves at all cannot be told from
  a copy, and is reported.

When the index holds *layout codes* (:mod:`vidml.backbones.layout`: where in the frame the trunk sees
what, 1024 bits; the query frame as shown or mirrored, the nearer), the contrast is the larger of two:
that of the layout codes, scaled to bits per 256 bits of code (``x 256 / 1024``), and that of the search
codes less ``CODES_MARGIN``. A copy must stand out at its time mapping in where things are, or by a wide
margin in what the frames show: the search codes are made to ignore small changes, so two moments of a
fixed camera's view agree about equally at every mapping by them (up to 4.9 bits on the calibration's
hard negatives), while their layouts do not (a walker has moved); a cropped or rescaled copy moves its
layout, while its search codes still stand out by many bits (tens on the report split's crops).

On a fixed camera's view the search codes agree about equally at every offset, so voting can place a copy
seconds away from its moment, and the contrast about that anchor is low (calibration, 2026-12-03: 3 of the
6 PETS09 copies the gate dropped were placed 2.6-31 s off). So a match below the gate is also given the
layouts' *split contrast* (:func:`apps.video_search.dedupe_verify.split_contrast`: each half of the query's
frames tested about the anchor the other half's layouts find), the larger kept; a match that only it lifts
over the gate is reported at the offset the two halves agree on (:func:`moved_to`), not the vote's.

Cost: the contrast is computed only for the first ``CONTRAST_TOP`` matches that pass score and e-value
(a match failing those is never reported, so its contrast is not needed): per match one (Q R x N_v)
Hamming matrix and 25 (Q + N_v) / bin_s line look-ups (N_v = v's indexed frames). A composite (the copy
shown in a rectangle of the query frame) has its own layout there, not the whole frame's: when a match's
contrast is below the gate, the layouts of the query's inner rectangles (:mod:`apps.video_search.regions`,
as shown and mirrored) are tried too (:func:`contrasts`), the larger contrast kept; they cost one more
region hashing of the query, shared with the region cascade when it ran.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from vidml.metric.distances import pack_bits

from apps.video_search.alignment import ClipMatch
from apps.video_search.dedupe_verify import line_contrast, per_unit_bits, split_contrast, with_layout_contrast

DEFAULT_MIN_CONTRAST = 2.0   # bits per 256; chosen by benchmarks/video_search_calibration.py (choose split): card
CODES_MARGIN = 4.0           # bits the search codes' contrast must add to stand in for the layouts': card
CONTRAST_TOP = 5             # matches per query whose contrast is computed


def passes(score: float, evalue: float, contrast: float, threshold: float, max_evalue: float,
           min_contrast: float) -> bool:
    """The rule of the module doc (``contrast`` +inf: not tested; NaN: not computed, fails unless
    ``min_contrast`` is -inf: no gate)."""
    gate = min_contrast == -float("inf") or contrast >= min_contrast or contrast == float("inf")
    return bool(score >= threshold and evalue <= max_evalue and gate)


def match_contrast(index, codes: np.ndarray, times: np.ndarray, m: ClipMatch,
                   layout: np.ndarray | None = None) -> float:
    """Line contrast (bits) of match ``m`` of query ``codes`` (Q, R, nb) packed, or projections (Q, R, bits),
    whose signs are used) at ``times`` against video ``m.video``'s index rows; with the query's ``layout``
    codes (Q, V, layout_nb) and an index holding layout codes, the larger of that less CODES_MARGIN and the
    layouts' (module doc)."""
    codes, times = np.asarray(codes), np.asarray(times, np.float64)
    if np.issubdtype(codes.dtype, np.floating):
        codes = pack_bits(codes > 0)
    if layout is None or getattr(index, "layout", None) is None:
        return float(line_contrast(codes, times, *placement_of(index, m))[0])
    on_layouts = placement_of(index, m, True)
    picture = (on_layouts[0], np.asarray(layout)[:, 0])           # whose still frames carry no evidence
    c = float(line_contrast(codes, times, *placement_of(index, m), picture=picture)[0])
    return with_layout_contrast(c, layout, times, *on_layouts, codes_margin=CODES_MARGIN)


def split_layout_contrast(index, layout: np.ndarray, times: np.ndarray, m: ClipMatch) -> tuple[float, float | None]:
    """``(contrast, offset)``: the :func:`apps.video_search.dedupe_verify.split_contrast` of the query's
    ``layout`` codes (Q, V, nb) in video ``m.video`` (an anchor each half of the query's frames finds for the
    other, not the search codes' placement), in bits per UNIT_BITS of code (:func:`per_unit_bits`, as
    :func:`with_layout_contrast` scales it), and the offset the halves agree on (None: they do not)."""
    u_layout, u_times, _, bin_s = placement_of(index, m, True)
    layout = np.asarray(layout)
    c, offset = split_contrast(layout, np.asarray(times, np.float64), u_layout, u_times, bin_s,
                               picture=(u_layout, layout[:, 0]))
    return per_unit_bits(c, layout.shape[-1]), offset


def moved_to(m: ClipMatch, offset: float) -> ClipMatch:
    """``m`` placed at ``offset`` instead (its video span shifted with it, its query span and score kept)."""
    shift = offset - m.offset
    return replace(m, offset=offset, video_start=m.video_start + shift, video_end=m.video_end + shift)


def video_rows(index, video: int) -> np.ndarray:
    """Video ``video``'s index rows, sorted by time (stable)."""
    rows = np.flatnonzero(index.video_of == video)
    return rows[np.argsort(index.times[rows], kind="stable")]


def placement_of(index, m: ClipMatch, layout: bool = False) -> tuple:
    """``(u_codes, u_times, anchor, bin_s)`` of match ``m`` as :func:`line_contrast` takes them: video
    ``m.video``'s index rows sorted by time (their layout codes with ``layout``), the anchor (middle of the
    matched query span, its time in v)."""
    rows = video_rows(index, m.video)
    t_a = 0.5 * (m.query_start + m.query_end)
    bin_s = 1.0 / float(index.manifest.get("fps") or 2.0)
    u_codes = index.layout[rows] if layout else index.codes[rows]
    return u_codes, index.times[rows].astype(np.float64), (t_a, t_a + m.offset), bin_s


def strongest_contrast(index, codes: np.ndarray, times: np.ndarray, m: ClipMatch, layout: np.ndarray,
                       more_layout: np.ndarray | None = None) -> float:
    """The largest of the contrasts :func:`contrasts` tries for match ``m`` below the gate: with the query's whole
    frame ``layout`` (Q, 2, nb: shown, mirrored; :func:`match_contrast`), its :func:`split_layout_contrast`, and
    with every rectangle's layouts (``more_layout`` (Q, V', nb) appended), plainly and split (a composite's copy
    the search codes placed a second off on a fixed camera's view: its rectangle finds the moment). At any gate
    g, ``>= g`` exactly when :func:`contrasts` (``min_contrast`` g) would pass it; video-dedupe takes it once for
    every pair, gate-free."""
    c = match_contrast(index, codes, times, m, layout)
    if getattr(index, "layout", None) is None:
        return c
    c = max(c, split_layout_contrast(index, layout, times, m)[0])
    if more_layout is not None and more_layout.shape[1]:
        every = np.concatenate([layout, more_layout], 1)
        c = max(c, match_contrast(index, codes, times, m, every), split_layout_contrast(index, every, times, m)[0])
    return c


def _with_split(index, layout: np.ndarray, times: np.ndarray, m: ClipMatch, c: float, min_contrast: float,
                moved: dict | None, position: int) -> float:
    """``max(c, split contrast of these layout views)`` (:func:`split_layout_contrast`); when the split alone
    lifts the match to ``min_contrast`` at an offset its halves agree on, ``moved[position]`` = that offset."""
    split, offset = split_layout_contrast(index, layout, times, m)
    if split >= min_contrast > c and offset is not None and moved is not None:
        moved[position] = offset      # lifted over the gate by the split: placed where it found it
    return max(c, split)


def contrasts(index, codes: np.ndarray, times: np.ndarray, matches: list[ClipMatch], evalues: list[float],
              threshold: float, max_evalue: float, top: int = CONTRAST_TOP,
              layout: np.ndarray | None = None, more_layout=None, min_contrast: float = float("inf"),
              moved: dict | None = None) -> list[float]:
    """Per match: its contrast when it is among the first ``top`` that pass score and e-value, else NaN
    (it is not reported whatever its contrast; NaN fails :func:`passes`). ``layout``: the query's layout
    codes (:func:`match_contrast`); ``more_layout()``: those of the query's inner rectangles (Q, V', nb),
    asked for (once) when a match's contrast is below ``min_contrast`` (default: always): the contrast is
    then the larger of that and the one with every rectangle's layout, so a composite (the copy in a
    rectangle of the query) stands out by its rectangle's layout. Below ``min_contrast`` too, the larger of
    that and the layouts' :func:`split_layout_contrast` (a copy the search codes placed at the wrong moment of
    a fixed camera's view stands out about the moment its own layouts find), first of the whole frame's, then
    (still below) of every rectangle's. ``moved`` (a dict): receives
    {match position: offset} for the matches that only the split contrast lifts to ``min_contrast``, at an
    offset its halves agree on (:func:`moved_to` places the match there)."""
    out, done, inner = [], 0, []
    for m, e in zip(matches, evalues):
        if done < top and m.score >= threshold and e <= max_evalue:
            c = match_contrast(index, codes, times, m, layout)
            if c < min_contrast and layout is not None and getattr(index, "layout", None) is not None:
                c = _with_split(index, layout, times, m, c, min_contrast, moved, len(out))
            if c < min_contrast and layout is not None and more_layout is not None:
                inner = inner or [more_layout()]
                every = np.concatenate([layout, inner[0]], 1)
                c = max(c, match_contrast(index, codes, times, m, every))
                if c < min_contrast and getattr(index, "layout", None) is not None:
                    c = _with_split(index, every, times, m, c, min_contrast, moved, len(out))
            out.append(c)
            done += 1
        else:
            out.append(float("nan"))
    return out

"""A copy, or another recording of the same scene? The offset contrast of a placement.

Two recordings of one scene (the same room, camera and person at other moments) have close frame codes
at *every* time offset: temporal voting finds a placement with many agreeing frames, and its e-value
(chance agreement with *other* videos, :mod:`apps.video_search.null_model`) is tiny. What sets a copy
apart is that its placement is special: at the right time mapping the frames agree better than at any
other one, because what moves (people, cars, the camera) agrees too. So each pair is also tested against
the other time mappings *of the same two videos*, a null model of "same scene, another moment".

**Line contrast** (:func:`line_contrast`, the default). A copy played at rate s maps query time t to
u's time ``tau = s t + c`` (a GIF preview sped up, a speed or frame-drop edit; s = 1 for most copies).
Voting (at s = 1) finds an anchor: query time ``t_a`` (the middle of the matched span) at u's time
``u_a = t_a + offset``. With the query's frames i (times t_i, all of them: a speed copy agrees at s = 1
only near the anchor) and u's frames j (times s_j, every ``bin_s`` s):

    D_r[i, j] = Hamming distance of frame i's region code r to u's code j
    line (s, c): tau_i = u_a + c + s (t_i - t_a); frame i is *inside* when u's frame j_i nearest
                 tau_i is within bin_s of it, and then d_i = D_r[i, j_i]

for s in SPEEDS (0.5-2, 25 steps of 2^(1/12)) and c on the ``bin_s`` grid. The placement ``a`` is the
(line, region r) through the anchor (|c| <= bin_s) with the smallest mean d_i over its inside frames,
among lines with at least MIN_OVERLAP of the most inside frames of any such line (one region r for the
pair: the rectangle the copy sits in, not a per-frame minimum, which lets noise pick); then

    contrast = min over lines l of  mean_{i in C(l)} ( d_i(l) - d_i(a) ),
    C(l) = frames inside at both l and a whose two mapped times are >= FAR_S apart, |C(l)| >= MIN_OVERLAP |inside(a)|

(bits; the same frames on both sides): how many bits closer the frames are at the placement than at
the best mapping that puts them two or more seconds elsewhere. A hard negative scores about 0 or less
(its best mapping is one of many equally good ones); a copy of moving content scores many bits, at its
own speed too. With no such mapping (a span too short to shift) it is +inf: the test cannot tell and
leaves the pair to the score and e-value. Cost per tested pair: one (Q R x N) Hamming matrix and
25 (Q + N) / bin_s line look-ups of Q frames.

**Still frames carry no evidence.** Where u shows the same picture at line l as at the placement (u's frames
``j_i(l)`` and ``j_i(a)`` less than STILL_BITS per UNIT_BITS apart in u's *picture codes*: its layout codes,
the codes most sensitive to movement), frame i agrees alike at both mappings whatever the truth. It is left
out of C(l) when the query agrees that nothing moved: its frame as far from frame i as the line's is from the
placement (query time ``t_i + tau_i(l) - tau_i(a)``; rate 1, since a still u leaves the placement's own rate
undecided) shows the same picture as frame i by the query's picture codes, or lies outside the query. A copy
of a still shot (a slide, a paused screen) has only such frames: every far line is left out and its contrast
is +inf ("cannot tell", as for a span too short to shift), not 0. A moving query against a still u (another
recording of a room, u empty) keeps its frames: its contrast stays about 0. One set of picture codes judges
this for every code type tried (search codes, layouts, rectangles), so the search codes of a fixed camera,
which change little while its layouts move, never call it still. Measured, frames 2 s apart by the layouts per
256 bits: a re-encoded still shot 0-2.3, the least-changing real video 8, fixed cameras 24-50.

**Offset contrast** (:func:`offset_contrast`, the earlier form, ``DedupeConfig.contrast = "offset"``):
the same test at s = 1 only, on the matched span's frames, with each frame's minimum over its regions

    contrast = min over o' with |o' - o| >= FAR_S of  mean_{i inside at both a and o'} ( d_i(o') - d_i(a) )

where ``d_i(o')`` is frame i's distance to u's frame nearest ``t_i + o'`` and ``a`` the best offset within
one step of the voted offset o. A speed copy agrees only near its anchor at s = 1, so its contrast is low.

**Split contrast** (:func:`split_contrast`): the line contrast about an anchor the codes themselves find,
for a placement the voting got wrong (on a fixed camera's view the search codes agree about equally at
every offset, and a copy's vote can land seconds away from its moment; its contrast is then taken about
the wrong moment and is low). Re-anchoring at the best line of all would make every hard negative stand
out too (the best of many equally good lines beats the best of the rest by chance), so the anchor is
chosen and tested on *different* frames: the query's frames split at their median time into halves A and
B; A's best offset in u (rate 1, least mean distance over >= MIN_OVERLAP of A's frames) anchors the line
contrast of B (through B's middle), and B's that of A; the smaller of the two (-inf when either is not
finite: too few frames, or a span too short to shift). When the halves' offsets agree (within FAR_S),
their mean is where the copy is: video-search reports a match it passes there, not at the vote's offset.
"""
from __future__ import annotations

import numpy as np

from vidml.metric.distances import hamming

MIN_OVERLAP = 0.5
FAR_S = 2.0
SPEEDS = tuple(2.0 ** (k / 12) for k in range(-12, 13))   # playback rates of the lines: 0.5 .. 2
UNIT_BITS = 256   # a layout contrast is given per this many bits of code (vidml.backbones.layout: 1024 bits)
STILL_BITS = 4.0  # per UNIT_BITS of picture code: u's two frames show the same picture (module doc)


def nearest_frame(u_times: np.ndarray, target: np.ndarray, bin_s: float) -> tuple[np.ndarray, np.ndarray]:
    """``(j, inside)`` shaped like ``target``: the index of u's frame nearest each target time (``u_times``
    sorted, non-empty; the earlier frame on a tie) and whether that frame lies within ``bin_s`` of it."""
    if len(u_times) == 1:
        j = np.zeros(target.shape, np.int64)
    else:
        j = np.clip(np.searchsorted(u_times, target), 1, len(u_times) - 1)
        j = np.where(np.abs(u_times[j - 1] - target) <= np.abs(u_times[j] - target), j - 1, j)
    return j, np.abs(u_times[j] - target) <= bin_s


def offset_profile(codes: np.ndarray, times: np.ndarray, u_codes: np.ndarray, u_times: np.ndarray, offset: float,
                   bin_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(shifts (S,) in s, dist (S, Q), inside (S, Q))``: for each shift of the placement, each query frame's
    distance to u's frame nearest ``t_i + offset + shift``, and whether that frame lies within ``bin_s``.

    ``codes`` (Q, R, bits/8) and ``times`` (Q,): the query frames of the span; ``u_codes`` (N, bits/8) and
    ``u_times`` (N,) sorted: video u's index rows."""
    q, r = codes.shape[:2]
    if q == 0 or len(u_times) == 0:
        return np.zeros(0), np.zeros((0, q)), np.zeros((0, q), bool)
    d = hamming(codes.reshape(q * r, -1), u_codes).reshape(q, r, -1).min(1).astype(np.float64)   # (Q, N)
    lo = int(np.floor((u_times[0] - times.max() - offset) / bin_s)) - 1
    hi = int(np.ceil((u_times[-1] - times.min() - offset) / bin_s)) + 1
    shifts = np.arange(lo, hi + 1) * bin_s
    target = times[None, :] + offset + shifts[:, None]                                            # (S, Q)
    j, inside = nearest_frame(u_times, target, bin_s)
    return shifts, d[np.arange(q)[None, :], j], inside


def offset_contrast(codes: np.ndarray, times: np.ndarray, u_codes: np.ndarray, u_times: np.ndarray, offset: float,
                    bin_s: float) -> float:
    """Bits by which the placement at ``offset`` beats the best placement >= FAR_S s away, on the frames that
    both place inside u (+inf: no such placement)."""
    shifts, dist, inside = offset_profile(codes, times, u_codes, u_times, offset, bin_s)
    need = max(1, MIN_OVERLAP * len(times))
    ok = inside.sum(1) >= need
    near = np.flatnonzero(ok & (np.abs(shifts) <= bin_s + 1e-9))
    if not len(near):
        return float("inf")
    mean = np.where(inside, dist, 0.0).sum(1) / np.maximum(inside.sum(1), 1)
    a = near[np.argmin(mean[near])]
    best = float("inf")
    for s in np.flatnonzero(ok & (np.abs(shifts) >= FAR_S - 1e-9)):
        common = inside[s] & inside[a]
        if common.sum() >= need:
            best = min(best, float((dist[s, common] - dist[a, common]).mean()))
    return best


def _lines(times: np.ndarray, u_times: np.ndarray, anchor: tuple[float, float], s: float, shifts: np.ndarray,
           bin_s: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(j, inside, tau)`` (C, Q) of the lines ``tau_i = u_a + c + s (t_i - t_a)``, c in ``shifts``: u's frame
    nearest tau_i, whether it lies within ``bin_s`` of it, and tau_i (``u_times`` sorted)."""
    tau = anchor[1] + shifts[:, None] + s * (times[None, :] - anchor[0])
    return nearest_frame(u_times, tau, bin_s) + (tau,)


def _placement(d: np.ndarray, times: np.ndarray, u_times: np.ndarray, anchor: tuple[float, float], bin_s: float,
               speeds) -> tuple | None:
    """``(region, speed, d_i (Q,), inside (Q,), tau (Q,))`` of the best line through the anchor (module doc), or
    None when no line through it puts a frame inside u. ``d``: (Q, R, N) distances."""
    q = np.arange(len(times))
    near = np.array([-bin_s, 0.0, bin_s])
    cand = [(s,) + _lines(times, u_times, anchor, s, near, bin_s) for s in speeds]
    most = max(int(inside.sum(1).max()) for _, _, inside, _ in cand)
    if most == 0:
        return None
    best, found = np.inf, None
    for s, j, inside, tau in cand:
        n = inside.sum(1)
        mean = (d[q[None, :], :, j] * inside[..., None]).sum(1) / np.maximum(n, 1)[:, None]   # (3, R)
        mean[n < MIN_OVERLAP * most] = np.inf
        line, r = np.unravel_index(np.argmin(mean), mean.shape)
        if mean[line, r] < best:
            best, found = mean[line, r], (int(r), s, d[q, r, j[line]], inside[line], tau[line])
    return found


def far_differences(codes: np.ndarray, times: np.ndarray, u_codes: np.ndarray, u_times: np.ndarray,
                    anchor: tuple[float, float], bin_s: float, speeds=SPEEDS, picture: tuple | None = None):
    """``(speed, blocks)``: the rate of the best line through ``anchor`` (module doc) and an iterator over
    one block per rate s of the far lines l with ``|C(l)| >= MIN_OVERLAP |inside(a)|``: ``(diff (L, Q),
    common (L, Q))``, the per-frame differences ``d_i(l) - d_i(a)`` in bits (0 outside C(l)) and the masks
    C(l); None instead of the iterator when no line through the anchor puts a frame inside u. ``picture``:
    ``(u_picture (N, nb), q_picture (Q, nb))``, u's and the query's picture codes; C(l) then leaves out the
    still frames (module doc). Other arguments as :func:`line_contrast`."""
    q, r = codes.shape[:2]
    if q == 0 or len(u_times) == 0:
        return 1.0, None
    d = hamming(codes.reshape(q * r, -1), u_codes).reshape(q, r, -1).astype(np.float64)
    found = _placement(d, times, u_times, anchor, bin_s, speeds)
    if found is None:
        return 1.0, None
    region, speed, da, ia, ta = found
    need = max(1.0, MIN_OVERLAP * ia.sum())
    rel = np.array([times.min(), times.max()]) - anchor[0]
    still = None if picture is None else _still_frames(*picture, times, u_times, ta, bin_s)

    def lines():   # one vectorised block per rate
        for s in speeds:
            lo = u_times[0] - anchor[1] - (s * rel).max() - bin_s
            hi = u_times[-1] - anchor[1] - (s * rel).min() + bin_s
            shifts = np.arange(np.floor(lo / bin_s), np.ceil(hi / bin_s) + 1) * bin_s
            j, inside, tau = _lines(times, u_times, anchor, s, shifts, bin_s)
            common = inside & ia[None, :] & (np.abs(tau - ta[None, :]) >= FAR_S - 1e-9)
            if still is not None:
                common &= ~still(j, tau)
            keep = common.sum(1) >= need
            if keep.any():
                common, j = common[keep], j[keep]
                yield np.where(common, d[np.arange(q)[None, :], region, j] - da[None, :], 0.0), common

    return speed, lines()


def _still_frames(u_picture: np.ndarray, q_picture: np.ndarray, times: np.ndarray, u_times: np.ndarray,
                  ta: np.ndarray, bin_s: float):
    """``still(j, tau) -> (L, Q) bool``: frame i of line l carries no evidence (module doc): u's frame ``j[l, i]``
    shows the same picture as u's frame at the placement's time ``ta[i]``, and the query frame nearest
    ``t_i + tau[l, i] - ta[i]`` shows the same picture as frame i or lies outside the query (picture codes less
    than STILL_BITS per UNIT_BITS apart)."""
    u_picture, q_picture = np.asarray(u_picture), np.asarray(q_picture)
    same = lambda a, b: hamming(a, b) < STILL_BITS * 8 * a.shape[-1] / UNIT_BITS   # noqa: E731
    ja, _ = nearest_frame(u_times, ta, bin_s)
    u_still, q_still = same(u_picture[ja], u_picture), same(q_picture, q_picture)   # (Q, N), (Q, Q)
    order = np.argsort(times, kind="stable")
    q = np.arange(len(times))

    def still(j: np.ndarray, tau: np.ndarray) -> np.ndarray:
        k, inside = nearest_frame(times[order], times[None, :] + (tau - ta[None, :]), bin_s)
        return u_still[q[None, :], j] & (~inside | q_still[q[None, :], order[k]])

    return still


def line_contrast(codes: np.ndarray, times: np.ndarray, u_codes: np.ndarray, u_times: np.ndarray,
                  anchor: tuple[float, float], bin_s: float, speeds=SPEEDS,
                  picture: tuple | None = None) -> tuple[float, float]:
    """``(contrast, speed)``: bits by which the best line through ``anchor`` = (query time, u's time) beats the
    best line placing its frames >= FAR_S s elsewhere (module doc; +inf: no such line), and that line's rate.

    ``codes`` (Q, R, bits/8), ``times`` (Q,): all the query's frames; ``u_codes`` (N, bits/8), ``u_times`` (N,)
    sorted: video u's index rows; ``picture``: ``(u_picture (N, nb), q_picture (Q, nb))``, u's and the query's
    picture codes (their layouts), by which still frames are left out (module doc; None: none is)."""
    speed, blocks = far_differences(codes, times, u_codes, u_times, anchor, bin_s, speeds, picture)
    if blocks is None:
        return float("inf"), 1.0
    return min((float((diff.sum(1) / common.sum(1)).min()) for diff, common in blocks), default=float("inf")), speed


def with_layout_contrast(contrast: float, layout: np.ndarray, times: np.ndarray, u_layout: np.ndarray,
                         u_times: np.ndarray, anchor: tuple[float, float], bin_s: float,
                         codes_margin: float = 0.0) -> float:
    """The larger of the search codes' ``contrast`` less ``codes_margin`` and the :func:`line_contrast` of the
    layout codes (query ``layout`` (Q, V, nb) at ``times``, video ``u_layout`` (N, nb) at ``u_times``, the same
    anchor), the latter scaled to bits per UNIT_BITS of code: ``x UNIT_BITS / (8 nb)``; u's layouts and the
    query's first view (its whole frame as shown) are the picture codes (module doc: still frames left out)."""
    layout = np.asarray(layout)
    lc, _ = line_contrast(layout, times, u_layout, u_times, anchor, bin_s, picture=(u_layout, layout[:, 0]))
    return max(float(contrast) - codes_margin, per_unit_bits(lc, layout.shape[-1]))


def per_unit_bits(contrast: float, nb: int) -> float:
    """A contrast of ``nb``-byte codes in bits per UNIT_BITS of code: ``x UNIT_BITS / (8 nb)`` (a layout
    contrast on the search codes' scale)."""
    return float(contrast) * UNIT_BITS / (8.0 * nb)


def _best_offset(codes: np.ndarray, times: np.ndarray, u_codes: np.ndarray, u_times: np.ndarray,
                 bin_s: float) -> float | None:
    """The offset (s, rate 1) at which the query frames are closest to u on average, over placements that put
    >= MIN_OVERLAP of them inside u (None: none does)."""
    shifts, dist, inside = offset_profile(codes, times, u_codes, u_times, 0.0, bin_s)
    n = inside.sum(1)
    ok = n >= max(1.0, MIN_OVERLAP * len(times))
    if not ok.any():
        return None
    mean = np.where(inside, dist, 0.0).sum(1) / np.maximum(n, 1)
    return float(shifts[np.flatnonzero(ok)[np.argmin(mean[ok])]])


def split_contrast(codes: np.ndarray, times: np.ndarray, u_codes: np.ndarray, u_times: np.ndarray,
                   bin_s: float, speeds=SPEEDS, picture: tuple | None = None) -> tuple[float, float | None]:
    """``(contrast, offset)``: the split contrast of the module doc (bits: each half of the query's frames tested
    about the anchor its other half finds) and the offset (u's time less the query's) the two halves agree on
    (their mean, when they are within FAR_S of each other; else None). Arguments as :func:`line_contrast`,
    without an anchor."""
    times = np.asarray(times, np.float64)
    first = times < np.median(times)
    if first.sum() < 2 or (~first).sum() < 2:
        return -float("inf"), None
    out, offsets = [], []
    for pick, test in ((first, ~first), (~first, first)):
        c = _best_offset(codes[pick], times[pick], u_codes, u_times, bin_s)
        if c is None:
            return -float("inf"), None
        t_m = float(np.median(times[test]))
        part = None if picture is None else (picture[0], np.asarray(picture[1])[test])
        out.append(line_contrast(codes[test], times[test], u_codes, u_times, (t_m, t_m + c), bin_s, speeds, part)[0])
        offsets.append(c)
    if not np.all(np.isfinite(out)):
        return -float("inf"), None
    return min(out), (float(np.mean(offsets)) if abs(offsets[0] - offsets[1]) < FAR_S else None)

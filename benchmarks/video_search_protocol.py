"""Pieces of benchmarks/bench_video_search.py: query clips per edit family, features decoded once, rankings.

Every method is scored from the same decoded frames: the trunk runs once per library frame and once per
query-frame rectangle (:mod:`apps.video_search.regions`); codes of any head are then a matrix product, so
the shipped head, the five leave-one-family-out heads and the untrained float features are compared on
identical inputs.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

GROUPS = [{"vtest_pets09_480x360_arjun.avi", "vtest_pets09_480x360_gautam.avi", "vtest_pets09_480x360_gautam.mp4"},
          {"visil_video1.gif", "visil_video2.gif"}]
FLOAT_BITS = 64  # float features are compared as the expected Hamming distance of 64-bit SimHash codes


def group_of(name: str) -> set[str]:
    for g in GROUPS:
        if name in g:
            return g
    return {name}


def sampled(path: Path, fps: float, start: float = 0.0, stop: float | None = None, reader=None) -> tuple[list, np.ndarray]:
    """(RGB frames, times in s) of ``path`` sampled at about ``fps`` between ``start`` and ``stop`` seconds
    (``reader``: ``path``'s FrameReader when the caller has it open already)."""
    from apps.video_search.stream import stride_for
    from vidml.video import FrameReader

    r = reader or FrameReader(path)
    frames, times = [], []
    for idx, batch in r.batches(stride=stride_for(r.fps, fps), batch_size=64):
        for i, f in zip(idx, batch):
            t = i / r.fps
            if t >= start and (stop is None or t < stop):
                frames.append(f); times.append(t)
    return frames, np.asarray(times, np.float64)


def phash_codes(frames) -> np.ndarray:
    """(N, 8) packed 64-bit pHash (imagehash.phash) codes of RGB ``frames``, the anchor of both benchmarks."""
    import imagehash
    from PIL import Image

    from vidml.metric.distances import pack_bits
    return pack_bits(np.stack([imagehash.phash(Image.fromarray(f)).hash.reshape(-1) for f in frames]))


def write_query(path: Path, frames: list, fps: float, edit: str, rng, backgrounds) -> None:
    """Apply one edit (frame or temporal, :mod:`apps.video_search.augment`) and write an mp4 (re-encoded)."""
    from apps.video_search.augment import CLIP_EDITS, make_clip_transform, make_transform
    from vidml.video import FrameWriter

    if edit in CLIP_EDITS:
        frames, fps = make_clip_transform(edit, rng)(frames, fps)
    else:
        fn = make_transform(edit, rng, frames[0].shape, backgrounds)
        frames = [fn(f) for f in frames]
    with FrameWriter(path, fps) as w:
        for f in frames:
            w.write(f)


def make_queries(sources: list[tuple[Path, str | None]], out: Path, seed: int, per_family: int,
                 backgrounds: list, length: float = 4.0) -> list[dict]:
    """``per_family`` clips of ``length`` s per source and edit family (edit drawn in the family), <= 10 fps."""
    from apps.video_search.augment import FAMILIES
    from vidml.video import FrameReader

    rng = np.random.default_rng(seed)
    queries = []
    for path, name in sources:
        r = FrameReader(path)
        dur = len(r) / r.fps
        step = max(1, int(round(r.fps / 10.0))) if dur >= 3.0 else 1
        for fam, edits in FAMILIES.items():
            for _ in range(per_family):
                edit = str(rng.choice(edits))
                start = float(rng.uniform(0.0, max(0.0, dur - length)))
                a = r.index_at(start)
                frames = [f for _, b in r.batches(stride=step, batch_size=32, start=a,
                                                  stop=min(len(r), a + int(length * r.fps))) for f in b]
                fps = r.fps / step if dur >= 3.0 else max(1.0, len(frames) / length)  # a short source: slowed
                qpath = out / f"q{len(queries):03d}_{fam}_{edit}.mp4"
                write_query(qpath, frames, fps, edit, rng, backgrounds)
                queries.append({"path": qpath, "source": name, "start": a / r.fps, "family": fam, "edit": edit})
    return queries


@dataclass
class Library:
    """Float features of the sampled library frames and where they come from (``phash``: their pHash codes)."""

    names: list[str]
    feats: np.ndarray
    times: np.ndarray
    video_of: np.ndarray
    phash: np.ndarray | None = None
    layout: np.ndarray | None = None     # the net's layout codes of the same frames (vidml.backbones.layout)


def layout_codes(net, frames) -> np.ndarray | None:
    """The net's layout codes (N, layout_nb) of ``frames`` as video-index stores them (None: it has none)."""
    return net.codes_and_layout(frames)[1] if getattr(net, "layout", None) is not None else None


def region_views(net, frames: list, layout: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """The query side of ``frames``, each rectangle of :func:`query_regions` cropped and prepared once (as
    ``net.prepare`` does: borders trimmed when the net trims, resized): its features (Q, R, D), and with
    ``layout`` its (Q, 2 R, layout_nb) layout codes as shown and mirrored, rectangle-major (the whole
    frame's first, [:, :2]), as video-search's ``hash_query`` gives them (None: not asked, or the net has
    no layout codes)."""
    rects = query_regions(frames)
    parts = net.prepare(crops_of(frames, rects))
    feats = net.embed(parts).reshape(len(frames), len(rects), -1)
    if not layout or getattr(net, "layout", None) is None:
        return feats, None
    return feats, net.codes_and_layout_views(parts)[1].reshape(len(frames), 2 * len(rects), -1)


def query_regions(frames: list) -> tuple:
    """The rectangles video-search's region pass hashes for a query of ``frames``: :data:`REGIONS` and, when
    the frames have one, the inset where they change (:mod:`apps.video_search.inset`)."""
    from apps.video_search.inset import inset_of_frames
    from apps.video_search.regions import REGIONS

    return REGIONS + inset_of_frames(frames)


def crops_of(frames: list, rects: tuple) -> list:
    """Every frame's sub-images of ``rects``, frame-major."""
    from apps.video_search.regions import crops

    return [c for f in frames for c in crops(f, rects)]


def library_features(net, paths: list[Path], fps: float, phash: bool = False) -> Library:
    """The :class:`Library` of ``paths`` sampled at ``fps``; ``phash``: also the pHash codes of the same
    decoded frames (each video decoded once)."""
    feats, times, vids, codes, lay = [], [], [], [], []
    for i, p in enumerate(paths):
        frames, t = sampled(p, fps)
        feats.append(net.embed(np.stack(frames))); times.append(t); vids.append(np.full(len(t), i, np.int32))
        lay.append(layout_codes(net, frames))
        if phash:
            codes.append(phash_codes(frames))
    return Library([p.name for p in paths], np.concatenate(feats), np.concatenate(times), np.concatenate(vids),
                   np.concatenate(codes) if phash else None, None if lay[0] is None else np.concatenate(lay))


def query_features(net, path: Path, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(features (Q, R, D) of every region of :data:`REGIONS`, times (Q,)) of a query clip."""
    frames, t = sampled(path, fps)
    return region_views(net, frames, layout=False)[0], t


def code_index(lib: Library, codes: np.ndarray, tmp: Path, fps: float, radius: int | None = None,
               radius_asym: float | None = None, layout: bool = True):
    """An in-memory :class:`vidml.index.Index` of ``codes`` (one per library frame), match radius ``radius``
    (``radius_asym``: that of the asymmetric distance, for float query projections); ``layout``: with the
    library's layout codes when it has them (as video-index stores them beside the net's codes)."""
    from vidml.index import Index

    index = Index(tmp / f"mem{np.random.default_rng().integers(1 << 30)}.vidx")
    index.manifest["fps"] = fps
    index.manifest["hasher"] = {"radius": radius, "radius_asym": radius_asym}
    for i, name in enumerate(lib.names):
        m = lib.video_of == i
        lay = lib.layout[m] if layout and lib.layout is not None else None
        index.add({"path": str(tmp / name)}, codes[m], lib.times[m].astype(np.float32), layout=lay)
    return index


def rank_codes(index, names: list[str], codes: np.ndarray, times: np.ndarray,
               cascade: tuple[float, float] | None = None, tail: bool = True,
               contrast: tuple[float, float] | None = None, layout: np.ndarray | None = None,
               expand: tuple | None = None, partner_rate: float | None = None, share: tuple | None = None
               ) -> list[tuple[str, float, float, float]]:
    """[(video name, score, e-value, contrast)] best first, every library video listed (codes (Q, R, nb), or
    float projections (Q, R, bits): the asymmetric distance).
    ``cascade`` = (threshold, max e-value): the region cascade of video-search (whole frames first, the
    other rectangles only when nothing is reported), else every rectangle at once. ``tail``: the videos
    without a vote ordered by their tail score (:mod:`apps.video_search.ranking`, score 0, e-value inf).
    ``contrast`` = (threshold, max e-value): the temporal contrast of the first matches passing those, as
    video-search computes it (:func:`apps.video_search.reporting.contrasts`, on the query's ``layout`` codes
    (Q, 2 R, layout_nb) of :func:`region_views` when given and the index has them: the larger of the
    contrast with the whole frame's, its split contrast and the contrast with every rectangle's, as
    video-search has it at any gate; under the cascade the thresholds are ``cascade``'s, as in video-search);
    NaN for the others / when None. ``expand`` = video-search's whole rule
    (threshold, max e-value, min contrast): the best reported video's library copies found by its own
    frames (:mod:`apps.video_search.expansion`, at ``partner_rate``: default its PARTNER_RATE), as
    video-search has them. ``share`` = a whole rule: under it, a reported video's other encodes share its
    contrast (:mod:`apps.video_search.encodes`), as video-search does at its rule (the contrasts are
    otherwise computed rule-free, so that any gate can be read off them; expansion shares at its own)."""
    from apps.video_search.clip_search import match_codes, query_null, rank_matches, region_frames
    from apps.video_search.encodes import shared_contrasts
    from apps.video_search.expansion import with_partners
    from apps.video_search.ranking import rank_tail
    from apps.video_search.reporting import contrasts

    if cascade is not None and codes.shape[1] > 1:      # video-search's own pipeline (clip_search.rank_matches)
        whole, inner = (None, None) if layout is None else (layout[:, :2], lambda: layout[:, 2:])
        min_contrast = float("inf") if expand is None else expand[2]     # read by the expansion alone
        # every e-value, and the contrasts with every layout tried (min contrast +inf): any rule can be read off
        matches, ev, con, codes, times = rank_matches(index, codes[:, :1], times, lambda: codes[:, 1:], whole, inner,
                                                      (*cascade, min_contrast), every_evalue=True,
                                                      contrast_min=float("inf"), expand=expand is not None,
                                                      partner_rate=partner_rate)
        if not contrast:
            con = [float("nan")] * len(matches)
        elif share is not None and expand is None:
            matches, con = shared_contrasts(index, matches, ev, con, share)
    else:             # every rectangle always: on the region pass's frames, as video-search's cascade has them
        bin_s = 1.0 / float(index.manifest.get("fps") or 2.0)
        frames = region_frames(times, bin_s) if codes.shape[1] > 1 else np.arange(len(times))
        codes, times = codes[frames], times[frames]
        matches = match_codes(index, codes, times)
        null = query_null(index, codes, times) if matches else None
        ev = [null.evalue(m.video, m.support) for m in matches]
        lay = None if layout is None else layout[frames]
        whole, inner = (None, None) if lay is None else (lay[:, :2], lambda: lay[:, 2:])
        con = contrasts(index, codes, times, matches, ev, *contrast, layout=whole, more_layout=inner) if contrast \
            else [float("nan")] * len(matches)
        if share is not None and contrast:
            matches, con = shared_contrasts(index, matches, ev, con, share)
        if expand is not None:
            matches, ev, con = with_partners(index, matches, ev, con, expand, rate=partner_rate)
    out = [(Path(index.videos[m.video]["path"]).name, m.score, e, c) for m, e, c in zip(matches, ev, con)]
    if tail:
        out += [(Path(index.videos[m.video]["path"]).name, 0.0, float("inf"), float("nan"))
                for m in rank_tail(index, matches, codes, times)]
    seen = {n for n, *_ in out}
    return out + [(n, 0.0, float("inf"), float("nan")) for n in names if n not in seen]


def float_tail_radius(lib: Library, rate: float) -> float:
    """The float features' tail radius (apps.video_search.ranking): the ``rate`` quantile of the distance
    ``64 * angle / pi`` between frames of different library videos (at least the match radius 16)."""
    rng = np.random.default_rng(0)
    rows = np.sort(rng.choice(len(lib.feats), size=min(3000, len(lib.feats)), replace=False))
    f, v = lib.feats[rows], lib.video_of[rows]
    d = FLOAT_BITS * np.arccos(np.clip(f @ f.T, -1.0, 1.0)) / np.pi
    return float(max(FLOAT_BITS // 4, np.quantile(d[v[:, None] != v[None, :]], rate)))


def rank_floats(lib: Library, feats: np.ndarray, times: np.ndarray, fps: float, k: int = 64,
                tail: float | None = None):
    """The same alignment on the float features (Q, R, D) of R rectangles per frame (R = 1: whole frames):
    distance = 64 * angle / pi, radius 16, a frame's neighbours over its rectangles as for the codes.
    ``tail``: the videos without a vote ordered by their score at that radius (as the codes' tail)."""
    from apps.video_search.alignment import align

    q, r, d = feats.shape
    cos = np.clip(feats.reshape(-1, d) @ lib.feats.T, -1.0, 1.0)
    rows = np.argsort(-cos, axis=1)[:, :k]
    dist = FLOAT_BITS * np.arccos(np.take_along_axis(cos, rows, 1)) / np.pi
    run = lambda radius: align(times, dist.reshape(q, -1), rows.reshape(q, -1), lib.video_of,  # noqa: E731
                               lib.times.astype(np.float32), radius, 1.0 / fps)
    out = [(lib.names[m.video], m.score, 0.0) for m in run(FLOAT_BITS // 4)]
    if tail:
        voted = {n for n, *_ in out}
        out += [(lib.names[m.video], 0.0, float("inf")) for m in run(tail) if lib.names[m.video] not in voted]
    seen = {n for n, *_ in out}
    return out + [(n, 0.0, float("inf")) for n in lib.names if n not in seen]


def average_precision(ranked: list[str], relevant: set[str]) -> float:
    hits, total = 0, 0.0
    for i, v in enumerate(ranked, 1):
        if v in relevant:
            hits += 1
            total += hits / i
    return total / len(relevant) if relevant else 0.0


def is_reported(entry: tuple, threshold: float, max_e: float, min_contrast: float = -float("inf")) -> bool:
    """Does a ranked (video, score, e-value[, contrast]) pass video-search's rule
    (:func:`apps.video_search.reporting.passes`)? No contrast (float features): +inf, score and e-value alone;
    ``min_contrast`` -inf (default): no contrast gate."""
    from apps.video_search.reporting import passes

    return passes(entry[1], entry[2], entry[3] if len(entry) > 3 else float("inf"), threshold, max_e, min_contrast)


def score(ranked: list, q: dict, threshold: float, max_e: float, min_contrast: float) -> dict:
    """One query's AP (whole ranking), default-output AP ("dap": AP of the reported entries only, an
    unreported relevant video counts as not retrieved; "sap": the same with the query's source video alone
    relevant), P@1, reported-and-right and the reported videos (a distractor: whether anything is reported)."""
    shown = [n for n, *rest in ranked if is_reported((n, *rest), threshold, max_e, min_contrast)]
    if q["source"] is None:
        return {"fp": bool(shown)}
    rel = q.get("group") or group_of(q["source"])
    return {"ap": average_precision([n for n, *_ in ranked], rel), "dap": average_precision(shown, rel),
            "sap": average_precision(shown, {q["source"]}),
            "p1": ranked[0][0] in rel, "found": bool(shown) and shown[0] in rel, "shown": shown}


def query_side(head, flat: np.ndarray, q: int, asymmetric: bool = False) -> np.ndarray:
    """What video-search matches for query features ``flat`` (q * R, D): the head's projections (Q, R, bits)
    when it has an asymmetric radius (and ``asymmetric``), else its packed codes (Q, R, nb)."""
    if asymmetric and getattr(head, "radius_asym", None):
        return head.projections_of_features(flat).reshape(q, -1, head.bits)
    return head.codes_of_features(flat).reshape(q, -1, head.bits // 8)

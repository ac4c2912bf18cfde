"""One self-contained HTML page to look at matches instead of reading numbers.

Each match is two videos (or a query clip and a library video) and two time spans that show the same
content. The page shows, per match, ``THUMBS`` moments spread over the matched span: the frame of the one
side at ``t`` (one of its frames: ``t`` on its frame grid) beside the frame of the other side at
``b_start + r (t - a_start)`` (``r``: the other span's length over this one's, 1 but for a copy played faster or
slower, a GIF preview sped up), with both times, the score and the e-value. Thumbnails are JPEGs (``WIDTH`` px wide,
quality ``QUALITY``) embedded as base64 ``data:`` URIs, so the file needs nothing beside it and opens in
any browser, offline. Each video is decoded once, forward, for all the frames the page needs from it.

* :func:`dedupe_report` -- ``vidml video-dedupe --report``: the clusters of copies, each with its pairs;
* :func:`search_report` -- ``vidml video-search --report``: the query's ranked matches;
* :func:`screenshot` -- a PNG of a page in headless Chromium (Debian's ``chromium``), for tests and benchmarks.

At most ``MAX_MATCHES`` matches are drawn (the page says how many were left out).
"""
from __future__ import annotations

import base64
import html
from pathlib import Path

import cv2
import numpy as np

from vidml.errors import VideoError
from vidml.outputs import atomic_write_bytes, check_output_path
from vidml.video import FrameReader

from apps.video_search.alignment import fmt_time

THUMBS = 3
WIDTH = 160
QUALITY = 75
MAX_MATCHES = 200

STYLE = """body{font-family:sans-serif;margin:16px;background:#fafafa;color:#222}
h1{font-size:20px} h2{font-size:16px;margin-top:24px;border-bottom:1px solid #ccc}
.pair{background:#fff;border:1px solid #ddd;border-radius:6px;padding:8px;margin:10px 0}
.meta{font-size:13px;margin-bottom:6px} .meta b{font-family:monospace}
.row{display:flex;gap:18px;flex-wrap:wrap} .mo{display:flex;gap:2px;flex-direction:column;align-items:center}
.duo{display:flex;gap:2px} .duo img{width:%dpx;border:1px solid #999} .t{font-size:11px;color:#555}
.miss{width:%dpx;height:60px;background:#eee;font-size:11px;display:flex;align-items:center;justify-content:center}
""" % (WIDTH, WIDTH)


def moments(a_start: float, a_end: float, b_start: float, b_end: float | None = None, a_fps: float = 0.0,
            n: int = THUMBS) -> list[tuple[float, float]]:
    """``n`` (time in a, time in b) pairs spread over the matched span (10 % .. 90 %).

    With ``a_fps`` > 0 each time in a is moved to a's frame nearest it (``round(t a_fps) / a_fps``) before it
    is mapped, so the two thumbnails show the same moment even at a cut: else a's nearest frame can lie up to
    half a frame after t and b's before its mapped time, on either side of the cut. b's time is
    ``b_start + r (t - a_start)``, ``r = (b_end - b_start) / (a_end - a_start)`` (1 without ``b_end``)."""
    span = max(0.0, a_end - a_start)
    rate = (b_end - b_start) / span if b_end is not None and span > 0 else 1.0
    ts = [a_start + span * f for f in np.linspace(0.1, 0.9, n)] if n > 1 else [a_start + span / 2]
    if a_fps > 0:
        ts = [round(t * a_fps) / a_fps for t in ts]
    return [(t, b_start + rate * (t - a_start)) for t in ts]


def _moments_of(m: dict, fps: dict[str, float]) -> list[tuple[float, float]]:
    return moments(m["a_start"], m["a_end"], m["b_start"], m["b_end"], fps.get(m["a"], 0.0))


def _frame_rates(matches: list[dict]) -> dict[str, float]:
    """Each a-side video's frame rate (0 when it cannot be read: its thumbnails are then missing anyway)."""
    fps = {}
    for video in {m["a"] for m in matches}:
        try:
            fps[video] = float(FrameReader(video).fps)
        except (VideoError, OSError):
            fps[video] = 0.0
    return fps


def thumbnails(requests: dict[str, set[float]]) -> dict[tuple[str, float], str | None]:
    """``(video, time) -> data URI`` of a JPEG thumbnail (None when the video cannot be read)."""
    out: dict[tuple[str, float], str | None] = {}
    for video, times in requests.items():
        times = sorted(times)
        try:
            reader = FrameReader(video)
            idx = [min(len(reader) - 1, reader.index_at(max(0.0, t))) for t in times]
            frames = reader.get_batch(idx)
        except (VideoError, OSError):
            out.update({(video, t): None for t in times})
            continue
        for t, frame in zip(times, frames):
            h = int(round(frame.shape[0] * WIDTH / frame.shape[1]))
            small = cv2.resize(frame, (WIDTH, max(1, h)), interpolation=cv2.INTER_AREA)
            ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, QUALITY])
            out[(video, t)] = "data:image/jpeg;base64," + base64.b64encode(buf.tobytes()).decode() if ok else None
    return out


def _evalue(e: float) -> str:
    return "&lt; 1e-300" if e == 0 else f"{e:.2g}"   # 0: below float range, not exactly zero


def _img(uri: str | None, alt: str) -> str:
    if uri is None:
        return f'<div class="miss">{html.escape(alt)}: not readable</div>'
    return f'<img src="{uri}" alt="{html.escape(alt)}">'


def _contrast(c) -> str:
    """`` contrast N`` for a dedupe pair or a search match (bits its placement beats any other moment by;
    "n/a": cannot tell, a span too short to shift or a still shot)."""
    if c is None:
        return ""
    if np.isfinite(c):
        return f' &nbsp; contrast <b>{c:.1f}</b>'
    return ' &nbsp; contrast <b>n/a</b> (cannot tell: too short to shift, or a still shot)'


def _match_html(m: dict, thumbs: dict, fps: dict[str, float]) -> str:
    """One match: ``m`` has a, b (paths), a_start, a_end, b_start, b_end, score, evalue, label_a, label_b."""
    meta = (f'<div class="meta"><b>{html.escape(Path(m["a"]).name)}</b> {fmt_time(m["a_start"])}-{fmt_time(m["a_end"])} '
            f'&harr; <b>{html.escape(Path(m["b"]).name)}</b> {fmt_time(m["b_start"])}-{fmt_time(m["b_end"])} &nbsp; '
            f'score <b>{m["score"]:.3f}</b> &nbsp; e-value <b>{_evalue(m["evalue"])}</b>{_contrast(m.get("contrast"))}'
            + (f' &nbsp; via <b>{html.escape(Path(m["via"]).name)}</b>' if m.get("via") else "") +
            f'<br><span class="t">{html.escape(m["a"])} &harr; {html.escape(m["b"])}</span></div>')
    cells = []
    for ta, tb in _moments_of(m, fps):
        cells.append(f'<div class="mo"><div class="duo">{_img(thumbs.get((m["a"], ta)), m["label_a"])}'
                     f'{_img(thumbs.get((m["b"], tb)), m["label_b"])}</div>'
                     f'<div class="t">{m["label_a"]} {fmt_time(ta)} | {m["label_b"]} {fmt_time(tb)}</div></div>')
    return f'<div class="pair">{meta}<div class="row">{"".join(cells)}</div></div>'


def _thumbs_for(matches: list[dict], fps: dict[str, float]) -> dict:
    requests: dict[str, set[float]] = {}
    for m in matches:
        for ta, tb in _moments_of(m, fps):
            requests.setdefault(m["a"], set()).add(ta)
            requests.setdefault(m["b"], set()).add(tb)
    return thumbnails(requests)


def _page(title: str, summary: str, body: str) -> bytes:
    return (f'<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
            f'<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1><p>{summary}</p>{body}'
            '</body></html>\n').encode()


def dedupe_report(path: str | Path, result) -> Path:
    """Write the page of a :class:`apps.video_search.dedupe.DedupeResult`: clusters, then their pairs."""
    check_output_path(path, "report")
    shown = [dict(vars(p), label_a="A", label_b="B") for p in result.pairs[:MAX_MATCHES]]
    fps = _frame_rates(shown)
    thumbs = _thumbs_for(shown, fps)
    body = []
    for c, members in enumerate(result.clusters):
        body.append(f"<h2>Cluster {c + 1}: {len(members)} videos</h2><p class='t'>"
                    + "<br>".join(html.escape(v) for v in members) + "</p>")
        body.extend(_match_html(m, thumbs, fps) for m in shown if m["cluster"] == c)
    left = len(result.pairs) - len(shown)
    summary = (f"{result.videos} videos, {len(result.pairs)} pairs sharing a segment, {len(result.clusters)} "
               f"clusters. Each pair: matched frames of A and B side by side at three moments of the shared span."
               + (f" {left} weaker pairs not drawn." if left > 0 else ""))
    if not result.pairs:
        body.append("<p>No two videos share a segment.</p>")
    return atomic_write_bytes(path, _page("vidml video-dedupe", summary, "".join(body)), what="report")


def search_report(path: str | Path, query: str, hits: list[dict]) -> Path:
    """Write the page of ``vidml video-search`` matches (dicts of :func:`apps.video_search.clip_search.search_clip`)."""
    check_output_path(path, "report")
    shown = [{"a": str(query), "b": h["video"], "a_start": h["query_start"], "a_end": h["query_end"],
              "b_start": h["video_start"], "b_end": h["video_end"], "score": h["score"],
              "evalue": h.get("evalue", float("nan")), "label_a": "query", "label_b": f"#{i}",
              "contrast": float(h["contrast"]) if h.get("contrast") is not None else None}
             for i, h in enumerate(hits[:MAX_MATCHES], 1)]
    fps = _frame_rates(shown)
    thumbs = _thumbs_for(shown, fps)
    body = "".join(_match_html(m, thumbs, fps) for m in shown) or "<p>No match.</p>"
    summary = f"query {html.escape(str(query))}: {len(hits)} match(es), best first."
    return atomic_write_bytes(path, _page("vidml video-search", summary, body), what="report")


CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")   # as root, on a closed network


def chromium() -> str | None:
    """The path of an installed ``chromium`` (or ``chromium-browser``), else None."""
    import shutil

    return shutil.which("chromium") or shutil.which("chromium-browser")


def screenshot(page: str | Path, png: str | Path, size: tuple[int, int] = (1280, 900)) -> Path | None:
    """A ``size`` (width, height) PNG of the HTML file ``page`` rendered by headless Chromium; None when no
    :func:`chromium` is installed or it wrote nothing."""
    import subprocess

    exe = chromium()
    if exe is None:
        return None
    png = Path(png)
    subprocess.run([exe, *CHROMIUM_FLAGS, f"--screenshot={png}", f"--window-size={size[0]},{size[1]}",
                    Path(page).resolve().as_uri()], capture_output=True, timeout=120)
    return png if png.exists() else None

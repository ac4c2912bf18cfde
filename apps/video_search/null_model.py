"""When is a clip match real? A null model of chance agreement, calibrated per query on the library's codes.

A placement (video v, offset bin b) gets a vote from query frame i when one of i's neighbours within
``radius`` bits lies in v at offset b +- 1 bin, i.e. among the ~``WINDOW = 3`` library frames of v there.
The question is how often that happens by chance, for *this* query: a blurred, dark or flat query frame
sits close to many unrelated frames, a detailed one to none. So the chance rate is measured per query
frame against library frames that are *unrelated to v*:

1. A fixed random sample of ``SAMPLE`` library rows (seed 0). Videos that are copies of each other (a
   library may hold several encodes of one video) are found on that sample: for a pair, the median over
   the frames of one video of the distance to its nearest frame in the other is <= ``radius``.
2. For query frame i and candidate video v, over the sampled rows of the videos that are neither v nor
   a copy of v (``n`` rows, ``c_i`` of them within ``radius``)::

       p_i = min(1, WINDOW * (c_i + 1) / (n + 1))        (add-one smoothing: never 0)

   With fewer than ``MIN_UNRELATED`` such rows (a library of one video, or of copies of it) there is
   nothing to calibrate on and the rate of independent fair bits is used, ``F(radius)`` of
   Binomial(bits, 1/2).
   Query frames are grouped at the library's sampling rate (``bin_s``; the query is sampled twice as
   densely and neighbouring samples are not independent); a group's rate is the largest of its frames'.
3. Under the null the support S of a placement (groups that vote for it) is a sum of independent
   Bernoulli(p_g): Poisson-binomial, whose tail is computed exactly by dynamic programming. About
   ``n_bins`` = (number of library codes) placements are tried, so the expected number of chance
   placements with support >= m is

       E(m) = n_bins * P(S >= m)                                      (an e-value, as in BLAST)

   and a match is reported only when ``E(support) <= max_evalue`` (default 0.01).

Poorly spread codes, a degraded query or a huge library thus demand more agreeing frames; a short query
may be unable to reach significance, which is the honest answer. :func:`library_cdf` gives the plain
library null ``F0(r) = P(d <= r)`` between unrelated frames (for reports).
"""
from __future__ import annotations

import numpy as np
from scipy.stats import binom

from apps.video_search.alignment import time_bins
from vidml.index.asymmetric import weighted_hamming
from vidml.metric.distances import hamming

DEFAULT_EVALUE = 0.01
WINDOW = 3
SAMPLE = 3000
MIN_UNRELATED = 200


def sample_rows(n: int, size: int = SAMPLE, seed: int = 0) -> np.ndarray:
    """The fixed, sorted random sample of library rows the null model uses."""
    return np.sort(np.random.default_rng(seed).choice(n, size=min(size, n), replace=False))


def copy_matrix(codes: np.ndarray, video_of: np.ndarray, radius: int,
                dist: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(videos, copies)``: the videos present in the (sorted-by-video) rows and a (V, V) bool matrix, True
    where one video is largely a copy of the other (median nearest-frame distance <= ``radius``), and on
    the diagonal. ``dist``: ``hamming(codes, codes)`` if the caller has it already."""
    videos, ranks = np.unique(video_of, return_inverse=True)
    d = hamming(codes, codes) if dist is None else dist
    starts = np.flatnonzero(np.r_[True, ranks[1:] != ranks[:-1]])
    nearest = np.minimum.reduceat(d, starts, axis=1)                     # row -> nearest frame of each video
    med = np.stack([np.median(nearest[s:e], 0) for s, e in zip(starts, np.r_[starts[1:], len(ranks)])])
    copies = np.minimum(med, med.T) <= radius
    np.fill_diagonal(copies, True)
    return videos, copies


def library_cdf(codes: np.ndarray, video_of: np.ndarray, bits: int, radius: int) -> tuple[np.ndarray, int]:
    """``(F0, n)``: ``F0[r] = P(d <= r)`` between sampled rows of unrelated videos (n pairs; smoothed)."""
    rows = sample_rows(len(codes))
    sc, sv = codes[rows], np.asarray(video_of)[rows]
    d = hamming(sc, sc)
    videos, copies = copy_matrix(sc, sv, radius, d)
    rank = np.searchsorted(videos, sv)
    iu, ju = np.triu_indices(len(rows), 1)
    keep = ~copies[rank[iu], rank[ju]]
    null = d[iu[keep], ju[keep]]
    counts = np.bincount(null.astype(np.int64), minlength=bits + 1)[:bits + 1]
    return (np.cumsum(counts) + 1.0) / (len(null) + 1.0), int(len(null))


def poisson_binomial_sf(m: int, p: np.ndarray) -> float:
    """``P(S >= m)`` for S a sum of independent Bernoulli(p_g) (exact, O(len(p)^2) dynamic programming)."""
    if m <= 0:
        return 1.0
    dist = np.zeros(len(p) + 1)
    dist[0] = 1.0
    for k, pk in enumerate(np.clip(p, 0.0, 1.0), 1):
        dist[1:k + 1] = dist[1:k + 1] * (1 - pk) + dist[:k] * pk
        dist[0] *= 1 - pk
    return float(min(1.0, dist[m:].sum()))


class QueryNull:
    """Per-query chance rates against a fixed library sample; :meth:`evalue` of a placement's support.

    ``query_codes``: (Q, bits/8), or (Q, R, bits/8) with R region codes per frame
    (:mod:`apps.video_search.regions`), or float projections (Q, R, bits) whose distance to the sample is
    the asymmetric one of :mod:`vidml.index.asymmetric` (``radius`` then on that scale); ``sample_codes``/``sample_video`` (rows of :func:`sample_rows`),
    ``videos``/``copies`` of :func:`copy_matrix`, ``n_bins`` placements tried (library codes), ``bin_s`` the
    library sampling step.
    """

    def __init__(self, query_codes: np.ndarray, query_times: np.ndarray, sample_codes: np.ndarray,
                 sample_video: np.ndarray, videos: np.ndarray, copies: np.ndarray, radius: int, n_bins: int,
                 bin_s: float) -> None:
        codes = np.asarray(query_codes)
        codes = codes.reshape(len(codes), -1, codes.shape[-1]) if codes.ndim == 3 else np.atleast_2d(codes)[:, None]
        q, r, nb = codes.shape        # r region codes per query frame: a frame is close when any region is
        asym = np.issubdtype(codes.dtype, np.floating)          # projections: the asymmetric distance
        d = weighted_hamming(codes.reshape(q * r, nb), sample_codes) if asym else hamming(codes.reshape(q * r, nb),
                                                                                          sample_codes)
        self.close = (d <= radius).reshape(q, r, -1).any(1)
        bits = nb if asym else nb * 8
        self.fair = 1.0 - (1.0 - float(binom.cdf(radius, bits, 0.5))) ** r          # random-code fallback
        self.rank = np.searchsorted(videos, sample_video)                            # sample row -> video rank
        self.videos, self.copies, self.n_bins = videos, copies, max(int(n_bins), 1)
        self.group = np.unique(time_bins(query_times, bin_s), return_inverse=True)[1]

    def rates(self, video: int, also: tuple = ()) -> np.ndarray:
        """Chance vote rate of each library-rate group of query frames for a placement in ``video``
        (``also``: more videos whose rows are not unrelated, e.g. the source of an expanded query)."""
        r = int(np.searchsorted(self.videos, video))
        related = self.copies[r] if r < len(self.videos) and self.videos[r] == video else np.zeros(len(self.videos), bool)
        related = related | np.isin(self.videos, list(also)) if also else related
        unrelated = ~related[self.rank] if len(self.rank) else np.zeros(0, bool)
        n = int(unrelated.sum())
        if n >= MIN_UNRELATED:
            p_frame = np.minimum(1.0, WINDOW * (self.close[:, unrelated].sum(1) + 1.0) / (n + 1.0))
        else:
            p_frame = np.full(len(self.close), min(1.0, WINDOW * self.fair))
        out = np.zeros(int(self.group.max()) + 1 if len(self.group) else 0)
        np.maximum.at(out, self.group, p_frame)
        return out

    def evalue(self, video: int, support: int, related: tuple = ()) -> float:
        """Expected number of chance placements in the library with at least ``support`` agreeing groups
        (``related``: :meth:`rates`' ``also``)."""
        return float(self.n_bins * poisson_binomial_sf(support, self.rates(video, related)))


def binomial_evalue(support: int, q: int, p: float, n_bins: int) -> float:
    """The i.i.d. special case of :meth:`QueryNull.evalue` (all rates ``p``), for reference and tests."""
    return float(n_bins * binom.sf(support - 1, q, p)) if support > 0 else float(n_bins)

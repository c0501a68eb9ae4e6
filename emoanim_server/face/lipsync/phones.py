"""The typed timeline passed from recognition to animation: phones with times in seconds."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Iterable

import numpy as np

#: ARPAbet phones (CMUdict set, lowercase, no stress) plus ``sil`` for pauses.
PHONES = (
    "aa ae ah ao aw ay b ch d dh eh er ey f g hh ih iy jh k l m n ng ow oy p r s sh t th uh uw "
    "v w y z zh sil"
).split()


@dataclass(frozen=True)
class Phone:
    start: float
    end: float
    phone: str
    word: str = ""

    @property
    def mid(self) -> float:
        return 0.5 * (self.start + self.end)


PhoneTimeline = list  # list[Phone], sorted by start, non-overlapping


def normalise(label: str) -> str:
    """Map recogniser/aligner labels (``AH0``, ``SIL``, ``+NSN+``, ``sp``) to our phone set."""
    p = label.strip().lower().rstrip("012")
    if p in PHONES:
        return p
    return "sil"


def interval_weight(intervals: Iterable[tuple[float, float]], times: np.ndarray,
                    ramp_s: float) -> np.ndarray:
    """(N,) 1 inside any (start, end) interval, raised-cosine ramps of ``ramp_s`` outside.

    The one window shape used wherever a phone class must hold (lip contacts, the mixer's
    protection of them, speaking vs pause), so they line up frame for frame.
    """
    t = np.asarray(times, np.float64)
    w = np.zeros(len(t))
    if not len(t):
        return w
    # an interval whose ramps end before the first time or start after the last touches no
    # time (its searchsorted slice below is empty): skipped without its ~10 array calls (the
    # mixer of a LIVE session asks for 1-2 frames with every interval of the last second)
    if len(t) <= _FEW_TIMES and t.ndim == 1:
        return _interval_weight_few(list(intervals), t, ramp_s)
    return _interval_weight_arrays(intervals, t, ramp_s)


#: windows of at most this many times take :func:`_interval_weight_few` (the mixer of a LIVE
#: session asks for 1-2 frames a tick, where the array path's per-interval calls were its cost)
_FEW_TIMES = 8


def _interval_weight_few(intervals: list[tuple[float, float]], t: np.ndarray,
                         ramp_s: float) -> np.ndarray:
    """:func:`interval_weight` of a few sorted, finite times, in Python floats where that gives
    the array path's bits: the searchsorted slice [lo, hi) of an interval is the times u with
    s - ramp_s <= u < e + ramp_s; d = max(max(s - u, u - e), 0) / ramp_s is the same IEEE
    operations; d == 0 (inside the interval) is weight 1 exactly (0.5 + 0.5 cos 0); a ramp
    value (d > 0) goes through the array path's own numpy expression, and the running maximum
    is exact in any order (the weights are finite and >= +0.0). Unsorted or non-finite times,
    a non-finite interval or ramp, a ramp not > 0: the array path."""
    w = interval_weight_list(intervals, t.tolist(), ramp_s)
    return _interval_weight_arrays(intervals, t, ramp_s) if w is None else np.array(w, np.float64)


def interval_weight_list(intervals: list[tuple[float, float]], tl: list[float], ramp_s: float) -> list[float] | None:
    """:func:`_interval_weight_few`'s values as a list (``tl``: the times as Python floats), or
    None where it takes the array path (unsorted or non-finite times, a non-finite interval or
    ramp, a ramp that is not > 0). The mixer of many LIVE windows gathers these lists into one
    array."""
    if not intervals:  # (the array path's zeros, whatever the times)
        return [0.0] * len(tl)
    n = len(tl)
    if not n:
        return []
    if not (math.isfinite(sum(tl)) and 0.0 < ramp_s < math.inf):
        return None
    if n > 1 and not (tl[0] <= tl[1] if n == 2 else all(a <= b for a, b in zip(tl, tl[1:]))):
        return None
    t_first, t_last = tl[0], tl[-1]
    w = [0.0] * n
    ramp_i: list[int] = []
    ramp_d: list[float] = []
    for s, e in intervals:
        if not math.isfinite(s + e):
            return None
        if e + ramp_s <= t_first or s - ramp_s > t_last:
            continue
        a, b = s - ramp_s, e + ramp_s
        for i, u in enumerate(tl):
            if a <= u < b:
                d = max(max(s - u, u - e), 0.0) / ramp_s
                if d == 0.0:
                    w[i] = 1.0
                else:
                    ramp_i.append(i)
                    ramp_d.append(d)
    if ramp_d:
        v = 0.5 + 0.5 * np.cos(np.pi * np.clip(np.array(ramp_d, np.float64), 0.0, 1.0))
        for i, x in zip(ramp_i, v.tolist()):
            if x > w[i]:
                w[i] = x
    return w


def _interval_weight_arrays(intervals: Iterable[tuple[float, float]], t: np.ndarray,
                            ramp_s: float) -> np.ndarray:
    """:func:`interval_weight`'s array path (any times)."""
    w = np.zeros(len(t))
    t_first, t_last = float(t[0]), float(t[-1])
    for s, e in intervals:
        if e + ramp_s <= t_first or s - ramp_s > t_last:
            continue
        lo = np.searchsorted(t, s - ramp_s)
        hi = np.searchsorted(t, e + ramp_s)
        u = t[lo:hi]
        d = np.maximum(np.maximum(s - u, u - e), 0.0) / ramp_s
        w[lo:hi] = np.maximum(w[lo:hi], 0.5 + 0.5 * np.cos(np.pi * np.clip(d, 0.0, 1.0)))
    return w

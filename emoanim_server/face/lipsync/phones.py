"""The typed timeline passed from recognition to animation: phones with times in seconds."""
from __future__ import annotations

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

"""Bake-time glue for the eye and head stages (what pipeline.bake calls).

Why one call for two stages: the head follows large gaze shifts, and the eyes counter-rotate
against the head (they keep looking at the listener while the head sways), so the order is
plan eyes -> head (reads the gaze plan) -> render eyes (reads the head). Each stage stays a
separate, streamable model (face/eyes.py, face/head.py); this only wires them for a whole file.
"""
from __future__ import annotations

import bisect
import math
import operator
from typing import Any, Mapping

import numpy as np

from ..track import AnimationTrack
from .drivers import TICK_S, Drivers, drivers_for_track, tick_times
from .eyes import EyesConfig, EyesPlan, _gaze_rows, apply_eyes, line_seed, plan_eyes
from .head import HeadConfig, apply_head


def eyes_and_head(track: AnimationTrack, samples: np.ndarray | None, extra: Mapping[str, Any] | Any | None,
                  seed: int, drivers: Drivers | None = None) -> EyesPlan:
    """Blink, gaze and head motion into ``track`` (curves, eyes, head, events, metadata).
    ``extra``: the typed options (anything with ``.eyes`` / ``.head`` configs) or a legacy
    ``{"eyes": {...}, "head": {...}}`` mapping."""
    if hasattr(extra, "eyes") and hasattr(extra, "head"):
        eyes_cfg, head_cfg = extra.eyes, extra.head
    else:
        eyes_cfg = EyesConfig.from_extra(extra)
        head_cfg = HeadConfig.from_extra(extra)
    drivers = drivers or drivers_for_track(track, samples)
    # the line's own stream: same line + seed = same blinks, different lines differ
    if samples is not None:
        seed = line_seed(seed, samples)
    plan = plan_eyes(drivers, eyes_cfg, seed)
    gaze = plan.gaze(tick_times(drivers.n_ticks)) if eyes_cfg.gaze else None
    apply_head(track, drivers, head_cfg, seed, gaze, eyes_cfg.gaze_target)
    apply_eyes(track, plan)
    track.metadata["eyes"]["drivers"] = dict(drivers.sources)
    return plan


class EyesHeadStream:
    """The same two stages fed tick by tick in LIVE, causally: nothing here looks ahead.

    Drivers come from :class:`~emoanim_server.face.drivers.StreamingSpeech` (audio energy, not
    phones) and the session's emotion; the eyes model runs with ``lookahead_s=0`` (pauses are
    classified as they last) and the head model causally (no emphasis nods: those need the
    whole line and start before their syllable). So frames up to the audio received (to the
    tick) can be rendered at once: eyes and head add one tick (10 ms) to the face's latency.
    Events are rendered from the recent ones only, so per-window cost does not grow with the
    session's length.
    """

    #: blinks and saccades that started this long before a window can still show in it
    _EVENT_SPAN_S = 2.0

    def __init__(self, fps: int, seed: int, eyes: EyesConfig, head: HeadConfig) -> None:
        from dataclasses import replace

        from .eyes import EyesModel
        from .head import HeadModel

        self.fps = fps
        self._args = (eyes, head)
        self.cfg = replace(eyes, lookahead_s=0.0)
        self.head_on = head.enabled
        self.eyes = EyesModel(self.cfg, seed)
        self.head = HeadModel(head, seed, self.cfg.gaze_target, causal=True)
        self._head_deg = np.zeros((0, 3))
        self._head_k0 = 0  # tick index of _head_deg[0]
        self._blink0 = self._sacc0 = self._sacc_g = 0  # first event that can still show
        self.closed = False
        self._ready_frames: int | None = None  # ready_frames, until the stream is fed again

    def rekeyed(self, seed: int) -> "EyesHeadStream":
        """The same stream, not yet fed, with another seed (LIVE keys it by the first audio)."""
        if self.eyes.n_fed or self.closed:
            raise RuntimeError("EyesHeadStream.rekeyed after input was fed")
        return EyesHeadStream(self.fps, seed, *self._args)

    @property
    def ready_until(self) -> float:
        """Frames at times <= this can be rendered."""
        t = self.eyes.k * TICK_S
        if self.head_on:
            t = min(t, (self._head_k0 + len(self._head_deg) - 1) * TICK_S)
        return t

    @property
    def ready_frames(self) -> int:
        """Frames [0, n) at this stream's fps that can be rendered: ``floor(ready_until * fps +
        1e-9) + 1``, kept until the stream is fed (a LIVE graph asks several times a tick)."""
        f = self._ready_frames
        if f is None:
            f = self._ready_frames = math.floor(self.ready_until * self.fps + 1e-9) + 1
        return f

    def feed(self, speech: np.ndarray, vad: np.ndarray, weights: np.ndarray, closed: bool = False) -> None:
        """Driver ticks (speech bool, (n, 3) VAD, (n, 8) emotion weights), in tick order:
        :func:`feed_many` of this stream alone."""
        feed_many([(self, speech, vad, weights, closed)])

    def _feed_eyes(self, speech: np.ndarray, vad: np.ndarray, weights: np.ndarray, closed: bool):
        """The eyes' decisions for the new ticks; returns (drivers or None, first new tick) for
        the head's part (:meth:`_feed_head`), or None when the stream is closed already."""
        from .drivers import Drivers

        if self.closed:
            return None
        self._ready_frames = None
        n = len(speech)
        k0 = self.eyes.k
        d = Drivers(speech, vad[:, 1], weights) if n else None
        if n:
            self.eyes.feed_drivers(d)
        if closed:
            self.eyes.close()
        self.eyes.step(self.eyes.n_fed * TICK_S)  # causal: every fed tick is decided now
        self.eyes.forget_decided()
        return d, k0

    def _feed_head(self, d, gaze: np.ndarray | None, closed: bool) -> bool:
        """The head's drivers (``gaze``: the gaze it follows at the new ticks); True when the
        head has ticks to compute (:func:`feed_many` steps all heads at once)."""
        if d is not None:
            self.head.feed_drivers(d, gaze)
        if closed:
            self.head.close()
            self.closed = True
        return self.head_on

    def _take_head(self, new: np.ndarray) -> None:
        if len(new):
            self._head_deg = np.concatenate([self._head_deg, new])
            self._ready_frames = None

    def _recent(self, events: list, t0: float, attr: str) -> list:
        i = getattr(self, attr)
        while i < len(events) - 1 and events[i + 1].t <= t0 - self._EVENT_SPAN_S:
            i += 1
        setattr(self, attr, i)
        return events[i:]

    #: saccades no window reads any more are dropped in blocks of this many (memory flat in length)
    _SACC_DROP = 256

    def _forget_saccades(self) -> None:
        """Drop the saccades behind both readers (the gaze the head follows, the render): the
        eyes model never reads its past saccades. Blinks are kept: the causal per-line bound
        counts them (a few hundred for an hour, unlike the ~3.5 saccades a second)."""
        d = min(self._sacc0, self._sacc_g)
        if d >= self._SACC_DROP:
            del self.eyes.saccades[:d]
            self._sacc0 -= d
            self._sacc_g -= d

    def render(self, curves: np.ndarray, first_index: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
        """Frames [first_index, +len(curves)): curves with eyes applied, head (N,3) and eyes (N,2,3)
        radians: :func:`render_many` of this stream alone."""
        return render_many([(self, curves, first_index)])[0]


def feed_many(items: list[tuple[EyesHeadStream, np.ndarray, np.ndarray, np.ndarray, bool]]) -> list:
    """Feed many LIVE eyes + head streams their driver ticks at once: ``items`` are (stream,
    speech, vad, weights, closed) as :meth:`EyesHeadStream.feed` takes them. The eyes decide per
    stream (a causal per-tick process with its own random streams); the heads of all streams
    step together (``head.step_many``: one pass of array operations and filters for every
    session's new ticks). Returns, per item, None or the exception that stream raised."""
    from .head import step_many

    res: list = [None] * len(items)
    fed = []
    for i, (st, speech, vad, w, closed) in enumerate(items):
        try:
            r = st._feed_eyes(speech, vad, w, closed)
        except Exception as e:  # noqa: BLE001 - isolated per stream, reported by the caller
            res[i] = e
            continue
        if r is not None:
            fed.append((i, r[0], r[1]))
    # the gaze every head follows at its new ticks, of every stream in one call (``_gaze_rows``:
    # each window reads its own saccades, the same numbers as gaze_trace per stream)
    win = [(i, d, k0) for i, d, k0 in fed if d is not None]
    gazes: dict[int, np.ndarray] = {}
    if win:
        sts = [items[i][0] for i, _, _ in win]
        lens = [d.n_ticks for _, d, _ in win]
        bounds = np.zeros(len(win) + 1, np.intp)
        np.cumsum(lens, out=bounds[1:])
        k0s = np.fromiter((k0 for _, _, k0 in win), np.int64, len(win))
        # every stream's new tick times in one pass (np.arange(k0, k0 + m) * TICK_S each)
        times = (np.repeat(k0s - bounds[:-1], lens) + np.arange(bounds[-1])) * TICK_S
        recent = [st._recent(st.eyes.saccades, k0 * TICK_S, "_sacc_g") for st, (_, _, k0) in zip(sts, win)]

        def rows(ws):
            if len(ws) == len(win):
                return _gaze_rows(times, bounds, [st.cfg for st in sts], recent, np.ones(len(ws), bool))
            j = ws[0]  # (one stream alone)
            return _gaze_rows(times[bounds[j]:bounds[j + 1]], np.array([0, lens[j]]), [sts[j].cfg], [recent[j]],
                              np.ones(1, bool))
        try:
            g = rows(list(range(len(win))))
            for j, (i, _, _) in enumerate(win):
                gazes[i] = g[bounds[j]:bounds[j + 1]]
        except Exception:  # noqa: BLE001 - each alone: a failure stays with its own stream
            for j, (i, _, _) in enumerate(win):
                try:
                    gazes[i] = rows([j])
                except Exception as e:  # noqa: BLE001
                    res[i] = e
    heads = []
    for i, d, _ in fed:
        if res[i] is not None:
            continue
        st, closed = items[i][0], items[i][4]
        try:
            if st._feed_head(d, gazes.get(i), closed):
                heads.append(i)
        except Exception as e:  # noqa: BLE001
            res[i] = e
    if heads:
        sts = [items[i][0] for i in heads]
        for i, st, new in zip(heads, sts, step_many([st.head for st in sts], [st.head._speech.n * TICK_S for st in sts])):
            if isinstance(new, Exception):
                res[i] = new
            else:
                st._take_head(new)
    return res


def render_many(items: list[tuple[EyesHeadStream, np.ndarray, int]]) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Render the next window of many LIVE eyes + head streams at once: ``items`` are (stream,
    curves (n, 52), first frame index); returns, per item, (curves with eyes applied, head (n, 3)
    and eyes (n, 2, 3) radians), as each stream's :meth:`EyesHeadStream.render` does alone.

    Why together: LIVE renders every 20 ms 1-2 frames per session, and a window's ~70 numpy calls
    cost far more than their arithmetic; stacked by rows (``eyes.render_windows``), the sessions of
    a tick share them. The head is ``np.interp`` of the stream's tick buffer (same formula, every
    column and stream in one pass), the eyes read each stream's recent events only."""
    from .eyes import render_windows

    W = len(items)
    lens = [len(c) for _, c, _ in items]
    bounds = np.zeros(W + 1, np.intp)
    np.cumsum(lens, out=bounds[1:])
    b_l = bounds.tolist()  # (Python ints slice and index faster than numpy ones)
    n = b_l[-1]
    # frame indices first + 0..len-1 of every window, in one pass (integers, exact as floats)
    firsts = np.fromiter((f for _, _, f in items), np.int64, W)
    times = (np.repeat(firsts - bounds[:-1], lens) + np.arange(n)).astype(np.float64)
    fps = {st.fps for st, _, _ in items}
    times = times / fps.pop() if len(fps) == 1 else times / np.repeat([st.fps for st, _, _ in items], lens)
    t_l = times.tolist()
    head = np.zeros((n, 3), np.float32)
    hs = [w for w, (st, _, _) in enumerate(items) if st.head_on and len(st._head_deg) and lens[w]]
    if hs:
        if len(hs) == W:
            head_rows = slice(None)
            h_times = times
        else:
            mask = np.zeros(W, bool)
            mask[hs] = True
            head_rows = np.flatnonzero(np.repeat(mask, lens))
            h_times = times[head_rows]
        deg = _interp_ticks(h_times, [items[w][0] for w in hs], [lens[w] for w in hs])
        head[head_rows] = np.radians(deg).astype(np.float32)
    blinks, saccades = [], []
    span = EyesHeadStream._EVENT_SPAN_S
    for w, (st, _, _) in enumerate(items):
        t0 = t_l[b_l[w]] if lens[w] else 0.0
        if st.head_on and len(st._head_deg):
            keep = max(0, math.floor(t0 / TICK_S) - 2 - st._head_k0)
            if keep:
                if keep >= len(st._head_deg):  # (past the last tick: the head's end moves)
                    st._ready_frames = None
                st._head_deg = st._head_deg[keep:]
                st._head_k0 += keep
        # the first blink / saccade that can still show (EyesHeadStream._recent, inlined)
        lim = t0 - span
        eb, i = st.eyes.blinks, st._blink0
        last = len(eb) - 1
        while i < last and eb[i + 1].t <= lim:
            i += 1
        st._blink0 = i
        es, j = st.eyes.saccades, st._sacc0
        last = len(es) - 1
        while j < last and es[j + 1].t <= lim:
            j += 1
        st._sacc0 = j
        if not lens[w]:
            blinks.append([])
            saccades.append([])
            continue
        # only the events that can show in this window's 1-2 frames: blinks overlapping it, and
        # the saccades a row takes (the last one started at or before it): the same numbers
        t1 = t_l[b_l[w + 1] - 1]
        blinks.append([b for b in eb[i:] if b.t <= t1 and b.end > t0])
        i1 = bisect.bisect_right(es, t1, lo=j, key=_event_t)
        i0 = max(j, bisect.bisect_right(es, t0, lo=j, hi=i1, key=_event_t) - 1)
        saccades.append(es[i0:i1])
    curves = np.concatenate([c for _, c, _ in items]).astype(np.float32, copy=False) if W > 1 \
        else np.array(items[0][1], np.float32)
    curves, eyes = render_windows(curves, head, times, bounds, [st.cfg for st, _, _ in items], blinks, saccades)
    out = []
    drop = EyesHeadStream._SACC_DROP
    for w, (st, _, _) in enumerate(items):
        if st._sacc0 >= drop and st._sacc_g >= drop:
            st._forget_saccades()
        r0, r1 = b_l[w], b_l[w + 1]
        out.append((curves[r0:r1], head[r0:r1], eyes[r0:r1]))
    return out


#: a saccade's (or blink's) start time: the key of the searches (C-level attribute read)
_event_t = operator.attrgetter("t")


def _interp_ticks(times: np.ndarray, streams: list[EyesHeadStream], lens: list[int]) -> np.ndarray:
    """``np.interp(t, tick times, _head_deg[:, j])`` for every column j of every stream, the rows
    of stream s being the next ``lens[s]`` of ``times``: numpy's formula (slope from the two
    neighbouring ticks, ends held), so the same numbers. The neighbour is found from the tick
    grid (k = floor(t / TICK_S)) and corrected against the actual tick times, which is exact."""
    k0 = np.fromiter((st._head_k0 for st in streams), np.int64, len(streams))
    m = np.fromiter((len(st._head_deg) for st in streams), np.int64, len(streams))
    off = np.zeros(len(streams), np.int64)
    np.cumsum(m[:-1], out=off[1:])
    total = int(off[-1] + m[-1])
    fp = np.concatenate([st._head_deg for st in streams] + [np.zeros((1, 3))])
    # each stream's tick indices k0 .. k0 + m - 1, in one pass (then a 0 for the padding row)
    kk = np.zeros(total + 1, np.int64)
    kk[:total] = np.repeat(k0 - off, m) + np.arange(total)
    xp = kk * TICK_S
    rep = lambda v: np.repeat(v, lens)  # noqa: E731 - per stream -> per row
    r_k0, r_m, r_off = rep(k0), rep(m), rep(off)
    loc = np.floor(times / TICK_S).astype(np.int64) - r_k0  # tick index inside the stream's buffer
    loc = np.minimum(np.maximum(loc, 0), np.maximum(r_m - 2, 0))
    j = r_off + loc
    for _ in range(2):  # at most one step off either way: exact against the tick times
        back = (loc > 0) & (xp[j] > times)
        loc, j = loc - back, j - back
        fwd = (loc < r_m - 2) & (xp[j + 1] <= times)
        loc, j = loc + fwd, j + fwd
    with np.errstate(divide="ignore", invalid="ignore"):  # one-tick buffers: overwritten below
        slope = (fp[j + 1] - fp[j]) / (xp[j + 1] - xp[j])[:, None]
        out = slope * (times - xp[j])[:, None] + fp[j]
    first, last = r_off, r_off + r_m - 1
    lo = times <= xp[first]
    hi = (times >= xp[last]) | (r_m == 1)
    out[lo] = fp[first[lo]]
    out[hi] = fp[last[hi]]
    return out

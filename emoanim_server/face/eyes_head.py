"""Bake-time glue for the eye and head stages (what pipeline.bake calls).

Why one call for two stages: the head follows large gaze shifts, and the eyes counter-rotate
against the head (they keep looking at the listener while the head sways), so the order is
plan eyes -> head (reads the gaze plan) -> render eyes (reads the head). Each stage stays a
separate, streamable model (face/eyes.py, face/head.py); this only wires them for a whole file.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..track import AnimationTrack
from .drivers import TICK_S, Drivers, drivers_for_track, tick_times
from .eyes import EyesConfig, EyesPlan, apply_eyes, line_seed, plan_eyes
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

    def feed(self, speech: np.ndarray, vad: np.ndarray, weights: np.ndarray, closed: bool = False) -> None:
        """Driver ticks (speech bool, (n, 3) VAD, (n, 8) emotion weights), in tick order."""
        from .eyes import gaze_trace

        if self.closed:
            return
        n = len(speech)
        k0 = self.eyes.k
        if n:
            self.eyes.feed(speech, vad[:, 1], weights)
        if closed:
            self.eyes.close()
        self.eyes.step(self.eyes.n_fed * TICK_S)  # causal: every fed tick is decided now
        self.eyes.forget_decided()
        if n:
            gaze = gaze_trace(self._recent(self.eyes.saccades, k0 * TICK_S, "_sacc_g"),
                              np.arange(k0, k0 + n) * TICK_S, self.cfg.gaze_target)
            self.head.feed(speech, vad[:, 1], weights, (), gaze)
        if closed:
            self.head.close()
            self.closed = True
        if self.head_on:
            new = self.head.step(self.head._speech.n * TICK_S)
            if len(new):
                self._head_deg = np.concatenate([self._head_deg, new])

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
        radians. The lean window renderer (``eyes.render_window``: apply_eyes' numbers without a
        track, events or metadata): LIVE calls this for every 1-2 frames."""
        from .eyes import render_window

        n = len(curves)
        times = (first_index + np.arange(n, dtype=np.float64)) / self.fps
        t0 = float(times[0]) if n else 0.0
        head = np.zeros((n, 3), np.float32)
        if self.head_on and len(self._head_deg):
            tt = (self._head_k0 + np.arange(len(self._head_deg))) * TICK_S
            deg = np.stack([np.interp(times, tt, self._head_deg[:, j]) for j in range(3)], axis=1)
            head = np.radians(deg).astype(np.float32)
            keep = max(0, int(np.floor(t0 / TICK_S)) - 2 - self._head_k0)
            if keep:
                self._head_deg = self._head_deg[keep:]
                self._head_k0 += keep
        out = np.array(curves, np.float32)
        out, eyes = render_window(out, head, times, self.cfg, self._recent(self.eyes.blinks, t0, "_blink0"),
                                  self._recent(self.eyes.saccades, t0, "_sacc0"))
        self._forget_saccades()
        return out, head, eyes

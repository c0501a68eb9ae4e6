"""Live eyes + head: the eye/head stages' streaming models fed tick by tick during a session.

Same stage code as the offline bake (face/eyes_head.py): :class:`EyesModel` decides blinks and
saccades from speech/emotion drivers on the 10 ms tick grid, :class:`HeadModel` turns drivers +
the gaze plan into head rotation, :func:`apply_eyes` renders eyes against the head (VOR). The
offline glue runs them on a whole file; here they are fed as the phones become final:

    phones final up to P (= received audio - lip-sync lookahead)
    -> speech ticks final up to P - DRIVER_LOOKAHEAD_S (gap closing looks ahead)
    -> eye decisions up to that - eyes lookahead (pause classification looks ahead)
    -> head up to the decided gaze - NOD_LEAD_S
    -> frames up to there can be rendered.

So a live session with eyes/head has a longer lookahead than face only (reported to the
client in SessionStarted.lookahead_s / buffer_latency_s). Differences from offline: no
prosodic emphasis events (they need the whole line), so no emphasis nods; the eyes lookahead is
the stage's minimum (``BOUNDARY_PAUSE_S``) instead of its offline default.
"""
from __future__ import annotations

import numpy as np

from ..face.drivers import DRIVER_LOOKAHEAD_S, TICK_S, speech_from_phones
from ..face.eyes import BOUNDARY_PAUSE_S, EyesConfig, EyesModel, EyesPlan, apply_eyes, gaze_trace
from ..face.head import NOD_LEAD_S, HeadConfig, HeadModel
from ..track import AnimationTrack

#: ticks of speech activity recomputed before the first new tick (gap-closing context)
_CONTEXT_TICKS = 100


class _WindowTrack(AnimationTrack):
    """An AnimationTrack holding frames [first_index, first_index + n): stages read ``times``."""

    first_index = 0

    @property
    def times(self) -> np.ndarray:
        return (self.first_index + np.arange(self.n_frames, dtype=np.float64)) / self.fps


def extra_lookahead_s() -> float:
    """Look-ahead the eye/head stages add on top of the lip-sync's."""
    return DRIVER_LOOKAHEAD_S + BOUNDARY_PAUSE_S + NOD_LEAD_S + 3 * TICK_S


class LiveEyesHead:
    def __init__(self, fps: int, seed: int, eyes: bool, head: bool) -> None:
        self.fps = fps
        self.eyes_on, self.head_on = eyes, head
        self.cfg = EyesConfig(blink=eyes, gaze=eyes, lookahead_s=BOUNDARY_PAUSE_S)
        self.eyes = EyesModel(self.cfg, seed)
        self.head = HeadModel(HeadConfig(enabled=head), seed, self.cfg.gaze_target)
        self._speech = np.zeros(0, bool)
        self._arousal = np.zeros(0)
        self._emo = np.zeros((0, 8))
        self._k_gaze = 0
        self._head_deg = np.zeros((0, 3))
        self.closed = False

    @property
    def ready_until(self) -> float:
        """Frames at times <= this can be rendered."""
        t_eyes = self.eyes.k * TICK_S
        t_head = (len(self._head_deg) - 1) * TICK_S if self.head_on else t_eyes
        return min(t_eyes, t_head)

    def advance(self, phones, phones_final_s: float, emotion_at, closed: bool = False) -> None:
        """Feed drivers up to what the final phones determine; ``emotion_at(times) -> (vad, w)``."""
        if self.closed:
            return
        k0 = len(self._speech)
        k1 = int(np.ceil(phones_final_s / TICK_S - 1e-9)) + 1 if closed else \
            int(np.floor((phones_final_s - DRIVER_LOOKAHEAD_S) / TICK_S))
        if k1 > k0:
            ws = max(0, k0 - _CONTEXT_TICKS)
            rel = [(p.start - ws * TICK_S, p.end - ws * TICK_S, p.phone) for p in phones
                   if p.end > ws * TICK_S]
            sp = speech_from_phones(rel, k1 - ws)[k0 - ws:]
            vad, w = emotion_at(np.arange(k0, k1) * TICK_S)
            self._speech = np.concatenate([self._speech, sp])
            self._arousal = np.concatenate([self._arousal, vad[:, 1]])
            self._emo = np.concatenate([self._emo, w])
            self.eyes.feed(sp, vad[:, 1], w)
        if closed:
            self.eyes.close()
        self.eyes.step(len(self._speech) * TICK_S + (TICK_S if closed else 0.0))
        kg1 = self.eyes.k
        if kg1 > self._k_gaze:
            g0 = self._k_gaze
            gaze = gaze_trace(self.eyes.saccades, np.arange(g0, kg1) * TICK_S, self.cfg.gaze_target)
            self.head.feed(self._speech[g0:kg1], self._arousal[g0:kg1], self._emo[g0:kg1], (), gaze)
            self._k_gaze = kg1
        if closed:
            self.head.close()
            self.closed = True
        if self.head_on:
            new = self.head.step(self._k_gaze * TICK_S + (TICK_S if closed else 0.0))
            if len(new):
                self._head_deg = np.concatenate([self._head_deg, new])

    def render(self, curves: np.ndarray, first_index: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Frames [first_index, +len(curves)): curves with eyes applied, head (N,3), eyes (N,2,3) radians."""
        wt = _WindowTrack(fps=self.fps, curves=np.array(curves, np.float32))
        wt.first_index = first_index
        times = wt.times
        if self.head_on and len(self._head_deg):
            tt = np.arange(len(self._head_deg)) * TICK_S
            deg = np.stack([np.interp(times, tt, self._head_deg[:, j]) for j in range(3)], axis=1)
            wt.head = np.radians(deg).astype(np.float32)
        apply_eyes(wt, EyesPlan(self.cfg, list(self.eyes.blinks), list(self.eyes.saccades)))
        return wt.curves, wt.head, wt.eyes

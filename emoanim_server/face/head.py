"""Head motion: slow idle drift, prosody-driven nods/tilts/turns, emotion posture, gaze following.

Why these parts: a talking head is never still (idle sway well under 1 Hz), its larger movements
line up with stressed syllables and phrase starts ("visual prosody": Hadar et al. 1983; Graf et
al. 2002; Munhall et al. 2004), its range grows with arousal and its posture with emotion
(Busso et al. 2007), and it joins large gaze shifts instead of leaving them to the eyes alone
(Stahl 1999). All amplitudes are small on purpose: over-animated heads read as bobble-heads.

Output is ``track.head`` (yaw, pitch, roll) in radians, yaw + to the character's left, pitch +
down, roll + toward the character's left shoulder (our convention, documented in track.py for
yaw/pitch).

Streaming property: :class:`HeadModel` advances tick by tick (10 ms) with ``feed`` and
``step(until_s)``. The idle drift is a seeded sum of sinusoids (a pure function of time), the
envelopes and gaze following are causal IIR filters whose state is carried across chunks, and a
nod for an emphasis at time te starts ``NOD_LEAD_S`` before te, so output up to T depends on
drivers up to ``T + NOD_LEAD_S`` only; random draws are made per event in event order, so any
chunking gives the offline result (tests/test_head.py checks both properties).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..dsp import lfilter, lfilter_zi  # numpy, bit-identical to scipy.signal's (issue 14: start-up)
from ..errors import InputError
from ..track import AnimationTrack
from .drivers import EMOTIONS, TICK_S, Drivers
from .eyes import _Grow, _stage_rngs

HEAD_STAGE_ID = 0x4EAD
#: idle sway: RMS degrees per axis (yaw, pitch, roll) while silent; frequencies of the components
IDLE_RMS_DEG = np.array([1.4, 1.0, 0.7])
IDLE_FREQ_HZ = (0.03, 0.35)
IDLE_COMPONENTS = 5
#: talking moves the head more than listening (Hadar et al. 1983): gain at full speech
SPEAKING_GAIN = 1.7
ENVELOPE_TAU_S = 0.6
#: arousal (-1..1) scales every movement by 1 + AROUSAL_GAIN * arousal (Busso et al. 2007)
AROUSAL_GAIN = 0.5
#: emphasis -> nod (pitch down then a small rebound), tilt (roll) or turn (yaw)
GESTURE_P = (0.3, 0.7)            # probability of a movement = a + b * emphasis strength
NOD_LEAD_S = 0.12                 # movement starts slightly before the stressed syllable peak
NOD_MIN_GAP_S = 0.35
NOD_TYPES_P = (0.65, 0.2, 0.15)   # nod, tilt, turn
NOD_DEG = (1.2, 2.8)              # base + per unit of emphasis strength
TILT_DEG = (0.8, 1.8)
TURN_DEG = (1.0, 2.2)
NOD_DOWN_S, NOD_UP_S, NOD_REBOUND = 0.35, 0.45, 0.3
TILT_S, TURN_S = 0.9, 0.8
#: a new utterance often starts with the head lifting (Hadar et al. 1983: movement at speech onset)
ONSET_LIFT_DEG = 1.5
ONSET_S = 1.0
UTTERANCE_GAP_S = 0.6
#: head follows large gaze shifts beyond the eyes' comfortable range (Stahl 1999)
GAZE_EYE_ONLY_DEG = 8.0
GAZE_HEAD_SHARE = (0.45, 0.25)    # share of the excess taken by the head, yaw and pitch
GAZE_HEAD_TAU_S = 0.15
#: emotion posture, degrees (yaw, pitch down +, roll), EMOTIONS order (Busso et al. 2007 and FACS
#: head codes: sadness head down, surprise head back, contempt/pride chin up with a tilt)
EMO_POSTURE_DEG = np.array([
    [0.0, 0.0, 0.0],    # neutral
    [0.0, -1.5, 2.0],   # happy: slight lift and tilt
    [0.0, 6.0, 1.5],    # sad: head down
    [0.0, 2.5, 0.0],    # angry: chin down
    [1.0, 2.0, 0.0],    # fearful: pulled back/down, slight turn away
    [3.0, -1.0, -1.5],  # disgusted: turn away
    [0.0, -3.5, 0.0],   # surprised: head back
    [1.5, -3.0, 3.0],   # contempt: chin up, tilt
])
#: per-emotion movement scale (sadness moves less, anger/happiness more)
EMO_MOTION = np.array([1.0, 1.2, 0.6, 1.25, 1.1, 1.0, 1.1, 0.9])
POSTURE_TAU_S = 0.8
SPEAKING_LIFT_DEG = 1.0
#: soft limits (deg): yaw, pitch, roll
LIMIT_DEG = np.array([25.0, 20.0, 15.0])


@dataclass
class HeadConfig:
    """User controls (CLI flags / BakeOptions.extra["head"])."""

    enabled: bool = True
    scale: float = 1.0           # multiplies every head movement
    follow_gaze: bool = True

    def __post_init__(self) -> None:
        if not (0.0 <= self.scale <= 5.0) or not math.isfinite(self.scale):
            raise InputError(f"head scale: {self.scale!r} out of range; expected 0..5 (1 = default)")

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any] | None) -> "HeadConfig":
        d = dict((extra or {}).get("head", {}) or {})
        known = set(cls.__dataclass_fields__)
        bad = set(d) - known
        if bad:
            raise InputError(f"head options: unknown {sorted(bad)}; expected some of {sorted(known)}")
        return cls(**d)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class HeadGesture:
    """One prosodic head movement: kind nod|tilt|turn|onset, centred on ``t`` (s), ``deg`` signed."""

    t: float
    kind: str
    deg: float


def _one_pole(tau: float) -> tuple[np.ndarray, np.ndarray]:
    a = 1.0 - math.exp(-TICK_S / tau)
    return np.array([a]), np.array([1.0, a - 1.0])


class HeadModel:
    """Incremental head-motion generator (see module docstring for the streaming contract)."""

    def __init__(self, config: HeadConfig | None = None, seed: int = 0, gaze_target: Sequence[float] = (0.0, 0.0),
                 causal: bool = False) -> None:
        self.cfg = config or HeadConfig()
        #: LIVE: no emphasis events are fed (they need the whole line), so nothing needs the
        #: nod lead's look-ahead and every fed tick can be computed at once
        self.causal = causal
        rng_idle, self.rng_nod, self.rng_onset = _stage_rngs(seed, HEAD_STAGE_ID, 3)
        lo, hi = IDLE_FREQ_HZ
        self.freq = np.exp(rng_idle.uniform(math.log(lo), math.log(hi), (3, IDLE_COMPONENTS)))
        self.phase = rng_idle.uniform(0, 2 * math.pi, (3, IDLE_COMPONENTS))
        amp = self.freq ** -0.7 * rng_idle.uniform(0.5, 1.0, (3, IDLE_COMPONENTS))
        # normalise to the target RMS (a sinusoid of amplitude A has RMS A / sqrt 2)
        self.amp = amp * (IDLE_RMS_DEG / np.sqrt(0.5 * (amp ** 2).sum(axis=1)))[:, None]
        self.gaze_target = np.asarray(gaze_target, float)
        self._speech = _Grow(dtype=bool)
        self._arousal = _Grow()
        self._emo = _Grow(len(EMOTIONS))
        self._gaze = _Grow(2)
        self.gestures: list[HeadGesture] = []
        self._last_emph = -math.inf
        self.closed = False
        self.k = 0
        self._last_speech = -10 ** 9
        self._prev_speech = False
        self._zi: dict[str, np.ndarray] = {}
        self.out = _Grow(3)
        #: keep every driver tick and output (the bake reads ``out.view``); LIVE (causal) keeps
        #: only what the next steps read, so a session's memory is flat in its length
        self.keep_history = not causal

    def feed(self, speech: np.ndarray, arousal: np.ndarray | None = None, emotion: np.ndarray | None = None,
             emphasis: Sequence[tuple[float, float]] = (), gaze: np.ndarray | None = None) -> None:
        """Append driver ticks; ``emphasis`` events in time order; ``gaze`` (n, 2) world degrees."""
        if self.closed:
            raise RuntimeError("HeadModel.feed after close()")
        d = Drivers(speech, arousal, emotion, list(emphasis))
        if self.causal and d.emphasis:
            raise ValueError("a causal HeadModel takes no emphasis events (a nod starts before its syllable)")
        self._speech.extend(d.speech)
        self._arousal.extend(d.arousal)
        self._emo.extend(d.emotion / np.maximum(d.emotion.sum(axis=1, keepdims=True), 1e-9))
        g = np.broadcast_to(self.gaze_target, (d.n_ticks, 2)) if gaze is None else np.asarray(gaze, float).reshape(-1, 2)
        if len(g) != d.n_ticks:
            raise ValueError(f"gaze has {len(g)} ticks, speech has {d.n_ticks}")
        self._gaze.extend(g)
        for te, strength in d.emphasis:
            if te - self._last_emph < NOD_MIN_GAP_S:
                continue
            # weak emphasis often goes without a head movement; strong emphasis nearly always moves it
            if self.rng_nod.random() > GESTURE_P[0] + GESTURE_P[1] * strength:
                continue
            self._last_emph = te
            kind = ("nod", "tilt", "turn")[int(self.rng_nod.choice(3, p=NOD_TYPES_P))]
            sign = 1.0 if self.rng_nod.random() < 0.5 else -1.0
            jitter = float(self.rng_nod.uniform(0.8, 1.2))
            base, per = {"nod": NOD_DEG, "tilt": TILT_DEG, "turn": TURN_DEG}[kind]
            deg = (base + per * strength) * jitter * (1.0 if kind == "nod" else sign)
            self.gestures.append(HeadGesture(round(te, 4), kind, deg))

    def close(self) -> None:
        self.closed = True

    @property
    def ready_until(self) -> float:
        lead = 0 if self.causal else int(math.ceil(NOD_LEAD_S / TICK_S))
        n = self._speech.n if self.closed else self._speech.n - lead
        return max(0, n) * TICK_S

    def _filt(self, name: str, tau: float, x: np.ndarray, init: np.ndarray | float) -> np.ndarray:
        b, a = _one_pole(tau)
        x = np.asarray(x, float)
        if name not in self._zi:
            # start the filter settled at its initial value so nothing swings in at t = 0
            first = np.broadcast_to(np.asarray(init, float), x.shape[1:])
            self._zi[name] = lfilter_zi(b, a).reshape((1,) + (1,) * (x.ndim - 1)) * first[None]
        y, self._zi[name] = lfilter(b, a, x, axis=0, zi=self._zi[name])
        return y

    def _filt2(self, name: str, tau: float, x: np.ndarray, init: np.ndarray | float) -> np.ndarray:
        return self._filt(name + ".2", tau / 2, self._filt(name + ".1", tau / 2, x, init), init)

    def step(self, until_s: float) -> np.ndarray:
        """Compute ticks with time < ``until_s`` (clamped to :attr:`ready_until`); returns them (deg)."""
        k0 = self.k
        k1 = min(int(math.ceil(until_s / TICK_S - 1e-9)), int(round(self.ready_until / TICK_S)))
        if k1 <= k0:
            return np.zeros((0, 3))
        t = np.arange(k0, k1) * TICK_S
        s = self._speech.since(k0, k1)
        # conversational state with a causal hangover, and a detection of utterance onsets
        idx = np.where(s, np.arange(k0, k1), -10 ** 9)
        last = np.maximum.accumulate(np.concatenate([[self._last_speech], idx]))[1:]
        prev_last = np.concatenate([[self._last_speech], last[:-1]])
        talk = (np.arange(k0, k1) - last) * TICK_S <= 0.5
        prev = np.concatenate([[self._prev_speech], s[:-1]])
        onsets = np.flatnonzero(s & ~prev & ((np.arange(k0, k1) - prev_last) * TICK_S >= UTTERANCE_GAP_S))
        for i in onsets:
            amp = ONSET_LIFT_DEG * float(self.rng_onset.uniform(0.6, 1.3))
            self.gestures.append(HeadGesture(round(float(t[i]) + ONSET_S / 2, 4), "onset", -amp))
        self.gestures.sort(key=lambda g: g.t)
        self._last_speech = int(last[-1])
        self._prev_speech = bool(s[-1])
        # two cascaded one-poles (critically damped): velocity stays continuous when a driver switches
        env = self._filt2("env", ENVELOPE_TAU_S, talk.astype(float), 0.0)
        arousal = self._filt2("arousal", ENVELOPE_TAU_S, self._arousal.since(k0, k1), self._arousal.first)
        emo = self._filt2("emo", POSTURE_TAU_S, self._emo.since(k0, k1), self._emo.first)
        motion = (1 + AROUSAL_GAIN * arousal) * (emo @ EMO_MOTION)
        # idle sway
        idle = (self.amp[None] * np.sin(2 * np.pi * self.freq[None] * t[:, None, None] + self.phase[None])).sum(axis=2)
        idle *= ((1 + (SPEAKING_GAIN - 1) * env) * motion)[:, None]
        # posture: emotion plus a slight lift while talking
        posture = emo @ EMO_POSTURE_DEG
        posture[:, 1] -= SPEAKING_LIFT_DEG * env
        # prosodic gestures
        gest = np.zeros((len(t), 3))
        ar = self._arousal
        first = bisect.bisect_left(self.gestures, t[0] - MAX_GESTURE_SPAN_S, key=lambda g: g.t)
        last = bisect.bisect_right(self.gestures, t[-1] + MAX_GESTURE_SPAN_S, key=lambda g: g.t)
        for g in self.gestures[first:last]:
            lo, hi = _gesture_support(g)
            i0, i1 = np.searchsorted(t, [lo, hi])
            if i1 <= i0:
                continue
            ka = min(ar.n - 1, max(0, int(round(g.t / TICK_S))))
            gain = (1 + AROUSAL_GAIN * float(ar.at(ka)))
            gest[i0:i1] += _gesture_shape(g, t[i0:i1]) * gain
        gest *= (emo @ EMO_MOTION)[:, None]
        # gaze following (head takes part of large gaze shifts, with a lag)
        follow = np.zeros((len(t), 2))
        if self.cfg.follow_gaze:
            rel = self._gaze.since(k0, k1) - self.gaze_target
            excess = np.sign(rel) * np.maximum(np.abs(rel) - GAZE_EYE_ONLY_DEG, 0) * np.array(GAZE_HEAD_SHARE)
            follow = self._filt2("gaze", GAZE_HEAD_TAU_S, excess, 0.0)
        out = idle + posture + gest
        out[:, :2] += follow
        out *= self.cfg.scale
        out = LIMIT_DEG * np.tanh(out / LIMIT_DEG)  # soft limits keep the motion smooth
        self.k = k1
        if self.keep_history:
            self.out.extend(out)
        else:
            self._forget(k1)
        return out

    def _forget(self, k1: int) -> None:
        """LIVE: drop what no later step reads. Speech, emotion and gaze are read from ``k`` on;
        the arousal also at gestures up to MAX_GESTURE_SPAN_S back (their gain), so it keeps
        that span; gestures that ended before it go too."""
        for g in (self._speech, self._emo, self._gaze):
            g.drop(k1)
        span = int(math.ceil(2 * MAX_GESTURE_SPAN_S / TICK_S))
        self._arousal.drop(k1 - span)
        t_old = (k1 - span) * TICK_S
        if self.gestures and self.gestures[0].t < t_old - MAX_GESTURE_SPAN_S:
            self.gestures = [g for g in self.gestures if g.t >= t_old - MAX_GESTURE_SPAN_S]


def _bump(x: np.ndarray) -> np.ndarray:
    """Bump on [0, 1] peaking at 1 in the middle, with zero value, slope and curvature at both
    ends, so gestures start and stop without a jolt (continuous acceleration)."""
    x = np.clip(x, 0, 1)
    return 64.0 * (x * (1 - x)) ** 3


MAX_GESTURE_SPAN_S = 2.0  # no gesture reaches further than this from its time t


def _gesture_support(g: HeadGesture) -> tuple[float, float]:
    """Time span where a gesture's shape is non-zero (chunks outside it skip the gesture)."""
    t0 = g.t - NOD_LEAD_S
    span = {"nod": 1.5 * NOD_DOWN_S + 2 * NOD_UP_S, "tilt": TILT_S, "turn": TURN_S}.get(g.kind)
    if span is None:  # onset: centred on t
        return g.t - ONSET_S / 2, g.t + ONSET_S / 2
    return t0, t0 + span


def _gesture_shape(g: HeadGesture, t: np.ndarray) -> np.ndarray:
    out = np.zeros((len(t), 3))
    t0 = g.t - NOD_LEAD_S
    if g.kind == "nod":
        # down over NOD_DOWN_S (peak just after the syllable), then a smaller rebound upward
        down = _bump((t - t0) / (2 * NOD_DOWN_S))
        up = _bump((t - t0 - 1.5 * NOD_DOWN_S) / (2 * NOD_UP_S))
        out[:, 1] = g.deg * (down - NOD_REBOUND * up)
    elif g.kind == "tilt":
        out[:, 2] = g.deg * _bump((t - t0) / TILT_S)
    elif g.kind == "turn":
        out[:, 0] = g.deg * _bump((t - t0) / TURN_S)
    elif g.kind == "onset":
        out[:, 1] = g.deg * _bump((t - (g.t - ONSET_S / 2)) / ONSET_S)
    return out


def head_motion(drivers: Drivers, config: HeadConfig | None = None, seed: int = 0,
                gaze: np.ndarray | None = None, gaze_target: Sequence[float] = (0.0, 0.0)) -> tuple[np.ndarray, list[HeadGesture]]:
    """Offline = streaming with the whole input: (ticks, 3) degrees and the gestures made."""
    m = HeadModel(config, seed, gaze_target)
    m.feed(drivers.speech, drivers.arousal, drivers.emotion, drivers.emphasis, gaze)
    m.close()
    m.step(drivers.duration + TICK_S)
    return m.out.view.copy(), list(m.gestures)


def apply_head(track: AnimationTrack, drivers: Drivers, config: HeadConfig | None = None, seed: int = 0,
               gaze: np.ndarray | None = None, gaze_target: Sequence[float] = (0.0, 0.0)) -> None:
    """Write ``track.head`` (radians) at the track's frame times; ``gaze`` is per tick (deg)."""
    config = config or HeadConfig()
    meta: dict[str, Any] = {"config": config.to_dict()}
    if config.enabled:
        ticks, gestures = head_motion(drivers, config, seed, gaze, gaze_target)
        tt = np.arange(len(ticks)) * TICK_S
        deg = np.stack([np.interp(track.times, tt, ticks[:, j]) for j in range(3)], axis=1)
        track.head = np.radians(deg).astype(np.float32) + np.asarray(track.head, np.float32)
        track.events["head_gestures"] = [(g.t, g.kind, round(g.deg, 3)) for g in gestures]
        kinds = [g.kind for g in gestures]
        meta.update({"gestures": {k: kinds.count(k) for k in ("nod", "tilt", "turn", "onset")},
                     "rms_deg": [round(float(v), 3) for v in np.sqrt(((deg - deg.mean(0)) ** 2).mean(0))],
                     "emphasis_source": drivers.sources.get("emphasis", "given")})
    track.metadata["head"] = meta

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
import operator
from dataclasses import asdict, dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from ..dsp import lfilter, lfilter_zi  # numpy, bit-identical to scipy.signal's (issue 14: start-up)
from ..errors import InputError
from ..track import AnimationTrack
from .drivers import EMOTIONS, TICK_S, Drivers, decide_then_render
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
        #: (amplitude, frequency, phase) of the idle sway, one array (a LIVE step stacks every model's)
        self._idle = np.stack([self.amp, self.freq, self.phase])
        self.gaze_target = np.asarray(gaze_target, float)
        self._speech = _Grow(dtype=bool)
        self._arousal = _Grow()
        self._emo = _Grow(len(EMOTIONS))
        self._gaze = _Grow(2)
        self.gestures: list[HeadGesture] = []
        self._sorted_n = 0  # gestures when they were last sorted
        self._last_emph = -math.inf
        self.closed = False
        self.k = 0
        self._last_speech = -10 ** 9
        self._prev_speech = False
        #: the smoothers' states, one array: stage (".1", ".2") x channel (_Z_COLS); None until
        #: the first step starts every smoother settled at its initial value
        self._z: np.ndarray | None = None
        self.out = _Grow(3)
        #: keep every driver tick and output (the bake reads ``out.view``); LIVE (causal) keeps
        #: only what the next steps read, so a session's memory is flat in its length
        self.keep_history = not causal

    def feed(self, speech: np.ndarray, arousal: np.ndarray | None = None, emotion: np.ndarray | None = None,
             emphasis: Sequence[tuple[float, float]] = (), gaze: np.ndarray | None = None) -> None:
        """Append driver ticks; ``emphasis`` events in time order; ``gaze`` (n, 2) world degrees."""
        if self.closed:
            raise RuntimeError("HeadModel.feed after close()")
        self.feed_drivers(Drivers(speech, arousal, emotion, list(emphasis)), gaze)

    def feed_drivers(self, d: Drivers, gaze: np.ndarray | None = None) -> None:
        """:meth:`feed` of checked drivers (emphasis events included)."""
        if self.closed:
            raise RuntimeError("HeadModel.feed after close()")
        if self.causal and d.emphasis:
            raise ValueError("a causal HeadModel takes no emphasis events (a nod starts before its syllable)")
        self._speech.extend(d.speech)
        self._arousal.extend(d.arousal)
        self._emo.extend(d.normalised_emotion())
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

    def step(self, until_s: float) -> np.ndarray:
        """Compute ticks with time < ``until_s`` (clamped to :attr:`ready_until`); returns them (deg)."""
        out = step_many([self], [until_s])[0]
        if isinstance(out, Exception):
            raise out
        return out

    def _decide(self, until_s: float) -> tuple[int, int, np.ndarray, np.ndarray] | None:
        """The per-model part of a step: the ticks to compute, the conversational state (causal
        hangover) and the utterance onsets (their gestures drawn in order); None: nothing to do."""
        k0 = self.k
        k1 = min(int(math.ceil(until_s / TICK_S - 1e-9)), int(round(self.ready_until / TICK_S)))
        if k1 <= k0:
            return None
        t = np.arange(k0, k1) * TICK_S
        s = self._speech.since(k0, k1)
        if k1 - k0 <= _ACROSS_MAX_TICKS:
            # a LIVE step's few ticks in Python (the same integer tests and float products as
            # the array form below, which a numpy call per line costs many times over)
            last = prev_last = self._last_speech
            prev = self._prev_speech
            talk_l, onsets = [], []
            for i, si in enumerate(s.tolist()):
                k = k0 + i
                prev_last = last
                if si:
                    last = k
                talk_l.append((k - last) * TICK_S <= 0.5)
                if si and not prev and (k - prev_last) * TICK_S >= UTTERANCE_GAP_S:
                    onsets.append(i)
                prev = si
            talk = np.array(talk_l, bool)
        else:
            # conversational state with a causal hangover, and a detection of utterance onsets
            idx = np.where(s, np.arange(k0, k1), -10 ** 9)
            last_a = np.maximum.accumulate(np.concatenate([[self._last_speech], idx]))[1:]
            prev_last_a = np.concatenate([[self._last_speech], last_a[:-1]])
            talk = (np.arange(k0, k1) - last_a) * TICK_S <= 0.5
            prev_a = np.concatenate([[self._prev_speech], s[:-1]])
            onsets = np.flatnonzero(s & ~prev_a & ((np.arange(k0, k1) - prev_last_a) * TICK_S >= UTTERANCE_GAP_S))
            last = int(last_a[-1])
        for i in onsets:
            amp = ONSET_LIFT_DEG * float(self.rng_onset.uniform(0.6, 1.3))
            self.gestures.append(HeadGesture(round(float(t[i]) + ONSET_S / 2, 4), "onset", -amp))
        if len(onsets) or len(self.gestures) != self._sorted_n:  # (sorting a sorted list changes nothing)
            self.gestures.sort(key=_gesture_t)
            self._sorted_n = len(self.gestures)
        self._last_speech = int(last)
        self._prev_speech = bool(s[-1])
        return k0, k1, t, talk

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
            self._sorted_n = len(self.gestures)  # (a sorted list filtered stays sorted)


#: a step of at most this many ticks filters every model's channels together, one tick at a
#: time across all of them (LIVE: a few ticks, many sessions); longer ones (the bake) go through
#: dsp.lfilter's per-channel loop. Both are the same arithmetic in the same order (bit-identical).
_ACROSS_MAX_TICKS = 64


def step_many(models: Sequence[HeadModel], untils: Sequence[float]) -> list:
    """:meth:`HeadModel.step` of many models (``untils``: each one's ``until_s``): the per-tick
    decisions one model at a time, then the numbers of every model's new ticks in one pass
    (:func:`_render_rows`; in LIVE its ~40 numpy calls and 8 filter calls per session were most
    of the head's cost). Returns, per model, its new ticks (deg) or the exception its step raised.
    Rows are independent and the filters keep each model's own state, so each model gets exactly
    what it gets alone (emotion products are each model's own matrix product, as alone)."""
    res, todo, spans, outs = decide_then_render(models, untils, _render_rows, 3)
    for i, sp, o in zip(todo, spans, outs):
        m = models[i]
        res[i] = o
        if isinstance(o, Exception):
            continue
        m.k = sp[1]
        if m.keep_history:
            m.out.extend(o)
        else:
            m._forget(sp[1])
    return res


#: the smoothers of a head model and their channels in its state array (HeadModel._z): the
#: speaking envelope, the arousal, the 8 emotion weights (posture), the gaze excess it follows
_Z_COLS = {"env": slice(0, 1), "arousal": slice(1, 2), "emo": slice(2, 10), "gaze": slice(10, 12)}
_Z_WIDTH = 12
_Z_STAGE = {".1": 0, ".2": 1}


def _state(m: HeadModel, name: str, shape: tuple) -> np.ndarray | None:
    """Smoother ``name`` ("env.1", ...)'s state in lfilter's shape, or None (not started)."""
    if m._z is None:
        return None
    base, stage = name[:-2], name[-2:]
    return m._z[_Z_STAGE[stage], _Z_COLS[base]].reshape((1,) + shape)


def _commit(commit: list) -> None:
    """Write the new smoother states: (model, name, state) of one smoother, or (model, None, the
    model's whole state array)."""
    for m, name, zf in commit:
        if name is None:
            m._z = zf
            continue
        if m._z is None:
            m._z = np.zeros((2, _Z_WIDTH))
        m._z[_Z_STAGE[name[-2:]], _Z_COLS[name[:-2]]] = np.reshape(zf, -1)


def _filt_rows(models: Sequence[HeadModel], name: str, tau: float, xs: list[np.ndarray], inits: list,
               commit: list) -> list[np.ndarray]:
    """One one-pole pass (its state carried under ``name``) of every model's ``xs[i]``, each
    through dsp.lfilter (the bake's long steps); the new states go to ``commit`` (applied once
    every number is computed)."""
    b, a = _one_pole(tau)
    ys = []
    for m, x, init in zip(models, xs, inits):
        zi = _state(m, name, x.shape[1:])
        if zi is None:
            # start the filter settled at its initial value so nothing swings in at t = 0
            first = np.broadcast_to(np.asarray(init, float), x.shape[1:])
            zi = lfilter_zi(b, a).reshape((1,) + (1,) * (x.ndim - 1)) * first[None]
        y, zf = lfilter(b, a, x, axis=0, zi=zi)
        ys.append(y)
        commit.append((m, name, zf))
    return ys


def _filt2_rows(models, name, tau, xs, inits, commit) -> list[np.ndarray]:
    """Two cascaded one-poles for every model (the smoother ``name``: stages ".1", ".2")."""
    return _filt_rows(models, name + ".2", tau / 2, _filt_rows(models, name + ".1", tau / 2, xs, inits, commit),
                      inits, commit)


def _column_constants(S: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(b0, a1, lfilter_zi) of each column of S models' state arrays (the two stages share them:
    both are one-poles of tau / 2): dsp.lfilter's first-order coefficients per smoother."""
    c = _COLS_CACHE.get(S)
    if c is None:
        b0, a1, zi = np.empty(_Z_WIDTH), np.empty(_Z_WIDTH), np.empty(_Z_WIDTH)
        for name, tau in (("env", ENVELOPE_TAU_S), ("arousal", ENVELOPE_TAU_S), ("emo", POSTURE_TAU_S),
                          ("gaze", GAZE_HEAD_TAU_S)):
            b, a = _one_pole(tau / 2)
            sl = _Z_COLS[name]
            b0[sl], a1[sl], zi[sl] = float(b[0]), float(a[1]), lfilter_zi(b, a)[0]
        c = (np.tile(b0, S), np.tile(a1, S), zi)
        if len(_COLS_CACHE) < 64:
            _COLS_CACHE[S] = c
    return c


_COLS_CACHE: dict[int, tuple] = {}


def _filt2_bank(models: Sequence[HeadModel], ns: list[int], env: list, arousal: list, emo: list,
                gaze: dict[int, np.ndarray], commit: list) -> np.ndarray | None:
    """Every smoother of every model (two cascaded one-poles each: the envelope, the arousal,
    the emotion posture and, for models that follow the gaze, the gaze excess) as the columns of
    one pass per stage, tick by tick: ``X[k, model, channel]``, each column its own coefficients
    and state (the model's state array, HeadModel._z), so the same products and sums as
    dsp.lfilter alone (bit-identical). Models with fewer ticks than the longest keep their state
    after their last tick. Returns the stage-2 output (n_max, S, 12) and puts each model's new
    state array into ``commit``; None when a step is too long for the pass (the bake: each
    smoother through :func:`_filt2_rows`)."""
    S, n = len(models), max(ns)
    if n > _ACROSS_MAX_TICKS:
        return None
    uniform = min(ns) == n
    X = np.zeros((n, S, _Z_WIDTH))
    if uniform:
        X[:, :, 0] = np.stack(env, axis=1)
        X[:, :, 1] = np.stack(arousal, axis=1)
        X[:, :, 2:10] = np.stack(emo, axis=1)
    else:
        for i, k in enumerate(ns):
            X[:k, i, 0], X[:k, i, 1], X[:k, i, 2:10] = env[i], arousal[i], emo[i]
    for i, g in gaze.items():
        X[:ns[i], i, 10:12] = g
    b0, a1, zi0 = _column_constants(S)
    fresh = [i for i, m in enumerate(models) if m._z is None]
    if fresh:
        Z = np.empty((S, 2, _Z_WIDTH))
        for i, m in enumerate(models):
            if m._z is not None:
                Z[i] = m._z
            else:
                # start every smoother settled at its initial value (zeros for the envelope and
                # the gaze, the first arousal / emotion row): lfilter_zi * first, both stages
                first = np.zeros(_Z_WIDTH)
                first[1], first[2:10] = m._arousal.first, m._emo.first
                Z[i] = zi0 * first
    else:
        Z = np.stack([m._z for m in models])
    X = X.reshape(n, S * _Z_WIDTH)
    live = None if uniform else [np.repeat(np.asarray(ns) > k, _Z_WIDTH) for k in range(n)]
    zs = []
    for stage in range(2):
        z = Z[:, stage].reshape(-1)
        Y = np.empty_like(X)
        for k in range(n):  # y = z + b0 x; z = x b1 - y a1 with b1 = 0 (scipy's order, as dsp.lfilter)
            xk = X[k]
            yk = z + b0 * xk
            zk = xk * 0.0 - yk * a1
            z = zk if live is None else np.where(live[k], zk, z)
            Y[k] = yk
        zs.append(z.reshape(S, _Z_WIDTH))
        X = Y  # the second stage filters the first one's output
    Znew = np.stack(zs, axis=1)
    for i, m in enumerate(models):
        commit.append((m, None, Znew[i]))
    return Y.reshape(n, S, _Z_WIDTH)


def _render_rows(models: Sequence[HeadModel], spans: list) -> list[np.ndarray]:
    """The numbers of a step for every model's span ((k0, k1, t, talk) from ``_decide``), rows
    stacked; returns each model's (k1 - k0, 3) degrees. Filter states are written back only when
    every number is computed, so a failure leaves the models as they were."""
    commit: list = []
    ns = [sp[1] - sp[0] for sp in spans]
    S = len(models)
    one = S == 1
    cat = (lambda xs: xs[0]) if one else np.concatenate  # noqa: E731
    t = cat([sp[2] for sp in spans])
    # every smoother's input is known up front (the gaze the head follows included): all of them
    # filtered together (_filt2_bank)
    fm = [i for i, m in enumerate(models) if m.cfg.follow_gaze]
    env_in = [sp[3].astype(float) for sp in spans]
    ar_in = [m._arousal.since(sp[0], sp[1]) for m, sp in zip(models, spans)]
    emo_in = [m._emo.since(sp[0], sp[1]) for m, sp in zip(models, spans)]
    gaze_in: dict[int, np.ndarray] = {}
    if fm:
        # the gaze excess the head takes, of every following model's rows in one pass (elementwise)
        rel = cat([models[i]._gaze.since(spans[i][0], spans[i][1]) for i in fm]) - \
            (models[fm[0]].gaze_target if one else np.repeat(np.stack([models[i].gaze_target for i in fm]),
                                                              [ns[i] for i in fm], axis=0))
        exc = np.sign(rel) * np.maximum(np.abs(rel) - GAZE_EYE_ONLY_DEG, 0) * np.array(GAZE_HEAD_SHARE)
        at = 0
        for i in fm:
            gaze_in[i] = exc[at:at + ns[i]]
            at += ns[i]
    Y = _filt2_bank(models, ns, env_in, ar_in, emo_in, gaze_in, commit)
    if Y is None:  # a long step (the bake): each smoother through dsp.lfilter
        env_l = _filt2_rows(models, "env", ENVELOPE_TAU_S, env_in, [0.0] * S, commit)
        ar_l = _filt2_rows(models, "arousal", ENVELOPE_TAU_S, ar_in, [m._arousal.first for m in models], commit)
        emos = _filt2_rows(models, "emo", POSTURE_TAU_S, emo_in, [m._emo.first for m in models], commit)
        follow_l = _filt2_rows([models[i] for i in fm], "gaze", GAZE_HEAD_TAU_S, [gaze_in[i] for i in fm],
                               [0.0] * len(fm), commit) if fm else []
        env, arousal = cat(env_l), cat(ar_l)
    elif min(ns) == max(ns):  # rows model after model: each model's column, transposed
        n = ns[0]
        env = Y[:, :, 0].T.reshape(-1)
        arousal = Y[:, :, 1].T.reshape(-1)
        emos = [Y[:, i, 2:10] for i in range(S)]
        follow_l = [Y[:, i, 10:12] for i in fm]
    else:
        env = cat([Y[:k, i, 0] for i, k in enumerate(ns)])
        arousal = cat([Y[:k, i, 1] for i, k in enumerate(ns)])
        emos = [Y[:k, i, 2:10] for i, k in enumerate(ns)]
        follow_l = [Y[:ns[i], i, 10:12] for i in fm]
    # each model's own matrix products, laid out as dsp.lfilter returns them (a product's
    # rounding may depend on its operand's rows and layout): the same numbers as alone
    emos = [e if e.flags.f_contiguous else np.asfortranarray(e) for e in emos]
    em = cat([e @ EMO_MOTION for e in emos])
    motion = (1 + AROUSAL_GAIN * arousal) * em
    # idle sway: each model's (amplitude, frequency, phase) rows repeated over its ticks
    idle_p = models[0]._idle[None] if one else np.repeat(np.stack([m._idle for m in models]), ns, axis=0)
    amp, freq, phase = idle_p[:, 0], idle_p[:, 1], idle_p[:, 2]
    idle = (amp * np.sin(2 * np.pi * freq * t[:, None, None] + phase)).sum(axis=2)
    idle *= ((1 + (SPEAKING_GAIN - 1) * env) * motion)[:, None]
    # posture: emotion plus a slight lift while talking
    posture = cat([e @ EMO_POSTURE_DEG for e in emos])
    posture[:, 1] -= SPEAKING_LIFT_DEG * env
    # prosodic gestures
    gest = np.zeros((len(t), 3))
    r0 = 0
    for m, sp, n in zip(models, spans, ns):
        tm = sp[2]
        g_rows = gest[r0:r0 + n]
        r0 += n
        if not m.gestures:
            continue
        ar = m._arousal
        first = bisect.bisect_left(m.gestures, tm[0] - MAX_GESTURE_SPAN_S, key=_gesture_t)
        last = bisect.bisect_right(m.gestures, tm[-1] + MAX_GESTURE_SPAN_S, key=_gesture_t)
        for g in m.gestures[first:last]:
            lo, hi = _gesture_support(g)
            i0, i1 = np.searchsorted(tm, [lo, hi])
            if i1 <= i0:
                continue
            ka = min(ar.n - 1, max(0, int(round(g.t / TICK_S))))
            gain = (1 + AROUSAL_GAIN * float(ar.at(ka)))
            g_rows[i0:i1] += _gesture_shape(g, tm[i0:i1]) * gain
    gest *= em[:, None]
    # gaze following (head takes part of large gaze shifts, with a lag)
    follow = np.zeros((len(t), 2))
    if fm:
        if len(fm) == S:
            follow = cat(follow_l)
        else:
            starts = np.concatenate([[0], np.cumsum(ns)])
            for i, y in zip(fm, follow_l):
                follow[starts[i]:starts[i + 1]] = y
    out = idle + posture + gest
    out[:, :2] += follow
    scales = [m.cfg.scale for m in models]
    out *= scales[0] if len(set(scales)) == 1 else np.repeat(scales, ns)[:, None]
    out = LIMIT_DEG * np.tanh(out / LIMIT_DEG)  # soft limits keep the motion smooth
    _commit(commit)
    if one:
        return [out]
    starts = np.concatenate([[0], np.cumsum(ns)])
    return [out[starts[i]:starts[i + 1]] for i in range(S)]


#: a gesture's time: the key of the searches (C-level attribute read)
_gesture_t = operator.attrgetter("t")


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

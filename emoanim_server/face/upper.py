"""The speech-driven upper face: brows, lids, cheeks, nostrils and the small mouth/chin motion
that real talkers make on every line, with or without an emotion tag.

Why: held against iPhone ARKit captures of people talking, a face with only lip-sync is a moving
mouth on a still head (issue 12: 21 of 52 curves never moved, brows at 6 % of a real speaker's
spread). People's upper face moves with their *voice*: brows rise on pitch accents and on the
rising end of questions and fall on low, phrase-final pitch (the eyebrow-f0 link: Cavé et al.
1996, ICSLP; Granström & House 2005, Speech Commun. 46:473; Krahmer & Swerts 2007, J. Mem. Lang.
57:396), the upper lid follows the brow (AU5 with AU1+2), lids tighten with vocal effort,
nostrils flare on the inhalation in pauses, lip corners and chin move at phrase ends (the chin
raise AU17 of a finished statement, brief social smiles) and everything drifts slowly. All of it
comes from pitch, voicing and loudness *relative to the speaker's own running level*, so it is
language-independent and recording-gain-independent. The emotion state modulates it (an angry
speaker lowers where a neutral one raises; a happy one smiles and raises the cheeks; a sad one
raises the inner brows and pulls the corners down), and every random choice is seeded.

Streaming interface (what the LIVE stage graph calls; the bake wrapper :func:`upper_face` runs
exactly the same code with the whole input)::

    m = UpperFaceModel(UpperConfig(), seed)      # seed: e.g. eyes.line_seed(seed, key)
    m.feed_audio(samples16k)                     # any chunk sizes, float32 mono 16 kHz
    m.feed_emotion(weights (n, 8), arousal (n,))  # optional, per 10 ms tick (drivers.EMOTIONS order)
    ticks = m.step(until_s)                      # (k, len(UPPER_CURVES)) new ticks, ARKit offsets
    m.close()                                    # end of audio: flush the last ticks

* ticks are on the driver grid of :mod:`.drivers` (``TICK_S`` = 10 ms, tick k at ``k * TICK_S``);
* output up to time T needs audio up to ``T + LOOKAHEAD_S`` (50 ms: 26 ms of pitch window +
  20 ms of pitch smoothing) and emotion ticks up to T when ``feed_emotion`` is used
  (``UpperConfig.follow_emotion``); :attr:`UpperFaceModel.ready_until` says how far it can go;
* state (running pitch/loudness references, envelopes, filters, random generators) is carried
  across calls; random numbers are drawn per event in event order, and the slow drift is a pure
  function of time, so any chunking gives exactly the whole-input result (tests/test_upper.py);
* the output is an offset face in ARKit units for the channels in :data:`UPPER_CURVES`; the bake
  adds it after the mixer (:func:`apply_upper`), before the eyes stage (which closes the lids over
  it). None of the channels opens the lips (no jawOpen / mouthClose / upperUp / lowerDown), so
  lip contacts are untouched by construction.
"""
from __future__ import annotations

import bisect
import math
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any, Mapping

import numpy as np

from ..dsp import Bandpass  # numpy, not scipy.signal (issue 14: start-up)
from ..errors import InputError
from ..track import ARKIT_INDEX, AnimationTrack
from .drivers import EMOTIONS, TICK_S, decide_then_render
from .eyes import _Grow, _stage_rngs

SAMPLE_RATE = 16000
HOP = int(round(TICK_S * SAMPLE_RATE))
UPPER_STAGE_ID = 0x0FACE
#: the ARKit curves this stage writes (offsets, added to the face)
UPPER_CURVES: tuple[str, ...] = (
    "browInnerUp", "browOuterUpLeft", "browOuterUpRight", "browDownLeft", "browDownRight",
    "eyeWideLeft", "eyeWideRight", "eyeSquintLeft", "eyeSquintRight",
    "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthShrugLower", "mouthShrugUpper",
    "mouthLeft", "mouthRight", "jawLeft", "jawRight", "jawForward")
_C = {n: i for i, n in enumerate(UPPER_CURVES)}

# ------------------------------------------------------------------ pitch / loudness front end
_F0_MIN, _F0_MAX = 60.0, 500.0
_TMIN, _TMAX = int(SAMPLE_RATE / _F0_MAX), int(math.ceil(SAMPLE_RATE / _F0_MIN))
_W = _TMAX + 16                      # YIN integration window (audio.prosody.pitch_track)
_WIN_END = _W + _TMAX + 1 - _W // 2  # samples a pitch frame reads after its own time
_YIN_LEN = _W + _TMAX + 1            # samples of one YIN frame (audio.prosody.yin_geometry's length)
_YIN_ARANGE = np.arange(_YIN_LEN)
_VOICING_AP = 0.3
#: skip YIN on ticks too quiet for their pitch to be read (UpperFaceModel._span; False: every
#: tick analysed, for tests that show it changes nothing)
SKIP_QUIET_PITCH = True
#: ticks of centred pitch smoothing (look-ahead of the decisions)
SMOOTH_TICKS = 2
_FEATURE_LOOKAHEAD_TICKS = int(math.ceil(_WIN_END / HOP))
LOOKAHEAD_S = (_FEATURE_LOOKAHEAD_TICKS + SMOOTH_TICKS) * TICK_S
#: running references of the speaker's own pitch and loudness (EMA time constants, s)
#: the speaker's pitch reference: median and spread ((p80 - p20) / 1.7) of the voiced pitch of
#: the last PITCH_REF_TICKS voiced ticks (robust to octave slips and to where the line starts)
PITCH_REF_TICKS, PITCH_REF_MIN = 250, 15
LOUD_REF_TAU_S = 2.0
#: a pause is a phrase boundary after this much silence; a breath needs a longer one
BOUNDARY_S, BREATH_S = 0.15, 0.25

# ------------------------------------------------------------------ behaviour (ARKit units)
#: pitch-accent brow raise: amplitude = base + per * strength; the pulse decays with ACCENT_TAU_S
ACCENT_Z, ACCENT_MIN_GAP_S, ACCENT_RISE_ST = 0.9, 0.3, 0.4
ACCENT_AMP = (0.42, 0.45)
ACCENT_P = (0.6, 0.4)                # probability of a visible raise = a + b * strength
ACCENT_TAU_S = 0.38
#: continuous pitch following (brows up with high pitch, down with low pitch)
PITCH_RAISE, PITCH_LOWER = 0.12, 0.2
#: phrase ends: a rise (question/continuation) holds the brows up; a fall lowers them a little,
#: pulls the corners and raises the chin (statement end); sometimes a brief social smile
QUESTION_RAISE = (0.35, 0.25)
FALL_LOWER = (0.35, 0.3)
P_FALL_FROWN, P_FALL_CHIN, P_BOUNDARY_SMILE = 0.55, 0.55, 0.45
FROWN_AMP, CHIN_AMP, SMILE_AMP = (0.12, 0.25), (0.07, 0.12), (0.2, 0.4)
PHRASE_RELEASE_TAU_S = 0.7
#: nostril flare on the inhalation in a pause (levator/dilator naris), released at speech onset
FLARE_AMP = (0.25, 0.45)
FLARE_RISE_TAU_S, FLARE_RELEASE_TAU_S = 0.25, 0.2
#: vocal effort (loudness above the running level) tightens the lids
EFFORT_SQUINT = 0.06
#: tonic levels and slow drift (0.05-0.4 Hz sinusoids, seeded): a held face is never frozen
DRIFT_HZ = (0.05, 0.4)
DRIFT_AMP = {"brow": 0.1, "lower": 0.12, "smile": 0.13, "frown": 0.06, "lateral": 0.05,
             "jaw_lat": 0.04, "jaw_fwd": 0.025, "squint": 0.04, "wide": 0.1}
TONIC = {"wide": 0.06, "squint": 0.05, "lower": 0.05, "smile": 0.03}
#: smoothing of every channel: two cascaded one-poles (critically damped) of this total tau
FILTER_TAU_S = {"brow": 0.12, "lid": 0.09, "mouth": 0.12, "nose": 0.12}

#: per-emotion gains (drivers.EMOTIONS order) of the internal channels
#:               neutral happy sad  angry fear disgust surprise contempt
EMO_GAIN = {
    "raise":   np.array([1.0, 1.1, 0.7, 0.6, 1.3, 0.6, 1.6, 0.8]),
    "inner":   np.array([0.0, 0.0, 0.25, 0.0, 0.2, 0.0, 0.0, 0.0]),   # extra inner-brow (AU1) level
    "lower":   np.array([1.0, 0.6, 1.2, 1.8, 0.9, 1.5, 0.5, 1.1]),
    "wide":    np.array([1.0, 1.0, 0.5, 0.8, 1.6, 0.6, 1.7, 0.8]),
    "squint":  np.array([1.0, 1.4, 0.8, 1.5, 0.7, 1.3, 0.6, 1.1]),
    "smile":   np.array([1.0, 2.0, 0.3, 0.3, 0.3, 0.3, 0.9, 1.2]),
    "frown":   np.array([1.0, 0.4, 1.8, 1.2, 1.3, 1.5, 0.6, 1.0]),
    "chin":    np.array([1.0, 0.8, 1.6, 1.3, 1.0, 1.3, 0.7, 1.3]),
    "sneer":   np.array([1.0, 1.0, 0.8, 1.8, 1.0, 2.2, 1.0, 1.3]),
    "lateral": np.array([1.0, 1.0, 0.7, 1.0, 1.2, 1.0, 1.0, 1.5]),
}
#: share of accent raises that become lowering (an angry speaker frowns on the stressed word)
EMO_RAISE_TO_LOWER = np.array([0.0, 0.0, 0.0, 0.85, 0.1, 0.6, 0.0, 0.3])
#: arousal (-1..1) scales the motion by exp(gain * arousal)
AROUSAL_GAIN = 0.35


@dataclass
class UpperConfig:
    """User controls (BakeOptions.extra["upper"]; CLI ``--no-upper-face`` / ``--upper-face-scale``)."""

    enabled: bool = True
    scale: float = 1.0            # multiplies every offset
    follow_emotion: bool = False  # step() waits for feed_emotion ticks (set by the bake wrapper)

    def __post_init__(self) -> None:
        if not (0.0 <= self.scale <= 3.0) or not math.isfinite(self.scale):
            raise InputError(f"upper face scale: {self.scale!r} out of range; expected 0..3 (1 = default)")

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any] | None) -> "UpperConfig":
        d = dict((extra or {}).get("upper", {}) or {})
        known = set(cls.__dataclass_fields__) - {"follow_emotion"}
        bad = set(d) - known
        if bad:
            raise InputError(f"upper face options: unknown {sorted(bad)}; expected some of {sorted(known)}")
        return cls(**d)

    def to_dict(self) -> dict:
        d = asdict(self)
        d.pop("follow_emotion")
        return d


def _pct(srt: list[float], q: float) -> float:
    """np.percentile(x, q) (linear method) of an already sorted list, the same floating-point
    steps as numpy's, without sorting a copy per tick (the per-tick percentile was most of this
    stage's LIVE cost)."""
    pos = q / 100.0 * (len(srt) - 1)
    i = int(math.floor(pos))
    j = min(i + 1, len(srt) - 1)
    t = pos - i
    a, b = srt[i], srt[j]
    d = b - a
    return b - d * (1.0 - t) if t >= 0.5 else a + d * t


#: per-tick decay of the envelopes (step)
_DECAY = {k: math.exp(-TICK_S / tau) for k, tau in (("accent", ACCENT_TAU_S), ("release", PHRASE_RELEASE_TAU_S),
                                                  ("flare_in", FLARE_RISE_TAU_S), ("flare_out", FLARE_RELEASE_TAU_S))}


def _emotion_rows(weights: np.ndarray, arousal: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`UpperFaceModel.feed_emotion`'s rows: weights clipped to 0..1 and normalised per
    row, arousal clipped to -1..1."""
    w = np.minimum(np.maximum(0.0, _finite(np.asarray(weights, float))), 1.0).reshape(-1, len(EMOTIONS))
    a = (np.zeros(len(w)) if arousal is None
         else np.minimum(np.maximum(-1.0, _finite(np.asarray(arousal, float))), 1.0).reshape(-1))
    if len(a) != len(w):
        raise ValueError(f"arousal has {len(a)} ticks, weights have {len(w)}")
    return w / np.maximum(w.sum(axis=1, keepdims=True), 1e-9), a


def _finite(x: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(x)`` (NaN -> 0, +-inf -> the largest floats), without its cost when every
    value is finite already (nearly always: it runs on every LIVE chunk). ``np.minimum(np.maximum(lo,
    x), hi)`` in this module is np.clip's result bit for bit, at half its per-call cost."""
    return x if np.isfinite(x).all() else np.nan_to_num(x)


def _median(x: list[float]) -> float:
    """np.median of a short list (the pitch smoothing window, <= 5 values)."""
    x = sorted(x)
    n = len(x)
    return x[n // 2] if n % 2 else (x[n // 2 - 1] + x[n // 2]) / 2.0


#: offsets above the knee bend smoothly toward the ceiling instead of clipping at 1: a hard
#: clip held eyeWide at exactly 1.0 for ~0.15 s on a strong accent (a startle, not speech)
SOFT_KNEE, SOFT_CEIL = 0.6, 0.95


def _soft_ceiling(x: np.ndarray) -> np.ndarray:
    """Identity below SOFT_KNEE, then a tanh bend that never reaches SOFT_CEIL (per element)."""
    span = SOFT_CEIL - SOFT_KNEE
    return np.where(x <= SOFT_KNEE, x, SOFT_KNEE + span * np.tanh((x - SOFT_KNEE) / span))


def _one_pole(tau: float) -> tuple[np.ndarray, np.ndarray]:
    a = 1.0 - math.exp(-TICK_S / tau)
    return np.array([a]), np.array([1.0, a - 1.0])


#: the output channels of each smoothing region (FILTER_TAU_S)
_FILTER_GROUPS = {"brow": [_C[n] for n in UPPER_CURVES if n.startswith("brow")],
                  "lid": [_C[n] for n in UPPER_CURVES if n.startswith(("eye", "cheek"))],
                  "nose": [_C["noseSneerLeft"], _C["noseSneerRight"]]}
_FILTER_GROUPS["mouth"] = [i for i in range(len(UPPER_CURVES))
                           if not any(i in v for v in _FILTER_GROUPS.values())]


def _column_coefs() -> tuple[np.ndarray, np.ndarray]:
    """Per output channel: b0 and a1 of its region's one-pole (tau / 2, as :meth:`_filt`)."""
    b0, a1 = np.zeros(len(UPPER_CURVES)), np.zeros(len(UPPER_CURVES))
    for name, idx in _FILTER_GROUPS.items():
        b, a = _one_pole(FILTER_TAU_S[name] / 2)
        b0[idx], a1[idx] = float(b[0]), float(a[1])
    return b0, a1


_COLUMN_COEFS = _column_coefs()


class UpperFaceModel:
    """Incremental speech-driven upper face (see the module docstring for the contract)."""

    def __init__(self, config: UpperConfig | None = None, seed: int = 0) -> None:
        self.cfg = config or UpperConfig()
        r_drift, self.rng_accent, self.rng_phrase = _stage_rngs(seed, UPPER_STAGE_ID, 3)
        # slow drift: per drift channel (and side) three sinusoids, a pure function of time
        self._drift_keys = ("brow", "browL", "lower", "smile", "smileL", "frown", "lateral",
                            "jaw_lat", "jaw_fwd", "squint", "wide")
        lo, hi = DRIFT_HZ
        nk = len(self._drift_keys)
        self._df = np.exp(r_drift.uniform(math.log(lo), math.log(hi), (3, nk)))
        self._dp = r_drift.uniform(0, 2 * math.pi, (3, nk))
        self._da = np.array([0.6, 0.3, 0.2])[:, None] * r_drift.uniform(0.7, 1.0, (3, nk)) / 1.1
        self._asym = 1.0 + r_drift.uniform(-0.12, 0.12, 4)  # fixed L/R asymmetry of this face
        # the drift's per-row parameters packed for _render_rows (one stack per call for all
        # models, not four): amplitudes, angular frequencies ((2 pi) * f: the product the
        # render's ``2 * np.pi * df`` makes, the same doubles) and phases, (9, nk)
        self._drift_rows = np.concatenate([self._da, (2 * np.pi) * self._df, self._dp])
        # audio front end
        self._buf = np.zeros(0, np.float64)   # samples from _buf0 on
        self._buf0 = 0
        self._n_samples = 0
        self._bandpass = Bandpass(250.0, 2500.0, SAMPLE_RATE)  # 2nd-order Butterworth, state kept
        self._band_sq = np.zeros(0)           # filtered samples squared, from _band0 on
        self._band0 = -(HOP // 2)             # bins are centred on ticks: pad half a hop in front
        self._pending_pad = True
        self._f0 = _Grow()
        self._ap = _Grow()
        self._feat_peak: list[float] = []     # the loudness peak tracker at the last ticks analysed
        self._span_cache: tuple | None = None  # _span's result until take_pitch uses it
        self._band = _Grow()
        self._emo = _Grow(len(EMOTIONS))
        self._arousal = _Grow()
        self._emo_repeated: tuple | None = None  # feed_emotion_repeated's rows: (row key, {n: rows})
        #: absolute tick of the first entry kept in _f0/_ap/_band and in _emo/_arousal (LIVE drops
        #: what no later step reads: :meth:`_forget`)
        self._feat0 = self._emo0 = 0
        self.closed = False
        # decision state
        self.k = 0
        self._peak_db = -80.0
        self._pause_ticks = 10 ** 6
        self._in_speech = False
        self._base_st = math.nan
        self._dev_st = 2.0
        self._ref_hist: deque[float] = deque()  # voiced pitch (st) of the last PITCH_REF_TICKS ticks
        self._ref_sorted: list[float] = []    # the same values, sorted (running percentiles)
        self._loud_ref = math.nan
        self._ps_hist: list[float] = []       # smoothed pitch z of recent voiced ticks (phrase end)
        self._st_hist: list[float] = []       # smoothed pitch (st) of recent voiced ticks (rises)
        self._last_accent = -math.inf
        self._env = {"accent": 0.0, "question": 0.0, "fall": 0.0, "frown": 0.0, "chin": 0.0,
                     "smile": 0.0, "flare": 0.0}
        self._targets = {"question": 0.0, "fall": 0.0, "frown": 0.0, "chin": 0.0, "smile": 0.0,
                         "flare": 0.0}
        self._held = False                    # phrase-end targets held through the pause
        self._zi: dict[str, np.ndarray] = {}  # filter states: (2, columns), stage 1 and stage 2
        self.out = _Grow(len(UPPER_CURVES))
        #: keep every tick's offsets (``out``) and ``pitch_z`` (the bake reads them); a LIVE
        #: session sets False: it takes each step's ticks as returned, and ~300 bytes a tick
        #: would otherwise grow a 300 s session by ~10 MB
        self.keep_history = True
        self.events: list[tuple[float, str, float]] = []
        self.pitch_z: list[float] = []        # per decided tick: pitch against the running reference

    # ------------------------------------------------------------------------ input side
    def feed_audio(self, samples: np.ndarray) -> None:
        """Append 16 kHz mono float samples (any chunk size)."""
        self.append_audio(samples)
        self._features(final=False)

    def append_audio(self, samples: np.ndarray, band: np.ndarray | None = None) -> None:
        """:meth:`feed_audio` without the pitch analysis: then :meth:`pitch_frames` gives the YIN
        frames the new ticks need, and :meth:`take_pitch` their result (so that many sessions
        share one YIN call: live_batch.tick); the same numbers as feed_audio. ``band``: these
        (finite) samples through ``self._bandpass``, computed by the caller for many sessions
        at once (``dsp.bandpass_many``); None: filtered here."""
        if self.closed:
            raise RuntimeError("UpperFaceModel.feed_audio after close()")
        x = _finite(np.asarray(samples, np.float64).reshape(-1))
        if not len(x):
            return
        self._buf = np.concatenate([self._buf, x])
        self._n_samples += len(x)
        y = self._bandpass(x) if band is None else band
        if self._pending_pad:
            y = np.concatenate([np.zeros(HOP // 2), y])
            self._pending_pad = False
        self._band_sq = np.concatenate([self._band_sq, y * y])

    def feed_emotion(self, weights: np.ndarray, arousal: np.ndarray | None = None) -> None:
        """Append per-tick emotion weights (n, 8; drivers.EMOTIONS order) and arousal (n,)."""
        w, a = _emotion_rows(weights, arousal)
        self._emo.extend(w)
        self._arousal.extend(a)

    def feed_emotion_repeated(self, weights: np.ndarray, arousal: np.ndarray, n: int) -> None:
        """:meth:`feed_emotion` of one row (``weights`` (1, 8), ``arousal`` (1,)) repeated for
        ``n`` ticks. Why: a LIVE session without an emotion timeline feeds the same row every
        step; its clipped, normalised ``n`` rows are computed once per ``n`` (by feed_emotion's
        own code on the repeated rows, so the same numbers) and reused."""
        key = (np.asarray(weights, float).tobytes(), np.asarray(arousal, float).tobytes())
        memo = self._emo_repeated
        if memo is None or memo[0] != key:
            memo = self._emo_repeated = (key, {})
        rows = memo[1].get(n)
        if rows is None:
            rows = _emotion_rows(np.repeat(np.asarray(weights, float).reshape(1, -1), n, axis=0),
                                 np.repeat(np.asarray(arousal, float).reshape(-1), n))
            if len(memo[1]) < 16:
                memo[1][n] = rows
        self._emo.extend(rows[0])
        self._arousal.extend(rows[1])

    def close(self) -> None:
        """No more audio: the last ticks are computed with silence after the end."""
        if not self.closed:
            self._features(final=True)
            self.closed = True

    @property
    def n_features(self) -> int:
        """Ticks whose pitch and loudness are analysed (absolute count)."""
        return self._feat0 + self._f0.n

    @property
    def n_emotion(self) -> int:
        """Ticks of emotion fed (absolute count)."""
        return self._emo0 + self._emo.n

    #: entries dropped at once (a copy of what is kept each time: amortised, and ~6 KB a model)
    _FORGET_CHUNK = 256

    def _forget(self) -> None:
        """LIVE (``keep_history`` False): drop the pitch/loudness ticks and emotion ticks no later
        step reads (features before ``k - SMOOTH_TICKS``, emotion before ``k``), so a session's
        memory stays flat with its length (issue 10: <= 15 MB per session at any length)."""
        if self.keep_history:
            return
        for names, first, cut in ((("_f0", "_ap", "_band"), "_feat0", self.k - SMOOTH_TICKS),
                                  (("_emo", "_arousal"), "_emo0", self.k)):
            drop = min(cut - getattr(self, first), getattr(self, names[0]).n)
            if drop < self._FORGET_CHUNK:
                continue
            for name in names:
                old = getattr(self, name)
                new = _Grow(*old.a.shape[1:])
                new.extend(old.view[drop:])
                setattr(self, name, new)
            setattr(self, first, getattr(self, first) + drop)

    @property
    def n_ticks_total(self) -> int:
        """Ticks of the fed audio (the last one at or after the end, as drivers.n_ticks_for)."""
        return max(1, int(math.ceil(self._n_samples / HOP - 1e-9)) + 1)

    @property
    def ready_until(self) -> float:
        n = self.n_features if self.closed else self.n_features - SMOOTH_TICKS
        if self.cfg.follow_emotion and not self.closed:
            n = min(n, self.n_emotion)
        return max(0, n) * TICK_S

    def _features(self, final: bool) -> None:
        """Pitch (YIN, as audio.prosody.pitch_track) and band loudness for every tick whose
        analysis window is complete (all of them when ``final``)."""
        fr = self.pitch_frames(final)
        if fr is not None:
            self.take_pitch(*yin(fr), final=final)

    def _feature_span(self, final: bool) -> tuple[int, int]:
        """Ticks [k0, k1) whose analysis windows are complete now (all of them when ``final``)."""
        k0 = self.n_features
        n_total = self.n_ticks_total
        if final:
            return k0, n_total
        k1 = max(k0, (self._n_samples - _WIN_END) // HOP + 1)
        k1 = min(k1, n_total)
        # band bins must be complete too
        return k0, min(k1, max(0, (self._n_samples - HOP // 2) // HOP + 1))

    def _span(self, final: bool) -> tuple[int, int, np.ndarray, list[float], np.ndarray]:
        """The ticks [k0, k1) of :meth:`_feature_span`, their band loudness (dB), the loudness
        peak tracker over them (:meth:`_decide`'s, the same recursion) and which of them need a
        pitch: a tick's pitch and voicing are read only where it is loud against the threshold
        of a tick whose smoothing window holds it, so a tick quieter than every such threshold
        (silence, pauses; by a 0.01 dB margin) never needs YIN (it gets pitch_track's unvoiced
        values). The same curves, at ~15-30 % fewer YIN frames on speech, all of them in silence."""
        k0, k1 = self._feature_span(final)
        c = self._span_cache
        if c is not None and c[0] == (k0, k1, final, self._n_samples):
            return c[1]
        if k1 <= k0:
            return k0, k1, np.zeros(0), [], np.zeros(0, bool)
        sq = self._band_sq
        need_b = (k1 - k0) * HOP
        if len(sq) < need_b:
            sq = np.concatenate([sq, np.zeros(need_b - len(sq))])
        # band loudness: RMS of the hop-long bin centred on each tick
        # (np.mean's own steps, a sum and one division, without its per-call cost)
        db = 10 * np.log10(np.add.reduce(sq[:need_b].reshape(k1 - k0, HOP), axis=1) / HOP + 1e-14)
        dbl = db.tolist()
        prev = self._feat_peak
        p = prev[-1] if prev else -80.0
        peaks = []
        for v in dbl:
            p = max(v, p - 0.02)
            peaks.append(p)
        # the lowest peak over the window [i - S, i + S]: known before k1, bounded below after
        # it (the tracker falls at most 0.02 dB a tick); inf before the first tick
        S = SMOOTH_TICKS
        ext = [math.inf] * (S - len(prev)) + prev + peaks + [p - 0.02 * (i + 1) for i in range(S)]
        if not SKIP_QUIET_PITCH:
            need = np.ones(len(dbl), bool)
        elif len(dbl) < 64:
            need = np.array([v > max(min(ext[i:i + 2 * S + 1]) - 30.0, -62.0) - 0.01
                             for i, v in enumerate(dbl)], bool)
        else:  # long spans (the bake): the same rule on arrays
            wmin = np.lib.stride_tricks.sliding_window_view(np.array(ext), 2 * S + 1).min(axis=1)
            need = db > np.maximum(wmin - 30.0, -62.0) - 0.01
        self._span_cache = ((k0, k1, final, self._n_samples), (k0, k1, db, peaks, need))
        return k0, k1, db, peaks, need

    def pitch_frames(self, final: bool = False) -> np.ndarray | None:
        """The YIN frames ((n, length), audio.prosody.yin_frames) of the ticks whose analysis
        windows are complete and that need a pitch (:meth:`_span`; n may be 0), or None: no
        complete tick. Exactly the frames ``pitch_track`` builds for them (frame k reads the
        samples from k * HOP - w // 2, zeros past the end when ``final``)."""
        k0, k1, _, _, need = self._span(final)
        if k1 <= k0:
            return None
        w, length = _W, _YIN_LEN
        rows = need.nonzero()[0]
        if not len(rows):
            return np.zeros((0, length))
        # one frame of context in front so no kept frame sees the zero pad pitch_track puts
        # before its input (frame 0 of the whole input does, in every mode)
        ctx = 1 if k0 > 0 else 0
        y = self._buf[(k0 - ctx) * HOP - self._buf0:]
        # frame of tick k0 + r starts at y[start + r * HOP]; LIVE (not final, past the first tick)
        # every frame lies inside y: read it there, without building a zero-padded copy
        start = ctx * HOP - w // 2
        if final or start < 0 or start + int(rows[-1]) * HOP + length > len(y):
            if final:
                y = np.concatenate([y, np.zeros(2 * HOP)])
            y = np.concatenate([np.zeros(w // 2), y, np.zeros(length + HOP)])  # np.pad's, at a sixth of its cost
            start = ctx * HOP
        return y.take((start + rows * HOP)[:, None] + _YIN_ARANGE)

    def take_pitch(self, f0: np.ndarray, ap: np.ndarray, final: bool = False) -> None:
        """The YIN result of :meth:`pitch_frames` (same ``final``; one value per frame it gave):
        pitch and band loudness of those ticks appended, audio no longer needed dropped."""
        k0, k1, db, peaks, need = self._span(final)
        if k1 <= k0:
            return
        # pitch_track's output arrays are float32 (unvoiced: f0 0, aperiodicity 1)
        f = np.zeros(k1 - k0, np.float32)
        a = np.ones(k1 - k0, np.float32)
        f[need] = f0
        a[need] = ap
        self._f0.extend(f)
        self._ap.extend(a)
        self._band.extend(db)
        self._band_sq = self._band_sq[(k1 - k0) * HOP:]
        self._feat_peak = (self._feat_peak + peaks)[-SMOOTH_TICKS:]
        self._span_cache = None
        # keep only the audio still needed for pitch context
        keep_from = max(0, (k1 - 1) * HOP)
        if keep_from > self._buf0:
            self._buf = self._buf[keep_from - self._buf0:]
            self._buf0 = keep_from

    # ------------------------------------------------------------------------ decisions
    def _drift(self, t: np.ndarray) -> dict[str, np.ndarray]:
        x = (self._da[None] * np.sin(2 * np.pi * self._df[None] * t[:, None, None] + self._dp[None])).sum(axis=1)
        return {k: x[:, i] for i, k in enumerate(self._drift_keys)}

    def _filt(self, name: str, tau: float | None, x: np.ndarray) -> np.ndarray:
        """Two cascaded one-poles (critically damped), state carried across calls, from rest
        (:func:`_filt_rows` for this model alone)."""
        return _filt_rows([self], name, tau, x, [len(x)])

    def step(self, until_s: float) -> np.ndarray:
        """Decide ticks with time < ``until_s`` (clamped to :attr:`ready_until`); returns the new
        ticks as (k, len(UPPER_CURVES)) ARKit offsets (:func:`step_many` for many models)."""
        out = step_many([self], [until_s])[0]
        if isinstance(out, Exception):
            raise out
        return out

    def _decide(self, until_s: float) -> tuple[int, int, np.ndarray] | None:
        """The per-tick decisions of :meth:`step` (the sequential part: references, events,
        envelopes) -> (k0, k1, raw channels (len(_RAW_KEYS), k1 - k0)) for :func:`_render_rows`,
        or None: no new tick."""
        k0 = self.k
        k1 = min(int(math.ceil(until_s / TICK_S - 1e-9)), int(round(self.ready_until / TICK_S)))
        if k1 <= k0:
            return None
        self._forget()
        n_feat = self.n_features
        # pitch and voicing of the ticks this step reads (k0 - S .. k1 + S), not of the whole
        # history: the step's cost must not grow with the session's length
        o = max(0, k0 - SMOOTH_TICKS)
        o1 = min(n_feat, k1 + SMOOTH_TICKS + 1)
        a, b = o - self._feat0, o1 - self._feat0
        voiced_all = self._ap.view[a:b] < _VOICING_AP
        st_all = 12.0 * np.log2(np.maximum(self._f0.view[a:b], 1.0) / 100.0)
        # the per-tick work below on Python floats (the same values): a LIVE step has 1-4 ticks,
        # where numpy's per-call cost on 5-element windows was most of the loop's
        vl, sl, bl = voiced_all.tolist(), st_all.tolist(), self._band.view[a:b].tolist()
        # the state this loop updates per tick as local names (written back after it): the
        # same operations in the same order as on the attributes, at a fraction of the lookups
        rows: list[tuple] = []
        dt = TICK_S
        S = SMOOTH_TICKS
        nan, isnan = math.nan, math.isnan
        d_acc, d_rel = _DECAY["accent"], _DECAY["release"]
        d_fin, d_fout = _DECAY["flare_in"], _DECAY["flare_out"]
        g_hold = (1 - d_rel) * 3.0  # the pause's quick onset: (1 - release) * 3.0 * (target - env)
        g_flare = 1 - d_fin
        g_loud = dt / LOUD_REF_TAU_S
        peak, pause, in_speech = self._peak_db, self._pause_ticks, self._in_speech
        base_st, dev_st, loud_ref, last_accent = self._base_st, self._dev_st, self._loud_ref, self._last_accent
        h, srt = self._ref_hist, self._ref_sorted
        ps_hist, st_hist = self._ps_hist, self._st_hist
        env = self._env
        e_acc, e_q, e_fall, e_frown, e_chin, e_smile, e_flare = (
            env["accent"], env["question"], env["fall"], env["frown"], env["chin"], env["smile"], env["flare"])
        tg, held = self._targets, self._held
        keep_z = self.pitch_z if self.keep_history else None
        for k in range(k0, k1):
            t = k * dt
            db = bl[k - o]
            peak = max(db, peak - 0.02)
            thr = max(peak - 30.0, -62.0)
            loud = db > thr
            voiced = vl[k - o] and loud
            # smoothed pitch over voiced ticks in [k - S, k + S]
            ps = nan
            if voiced:
                lo, hi = max(0, k - S) - o, min(n_feat, k + S + 1) - o
                win = [sl[j] for j in range(lo, hi) if vl[j] and bl[j] > thr]
                if win:
                    ps = _median(win)
            if not isnan(ps) and not isnan(base_st):
                # octave errors of the pitch tracker fold back toward the running reference
                # (causal counterpart of audio.prosody's utterance-median fold)
                if ps - base_st > 9.0:
                    ps -= 12.0
                elif ps - base_st < -9.0:
                    ps += 12.0
            # speech activity with a causal hangover: a pause exists once it lasts BOUNDARY_S
            if loud:
                resumed = pause * dt >= BOUNDARY_S
                pause = 0
                if resumed:
                    self._on_speech_resume(t)
                    held = self._held
                in_speech = True
            else:
                pause += 1
                if in_speech and pause * dt >= BOUNDARY_S:
                    in_speech = False
                    self._on_phrase_end(t)
                    tg, held = self._targets, self._held
                    ps_hist, st_hist = self._ps_hist, self._st_hist
            speaking = in_speech
            # running references of the speaker's pitch and loudness
            z = 0.0
            if not isnan(ps):
                h.append(ps)
                bisect.insort(srt, ps)
                if len(h) > PITCH_REF_TICKS:
                    old = h.popleft()
                    del srt[bisect.bisect_left(srt, old)]
                if len(h) >= PITCH_REF_MIN:
                    lo20, med, hi80 = _pct(srt, 20), _pct(srt, 50), _pct(srt, 80)
                    base_st, dev_st = float(med), float(max((hi80 - lo20) / 1.7, 1.0))
                    z = (ps - base_st) / dev_st
                ps_hist.append(z)
                st_hist.append(ps)
                if len(ps_hist) > 40:
                    del ps_hist[0], st_hist[0]
                # pitch accent: high against the running reference and still rising
                rising = len(st_hist) > 6 and ps - st_hist[-7] > ACCENT_RISE_ST
                if len(h) >= PITCH_REF_MIN and z > ACCENT_Z and rising and t - last_accent >= ACCENT_MIN_GAP_S:
                    last_accent = t
                    strength = float(np.clip((z - ACCENT_Z) / 1.5 + 0.4, 0.3, 1.0))
                    if self.rng_accent.random() < ACCENT_P[0] + ACCENT_P[1] * strength:
                        amp = (ACCENT_AMP[0] + ACCENT_AMP[1] * strength) * float(self.rng_accent.uniform(0.8, 1.2))
                        e_acc = max(e_acc, amp)
                        self.events.append((round(t, 3), "accent", round(amp, 3)))
            effort = 0.0
            if loud:
                if isnan(loud_ref):
                    loud_ref = db
                effort = max(0.0, (db - loud_ref) / 6.0)
                loud_ref += g_loud * (db - loud_ref)
            # envelopes
            e_acc *= d_acc
            if held:  # phrase-end targets: quick onset in the pause
                e_q += g_hold * (tg["question"] - e_q)
                e_fall += g_hold * (tg["fall"] - e_fall)
                e_frown += g_hold * (tg["frown"] - e_frown)
                e_chin += g_hold * (tg["chin"] - e_chin)
                e_smile += g_hold * (tg["smile"] - e_smile)
            else:
                e_q *= d_rel
                e_fall *= d_rel
                e_frown *= d_rel
                e_chin *= d_rel
                e_smile *= d_rel
            if not speaking and pause * dt >= BREATH_S:
                e_flare += g_flare * (tg["flare"] - e_flare)
            else:
                e_flare *= d_fout
            if voiced:
                rows.append((e_acc, e_q, e_fall, e_frown, e_chin, e_smile, e_flare, min(max(z, 0.0), 2.5),
                             min(max(-z - 0.3, 0.0), 2.0), min(effort, 1.5), 1.0 if speaking else 0.0))
            else:
                rows.append((e_acc, e_q, e_fall, e_frown, e_chin, e_smile, e_flare, 0.0, 0.0, 0.0,
                             1.0 if speaking else 0.0))
            if keep_z is not None:
                keep_z.append(z if voiced else nan)
        self._peak_db, self._pause_ticks, self._in_speech = peak, pause, in_speech
        self._base_st, self._dev_st, self._loud_ref, self._last_accent = base_st, dev_st, loud_ref, last_accent
        env["accent"], env["question"], env["fall"], env["frown"] = e_acc, e_q, e_fall, e_frown
        env["chin"], env["smile"], env["flare"] = e_chin, e_smile, e_flare
        self.k = k1
        # one (channels, ticks) array (rows in _RAW_KEYS order), contiguous per channel
        return k0, k1, np.array(rows, np.float64).T.copy()

    def _on_phrase_end(self, t: float) -> None:
        """A pause of BOUNDARY_S has begun: read the final pitch movement, pick phrase-end motion."""
        h = self._ps_hist
        r = self.rng_phrase
        final = float(np.mean(h[-8:])) if len(h) >= 4 else 0.0
        earlier = float(np.mean(h[-30:-15])) if len(h) >= 20 else final
        rise = final - earlier
        tg = {k: 0.0 for k in self._targets}
        u = r.random(5)  # a fixed number of draws per boundary keeps the stream aligned
        amp = r.uniform(0.0, 1.0, 4)
        if rise > 0.6 or final > 1.0:
            tg["question"] = QUESTION_RAISE[0] + QUESTION_RAISE[1] * amp[0]
            kind = "rise"
        else:
            kind = "fall" if final < 0.3 or rise < -0.3 else "level"
            if kind == "fall":
                tg["fall"] = FALL_LOWER[0] + FALL_LOWER[1] * amp[0]
                if u[0] < P_FALL_FROWN:
                    tg["frown"] = FROWN_AMP[0] + (FROWN_AMP[1] - FROWN_AMP[0]) * amp[1]
            if u[1] < P_FALL_CHIN:
                tg["chin"] = CHIN_AMP[0] + (CHIN_AMP[1] - CHIN_AMP[0]) * amp[2]
        if u[2] < P_BOUNDARY_SMILE:
            tg["smile"] = SMILE_AMP[0] + (SMILE_AMP[1] - SMILE_AMP[0]) * amp[3]
        tg["flare"] = FLARE_AMP[0] + (FLARE_AMP[1] - FLARE_AMP[0]) * u[3]
        self._targets = tg
        self._held = True
        self._ps_hist, self._st_hist = [], []
        self.events.append((round(t, 3), "phrase_" + kind, round(rise, 3)))

    def _on_speech_resume(self, t: float) -> None:
        self._held = False


def yin(frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The upper face's pitch analysis of :meth:`UpperFaceModel.pitch_frames` (of one model or
    of many models' frames at once: rows are independent): ``audio.prosody.yin_frames`` with
    its short FFT (``YIN_NFFT_SHORT``; the same float32 pitch as pitch_track's on real speech)."""
    from ..audio.prosody import YIN_NFFT_SHORT, yin_frames

    return yin_frames(frames, SAMPLE_RATE, nfft=YIN_NFFT_SHORT)


# ------------------------------------------------------------------ rendering (many models at once)
#: EMO_GAIN as one (8, channels) matrix, and its channel names
_GAIN_KEYS = tuple(EMO_GAIN) + ("to_lower",)
_GAIN_MAT = np.stack([EMO_GAIN[k] for k in EMO_GAIN] + [EMO_RAISE_TO_LOWER], axis=1)


def _emotion_gains(w: np.ndarray) -> dict[str, np.ndarray]:
    """Per row of ``w`` (n, 8): each channel's emotion gain (EMO_GAIN weighted by ``w``). An
    elementwise product and a sum over the 8 emotions, not ``w @ v``: a matrix product's rounding
    depends on how many rows it gets, a row's sum here does not, so many models' rows rendered
    together equal each model alone (:func:`step_many`)."""
    x = (w[:, :, None] * _GAIN_MAT[None]).sum(axis=1)
    return {k: x[:, i] for i, k in enumerate(_GAIN_KEYS)}


def _filt_rows(models: list, name: str, tau: float | None, x: np.ndarray, counts: list[int],
               commit: list | None = None) -> np.ndarray:
    """Two cascaded one-poles (critically damped) per model, state carried across calls, from
    rest: ``x`` holds the models' new ticks one model after the other (``counts`` rows each).

    The arithmetic of ``dsp.lfilter`` / scipy's direct form II transposed (``y = z + b0 x;
    z = x b1 - y a1``, b1 = 0 for a one-pole), one tick at a time over all columns and models, so
    the numbers are exactly those of one lfilter call per model, stage and column. ``tau``: one
    value, or None: each output column its region's (:data:`_COLUMN_COEFS`). Why not lfilter per
    region: 16 calls per step were most of this stage's LIVE cost (a LIVE step has 1-4 ticks).
    ``commit``: the new states are appended there as (model, name, state) instead of stored."""
    if tau is None:
        b0, a1 = _COLUMN_COEFS
    else:
        b, a = _one_pole(tau / 2)
        b0, a1 = float(b[0]), float(a[1])
    flat = x.ndim == 1
    X = x[:, None] if flat else x
    S = len(models)
    # each model's state as one (2, columns) array (stage 1, stage 2): one stack for all models
    st = [m._zi.get(name) for m in models]
    if any(z is None for z in st):
        zero = np.zeros((2,) + X.shape[1:])
        st = [zero if z is None else z for z in st]
    Z = np.stack(st)
    z1, z2 = Z[:, 0], Z[:, 1]
    cnt = np.asarray(counts)
    if S == 1 or (cnt == cnt[0]).all():
        y = np.empty_like(X, dtype=np.float64)
        Xs = X.reshape((S, int(cnt[0])) + X.shape[1:])
        Ys = y.reshape(Xs.shape)
        for i in range(int(cnt[0])):
            xv = Xs[:, i]
            v = z1 + b0 * xv
            z1 = xv * 0.0 - v * a1
            w = z2 + b0 * v
            z2 = v * 0.0 - w * a1
            Ys[:, i] = w
        Zn = np.stack([z1, z2], axis=1)
    else:
        # different tick counts: the models in order of falling count, each one's ticks padded
        # into (models, most ticks, columns), so that at step i the models still advancing are
        # a leading slice (the same per-row arithmetic as each model alone)
        order = np.argsort(-cnt, kind="stable")
        rank = np.empty(S, int)
        rank[order] = np.arange(S)
        off = np.cumsum(cnt) - cnt
        row_m = np.repeat(rank, cnt)                       # each input row's model, by rank
        row_i = np.arange(len(X)) - np.repeat(off, cnt)    # and its tick within the model
        n_max = int(cnt.max())
        Xp = np.zeros((S, n_max) + X.shape[1:])
        Xp[row_m, row_i] = X
        Yp = np.empty_like(Xp)
        z1, z2 = z1[order], z2[order]
        active = np.searchsorted(-cnt[order], -np.arange(n_max), side="left")  # models with > i ticks
        for i in range(n_max):
            na = int(active[i])
            xv = Xp[:na, i]
            v = z1[:na] + b0 * xv
            z1[:na] = xv * 0.0 - v * a1
            w = z2[:na] + b0 * v
            z2[:na] = v * 0.0 - w * a1
            Yp[:na, i] = w
        y = Yp[row_m, row_i]
        Zn = np.stack([z1, z2], axis=1)[rank]
    for j, m in enumerate(models):
        if commit is None:
            m._zi[name] = Zn[j]
        else:
            commit.append((m, name, Zn[j]))
    return y[:, 0] if flat else y


#: the raw channels of a step (:meth:`UpperFaceModel._decide`'s rows)
_RAW_KEYS = ("accent", "question", "fall", "frown", "chin", "smile", "flare", "pitch_up",
             "pitch_down", "effort", "speech")


def _render_rows(models: list, spans: list[tuple[int, int, np.ndarray]]) -> list[np.ndarray]:
    """The offsets of each model's new ticks (``spans``: :meth:`UpperFaceModel._decide`'s
    (k0, k1, raw) per model), every model's rows in one set of array operations. Each row's
    numbers depend only on its own model (per-row parameters, elementwise arithmetic, per-model
    filters), so they equal the model rendered alone. Filter states are stored at the end, once
    every row is computed."""
    counts = [k1 - k0 for k0, k1, _ in spans]
    S = len(models)
    sid = np.repeat(np.arange(S), counts)
    t = np.concatenate([np.arange(k0, k1) for k0, k1, _ in spans]) * TICK_S
    ws, ars = [], []
    for m, (k0, k1, _) in zip(models, spans):
        if m.cfg.follow_emotion and m.n_emotion >= k1:
            ws.append(m._emo.view[k0 - m._emo0:k1 - m._emo0])
            ars.append(m._arousal.view[k0 - m._emo0:k1 - m._emo0])
        else:
            w1 = np.zeros((k1 - k0, len(EMOTIONS)))
            w1[:, 0] = 1.0
            ws.append(w1)
            ars.append(np.zeros(k1 - k0))
    w = ws[0] if S == 1 else np.concatenate(ws)
    ar = ars[0] if S == 1 else np.concatenate(ars)
    R = spans[0][2] if S == 1 else np.concatenate([sp[2] for sp in spans], axis=1)
    raw = {k: R[i] for i, k in enumerate(_RAW_KEYS)}
    g = _emotion_gains(w)
    act = np.exp(AROUSAL_GAIN * ar)
    to_lower = g["to_lower"]
    # slow drift: three sinusoids per channel, each model's own (a pure function of time)
    if S == 1:
        P, asym, scale = models[0]._drift_rows[None], models[0]._asym[None], models[0].cfg.scale
    else:
        P = np.stack([m._drift_rows for m in models])[sid]
        asym = np.stack([m._asym for m in models])[sid]
        scale = np.array([m.cfg.scale for m in models])[sid][:, None]
    da, w2pi, dp = P[:, 0:3], P[:, 3:6], P[:, 6:9]
    x = (da * np.sin(w2pi * t[:, None, None] + dp)).sum(axis=1)
    d = {k: x[:, i] for i, k in enumerate(models[0]._drift_keys)}
    commit: list = []
    sp = _filt_rows(models, "speech", 0.4, raw["speech"], counts, commit)
    # brows: accent pulses + question hold + pitch following + drift, emotion-modulated
    up = (raw["accent"] + raw["question"] + PITCH_RAISE * raw["pitch_up"]) * act
    raise_ = up * (1 - to_lower) * g["raise"] + DRIFT_AMP["brow"] * (0.6 + 0.4 * sp) * np.maximum(d["brow"] + 0.3, 0)
    lower = ((raw["fall"] + PITCH_LOWER * raw["pitch_down"]) * g["lower"] + up * to_lower * 1.1) * act \
        + TONIC["lower"] * g["lower"] + DRIFT_AMP["lower"] * np.maximum(d["lower"] + 0.2, 0)
    lower01 = np.minimum(np.maximum(0.0, lower), 1.0)  # np.clip's numbers, without its per-call cost
    inner_extra = g["inner"] * (1 + 0.5 * raise_)
    wide = (1.1 * raise_ + TONIC["wide"] + DRIFT_AMP["wide"] * d["wide"]) * g["wide"] * (1 - 0.5 * lower01)
    smile = (raw["smile"] + TONIC["smile"] + DRIFT_AMP["smile"] * sp * np.maximum(d["smile"] + 0.2, 0)) * g["smile"]
    cheek = smile + 0.5 * EFFORT_SQUINT * raw["effort"]
    squint = (TONIC["squint"] + EFFORT_SQUINT * raw["effort"] + DRIFT_AMP["squint"] * d["squint"]) * g["squint"] \
        + 0.35 * cheek + 0.15 * lower01
    frown = (raw["frown"] + DRIFT_AMP["frown"] * sp * np.maximum(d["frown"], 0)) * g["frown"]
    chin = raw["chin"] * g["chin"]
    sneer = raw["flare"] * g["sneer"] + lower01 * (0.1 + 0.12 * np.maximum(g["sneer"] - 1, 0))
    lat = DRIFT_AMP["lateral"] * d["lateral"] * (0.5 + 0.5 * sp) * g["lateral"]
    jaw_lat = DRIFT_AMP["jaw_lat"] * d["jaw_lat"] * sp
    jaw_fwd = DRIFT_AMP["jaw_fwd"] * np.maximum(d["jaw_fwd"] + 0.3, 0) * sp
    contempt = w[:, EMOTIONS.index("contempt")]
    aL, aR, bL, bR = asym[:, 0], asym[:, 1], asym[:, 2], asym[:, 3]
    side_smile = 1 + 0.15 * np.maximum(d["smileL"], 0) - 0.6 * contempt   # contempt: right-sided
    side_brow = 1 + 0.1 * d["browL"]
    out = np.zeros((len(t), len(UPPER_CURVES)))
    c = _C
    out[:, c["browInnerUp"]] = raise_ + inner_extra
    out[:, c["browOuterUpLeft"]] = 0.75 * raise_ * aL * side_brow
    out[:, c["browOuterUpRight"]] = 0.75 * raise_ * aR / side_brow
    out[:, c["browDownLeft"]] = lower * aL
    out[:, c["browDownRight"]] = lower * aR
    out[:, c["eyeWideLeft"]] = wide
    out[:, c["eyeWideRight"]] = wide
    out[:, c["eyeSquintLeft"]] = squint * bL
    out[:, c["eyeSquintRight"]] = squint * bR
    out[:, c["cheekSquintLeft"]] = cheek * bL * side_smile
    out[:, c["cheekSquintRight"]] = cheek * bR
    out[:, c["noseSneerLeft"]] = sneer * aL
    out[:, c["noseSneerRight"]] = sneer * aR
    out[:, c["mouthSmileLeft"]] = smile * side_smile
    out[:, c["mouthSmileRight"]] = smile
    out[:, c["mouthFrownLeft"]] = frown * bL
    out[:, c["mouthFrownRight"]] = frown * bR
    out[:, c["mouthDimpleLeft"]] = 0.3 * smile * side_smile
    out[:, c["mouthDimpleRight"]] = 0.3 * smile
    out[:, c["mouthShrugLower"]] = chin
    out[:, c["mouthShrugUpper"]] = 0.6 * chin
    out[:, c["mouthLeft"]] = np.maximum(lat, 0)
    out[:, c["mouthRight"]] = np.maximum(-lat, 0)
    out[:, c["jawLeft"]] = np.maximum(jaw_lat, 0)
    out[:, c["jawRight"]] = np.maximum(-jaw_lat, 0)
    out[:, c["jawForward"]] = jaw_fwd
    # physical smoothing per region (critically damped: _FILTER_GROUPS), then the user's scale
    out = _filt_rows(models, "regions", None, out, counts, commit)
    out = _soft_ceiling(np.maximum(out * scale, 0.0))
    for m, name, state in commit:
        m._zi[name] = state
    if S == 1:
        return [out]
    ends = np.cumsum(counts)
    return [out[e - n:e] for e, n in zip(ends, counts)]


def step_many(models: list, untils: list[float]) -> list:
    """:meth:`UpperFaceModel.step` of many models (``untils``: each one's ``until_s``): the
    per-tick decisions one model at a time, the rendering of every model's new ticks in one
    call (:func:`_render_rows`; its per-call cost was most of a LIVE step's). Returns, per model,
    its new ticks, or the exception its step raised (the others are unaffected)."""
    res, todo, spans, outs = decide_then_render(models, untils, _render_rows, len(UPPER_CURVES))
    for i, o in zip(todo, outs):
        res[i] = o
        m = models[i]
        if not isinstance(o, Exception) and m.keep_history:
            m.out.extend(o)
    return res


# ------------------------------------------------------------------------------ offline API
def upper_face(samples: np.ndarray, seed: int = 0, config: UpperConfig | None = None,
               weights: np.ndarray | None = None, arousal: np.ndarray | None = None) -> tuple[np.ndarray, UpperFaceModel]:
    """Whole-input wrapper: (ticks, len(UPPER_CURVES)) offsets of 16 kHz ``samples``.

    ``weights`` (ticks, 8) / ``arousal`` (ticks,) on the tick grid modulate it (neutral when
    None). Runs the streaming model with everything fed at once, so it equals any chunking.
    """
    cfg = config or UpperConfig()
    cfg = UpperConfig(cfg.enabled, cfg.scale, follow_emotion=weights is not None)
    m = UpperFaceModel(cfg, seed)
    m.feed_audio(samples)
    if weights is not None:
        n = m.n_ticks_total
        w = np.asarray(weights, float)
        a = np.zeros(len(w)) if arousal is None else np.asarray(arousal, float)
        if len(w) < n:  # hold the last state to the end
            w = np.concatenate([w, np.repeat(w[-1:], n - len(w), axis=0)])
            a = np.concatenate([a, np.repeat(a[-1:], n - len(a))])
        m.feed_emotion(w[:n], a[:n])
    m.close()
    m.step(m.n_ticks_total * TICK_S)
    return m.out.view.copy(), m


#: spreading channels are halved where the lips round (mixer rule 6)
_SPREAD = [i for i, n in enumerate(UPPER_CURVES) if n.startswith(("mouthSmile", "mouthDimple"))]
#: the ARKit columns of UPPER_CURVES
_ARKIT_UPPER = np.array([ARKIT_INDEX[n] for n in UPPER_CURVES])


def add_to_frames(windows: list[tuple[np.ndarray, np.ndarray, np.ndarray, int]]) -> list[np.ndarray]:
    """LIVE counterpart of :func:`apply_upper` for many frame windows at once: per window
    (curves (n, 52), frame times (n,), upper-face ticks (m, len(UPPER_CURVES)) from tick ``k0``
    on), the ticks linearly interpolated at the frame times (np.interp's formula per column),
    spreading channels halved where the lips round, added and clipped to 0..1. Every window's
    rows computed in one set of array operations with each row's own numbers (so it equals the
    window alone: the tick each frame falls after is found by comparison, not by arithmetic)."""
    idx = _ARKIT_UPPER
    pucker, funnel = ARKIT_INDEX["mouthPucker"], ARKIT_INDEX["mouthFunnel"]
    ns = [len(t) for _, t, _, _ in windows]
    ms = [len(f) for _, _, f, _ in windows]
    x = np.concatenate([t for _, t, _, _ in windows]) if len(windows) > 1 else windows[0][1]
    # each window's tick times (k0 + j) * TICK_S in a row, inf past its last tick (the same
    # integer-then-float products as one np.arange per window, in one array operation)
    m_w = np.array(ms)
    jj = np.arange(max(ms))
    XP = (np.array([k0 for _, _, _, k0 in windows])[:, None] + jj[None, :]) * TICK_S
    XP[jj[None, :] >= m_w[:, None]] = np.inf
    wid = np.repeat(np.arange(len(windows)), ns)
    m_r = np.repeat(m_w, ns)
    # np.searchsorted(xp, x, side="right") - 1 of each row's own window, clipped as np.interp
    # (integers: np.clip's values without its per-call cost)
    j = np.minimum(np.maximum((XP[wid] <= x[:, None]).sum(axis=1) - 1, 0), np.maximum(m_r - 2, 0))
    FP = np.concatenate([f for _, _, f, _ in windows])
    base = np.repeat(np.cumsum(ms) - np.array(ms), ns)
    g = base + j
    g1 = base + np.minimum(j + 1, m_r - 1)
    xj, xj1 = XP[wid, j], XP[wid, np.minimum(j + 1, m_r - 1)]
    with np.errstate(invalid="ignore", divide="ignore"):
        slope = (FP[g1] - FP[g]) / (xj1 - xj)[:, None]
        off = slope * (x - xj)[:, None] + FP[g]
    first, last = base, base + m_r - 1
    lo = (x <= XP[wid, 0]) | (m_r == 1)
    hi = (x >= XP[wid, m_r - 1]) & (m_r > 1)
    off[lo] = FP[first[lo]]
    off[hi] = FP[last[hi]]
    cur = np.concatenate([np.asarray(c, np.float32) for c, _, _, _ in windows])
    rnd = np.minimum(np.maximum(0.0, np.maximum(cur[:, pucker], cur[:, funnel]) / 0.3), 1.0)
    off[:, _SPREAD] *= (1 - 0.5 * rnd)[:, None]
    cur[:, idx] = np.minimum(np.maximum(0.0, cur[:, idx] + off), 1.0)
    ends = np.cumsum(ns)
    return [cur[e - n:e] for e, n in zip(ends, ns)]


def apply_upper(track: AnimationTrack, samples: np.ndarray, extra: Mapping[str, Any] | None,
                seed: int) -> None:
    """Pipeline stage (after the emotion mixer, before eyes): add the speech-driven upper face.

    Reads the emotion state the emotion stage left on the track (``events['emotion']``), so
    auto / explicit emotions modulate it; writes ``metadata['upper']`` and ``events['upper']``
    (accents and phrase ends it reacted to).
    """
    cfg = UpperConfig.from_extra(extra)
    meta: dict[str, Any] = {"config": cfg.to_dict()}
    if not cfg.enabled:
        track.metadata["upper"] = meta
        return
    from .drivers import n_ticks_for, tick_times

    n = n_ticks_for(track.duration)
    tt = tick_times(n)
    weights = arousal = None
    if track.events.get("emotion"):
        from ..emotion import CATEGORIES, emotion_at

        vad, w = emotion_at(track, tt)
        weights = w[:, [list(CATEGORIES).index(c) for c in EMOTIONS]]
        arousal = vad[:, 1]
    ticks, model = upper_face(samples, seed, cfg, weights, arousal)
    tk = np.arange(len(ticks)) * TICK_S
    off = np.stack([np.interp(track.times, tk, ticks[:, j]) for j in range(ticks.shape[1])], axis=1)
    cur = track.curves
    rnd = np.clip(np.maximum(cur[:, ARKIT_INDEX["mouthPucker"]], cur[:, ARKIT_INDEX["mouthFunnel"]]) / 0.3, 0, 1)
    off[:, _SPREAD] *= (1 - 0.5 * rnd)[:, None]
    idx = [ARKIT_INDEX[n] for n in UPPER_CURVES]
    track.curves[:, idx] = np.clip(cur[:, idx] + off, 0.0, 1.0).astype(track.curves.dtype)
    track.events["upper"] = list(model.events)
    kinds = [e[1] for e in model.events]
    meta.update({"accents": kinds.count("accent"),
                 "phrase_ends": {k: kinds.count("phrase_" + k) for k in ("rise", "fall", "level")},
                 "lookahead_s": LOOKAHEAD_S})
    track.metadata["upper"] = meta


__all__ = ["UpperFaceModel", "UpperConfig", "UPPER_CURVES", "LOOKAHEAD_S", "upper_face", "apply_upper", "step_many", "add_to_frames"]

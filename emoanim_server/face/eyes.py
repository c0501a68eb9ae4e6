"""Eyes that look alive: blinks, gaze (fixations, saccades, micro-saccades) and lids.

Why procedural and statistical: the speech models (ours, EmoFace, Audio2Face) learn mouths from
audio, but eye behaviour is only weakly tied to the audio and mostly follows well-measured human
statistics. So this stage draws events from those statistics, modulated by what the audio and
emotion tell us, and renders them to ARKit curves and eye rotations. Numbers and their sources
are in docs/eyes_head.md.

Reads as a pipeline: drivers (speech activity, arousal, emotion, on a 10 ms tick grid) ->
:class:`EyesModel` decides events tick by tick (blinks, saccades) -> :func:`blink_signal` /
:func:`gaze_trace` render them at any frame times -> :func:`apply_eyes` writes the track,
after the head stage so the eyes counter-rotate against head motion (vestibulo-ocular reflex).

Streaming property (what the live server relies on): ``EyesModel`` is advanced with
``feed(...)`` and ``step(until_s)``. The decision at tick ``k`` reads drivers of ticks
``<= k + lookahead`` only, and random numbers are drawn in event order from a generator seeded
by ``seed``. Hence the events up to time T depend only on the drivers up to
``T + lookahead_s`` (default 0.4 s; plus ``drivers.DRIVER_LOOKAHEAD_S`` for the drivers
themselves), and feeding the same drivers in any chunking gives exactly the offline events.
A frame at time t is rendered only from events that started at or before t.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import InputError
from ..track import ARKIT_INDEX, AnimationTrack
from .drivers import EMOTIONS, TICK_S, Drivers

# ------------------------------------------------------------------ human reference numbers
#: blinks per minute while speaking / silent. Bentivoglio et al. 1997 measured 26/min in
#: conversation and 17/min at rest; the issue's 11 iPhone ARKit captures of people talking blink
#: 12-22/min, so the speaking rate sits between the two (the captures are what we render for)
BLINK_RATE_SPEAKING = 17.0
BLINK_RATE_SILENT = 15.0
#: log-normal spread of the long (stare) budgets (sigma of log budget). The interval spread
#: of real talking captures (CV ~1.5 over 20 s takes) comes mostly from the mixture of flurries
#: and stares (P_FLURRY); a wider stare law does not raise it further, because stares longer
#: than a 20 s take cannot show in one and the rate regulation below shortens the longest
#: (sigma 1.4 gave 1.32 on one continuous take of read speech, 1.0 with the runs below 1.46;
#: benchmarks/face_alive.py, seeds 0-19)
BLINK_IBI_SIGMA = 1.0
#: blinks cluster at pause onsets (Nakano & Kitazawa 2010): hazard boost in a window after a pause
#: starts, and a matching damping inside running speech computed from the recent rate of pauses
#: (running mean over PAUSE_RATE_TAU_S), so blinks move into pauses without changing the rate.
#: The boost starts a run (its followers come at the run's own pace), so it is larger than a
#: single-blink model would need (4.5 with session 4's flurries)
PAUSE_BLINK_WINDOW_S = 0.5
PAUSE_BLINK_BOOST = 7.0
PAUSE_RATE_TAU_S = 10.0
MIN_SPEECH_BLINK_DAMP = 0.3
TYPICAL_PAUSE_SHARE = 0.06
#: calibration of the hazard so the measured per-state rates, double and gaze-evoked blinks
#: included, match the targets above (measured on synthetic conversations, see tests/test_eyes.py)
SPEAKING_HAZARD_GAIN = 0.95
SILENT_HAZARD_GAIN = 0.7
#: kinematics: closing much faster than opening (Evinger et al. 1991; VanderWerf et al. 2003).
#: The real ARKit captures measure closing ~51 ms and opening 99-156 ms (2 %->98 % of the peak);
#: a raised-cosine close spans 82 % of its parameter between those levels, the decelerating
#: opening ~80 %, hence these parameters
BLINK_CLOSE_S = (0.064, 0.008)   # mean, sd
BLINK_HOLD_S = (0.005, 0.03)      # uniform range, lid at its peak
BLINK_OPEN_S = (0.155, 0.03)
BLINK_REFRACTORY_S = 0.15        # after a blink ends, no new spontaneous blink
P_DOUBLE_BLINK = 0.12
#: blink runs: people talking blink in clusters (runs of two to four closures ~0.35-0.45 s
#: apart, often at a phrase end) between long stares, which is what makes the interval spread of
#: real captures (CV ~1.5 over 20 s takes) larger than any single log-normal with a refractory
#: time gives. After a blink, with this probability the next closure of the run follows at a
#: short delay in real time (FLURRY_DELAY_S after the refractory time), while the run has fewer
#: than MAX_RUN closures; otherwise a long log-normal budget (a stare) is drawn, its mean the
#: run's expected length so the rate is unchanged. The cap: a run of five or more closures
#: reads as a twitch (session 5's uncapped runs had 14 % of them and CV 1.49; capped at 4, 2 %
#: (a run meeting a gaze-evoked blink) and CV 1.46; capped at 3, CV 1.31)
P_FLURRY = 0.9
FLURRY_DELAY_S = (0.0, 0.1)     # after the refractory time: runs ~0.35-0.45 s apart
#: at most this many closures (double blinks included) in one run
MAX_RUN = 4
RUN_GAP_S = 0.75               # a closure starting this long after the last one ended starts a new run


def _long_mean(p_flurry: float, max_run: int) -> float:
    """Mean of the long budgets that keeps the mean rate: each run takes one long budget and
    brings E[N] closures, N geometric in ``p_flurry`` and capped at ``max_run``."""
    return float(sum(p_flurry ** k for k in range(max(1, max_run))))


_LONG_MEAN = _long_mean(P_FLURRY, MAX_RUN)
#: rate regulation (the tear film has to be renewed at a steady rate, whatever the spread of
#: the intervals): the hazard is multiplied by exp(gain * blinks owed), owed = expected - made
#: over a leaky window. After a flurry the next stare is longer, after a long stare a blink comes
#: sooner, so the rate over a minute stays near the state's rate while the intervals keep a
#: heavy-tailed spread (without it, 2-minute rates ranged 17-31/min between seeds)
RATE_REG_TAU_S = 20.0
RATE_REG_GAIN = 0.6
RATE_REG_LIMIT = 2.0
#: every line a viewer sees blinks at a human rate: on a line of at least LINE_MIN_S the count
#: stays within LINE_RATE_BOUNDS per minute (times the user's blink_rate). The upper bound is
#: causal (a blink that would exceed max(2, the bound's count so far) is skipped), so it holds
#: in LIVE too; the lower bound needs the line's end, so the offline plan (:func:`plan_eyes`)
#: adds the missing blinks, placed in the line's longest blink-free stretch and preferring the
#: moments after a pause starts (the same places natural blinks cluster)
LINE_RATE_BOUNDS = (10.0, 30.0)
LINE_MIN_S = 4.0
#: LIVE does not know where a line ends: when the count would fall under the lower bound were
#: the line to end this far ahead, the hazard is multiplied by this (a nudge, not a forced blink)
LIVE_LAG_MARGIN_S = 2.0
LIVE_LAG_BOOST = 10.0
#: depth: real captures rarely close eyeBlink to 1 (peak ~0.73 on average): a clipped normal
#: around 0.75 gives varied depths with most blinks between 0.6 and 1 (Sforza et al. 2008:
#: incomplete closures are common)
BLINK_AMP = (0.75, 0.15)         # mean, sd
BLINK_AMP_RANGE = (0.45, 1.0)
#: blink drives the lower lid a little too (orbicularis oculi), and lids follow vertical gaze
BLINK_SQUINT = 0.15
LID_FOLLOW_DOWN = 0.35
LID_FOLLOW_UP = 0.2
#: gaze-evoked blinks: large gaze shifts are often accompanied by a blink (Evinger et al. 1994)
GAZE_BLINK_MIN_DEG = 15.0
P_GAZE_BLINK = 0.3

#: saccade main sequence (Carpenter 1988; Baloh et al. 1975): duration = 21 ms + 2.2 ms/deg
SACCADE_MS_PER_DEG = 2.2
SACCADE_BASE_MS = 21.0
SACCADE_DURATION_NOISE = 0.08    # log-normal sd of the duration around the main sequence
MIN_INTERSACCADE_S = 0.1
#: glance durations (log-normal medians, s) while speaking / listening (Argyle & Cook 1976)
CONTACT_GLANCE_S = {True: 1.2, False: 2.2}
AVERT_GLANCE_S = {True: 0.8, False: 0.9}
GLANCE_SIGMA = 0.5
#: fixations among the listener's eyes and mouth inside a glance (face scanning)
FACE_FIXATION_S = {True: 0.55, False: 0.8}
FACE_FIXATION_SIGMA = 0.45
FACE_POINTS_DEG = np.array([[1.7, -0.4], [-1.7, -0.4], [0.0, 3.5], [0.0, 0.0]])  # yaw, pitch (down +)
FACE_POINT_P = np.array([0.35, 0.35, 0.12, 0.18])
#: micro-saccades during fixation: ~1-2 /s, < 1 deg (Martinez-Conde et al. 2004)
MICROSACCADE_RATE_HZ = 1.5
MICROSACCADE_DEG = (0.25, 0.5)   # log-normal median, sigma
#: gaze aversion amplitudes: exponential-like distribution (Lee, Badler & Badler 2002)
AVERT_MEAN_DEG = 8.0
AVERT_RANGE_DEG = (4.0, 25.0)
AVERT_VERTICAL_SCALE = 0.6
#: aversion directions (radians of atan2(pitch_down, yaw)) and their probabilities: mostly sideways
AVERT_DIRS = np.radians([0, 180, 35, 145, 90, -35, -145, -90])
AVERT_DIR_P = np.array([0.2, 0.2, 0.12, 0.12, 0.1, 0.08, 0.08, 0.1])
#: Kendon 1967: speakers look away as an utterance starts and during hesitations, and back at
#: the listener at phrase ends; fraction of time looking: ~75% listening, ~41% speaking (Argyle)
P_AVERT_AT_START = 0.8
P_AVERT_AT_HESITATION = 0.5
P_LOOK_AT_BOUNDARY = 0.85
UTTERANCE_GAP_S = 0.6            # silence before speech that makes it a new utterance
START_AVERT_DELAY_S = 0.25       # the start-of-utterance aversion comes up to this far into it
BOUNDARY_PAUSE_S = 0.35          # a pause at least this long is a phrase boundary, else a hesitation
TALK_HANGOVER_S = 0.5

#: eye mechanics and the ARKit mapping: eyeLook* = 1 at these angles (our assumption: ARKit does
#: not document the angle of a full eyeLook; these are comfortable oculomotor limits)
EYE_YAW_MAX_DEG = 30.0
EYE_UP_MAX_DEG = 25.0
EYE_DOWN_MAX_DEG = 30.0
INTEROCULAR_M = 0.063

#: per-emotion modulation, EMOTIONS order: blink rate multiplier (Ponder & Kennedy 1927:
#: excitement and anxiety raise it; surprise holds the eyes open), eye-contact multiplier and
#: gaze pitch bias (deg, down +) (Adams & Kleck 2003: approach emotions look direct, avoidance
#: emotions avert; sadness looks down), glance duration multiplier (fear scans: short glances),
#: aversion amplitude multiplier, preference for downward aversions
#:                     neutral happy  sad   angry  fear  disgust surprise contempt
EMO_BLINK = np.array([1.0, 1.0, 1.1, 1.15, 1.35, 1.1, 0.6, 0.95])
EMO_CONTACT = np.array([1.0, 1.15, 0.55, 1.3, 0.6, 0.7, 1.15, 0.8])
EMO_PITCH_DEG = np.array([0.0, 0.0, 7.0, 1.0, 0.0, 1.0, -1.0, 1.5])
EMO_GLANCE = np.array([1.0, 1.0, 1.4, 1.4, 0.5, 0.9, 0.8, 1.1])
EMO_AVERT_AMP = np.array([1.0, 1.0, 0.8, 0.8, 1.5, 1.1, 1.0, 0.9])
EMO_DOWN_PREF = np.array([0.0, 0.0, 0.7, 0.0, 0.0, 0.3, 0.0, 0.3])
#: arousal (-1..1) multiplies the blink rate by exp(gain * arousal)
AROUSAL_BLINK_GAIN = 0.3


@dataclass
class EyesConfig:
    """User controls (CLI flags / server session options / BakeOptions.extra["eyes"])."""

    blink: bool = True
    gaze: bool = True
    blink_rate: float = 1.0                      # multiplies every blink rate
    gaze_target: tuple[float, float] = (0.0, 0.0)  # listener direction, degrees (yaw left +, pitch down +)
    eye_contact: float = 0.7                     # fraction of listening time spent looking at the listener
    target_distance_m: float = 1.2               # for vergence
    lookahead_s: float = 0.4

    def __post_init__(self) -> None:
        if not (0.0 <= self.blink_rate <= 5.0) or not math.isfinite(self.blink_rate):
            raise InputError(f"eyes blink_rate: {self.blink_rate!r} out of range; expected 0..5 (1 = human rate)")
        if not (0.0 <= self.eye_contact <= 1.0):
            raise InputError(f"eyes eye_contact: {self.eye_contact!r} out of range; expected 0..1")
        yaw, pitch = (float(v) for v in self.gaze_target)
        if not (abs(yaw) <= 40 and abs(pitch) <= 30) or not (math.isfinite(yaw) and math.isfinite(pitch)):
            raise InputError(f"eyes gaze_target: ({yaw}, {pitch}) out of range; expected |yaw| <= 40, |pitch| <= 30 degrees")
        self.gaze_target = (yaw, pitch)
        if not (0.2 <= self.target_distance_m <= 100):
            raise InputError(f"eyes target_distance_m: {self.target_distance_m!r}; expected 0.2..100 m")
        if not (BOUNDARY_PAUSE_S <= self.lookahead_s <= 2.0) and self.lookahead_s != 0:
            raise InputError(f"eyes lookahead_s: {self.lookahead_s!r}; expected 0 (causal, LIVE) or "
                             f"{BOUNDARY_PAUSE_S}..2 s")

    @classmethod
    def from_extra(cls, extra: Mapping[str, Any] | None) -> "EyesConfig":
        """From ``BakeOptions.extra`` (key ``"eyes"``); unknown keys are an input error."""
        d = dict((extra or {}).get("eyes", {}) or {})
        known = set(cls.__dataclass_fields__)
        bad = set(d) - known
        if bad:
            raise InputError(f"eyes options: unknown {sorted(bad)}; expected some of {sorted(known)}")
        if "gaze_target" in d:
            d["gaze_target"] = tuple(d["gaze_target"])
        return cls(**d)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["gaze_target"] = list(self.gaze_target)
        return d


@dataclass(frozen=True)
class Blink:
    """One lid closure: starts at ``t``, closed after ``close``, held ``hold``, open after ``open``."""

    t: float
    close: float
    hold: float
    open: float
    amp: float
    kind: str = "spontaneous"  # spontaneous | double | gaze

    @property
    def end(self) -> float:
        return self.t + self.close + self.hold + self.open


@dataclass(frozen=True)
class Saccade:
    """A gaze shift in the head-rest (world) frame, degrees; yaw left +, pitch down +."""

    t: float
    duration: float
    start: tuple[float, float]
    target: tuple[float, float]
    kind: str  # avert | contact | face | micro

    @property
    def amplitude(self) -> float:
        return math.hypot(self.target[0] - self.start[0], self.target[1] - self.start[1])

    @property
    def end(self) -> float:
        return self.t + self.duration


def main_sequence_s(amplitude_deg: float | np.ndarray) -> float | np.ndarray:
    """Saccade duration for an amplitude (deg): the human main sequence, 21 ms + 2.2 ms/deg."""
    return (SACCADE_BASE_MS + SACCADE_MS_PER_DEG * np.asarray(amplitude_deg)) / 1000.0


class _Grow:
    """Append-only array with amortised O(1) appends (drivers arrive in small chunks).

    Indices are absolute (the k-th value ever appended): :meth:`since` / :meth:`at` read them.
    A LIVE model calls :meth:`drop` for what it will never read again, so a session's memory is
    flat in its length (issue 10: <= 15 MB per session for any length); the bake drops nothing
    and reads the whole history with :attr:`view`."""

    def __init__(self, width: int | None = None, dtype=float) -> None:
        shape = (1024,) if width is None else (1024, width)
        self.a = np.zeros(shape, dtype)
        self.n = 0    # values appended so far (absolute end)
        self.off = 0  # absolute index of a[0] (values before it were dropped)
        self.first: np.ndarray | None = None  # the first value ever appended (filters start on it)

    def extend(self, x: np.ndarray) -> None:
        x = np.asarray(x, self.a.dtype)
        if self.first is None and len(x):
            self.first = x[0].copy()
        m = self.n - self.off  # values held, in a[:m] (drop() moves what it keeps to the front)
        if m + len(x) > len(self.a):
            grown = np.zeros((max(2 * len(self.a), m + len(x)),) + self.a.shape[1:], self.a.dtype)
            grown[:m] = self.a[:m]
            self.a = grown
        self.a[m:m + len(x)] = x
        self.n += len(x)

    def drop(self, before: int) -> None:
        """Forget the values with absolute index < ``before`` (their slots are reused)."""
        before = min(int(before), self.n)
        if before <= self.off:
            return
        m = self.n - before
        self.a[:m] = self.a[before - self.off:self.n - self.off]
        self.off = before

    def since(self, k0: int, k1: int | None = None) -> np.ndarray:
        """Values [k0, k1) by absolute index (k0 >= :attr:`off`)."""
        if k0 < self.off:
            raise IndexError(f"_Grow: value {k0} was dropped (kept from {self.off})")
        return self.a[k0 - self.off:(self.n if k1 is None else k1) - self.off]

    def at(self, k: int):
        """The value at absolute index ``k``."""
        return self.a[k - self.off]

    @property
    def view(self) -> np.ndarray:
        """Every value appended (only while nothing was dropped: the bake's whole history)."""
        if self.off:
            raise IndexError("_Grow.view after drop(): use since()")
        return self.a[:self.n]


def _stage_rngs(seed: int, stage: int, n: int) -> list[np.random.Generator]:
    """Independent generators per stage and sub-part, so disabling one part leaves others alone."""
    ss = np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFF, stage])
    return [np.random.default_rng(s) for s in ss.spawn(n)]


EYES_STAGE_ID = 0xE7E5


def line_seed(seed: int, content: np.ndarray | bytes) -> int:
    """A per-line seed from the user's seed AND the line's content (its audio samples, or any
    per-line key a live session has, e.g. ``b"session-id/line-3"``).

    Why: with the seed alone every line of a batch draws the same random stream, so every line
    blinks (and sways) at the same instants - the repetition a viewer spots across cutscene
    lines. Mixing in a digest of the content keeps a line + seed reproducible while different
    lines differ. Audio is quantised to 16 bit first, so float noise below that does not count.
    """
    import hashlib

    if isinstance(content, (bytes, bytearray)):
        data = bytes(content)
    else:
        x = np.clip(np.nan_to_num(np.asarray(content, np.float64).reshape(-1)), -1.0, 1.0)
        data = np.round(x * 32767).astype("<i2").tobytes()
    h = hashlib.sha256(int(seed).to_bytes(8, "little", signed=True) + data).digest()
    return int.from_bytes(h[:6], "little")


class EyesModel:
    """Incremental blink + gaze event generator (see module docstring for the streaming contract)."""

    def __init__(self, config: EyesConfig | None = None, seed: int = 0) -> None:
        self.cfg = config or EyesConfig()
        self.rng_blink, self.rng_gaze, self.rng_micro = _stage_rngs(seed, EYES_STAGE_ID, 3)
        self._speech = _Grow(dtype=bool)
        self._blink_mult = _Grow()
        self._emo = _Grow(len(EMOTIONS))
        self.closed = False
        self.k = 0                      # next tick to decide
        self.L = int(round(self.cfg.lookahead_s / TICK_S))
        self.Lb = int(round(BOUNDARY_PAUSE_S / TICK_S))
        self.blinks: list[Blink] = []
        self.saccades: list[Saccade] = []
        # blink state: time-rescaled renewal process with log-normal budgets
        # start the renewal process in equilibrium (a line begins at a random moment of the
        # speaker's blink cycle, not right after a blink): the first interval is length-biased
        # (log-normal with mu + sigma^2) and we are a uniform share of the way through it. This,
        # and a seed derived from the line's content (:func:`line_seed`), is what stops every line
        # from blinking at the same instant
        # (the long budgets' scale: flurry budgets are too short to matter in a length-biased draw)
        s = BLINK_IBI_SIGMA
        self._budget = _LONG_MEAN * float(math.exp(self.rng_blink.normal(0.5 * s * s, s)))
        self._clock = float(self.rng_blink.uniform(0.0, self._budget))
        self._blink_free_at = 0.0
        self._run = 0                   # closures in the current run (MAX_RUN)
        self._flurry_at: float | None = None  # the next closure of a run is due at this time
        self._boost_until = -1
        # running share of time in post-pause windows; starts at a typical talking value so the
        # first pause of a line is not an uncompensated extra blink (short lines blinked 2x)
        self._pause_rate = TYPICAL_PAUSE_SHARE
        # blinks owed: expected minus made, leaking over RATE_REG_TAU_S (see RATE_REG_GAIN)
        self._debt = 0.0
        # conversational state
        self._since_speech = 10 ** 9
        self._prev_speech = False
        # gaze state
        tgt = self.cfg.gaze_target
        self._pos = (float(tgt[0]), float(tgt[1]))
        self._center = self._pos
        self._mode = "contact"
        self._busy_until = 0.0
        # start looking at the listener; the first glance change comes after a short random while
        self._glance_end = float(self.rng_gaze.uniform(0.2, 1.2))
        self._next_face = math.inf
        self._next_micro = self._draw_micro_gap()
        self._pending: tuple[str, float] | None = None
        self._pause_k: int | None = None  # causal mode: tick the current pause began
        self._next_due = 0.0            # nothing to decide for gaze before this time

    # ------------------------------------------------------------------------ input side
    def feed(self, speech: np.ndarray, arousal: np.ndarray | None = None,
             emotion: np.ndarray | None = None) -> None:
        """Append driver ticks (speech bool, arousal -1..1, emotion weights (n, 8))."""
        if self.closed:
            raise RuntimeError("EyesModel.feed after close()")
        self.feed_drivers(Drivers(speech, arousal, emotion))

    def feed_drivers(self, d: Drivers) -> None:
        """:meth:`feed` of checked drivers (LIVE gives the eyes and the head the same ones)."""
        if self.closed:
            raise RuntimeError("EyesModel.feed after close()")
        w = d.normalised_emotion()
        mult = (w @ EMO_BLINK) * np.exp(AROUSAL_BLINK_GAIN * d.arousal) * self.cfg.blink_rate
        self._speech.extend(d.speech)
        self._blink_mult.extend(mult)
        self._emo.extend(w)

    def close(self) -> None:
        """No more input: ticks beyond the end count as silence for the look-ahead."""
        self.closed = True

    @property
    def n_fed(self) -> int:
        return self._speech.n

    @property
    def ready_until(self) -> float:
        """Decisions can be made up to this time with the drivers fed so far."""
        n = self.n_fed if self.closed else self.n_fed - self.L
        return max(0, n) * TICK_S

    # ------------------------------------------------------------------------ decisions
    def step(self, until_s: float) -> None:
        """Decide every tick with time < ``until_s`` (clamped to :attr:`ready_until`)."""
        k_end = min(int(math.ceil(until_s / TICK_S - 1e-9)), int(round(self.ready_until / TICK_S)))
        # absolute tick k is at [k - o] (LIVE drops the ticks already decided: see forget_decided)
        o = self._speech.off
        speech = self._speech.since(o)
        n = self._speech.n
        mult = self._blink_mult.since(o)
        emo = self._emo.since(o)
        dt = TICK_S
        decay = math.exp(-dt / PAUSE_RATE_TAU_S)
        reg_decay = math.exp(-dt / RATE_REG_TAU_S)
        # the ticks' drivers as Python values (a numpy scalar per tick costs more than the tick's
        # arithmetic; the same IEEE doubles, so the same numbers)
        k0 = self.k
        s_l = speech[k0 - o:k_end - o].tolist()
        m_l = mult[k0 - o:k_end - o].tolist()
        gaze_on, blink_on = self.cfg.gaze, self.cfg.blink
        L, Lb = self.L, self.Lb
        # the per-tick state as locals (an attribute read and write per use cost more than the
        # tick's arithmetic); written back around every method that reads or writes it, and at
        # the end. The same operations in the same order on the same doubles.
        prev_speech, since_speech = self._prev_speech, self._since_speech
        pause_rate, boost_until, next_due = self._pause_rate, self._boost_until, self._next_due
        debt, clock, budget = self._debt, self._clock, self._budget
        blink_free_at, flurry_at = self._blink_free_at, self._flurry_at
        # the hazard's two rates (the same products as written out per tick)
        rate_talk = BLINK_RATE_SPEAKING * SPEAKING_HAZARD_GAIN
        rate_quiet = BLINK_RATE_SILENT * SILENT_HAZARD_GAIN
        lag_lo, blink_rate = LINE_RATE_BOUNDS[0], self.cfg.blink_rate
        blinks = self.blinks
        try:
            for k in range(k0, k_end):
                t = k * dt
                s = s_l[k - k0]
                onset = s and not prev_speech
                offset = prev_speech and not s
                gap_before = since_speech
                since_speech = 0 if s else since_speech + 1
                talking = since_speech * dt <= TALK_HANGOVER_S
                trigger = None
                if L == 0:  # causal (LIVE): a pause is classified as it lasts, not ahead of time
                    if offset or onset or (not s and self._pause_k is not None and k - self._pause_k == Lb):
                        self._pause_rate, self._boost_until = pause_rate, boost_until
                        trigger = self._causal_pause(k, s, offset, onset)
                        pause_rate, boost_until = self._pause_rate, self._boost_until
                    if onset and gap_before * dt >= UTTERANCE_GAP_S:
                        trigger = "start"
                elif offset:
                    ahead = speech[k - o:min(n, k + L) - o]
                    resume = np.flatnonzero(ahead)
                    pause_ticks = int(resume[0]) if resume.size else L
                    win = min(pause_ticks, int(PAUSE_BLINK_WINDOW_S / dt))
                    boost_until = k + win
                    pause_rate += win * dt / PAUSE_RATE_TAU_S
                    trigger = "boundary" if pause_ticks >= Lb else "hesitation"
                elif onset and gap_before * dt >= UTTERANCE_GAP_S:
                    trigger = "start"
                prev_speech = s
                if gaze_on and (trigger is not None or self._pending is not None or t >= next_due):
                    # (a large shift may evoke a blink: the blink state goes through the model)
                    self._debt, self._clock, self._blink_free_at = debt, clock, blink_free_at
                    self._gaze_tick(k, t, talking, trigger, emo[k - o])
                    debt, clock, blink_free_at = self._debt, self._clock, self._blink_free_at
                    next_due = max(self._busy_until, min(self._glance_end, self._next_face, self._next_micro))
                if blink_on:
                    pause_rate *= decay
                    if k < boost_until:
                        boost = PAUSE_BLINK_BOOST
                    elif s:
                        # share of recent time in boosted windows -> damping that keeps the mean
                        w = min(pause_rate, 0.5)
                        boost = max(MIN_SPEECH_BLINK_DAMP, (1 - PAUSE_BLINK_BOOST * w) / (1 - w))
                    else:
                        boost = 1.0
                    rate = rate_talk if talking else rate_quiet
                    # the hazard clock runs only outside the refractory period after a blink, so the
                    # intervals are the refractory time plus a log-normal (no pile-up at the minimum)
                    expected = rate / 60.0 * m_l[k - k0] * dt
                    debt = debt * reg_decay + expected
                    if t >= blink_free_at:
                        reg = math.exp(max(-RATE_REG_LIMIT, min(RATE_REG_LIMIT, RATE_REG_GAIN * debt)))
                        if not L:  # (_lagging, inlined)
                            end = t + LIVE_LAG_MARGIN_S
                            if end >= LINE_MIN_S and \
                                    len(blinks) < math.ceil(end * lag_lo / 60.0 * blink_rate - 1e-9):
                                reg *= LIVE_LAG_BOOST
                        clock += expected * boost * reg
                    due = clock >= budget if flurry_at is None else t >= flurry_at
                    if due and t >= blink_free_at:
                        self._debt, self._clock, self._blink_free_at = debt, clock, blink_free_at
                        self._flurry_at = None
                        if self._allowed(t):
                            self._emit_blink(t, self.rng_blink, "spontaneous")
                        else:  # over the line's bound: this blink is skipped, the renewal goes on
                            self._clock = 0.0
                        self._budget = self._draw_budget()
                        debt, clock, blink_free_at = self._debt, self._clock, self._blink_free_at
                        budget, flurry_at = self._budget, self._flurry_at
        finally:
            self._prev_speech, self._since_speech = prev_speech, since_speech
            self._pause_rate, self._boost_until, self._next_due = pause_rate, boost_until, next_due
            self._debt, self._clock, self._budget = debt, clock, budget
            self._blink_free_at, self._flurry_at = blink_free_at, flurry_at
        self.k = max(self.k, k_end)

    def forget_decided(self) -> None:
        """Drop the driver ticks no decision will read again (causal LIVE model: every tick
        before :attr:`k`; with a look-ahead the ticks are read ahead of ``k`` but never behind
        it, so the same rule holds), keeping a session's memory flat in its length."""
        for g in (self._speech, self._blink_mult, self._emo):
            g.drop(self.k)

    def _causal_pause(self, k: int, s: bool, offset: bool, onset: bool) -> str | None:
        """Pause handling without look-ahead: at the offset the pause is taken as a hesitation
        and its blink boost starts; once it has lasted ``BOUNDARY_PAUSE_S`` it becomes a phrase
        boundary (the same triggers as offline, the boundary one ``BOUNDARY_PAUSE_S`` later);
        speech resuming ends the boost early (offline it is clipped to the pause as well)."""
        if offset:
            win = int(PAUSE_BLINK_WINDOW_S / TICK_S)
            self._boost_until = k + win
            self._pause_rate += win * TICK_S / PAUSE_RATE_TAU_S
            self._pause_k = k
            return "hesitation"
        if onset:
            left = self._boost_until - k
            if left > 0:  # the boost budgeted for the whole window: give back what was not used
                self._pause_rate -= left * TICK_S / PAUSE_RATE_TAU_S
            self._boost_until = min(self._boost_until, k)
            self._pause_k = None
            return None
        if not s and self._pause_k is not None and k - self._pause_k == self.Lb:
            return "boundary"
        return None

    # blinks ---------------------------------------------------------------------------
    def _draw_budget(self) -> float:
        """Hazard budget to the next blink: a long log-normal one (a stare; its mean is the
        run's expected length, so the rate stays the state's), or, with P_FLURRY while the run
        is shorter than MAX_RUN, the next closure of the run at a fixed short delay in real
        time (``_flurry_at``; the hazard clock does not decide it, so damping inside speech
        and the rate regulation cannot stretch a run into isolated blinks)."""
        s = BLINK_IBI_SIGMA
        if self.rng_blink.random() < P_FLURRY and self._run < MAX_RUN:
            self._flurry_at = self._blink_free_at + float(self.rng_blink.uniform(*FLURRY_DELAY_S))
            return math.inf
        self._flurry_at = None
        return _LONG_MEAN * float(math.exp(self.rng_blink.normal(-0.5 * s * s, s)))

    def _lagging(self, t: float) -> bool:
        """LIVE's causal stand-in for the lower bound: would the line fall under the bound's
        count if it ended LIVE_LAG_MARGIN_S from now? (Then the hazard is raised.)"""
        end = t + LIVE_LAG_MARGIN_S
        if end < LINE_MIN_S:
            return False
        return len(self.blinks) < math.ceil(end * LINE_RATE_BOUNDS[0] / 60.0 * self.cfg.blink_rate - 1e-9)

    def _allowed(self, t: float, k: int = 1) -> bool:
        """May ``k`` more blinks start at ``t``? The causal part of the per-line bound: never
        more than ``max(2, rate_max * t)`` blinks by time ``t`` (LINE_RATE_BOUNDS)."""
        if self.L:  # with a look-ahead this is an offline plan: plan_eyes bounds the whole line
            return True
        cap = max(2, int(math.floor(t * LINE_RATE_BOUNDS[1] / 60.0 * self.cfg.blink_rate + 1e-9)))
        return len(self.blinks) + k <= cap

    def _emit_blink(self, t: float, rng: np.random.Generator, kind: str) -> None:
        b = self._draw_blink(t, rng, kind)
        if not self.blinks or t - self.blinks[-1].end > RUN_GAP_S:
            self._run = 0  # a new run
        self.blinks.append(b)
        self._debt -= 1.0
        self._run += 1
        end = b.end
        if rng.random() < P_DOUBLE_BLINK and self._allowed(t) and self._run < MAX_RUN:
            self._run += 1
            # the second closure starts while the lid is still reopening
            t2 = b.t + b.close + b.hold + b.open * rng.uniform(0.4, 0.7)
            b2 = self._draw_blink(t2, rng, "double")
            self.blinks.append(b2)
            self._debt -= 1.0
            end = b2.end
        self._clock = 0.0
        self._blink_free_at = end + BLINK_REFRACTORY_S

    @staticmethod
    def _draw_blink(t: float, rng: np.random.Generator, kind: str) -> Blink:
        amp = float(np.clip(rng.normal(*BLINK_AMP), *BLINK_AMP_RANGE))
        k = 0.75 + 0.25 * amp  # shallower closures are slightly shorter movements
        close = float(np.clip(rng.normal(*BLINK_CLOSE_S), 0.04, 0.1)) * k
        hold = float(rng.uniform(*BLINK_HOLD_S)) * k
        opn = float(np.clip(rng.normal(*BLINK_OPEN_S), 0.09, 0.25)) * k
        return Blink(round(t, 4), close, hold, opn, float(amp), kind)

    # gaze -----------------------------------------------------------------------------
    def _draw_micro_gap(self) -> float:
        return 0.15 + float(self.rng_micro.exponential(1.0 / MICROSACCADE_RATE_HZ))

    def _contact_fraction(self, talking: bool, w: np.ndarray) -> float:
        ec = self.cfg.eye_contact
        f = ec if not talking else float(np.interp(ec, [0.0, 0.7, 1.0], [0.0, 0.35, 1.0]))
        return float(np.clip(f * (w @ EMO_CONTACT), 0.0, 0.97 if ec < 1 else 1.0))

    def _gaze_tick(self, k: int, t: float, talking: bool, trigger: str | None, w: np.ndarray) -> None:
        if trigger is not None:
            # the aversion as an utterance starts comes a variable moment into it (0-250 ms), so
            # it and the blinks it evokes are not locked to the speech onset of every line
            delay = float(self.rng_gaze.uniform(0.0, START_AVERT_DELAY_S)) if trigger == "start" else 0.0
            self._pending = (trigger, t + delay, t + delay + 0.3)
        if t < self._busy_until or (self._pending is not None and t < self._pending[1]):
            return
        rng = self.rng_gaze
        f = self._contact_fraction(talking, w)
        pitch_bias = float(w @ EMO_PITCH_DEG)
        new_mode = None
        if self._pending is not None:
            trig, _, expires = self._pending
            self._pending = None
            if t <= expires:
                f_ref = 1.0 - 0.35  # (1 - speaking contact share) at the default eye contact
                if trig == "start" and rng.random() < P_AVERT_AT_START * min(1.0, (1 - f) / f_ref):
                    new_mode = "avert"
                elif trig == "hesitation" and self._mode == "contact" and \
                        rng.random() < P_AVERT_AT_HESITATION * min(1.0, (1 - f) / f_ref):
                    new_mode = "avert"
                elif trig == "boundary" and self._mode == "avert" and \
                        rng.random() < P_LOOK_AT_BOUNDARY * min(1.0, self._contact_fraction(False, w) / 0.7):
                    new_mode = "contact"
        if new_mode is None and t >= self._glance_end:
            # alternating renewal: pick the next glance so the time fraction looking is f
            ec_mean = CONTACT_GLANCE_S[talking] * math.exp(GLANCE_SIGMA ** 2 / 2)
            av_mean = AVERT_GLANCE_S[talking] * math.exp(GLANCE_SIGMA ** 2 / 2)
            q = f * av_mean / max(f * av_mean + (1 - f) * ec_mean, 1e-9)
            new_mode = "contact" if rng.random() < q else "avert"
        if new_mode is not None:
            glance_mult = float(w @ EMO_GLANCE)
            med = (CONTACT_GLANCE_S if new_mode == "contact" else AVERT_GLANCE_S)[talking] * glance_mult
            if new_mode == "contact":
                point = self._face_point(rng, pitch_bias)
                kind = "contact"
            else:
                point = self._avert_point(rng, w, pitch_bias)
                kind = "avert"
            self._mode = new_mode
            sac = self._saccade(t, point, kind, rng)
            self._glance_end = sac.end + float(rng.lognormal(math.log(med), GLANCE_SIGMA))
            self._next_face = (sac.end + float(rng.lognormal(math.log(FACE_FIXATION_S[talking]), FACE_FIXATION_SIGMA))
                               if new_mode == "contact" else math.inf)
            # the draw is made for every large shift, so the gaze stream does not depend on the blinks
            if self.cfg.blink and sac.amplitude >= GAZE_BLINK_MIN_DEG and rng.random() < P_GAZE_BLINK \
                    and t >= self._blink_free_at and self._allowed(t):
                self._emit_blink(t, rng, "gaze")
            return
        if self._mode == "contact" and t >= self._next_face:
            point = self._face_point(rng, pitch_bias)
            sac = self._saccade(t, point, "face", rng)
            self._next_face = sac.end + float(rng.lognormal(math.log(FACE_FIXATION_S[talking]), FACE_FIXATION_SIGMA))
            return
        if t >= self._next_micro:
            r = self.rng_micro
            amp = float(np.clip(r.lognormal(math.log(MICROSACCADE_DEG[0]), MICROSACCADE_DEG[1]), 0.05, 1.0))
            ang = r.uniform(0, 2 * math.pi)
            # micro-saccades correct fixational drift: they stay near the fixation centre
            off = (self._pos[0] - self._center[0], self._pos[1] - self._center[1])
            tgt = (self._center[0] + 0.3 * off[0] + amp * math.cos(ang),
                   self._center[1] + 0.3 * off[1] + amp * math.sin(ang))
            self._saccade(t, tgt, "micro", r, keep_center=True)
            self._next_micro = t + self._draw_micro_gap()

    def _face_point(self, rng: np.random.Generator, pitch_bias: float) -> tuple[float, float]:
        # one draw for the point so the stream position does not depend on its value
        i = int(rng.choice(len(FACE_POINTS_DEG), p=FACE_POINT_P))
        y, p = FACE_POINTS_DEG[i]
        tgt = self.cfg.gaze_target
        # scale the facial layout with distance (defined at 1.2 m)
        s = 1.2 / self.cfg.target_distance_m
        return (tgt[0] + y * s, tgt[1] + p * s + 0.3 * pitch_bias)

    def _avert_point(self, rng: np.random.Generator, w: np.ndarray, pitch_bias: float) -> tuple[float, float]:
        amp_mult = float(w @ EMO_AVERT_AMP)
        lo, hi = AVERT_RANGE_DEG
        u = rng.random()
        # truncated exponential by inversion (one draw)
        m = AVERT_MEAN_DEG
        a = lo - m * math.log(1 - u * (1 - math.exp(-(hi - lo) / m)))
        a *= amp_mult
        down = float(w @ EMO_DOWN_PREF)
        fear = float(w[EMOTIONS.index("fearful")])
        p = AVERT_DIR_P * (1 - fear) + fear / len(AVERT_DIR_P)  # fear scans in every direction
        p = (1 - down) * p + down * np.array([0, 0, 0.3, 0.3, 0.4, 0, 0, 0])
        d = AVERT_DIRS[int(rng.choice(len(p), p=p / p.sum()))] + rng.normal(0, math.radians(15))
        tgt = self.cfg.gaze_target
        # vertical aversions are flatter than horizontal ones (looking far up reads as eye-rolling):
        # squash the direction toward horizontal, keep the amplitude
        dy, dp = math.cos(d), AVERT_VERTICAL_SCALE * math.sin(d)
        norm = math.hypot(dy, dp)
        yaw = float(np.clip(tgt[0] + a * dy / norm, -35, 35))
        pitch = float(np.clip(tgt[1] + a * dp / norm + pitch_bias, -14, 22))
        return (yaw, pitch)

    def _saccade(self, t: float, point: tuple[float, float], kind: str, rng: np.random.Generator,
                 keep_center: bool = False) -> Saccade:
        start = self._pos
        amp = math.hypot(point[0] - start[0], point[1] - start[1])
        dur = float(main_sequence_s(amp)) * math.exp(rng.normal(0, SACCADE_DURATION_NOISE))
        sac = Saccade(round(t, 4), dur, start, (float(point[0]), float(point[1])), kind)
        self.saccades.append(sac)
        self._pos = sac.target
        if not keep_center:
            self._center = sac.target
        self._busy_until = sac.end + MIN_INTERSACCADE_S
        return sac


# ------------------------------------------------------------------------------ offline API
@dataclass
class EyesPlan:
    """Events of one bake and the config that made them (what apply_eyes renders)."""

    config: EyesConfig
    blinks: list[Blink] = field(default_factory=list)
    saccades: list[Saccade] = field(default_factory=list)
    speech: np.ndarray | None = None  # tick speech activity (for metadata / plots)

    def gaze(self, times: np.ndarray) -> np.ndarray:
        """(N, 2) gaze direction in degrees (world frame) at ``times``."""
        return gaze_trace(self.saccades, times, self.config.gaze_target)


def plan_eyes(drivers: Drivers, config: EyesConfig | None = None, seed: int = 0) -> EyesPlan:
    """Offline = streaming with the whole input: feed everything, close, step to the end."""
    config = config or EyesConfig()
    m = EyesModel(config, seed)
    m.feed(drivers.speech, drivers.arousal, drivers.emotion)
    m.close()
    m.step(drivers.duration + TICK_S)
    blinks = list(m.blinks)
    if config.blink:
        blinks = bound_line_count(blinks, drivers.speech, drivers.duration, config, seed)
    return EyesPlan(config, blinks, list(m.saccades), drivers.speech.copy())


def bound_line_count(blinks: list[Blink], speech: np.ndarray, duration: float,
                     config: EyesConfig, seed: int) -> list[Blink]:
    """The per-line bound (LINE_RATE_BOUNDS) on a whole line, offline: a line of at least
    LINE_MIN_S keeps its blink count within the bounds' rates. Why at the end and not as it
    goes: a causal bound must keep every prefix of the line in range too, which regularises the
    intervals (their spread fell from CV 1.2 to 0.8 on LJ lines); knowing the end, only the
    count is bounded. Excess blinks are taken from the isolated ones (flurries stay, so the
    spread does too); missing ones go into the longest blink-free stretch (away from the blinks
    around it by their refractory time), at a moment drawn with the hazard's own preference for
    the half second after a pause starts, as a flurry of two where the bound leaves room, with
    the flurry probability. Its own random stream, so the other events stay as they were; a line
    already in range is returned unchanged."""
    lo_n = int(math.ceil(duration * LINE_RATE_BOUNDS[0] / 60.0 * config.blink_rate - 1e-9))
    hi_n = int(math.floor(duration * LINE_RATE_BOUNDS[1] / 60.0 * config.blink_rate + 1e-9))
    if duration < LINE_MIN_S or lo_n <= len(blinks) <= hi_n:
        return blinks
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFFFFFF, EYES_STAGE_ID, 1]))
    out = sorted(blinks, key=lambda b: b.t)
    while len(out) > hi_n:
        t = np.array([b.t for b in out])
        gap_before = np.diff(np.r_[-np.inf, t])
        gap_after = np.diff(np.r_[t, np.inf])
        alone = np.flatnonzero(np.minimum(gap_before, gap_after) > 1.0)
        pool = alone if len(alone) else np.arange(len(out))
        out.pop(int(pool[int(rng.integers(len(pool)))]))
    if len(out) >= lo_n:
        return out
    sp = np.asarray(speech, bool)
    post_pause = np.zeros(len(sp), bool)
    for k in np.flatnonzero(sp[:-1] & ~sp[1:]) + 1:
        post_pause[k:k + int(PAUSE_BLINK_WINDOW_S / TICK_S)] = True
    post_pause &= ~sp
    last_start = duration - 0.25  # a blink that starts later would barely show
    while len(out) < lo_n:
        edges = [(0.0 if i == 0 else out[i - 1].end + BLINK_REFRACTORY_S,
                  (out[i].t - 0.3) if i < len(out) else last_start) for i in range(len(out) + 1)]
        lo, hi = max(edges, key=lambda e: e[1] - e[0])
        k = np.arange(int(math.ceil(max(lo, 0.0) / TICK_S)), int(math.floor(hi / TICK_S)) + 1)
        if not len(k):
            break
        w = np.ones(len(k))
        if len(sp):
            w += (PAUSE_BLINK_BOOST - 1.0) * post_pause[np.minimum(k, len(sp) - 1)]
        t = float(k[int(rng.choice(len(k), p=w / w.sum()))] * TICK_S)
        b = EyesModel._draw_blink(t, rng, "spontaneous")
        out.append(b)
        if len(out) + 1 <= hi_n and rng.random() < P_FLURRY:
            t2 = b.end + BLINK_REFRACTORY_S + float(rng.uniform(0.0, 0.3))
            if t2 < min(hi + 0.3, last_start):
                out.append(EyesModel._draw_blink(t2, rng, "spontaneous"))
        out.sort(key=lambda b: b.t)
    return out


def _ease_close(u: np.ndarray) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(np.pi * u)


def _ease_open(u: np.ndarray) -> np.ndarray:
    # fast start, long decelerating tail: the lid drifts the last part of the way open
    return 0.5 + 0.5 * np.cos(np.pi * np.power(u, 0.7))


def blink_signal(blinks: list[Blink], times: np.ndarray) -> np.ndarray:
    """Lid closure 0..1 at ``times`` (overlaps take the maximum)."""
    t = np.asarray(times, float)
    out = np.zeros(len(t))
    if not blinks:
        return out
    starts = np.array([b.t for b in blinks])
    order = np.argsort(starts)
    for i in order:
        b = blinks[i]
        lo, hi = np.searchsorted(t, [b.t, b.end])
        if hi <= lo:
            continue
        x = t[lo:hi] - b.t
        v = np.where(x < b.close, _ease_close(np.clip(x / b.close, 0, 1)),
                     np.where(x < b.close + b.hold, 1.0,
                              _ease_open(np.clip((x - b.close - b.hold) / b.open, 0, 1))))
        out[lo:hi] = np.maximum(out[lo:hi], b.amp * v)
    return np.clip(out, 0.0, 1.0)


def _min_jerk(u: np.ndarray) -> np.ndarray:
    return u * u * u * (10 - 15 * u + 6 * u * u)


def gaze_trace(saccades: list[Saccade], times: np.ndarray,
               initial: tuple[float, float] = (0.0, 0.0)) -> np.ndarray:
    """(N, 2) gaze (yaw, pitch) degrees: fixations held, saccades on a minimum-jerk profile."""
    t = np.asarray(times, float)
    out = np.empty((len(t), 2))
    out[:] = initial
    if not saccades:
        return out
    st = np.array([s.t for s in saccades])
    du = np.array([s.duration for s in saccades])
    a = np.array([s.start for s in saccades])
    b = np.array([s.target for s in saccades])
    i = np.searchsorted(st, t, side="right") - 1
    has = i >= 0
    j = i[has]
    u = np.clip((t[has] - st[j]) / du[j], 0, 1)
    out[has] = a[j] + (b[j] - a[j]) * _min_jerk(u)[:, None]
    return out


def apply_eyes(track: AnimationTrack, plan: EyesPlan) -> None:
    """Render the plan into the track: eyeLook*, eyeBlink*, lid coupling, ``track.eyes``.

    Runs after the head stage: the eyes hold the world gaze while the head moves (VOR), so eye
    rotation = gaze - head. Emotion's lids are respected: a blink closes from wherever the
    expression holds the lids (probabilistic OR with eyeBlink), suppresses eyeWide only while the
    lid is down, and adds to eyeSquint only the part squint does not already have.
    """
    cfg = plan.config
    meta: dict[str, Any] = {"config": cfg.to_dict(), "blink_enabled": cfg.blink, "gaze_enabled": cfg.gaze}
    _, eyes = render_window(track.curves, track.head, track.times, cfg, plan.blinks, plan.saccades)
    if cfg.gaze:
        track.eyes = eyes
        big = [s for s in plan.saccades if s.kind != "micro"]
        meta.update({"saccades": len(big), "microsaccades": len(plan.saccades) - len(big)})
        track.events["saccades"] = [(round(s.t, 4), round(s.duration, 4), round(s.amplitude, 3), s.kind)
                                    for s in plan.saccades]
    if cfg.blink:
        track.events["blinks"] = [(round(x.t, 4), round(x.t + x.close + x.hold, 4), round(x.end, 4),
                                   round(x.amp, 3), x.kind) for x in plan.blinks]
        minutes = max(track.duration / 60.0, 1e-9)
        meta.update({"blinks": len(plan.blinks), "blinks_per_min": round(len(plan.blinks) / minutes, 2)})
    track.metadata["eyes"] = meta


_LOOK = {side: [ARKIT_INDEX[f"eyeLook{k}{side}"] for k in ("Out", "In", "Down", "Up")] for side in ("Left", "Right")}
_LIDS = [[ARKIT_INDEX[f"{k}{side}"] for side in ("Left", "Right")] for k in ("eyeBlink", "eyeWide", "eyeSquint")]


def render_window(curves: np.ndarray, head: np.ndarray | None, times: np.ndarray, config: EyesConfig,
                  blinks: list[Blink], saccades: list[Saccade]) -> tuple[np.ndarray, np.ndarray]:
    """The eyes' numbers for ``times``, without a track: ``curves`` (n, 52) float32 is edited in
    place, the eyes (n, 2, 3) radians are returned (zeros with gaze off). :func:`apply_eyes` (the
    bake) adds the track's events and metadata around it; LIVE renders every session's 1-2 frame
    window of a tick in one :func:`render_windows` call. One renderer (this is that call with one
    window), so LIVE and bake cannot drift apart."""
    return render_windows(curves, head, times, [0, len(times)], [config], [blinks], [saccades])


def render_windows(curves: np.ndarray, head: np.ndarray | None, times: np.ndarray, bounds: Sequence[int],
                   configs: Sequence[EyesConfig], blinks: Sequence[Sequence[Blink]],
                   saccades: Sequence[Sequence[Saccade]]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`render_window` for many windows stacked by rows: window ``w`` is rows
    ``[bounds[w], bounds[w + 1])`` of ``curves`` (edited in place), ``head`` (radians, or None:
    still) and ``times`` (ascending within a window), rendered with its own config and events.

    Why: a LIVE tick renders 1-2 frames for each of many sessions, and each of the ~60 numpy calls
    of a window had a fixed cost far above its arithmetic; stacked, the sessions share the calls.
    Every number is elementwise (a row reads only its own window's events, found by a search per
    window), so each window gets exactly what it gets alone. ``np.minimum(np.maximum(lo, x), hi)``
    is np.clip's result bit for bit (bound first keeps the sign of a zero as clip does) at half
    its per-call cost."""
    n = len(times)
    bounds = np.asarray(bounds, np.intp)
    lens = np.diff(bounds)
    head_deg = np.degrees(np.asarray(head, float)) if head is not None else np.zeros((n, 3))
    gaze_on = np.array([c.gaze for c in configs], bool)
    down = up = np.zeros(n)
    eyes_rad = np.zeros((n, 2, 3), np.float32)
    if gaze_on.any():
        g = _gaze_rows(times, bounds, configs, saccades, gaze_on)
        yaw = np.minimum(np.maximum(-EYE_YAW_MAX_DEG, g[:, 0] - head_deg[:, 0]), EYE_YAW_MAX_DEG)
        pitch = np.minimum(np.maximum(-EYE_UP_MAX_DEG, g[:, 1] - head_deg[:, 1]), EYE_DOWN_MAX_DEG)
        verg_w = [math.degrees(math.atan2(INTEROCULAR_M / 2, c.target_distance_m)) for c in configs]
        verg = verg_w[0] if len(verg_w) == 1 else np.repeat(np.array(verg_w), lens)
        eyes = np.zeros((n, 2, 3))
        eyes[:, 0, 0] = np.minimum(np.maximum(-EYE_YAW_MAX_DEG, yaw - verg), EYE_YAW_MAX_DEG)
        eyes[:, 1, 0] = np.minimum(np.maximum(-EYE_YAW_MAX_DEG, yaw + verg), EYE_YAW_MAX_DEG)
        eyes[:, :, 1] = pitch[:, None]
        rad = np.radians(eyes).astype(np.float32)
        y = eyes[:, :, 0] / EYE_YAW_MAX_DEG
        dn = np.minimum(np.maximum(0.0, pitch / EYE_DOWN_MAX_DEG), 1.0)
        upg = np.minimum(np.maximum(0.0, -pitch / EYE_UP_MAX_DEG), 1.0)
        pos, neg = np.minimum(np.maximum(0.0, y), 1.0), np.minimum(np.maximum(0.0, -y), 1.0)
        # yaw + is toward the character's left: outward for the left eye, inward for the right
        left = np.stack([pos[:, 0], neg[:, 0], dn, upg], axis=1)
        right = np.stack([neg[:, 1], pos[:, 1], dn, upg], axis=1)
        if gaze_on.all():
            curves[:, _LOOK["Left"]] = left
            curves[:, _LOOK["Right"]] = right
            eyes_rad, down, up = rad, dn, upg
        else:  # sessions with gaze off keep their look curves, still eyes and lids without gaze
            on = np.repeat(gaze_on, lens)
            rows = np.flatnonzero(on)
            curves[np.ix_(rows, _LOOK["Left"])] = left[rows]
            curves[np.ix_(rows, _LOOK["Right"])] = right[rows]
            eyes_rad[rows] = rad[rows]
            down, up = np.where(on, dn, 0.0), np.where(on, upg, 0.0)
    b = _blink_rows(times, bounds, configs, blinks)[:, None]
    blink, wide, squint = (curves[:, idx].astype(float) for idx in _LIDS)
    curves[:, _LIDS[0]] = np.minimum(np.maximum(0.0, 1 - (1 - blink) * (1 - LID_FOLLOW_DOWN * down)[:, None] * (1 - b)), 1.0)
    curves[:, _LIDS[1]] = np.minimum(np.maximum(0.0, np.maximum(wide, (LID_FOLLOW_UP * up)[:, None]) * (1 - b)), 1.0)
    curves[:, _LIDS[2]] = np.minimum(np.maximum(0.0, squint + (1 - squint) * BLINK_SQUINT * b), 1.0)
    return curves, eyes_rad


def _gaze_rows(times: np.ndarray, bounds: np.ndarray, configs: Sequence[EyesConfig],
               saccades: Sequence[Sequence[Saccade]], gaze_on: np.ndarray) -> np.ndarray:
    """:func:`gaze_trace` of every window at once: (n, 2) degrees; a row starts at its window's
    gaze target and takes the saccade that started last at or before it in its own window."""
    n = len(times)
    lens = np.diff(bounds)
    init = np.array([c.gaze_target for c in configs], float)
    out = np.empty((n, 2))
    out[:] = init[0] if len(init) == 1 else np.repeat(init, lens, axis=0)
    flat = [s for w, sw in enumerate(saccades) if gaze_on[w] for s in sw]
    if not flat:
        return out
    st = np.array([s.t for s in flat])
    du = np.array([s.duration for s in flat])
    a = np.array([s.start for s in flat])
    b = np.array([s.target for s in flat])
    if len(configs) == 1:
        i = np.searchsorted(st, times, side="right") - 1
    else:
        i = _last_started(st, times, bounds, lens, saccades, gaze_on)
    has = i >= 0
    j = i[has]
    u = np.clip((times[has] - st[j]) / du[j], 0, 1)
    out[has] = a[j] + (b[j] - a[j]) * _min_jerk(u)[:, None]
    return out


#: above this many (row, saccade) comparisons :func:`_last_started` searches window by window
_DENSE_MAX = 1 << 16


def _last_started(st: np.ndarray, times: np.ndarray, bounds: np.ndarray, lens: np.ndarray,
                  saccades: Sequence[Sequence[Saccade]], gaze_on: np.ndarray) -> np.ndarray:
    """For every row, the index into ``st`` (the start times of the gaze-on windows' saccades,
    window after window, each window's ascending) of the last saccade of its own window that
    started at or before the row's time; -1: none (or gaze off). ``np.searchsorted(st_w, t,
    "right") - 1`` per window, i.e. the count of the window's starts <= t, less one: here counted
    for all rows at once against their window's (few: LIVE windows hold 1-3) saccades, padded to
    the largest window's count. Comparisons only, so the same indices."""
    n, W = len(times), len(saccades)
    cnt = np.fromiter((len(sw) if gaze_on[w] else 0 for w, sw in enumerate(saccades)), np.intp, W)
    K = int(cnt.max()) if W else 0
    if n * K > _DENSE_MAX:
        i = np.full(n, -1, np.intp)
        at = 0
        for w, sw in enumerate(saccades):
            if not gaze_on[w] or not sw:
                continue
            r0, r1 = bounds[w], bounds[w + 1]
            loc = np.searchsorted(st[at:at + len(sw)], times[r0:r1], side="right") - 1
            i[r0:r1] = np.where(loc >= 0, loc + at, -1)
            at += len(sw)
        return i
    at = np.cumsum(cnt) - cnt  # each window's first saccade in st
    base, k_r = np.repeat(at, lens), np.repeat(cnt, lens)
    col = np.arange(K)
    valid = col < k_r[:, None]
    idx = np.where(valid, base[:, None] + col, 0)
    c = (valid & (st[idx] <= times[:, None])).sum(axis=1)
    return np.where(c > 0, base + c - 1, -1)


def _blink_rows(times: np.ndarray, bounds: np.ndarray, configs: Sequence[EyesConfig],
                blinks: Sequence[Sequence[Blink]]) -> np.ndarray:
    """:func:`blink_signal` of every window at once (zeros where a window's blinks are off): each
    blink covers the rows of its window with ``b.t <= t < b.end``, overlaps take the maximum."""
    n = len(times)
    out = np.zeros(n)
    rows, par = [], []
    for w, bw in enumerate(blinks):
        if not bw or not configs[w].blink:
            continue
        r0, r1 = bounds[w], bounds[w + 1]
        tw = times[r0:r1]
        p = np.array([(x.t, x.close, x.hold, x.open, x.amp, x.end) for x in bw])
        lo = np.searchsorted(tw, p[:, 0])
        hi = np.searchsorted(tw, p[:, 5])
        cnt = np.maximum(hi - lo, 0)
        if not cnt.any():
            continue
        k = np.repeat(np.arange(len(bw)), cnt)
        rows.append(r0 + lo[k] + np.arange(len(k)) - np.repeat(np.cumsum(cnt) - cnt, cnt))
        par.append(p[k])
    if not rows:
        return out
    r = np.concatenate(rows) if len(rows) > 1 else rows[0]
    bt, cl, ho, op, amp, _ = (np.concatenate(par) if len(par) > 1 else par[0]).T
    x = times[r] - bt
    v = np.where(x < cl, _ease_close(np.clip(x / cl, 0, 1)),
                 np.where(x < cl + ho, 1.0, _ease_open(np.clip((x - cl - ho) / op, 0, 1))))
    np.maximum.at(out, r, amp * v)
    return np.clip(out, 0.0, 1.0)

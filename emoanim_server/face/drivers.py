"""What the eye and head stages react to, on one fixed 10 ms tick grid.

Why a grid of its own: blink, gaze and head decisions must not change with the output frame
rate (a 24 fps and a 60 fps bake of the same line blink at the same instants), and the live
server feeds audio in chunks of arbitrary size. Every driver here is therefore sampled at
``TICK_S`` from the audio start, independent of fps and chunking, and frames are rendered from
the resulting events afterwards.

Drivers: speech activity (bool per tick), arousal (-1..1 per tick), emotion category weights
(per tick, ``EMOTIONS`` order) and emphasis events ``[(time_s, strength)]``. Each is computed with
at most ``DRIVER_LOOKAHEAD_S`` of look-ahead (gap closing), so a streaming caller that has audio
up to time T can produce drivers up to ``T - DRIVER_LOOKAHEAD_S`` that equal the offline ones.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

import numpy as np

from ..batching import batched

TICK_S = 0.01
#: the eight emotion categories of the design (DESIGN.md "Emotion"), in this order
EMOTIONS: tuple[str, ...] = ("neutral", "happy", "sad", "angry", "fearful", "disgusted",
                             "surprised", "contempt")
#: gaps in speech shorter than this are stop closures / aligner slivers, not pauses
MIN_PAUSE_S = 0.15
#: utterances shorter than this (energy blips, clicks) are dropped
MIN_SPEECH_S = 0.05
DRIVER_LOOKAHEAD_S = MIN_PAUSE_S


@dataclass
class Drivers:
    """Inputs of the eye/head stages on the tick grid (tick k is at ``k * TICK_S``)."""

    speech: np.ndarray                       # (T,) bool
    arousal: np.ndarray | None = None        # (T,) float in [-1, 1]; None = neutral
    emotion: np.ndarray | None = None        # (T, 8) weights in EMOTIONS order; None = neutral
    emphasis: list[tuple[float, float]] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)  # where each driver came from

    def __post_init__(self) -> None:
        self.speech = np.asarray(self.speech, bool).reshape(-1)
        n = len(self.speech)
        # np.clip(np.nan_to_num(x), lo, hi) bit for bit, at a fraction of the per-call cost (LIVE
        # builds Drivers for every session's new ticks): _finite, then minimum(maximum(lo, x), hi)
        self.arousal = (np.zeros(n) if self.arousal is None
                        else np.minimum(np.maximum(-1, _finite(np.asarray(self.arousal, float).reshape(-1))), 1))
        if len(self.arousal) != n:
            raise ValueError(f"arousal has {len(self.arousal)} ticks, speech has {n}")
        if self.emotion is None:
            self.emotion = np.zeros((n, len(EMOTIONS)))
            self.emotion[:, 0] = 1.0
        self.emotion = np.minimum(np.maximum(0, _finite(np.asarray(self.emotion, float))), 1).reshape(n, len(EMOTIONS))
        self.emphasis = sorted((float(t), float(np.clip(s, 0, 1))) for t, s in self.emphasis
                               if np.isfinite(t) and np.isfinite(s))
        self._norm: np.ndarray | None = None

    def normalised_emotion(self) -> np.ndarray:
        """The emotion weights over their row sums (at least 1e-9), computed once: the eyes and
        the head of a LIVE session read the same drivers."""
        if self._norm is None:
            self._norm = self.emotion / np.maximum(self.emotion.sum(axis=1, keepdims=True), 1e-9)
        return self._norm

    @property
    def n_ticks(self) -> int:
        return len(self.speech)

    @property
    def duration(self) -> float:
        return self.n_ticks * TICK_S

    def weight(self, name: str) -> np.ndarray:
        return self.emotion[:, EMOTIONS.index(name)]


def _finite(x: np.ndarray) -> np.ndarray:
    """``np.nan_to_num(x)``, without its cost when every value is finite already."""
    return x if np.isfinite(x).all() else np.nan_to_num(x)


def n_ticks_for(duration_s: float) -> int:
    return max(1, int(np.ceil(duration_s / TICK_S - 1e-9)) + 1)


def tick_times(n: int) -> np.ndarray:
    return np.arange(n) * TICK_S


def clean_activity(active: np.ndarray, min_pause_s: float = MIN_PAUSE_S,
                   min_speech_s: float = MIN_SPEECH_S) -> np.ndarray:
    """Close gaps shorter than a pause and drop blips; look-ahead is ``min_pause_s`` at most."""
    a = np.asarray(active, bool).copy()
    for value, min_len in ((False, int(round(min_pause_s / TICK_S))), (True, int(round(min_speech_s / TICK_S)))):
        runs = _runs(a)
        for v, s, e in runs:
            # gaps are only closed when bounded by speech on both sides: leading/trailing silence stays
            if v == value and e - s < min_len and s > 0 and e < len(a):
                a[s:e] = not value
    return a


def _runs(a: np.ndarray) -> list[tuple[bool, int, int]]:
    if len(a) == 0:
        return []
    edges = np.flatnonzero(np.diff(a.astype(np.int8))) + 1
    starts = np.concatenate([[0], edges])
    ends = np.concatenate([edges, [len(a)]])
    return [(bool(a[s]), int(s), int(e)) for s, e in zip(starts, ends)]


def speech_from_phones(phones: Iterable[Sequence[Any]], n_ticks: int) -> np.ndarray:
    """Speech activity from ``(start, end, phone)`` tuples; ``sil`` (and empty labels) are pauses."""
    a = np.zeros(n_ticks, bool)
    for p in phones:
        start, end, label = float(p[0]), float(p[1]), str(p[2])
        if label in ("sil", "", "sp", "spn") or end <= start:
            continue
        a[int(round(start / TICK_S)):int(round(end / TICK_S))] = True
    return clean_activity(a)


def speech_from_energy(samples: np.ndarray, n_ticks: int) -> np.ndarray:
    """Energy VAD for when no phones exist (phones missing or stage run on raw audio)."""
    from ..audio import frame_db, speech_threshold_db

    db = _fit(frame_db(samples, TICK_S), n_ticks, -140.0)
    thr = speech_threshold_db(db)
    if thr is None:
        return np.zeros(n_ticks, bool)
    return clean_activity(db > thr)


def _fit(x: np.ndarray, n: int, fill: float) -> np.ndarray:
    if len(x) >= n:
        return x[:n]
    return np.concatenate([x, np.full(n - len(x), fill, x.dtype)])


def emphasis_from_energy(samples: np.ndarray, speech: np.ndarray,
                         min_gap_s: float = 0.5) -> list[tuple[float, float]]:
    """Fallback emphasis when the prosody stage gave none: syllables louder than their phrase.

    Why energy only: stress in English raises intensity, duration and pitch together; the loudest
    syllable nuclei relative to a ~1.5 s running median are a cheap, causal-enough proxy (the
    median window is the only look-ahead, 0.75 s, used offline only). The prosody stage
    (track.events["emphasis"]) replaces this when present.
    """
    from scipy.ndimage import maximum_filter1d, median_filter, uniform_filter1d

    from ..audio import frame_db

    n = len(speech)
    db = _fit(frame_db(samples, TICK_S), n, -140.0)
    db = uniform_filter1d(db, 7)  # ~70 ms: one syllable nucleus
    ref = median_filter(np.where(speech, db, np.nan_to_num(db.min())), size=151, mode="nearest")
    prom = np.where(speech, db - ref, 0.0)
    peak = (prom == maximum_filter1d(prom, int(min_gap_s / TICK_S))) & (prom > 4.0)
    out: list[tuple[float, float]] = []
    for k in np.flatnonzero(peak):
        t = k * TICK_S
        if out and t - out[-1][0] < min_gap_s:
            continue
        out.append((round(t, 3), float(np.clip((prom[k] - 4.0) / 8.0, 0.1, 1.0))))
    return out


def resample_to_ticks(values: np.ndarray, times: np.ndarray, n_ticks: int) -> np.ndarray:
    """Per-frame values (frame times ``times``) onto the tick grid (linear, held at the ends)."""
    v = np.asarray(values, float)
    t = tick_times(n_ticks)
    if v.ndim == 1:
        return np.interp(t, times, v)
    return np.stack([np.interp(t, times, v[:, j]) for j in range(v.shape[1])], axis=1)


def talk_state(speech: np.ndarray, hangover_s: float = 0.5) -> np.ndarray:
    """"Speaking" as a conversational state: speech now or within the last ``hangover_s``.

    Why a hangover: blink and gaze rates in the literature are measured per activity
    (conversation vs rest), and the short pauses inside an utterance belong to speaking.
    Causal (no look-ahead), so streaming sees the same state.
    """
    s = np.asarray(speech, bool)
    h = int(round(hangover_s / TICK_S))
    idx = np.where(s, np.arange(len(s)), -10 ** 9)
    last = np.maximum.accumulate(idx) if len(s) else idx
    return (np.arange(len(s)) - last) <= h


def drivers_for_track(track: Any, samples: np.ndarray | None = None,
                      vad: np.ndarray | None = None, weights: np.ndarray | None = None) -> Drivers:
    """Drivers for a bake: speech from the track's phones (else energy VAD on ``samples``),
    emphasis from ``track.events["emphasis"]`` (else the prosody module, else loudness peaks),
    arousal/emotion from per-frame ``vad`` (N, 3) / ``weights`` (N, 8) at ``track.times``."""
    n = n_ticks_for(track.duration)
    sources: dict[str, str] = {}
    phones = track.events.get("phones") or []
    if any(str(p[2]) != "sil" for p in phones):
        speech = speech_from_phones(phones, n)
        sources["speech"] = "phones"
    elif samples is not None:
        speech = speech_from_energy(samples, n)
        sources["speech"] = "energy"
    else:
        speech = np.zeros(n, bool)
        sources["speech"] = "none"
    emphasis = track.events.get("emphasis")
    if emphasis is not None:
        sources["emphasis"] = "track.events"
    elif samples is not None:
        try:
            from ..audio.prosody import emphasis as prosody_emphasis  # issue 3's pitch+energy detector
            emphasis = prosody_emphasis(samples)
            sources["emphasis"] = "audio.prosody"
        except (ImportError, AttributeError):
            emphasis = emphasis_from_energy(samples, speech)
            sources["emphasis"] = "energy"
    else:
        emphasis, sources["emphasis"] = [], "none"
    arousal = emo = None
    times = track.times
    if vad is None and weights is None and track.events.get("emotion"):
        # the emotion stage's per-frame state, read from the track it wrote (columns time, V, A,
        # D, then the categories in EMOTIONS order: emotion.stage.EVENT_COLUMNS) -- read here
        # rather than imported, so face/ and emotion/ do not import each other
        ev = np.asarray(track.events["emotion"], np.float64)
        cols = np.stack([np.interp(times, ev[:, 0], ev[:, j]) for j in range(1, ev.shape[1])], axis=1)
        vad, weights = cols[:, :3], cols[:, 3:3 + len(EMOTIONS)]
    if vad is not None:
        arousal = resample_to_ticks(np.asarray(vad, float)[:, 1], times, n)
        sources["arousal"] = "vad"
    if weights is not None:
        emo = resample_to_ticks(np.asarray(weights, float), times, n)
        sources["emotion"] = "weights"
    return Drivers(speech, arousal, emo, [(float(e[0]), float(e[1])) for e in emphasis], sources)


class StreamingEmphasis:
    """Causal loudness-prominence emphasis for live sessions (no whole-line prosody there).

    Why: the head nods on emphasis; offline the prosody analysis (pitch + loudness over the
    whole line) provides it, but a live session only has audio up to now. This detector uses only
    the past (a 1.5 s running median of speech loudness as the reference) plus ``LOOKAHEAD_S`` to
    confirm a local peak, so events up to T need audio up to T + LOOKAHEAD_S, and any chunking
    gives the same events. Cruder than the prosody stage (loudness only): use that when present.
    """

    HOP = 160                 # samples per tick at 16 kHz
    SMOOTH = 3                # +-3 ticks (~70 ms window: one syllable nucleus)
    PEAK_HALF = 25            # a peak is the maximum within +-0.25 s
    REF_TICKS = 150           # 1.5 s of past speech loudness as the reference
    THRESHOLD_DB = 4.0
    MIN_GAP_S = 0.5
    LOOKAHEAD_S = (SMOOTH + PEAK_HALF + 1) * TICK_S

    def __init__(self) -> None:
        self._x = np.zeros(0, np.float32)   # samples not yet turned into ticks
        self._db: list[float] = []
        self._prom: list[float] = []
        self._hist: list[float] = []        # recent speech loudness (reference)
        self._peak_db = -60.0
        self._k_prom = 0                    # next tick whose prominence is computed
        self._k_peak = 0                    # next tick checked for a peak
        self._last = -1e9
        self.events: list[tuple[float, float]] = []

    def feed(self, samples: np.ndarray, final: bool = False) -> list[tuple[float, float]]:
        """Append 16 kHz mono samples; returns the emphasis events confirmed by this call."""
        x = np.concatenate([self._x, np.asarray(samples, np.float32).reshape(-1)])
        n = len(x) // self.HOP
        if final and len(x) > n * self.HOP:
            x = np.concatenate([x, np.zeros((n + 1) * self.HOP - len(x), np.float32)])
            n += 1
        if n:
            e = (x[:n * self.HOP].astype(np.float64).reshape(n, self.HOP) ** 2).mean(axis=1)
            self._db.extend((10 * np.log10(e + 1e-12)).tolist())
        self._x = x[n * self.HOP:]
        db = self._db
        end = len(db) if final else len(db) - self.SMOOTH
        for k in range(self._k_prom, max(self._k_prom, end)):
            lo, hi = max(0, k - self.SMOOTH), min(len(db), k + self.SMOOTH + 1)
            v = float(np.mean(db[lo:hi]))
            self._peak_db = max(v, self._peak_db - 0.02)  # slowly decaying loudness peak
            speech = v > max(self._peak_db - 30.0, -55.0)
            ref = float(np.median(self._hist)) if len(self._hist) >= 20 else v
            self._prom.append(v - ref if speech else 0.0)
            if speech:
                self._hist.append(v)
                if len(self._hist) > self.REF_TICKS:
                    del self._hist[0]
        self._k_prom = max(self._k_prom, end)
        new: list[tuple[float, float]] = []
        p = self._prom
        end = len(p) if final else len(p) - self.PEAK_HALF
        for k in range(self._k_peak, max(self._k_peak, end)):
            if p[k] <= self.THRESHOLD_DB:
                continue
            window = p[max(0, k - self.PEAK_HALF):k + self.PEAK_HALF + 1]
            if p[k] < max(window) or k * TICK_S - self._last < self.MIN_GAP_S:
                continue
            self._last = k * TICK_S
            new.append((round(k * TICK_S, 3), float(np.clip((p[k] - self.THRESHOLD_DB) / 8.0, 0.1, 1.0))))
        self._k_peak = max(self._k_peak, end)
        self.events.extend(new)
        return new


def streaming_emphasis(samples: np.ndarray) -> list[tuple[float, float]]:
    """The live detector run over a whole signal (what a session would have produced)."""
    return StreamingEmphasis().feed(samples, final=True)


class StreamingSpeech:
    """Causal speech activity on the tick grid, from audio as it arrives (LIVE eyes/head drivers).

    Why not phones: a live face that must show a sample within 100 ms cannot wait for a
    recogniser's phones (the phone loop needs 0.2 s, the learned lip-sync has none at all). Tick
    ``k`` covers samples ``[k, k+1) * TICK_S`` and is decided when they have arrived: loudness
    over the last 30 ms against a slowly decaying loudness peak (the rule StreamingEmphasis uses),
    then the offline cleaning done causally: speech starts after ``MIN_SPEECH_S`` of loud ticks
    (blips never start it) and a pause only once it has lasted ``MIN_PAUSE_S`` (stop closures
    never end it). So onsets and offsets are reported those amounts late, never revised.
    """

    HOP = 160
    SMOOTH = 3  # trailing ticks of loudness (30 ms)

    def __init__(self) -> None:
        self._x = np.zeros(0, np.float32)
        self._recent: list[float] = []
        self._peak_db = -60.0
        self._speaking = False
        self._run = 0  # ticks the raw decision has disagreed with the state
        self.k = 0  # ticks decided

    def feed(self, samples: np.ndarray, final: bool = False) -> np.ndarray:
        """Append 16 kHz mono samples; returns the bool activity of the ticks they completed
        (:func:`speech_feed_many` of this stream alone)."""
        return speech_feed_many([self], [samples], final)[0]


def speech_feed_many(streams: Sequence[StreamingSpeech], samples: Sequence[np.ndarray],
                     final: bool = False) -> list[np.ndarray]:
    """:meth:`StreamingSpeech.feed` of many streams at once (LIVE ticks every session's 20 ms
    together): their ticks' loudness in one array operation, then the per-tick rule advanced for
    every stream in one pass per tick position (a LIVE chunk completes two ticks), with each
    stream's own state. The same numbers as each stream alone: a tick's mean square is a row
    reduction of its own 160 samples, the 30 ms mean adds the same values in the same order as
    ``sum`` of the list did, and ``max`` keeps Python's semantics (the first argument unless the
    second is greater). State is written back only once every number is computed."""
    hop, W = StreamingSpeech.HOP, StreamingSpeech.SMOOTH
    bufs, ns = [], []
    for st, smp in zip(streams, samples):
        x = np.asarray(smp, np.float32).reshape(-1)
        if len(st._x):
            x = np.concatenate([st._x, x])
        n = len(x) // hop
        if final and len(x) > n * hop:
            x = np.concatenate([x, np.zeros((n + 1) * hop - len(x), np.float32)])
            n += 1
        bufs.append(x)
        ns.append(n)
    live = [j for j, n in enumerate(ns) if n]
    outs = [_NO_TICKS] * len(streams)
    if not live:
        _commit_rest(streams, bufs, ns)
        return outs
    sts = [streams[j] for j in live]
    n_l = [ns[j] for j in live]
    S, m, total = len(sts), max(n_l), sum(n_l)
    rows = [bufs[j][:ns[j] * hop] for j in live]
    e = ((rows[0] if S == 1 else np.concatenate(rows)).astype(np.float64).reshape(total, hop) ** 2).mean(axis=1)
    db = 10 * np.log10(e + 1e-12)
    start_n, pause_n = int(round(MIN_SPEECH_S / TICK_S)), int(round(MIN_PAUSE_S / TICK_S))
    if S < _ACROSS_MIN_STREAMS:
        for j, o in zip(live, _speech_rule_alone(sts, n_l, db, start_n, pause_n)):
            outs[j] = o
        _commit_rest(streams, bufs, ns)
        return outs
    # per stream a row: its last <= SMOOTH loudness values right-aligned, then its new ticks
    recent = [st._recent for st in sts]
    uniform = min(n_l) == m
    if uniform and all(len(r) == W for r in recent):  # every LIVE tick after the first ones
        cnt = np.full(S, W)
        H = np.concatenate([np.array(recent), db.reshape(S, m)], axis=1)
    else:
        H = np.zeros((S, W + m))
        cnt = np.array([len(r) for r in recent])
        at = 0
        for r, (rec, n) in enumerate(zip(recent, n_l)):
            if rec:
                H[r, W - len(rec):W] = rec
            H[r, W:W + n] = db[at:at + n]
            at += n
    # the trailing 30 ms mean of every tick: sum(list) / len, i.e. ((0 + r0) + r1) + r2 in
    # order, a list shorter than SMOOTH (a stream's first ticks) adding fewer terms
    c = np.minimum(cnt[:, None] + np.arange(1, m + 1), W)
    d, b1, b2 = H[:, W:], H[:, W - 1:W - 1 + m], H[:, W - 2:W - 2 + m]
    v = np.where(c >= 3, (b2 + b1) + d, np.where(c >= 2, b1 + d, d)) / c
    peak = np.array([st._peak_db for st in sts])
    speaking = np.array([st._speaking for st in sts])
    run = np.array([st._run for st in sts])
    act = np.empty((S, m), bool)
    ok_n = None if uniform else np.array(n_l)
    for i in range(m):  # the sequential part: the decaying peak and the hysteresis
        vi = v[:, i]
        p = peak - 0.02
        pk = np.where(p > vi, p, vi)  # max(v, peak - 0.02): Python's max, NaN included
        thr = pk - 30.0
        loud = vi > np.where(-55.0 > thr, -55.0, thr)  # max(thr, -55)
        dis = loud != speaking
        ru = np.where(dis, run + 1, 0)
        flip = dis & (ru >= np.where(speaking, pause_n, start_n))
        sp = np.where(flip, loud, speaking)
        ru = np.where(flip, 0, ru)
        if ok_n is not None:  # past some streams' ticks: they keep their state
            ok = i < ok_n
            pk, sp, ru = np.where(ok, pk, peak), np.where(ok, sp, speaking), np.where(ok, ru, run)
        peak, speaking, run = pk, sp, ru
        act[:, i] = speaking
    if uniform:
        tails = H[:, -W:].tolist()
        recent = [tail if c0 + m >= W else tail[W - c0 - m:] for tail, c0 in zip(tails, cnt.tolist())]
    else:
        recent = [H[r, W + n - min(W, int(cnt[r]) + n):W + n].tolist() for r, n in enumerate(n_l)]
    # every number computed: the state is written back (a failure above leaves it as it was)
    for r, (j, st, rec, pk, sp, ru) in enumerate(zip(live, sts, recent, peak.tolist(), speaking.tolist(),
                                                      run.tolist())):
        st._recent, st._peak_db, st._speaking, st._run = rec, pk, sp, ru
        outs[j] = act[r, :ns[j]]
    _commit_rest(streams, bufs, ns)
    return outs


#: fewer streams than this advance the rule one stream at a time, in Python floats (a lone
#: LIVE session: the array version's fixed per-call cost is above the two ticks' work)
_ACROSS_MIN_STREAMS = 3


def _speech_rule_alone(sts: list, n_l: list[int], db: np.ndarray, start_n: int, pause_n: int) -> list[np.ndarray]:
    """The per-tick rule of :func:`speech_feed_many` for each stream alone (the same operations
    on the same doubles); returns each stream's ticks. The state is written back per stream
    (nothing after the loop can fail)."""
    at, outs, states = 0, [], []
    for st, n in zip(sts, n_l):
        out = np.zeros(n, bool)
        recent, peak, speaking, run = list(st._recent), st._peak_db, st._speaking, st._run
        for i, d in enumerate(db[at:at + n].tolist()):
            recent.append(d)
            if len(recent) > StreamingSpeech.SMOOTH:
                del recent[0]
            v = sum(recent) / len(recent)
            peak = max(v, peak - 0.02)
            loud = v > max(peak - 30.0, -55.0)
            if loud != speaking:
                run += 1
                if run >= (pause_n if speaking else start_n):
                    speaking, run = loud, 0
            else:
                run = 0
            out[i] = speaking
        at += n
        outs.append(out)
        states.append((recent, peak, speaking, run))
    for st, (recent, peak, speaking, run) in zip(sts, states):
        st._recent, st._peak_db, st._speaking, st._run = recent, peak, speaking, run
    return outs


def _commit_rest(streams: Sequence[StreamingSpeech], bufs: list, ns: list[int]) -> None:
    """Each stream's samples past its last whole tick kept for the next feed, its tick count."""
    hop = StreamingSpeech.HOP
    for st, x, n in zip(streams, bufs, ns):
        st._x = x[n * hop:].copy() if len(x) > n * hop else _NO_SAMPLES  # (x may be the caller's)
        st.k += n


_NO_SAMPLES = np.zeros(0, np.float32)
_NO_SAMPLES.flags.writeable = False
_NO_TICKS = np.zeros(0, bool)
_NO_TICKS.flags.writeable = False


def decide_then_render(models: Sequence[Any], untils: Sequence[float], render_rows: Any,
                       width: int) -> tuple[list, list[int], list, list]:
    """The LIVE batching pattern the head and the upper face share: each model's per-tick
    decisions alone (``model._decide(until)`` -> a span or None), then the numbers of every
    decided model's new ticks in one ``render_rows(models, spans)`` call; if that call fails,
    each model alone, so a failure stays with its own model (one session never stops the others).

    Returns ``(res, todo, spans, outs)``: ``res[i]`` is already the exception of a model whose
    decision failed or an empty ``(0, width)`` array for one with nothing new; ``todo`` are the
    indices that rendered, with their ``spans`` and ``outs`` (the new rows or the exception),
    for the caller's own bookkeeping (committing its tick counter, history)."""
    res: list = [None] * len(models)
    todo: list[int] = []
    spans: list = []
    for i, (m, u) in enumerate(zip(models, untils)):
        try:
            sp = m._decide(u)
        except Exception as e:  # noqa: BLE001 - isolated per model, reported by the caller
            res[i] = e
            continue
        if sp is None:
            res[i] = np.zeros((0, width))
        else:
            todo.append(i)
            spans.append(sp)
    ms = [models[i] for i in todo]
    outs = batched(lambda xs: render_rows([m for m, _ in xs], [sp for _, sp in xs]), list(zip(ms, spans)))
    return res, todo, spans, outs

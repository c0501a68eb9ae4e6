"""Gesture timing from speech: where strokes may land, as conditioning the model can follow.

Why: beat gestures put their stroke apex on stressed / pitch-accented syllables (McNeill 1992;
Leonard & Cummins 2011: apex within ~0.1 s of the stressed syllable; Pouw et al. 2020). The
prosody analysis that finds those syllables already exists (``audio/prosody.py``: syllable
nuclei after de Jong & Wempe, emphasis after Terken); this module runs it the same way in
training, in an offline bake and in a live stream, so the three see identical numbers.

How (one code path, :class:`Conditioner`): audio arrives; for every PLAN_EVERY-th model window
the analysis runs on the trailing ``CONTEXT_S`` of audio *known to that window* (a fixed function of the
window index, never of how the audio was chunked). Syllable events older than the window's
horizon (known audio end - ``FINAL_MARGIN_S``) are final and are never revised, so the event
list of a whole stream is the same whether it was streamed or baked. YIN pitch, most of the
cost, is computed once per 10-ms hop and cached (``prosody.analyse(..., pitch=...)``).

Conditioning per model frame (COND_DIM = AUDIO_DIM + PLAN_DIM):
  [0:18]  features.audio_features (mel bands, energy, onset strength)
  [18]    speech: the frame is inside speech (prosody VAD), 0 in pauses and unknown audio
  [19]    emphasis pulse: sum of strength * exp(-0.5 ((t - t_apex) / PULSE_S)^2) over final
          emphasised syllables (stroke apex candidates with their strength)
  [20]    syllable pulse: the same over all final syllable nuclei (strength 1)
  [21]    known: 1 where the event list is final (t < horizon), else 0
Apex times are the syllable nucleus minus ``APEX_LEAD_S`` (the apex slightly leads the vowel
peak; the nucleus is the band-energy maximum, mid-vowel).
"""
from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field

import numpy as np

from .. import dsp
from ..audio import prosody as P
from ..audio.features import speech_threshold_db
from .features import AUDIO_DIM, MODEL_FPS, SILENCE, audio_features

SR = 16000
HOP = int(round(P.HOP_S * SR))  # 160 samples
SAMPLES_PER_FRAME = SR // MODEL_FPS
PLAN_DIM = 4
COND_DIM = AUDIO_DIM + PLAN_DIM
CONTEXT_S = 2.0
#: the syllable analysis runs for every PLAN_EVERY-th window (and the last): it is most of the
#: conditioning cost; windows in between reuse the event list (their "known" channel says so)
PLAN_EVERY = 2
FINAL_MARGIN_S = 0.12
PULSE_S = 0.05
APEX_LEAD_S = 0.05
# YIN frame i reads samples [i*HOP - w//2, i*HOP - w//2 + length) (prosody.pitch_track)
_TMAX = int(math.ceil(SR / P.F0_MIN))
_W = _TMAX + 16
PITCH_REACH = (_W + _TMAX + 1) - _W // 2


class BandCache:
    """prosody's band energies (``bands`` of prosody.BANDS, dB per 10 ms hop, as
    prosody._band_db bins them) of one growing signal, each sample filtered once: the
    conditioner re-analyses overlapping 2 s slices, and filtering every slice afresh was 15 % of
    the gesture stage's cost. The filters run over the whole stream (causal, state kept), so a
    slice's hops differ from a fresh analysis of the slice only in the filters' start transient
    (the first hop or two of a slice). Hops whose bin reaches past the known audio are computed
    on a copy of the filters with zeros after the audio, as analysing the slice alone would."""

    def __init__(self, bands=P.BANDS) -> None:
        self._filters = [dsp.Bandpass(lo, hi, SR) for lo, hi in bands]
        self._db = [np.zeros(0) for _ in bands]  # complete hops
        self._fed = 0  # samples of x fed (the bins are centred: the source is HOP // 2 zeros + x)
        self._rest = [np.zeros(0) for _ in bands]  # filtered samples of the incomplete hop
        for i, f in enumerate(self._filters):
            self._rest[i] = f(np.zeros(HOP // 2))

    @staticmethod
    def _hops(y: np.ndarray) -> np.ndarray:
        k = len(y) // HOP
        return np.mean(y[:k * HOP].reshape(k, HOP) ** 2, axis=1)

    def get(self, x: np.ndarray, n: int, h0: int, nh: int) -> tuple[np.ndarray, ...]:
        """dB of hops [h0, h0 + nh) of the first ``n`` samples of ``x`` (zeros after them)."""
        if n > self._fed:
            new = np.asarray(x[self._fed:n], np.float32).astype(np.float64)
            self._fed = n
            for i, f in enumerate(self._filters):
                y = np.concatenate([self._rest[i], f(new)])
                e = self._hops(y)
                self._db[i] = np.concatenate([self._db[i], 10 * np.log10(e + 1e-14)])
                self._rest[i] = y[len(e) * HOP:]
        out = []
        for i, f in enumerate(self._filters):
            v = self._db[i][h0:h0 + nh]
            short = nh - len(v)
            if short > 0:  # the tail: what the slice analysis gets with zeros after the audio
                pad = (len(self._db[i]) + short) * HOP - (len(self._db[i]) * HOP + len(self._rest[i]))
                y = np.concatenate([self._rest[i], copy.deepcopy(f)(np.zeros(max(pad, 0)))])
                v = np.concatenate([v, 10 * np.log10(self._hops(y)[:short] + 1e-14)])
            out.append(v)
        return tuple(out)


@dataclass
class SyllableEvents:
    """Final syllable events of a stream (times in s, apex times = nucleus - APEX_LEAD_S)."""

    nuclei: list[float] = field(default_factory=list)
    emphasis: list[tuple[float, float]] = field(default_factory=list)  # (time, strength 0..1)
    horizon: float = 0.0  # events before this time are final


class Conditioner:
    """Per-window conditioning of the gesture model from the audio known to that window.

    ``window(samples, s, W, known, final)``: ``samples`` = everything received so far (only the
    first ``known * SAMPLES_PER_FRAME`` are read unless ``final``), ``s`` = first model frame of
    the window, ``known`` = model frames of audio the window may use. Windows must be asked
    for in increasing order (the event list grows)."""

    def __init__(self) -> None:
        self._f0 = np.zeros(0, np.float32)
        self._ap = np.zeros(0, np.float32)
        self.events = SyllableEvents()
        self._last_speech: tuple[int, np.ndarray] = (0, np.zeros(0, bool))
        self._analysed: tuple[int, bool] = (-1, False)
        self._calls = 0
        self._feat = np.zeros((0, AUDIO_DIM), np.float32)
        #: the nuclei band only: the spectral tilt (the other two) is not read here
        self._bands = BandCache(P.BANDS[:1])
        #: per model frame, final: 1 inside speech (the speech channel), written once per frame by
        #: the first window whose analysis covers it, so a stream and a bake get the same track
        #: (the sampler's pause settle reads it)
        self.voice = np.zeros(0, np.float32)

    # ----------------------------------------------------------------- pitch cache
    def _pitch_upto(self, x: np.ndarray, n: int, final: bool) -> None:
        """Compute YIN hops exactly as prosody.pitch_track on the whole signal would, for every
        hop whose analysis window lies inside the first ``n`` samples (all hops when final)."""
        have = len(self._f0)
        want = int(math.ceil(n / HOP)) if final else max(0, (n - PITCH_REACH) // HOP + 1)
        if want <= have:
            return
        start_hop = max(0, have - 1)
        lo = start_hop * HOP
        hi = n if final else min(n, (want - 1) * HOP + PITCH_REACH)
        f0, ap = P.pitch_track(x[lo:hi])
        skip = have - start_hop
        take = want - have
        f0, ap = f0[skip:skip + take], ap[skip:skip + take]
        if len(f0) < take:  # final hops past the slice's frame count: unvoiced
            f0 = np.concatenate([f0, np.zeros(take - len(f0), np.float32)])
            ap = np.concatenate([ap, np.ones(take - len(ap), np.float32)])
        self._f0 = np.concatenate([self._f0, f0.astype(np.float32)])
        self._ap = np.concatenate([self._ap, ap.astype(np.float32)])

    def _features_upto(self, x: np.ndarray, n: int, known: int, final: bool) -> None:
        """Audio features of frames [computed, known), from a slice with 2 frames of left
        context (features.audio_features is local: the slice gives the whole file's numbers)."""
        have = len(self._feat)
        if known <= have:
            return
        lo = max(0, have - 2)
        seg = x[lo * SAMPLES_PER_FRAME:n]
        f = audio_features(seg, known - lo)[have - lo:]
        self._feat = np.concatenate([self._feat, f.astype(np.float32)])

    # ----------------------------------------------------------------- analysis
    def _analyse(self, x: np.ndarray, n: int, final: bool) -> None:
        self._pitch_upto(x, n, final)
        lo = max(0, n - int(CONTEXT_S * SR)) // HOP * HOP
        seg = np.asarray(x[lo:n], np.float32)
        if len(seg) < 2 * HOP:
            return
        h0 = lo // HOP
        nh = max(1, -(-len(seg) // HOP))  # = len(prosody.frame_db(seg)), without computing it
        f0 = self._f0[h0:h0 + nh]
        ap = self._ap[h0:h0 + nh]
        if len(f0) < nh:  # hops whose YIN window reaches past the known audio: unvoiced
            f0 = np.concatenate([f0, np.zeros(nh - len(f0), np.float32)])
            ap = np.concatenate([ap, np.ones(nh - len(ap), np.float32)])
        pr = P.analyse(seg, pitch=(f0, ap), bands=(*self._bands.get(x, n, h0, nh), None, None))
        speech = pr.speech & (speech_threshold_db(pr.energy_db) is not None)
        self._last_speech = (h0, speech)
        t0 = lo / SR
        ev = self.events
        horizon = math.inf if final else n / SR - FINAL_MARGIN_S
        for t in pr.nuclei:
            t = float(t) + t0
            if ev.horizon <= t < horizon and speech[min(int(round((t - t0) / P.HOP_S)), len(speech) - 1)]:
                ev.nuclei.append(round(t, 4))
        for t, s in pr.emphasis:
            t = float(t) + t0
            if ev.horizon <= t < horizon:
                ev.emphasis.append((round(t, 4), float(s)))
        ev.horizon = horizon

    def window(self, samples: np.ndarray, s: int, W: int, known: int, final: bool) -> np.ndarray:
        """(W, COND_DIM) conditioning for model frames [s, s + W)."""
        n = len(samples) if final else min(len(samples), known * SAMPLES_PER_FRAME)
        x = samples
        if (final and not self._analysed[1]) or (not final and self._calls % PLAN_EVERY == 0):
            self._analyse(x, n, final)
            self._analysed = (n, final)
        else:
            self._pitch_upto(x, n, final)
        self._calls += 1
        self._features_upto(x, n, known, final)
        feats = np.tile(SILENCE, (W, 1))
        have = self._feat[s:min(s + W, known)]
        feats[:len(have)] = have
        t = (s + np.arange(W)) / MODEL_FPS
        plan = np.zeros((W, PLAN_DIM), np.float32)
        h0, speech = self._last_speech
        hi = np.round(t / P.HOP_S).astype(int) - h0
        ok = (hi >= 0) & (hi < len(speech)) & (np.arange(W) + s < known)
        plan[ok, 0] = speech[hi[ok]]
        v0 = len(self.voice)
        if s <= v0 < s + W and ok[v0 - s]:
            run = ok[v0 - s:]
            n_ok = len(run) if run.all() else int(np.argmin(run))
            self.voice = np.concatenate([self.voice, plan[v0 - s:v0 - s + n_ok, 0]])
        ev = self.events
        for te, st in ev.emphasis:
            if abs(te - APEX_LEAD_S - t[W // 2]) < 1.5:
                plan[:, 1] += st * np.exp(-0.5 * ((t - (te - APEX_LEAD_S)) / PULSE_S) ** 2)
        near = [tn for tn in ev.nuclei if abs(tn - APEX_LEAD_S - t[W // 2]) < 1.5]
        for tn in near:
            plan[:, 2] += np.exp(-0.5 * ((t - (tn - APEX_LEAD_S)) / PULSE_S) ** 2)
        plan[:, 3] = (t < ev.horizon).astype(np.float32)
        plan[plan[:, 3] == 0, 1:3] = 0.0
        return np.concatenate([feats, plan], axis=1).astype(np.float32)


def schedule(n_frames: int, window: int, seed: int, hop: int):
    """The fixed window schedule shared by streaming, offline and training: yields
    (k, start, known_frames_needed) for windows k = 0, 1, ... covering ``n_frames`` frames.
    Window k starts at k * hop, is seeded by the previous window's frames [start, start + seed)
    and keeps frames up to start + seed + hop; it needs audio for start + window frames."""
    k = 0
    while True:
        s = k * hop
        if s >= n_frames or (k > 0 and s + seed >= n_frames):
            return
        yield k, s, s + window
        k += 1


def stroke_apexes(events: SyllableEvents) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """-> (apex times of all nuclei, emphasis apex times, emphasis strengths)."""
    nuc = np.asarray(events.nuclei, np.float64) - APEX_LEAD_S
    emp = np.asarray([t for t, _ in events.emphasis], np.float64) - APEX_LEAD_S
    st = np.asarray([s for _, s in events.emphasis], np.float64)
    return nuc, emp, st


def offline_conditions(samples: np.ndarray, window: int, seed: int, hop: int):
    """What an offline bake (= a stream pushed whole, then finished) gives the model: a list of
    (start frame, (window, COND_DIM) conditioning) per scheduled window, and the final events.
    Training uses this so the model sees exactly the runtime's conditioning."""
    x = np.asarray(samples, np.float32)
    n_frames = int(np.ceil(len(x) / SR * MODEL_FPS - 1e-9)) + 1
    c = Conditioner()
    out = []
    for _, s, need in schedule(n_frames, window, seed, hop):
        final = need * SAMPLES_PER_FRAME > len(x)
        out.append((s, c.window(x, s, window, n_frames if final else need, final)))
    return out, c.events

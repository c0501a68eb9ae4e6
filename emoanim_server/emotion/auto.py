"""``--emotion auto``: arousal and valence from the voice, and valence from the words when a
transcript is given.

Why both, and why weighted this way: acoustic cues (pitch level/range, loudness, vocal effort,
tempo) track arousal well and valence poorly (Juslin & Laukka 2003, Psychol. Bull. 129:770;
Schuller et al. 2011, Speech Commun. 53:1062), but valence is what separates a happy from an
angry or sad face. So:

* **acoustic valence** (:func:`cue_valence`) uses the two valence-bearing patterns of that
  literature that gain-invariant prosody can see: pitch *expressiveness* (wide range, high above
  the speaker's floor: happy and surprised speech; low and flat: sad) counts positive, and vocal
  *effort beyond what the pitch movement explains* (a bright, tense spectrum on a narrow pitch
  range: cold/hot anger, disgust) counts negative; low overall activation counts negative
  (sadness). It is deliberately small (at most +-0.45): a weak cue should tilt the face, not paint
  a prototype on it;
* **text valence** (:func:`text_valence`), when the transcript is known: VADER (Hutto & Gilbert
  2014, ICWSM; MIT licence, a rule-based lexicon of ~7,500 rated words with negation and
  intensifier rules), the compound score per sentence, placed in time on the aligned words; it
  dominates the acoustic estimate (words are the far stronger valence cue), weight
  :data:`TEXT_WEIGHT`.

The VAD estimate becomes category weights through ``space.vad_to_weights`` (emotion.stage), so
positive valence with arousal reads happy, negative valence with arousal reads angry/disgusted,
negative with low arousal reads sad - not every activated voice "surprised". Dominance stays 0.

Cues (utterance level, each invariant to recording gain):
* pitch range: 10th-90th percentile of voiced f0, semitones;
* pitch height above the speaker's floor: median minus 5th percentile f0, semitones (a rough
  stand-in for "pitch level" that does not depend on whether the voice is male or female);
* vocal effort: spectral tilt, energy above 1 kHz minus below (louder, tenser voices are
  brighter; Sundberg & Nordenberg 2006 on effort and spectral slope);
* tempo: syllable nuclei per second of speech;
* loudness dynamics: spread of syllable peak loudness, dB;
* pitch level: median f0 in semitones re 100 Hz against a sex-agnostic 150 Hz. Pitch level is
  the strongest arousal cue in the literature but is confounded with the speaker's register;
  without a per-speaker baseline it gets a modest weight.

Each is turned into a z-score against :data:`NEUTRAL_REF` (or against a speaker's own
neutral lines, :func:`speaker_baseline`, which removes most of the register/style bias;
the population reference was measured on the neutral read
speech in ../shared/data/speech: LJ Speech, CMU ARCTIC, the CC0 ARCTIC-prompt reader; see
benchmarks/emotion_auto.py) and combined with fixed weights through tanh. A per-frame
component then follows local loudness and pitch relative to the utterance (1 s smoothing),
so a line that gets louder mid-way gets more aroused mid-way. How well it works is measured in
benchmarks/results/emotion_auto.json and stated in docs/emotion.md.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..audio.prosody import Prosody

#: (mean, scale) per cue on neutral read speech; scale ~ one "clearly different" step
NEUTRAL_REF: dict[str, tuple[float, float]] = {
    # mean of the four corpus means (LJ 25, kathleen 25, ARCTIC 6, LibriVox 5 utterances), so
    # one reader does not dominate; the scales are ~1.5-2x the between-utterance spread
    "f0_range_st": (7.5, 3.0),
    "f0_height_st": (4.2, 2.0),
    "tilt_db": (-13.3, 5.0),
    "rate_syl_s": (4.0, 1.0),
    "loud_spread_db": (4.4, 2.0),
    # not measured: a sex-agnostic middle (150 Hz) between typical male (~110 Hz) and female
    # (~200 Hz) speaking pitch; scale 6 st. Biases female voices up, male voices down by
    # ~0.15 arousal, the price of not knowing the speaker (see docs/emotion.md)
    "f0_level_st": (7.0, 6.0),
}
#: weights (sum 1). Tempo is among the most consistent arousal cues across emotions and studies
#: (Juslin & Laukka 2003: fast for anger, fear and joy, slow for sadness) and pitch level the
#: strongest; the pitch-shape cues (range, height) also carry valence (cue_valence). Set on the
#: espeak-ng proxy's tuning voices only (benchmarks/emotion_valence.py TUNE): session 3's
#: weights (range 0.25, height 0.15, tilt 0.15, rate 0.15, loudness 0.10, level 0.20) gave an
#: arousal AUC of 0.843 on the held-out voices, these 0.857, valence AUCs unchanged
CUE_WEIGHTS: dict[str, float] = {
    "f0_range_st": 0.15, "f0_height_st": 0.05, "tilt_db": 0.15, "rate_syl_s": 0.30,
    "loud_spread_db": 0.10, "f0_level_st": 0.25,
}
#: how much the per-frame (within-utterance) component may move arousal
LOCAL_GAIN = 0.3
#: hop of the per-frame arousal curve (seconds)
AUTO_HOP_S = 0.1


@dataclass
class AutoEstimate:
    """Arousal and valence over time; ``cues`` are the utterance-level measurements."""

    times: np.ndarray
    arousal: np.ndarray
    valence: np.ndarray
    utterance_arousal: float
    cues: dict[str, float] = field(default_factory=dict)
    utterance_valence: float = 0.0
    valence_sources: dict[str, float] = field(default_factory=dict)

    def at(self, times: np.ndarray) -> np.ndarray:
        """(N, 3) VAD at ``times`` (valence/dominance 0 unless a future cue fills them)."""
        t = np.asarray(times, np.float64)
        a = np.interp(t, self.times, self.arousal)
        v = np.interp(t, self.times, self.valence)
        return np.stack([v, a, np.zeros_like(a)], axis=1)

    def summary(self) -> dict:
        return {"utterance_arousal": round(self.utterance_arousal, 4),
                "utterance_valence": round(self.utterance_valence, 4),
                "valence_sources": {k: round(v, 4) for k, v in self.valence_sources.items()},
                "cues": {k: round(v, 3) for k, v in self.cues.items()}}


def utterance_cues(p: Prosody) -> dict[str, float]:
    """The gain-invariant cues of a whole utterance (NaN-free; defaults to neutral values)."""
    cues = {k: ref for k, (ref, _) in NEUTRAL_REF.items()}
    v = p.voiced
    if v.sum() >= 20:
        st = 12 * np.log2(p.f0[v] / 100.0)
        p5, p10, p50, p90 = np.percentile(st, [5, 10, 50, 90])
        cues["f0_range_st"] = float(p90 - p10)
        cues["f0_height_st"] = float(p50 - p5)
        cues["f0_level_st"] = float(p50)
        cues["tilt_db"] = float(np.median(p.tilt_db[v]))
    if p.speech_seconds > 0.5 and len(p.nuclei) >= 3:
        cues["rate_syl_s"] = p.speaking_rate
        idx = np.clip(np.round(p.nuclei / p.hop_s).astype(int), 0, len(p.band_db) - 1)
        pk = p.band_db[idx]
        cues["loud_spread_db"] = float(np.percentile(pk, 90) - np.percentile(pk, 10)) / 2.0
    return cues


def cue_arousal(cues: dict[str, float], baseline: dict[str, float] | None = None) -> float:
    """Utterance arousal in -1..1 from the cues: 0 = like neutral read speech, or like the
    speaker's own neutral ``baseline`` cues when given (see :func:`speaker_baseline`)."""
    ref = {k: (baseline or {}).get(k, m) for k, (m, _) in NEUTRAL_REF.items()}
    z = sum(CUE_WEIGHTS[k] * (cues[k] - ref[k]) / NEUTRAL_REF[k][1] for k in CUE_WEIGHTS)
    return float(np.tanh(1.2 * z))


#: acoustic valence: weights of pitch expressiveness (+), effort beyond it (-), low activation (-)
VALENCE_WEIGHTS = {"expressive": 0.45, "effort_excess": 0.35, "low_activation": 0.6}
ACOUSTIC_VALENCE_MAX = 0.45
#: share of the valence taken from the words when a transcript is given
TEXT_WEIGHT = 0.75
#: text valence: VADER compound (-1..1) -> valence gain, and smoothing of the word track (s)
TEXT_GAIN = 0.8
TEXT_SMOOTH_S = 0.8


def _z(cues: dict[str, float], baseline: dict[str, float] | None, key: str) -> float:
    ref = (baseline or {}).get(key, NEUTRAL_REF[key][0])
    return (cues[key] - ref) / NEUTRAL_REF[key][1]


def cue_valence(cues: dict[str, float], baseline: dict[str, float] | None = None) -> float:
    """Utterance valence in -ACOUSTIC_VALENCE_MAX..+ACOUSTIC_VALENCE_MAX from the prosodic cues
    (see the module docstring for why these cues and signs)."""
    expressive = 0.5 * (_z(cues, baseline, "f0_range_st") + _z(cues, baseline, "f0_height_st"))
    effort_excess = max(0.0, _z(cues, baseline, "tilt_db") - max(expressive, 0.0))
    low = max(0.0, -cue_arousal(cues, baseline) - 0.25)
    w = VALENCE_WEIGHTS
    x = w["expressive"] * float(np.clip(expressive, -2.5, 2.5)) - w["effort_excess"] * effort_excess \
        - w["low_activation"] * low
    return float(ACOUSTIC_VALENCE_MAX * np.tanh(x))


_VADER = None


def _vader():
    """The VADER analyser (lexicon loaded once); None when the package is missing."""
    global _VADER
    if _VADER is None:
        try:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer
        except ImportError:  # optional at run time: auto then uses the voice only
            return None
        _VADER = SentimentIntensityAnalyzer()
    return _VADER


def text_valence(text: str, words: list | None = None, times: np.ndarray | None = None) -> tuple[float, np.ndarray | None]:
    """(utterance valence, per-time valence at ``times`` or None) of a transcript.

    Sentences are scored with VADER's compound score; with word timings (``track.events
    ['words']``: (start, end, word)) each sentence's score is placed over its aligned words and
    smoothed, so a line that turns from good news to bad turns its face with it. Without timings
    the whole-transcript score holds everywhere. Returns (0, None) when VADER is unavailable.
    """
    import re

    an = _vader()
    if an is None or not text or not text.strip():
        return 0.0, None
    whole = float(an.polarity_scores(text)["compound"]) * TEXT_GAIN
    if times is None:
        return whole, None
    t = np.asarray(times, np.float64)
    if not words:
        return whole, np.full(len(t), whole)
    sentences = [x for x in re.split(r"(?<=[.!?;])\s+", text.strip()) if x.strip()]
    tokens = [re.sub(r"[^a-z']", "", w.lower()) for w in text.split()]
    # sentence index of every token, then of every aligned word (in order, by spelling)
    sent_of_token: list[int] = []
    for i, snt in enumerate(sentences):
        sent_of_token += [i] * len(snt.split())
    scores = [float(an.polarity_scores(snt)["compound"]) * TEXT_GAIN for snt in sentences]
    track = np.full(len(t), np.nan)
    j = 0
    for (a, b, w) in words:
        key = re.sub(r"[^a-z']", "", str(w).lower())
        # advance to the next token that spells this word (alignment keeps order)
        jj = j
        while jj < len(tokens) and tokens[jj] != key:
            jj += 1
        if jj < len(tokens):
            j = jj + 1
            si = sent_of_token[min(jj, len(sent_of_token) - 1)]
        else:
            si = sent_of_token[min(j, len(sent_of_token) - 1)] if sent_of_token else 0
        lo, hi = np.searchsorted(t, [float(a), float(b)])
        track[lo:hi] = scores[si] if scores else whole
    if np.isnan(track).all():
        return whole, np.full(len(t), whole)
    # hold between words, then smooth
    idx = np.flatnonzero(~np.isnan(track))
    track = np.interp(np.arange(len(t)), idx, track[idx])
    if len(t) > 2:
        dt = float(np.median(np.diff(t)))
        from ..dsp import gaussian_filter1d  # bit-identical to scipy.ndimage's (no ~0.3 s import)

        track = gaussian_filter1d(track, max(TEXT_SMOOTH_S / 2 / max(dt, 1e-3), 0.5))
    return whole, track


def speaker_baseline(prosodies: list[Prosody]) -> dict[str, float]:
    """Mean cues of one or more *neutral* lines of a speaker: the reference auto then measures
    against. Why: the population reference confuses a speaker's register and reading style
    with arousal (measured: neutral readers differ by up to ~1.0); a game character's voice is
    fixed, so one neutral line removes most of that bias."""
    if not prosodies:
        raise ValueError("speaker_baseline: need at least one neutral line")
    cues = [utterance_cues(p) for p in prosodies]
    return {k: float(np.mean([c[k] for c in cues])) for k in cues[0]}


def estimate(p: Prosody, baseline: dict[str, float] | None = None, text: str | None = None,
             words: list | None = None) -> AutoEstimate:
    """Per-utterance arousal plus a smooth within-utterance component, and valence from the
    voice (and from ``text``, the transcript, placed on the aligned ``words`` when given), at
    AUTO_HOP_S."""
    cues = utterance_cues(p)
    a0 = cue_arousal(cues, baseline)
    v_ac = cue_valence(cues, baseline)
    n = len(p.f0)
    duration = n * p.hop_s
    times = np.arange(0.0, duration + AUTO_HOP_S, AUTO_HOP_S)
    local = np.zeros(n)
    if p.speech.any():
        ref_db = np.median(p.band_db[p.speech])
        dl = np.where(p.speech, (p.band_db - ref_db) / 6.0, 0.0)
        local += dl
        if p.voiced.sum() >= 20:
            st = 12 * np.log2(np.maximum(p.f0, 1.0) / 100.0)
            ref_st = np.median(st[p.voiced])
            local += np.where(p.voiced, (st - ref_st) / 4.0, 0.0)
        # 1 s Hann smoothing: arousal drifts with the phrase, never with single syllables
        k = np.hanning(int(1.0 / p.hop_s) + 1)
        h = len(k) // 2
        num = np.convolve(local, k, mode="full")[h:h + n]
        den = np.convolve(p.speech.astype(float), k, mode="full")[h:h + n]
        local = np.where(den > 1e-3, num / np.maximum(den, 1e-3), 0.0) * np.clip(den / (0.3 * k.sum()), 0, 1)
    a_frames = np.clip(a0 + LOCAL_GAIN * np.tanh(local), -1.0, 1.0)
    ft = np.arange(n) * p.hop_s
    arousal = np.interp(times, ft, a_frames) if n else np.full(len(times), a0)
    valence = np.full(len(times), v_ac)
    sources = {"acoustic": v_ac}
    v0 = v_ac
    if text:
        v_txt, v_track = text_valence(text, words, times)
        if v_track is not None:
            valence = (1 - TEXT_WEIGHT) * v_ac + TEXT_WEIGHT * v_track
            v0 = (1 - TEXT_WEIGHT) * v_ac + TEXT_WEIGHT * v_txt
            sources["text"] = v_txt
    return AutoEstimate(times, arousal, np.clip(valence, -1, 1), a0, cues, float(v0), sources)

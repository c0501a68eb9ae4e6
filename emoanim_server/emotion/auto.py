"""``--emotion auto``: arousal (how activated the speaker sounds) from prosody alone.

Why arousal only: across the speech-emotion literature, acoustic cues (pitch level/range,
loudness, vocal effort, tempo) track arousal well and valence poorly (Juslin & Laukka 2003,
Psychol. Bull. 129:770; Schuller et al. 2011, Speech Commun. 53:1062). We found no valence cue
we could validate without an acted-emotion corpus we may use, so auto leaves valence and
dominance at 0 (or at the explicit bias) and says so in the metadata.

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
CUE_WEIGHTS: dict[str, float] = {
    "f0_range_st": 0.25, "f0_height_st": 0.15, "tilt_db": 0.15, "rate_syl_s": 0.15,
    "loud_spread_db": 0.10, "f0_level_st": 0.20,
}
#: how much the per-frame (within-utterance) component may move arousal
LOCAL_GAIN = 0.3
#: hop of the per-frame arousal curve (seconds)
AUTO_HOP_S = 0.1


@dataclass
class AutoEstimate:
    """Arousal over time; ``cues`` are the utterance-level measurements it came from."""

    times: np.ndarray
    arousal: np.ndarray
    valence: np.ndarray
    utterance_arousal: float
    cues: dict[str, float] = field(default_factory=dict)

    def at(self, times: np.ndarray) -> np.ndarray:
        """(N, 3) VAD at ``times`` (valence/dominance 0 unless a future cue fills them)."""
        t = np.asarray(times, np.float64)
        a = np.interp(t, self.times, self.arousal)
        v = np.interp(t, self.times, self.valence)
        return np.stack([v, a, np.zeros_like(a)], axis=1)

    def summary(self) -> dict:
        return {"utterance_arousal": round(self.utterance_arousal, 4),
                "cues": {k: round(v, 3) for k, v in self.cues.items()},
                "valence": "not estimated (no validated cue); 0 or the explicit bias"}


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


def speaker_baseline(prosodies: list[Prosody]) -> dict[str, float]:
    """Mean cues of one or more *neutral* lines of a speaker: the reference auto then measures
    against. Why: the population reference confuses a speaker's register and reading style
    with arousal (measured: neutral readers differ by up to ~1.0); a game character's voice is
    fixed, so one neutral line removes most of that bias."""
    if not prosodies:
        raise ValueError("speaker_baseline: need at least one neutral line")
    cues = [utterance_cues(p) for p in prosodies]
    return {k: float(np.mean([c[k] for c in cues])) for k in cues[0]}


def estimate(p: Prosody, baseline: dict[str, float] | None = None) -> AutoEstimate:
    """Per-utterance arousal plus a smooth within-utterance component, at AUTO_HOP_S."""
    cues = utterance_cues(p)
    a0 = cue_arousal(cues, baseline)
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
    return AutoEstimate(times, arousal, np.zeros_like(arousal), a0, cues)

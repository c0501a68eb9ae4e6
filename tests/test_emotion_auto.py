"""Prosody (pitch, nuclei, emphasis) and --emotion auto (arousal from speech)."""
from __future__ import annotations

import numpy as np
import pytest

from emoanim_server.audio import SAMPLE_RATE, load_audio
from emoanim_server.audio.prosody import analyse, emphasis, pitch_track
from emoanim_server.emotion import CATEGORIES, from_category
from emoanim_server.emotion.auto import estimate
from emoanim_server.emotion.stage import controls_from

from _emotion_util import render, speech_prep  # noqa: F401  (session fixture)


def _voice(f0: np.ndarray, amp: np.ndarray, syl_hz: float = 4.0) -> np.ndarray:
    """A harmonic 'voice' with a syllable-rate loudness envelope (independent of our code)."""
    t = np.arange(len(f0)) / SAMPLE_RATE
    ph = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    x = sum(np.sin(k * ph) / k for k in range(1, 12))
    env = 0.25 + 0.75 * np.clip(np.sin(2 * np.pi * syl_hz * t), 0, 1) ** 0.5
    return (0.08 * x * env * amp).astype(np.float32)


def test_pitch_track_follows_a_known_contour():
    t = np.arange(2 * SAMPLE_RATE) / SAMPLE_RATE
    f0 = 110 + 90 * t  # 110 -> 290 Hz glide
    x = _voice(f0, np.ones_like(t), syl_hz=0.0001) + 0.0
    est, ap = pitch_track(x)
    tt = np.arange(len(est)) * 0.01
    ok = (tt > 0.1) & (tt < 1.9)
    err_st = 12 * np.abs(np.log2(est[ok] / np.interp(tt[ok], t, f0)))
    assert np.median(err_st) < 0.3 and np.percentile(err_st, 95) < 1.0
    assert np.median(ap[ok]) < 0.1


def test_emphasis_finds_pitch_and_loudness_peaks():
    t = np.arange(4 * SAMPLE_RATE) / SAMPLE_RATE
    bump = lambda c: np.exp(-((t - c) / 0.08) ** 2)  # noqa: E731
    f0 = 120 + 70 * bump(1.05) + 70 * bump(2.8)
    amp = 1 + 1.2 * bump(1.05) + 1.2 * bump(2.8)
    x = _voice(f0, amp)
    got = emphasis(x)
    assert len(got) == 2, got
    assert abs(got[0][0] - 1.05) < 0.1 and abs(got[1][0] - 2.8) < 0.1
    assert all(0 < s <= 1 for _, s in got)
    # flat prosody has no emphasis; the detector ignores recording gain
    assert emphasis(_voice(np.full_like(t, 120.0), np.ones_like(t))) == []
    quiet = emphasis(0.05 * x)
    assert [round(a, 2) for a, _ in quiet] == [round(a, 2) for a, _ in got]


def test_prosody_on_real_speech(speech_wav):
    p = analyse(load_audio(speech_wav).samples)
    assert 0.25 < p.voiced.mean() < 0.8
    f0 = p.f0[p.voiced]
    assert 70 < np.median(f0) < 250
    assert 2.0 < p.speaking_rate < 7.0
    assert all(0 < s <= 1 for _, s in p.emphasis)
    assert list(p.emphasis) == sorted(p.emphasis)


def test_silence_and_noise_are_harmless():
    rng = np.random.default_rng(0)
    for x in (np.zeros(SAMPLE_RATE, np.float32), (0.01 * rng.standard_normal(SAMPLE_RATE)).astype(np.float32)):
        p = analyse(x)
        assert p.emphasis == [] and p.voiced.mean() < 0.05
        est = estimate(p)
        assert np.all(np.isfinite(est.arousal)) and abs(est.utterance_arousal) <= 1


@pytest.fixture(scope="module")
def arousal_pairs(tmp_path_factory):
    """espeak-ng proxy: the same sentence, low vs high prosodic arousal, two voices."""
    import shutil
    import subprocess

    if not shutil.which("espeak-ng"):
        pytest.skip("espeak-ng not installed (apt-get install espeak-ng)")
    d = tmp_path_factory.mktemp("arousal")
    text = "We have to leave right now, the bridge is about to collapse."
    lv = {"low": (["-s", "125", "-a", "70"], "rate='slow' pitch='-25%' range='x-low' volume='soft'"),
          "high": (["-s", "215", "-a", "150"], "rate='fast' pitch='+35%' range='x-high' volume='loud'")}
    out = {}
    for voice in ("en-us", "en-us+f3"):
        for k, (args, attrs) in lv.items():
            path = d / f"{voice}_{k}.wav"
            subprocess.run(["espeak-ng", "-m", "-v", voice, *args, "-w", str(path),
                            f"<speak><prosody {attrs}>{text}</prosody></speak>"], check=True)
            pros = analyse(load_audio(path).samples)
            out[voice, k] = estimate(pros)
            out[voice, k, "prosody"] = pros
    return out


def test_auto_arousal_separates_high_from_low(arousal_pairs):
    for voice in ("en-us", "en-us+f3"):
        hi, lo = arousal_pairs[voice, "high"], arousal_pairs[voice, "low"]
        assert hi.utterance_arousal > lo.utterance_arousal + 0.5, (voice, hi.cues, lo.cues)
        assert np.median(hi.arousal) > np.median(lo.arousal)
        assert np.abs(np.diff(hi.arousal)).max() < 0.1  # smooth at 10 Hz


def test_speaker_baseline_measures_against_the_speakers_own_neutral(arousal_pairs):
    from emoanim_server.emotion.auto import speaker_baseline

    for voice in ("en-us", "en-us+f3"):
        lo, hi = arousal_pairs[voice, "low", "prosody"], arousal_pairs[voice, "high", "prosody"]
        base = speaker_baseline([lo])
        assert estimate(lo, base).utterance_arousal == pytest.approx(0.0, abs=1e-9)
        assert estimate(hi, base).utterance_arousal > 0.5
        assert estimate(lo, speaker_baseline([hi])).utterance_arousal < -0.5
    with pytest.raises(ValueError):
        speaker_baseline([])


def test_auto_drives_the_face_and_explicit_emotion_is_a_bias(speech_prep):
    prep = speech_prep
    auto = render(prep, controls_from("auto"))
    biased = render(prep, controls_from("auto,happy:0.6"))
    plain = render(prep, from_category("happy", 0.6))
    va = np.array(auto.events["emotion"])
    assert va.shape[1] == 12 and np.isfinite(va).all()
    assert auto.metadata["emotion"]["source"] == "auto"
    hap = 4 + CATEGORIES.index("happy")
    vb = np.array(biased.events["emotion"])
    assert vb[:, hap].min() >= 0.55  # the explicit emotion stays
    # auto moves arousal relative to the plain explicit emotion, by the estimated amount
    a_est = auto.metadata["emotion"]["auto"]["utterance_arousal"]
    d = biased.metadata["emotion"]["mean_vad"][1] - plain.metadata["emotion"]["mean_vad"][1]
    assert d == pytest.approx(auto.metadata["emotion"]["mean_vad"][1], abs=0.05)
    assert abs(auto.metadata["emotion"]["mean_vad"][1] - a_est) < 0.35
    assert auto.events["emphasis"] == biased.events["emphasis"]  # prosody is emotion-independent


def test_emphasis_lands_on_stressed_syllables_of_real_speech(lj_dir):
    """MFA vowels carry lexical stress (AH1): emphasis peaks should favour primary stress far
    above chance (benchmarks/emotion_emphasis.py measures all 43 clips)."""
    import re

    from _emotion_util import lj_items

    hits = n = 0
    cover = speech = 0.0
    for it in lj_items(lj_dir, 12):
        txt = (lj_dir / it["label_path"]).read_text(encoding="utf-8")
        tier = [t for t in re.split(r"item \[\d+\]:", txt) if 'name = "phones"' in t][0]
        ph = [(float(a), float(b), lab) for a, b, lab in
              re.findall(r'xmin = ([\d.]+)\s+xmax = ([\d.]+)\s+text = "([^"]*)"', tier)]
        stressed = [(s - 0.04, e + 0.04) for s, e, lab in ph if lab.endswith("1")]
        for t, _ in analyse(load_audio(lj_dir / it["wav_path"]).samples).emphasis:
            n += 1
            hits += any(s <= t <= e for s, e in stressed)
        speech += sum(e - s for s, e, lab in ph if lab)
        cover += sum(min(e, 1e9) - s for s, e in stressed)
    chance = cover / speech
    assert n >= 40
    assert hits / n > chance + 0.15, (hits / n, chance)
    print(f"emphasis precision {hits / n:.3f} vs chance {chance:.3f} (n={n})")

"""The speech-driven upper face (face/upper.py): streaming contract, prosody reactions, emotion
modulation, language independence, and what a bake of real speech moves."""
from __future__ import annotations

import numpy as np
import pytest

from emoanim_server.audio import load_audio
from emoanim_server.errors import InputError
from emoanim_server.face.drivers import EMOTIONS, TICK_S
from emoanim_server.face.upper import (LOOKAHEAD_S, UPPER_CURVES, UpperConfig, UpperFaceModel,
                                       upper_face)
from emoanim_server.track import ARKIT_NAMES

C = {n: i for i, n in enumerate(UPPER_CURVES)}


@pytest.fixture(scope="module")
def real(real_wav):
    return load_audio(real_wav).samples


def emotion(name: str, n: int, intensity: float = 1.0) -> np.ndarray:
    w = np.zeros((n, len(EMOTIONS)))
    w[:, 0] = 1 - intensity
    w[:, EMOTIONS.index(name)] += intensity
    return w


def test_streaming_chunks_equal_whole_and_future_does_not_leak(real):
    whole, m = upper_face(real, seed=3)
    n = len(whole)
    assert LOOKAHEAD_S <= 0.05
    rng = np.random.default_rng(0)
    w = emotion("happy", n, 0.6)
    ar = np.linspace(-0.5, 0.5, n)
    ref, _ = upper_face(real, seed=3, weights=w, arousal=ar)
    s = UpperFaceModel(UpperConfig(follow_emotion=True), seed=3)
    i = k = 0
    got = []
    while i < len(real) or k < n:
        if i < len(real):
            c = int(rng.integers(1, 3000))
            s.feed_audio(real[i:i + c])
            i += c
        if k < n:
            c = int(rng.integers(1, 40))
            s.feed_emotion(w[k:k + c], ar[k:k + c])
            k += c
        got.append(s.step(float(rng.uniform(0, 10))))
        # never further than the audio allows (the pitch window alone needs ~26 ms, smoothing 20 ms)
        assert (s.k - 1) * TICK_S <= i / 16000 - 0.04 + 1e-9
    s.close()
    got.append(s.step(1e9))
    np.testing.assert_array_equal(np.concatenate(got), ref)
    # output up to T is final once audio to T + LOOKAHEAD_S is in: change the audio after it
    T = 3.0
    cut = int((T + LOOKAHEAD_S) * 16000)
    alt = real.copy()
    alt[cut:] = np.random.default_rng(1).normal(0, 0.1, len(alt) - cut).astype(np.float32)
    other, _ = upper_face(alt, seed=3)
    kT = int(T / TICK_S)
    np.testing.assert_array_equal(other[:kT], whole[:kT])
    assert np.abs(other[kT + 50:] - whole[kT + 50:]).max() > 1e-3


def test_seeded_and_reproducible(real):
    a, _ = upper_face(real, seed=1)
    b, _ = upper_face(real, seed=1)
    c, _ = upper_face(real, seed=2)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 0.01


def test_brows_and_lids_move_with_the_voice_and_rest_in_silence(real):
    x = np.concatenate([np.zeros(16000 * 2, np.float32), real, np.zeros(16000 * 3, np.float32)])
    out, m = upper_face(x, seed=0)
    t = np.arange(len(out)) * TICK_S
    speech = (t > 2.2) & (t < 2 + len(real) / 16000)
    brow = out[:, C["browInnerUp"]]
    assert brow[speech].std() > 0.05 and brow[speech].max() > 0.25
    assert out[speech, C["eyeWideLeft"]].std() > 0.03
    kinds = [e[1] for e in m.events]
    assert kinds.count("accent") >= 3 and any(k.startswith("phrase_") for k in kinds)
    # accents raise the brows within ~0.3 s
    for te, kind, amp in m.events:
        if kind == "accent" and te + 0.3 < t[-1]:
            k = int(te / TICK_S)
            assert brow[k:k + 30].max() > brow[k] + 0.05
    # the long pause after speech: a breath flares the nostrils; nothing jumps
    quiet = (t > 2.6 + len(real) / 16000) & (t < t[-1] - 0.5)
    assert out[quiet, C["noseSneerLeft"]].max() > 0.05
    assert np.abs(np.diff(out, axis=0)).max() < 0.1  # per 10 ms tick: brows rise in ~150 ms
    assert np.all((out >= 0) & (out <= 1))


def test_emotion_modulates_angry_lowers_happy_smiles_sad_frowns(real):
    n = len(upper_face(real, 0)[0])
    base, _ = upper_face(real, 0)
    res = {e: upper_face(real, 0, weights=emotion(e, n), arousal=np.zeros(n))[0] for e in ("angry", "happy", "sad")}
    mean = lambda o, name: o[:, C[name]].mean()  # noqa: E731
    assert mean(res["angry"], "browDownLeft") > 1.4 * mean(base, "browDownLeft")
    assert mean(res["angry"], "browInnerUp") < 0.7 * mean(base, "browInnerUp")
    assert mean(res["happy"], "mouthSmileLeft") > 1.6 * mean(base, "mouthSmileLeft")
    assert mean(res["happy"], "cheekSquintLeft") > 1.6 * mean(base, "cheekSquintLeft")
    assert mean(res["sad"], "mouthFrownLeft") > 1.3 * mean(base, "mouthFrownLeft")
    aroused, _ = upper_face(real, 0, weights=emotion("neutral", n, 0.0), arousal=np.full(n, 0.9))
    assert aroused[:, C["browInnerUp"]].std() > 1.15 * base[:, C["browInnerUp"]].std()


def test_language_independent_and_gain_independent(make_speech, real):
    de = load_audio(make_speech("Guten Morgen, wie geht es Ihnen heute? Das Wetter ist wunderbar.",
                                voice="de", name="de.wav")).samples
    en = load_audio(make_speech("Good morning, how are you today? The weather is wonderful.",
                                name="en.wav")).samples
    sd = {k: upper_face(x, 0)[0][:, C["browInnerUp"]].std() for k, x in (("de", de), ("en", en))}
    assert 0.5 < sd["de"] / sd["en"] < 2.0, sd
    loud, _ = upper_face(real, 0)
    soft, _ = upper_face(real * 0.05, 0)
    assert np.abs(loud - soft).mean() < 0.03  # relative measures: recording gain hardly matters


def test_bad_options_are_input_errors():
    with pytest.raises(InputError, match="scale"):
        UpperConfig(scale=4)
    with pytest.raises(InputError, match="unknown"):
        UpperConfig.from_extra({"upper": {"sclae": 1}})
    assert not UpperConfig.from_extra({"upper": {"enabled": False}}).enabled


def test_tiny_and_silent_inputs():
    for x in (np.zeros(0, np.float32), np.zeros(10, np.float32), np.zeros(16000, np.float32)):
        out, _ = upper_face(x, 0)
        assert out.shape[1] == len(UPPER_CURVES) and np.all(np.isfinite(out))


def test_bake_of_real_speech_moves_the_whole_face(baked_real):
    tr = baked_real
    assert tr.metadata["upper"]["accents"] >= 2
    rng = np.percentile(tr.curves, 99.5, axis=0) - np.percentile(tr.curves, 0.5, axis=0)
    still = [n for n, r in zip(ARKIT_NAMES, rng) if r < 0.02]
    assert len(still) <= 6, still
    for name in ("browInnerUp", "browDownLeft", "eyeWideLeft", "cheekSquintLeft", "noseSneerLeft",
                 "mouthSmileLeft", "mouthShrugLower", "jawForward"):
        assert name not in still


def test_cli_flags_reach_bake_options(tmp_path, speech_wav):
    import csv

    from emoanim_server.cli import main

    out = tmp_path / "a.csv"
    assert main(["bake", str(speech_wav), "-o", str(out), "--upper-face-scale", "0"]) == 0
    with open(out) as f:
        rows = list(csv.reader(f))
    head = rows[0]
    col = [i for i, h in enumerate(head) if h.lower() == "browinnerup"]
    assert col, head[:8]
    vals = np.array([float(r[col[0]]) for r in rows[1:]])
    assert vals.max() < 0.2  # only the expression layer's emphasis brows remain
    with pytest.raises(SystemExit):
        main(["bake", str(speech_wav), "-o", str(out), "--upper-face-scale", "9"])

"""Mixer: articulation wins where it must (p/b/m closure, f/v tuck, rounding) under every
emotion at full intensity, measured on real speech; expression modulates the rest."""
from __future__ import annotations

import numpy as np
import pytest

from emoanim_server.emotion import CATEGORIES, from_category
from emoanim_server.face.mixer import contact_weight, lip_gap, mix
from emoanim_server.track import ARKIT_INDEX, N_ARKIT

from _emotion_util import closures, lj_items, lj_prepared, render, speech_prep  # noqa: F401

EMOTIONS = [None] + [from_category(c, 1.0) for c in CATEGORIES[1:]]
NAMES = ["neutral"] + list(CATEGORIES[1:])
#: LJ utterances baked with the real recogniser (the rest use the MFA phones directly)
N_RECOGNISED = 4


def _rates(preps, emotion) -> tuple[float, int, list]:
    hits, tracks = [], []
    for p in preps:
        tr = render(p, emotion)
        hits += closures(tr, p.reference)
        tracks.append(tr)
    return float(np.mean(hits)), len(hits), tracks


def _articulation(tracks, preps):
    """f/v tuck and rounding hit rates with tools/lipsync_check.py's definitions."""
    fv, rnd = [], []
    for tr, p in zip(tracks, preps):
        grid = np.arange(0, tr.duration, 0.01)
        roll = np.interp(grid, tr.times, tr.curve("mouthRollLower"))
        rr = np.interp(grid, tr.times, np.maximum(tr.curve("mouthPucker"), tr.curve("mouthFunnel")))
        for a, b, ph in p.reference:
            m = (grid >= a - 0.02) & (grid <= b + 0.02)
            if not m.any():
                continue
            if ph in ("f", "v"):
                fv.append(roll[m].max() >= 0.2)
            if ph in ("uw", "ow", "w") and b - a >= 0.05:
                rnd.append(rr[m].max() >= 0.3)
    return float(np.mean(fv)), float(np.mean(rnd))


@pytest.fixture(scope="module")
def lj_mfa(lj_dir):
    return [lj_prepared(lj_dir, it, recognised=False) for it in lj_items(lj_dir)]


@pytest.fixture(scope="module")
def lj_recognised(lj_dir):
    return [lj_prepared(lj_dir, it, recognised=True) for it in lj_items(lj_dir, N_RECOGNISED)]


def test_closure_rate_on_committed_speech_under_every_emotion(speech_prep):
    base, n, _ = _rates([speech_prep], None)
    assert n >= 1
    for name, emo in zip(NAMES[1:], EMOTIONS[1:]):
        rate, _, _ = _rates([speech_prep], emo)
        assert rate >= base - 0.02, f"{name}: closure {rate:.3f} vs neutral {base:.3f}"


def test_closure_fv_rounding_on_real_speech_with_mfa_phones(lj_mfa):
    base, n, tracks = _rates(lj_mfa, None)
    base_fv, base_rnd = _articulation(tracks, lj_mfa)
    assert n > 150 and base > 0.9
    for name, emo in zip(NAMES[1:], EMOTIONS[1:]):
        rate, _, tracks = _rates(lj_mfa, emo)
        fv, rnd = _articulation(tracks, lj_mfa)
        assert rate >= base - 0.02, f"{name}: closure {rate:.3f} vs neutral {base:.3f}"
        assert fv >= base_fv - 0.02, f"{name}: f/v {fv:.3f} vs neutral {base_fv:.3f}"
        assert rnd >= base_rnd - 0.02, f"{name}: rounding {rnd:.3f} vs neutral {base_rnd:.3f}"
        # hard rule: inside every p/b/m the lips meet, whatever the emotion
        for tr, p in zip(tracks, lj_mfa):
            t = tr.times
            gap = lip_gap(tr.curves)
            for a, b, ph in p.reference:
                if ph in ("p", "b", "m"):
                    inside = (t >= a) & (t <= b)
                    if inside.any():
                        assert gap[inside].max() <= 0.06 + 1e-6, f"{name}: lips open inside {ph} at {a:.2f}s"


def test_closure_rate_with_recognised_phones_scored_against_mfa(lj_recognised):
    """The bake path: phones from the recogniser, closures scored on the MFA alignment."""
    base, n, _ = _rates(lj_recognised, None)
    assert n >= 15
    for name, emo in zip(NAMES[1:], EMOTIONS[1:]):
        rate, _, _ = _rates(lj_recognised, emo)
        assert rate >= base - 0.02, f"{name}: closure {rate:.3f} vs neutral {base:.3f} (n={n})"


def _speaking(tr, p):
    t = tr.times
    m = np.zeros(len(t), bool)
    for a, b, ph in p.reference:
        if ph not in ("sil", "", "sp", "spn"):
            m |= (t >= a) & (t < b)
    return m


def test_happy_speech_keeps_smiling_and_articulating(lj_mfa):
    p = lj_mfa[0]
    neutral, happy = render(p, None), render(p, from_category("happy", 1.0))
    sp = _speaking(neutral, p)
    smile = happy.curve("mouthSmileLeft")[sp]
    assert smile.mean() > 0.25 and np.percentile(smile, 10) > 0.12  # corners stay up while talking
    jn, jh = neutral.curve("jawOpen"), happy.curve("jawOpen")
    assert np.corrcoef(jn, jh)[0, 1] > 0.97  # same articulation


def test_angry_is_tenser_and_sad_is_smaller(lj_mfa):
    p = lj_mfa[0]
    tr = {c: render(p, from_category(c, 1.0) if c != "neutral" else None) for c in ("neutral", "angry", "sad")}
    sp = _speaking(tr["neutral"], p)
    press = {c: tr[c].curve("mouthPressLeft")[sp].mean() for c in tr}
    sneer = {c: tr[c].curve("noseSneerLeft")[sp].mean() for c in tr}
    jaw = {c: tr[c].curve("jawOpen")[sp].mean() for c in tr}
    assert press["angry"] > press["neutral"] + 0.04 and sneer["angry"] > sneer["neutral"] + 0.15  # a snarl
    assert jaw["angry"] > jaw["neutral"] > jaw["sad"]  # arousal scales articulation


def test_mix_rules_on_synthetic_worst_case():
    """An expression that tries to open everything still cannot part lips inside a 'b'."""
    fps = 60
    t = np.arange(0, 1, 1 / fps)
    lips = np.zeros((len(t), N_ARKIT), np.float32)
    lips[:, ARKIT_INDEX["jawOpen"]] = 0.3
    inside = (t >= 0.4) & (t <= 0.5)
    lips[inside, ARKIT_INDEX["mouthClose"]] = 0.3  # lip-sync closed the lips for the 'b'
    lips[:, ARKIT_INDEX["mouthPucker"]] = np.where(t > 0.7, 0.6, 0.0)  # an 'oo'
    ex = np.ones((len(t), N_ARKIT), np.float32) * 0.8
    phones = [(0.0, 0.4, "ah"), (0.4, 0.5, "b"), (0.5, 0.7, "ah"), (0.7, 1.0, "uw")]
    out = mix(lips, ex, t, phones, arousal=np.ones(len(t)))
    gap = lip_gap(out)
    assert gap[inside].max() <= 0.06
    assert gap[~inside].max() > 0.3  # elsewhere the expression may act
    assert np.all(out[:, ARKIT_INDEX["mouthClose"]] <= out[:, ARKIT_INDEX["jawOpen"]] + 1e-6)
    assert np.all(out[:, ARKIT_INDEX["mouthPucker"]] >= lips[:, ARKIT_INDEX["mouthPucker"]] - 1e-6)
    sm = ARKIT_INDEX["mouthSmileLeft"]
    assert out[t > 0.8, sm].max() < out[t < 0.3, sm].min()  # rounding narrows the smile
    assert out.min() >= 0 and out.max() <= 1
    # without phones the closure cannot be known: documented, and the mix still stays in range
    out2 = mix(lips, ex, t, None)
    assert out2.min() >= 0 and out2.max() <= 1
    with pytest.raises(ValueError):
        mix(lips[:10], ex, t, phones)


def test_contact_weight_covers_the_phone_and_ramps_smoothly():
    t = np.arange(0, 1, 1 / 60)
    w = contact_weight([(0.4, 0.5, "m"), (0.6, 0.7, "aa")], frozenset({"m"}), t)
    assert np.all(w[(t >= 0.4) & (t <= 0.5)] == 1.0)
    assert w[t < 0.3].max() == 0.0 and w[t > 0.6].max() == 0.0
    assert np.abs(np.diff(w)).max() < 0.5


def test_mix_many_equals_each_window_alone():
    """LIVE mixes every session's 1-2 frames of a tick in one call (face.mixer.mix_many): each
    window gets exactly mix() of it alone, with its own phones, times and arousal (or none)."""
    from emoanim_server.face.mixer import mix_many

    rng = np.random.default_rng(4)
    items = []
    for k in range(7):
        n = int(rng.integers(1, 5))
        t0 = float(rng.uniform(0, 3))
        times = t0 + np.arange(n) / 60
        lips = rng.random((n, N_ARKIT)).astype(np.float32) * 0.6
        expr = rng.random((n, N_ARKIT)).astype(np.float32) * 0.4
        phones = [(t0 - 0.1, t0 + 0.01, "m"), (t0 + 0.01, t0 + 0.03, "f"), (t0 + 0.03, t0 + 0.2, "aa")] if k % 3 else []
        arousal = None if k % 4 == 1 else rng.uniform(-1, 1, n)
        items.append((lips, expr, times, phones, arousal))
    together = mix_many(items)
    for it, got in zip(items, together):
        want = mix(*it)
        assert got.dtype == np.float32 and got.tobytes() == want.tobytes()
    # the windows differ (the comparison is not of identical inputs)
    assert len({g.tobytes() for g in together}) == len(items)
    # many windows, 1-12 frames (beyond 8 the weights take the array functions), speech runs
    # as LIVE's neural lips give them and phones with contacts on the frame grid
    items = []
    for k in range(60):
        n = int(rng.integers(1, 13))
        t0 = int(rng.integers(0, 300)) / 60
        times = t0 + np.arange(n) / 60
        lips = rng.random((n, N_ARKIT)).astype(np.float32) * 0.6
        expr = rng.random((n, N_ARKIT)).astype(np.float32) * 0.4
        if k % 3 == 0:
            phones = [(t0 - 0.5, t0 + float(rng.uniform(-0.2, 0.2)), "speech")]
        elif k % 3 == 1:
            phones = [(t0 - 2 / 60, t0, "b"), (t0, t0 + 3 / 60, "v"), (t0 + 3 / 60, t0 + 0.1, "sil"),
                      (t0 + 0.1, t0 + 0.3, "iy")]
        else:
            phones = []
        items.append((lips, expr, times, phones, None if k % 5 == 2 else rng.uniform(-1, 1, n)))
    for it, got in zip(items, mix_many(items)):
        assert got.tobytes() == mix(*it).tobytes()


def test_interval_weight_few_times_gives_the_array_paths_bits():
    """LIVE asks interval_weight for 1-2 times a call, answered in Python floats
    (phones._interval_weight_few); it must give the array path's bits: at grid times on ramp
    edges, interval edges and centres, overlapping intervals, ramp values through np.cos."""
    from emoanim_server.face.lipsync.phones import _interval_weight_arrays, interval_weight

    rng = np.random.default_rng(7)
    grid = np.arange(0, 3, 1 / 60)
    checked = ramps = 0
    for trial in range(400):
        ramp = float(rng.choice([0.04, 0.06, 0.15, 0.5 / 60]))
        iv = []
        for _ in range(int(rng.integers(0, 6))):
            s = float(rng.choice(grid)) + float(rng.choice([0.0, 0.0, rng.uniform(-0.02, 0.02)]))
            iv.append((s, s + float(rng.choice([0.0, 1 / 60, rng.uniform(0.01, 0.4)]))))
        i0 = int(rng.integers(0, len(grid) - 8))
        for n in range(1, 9):
            t = grid[i0:i0 + n]
            a = interval_weight(iv, t, ramp)
            b = _interval_weight_arrays(iv, t, ramp)
            assert a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes(), (iv, t, ramp)
            checked += 1
            ramps += int(((b > 0) & (b < 1)).sum())
    assert checked == 3200 and ramps > 500
    # unsorted or non-finite times and a generator of intervals take the array path's values
    t = np.array([0.5, 0.2])
    assert interval_weight(iter([(0.1, 0.3)]), t, 0.1).tobytes() == _interval_weight_arrays([(0.1, 0.3)], t, 0.1).tobytes()
    with np.errstate(invalid="ignore"):
        t = np.array([0.1, np.nan])
        assert np.array_equal(interval_weight([(0.0, 0.2)], t, 0.1), _interval_weight_arrays([(0.0, 0.2)], t, 0.1),
                              equal_nan=True)

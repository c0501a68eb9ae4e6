"""Head motion: subtle, smooth, prosody-locked, arousal-scaled, deterministic and streamable."""
from __future__ import annotations

import numpy as np
import pytest

from emoanim_server.face import head as H
from emoanim_server.face.drivers import TICK_S, Drivers, talk_state, tick_times
from emoanim_server.face.eyes import EyesConfig, plan_eyes
from emoanim_server.face.head import HeadConfig, HeadModel, apply_head, head_motion
from emoanim_server.track import AnimationTrack

from _long_speech import long_bake
from test_eyes import conversation, emotion


def emphasis_for(sp: np.ndarray, seed: int = 0, every_s: float = 1.2) -> list[tuple[float, float]]:
    """Emphasis events inside speech, roughly one per ``every_s`` of speech (stressed syllables)."""
    r = np.random.default_rng(seed)
    k = np.flatnonzero(sp)
    picks = np.sort(r.choice(k, size=int(len(k) * TICK_S / every_s), replace=False))
    return [(round(i * TICK_S, 3), float(r.uniform(0.2, 1.0))) for i in picks]


@pytest.fixture(scope="module")
def convo():
    sp = conversation(12, seed=21)
    emph = emphasis_for(sp)
    deg, gestures = head_motion(Drivers(sp, emphasis=emph), HeadConfig(), seed=4)
    return sp, emph, deg, gestures


def test_values_finite_subtle_and_in_range(convo):
    sp, _, deg, _ = convo
    assert deg.shape == (len(sp), 3) and np.all(np.isfinite(deg))
    assert np.all(np.abs(deg) < H.LIMIT_DEG)
    rms = deg.std(axis=0)
    # talking heads: a few degrees (Busso et al. 2007; Graf et al. 2002), yaw > pitch > roll-ish
    assert np.all(rms > 0.4) and np.all(rms < 5), rms
    talk = talk_state(sp)
    assert deg[talk].std(axis=0).sum() > 1.2 * deg[~talk].std(axis=0).sum()


def test_smooth_no_jitter(convo):
    _, _, deg, _ = convo
    vel = np.diff(deg, axis=0) / TICK_S
    acc = np.diff(vel, axis=0) / TICK_S
    assert np.abs(vel).max() < 40, np.abs(vel).max()        # deg/s; idle/prosodic head moves are slow
    assert np.percentile(np.abs(vel), 95) < 12
    assert np.abs(acc).max() < 400, np.abs(acc).max()       # no kinks
    # idle sway lives well under 1 Hz: little power above 2 Hz
    spec = np.abs(np.fft.rfft(deg - deg.mean(0), axis=0)) ** 2
    f = np.fft.rfftfreq(len(deg), TICK_S)
    assert spec[f > 2].sum() / spec.sum() < 0.01


def test_nods_lock_to_emphasis(convo):
    sp, emph, deg, gestures = convo
    pitch = deg[:, 1]
    lags = np.arange(-50, 80)
    nods = [g.t for g in gestures if g.kind == "nod"]
    avg = np.mean([pitch[int(t / TICK_S) + lags] for t in nods if 60 < t / TICK_S < len(sp) - 90], axis=0)
    peak_lag = lags[np.argmax(avg)] * TICK_S
    assert -0.05 < peak_lag < 0.4, peak_lag  # head goes down on/just after the stressed syllable
    assert avg.max() - avg[0] > 1.0  # a nod is a visible ~degrees movement
    kinds = [g.kind for g in gestures]
    assert kinds.count("nod") > kinds.count("tilt") > 0 and kinds.count("turn") > 0
    # no emphasis -> no prosodic gestures (only utterance-onset lifts)
    _, quiet = head_motion(Drivers(sp), HeadConfig(), seed=4)
    assert {g.kind for g in quiet} == {"onset"}


def test_arousal_and_scale_control_amplitude(convo):
    sp, emph, deg, _ = convo
    n = len(sp)
    hi, _ = head_motion(Drivers(sp, np.full(n, 0.8), emphasis=emph), HeadConfig(), seed=4)
    lo, _ = head_motion(Drivers(sp, np.full(n, -0.8), emphasis=emph), HeadConfig(), seed=4)
    assert hi.std(0).sum() > 1.8 * lo.std(0).sum()
    zero, _ = head_motion(Drivers(sp, emphasis=emph), HeadConfig(scale=0.0), seed=4)
    half, _ = head_motion(Drivers(sp, emphasis=emph), HeadConfig(scale=0.5), seed=4)
    assert not np.any(zero)
    assert np.allclose(half, 0.5 * deg, atol=0.05 * np.abs(deg).max())


def test_emotion_posture():
    sp = conversation(3, seed=3)
    n = len(sp)
    neutral, _ = head_motion(Drivers(sp), HeadConfig(), seed=1)
    sad, _ = head_motion(Drivers(sp, emotion=emotion("sad", n)), HeadConfig(), seed=1)
    surprised, _ = head_motion(Drivers(sp, emotion=emotion("surprised", n)), HeadConfig(), seed=1)
    assert sad[:, 1].mean() > neutral[:, 1].mean() + 3      # sad: head down
    assert surprised[:, 1].mean() < neutral[:, 1].mean() - 2  # surprise: head back
    assert sad.std(0).sum() < neutral.std(0).sum()           # sadness moves less


def test_head_follows_large_gaze_shifts():
    sp = conversation(8, seed=5)
    d = Drivers(sp)
    plan = plan_eyes(d, EyesConfig(eye_contact=0.3), 2)
    gaze = plan.gaze(tick_times(len(sp)))
    with_gaze, _ = head_motion(d, HeadConfig(), 2, gaze)
    without, _ = head_motion(d, HeadConfig(follow_gaze=False), 2, gaze)
    follow = with_gaze[:, 0] - without[:, 0]
    big = np.abs(gaze[:, 0]) > 15
    assert big.any()
    assert np.corrcoef(follow, gaze[:, 0])[0, 1] > 0.6
    assert np.all(np.sign(follow[big]) == np.sign(gaze[big, 0])) or np.mean(np.sign(follow[big]) == np.sign(gaze[big, 0])) > 0.95
    assert np.abs(follow).max() < np.abs(gaze[:, 0]).max()  # the eyes still do most of it


def test_determinism_and_streaming(convo):
    sp, emph, deg, gestures = convo
    again, g2 = head_motion(Drivers(sp, emphasis=emph), HeadConfig(), seed=4)
    other, _ = head_motion(Drivers(sp, emphasis=emph), HeadConfig(), seed=5)
    assert np.array_equal(again, deg) and g2 == gestures
    assert not np.allclose(other, deg)
    # chunked feeding (server) == offline
    r = np.random.default_rng(1)
    m = HeadModel(HeadConfig(), seed=4)
    k = 0
    while k < len(sp):
        n = int(r.integers(1, 120))
        lo, hi = k * TICK_S, (k + n) * TICK_S
        m.feed(sp[k:k + n], emphasis=[e for e in emph if lo <= e[0] < hi])
        k += n
        m.step(m.ready_until)
    m.close()
    m.step(len(sp) * TICK_S + 1)
    assert np.allclose(m.out.view, deg, atol=1e-9)
    # a different future after T + look-ahead leaves the head before T unchanged
    T = 200.0
    cut = int((T + H.NOD_LEAD_S) / TICK_S) + 1
    alt_sp = sp.copy()
    alt_sp[cut:] = ~alt_sp[cut:]
    alt_emph = [e for e in emph if e[0] < cut * TICK_S] + [(t, 1.0) for t in np.arange(cut * TICK_S + 0.01, len(sp) * TICK_S, 0.7)]
    alt, _ = head_motion(Drivers(alt_sp, emphasis=alt_emph), HeadConfig(), seed=4)
    k_T = int(T / TICK_S)
    assert np.allclose(alt[:k_T], deg[:k_T], atol=1e-9) and not np.allclose(alt, deg)


def test_apply_head_writes_radians_and_metadata():
    track = AnimationTrack.empty(20.0, fps=30)
    sp = np.zeros(2001, bool)
    sp[100:1500] = True
    d = Drivers(sp, emphasis=[(2.0, 1.0), (5.0, 1.0)])  # full strength: always a movement
    apply_head(track, d, HeadConfig(), 3)
    assert track.head.dtype == np.float32 and np.all(np.isfinite(track.head))
    assert np.abs(track.head).max() < np.radians(15) and np.abs(track.head).max() > np.radians(0.3)
    assert track.metadata["head"]["gestures"]["nod"] + track.metadata["head"]["gestures"]["tilt"] \
        + track.metadata["head"]["gestures"]["turn"] == 2
    off = AnimationTrack.empty(20.0, fps=30)
    apply_head(off, d, HeadConfig(enabled=False), 3)
    assert not np.any(off.head)


def test_long_bake_real_speech_head():
    track = long_bake()
    deg = np.degrees(track.head.astype(float))
    assert np.all(np.isfinite(deg)) and np.all(np.abs(deg) < H.LIMIT_DEG)
    vel = np.diff(deg, axis=0) * track.fps
    # the head joins large gaze shifts, which is its fastest movement (humans: > 100 deg/s)
    assert np.abs(vel).max() < 80
    meta = track.metadata["head"]
    minutes = track.duration / 60
    nods = sum(meta["gestures"][k] for k in ("nod", "tilt", "turn")) / minutes
    assert 5 < nods < 60, nods  # prosodic gestures per minute
    assert meta["emphasis_source"] == "track.events"
    assert all(0.3 < r < 5 for r in meta["rms_deg"]), meta["rms_deg"]


def _fresh_like(track: AnimationTrack) -> AnimationTrack:
    t = AnimationTrack(fps=track.fps, curves=np.zeros_like(track.curves))
    t.events = {k: list(track.events[k]) for k in ("phones", "emphasis", "emotion") if k in track.events}
    return t


def test_glue_controls_and_seed_on_real_speech():
    """eyes_and_head with the bake's extra dicts: each switch works, same seed = same track."""
    from emoanim_server.face.eyes_head import eyes_and_head

    base = long_bake()
    runs = {}
    for name, extra, seed in [("a", {}, 1), ("a2", {}, 1), ("b", {}, 2),
                              ("off", {"eyes": {"blink": False, "gaze": False}, "head": {"enabled": False}}, 1),
                              ("big", {"head": {"scale": 2.0}}, 1)]:
        t = _fresh_like(base)
        eyes_and_head(t, None, extra, seed)
        t.validate()
        runs[name] = t
    a, a2, b = runs["a"], runs["a2"], runs["b"]
    assert np.array_equal(a.curves, a2.curves) and np.array_equal(a.head, a2.head) and np.array_equal(a.eyes, a2.eyes)
    assert a.events["blinks"] == a2.events["blinks"]
    assert not np.array_equal(a.curves, b.curves) and not np.array_equal(a.head, b.head)
    off = runs["off"]
    assert not np.any(off.curves) and not np.any(off.head) and not np.any(off.eyes) and "blinks" not in off.events
    ratio = np.degrees(runs["big"].head).std(0) / np.degrees(a.head).std(0)
    assert np.all((ratio > 1.6) & (ratio < 2.1)), ratio
    assert a.metadata["eyes"]["drivers"]["emphasis"] == "track.events"


def test_streaming_emphasis_for_live_sessions():
    """The causal detector agrees with the offline prosody emphasis better than chance, is
    chunking-independent, and drives nods."""
    from _long_speech import long_speech

    from emoanim_server.face.drivers import StreamingEmphasis, streaming_emphasis

    audio, _ = long_speech()
    x = audio.samples[: 60 * 16000]
    ev = streaming_emphasis(x)
    ref = np.array([e[0] for e in long_bake().events["emphasis"] if e[0] < 60])
    assert 0.5 * len(ref) < len(ev) < 2 * len(ref)
    times = np.array([e[0] for e in ev])
    near = np.mean([np.abs(ref - t).min() < 0.15 for t in times])
    r = np.random.default_rng(0)
    shifted = times + r.uniform(0.4, 1.0, len(times)) * r.choice([-1, 1], len(times))
    chance = np.mean([np.abs(ref - t).min() < 0.15 for t in shifted])
    assert near > chance + 0.1, (near, chance)
    det, out, k = StreamingEmphasis(), [], 0
    while k < len(x):
        n = int(r.integers(100, 6000))
        got = det.feed(x[k:k + n], final=k + n >= len(x))
        assert all(t <= (k + n) / 16000 - StreamingEmphasis.LOOKAHEAD_S + 1e-9 for t, _ in got) or k + n >= len(x)
        out += got
        k += n
    assert out == ev
    sp = np.zeros(6001, bool)
    sp[:] = True
    _, gestures = head_motion(Drivers(sp, emphasis=ev), HeadConfig(), 0)
    assert sum(g.kind == "nod" for g in gestures) > 10

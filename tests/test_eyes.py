"""Blink and gaze statistics against the human references in docs/eyes_head.md.

Fast checks run the stage on synthetic conversation timelines (30+ minutes in well under a
second); the long-bake checks run >= 2 minutes of real speech through the pipeline.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from emoanim_server.face import eyes as E
from emoanim_server.face.drivers import (EMOTIONS, TICK_S, Drivers, drivers_for_track, speech_from_phones,
                                         talk_state, tick_times)
from emoanim_server.face.eyes import (Blink, EyesConfig, EyesModel, apply_eyes, blink_signal, gaze_trace,
                                      main_sequence_s, plan_eyes)
from emoanim_server.track import AnimationTrack

from _long_speech import long_bake, long_speech


def conversation(minutes: float, seed: int = 1) -> np.ndarray:
    """Speech activity of a conversation: turns of phrases with short pauses, then listening."""
    r = np.random.default_rng(seed)
    out, total = [], 0.0
    while total < minutes * 60:
        turn, t = r.uniform(5, 20), 0.0
        while t < turn:
            ph = r.uniform(0.8, 3.5)
            pause = r.uniform(0.15, 0.35) if r.random() < 0.5 else r.uniform(0.35, 0.9)
            out += [np.ones(int(ph / TICK_S), bool), np.zeros(int(pause / TICK_S), bool)]
            t += ph + pause
        quiet = r.uniform(3, 15)
        out.append(np.zeros(int(quiet / TICK_S), bool))
        total += t + quiet
    return np.concatenate(out)


def emotion(name: str, n: int, intensity: float = 1.0) -> np.ndarray:
    w = np.zeros((n, len(EMOTIONS)))
    w[:, 0] = 1 - intensity
    w[:, EMOTIONS.index(name)] += intensity
    return w


def per_state_rates(blinks: list[Blink], speech: np.ndarray) -> tuple[float, float]:
    talk = talk_state(speech)
    k = np.minimum((np.array([b.t for b in blinks]) / TICK_S).astype(int), len(talk) - 1)
    at = talk[k]
    return (at.sum() / (talk.sum() * TICK_S / 60), (~at).sum() / ((~talk).sum() * TICK_S / 60))


@pytest.fixture(scope="module")
def convo():
    sp = conversation(25, seed=5)
    return sp, plan_eyes(Drivers(sp), EyesConfig(), seed=3)


# ------------------------------------------------------------------------------ blinks
def test_blink_rate_speaking_vs_silent():
    # intervals are heavy-tailed (CV ~1.5), so one 25-minute conversation's rate varies by +-25 %:
    # pool three
    rates = []
    for s in (5, 6, 7):
        sp = conversation(25, seed=s)
        rates.append(per_state_rates(plan_eyes(Drivers(sp), EyesConfig(), seed=3).blinks, sp))
    speaking, silent = np.mean(rates, axis=0)
    # real talking ARKit captures: 12-22/min (issue 12); Bentivoglio et al. 1997: rest ~17/min
    assert 12 <= speaking <= 24, speaking
    assert 10 <= silent <= 19, silent
    assert speaking > 1.3 * silent


def test_blink_rate_scale_arousal_and_emotion():
    sp = conversation(15, seed=2)
    n = len(sp)
    cfg = EyesConfig(gaze=False)
    base = len(plan_eyes(Drivers(sp), cfg, 1).blinks)
    half = len(plan_eyes(Drivers(sp), EyesConfig(gaze=False, blink_rate=0.5), 1).blinks)
    aroused = len(plan_eyes(Drivers(sp, np.full(n, 0.9)), cfg, 1).blinks)
    calm = len(plan_eyes(Drivers(sp, np.full(n, -0.9)), cfg, 1).blinks)
    surprised = len(plan_eyes(Drivers(sp, emotion=emotion("surprised", n)), cfg, 1).blinks)
    fearful = len(plan_eyes(Drivers(sp, emotion=emotion("fearful", n)), cfg, 1).blinks)
    assert 0.4 < half / base < 0.65
    assert aroused > 1.3 * calm
    assert surprised < 0.8 * base < fearful


def _constant_state_intervals(speaking: bool, minutes: float = 40) -> np.ndarray:
    sp = np.full(int(minutes * 60 / TICK_S), speaking)
    plan = plan_eyes(Drivers(sp), EyesConfig(gaze=False), seed=9)
    t = np.array([b.t for b in plan.blinks if b.kind != "double"])
    return np.diff(t)


def test_inter_blink_intervals_flurries_and_heavy_tail():
    for speaking in (False, True):
        ibi = _constant_state_intervals(speaking)
        assert len(ibi) > 350
        # a refractory time after every blink: nothing closer than ~0.3 s (doubles excluded)
        assert ibi.min() >= 0.3
        # flurries: a good share of intervals under 0.8 s, the rest long stares
        short = ibi < 0.8
        assert 0.25 < short.mean() < 0.8, short.mean()
        # without speech to pace them (no pause-onset blinks) and over 40 minutes rather than 20 s
        # takes, the spread is wider than the captures' 1.5 (test_blink_intervals_spread_like_
        # the_captures measures that figure the captures' way)
        m = ibi.mean()
        cv = ibi.std() / m
        assert 1.3 < cv < 2.3, cv
        # heavy tail: a Poisson process with the same refractory time and mean (a shifted
        # exponential) has exp(-(3m - r)/(m - r)) ~ 4 % of its intervals over 3x the mean
        r = ibi.min()
        tail, poisson = (ibi > 3 * m).mean(), math.exp(-(3 * m - r) / (m - r))
        assert tail > 2 * poisson, (tail, poisson)
        mean_rate = 60 / m
        assert (13 if speaking else 8) < mean_rate < (28 if speaking else 24), mean_rate


def test_blink_intervals_spread_like_the_captures():
    """Issue 12: inter-blink interval CV ~1.5 over 20 s takes of people talking (every blink,
    intervals pooled inside each 20 s window, as a 20 s capture measures them)."""
    cvs = []
    for s in (5, 6, 7):
        sp = conversation(25, seed=s)
        t = np.array([b.t for b in plan_eyes(Drivers(sp), EyesConfig(), seed=3).blinks])
        ibi = np.concatenate([np.diff(t[(t >= a) & (t < a + 20)]) for a in np.arange(0, len(sp) * TICK_S - 20, 20)])
        cvs.append(ibi.std() / ibi.mean())
    assert 1.4 < np.mean(cvs) < 1.8, cvs


def test_every_line_blinks_at_a_human_rate_and_lines_differ():
    """Issue 12: 10-30/min on every line >= 4 s, a 2 s line need not blink, no line's blinks
    locked to its start, same line + seed = same blinks."""
    from emoanim_server.face.eyes import LINE_RATE_BOUNDS, line_seed

    r = np.random.default_rng(4)
    firsts, rates = [], []
    for i in range(60):
        dur = float(r.uniform(4.0, 10.0))
        sp = np.zeros(int(dur / TICK_S) + 1, bool)
        t = float(r.uniform(0.05, 0.4))
        while t < dur - 0.3:  # phrases and pauses
            ph = float(r.uniform(0.6, 2.5))
            sp[int(t / TICK_S):int(min(t + ph, dur - 0.2) / TICK_S)] = True
            t += ph + float(r.uniform(0.1, 0.7))
        seed = line_seed(0, r.normal(0, 0.1, 800))
        plan = plan_eyes(Drivers(sp), EyesConfig(), seed)
        assert plan.blinks == plan_eyes(Drivers(sp), EyesConfig(), seed).blinks
        rates.append(len(plan.blinks) / dur * 60)
        if plan.blinks:
            firsts.append(plan.blinks[0].t)
    lo, hi = LINE_RATE_BOUNDS
    assert all(lo <= x <= hi for x in rates), sorted(rates)[:3] + sorted(rates)[-3:]
    # first blinks spread over the lines' first seconds, none piles up at one instant (60 lines
    # over ~30 busy 100 ms bins: chance alone puts ~5 lines in the fullest one)
    f = np.array(firsts)
    assert len(f) == 60 and f.std() > 0.8
    assert np.bincount((f / 0.1).astype(int)).max() <= 6
    # the bound scales with the user's blink rate; the LIVE (causal) cap never lets a line
    # start with more than two blinks before the rate allows them
    sp = np.tile(np.r_[np.ones(150, bool), np.zeros(30, bool)], 10)
    m = EyesModel(EyesConfig(lookahead_s=0.0, blink_rate=3.0, gaze=False), 11)
    m.feed(sp)
    m.close()
    m.step(len(sp) * TICK_S)
    ts = np.array([b.t for b in m.blinks])
    n_by = np.arange(1, len(ts) + 1)
    assert np.all(n_by <= np.maximum(2, np.floor(ts * hi * 3.0 / 60 + 1e-9)))


def test_blink_shape_close_faster_than_open_and_partials(convo):
    _, plan = convo
    closes, opens = [], []
    for b in plan.blinks[:200]:
        t = np.arange(b.t - 0.05, b.end + 0.05, 0.001)
        v = blink_signal([b], t)
        peak = v.max()
        assert abs(peak - b.amp) < 1e-6
        above = np.flatnonzero(v > 0.02 * peak)
        closed = np.flatnonzero(v >= 0.98 * peak)
        closes.append((closed[0] - above[0]) * 1e-3)
        opens.append((above[-1] - closed[-1]) * 1e-3)
    closes, opens = np.array(closes), np.array(opens)
    # real ARKit captures (issue 12): closing ~51 ms, opening 99-156 ms
    assert 0.04 < np.mean(closes) < 0.065, np.mean(closes)
    assert 0.099 < np.mean(opens) < 0.156, np.mean(opens)
    assert np.mean(opens / closes) > 1.5
    kinds = [b.kind for b in plan.blinks]
    # depth varies, peaking near 0.7-1.0 (captures: mean peak ~0.73)
    amps = np.array([b.amp for b in plan.blinks])
    assert 0.68 < np.mean(amps) < 0.82 and amps.std() > 0.08 and amps.min() >= 0.45
    assert 0.02 < kinds.count("double") / len(kinds) < 0.15


def test_blinks_prefer_pause_onsets(convo):
    sp, plan = convo
    k = np.arange(len(sp))
    offsets = np.flatnonzero(sp[:-1] & ~sp[1:]) + 1
    window = np.zeros(len(sp), bool)
    for o in offsets:
        window[o:o + int(0.5 / TICK_S)] = True
    window &= talk_state(sp)
    talk = talk_state(sp)
    bk = np.minimum((np.array([b.t for b in plan.blinks if b.kind == "spontaneous"]) / TICK_S).astype(int), len(sp) - 1)
    bk = bk[talk[bk]]
    share_blinks = window[bk].mean()
    share_time = window[k[talk]].mean()
    assert share_blinks > 1.6 * share_time, (share_blinks, share_time)


# ------------------------------------------------------------------------------ gaze
def test_saccade_main_sequence_events(convo):
    _, plan = convo
    big = [s for s in plan.saccades if s.kind != "micro"]
    amp = np.array([s.amplitude for s in big])
    dur = np.array([s.duration for s in big]) * 1000
    fit = stats.linregress(amp, dur)
    # Carpenter 1988 / Baloh et al. 1975: D ~ 2.2 ms/deg * A + 21 ms
    assert 1.9 < fit.slope < 2.5 and 17 < fit.intercept < 25, fit
    assert amp.max() > 10 and np.median(amp) < 8


def test_saccade_duration_measured_on_rendered_trace(convo):
    _, plan = convo
    sacc = [s for s in plan.saccades if s.amplitude > 3][:60]
    measured, expected = [], []
    for s in sacc:
        t = np.arange(s.t - 0.02, s.end + 0.02, 0.0005)
        g = gaze_trace([s], t, s.start)
        speed = np.hypot(*np.gradient(g, t, axis=0).T)
        moving = np.flatnonzero(speed > 0.02 * speed.max())
        measured.append((moving[-1] - moving[0]) * 0.0005)
        expected.append(float(main_sequence_s(s.amplitude)))
        assert np.allclose(g[-1], s.target) and np.allclose(g[0], s.start)
        assert speed.max() < 900  # deg/s: human saccades peak at ~500-700 deg/s
    ratio = np.array(measured) / np.array(expected)
    assert 0.75 < np.median(ratio) < 1.1, np.median(ratio)


def test_fixation_durations_and_microsaccades(convo):
    sp, plan = convo
    big = np.array([s.t for s in plan.saccades if s.kind != "micro"])
    fix = np.diff(big)
    # fixations from a few hundred ms to seconds
    assert 0.3 < np.median(fix) < 1.5
    assert np.percentile(fix, 10) > 0.12 and np.percentile(fix, 95) > 1.2 and fix.max() > 3
    micro = [s for s in plan.saccades if s.kind == "micro"]
    assert all(s.amplitude < 1.5 for s in micro)
    rate = len(micro) / (len(sp) * TICK_S)
    assert 0.5 < rate < 2.5  # ~1-2 per second during fixation (Martinez-Conde et al. 2004)


def _contact(plan, sp, tol=5.0):
    g = plan.gaze(tick_times(len(sp)))
    return np.hypot(g[:, 0] - plan.config.gaze_target[0], g[:, 1] - plan.config.gaze_target[1]) < tol


def test_eye_contact_listening_vs_speaking_and_control(convo):
    sp, plan = convo
    c = _contact(plan, sp)
    talk = talk_state(sp)
    listening, speaking = c[~talk].mean(), c[talk].mean()
    # Argyle & Cook 1976: ~75% of the time looking while listening, ~41% while speaking
    assert 0.55 < listening < 0.85 and 0.25 < speaking < 0.55 and listening > speaking + 0.15
    more = plan_eyes(Drivers(sp[:60000]), EyesConfig(eye_contact=1.0), 3)
    less = plan_eyes(Drivers(sp[:60000]), EyesConfig(eye_contact=0.2), 3)
    assert _contact(more, sp[:60000]).mean() > 0.9 > 0.5 > _contact(less, sp[:60000]).mean()


def test_aversion_at_utterance_start_and_return_at_phrase_end(convo):
    sp, plan = convo
    c = _contact(plan, sp)
    talk = talk_state(sp)
    gap = int(E.UTTERANCE_GAP_S / TICK_S)
    onsets = [k for k in np.flatnonzero(sp[1:] & ~sp[:-1]) + 1 if not sp[max(0, k - gap):k].any()]
    after_start = np.mean([~c[k + 40] for k in onsets if k + 40 < len(sp)])
    assert after_start > 0.6, after_start  # Kendon 1967: look away as an utterance starts
    assert after_start > 1.3 * (~c[talk]).mean()
    ends = [k for k in np.flatnonzero(sp[:-1] & ~sp[1:]) + 1 if not sp[k:k + 40].any() and k + 60 < len(sp)]
    averted_at_end = [k for k in ends if not c[k]]
    back = np.mean([c[k + 50] for k in averted_at_end])
    assert back > 0.6, back  # back to the listener at phrase ends


def test_emotion_biases_gaze():
    sp = conversation(10, seed=4)
    n = len(sp)
    t = tick_times(n)
    neutral = plan_eyes(Drivers(sp), EyesConfig(), 2)
    sad = plan_eyes(Drivers(sp, emotion=emotion("sad", n)), EyesConfig(), 2)
    fear = plan_eyes(Drivers(sp, emotion=emotion("fearful", n)), EyesConfig(), 2)
    assert sad.gaze(t)[:, 1].mean() > neutral.gaze(t)[:, 1].mean() + 2.0  # sad looks down
    big = lambda p: [s for s in p.saccades if s.kind in ("avert", "contact")]
    assert len(big(fear)) > 1.4 * len(big(neutral))  # fear scans: more, shorter glances
    assert _contact(fear, sp).mean() < _contact(neutral, sp).mean() - 0.1


# ------------------------------------------------------------------------------ determinism, streaming
def test_same_seed_same_events_different_seed_differs():
    sp = conversation(3, seed=8)
    a, b, c = (plan_eyes(Drivers(sp), EyesConfig(), s) for s in (5, 5, 6))
    assert a.blinks == b.blinks and a.saccades == b.saccades
    assert a.blinks != c.blinks and a.saccades != c.saccades


def test_streaming_chunks_equal_offline_and_future_does_not_leak():
    sp = conversation(4, seed=12)
    r = np.random.default_rng(0)
    arousal = np.clip(np.cumsum(r.normal(0, 0.01, len(sp))), -1, 1)
    offline = plan_eyes(Drivers(sp, arousal), EyesConfig(), 7)
    m = EyesModel(EyesConfig(), 7)
    k = 0
    while k < len(sp):
        n = int(r.integers(1, 80))
        m.feed(sp[k:k + n], arousal[k:k + n])
        k += n
        m.step(m.ready_until)
        for ev in m.blinks + m.saccades:  # nothing is decided beyond what was fed + look-ahead
            assert ev.t <= k * TICK_S
    m.close()
    m.step(len(sp) * TICK_S + 1)
    assert m.blinks == offline.blinks and m.saccades == offline.saccades
    # a different future after T + look-ahead leaves everything before T unchanged
    T = 100.0
    cut = int((T + EyesConfig().lookahead_s) / TICK_S) + 1
    other = sp.copy()
    other[cut:] = ~other[cut:]
    alt = plan_eyes(Drivers(other, arousal), EyesConfig(), 7)
    before = lambda evs: [e for e in evs if e.t < T]
    assert before(alt.blinks) == before(offline.blinks)
    assert before(alt.saccades) == before(offline.saccades)
    assert alt.blinks != offline.blinks


# ------------------------------------------------------------------------------ rendering into a track
def test_apply_respects_emotion_lids_and_ranges():
    track = AnimationTrack.empty(60.0)
    n = track.n_frames
    track.set_curve("eyeWideLeft", np.full(n, 0.6))
    track.set_curve("eyeWideRight", np.full(n, 0.6))
    track.set_curve("eyeSquintLeft", np.full(n, 0.5))
    track.events["phones"] = [(0.0, 20.0, "ah"), (20.0, 60.0, "sil")]
    d = drivers_for_track(track)
    plan = plan_eyes(d, EyesConfig(gaze=False), 1)
    apply_eyes(track, plan)
    b = blink_signal(plan.blinks, track.times)
    lid = track.curve("eyeBlinkLeft")
    assert np.all(np.isfinite(track.curves)) and track.curves.min() >= 0 and track.curves.max() <= 1
    peak = b > 0.6
    assert peak.any() and np.all(lid >= b - 1e-6)                # the lid closes at least as far as the blink
    assert np.allclose(track.curve("eyeWideLeft"), 0.6 * (1 - b), atol=1e-5)  # wide gives way while the lid is down
    assert np.allclose(track.curve("eyeWideLeft")[b == 0], 0.6)  # and comes back exactly
    assert np.all(track.curve("eyeSquintLeft") >= 0.5 - 1e-6)    # squint kept, blink only adds
    assert np.allclose(track.curve("eyeSquintRight")[b == 0], 0)


def test_gaze_curves_match_eye_rotations():
    track = AnimationTrack.empty(30.0)
    track.events["phones"] = [(1.0, 12.0, "ah"), (12.0, 30.0, "sil")]
    plan = plan_eyes(drivers_for_track(track), EyesConfig(gaze_target=(6.0, 3.0)), 4)
    apply_eyes(track, plan)
    yaw_l, pitch = np.degrees(track.eyes[:, 0, 0]), np.degrees(track.eyes[:, 0, 1])
    assert np.allclose(track.curve("eyeLookOutLeft") - track.curve("eyeLookInLeft"), yaw_l / E.EYE_YAW_MAX_DEG, atol=1e-5)
    down = track.curve("eyeLookDownLeft")
    assert np.allclose(down, np.clip(pitch / E.EYE_DOWN_MAX_DEG, 0, 1), atol=1e-5)
    assert np.all(track.curve("eyeLookOutLeft") * track.curve("eyeLookInLeft") == 0)
    # converging on a listener at 1.2 m: the left eye is turned right of the right eye
    assert np.all(track.eyes[:, 0, 0] < track.eyes[:, 1, 0])
    # lids follow vertical gaze: looking down lowers the upper lid
    lid = track.curve("eyeBlinkLeft")
    quiet = blink_signal(plan.blinks, track.times) == 0
    assert np.corrcoef(lid[quiet], down[quiet])[0, 1] > 0.9
    assert abs(np.median(np.degrees(track.eyes[:, :, 0]).mean(1)) - 6.0) < 2


@pytest.mark.parametrize("duration,fps", [(0.0, 60), (0.01, 24), (0.3, 30), (3.0, 25)])
def test_tiny_and_silent_inputs(duration, fps):
    from emoanim_server.face.eyes_head import eyes_and_head

    track = AnimationTrack.empty(duration, fps)
    eyes_and_head(track, np.zeros(int(duration * 16000) + 1, np.float32), {}, 0)
    track.validate()
    assert np.all(np.isfinite(track.head)) and np.all(np.isfinite(track.eyes))
    assert track.metadata["eyes"]["drivers"]["speech"] in ("energy", "none")


def test_bad_options_are_input_errors():
    from emoanim_server.errors import InputError
    from emoanim_server.face.head import HeadConfig

    for extra in ({"eyes": {"eye_contact": 2}}, {"eyes": {"gaze_target": [90, 0]}}, {"eyes": {"blink_rate": -1}},
                  {"eyes": {"colour": "blue"}}):
        with pytest.raises(InputError):
            EyesConfig.from_extra(extra)
    with pytest.raises(InputError):
        HeadConfig.from_extra({"head": {"scale": 9}})


def test_disabled_parts_leave_track_alone():
    track = AnimationTrack.empty(10.0)
    before = track.curves.copy()
    apply_eyes(track, plan_eyes(Drivers(np.zeros(1001, bool)), EyesConfig(blink=False, gaze=False), 0))
    assert np.array_equal(track.curves, before) and not np.any(track.eyes)
    assert track.metadata["eyes"]["blink_enabled"] is False


# ------------------------------------------------------------------------------ long real-speech bake
def test_long_bake_real_speech_statistics():
    audio, phones = long_speech()
    track = long_bake()
    assert audio.duration >= 120
    track.validate()
    assert np.all(np.isfinite(track.eyes)) and np.all(np.abs(np.degrees(track.eyes)) <= 31)
    blinks = track.events["blinks"]
    sp = speech_from_phones(phones, int(audio.duration / TICK_S) + 1)
    talk = talk_state(sp)
    k = np.minimum((np.array([b[0] for b in blinks]) / TICK_S).astype(int), len(sp) - 1)
    speaking = talk[k].sum() / (talk.sum() * TICK_S / 60)
    silent = (~talk[k]).sum() / ((~talk).sum() * TICK_S / 60)
    # ~2 minutes give ~50 blinks: wide bounds, the synthetic 40-minute test is the precise one
    # (intervals are heavy-tailed, CV ~1.5: 40 s of silence may hold only a few blinks)
    assert 12 < speaking < 35 and 3 < silent < 26 and speaking > silent, (speaking, silent)
    lid = track.curve("eyeBlinkLeft")
    assert lid.max() > 0.9 and np.mean(lid > 0.5) < 0.1
    assert track.metadata["eyes"]["drivers"]["speech"] == "phones"
    sacc = [s for s in track.events["saccades"] if s[3] != "micro"]
    fit = stats.linregress([s[2] for s in sacc], [s[1] * 1000 for s in sacc])
    assert 1.8 < fit.slope < 2.6 and 16 < fit.intercept < 26
    # eyes counter-rotate against the head (VOR): during a fixation the gaze in the world
    # (head + eye) holds still while the eye in the head moves
    head = np.degrees(track.head[:, :2].astype(float))
    eye = np.degrees(track.eyes[:, :, :2].astype(float)).mean(1)
    ev = track.events["saccades"]
    world_sd, eye_sd = [], []
    for a, b in zip(ev[:-1], ev[1:]):
        lo, hi = np.searchsorted(track.times, [a[0] + a[1] + 0.02, b[0] - 0.02])
        if hi - lo > 20 and np.all(np.abs(eye[lo:hi]) < 29):
            world_sd.append((head[lo:hi] + eye[lo:hi]).std(0).max())
            eye_sd.append(eye[lo:hi].std(0).max())
    assert len(world_sd) > 50
    assert np.median(world_sd) < 0.01 and np.median(eye_sd) > 0.1, (np.median(world_sd), np.median(eye_sd))


def test_pipeline_bake_with_recognition_has_eyes_and_head(baked_speech):
    t = baked_speech
    assert t.events["blinks"] and t.events["saccades"]
    assert np.any(t.eyes) and np.any(t.head)
    assert {"blinks", "config", "drivers"} <= set(t.metadata["eyes"])
    assert t.metadata["eyes"]["config"]["eye_contact"] == 0.7


def test_cli_flags_reach_bake_options():
    from emoanim_server import cli

    p = cli.build_parser()
    args = p.parse_args(["bake", "x.wav", "--no-blink", "--blink-rate", "1.5", "--gaze-target", "10,-4",
                         "--eye-contact", "0.9", "--head-scale", "0.5", "--no-head", "--seed", "4"])
    opts = cli.bake_options(args)
    cfg = opts.eyes  # the typed options object (emoanim_server/options.py)
    assert (cfg.blink, cfg.gaze, cfg.blink_rate, cfg.gaze_target, cfg.eye_contact) == (False, True, 1.5, (10.0, -4.0), 0.9)
    assert (opts.head.enabled, opts.head.scale) == (False, 0.5) and opts.seed == 4
    for bad in (["--gaze-target", "10"], ["--eye-contact", "2"], ["--blink-rate", "x"]):
        with pytest.raises(SystemExit):
            p.parse_args(["bake", "x.wav", *bad])

"""Gesture runtime (no torch): shipped ONNX, representation, skeleton/IK, retarget, sampler
determinism, window stitching, streaming == offline, rest pose, fingers, bad inputs, bake/CLI."""
from __future__ import annotations

import json
import os

import numpy as np
import pytest

from emoanim_server.audio import load_audio
from emoanim_server.errors import InputError
from emoanim_server.gesture import rotations as R
from emoanim_server.gesture import representation as Rep
from emoanim_server.gesture.features import AUDIO_DIM, EMOTION_DIM, MODEL_FPS, audio_features, emotion_vector
from emoanim_server.gesture.sampler import GestureSettings, GestureStream, generate, load_model, stream_lookahead_s
from emoanim_server.gesture.skeleton import (NAME_MAPS, UNITY_HUMANOID, forward_kinematics, humanoid,
                                             rest_ankles, settle_hips, solve_legs)
from emoanim_server.models import find_model, load_card, sha256, verify
from emoanim_server.track import n_frames_for

HERE = os.path.dirname(__file__)
WAV = os.path.join(HERE, "data", "speech_en.wav")


@pytest.fixture(scope="module")
def speech():
    return load_audio(WAV).samples


@pytest.fixture(scope="module")
def model():
    return load_model()


# ------------------------------------------------------------------ shipped model
def test_shipped_model_card_and_size():
    p = verify("gesture_default")
    assert p.stat().st_size < 5 * 1024 * 1024
    card = load_card("gesture_default")
    assert card["sha256"] == sha256(p)
    for key in ("training_data", "licence", "metrics", "train_your_own", "normalisation", "config"):
        assert key in card, key
    assert "ZEGGS" in json.dumps(card["training_data"]) or "no co-speech mocap" in json.dumps(card["training_data"])


def test_shipped_onnx_runs_with_onnxruntime(model):
    """Direct onnxruntime run of the shipped file (CI has no torch): shapes, finiteness, and a
    batched CFG call equals two single calls."""
    import onnxruntime as ort

    sess = ort.InferenceSession(str(find_model("gesture_default")), providers=["CPUExecutionProvider"])
    W, D = model.window, model.dim
    rng = np.random.default_rng(0)
    feeds = {"x_t": rng.standard_normal((2, W, D)).astype(np.float32), "t": np.array([900, 10], np.float32),
             "audio": rng.standard_normal((2, W, model.cond_dim)).astype(np.float32),
             "emotion": np.stack([emotion_vector("angry"), np.zeros(EMOTION_DIM, np.float32)]),
             "seed": np.zeros((2, W, D), np.float32), "seed_mask": np.zeros((2, W, 1), np.float32)}
    out = sess.run(None, feeds)[0]
    assert out.shape == (2, W, D) and np.all(np.isfinite(out))
    one = sess.run(None, {k: v[1:] for k, v in feeds.items()})[0]
    np.testing.assert_allclose(out[1:], one, atol=1e-4)
    # the emotion input matters (conditional != unconditional)
    feeds2 = dict(feeds, emotion=np.stack([emotion_vector("angry")] * 2), t=np.array([900, 900], np.float32),
                  x_t=np.repeat(feeds["x_t"][:1], 2, 0))
    feeds2["emotion"][1] = 0
    o2 = sess.run(None, feeds2)[0]
    assert np.abs(o2[0] - o2[1]).mean() > 1e-3


# ------------------------------------------------------------------ representation / skeleton
def test_representation_exact_inverse():
    skel = humanoid(fingers=False)
    rng = np.random.default_rng(1)
    q = R.continuity(R.normalize(rng.normal(size=(20, len(skel.names), 4))))
    root = skel.offsets[0] + rng.normal(size=(20, 3)) * 0.05
    f = Rep.encode(skel, q, root, MODEL_FPS)
    assert f.shape == (20, Rep.feature_dim(len(skel.names)))
    q2, root2 = Rep.decode(skel, f)
    assert np.abs(np.abs(np.sum(q * q2, -1)) - 1).max() < 1e-5
    np.testing.assert_allclose(root2, root, atol=1e-5)
    np.testing.assert_allclose(f[1:, 3:6], np.diff(root, axis=0) * MODEL_FPS, atol=1e-4)


def test_skeleton_is_unity_humanoid():
    skel = humanoid(fingers=False)
    assert skel.names[0] == "Hips" and skel.parents[0] == -1 and len(skel.names) == 22
    for n in skel.names:
        assert UNITY_HUMANOID[n] == n
    gp, _ = forward_kinematics(skel, np.tile([0, 0, 0, 1.0], (1, len(skel.names), 1)))
    assert gp[0, skel.names.index("LeftHand"), 0] > 0.5  # T-pose, left = +X
    assert 1.5 < gp[0, skel.names.index("Head"), 1] < 1.7
    fingers = humanoid()  # the output skeleton: body joints first (old 22-joint readers), then fingers
    assert "LeftIndexProximal" in fingers.names and len(fingers.names) == 52
    assert fingers.names[:22] == skel.names and fingers.parents[:22] == skel.parents
    assert NAME_MAPS["mixamo"]["LeftForeArm"] == "LeftLowerArm"


def test_leg_ik_plants_feet():
    skel = humanoid(fingers=False)
    n = 30
    q = np.tile([0, 0, 0, 1.0], (n, len(skel.names), 1))
    q[:, 0] = R.axis_angle_quat([0, 1, 0], np.linspace(-0.1, 0.1, n))
    root = np.tile(skel.offsets[0], (n, 1))
    root[:, 0] += 0.03 * np.sin(np.arange(n) / 4)
    root[:, 1] -= 0.03
    q = solve_legs(skel, q, root)
    gp, gm = forward_kinematics(skel, q, root)
    target = rest_ankles(skel)
    for k, f in enumerate(("LeftFoot", "RightFoot")):
        np.testing.assert_allclose(gp[:, skel.names.index(f)], np.tile(target[k], (n, 1)), atol=1e-6)
        np.testing.assert_allclose(gm[:, skel.names.index(f)], np.tile(np.eye(3), (n, 1, 1)), atol=1e-6)


def test_retarget_by_name_map(tmp_path):
    """Our skeleton renamed to Mixamo names, scaled to centimetres -> retargeted back exactly."""
    from emoanim_server.export.bvh import bvh_text, read_bvh
    from emoanim_server.gesture.retarget import retarget

    skel = humanoid(fingers=False)
    rng = np.random.default_rng(2)
    q = R.normalize(np.tile([0, 0, 0, 1.0], (10, len(skel.names), 1)) + 0.2 * rng.normal(size=(10, len(skel.names), 4)))
    root = np.tile(skel.offsets[0], (10, 1))
    inv = {v: k for k, v in NAME_MAPS["mixamo"].items()}
    from emoanim_server.track import Skeleton

    src = Skeleton(["mixamorig:" + inv[n] for n in skel.names], skel.parents, skel.offsets)
    p = tmp_path / "m.bvh"
    p.write_text(bvh_text(src, q, root, 30, units="cm"))
    clip = read_bvh(str(p))
    q2, root2 = retarget(clip.skeleton, clip.rotations, clip.root_positions, skel)
    assert np.abs(np.abs(np.sum(q2 * q, -1)) - 1).max() < 1e-6
    np.testing.assert_allclose(root2, root, atol=1e-4)


# ------------------------------------------------------------------ sampler
def _angles(q):
    """Per-frame geodesic step (radians), max over joints."""
    d = np.abs(np.sum(q[1:] * q[:-1], axis=-1)).clip(0, 1)
    return (2 * np.arccos(d)).max(axis=1)


def test_generate_shape_determinism_and_seed(speech, model):
    x = speech[: 16000 * 3]
    st = GestureSettings(seed=3, fps=30)
    q1, r1 = generate(x, "happy", st, model)
    q2, r2 = generate(x, "happy", GestureSettings(seed=3, fps=30), model)
    assert q1.shape == (n_frames_for(3.0, 30), 52, 4)
    np.testing.assert_array_equal(q1, q2)
    np.testing.assert_array_equal(r1, r2)
    q3, _ = generate(x, "happy", GestureSettings(seed=4, fps=30), model)
    assert np.abs(q3 - q1).max() > 1e-3
    assert np.all(np.isfinite(q1)) and np.allclose(np.linalg.norm(q1, axis=-1), 1, atol=1e-6)


def test_window_joins_have_no_pops(speech, model):
    fps = 60
    q, root = generate(speech, "angry", GestureSettings(seed=0, fps=fps), model)
    step = _angles(q)
    H, S = model.hop, model.seed_frames
    joins = []
    k = H + S  # window k >= 1 adds frames from k * hop + seed on
    while k / MODEL_FPS < len(speech) / 16000:
        joins.append(int(round(k / MODEL_FPS * fps)))
        k += H
    assert joins
    near = np.concatenate([step[max(0, j - 3):j + 3] for j in joins])
    # a pop would be an outlier step at a join; joins look like the rest of the motion
    assert near.max() <= max(1.5 * np.percentile(step, 99), 0.02), (near.max(), np.percentile(step, 99))
    root_step = np.linalg.norm(np.diff(root, axis=0), axis=1)
    assert root_step.max() < 0.01  # < 0.6 m/s hips at 60 fps


def test_streaming_blocks_contiguous_and_early(speech, model):
    st = GestureStream("neutral", GestureSettings(seed=1, fps=30), model)
    blocks, first_at, joins = [], None, []
    chunk = 1600  # 100 ms
    for i in range(0, len(speech), chunk):
        g = len(st.q)
        new = st.push(speech[i:i + chunk])
        if len(st.q) != g:
            joins.append(int(round(g / MODEL_FPS * 30)))
        if new and first_at is None:
            first_at = (i + chunk) / 16000
        blocks += new
    blocks += st.finish()
    assert first_at is not None and first_at <= stream_lookahead_s(model) + 0.1
    starts = [b.start for b in blocks]
    lens = [len(b.rotations) for b in blocks]
    assert starts[0] == 0 and all(s + n == s2 for s, n, s2 in zip(starts, lens, starts[1:]))
    assert sum(lens) == n_frames_for(len(speech) / 16000, 30)
    q = np.concatenate([b.rotations for b in blocks])
    step = _angles(q)
    near = np.concatenate([step[max(0, j - 1):j + 2] for j in joins[1:]])
    assert near.max() <= max(1.5 * np.percentile(step, 99), 0.03), (near.max(), np.percentile(step, 99))


@pytest.mark.parametrize("chunks", [[1600], [317, 5000, 123, 2400, 8000, 999]])
def test_streaming_equals_offline(speech, model, chunks):
    """The windows' schedule and conditioning depend only on the audio, never on its chunking:
    a live stream gives the offline bake's frames (same seed), whatever the chunk sizes."""
    x = speech[: 16000 * 4]
    q_off, r_off = generate(x, "happy", GestureSettings(seed=7, fps=30), model)
    st = GestureStream("happy", GestureSettings(seed=7, fps=30), model)
    blocks, i, j = [], 0, 0
    while i < len(x):
        blocks += st.push(x[i:i + chunks[j % len(chunks)]])
        i += chunks[j % len(chunks)]
        j += 1
    blocks += st.finish()
    q = np.concatenate([b.rotations for b in blocks])
    r = np.concatenate([b.root_positions for b in blocks])
    assert q.shape == q_off.shape
    np.testing.assert_allclose(np.abs(np.sum(q * q_off, axis=-1)), 1.0, atol=1e-9)
    np.testing.assert_allclose(r, r_off, atol=1e-9)


def test_rest_pose_in_silence(model):
    """People at rest let the arms hang and keep the knees nearly straight."""
    if float(str(model.card.get("version", "1")).split(".")[0]) < 2:
        pytest.skip("the rest pose from real idle capture comes with the v2 gesture model")
    rng = np.random.default_rng(0)
    q, root = generate((1e-4 * rng.standard_normal(16000 * 3)).astype(np.float32), "neutral",
                       GestureSettings(seed=1, fps=30), model)
    skel = humanoid()
    gp, _ = forward_kinematics(skel, q, root)
    ix = {n: i for i, n in enumerate(skel.names)}
    wrists = gp[:, [ix["LeftHand"], ix["RightHand"]], 1].max(axis=1)
    assert np.all(wrists < gp[:, ix["Hips"], 1]), (wrists - gp[:, 0, 1]).max()
    for side in ("Left", "Right"):
        u = gp[:, ix[f"{side}UpperLeg"]] - gp[:, ix[f"{side}LowerLeg"]]
        v = gp[:, ix[f"{side}Foot"]] - gp[:, ix[f"{side}LowerLeg"]]
        bend = 180 - np.degrees(np.arccos(np.sum(u * v, -1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)))
        assert bend.max() < 10.0, bend.max()


def _knee_bends(skel, q, root):
    gp, _ = forward_kinematics(skel, q, root)
    ix = {n: i for i, n in enumerate(skel.names)}
    out = []
    for side in ("Left", "Right"):
        u = gp[:, ix[f"{side}UpperLeg"]] - gp[:, ix[f"{side}LowerLeg"]]
        v = gp[:, ix[f"{side}Foot"]] - gp[:, ix[f"{side}LowerLeg"]]
        c = np.sum(u * v, -1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
        out.append(180 - np.degrees(np.arccos(np.clip(c, -1, 1))))
    return np.stack(out), gp


@pytest.mark.parametrize("roll", [0.0, 0.01])
def test_settle_hips_keeps_knees_nearly_straight(roll):
    skel = humanoid(fingers=False)
    n = 20
    q = np.tile([0, 0, 0, 1.0], (n, len(skel.names), 1))
    q[:, 0] = R.axis_angle_quat([0, 0, 1], np.linspace(-roll, roll, n))  # hips roll (weight shift)
    root = np.tile(skel.offsets[0], (n, 1))
    root[:, 0] += np.linspace(-0.02, 0.02, n)
    root[:, 1] -= 0.05  # a crouch the model might produce
    root = settle_hips(skel, q, root, knee_deg=5.0)
    q = solve_legs(skel, q, root)
    bends, gp = _knee_bends(skel, q, root)
    if roll == 0.0:  # the more bent leg gets exactly the target
        np.testing.assert_allclose(bends.max(axis=0), 5.0, atol=0.05)
    else:  # a rolled pelvis with planted feet needs one knee to give a little more, never crouched
        assert bends.max() < 10.0 and bends.min() >= 0.0, bends
    np.testing.assert_allclose(gp[:, skel.names.index("LeftFoot")], np.tile(rest_ankles(skel)[0], (n, 1)), atol=1e-6)


def test_fingers_relaxed_and_moving(speech, model):
    q, _ = generate(speech[: 16000 * 3], "neutral", GestureSettings(seed=0, fps=30), model)
    skel = humanoid()
    i = skel.names.index("RightMiddleProximal")
    curl = np.degrees(2 * np.arccos(np.clip(np.abs(q[:, i, 3]), 0, 1)))
    assert 5 < curl.mean() < 40 and np.ptp(curl) > 0.5  # curled, relaxed, not frozen
    q2, _ = generate(speech[: 16000 * 3], "neutral", GestureSettings(seed=0, fps=30, fingers=False), model)
    assert q2.shape[1] == 22
    np.testing.assert_allclose(np.abs(np.sum(q2 * q[:, :22], -1)), 1.0, atol=1e-9)


def test_emotion_timeline_callable(speech, model):
    def emo(t):
        return "sad" if t < 1.5 else "angry:0.9"
    q, _ = generate(speech[:16000 * 3], emo, GestureSettings(fps=30), model)
    assert q.shape[0] == n_frames_for(3.0, 30)


# ------------------------------------------------------------------ bad inputs
def test_silence_and_very_short_audio(model):
    q, root = generate(np.zeros(16000 * 2, np.float32), "neutral", GestureSettings(fps=30), model)
    assert np.all(np.isfinite(q)) and q.shape[0] == n_frames_for(2.0, 30)
    skel = humanoid()
    gp, _ = forward_kinematics(skel, q, root)
    ank = gp[:, skel.names.index("LeftFoot")]
    assert np.ptp(ank[:, [0, 2]], axis=0).max() < 1e-3  # feet planted even in silence
    q, _ = generate(np.ones(160, np.float32) * 0.01, None, GestureSettings(fps=60), model)
    assert q.shape[0] == n_frames_for(0.01, 60) == 2


@pytest.mark.parametrize("kw", [dict(guidance=100.0), dict(guidance=float("nan")), dict(guidance=-1.0),
                                dict(gesture_scale=-0.5), dict(gesture_scale=99.0), dict(steps=0),
                                dict(fps=17), dict(interpolation="euler"), dict(eta=2.0),
                                dict(audio_guidance=-1.0), dict(spacing="cosine"), dict(smooth=5)])
def test_absurd_settings_raise(kw, model):
    with pytest.raises(InputError):
        generate(np.zeros(16000, np.float32), "neutral", GestureSettings(**kw), model)


@pytest.mark.parametrize("emo", ["furious", "happy:2", "happy:x", {"valence": 3, "arousal": 0}, 42])
def test_unknown_emotion_raises(emo):
    with pytest.raises(InputError):
        emotion_vector(emo)


def test_empty_or_nan_audio_raises(model):
    with pytest.raises(InputError):
        generate(np.zeros(0, np.float32), "neutral", GestureSettings(), model)
    with pytest.raises(InputError):
        generate(np.full(1600, np.nan, np.float32), "neutral", GestureSettings(), model)


def test_audio_features_stream_matches_whole(speech):
    whole = audio_features(speech)
    s = 40  # frames: a slice with 2 frames of left context gives the same numbers
    seg = speech[(s - 2) * 800:(s + 42) * 800]
    part = audio_features(seg, 42)[2:]
    np.testing.assert_allclose(part[:38], whole[s:s + 38], atol=1e-4)


def test_gesture_scale_changes_amplitude(speech, model):
    x = speech[: 16000 * 3]
    q1, _ = generate(x, "angry", GestureSettings(seed=0, gesture_scale=1.0, fps=30), model)
    q0, _ = generate(x, "angry", GestureSettings(seed=0, gesture_scale=0.0, fps=30), model)
    i = humanoid().names.index("RightLowerArm")
    assert np.ptp(q0[:, i], axis=0).max() < 1e-6 < np.ptp(q1[:, i], axis=0).max()


# ------------------------------------------------------------------ pipeline / CLI
def test_cli_bake_body_bvh_and_json(tmp_path):
    import bvh

    from emoanim_server.cli import main

    import soundfile as sf

    wav = str(tmp_path / "short.wav")
    sf.write(wav, load_audio(WAV).samples[: 16000 * 2], 16000)
    out = tmp_path / "line.bvh"
    assert main(["bake", wav, "--body", "-o", str(out), "--fps", "30", "--seed", "2", "--guidance", "3",
                 "--gesture-scale", "1.2", "-q"]) == 0
    m = bvh.Bvh(out.read_text())
    dur = load_audio(wav).duration
    assert m.nframes == n_frames_for(dur, 30)
    assert m.frame_time == pytest.approx(1 / 30, abs=1e-7)
    js = tmp_path / "line.json"
    assert main(["bake", wav, "--body", "-o", str(js), "--fps", "30", "-q"]) == 0
    assert "skeleton" in js.read_text() or "joint" in js.read_text()
    assert main(["bake", wav, "--body", "-o", str(tmp_path / "bad.bvh"), "--guidance", "1e9", "-q"]) == 3
    assert not (tmp_path / "bad.bvh").exists()
    assert main(["bake", wav, "--body", "-o", str(tmp_path / "bad2.bvh"), "--beat-warp", "2", "-q"]) == 3
    assert main(["bake", wav, "--body", "-o", str(js), "--fps", "30", "--beat-warp", "0", "-q"]) == 0
    assert json.loads(js.read_text())["metadata"]["body"]["beat_warp"] == 0.0


def test_cli_audio_guidance_default_is_the_samplers():
    from emoanim_server.gesture import cli as gcli

    assert gcli.AUDIO_GUIDANCE_DEFAULT == GestureSettings().audio_guidance
    assert gcli.GESTURE_STEPS_DEFAULT == GestureSettings().steps
    assert gcli.BEAT_WARP_DEFAULT == GestureSettings().beat_warp


def _wrist_speed(q, root, fps):
    skel = humanoid()
    gp, _ = forward_kinematics(skel, q, root)
    ix = {n: i for i, n in enumerate(skel.names)}
    w = gp[:, [ix["LeftHand"], ix["RightHand"]]]
    return np.linalg.norm(np.diff(w, axis=0), axis=2).sum(axis=1) * fps


def test_pause_settle_holds_still_in_a_pause(speech, model):
    """Speech, a short pause, speech: with the pause settle the hands hold still in the pause
    (the model alone retracts and comes back up), the speech keeps its motion, and the hold
    comes and goes without a pop."""
    rng = np.random.default_rng(2)
    gap = (1e-4 * rng.standard_normal(int(0.5 * 16000))).astype(np.float32)
    x = np.concatenate([speech[:16000 * 2], gap, speech[16000 * 2:16000 * 4]])
    fps = 30
    st = GestureStream("angry", GestureSettings(seed=1, fps=fps), model)
    blocks = st.push(x) + st.finish()
    on = np.concatenate([b.rotations for b in blocks])
    ron = np.concatenate([b.root_positions for b in blocks])
    off, roff = generate(x, "angry", GestureSettings(seed=1, fps=fps, pause_hold=0.0), model)
    voice = st.cond.voice
    # the pause: the voice track's longest run of silence after the first second
    quiet = np.flatnonzero(voice[MODEL_FPS:] < 0.5) + MODEL_FPS
    runs = np.split(quiet, np.flatnonzero(np.diff(quiet) > 1) + 1)
    run = max(runs, key=len)
    assert 0.4 <= len(run) / MODEL_FPS <= 1.2, len(run)
    t = np.arange(len(on) - 1) / fps
    pause = (t > run[0] / MODEL_FPS + 0.15) & (t < run[-1] / MODEL_FPS - 0.2)  # the low-pass spreads the ends
    s_on, s_off = _wrist_speed(on, ron, fps), _wrist_speed(off, roff, fps)
    assert s_on[pause].mean() < 0.3 * s_off[pause].mean(), (s_on[pause].mean(), s_off[pause].mean())
    assert s_on[pause].mean() < 0.05  # m/s, both wrists: still, only breathing
    tv = np.clip(np.round(t * MODEL_FPS).astype(int), 0, len(voice) - 1)
    talking = voice[tv] > 0.5  # the speech keeps its motion
    assert s_on[talking].mean() > 0.6 * s_off[talking].mean(), (s_on[talking].mean(), s_off[talking].mean())
    assert _angles(on).max() <= max(1.5 * _angles(off).max(), 0.02)  # no pops at the hold's ends


def test_beat_hold_streams_like_the_bake_and_slows_the_apexes(speech, model):
    """The optional beat hold reads only final frames and final syllable events: a stream gives
    the bake's frames; and the wrists move slower at the chosen apexes than without it."""
    x = speech[: 16000 * 3]
    st = GestureSettings(seed=2, fps=30, beat_hold=0.8)
    q_off, r_off = generate(x, "happy", st, model)
    s = GestureStream("happy", GestureSettings(seed=2, fps=30, beat_hold=0.8), model)
    blocks = []
    for i in range(0, len(x), 1100):
        blocks += s.push(x[i:i + 1100])
    blocks += s.finish()
    q = np.concatenate([b.rotations for b in blocks])
    np.testing.assert_allclose(np.abs(np.sum(q * q_off, axis=-1)), 1.0, atol=1e-9)
    assert s._apexes and np.all(np.diff(s._apexes) >= 0.3 - 1e-9)
    q0, r0 = generate(x, "happy", GestureSettings(seed=2, fps=30), model)
    at = np.clip(np.round(np.asarray(s._apexes) * 30).astype(int), 0, len(q) - 2)
    assert _wrist_speed(q_off, r_off, 30)[at].mean() < _wrist_speed(q0, r0, 30)[at].mean()


def _final_silence_rest(q, root, voice, fps, after_s):
    """(wrist height over the hips, m) per output frame >= after_s after the last voiced model frame."""
    skel = humanoid()
    gp, _ = forward_kinematics(skel, q, root)
    ix = {n: i for i, n in enumerate(skel.names)}
    last = np.flatnonzero(np.asarray(voice) > 0.5)[-1] / MODEL_FPS
    t = np.arange(len(q)) / fps
    return (gp[:, [ix["LeftHand"], ix["RightHand"]], 1].max(axis=1) - gp[:, ix["Hips"], 1])[t >= last + after_s]


def test_arms_hang_in_the_final_silence_of_real_speech(speech, model, monkeypatch):
    """Issue 15: when the voice has stopped and the pause hold has let go, the arms reach rest:
    forward kinematics of the final silence of real-speech bakes puts both wrists below the hips
    2 s after the last voiced frame: the pause hold keeps the last gesture pose, raised here, and
    the sampler's rest retraction (towards REST_ARMS, from real idle capture) brings the arms
    down; without it the wrists stay above the hips. Streams like the bake."""
    from emoanim_server.gesture import sampler as S

    rng = np.random.default_rng(3)
    x = np.concatenate([speech[:16000 * 4], (1e-4 * rng.standard_normal(16000 * 3)).astype(np.float32)])

    def bake(emo, seed, chunk=None):
        st = GestureStream(emo, GestureSettings(seed=seed, fps=30), model)
        step = chunk or len(x)
        blocks = [b for i in range(0, len(x), step) for b in st.push(x[i:i + step])] + st.finish()
        q = np.concatenate([b.rotations for b in blocks])
        root = np.concatenate([b.root_positions for b in blocks])
        return q, _final_silence_rest(q, root, st.cond.voice, 30, 2.0), st

    for emo, seed in (("happy", 4), ("angry", 3), ("neutral", 0)):
        _, above, st = bake(emo, seed)
        assert len(above) >= 20 and above.max() < -0.02, (emo, seed, above.max())
        assert st._rest_on and 0 < st._rest_depth <= 1, (emo, seed)  # the held pose was raised
    q_off, _, _ = bake("happy", 4)
    q_str, _, _ = bake("happy", 4, chunk=1600)  # streamed in 100 ms chunks: the same frames
    np.testing.assert_allclose(np.abs(np.sum(q_str * q_off, axis=-1)), 1.0, atol=1e-9)
    monkeypatch.setattr(S, "REST_TRIGGER_M", 10.0)  # no retraction: the model keeps them raised
    assert bake("happy", 4)[1].max() > 0.0


def test_band_cache_equals_a_fresh_analysis_of_each_slice(speech):
    """The conditioner filters its stream once (timing.BandCache) instead of every 2 s slice: the
    slices' nuclei-band energies equal prosody's own analysis of the slice (zeros after the
    known audio) except the filter's start transient, and so do the syllable nuclei."""
    from emoanim_server.audio import prosody as P
    from emoanim_server.gesture.timing import HOP, BandCache

    c = BandCache(P.BANDS[:1])
    for n in (16000, 2 * 16000 + 37, 3 * 16000 + 500, 5 * 16000 + 1, len(speech)):
        lo = max(0, n - 2 * 16000) // HOP * HOP
        seg = speech[lo:n]
        nh = len(P.frame_db(seg, P.HOP_S))
        ref = P._band_db(seg, *P.BANDS[0], P.HOP_S, nh)
        (got,) = c.get(speech, n, lo // HOP, nh)
        assert got.shape == ref.shape
        np.testing.assert_allclose(got[5:], ref[5:], atol=1e-6)  # past the start transient
        pr_ref = P.analyse(seg)
        pr = P.analyse(seg, bands=(got, None, None))
        # (a fresh filter's start transient can make a spurious nucleus in the slice's first 0.1 s;
        # the conditioner only takes events past its horizon, long after the slice start)
        np.testing.assert_allclose(pr.nuclei[pr.nuclei > 0.1], pr_ref.nuclei[pr_ref.nuclei > 0.1])
        assert not pr.tilt_db.any()


def test_beat_warp_streams_like_the_bake_and_slows_at_the_apexes(speech, model):
    """The beat warp retimes the output from final syllable apexes only: a stream in odd chunks
    gives the bake's frames; the wrists are slower at the apexes than without the warp, and the
    path is kept (the warp only moves frames in time: poses stay close to the unwarped ones)."""
    x = speech[: 16000 * 4]
    q_off, r_off = generate(x, "happy", GestureSettings(seed=3, fps=30, beat_warp=0.8), model)
    s = GestureStream("happy", GestureSettings(seed=3, fps=30, beat_warp=0.8), model)
    blocks = []
    for i in range(0, len(x), 1300):
        blocks += s.push(x[i:i + 1300])
    blocks += s.finish()
    q = np.concatenate([b.rotations for b in blocks])
    np.testing.assert_allclose(np.abs(np.sum(q * q_off, axis=-1)), 1.0, atol=1e-9)
    q0, r0 = generate(x, "happy", GestureSettings(seed=3, fps=30, beat_warp=0.0), model)
    at = np.clip(np.round(np.asarray(s._apexes) * 30).astype(int), 0, len(q) - 2)
    assert len(at) >= 5
    v_warp, v0 = _wrist_speed(q_off, r_off, 30)[at].mean(), _wrist_speed(q0, r0, 30)[at].mean()
    assert v_warp < 0.6 * v0, (v_warp, v0)
    # no pops: a frame step grows at most by the warp's catch-up rate, 1 + 0.45 w per apex (two
    # neighbouring apexes' lobes can add)
    assert _angles(q_off).max() <= max((1 + 2 * 0.45 * 0.8) * _angles(q0).max(), 0.02)
    assert stream_lookahead_s(model, GestureSettings(beat_warp=0.8)) > stream_lookahead_s(model, GestureSettings(beat_warp=0.0))

"""Procedural co-speech gesture generator: the commercially clean training corpus for the
default gesture model (no co-speech mocap corpus allows commercial use).

Grounded in gesture research, kept deliberately simple and documented (docs/gesture.md):
- Beat gestures (McNeill 1992; Pouw et al. 2020: gesture apexes lock to F0/amplitude peaks,
  Leonard & Cummins 2011: beat apex within ~0.1 s of the stressed syllable): each prominent
  acoustic onset during speech triggers a biphasic beat: preparation (hand rises), a fast
  stroke ending on the onset (velocity minimum = kinematic beat), then retraction/hold.
- Gesture space: while speaking the hands rise into the gesture space in front of the torso
  and relax to the sides after pauses (Kendon's gesture units / rest positions).
- Emotion (Wallbott 1998, Dael et al. 2012): arousal scales amplitude and tempo (more and
  faster strokes), sadness = collapsed posture (spine flexed, head down, arms close, small and
  slow), anger = forward lean, raised shoulders, wide and sharp, happiness = upright chest,
  head up, expansive; fear = raised shoulders, arms close; etc. (POSTURE table).
- Idle: breathing (chest, 0.25-0.35 Hz), slow weight shifts (hips sway, knees soften), gaze
  drift; optionally real standing-idle micro-motion of spine/neck/head taken from ReActIdle
  (MIT) mocap, retargeted onto our skeleton.
- Legs: two-bone IK keeps both feet planted (standing speaker), exactly as the runtime does.
"""
from __future__ import annotations

import glob
import os
import sys

import numpy as np
from scipy.signal import find_peaks

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from emoanim_server.audio.features import frame_rms, log_mel  # noqa: E402
from emoanim_server.gesture import rotations as R  # noqa: E402
from emoanim_server.gesture.features import CATEGORIES, MODEL_FPS  # noqa: E402
from emoanim_server.gesture.skeleton import humanoid, solve_legs  # noqa: E402

#: per category posture offsets (degrees): spine flex (+ forward), head pitch (+ down), shoulder
#: elevation, arm abduction, elbow bend, head roll
POSTURE = {
    "neutral": (0, 0, 0, 0, 0, 0), "happy": (-4, -6, 0, 7, 5, 0), "sad": (12, 15, -4, -5, -5, 0),
    "angry": (6, 4, 8, 8, 15, 0), "fearful": (6, 4, 10, 2, 20, 0), "disgusted": (-3, -2, 3, 0, 10, 3),
    "surprised": (-5, -6, 6, 8, 10, 0), "contempt": (-2, -7, 0, 0, 0, 6),
}

IDLE_JOINTS = ("Spine", "Chest", "UpperChest", "Neck", "Head", "LeftShoulder", "RightShoulder")


def _smooth_noise(rng, n, fps, freqs=(0.07, 0.13, 0.21), amp=1.0):
    t = np.arange(n) / fps
    out = np.zeros(n)
    for f in freqs:
        f = f * rng.uniform(0.7, 1.3)
        out += np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) / len(freqs)
    return amp * out * np.sqrt(2)


def _smoothstep(u):
    u = np.clip(u, 0, 1)
    return u * u * (3 - 2 * u)


def beat_kernel(tau, stroke, prep=0.22, hold=0.15, ret=0.9):
    """Beat gesture profile (position, unitless): a small preparation 0 -> +0.15, a fast stroke
    +0.15 -> -0.8 ending exactly on the beat (tau = 0), a post-stroke hold, then a slow
    retraction to 0. The hold makes the stroke end a clear kinematic beat (speed minimum right
    after the fastest movement), as in motion-capture beat gestures."""
    k = np.zeros_like(tau)
    a = (tau >= -stroke - prep) & (tau < -stroke)
    k[a] = 0.15 * _smoothstep((tau[a] + stroke + prep) / prep)
    b = (tau >= -stroke) & (tau < 0)
    u = (tau[b] + stroke) / stroke
    k[b] = 0.15 - 0.95 * _smoothstep(u)
    c = (tau >= 0) & (tau < hold)
    k[c] = -0.8
    d = (tau >= hold) & (tau < hold + ret)
    k[d] = -0.8 * (1 - _smoothstep((tau[d] - hold) / ret))
    return k


def analyse(samples: np.ndarray):
    """-> (onset strength at 100 Hz, speech activity 0/1 at 100 Hz, dB at 100 Hz)."""
    mel = log_mel(samples)
    db = 20 * np.log10(frame_rms(samples) + 1e-7)[: len(mel)]
    flux = np.zeros(len(mel))
    flux[1:] = np.maximum(mel[1:] - mel[:-1], 0).mean(axis=1)
    flux = np.convolve(np.pad(flux, 1, mode="edge"), np.ones(3) / 3, mode="valid")
    thr = max(np.percentile(db, 10) + 12, db.max() - 40, -60)
    act = (db > thr).astype(float)
    return flux, act, db


def find_beats(flux, act, min_interval, rng):
    active = act > 0
    if not active.any():
        return np.zeros(0), np.zeros(0)
    base = np.median(flux[active])
    spread = np.std(flux[active]) + 1e-6
    peaks, _ = find_peaks(flux, distance=max(1, int(min_interval * 100)), height=base + 0.1 * spread)
    peaks = peaks[active[peaks]]
    strength = np.clip(0.5 + 0.35 * (flux[peaks] - base) / spread, 0.4, 1.3)
    keep = rng.uniform(size=len(peaks)) < 0.9  # speakers skip some accents
    return peaks[keep] / 100.0, strength[keep]


def _rot(axis, deg):
    return R.axis_angle_quat(axis, np.radians(deg))


def synthesize(samples: np.ndarray, emo: np.ndarray, rng: np.random.Generator,
               idle: np.ndarray | None = None, skel=None):
    """16 kHz speech + 12-d emotion vector -> (rotations (N, J, 4), root (N, 3), beat times)
    at MODEL_FPS. ``idle``: optional (M, len(IDLE_JOINTS), 4) real idle deviations at MODEL_FPS."""
    skel = skel or humanoid()
    fps = MODEL_FPS
    n = max(2, int(np.ceil(len(samples) / 16000 * fps)))
    t = np.arange(n) / fps
    J = len(skel.names)
    ix = {nm: i for i, nm in enumerate(skel.names)}
    cat = emo[:8]
    v, a, d = emo[8:11]
    amp = float(np.clip(0.6 + 0.5 * a + 0.1 * d, 0.2, 1.25)) * rng.uniform(0.85, 1.15)
    min_interval = float(0.4 - 0.12 * a) * rng.uniform(0.9, 1.1)
    stroke = float(0.17 - 0.05 * a)
    post = sum(cat[i] * np.array(POSTURE[c], float) for i, c in enumerate(CATEGORIES))
    spine_flex, head_pitch, sh_raise, arm_abd, elbow_b, head_roll = post

    flux, act, _ = analyse(samples)
    beats, strength = find_beats(flux, act, min_interval, rng)
    # speech activity at model rate, smoothed (fast attack, slow release) -> gesture-space envelope
    act20 = np.array([act[int(i * 100 / fps): int(i * 100 / fps) + 5].mean() if int(i * 100 / fps) < len(act) else 0
                      for i in range(n)])
    # phrase level: speaking = voice in the surrounding ~0.55 s (syllable gaps do not drop the hands)
    speaking = (np.convolve(np.pad(act20, 5, mode="edge"), np.ones(11) / 11, mode="valid") > 0.25).astype(float)
    env = np.zeros(n)
    for i in range(n):
        prev = env[i - 1] if i else 0.0
        target = speaking[i]
        rate = 0.12 if target > prev else 0.035
        env[i] = prev + rate * (target - prev)
    env = np.convolve(np.pad(env, 2, mode="edge"), np.ones(5) / 5, mode="valid")

    dom = "Right" if rng.uniform() < 0.7 else "Left"
    other = "Left" if dom == "Right" else "Right"
    both_p = 0.15 + 0.3 * max(a, 0)
    beat_k = {"Left": np.zeros(n), "Right": np.zeros(n)}
    nod = np.zeros(n)
    for tb, sb in zip(beats, strength):
        ab = amp * sb * rng.uniform(0.8, 1.2)
        # the stroke ends 50 ms before the acoustic onset so the post-stroke hold (the kinematic
        # beat) is centred on it (apex slightly leads the stressed syllable: Leonard & Cummins 2011)
        k = beat_kernel(t - tb + 0.04, stroke * rng.uniform(0.85, 1.15))
        r = rng.uniform()
        hands = [dom, other] if r < both_p else ([dom] if r < both_p + (1 - both_p) * 0.8 else [other])
        for h in hands:
            beat_k[h] += ab * k
        if sb > 0.8:
            nod += ab * 0.6 * k
    engage = {dom: 1.0, other: 0.55 + 0.4 * max(a, 0)}

    q = np.tile([0, 0, 0, 1.0], (n, J, 1))

    def apply(name, quat):
        q[:, ix[name]] = R.quat_mul(q[:, ix[name]], quat)

    # spine: posture + breathing + beat accompaniment + idle noise
    breath = 0.9 * np.sin(2 * np.pi * (0.25 + 0.1 * max(a, 0)) * t + rng.uniform(0, 6.3))
    for j, share in (("Spine", 0.4), ("Chest", 0.35), ("UpperChest", 0.25)):
        flex = spine_flex * share + (breath if j == "UpperChest" else 0) - 1.5 * share * (beat_k[dom] * 0.5)
        apply(j, _rot([1, 0, 0], flex + _smooth_noise(rng, n, fps, amp=0.8)))
        apply(j, _rot([0, 1, 0], _smooth_noise(rng, n, fps, amp=2.0) * share + (3 if dom == "Right" else -3) * share * env * amp))
    gaze_yaw = _smooth_noise(rng, n, fps, freqs=(0.05, 0.11, 0.17), amp=6.0)
    apply("Neck", _rot([1, 0, 0], head_pitch * 0.4))
    apply("Head", _rot([1, 0, 0], head_pitch * 0.6 - 4.0 * nod + _smooth_noise(rng, n, fps, amp=1.5)))
    apply("Head", _rot([0, 1, 0], gaze_yaw))
    apply("Head", _rot([0, 0, 1], head_roll + _smooth_noise(rng, n, fps, amp=1.5)))

    for side in ("Left", "Right"):
        s = 1.0 if side == "Left" else -1.0
        e = env * engage[side]
        bk = beat_k[side]
        abd = 8 + arm_abd + e * (8 + 6 * amp) + 3 * bk + _smooth_noise(rng, n, fps, amp=1.0)
        flex = 8 + e * (18 + 14 * amp) + 7 * bk + _smooth_noise(rng, n, fps, amp=1.5)
        elbow = 12 + elbow_b + e * (40 + 30 * amp) + 20 * bk + _smooth_noise(rng, n, fps, amp=2.0)
        wrist = 10 * bk + 4 * e
        twist = -35 * e + 5 * bk
        apply(f"{side}Shoulder", _rot([0, 0, 1], s * (sh_raise + 2 * np.clip(bk, 0, None))))
        q[:, ix[f"{side}UpperArm"]] = R.quat_mul(_rot([1, 0, 0], -flex), _rot([0, 0, 1], -s * (90 - abd)))
        q[:, ix[f"{side}LowerArm"]] = R.quat_mul(_rot([0, 1, 0], -s * np.clip(elbow, 0, 150)), _rot([1, 0, 0], s * twist))
        q[:, ix[f"{side}Hand"]] = _rot([0, 0, 1], -s * wrist)

    if idle is not None and len(idle) >= 2:
        m = len(idle)
        start = int(rng.integers(0, max(1, m - n)))
        seg = idle[start:start + n]
        if len(seg) < n:
            seg = np.concatenate([seg, np.repeat(seg[-1:], n - len(seg), 0)])
        for k, j in enumerate(IDLE_JOINTS):
            q[:, ix[j]] = R.quat_mul(seg[:, k], q[:, ix[j]])

    # hips: weight shifts, knees soften, hips roll/yaw with the shift
    shift = _smooth_noise(rng, n, fps, freqs=(0.04, 0.09, 0.15), amp=0.018 * (0.7 + 0.5 * amp))
    root = np.tile(skel.offsets[0], (n, 1)).astype(float)
    root[:, 0] += shift
    root[:, 2] += _smooth_noise(rng, n, fps, amp=0.006) + 0.01 * np.sin(np.radians(spine_flex))
    root[:, 1] += -0.012 - 0.25 * np.abs(shift) - 0.002 * (1 + np.sin(2 * np.pi * 0.3 * t))
    hips = R.quat_mul(_rot([0, 1, 0], _smooth_noise(rng, n, fps, amp=2.5)), _rot([0, 0, 1], -shift * 120))
    q[:, ix["Hips"]] = hips
    q = solve_legs(skel, q, root)
    return R.continuity(q), root, beats


def load_idle_bank(folder: str, cache: str | None = None) -> list[np.ndarray]:
    """ReActIdle clips -> per clip (M, len(IDLE_JOINTS), 4) deviations from the clip's mean pose
    at MODEL_FPS (real breathing, sway and head motion, posture removed)."""
    if cache and os.path.exists(cache):
        z = np.load(cache)
        return [z[k] for k in sorted(z.files)]
    from emoanim_server.export.bvh import read_bvh
    from emoanim_server.gesture.retarget import retarget

    skel = humanoid()
    bank = []
    for f in sorted(glob.glob(os.path.join(folder, "**", "*.bvh"), recursive=True)):
        clip = read_bvh(f)
        q, root = retarget(clip.skeleton, clip.rotations, clip.root_positions, skel)
        src_fps = 1.0 / clip.frame_time
        m = int(len(q) / src_fps * MODEL_FPS)
        q = R.resample(q, src_fps, m, MODEL_FPS, rotations=True)
        sel = q[:, [skel.names.index(j) for j in IDLE_JOINTS]]
        mean = R.normalize(R.continuity(sel).mean(axis=0))
        dev = R.quat_mul(R.quat_conj(mean)[None], sel)
        # damp to 70%: the performers' idle includes looking around; keep it subtle under speech
        bank.append(R.continuity(R.quat_pow(dev, 0.7)).astype(np.float32))
    if cache:
        np.savez(cache, **{f"c{i:03d}": b for i, b in enumerate(bank)})
    return bank

"""Procedural co-speech gestures over real idle motion capture: the commercially clean training
corpus of the default gesture model (no co-speech mocap corpus allows commercial use).

Layers (docs/gesture.md, "Training data"):
- Rest and idle = real motion capture: ReActIdle (MIT), retargeted onto the humanoid. Torso,
  neck, head, shoulders and hips come from any clip; the arms from the clips where the
  performer lets the arms hang (wrists below the hips), so a silent character stands like a
  person does, not in a T-pose or with forearms held out.
- Timing from the speech (gesture/timing.py, the same syllable events the runtime conditioner
  sees): stroke apexes on emphasised syllables (always) and on other syllable nuclei (more
  often with arousal), no closer than a minimum interval; gesture units follow the speech
  phrases (Kendon 1980: preparation -> strokes -> retraction to rest in pauses).
- Kinematics: every movement is a minimum-jerk segment between via points (Flash & Hogan
  1985), the profile of human point-to-point reaching: preparation (hand rises and draws back),
  stroke (fast, ends on the apex = syllable), post-stroke hold, recovery into the next
  preparation or, at the end of the unit, a slow retraction to the rest pose. The forward
  component of the stroke moves through the preparation's turning point, so the apex is the
  clear speed minimum (the kinematic beat), not the top of the preparation.
- Emotion (Wallbott 1998; Dael et al. 2012): arousal scales amplitude, stroke rate and stroke
  speed; posture per category (POSTURE); sadness keeps the hands low and small.
- Legs: hips height for nearly straight knees and two-bone IK with planted feet, exactly what
  the runtime does (skeleton.settle_hips, solve_legs).
"""
from __future__ import annotations

import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from emoanim_server.audio import prosody  # noqa: E402
from emoanim_server.gesture import rotations as R  # noqa: E402
from emoanim_server.gesture.features import CATEGORIES, MODEL_FPS  # noqa: E402
from emoanim_server.gesture.skeleton import forward_kinematics, humanoid, settle_hips, solve_legs  # noqa: E402
from emoanim_server.gesture.timing import SyllableEvents, stroke_apexes  # noqa: E402

#: per category posture offsets (degrees): spine flex (+ forward), head pitch (+ down), shoulder
#: elevation, arm abduction, elbow bend, head roll
POSTURE = {
    "neutral": (0, 0, 0, 0, 0, 0), "happy": (-4, -6, 0, 7, 5, 0), "sad": (10, 14, -3, -4, -8, 0),
    "angry": (6, 4, 7, 8, 12, 0), "fearful": (6, 4, 9, 2, 18, 0), "disgusted": (-3, -2, 3, 0, 8, 3),
    "surprised": (-5, -6, 6, 8, 10, 0), "contempt": (-2, -7, 0, 0, 0, 6),
}
HOLD_PAUSE_S = 2.4  # pauses shorter than this keep the hands in gesture space (held still)
TORSO_IDLE_GAIN = 0.7  # as in the first model: keep the performers' looking-around subtle under speech
ARM_IDLE_GAIN = 0.5  # captured idle arm motion around its mean pose, damped (hands at rest stay calm)
RETRACT_S = 1.1  # retraction to rest after a gesture unit (slow: the hands "fall" back)
TORSO = ("Hips", "Spine", "Chest", "UpperChest", "Neck", "Head", "LeftShoulder", "RightShoulder")
ARMS = ("LeftUpperArm", "LeftLowerArm", "LeftHand", "RightUpperArm", "RightLowerArm", "RightHand")


def minjerk(u: np.ndarray) -> np.ndarray:
    """Minimum-jerk position profile 0 -> 1 (Flash & Hogan 1985): 10u^3 - 15u^4 + 6u^5."""
    u = np.clip(u, 0.0, 1.0)
    return u * u * u * (10 - 15 * u + 6 * u * u)


def via(t: np.ndarray, points: list[tuple[float, float]], start: float = 0.0) -> np.ndarray:
    """Piecewise minimum-jerk curve through (time, value) via points (zero velocity and
    acceleration at each); holds the first/last value outside them."""
    out = np.full_like(t, start, dtype=np.float64)
    if not points:
        return out
    pts = sorted(points)
    out[t >= pts[0][0]] = pts[0][1]
    for (t0, v0), (t1, v1) in zip(pts[:-1], pts[1:]):
        if t1 <= t0:
            continue
        m = (t >= t0) & (t <= t1)
        out[m] = v0 + (v1 - v0) * minjerk((t[m] - t0) / (t1 - t0))
    out[t > pts[-1][0]] = pts[-1][1]
    return out


def _rot(axis, deg):
    return R.axis_angle_quat(axis, np.radians(deg))


def _smooth_noise(rng, n, fps, freqs=(0.07, 0.13, 0.21), amp=1.0):
    t = np.arange(n) / fps
    out = np.zeros(n)
    for f in freqs:
        out += np.sin(2 * np.pi * f * rng.uniform(0.7, 1.3) * t + rng.uniform(0, 2 * np.pi)) / len(freqs)
    return amp * out * np.sqrt(2)


def arm_pose(side: str, flex, abd, elbow, twist, wrist) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Joint angles (degrees, arrays) -> local quats of upper arm, forearm, hand. flex = upper arm
    forward, abd = away from the body (0 = hanging), elbow = flexion, twist = forearm pronation."""
    s = 1.0 if side == "Left" else -1.0
    up = R.quat_mul(_rot([1, 0, 0], -flex), _rot([0, 0, 1], -s * (90 - abd)))
    lo = R.quat_mul(_rot([0, 1, 0], -s * np.clip(elbow, 0, 150)), _rot([1, 0, 0], s * twist))
    return up, lo, _rot([0, 0, 1], -s * wrist)


# ------------------------------------------------------------------ real idle motion
def load_idle_library(folder: str, cache: str | None = None) -> dict:
    """ReActIdle clips retargeted onto the humanoid at MODEL_FPS: {"clips": [(q (M, J, 4),
    root (M, 3))], "hanging": [indices of clips whose wrists stay below the hips >= 90 % of the
    time]}. The arms of a silent speaker come from the hanging clips only."""
    if cache and os.path.exists(cache):
        z = np.load(cache)
        k = sorted({f.split("_")[0] for f in z.files if f.startswith("q")})
        clips = [(z[f"q{i:03d}_"], z[f"r{i:03d}_"]) for i in range(len(k))]
        return {"clips": clips, "hanging": z["hanging"].tolist(), "names": z["names"].tolist()}
    from emoanim_server.export.bvh import read_bvh
    from emoanim_server.gesture.retarget import retarget

    skel = humanoid(fingers=False)
    ix = {n: i for i, n in enumerate(skel.names)}
    clips, hanging, names = [], [], []
    for f in sorted(glob.glob(os.path.join(folder, "**", "*.bvh"), recursive=True)):
        clip = read_bvh(f)
        q, root = retarget(clip.skeleton, clip.rotations, clip.root_positions, skel)
        src_fps = 1.0 / clip.frame_time
        m = int(len(q) / src_fps * MODEL_FPS)
        q = R.resample(q, src_fps, m, MODEL_FPS, rotations=True)
        root = R.resample(root, src_fps, m, MODEL_FPS, rotations=False)
        gp, _ = forward_kinematics(skel, q, root)
        below = np.mean(gp[:, [ix["LeftHand"], ix["RightHand"]], 1].max(axis=1) < gp[:, 0, 1])
        if below >= 0.9:
            hanging.append(len(clips))
        clips.append((R.continuity(q).astype(np.float32), root.astype(np.float32)))
        names.append(os.path.relpath(f, folder))
    if cache:
        d = {f"q{i:03d}_": c[0] for i, c in enumerate(clips)}
        d.update({f"r{i:03d}_": c[1] for i, c in enumerate(clips)})
        np.savez(cache, hanging=np.array(hanging), names=np.array(names), **d)
    return {"clips": clips, "hanging": hanging, "names": names}


def _segment(clip, n, rng):
    q, root = clip
    m = len(q)
    s = int(rng.integers(0, max(1, m - n)))
    q, root = q[s:s + n], root[s:s + n]
    if len(q) < n:
        q = np.concatenate([q, np.repeat(q[-1:], n - len(q), 0)])
        root = np.concatenate([root, np.repeat(root[-1:], n - len(root), 0)])
    return np.asarray(q, np.float64), np.asarray(root, np.float64)


# ------------------------------------------------------------------ gesture planning
def plan_strokes(events: SyllableEvents, a: float, rng) -> list[tuple[float, float]]:
    """Stroke apexes (time, strength): emphasised syllables first (p 0.95), then other syllable
    nuclei (p rising with arousal), never closer than the emotion's minimum interval."""
    nuc, emp, st = stroke_apexes(events)
    cands = [(float(t), float(s) + 1.0) for t, s in zip(emp, st) if rng.uniform() < 0.95]
    p_nuc = float(np.clip(0.6 + 0.4 * a, 0.15, 0.9))
    cands += [(float(t), 0.45) for t in nuc if np.all(np.abs(emp - t) > 0.12) and rng.uniform() < p_nuc]
    min_gap = float(0.45 - 0.15 * a) * rng.uniform(0.9, 1.1)
    kept: list[tuple[float, float]] = []
    for t, s in sorted(cands, key=lambda c: -c[1]):
        if all(abs(t - u) >= min_gap for u, _ in kept):
            kept.append((t, min(s, 2.0) / 2.0 if s > 1 else s))
    return sorted(kept)


def phrases(speech100: np.ndarray, gap_s: float = 0.5) -> list[tuple[float, float]]:
    """Speech runs (start, end) in s with pauses shorter than ``gap_s`` closed."""
    d = np.diff(np.concatenate([[0], speech100.astype(np.int8), [0]]))
    runs = [(s * 0.01, e * 0.01) for s, e in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1))]
    out: list[list[float]] = []
    for s, e in runs:
        if out and s - out[-1][1] < gap_s:
            out[-1][1] = e
        else:
            out.append([s, e])
    return [(s, e) for s, e in out]


def beat_channels(t, strokes, amps, T_p, T_s, T_h, T_r):
    """Vertical (V) and forward (F) beat channels of one hand from its strokes."""
    vv: list[tuple[float, float]] = []
    ff: list[tuple[float, float]] = []
    last = -1e9
    for k, (ta, A) in enumerate(zip(strokes, amps)):
        top = ta - T_s
        if top - last < 0.15:  # close to the previous stroke: recover straight into a shorter stroke
            top = last + 0.15
            if ta - top < 0.13:
                continue
        prep = top - T_p
        if prep > last + 0.05:
            vv.append((prep, 0.0))
            ff.append((prep, 0.0))
        elif not vv:
            vv.append((max(prep, t[0]), 0.0))
            ff.append((max(prep, t[0]), 0.0))
        vv.append((top, 0.45 * A))
        vv.append((ta, -A))
        ff.append((ta, A))
        # the post-stroke hold is the slow start of one minimum-jerk recovery segment (a separate
        # hold segment would add as much jerk as the stroke itself)
        nxt = strokes[k + 1] - T_s - T_p if k + 1 < len(strokes) else 1e9
        rec_end = ta + T_h + T_r
        if nxt > rec_end + 0.05:
            vv.append((rec_end, 0.0))
            ff.append((rec_end, 0.0))
            last = rec_end
        else:  # straight on into the next preparation (its slow start is the hold)
            last = ta + T_h
    return via(t, vv), via(t, ff)


def synthesize(samples: np.ndarray, emo: np.ndarray, rng: np.random.Generator, lib: dict | None,
               events: SyllableEvents, skel=None):
    """16 kHz speech + 12-d emotion vector + the utterance's final syllable events ->
    (rotations (N, J, 4), root (N, 3), stroke apex times) at MODEL_FPS, N = the runtime's frame
    count for this audio."""
    skel = skel or humanoid(fingers=False)
    fps = MODEL_FPS
    n = int(np.ceil(len(samples) / 16000 * fps - 1e-9)) + 1
    t = np.arange(n) / fps
    J = len(skel.names)
    ix = {nm: i for i, nm in enumerate(skel.names)}
    cat = emo[:8]
    v, a, d = (float(x) for x in emo[8:11])
    amp = float(np.clip(0.78 + 0.35 * a + 0.1 * d, 0.4, 1.2)) * rng.uniform(0.85, 1.15)
    T_s = float(0.27 - 0.06 * a) * rng.uniform(0.9, 1.1)
    T_p = float(0.3 - 0.05 * a)
    T_h = float(0.12 + 0.04 * rng.uniform())
    T_r = float(0.5 - 0.1 * a)
    post = sum(cat[i] * np.array(POSTURE[c], float) for i, c in enumerate(CATEGORIES))
    spine_flex, head_pitch, sh_raise, arm_abd, elbow_b, head_roll = post

    pr = prosody.analyse(samples)
    units = phrases(pr.speech)
    strokes = plan_strokes(events, a, rng)
    strokes = [(ta, s) for ta, s in strokes if any(ps - 0.2 <= ta <= pe + 0.1 for ps, pe in units)]

    # ---- gesture-unit envelope (0 = rest, 1 = hands in gesture space), per phrase
    w_max = float(np.clip(0.85 + 0.3 * a, 0.45, 1.0))
    env_pts: list[tuple[float, float]] = []
    for k, (ps, pe) in enumerate(units):
        inside = [ta for ta, _ in strokes if ps - 0.2 <= ta <= pe + 0.1]
        if not inside and pe - ps < 0.8:
            continue
        up_start = ps - 0.1
        up_end = up_start + 0.6
        hold_to = max(pe + 0.2, (inside[-1] + T_h + T_r) if inside else pe)
        if env_pts:
            last = env_pts[-1][0]
            if up_start < last + HOLD_PAUSE_S:  # pause shorter than a rest: hold the hands up, still
                env_pts[-1] = (max(last, hold_to), w_max)
                continue
            if up_start < last + RETRACT_S + 0.1:  # pause too short to rest: relax half-way
                env_pts += [((last + up_end) / 2, 0.55 * w_max), (up_end, w_max), (hold_to, w_max)]
                continue
            env_pts.append((last + RETRACT_S, 0.0))
        env_pts += [(up_start, 0.0), (up_end, w_max), (hold_to, w_max)]
    if env_pts:
        env_pts.append((env_pts[-1][0] + RETRACT_S, 0.0))
    env = via(t, env_pts)

    dom = "Right" if rng.uniform() < 0.7 else "Left"
    other = "Left" if dom == "Right" else "Right"
    both_p = float(np.clip(0.2 + 0.3 * a, 0.05, 0.5))
    ta_arr = [ta for ta, _ in strokes]
    A_dom = [amp * (0.6 + 0.5 * s) * rng.uniform(0.85, 1.15) for _, s in strokes]
    both = [rng.uniform() < both_p for _ in strokes]
    V = {dom: None, other: None}
    F = {dom: None, other: None}
    V[dom], F[dom] = beat_channels(t, ta_arr, A_dom, T_p, T_s, T_h, T_r)
    A_oth = [A * (0.9 if b else 0.2) for A, b in zip(A_dom, both)]
    V[other], F[other] = beat_channels(t, ta_arr, A_oth, T_p, T_s, T_h, T_r)
    engage = {dom: env, other: env * float(np.clip(0.55 + 0.35 * a, 0.3, 0.9))}

    # ---- base: real idle motion (torso from one clip, hanging arms from another)
    q = np.tile([0, 0, 0, 1.0], (n, J, 1))
    root = np.tile(skel.offsets[0], (n, 1)).astype(float)
    if lib and lib["clips"]:
        qt, rt = _segment(lib["clips"][int(rng.integers(len(lib["clips"])))], n, rng)
        hang = lib["hanging"] or list(range(len(lib["clips"])))
        qa, _ = _segment(lib["clips"][hang[int(rng.integers(len(hang)))]], n, rng)
        for j in TORSO:  # captured idle around its mean pose, damped to TORSO_IDLE_GAIN
            mean = R.normalize(R.continuity(qt[:, ix[j]]).mean(axis=0))
            dev = R.quat_mul(R.quat_conj(mean)[None], qt[:, ix[j]])
            q[:, ix[j]] = R.quat_mul(mean[None], R.quat_pow(dev, TORSO_IDLE_GAIN))
        for j in ARMS:
            mean = R.normalize(R.continuity(qa[:, ix[j]]).mean(axis=0))
            dev = R.quat_mul(R.quat_conj(mean)[None], qa[:, ix[j]])
            q[:, ix[j]] = R.quat_mul(mean[None], R.quat_pow(dev, ARM_IDLE_GAIN))
        root[:, [0, 2]] = skel.offsets[0][[0, 2]] + 0.6 * (rt[:, [0, 2]] - rt[:, [0, 2]].mean(axis=0))
        # keep the facing: remove the clip's mean hips yaw
        fwd = R.quat_rotate(qt[:, 0], np.array([0, 0, 1.0]))
        yaw = np.arctan2(fwd[:, 0].mean(), fwd[:, 2].mean())
        q[:, 0] = R.quat_mul(_rot([0, 1, 0], -np.degrees(yaw))[None], q[:, 0])
    else:  # no capture: a plain hanging rest pose
        for side in ("Left", "Right"):
            up, lo, hd = arm_pose(side, np.full(n, 4.0), np.full(n, 6.0), np.full(n, 12.0), np.full(n, -10.0), np.zeros(n))
            q[:, ix[f"{side}UpperArm"]], q[:, ix[f"{side}LowerArm"]], q[:, ix[f"{side}Hand"]] = up, lo, hd

    def apply(name, quat):
        q[:, ix[name]] = R.quat_mul(q[:, ix[name]], quat)

    # ---- posture by emotion, stroke accompaniment in the torso, nods on emphasised strokes
    vd = V[dom]
    for j, share in (("Spine", 0.4), ("Chest", 0.35), ("UpperChest", 0.25)):
        apply(j, _rot([1, 0, 0], spine_flex * share - 1.2 * share * vd * env))
    nod_pts: list[tuple[float, float]] = []
    for (ta, s), A in zip(strokes, A_dom):
        if s >= 0.6:
            nod_pts += [(ta - 0.18, 0.0), (ta, 3.5 * A), (ta + 0.35, 0.0)]
    nod = via(t, sorted(nod_pts)) if nod_pts else np.zeros(n)
    apply("Neck", _rot([1, 0, 0], head_pitch * 0.4))
    apply("Head", _rot([1, 0, 0], head_pitch * 0.6 + nod))
    apply("Head", _rot([0, 0, 1], head_roll))
    for side in ("Left", "Right"):
        s = 1.0 if side == "Left" else -1.0
        apply(f"{side}Shoulder", _rot([0, 0, 1], s * (sh_raise + 1.5 * np.clip(V[side], 0, None) * engage[side])))

    # ---- arms: slerp from the idle arm to the gesture pose by the unit envelope
    for side in ("Left", "Right"):
        e, vs, fs = engage[side], V[side], F[side]
        flex = 14 + 6 * amp + 8 * vs + 6 * fs + _smooth_noise(rng, n, fps, amp=1.5)
        abd = 12 + arm_abd + 3 * fs + 4 * (side == dom) + _smooth_noise(rng, n, fps, amp=1.0)
        elbow = 55 + 12 * amp + elbow_b + 20 * vs + _smooth_noise(rng, n, fps, amp=2.0)
        twist = -30 + 6 * fs
        wrist = 6 + 10 * vs
        up, lo, hd = arm_pose(side, flex, abd, elbow, twist, wrist)
        w = np.clip(e, 0, 1)[:, None]
        for name, g in ((f"{side}UpperArm", up), (f"{side}LowerArm", lo), (f"{side}Hand", hd)):
            q[:, ix[name]] = R.slerp(q[:, ix[name]], g, w)

    root = settle_hips(skel, q, root)
    q = solve_legs(skel, q, root)
    return R.continuity(q), root, np.array(ta_arr)

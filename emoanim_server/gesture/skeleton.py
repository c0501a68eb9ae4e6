"""The default humanoid skeleton: Unity Humanoid bone names, rest offsets, joint limits, FK, leg IK.

Space: right-handed, Y-up, metres; the character faces +Z and its left side is +X (the Unity
client negates X to reach Unity's left-handed space, so the left arm lands on Unity's -X side).
Rest pose is a T-pose (arms along +/-X) with identity local rotations: what Unity's Humanoid
avatar configuration expects of a BVH/FBX rest pose.
"""
from __future__ import annotations

import numpy as np

from ..track import Skeleton
from . import rotations as R

#: (name, parent name, rest offset from parent in metres)
_JOINTS: tuple[tuple[str, str | None, tuple[float, float, float]], ...] = (
    ("Hips", None, (0.0, 0.95, 0.0)),
    ("Spine", "Hips", (0.0, 0.10, 0.0)),
    ("Chest", "Spine", (0.0, 0.12, 0.0)),
    ("UpperChest", "Chest", (0.0, 0.12, 0.0)),
    ("Neck", "UpperChest", (0.0, 0.14, 0.0)),
    ("Head", "Neck", (0.0, 0.10, 0.0)),
    ("LeftShoulder", "UpperChest", (0.025, 0.10, 0.0)),
    ("LeftUpperArm", "LeftShoulder", (0.14, 0.0, 0.0)),
    ("LeftLowerArm", "LeftUpperArm", (0.28, 0.0, 0.0)),
    ("LeftHand", "LeftLowerArm", (0.25, 0.0, 0.0)),
    ("RightShoulder", "UpperChest", (-0.025, 0.10, 0.0)),
    ("RightUpperArm", "RightShoulder", (-0.14, 0.0, 0.0)),
    ("RightLowerArm", "RightUpperArm", (-0.28, 0.0, 0.0)),
    ("RightHand", "RightLowerArm", (-0.25, 0.0, 0.0)),
    ("LeftUpperLeg", "Hips", (0.09, -0.05, 0.0)),
    ("LeftLowerLeg", "LeftUpperLeg", (0.0, -0.42, 0.0)),
    ("LeftFoot", "LeftLowerLeg", (0.0, -0.42, 0.0)),
    ("LeftToes", "LeftFoot", (0.0, -0.055, 0.12)),
    ("RightUpperLeg", "Hips", (-0.09, -0.05, 0.0)),
    ("RightLowerLeg", "RightUpperLeg", (0.0, -0.42, 0.0)),
    ("RightFoot", "RightLowerLeg", (0.0, -0.42, 0.0)),
    ("RightToes", "RightFoot", (0.0, -0.055, 0.12)),
)

#: BVH "End Site" offsets for leaf joints (bone tips), so DCC tools draw the last bone
END_SITES: dict[str, tuple[float, float, float]] = {
    "Head": (0.0, 0.18, 0.0), "LeftHand": (0.18, 0.0, 0.0), "RightHand": (-0.18, 0.0, 0.0),
    "LeftToes": (0.0, 0.0, 0.06), "RightToes": (0.0, 0.0, 0.06),
    "LeftThumbDistal": (0.03, 0, 0.0), "RightThumbDistal": (-0.03, 0, 0.0),
}

_FINGER_NAMES = ("Thumb", "Index", "Middle", "Ring", "Little")


def _finger_joints(side: str) -> list[tuple[str, str, tuple[float, float, float]]]:
    s = 1.0 if side == "Left" else -1.0
    out = []
    for k, f in enumerate(_FINGER_NAMES):
        z = (0.035 - 0.0175 * k) if f != "Thumb" else 0.03
        base = (s * (0.03 if f == "Thumb" else 0.09), 0.0, z)
        parent = f"{side}Hand"
        for seg, length in zip(("Proximal", "Intermediate", "Distal"), (0.0, 0.04, 0.03)):
            name = f"{side}{f}{seg}"
            off = base if seg == "Proximal" else (s * length, 0.0, 0.0)
            out.append((name, parent, off))
            parent = name
    return out


def humanoid(fingers: bool = True) -> Skeleton:
    """The output skeleton: 22 body joints, then Unity's 15 finger bones per hand (52; the body
    joints keep their indices, so readers of the 22-joint layout still find them first).
    ``fingers=False``: the 22 body joints the gesture model drives (its motion representation).
    Fingers are posed procedurally after sampling (relaxed hand, small motion)."""
    joints = list(_JOINTS)
    if fingers:
        joints += _finger_joints("Left") + _finger_joints("Right")
    names = [j[0] for j in joints]
    parents = [-1 if p is None else names.index(p) for _, p, _ in joints]
    return Skeleton(names, parents, np.array([o for _, _, o in joints], np.float64))


#: our joint name -> Unity HumanBodyBones enum name (identical by design; Unity's own spelling)
UNITY_HUMANOID: dict[str, str] = {j[0]: j[0] for j in _JOINTS}
UNITY_HUMANOID.update({f"{s}{f}{seg}": f"{s}{f}{seg}" for s in ("Left", "Right")
                       for f in _FINGER_NAMES for seg in ("Proximal", "Intermediate", "Distal")})

#: source naming schemes -> our names, for retargeting BVH files (tools/gesture_dataset.py)
NAME_MAPS: dict[str, dict[str, str]] = {
    "unity": {k: k for k in UNITY_HUMANOID},
    # Blender metarig / Rigify names (ReActIdle uses these)
    "blender": {
        "pelvis": "Hips", "spine": "Spine", "spine.001": "Chest", "spine.002": "UpperChest",
        "spine.003": "UpperChest", "neck": "Neck", "spine.004": "Neck", "face": "Head", "head": "Head",
        "spine.006": "Head",
        "shoulder.L": "LeftShoulder", "upper_arm.L": "LeftUpperArm", "forearm.L": "LeftLowerArm",
        "hand.L": "LeftHand", "shoulder.R": "RightShoulder", "upper_arm.R": "RightUpperArm",
        "forearm.R": "RightLowerArm", "hand.R": "RightHand",
        "thigh.L": "LeftUpperLeg", "shin.L": "LeftLowerLeg", "foot.L": "LeftFoot", "toe.L": "LeftToes",
        "thigh.R": "RightUpperLeg", "shin.R": "RightLowerLeg", "foot.R": "RightFoot", "toe.R": "RightToes",
    },
    # Mixamo ("mixamorig:" prefix is stripped before lookup)
    "mixamo": {
        "Hips": "Hips", "Spine": "Spine", "Spine1": "Chest", "Spine2": "UpperChest", "Neck": "Neck",
        "Head": "Head", "LeftShoulder": "LeftShoulder", "LeftArm": "LeftUpperArm",
        "LeftForeArm": "LeftLowerArm", "LeftHand": "LeftHand", "RightShoulder": "RightShoulder",
        "RightArm": "RightUpperArm", "RightForeArm": "RightLowerArm", "RightHand": "RightHand",
        "LeftUpLeg": "LeftUpperLeg", "LeftLeg": "LeftLowerLeg", "LeftFoot": "LeftFoot",
        "LeftToeBase": "LeftToes", "RightUpLeg": "RightUpperLeg", "RightLeg": "RightLowerLeg",
        "RightFoot": "RightFoot", "RightToeBase": "RightToes",
    },
}

#: per-joint local Euler limits in degrees, XYZ order: ((xmin, xmax), (ymin, ymax), (zmin, zmax)).
#: Anatomical ranges, loosely after Unity's Humanoid muscle defaults; used by ``limit_violation``.
JOINT_LIMITS: dict[str, tuple[tuple[float, float], ...]] = {
    "Spine": ((-40, 40), (-40, 40), (-40, 40)), "Chest": ((-40, 40), (-40, 40), (-40, 40)),
    "UpperChest": ((-20, 20), (-20, 20), (-20, 20)), "Neck": ((-40, 40), (-40, 40), (-40, 40)),
    "Head": ((-40, 40), (-70, 70), (-40, 40)),
    "LeftShoulder": ((-15, 15), (-15, 30), (-15, 30)), "RightShoulder": ((-15, 15), (-30, 15), (-30, 15)),
    "LeftUpperArm": ((-100, 100), (-100, 60), (-100, 100)), "RightUpperArm": ((-100, 100), (-60, 100), (-100, 100)),
    "LeftLowerArm": ((-90, 90), (-160, 5), (-10, 10)), "RightLowerArm": ((-90, 90), (-5, 160), (-10, 10)),
    "LeftHand": ((-40, 40), (-40, 40), (-80, 80)), "RightHand": ((-40, 40), (-40, 40), (-80, 80)),
    "LeftUpperLeg": ((-120, 60), (-60, 60), (-60, 60)), "RightUpperLeg": ((-120, 60), (-60, 60), (-60, 60)),
    "LeftLowerLeg": ((-5, 150), (-20, 20), (-10, 10)), "RightLowerLeg": ((-5, 150), (-20, 20), (-10, 10)),
    "LeftFoot": ((-50, 50), (-30, 30), (-30, 30)), "RightFoot": ((-50, 50), (-30, 30), (-30, 30)),
}


def forward_kinematics(skel: Skeleton, rots: np.ndarray, root: np.ndarray | None = None):
    """Global positions (N, J, 3) and global rotation matrices (N, J, 3, 3).
    ``root`` (N, 3) is the root joint's position; None = its rest offset."""
    rots = np.asarray(rots, np.float64)
    n, j = rots.shape[:2]
    local = R.quat_to_matrix(rots)
    gm = np.empty((n, j, 3, 3))
    gp = np.empty((n, j, 3))
    off = skel.offsets
    for i, p in enumerate(skel.parents):
        if p < 0:
            gm[:, i] = local[:, i]
            gp[:, i] = off[i] if root is None else root
        else:
            gm[:, i] = gm[:, p] @ local[:, i]
            gp[:, i] = gp[:, p] + np.einsum("nij,j->ni", gm[:, p], off[i])
    return gp, gm


def limit_violation(skel: Skeleton, rots: np.ndarray) -> float:
    """Fraction of (frame, limited joint) pairs with any Euler angle outside JOINT_LIMITS (+5 deg slack)."""
    bad = total = 0
    for name, lim in JOINT_LIMITS.items():
        if name not in skel.names:
            continue
        e = R.quat_to_euler(rots[:, skel.names.index(name)], "XYZ")
        e = (e + 180) % 360 - 180
        lo = np.array([a for a, _ in lim]) - 5
        hi = np.array([b for _, b in lim]) + 5
        bad += int(np.any((e < lo) | (e > hi), axis=-1).sum())
        total += len(e)
    return bad / max(total, 1)


LEGS = (("LeftUpperLeg", "LeftLowerLeg", "LeftFoot"), ("RightUpperLeg", "RightLowerLeg", "RightFoot"))


def rest_ankles(skel: Skeleton) -> np.ndarray:
    """World ankle positions in the rest pose (2, 3): where standing feet are planted."""
    gp, _ = forward_kinematics(skel, np.tile([0, 0, 0, 1.0], (1, len(skel.names), 1)))
    return np.stack([gp[0, skel.names.index(f)] for _, _, f in LEGS])


def solve_legs(skel: Skeleton, rots: np.ndarray, root: np.ndarray, ankles: np.ndarray | None = None,
               foot_yaw: float = 0.0) -> np.ndarray:
    """Two-bone IK that plants both ankles at ``ankles`` (2, 3) (default: rest) with flat feet.

    Hips (root) motion stays as given; thigh/shin/foot local rotations are replaced so the feet do
    not slide; the knee bends towards the character's forward (+Z of the hips' heading)."""
    rots = np.array(rots, np.float64)
    if ankles is None:
        ankles = rest_ankles(skel)
    n = len(rots)
    ids = {nm: i for i, nm in enumerate(skel.names)}
    gp, gm = forward_kinematics(skel, rots, root)
    hips = ids["Hips"]
    heading = gm[:, hips] @ np.array([0, 0, 1.0])
    heading[:, 1] = 0
    heading /= np.maximum(np.linalg.norm(heading, axis=1, keepdims=True), 1e-9)
    foot_global = np.broadcast_to(R.quat_to_matrix(R.axis_angle_quat([0, 1, 0], foot_yaw)), (n, 3, 3))
    for (u, l, f), target in zip(LEGS, ankles):
        iu, il, jf = ids[u], ids[l], ids[f]
        a = gp[:, iu]
        l1 = np.linalg.norm(skel.offsets[il])
        l2 = np.linalg.norm(skel.offsets[jf])
        d = target[None] - a
        dist = np.clip(np.linalg.norm(d, axis=1), 1e-4, l1 + l2 - 1e-4)
        dh = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-9)
        cos_a = np.clip((l1 * l1 + dist * dist - l2 * l2) / (2 * l1 * dist), -1, 1)
        pole = heading - np.sum(heading * dh, axis=1, keepdims=True) * dh
        pole /= np.maximum(np.linalg.norm(pole, axis=1, keepdims=True), 1e-9)
        knee = a + l1 * (cos_a[:, None] * dh + np.sqrt(1 - cos_a ** 2)[:, None] * pole)
        ankle = a + dh * dist[:, None]
        b_u0 = skel.offsets[il] / l1
        b_l0 = skel.offsets[jf] / l2
        fwd = np.array([0, 0, 1.0])
        rest_u = R.frame_from_two(b_u0, fwd)
        rest_l = R.frame_from_two(b_l0, fwd)
        g_u = R.frame_from_two(knee - a, heading) @ rest_u.T
        g_l = R.frame_from_two(ankle - knee, heading) @ rest_l.T
        parent_u = gm[:, skel.parents[iu]]
        rots[:, iu] = R.matrix_to_quat(np.swapaxes(parent_u, 1, 2) @ g_u)
        rots[:, il] = R.matrix_to_quat(np.swapaxes(g_u, 1, 2) @ g_l)
        rots[:, jf] = R.matrix_to_quat(np.swapaxes(g_l, 1, 2) @ foot_global)
    return rots


#: knee bend (degrees) the standing hips height is set for: people at rest keep the knees
#: nearly straight (the real idle capture, ReActIdle, averages 2.5-12 deg per performer)
REST_KNEE_DEG = 5.0


def settle_hips(skel: Skeleton, rots: np.ndarray, root: np.ndarray, knee_deg: float = REST_KNEE_DEG,
                ankles: np.ndarray | None = None) -> np.ndarray:
    """Root positions with the height replaced so that neither knee bends more than
    ``knee_deg`` once :func:`solve_legs` plants the feet (the more bent leg gets exactly
    ``knee_deg``; the other is straighter, never past full reach). Frame-local, so streamed
    and offline frames agree; horizontal hips motion (weight shifts) is kept."""
    root = np.array(root, np.float64)
    ankles = rest_ankles(skel) if ankles is None else ankles
    hips = R.quat_to_matrix(np.asarray(rots, np.float64)[:, 0])
    lo = -np.inf * np.ones(len(root))
    hi = np.inf * np.ones(len(root))
    for (u, l, f), a in zip(LEGS, ankles):
        iu, il, jf = skel.names.index(u), skel.names.index(l), skel.names.index(f)
        l1, l2 = np.linalg.norm(skel.offsets[il]), np.linalg.norm(skel.offsets[jf])
        want = np.sqrt(l1 * l1 + l2 * l2 + 2 * l1 * l2 * np.cos(np.radians(knee_deg)))
        reach = l1 + l2 - 2e-4
        off = hips @ skel.offsets[iu]  # (N, 3) hip joint relative to the root
        h2 = (root[:, 0] + off[:, 0] - a[0]) ** 2 + (root[:, 2] + off[:, 2] - a[2]) ** 2
        lo = np.maximum(lo, a[1] - off[:, 1] + np.sqrt(np.maximum(want ** 2 - h2, 0)))
        hi = np.minimum(hi, a[1] - off[:, 1] + np.sqrt(np.maximum(reach ** 2 - h2, 0)))
    root[:, 1] = np.minimum(lo, hi)
    return root


_CURL = {"Thumb": (8.0, 10.0, 8.0), "Index": (14.0, 20.0, 10.0), "Middle": (18.0, 24.0, 12.0),
         "Ring": (22.0, 28.0, 14.0), "Little": (26.0, 30.0, 16.0)}


def finger_rotations(n: int, frame0: int, fps: int, openness: np.ndarray, seed: int) -> np.ndarray:
    """Local rotations (n, 30, 4) of Unity's 15 finger bones per hand (order of
    ``humanoid(fingers=True)``): a relaxed, slightly curled hand (more curl towards the little
    finger, as hands hang at rest), opening a little while gesturing (``openness`` (n, 2) in 0..1,
    left/right), plus a slow few-degree drift. A function of the absolute frame index and the
    seed only, so streamed blocks and an offline bake give the same fingers."""
    t = (frame0 + np.arange(n)) / fps
    rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 77])
    out = np.empty((n, 30, 4))
    k = 0
    for h, side in enumerate(("Left", "Right")):
        s = 1.0 if side == "Left" else -1.0
        for f in _FINGER_NAMES:
            ph, fr = rng.uniform(0, 2 * np.pi), rng.uniform(0.15, 0.35)
            drift = 3.0 * np.sin(2 * np.pi * fr * t + ph)
            for seg, base in zip(("Proximal", "Intermediate", "Distal"), _CURL[f]):
                curl = base * (1.0 - 0.45 * openness[:, h]) + drift * (0.6 if seg != "Proximal" else 1.0)
                if f == "Thumb":  # the thumb curls across the palm (about the hand's long axis + down)
                    q = R.quat_mul(R.axis_angle_quat([1, 0, 0], np.radians(-s * 0.8 * curl)),
                                   R.axis_angle_quat([0, 1, 0], np.radians(s * 0.5 * curl)))
                else:  # flexion: the finger tip goes towards the palm (-Y in the T-pose)
                    q = R.axis_angle_quat([0, 0, 1], np.radians(-s * curl))
                out[:, k] = q
                k += 1
    return out

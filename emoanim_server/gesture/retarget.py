"""Retarget a BVH clip onto the default humanoid by joint-name map (numpy only).

Method: world-space rotation transfer with a rest-pose correction per joint. Both skeletons
have identity rest rotations (BVH convention), so their rest poses differ only in bone
directions (T-pose vs A-pose, a spine leaning forward...). For each mapped target joint ``t``
with source ``s`` we take the minimal rotation ``C_t`` that turns the target's rest bone
direction onto the source's and set ``G_t = G_s C_t`` (world rotations): the target bone then
points where the source bone points, with the source's twist. Unmapped target joints keep
identity local rotations. The root moves by the source root scaled by the hip-height ratio.
"""
from __future__ import annotations

import numpy as np

from ..track import Skeleton
from . import rotations as R
from .skeleton import NAME_MAPS, forward_kinematics


def _min_rotation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    a = a / np.linalg.norm(a)
    b = b / np.linalg.norm(b)
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if c < -0.999999:
        axis = np.cross(a, [1, 0, 0]) if abs(a[0]) < 0.9 else np.cross(a, [0, 1, 0])
        return R.quat_to_matrix(R.axis_angle_quat(axis, np.pi))
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


def guess_name_map(src_names: list[str]) -> dict[str, str]:
    """Pick the built-in naming scheme (unity / blender / mixamo) matching most source joints."""
    clean = [n.split(":")[-1] for n in src_names]
    best = max(NAME_MAPS.values(), key=lambda m: sum(c in m for c in clean))
    return {n: best[c] for n, c in zip(src_names, clean) if c in best}


def retarget(src: Skeleton, rots: np.ndarray, root: np.ndarray, dst: Skeleton,
             name_map: dict[str, str] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Source clip -> (rotations (N, J_dst, 4), root positions (N, 3)) on ``dst``.
    ``name_map`` maps source joint names to destination names (default: guessed)."""
    name_map = guess_name_map(src.names) if name_map is None else name_map
    s_of: dict[int, int] = {}
    for si, sname in enumerate(src.names):
        t = name_map.get(sname)
        if t in dst.names and dst.names.index(t) not in s_of:
            s_of[dst.names.index(t)] = si
    if not s_of:
        raise ValueError(f"no source joint maps onto the target skeleton (source joints: {src.names[:8]}...)")
    n = len(rots)
    _, gs = forward_kinematics(src, rots, root)
    rest_s, _ = forward_kinematics(src, np.tile([0, 0, 0, 1.0], (1, len(src.names), 1)))
    rest_t, _ = forward_kinematics(dst, np.tile([0, 0, 0, 1.0], (1, len(dst.names), 1)))
    gt = np.empty((n, len(dst.names), 3, 3))
    out = np.empty((n, len(dst.names), 4))
    for t, p in enumerate(dst.parents):
        if t in s_of:
            corr = np.eye(3)
            kids = [c for c, pc in enumerate(dst.parents) if pc == t and c in s_of]
            if kids and p >= 0:
                c = kids[0]
                d_t = rest_t[0, c] - rest_t[0, t]
                d_s = rest_s[0, s_of[c]] - rest_s[0, s_of[t]]
                if np.linalg.norm(d_t) > 1e-6 and np.linalg.norm(d_s) > 1e-6:
                    corr = _min_rotation(d_t, d_s)
            gt[:, t] = gs[:, s_of[t]] @ corr
        else:
            gt[:, t] = gt[:, p] if p >= 0 else np.eye(3)
        local = gt[:, t] if p < 0 else np.swapaxes(gt[:, p], 1, 2) @ gt[:, t]
        out[:, t] = R.matrix_to_quat(local)
    si_root = s_of.get(0, 0)
    src_h = float(np.mean(root[:, 1])) if abs(np.mean(root[:, 1])) > 1e-3 else float(rest_s[0, si_root, 1])
    scale = dst.offsets[0, 1] / src_h if abs(src_h) > 1e-6 else 1.0
    return R.continuity(out), np.asarray(root, np.float64) * scale

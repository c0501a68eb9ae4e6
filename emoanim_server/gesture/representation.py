"""Motion <-> learning features, and the exact inverse.

Per frame (D = 6 + 6 J):
  [0:3]   root position minus the skeleton's rest root offset (metres)
  [3:6]   root velocity (metres / second, backward difference; frame 0 copies frame 1)
  [6:]    per-joint local rotation in 6D (first two matrix columns), J joints in skeleton order

``decode`` uses the positions and rotations only (velocities are redundant targets that teach
the denoiser smoothness), so ``decode(encode(m)) == m`` up to float rounding and the quaternion
sign, which ``decode`` fixes with a per-joint continuity pass.
"""
from __future__ import annotations

import numpy as np

from ..track import Skeleton
from . import rotations as R


def feature_dim(n_joints: int) -> int:
    return 6 + 6 * n_joints


def encode(skel: Skeleton, rots: np.ndarray, root: np.ndarray, fps: float) -> np.ndarray:
    rots = np.asarray(rots, np.float64)
    root = np.asarray(root, np.float64)
    n = len(rots)
    pos = root - skel.offsets[0]
    vel = np.zeros_like(pos)
    if n > 1:
        vel[1:] = (pos[1:] - pos[:-1]) * fps
        vel[0] = vel[1]
    six = R.quat_to_6d(rots).reshape(n, -1)
    return np.concatenate([pos, vel, six], axis=1).astype(np.float32)


def decode(skel: Skeleton, feats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features (N, D) -> (rotations (N, J, 4) xyzw, continuous in time; root positions (N, 3))."""
    feats = np.asarray(feats, np.float64)
    n = len(feats)
    j = (feats.shape[1] - 6) // 6
    root = feats[:, :3] + skel.offsets[0]
    rots = R.sixd_to_quat(feats[:, 6:].reshape(n, j, 6))
    return R.continuity(rots), root

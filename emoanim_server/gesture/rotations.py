"""Rotation math for skeleton poses, vectorised over frames (numpy only, no torch).

Conventions (docs/gesture.md): quaternions are (x, y, z, w), matrices act on column vectors,
the 6D representation is the first two columns of the rotation matrix (Zhou et al. 2019),
Euler angles follow BVH: channel order "ZXY" means R = Rz @ Rx @ Ry (intrinsic, scipy "ZXY").
"""
from __future__ import annotations

import warnings

import numpy as np


def normalize(q: np.ndarray) -> np.ndarray:
    q = np.asarray(q, np.float64)
    n = np.linalg.norm(q, axis=-1, keepdims=True)
    return q / np.maximum(n, 1e-12)


def quat_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a*b (apply b first, then a), xyzw."""
    ax, ay, az, aw = np.moveaxis(np.asarray(a, np.float64), -1, 0)
    bx, by, bz, bw = np.moveaxis(np.asarray(b, np.float64), -1, 0)
    return np.stack([
        aw * bx + ax * bw + ay * bz - az * by,
        aw * by - ax * bz + ay * bw + az * bx,
        aw * bz + ax * by - ay * bx + az * bw,
        aw * bw - ax * bx - ay * by - az * bz,
    ], axis=-1)


def quat_conj(q: np.ndarray) -> np.ndarray:
    q = np.array(q, np.float64)
    q[..., :3] *= -1
    return q


def quat_to_matrix(q: np.ndarray) -> np.ndarray:
    q = normalize(q)
    x, y, z, w = np.moveaxis(q, -1, 0)
    m = np.empty(q.shape[:-1] + (3, 3))
    m[..., 0, 0] = 1 - 2 * (y * y + z * z)
    m[..., 0, 1] = 2 * (x * y - z * w)
    m[..., 0, 2] = 2 * (x * z + y * w)
    m[..., 1, 0] = 2 * (x * y + z * w)
    m[..., 1, 1] = 1 - 2 * (x * x + z * z)
    m[..., 1, 2] = 2 * (y * z - x * w)
    m[..., 2, 0] = 2 * (x * z - y * w)
    m[..., 2, 1] = 2 * (y * z + x * w)
    m[..., 2, 2] = 1 - 2 * (x * x + y * y)
    return m


def matrix_to_quat(m: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) -> unit xyzw, by Markley's method (the largest of the trace
    and the diagonal picks the stable formula; as scipy's Rotation.from_matrix does for proper
    rotations, in plain numpy: the same numbers, 1.6x faster on the sampler's small batches, no scipy import)."""
    m = np.asarray(m, np.float64)
    shape = m.shape[:-2]
    m = m.reshape(-1, 3, 3)
    d = np.stack([m[:, 0, 0], m[:, 1, 1], m[:, 2, 2], m[:, 0, 0] + m[:, 1, 1] + m[:, 2, 2]], axis=1)
    choice = np.argmax(d, axis=1)
    q = np.empty((len(m), 4))
    tr = choice == 3
    q[tr, 0] = m[tr, 2, 1] - m[tr, 1, 2]
    q[tr, 1] = m[tr, 0, 2] - m[tr, 2, 0]
    q[tr, 2] = m[tr, 1, 0] - m[tr, 0, 1]
    q[tr, 3] = 1 + d[tr, 3]
    for i in range(3):
        s = choice == i
        if s.any():
            j, k = (i + 1) % 3, (i + 2) % 3
            q[s, i] = 1 - d[s, 3] + 2 * m[s, i, i]
            q[s, j] = m[s, j, i] + m[s, i, j]
            q[s, k] = m[s, k, i] + m[s, i, k]
            q[s, 3] = m[s, k, j] - m[s, j, k]
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    return q.reshape(shape + (4,))


def quat_rotate(q: np.ndarray, v: np.ndarray) -> np.ndarray:
    return np.einsum("...ij,...j->...i", quat_to_matrix(q), v)


def matrix_to_6d(m: np.ndarray) -> np.ndarray:
    """First two columns, flattened as (c0x, c0y, c0z, c1x, c1y, c1z)."""
    return np.concatenate([m[..., :, 0], m[..., :, 1]], axis=-1)


def sixd_to_matrix(d: np.ndarray) -> np.ndarray:
    """Gram-Schmidt: any 6-vector (not degenerate) -> the nearest-ish rotation matrix."""
    d = np.asarray(d, np.float64)
    a, b = d[..., :3], d[..., 3:]
    c0 = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-9)
    b = b - np.sum(c0 * b, axis=-1, keepdims=True) * c0
    c1 = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-9)
    c2 = np.cross(c0, c1)
    return np.stack([c0, c1, c2], axis=-1)


def quat_to_6d(q: np.ndarray) -> np.ndarray:
    return matrix_to_6d(quat_to_matrix(q))


def sixd_to_quat(d: np.ndarray) -> np.ndarray:
    return matrix_to_quat(sixd_to_matrix(d))


def continuity(q: np.ndarray, axis: int = 0) -> np.ndarray:
    """Flip signs along ``axis`` (time) so consecutive quaternions are in the same hemisphere."""
    q = np.moveaxis(np.array(q, np.float64), axis, 0)
    if len(q) > 1:
        # flipping q[i] flips its dot with q[i+1] too: the sign to apply is a running product
        step = np.where(np.sum(q[1:] * q[:-1], axis=-1) < 0, -1.0, 1.0)
        sign = np.concatenate([np.ones_like(step[:1]), np.cumprod(step, axis=0)])
        q = q * sign[..., None]
    return np.moveaxis(q, 0, axis)


def slerp(q0: np.ndarray, q1: np.ndarray, t: np.ndarray | float) -> np.ndarray:
    """Shortest-path spherical interpolation, broadcasting over leading axes."""
    q0, q1 = normalize(q0), normalize(q1)
    t = np.asarray(t, np.float64)
    dot = np.sum(q0 * q1, axis=-1, keepdims=True)
    q1 = np.where(dot < 0, -q1, q1)
    dot = np.abs(dot)
    if t.ndim < q0.ndim:
        t = t.reshape(t.shape + (1,) * (q0.ndim - t.ndim))
    theta = np.arccos(np.clip(dot, -1.0, 1.0))
    s = np.sin(theta)
    small = s < 1e-6
    w0 = np.where(small, 1 - t, np.sin((1 - t) * theta) / np.where(small, 1, s))
    w1 = np.where(small, t, np.sin(t * theta) / np.where(small, 1, s))
    return normalize(w0 * q0 + w1 * q1)


def quat_pow(q: np.ndarray, k: float | np.ndarray) -> np.ndarray:
    """q^k: same axis, angle scaled by k (k may exceed 1 to exaggerate)."""
    q = normalize(q)
    q = np.where(q[..., 3:4] < 0, -q, q)
    angle = 2 * np.arccos(np.clip(q[..., 3:4], -1, 1))
    axis = q[..., :3] / np.maximum(np.sin(angle / 2), 1e-9)
    a2 = angle * k / 2
    return normalize(np.concatenate([axis * np.sin(a2), np.cos(a2)], axis=-1))


def resample(values: np.ndarray, src_fps: float, n_out: int, dst_fps: float, rotations: bool,
             t0: float = 0.0, cubic: bool = False, times: np.ndarray | None = None) -> np.ndarray:
    """Sample a (N, ...) sequence at times t0 + i/dst_fps (or at ``times``, s, any order):
    slerp for quaternions, lerp otherwise.
    ``cubic``: Catmull-Rom through the neighbouring frames instead (quaternions made
    sign-continuous first, then renormalised): C1-continuous velocity, so upsampling 20 -> 60 fps
    adds no acceleration spikes at the source frames. Times past the last source frame hold it."""
    n = len(values)
    t = t0 + np.arange(n_out) / dst_fps if times is None else np.asarray(times, np.float64)
    pos = np.clip(t * src_fps, 0, n - 1)
    i0 = np.floor(pos).astype(int)
    i1 = np.minimum(i0 + 1, n - 1)
    f = pos - i0
    if cubic and n >= 2:
        v = continuity(values) if rotations else np.asarray(values, np.float64)
        im = np.maximum(i0 - 1, 0)
        i2 = np.minimum(i0 + 2, n - 1)
        fr = f.reshape((-1,) + (1,) * (v.ndim - 1))
        p0, p1, p2, p3 = v[im], v[i0], v[i1], v[i2]
        out = 0.5 * ((2 * p1) + (-p0 + p2) * fr + (2 * p0 - 5 * p1 + 4 * p2 - p3) * fr ** 2
                     + (-p0 + 3 * p1 - 3 * p2 + p3) * fr ** 3)
        return normalize(out) if rotations else out
    if rotations:
        return slerp(values[i0], values[i1], f.reshape((-1,) + (1,) * (values.ndim - 2)) if values.ndim > 2 else f)
    f = f.reshape((-1,) + (1,) * (values.ndim - 1))
    return values[i0] * (1 - f) + values[i1] * f


def euler_to_quat(angles_deg: np.ndarray, order: str) -> np.ndarray:
    """BVH Euler (degrees, in channel order) -> xyzw. ``order`` like "ZXY"."""
    a = np.asarray(angles_deg, np.float64)
    shape = a.shape[:-1]
    from scipy.spatial.transform import Rotation

    return Rotation.from_euler(order.upper(), a.reshape(-1, 3), degrees=True).as_quat().reshape(shape + (4,))


def quat_to_euler(q: np.ndarray, order: str) -> np.ndarray:
    """xyzw -> BVH Euler degrees in channel order, unwrapped along axis 0 (no 360-degree pops)."""
    q = np.asarray(q, np.float64)
    shape = q.shape[:-1]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # gimbal-lock warning: scipy still returns a valid triple
        from scipy.spatial.transform import Rotation

        e = Rotation.from_quat(q.reshape(-1, 4)).as_euler(order.upper(), degrees=False)
    e = e.reshape(shape + (3,))
    if e.ndim >= 2 and len(e) > 1:
        e = np.unwrap(e, axis=0)
    return np.degrees(e)


def axis_angle_quat(axis: np.ndarray | list, angle: np.ndarray | float) -> np.ndarray:
    axis = np.asarray(axis, np.float64)
    axis = axis / np.linalg.norm(axis)
    angle = np.asarray(angle, np.float64)[..., None]
    return np.concatenate([axis * np.sin(angle / 2), np.cos(angle / 2) * np.ones_like(axis[:1])], axis=-1)


def frame_from_two(b: np.ndarray, f: np.ndarray) -> np.ndarray:
    """Rotation matrix whose columns are (b, f', b x f'), f' = f made orthogonal to b."""
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-9)
    f = f - np.sum(f * b, axis=-1, keepdims=True) * b
    f = f / np.maximum(np.linalg.norm(f, axis=-1, keepdims=True), 1e-9)
    return np.stack([b, f, np.cross(b, f)], axis=-1)

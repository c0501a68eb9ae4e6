"""BVH writer: independent parse (the `bvh` package), frame count/time, channel orders, continuity."""
from __future__ import annotations

import numpy as np
import pytest

from emoanim_server.errors import InputError
from emoanim_server.export import write_track
from emoanim_server.export.bvh import bvh_text, read_bvh
from emoanim_server.gesture import rotations as R
from emoanim_server.gesture.skeleton import humanoid
from emoanim_server.track import AnimationTrack

bvh = pytest.importorskip("bvh")


def _motion(n=50, seed=0):
    skel = humanoid()
    rng = np.random.default_rng(seed)
    t = np.arange(n)[:, None, None] / 30.0
    axes = rng.normal(size=(1, len(skel.names), 3))
    axes /= np.linalg.norm(axes, axis=-1, keepdims=True)
    ang = 0.6 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6, (1, len(skel.names), 1)))
    q = np.concatenate([axes * np.sin(ang / 2), np.cos(ang / 2)], axis=-1)
    root = np.tile(skel.offsets[0], (n, 1)) + 0.02 * np.sin(np.arange(n))[:, None]
    return skel, q, root


def _depth_first(skel) -> list[str]:
    kids = {i: [c for c, p in enumerate(skel.parents) if p == i] for i in range(len(skel.names))}
    out, stack = [], [i for i, p in enumerate(skel.parents) if p < 0]
    while stack:
        i = stack.pop()
        out.append(skel.names[i])
        stack += kids[i][::-1]
    return out


def _track(fps=30, n=50):
    skel, q, root = _motion(n)
    tr = AnimationTrack.empty((n - 1) / fps, fps)
    assert tr.n_frames == n
    tr.skeleton, tr.joint_rotations, tr.root_positions = skel, q.astype(np.float32), root
    return tr


@pytest.mark.parametrize("fps", [24, 30, 60])
def test_bvh_parses_independently(tmp_path, fps):
    tr = _track(fps, 40)
    out = tmp_path / "a.bvh"
    write_track(tr, str(out))
    m = bvh.Bvh(out.read_text())
    assert m.nframes == tr.n_frames
    assert m.frame_time == pytest.approx(1.0 / fps, abs=1e-7)
    # BVH lists joints depth-first (fingers right under their hand); the track keeps the 22 body
    # joints first (old index-based readers), so compare with the skeleton's depth-first order
    assert m.get_joints_names() == _depth_first(tr.skeleton)
    assert m.joint_channels("Hips") == ["Xposition", "Yposition", "Zposition", "Zrotation", "Xrotation", "Yrotation"]
    assert m.joint_channels("LeftHand") == ["Zrotation", "Xrotation", "Yrotation"]
    assert m.nframes * m.frame_time == pytest.approx(tr.n_frames / fps, abs=1e-5)
    # root position is absolute (root OFFSET is zero)
    pos = np.array(m.frames_joint_channels("Hips", ["Xposition", "Yposition", "Zposition"]), float)
    np.testing.assert_allclose(pos, tr.root_positions, atol=2e-5)


@pytest.mark.parametrize("order", ["ZXY", "XYZ", "ZYX", "YXZ"])
def test_bvh_round_trip_rotations(tmp_path, order):
    skel, q, root = _motion(30)
    p = tmp_path / "r.bvh"
    p.write_text(bvh_text(skel, q, root, 30, order=order))
    clip = read_bvh(str(p))
    assert clip.skeleton.names == _depth_first(skel)  # the file's (depth-first) order; map by name
    idx = [clip.skeleton.names.index(n) for n in skel.names]
    np.testing.assert_allclose(clip.skeleton.offsets[idx][1:], skel.offsets[1:], atol=1e-6)
    dot = np.abs(np.sum(clip.rotations[:, idx] * R.normalize(q), axis=-1))
    assert dot.min() > 1 - 1e-7
    np.testing.assert_allclose(clip.root_positions, root, atol=2e-5)
    assert clip.frame_time == pytest.approx(1 / 30, abs=1e-8)


def test_bvh_euler_is_continuous_through_180(tmp_path):
    skel = humanoid()
    n = 120
    ang = np.linspace(0, 4 * np.pi, n)  # two full turns about Y on the hips
    q = np.tile([0, 0, 0, 1.0], (n, len(skel.names), 1))
    q[:, 0] = R.axis_angle_quat([0, 1, 0], ang)
    q[1::2] *= -1  # sign flips must not matter
    text = bvh_text(skel, q, np.tile(skel.offsets[0], (n, 1)), 60)
    m = bvh.Bvh(text)
    ry = np.array(m.frames_joint_channels("Hips", ["Yrotation"]), float)[:, 0]
    assert np.abs(np.diff(ry)).max() < 10  # ~6 deg per frame, never a 360 pop
    assert ry[-1] - ry[0] == pytest.approx(720, abs=1e-3)


def test_bvh_cm_units_and_bad_order(tmp_path):
    skel, q, root = _motion(5)
    m = bvh.Bvh(bvh_text(skel, q, root, 30, units="cm"))
    assert float(m.joint_offset("LeftLowerLeg")[1]) == pytest.approx(-42.0)
    with pytest.raises(InputError):
        bvh_text(skel, q, root, 30, order="XXY")


def test_bvh_needs_body(tmp_path):
    tr = AnimationTrack.empty(1.0, 30)
    with pytest.raises(InputError, match="--body"):
        write_track(tr, str(tmp_path / "x.bvh"))
    assert not list(tmp_path.iterdir())

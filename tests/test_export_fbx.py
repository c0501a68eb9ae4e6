"""Binary FBX export read back by three independent readers: ufbx (C library, PyPI), assimp
(Debian assimp-utils / libassimp) and Blender's own importer run headless (Debian blender).
Each must find the 52 blendshape curves by name with a key at every frame time i/fps holding the
track's value, the frame rate, and the skeleton animation."""
from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from _export_util import baked_track, cli_bake
from emoanim_server.export.fbx import KTIME_SECOND, N, _encode, euler_xyz
from emoanim_server.track import ARKIT_NAMES

READERS = Path(__file__).resolve().parent / "readers"
HAS_UFBX = importlib.util.find_spec("ufbx") is not None
HAS_PYASSIMP = importlib.util.find_spec("pyassimp") is not None
BLENDER = shutil.which("blender")
CURVES = ("jawOpen", "mouthClose", "eyeBlinkLeft", "mouthSmileRight", "browInnerUp")


def _json_of(cmd, timeout=300):
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def fbx():
    return cli_bake(".fbx")


def test_header_and_node_layout(fbx):
    data = fbx.read_bytes()
    assert data[:23] == b"Kaydara FBX Binary  \x00\x1a\x00"
    assert int.from_bytes(data[23:27], "little") == 7400
    out: list[bytes] = []
    end = _encode(N("A", [1], [N("B", ["x"])]), 27, out)
    assert end == 27 + len(b"".join(out))  # end offsets are absolute and exact


@pytest.mark.skipif(not HAS_UFBX, reason="ufbx not installed (pip install 'emoanim[formats]')")
def test_ufbx_reads_curves_by_name_at_frame_times(fbx):
    track = baked_track()
    d = _json_of([sys.executable, str(READERS / "ufbx_dump.py"), str(fbx), "60", str(track.n_frames), "LeftUpperArm"])
    assert d["version"] == 7400 and d["warnings"] == 0
    assert d["fps"] == 60 and d["unit_meters"] == pytest.approx(0.01) and d["up"] == "POSITIVE_Y"
    assert d["stacks"] == ["EmoAnim"] and d["time_end"] == pytest.approx(track.duration)
    face = d["meshes"]["Face"]
    assert sorted(face["blend_channels"]) == sorted(ARKIT_NAMES) and face["skins"] == 1
    assert d["meshes"]["Body"]["clusters"] >= 19
    for name in CURVES:
        ref = track.curve(name).astype(np.float64)
        np.testing.assert_allclose(d["weights"][name], ref, atol=1e-5)
        # linear keys at exactly i/fps: half-way between two frames is their mean
        np.testing.assert_allclose(d["weights_mid"][name], (ref[1:] + ref[:-1]) / 2, atol=1e-5)
    from emoanim_server.gesture import rotations as R

    j = track.skeleton.names.index("LeftUpperArm")
    for i, *q in d["joint_rot"]:
        assert abs(np.dot(R.normalize(track.joint_rotations[i, j]), q)) > 1 - 1e-5, i
    for i, *t in d["root_t"]:
        np.testing.assert_allclose(t, track.root_positions[i] * 100, atol=1e-3)


@pytest.mark.skipif(not (HAS_PYASSIMP and shutil.which("assimp")),
                    reason="assimp not installed (Debian assimp-utils + pip pyassimp, see .ci/run)")
def test_assimp_reads_blendshapes_morph_keys_and_bones(fbx):
    r = subprocess.run(["assimp", "info", str(fbx)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and re.search(r"Animations:\s+1\b", r.stdout), r.stdout[-1500:]
    track = baked_track()
    d = _json_of([sys.executable, str(READERS / "assimp_dump.py"), str(fbx)])
    face = next(m for m in d["meshes"] if m["name"] == "Face")
    assert sorted(face["anim_meshes"]) == sorted(ARKIT_NAMES)
    body = next(m for m in d["meshes"] if m["name"] == "Body")
    assert body["bones"] >= 19
    (anim,) = d["animations"]
    assert anim["name"] == "EmoAnim" and anim["ticks_per_second"] == 60
    assert anim["duration"] == pytest.approx(track.n_frames - 1)
    assert {"Hips", "LeftUpperArm", "Head"} <= set(anim["channels"])
    (morph,) = anim["morph"]
    assert [k[0] for k in morph["keys"]] == pytest.approx(list(range(track.n_frames)))
    for name in CURVES:
        idx = str(face["anim_meshes"].index(name))
        got = [k[1].get(idx, 0.0) for k in morph["keys"]]
        np.testing.assert_allclose(got, track.curve(name), atol=1e-5)


@pytest.mark.skipif(BLENDER is None, reason="Blender not installed (Debian blender, see .ci/run)")
def test_blender_importer_finds_shape_key_curves_and_armature(fbx, tmp_path):
    track = baked_track()
    out = tmp_path / "blender.json"
    r = subprocess.run([BLENDER, "-b", "--factory-startup", "-noaudio", "--python", str(READERS / "blender_fbx.py"),
                        "--", str(fbx), str(out)], capture_output=True, text=True, timeout=600)
    assert out.is_file(), r.stdout[-2000:] + r.stderr[-2000:]
    d = json.loads(out.read_text())
    assert d["fps"] == 60
    assert d["objects"].get("Face") == "MESH" and "ARMATURE" in d["objects"].values()
    assert set(ARKIT_NAMES) <= set(d["shape_keys"]["Face"])
    assert len(d["bones"]) == len(track.skeleton.names) and d["bone_curves"] > 0
    for name in CURVES:
        keys = np.array(d["shape_curves"][f'key_blocks["{name}"].value'])
        # Blender places the take's time 0 on the scene's first frame (1)
        np.testing.assert_allclose(keys[:, 0], np.arange(track.n_frames) + 1)
        np.testing.assert_allclose(keys[:, 1], track.curve(name), atol=1e-5)


def test_euler_xyz_matches_fbx_rotation_order():
    from scipy.spatial.transform import Rotation

    q = Rotation.random(50, random_state=3).as_quat()
    e = euler_xyz(q)
    # FBX eEulerXYZ: rotate about X, then Y, then Z (fixed axes) = scipy extrinsic "xyz"
    np.testing.assert_allclose(np.abs(np.sum(Rotation.from_euler("xyz", e, degrees=True).as_quat() * q, axis=1)), 1, atol=1e-9)


def test_ktime_is_exact_for_every_fps():
    for fps in (24, 25, 30, 50, 60):
        assert KTIME_SECOND % fps == 0


def test_face_only_track_writes_a_static_skeleton(tmp_path):
    from emoanim_server.export import write_track
    from emoanim_server.track import AnimationTrack

    tr = AnimationTrack.empty(0.5, 24)
    tr.set_curve("jawOpen", np.linspace(0, 1, tr.n_frames))
    out = tmp_path / "f.fbx"
    write_track(tr, str(out))
    if HAS_UFBX:
        d = _json_of([sys.executable, str(READERS / "ufbx_dump.py"), str(out), "24", str(tr.n_frames), "Head"])
        assert d["fps"] == 24
        np.testing.assert_allclose(d["weights"]["jawOpen"], tr.curve("jawOpen"), atol=1e-5)

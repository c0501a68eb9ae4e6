"""glTF 2.0 / GLB export: the Khronos validator (npm gltf-validator, an independent reader) finds
0 errors and 0 warnings in `emoanim bake line.wav --body -o line.glb`, and the file's animation
holds the face curves by morph-target name at every frame time i/fps."""
from __future__ import annotations

import json
import struct
import subprocess

import numpy as np
import pytest

from _export_util import baked_track, cli_bake, node_module
from emoanim_server.export import write_track
from emoanim_server.track import ARKIT_NAMES

VALIDATE_JS = """
const fs = require('fs'); const v = require(process.argv[1]);
v.validateBytes(new Uint8Array(fs.readFileSync(process.argv[2])), {maxIssues: 500})
 .then(r => console.log(JSON.stringify(r))).catch(e => { console.error(String(e)); process.exit(2); });
"""


def read_glb(path):
    data = open(path, "rb").read()
    magic, version, total = struct.unpack("<4sII", data[:12])
    assert (magic, version, total) == (b"glTF", 2, len(data))
    n = struct.unpack("<I", data[12:16])[0]
    doc = json.loads(data[20:20 + n])
    bn = struct.unpack("<I", data[20 + n:24 + n])[0]
    return doc, data[28 + n:28 + n + bn]


def accessor(doc, binc, i):
    a = doc["accessors"][i]
    v = doc["bufferViews"][a["bufferView"]]
    dt = {5126: np.float32, 5123: np.uint16, 5125: np.uint32, 5121: np.uint8}[a["componentType"]]
    k = {"SCALAR": 1, "VEC3": 3, "VEC4": 4, "MAT4": 16}[a["type"]]
    arr = np.frombuffer(binc, dt, a["count"] * k, v["byteOffset"] + a.get("byteOffset", 0))
    return arr.reshape(a["count"], k) if k > 1 else arr


def validate(path):
    mod = node_module("gltf-validator")
    if mod is None:
        pytest.skip("gltf-validator (npm) not installed: .ci/run installs it into .ci-node/")
    r = subprocess.run(["node", "-e", VALIDATE_JS, str(mod), str(path)], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def test_cli_glb_passes_khronos_validator():
    rep = validate(cli_bake(".glb"))
    issues = rep["issues"]
    assert issues["numErrors"] == 0 and issues["numWarnings"] == 0, json.dumps(issues["messages"][:10], indent=1)
    info = rep["info"]
    assert info["animationCount"] == 1 and info["hasSkins"] and info["hasMorphTargets"]


def test_glb_face_curves_by_name_at_frame_times():
    path = cli_bake(".glb")
    track = baked_track()
    doc, binc = read_glb(path)
    assert doc["asset"]["extras"]["emoanim"]["fps"] == 60
    face = next(m for m in doc["meshes"] if m.get("extras", {}).get("targetNames"))
    names = face["extras"]["targetNames"]
    assert sorted(names) == sorted(ARKIT_NAMES)
    node = next(i for i, n in enumerate(doc["nodes"]) if n.get("mesh") == doc["meshes"].index(face))
    anim = doc["animations"][0]
    ch = next(c for c in anim["channels"] if c["target"] == {"node": node, "path": "weights"})
    s = anim["samplers"][ch["sampler"]]
    assert s["interpolation"] == "LINEAR"
    t = accessor(doc, binc, s["input"])
    np.testing.assert_allclose(t, np.arange(track.n_frames) / 60, atol=1e-6)
    w = accessor(doc, binc, s["output"]).reshape(track.n_frames, len(names))
    for name in ("jawOpen", "mouthClose", "eyeBlinkLeft", "mouthSmileRight"):
        np.testing.assert_allclose(w[:, names.index(name)], track.curve(name), atol=1e-6)
    assert w[:, names.index("jawOpen")].max() > 0.3


def test_glb_skeleton_rotations_and_root_motion():
    from emoanim_server.gesture import rotations as R

    path = cli_bake(".glb")
    track = baked_track()
    doc, binc = read_glb(path)
    joints = [doc["nodes"][j]["name"] for j in doc["skins"][0]["joints"]]
    assert joints == track.skeleton.names
    anim = doc["animations"][0]
    by = {(doc["nodes"][c["target"]["node"]]["name"], c["target"]["path"]): anim["samplers"][c["sampler"]]
          for c in anim["channels"]}
    q = accessor(doc, binc, by[("LeftUpperArm", "rotation")]["output"])
    ref = track.joint_rotations[:, track.skeleton.names.index("LeftUpperArm")]
    dots = np.abs(np.sum(R.normalize(ref) * q, axis=1))
    assert dots.min() > 1 - 1e-5
    np.testing.assert_allclose(accessor(doc, binc, by[("Hips", "translation")]["output"]), track.root_positions, atol=1e-5)


def test_glb_rig_mapping_renames_nothing_on_proxy_but_drives_by_alias(tmp_path):
    """Pascal-case curve naming still drives the proxy's camelCase shapes (matched as ARKit aliases)."""
    from emoanim_server.rigs import load_rig

    track = baked_track()
    out = tmp_path / "p.glb"
    write_track(track, str(out), rig=load_rig("arkit", "pascal"))
    doc, binc = read_glb(out)
    anim = doc["animations"][0]
    ch = next(c for c in anim["channels"] if c["target"]["path"] == "weights")
    w = accessor(doc, binc, anim["samplers"][ch["sampler"]]["output"]).reshape(track.n_frames, 52)
    names = next(m for m in doc["meshes"] if m.get("extras"))["extras"]["targetNames"]
    np.testing.assert_allclose(w[:, names.index("jawOpen")], track.curve("jawOpen"), atol=1e-6)


def test_glb_without_body_is_still_valid(tmp_path):
    from emoanim_server.track import AnimationTrack

    tr = AnimationTrack.empty(1.0, 30)
    tr.set_curve("jawOpen", np.linspace(0, 1, tr.n_frames))
    out = tmp_path / "face.glb"
    write_track(tr, str(out))
    rep = validate(out)
    assert rep["issues"]["numErrors"] == 0, rep["issues"]["messages"][:5]

"""--character: the animation goes onto the user's character, its blendshapes matched through
the rig mapping. Characters come from FBX (ufbx), OBJ with per-shape OBJ files (trimesh), and an
FBX written by Blender's own exporter (a file our writer never touched)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from _export_util import WAV, baked_track, cli_bake
from emoanim_server.errors import InputError
from emoanim_server.export import write_track
from emoanim_server.export.character import build_scene, load_character, proxy_character
from emoanim_server.rigs import load_rig
from emoanim_server.track import ARKIT_NAMES

READERS = Path(__file__).resolve().parent / "readers"
BLENDER = shutil.which("blender")


def test_proxy_is_small_and_complete():
    p = Path(__import__("emoanim_server.export", fromlist=["x"]).__file__).parent / "assets" / "proxy_arkit.npz"
    assert p.stat().st_size < 300_000
    ch = proxy_character()
    face = next(m for m in ch.meshes if m.shapes)
    assert list(face.shapes) == list(ARKIT_NAMES)
    moved = {n: float(np.abs(d).max()) for n, d in face.shapes.items()}
    assert min(moved.values()) > 0.003, "every ARKit shape visibly moves the proxy (> 3 mm)"


def test_fbx_character_read_back_by_ufbx_equals_the_proxy():
    pytest.importorskip("ufbx", reason="ufbx not installed (pip install 'emoanim[formats]')")
    ch = load_character(str(cli_bake(".fbx")))
    ref = proxy_character()
    assert [m.name for m in ch.meshes] == [m.name for m in ref.meshes]
    for a, b in zip(ch.meshes, ref.meshes):
        np.testing.assert_allclose(a.positions, b.positions, atol=1e-5)
        assert list(a.shapes) == list(b.shapes)
        for k in b.shapes:
            np.testing.assert_allclose(a.shapes[k], b.shapes[k], atol=1e-5)
        assert (np.array(ch.joint_names)[a.joints[:, 0]] == np.array(ref.joint_names)[b.joints[:, 0]]).all()


def _obj_character(tmp_path: Path) -> Path:
    """The proxy's face as head.obj + head.MouthOpen.obj + head.Smile.obj (trimesh writes them)."""
    trimesh = pytest.importorskip("trimesh", reason="trimesh not installed (pip install 'emoanim[formats]')")
    face = next(m for m in proxy_character().meshes if m.shapes)
    base = tmp_path / "head.obj"
    trimesh.Trimesh(face.positions, face.faces, process=False).export(base)
    for name, src in (("MouthOpen", "jawOpen"), ("Smile", "mouthSmileLeft")):
        trimesh.Trimesh(face.positions + face.shapes[src], face.faces, process=False).export(tmp_path / f"head.{name}.obj")
    return base


def test_obj_character_with_custom_rig_mapping(tmp_path):
    base = _obj_character(tmp_path)
    ch = load_character(str(base))
    assert sorted(ch.shape_names) == ["MouthOpen", "Smile"]
    rig_file = tmp_path / "rig.json"
    rig_file.write_text('{"name": "toon", "curves": {"MouthOpen": {"jawOpen": 1.0},'
                        ' "Smile": {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5}}}')
    rig = load_rig(str(rig_file))
    track = baked_track()
    scene = build_scene(track, rig, ch)
    np.testing.assert_allclose(scene.weights[0]["MouthOpen"], np.clip(track.curve("jawOpen"), 0, 1), atol=1e-6)
    track.metadata["character"] = str(base)
    try:
        for ext in (".glb", ".fbx", ".usda"):
            out = tmp_path / f"toon{ext}"
            write_track(track, str(out), rig=rig)
            assert out.stat().st_size > 1000
    finally:
        del track.metadata["character"]
    from test_export_gltf import accessor, read_glb, validate

    doc, binc = read_glb(tmp_path / "toon.glb")
    mesh = doc["meshes"][0]
    assert mesh["extras"]["targetNames"] == ["MouthOpen", "Smile"]
    anim = doc["animations"][0]
    ch_w = next(c for c in anim["channels"] if c["target"]["path"] == "weights")
    w = accessor(doc, binc, anim["samplers"][ch_w["sampler"]]["output"]).reshape(track.n_frames, 2)
    np.testing.assert_allclose(w[:, 1], (track.curve("mouthSmileLeft") + track.curve("mouthSmileRight")) / 2, atol=1e-6)
    rep = validate(tmp_path / "toon.glb")
    assert rep["issues"]["numErrors"] == 0, rep["issues"]["messages"][:5]


def test_unmatched_blendshapes_are_a_clear_error(tmp_path):
    base = _obj_character(tmp_path)
    with pytest.raises(InputError, match="none of the character's 2 blendshapes"):
        build_scene(baked_track(), load_rig("arkit"), load_character(str(base)))


def test_bad_character_file_fails_before_the_bake(tmp_path, capsys):
    from emoanim_server.cli import main

    bad = tmp_path / "x.fbx"
    bad.write_text("hello")
    out = tmp_path / "o.glb"
    assert main(["bake", str(WAV), "--character", str(bad), "-q", "-o", str(out)]) == 3
    err = capsys.readouterr().err
    assert "x.fbx" in err and "FBX" in err and not out.exists()
    assert main(["bake", str(WAV), "--character", str(tmp_path / "none.fbx"), "-q", "-o", str(out)]) == 3


@pytest.mark.skipif(BLENDER is None, reason="Blender not installed (Debian blender, see .ci/run)")
def test_character_exported_by_blender(tmp_path):
    pytest.importorskip("ufbx", reason="ufbx not installed")
    src = tmp_path / "blender_character.fbx"
    r = subprocess.run([BLENDER, "-b", "--factory-startup", "-noaudio", "--python", str(READERS / "blender_reexport.py"),
                        "--", str(cli_bake(".fbx")), str(src)], capture_output=True, text=True, timeout=600)
    assert src.is_file(), r.stdout[-2000:] + r.stderr[-2000:]
    ch = load_character(str(src))
    face = next(m for m in ch.meshes if m.shapes)
    assert set(ARKIT_NAMES) <= set(face.shapes)
    ref = next(m for m in proxy_character().meshes if m.shapes)
    # same shape, whatever vertex order Blender chose: compare the jawOpen displacement sizes
    assert np.abs(face.shapes["jawOpen"]).max() == pytest.approx(np.abs(ref.shapes["jawOpen"]).max(), rel=1e-3)
    assert {"Hips", "Head", "LeftUpperArm"} <= set(ch.joint_names)
    track = baked_track()
    scene = build_scene(track, load_rig("arkit"), ch)
    assert any(sj is not None for sj in scene.skin_joints), "Blender's skin joints matched by name"
    out = tmp_path / "on_blender_character.glb"
    track.metadata["character"] = str(src)
    try:
        write_track(track, str(out))
    finally:
        del track.metadata["character"]
    from test_export_gltf import validate

    rep = validate(out)
    assert rep["issues"]["numErrors"] == 0, rep["issues"]["messages"][:5]


def test_glb_character_morph_targets_are_read(tmp_path):
    """trimesh reads the GLB's meshes; its morph targets (which trimesh skips) are matched to
    them by vertex positions: our own GLB read back as a character equals the proxy."""
    pytest.importorskip("trimesh", reason="trimesh not installed (pip install 'emoanim[formats]')")
    ch = load_character(str(cli_bake(".glb")))
    ref = {m.name: m for m in proxy_character().meshes}
    assert sorted(m.name for m in ch.meshes) == sorted(ref)
    for m in ch.meshes:
        np.testing.assert_allclose(m.positions, ref[m.name].positions, atol=1e-6)
        assert list(m.shapes) == list(ref[m.name].shapes)
        for k, d in m.shapes.items():
            np.testing.assert_allclose(d, ref[m.name].shapes[k], atol=1e-6)


def test_mixamo_bone_names_match_the_skeleton():
    from emoanim_server.export.character import Character, Mesh

    m = Mesh("arm", [[0, 1, 0], [1, 1, 0], [0, 2, 0]], [[0, 1, 2]], joints=np.zeros((3, 4), np.int32),
             weights=np.tile([1.0, 0, 0, 0], (3, 1)))
    scene = build_scene(baked_track(), load_rig("arkit"), Character("c", [m], ["mixamorig:LeftForeArm"], "x"))
    assert (scene.skin_joints[0][:, 0] == scene.skeleton.names.index("LeftLowerArm")).all()

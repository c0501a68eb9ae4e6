"""USD export (``.usda`` text, ``.usdc`` / ``.usd`` binary) with UsdSkel: the character's meshes
bound to a Skeleton, one SkelAnimation with the joints' local transforms and the face as
``blendShapeWeights`` (one BlendShape prim per shape, named like the shape).

Why usd-core (Pixar's own library from PyPI): USD is what Omniverse, Houdini, Maya and Apple's
tools exchange, and authoring through the reference implementation is the surest way to a file
``usdchecker`` passes (tests/test_export_usd.py runs the same validators).

Layout: ``/EmoAnim`` (SkelRoot, the default prim) > ``Skeleton`` (joints as paths ``Hips/Spine``,
bind = world rest transforms, rest = local) > ``Anim`` (SkelAnimation, time samples at every
frame ``i``; ``timeCodesPerSecond`` = fps, so time code i is i / fps seconds) and one Mesh per
character mesh with SkelBindingAPI (joint indices/weights, ``skel:blendShapes`` + targets).
Y-up, metres (``metersPerUnit`` 1). With the source audio known, ``/EmoAnim/Audio``
(UsdMedia.SpatialAudio, non-spatial) references it by a path relative to the output file.
"""
from __future__ import annotations

import os
import re
import tempfile

import numpy as np

from ..errors import InputError
from ..rigs import Rig
from ..track import AnimationTrack
from .character import Scene, build_scene, load_character
from .common import atomic_write, register


def _pxr():
    try:
        from pxr import Gf, Sdf, Usd, UsdGeom, UsdMedia, UsdSkel, Vt
    except ImportError:
        raise InputError("USD export needs usd-core (pip install 'emoanim[formats]')") from None
    return Gf, Sdf, Usd, UsdGeom, UsdMedia, UsdSkel, Vt


def _ident(name: str, taken: set[str]) -> str:
    """A valid, unique prim name for a shape or mesh name."""
    s = re.sub(r"[^A-Za-z0-9_]", "_", name) or "_"
    if s[0].isdigit():
        s = "_" + s
    base, k = s, 1
    while s in taken:
        k += 1
        s = f"{base}_{k}"
    taken.add(s)
    return s


def usd_stage(scene: Scene, out_dir: str | None = None):
    """The stage in memory; the audio is referenced relative to ``out_dir`` (where the file goes)."""
    Gf, Sdf, Usd, UsdGeom, UsdMedia, UsdSkel, Vt = _pxr()
    stage = Usd.Stage.CreateInMemory()
    UsdGeom.SetStageUpAxis(stage, UsdGeom.Tokens.y)
    UsdGeom.SetStageMetersPerUnit(stage, 1.0)
    stage.SetTimeCodesPerSecond(scene.fps)
    stage.SetFramesPerSecond(scene.fps)
    stage.SetStartTimeCode(0)
    stage.SetEndTimeCode(scene.n_frames - 1)
    root = UsdSkel.Root.Define(stage, "/EmoAnim")
    stage.SetDefaultPrim(root.GetPrim())
    skel_names = scene.skeleton.names
    parents = scene.skeleton.parents
    paths: list[str] = []
    for i, n in enumerate(skel_names):
        paths.append(n if parents[i] < 0 else f"{paths[parents[i]]}/{n}")
    skel = UsdSkel.Skeleton.Define(stage, "/EmoAnim/Skeleton")
    skel.CreateJointsAttr(paths)
    skel.CreateJointNamesAttr(skel_names)
    bind = [Gf.Matrix4d(1.0).SetTranslate(Gf.Vec3d(*map(float, g))) for g in scene.bind_globals]
    skel.CreateBindTransformsAttr(Vt.Matrix4dArray(bind))
    root_j = parents.index(-1)
    rest = []
    for i in range(len(skel_names)):
        t = scene.skeleton.offsets[i] if i != root_j else scene.root_positions[0]
        rest.append(Gf.Matrix4d(1.0).SetTranslate(Gf.Vec3d(*map(float, t))))
    skel.CreateRestTransformsAttr(Vt.Matrix4dArray(rest))
    anim = UsdSkel.Animation.Define(stage, "/EmoAnim/Skeleton/Anim")
    anim.CreateJointsAttr(paths)
    binding = UsdSkel.BindingAPI.Apply(skel.GetPrim())
    binding.CreateAnimationSourceRel().SetTargets([anim.GetPath()])
    # ---- meshes
    shape_tokens: list[str] = []
    taken_mesh: set[str] = {"Skeleton", "Audio"}
    for mi, m in enumerate(scene.character.meshes):
        mesh = UsdGeom.Mesh.Define(stage, f"/EmoAnim/{_ident(m.name, taken_mesh)}")
        mesh.CreatePointsAttr(Vt.Vec3fArray.FromNumpy(m.positions.astype(np.float32)))
        mesh.CreateFaceVertexCountsAttr(Vt.IntArray.FromNumpy(np.full(len(m.faces), 3, np.int32)))
        mesh.CreateFaceVertexIndicesAttr(Vt.IntArray.FromNumpy(m.faces.reshape(-1).astype(np.int32)))
        mesh.CreateNormalsAttr(Vt.Vec3fArray.FromNumpy(m.normals.astype(np.float32)))
        mesh.SetNormalsInterpolation(UsdGeom.Tokens.vertex)
        mesh.CreateSubdivisionSchemeAttr(UsdGeom.Tokens.none)
        lo, hi = m.positions.min(axis=0), m.positions.max(axis=0)
        mesh.CreateExtentAttr(Vt.Vec3fArray([Gf.Vec3f(*map(float, lo)), Gf.Vec3f(*map(float, hi))]))
        if m.colors is not None:
            pv = mesh.CreateDisplayColorPrimvar(UsdGeom.Tokens.vertex)
            pv.Set(Vt.Vec3fArray.FromNumpy(m.colors.astype(np.float32)))
        mb = UsdSkel.BindingAPI.Apply(mesh.GetPrim())
        mb.CreateSkeletonRel().SetTargets([skel.GetPath()])
        sj = scene.skin_joints[mi]
        if sj is not None:
            mb.CreateJointIndicesPrimvar(False, 4).Set(Vt.IntArray.FromNumpy(sj.reshape(-1).astype(np.int32)))
            mb.CreateJointWeightsPrimvar(False, 4).Set(Vt.FloatArray.FromNumpy(m.weights.reshape(-1).astype(np.float32)))
        else:  # rigid on the root joint: still bound, so the SkelRoot moves it with the body
            mb.CreateJointIndicesPrimvar(True, 1).Set(Vt.IntArray([root_j]))
            mb.CreateJointWeightsPrimvar(True, 1).Set(Vt.FloatArray([1.0]))
        mb.CreateGeomBindTransformAttr(Gf.Matrix4d(1.0))
        if m.shapes:
            taken: set[str] = set()
            targets = []
            tokens = []
            for sname, delta in m.shapes.items():
                nz = np.nonzero(np.abs(delta).max(axis=1) > 0)[0]
                if len(nz) == 0:
                    nz = np.array([0])
                bs = UsdSkel.BlendShape.Define(stage, mesh.GetPath().AppendChild(_ident(sname, taken)))
                bs.CreateOffsetsAttr(Vt.Vec3fArray.FromNumpy(delta[nz].astype(np.float32)))
                bs.CreatePointIndicesAttr(Vt.IntArray.FromNumpy(nz.astype(np.int32)))
                targets.append(bs.GetPath())
                tokens.append(sname)
                if sname not in shape_tokens:
                    shape_tokens.append(sname)
            mb.CreateBlendShapesAttr(tokens)
            mb.CreateBlendShapeTargetsRel().SetTargets(targets)
    # ---- animation samples
    trans = np.repeat(scene.skeleton.offsets[None].astype(np.float32), scene.n_frames, axis=0)
    trans[:, root_j] = scene.root_positions
    rots = scene.rotations / np.linalg.norm(scene.rotations, axis=-1, keepdims=True)
    xyzw = np.ascontiguousarray(rots, np.float32)  # GfQuatf's memory layout is (x, y, z, w) like ours
    t_attr = anim.CreateTranslationsAttr()
    r_attr = anim.CreateRotationsAttr()
    anim.CreateScalesAttr().Set(Vt.Vec3hArray([Gf.Vec3h(1, 1, 1)] * len(skel_names)))
    weights = np.zeros((scene.n_frames, len(shape_tokens)), np.float32)
    for mi, m in enumerate(scene.character.meshes):
        for sname, w in scene.weights[mi].items():
            weights[:, shape_tokens.index(sname)] = w
    if shape_tokens:
        anim.CreateBlendShapesAttr(shape_tokens)
        w_attr = anim.CreateBlendShapeWeightsAttr()
    for i in range(scene.n_frames):
        t_attr.Set(Vt.Vec3fArray.FromNumpy(trans[i]), i)
        r_attr.Set(Vt.QuatfArray.FromNumpy(xyzw[i]), i)
        if shape_tokens:
            w_attr.Set(Vt.FloatArray.FromNumpy(weights[i]), i)
    if scene.audio:
        audio = UsdMedia.SpatialAudio.Define(stage, "/EmoAnim/Audio")
        rel = os.path.relpath(os.path.abspath(scene.audio), os.path.abspath(out_dir)) if out_dir else scene.audio
        audio.CreateFilePathAttr(Sdf.AssetPath(rel.replace(os.sep, "/")))
        audio.CreateAuralModeAttr(UsdMedia.Tokens.nonSpatial)  # plays from time code 0 (the default)
    stage.GetRootLayer().documentation = "EmoAnim: face curves + body animation (UsdSkel)"
    return stage


def _write(track: AnimationTrack, path: str, rig: Rig, binary: bool) -> None:
    scene = build_scene(track, rig, load_character(track.metadata.get("character")), path)
    stage = usd_stage(scene, os.path.dirname(os.path.abspath(path)))
    layer = stage.GetRootLayer()
    if not binary:
        text = layer.ExportToString()
        with atomic_write(path) as f:
            f.write(text)
        return
    with tempfile.TemporaryDirectory() as d:
        tmp = os.path.join(d, "out.usdc")
        if not layer.Export(tmp):
            raise InputError(f"{path}: USD could not write the layer")
        with open(tmp, "rb") as src:
            data = src.read()
    with atomic_write(path, "wb") as f:
        f.write(data)


@register("usda", ".usda", text=True)
def write_usda(track: AnimationTrack, path: str, rig: Rig) -> None:
    _write(track, path, rig, binary=False)


@register("usd", ".usd", ".usdc")
def write_usdc(track: AnimationTrack, path: str, rig: Rig) -> None:
    _write(track, path, rig, binary=True)

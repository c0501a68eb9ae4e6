"""Binary FBX 7.4 export: the character (meshes + blendshapes + skin), the body skeleton as
LimbNodes, and one take with the skeleton's animation and the face as blendshape-channel
``DeformPercent`` curves (0..100) named like the shapes.

Why our own writer: no maintained FBX writer exists on PyPI, and Blender, Maya, MotionBuilder,
Unity and Unreal all import FBX. It is checked against three independent readers in
``tests/test_export_fbx.py``: ufbx, assimp and Blender's importer run headless.

Layout (the parts of the format the readers rely on):

- header ``Kaydara FBX Binary`` + version 7400; nodes with 32-bit offsets; arrays over 64
  elements deflate-compressed; the footer with the fixed ids FBX SDK files carry;
- GlobalSettings: Y-up, +Z front, +X right-handed axis, centimetres (``UnitScaleFactor`` 1: the
  unit Maya/Unity/Unreal default to; every length is metres x 100), ``TimeMode`` and
  ``CustomFrameRate`` = the track's fps;
- a Null ``EmoAnim`` root with the skeleton (``LimbNode`` models, rest rotation identity,
  ``Lcl Translation`` = bone offset) and one Mesh model per character mesh; Skin deformer with a
  Cluster per bone (``Transform``/``TransformLink`` = bind matrices) and a BindPose;
- blendshapes: ``BlendShape`` deformer -> one ``BlendShapeChannel`` per shape -> a ``Shape``
  geometry (sparse vertex deltas);
- animation: AnimStack ``EmoAnim`` -> AnimLayer -> AnimCurveNodes (``T``/``R`` per joint, XYZ
  Euler degrees; ``DeformPercent`` per channel) -> AnimCurves keyed at every frame time
  ``i / fps`` (KTime = i * 46186158000 / fps, exact for every allowed fps), linear.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..rigs import Rig
from ..track import AnimationTrack
from .character import Scene, build_scene, load_character
from .common import atomic_write, register

FBX_VERSION = 7400
KTIME_SECOND = 46186158000
CM = 100.0  # metres -> centimetres
#: FBX TimeMode enum for the allowed frame rates (FbxTime::EMode)
TIME_MODE = {60: 3, 50: 4, 30: 6, 25: 10, 24: 11}
_HEADER = b"Kaydara FBX Binary  \x00\x1a\x00"
_FILE_ID = bytes.fromhex("28b32aebb624ccc2bfc8b02aa92bfcf1")
_FOOT_ID = bytes.fromhex("fabcab09d0c8d466b176fb831cf7267e")
_FOOT_MAGIC = bytes.fromhex("f85a8c6adef5d97eece90ce3758f290b")
_CREATION_TIME = "1970-01-01 10:00:00:000"  # fixed, pairs with the fixed file/footer ids
#: nodes written with a null record even when they have neither children nor... (SDK habit)
_ALWAYS_SENTINEL = {"AnimationStack", "AnimationLayer"}
#: KeyAttrFlags for linear keys; KeyAttrDataFloat = slopes 0, weights 1/3 (packed), velocity 0
_LINEAR_FLAGS = 0x00000104  # eInterpolationLinear | eTangentAuto (tangent ignored when linear)
_ATTR_DATA = struct.unpack("<4f", struct.pack("<4i", 0, 0, 218434821, 0))


# ------------------------------------------------------------------------------ encoding
class Raw(bytes):
    """A property written as raw bytes (type 'R')."""


@dataclass
class N:
    """One FBX node: name, typed properties, children."""

    name: str
    props: list[Any] = field(default_factory=list)
    children: list["N"] = field(default_factory=list)

    def add(self, name: str, *props: Any) -> "N":
        n = N(name, list(props))
        self.children.append(n)
        return n


class I32(int):
    pass


class I64(int):
    pass


class I16(int):
    pass


class F32(float):
    pass


def _prop(v: Any) -> bytes:
    if isinstance(v, bool):
        return b"C" + struct.pack("<?", v)
    if isinstance(v, I16):
        return b"Y" + struct.pack("<h", v)
    if isinstance(v, I64):
        return b"L" + struct.pack("<q", v)
    if isinstance(v, int):  # plain ints are int32 (I32 included)
        return b"I" + struct.pack("<i", v)
    if isinstance(v, F32):
        return b"F" + struct.pack("<f", v)
    if isinstance(v, float):
        return b"D" + struct.pack("<d", v)
    if isinstance(v, Raw):
        return b"R" + struct.pack("<I", len(v)) + bytes(v)
    if isinstance(v, (str, bytes)):
        b = v.encode("utf-8") if isinstance(v, str) else v
        return b"S" + struct.pack("<I", len(b)) + b
    if isinstance(v, np.ndarray):
        code = {np.dtype(np.float64): b"d", np.dtype(np.float32): b"f", np.dtype(np.int32): b"i",
                np.dtype(np.int64): b"l", np.dtype(np.bool_): b"b"}[v.dtype]
        data = np.ascontiguousarray(v.reshape(-1)).astype(v.dtype.newbyteorder("<")).tobytes()
        if v.size > 64:
            comp = zlib.compress(data, 1)  # level 1: ~4x faster than 6, files ~10 % larger
            return code + struct.pack("<III", v.size, 1, len(comp)) + comp
        return code + struct.pack("<III", v.size, 0, len(data)) + data
    raise TypeError(f"FBX property of type {type(v).__name__} not supported")


def _encode(node: N, offset: int, out: list[bytes]) -> int:
    """Append ``node`` (at absolute file ``offset``) to ``out``; returns the offset after it."""
    name = node.name.encode("ascii")
    props = b"".join(_prop(p) for p in node.props)
    head_len = 13 + len(name)
    slot = len(out)
    out.append(b"")  # header placeholder, filled in once the end offset is known
    out.append(props)
    pos = offset + head_len + len(props)
    for c in node.children:
        pos = _encode(c, pos, out)
    if node.children or not node.props or node.name in _ALWAYS_SENTINEL:
        out.append(b"\0" * 13)
        pos += 13
    out[slot] = struct.pack("<IIIB", pos, len(node.props), len(props), len(name)) + name
    return pos


def fbx_bytes(top: list[N]) -> bytes:
    out: list[bytes] = [_HEADER, struct.pack("<I", FBX_VERSION)]
    pos = len(_HEADER) + 4
    for n in top:
        pos = _encode(n, pos, out)
    out.append(b"\0" * 13)
    pos += 13
    out.append(_FOOT_ID)
    out.append(b"\0" * 4)
    pos += 20
    pad = (16 - pos % 16) % 16 or 16
    out.append(b"\0" * pad)
    out.append(struct.pack("<I", FBX_VERSION) + b"\0" * 120 + _FOOT_MAGIC)
    return b"".join(out)


# ------------------------------------------------------------------------------ helpers
def _p70(*entries: tuple) -> N:
    """Properties70 from (name, type, label, flags, *values) tuples."""
    n = N("Properties70")
    for e in entries:
        n.add("P", *e)
    return n


def _ktime(frames: np.ndarray, fps: int) -> np.ndarray:
    return (np.asarray(frames, np.int64) * KTIME_SECOND) // fps


def _matrix(t: np.ndarray) -> np.ndarray:
    """A translation matrix in FBX's layout (translation in elements 12..14)."""
    m = np.eye(4)
    m[3, :3] = t
    return m.reshape(-1)


class _Ids:
    def __init__(self) -> None:
        self.next = 2_000_000

    def __call__(self) -> I64:
        self.next += 1
        return I64(self.next)


def _name(name: str, cls: str) -> str:
    return f"{name}\x00\x01{cls}"


def euler_xyz(q: np.ndarray) -> np.ndarray:
    """xyzw quaternions -> FBX eEulerXYZ degrees (X applied first: R = Rz Ry Rx), unwrapped
    along time so no 360-degree pops appear between keys."""
    from ..gesture import rotations as R

    zyx = R.quat_to_euler(q, "ZYX")  # intrinsic Z, Y', X'' == extrinsic X then Y then Z
    return zyx[..., ::-1]


# ------------------------------------------------------------------------------ document
def fbx_document(scene: Scene, take: str = "EmoAnim") -> list[N]:
    ids = _Ids()
    skel = scene.skeleton
    fps = scene.fps
    n = scene.n_frames
    frames = np.arange(n)
    ktimes = _ktime(frames, fps)
    stop = I64(int(ktimes[-1]))
    objects = N("Objects")
    conns = N("Connections")
    counts: dict[str, int] = {}

    def obj(kind: str, *props: Any) -> N:
        counts[kind] = counts.get(kind, 0) + 1
        node = N(kind, list(props))
        objects.children.append(node)
        return node

    def oo(child: int, parent: int) -> None:
        conns.add("C", "OO", I64(child), I64(parent))

    def op(child: int, parent: int, prop: str) -> None:
        conns.add("C", "OP", I64(child), I64(parent), prop)

    # ---- root null + skeleton
    root_id = ids()
    root = obj("Model", root_id, _name("EmoAnim", "Model"), "Null")
    root.add("Version", 232)
    root.children.append(_p70())
    attr = obj("NodeAttribute", ids(), _name("EmoAnim", "NodeAttribute"), "Null")
    attr.add("TypeFlags", "Null")
    oo(attr.props[0], root_id)
    oo(root_id, 0)
    joint_ids: list[I64] = []
    for i, jn in enumerate(skel.names):
        jid = ids()
        joint_ids.append(jid)
        t = (skel.offsets[i] if skel.parents[i] >= 0 else scene.root_positions[0]) * CM
        m = obj("Model", jid, _name(jn, "Model"), "LimbNode")
        m.add("Version", 232)
        m.children.append(_p70(("Lcl Translation", "Lcl Translation", "", "A", *map(float, t)),
                               ("InheritType", "enum", "", "", 1),
                               ("DefaultAttributeIndex", "int", "Integer", "", 0)))
        m.add("Shading", True)
        m.add("Culling", "CullingOff")
        a = obj("NodeAttribute", ids(), _name(jn, "NodeAttribute"), "LimbNode")
        a.children.append(_p70(("Size", "double", "Number", "", 10.0)))
        a.add("TypeFlags", "Skeleton")
        oo(a.props[0], jid)
        p = skel.parents[i]
        oo(jid, joint_ids[p] if p >= 0 else root_id)
    # ---- material (vertex colours multiply it)
    mat_id = ids()
    mat = obj("Material", mat_id, _name("VertexColour", "Material"), "")
    mat.add("Version", 102)
    mat.add("ShadingModel", "lambert")
    mat.add("MultiLayer", 0)
    mat.children.append(_p70(("DiffuseColor", "Color", "", "A", 1.0, 1.0, 1.0),
                             ("Diffuse", "Vector3D", "Vector", "", 1.0, 1.0, 1.0)))
    # ---- meshes
    pose_nodes: list[tuple[I64, np.ndarray]] = [(root_id, _matrix(np.zeros(3)))]
    pose_nodes += [(jid, _matrix(scene.bind_globals[i] * CM)) for i, jid in enumerate(joint_ids)]
    channel_ids: list[dict[str, I64]] = []
    for mi, mesh in enumerate(scene.character.meshes):
        mid, gid = ids(), ids()
        model = obj("Model", mid, _name(mesh.name, "Model"), "Mesh")
        model.add("Version", 232)
        model.children.append(_p70(("DefaultAttributeIndex", "int", "Integer", "", 0)))
        model.add("Shading", True)
        model.add("Culling", "CullingOff")
        oo(mid, root_id)
        oo(mat_id, mid)
        pose_nodes.append((mid, _matrix(np.zeros(3))))
        geo = obj("Geometry", gid, _name(mesh.name, "Geometry"), "Mesh")
        geo.children.append(_p70())
        geo.add("Vertices", (mesh.positions.astype(np.float64) * CM))
        pvi = mesh.faces.astype(np.int32).copy()
        pvi[:, 2] = -pvi[:, 2] - 1  # the last index of each polygon is bitwise-negated
        geo.add("PolygonVertexIndex", pvi.reshape(-1))
        geo.add("GeometryVersion", 124)
        corner = mesh.faces.reshape(-1)
        le = geo.add("LayerElementNormal", 0)
        le.add("Version", 101)
        le.add("Name", "")
        le.add("MappingInformationType", "ByPolygonVertex")
        le.add("ReferenceInformationType", "Direct")
        le.add("Normals", mesh.normals[corner].astype(np.float64))
        layer_types = ["LayerElementNormal"]
        if mesh.colors is not None:
            lc = geo.add("LayerElementColor", 0)
            lc.add("Version", 101)
            lc.add("Name", "Col")
            lc.add("MappingInformationType", "ByPolygonVertex")
            lc.add("ReferenceInformationType", "Direct")
            rgba = np.concatenate([mesh.colors[corner], np.ones((len(corner), 1))], axis=1)
            lc.add("Colors", rgba.astype(np.float64))
            layer_types.append("LayerElementColor")
        lm = geo.add("LayerElementMaterial", 0)
        lm.add("Version", 101)
        lm.add("Name", "")
        lm.add("MappingInformationType", "AllSame")
        lm.add("ReferenceInformationType", "IndexToDirect")
        lm.add("Materials", np.zeros(1, np.int32))
        layer_types.append("LayerElementMaterial")
        layer = geo.add("Layer", 0)
        layer.add("Version", 100)
        for lt in layer_types:
            e = layer.add("LayerElement")
            e.add("Type", lt)
            e.add("TypedIndex", 0)
        oo(gid, mid)
        # blendshapes
        chans: dict[str, I64] = {}
        if mesh.shapes:
            bs_id = ids()
            bs = obj("Deformer", bs_id, _name(mesh.name, "Deformer"), "BlendShape")
            bs.add("Version", 100)
            oo(bs_id, gid)
            for sname, delta in mesh.shapes.items():
                cid, sid = ids(), ids()
                ch = obj("Deformer", cid, _name(sname, "SubDeformer"), "BlendShapeChannel")
                ch.add("Version", 100)
                ch.add("DeformPercent", 0.0)
                ch.add("FullWeights", np.array([100.0]))
                ch.children.append(_p70(("DeformPercent", "Number", "", "A", 0.0)))
                nz = np.nonzero(np.abs(delta).max(axis=1) > 0)[0]
                if len(nz) == 0:
                    nz = np.array([0])
                shp = obj("Geometry", sid, _name(sname, "Geometry"), "Shape")
                shp.add("Version", 100)
                shp.add("Indexes", nz.astype(np.int32))
                shp.add("Vertices", delta[nz].astype(np.float64) * CM)
                shp.add("Normals", np.zeros(len(nz) * 3))
                oo(sid, cid)
                oo(cid, bs_id)
                chans[sname] = cid
        channel_ids.append(chans)
        # skin
        sj = scene.skin_joints[mi]
        if sj is not None:
            skin_id = ids()
            skin = obj("Deformer", skin_id, _name(mesh.name, "Deformer"), "Skin")
            skin.add("Version", 101)
            skin.add("Link_DeformAcuracy", 50.0)
            oo(skin_id, gid)
            for j, jn in enumerate(skel.names):
                sel = (sj == j) & (mesh.weights > 0)
                verts = np.nonzero(sel.any(axis=1))[0]
                if len(verts) == 0:
                    continue
                w = np.where(sel, mesh.weights, 0).sum(axis=1)[verts]
                cl_id = ids()
                cl = obj("Deformer", cl_id, _name(jn, "SubDeformer"), "Cluster")
                cl.add("Version", 100)
                cl.add("UserData", "", "")
                cl.add("Indexes", verts.astype(np.int32))
                cl.add("Weights", w.astype(np.float64))
                cl.add("Transform", _matrix(-scene.bind_globals[j] * CM))
                cl.add("TransformLink", _matrix(scene.bind_globals[j] * CM))
                oo(cl_id, skin_id)
                oo(joint_ids[j], cl_id)
    pose = obj("Pose", ids(), _name("BindPose", "Pose"), "BindPose")
    pose.add("Type", "BindPose")
    pose.add("Version", 100)
    pose.add("NbPoseNodes", len(pose_nodes))
    for pid, mtx in pose_nodes:
        pn = pose.add("PoseNode")
        pn.add("Node", pid)
        pn.add("Matrix", mtx)
    # ---- animation
    stack_id, layer_id = ids(), ids()
    stack = obj("AnimationStack", stack_id, _name(take, "AnimStack"), "")
    stack.children.append(_p70(("LocalStart", "KTime", "Time", "", I64(0)), ("LocalStop", "KTime", "Time", "", stop),
                               ("ReferenceStart", "KTime", "Time", "", I64(0)),
                               ("ReferenceStop", "KTime", "Time", "", stop)))
    obj("AnimationLayer", layer_id, _name("BaseLayer", "AnimLayer"), "")
    oo(layer_id, stack_id)

    def curve(values: np.ndarray, node_id: int, prop: str) -> None:
        cid = ids()
        c = obj("AnimationCurve", cid, _name("", "AnimCurve"), "")
        c.add("Default", float(values[0]))
        c.add("KeyVer", 4008)
        c.add("KeyTime", ktimes.astype(np.int64))
        c.add("KeyValueFloat", np.asarray(values, np.float32))
        c.add("KeyAttrFlags", np.array([_LINEAR_FLAGS], np.int32))
        c.add("KeyAttrDataFloat", np.array(_ATTR_DATA, np.float32))
        c.add("KeyAttrRefCount", np.array([n], np.int32))
        op(cid, node_id, prop)

    def curve_node(kind: str, target: int, target_prop: str, values: np.ndarray, axes: tuple[str, ...]) -> None:
        cn_id = ids()
        cn = obj("AnimationCurveNode", cn_id, _name(kind, "AnimCurveNode"), "")
        cn.children.append(_p70(*[(f"d|{a}", "Number", "", "A", float(values[0, k])) for k, a in enumerate(axes)]))
        oo(cn_id, layer_id)
        op(cn_id, target, target_prop)
        for k, a in enumerate(axes):
            curve(values[:, k], cn_id, f"d|{a}")

    root_j = skel.parents.index(-1)
    curve_node("T", joint_ids[root_j], "Lcl Translation", scene.root_positions * CM, ("X", "Y", "Z"))
    eul = euler_xyz(scene.rotations)
    for j, jid in enumerate(joint_ids):
        if j == root_j or np.any(np.abs(scene.rotations[:, j, :3]) > 1e-7):
            curve_node("R", jid, "Lcl Rotation", eul[:, j], ("X", "Y", "Z"))
    for mi, chans in enumerate(channel_ids):
        for sname, cid in chans.items():
            w = scene.weights[mi].get(sname)
            if w is not None:
                curve_node("DeformPercent", cid, "DeformPercent", (np.asarray(w, np.float64) * 100.0)[:, None],
                           ("DeformPercent",))
    # ---- header, settings, definitions
    header = N("FBXHeaderExtension")
    header.add("FBXHeaderVersion", 1003)
    header.add("FBXVersion", FBX_VERSION)
    header.add("EncryptionType", 0)
    ts = header.add("CreationTimeStamp")
    for k, v in (("Version", 1000), ("Year", 1970), ("Month", 1), ("Day", 1), ("Hour", 10), ("Minute", 0),
                 ("Second", 0), ("Millisecond", 0)):
        ts.add(k, v)
    header.add("Creator", "EmoAnim FBX exporter")
    gs = N("GlobalSettings")
    gs.add("Version", 1000)
    gs.children.append(_p70(
        ("UpAxis", "int", "Integer", "", 1), ("UpAxisSign", "int", "Integer", "", 1),
        ("FrontAxis", "int", "Integer", "", 2), ("FrontAxisSign", "int", "Integer", "", 1),
        ("CoordAxis", "int", "Integer", "", 0), ("CoordAxisSign", "int", "Integer", "", 1),
        ("OriginalUpAxis", "int", "Integer", "", 1), ("OriginalUpAxisSign", "int", "Integer", "", 1),
        ("UnitScaleFactor", "double", "Number", "", 1.0), ("OriginalUnitScaleFactor", "double", "Number", "", 1.0),
        ("AmbientColor", "ColorRGB", "Color", "", 0.0, 0.0, 0.0),
        ("DefaultCamera", "KString", "", "", "Producer Perspective"),
        ("TimeMode", "enum", "", "", TIME_MODE.get(fps, 14)),
        ("TimeProtocol", "enum", "", "", 2),
        ("SnapOnFrameMode", "enum", "", "", 0),
        ("TimeSpanStart", "KTime", "Time", "", I64(0)), ("TimeSpanStop", "KTime", "Time", "", stop),
        ("CustomFrameRate", "double", "Number", "", float(fps))))
    docs = N("Documents")
    docs.add("Count", 1)
    doc = docs.add("Document", ids(), "Scene", "Scene")
    doc.children.append(_p70(("SourceObject", "object", "", ""), ("ActiveAnimStackName", "KString", "", "", take)))
    doc.add("RootNode", I64(0))
    defs = N("Definitions")
    defs.add("Version", 100)
    defs.add("Count", sum(counts.values()) + 1)
    ot = defs.add("ObjectType", "GlobalSettings")
    ot.add("Count", 1)
    for kind, c in counts.items():
        ot = defs.add("ObjectType", kind)
        ot.add("Count", c)
    takes = N("Takes")
    takes.add("Current", take)
    tk = takes.add("Take", take)
    tk.add("FileName", f"{take}.tak")
    tk.add("LocalTime", I64(0), stop)
    tk.add("ReferenceTime", I64(0), stop)
    return [header, N("FileId", [Raw(_FILE_ID)]), N("CreationTime", [_CREATION_TIME]),
            N("Creator", ["EmoAnim FBX exporter"]), gs, docs, N("References"), defs, objects, conns, takes]


@register("fbx", ".fbx")
def write_fbx(track: AnimationTrack, path: str, rig: Rig) -> None:
    scene = build_scene(track, rig, load_character(track.metadata.get("character")), path)
    data = fbx_bytes(fbx_document(scene))
    with atomic_write(path, "wb") as f:
        f.write(data)

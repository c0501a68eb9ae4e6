"""Generate the bundled proxy character (emoanim_server/export/assets/proxy_arkit.npz).

Why procedural: a shipped asset must be ours to license (Apache-2.0 with the code) and tiny; a
sculpted head is neither. The proxy only has to make every ARKit curve visibly do what its name
says, so a user opening an exported FBX/GLB/USD sees the animation at once.

Head: an ellipsoid UV sphere with a nose, a mouth slit (upper and lower lip vertices split so
jawOpen opens it onto a dark mouth interior), a tongue, and two eyeballs with pupils. The 52
shapes are smooth region displacements (gaussian falloffs around lip corners, brows, cheeks...)
and eyeball rotations/squashes. Body: a box per bone, skinned rigidly to the Unity-Humanoid
skeleton (emoanim_server.gesture.skeleton.humanoid). Run: python tools/make_proxy_character.py
"""
from __future__ import annotations

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

from emoanim_server.export.character import Character, Mesh, save_npz  # noqa: E402
from emoanim_server.gesture.skeleton import humanoid  # noqa: E402
from emoanim_server.track import ARKIT_NAMES  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "..", "emoanim_server", "export", "assets", "proxy_arkit.npz")
SKIN = (0.86, 0.68, 0.56)
LIP = (0.72, 0.30, 0.30)


def globals_of(skel) -> np.ndarray:
    g = np.zeros((len(skel.names), 3))
    for i, p in enumerate(skel.parents):
        g[i] = skel.offsets[i] + (g[p] if p >= 0 else 0)
    return g


def uv_sphere(n_lat: int, n_lon: int) -> tuple[np.ndarray, list[list[int]]]:
    """Unit sphere: poles + rings; returns vertices and the ring index grid."""
    verts = [(0.0, 1.0, 0.0)]
    rings = []
    for i in range(1, n_lat):
        th = np.pi * i / n_lat
        ring = []
        for j in range(n_lon):
            ph = 2 * np.pi * j / n_lon
            ring.append(len(verts))
            verts.append((np.sin(th) * np.sin(ph), np.cos(th), np.sin(th) * np.cos(ph)))  # j=0 faces +Z
        rings.append(ring)
    verts.append((0.0, -1.0, 0.0))
    return np.array(verts), rings


def sphere_faces(rings: list[list[int]], n_verts: int) -> list[tuple[int, int, int]]:
    f = []
    n = len(rings[0])
    for j in range(n):
        f.append((0, rings[0][j], rings[0][(j + 1) % n]))
    for a, b in zip(rings[:-1], rings[1:]):
        for j in range(n):
            k = (j + 1) % n
            f.append((a[j], b[j], a[k]))
            f.append((a[k], b[j], b[k]))
    last = n_verts - 1  # counter-clockwise seen from outside (glTF / FBX front faces)
    for j in range(n):
        f.append((rings[-1][(j + 1) % n], rings[-1][j], last))
    return f


def gauss(p: np.ndarray, c, s: float) -> np.ndarray:
    return np.exp(-np.sum((p - np.asarray(c)) ** 2, axis=1) / (2 * s * s))


def rot_x(p: np.ndarray, pivot, ang: float) -> np.ndarray:
    c, s = np.cos(ang), np.sin(ang)
    q = p - pivot
    return np.stack([q[:, 0], c * q[:, 1] - s * q[:, 2], s * q[:, 1] + c * q[:, 2]], 1) + pivot


def rot_y(p: np.ndarray, pivot, ang: float) -> np.ndarray:
    c, s = np.cos(ang), np.sin(ang)
    q = p - pivot
    return np.stack([c * q[:, 0] + s * q[:, 2], q[:, 1], -s * q[:, 0] + c * q[:, 2]], 1) + pivot


def head_mesh(center: np.ndarray, head_joint: int) -> Mesh:
    R = 0.1
    n_lat, n_lon = 22, 28
    unit, rings = uv_sphere(n_lat, n_lon)
    faces = sphere_faces(rings, len(unit))
    p = unit * [0.085, 0.11, 0.095]  # local to the head centre
    # mouth slit on ring `mr` over the front longitudes: lower-lip copies of those vertices
    mr = int(round(n_lat * 0.64)) - 1  # ring just below the equator-ish (y ~ -0.045)
    front = [j for j in range(n_lon) if min(j, n_lon - j) <= 3]
    inner = [j for j in front if min(j, n_lon - j) <= 2]  # corners (|j| = 3) stay shared
    dup = {}
    p = list(p)
    for j in inner:
        dup[rings[mr][j]] = len(p)
        p.append(p[rings[mr][j]].copy())
    p = np.array(p)
    below = set(rings[mr + 1])
    faces2 = []
    for f in faces:
        if any(v in below for v in f) and not any(v in rings[mr - 1] for v in f):
            f = tuple(dup.get(v, v) for v in f)  # faces between the slit ring and the next ring down
        faces2.append(f)
    faces = faces2
    lower_lip = np.array(list(dup.values()))
    upper_lip = np.array(list(dup.keys()))
    # nose bump
    nose_c = np.array([0.0, -0.005, 0.095])
    w = gauss(p, nose_c, 0.018)
    p = p + np.outer(w, [0, -0.004, 0.022])
    n_head = len(p)
    colors = np.tile(SKIN, (n_head, 1))
    mouth_y = p[upper_lip, 1].mean()
    lipw = np.clip(1.6 * gauss(p * [0.55, 1.5, 1.0], [0, mouth_y * 1.5, 0.095], 0.011), 0, 1)
    lipw = np.where(p[:, 2] > 0.05, lipw, 0)
    colors = colors * (1 - lipw[:, None]) + np.outer(lipw, LIP)

    parts_v = [p]
    parts_f = [np.array(faces)]
    parts_c = [colors]

    def add_sphere(center_l, radii, color_fn, n1=10, n2=14):
        u, rr = uv_sphere(n1, n2)
        base = sum(len(x) for x in parts_v)
        parts_v.append(u * radii + center_l)
        parts_f.append(np.array(sphere_faces(rr, len(u))) + base)
        parts_c.append(np.array([color_fn(x) for x in u]))
        return np.arange(base, base + len(u))

    # mouth interior (dark) and tongue
    mouth_idx = add_sphere([0, mouth_y - 0.006, 0.035], [0.05, 0.03, 0.03], lambda u: (0.12, 0.03, 0.04))
    tongue_idx = add_sphere([0, mouth_y - 0.014, 0.05], [0.018, 0.006, 0.022], lambda u: (0.85, 0.42, 0.45), 6, 10)
    del mouth_idx
    eyes = {}
    for side, sx in (("Left", 1.0), ("Right", -1.0)):
        c = np.array([sx * 0.033, 0.022, 0.077])
        idx = add_sphere(c, [0.016] * 3, lambda u: (0.05, 0.05, 0.08) if u[2] > 0.8 else
                         ((0.25, 0.45, 0.7) if u[2] > 0.6 else (0.95, 0.95, 0.95)))
        eyes[side] = (idx, c)
    P = np.concatenate(parts_v)
    F = np.concatenate(parts_f).astype(np.int32)
    C = np.concatenate(parts_c)
    V = len(P)
    head_only = np.zeros(V, bool)
    head_only[:n_head] = True
    lips_zone = head_only & (p.shape[0] > 0)

    shapes: dict[str, np.ndarray] = {}

    def region(c, s, mask=None):
        w = np.zeros(V)
        w[:n_head] = gauss(P[:n_head], c, s)
        w[:n_head] *= (P[:n_head, 2] > -0.02)
        if mask is not None:
            w *= mask
        return w

    lower_set = np.zeros(V, bool)
    lower_set[lower_lip] = True
    below_mouth = head_only & (P[:, 1] < mouth_y - 1e-4) & ~np.isin(np.arange(V), upper_lip)
    below_mouth |= lower_set
    # jaw: the face below the slit rotates about a pivot near the ears
    jaw_w = np.where(below_mouth, np.clip((P[:, 2] + 0.02) / 0.06, 0, 1), 0.0)
    jaw_w = np.maximum(jaw_w, 0)
    jaw_w[tongue_idx] = 1.0
    pivot = np.array([0, 0.0, -0.01])
    jaw_open = (rot_x(P, pivot, np.radians(30)) - P) * jaw_w[:, None]
    shapes["jawOpen"] = jaw_open
    shapes["jawForward"] = np.outer(jaw_w, [0, 0, 0.012])
    shapes["jawLeft"] = np.outer(jaw_w, [0.012, 0, 0])
    shapes["jawRight"] = np.outer(jaw_w, [-0.012, 0, 0])
    up_lip_w = region([0, mouth_y + 0.004, 0.095], 0.012)
    lo_lip_w = region([0, mouth_y - 0.006, 0.095], 0.012)
    up_lip_w[lower_set] = 0
    lo_lip_w[upper_lip] = 0
    lo_lip_w[lower_set] = np.maximum(lo_lip_w[lower_set], 1.0)
    up_lip_w[upper_lip] = np.maximum(up_lip_w[upper_lip], 1.0)
    lips = np.maximum(up_lip_w, lo_lip_w)
    shapes["mouthClose"] = -jaw_open * lo_lip_w[:, None] * 0.9 + np.outer(up_lip_w, [0, -0.003, 0])
    shapes["mouthFunnel"] = np.outer(lips, [0, 0, 0.01]) + (np.outer(lo_lip_w, [0, -0.005, 0]) + np.outer(up_lip_w, [0, 0.005, 0]))
    pucker = np.outer(lips, [0, 0, 0.014])
    pucker[:, 0] = -P[:, 0] * lips * 0.35
    shapes["mouthPucker"] = pucker
    shapes["mouthLeft"] = np.outer(lips, [0.012, 0, 0])
    shapes["mouthRight"] = np.outer(lips, [-0.012, 0, 0])
    for side, sx in (("Left", 1.0), ("Right", -1.0)):
        corner = [sx * 0.028, mouth_y, 0.085]
        cw = region(corner, 0.013)
        shapes[f"mouthSmile{side}"] = np.outer(cw, [sx * 0.006, 0.012, -0.004])
        shapes[f"mouthFrown{side}"] = np.outer(cw, [0, -0.011, 0])
        shapes[f"mouthDimple{side}"] = np.outer(cw, [sx * 0.004, 0, -0.008])
        shapes[f"mouthStretch{side}"] = np.outer(cw, [sx * 0.011, -0.005, 0])
        side_m = np.clip(0.5 + sx * P[:, 0] / 0.03, 0, 1)
        shapes[f"mouthPress{side}"] = np.outer(lo_lip_w * side_m, [0, 0.004, 0]) + np.outer(up_lip_w * side_m, [0, -0.003, 0])
        shapes[f"mouthLowerDown{side}"] = np.outer(lo_lip_w * side_m, [0, -0.01, 0.002])
        shapes[f"mouthUpperUp{side}"] = np.outer(up_lip_w * side_m, [0, 0.01, 0.002])
        brow_in = region([sx * 0.015, 0.05, 0.088], 0.012)
        brow_mid = region([sx * 0.033, 0.052, 0.082], 0.014)
        brow_out = region([sx * 0.055, 0.048, 0.066], 0.013)
        shapes[f"browDown{side}"] = np.outer(np.maximum(brow_in, brow_mid), [0, -0.01, 0.002])
        shapes[f"browOuterUp{side}"] = np.outer(brow_out, [0, 0.012, 0])
        cheek = region([sx * 0.05, -0.02, 0.072], 0.016)
        shapes[f"cheekSquint{side}"] = np.outer(cheek, [0, 0.008, 0.002])
        sneer = region([sx * 0.012, 0.0, 0.1], 0.009)
        shapes[f"noseSneer{side}"] = np.outer(sneer, [0, 0.007, -0.002])
        eidx, ec = eyes[side]
        q = P[eidx] - ec

        def eye_delta(newq, eidx=eidx, q=q):
            d = np.zeros((V, 3))
            d[eidx] = newq - q
            return d

        shapes[f"eyeBlink{side}"] = eye_delta(q * [1.0, 0.08, 1.0] + [0, 0.004, 0])
        shapes[f"eyeSquint{side}"] = eye_delta(q * [1.0, 0.6, 1.0])
        shapes[f"eyeWide{side}"] = eye_delta(q * [1.05, 1.3, 1.0])
        look = np.radians(30)
        shapes[f"eyeLookUp{side}"] = eye_delta(rot_x(q, np.zeros(3), -look))
        shapes[f"eyeLookDown{side}"] = eye_delta(rot_x(q, np.zeros(3), look))
        # "in" = toward the nose: the left eye (+X) turns toward -X
        shapes[f"eyeLookIn{side}"] = eye_delta(rot_y(q, np.zeros(3), -sx * look))
        shapes[f"eyeLookOut{side}"] = eye_delta(rot_y(q, np.zeros(3), sx * look))
    brow_inner = region([0.0, 0.05, 0.09], 0.014)
    shapes["browInnerUp"] = np.outer(brow_inner, [0, 0.011, 0])
    lo_roll = lo_lip_w.copy()
    shapes["mouthRollLower"] = np.outer(lo_roll, [0, 0.003, -0.008])
    shapes["mouthRollUpper"] = np.outer(up_lip_w, [0, -0.003, -0.008])
    shapes["mouthShrugLower"] = np.outer(region([0, mouth_y - 0.02, 0.09], 0.014), [0, 0.008, 0.003])
    shapes["mouthShrugUpper"] = np.outer(up_lip_w, [0, 0.005, 0.002])
    puff = np.zeros(V)
    for sx in (1.0, -1.0):
        puff = np.maximum(puff, region([sx * 0.055, -0.03, 0.06], 0.02))
    shapes["cheekPuff"] = np.asarray(P * [1, 0, 1]) * (puff * 0.25)[:, None]
    tongue = np.zeros((V, 3))
    tongue[tongue_idx] = [0, -0.012, 0.045]
    shapes["tongueOut"] = tongue + jaw_open * 0.6
    assert set(shapes) == set(ARKIT_NAMES), set(ARKIT_NAMES) ^ set(shapes)
    del lips_zone
    Pw = P + center
    ordered = {n: shapes[n].astype(np.float32) for n in ARKIT_NAMES}
    joints = np.zeros((V, 4), np.int32)
    joints[:, 0] = head_joint
    weights = np.zeros((V, 4), np.float32)
    weights[:, 0] = 1
    return Mesh("Face", Pw, F, None, C, ordered, joints, weights)


def box(a: np.ndarray, b: np.ndarray, half: float, depth: float) -> tuple[np.ndarray, np.ndarray]:
    """A box from a to b (bone), cross-section 2*half x 2*depth; 24 verts (flat normals)."""
    d = b - a
    L = np.linalg.norm(d)
    ax = d / L
    up = np.array([0, 0, 1.0]) if abs(ax[2]) < 0.9 else np.array([1.0, 0, 0])
    u = np.cross(ax, up)
    u /= np.linalg.norm(u)
    v = np.cross(ax, u)
    corners = []
    for t in (0, 1):
        for su, sv in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
            corners.append(a + d * t + u * su * half + v * sv * depth)
    corners = np.array(corners)
    quads = [(0, 3, 2, 1), (4, 5, 6, 7), (0, 1, 5, 4), (1, 2, 6, 5), (2, 3, 7, 6), (3, 0, 4, 7)]
    verts, faces = [], []
    for q in quads:
        base = len(verts)
        verts += [corners[i] for i in q]
        faces += [(base, base + 1, base + 2), (base, base + 2, base + 3)]
    verts = np.array(verts)
    faces = np.array(faces)
    # make the winding face outwards
    c = corners.mean(0)
    for k, f in enumerate(faces):
        n = np.cross(verts[f[1]] - verts[f[0]], verts[f[2]] - verts[f[0]])
        if np.dot(n, verts[f].mean(0) - c) < 0:
            faces[k] = f[::-1].copy()
    return verts, faces


def body_mesh(skel, g: np.ndarray) -> Mesh:
    sizes = {"Spine": (0.13, 0.08), "Chest": (0.15, 0.09), "UpperChest": (0.16, 0.09), "Hips": (0.14, 0.08),
             "Neck": (0.03, 0.03)}
    P, F, J, C = [], [], [], []
    child = {}
    for i, p in enumerate(skel.parents):
        if p >= 0 and p not in child:
            child[p] = i
    tips = {"LeftHand": [0.16, 0, 0], "RightHand": [-0.16, 0, 0], "LeftToes": [0, 0, 0.06], "RightToes": [0, 0, 0.06]}
    for i, n in enumerate(skel.names):
        if n in ("Head", "LeftShoulder", "RightShoulder"):
            continue
        if n == "Hips":
            a, b = g[i] + [0, -0.06, 0], g[i] + [0, 0.1, 0]
        elif n in ("LeftUpperLeg", "RightUpperLeg", "LeftLowerLeg", "RightLowerLeg", "LeftFoot", "RightFoot") or i in child:
            a, b = g[i], g[child[i]] if i in child else g[i] + tips.get(n, [0, 0.05, 0])
        else:
            a, b = g[i], g[i] + np.array(tips.get(n, [0, 0.05, 0]))
        if n in ("LeftFoot", "RightFoot"):
            a, b = g[i] + [0, -0.03, -0.04], g[i] + [0, -0.04, 0.1]
        half, depth = sizes.get(n, (0.045, 0.045) if "Leg" in n else (0.035, 0.035))
        if "Hand" in n:
            half, depth = 0.04, 0.015
        if "Foot" in n or "Toes" in n:
            half, depth = 0.045, 0.03
        v, f = box(np.asarray(a, float), np.asarray(b, float), half, depth)
        F.append(f + sum(len(x) for x in P))
        P.append(v)
        J += [i] * len(v)
        col = (0.25, 0.35, 0.55) if ("Leg" in n or "Foot" in n or "Toes" in n or n == "Hips") else (0.55, 0.6, 0.65)
        if "Hand" in n:
            col = SKIN
        C += [col] * len(v)
    P = np.concatenate(P)
    F = np.concatenate(F).astype(np.int32)
    joints = np.zeros((len(P), 4), np.int32)
    joints[:, 0] = J
    weights = np.zeros((len(P), 4), np.float32)
    weights[:, 0] = 1
    # flat-shaded boxes: per-face-corner normals are the face normal (each quad has its own verts)
    from emoanim_server.export.character import vertex_normals

    return Mesh("Body", P, F, vertex_normals(P, F), np.array(C), {}, joints, weights)


def main() -> None:
    skel = humanoid()
    g = globals_of(skel)
    head = skel.names.index("Head")
    center = g[head] + [0, 0.09, 0.01]
    ch = Character("EmoAnimProxy", [body_mesh(skel, g), head_mesh(center, head)], list(skel.names))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    save_npz(OUT, ch)
    print(f"{OUT}: {os.path.getsize(OUT)} bytes; " + ", ".join(f"{m.name}: {len(m.positions)} verts, "
                                                              f"{len(m.faces)} tris, {len(m.shapes)} shapes" for m in ch.meshes))


if __name__ == "__main__":
    main()

"""BVH export of the body track (and a small reader used for retargeting and tests).

Layout: the root has 6 channels (``Xposition Yposition Zposition`` + rotation), every other
joint 3 rotation channels; the rotation channel order is declared (default ``ZXY``, which Unity
BVH importers and most DCC tools expect; ``XYZ``/``ZYX``/... allowed). ``Frame Time`` is exactly
``1/fps`` (written with 8 decimals). Euler angles come from quaternions made sign-continuous and
unwrapped along time, so no 360-degree pops appear between frames. Units: metres (the project
convention) or centimetres (``units="cm"``: the skeleton and root motion are scaled by 100).
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..rigs import Rig
from ..track import AnimationTrack, Skeleton
from .common import atomic_write, register

ORDERS = ("ZXY", "XYZ", "XZY", "YXZ", "YZX", "ZYX")


def bvh_text(skel: Skeleton, rots: np.ndarray, root: np.ndarray, fps: float, order: str = "ZXY",
             units: str = "m", end_sites: dict | None = None) -> str:
    from ..gesture import rotations as R
    from ..gesture.skeleton import END_SITES

    order = order.upper()
    if order not in ORDERS:
        raise InputError(f"BVH channel order {order!r}: expected one of {list(ORDERS)}")
    if units not in ("m", "cm"):
        raise InputError(f"BVH units {units!r}: expected 'm' or 'cm'")
    scale = 100.0 if units == "cm" else 1.0
    end_sites = END_SITES if end_sites is None else end_sites
    rots = R.continuity(np.asarray(rots, np.float64))
    n, j = rots.shape[:2]
    children: dict[int, list[int]] = {i: [] for i in range(j)}
    for i, p in enumerate(skel.parents):
        if p >= 0:
            children[p].append(i)
    rot_ch = " ".join(f"{a}rotation" for a in order)
    out = io.StringIO()
    out.write("HIERARCHY\n")
    visit: list[int] = []

    def emit(i: int, depth: int) -> None:
        ind = "\t" * depth
        # the root's OFFSET is written as zero and its position channels are absolute, so readers
        # that add OFFSET to the channels and readers that do not agree on where the hips are
        off = skel.offsets[i] * scale if skel.parents[i] >= 0 else np.zeros(3)
        kind = "ROOT" if skel.parents[i] < 0 else "JOINT"
        out.write(f"{ind}{kind} {skel.names[i]}\n{ind}{{\n")
        out.write(f"{ind}\tOFFSET {off[0]:.6f} {off[1]:.6f} {off[2]:.6f}\n")
        if skel.parents[i] < 0:
            out.write(f"{ind}\tCHANNELS 6 Xposition Yposition Zposition {rot_ch}\n")
        else:
            out.write(f"{ind}\tCHANNELS 3 {rot_ch}\n")
        visit.append(i)
        for c in children[i]:
            emit(c, depth + 1)
        if not children[i]:
            e = np.asarray(end_sites.get(skel.names[i], skel.offsets[i] * 0.5 if np.any(skel.offsets[i]) else (0, 0.05, 0))) * scale
            out.write(f"{ind}\tEnd Site\n{ind}\t{{\n{ind}\t\tOFFSET {e[0]:.6f} {e[1]:.6f} {e[2]:.6f}\n{ind}\t}}\n")
        out.write(f"{ind}}}\n")

    roots = [i for i, p in enumerate(skel.parents) if p < 0]
    if len(roots) != 1:
        raise InputError(f"BVH needs exactly one root joint, skeleton has {len(roots)}")
    emit(roots[0], 0)
    eul = R.quat_to_euler(rots[:, visit], order)  # (N, J, 3) degrees, unwrapped over time
    cols = [np.asarray(root, np.float64) * scale, eul.reshape(n, -1)]
    data = np.concatenate(cols, axis=1)
    out.write(f"MOTION\nFrames: {n}\nFrame Time: {1.0 / fps:.8f}\n")
    np.savetxt(out, data, fmt="%.5f", delimiter=" ")
    return out.getvalue()


@register("bvh", ".bvh", text=True)
def write_bvh(track: AnimationTrack, path: str, rig: Rig) -> None:
    if track.skeleton is None or track.joint_rotations is None:
        raise InputError(f"{path}: BVH holds body motion, but this track has none (bake with --body)")
    root = track.root_positions
    if root is None:
        root = np.tile(track.skeleton.offsets[0], (track.n_frames, 1))
    opts = track.metadata.get("bvh", {}) if isinstance(track.metadata.get("bvh"), dict) else {}
    text = bvh_text(track.skeleton, track.joint_rotations, root, track.fps,
                    order=opts.get("order", "ZXY"), units=opts.get("units", "m"))
    with atomic_write(path) as f:
        f.write(text)


# ----------------------------------------------------------------------------------- reader
@dataclass
class BVHClip:
    skeleton: Skeleton
    rotations: np.ndarray  # (N, J, 4) xyzw, local
    root_positions: np.ndarray  # (N, 3) in the file's units
    frame_time: float


def read_bvh(path: str) -> BVHClip:
    """Parse a BVH (any channel orders; position channels on non-root joints are ignored: the
    rest offset is used, as for a rotation-only skeleton)."""
    from ..gesture import rotations as R

    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    head, _, motion = text.partition("MOTION")
    if not motion:
        raise InputError(f"{path}: not a BVH file (no MOTION section)")
    tokens = re.findall(r"[^\s{}]+|[{}]", head)
    names: list[str] = []
    parents: list[int] = []
    offsets: list[list[float]] = []
    channels: list[list[str]] = []
    stack: list[int] = []
    i = 0
    pending_end = False
    while i < len(tokens):
        t = tokens[i]
        if t in ("ROOT", "JOINT"):
            names.append(tokens[i + 1])
            parents.append(stack[-1] if stack else -1)
            offsets.append([0, 0, 0])
            channels.append([])
            i += 2
            continue
        if t == "End":
            pending_end = True
            i += 2
            continue
        if t == "{":
            stack.append(-2 if pending_end else len(names) - 1)
            pending_end = False
        elif t == "}":
            stack.pop()
        elif t == "OFFSET":
            if stack and stack[-1] >= 0:
                offsets[stack[-1]] = [float(x) for x in tokens[i + 1:i + 4]]
            i += 4
            continue
        elif t == "CHANNELS":
            k = int(tokens[i + 1])
            channels[stack[-1]] = tokens[i + 2:i + 2 + k]
            i += 2 + k
            continue
        i += 1
    lines = motion.strip().splitlines()
    n = int(lines[0].split(":")[1])
    ft = float(lines[1].split(":")[1])
    data = np.loadtxt(io.StringIO("\n".join(lines[2:2 + n])), ndmin=2)
    j = len(names)
    rots = np.zeros((len(data), j, 4))
    root = np.zeros((len(data), 3))
    col = 0
    for k, ch in enumerate(channels):
        rot_axes = [c[0].upper() for c in ch if c.lower().endswith("rotation")]
        block = data[:, col:col + len(ch)]
        col += len(ch)
        ri = [a for a, c in enumerate(ch) if c.lower().endswith("rotation")]
        pi = [a for a, c in enumerate(ch) if c.lower().endswith("position")]
        if ri:
            rots[:, k] = R.euler_to_quat(block[:, ri], "".join(rot_axes))
        else:
            rots[:, k] = [0, 0, 0, 1]
        if parents[k] < 0:
            if len(pi) == 3:
                root = block[:, pi]
                off = np.asarray(offsets[k], np.float64)
                # files whose root channels are relative to the OFFSET (e.g. ReActIdle: OFFSET y
                # 0.73, channels ~0) vs. absolute ones (ours, CMU): add the OFFSET to the former
                if abs(off[1]) > 1e-6 and abs(np.mean(root[:, 1])) < 0.5 * abs(off[1]):
                    root = root + off
            else:
                root = np.tile(offsets[k], (len(data), 1))
    return BVHClip(Skeleton(names, parents, np.array(offsets)), rots, root, ft)

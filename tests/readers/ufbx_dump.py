"""Read an FBX with ufbx (an independent C reader) and print JSON.

The ufbx 0.0.5 Python binding frees objects that are only temporaries (``s.anim_stacks[0].name``
crashes) and crashes at interpreter exit, so every intermediate object is held in a variable,
the script runs as a subprocess and leaves with ``os._exit`` once its output is flushed.
Usage: python ufbx_dump.py FILE.fbx FPS FRAMES JOINT"""
import json
import os
import sys

import ufbx


def items(lst):
    return [lst[i] for i in range(len(lst))]


path, fps, frames, joint = sys.argv[1], float(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
s = ufbx.load_file(path)
meta, settings = s.metadata, s.settings
axes = settings.axes
warnings = meta.warnings
stacks = items(s.anim_stacks)
stack = stacks[0]
anim = stack.anim
out = {"version": meta.version, "warnings": len(warnings), "fps": settings.frames_per_second,
       "unit_meters": settings.unit_meters, "up": ufbx.CoordinateAxis(axes.up).name, "stacks": [st.name for st in stacks],
       "time_end": stack.time_end, "meshes": {}, "weights": {}, "weights_mid": {}, "joint_rot": [], "root_t": []}
for m in items(s.meshes):
    skins = items(m.skin_deformers)
    clusters = [items(d.clusters) for d in skins]
    blends = items(m.blend_deformers)
    chans = [c for b in blends for c in items(b.channels)]
    out["meshes"][m.name] = {"vertices": m.num_vertices, "skins": len(skins),
                             "clusters": sum(len(c) for c in clusters), "blend_channels": [c.name for c in chans]}
for ch in items(s.blend_channels):
    out["weights"][ch.name] = [ufbx.evaluate_blend_weight(anim, ch, i / fps) for i in range(frames)]
    out["weights_mid"][ch.name] = [ufbx.evaluate_blend_weight(anim, ch, (i + 0.5) / fps) for i in range(frames - 1)]
nodes = items(s.nodes)
node = next(n for n in nodes if n.name == joint)
hips = next(n for n in nodes if n.name == "Hips")
for i in range(0, frames, 7):
    tr = ufbx.evaluate_transform(anim, node, i / fps)
    q = tr.rotation
    out["joint_rot"].append([i, q.x, q.y, q.z, q.w])
    th = ufbx.evaluate_transform(anim, hips, i / fps)
    t = th.translation
    out["root_t"].append([i, t.x, t.y, t.z])
sys.stdout.write(json.dumps(out) + "\n")
sys.stdout.flush()
os._exit(0)

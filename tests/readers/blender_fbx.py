"""Run inside Blender (``blender -b --factory-startup --python blender_fbx.py -- IN.fbx OUT.json``):
import the FBX with Blender's own importer and dump what an animator would see: scene fps,
objects, shape keys and their animation curves (frame, value), armature bones and curve count."""
import bpy, json, sys
path, out = sys.argv[sys.argv.index("--") + 1:][:2]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.fbx(filepath=path)
sc = bpy.context.scene
res = {"fps": sc.render.fps / sc.render.fps_base, "frame_start": sc.frame_start, "frame_end": sc.frame_end,
       "objects": {o.name: o.type for o in bpy.data.objects}, "shape_keys": {}, "shape_curves": {}, "bones": [], "bone_curves": 0}
for o in bpy.data.objects:
    if o.type == "MESH" and o.data.shape_keys:
        sk = o.data.shape_keys
        res["shape_keys"][o.name] = [k.name for k in sk.key_blocks]
        ad = sk.animation_data
        if ad and ad.action:
            for fc in ad.action.fcurves:
                res["shape_curves"][fc.data_path] = [[kp.co[0], kp.co[1]] for kp in fc.keyframe_points]
    if o.type == "ARMATURE":
        res["bones"] = [b.name for b in o.data.bones]
        if o.animation_data and o.animation_data.action:
            res["bone_curves"] = len(o.animation_data.action.fcurves)
json.dump(res, open(out, "w"))

"""Run inside Blender: import an FBX and export it again with Blender's own FBX writer (mesh,
shape keys, armature; no animation), so the tests have a character file written by a tool
other than ours. Usage: blender -b --factory-startup --python blender_reexport.py -- IN OUT"""
import sys

import bpy

src, dst = sys.argv[sys.argv.index("--") + 1:][:2]
bpy.ops.wm.read_factory_settings(use_empty=True)
bpy.ops.import_scene.fbx(filepath=src)
bpy.ops.export_scene.fbx(filepath=dst, bake_anim=False, add_leaf_bones=False, use_mesh_modifiers=False)

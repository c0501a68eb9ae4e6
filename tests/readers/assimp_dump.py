"""Read an FBX with assimp (libassimp through pyassimp's ctypes structs, without pyassimp's
eager wrapper) and print JSON: meshes, their anim meshes (blendshapes) by name, animations with
ticks per second, node channels and morph-mesh channels (key times, weights per anim mesh).
Run as a subprocess. Usage: python assimp_dump.py FILE"""
import json
import sys

from pyassimp import core

lib = core._assimp_lib
sp = lib.load(sys.argv[1].encode(), 0)
if not sp:
    print(json.dumps({"error": "assimp could not import the file"}))
    sys.exit(0)
s = sp.contents
out = {"meshes": [], "animations": []}
for mi in range(s.mNumMeshes):
    m = s.mMeshes[mi].contents
    out["meshes"].append({"name": m.mName.data.decode(), "bones": m.mNumBones,
                          "anim_meshes": [m.mAnimMeshes[i].contents.mName.data.decode() for i in range(m.mNumAnimMeshes)]})
for ai in range(s.mNumAnimations):
    a = s.mAnimations[ai].contents
    morph = []
    for c in range(a.mNumMorphMeshChannels):
        ch = a.mMorphMeshChannels[c].contents
        keys = []
        for k in range(ch.mNumKeys):
            key = ch.mKeys[k]
            keys.append([key.mTime, {int(key.mValues[i]): key.mWeights[i] for i in range(key.mNumValuesAndWeights)}])
        morph.append({"name": ch.mName.data.decode(), "keys": keys})
    out["animations"].append({"name": a.mName.data.decode(), "ticks_per_second": a.mTicksPerSecond,
                              "duration": a.mDuration, "channels": [a.mChannels[i].contents.mNodeName.data.decode()
                                                                    for i in range(a.mNumChannels)], "morph": morph})
lib.release(sp)
print(json.dumps(out))

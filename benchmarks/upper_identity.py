"""Is a change exact? LIVE frames and bakes of a source tree, written to an .npz, compared byte for
byte with another tree's (the session-7 bar for a capacity change: nothing may move).

    python benchmarks/upper_identity.py DIR OUT.npz      # one tree (DIR: e.g. git worktree, git archive)
    python benchmarks/upper_identity.py --cmp A.npz B.npz  # rc 0: identical, 1: what differs

What it records (real English speech, tests/data and ../shared/data/speech): LIVE frames (curves,
head, eyes, frame indices) of 7 graph configurations (learned lips with face + eyes + head +
emotion; face only; eyes + head without the face; an emotion timeline from the start; one set
mid-stream; the phonetic lips; a 60 ms process interval) in 20 ms, 70 ms and 1 s chunks, each
of 3 streams alone and the 3 ticked together (live_batch.tick); the upper face's bake of 13 real
lines and a hash of its events; the default bake and 4 --lipsync neural bakes. ~1.5 min a tree
on a loaded 2-core VM. Each tree is imported from DIR (the script checks it).
"""
import glob
import hashlib
import sys
from pathlib import Path

import numpy as np

if sys.argv[1] == "--cmp":
    a, b = np.load(sys.argv[2]), np.load(sys.argv[3])
    assert sorted(a.files) == sorted(b.files), set(a.files) ^ set(b.files)
    bad = [k for k in a.files if not (a[k].shape == b[k].shape and a[k].tobytes() == b[k].tobytes())]
    print(len(a.files), "arrays;", "IDENTICAL" if not bad else f"DIFFER: {bad[:10]} ({len(bad)})")
    for k in bad[:5]:
        if a[k].shape == b[k].shape:
            print(k, np.abs(a[k].astype(float) - b[k].astype(float)).max())
        else:
            print(k, a[k].shape, b[k].shape)
    sys.exit(1 if bad else 0)
tree, out = sys.argv[1].rstrip("/"), sys.argv[2]
sys.path[:0] = [tree]
import emoanim_server  # noqa: E402

if not emoanim_server.__file__.startswith(tree):
    raise SystemExit(f"imported {emoanim_server.__file__}, not the package in {tree}")
from emoanim_server.audio import load_audio
from emoanim_server.pipeline import LiveGraph
from emoanim_server.live_batch import tick
from emoanim_server.emotion import from_category
from emoanim_server.emotion.stage import LiveTimeline
x = load_audio(tree + "/tests/data/real_en.wav").samples
x2 = load_audio(tree + "/tests/data/speech_en.wav").samples
F = {"face": True, "eyes": True, "head": True, "emotion": True}
CONFIGS = {
    "full_neural": dict(parts=F, engine="neural"),
    "face_only": dict(parts={"face": True, "emotion": True}, engine="neural"),
    "eyes_head_noface": dict(parts={"face": False, "eyes": True, "head": True, "emotion": True}, engine="neural"),
    "full_emotion_tl": dict(parts=F, engine="neural", tl=True),
    "full_phonetic": dict(parts=F, engine="phonetic"),
    "full_neural_interval": dict(parts=F, engine="neural", kw=dict(process_interval_s=0.06)),
    "emotion_switch": dict(parts=F, engine="neural", switch=16000 * 1.3),
}
def graph(c, k):
    g = LiveGraph(60, k, c["parts"], engine=c["engine"], **c.get("kw", {}))
    if c.get("tl"):
        tl = LiveTimeline(); tl.add(0.0, from_category("happy", 0.5), 0.3)
        tl.add(1.2, from_category(("angry", "sad", "surprised")[k % 3], 0.7), 0.5); g.set_emotion(tl)
    return g
def maybe_switch(c, g, i, chunk, k):
    if c.get("switch") and i <= c["switch"] < i + chunk:
        tl = LiveTimeline(); tl.add(0.0, from_category("happy", 0.5), 0.3)
        tl.add(1.9, from_category(("angry", "sad", "surprised")[k % 3], 0.7), 0.5); g.set_emotion(tl)
def pack(frs, name, res):
    frs = [f for f in frs if f is not None]
    res[name + ".curves"] = np.concatenate([f.curves for f in frs])
    res[name + ".first"] = np.array([f.first for f in frs])
    for a in ("head", "eyes"):
        v = [getattr(f, a) for f in frs]
        if all(z is not None for z in v):
            res[name + "." + a] = np.concatenate(v)
res = {}
xs = [x[:16000 * 4], x2[:16000 * 3], x[8000:16000 * 5]]
for cn, c in CONFIGS.items():
    for chunk in (320, 160 * 7, 16000):
        if c["engine"] == "phonetic" and chunk == 160 * 7:
            continue
        for k, xx in enumerate(xs):  # alone
            g = graph(c, k)
            frs = []
            for i in range(0, len(xx), chunk):
                maybe_switch(c, g, i, chunk, k)
                frs.append(g.feed(xx[i:i + chunk]))
            pack(frs + [g.finish()], f"{cn}.{chunk}.alone{k}", res)
        gs = [graph(c, k) for k in range(len(xs))]
        outs = [[] for _ in xs]
        for i in range(0, max(map(len, xs)), chunk):
            live = [k for k, xx in enumerate(xs) if i < len(xx)]
            for k in live:
                maybe_switch(c, gs[k], i, chunk, k)
            for k, f in zip(live, tick([(gs[k], xs[k][i:i + chunk]) for k in live])):
                assert not isinstance(f, Exception), f
                outs[k].append(f)
        for k, g in enumerate(gs):
            outs[k].append(g.finish())
            pack(outs[k], f"{cn}.{chunk}.tog{k}", res)
    print(cn, flush=True)
# upper-face bakes of real lines (several languages)
from emoanim_server.face.upper import upper_face
here = Path(__file__).resolve().parent.parent  # this checkout: the shared data beside it
speech = next((d for d in (here.parent / "shared", here.parent.parent / "shared") if d.is_dir()), here)
files = sorted(glob.glob(str(speech / "data" / "speech" / "*" / "*.wav")))[:12] + [tree + "/tests/data/real_en.wav"]
for f in files:
    s = load_audio(f).samples
    t, m = upper_face(s, seed=3)
    res["bake_upper." + f.split("/")[-1]] = t.astype(np.float64)
    res["bake_upper_ev." + f.split("/")[-1]] = np.frombuffer(hashlib.sha256(repr(m.events).encode()).digest(), np.uint8)
# default bake of one real line (whole pipeline)
from emoanim_server.pipeline import bake
tr = bake(load_audio(tree + "/tests/data/real_en.wav"))
res["bake.default.curves"] = tr.curves
from emoanim_server.pipeline import BakeOptions
for f in files[:4]:
    tr = bake(load_audio(f), BakeOptions(lipsync="neural"))
    res["bake.neural." + f.split("/")[-1]] = tr.curves
np.savez(out, **res)
print("wrote", out, len(res))

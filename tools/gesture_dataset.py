"""Build a gesture training set (one .npz) from speech + motion.

Two sources, same output format:

1. ``synth``: the procedural generator (tools/gesture_synth.py) over any folder tree of WAV
   files (here: the permissively licensed speech in ../shared/data/speech), several emotion
   draws per utterance, optionally with ReActIdle (MIT) idle micro-motion.
2. ``folder``: your own mocap. Expected layout (one take = one basename)::

       takes/
         take_001.bvh      body motion, any skeleton whose joint names follow Unity Humanoid,
         take_001.wav      Blender/Rigify or Mixamo naming (or pass --name-map map.json);
                           the matching speech, same start time as the BVH's frame 0
         take_001.json     optional: {"emotion": "angry:0.8"} (or {"valence":..,"arousal":..})
         ...

   Each take is retargeted onto the default humanoid (emoanim_server/gesture/retarget.py),
   slerp-resampled to the model rate (20 fps) and encoded (representation.py).

Output npz: ``motion`` (T, D) float32, ``audio`` (T, 18), ``emotion`` (T, 12), ``starts``
(clip start rows; clip i is rows starts[i]:starts[i+1]), ``names`` (clip names).

    python tools/gesture_dataset.py synth --speech ../shared/data/speech --idle ../shared/data/mocap/reactidle -o /tmp/gesture_synth.npz
    python tools/gesture_dataset.py folder takes/ -o mytakes.npz
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.gesture import representation as Rep  # noqa: E402
from emoanim_server.gesture import rotations as R  # noqa: E402
from emoanim_server.gesture.features import CATEGORIES, MODEL_FPS, audio_features, emotion_vector  # noqa: E402
from emoanim_server.gesture.skeleton import humanoid  # noqa: E402


def random_emotion(rng: np.random.Generator) -> str:
    r = rng.uniform()
    cats = CATEGORIES
    if r < 0.5:
        return f"{cats[rng.integers(len(cats))]}:{rng.uniform(0.6, 1.0):.2f}"
    if r < 0.75:
        return f"{cats[rng.integers(len(cats))]}:{rng.uniform(0.2, 0.6):.2f}"
    a, b = rng.choice(len(cats), 2, replace=False)
    wa = rng.uniform(0.3, 0.7)
    return f"{cats[a]}:{wa:.2f},{cats[b]}:{(1 - wa) * rng.uniform(0.5, 1):.2f}"


def _pack(clips, out):
    motion = np.concatenate([c[0] for c in clips])
    audio = np.concatenate([c[1] for c in clips])
    emo = np.concatenate([np.tile(c[2], (len(c[0]), 1)) for c in clips])
    starts = np.cumsum([0] + [len(c[0]) for c in clips])
    np.savez_compressed(out, motion=motion, audio=audio, emotion=emo.astype(np.float32), starts=starts,
                        names=np.array([c[3] for c in clips]))
    print(f"{out}: {len(clips)} clips, {len(motion)} frames ({len(motion) / MODEL_FPS / 60:.1f} min)")


def build_synth(speech: str, idle: str | None, draws: int, seed: int, out: str, limit: int = 0) -> None:
    from gesture_synth import load_idle_bank, synthesize
    from tqdm import tqdm

    skel = humanoid()
    bank = load_idle_bank(idle, cache="/tmp/gesture_idle_bank.npz") if idle else []
    wavs = sorted(glob.glob(os.path.join(speech, "**", "*.wav"), recursive=True))
    if limit:
        wavs = wavs[:limit]
    rng = np.random.default_rng(seed)
    clips = []
    for w in tqdm(wavs, desc="synth", file=sys.stderr):
        a = load_audio(w)
        feats = audio_features(a.samples)
        for k in range(draws):
            emo_s = "neutral" if k == 0 else random_emotion(rng)
            emo = emotion_vector(emo_s)
            idle_clip = bank[rng.integers(len(bank))] if bank else None
            q, root, _ = synthesize(a.samples, emo, rng, idle_clip, skel)
            m = Rep.encode(skel, q, root, MODEL_FPS)
            n = min(len(m), len(feats))
            clips.append((m[:n], feats[:n], emo, f"{os.path.relpath(w, speech)}|{emo_s}"))
    _pack(clips, out)


def build_folder(folder: str, out: str, name_map: str | None = None) -> None:
    from emoanim_server.export.bvh import read_bvh
    from emoanim_server.gesture.retarget import retarget

    skel = humanoid()
    nm = json.load(open(name_map)) if name_map else None
    clips = []
    for b in sorted(glob.glob(os.path.join(folder, "*.bvh"))):
        base = os.path.splitext(b)[0]
        wav = base + ".wav"
        if not os.path.exists(wav):
            print(f"skip {b}: no {os.path.basename(wav)}", file=sys.stderr)
            continue
        emo = emotion_vector(json.load(open(base + ".json")).get("emotion") if os.path.exists(base + ".json") else None)
        clip = read_bvh(b)
        q, root = retarget(clip.skeleton, clip.rotations, clip.root_positions, skel, nm)
        src_fps = 1.0 / clip.frame_time
        n = max(2, int(round(len(q) / src_fps * MODEL_FPS)))
        q = R.resample(q, src_fps, n, MODEL_FPS, rotations=True)
        root = R.resample(root, src_fps, n, MODEL_FPS, rotations=False)
        a = load_audio(wav)
        feats = audio_features(a.samples, n)
        clips.append((Rep.encode(skel, q, root, MODEL_FPS), feats, emo, os.path.basename(base)))
    if not clips:
        raise SystemExit(f"{folder}: no BVH + WAV pairs found")
    _pack(clips, out)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("synth")
    s.add_argument("--speech", default=os.path.join(os.path.dirname(__file__), "../../shared/data/speech"))
    s.add_argument("--idle", default=None, help="folder of idle BVH (ReActIdle) for real micro-motion")
    s.add_argument("--draws", type=int, default=8, help="emotion draws per utterance")
    s.add_argument("--limit", type=int, default=0, help="use only the first N wavs (tests)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--out", required=True)
    f = sub.add_parser("folder")
    f.add_argument("folder")
    f.add_argument("--name-map", help="JSON {source joint: humanoid joint}")
    f.add_argument("-o", "--out", required=True)
    a = p.parse_args(argv)
    if a.cmd == "synth":
        build_synth(a.speech, a.idle, a.draws, a.seed, a.out, a.limit)
    else:
        build_folder(a.folder, a.out, a.name_map)


if __name__ == "__main__":
    main()

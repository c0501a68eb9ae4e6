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

Output npz: ``motion`` (T, D) float32, ``emotion`` (T, 12), ``starts`` (clip start rows; clip i
is rows starts[i]:starts[i+1]), ``names`` (clip names), and the model windows exactly as the
runtime schedules and conditions them (gesture/timing.py): ``win_clip``, ``win_start`` (frame in
the clip), ``win_cond`` (row of ``conds``), ``conds`` (n, window, COND_DIM); ``window`` / ``seed``
/ ``hop`` record the schedule (they must match the trainer's config).

    python tools/gesture_dataset.py synth --speech ../shared/data/speech --idle ../shared/data/mocap/reactidle -o /tmp/gesture_synth.npz
    (about 4 min on one core: the syllable analysis of every scheduled window, 8 draws each)
    python tools/gesture_dataset.py folder takes/ -o mytakes.npz
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # small matmuls: threads only contend

import argparse
import glob
import json
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.dirname(__file__))

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.gesture import representation as Rep  # noqa: E402
from emoanim_server.gesture import rotations as R  # noqa: E402
from emoanim_server.gesture.features import CATEGORIES, MODEL_FPS, emotion_vector  # noqa: E402
from emoanim_server.gesture.skeleton import humanoid  # noqa: E402
from emoanim_server.gesture.timing import offline_conditions  # noqa: E402

#: the model's window schedule (tools/gesture_train.DEFAULT_CFG window / seed / hop)
WINDOW, SEED, HOP = 20, 4, 8


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
    """clips: (motion (n, D), emotion (12,), name, conditions [(start, cond)])."""
    motion = np.concatenate([c[0] for c in clips])
    emo = np.concatenate([np.tile(c[1], (len(c[0]), 1)) for c in clips])
    starts = np.cumsum([0] + [len(c[0]) for c in clips])
    conds, index = [], {}
    win_clip, win_start, win_cond = [], [], []
    for ci, c in enumerate(clips):
        key = id(c[3])
        if key not in index:
            index[key] = len(conds)
            conds += [w for _, w in c[3]]
        for k, (s0, _) in enumerate(c[3]):
            win_clip.append(ci)
            win_start.append(s0)
            win_cond.append(index[key] + k)
    np.savez_compressed(out, motion=motion, emotion=emo.astype(np.float32), starts=starts,
                        names=np.array([c[2] for c in clips]), conds=np.stack(conds).astype(np.float32),
                        win_clip=np.array(win_clip), win_start=np.array(win_start), win_cond=np.array(win_cond),
                        window=WINDOW, seed=SEED, hop=HOP)
    print(f"{out}: {len(clips)} clips, {len(motion)} frames ({len(motion) / MODEL_FPS / 60:.1f} min), "
          f"{len(win_clip)} windows")


def build_synth(speech: str, idle: str | None, draws: int, seed: int, out: str, limit: int = 0) -> None:
    from gesture_synth import load_idle_library, synthesize
    from tqdm import tqdm

    skel = humanoid(fingers=False)
    lib = load_idle_library(idle, cache="/tmp/gesture_idle_lib.npz") if idle else None
    wavs = sorted(glob.glob(os.path.join(speech, "**", "*.wav"), recursive=True))
    if limit:
        wavs = wavs[:limit]
    rng = np.random.default_rng(seed)
    audios = {w: load_audio(w).samples for w in wavs}
    held = set(heldout(speech, wavs))
    clips = []
    for i, w in enumerate(tqdm(wavs, desc="synth", file=sys.stderr, mininterval=10)):
        # real use has silence around lines and pauses between them; the corpus' utterances have
        # almost none, so every utterance is also heard padded with silence and, half the time,
        # followed by a pause and the next utterance (the model must learn rest and retraction).
        # Held-out utterances (the trainer's validation = the benchmark's audio) are never joined
        # to a training one.
        nxt = wavs[(i + 1) % len(wavs)]
        join = rng.uniform() < 0.5 and w not in held and nxt not in held
        x = with_silence(audios[w], audios[nxt] if join else None, rng)
        conds, events = offline_conditions(x, WINDOW, SEED, HOP)
        for k in range(draws):
            emo_s = "neutral" if k == 0 else random_emotion(rng)
            emo = emotion_vector(emo_s)
            q, root, _ = synthesize(x, emo, rng, lib, events, skel)
            m = Rep.encode(skel, q, root, MODEL_FPS)
            clips.append((m, emo, f"{os.path.relpath(w, speech)}|{emo_s}", conds))
    _pack(clips, out)


def heldout(speech: str, wavs: list[str]) -> list[str]:
    """The trainer's validation utterances (tools/gesture_train.Data, benchmarks.heldout_wavs)."""
    utts = sorted(os.path.relpath(w, speech) for w in wavs)
    val = np.random.default_rng(0).choice(utts, max(1, int(len(utts) * 0.05)), replace=False).tolist()
    return [os.path.join(speech, u) for u in val]


def with_silence(x: np.ndarray, nxt: np.ndarray | None, rng: np.random.Generator) -> np.ndarray:
    """Leading 0.2-2.5 s and trailing 1-3 s of near-silence (noise floor -100..-70 dBFS), and
    optionally a 0.3-3 s pause then ``nxt`` (the next utterance) before the trailing silence."""
    sil = lambda s: (rng.uniform(1e-5, 3e-4) * rng.standard_normal(int(s * 16000))).astype(np.float32)
    parts = [sil(rng.uniform(0.2, 2.5)), x]
    if nxt is not None:
        parts += [sil(rng.uniform(0.3, 3.0)), nxt]
    parts.append(sil(rng.uniform(1.0, 3.0)))
    return np.concatenate(parts)


def build_folder(folder: str, out: str, name_map: str | None = None) -> None:
    from emoanim_server.export.bvh import read_bvh
    from emoanim_server.gesture.retarget import retarget

    skel = humanoid(fingers=False)
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
        n_rt = int(np.ceil(len(a.samples) / 16000 * MODEL_FPS - 1e-9)) + 1  # the runtime's frame count
        q = q[:n_rt] if len(q) >= n_rt else np.concatenate([q, np.repeat(q[-1:], n_rt - len(q), 0)])
        root = root[:n_rt] if len(root) >= n_rt else np.concatenate([root, np.repeat(root[-1:], n_rt - len(root), 0)])
        conds, _ = offline_conditions(a.samples, WINDOW, SEED, HOP)
        clips.append((Rep.encode(skel, q, root, MODEL_FPS), emo, os.path.basename(base), conds))
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

"""Where does beat alignment get lost? The issue-15 beat test after each step of the sampler.

    python benchmarks/gesture_stages.py [--set '{"audio_guidance": 3}'] [--onnx cand.onnx] [--tag x]
        -> benchmarks/results/gesture_stages[_tag].json

Same audio, onsets, beat detector and chance model as benchmarks/gesture_metrics.py (12 bakes:
4 emotions x 3 seeds). Every stage is brought to 60 fps by the runtime's Catmull-Rom resampler
and scored by the same beat test, so the stages differ only in what the sampler did:

- ``procedural``: the training generator (tools/gesture_synth.py) on the same audio: what the
  model imitates.
- ``windows_raw``: each window's new frames [seed, seed + hop) as the denoiser returned them,
  hard-concatenated (no crossfade, no smoothing, no post).
- ``crossfaded``: the sampler's 20 fps frames after the seed crossfade (GestureStream.q).
- ``smoothed``: + the binomial low-pass (settings.smooth).
- ``settled``: + the pause settle (a still, breathing hold while there is no voice).
- ``output``: what ``generate`` returns (+ hips/legs, scale), 60 fps.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gesture_metrics as GM  # noqa: E402
from emoanim_server.gesture import representation as Rep  # noqa: E402
from emoanim_server.gesture import rotations as R  # noqa: E402
from emoanim_server.gesture import sampler as S  # noqa: E402
from emoanim_server.gesture.features import MODEL_FPS  # noqa: E402
from emoanim_server.gesture.skeleton import humanoid  # noqa: E402
from _results import save  # noqa: E402


def _to60(q, root, n):
    return (R.resample(q, MODEL_FPS, n, GM.FPS, rotations=True, cubic=True),
            R.resample(root, MODEL_FPS, n, GM.FPS, rotations=False, cubic=True))


def stages(x, emo, seed, settings_over, model):
    """-> {stage: (q60, root60)} for one bake."""
    st = S.GestureSettings(seed=seed, fps=GM.FPS, **settings_over)
    raw = []
    orig = S.ddim

    def rec(m, audio, emotion, sd, mask, rng, *a, **k):
        x0 = orig(m, audio, emotion, sd, mask, rng, *a, **k)
        raw.append(x0)
        return x0
    S.ddim = rec
    try:
        stream = S.GestureStream(emo, st, model)
        blocks = stream.push(x) + stream.finish()
    finally:
        S.ddim = orig
    n = sum(len(b.rotations) for b in blocks)
    out = {"output": (np.concatenate([b.rotations for b in blocks])[:, :22],
                      np.concatenate([b.root_positions for b in blocks]))}
    m = model
    qs, rs = [], []
    for x0 in raw:
        q, r = Rep.decode(stream.body_skel, x0 * m.std + m.mean)
        qs.append(q[m.seed_frames:m.seed_frames + m.hop])
        rs.append(r[m.seed_frames:m.seed_frames + m.hop])
    # window k's new frames sit at [k hop + seed, k hop + seed + hop): prepend window 0's seed part
    q0, r0 = Rep.decode(stream.body_skel, raw[0] * m.std + m.mean)
    qr = R.continuity(np.concatenate([q0[:m.seed_frames]] + qs))
    rr = np.concatenate([r0[:m.seed_frames]] + rs)
    out["windows_raw"] = _to60(qr, rr, n)
    out["crossfaded"] = _to60(stream.q, stream.root, n)
    qsm, rsm = S._smooth(stream.q, stream.root, st.smooth)
    out["smoothed"] = _to60(qsm, rsm, n)
    out["settled"] = _to60(stream.z, stream.zr, n)
    return out


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", default="")
    p.add_argument("--onnx")
    p.add_argument("--tag", default="")
    p.add_argument("--no-procedural", action="store_true")
    a = p.parse_args(argv)
    over = json.loads(a.set) if a.set else {}
    skel = humanoid(fingers=False)
    x = GM.bake_audio(GM.heldout_wavs(GM.SPEECH))
    dur = len(x) / 16000
    from emoanim_server.audio import prosody
    pr = prosody.analyse(x)
    t60 = np.arange(int(np.ceil(dur * GM.FPS - 1e-9)) + 1) / GM.FPS
    speech60 = pr.speech[np.clip(np.round(t60 / pr.hop_s).astype(int), 0, len(pr.speech) - 1)]
    onsets = GM.audio_onsets(x)
    if a.onnx:
        model = S.GestureModel(a.onnx, json.load(open(os.path.splitext(a.onnx)[0] + ".json")))
    else:
        model = S.load_model()
    lib = None
    if not a.no_procedural:
        from gesture_synth import load_idle_library
        lib = load_idle_library(GM.IDLE, cache="/tmp/gesture_idle_lib.npz")
    rows = []
    for emo in GM.EMOTIONS:
        for seed in GM.SEEDS:
            res = stages(x, emo, seed, over, model)
            n = len(res["output"][0])
            if lib is not None:
                res["procedural"] = GM.procedural_bake(x, emo, seed, lib)
            row = {"emotion": emo, "seed": seed}
            for name, (q, root) in res.items():
                k = GM.kin(skel, q[:n], root[:n], GM.FPS)
                bt = GM.beat_test(onsets, GM.motion_beats(k["speed"], GM.FPS), dur)
                sp, sm = k["speed"][:n], speech60[:n]
                row[name] = {"percentile": bt["percentile"], "score": bt["score"], "chance_p95": bt["chance_p95"],
                             "beats_per_s": round(len(GM.motion_beats(k["speed"], GM.FPS)) / dur, 2),
                             "pause_over_speech": round(float(sp[~sm].mean() / max(sp[sm].mean(), 1e-9)), 3),
                             "jerk_per_speed": round(k["jerk_per_speed"], 1)}
            rows.append(row)
            print(json.dumps(row), flush=True)
    names = [k for k in rows[0] if k not in ("emotion", "seed")]
    summary = {k: {"above_p95": f"{sum(r[k]['percentile'] > 95 for r in rows)}/{len(rows)}",
                   "percentile_median": float(np.median([r[k]["percentile"] for r in rows])),
                   "beats_per_s_mean": round(float(np.mean([r[k]["beats_per_s"] for r in rows])), 2),
                   "pause_over_speech_mean": round(float(np.mean([r[k]["pause_over_speech"] for r in rows])), 3),
                   "pause_over_speech_max": max(r[k]["pause_over_speech"] for r in rows),
                   "jerk_per_speed_mean": round(float(np.mean([r[k]["jerk_per_speed"] for r in rows])), 1)}
               for k in names}
    res = {"machine": GM.machine(), "settings_overrides": over, "onnx": a.onnx or "models/gesture_default.onnx",
           "bakes": rows, "summary": summary}
    out = os.path.join(GM.HERE, "results", f"gesture_stages{'_' + a.tag if a.tag else ''}.json")
    save(res, out, echo=False)
    print(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()

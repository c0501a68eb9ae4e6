"""Gesture quality + speed benchmark for the shipped model (no torch needed).

    python benchmarks/gesture_metrics.py [--quick] [--out benchmarks/results/gesture.json]

Audio: the held-out utterances of the training split (the same 5 % the trainer held out of
../shared/data/speech, never trained on) and, for speed, their concatenation (~30 s).

Metrics (all at 60 fps output, after foot planting, default settings unless stated):
- beat alignment (BEAT / Bailando style): for each audio onset (spectral-flux peaks of a plain
  STFT, a detector independent of the one the procedural corpus used), exp(-d^2 / 2 sigma^2)
  with d the distance to the nearest motion beat (local minimum of summed hand speed,
  prominence >= 20 % of its 95th percentile), sigma = 0.1 s, averaged. Baseline: the motion beats
  circularly time-shifted (chance level for that motion-beat rate). Also the reverse
  ("beat precision": for each motion beat, the distance to the nearest audio onset) and its
  chance level.
- jerk: mean |d^3 p / dt^3| of both hands (m/s^3), and of all joints.
- foot sliding: mean horizontal ankle speed (mm/s) over frames with the ankle under 8 cm.
- diversity: mean pairwise distance between hand trajectories of 4 seeds, same audio/emotion (m).
- emotion effect: hand speed (energy), hand height, head/chest flexion for neutral / happy /
  sad / angry; the expected direction is angry, happy > neutral > sad in energy, sad lowest
  head and most flexed chest.
- speed: real-time factor of ``generate`` on one core (onnxruntime intra-op threads = 1), and the
  streamed first-block latency with audio arriving in real time in 100 ms chunks.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import sys
import time

import numpy as np
from scipy.signal import find_peaks

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tools"))

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.gesture import rotations as R  # noqa: E402
from emoanim_server.gesture.features import emotion_vector  # noqa: E402
from emoanim_server.gesture.sampler import GestureSettings, GestureStream, generate, load_model  # noqa: E402
from emoanim_server.gesture.skeleton import forward_kinematics, humanoid, limit_violation  # noqa: E402
from _results import save  # noqa: E402

SPEECH = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data", "speech")
FPS = 60
SIGMA = 0.1


def heldout_wavs(speech: str) -> list[str]:
    """The trainer's validation utterances (same rule as tools/gesture_train.Data)."""
    wavs = sorted(glob.glob(os.path.join(speech, "**", "*.wav"), recursive=True))
    utts = sorted(os.path.relpath(w, speech) for w in wavs)
    rng = np.random.default_rng(0)
    val = rng.choice(utts, max(1, int(len(utts) * 0.05)), replace=False).tolist()
    return [os.path.join(speech, u) for u in sorted(val)]


def audio_onsets(x: np.ndarray) -> np.ndarray:
    n_fft, hop = 512, 160
    pad = np.pad(x, (n_fft // 2, n_fft // 2))
    frames = np.lib.stride_tricks.sliding_window_view(pad, n_fft)[::hop] * np.hanning(n_fft)
    mag = np.log1p(10 * np.abs(np.fft.rfft(frames, axis=1)))
    flux = np.zeros(len(mag))
    flux[1:] = np.maximum(mag[1:] - mag[:-1], 0).sum(axis=1)
    flux /= flux.max() + 1e-9
    rms = np.sqrt((frames ** 2).mean(axis=1))
    db = 20 * np.log10(rms + 1e-7)
    speech = db > max(db.max() - 35, np.percentile(db, 10) + 10)
    peaks, _ = find_peaks(flux, distance=20, prominence=0.1)
    peaks = peaks[speech[peaks]]
    return peaks * hop / 16000.0


def motion_beats(hand_speed: np.ndarray, fps: int) -> np.ndarray:
    """Kinematic beats: local minima of the (lightly smoothed) summed hand speed whose
    prominence is at least 20 % of the clip's 95th-percentile speed (scale-free, so calm and
    energetic motion are judged alike)."""
    k = np.exp(-0.5 * (np.arange(-4, 5) / 2.0) ** 2)
    s = np.convolve(np.pad(hand_speed, 4, mode="edge"), k / k.sum(), mode="valid")
    mins, _ = find_peaks(-s, prominence=0.2 * max(np.percentile(s, 95), 1e-6))
    return mins / fps


def shifted_baseline(a_beats: np.ndarray, m_beats: np.ndarray, dur: float, reverse: bool) -> float:
    """Chance level: the same beats circularly shifted by 0.3 .. dur-0.3 s (15 shifts)."""
    if dur <= 0.7:
        return 0.0
    vals = []
    for sh in np.linspace(0.3, dur - 0.3, 15):
        m = (m_beats + sh) % dur
        vals.append(beat_alignment(m, a_beats) if reverse else beat_alignment(a_beats, m))
    return float(np.mean(vals))


def beat_alignment(audio_beats: np.ndarray, m_beats: np.ndarray) -> float:
    if len(audio_beats) == 0 or len(m_beats) == 0:
        return 0.0
    d = np.abs(audio_beats[:, None] - m_beats[None]).min(axis=1)
    return float(np.mean(np.exp(-d ** 2 / (2 * SIGMA ** 2))))


def kinematics(q, root):
    skel = humanoid()
    gp, gm = forward_kinematics(skel, q, root)
    ix = {n: i for i, n in enumerate(skel.names)}
    hands = gp[:, [ix["LeftHand"], ix["RightHand"]]]
    v = np.diff(hands, axis=0) * FPS
    speed = np.linalg.norm(v, axis=2).sum(axis=1)
    jerk_h = np.linalg.norm(np.diff(hands, 3, axis=0) * FPS ** 3, axis=2).mean()
    jerk_all = np.linalg.norm(np.diff(gp, 3, axis=0) * FPS ** 3, axis=2).mean()
    slide = []
    for f in ("LeftFoot", "RightFoot"):
        p = gp[:, ix[f]]
        hv = np.linalg.norm(np.diff(p[:, [0, 2]], axis=0), axis=1) * FPS
        contact = p[1:, 1] < 0.08
        slide.append(hv[contact].mean() * 1000 if contact.any() else 0.0)
    head_rel = gp[:, ix["Head"]] - gp[:, ix["Neck"]]
    head_flex = np.degrees(np.arctan2(head_rel[:, 2], head_rel[:, 1])).mean()  # + = head forward/down
    chest = gp[:, ix["UpperChest"]] - gp[:, ix["Hips"]]
    chest_flex = np.degrees(np.arctan2(chest[:, 2], chest[:, 1])).mean()
    return {
        "hands": hands, "speed": speed, "hand_speed_mean": float(speed.mean() / 2),
        "jerk_hands": float(jerk_h), "jerk_all": float(jerk_all), "foot_slide_mm_s": float(np.mean(slide)),
        "hand_height": float(hands[:, :, 1].mean()), "head_height": float(gp[:, ix["Head"], 1].mean()),
        "head_flex_deg": float(head_flex), "chest_flex_deg": float(chest_flex),
        "limit_violation": float(limit_violation(skel, q)),
    }


def procedural(x, emo, seed, bank):
    from gesture_synth import synthesize

    rng = np.random.default_rng(seed)
    q, root, _ = synthesize(x, emotion_vector(emo), rng, bank[seed % len(bank)] if bank else None)
    n = int(np.ceil(len(x) / 16000 * FPS)) + 1
    return R.resample(q, 20, n, FPS, True), R.resample(root, 20, n, FPS, False)


def write_card_metrics(res: dict) -> None:
    """Summary into models/gesture_default.json ("metrics"); the sha256 is untouched."""
    from emoanim_server.models import find_model

    path = find_model("gesture_default").with_suffix(".json")
    card = json.load(open(path))
    m, p = res["model"]["overall"], res["procedural_reference"]["overall"]
    card["metrics"] = {
        "source": "benchmarks/gesture_metrics.py -> benchmarks/results/gesture.json (held-out utterances, 60 fps)",
        "beat_alignment": {"model": m["beat_align"], "chance": m["beat_align_chance"],
                           "procedural_data": p["beat_align"], "procedural_chance": p["beat_align_chance"]},
        "beat_precision": {"model": m["beat_precision"], "chance": m["beat_precision_chance"],
                           "procedural_data": p["beat_precision"]},
        "jerk_hands_m_s3": {"model": m["jerk_hands"], "procedural_data": p["jerk_hands"]},
        "foot_slide_mm_s": m["foot_slide_mm_s"],
        "diversity_hand_traj_m": {"model": m["diversity_m"], "procedural_data": p["diversity_m"]},
        "joint_limit_violation": m["limit_violation"],
        "emotion_checks": res["model"]["emotion_checks_passed"],
        "hand_speed_m_s": {e: res["model"]["per_emotion"][e]["hand_speed_mean"] for e in res["model"]["per_emotion"]},
        "chest_flex_deg": {e: res["model"]["per_emotion"][e]["chest_flex_deg"] for e in res["model"]["per_emotion"]},
        "rtf_one_core": res["speed"]["rtf_best"],
        "first_stream_block_s": res["streaming"]["first_block_latency_s_max"],
    }
    with open(path, "w") as f:
        json.dump(card, f, indent=1)


def main(argv=None) -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "results", "gesture.json"))
    p.add_argument("--speech", default=SPEECH)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--card", action="store_true", help="write the summary into models/gesture_default.json")
    a = p.parse_args(argv)
    model = load_model()
    wavs = heldout_wavs(a.speech)
    if a.quick:
        wavs = wavs[:3]
    audios = [load_audio(w).samples for w in wavs]
    onsets = [audio_onsets(x) for x in audios]
    seeds = [0, 1] if a.quick else [0, 1, 2, 3]
    emotions = ["neutral", "happy", "sad", "angry"]
    try:
        from gesture_synth import load_idle_bank
        bank = load_idle_bank("", cache="/tmp/gesture_idle_bank.npz") if os.path.exists("/tmp/gesture_idle_bank.npz") else []
    except Exception:
        bank = []
    res: dict = {"audio": [os.path.relpath(w, a.speech) for w in wavs],
                 "audio_seconds": round(sum(len(x) for x in audios) / 16000, 2),
                 "settings": {"steps": 8, "guidance": 1.0, "audio_guidance": 1.0, "gesture_scale": 1.0, "fps": FPS}}

    def run(source: str, guidance: float = 1.0, audio_guidance: float = 1.0):
        per_emo = {}
        for emo in emotions:
            rows = []
            for i, x in enumerate(audios):
                trajs = []
                for s in seeds:
                    if source == "model":
                        q, root = generate(x, emo, GestureSettings(seed=s, guidance=guidance, audio_guidance=audio_guidance,
                                                                   fps=FPS), model)
                    else:
                        q, root = procedural(x, emo, s, bank)
                    k = kinematics(q, root)
                    mb = motion_beats(k["speed"], FPS)
                    dur = len(x) / 16000
                    k["beat_align"] = beat_alignment(onsets[i], mb)
                    k["beat_align_chance"] = shifted_baseline(onsets[i], mb, dur, False)
                    k["beat_precision"] = beat_alignment(mb, onsets[i])
                    k["beat_precision_chance"] = shifted_baseline(onsets[i], mb, dur, True)
                    k["motion_beats_per_s"] = len(mb) / (len(x) / 16000)
                    trajs.append(k.pop("hands"))
                    k.pop("speed")
                    rows.append(k)
                d = [np.linalg.norm(trajs[u] - trajs[v], axis=2).mean() for u in range(len(trajs)) for v in range(u + 1, len(trajs))]
                rows[-1]["diversity_m"] = float(np.mean(d)) if d else 0.0
            agg = {key: float(np.mean([r[key] for r in rows if key in r])) for key in rows[0]}
            agg["diversity_m"] = float(np.mean([r["diversity_m"] for r in rows if "diversity_m" in r]))
            per_emo[emo] = {k: round(v, 4) for k, v in agg.items()}
        overall = {k: round(float(np.mean([per_emo[e][k] for e in emotions])), 4) for k in per_emo["neutral"]}
        e = per_emo
        checks = {
            "energy angry > neutral": e["angry"]["hand_speed_mean"] > e["neutral"]["hand_speed_mean"],
            "energy happy > neutral": e["happy"]["hand_speed_mean"] > e["neutral"]["hand_speed_mean"],
            "energy neutral > sad": e["neutral"]["hand_speed_mean"] > e["sad"]["hand_speed_mean"],
            "head lower sad < neutral": e["sad"]["head_height"] < e["neutral"]["head_height"],
            "head flexed sad > neutral": e["sad"]["head_flex_deg"] > e["neutral"]["head_flex_deg"],
            "chest flexed sad > happy": e["sad"]["chest_flex_deg"] > e["happy"]["chest_flex_deg"],
            "hands higher angry/happy > sad": min(e["angry"]["hand_height"], e["happy"]["hand_height"]) > e["sad"]["hand_height"],
        }
        return {"per_emotion": per_emo, "overall": overall, "emotion_checks": checks,
                "emotion_checks_passed": f"{sum(checks.values())}/{len(checks)}"}

    t0 = time.time()
    res["model"] = run("model")
    res["procedural_reference"] = run("procedural")
    if not a.quick:
        g = {}
        for gs, ga in ((2.0, 1.0), (4.0, 1.0), (1.0, 2.0)):
            r = run("model", gs, ga)
            pe, o = r["per_emotion"], r["overall"]
            g[f"guidance={gs},audio_guidance={ga}"] = {
                "angry_minus_sad_hand_speed": round(pe["angry"]["hand_speed_mean"] - pe["sad"]["hand_speed_mean"], 4),
                "sad_minus_happy_chest_flex": round(pe["sad"]["chest_flex_deg"] - pe["happy"]["chest_flex_deg"], 3),
                "sad_minus_happy_head_flex": round(pe["sad"]["head_flex_deg"] - pe["happy"]["head_flex_deg"], 3),
                "beat_align": o["beat_align"], "beat_align_chance": o["beat_align_chance"],
                "beat_precision": o["beat_precision"], "beat_precision_chance": o["beat_precision_chance"],
                "hand_speed_mean": o["hand_speed_mean"], "checks": r["emotion_checks_passed"]}
        pe, o = res["model"]["per_emotion"], res["model"]["overall"]
        g["guidance=1.0,audio_guidance=1.0 (default)"] = {"angry_minus_sad_hand_speed": round(pe["angry"]["hand_speed_mean"] - pe["sad"]["hand_speed_mean"], 4),
                    "sad_minus_happy_chest_flex": round(pe["sad"]["chest_flex_deg"] - pe["happy"]["chest_flex_deg"], 3),
                    "sad_minus_happy_head_flex": round(pe["sad"]["head_flex_deg"] - pe["happy"]["head_flex_deg"], 3),
                    "beat_align": o["beat_align"], "beat_align_chance": o["beat_align_chance"],
                    "beat_precision": o["beat_precision"], "beat_precision_chance": o["beat_precision_chance"],
                    "hand_speed_mean": o["hand_speed_mean"], "checks": res["model"]["emotion_checks_passed"]}
        res["guidance_sweep"] = g
    res["quality_wall_s"] = round(time.time() - t0, 1)

    # ---- speed: RTF on ~30 s, one core
    long = np.concatenate(audios)
    long = np.concatenate([long] * int(np.ceil(30 * 16000 / len(long))))[: 30 * 16000]
    generate(long[:16000], "neutral", GestureSettings(), model)  # warm-up
    times = []
    for _ in range(1 if a.quick else 3):
        t = time.perf_counter()
        generate(long, "neutral", GestureSettings(), model)
        times.append(time.perf_counter() - t)
    res["speed"] = {"audio_s": 30.0, "generate_s_best": round(min(times), 3),
                    "rtf_best": round(min(times) / 30.0, 4), "rtf_median": round(float(np.median(times)) / 30.0, 4),
                    "onnxruntime_threads": 1, "steps": 8, "guidance": 1.0, "onnx_batch": 1}
    t = time.perf_counter()
    generate(long, "neutral", GestureSettings(guidance=2.0), model)
    res["speed"]["rtf_with_cfg_guidance_2"] = round((time.perf_counter() - t) / 30.0, 4)
    # ---- streaming latency: audio arrives in real time, 100 ms chunks
    lat = []
    for rep in range(3):
        st = GestureStream("neutral", GestureSettings(seed=rep), model)
        chunk = 1600
        first = None
        busy = 0.0  # compute time spent so far beyond real time
        for i in range(0, len(long), chunk):
            arrival = (i + chunk) / 16000
            t = time.perf_counter()
            blocks = st.push(long[i:i + chunk])
            dt = time.perf_counter() - t
            busy = max(busy, arrival) + dt
            if blocks and first is None:
                first = {"audio_s_at_emit": arrival, "wall_s_at_emit": round(busy, 3), "frames": len(blocks[0].rotations)}
                break
        lat.append(first)
    res["streaming"] = {"chunk_ms": 100, "first_block": lat, "first_block_latency_s_max": max(x["wall_s_at_emit"] for x in lat)}
    save(res, a.out, echo=False)
    if a.card:
        write_card_metrics(res)
    print(json.dumps({k: res[k] for k in ("speed", "streaming")}, indent=1))
    print(json.dumps(res["model"]["overall"], indent=1), res["model"]["emotion_checks"])
    print("procedural", json.dumps(res["procedural_reference"]["overall"]))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Fit the learned engine's speech gate (``models/speech_gate.json``; issue 10, session 9).

Why: the articulation model opens and rounds the mouth on music (rounded vowels and held notes
share its cue; training it out cost rounding hits, session 8). A gate on the decoding leaves the
network as it is: a logistic p(speech) over cheap causal features that ``neural._speech_gate``
computes per 100 Hz frame, averaged at two time scales, multiplies the articulators and contact
probabilities by ``ramp(p; lo, hi)``.

Data (all commercially usable; nothing here is a report set):

* speech: the shared real English lines (Kathleen CC0, CMU ARCTIC via pyroomacoustics, LibriVox
  public domain), 80 lines of CSTR VCTK training speakers (CC BY 4.0; the held-out test speakers
  excluded, tools/artic_real.py), FLEURS **dev** half de / en-US / es-419 (CC BY 4.0); each also
  low-passed (half of them) and over music / coloured noise at 0-20 dB SNR;
* not speech: Sonic Pi's sample library (github:sonic-pi-net/sonic-pi etc/samples, CC0), the even
  half of ``lipsync_neural.RESTDEV_CLIPS`` plus mixes of beat + tone clips; coloured noise.

Checked on what it was not fitted on: FLEURS dev fr / pt-BR and the VCTK / Kathleen dev lines of
tools/artic_heldout.py (judge events with and without the gate), the odd half of the Sonic Pi
clips. LJ, the held-out test half, SPPAS and the rest clips are never read.

Usage: python tools/speech_gate_fit.py [--out models/speech_gate.json]
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

SR = 16000
TAUS = [0.15, 1.0]
SHAPE = {"still": 0.15, "dip_db": 15.0, "level_decay_db": 0.2, "taus_s": TAUS}
LO, HI = 0.2, 0.5  # the ramp on p(speech), chosen by check(): the widest of 0.05-0.2 / 0.2-0.5 / 0.35-0.7 / 0.5-0.85
#: that lost no dev judge event (0.35-0.7 lost one f/v); Sonic Pi odd half p95 0.291 -> 0.248 / 0.205 / 0.159 / 0.091


def _features(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 10) raw features and (n,) sounding flags, exactly as the engine computes them."""
    from emoanim_server.face.lipsync import neural

    n_f = len(neural.SPEECH_GATE_FEATURES)
    p0 = {**SHAPE, "prior": [0.0] * n_f, "mu": [0.0] * (2 * n_f), "sd": [1.0] * (2 * n_f),
          "w": [0.0] * (2 * n_f), "b": 0.0, "lo": 0.0, "hi": 1.0}
    s = neural.NeuralLipsync(100, dataclasses.replace(neural.DECODING, speech_gate=True))
    s._decoder.trace, s._decoder.sg_params = [], p0
    s.begin(x)
    s.run_model()
    s.end_raw()
    s.flush_raw()
    tr = s._decoder.trace
    return np.array([t[0] for t in tr]), np.array([t[1] for t in tr])


def smooth(F: np.ndarray, sounding: np.ndarray, prior: np.ndarray) -> np.ndarray:
    """The engine's averages: per time scale ``avg = a avg + (1 - a) (x if sounding else prior)``."""
    a = np.repeat(np.exp(-0.01 / np.asarray(TAUS)), len(prior))
    pri = np.tile(prior, len(TAUS))
    avg = pri.copy()
    out = np.empty((len(F), len(pri)))
    for k in range(len(F)):
        avg = a * avg + (1 - a) * (np.tile(F[k], len(TAUS)) if sounding[k] else pri)
        out[k] = avg
    return out


def _git(gitdir: str, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", gitdir, *args], capture_output=True, check=True).stdout


def _audio_bytes(b: bytes, suffix: str) -> np.ndarray:
    import tempfile

    from emoanim_server.audio import load_audio

    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(b)
        f.flush()
        return load_audio(f.name).samples.astype(np.float32)


def speech_clips() -> list[tuple[str, np.ndarray]]:
    import artic_decode as AD
    import artic_heldout as H
    import artic_real as R

    from emoanim_server.audio import load_audio

    sp = ROOT.parent / "shared" / "data" / "speech"
    if not sp.is_dir():
        sp = ROOT.parent.parent / "shared" / "data" / "speech"
    out = []
    for folder in ("cmu_arctic_prompts_kathleen_cc0", "cmu_arctic_pyroomacoustics", "librivox_pocketsphinx"):
        for r in csv.DictReader(open(sp / folder / "index.csv")):
            out.append((folder, load_audio(str(sp / folder / r["wav_path"])).samples.astype(np.float32)))
    vctk = R.vctk_train_items()
    for it in vctk[:: max(1, len(vctk) // 80)][:80]:
        out.append(("vctk", _audio_bytes(_git(it["git"], "show", f"HEAD:{it['path']}"), ".wav")))
    for it in H.read():
        if it["half"] == "dev" and it["set"] == "fleurs" and it["language"] in FIT_FLEURS:
            out.append(("fleurs-dev-" + it["language"], AD.audio(it)))
    return out


FIT_FLEURS = ("de", "en-US", "es-419")


def music_clips(rng, names: list[str], n_mix: int) -> list[tuple[str, np.ndarray]]:
    from lipsync_neural import SONICPI

    m = 8 * SR
    clips = {k: _audio_bytes(_git(SONICPI, "show", f"HEAD:etc/samples/{k}.flac"), ".flac") for k in names}
    norm = {k: np.resize(x, m) / (np.abs(x).max() + 1e-9) for k, x in clips.items()}
    out = [(k, 0.5 * x) for k, x in norm.items()]
    beats = [k for k in norm if k.startswith(("loop_", "arovane"))]
    tones = [k for k in norm if not k.startswith(("loop_", "arovane"))]
    for _ in range(n_mix):
        y = norm[beats[rng.integers(len(beats))]] * rng.uniform(0.2, 1) + norm[tones[rng.integers(len(tones))]] * rng.uniform(0.2, 1)
        out.append(("mix", 0.5 * y / np.abs(y).max()))
    return [(k, (x * 10 ** (rng.uniform(-20, 0) / 20)).astype(np.float32)) for k, x in out]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=str(ROOT / "models" / "speech_gate.json"))
    a = ap.parse_args()
    import artic_data as D
    from lipsync_neural import RESTDEV_CLIPS, SONICPI
    from scipy.signal import butter, sosfilt

    rng = np.random.default_rng(21)
    fit_names = list(RESTDEV_CLIPS[0::2])
    music = music_clips(rng, fit_names, 40)
    noise = [("noise", (D._colored(rng, 8 * SR, rng.choice([0.0, 1.0, 2.0])) * 10 ** (rng.uniform(-35, -10) / 20)).astype(np.float32))
             for _ in range(12)]
    speech = speech_clips()
    fl = [c for c in speech if c[0].startswith("fleurs")]
    speech = speech + fl * 2  # the codec-coded lines are few: weight them up

    def chan(x):
        if rng.random() < 0.5:
            x = sosfilt(butter(4, rng.uniform(2500, 7000), fs=SR, output="sos"), x)
        return x.astype(np.float32)

    def bg(x):
        k = rng.integers(0, 2)
        b = np.resize(music[rng.integers(len(music))][1], len(x)) if k == 0 else D._colored(rng, len(x), rng.choice([0.0, 1.0, 2.0]))
        snr = rng.uniform(0, 20)
        return (x + b * np.sqrt((np.mean(x ** 2) + 1e-12) / (np.mean(b ** 2) + 1e-12) / 10 ** (snr / 10))).astype(np.float32)

    clips = ([(1, l, chan(x)) for l, x in speech] + [(1, l + "+bg", chan(bg(x))) for l, x in speech]
             + [(0, l, chan(x)) for l, x in music + noise] + [(0, l, x) for l, x in music])
    feats = []
    for i, (y, l, x) in enumerate(clips):
        F, snd = _features(x)
        feats.append((y, l, F, snd))
        if i % 50 == 0:
            print(i, "/", len(clips), flush=True)
    clean = [F[snd] for y, l, F, snd in feats if y == 1 and "+bg" not in l and snd.any()]
    prior = np.concatenate(clean).mean(0)
    X, Y = [], []
    for y, l, F, snd in feats:
        S = smooth(F, snd, prior)
        X.append(S[snd])
        Y.append(np.full(int(snd.sum()), y))
    X, Y = np.concatenate(X), np.concatenate(Y)
    mu, sd = X.mean(0), X.std(0) + 1e-9
    Xs = np.c_[(X - mu) / sd, np.ones(len(X))]
    cw = np.where(Y == 1, 0.5 / np.mean(Y == 1), 0.5 / np.mean(Y == 0))
    w = np.zeros(Xs.shape[1])
    for _ in range(30):  # IRLS, class-balanced, a small L2
        p = 1 / (1 + np.exp(-Xs @ w))
        Wt = cw * p * (1 - p) + 1e-9
        w += np.linalg.solve((Xs.T * Wt) @ Xs + 1e-2 * np.eye(len(w)), Xs.T @ (cw * (Y - p)))
    p = 1 / (1 + np.exp(-Xs @ w))
    fit = {"frames": int(len(Y)), "speech_frames_gated_p_lt_lo": round(float(np.mean(p[Y == 1] < LO)), 4),
           "nonspeech_frames_open_p_gt_hi": round(float(np.mean(p[Y == 0] > HI)), 4)}
    print("fit", fit, flush=True)
    gate = {**SHAPE, "features": list(__import__("emoanim_server.face.lipsync.neural", fromlist=["x"]).SPEECH_GATE_FEATURES),
            "prior": prior.round(6).tolist(), "mu": mu.round(6).tolist(), "sd": sd.round(6).tolist(),
            "w": w[:-1].round(6).tolist(), "b": round(float(w[-1]), 6), "lo": LO, "hi": HI}
    card = {
        "name": "speech_gate", "version": "1.0", "file": "speech_gate.json (this card holds the weights)",
        "task": "p(speech) per 100 Hz frame for the learned lip-sync engine's decoding (neural.Decoding.speech_gate): "
                "the mouth rests where the sound is music or noise (issue 10)",
        "licence": "weights fitted by tools/speech_gate_fit.py on the data below; ship with the project",
        "training_data": {
            "speech": "Kathleen CMU ARCTIC prompts (CC0), CMU ARCTIC via pyroomacoustics (BSD-style CMU ARCTIC licence; CMU ARCTIC, Language Technologies Institute, Carnegie Mellon University), LibriVox "
                      "via pocketsphinx (public domain), CSTR VCTK 0.92 training speakers (CC BY 4.0, Centre for Speech "
                      "Technology Research, University of Edinburgh; github:RichardSterry/msc-project copies), Google FLEURS "
                      "dev half de/en-US/es-419 (CC BY 4.0; github:sebastian-software/cuttledoc fixtures)",
            "not_speech": f"Sonic Pi sample library, CC0 (github:sonic-pi-net/sonic-pi etc/samples): {', '.join(fit_names)} "
                          "and 40 beat + tone mixes of them; coloured noise made in code",
            "augmentation": "half low-passed 2.5-7 kHz; every speech line also over music or noise at 0-20 dB SNR",
        },
        "fit": fit, "source_commit_sonic_pi": _git(SONICPI, "rev-parse", "HEAD").decode().strip(),
        "gate": gate,
    }
    Path(a.out).write_text(json.dumps(card, indent=1) + "\n")
    print("wrote", a.out)
    card["check"] = check(gate)
    print("check", card["check"])
    Path(a.out).write_text(json.dumps(card, indent=1) + "\n")


def check(gate: dict) -> dict:
    """On what the fit did not see: judge events of the dev lines (FLEURS dev fr / pt-BR, VCTK and
    Kathleen dev of tools/artic_heldout.py) with and without the gate; the odd half of the Sonic
    Pi clips (mouth p95, as lipsync_neural.py restdev)."""
    import artic_decode as AD
    import artic_heldout as H
    import lipsync_neural as B

    from emoanim_server.face.lipsync import neural

    on = dataclasses.replace(neural.DECODING, speech_gate=True)
    neural.speech_gate_params.cache_clear()
    items = [it for it in H.read() if it["half"] == "dev" and it["transcript_used"] and it["language"] not in FIT_FLEURS]
    agg: dict = {"shipped": {}, "speech_gate": {}}
    for it in items:
        x = AD.audio(it)
        for label, d in (("shipped", neural.DECODING), ("speech_gate", on)):
            B.score_curves(neural.neural_curves(x, 60, decoding=d), 60, it["phones"], agg[label])
    out = {"dev_lines": len(items), **{k: B.summarise(v) for k, v in agg.items()}}
    rows = []
    for k in B.RESTDEV_CLIPS[1::2]:
        x = B._git_audio(B.SONICPI, f"etc/samples/{k}.flac")
        x = (np.resize(x, 8 * SR) / (np.abs(x).max() + 1e-9) * 0.5).astype(np.float32)
        rows.append([B._mouth_stats(neural.neural_curves(x, 60, decoding=d))["p95"] for d in (neural.DECODING, on)])
    r = np.array(rows)
    out["restdev_odd_half_median_p95"] = {"shipped": round(float(np.median(r[:, 0])), 3), "speech_gate": round(float(np.median(r[:, 1])), 3)}
    return out


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""How well does ``--emotion auto`` separate high- from low-arousal speech?

We have no emotional speech corpus we may use (RAVDESS, CREMA-D, IEMOCAP... are
non-commercial or unavailable offline), so this measures two honest proxies:

1. **espeak-ng arousal proxy**: the same sentences, several voices, rendered at three prosodic
   "arousal" levels the way acted speech differs (Juslin & Laukka 2003): low = slow, low and
   narrow pitch, soft; mid = defaults; high = fast, high and wide pitch, loud. This checks the
   estimator follows the cues in the right direction; it does *not* show it recognises real
   emotion (espeak's voice quality does not change with "effort").
2. **real neutral read speech** (../shared/data/speech): the spread of estimated arousal over
   utterances that are all neutral - the false-arousal noise floor a user would see.

Usage: python benchmarks/emotion_auto.py [--out benchmarks/results/emotion_auto.json]
"""
from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.audio.prosody import analyse  # noqa: E402
from emoanim_server.emotion.auto import NEUTRAL_REF, estimate, speaker_baseline  # noqa: E402
from _results import save  # noqa: E402

SPEECH = next((p for p in (os.path.join(HERE, "..", "..", "shared", "data", "speech"),
                            os.path.join(HERE, "..", "..", "..", "shared", "data", "speech")) if os.path.isdir(p)),
              os.path.join(HERE, "..", "..", "shared", "data", "speech"))  # a worktree sits one level deeper

SENTENCES = [
    "I can't believe we finally made it to the top of the mountain today.",
    "Put the box on the table and bring me the blue one from the kitchen.",
    "Nobody told me that the meeting was moved to Monday morning.",
    "We have to leave right now, the bridge is about to collapse.",
    "My brother found an old map buried behind the barn.",
    "Please remember to feed the fish before you go to bed.",
]
VOICES = ["en-us", "en-gb", "en-us+f3", "en-gb-x-rp+m3", "en-us+f2"]
#: arousal level -> (espeak args, SSML prosody attributes)
LEVELS = {
    "low": (["-s", "125", "-a", "70"], "rate='slow' pitch='-25%' range='x-low' volume='soft'"),
    "mid": (["-s", "165", "-a", "100"], ""),
    "high": (["-s", "215", "-a", "150"], "rate='fast' pitch='+35%' range='x-high' volume='loud'"),
}


def synth(text: str, voice: str, level: str, path: str) -> None:
    args, attrs = LEVELS[level]
    ssml = f"<speak><prosody {attrs}>{text}</prosody></speak>" if attrs else f"<speak>{text}</speak>"
    subprocess.run(["espeak-ng", "-m", "-v", voice, *args, "-w", path, ssml], check=True,
                   capture_output=True)


def auc(pos: list[float], neg: list[float]) -> float:
    """P(random high > random low) (Mann-Whitney AUC, ties count half)."""
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def _summary(rows: list[dict]) -> dict:
    out: dict = {"n_items": len(rows)}
    for level in LEVELS:
        v = [r[level] for r in rows]
        out[f"{level}_mean"] = round(float(np.mean(v)), 3)
        out[f"{level}_std"] = round(float(np.std(v)), 3)
    hi, lo, mid = ([r[k] for r in rows] for k in ("high", "low", "mid"))
    pooled = np.sqrt(0.5 * (np.var(hi) + np.var(lo)))
    out["separation_high_minus_low"] = round(float(np.mean(hi) - np.mean(lo)), 3)
    out["cohens_d_high_vs_low"] = round(float((np.mean(hi) - np.mean(lo)) / max(pooled, 1e-9)), 2)
    out["auc_high_vs_low"] = round(auc(hi, lo), 3)
    out["auc_high_vs_mid"] = round(auc(hi, mid), 3)
    out["auc_mid_vs_low"] = round(auc(mid, lo), 3)
    out["same_item_order_high>mid>low"] = round(float(np.mean([r["high"] > r["mid"] > r["low"] for r in rows])), 3)
    out["same_item_high>low"] = round(float(np.mean([r["high"] > r["low"] for r in rows])), 3)
    return out


def espeak_proxy(tmp: str) -> dict:
    """Population reference, and speaker baseline = the same voice's default ("mid") rendering
    of a *different* sentence (what a user would give: one neutral line of the character)."""
    pros: dict = {}
    for si, text in enumerate(SENTENCES):
        for voice in VOICES:
            for level in LEVELS:
                path = os.path.join(tmp, f"{si}_{voice}_{level}.wav")
                synth(text, voice, level, path)
                pros[si, voice, level] = analyse(load_audio(path).samples)
    rows, rows_b = [], []
    for si in range(len(SENTENCES)):
        for voice in VOICES:
            base = speaker_baseline([pros[(si + 1) % len(SENTENCES), voice, "mid"]])
            rows.append({lv: estimate(pros[si, voice, lv]).utterance_arousal for lv in LEVELS})
            rows_b.append({lv: estimate(pros[si, voice, lv], base).utterance_arousal for lv in LEVELS})
    return {"voices": VOICES, "n_sentences": len(SENTENCES), "population_reference": _summary(rows),
            "speaker_baseline_other_sentence": _summary(rows_b)}


def real_neutral(limit: int = 25) -> dict:
    """Arousal spread on neutral read speech, plus the cue means that set auto.NEUTRAL_REF
    (``calibration``: the mean of the per-corpus means, so one reader does not dominate)."""
    res: dict = {}
    corpus_cues: dict[str, dict[str, float]] = {}
    for corpus in ("ljspeech_mfa", "cmu_arctic_prompts_kathleen_cc0", "cmu_arctic_pyroomacoustics",
                   "librivox_pocketsphinx"):
        idx = os.path.join(SPEECH, corpus, "index.csv")
        if not os.path.isfile(idx):
            continue
        vals, cues, pros, spk = [], [], [], []
        for it in list(csv.DictReader(open(idx)))[:limit]:
            a = load_audio(os.path.join(SPEECH, corpus, it["wav_path"]))
            p = analyse(a.samples)
            est = estimate(p)
            vals.append(est.utterance_arousal)
            cues.append(est.cues)
            pros.append(p)
            spk.append(it.get("speaker", corpus))
        corpus_cues[corpus] = {k: float(np.mean([c[k] for c in cues])) for k in cues[0]}
        # speaker baseline: 3 *other* neutral lines of the same speaker (leave-one-out)
        vals_b = []
        for i, p in enumerate(pros):
            others = [q for j, q in enumerate(pros) if j != i and spk[j] == spk[i]][:3]
            if others:
                vals_b.append(estimate(p, speaker_baseline(others)).utterance_arousal)
        res[corpus] = {"n": len(vals), "mean": round(float(np.mean(vals)), 3),
                       "std": round(float(np.std(vals)), 3), "min": round(float(np.min(vals)), 3),
                       "max": round(float(np.max(vals)), 3)}
        if vals_b:
            res[corpus]["speaker_baseline"] = {"mean": round(float(np.mean(vals_b)), 3),
                                               "std": round(float(np.std(vals_b)), 3)}
    if corpus_cues:
        keys = next(iter(corpus_cues.values())).keys()
        res["calibration_mean_of_corpus_means"] = {
            k: round(float(np.mean([c[k] for c in corpus_cues.values()])), 2) for k in keys}
        res["current_NEUTRAL_REF"] = {k: v[0] for k, v in NEUTRAL_REF.items()}
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "emotion_auto.json"))
    a = ap.parse_args()
    t0 = time.time()
    result: dict = {"what": "utterance arousal from emotion.auto (-1..1)"}
    if shutil.which("espeak-ng"):
        with tempfile.TemporaryDirectory() as tmp:
            result["espeak_proxy"] = espeak_proxy(tmp)
    else:
        result["espeak_proxy"] = "skipped: espeak-ng not installed"
    result["real_neutral_read_speech"] = real_neutral()
    result["real_acted_emotion"] = "not measured: no licensed acted-emotion corpus available offline"
    result["seconds"] = round(time.time() - t0, 1)
    save(result, a.out)


if __name__ == "__main__":
    main()

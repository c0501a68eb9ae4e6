#!/usr/bin/env python3
"""Does emotion ever cost lip-sync? Articulation scores per emotion on real speech.

For every LJ Speech clip in ../shared/data/speech/ljspeech_mfa: recognise phones and lip-sync
once (pipeline.recognise + pipeline.lipsync_curves, exactly what bake() runs), then run the
emotion stage for each category at intensity 1 (and auto) and score the mouth against the MFA
alignment with ../shared/tools/lipsync_check.py's own ``score`` (closure, closure_m, open,
round, fv). Recognition is deterministic, so reusing it across emotions gives the same curves
as separate ``emoanim bake --emotion X`` runs, in a ninth of the time.

Usage: python benchmarks/emotion_closure.py [--limit N] [--out benchmarks/results/emotion_closure.json]
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.audio.prosody import analyse  # noqa: E402
from emoanim_server.emotion import CATEGORIES, apply_emotion, from_category  # noqa: E402
from emoanim_server.emotion.stage import controls_from  # noqa: E402
from emoanim_server.face.mixer import lip_gap  # noqa: E402
from emoanim_server.pipeline import BakeOptions, lipsync_curves, recognise  # noqa: E402
from emoanim_server.track import AnimationTrack  # noqa: E402
from _results import save  # noqa: E402

SHARED = os.path.join(ROOT, "..", "shared")
DATA = os.path.join(SHARED, "data", "speech", "ljspeech_mfa")
KEYS = ("closure", "closure_m", "open", "round", "fv")


def _checker():
    spec = importlib.util.spec_from_file_location("lipsync_check", os.path.join(SHARED, "tools", "lipsync_check.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "emotion_closure.json"))
    a = ap.parse_args()
    chk = _checker()
    items = list(csv.DictReader(open(os.path.join(DATA, "index.csv"))))
    if a.limit:
        items = items[: a.limit]
    emotions = {"neutral": None, **{c: from_category(c, 1.0) for c in CATEGORIES[1:]},
                "auto": controls_from("auto")}
    agg = {e: {k: [] for k in KEYS} for e in emotions}
    t0 = time.time()
    for it in items:
        audio = load_audio(os.path.join(DATA, it["wav_path"]))
        phones = recognise(audio, BakeOptions())
        base = AnimationTrack.empty(audio.duration)
        lips = lipsync_curves(audio, phones, base.times, base.fps)
        prosody = analyse(audio.samples)
        ref = chk.textgrid_phones(os.path.join(DATA, it["label_path"]))
        dur = ref[-1][1]
        grid = np.arange(0, dur, 1 / chk.GRID)
        for name, emo in emotions.items():
            tr = AnimationTrack.empty(audio.duration)
            tr.curves[:] = lips
            tr.events["phones"] = [(p.start, p.end, p.phone) for p in phones]
            apply_emotion(tr, audio, BakeOptions(extra={"emotion": emo}), prosody=prosody)
            gap = lip_gap(tr.curves)
            rnd = np.maximum(tr.curve("mouthPucker"), tr.curve("mouthFunnel"))
            fv = tr.curve("mouthRollLower")
            s = chk.score(grid, *(np.interp(grid, tr.times, x) for x in (gap, rnd, fv)), ref)
            for k in KEYS:
                agg[name][k] += s[k]
    res: dict = {"utterances": len(items), "corpus": "ljspeech_mfa (MFA phones as reference)",
                 "path": "recogniser phones -> lip-sync -> emotion stage (as bake)", "per_emotion": {}}
    for name in emotions:
        res["per_emotion"][name] = {k: round(float(np.mean(v)), 4) for k, v in agg[name].items()}
    res["n"] = {k: len(agg["neutral"][k]) for k in KEYS}
    neutral = res["per_emotion"]["neutral"]
    res["max_drop_vs_neutral_points"] = {
        k: round(100 * max(neutral[k] - res["per_emotion"][e][k] for e in emotions), 2) for k in KEYS}
    res["seconds"] = round(time.time() - t0, 1)
    save(res, a.out)


if __name__ == "__main__":
    main()

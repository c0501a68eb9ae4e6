#!/usr/bin/env python3
"""Do detected emphases land on stressed syllables? A check of audio.prosody.emphasis on real speech.

Reference: the MFA alignments of LJ Speech carry lexical stress on vowels (``AH1`` primary,
``AH2`` secondary, ``AH0`` unstressed). Pitch accents fall on primary-stressed syllables of
accented words, so a good detector's peaks should sit in primary-stressed vowels far more
often than chance. We report:

* precision: share of emphasis peaks inside (+-40 ms) a primary-stressed vowel;
* chance: share of speech time (non-silence phones) covered by primary-stressed vowels +-40 ms,
  i.e. the precision of peaks placed at random in speech;
* same for all syllable nuclei (the candidates the detector picks from), to show the scoring
  step adds selectivity beyond finding vowels;
* emphasis rate per second of speech.

Lexical stress is not accent (many stressed syllables are not emphasised), so recall is not
meaningful here and is not reported.

Usage: python benchmarks/emotion_emphasis.py [--out benchmarks/results/emotion_emphasis.json]
"""
from __future__ import annotations

import argparse
import csv
import os
import re
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.audio.prosody import analyse  # noqa: E402
from _results import save  # noqa: E402

DATA = os.path.join(ROOT, "..", "shared", "data", "speech", "ljspeech_mfa")
TOL = 0.04


def phones_with_stress(path: str) -> list[tuple[float, float, str]]:
    txt = open(path, encoding="utf-8").read()
    for tier in re.split(r"item \[\d+\]:", txt)[1:]:
        if re.search(r'name = "phones"', tier):
            iv = re.findall(r'xmin = ([\d.]+)\s+xmax = ([\d.]+)\s+text = "([^"]*)"', tier)
            return [(float(a), float(b), lab) for a, b, lab in iv]
    raise ValueError(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "emotion_emphasis.json"))
    a = ap.parse_args()
    items = list(csv.DictReader(open(os.path.join(DATA, "index.csv"))))
    hit_e = hit_n = n_e = n_n = 0
    cover = speech = 0.0
    strengths_hit, strengths_miss = [], []
    for it in items:
        p = analyse(load_audio(os.path.join(DATA, it["wav_path"])).samples)
        ph = phones_with_stress(os.path.join(DATA, it["label_path"]))
        stressed = [(s - TOL, e + TOL) for s, e, lab in ph if lab.endswith("1")]
        grid = np.arange(0, ph[-1][1], 0.005)
        in_speech = np.zeros(len(grid), bool)
        in_stress = np.zeros(len(grid), bool)
        for s, e, lab in ph:
            if lab and lab.lower() not in ("sil", "sp", "spn"):
                in_speech |= (grid >= s) & (grid < e)
        for s, e in stressed:
            in_stress |= (grid >= s) & (grid < e)
        speech += in_speech.sum()
        cover += (in_speech & in_stress).sum()

        def inside(t: float) -> bool:
            return any(s <= t <= e for s, e in stressed)

        for t, st in p.emphasis:
            n_e += 1
            if inside(t):
                hit_e += 1
                strengths_hit.append(st)
            else:
                strengths_miss.append(st)
        for t in p.nuclei:
            n_n += 1
            hit_n += inside(t)
    speech_s = speech * 0.005
    res = {
        "utterances": len(items), "emphasis_peaks": n_e, "nuclei": n_n,
        "precision_emphasis_in_primary_stress": round(hit_e / max(n_e, 1), 3),
        "precision_all_nuclei_in_primary_stress": round(hit_n / max(n_n, 1), 3),
        "chance_random_time_in_speech": round(cover / max(speech, 1), 3),
        "emphasis_per_speech_second": round(n_e / max(speech_s, 1e-9), 3),
        "mean_strength_on_stressed": round(float(np.mean(strengths_hit)), 3) if strengths_hit else None,
        "mean_strength_elsewhere": round(float(np.mean(strengths_miss)), 3) if strengths_miss else None,
        "tolerance_s": TOL,
    }
    save(res, a.out)


if __name__ == "__main__":
    main()

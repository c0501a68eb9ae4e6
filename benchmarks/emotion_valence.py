#!/usr/bin/env python3
"""Does ``--emotion auto`` hear valence (happy vs sad/angry) as well as arousal?

No commercially usable acted emotional speech is available to us offline (CREMA-D is ODbL but
its audio is Git-LFS only; RAVDESS, TESS, SAVEE, IEMOCAP, ESD are non-commercial or
unavailable), so this is an **espeak-ng proxy, and a weak one**: the same synthesiser renders
sentences with the prosody acted emotions are reported to have (Juslin & Laukka 2003, table 7;
Banse & Scherer 1996): happy = faster, higher, widest pitch range; sad = slow, low, narrow,
soft; angry = fast, higher, wide range, loud (hot anger: prosodically close to joy); fearful =
fastest, highest, medium range; neutral = defaults. espeak-ng does not change voice quality (tension, breathiness, roughness), which is
where real anger and joy differ most, and "loud" only scales the waveform (our cues are
gain-invariant), so this checks that the estimator follows the reported cue *directions*; it
does not show it recognises real emotion.

Two sentence sets: emotion-congruent sentences (the words carry the emotion: the with-transcript
case) and emotion-neutral sentences rendered in every emotion (only the voice can tell).
Voices are split: the acoustic weights were set on voices ``TUNE`` and are reported on the
held-out ``HELD_OUT`` voices as well as on all.

Usage: python benchmarks/emotion_valence.py [--out benchmarks/results/emotion_valence.json]
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.audio.prosody import analyse  # noqa: E402
from emoanim_server.emotion.auto import estimate  # noqa: E402
from _results import save  # noqa: E402

CONGRUENT = {
    "happy": ["This is the best day of my life, I love it here!",
              "We won the prize, everyone is so proud and happy.",
              "What a wonderful surprise, thank you so much!",
              "I am delighted to see you again, my dear friend.",
              "The sun is shining and the party was great fun.",
              "Congratulations, you did a fantastic job today."],
    "sad": ["I miss her so much, nothing will ever be the same.",
            "He died alone last winter and nobody came.",
            "I lost everything I had, and I feel so empty.",
            "We said goodbye for the last time, and I cried.",
            "It hurts to know that they never loved me.",
            "The house is quiet now, and I am lonely."],
    "angry": ["I hate you, get out of my house right now!",
              "How dare you lie to me again, you stupid fool!",
              "This is outrageous, I am furious with all of you!",
              "Stop it, you ruined everything, you idiot!",
              "I am sick of your excuses, this is disgusting!",
              "You betrayed us and I will never forgive you!"],
}
NEUTRAL_WORDS = ["The train leaves the station at seven in the evening.",
                 "Put the green box on the table next to the window.",
                 "The meeting was moved from Monday to Thursday.",
                 "She walked to the market and bought some bread.",
                 "The numbers are written on the back of the card.",
                 "We drove north along the river for two hours."]
#: emotion -> (espeak args, SSML prosody attributes)
STYLES = {
    "neutral": (["-s", "165"], ""),
    "happy": (["-s", "185"], "pitch='+30%' range='x-high'"),
    "sad": (["-s", "120"], "pitch='-20%' range='x-low' volume='soft'"),
    "angry": (["-s", "195"], "pitch='+20%' range='high' volume='x-loud'"),
    "fearful": (["-s", "210"], "pitch='+45%' range='medium'"),
}
TUNE = ["en-us", "en-gb"]
HELD_OUT = ["en-us+f3", "en-gb-x-rp+m3", "en-us+f2", "en-us+m4"]


def synth(text: str, voice: str, style: str, path: str) -> None:
    args, attrs = STYLES[style]
    ssml = f"<speak><prosody {attrs}>{text}</prosody></speak>" if attrs else f"<speak>{text}</speak>"
    subprocess.run(["espeak-ng", "-m", "-v", voice, *args, "-w", path, ssml], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def auc(pos: list[float], neg: list[float]) -> float:
    """P(score of a positive > score of a negative), ties count half (Mann-Whitney)."""
    p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
    return float(((p > n).sum() + 0.5 * (p == n).sum()) / (p.size * n.size))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(HERE, "results", "emotion_valence.json"))
    a = ap.parse_args()
    if not shutil.which("espeak-ng"):
        sys.exit("espeak-ng not found: this benchmark synthesises its proxy speech with it")
    t0 = time.time()
    tmp = tempfile.mkdtemp()
    rows = []  # (voice, emotion, set, valence_voice, valence_text, arousal)
    for voice in TUNE + HELD_OUT:
        for emo in STYLES:
            texts = [("neutral_words", s) for s in NEUTRAL_WORDS]
            texts += [("congruent", s) for s in CONGRUENT.get(emo, [])]
            for kind, text in texts:
                path = os.path.join(tmp, "x.wav")
                synth(text, voice, emo, path)
                p = analyse(load_audio(path).samples)
                ea = estimate(p)
                et = estimate(p, text=text)
                rows.append((voice, emo, kind, ea.utterance_valence, et.utterance_valence, ea.utterance_arousal))
    shutil.rmtree(tmp, ignore_errors=True)

    def sel(voices, emos, kinds, col):
        return [r[col] for r in rows if r[0] in voices and r[1] in emos and r[2] in kinds]

    res: dict = {"proxy": "espeak-ng prosody (weak proxy, see docstring)", "date": time.strftime("%Y-%m-%d"),
                 "machine": f"{platform.machine()} {os.cpu_count()} cpu (shared)", "n_utterances": len(rows)}
    for name, voices in (("held_out_voices", HELD_OUT), ("all_voices", TUNE + HELD_OUT)):
        r = {}
        # with a transcript: the words carry the emotion (congruent sentences)
        r["valence_auc_happy_vs_sad_angry_with_transcript"] = round(auc(
            sel(voices, ["happy"], ["congruent"], 4), sel(voices, ["sad", "angry"], ["congruent"], 4)), 3)
        # without: only the voice (both sentence sets; the neutral-word set is the strict case)
        for kinds, tag in ((["congruent", "neutral_words"], "all_sentences"), (["neutral_words"], "neutral_words")):
            r[f"valence_auc_happy_vs_sad_angry_voice_only_{tag}"] = round(auc(
                sel(voices, ["happy"], kinds, 3), sel(voices, ["sad", "angry"], kinds, 3)), 3)
        r["valence_auc_happy_vs_sad_voice_only"] = round(auc(sel(voices, ["happy"], ["neutral_words"], 3),
                                                             sel(voices, ["sad"], ["neutral_words"], 3)), 3)
        r["valence_auc_happy_vs_angry_voice_only"] = round(auc(sel(voices, ["happy"], ["neutral_words"], 3),
                                                               sel(voices, ["angry"], ["neutral_words"], 3)), 3)
        r["arousal_auc_happy_angry_fearful_vs_sad_neutral"] = round(auc(
            sel(voices, ["happy", "angry", "fearful"], ["neutral_words"], 5),
            sel(voices, ["sad", "neutral"], ["neutral_words"], 5)), 3)
        r["mean_valence_voice_only"] = {e: round(float(np.mean(sel(voices, [e], ["neutral_words"], 3))), 3) for e in STYLES}
        r["mean_valence_with_transcript"] = {e: round(float(np.mean(sel(voices, [e], ["congruent"], 4))), 3)
                                             for e in CONGRUENT}
        r["mean_arousal"] = {e: round(float(np.mean(sel(voices, [e], ["neutral_words"], 5))), 3) for e in STYLES}
        res[name] = r
    res["seconds"] = round(time.time() - t0, 1)
    save(res, a.out)


if __name__ == "__main__":
    main()

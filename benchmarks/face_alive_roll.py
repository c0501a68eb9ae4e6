#!/usr/bin/env python3
"""mouthRollLower against the real spread while the shared judge keeps every f/v and closure.

Issue 12 wants mouthRollLower within 2x of the real captures' sd (0.017 over 20 s takes) while
the shared judge (../shared/tools/lipsync_check.py) wants mouthRollLower >= 0.2 somewhere in
every f/v (+-20 ms of the MFA segment), and neither closure nor f/v may drop. This scores the
shipped tuck (face/lipsync/animate.py: TUCK_FRAMES frames at TUCK_AT of each f/v phone, the
blend's roll held under the tuck, a learned closure never erasing a tuck, learned tucks only at
confident detections away from the phones' contacts) on all 43 LJ clips for the three mouths:
the default bake (``fused``: recogniser phones + learned contacts), the English bake with the
transcript (phonetic on the alignment) and the learned engine alone (``neural``, = LIVE), plus
variants made by changing the module's constants in this process only.

Also, in the same run, the default bake's mouth on espeak-ng speech of every supported language
without a transcript (benchmarks/lipsync_languages.py's lines and references, "audio" mode): the
English recogniser mishears foreign speech, so this is where the learned contacts matter most.

Usage: python benchmarks/face_alive_roll.py [--no-languages]
"""
from __future__ import annotations

import csv
import os
import platform
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import face_alive as FA  # noqa: E402
from _results import save  # noqa: E402
from emoanim_server import pipeline  # noqa: E402
from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.audio.features import frame_db  # noqa: E402
from emoanim_server.face.lipsync import animate as AN  # noqa: E402
from emoanim_server.face.lipsync import neural as NE  # noqa: E402
from emoanim_server.face.mixer import lip_gap  # noqa: E402
from emoanim_server.track import ARKIT_INDEX, n_frames_for  # noqa: E402

FPS = 60
MOUTHS = ("fused", "transcript", "neural")


def _clips(chk) -> list[dict]:
    FA.cached_recognise(os.path.join(os.path.expanduser("~"), ".cache", "emoanim_face_alive"))
    out = []
    for it in csv.DictReader(open(os.path.join(FA.DATA, "index.csv"))):
        au = load_audio(os.path.join(FA.DATA, it["wav_path"]))
        n = n_frames_for(au.duration, FPS)
        out.append({"phones": pipeline.recognise(au, pipeline.BakeOptions()),
                    "aligned": pipeline.recognise(au, pipeline.BakeOptions(transcript=it["transcript"])),
                    "times": np.arange(n) / FPS, "db": frame_db(au.samples, 0.01),
                    "y": NE.neural_outputs(au.samples, FPS), "dur": au.duration,
                    "neural": NE.neural_curves(au.samples, FPS),
                    "ref": chk.textgrid_phones(os.path.join(FA.DATA, it["label_path"]))})
    return out


def _language_clips() -> list[dict]:
    """espeak-ng lines of every language (lipsync_languages.py), recognised as the default bake
    does without a transcript or language."""
    import lipsync_languages as LL
    from emoanim_server.audio import Audio
    from emoanim_server.face.lipsync.ipa import ipa_class

    out = []
    for lang in LL.LANGUAGES.values():
        for si, text in enumerate(LL.LINES[lang.tag]):
            y, ref = LL.speech(text, lang.voice, si)
            au = Audio(y)
            n = n_frames_for(au.duration, FPS)
            out.append({"phones": pipeline.recognise(au, pipeline.BakeOptions()), "times": np.arange(n) / FPS,
                        "db": frame_db(y, 0.01), "y": NE.neural_outputs(y, FPS), "dur": au.duration,
                        "ref": [(a, b, LL.JUDGE_LABEL.get(ipa_class(p), "x")) for a, b, p in ref]})
    return out


def _curves(c: dict, mouth: str) -> np.ndarray:
    """The mouth exactly as the bake makes it (pipeline.lipsync_curves / neural_curves), from the
    cached phones and network outputs."""
    if mouth == "neural":  # the learned engine exactly as a bake / LIVE runs it (its decoding included)
        return c["neural"]
    phones = c["aligned"] if mouth == "transcript" else c["phones"]
    art = AN.articulate(phones, c["times"], FPS, c["db"], np.arange(len(c["db"])) * 0.01)
    if mouth == "transcript":
        return AN.to_arkit(art)
    _, wb, _ = NE.calibrated(c["y"])
    n = min(len(art), len(wb))
    out = art.copy()
    out[:n] = AN.apply_contacts(art[:n], wb[:n], AN.learned_tucks(art[:n], NE.fused_tuck_p(c["y"][:n, NE.N_ART + 1], FPS), FPS))
    return AN.to_arkit(out)


def _score(chk, clips, mouth: str) -> dict:
    agg = {k: [] for k in ("closure", "open", "round", "fv")}
    curves = [_curves(c, mouth) for c in clips]
    for c, cur in zip(clips, curves):
        t = c["times"][:len(cur)]
        grid = np.arange(0, c["ref"][-1][1], 1 / chk.GRID)
        rnd = np.maximum(cur[:, ARKIT_INDEX["mouthPucker"]], cur[:, ARKIT_INDEX["mouthFunnel"]])
        s = chk.score(grid, *(np.interp(grid, t, x) for x in
                              (lip_gap(cur), rnd, cur[:, ARKIT_INDEX["mouthRollLower"]])), c["ref"])
        for k in agg:
            agg[k] += s[k]
    ri = ARKIT_INDEX["mouthRollLower"]
    sds, cur, dur = [], [], 0.0
    for c, cv in zip(clips, curves):
        cur.append(cv)
        dur += c["dur"]
        if dur >= FA.TAKE_S:
            sds.append(np.concatenate(cur)[:, ri].std())
            cur, dur = [], 0.0
    allr = np.concatenate([c[:, ri] for c in curves])
    return {"roll_ratio": round(float(np.mean(sds)) / FA.REAL_SD["mouthRollLower"], 2),
            "frames_at_tuck": round(float((allr >= 0.2).mean()), 4),
            **{k: round(float(np.mean(v)), 4) for k, v in agg.items()}}


VARIANTS = [("shipped", {}),
            ("tuck at the phone middle", {"TUCK_AT": 0.5}),
            ("1 frame per tuck", {"TUCK_FRAMES": 1}),
            ("3 frames per tuck", {"TUCK_FRAMES": 3}),
            ("50 ms ramps", {"TUCK_RAMP_S": 0.05}),
            ("no learned tucks", {"LEARNED_TUCK_P": 2.0}),
            ("learned tucks from p >= 0.95", {"LEARNED_TUCK_P": 0.95}),
            ("learned tucks also next to phonetic tucks", {"LEARNED_TUCK_NEAR_S": 0.0})]


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-languages", action="store_true", help="LJ only (skip the 48-language espeak-ng set)")
    a = ap.parse_args()
    t0, c0 = time.time(), time.process_time()
    chk = FA._checker()
    clips = _clips(chk)
    langs = [] if a.no_languages else _language_clips()
    res: dict = {"corpus": f"ljspeech_mfa ({len(clips)} clips), 60 fps; mouths: fused = default bake "
                           "(recogniser phones + learned contacts), transcript = English bake with the "
                           "transcript (phonetic on the alignment), neural = learned engine (LIVE)",
                 "machine": f"{platform.machine()} {os.cpu_count()} cpu (shared)", "date": time.strftime("%Y-%m-%d"),
                 "loadavg": [round(x, 2) for x in os.getloadavg()],
                 "real_sd": FA.REAL_SD["mouthRollLower"], "before_this_change": {
                     "fused": {"roll_ratio": 3.19, "closure": 0.957, "fv": 0.887},
                     "transcript": {"roll_ratio": 2.68, "closure": 0.996, "fv": 0.992},
                     "neural": {"roll_ratio": 2.55, "closure": 0.658, "fv": 0.466},
                     "espeak_48_languages_audio_only": {"fv": 0.962, "fv_after_first_short_tuck_landing": 0.769}}, "variants": {}}
    saved = {k: getattr(AN, k) for kw in VARIANTS for k in kw[1]}
    for name, kw in VARIANTS:
        for k, v in kw.items():
            setattr(AN, k, v)
        res["variants"][name] = {m: _score(chk, clips, m) for m in (MOUTHS if name == "shipped" else MOUTHS[:2])}
        if langs:
            res["variants"][name]["espeak_48_languages_audio_only"] = _score(chk, langs, "fused")
        for k, v in saved.items():
            setattr(AN, k, v)
    res["seconds"] = round(time.time() - t0, 1)
    res["cpu_seconds"] = round(time.process_time() - c0, 1)
    save(res, os.path.join(HERE, "results", "face_alive_roll.json"))


if __name__ == "__main__":
    main()

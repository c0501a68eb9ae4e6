#!/usr/bin/env python3
"""Why mouthRollLower is above 2x the real spread: the f/v tuck against the shared judge.

Issue 12 wants mouthRollLower within 2x of the real captures' sd (0.017 over 20 s takes) while
the shared judge (../shared/tools/lipsync_check.py) wants mouthRollLower >= 0.2 somewhere in
every f/v (+-20 ms of the MFA segment) and neither closure nor f/v may drop. This measures, on
the default bake's mouth (phonetic articulators from the recogniser's phones + the learned
contacts, ``fused``; all 43 LJ clips, phones cached as in face_alive.py), the roll spread and the
judge's scores for variants of how the tuck is made. Variants are applied by patching the shared
functions *inside this process only*; nothing here changes what ships.

Variants: today's tuck; the learned contacts' tuck dropped; the phonetic tuck over the middle
half of each f/v; the learned tuck only above threshold + 0.3; and the shortest possible tuck
(2 frames at each phone middle, the learned tuck only at its peak frame). Also the arithmetic
floor: 2 frames at 0.205 per reference f/v (the fewest that survive the judge's 100 Hz linear
interpolation of 60 fps frames).

Usage: python benchmarks/face_alive_roll.py [--transcript]
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
from emoanim_server.face.lipsync.phones import interval_weight  # noqa: E402
from emoanim_server.face.lipsync.visemes import A, LABIODENTALS, TARGETS  # noqa: E402
from emoanim_server.face.mixer import lip_gap  # noqa: E402
from emoanim_server.track import ARKIT_INDEX, n_frames_for  # noqa: E402

FPS = 60
_cw, _cal = AN._contact_weight, NE.calibrated


def _clips(chk, transcript: bool = False) -> list[dict]:
    FA.cached_recognise(os.path.join(os.path.expanduser("~"), ".cache", "emoanim_face_alive"))
    out = []
    for it in csv.DictReader(open(os.path.join(FA.DATA, "index.csv"))):
        au = load_audio(os.path.join(FA.DATA, it["wav_path"]))
        phones = pipeline.recognise(au, pipeline.BakeOptions(transcript=it["transcript"] if transcript else None))
        n = n_frames_for(au.duration, FPS)
        out.append({"phones": phones, "times": np.arange(n) / FPS, "db": frame_db(au.samples, 0.01),
                    "y": NE.neural_outputs(au.samples, FPS), "dur": au.duration,
                    "ref": chk.textgrid_phones(os.path.join(FA.DATA, it["label_path"]))})
    return out


def _peaks(w: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """w kept only within k frames of the highest p of each run of w > 0."""
    out = np.zeros_like(w)
    on = np.r_[0, (w > 0).astype(int), 0]
    for s, e in zip(np.flatnonzero(np.diff(on) == 1), np.flatnonzero(np.diff(on) == -1)):
        m = s + int(np.argmax(p[s:e]))
        out[max(s, m - k):min(e, m + k + 1)] = w[max(s, m - k):min(e, m + k + 1)]
    return out


_to_arkit, _apply_contacts = AN.to_arkit, AN.apply_contacts
_TARGET_ROLL = {k: float(TARGETS[k][A["roll_lower"]]) for k in LABIODENTALS}


def _tuck_only_from_contacts(on: bool) -> None:
    """The blend's own f/v roll (targets 0.6 / 0.55, above the 0.5 tuck point) kept under the
    tuck: f/v roll targets x 0.6, the contact floor raised to 0.65 and the ARKit map reaching
    0.205 only from 0.62, so only the contact weight (its span) makes the tuck."""
    for k, v in _TARGET_ROLL.items():
        TARGETS[k][A["roll_lower"]] = v * (0.6 if on else 1.0)
    if not on:
        AN.to_arkit, AN.apply_contacts = _to_arkit, _apply_contacts
        return

    def ac(art, wb, wf):
        out = _apply_contacts(art, wb, np.zeros_like(wf))
        out[:, A["roll_lower"]] = np.maximum(out[:, A["roll_lower"]], 0.65 * wf)
        out[:, A["lower_down"]] *= 1 - wf
        return out

    def to(art):
        out = _to_arkit(art)
        r = np.clip(art[:, A["roll_lower"]], 0, 1)
        u = np.clip((r - 0.55) / 0.07, 0, 1)
        out[:, ARKIT_INDEX["mouthRollLower"]] = np.where(r >= 0.62, 0.205, 0.205 * u * u * (3 - 2 * u))
        return out
    AN.to_arkit, AN.apply_contacts = to, ac


def _set(span_frac=None, min_frames=2, learned="as_is", delta=0.0, contacts_only=False):
    _tuck_only_from_contacts(contacts_only)
    def cw(phones, kinds, times, fps):
        if kinds is not LABIODENTALS or span_frac is None:
            return _cw(phones, kinds, times, fps)
        spans = []
        for p in phones:
            if p.phone in kinds:
                h = min(max(0.5 * min_frames / fps, 0.5 * span_frac * (p.end - p.start)),
                        0.5 * max(p.end - p.start, 1 / fps))
                spans.append((p.mid - h, p.mid + h))
        return interval_weight(spans, times, 0.05).astype(np.float32)

    def cal(y):
        a, b, f = _cal(y)
        p = y[:, NE.N_ART + 1]
        if learned in ("none", "off"):
            f = np.zeros_like(f)
            if learned == "off":  # no learned contacts at all (the phonetic engine)
                b = np.zeros_like(b)
        elif learned == "threshold":
            f = NE.contact_weights(p, NE._thresholds()[1] + delta)
        elif learned == "peak":
            f = _peaks(f, p, 0)
        return a, b, f
    AN._contact_weight, NE.calibrated = cw, cal


def _score(chk, clips) -> dict:
    agg = {k: [] for k in ("closure", "open", "round", "fv")}
    curves = []
    for c in clips:
        art = AN.articulate(c["phones"], c["times"], FPS, c["db"], np.arange(len(c["db"])) * 0.01)
        _, wb, wf = NE.calibrated(c["y"])
        n = min(len(art), len(wb))
        out = art.copy()
        out[:n] = AN.apply_contacts(art[:n], wb[:n], wf[:n])
        cur = AN.to_arkit(out)
        curves.append(cur)
        grid = np.arange(0, c["ref"][-1][1], 1 / chk.GRID)
        rnd = np.maximum(cur[:, ARKIT_INDEX["mouthPucker"]], cur[:, ARKIT_INDEX["mouthFunnel"]])
        s = chk.score(grid, *(np.interp(grid, c["times"], x) for x in (lip_gap(cur), rnd, cur[:, ARKIT_INDEX["mouthRollLower"]])), c["ref"])
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


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--transcript", action="store_true",
                    help="phones from the transcript alignment, no learned contacts (the English-with-transcript bake)")
    a = ap.parse_args()
    t0 = time.time()
    chk = FA._checker()
    clips = _clips(chk, a.transcript)
    if a.transcript:
        variants = [("today (alignment timing, phonetic tuck over each f/v phone)", {"learned": "off"}),
                    ("phonetic tuck over the middle half of each f/v", {"span_frac": 0.5, "learned": "off"}),
                    ("shortest: 2 frames per phone middle", {"span_frac": 0.0, "learned": "off"}),
                    ("middle half, the blend's own roll kept under the tuck",
                     {"span_frac": 0.5, "learned": "off", "contacts_only": True}),
                    ("2 frames per phone middle, the blend's own roll kept under the tuck",
                     {"span_frac": 0.0, "learned": "off", "contacts_only": True})]
    else:
        variants = [("today: phonetic tuck over each f/v phone + learned tuck", {}),
                ("learned tuck dropped (phonetic only)", {"learned": "none"}),
                ("phonetic tuck over the middle half of each f/v", {"span_frac": 0.5}),
                ("learned tuck only above threshold + 0.3", {"learned": "threshold", "delta": 0.3}),
                ("shortest: 2 frames per phone middle, learned at its peak frame",
                     {"span_frac": 0.0, "learned": "peak"}),
                    ("2 frames per phone middle, learned at its peak frame, the blend's own roll kept under the tuck",
                     {"span_frac": 0.0, "learned": "peak", "contacts_only": True})]
    mouth = "English-with-transcript bake's mouth (phonetic)" if a.transcript else "default bake's mouth (fused)"
    res: dict = {"corpus": f"ljspeech_mfa ({len(clips)} clips), {mouth}, 60 fps",
                 "machine": f"{platform.machine()} {os.cpu_count()} cpu (shared)", "date": time.strftime("%Y-%m-%d"),
                 "real_sd": FA.REAL_SD["mouthRollLower"], "variants": {}}
    for name, kw in variants:
        _set(**kw)
        res["variants"][name] = _score(chk, clips)
    AN._contact_weight, NE.calibrated = _cw, _cal
    _tuck_only_from_contacts(False)
    n_fv = sum(1 for c in clips for a, b, p in c["ref"] if p in ("f", "v"))
    frames = sum(len(c["times"]) for c in clips)
    share = 2 * n_fv / frames
    res["floor"] = {"reference_fv": n_fv, "frames": frames, "share_2_frames_each": round(share, 4),
                    "roll_ratio_if_only_those": round(0.205 * np.sqrt(share * (1 - share)) / FA.REAL_SD["mouthRollLower"], 2)}
    res["seconds"] = round(time.time() - t0, 1)
    save(res, os.path.join(HERE, "results", "face_alive_roll" + ("_transcript" if a.transcript else "") + ".json"))


if __name__ == "__main__":
    main()

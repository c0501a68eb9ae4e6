#!/usr/bin/env python3
"""Calibration of the transcript mismatch test (recognize.py) on real and espeak-ng speech.

Why: a transcript that does not match its audio must fall back to audio-only, and a right one
must be used. The first test (alignment score per frame against the free phone loop) was set on
LJ Speech and espeak-ng lines; on real French speech it rejected 10 of 13 right transcripts
(scores -36..-57: a native French voice fits the en-US acoustic model worse than espeak-ng does),
so the ambiguous band is decided by decoys: the same phones in the wrong order (and, where no
decoy aligns, by how many aligned p/b/m the learned model also closes). For each line this
records, for its right transcript, one with a word skipped / added, and another line's transcript
("wrong"): the score against the phone loop, the median word, and the margin over the decoy.

Sets: real French / Catalan (SPPAS samples, GPL-3, evaluation only; see lipsync_real_languages.py),
real English (the judge's LJ Speech lines) and espeak-ng speech in every supported language.

Usage: python benchmarks/transcript_mismatch.py [--sets sppas,lj,espeak] [--langs de,fr] [--out ...]
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "benchmarks", ROOT / "tools"):
    sys.path.insert(0, str(p))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from lipsync_real_languages import DEFAULT_SPPAS, SHARED, sppas_items  # noqa: E402

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.face.lipsync import recognize as R  # noqa: E402
from emoanim_server.face.lipsync.g2p import split_words  # noqa: E402
from emoanim_server.face.lipsync.language import LANGUAGES, language  # noqa: E402


def measure(rec: R.Recognizer, x: np.ndarray, text: str, lang: str) -> dict:
    """llr, median word and decoy margin of one transcript (None fields where no path)."""
    words = rec.pronounce(text, lang)
    usable = [(rec._dict_word(w), w) for w in words]
    usable = [(e, w) for e, w in usable if e]
    pcm = R._pcm16(x)
    both = any(w.language.split("-")[0] != "en" for _, w in usable)  # as Recognizer._align_transcript
    al = rec.align(pcm, [e for e, _ in usable], wide=True, both=both, widest=True)
    if not (al and al.phones):
        return {"aligned": False}
    got, score, per = al.phones, al.score, al.words
    loop = rec._phone_loop_scores(pcm)
    frames = max(len(loop), 1)
    llr = (score - float(loop.sum())) / frames
    pw = [(sc - float(loop[st:st + du].sum())) / du for st, du, sc in per]
    margins = [(score - d) / frames
               for d in rec._decoy_scores(pcm, [e for e, _ in usable], None, both, al.beam == "widest")]
    w = R._contact_agreement(x, got)
    agree, chance = (w[0], w[1]) if w is not None else (None, None)
    last = al.beam == "widest"  # a last-resort path: the stricter bars of Recognizer._align_transcript
    used = llr >= R.MISMATCH_SCORE_SOFT or (
        llr >= (R.WIDEST_SCORE_FLOOR if last else R.MISMATCH_SCORE_FLOOR)
        and (min(margins) >= R.DECOY_MARGIN if margins else (agree is None or agree >= R.CONTACT_AGREEMENT))
        and not (last and agree is not None and agree - chance < R.WIDEST_CONTACT_LEAD))
    return {"aligned": True, "beam": al.beam, "llr": round(llr, 2), "word_median": round(float(np.median(pw)) if pw else llr, 1),
            "decoy_margin": round(min(margins), 2) if margins else None,
            "contact_agreement": None if agree is None else round(agree, 2),
            "contact_chance": None if chance is None else round(chance, 2), "used": used}


def variants(text: str, other: str, lang: str) -> dict[str, str]:
    L = language(lang)
    words, j = split_words(text, L), (" " if L.spaced else "")
    mid = len(words) // 2
    extra = split_words(other, L)[0]
    return {"right": text, "skip": j.join(words[:mid] + words[mid + 1:]),
            "add": j.join(words[:mid] + [extra] + words[mid:]), "wrong": other}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="sppas,lj,espeak")
    ap.add_argument("--langs", default="", help="espeak set: comma-separated tags (default all)")
    ap.add_argument("--sppas", default=DEFAULT_SPPAS)
    ap.add_argument("--lj-limit", type=int, default=12)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    rec = R.get_recognizer()
    rows: list[dict] = []
    sets = a.sets.split(",")
    tmp = Path(tempfile.mkdtemp())
    if "sppas" in sets and Path(a.sppas).exists():
        items = sppas_items(a.sppas, [])
        for i, it in enumerate(items):
            same = [o for o in items if o["language"] == it["language"] and o is not it]
            other = same[i % len(same)]["transcript"] if same else None
            (tmp / "a.wav").write_bytes(it["wav"])
            x = load_audio(str(tmp / "a.wav")).samples
            for kind, text in variants(it["transcript"], other or it["transcript"], it["language"]).items():
                if kind == "wrong" and other is None:
                    continue
                rows.append({"set": "sppas", "language": it["language"], "line": it["name"], "kind": kind,
                             **measure(rec, x, text, it["language"])})
                print(rows[-1], flush=True)
    if "lj" in sets:
        data = SHARED / "data" / "speech" / "ljspeech_mfa"
        items = list(csv.DictReader(open(data / "index.csv")))[: a.lj_limit]
        for i, it in enumerate(items):
            x = load_audio(str(data / it["wav_path"])).samples
            other = items[(i + 1) % len(items)]["transcript"]
            for kind, text in variants(it["transcript"], other, "en").items():
                rows.append({"set": "lj", "language": "en", "line": it["utt_id"], "kind": kind,
                             **measure(rec, x, text, "en")})
                print(rows[-1], flush=True)
    if "espeak" in sets:
        from lipsync_languages import speech
        from lipsync_languages_text import LINES

        tags = [x for x in a.langs.split(",") if x] or [x.tag for x in LANGUAGES.values()]
        for tag in tags:
            L = language(tag)
            s0, s1 = LINES[L.tag]
            y, _ = speech(s0, L.voice, 0)
            for kind, text in variants(s0, s1, L.tag).items():
                rows.append({"set": "espeak", "language": L.tag, "line": 0, "kind": kind, **measure(rec, y, text, L.tag)})
                print(rows[-1], flush=True)
    summary: dict = {}
    for r in rows:
        s = summary.setdefault(f"{r['set']}/{r['kind']}", {"n": 0, "used": 0, "llr": [], "margin": []})
        s["n"] += 1
        s["used"] += bool(r.get("used"))
        if r.get("aligned"):
            s["llr"].append(r["llr"])
            s["margin"].append(r["decoy_margin"] if r["decoy_margin"] is not None else 99.0)
    for s in summary.values():
        for k in ("llr", "margin"):
            v = s.pop(k)
            s[k + "_min_med_max"] = [round(float(np.min(v)), 1), round(float(np.median(v)), 1),
                                     round(float(np.max(v)), 1)] if v else None
    res = {"benchmark": "transcript_mismatch", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu",
           "thresholds": {"MISMATCH_SCORE_SOFT": R.MISMATCH_SCORE_SOFT, "MISMATCH_SCORE_FLOOR": R.MISMATCH_SCORE_FLOOR,
                          "DECOY_MARGIN": R.DECOY_MARGIN, "CONTACT_AGREEMENT": R.CONTACT_AGREEMENT,
                          "WIDEST_BEAM": R.WIDEST_BEAM, "WIDEST_SCORE_FLOOR": R.WIDEST_SCORE_FLOOR,
                          "WIDEST_CONTACT_LEAD": R.WIDEST_CONTACT_LEAD},
           "summary": summary, "rows": rows}
    print(json.dumps(summary, indent=1))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

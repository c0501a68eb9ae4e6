#!/usr/bin/env python3
"""Dev set for issue 11: Latin-script names inside lines of non-Latin-script languages.

Why: a user's script with foreign names in it is normal ("我们去辛特拉 sintra ..."), and the speaker
says such a name as it is said in the line's language, in English, or not at all (FLEURS writes a
place's Latin name after its Chinese one and the reader says one of them). The aligner may leave
such a word out (``Recognizer._leave_foreign_out``); this measures, on espeak-ng speech made here
(none of it a report line), whether right transcripts with names are used and wrong ones are not.

Each dev line is spoken in pieces by espeak-ng (tools/espeak_speech.py) and joined with 30 ms
gaps: the line's own text by its language's voice, the name by the English voice (``said``), by
the line's voice reading the native spelling (``native``), or not at all (``unsaid``). Kinds:

* ``said`` / ``native`` / ``unsaid``: the right transcript (with the Latin name) on that audio;
* ``plain``: the line without the name, transcript without it (control: never reaches the new code);
* ``wrong``: another dev line's transcript (with its name) on the ``said`` audio.

Usage: python benchmarks/transcript_names.py [--out benchmarks/results/transcript_names.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import resample_poly

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "tools", ROOT / "benchmarks"):
    sys.path.insert(0, str(p))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import espeak_speech  # noqa: E402
from emoanim_server.face.lipsync import recognize as R  # noqa: E402
from emoanim_server.face.lipsync.language import language  # noqa: E402

#: (tag, text before the name, Latin name, native spelling of the name, text after). Long Chinese
#: lines (over MAX_LEAVE_ONE_OUT_WORDS characters) and short ones; Japanese, Korean, Russian.
LINES = [
    ("zh", "我们下个月要去葡萄牙的辛特拉", "sintra", "", "参观那里的老城堡和美丽的花园还有海边的小村庄"),
    ("zh", "昨天下午我的朋友在", "starbucks", "星巴克", "买了一杯咖啡和两个面包然后我们一起走回家"),
    ("zh", "这家公司的新电话叫做", "pixel", "", "很多人都说它比去年的那一款更好用也更便宜"),
    ("zh", "我的老师", "michael", "迈克尔", "明天来北京"),
    ("zh", "巴黎", "paris", "", "是法国的首都每年都有很多游客来这里看埃菲尔铁塔和博物馆"),
    ("ja", "わたしは らいげつ ポルトガルの シントラ", "sintra", "", "に いって ふるい おしろを みます"),
    ("ja", "きのう ともだちと", "starbucks", "スターバックス", "で コーヒーを のみました"),
    ("ko", "우리는 다음 달에", "sintra", "신트라", "에 가서 오래된 성을 볼 거예요"),
    ("ru", "Вчера мы ездили в город", "Sintra", "Синтра", "и видели там старый замок"),
]
GAP_S = 0.03


def _piece(text: str, voice: str, rate: int) -> np.ndarray:
    x, sr, _ = espeak_speech.synth(text, voice, rate_wpm=rate)
    return resample_poly(x, 160, sr // 100).astype(np.float32)


_CACHE: Path | None = None


def audio(pieces: list[tuple[str, str]], seed: int, rate: int = 160) -> np.ndarray:
    """The pieces spoken and joined (cached under --cache: espeak-ng's timing varies slightly from
    run to run, so an A/B of two trees reads the same audio)."""
    if _CACHE is not None:
        import hashlib

        f = _CACHE / (hashlib.sha1(repr((pieces, seed, rate)).encode()).hexdigest()[:16] + ".npy")
        if f.exists():
            return np.load(f)
        y = _audio(pieces, seed, rate)
        np.save(f, y)
        return y
    return _audio(pieces, seed, rate)


def _audio(pieces: list[tuple[str, str]], seed: int, rate: int) -> np.ndarray:
    gap = np.zeros(int(GAP_S * 16000 * 160 / rate), np.float32)
    pad = np.zeros(int(0.3 * 16000), np.float32)
    parts = [pad]
    for text, voice in pieces:
        if text:
            parts += [_piece(text, voice, rate), gap]
    y = np.concatenate(parts + [pad])
    return y + np.random.default_rng(seed).normal(0, 3e-4, len(y)).astype(np.float32)


def run(rec: R.Recognizer, x: np.ndarray, text: str, tag: str) -> dict:
    report: dict = {}
    t = time.process_time()
    phones = rec.phones(x, text, language=tag, report=report)
    # diagnostic: the share of the speech (energy VAD) the line's phones call silence
    sp = [(r.start, r.end) for r in R.speech_regions(x, min_pause_s=0.05)]
    tt = np.arange(0, len(x) / 16000, 0.01)
    speech = np.zeros(len(tt), bool)
    for s0, s1 in sp:
        speech |= (tt >= s0) & (tt < s1)
    sil = np.zeros(len(tt), bool)
    for p in phones:
        if p.phone == "sil":
            sil |= (tt >= p.start) & (tt < p.end)
    return {"used": bool(report.get("transcript_used")), "words": report.get("words"),
            "alignment_score": report.get("alignment_score"), "words_left_out": report.get("words_left_out"),
            "decoy_margin": report.get("decoy_margin"), "contact_agreement": report.get("contact_agreement"),
            "contact_chance": report.get("contact_chance"), "alignments": report.get("alignments"),
            "fallback": report.get("fallback"),
            "speech_as_sil": round(float((speech & sil).sum() / max(speech.sum(), 1)), 3), "cpu_s": round(time.process_time() - t, 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rates", default="160,230", help="espeak-ng speaking rates (words per minute)")
    ap.add_argument("--cache", default="", help="folder for the spoken dev lines (same audio across runs)")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    global _CACHE
    if a.cache:
        _CACHE = Path(a.cache)
        _CACHE.mkdir(parents=True, exist_ok=True)
    rec = R.get_recognizer()
    rows = []
    for rate in [int(v) for v in a.rates.split(",")]:
        said_audio = {}
        for i, (tag, pre, name, native, post) in enumerate(LINES):
            L = language(tag)
            j = " " if L.spaced else ""
            text = f"{pre} {name} {post}"
            cases = {"said": [(pre, L.voice), (name, "en"), (post, L.voice)],
                     "unsaid": [(pre, L.voice), (post, L.voice)]}
            if native:
                cases["native"] = [(pre, L.voice), (native, L.voice), (post, L.voice)]
            cases["plain"] = cases["unsaid"]
            for kind, pieces in cases.items():
                x = audio(pieces, i, rate)
                if kind == "said":
                    said_audio[i] = x
                t = f"{pre}{j}{post}" if kind == "plain" else text
                rows.append({"rate": rate, "line": i, "language": tag, "kind": kind, "transcript": t,
                             **run(rec, x, t, tag)})
                print(rows[-1], flush=True)
        for i, (tag, *_rest) in enumerate(LINES):
            others = [k for k, ln in enumerate(LINES) if ln[0] == tag and k != i]
            if not others:
                continue
            o = LINES[others[0]]
            text = f"{o[1]} {o[2]} {o[4]}"
            rows.append({"rate": rate, "line": i, "language": tag, "kind": "wrong", "transcript": text,
                         **run(rec, said_audio[i], text, tag)})
            print(rows[-1], flush=True)
    summary: dict = {}
    for r in rows:
        s = summary.setdefault(f"{r['rate']}/{r['kind']}", {"n": 0, "used": 0, "left_out": 0})
        s["n"] += 1
        s["used"] += r["used"]
        s["left_out"] += bool(r["used"] and r["words_left_out"])
    res = {"benchmark": "transcript_names", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu",
           "loadavg": [round(v, 2) for v in os.getloadavg()], "summary": summary, "rows": rows}
    print(json.dumps(summary, indent=1))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Where the audio-only engine misses on real non-English speech: each judged closure and rounding
event of benchmarks/lipsync_real_languages.py's held-out sets, by the reference's phone and its
context, with the learned model's raw outputs there.

Why: the real-languages benchmark says *how often* audio-only lips close or round; this says
*which* events fail, so a fix goes where the misses are (session 11: Spanish's misses are almost
all /b/ between vowels, the approximant [β]; rounding misses are short and unstressed /o/ and /u/
with the model's funnel/pucker well under the judge's bar). Diagnosis only: nothing is tuned on
it, and the sets are the same held-out lines the real-languages benchmark reports.

Per event: ``ctx`` is ``V_V`` (between two vowels), ``#_`` (after a pause or at the start) or
``other``; ``p_bilabial`` the model's peak p(lips meet) inside the reference segment +-20 ms (the
judge's window); for rounding, the peak of the model's funnel and pucker in the same window.

Usage: python benchmarks/lipsync_real_audio_misses.py [--sets fleurs,sppas-ipu] [--langs es-419,es,fr,zh]
       [--out benchmarks/results/lipsync_real_audio_misses.json]
"""
from __future__ import annotations

import argparse
import collections
import tempfile
import time
from pathlib import Path

import numpy as np

import lipsync_real_languages as R  # noqa: E402  (sets sys.path and OMP_NUM_THREADS)
from _results import save  # noqa: E402

from emoanim_server.face.lipsync.neural import N_ART, neural_outputs  # noqa: E402
from emoanim_server.face.lipsync.visemes import A  # noqa: E402
from emoanim_server.pipeline import bake  # noqa: E402

#: the judge's vowel labels (lipsync_check's ARPAbet), for the between-vowels context
VOWELS = {"aa", "ae", "ah", "ao", "aw", "ay", "eh", "er", "ey", "ih", "iy", "ow", "oy", "uh", "uw"}


def context(ref, i: int) -> str:
    prv = ref[i - 1][2] if i > 0 else "sil"
    nxt = ref[i + 1][2] if i + 1 < len(ref) else "sil"
    if prv in VOWELS and nxt in VOWELS:
        return "V_V"
    return "#_" if prv in ("sil", "#", "sp") else "other"


def line_events(item: dict, tmp: Path) -> list[dict]:
    """One held-out line, baked audio-only with its ``--language``: its closure and rounding events."""
    audio = R.item_audio(item, tmp)
    ref, _ = R.outside_speech(item["phones"], audio.samples)
    track = bake(audio, R.mode_options("audio", item))
    hits = R.judge(track.curves, track.fps, ref)
    y = neural_outputs(audio.samples, 100)
    index = {x: i for i, x in enumerate(ref)}
    out = []
    for metric in ("closure", "round"):
        for (a, b, p), hit in zip(R.event_spans(ref)[metric], hits[metric]):
            i = index[(a, b, p)]
            seg = y[R.judge_window(a, b)]
            ev = {"line": item["name"], "language": item["language"], "set": item["set"], "metric": metric,
                  "t": round(a, 3), "dur_s": round(b - a, 3), "ref": p, "ctx": context(ref, i),
                  "hit": bool(hit)}
            if len(seg):
                if metric == "closure":
                    ev["p_bilabial"] = round(float(seg[:, N_ART].max()), 3)
                else:
                    ev["funnel_pucker"] = round(float(np.maximum(seg[:, A["funnel"]], seg[:, A["pucker"]]).max()), 3)
            out.append(ev)
    return out


def summary(events: list[dict]) -> dict:
    groups: dict[str, list[dict]] = collections.defaultdict(list)
    for e in events:
        key = (f"{e['language']} closure {e['ref']} {e['ctx']}" if e["metric"] == "closure"
               else f"{e['language']} round {e['ref']} {'long' if e['dur_s'] >= 0.08 else 'short'}")
        groups[key].append(e)
    out = {}
    for key, es in sorted(groups.items()):
        col = "p_bilabial" if " closure " in key else "funnel_pucker"
        got = [e[col] for e in es if e["hit"] and col in e]
        miss = [e[col] for e in es if not e["hit"] and col in e]
        out[key] = {"hits": sum(e["hit"] for e in es), "events": len(es),
                    "model_median_hit": round(float(np.median(got)), 3) if got else None,
                    "model_median_miss": round(float(np.median(miss)), 3) if miss else None}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sets", default="fleurs,sppas-ipu")
    ap.add_argument("--langs", default="es-419,es,fr,zh")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    sets, langs = a.sets.split(","), a.langs.split(",")
    items = R.load_items(sets, langs)
    if not items:
        raise SystemExit(f"no held-out lines for --sets {a.sets} --langs {a.langs}")
    with tempfile.TemporaryDirectory() as tmp:
        events = [e for it in items for e in line_events(it, Path(tmp))]
    res = {"benchmark": "lipsync_real_audio_misses", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": R._cpu(), "command": f"python benchmarks/lipsync_real_audio_misses.py --sets {a.sets} --langs {a.langs}",
           "what": "audio-only (--language, no transcript) closure and rounding events of the held-out real-speech sets, "
                   "by reference phone and context, with the learned model's peak outputs (diagnosis, nothing tuned on it)",
           "summary": summary(events), "misses": [e for e in events if not e["hit"]]}
    for k, v in res["summary"].items():
        print(f"{k:32s} {v['hits']:3d}/{v['events']:<3d} model hit {v['model_median_hit']}  miss {v['model_median_miss']}")
    if a.out:
        save(res, a.out, echo=False)


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Measured and dropped (session 7): snapping aligned contacts onto the learned model's peaks.

Issue 11 suggests the learned model's frame posteriors as an extra witness for alignment. The
idea measured here: after the transcript's alignment, move each aligned f/v (or p/b/m) phone so
that its tuck point (or middle) lands on the learned model's p(tuck) (or p(lips meet)) peak within
``reach`` seconds, where that peak reaches ``pmin`` and beats the phone's own peak by ``gain``
(neighbours give or take the time, each keeping >= 30 ms). Then the line is baked as usual (the
fused engine, with the transcript) and judged like ``lipsync_real_languages.py``.

Sets: SPPAS (fr, ca), SPPAS-IPU (de es pt pl) and the FLEURS *dev* half only (choices are made
there; the test half is not read). Each line is aligned once; every variant bakes the same
alignment, so differences are the snapping alone.

Result (2026-12-02, benchmarks/results/lipsync_text_snap.json): snapping f/v -4 / +1 events in
every setting; snapping p/b/m closure +1 / open -1, or closure net 0 / open -1: not built
(docs/languages.md).

Usage: python benchmarks/lipsync_text_snap.py [--out benchmarks/results/lipsync_text_snap.json]
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import lipsync_real_languages as L  # noqa: E402

from emoanim_server import pipeline as P  # noqa: E402
from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.face.lipsync.ipa import phone_class  # noqa: E402
from emoanim_server.face.lipsync.neural import N_ART, neural_outputs  # noqa: E402
from emoanim_server.face.lipsync.phones import Phone  # noqa: E402
from emoanim_server.face.lipsync.recognize import get_recognizer  # noqa: E402

#: (class, reach s, pmin, gain)
VARIANTS = [("labiodental", 0.06, 0.5, 0.2), ("labiodental", 0.1, 0.5, 0.2), ("labiodental", 0.06, 0.3, 0.2),
            ("bilabial", 0.06, 0.5, 0.2), ("bilabial", 0.1, 0.5, 0.3)]
MIN_PHONE_S = 0.03


def snap(phones: list[Phone], y: np.ndarray, cls: str, reach: float, pmin: float, gain: float) -> list[Phone]:
    """``phones`` with each phone of ``cls`` moved onto the model's contact peak (see module doc)."""
    p = y[:, N_ART + (1 if cls == "labiodental" else 0)]
    n = len(p)
    ph = list(phones)
    for i, q in enumerate(ph):
        if phone_class(q.phone) != cls or i == 0 or i == len(ph) - 1:
            continue
        dur = q.end - q.start
        cur = q.start + (0.75 * dur if cls == "labiodental" else 0.5 * dur)  # animate's tuck point / the middle
        lo, hi = max(int(np.floor((q.start - reach) * 100)), 0), min(int(np.ceil((q.end + reach) * 100)) + 1, n)
        if hi - lo < 2:
            continue
        k = lo + int(np.argmax(p[lo:hi]))
        own = float(p[max(0, int(q.start * 100)):min(n, int(np.ceil(q.end * 100)) + 1)].max(initial=0))
        if p[k] < pmin or p[k] - own < gain:
            continue
        d = k / 100 - cur
        prev, nxt = ph[i - 1], ph[i + 1]
        d = max(d, prev.start + MIN_PHONE_S - q.start) if d < 0 else min(d, nxt.end - MIN_PHONE_S - q.end)
        if abs(d) < 0.005:
            continue
        ph[i - 1] = Phone(prev.start, q.start + d, prev.phone, prev.word)
        ph[i] = Phone(q.start + d, q.end + d, q.phone, q.word)
        ph[i + 1] = Phone(q.end + d, nxt.end, nxt.phone, nxt.word)
    return ph


def bake_with(audio, item, phones, report):
    """The transcript bake with this alignment in place of the recogniser's (the one stage swapped,
    so every variant bakes exactly the same line otherwise)."""
    def recognise(audio_, options, progress=None, rep=None):
        rep.update(report)
        return list(phones)

    real = P.recognise
    P.recognise = recognise
    try:
        return P.bake(audio, L.mode_options("transcript", item))
    finally:
        P.recognise = real


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    items = L.sppas_items(L.DEFAULT_SPPAS, []) + L.sppas_ipu_items(L.DEFAULT_SPPAS, [])
    items += L.fleurs_items(L.DEFAULT_FLEURS, [], False, "dev")
    tmp = Path(tempfile.mkdtemp())
    names = ["none"] + [f"{c} reach {r} pmin {pm} gain {g}" for c, r, pm, g in VARIANTS]
    agg: dict = {v: {} for v in names}
    for it in items:
        src = tmp / ("a" + it.get("suffix", ".wav"))
        src.write_bytes(it["wav"])
        audio = load_audio(str(src))
        ref, _ = L.outside_speech(it["phones"], audio.samples)
        report: dict = {}
        phones = get_recognizer().phones(audio.samples, it["transcript"], None, it["language"], report)
        if not report.get("transcript_used"):
            continue  # the fallback is the audio-only engine: snapping has nothing to move
        y = neural_outputs(audio.samples, 100)
        key = f"{it['language']} {it['set']}"
        for v, var in zip(names, [None] + VARIANTS):
            ph = phones if var is None else snap(phones, y, *var)
            s = L.judge(bake_with(audio, it, ph, report).curves, 60, ref)
            d = agg[v].setdefault(key, {})
            for k in ("closure", "open", "round", "fv"):
                d.setdefault(k, []).extend(bool(x) for x in s[k])
        print(it["name"], flush=True)
    res = {"benchmark": "lipsync_text_snap", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "loadavg": " ".join(f"{x:.1f}" for x in os.getloadavg()),
           "command": "python benchmarks/lipsync_text_snap.py " + " ".join(sys.argv[1:]), "variants": {}}
    def hits(v: str, k: str) -> int:
        return sum(int(sum(d[k])) for d in agg[v].values())

    for v in names:
        rows = {key: {k: [int(sum(x)), len(x)] for k, x in d.items()} for key, d in agg[v].items()}
        delta = {k: hits(v, k) - hits("none", k) for k in ("closure", "open", "round", "fv")}
        res["variants"][v] = {"hits_events": rows, "hits_vs_none": delta}
        print(v, delta)
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Where the learned engine misses, event by event, on DEV speech (never the test half).

Why: the per-language figures (closure, rounding) say how often, not why. This lists every
judge event (p/b/m closure; uw/ow/w rounding) and every false rounding (rounding >= the judge's
threshold in the middle of an unrounded vowel) with its context -- the phone before and after
(pause / vowel / consonant), its duration, the IPA the label came from when known, and the
curve's extreme in the judge's window -- and tallies hits by context, so the lever (decoding per
language, teacher labels, data or training weights) is chosen from the misses themselves.

Sets: ``dev`` = tools/artic_heldout.py's dev half (FLEURS en/de/fr/es/pt-BR dev lines, which v1.2
trained on, so optimistic; VCTK/Kathleen dev lines); ``ipu`` = SPPAS-IPU de/es/pt/pl (held out,
reference phones from SPPAS's HTK models via benchmarks/lipsync_real_languages.py).

Usage: python tools/artic_diagnose.py [--sets dev,ipu] [--out build/artic/diagnose.json]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import lipsync_neural as B  # noqa: E402

PAUSE = {"sil", "sp", "spn", ""}


def kind(p: str | None) -> str:
    if p is None or p in PAUSE:
        return "pause"
    if p in B.VOWELS:
        return "vowel"
    return "cons"


def events(y: np.ndarray, fps: int, phones, lang: str, line: str) -> list[dict]:
    """One row per judge event / unrounded vowel of ``phones``: phone, context, value, hit."""
    from lipsync_check import CLOSED, GRID, ROUND_T

    t, gap, rnd, _fv = B.judge_signals(y, fps)
    grid = np.arange(0, phones[-1][1], 1 / GRID)
    gap, rnd = np.interp(grid, t, gap), np.interp(grid, t, rnd)
    out = []
    for i, (a, b, p) in enumerate(phones):
        prev = phones[i - 1][2] if i else None
        nxt = phones[i + 1][2] if i + 1 < len(phones) else None
        if prev is not None and phones[i - 1][1] < a - 0.03:
            prev = "sil"
        m = (grid >= a - 0.02) & (grid <= b + 0.02)
        if not m.any():
            continue
        row = {"lang": lang, "line": line, "t": round(a, 3), "phone": p, "dur": round(b - a, 3), "prev": prev,
               "next": nxt, "ctx": kind(prev) + "_" + kind(nxt)}
        if p in ("p", "b", "m"):
            v = float(gap[m].min())
            out.append({**row, "kind": "closure", "value": round(v, 3), "hit": v <= CLOSED})
        elif p in ("uw", "ow", "w") and b - a >= 0.05:
            v = float(rnd[m].max())
            out.append({**row, "kind": "round", "value": round(v, 3), "hit": v >= ROUND_T})
        elif p in B.UNROUNDED and b - a >= 0.06:
            mm = (grid >= a + 0.25 * (b - a)) & (grid <= b - 0.25 * (b - a))
            if mm.any():
                v = float(rnd[mm].max())
                near = any(q in ("uw", "ow", "w", "p", "b", "m", "f", "v")
                           for q in (prev, nxt))
                out.append({**row, "kind": "false_round", "value": round(v, 3), "hit": v >= ROUND_T,
                            "near_labial": near})
    return out


def tally(rows: list[dict], kind_: str, keys: tuple[str, ...]) -> dict:
    agg: dict = collections.defaultdict(list)
    for r in rows:
        if r["kind"] == kind_:
            agg[" ".join(str(r[k]) for k in keys)].append(r["hit"])
    return {k: {"n": len(v), "rate": round(float(np.mean(v)), 2)} for k, v in sorted(agg.items(), key=lambda kv: -len(kv[1]))}


def dev_items() -> list[tuple[str, str, np.ndarray, list]]:
    import artic_decode as AD
    import artic_heldout as H

    return [(it["language"], it["uid"], AD.audio(it), it["phones"]) for it in H.read()
            if it["half"] == "dev" and it["transcript_used"]]


def ipu_items() -> list[tuple[str, str, np.ndarray, list]]:
    import lipsync_real_languages as RL

    from emoanim_server.audio import load_audio

    cache = ROOT / "build" / "artic" / "ipu_items.json"
    if cache.is_file():
        rows = json.loads(cache.read_text())
    else:
        rows = []
        for it in RL.sppas_ipu_items(RL.DEFAULT_SPPAS, []):
            with tempfile.NamedTemporaryFile(suffix=".wav") as f:
                f.write(it["wav"])
                f.flush()
                x = load_audio(f.name).samples.astype(np.float32)
            p = ROOT / "build" / "artic" / "ipu_audio" / (it["language"] + "_" + it["name"] + ".npy")
            p.parent.mkdir(parents=True, exist_ok=True)
            np.save(p, x)
            rows.append({"language": it["language"], "name": it["name"], "npy": str(p),
                         "phones": [list(q) for q in it["phones"]]})
        cache.write_text(json.dumps(rows))
    return [(r["language"], r["name"], np.load(r["npy"]), [tuple(q) for q in r["phones"]]) for r in rows]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="dev,ipu")
    ap.add_argument("--out", default=str(ROOT / "build" / "artic" / "diagnose.json"))
    a = ap.parse_args()
    from emoanim_server.face.lipsync import neural

    rows: list[dict] = []
    for s in a.sets.split(","):
        items = dev_items() if s == "dev" else ipu_items()
        for lang, uid, x, ph in items:
            y = neural.neural_curves(x, 60)
            rows += [{**r, "set": s} for r in events(y, 60, ph, lang, uid)]
    res = {}
    for s in a.sets.split(","):
        rs = [r for r in rows if r["set"] == s]
        res[s] = {"closure_by_lang_phone_ctx": tally(rs, "closure", ("lang", "phone", "ctx")),
                  "closure_by_lang_prev": tally(rs, "closure", ("lang", "prev")),
                  "round_by_lang_phone": tally(rs, "round", ("lang", "phone")),
                  "round_by_lang_ctx": tally(rs, "round", ("lang", "phone", "ctx")),
                  "false_round_by_lang_phone": tally(rs, "false_round", ("lang", "phone")),
                  "false_round_by_lang_near_labial": tally(rs, "false_round", ("lang", "near_labial"))}
    Path(a.out).write_text(json.dumps({"summary": res, "rows": rows}, indent=1))
    for s, r in res.items():
        for k, v in r.items():
            print(f"== {s} {k}")
            for kk, vv in v.items():
                print(f"   {kk:32s} n={vv['n']:3d} rate={vv['rate']}")


if __name__ == "__main__":
    main()

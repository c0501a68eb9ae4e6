#!/usr/bin/env python3
"""Issue 11, wrong transcripts accepted: measure the learned model's whole articulation as a witness.

Why: where no decoy aligns, the only check a transcript meets is that the learned model closes the
lips on a quarter of its aligned p/b/m (``recognize.CONTACT_AGREEMENT``). Four wrong transcripts on
real read speech pass it (FLEURS dev de/pt-BR, SPPAS Catalan, espeak-ng Urdu:
benchmarks/results/transcript_no_decoy_lead.md): a same-language line shares enough p/b/m timing
by chance, and the recogniser's own words were no yardstick on spontaneous speech. The learned
model was trained to predict exactly what ``animate.articulate`` makes of a right alignment --
jaw, lip closure, rounding, tuck, every frame -- from the audio alone, in any language. So the
alignment's articulation should track the model's where the words are right, and only by chance
where they are wrong: a witness from all articulators, not three or four p/b/m.

Per row (the shipped ``Recognizer.phones`` path, run once), at the point where the contact witness
is read (the phones it is handed are captured): Pearson r over speech frames between
``articulate(phones)`` and the model's raw articulators, per articulator group (jaw; lips shut =
close + press; rounding = funnel + pucker; tuck = roll_lower), their mean ``r``; the same with the
alignment shifted by +-0.3 / +-0.5 s (``r_shift``: what an alignment that is out of place scores
on this voice); ``lead = r - r_shift``.

Sets as benchmarks/transcript_no_decoy_lead.py (``--only-from`` its results: the rows that reach
the witness).

Usage: python benchmarks/transcript_articulation_witness.py --sets dev,report
       [--only-from benchmarks/results/transcript_no_decoy_lead.json] --out ...
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

ROOT = Path(__file__).resolve().parent.parent
for p in (ROOT, ROOT / "benchmarks", ROOT / "tools"):
    sys.path.insert(0, str(p))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import lipsync_real_languages as LR  # noqa: E402
import transcript_no_decoy_lead as ND  # noqa: E402

from emoanim_server.face.lipsync import recognize as R  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="dev,report")
    ap.add_argument("--only-from", default="")
    ap.add_argument("--all-rows", action="store_true",
                    help="also score rows that never reach the witness (their transcript's best path)")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    rec = R.get_recognizer()
    seen: list = []
    orig = R._contact_agreement

    def spy(x, phones, *rest):
        seen.append(list(phones))
        return orig(x, phones, *rest)

    R._contact_agreement = spy
    keep = None
    if a.only_from:
        keep = {(r["set"], r["language"], str(r["line"]), r["kind"]) for r in json.load(open(a.only_from))["rows"]
                if r["decoy_margin"] is None and r["contact_agreement"] is not None
                and (r["alignment_score"] or 0) < R.MISMATCH_SCORE_SOFT}
    rows: list[dict] = []

    def add(set_, tag, line, kind, x, text):
        if keep is not None and (set_, tag, str(line), kind) not in keep:
            return
        seen.clear()
        t = time.process_time()
        row = {"set": set_, "language": tag, "line": line, "kind": kind, **ND.run(rec, x, text, tag)}
        if seen:
            row.update(R.articulation_agreement(x, seen[-1]) or {})
        elif a.all_rows:
            # rows that never reach the witness: the transcript's own best path (as
            # transcript_mismatch.measure aligns it), for the distribution only
            words = [w for w in rec.pronounce(text, tag) if rec._dict_word(w)]
            both = any(w.language.split("-")[0] != "en" for w in words)
            al = rec.align(R._pcm16(x), [rec._dict_word(w) for w in words], wide=True, both=both, widest=True)
            if al and al.phones:
                row.update({"witness_reached": False, **(R.articulation_agreement(x, al.phones) or {})})
        row["cpu_s"] = round(time.process_time() - t, 2)
        rows.append(row)
        print({k: row.get(k) for k in ("set", "language", "line", "kind", "transcript_used", "alignment_score",
                                       "decoy_margin", "contact_agreement", "r", "r_shift", "lead")}, flush=True)

    ND.each_row(a.sets.split(","), add)
    summary: dict = {}
    for r in rows:
        s = summary.setdefault(f"{r['set']}/{r['kind']}", {"n": 0, "used": 0, "r": [], "lead": []})
        s["n"] += 1
        s["used"] += bool(r["transcript_used"])
        for k in ("r", "lead"):
            if r.get(k) is not None:
                s[k].append(r[k])
    for s in summary.values():
        for k in ("r", "lead"):
            v = s.pop(k)
            s[k + "_min_med_max"] = [round(float(f(v)), 3) for f in (np.min, np.median, np.max)] if v else None
    res = {"benchmark": "transcript_articulation_witness", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu {LR._cpu()}",
           "loadavg": [round(v, 2) for v in os.getloadavg()], "command": " ".join(sys.argv),
           "summary": summary, "rows": rows}
    ND.write(res, a.out)


if __name__ == "__main__":
    main()

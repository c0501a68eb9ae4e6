#!/usr/bin/env python3
"""More real voices for training the articulation model (session 5): audio + transcript -> phones.

Why: v1.1 saw 4 real English voices; on new voices (LJ, FLEURS, VCTK test lines) its contact
peaks are weak and its rounding over-fires. These are real native speakers with transcripts,
commercially usable, NONE of them a file we report on:

* ``vctk``: CSTR VCTK 0.92 (CC BY 4.0; attribution: Centre for Speech Technology Research,
  University of Edinburgh), the original recordings ``pNNN_001`` / ``pNNN_002`` / ``pNNN_200``
  ... of 107 speakers (English with many accents: Scottish, Irish, Welsh, English regions,
  American, Canadian, South African, Indian, Australian, NZ) copied in
  github:RichardSterry/msc-project (docs/master/vctk_all_samples/pNNN_NNN.orig.wav, transcripts
  docs/vctk/vctk_transcripts/). Every speaker of the held-out VCTK lines
  (:data:`artic_heldout.VCTK_LINES`: p238 p255 p301 p314 p317) is left out entirely, so the
  held-out test stays speaker-disjoint.
* ``fleurs``: the DEV half (even line numbers) of the FLEURS fixtures of
  :mod:`artic_heldout` (Google FLEURS, CC BY 4.0, en-US de fr es-419 pt-BR). The TEST half
  (odd numbers), which is what we report, is never read here.

Labels: the bake's transcript path (``Recognizer.phones(x, transcript, language)``): PocketSphinx
forced alignment for English, espeak-ng pronunciations + the IPA table (issue 11) for the other
languages. Lines whose transcript could not be used are dropped (their phones would be the
recogniser's guess, not the teacher).

Writes build/artic/real_train.json (items with phones; cached: re-running only aligns new
lines). Usage: python tools/artic_real.py
"""
from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

import artic_heldout as H  # noqa: E402

OUT = ROOT / "build" / "artic" / "real_train.json"
VCTK_DIR = "docs/master/vctk_all_samples"
HELD_SPEAKERS = frozenset(u.split("_")[0] for u in H.VCTK_LINES)
SOURCES = {
    "vctk": "CSTR VCTK 0.92, CC BY 4.0 (Centre for Speech Technology Research, University of Edinburgh); "
            "copies in github:RichardSterry/msc-project @ 638c3e775250ba3a7f050ae350b859648400f854, "
            "docs/master/vctk_all_samples/*.orig.wav; held-out speakers p238 p255 p301 p314 p317 excluded",
    "fleurs": "Google FLEURS, CC BY 4.0; DEV half (even numbers) of the fixtures in "
              "github:sebastian-software/cuttledoc (packages/cuttledoc/fixtures); the test half is never used",
}


def vctk_train_items(gitdir: str = H.VCTK) -> list[dict]:
    names = H._git(gitdir, "ls-tree", "-r", "--name-only", "HEAD", VCTK_DIR).decode().splitlines()
    texts: dict[str, dict[str, str]] = {}
    out = []
    for n in sorted(names):
        if not n.endswith(".orig.wav"):
            continue
        uid = n.split("/")[-1][: -len(".orig.wav")]
        spk = uid.split("_")[0]
        if spk in HELD_SPEAKERS:
            continue
        if spk not in texts:
            try:
                raw = H._git(gitdir, "show", f"HEAD:docs/vctk/vctk_transcripts/transcript_{spk[1:]}")
            except Exception:  # noqa: BLE001 - a speaker without a transcript file is skipped
                texts[spk] = {}
                continue
            texts[spk] = {r[0]: r[1].strip() for r in csv.reader(io.StringIO(raw.decode("utf-8", "replace")))
                          if len(r) > 1}
        text = texts[spk].get(uid)
        if not text:
            continue
        out.append({"set": "vctk", "uid": uid, "language": "en", "git": gitdir, "path": n, "transcript": text})
    return out


def fleurs_dev_items(gitdir: str = H.FLEURS) -> list[dict]:
    return [it for it in H.fleurs_items(gitdir) if it["half"] == "dev"]


def read(path: Path = OUT) -> list[dict]:
    return json.loads(path.read_text())["items"] if path.is_file() else []


def main() -> None:
    from emoanim_server.face.lipsync import get_recognizer

    held = {it["uid"] for it in H.read()} if H.OUT.is_file() else set()
    rec = get_recognizer()
    old = {it["uid"]: it for it in read()}
    kept = []
    for it in vctk_train_items() + fleurs_dev_items():
        if it.get("half") == "test" or (it["set"] == "vctk" and it["uid"] in held):
            raise SystemExit(f"refusing a held-out test line: {it['uid']}")
        if it["uid"] in old:
            kept.append(old[it["uid"]])
            continue
        x = H.load(it)
        rep: dict = {}
        try:
            ph = rec.phones(x, it["transcript"], language=it["language"], report=rep)
        except Exception as e:  # noqa: BLE001 - a line that cannot be aligned is reported, skipped
            print("skip", it["uid"], e, flush=True)
            continue
        if not rep.get("transcript_used"):
            print("skip (transcript not used)", it["uid"], rep.get("fallback", ""), flush=True)
            continue
        it["seconds"] = round(len(x) / 16000, 2)
        it["phones"] = [(round(p.start, 4), round(p.end, 4), p.phone) for p in ph]
        print(it["uid"], it["seconds"], "s", flush=True)
        kept.append(it)
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"sources": SOURCES, "items": kept}, indent=0))
    secs = sum(i["seconds"] for i in kept)
    spk = len({i["uid"].split("_")[0] for i in kept if i["set"] == "vctk"})
    print(f"wrote {OUT}: {len(kept)} lines, {secs / 60:.1f} min, {spk} VCTK speakers")


def clips():
    """The training clips (artic_data.Clip) of the built items."""
    from artic_data import Clip, _fill
    from emoanim_server.face.lipsync.phones import Phone

    out = []
    for it in read():
        x = np.asarray(H.load(it), np.float32)
        ph = [Phone(a, b, p) for a, b, p in it["phones"] if p != "sil"]
        out.append(Clip(x, _fill(ph, len(x) / 16000), f"real2:{it['set']}:{it['uid']}"))
    return out


if __name__ == "__main__":
    main()

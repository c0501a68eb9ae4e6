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

* ``more`` (session 13, ``--more``): real NON-English speech the scouts of sessions 12-13 found
  in public repositories, listed with repo, commit, path and transcript in
  tools/data/artic_real_more.json (read from the mirrors fetched under /work/.mirror): CSS10
  Spanish (LibriVox, public domain), SIWIS French (CC BY 4.0, attribution: Idiap / the SIWIS
  project) and a LibriVox French reading, the TTS-Portuguese corpus's recordings (CC BY 4.0),
  AISHELL-1/-3 and THCHS-30 Mandarin (Apache-2.0), Thorsten-Voice German (CC0), CSS10 German /
  French / Italian reference clips. Mostly one speaker per language; none is a file we report on.

Writes build/artic/real_train.json (items with phones; cached: re-running only aligns new
lines). Usage: python tools/artic_real.py [--more]
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
    "more": "tools/data/artic_real_more.json (its 'sources': each corpus, repo@commit and licence evidence)",
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


MORE = ROOT / "tools" / "data" / "artic_real_more.json"
MIRRORS = Path(os.environ.get("EMOANIM_MIRRORS", "/work/.mirror"))


def more_items(path: Path = MORE) -> list[dict]:
    """The ``more`` items: one group for the training shares (``set`` "more"), the corpus kept."""
    d = json.loads(path.read_text(encoding="utf-8"))
    def gitdir(repo: str) -> str:
        g = MIRRORS / repo.replace("/", "+", 1) / "repo"
        return str(g / ".git" if (g / ".git").is_dir() else g)

    return [{**it, "set": "more", "corpus": it["set"], "uid": f"{it['set']}:{it['uid']}", "language": it["language"],
             "git": gitdir(it["repo"])} for it in d["items"]]


def load_item(it: dict) -> np.ndarray:
    """16 kHz mono float32 audio of a built item: a ``more`` item from its commit (inside a zip where
    ``zip_member`` says so), the others as artic_heldout reads them."""
    if it.get("set") != "more":
        return H.load(it)
    import tempfile
    import zipfile

    from emoanim_server.audio import load_audio

    data = H._git(it["git"], "show", f"{it['commit']}:{it['path']}")
    if it.get("zip_member"):
        data = zipfile.ZipFile(io.BytesIO(data)).read(it["zip_member"])
    suffix = Path(it.get("zip_member") or it["path"]).suffix
    with tempfile.NamedTemporaryFile(suffix=suffix) as f:
        f.write(data)
        f.flush()
        return load_audio(f.name).samples.astype(np.float32)


def read(path: Path = OUT) -> list[dict]:
    return json.loads(path.read_text())["items"] if path.is_file() else []


def main() -> None:
    from emoanim_server.face.lipsync import get_recognizer

    held = {it["uid"] for it in H.read()} if H.OUT.is_file() else set()
    rec = get_recognizer()
    old = {it["uid"]: it for it in read()}
    kept = []
    more = more_items() if "--more" in sys.argv[1:] else []
    for it in vctk_train_items() + fleurs_dev_items() + more:
        if it.get("half") == "test" or (it["set"] == "vctk" and it["uid"] in held):
            raise SystemExit(f"refusing a held-out test line: {it['uid']}")
        if it["uid"] in old:
            kept.append(old[it["uid"]])
            continue
        rep: dict = {}
        try:
            x = load_item(it)
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
    nm = sum(i["seconds"] for i in kept if i["set"] == "more")
    print(f"wrote {OUT}: {len(kept)} lines, {secs / 60:.1f} min, {spk} VCTK speakers, more {nm / 60:.1f} min "
          f"({len(more)} listed)")


def clips():
    """The training clips (artic_data.Clip) of the built items."""
    from artic_data import Clip, _fill
    from emoanim_server.face.lipsync.phones import Phone

    out = []
    for it in read():
        x = np.asarray(load_item(it), np.float32)
        ph = [Phone(a, b, p) for a, b, p in it["phones"] if p != "sil"]
        out.append(Clip(x, _fill(ph, len(x) / 16000), f"real2:{it['set']}:{it['uid']}"))
    return out


if __name__ == "__main__":
    main()

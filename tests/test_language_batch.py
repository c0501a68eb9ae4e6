"""Batch manifests carry a language per line to the transcript's bake (docs/batch.md, languages.md)."""
from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from emoanim_server.cli import main
from emoanim_server.face.lipsync.g2p import espeak_command

LINES = Path(__file__).resolve().parent / "data" / "lang"


@pytest.mark.skipif(espeak_command() is None, reason="espeak-ng not installed (apt-get install espeak-ng)")
def test_manifest_language_column_reaches_each_line(tmp_path):
    rows = []
    for stem, lang in (("de", "de"), ("fr", "fr-FR"), ("ru", "auto")):
        shutil.copy(LINES / f"{stem}.flac", tmp_path)
        text = json.loads((LINES / f"{stem}.json").read_text(encoding="utf-8"))["text"]
        rows.append({"id": stem, "audio": f"{stem}.flac", "transcript": text, "language": lang})
    manifest = tmp_path / "lines.csv"
    with open(manifest, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=["id", "audio", "transcript", "language"])
        w.writeheader()
        w.writerows(rows)
    assert main(["batch", str(manifest), "-o", str(tmp_path / "out"), "-q"]) == 0
    got = {p.stem: json.loads(p.read_text())["metadata"]["lipsync"] for p in (tmp_path / "out").glob("*.json")}
    assert {k: (v["languages"], v["transcript_used"]) for k, v in got.items()} == {
        "de": (["de"], True), "fr": (["fr"], True), "ru": (["ru"], True)}

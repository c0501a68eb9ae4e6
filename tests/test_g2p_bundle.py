"""The frozen (PyInstaller) build carries espeak-ng and its data: the files build.spec collects,
laid out as PyInstaller lays them out, pronounce non-English text with no espeak-ng on PATH."""
import os
import shutil
import sys
from pathlib import Path

import pytest

from emoanim_server.face.lipsync import g2p

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed (apt-get install espeak-ng)")
def test_frozen_layout_runs_the_bundled_espeak(tmp_path, monkeypatch):
    files = g2p.bundle_files()
    dests = {d for _, d in files}
    assert "espeak-ng" in dests and "espeak-ng/espeak-ng-data" in dests
    meipass = tmp_path / "_internal"
    for src, dest in files:  # what PyInstaller's COLLECT does with datas/binaries
        target = meipass / dest
        if os.path.isdir(src):
            shutil.copytree(src, target, dirs_exist_ok=True)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target)
    assert (meipass / "espeak-ng" / "espeak-ng-data" / "de_dict").is_file()
    assert (meipass / "espeak-ng" / "espeak-ng-data" / "ja_dict").is_file()
    assert any(p.name in ("copyright", "COPYING") for p in (meipass / "espeak-ng").iterdir())  # the GPL text
    monkeypatch.setattr(sys, "_MEIPASS", str(meipass), raising=False)
    monkeypatch.delenv("EMOANIM_ESPEAK_NG", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no system espeak-ng to fall back on
    monkeypatch.setattr(g2p, "_CACHE", {})
    cmd = g2p.espeak_command()
    assert cmd is not None and cmd[0][0].startswith(str(meipass)), cmd
    words = g2p.pronounce("Guten Morgen, Mama", "de")
    assert [w.phones[0] for w in words] == ["g", "m", "m"] and all(w.source == "espeak-ng" for w in words)


def test_build_spec_collects_the_g2p():
    spec = (ROOT / "build.spec").read_text()
    assert "bundle_files()" in spec, "build.spec must carry espeak-ng (emoanim_server.face.lipsync.g2p.bundle_files)"


def test_wheel_documents_the_espeak_dependency():
    doc = (ROOT / "docs" / "languages.md").read_text()
    assert "apt install espeak-ng" in doc and "EMOANIM_ESPEAK_NG" in doc and "GPL" in doc

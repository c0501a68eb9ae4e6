"""Shared by the FBX / glTF / USD / preview tests: one CLI bake per output format (cached for
the session, the bakes are the slow part) and where the independent readers live."""
from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WAV = ROOT / "tests" / "data" / "real_en.wav"
_TMP = tempfile.mkdtemp(prefix="emoanim_formats_")
atexit.register(shutil.rmtree, _TMP, True)


@functools.lru_cache(maxsize=None)
def cli_bake(ext: str, *extra: str) -> Path:
    """``emoanim bake real_en.wav --body -o line.EXT`` (the issue's command), once per format."""
    from emoanim_server.cli import main

    d = Path(tempfile.mkdtemp(dir=_TMP))
    wav = d / "line.wav"
    shutil.copy(WAV, wav)
    out = d / f"line{ext}"
    assert main(["bake", str(wav), "--body", "--fast", "-q", "-o", str(out), *extra]) == 0
    return out


@functools.lru_cache(maxsize=None)
def baked_track():
    """The same bake as a track (the reference the files are checked against)."""
    from emoanim_server.audio import load_audio
    from emoanim_server.cli import bake_options, build_parser
    from emoanim_server.pipeline import bake

    args = build_parser().parse_args(["bake", str(WAV), "--body", "--fast"])
    return bake(load_audio(str(WAV)), bake_options(args))


def node_module(name: str) -> Path | None:
    """An npm package installed by .ci/run into .ci-node/ (or under $EMOANIM_NODE_MODULES)."""
    if not shutil.which("node"):
        return None
    for base in (os.environ.get("EMOANIM_NODE_MODULES"), ROOT / ".ci-node" / "node_modules"):
        if base and (Path(base) / name / "package.json").is_file():
            return Path(base) / name
    return None

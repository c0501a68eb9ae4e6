"""The Unity bake window saves an edited clip's hand edits as an override layer that Python reads, and
a re-bake (a new take) in the window re-applies it (C# built with mcs, run under mono, real server).

Skips with a reason where mcs/mono are missing.
"""
from __future__ import annotations

import importlib.util
import json
import subprocess
from pathlib import Path

import numpy as np
import pytest

from emoanim_server.overrides import apply_overrides, load_overrides
from emoanim_server.track import ARKIT_INDEX, AnimationTrack

ROOT = Path(__file__).resolve().parents[1]
MONO_DIR = ROOT / "unity_client" / "Tests" / "Mono~"


def _monobuild():
    spec = importlib.util.spec_from_file_location("emoanim_monobuild_ov", MONO_DIR / "monobuild.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture(scope="module")
def e2e_exe(tmp_path_factory):
    mb = _monobuild()
    why = mb.tools_available()
    if why:
        pytest.skip(why)
    d = tmp_path_factory.mktemp("unity_ov")
    o = mb.build(d)
    refs = [str(o[k]) for k in ("UnityEngine", "UnityEditor", "Core", "Runtime", "Editor")]
    return mb.compile_one(d / "overrides-e2e.exe", "exe", refs, [str(MONO_DIR / "OverridesE2E.cs")])


def _baked_reference(path: Path) -> tuple[float, np.ndarray]:
    """The window's raw-bake file: 'emoanim-baked 1 FPS N' then 52 lines of N values."""
    lines = path.read_text().split("\n")
    head = lines[0].split()
    assert head[:2] == ["emoanim-baked", "1"]
    n = int(head[3])
    return float(head[2]), np.array([[float(v) for v in lines[1 + c].split()] for c in range(52)], np.float32).T.reshape(n, 52)


def test_unity_edits_survive_a_rebake(e2e_exe, tmp_path, speech_wav):
    import soundfile as sf

    from emoanim_server.server.app import ServerConfig, ServerThread

    x, sr = sf.read(str(speech_wav), dtype="int16")
    short = tmp_path / "line.wav"
    sf.write(str(short), x[: int(2.5 * sr)], sr, subtype="PCM_16")
    work = tmp_path / "work"
    work.mkdir()
    srv = ServerThread(ServerConfig(port=0)).start()
    try:
        p = subprocess.run(["mono", "--debug", str(e2e_exe), srv.url, str(short), str(work)], capture_output=True,
                           text=True, timeout=300)
    finally:
        srv.stop()
    assert p.returncode == 0, p.stdout + p.stderr
    r = json.loads((work / "result.json").read_text())
    layer = load_overrides(r["layer"])  # the documented JSON, read by the Python side
    assert set(layer.curves) == {"jawOpen", "browInnerUp"}

    # the layer turns the first bake into the animator's edit, at every frame
    raw = np.array(r["raw_jaw"]) / 100
    n = len(raw)
    t = AnimationTrack.empty((n - 1) / 30, 30)
    t.curves[:, ARKIT_INDEX["jawOpen"]] = raw
    t.curves[:, ARKIT_INDEX["browInnerUp"]] = np.array(r["raw_brow"]) / 100
    out = apply_overrides(t, layer)
    np.testing.assert_allclose(out.curve("jawOpen"), np.array(r["edited_jaw"]) / 100, atol=1e-3)
    np.testing.assert_allclose(out.curve("browInnerUp"), np.array(r["edited_brow"]) / 100, atol=1e-3)

    # the re-bake is a new take (another seed) with the same edits re-applied by the window
    fps, new_raw = _baked_reference(Path(r["rebaked_raw"]))
    assert fps == 30 and len(new_raw) == n
    t2 = AnimationTrack(fps=30, curves=new_raw)
    want = apply_overrides(t2, layer)
    np.testing.assert_allclose(np.array(r["rebaked_jaw"]) / 100, want.curve("jawOpen"), atol=1e-5)
    brow = np.array(r["rebaked_brow"]) / 100
    np.testing.assert_allclose(brow, want.curve("browInnerUp"), atol=1e-5)
    # the new take differs from its own raw bake by exactly the animator's edit of the first take
    # (an offset layer: the edit moves with the new take's brow, as a hand key over a new take does)
    edit = (np.array(r["edited_brow"]) - np.array(r["raw_brow"])) / 100
    np.testing.assert_allclose(brow - new_raw[:, ARKIT_INDEX["browInnerUp"]], edit, atol=1e-3)
    assert np.abs(edit[30:41]).max() > 0.05 and np.abs(edit[:29]).max() < 1e-6 and np.abs(edit[42:]).max() < 1e-6

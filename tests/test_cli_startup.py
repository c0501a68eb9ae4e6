"""Issue 14: CLI start-up. Timing lives in benchmarks/cli_startup.py (results with the machine's
load); here the structural cause is checked in a fresh interpreter: building the parser (what
``--help`` and every command pay first) imports none of the heavy runtime libraries."""
from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("scipy", "onnxruntime", "pocketsphinx", "soundfile", "soxr", "websockets", "tqdm")


def test_parser_imports_no_heavy_library():
    code = ("import sys, json; import emoanim_server.cli as c; c.build_parser(); "
            f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == [], f"importing the CLI pulls in {r.stdout.strip()}"


def _imported_by(*argv: str) -> set[str]:
    """Top-level modules a real ``emoanim ARGV`` process has imported when it exits."""
    code = ("import atexit, json, sys, runpy\n"
            "atexit.register(lambda: sys.__stderr__.write('\\nMODULES ' + json.dumps(sorted(sys.modules)) + '\\n'))\n"
            f"sys.argv = ['emoanim', *{list(argv)!r}]\n"
            "runpy.run_module('emoanim_server', run_name='__main__')\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    line = [ln for ln in r.stderr.splitlines() if ln.startswith("MODULES ")]
    assert line, r.stderr[-2000:]
    return set(json.loads(line[-1][len("MODULES "):]))


#: what the quick commands must not load (failed before: `emoanim --help` imported numpy via the
#: livelink, export and emotion plugins, and http.server via preview; `info` the recogniser)
NOT_FOR_HELP = ("numpy", "scipy", "onnxruntime", "pocketsphinx", "soundfile", "http.server", "websockets",
                "emoanim_server.track", "emoanim_server.face.lipsync.recognize")


def test_help_imports_no_numpy_or_http_server():
    for argv in (["--help"], ["bake", "--help"], ["serve", "--help"], ["livelink", "--help"], ["batch", "--help"]):
        mods = _imported_by(*argv)
        assert not [m for m in NOT_FOR_HELP if m in mods], (argv, [m for m in NOT_FOR_HELP if m in mods])


def test_info_loads_onnxruntime_only():
    mods = _imported_by("info")
    assert "onnxruntime" in mods  # its providers are the "devices" line
    assert not [m for m in ("scipy", "pocketsphinx", "soundfile", "emoanim_server.face.lipsync.recognize")
                if m in mods]


def test_lazy_packages_still_export_their_names():
    import emoanim_server.emotion as emotion
    import emoanim_server.export as export
    import emoanim_server.face.lipsync as lipsync
    import emoanim_server.preview as preview

    for mod in (emotion, export, lipsync, preview):
        assert all(getattr(mod, n) is not None for n in mod.__all__), mod.__name__
    from emoanim_server import livelink_cli, livelink_udp

    assert (livelink_cli.DEFAULT_PORT, livelink_cli.DEFAULT_SUBJECT) == (livelink_udp.DEFAULT_PORT,
                                                                         livelink_udp.DEFAULT_SUBJECT)


def test_gesture_help_ranges_match_the_sampler():
    from emoanim_server.gesture import cli as gcli
    from emoanim_server.gesture import sampler

    assert gcli.SCALE_RANGE == sampler.SCALE_RANGE and gcli.GUIDANCE_RANGE == sampler.GUIDANCE_RANGE


def test_a_bake_without_the_recogniser_loads_no_scipy(real_wav, tmp_path):
    """Issue 14: scipy.signal was ~2 s of every bake's start-up (face/head.py, face/upper.py and
    audio/prosody.py imported it at module level; emoanim_server/dsp.py replaced it). A real 1 s
    line through the learned engine (no recogniser) now runs every face stage without any scipy;
    the recogniser's phonetic path still uses scipy.ndimage lazily for its smoothing."""
    import soundfile as sf

    x, sr = sf.read(str(real_wav), dtype="int16")
    line = tmp_path / "line.wav"
    sf.write(str(line), x[:sr], sr)
    mods = _imported_by("bake", str(line), "-o", str(tmp_path / "o.json"), "-q", "--lipsync", "neural")
    assert "emoanim_server.face.upper" in mods and "emoanim_server.face.head" in mods  # the stages ran
    assert not [m for m in mods if m == "scipy" or m.startswith("scipy.")], sorted(m for m in mods if "scipy" in m)

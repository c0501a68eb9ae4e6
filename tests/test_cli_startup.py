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


def test_gesture_help_ranges_match_the_sampler():
    from emoanim_server.gesture import cli as gcli
    from emoanim_server.gesture import sampler

    assert gcli.SCALE_RANGE == sampler.SCALE_RANGE and gcli.GUIDANCE_RANGE == sampler.GUIDANCE_RANGE

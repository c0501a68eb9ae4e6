#!/usr/bin/env python3
"""CLI start-up time (issue 14: <= 0.5 s for ``--help``, ``info`` and bakes that do not need the
recogniser).

What is measured, per command, as fresh processes (a pipeline calling ``emoanim`` once per line):

* ``--help``, ``bake --help``, ``serve --help``, ``info``: the whole process (they do nothing else).
* bakes (through benchmarks/_startup_probe.py, which runs the real CLI): **start-up** = from the
  parent starting the process to the bake's stage graph receiving the decoded audio (interpreter,
  imports, argument parsing, options, decoding); **total** for a very short line; and **fixed
  cost** = total - the same line baked again in the warm process (what every call pays on top
  of the work itself, models built on first use included). Lines: a 0.5 s silent WAV (default
  engine: nothing to recognise), 1.0 s of real speech with ``--lipsync neural`` (the learned
  engine: no recogniser), and for reference the same 1.0 s with the default engine (it builds
  the English recogniser: not under the bar).

Wall and CPU seconds are both reported (CPU = the child's user + system, or its process time at
the probe: less inflated on a loaded machine, where wall also counts waiting for a core), with
the load average around the run; "met" is judged on the median CPU-s and on the fastest wall.
Children run with bytecode cached (``PYTHONPYCACHEPREFIX`` in a temp folder, one discarded warm-up
run per command) as in an installed wheel, even where the environment sets
``PYTHONDONTWRITEBYTECODE`` (compiling the package's sources costs ~0.5 s a call).

Usage: python benchmarks/cli_startup.py [--runs 5] [--before OTHER_CHECKOUT] [--out benchmarks/results/cli_startup.json]
(``--before`` times another checkout - e.g. a worktree at an older commit - in the same run,
interleaved, for like-for-like ratios; ``python -m emoanim_server`` runs the package of the working
directory.)
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))

from _results import save  # noqa: E402

PROBE = str(ROOT / "benchmarks" / "_startup_probe.py")
BAR_S = 0.5


def _env(tmp: Path) -> dict:
    env = dict(os.environ, PYTHONPYCACHEPREFIX=str(tmp / "pyc"), OMP_NUM_THREADS="1")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def _run(cmd: list[str], cwd: Path, env: dict, probe_out: Path | None = None) -> tuple[float, float, dict]:
    c0 = os.times()
    e = dict(env)
    if probe_out is not None:
        e["EMOANIM_PROBE_OUT"] = str(probe_out)
    e["EMOANIM_PROBE_T0"] = repr(time.time())
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=e)
    wall = time.perf_counter() - t
    c1 = os.times()
    if r.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed ({r.returncode}): {r.stderr[-800:]}")
    probe = json.loads(probe_out.read_text()) if probe_out is not None else {}
    return wall, c1.children_user + c1.children_system - c0.children_user - c0.children_system, probe


def _summary(walls: list[float], cpus: list[float], probes: list[dict]) -> dict:
    med = lambda v: round(statistics.median(v), 3)  # noqa: E731
    out = {"wall_median_s": med(walls), "wall_min_s": round(min(walls), 3), "cpu_median_s": med(cpus)}
    if probes and probes[0]:
        for k in probes[0]:
            out[k[:-2] + "_median_s" if k.endswith("_s") else k] = med([p[k] for p in probes])
        out["fixed_cost_wall_median_s"] = med([w - p["warm_bake_wall_s"] for w, p in zip(walls, probes)])
        out["fixed_cost_cpu_median_s"] = med([c - p["warm_bake_cpu_s"] for c, p in zip(cpus, probes)])
        out["start_up_met"] = bool(out["first_sample_cpu_median_s"] <= BAR_S
                                   or min(p["first_sample_wall_s"] for p in probes) <= BAR_S)
    else:
        out["met"] = bool(out["cpu_median_s"] <= BAR_S or out["wall_min_s"] <= BAR_S)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cli_startup.json"))
    ap.add_argument("--before", help="another checkout, timed in the same run, interleaved")
    a = ap.parse_args()
    import numpy as np
    import soundfile as sf

    tmp = Path(tempfile.mkdtemp(prefix="emoanim_startup_"))
    quiet, speech = tmp / "quiet.wav", tmp / "speech_1s.wav"
    sf.write(quiet, np.zeros(8000, np.int16), 16000)
    x, sr = sf.read(ROOT / "tests" / "data" / "real_en.wav", dtype="int16")
    sf.write(speech, x[:sr], sr)
    emo = [sys.executable, "-m", "emoanim_server"]
    probe = [sys.executable, PROBE]
    cases = {
        "help": (emo + ["--help"], False),
        "bake_help": (emo + ["bake", "--help"], False),
        "serve_help": (emo + ["serve", "--help"], False),
        "info": (emo + ["info"], False),
        "bake_silent_0.5s": (probe + ["bake", str(quiet), "-o", str(tmp / "q.json"), "-q"], True),
        "bake_speech_1s_neural": (probe + ["bake", str(speech), "-o", str(tmp / "n.json"), "-q",
                                           "--lipsync", "neural"], True),
        "bake_speech_1s_recogniser (reference, not under the bar)":
            (probe + ["bake", str(speech), "-o", str(tmp / "r.json"), "-q"], True),
    }
    roots = {"now": ROOT}
    if a.before:
        roots["before"] = Path(a.before)
    env = _env(tmp)
    res: dict = {"date": datetime.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                 "python": platform.python_version(), "load_average_before": os.getloadavg(), "runs": a.runs,
                 "bar_s": BAR_S, "bytecode": "cached (PYTHONPYCACHEPREFIX, one warm-up run discarded)"}
    # references for what `info` pays: the interpreter alone, numpy (which onnxruntime imports),
    # onnxruntime with its provider list
    for name, code in (("python_bare", "pass"), ("import_numpy", "import numpy"),
                       ("import_onnxruntime_providers", "import onnxruntime; onnxruntime.get_available_providers()")):
        ref = [_run([sys.executable, "-c", code], ROOT, env) for _ in range(a.runs)]
        res[name] = _summary([w for w, _, _ in ref], [c for _, c, _ in ref], [])
    for name, (cmd0, probed0) in cases.items():
        plan = {}
        for label, root in roots.items():
            cmd, probed = cmd0, probed0
            if label == "before" and probed and not (root / "benchmarks" / "_startup_probe.py").exists():
                cmd, probed = [sys.executable, "-m", "emoanim_server"] + cmd[2:], False  # old checkout: totals
            plan[label] = (root, cmd, tmp / f"probe_{label}.json" if probed else None)
            _run(cmd, root, env, plan[label][2])  # warm-up: writes the bytecode cache
        runs: dict = {label: [] for label in plan}
        for _ in range(a.runs):  # interleaved: both checkouts see the same load
            for label, (root, cmd, out) in plan.items():
                runs[label].append(_run(cmd, root, env, out))
        for label, rs in runs.items():
            res.setdefault(label, {})[name] = _summary([r[0] for r in rs], [r[1] for r in rs],
                                                       [r[2] for r in rs] if plan[label][2] else [])
    res["load_average_after"] = os.getloadavg()
    save(res, a.out)


if __name__ == "__main__":
    main()

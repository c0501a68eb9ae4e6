#!/usr/bin/env python3
"""CLI start-up time (issue 14: <= 0.5 s for ``--help``, ``info`` and bakes that do not need the
recogniser). Each command runs as a fresh process, as a pipeline calling ``emoanim`` per line
does; the median of N runs is reported with the machine's load average (wall times on a shared
machine are upper bounds). "bake, no recogniser": a 0.5 s silent WAV, which the recogniser is
never built for (decoders are built on first use); its total time is start-up + a trivial bake.

Usage: python benchmarks/cli_startup.py [--runs 5] [--before OTHER_CHECKOUT] [--out benchmarks/results/cli_startup.json]
(``python -m emoanim_server`` runs the package of the working directory, so ``--before`` times an
older checkout with the same interpreter and libraries.)
"""
from __future__ import annotations

import argparse
import datetime
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


def timed(cmd: list[str], runs: int, cwd: Path = ROOT) -> dict:
    """Wall and CPU seconds (the child's user + system: less inflated by a loaded machine than
    wall time, which also counts waiting for a core)."""
    times, cpu = [], []
    for _ in range(runs):
        c0, t = os.times(), time.perf_counter()
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd)
        times.append(time.perf_counter() - t)
        c1 = os.times()
        cpu.append(c1.children_user + c1.children_system - c0.children_user - c0.children_system)
        if r.returncode != 0:
            raise SystemExit(f"{' '.join(cmd)} failed: {r.stderr[-500:]}")
    return {"median_s": round(statistics.median(times), 3), "min_s": round(min(times), 3),
            "cpu_median_s": round(statistics.median(cpu), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "cli_startup.json"))
    ap.add_argument("--before", help="another checkout (e.g. an older commit's worktree): its --help/info are "
                                     "timed in the same run, interleaved, for a like-for-like ratio")
    a = ap.parse_args()
    import numpy as np
    import soundfile as sf

    tmp = Path(tempfile.mkdtemp())
    quiet = tmp / "quiet.wav"
    sf.write(quiet, np.zeros(8000, np.int16), 16000)
    emo = [sys.executable, "-m", "emoanim_server"]
    res = {"date": datetime.date.today().isoformat(), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
           "python": platform.python_version(), "load_average_before": os.getloadavg(), "runs": a.runs,
           "python_bare": timed([sys.executable, "-c", "pass"], a.runs),
           "help": timed(emo + ["--help"], a.runs),
           "bake_help": timed(emo + ["bake", "--help"], a.runs),
           "info": timed(emo + ["info"], a.runs),
           "serve_help": timed(emo + ["serve", "--help"], a.runs),
           "bake_no_recogniser": timed(emo + ["bake", str(quiet), "-o", str(tmp / "q.json"), "-q"], a.runs),
           "load_average_after": os.getloadavg(), "bar_s": 0.5}
    if a.before:
        res["before"] = {"root": a.before, **{k: timed(emo + c, a.runs, Path(a.before)) for k, c in
                                               (("help", ["--help"]), ("bake_help", ["bake", "--help"]),
                                                ("info", ["info"]))}}
    res["met_min_wall"] = {k: res[k]["min_s"] <= 0.5 for k in ("help", "bake_help", "info")}
    save(res, a.out)


if __name__ == "__main__":
    main()

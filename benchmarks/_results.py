"""Shared by the benchmark scripts: record a result file (and show it)."""
from __future__ import annotations

import json
import os


def save(result: dict, path: str, echo: bool = True) -> None:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(result, f, indent=1)
    if echo:
        print(json.dumps(result, indent=1))


def write_json_md(result: dict, out, write_md) -> None:
    """``out``.json (the record) and ``out``.md (``write_md(result, path)``: the table), then
    show the table: how the LIVE capacity / latency benchmarks end."""
    from pathlib import Path

    out = Path(out)
    out.with_suffix(".json").write_text(json.dumps(result, indent=1))
    write_md(result, out.with_suffix(".md"))
    print(out.with_suffix(".md").read_text())


def judge_signals(curves, fps: int):
    """gap / rounding / f-v signals exactly as the shared judge (lipsync_check.read_curves) computes
    them from a CSV, for benchmarks that score curves in process instead of writing a CSV per line.

    One copy, so that every in-process score stays the judge's definition."""
    import numpy as np

    from emoanim_server.track import ARKIT_INDEX as AI

    c = lambda n: curves[:, AI[n]].astype(np.float64)  # noqa: E731
    gap = (np.clip(c("jawOpen") - c("mouthClose"), 0, 1) + 0.25 * (c("mouthLowerDownLeft") + c("mouthLowerDownRight"))
           + 0.25 * (c("mouthUpperUpLeft") + c("mouthUpperUpRight")))
    rnd = np.maximum(c("mouthPucker"), c("mouthFunnel"))
    return np.arange(len(curves)) / fps, gap, rnd, c("mouthRollLower")


_BASE: dict[str, str] = {}


def base_package(base: str) -> str:
    """The import name (``emoanim_base``) of the package in source tree ``base``, importable in
    this process beside this tree's ``emoanim_server`` (a symlink in a temporary folder put on
    sys.path; the package imports itself relatively). Why: A/Bs of two trees on a shared machine
    must run in one process, alternating, or load drift between processes swamps the change."""
    import sys
    import tempfile
    from pathlib import Path

    src = str(Path(base).resolve() / "emoanim_server")
    if _BASE and src not in _BASE:
        raise ValueError(f"emoanim_base is already {next(iter(_BASE))}, not {src} (one base tree a process)")
    if src not in _BASE:
        tmp = tempfile.mkdtemp(prefix="emoanim-ab-")
        os.symlink(src, os.path.join(tmp, "emoanim_base"))
        sys.path.insert(0, tmp)
        _BASE[src] = "emoanim_base"
    return _BASE[src]


def abba(reps: int, base: str = "base", now: str = "now"):
    """(rep, name) in the order base, now, now, base, base, now, ...: each tree runs first as
    often as second, so a drift in load within the measurement falls on both alike."""
    for k in range(reps):
        for name in ((base, now) if k % 2 == 0 else (now, base)):
            yield k, name

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

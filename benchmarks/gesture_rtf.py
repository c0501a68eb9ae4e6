"""Gesture stage speed: real-time factor of ``generate`` on one core, by stage, under load.

    python benchmarks/gesture_rtf.py [--set '{"steps": 5}' ...] [--ref /path/to/other/checkout]
        -> benchmarks/results/gesture_rtf.json

30 s of the benchmark audio (benchmarks/gesture_metrics.bake_audio: held-out speech with pauses),
neutral, 60 fps, onnxruntime on 1 thread. Each configuration (the defaults, each ``--set``, and
``--ref``: the same defaults run by another checkout of the code in a subprocess, e.g. main
before a change) is timed in ROUNDS interleaved rounds (A B A B ...), so all of them see the
same machine load; per configuration: the best and median process CPU time per audio second
(what one free core would take; the 2-core machine is shared, wall time is also recorded),
and, for the in-process ones, the CPU time split into the timing conditioner (audio features +
prosody: timing.Conditioner.window), the denoiser (sampler.ddim, onnxruntime) and the rest
(decode, crossfade, pause settle, low-pass, resampling, legs, fingers). Load averages are
recorded before and after.
"""
from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
AUDIO_S = 30.0
ROUNDS = 3


def _audio() -> np.ndarray:
    import gesture_metrics as GM

    x = GM.bake_audio(GM.heldout_wavs(GM.SPEECH))
    return np.concatenate([x] * 2)[: int(AUDIO_S * 16000)]


def time_once(over: dict, stages: bool) -> dict:
    """One timed generate() in this process: CPU and wall seconds (+ the stage split)."""
    from emoanim_server.gesture import sampler as S
    from emoanim_server.gesture import timing as T

    x = _audio()
    model = S.load_model()
    S.generate(x[:16000], "neutral", S.GestureSettings(**over), model)  # warm: sessions, caches
    acc = {"conditioning": 0.0, "denoiser": 0.0}
    orig_w, orig_d = T.Conditioner.window, S.ddim

    def timed(key, fn):
        def f(*a, **k):
            c = time.process_time()
            try:
                return fn(*a, **k)
            finally:
                acc[key] += time.process_time() - c
        return f
    if stages:
        T.Conditioner.window, S.ddim = timed("conditioning", orig_w), timed("denoiser", orig_d)
    try:
        c, w = time.process_time(), time.perf_counter()
        S.generate(x, "neutral", S.GestureSettings(**over), model)
        cpu, wall = time.process_time() - c, time.perf_counter() - w
    finally:
        T.Conditioner.window, S.ddim = orig_w, orig_d
    out = {"cpu_s": cpu, "wall_s": wall}
    if stages:
        out.update({k: v for k, v in acc.items()}, rest=cpu - sum(acc.values()))
    return out


def _child(path: str) -> dict:
    """Time the defaults of the checkout at ``path`` in a fresh interpreter (its own package)."""
    code = ("import sys, json; sys.path[:0] = [{p!r}, {b!r}]; import gesture_rtf as G; "
            "print(json.dumps(G.time_once({{}}, False)))").format(p=path, b=HERE)
    env = dict(os.environ, PYTHONPATH=path)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=path, check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", action="append", default=[], help="GestureSettings overrides, JSON (repeatable)")
    p.add_argument("--ref", help="another checkout (its repo root) whose defaults are timed too")
    p.add_argument("--rounds", type=int, default=ROUNDS)
    p.add_argument("--out", default=os.path.join(HERE, "results", "gesture_rtf.json"))
    a = p.parse_args(argv)
    sys.path.insert(0, os.path.join(HERE, ".."))
    sys.path.insert(0, HERE)
    import gesture_metrics as GM
    from _results import save

    configs = {"defaults": {}}
    for s in a.set:
        configs[s] = json.loads(s)
    names = list(configs) + (["ref"] if a.ref else [])
    runs: dict[str, list] = {k: [] for k in names}
    load_before = [round(v, 2) for v in os.getloadavg()]
    for r in range(a.rounds):
        for k in names:
            runs[k].append(_child(a.ref) if k == "ref" else time_once(configs[k], True))
            print(r, k, json.dumps({q: round(v, 3) for q, v in runs[k][-1].items()}), flush=True)
    res = {"machine": GM.machine(), "audio_s": AUDIO_S, "rounds": a.rounds, "onnxruntime_threads": 1,
           "load_average_before": load_before, "load_average_after": [round(v, 2) for v in os.getloadavg()],
           "ref": a.ref, "configs": {}}
    for k in names:
        cpu = [x["cpu_s"] for x in runs[k]]
        best = int(np.argmin(cpu))
        row = {"settings": configs.get(k, "ref checkout defaults"),
               "rtf_cpu_best": round(min(cpu) / AUDIO_S, 4), "rtf_cpu_median": round(float(np.median(cpu)) / AUDIO_S, 4),
               "rtf_wall_best": round(min(x["wall_s"] for x in runs[k]) / AUDIO_S, 4)}
        if "denoiser" in runs[k][best]:
            row["share_of_cpu_in_best_run"] = {q: round(runs[k][best][q] / cpu[best], 3)
                                               for q in ("conditioning", "denoiser", "rest")}
        res["configs"][k] = row
    save(res, a.out, echo=False)
    print(json.dumps(res["configs"], indent=1))


if __name__ == "__main__":
    main()

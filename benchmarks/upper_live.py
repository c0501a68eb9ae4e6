"""LIVE cost of the upper face, its pitch and the learned lips' interpolation across sessions
(issue 10 capacity, the `upper` engineer's stages), plus the evidence for the two pitch shortcuts.

    nice -n 10 python benchmarks/upper_live.py            # ~2-4 min on a loaded 2-core VM

1. Pitch equivalence on real speech (tests/data + ../shared/data/speech): the upper face's YIN
   with the 576-point FFT (audio.prosody.YIN_NFFT_SHORT) against pitch_track's 1024-point one:
   largest relative f0 / absolute aperiodicity difference and how many float32 values (what
   the upper face stores) differ; and the share of ticks the quiet-tick skip leaves out.
2. Stage costs, N sessions ticked together (live_batch.tick, learned lips, face + eyes + head
   + emotion, 20 ms chunks of real English): benchmarks/live_capacity.py's run_graphs with its
   stage timers (thread CPU time; the primary figure on a shared machine), load recorded.

Results: benchmarks/results/upper_live.{json,md} with machine, date and load.
"""
from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

#: the stage figures before this work (session 5 start, results/live_capacity.md of 16:32,
#: 40 sessions together, CPU-s per audio-s per session)
BEFORE = {"upper face: pitch (YIN, all sessions in one call)": 0.01625, "upper face: step": 0.01361,
          "lips: frame interpolation": 0.01062, "upper face: add to frames": 0.00717,
          "lips: mel front end": 0.0064, "upper face: audio in (band-pass)": 0.00393,
          "emotion mixer": 0.00276, "speech activity": 0.00238, "emotion timeline": 0.00174}


def pitch_equivalence() -> dict:
    from emoanim_server.audio import load_audio
    from emoanim_server.audio.prosody import YIN_NFFT_SHORT, yin_frames, yin_geometry
    from emoanim_server.face.upper import upper_face

    _, _, w, length, _ = yin_geometry()
    files = [str(ROOT / "tests/data/real_en.wav"), str(ROOT / "tests/data/speech_en.wav")]
    files += sorted(glob.glob(str(ROOT.parent.parent / "shared/data/speech/*/*.wav")))[:28]
    files = [f for f in files if Path(f).exists()]
    frs, ticks, needed = [], 0, 0
    import emoanim_server.face.upper as up

    counted: list[int] = []
    orig = up.yin
    up.yin = lambda fr: (counted.append(len(fr)), orig(fr))[1]
    try:
        for f in files:
            x = load_audio(f).samples.astype(np.float64)
            padded = np.pad(x, (w // 2, length + 160))
            n = len(x) // 160
            frs.append(padded[(np.arange(n) * 160)[:, None] + np.arange(length)[None]])
            counted.clear()
            _, m = upper_face(x.astype(np.float32), seed=0)
            ticks += m.n_features
            needed += sum(counted)
    finally:
        up.yin = orig
    fr = np.concatenate(frs)
    f0a, apa = yin_frames(fr)
    f0b, apb = yin_frames(fr, nfft=YIN_NFFT_SHORT)
    return {"files": len(files), "frames": int(len(fr)), "nfft": [int(yin_geometry()[4]), YIN_NFFT_SHORT],
            "max_rel_f0_diff": float(np.abs(f0b / f0a - 1).max()), "max_ap_diff": float(np.abs(apb - apa).max()),
            "float32_f0_values_differing": int((f0a.astype(np.float32) != f0b.astype(np.float32)).sum()),
            "float32_ap_values_differing": int((apa.astype(np.float32) != apb.astype(np.float32)).sum()),
            "bake_ticks": int(ticks), "bake_ticks_analysed": int(needed),
            "share_skipped": round(1 - needed / max(ticks, 1), 3)}


def write_md(res: dict, out: Path, sessions: int, seconds: float) -> None:
    plain, prof = res["plain"], res["profiled"]
    p, st = res["pitch"], prof["stages_cpu_s_per_audio_s_per_session"]
    L = [f"# LIVE cost of the upper face, pitch and lips interpolation ({res['date']}, git {res['git']})", "",
         f"Machine: {res['machine']['cpu']}, {res['machine']['cores']} cores, Python {res['machine']['python']}; "
         f"load average {res['load_before'][0]:.2f} before, {res['load_after'][0]:.2f} after (shared machine: "
         "CPU time is the figure; compare within a run).", "",
         f"## {sessions} sessions ticked together, {seconds:g} s each (live_batch.tick, stage timers on)", "",
         f"All stages: {plain['cpu_s_per_audio_s_per_session']} CPU-s per audio-s per session without timers "
         f"({plain['sessions_per_core']} sessions per core), {prof['cpu_s_per_audio_s_per_session']} with them.", "",
         "| stage | before (16:32 run, load 1.4-2.3) | now | before / now |", "| --- | --- | --- | --- |"]
    alias = {"upper face: step (all sessions, one render)": "upper face: step"}
    for k, v in st.items():
        if k == "upper face: step":  # single steps left (a session's last frames at finish)
            continue
        b = BEFORE.get(alias.get(k, k))
        L.append(f"| {k} | {b if b is not None else ''} | {v} | {f'{b / max(v, 1e-9):.1f}' if b else ''} |")
    L += ["", "Rows without a 'before' are other engineers' stages (eyes + head: live) or new rows; the pitch "
          "row includes the band-pass row (counted in both) and the batched step includes feed_emotion.", "",
          "## Pitch shortcuts (identical curves)", "",
          f"* {p['frames']} YIN frames of real speech ({p['files']} files): 576-point FFT vs 1024: f0 within "
          f"{p['max_rel_f0_diff']:.1e} relative, aperiodicity within {p['max_ap_diff']:.1e}; float32 values "
          f"differing: f0 {p['float32_f0_values_differing']}, aperiodicity {p['float32_ap_values_differing']} (the "
          "upper face stores float32, so its input is the same).",
          f"* Quiet ticks (too quiet for their pitch to be read, UpperFaceModel._span) skipped: "
          f"{100 * p['share_skipped']:.1f} % of {p['bake_ticks']} ticks of these files (all of them in silence); "
          "curves identical with and without the skip (tests/test_upper_batch.py).", "",
          "Regenerate: `nice -n 10 python benchmarks/upper_live.py`."]
    out.with_suffix(".md").write_text("\n".join(L) + "\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sessions", type=int, default=40)
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "upper_live"))
    ap.add_argument("--md-only", action="store_true", help="rewrite the .md from the .json")
    args = ap.parse_args()
    if args.md_only:
        out = Path(args.out)
        res = json.loads(out.with_suffix(".json").read_text())
        write_md(res, out, res["plain"]["sessions"], res["plain"]["audio_s_per_session"])
        print(out.with_suffix(".md").read_text())
        return 0
    from bench_server import machine
    from live_capacity import run_graphs

    from emoanim_server.audio import load_audio

    res = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": machine(), "git": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                                                      capture_output=True, text=True).stdout.strip()}
    res["pitch"] = pitch_equivalence()
    print(res["pitch"], flush=True)
    x = np.tile(load_audio(str(ROOT / "tests" / "data" / "real_en.wav")).samples, 8)
    run_graphs(x, 2, True, 1.0)  # warm
    res["load_before"] = os.getloadavg()
    plain = run_graphs(x, args.sessions, True, args.seconds)
    prof = run_graphs(x, args.sessions, True, args.seconds, profile=True)
    res["load_after"] = os.getloadavg()
    res["plain"], res["profiled"] = plain, prof
    out = Path(args.out)
    out.with_suffix(".json").write_text(json.dumps(res, indent=1))
    write_md(res, out, args.sessions, args.seconds)
    print(out.with_suffix(".md").read_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/env python3
"""Issue 12's bars: is the face alive on every line? (curve spreads, blinks, contacts)

Bakes real speech (all LJ Speech clips in ../shared/data/speech/ljspeech_mfa, the bake path:
recogniser phones -> lip-sync -> emotion -> upper face -> eyes/head) and measures:

* curve spreads: per-curve standard deviation over ~20 s takes (consecutive clips joined, as the
  real figures are per 20 s take), against the iPhone ARKit figures of the issue; per-group ratio
  (geometric mean of the curves' ratios: brow, cheek/nose, eye, mouth); how many of the 52
  curves move (range p0.5-p99.5 >= MOVE_RANGE); roll/press ratios; the jaw peak;
* blinks: 20 different lines baked with one seed: first-blink times (pairs within 100 ms, and the
  expected count for independent random lines), rate on lines >= 4 s, peak depth mean/sd,
  pooled inter-blink-interval CV (on the 20 s takes), closing/opening times (2 %->98 % of the
  peak on the rendered eyeBlink at 1 kHz), same line + seed = same blinks;
* lip contacts: the shared judge's own score (../shared/tools/lipsync_check.py) on every clip,
  neutral and every emotion at intensity 1 (closure must not drop; f/v roll >= 0.2).

The recogniser's phones are cached per clip (``--cache``) so the stage changes can be re-measured
quickly; the stages after recognition run exactly as in ``pipeline.bake``.

Usage: python benchmarks/face_alive.py [--limit N] [--emotions] [--plot] [--batch]
"""
from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import pickle
import platform
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)

from emoanim_server import pipeline  # noqa: E402
from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.face.eyes import blink_signal  # noqa: E402
from emoanim_server.face.mixer import lip_gap  # noqa: E402
from emoanim_server.track import ARKIT_NAMES  # noqa: E402
from _results import save  # noqa: E402

#: ../shared beside the project (a worktree one level deeper finds it one level further up)
SHARED = os.environ.get("EMOANIM_SHARED") or next(
    (p for p in (os.path.join(ROOT, "..", "shared"), os.path.join(ROOT, "..", "..", "shared")) if os.path.isdir(p)),
    os.path.join(ROOT, "..", "shared"))
DATA = os.path.join(SHARED, "data", "speech", "ljspeech_mfa")
#: the issue's real-capture figures (iPhone ARKit, English conversational speech; sd over 20 s)
REAL_SD = {"jawOpen": 0.092, "mouthFunnel": 0.107, "mouthPucker": 0.101, "mouthSmile": 0.118,
           "mouthFrown": 0.067, "mouthStretch": 0.058, "mouthRollLower": 0.017, "mouthPress": 0.011,
           "mouthShrugLower": 0.037, "mouthShrugUpper": 0.036, "mouthLowerDown": 0.123,
           "mouthUpperUp": 0.110, "jawForward": 0.023, "browDown": 0.21, "browInnerUp": 0.29,
           "browOuterUp": 0.20, "eyeWide": 0.25, "eyeSquint": 0.071, "cheekSquint": 0.105,
           "noseSneer": 0.090}
REAL_JAW_PEAK = 0.75
REAL_BLINK = {"rate_per_min": [12, 22], "peak": 0.73, "close_ms": 51, "open_ms": [99, 156], "ibi_cv": 1.5}
GROUPS = {"brow": ["browDown", "browInnerUp", "browOuterUp"],
          "cheek_nose": ["cheekSquint", "noseSneer"],
          "eye": ["eyeWide", "eyeSquint"],
          "mouth": ["jawOpen", "mouthFunnel", "mouthPucker", "mouthSmile", "mouthFrown", "mouthStretch",
                    "mouthRollLower", "mouthPress", "mouthShrugLower", "mouthShrugUpper",
                    "mouthLowerDown", "mouthUpperUp", "jawForward"]}
MOVE_RANGE = 0.02
TAKE_S = 20.0
KEYS = ("closure", "closure_m", "open", "round", "fv")


def _checker():
    spec = importlib.util.spec_from_file_location("lipsync_check", os.path.join(SHARED, "tools", "lipsync_check.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def cached_recognise(cache_dir: str):
    """pipeline.recognise with the result cached per audio file (recognition dominates bake time)."""
    real = pipeline.recognise
    os.makedirs(cache_dir, exist_ok=True)

    def rec(audio, options, progress=None, report=None):
        # audio without a file (synthesised) is keyed by its samples and transcript
        import hashlib

        from_file = bool(audio.source) and not str(audio.source).startswith("<")
        name = os.path.basename(str(audio.source)) if from_file else \
            hashlib.sha1(np.asarray(audio.samples, np.float32).tobytes()).hexdigest()[:16]
        if options.transcript and not from_file:
            name += hashlib.sha1(str(options.transcript).encode()).hexdigest()[:8]
        key = name + ("-fast" if options.fast else "") + ("-t" if options.transcript else "") + ".v2.pkl"
        path = os.path.join(cache_dir, key)
        if os.path.exists(path):
            with open(path, "rb") as f:
                phones, rep = pickle.load(f)
        else:
            rep = {}
            phones = real(audio, options, progress, rep)
            with open(path, "wb") as f:
                pickle.dump((phones, rep), f)
        if report is not None:
            report.update(rep)
        return phones
    pipeline.recognise = rec


def curve_sd(curves: np.ndarray, name: str) -> float:
    idx = [ARKIT_NAMES.index(n) for n in ARKIT_NAMES if n == name or n in (name + "Left", name + "Right")]
    return float(np.mean([curves[:, i].std() for i in idx]))


def takes(tracks: list, take_s: float = TAKE_S) -> list[np.ndarray]:
    out, cur, dur = [], [], 0.0
    for t in tracks:
        cur.append(t.curves)
        dur += t.duration
        if dur >= take_s:
            out.append(np.concatenate(cur))
            cur, dur = [], 0.0
    if cur and dur >= 0.5 * take_s:
        out.append(np.concatenate(cur))
    return out


def spreads(tracks: list) -> dict:
    tk = takes(tracks)
    sd = {n: float(np.mean([curve_sd(c, n) for c in tk])) for n in REAL_SD}
    ratio = {n: round(sd[n] / REAL_SD[n], 3) for n in REAL_SD}
    groups = {g: round(float(np.exp(np.mean([np.log(max(ratio[n], 1e-3)) for n in ns]))), 3)
              for g, ns in GROUPS.items()}
    allc = np.concatenate([t.curves for t in tracks])
    rng = np.percentile(allc, 99.5, axis=0) - np.percentile(allc, 0.5, axis=0)
    still = [n for n, r in zip(ARKIT_NAMES, rng) if r < MOVE_RANGE]
    jaw_peak = float(np.mean([c[:, ARKIT_NAMES.index("jawOpen")].max() for c in tk]))
    return {"takes": len(tk), "sd": {n: round(v, 4) for n, v in sd.items()}, "ratio_to_real": ratio,
            "group_ratio": groups, "moving_curves": 52 - len(still), "still_curves": still,
            "roll_press_ratio": {"mouthRollLower": ratio["mouthRollLower"], "mouthPress": ratio["mouthPress"]},
            "jaw_peak": round(jaw_peak, 3), "jaw_peak_real": REAL_JAW_PEAK}


def blink_kinematics(tracks: list, audios: list, seed: int) -> tuple[float, float]:
    """Mean closing / opening time (ms, 2 % -> 98 % of each blink's peak, 1 kHz render) of the
    blinks the bakes made (re-planned from the same drivers and line seed: identical events)."""
    from emoanim_server.face.drivers import drivers_for_track
    from emoanim_server.face.eyes import EyesConfig, line_seed, plan_eyes

    closes, opens = [], []
    for tr, au in zip(tracks, audios):
        plan = plan_eyes(drivers_for_track(tr, au.samples), EyesConfig(), line_seed(seed, au.samples))
        assert [round(b.t, 4) for b in plan.blinks] == [e[0] for e in tr.events["blinks"]]
        for bl in plan.blinks:
            t = np.arange(bl.t - 0.02, bl.end + 0.02, 0.001)
            v = blink_signal([bl], t)
            pk = v.max()
            above = np.flatnonzero(v > 0.02 * pk)
            closed = np.flatnonzero(v >= 0.98 * pk)
            closes.append(closed[0] - above[0])
            opens.append(above[-1] - closed[-1])
    return float(np.mean(closes)), float(np.mean(opens))


def ibi_cv_seeds(tracks: list, audios: list, seeds) -> dict:
    """Pooled inter-blink-interval CV over the ~20 s takes for several seeds (intervals are
    heavy-tailed, so one seed's CV over ~100 intervals varies by +-0.2): the eyes are re-planned
    from each bake's drivers with that seed's line seeds (the bake's own events for its seed)."""
    from emoanim_server.face.drivers import drivers_for_track
    from emoanim_server.face.eyes import EyesConfig, line_seed, plan_eyes

    drivers = [drivers_for_track(tr, au.samples) for tr, au in zip(tracks, audios)]
    out = {}
    for seed in seeds:
        ibis, bt, off, dur = [], [], 0.0, 0.0
        for tr, au, d in zip(tracks, audios, drivers):
            plan = plan_eyes(d, EyesConfig(), line_seed(seed, au.samples))
            bt += [b.t + off for b in plan.blinks]
            off += tr.duration
            dur += tr.duration
            if dur >= TAKE_S:
                ibis += list(np.diff(bt))
                bt, dur = [], 0.0
        x = np.array(ibis)
        out[str(seed)] = round(float(x.std() / x.mean()), 3)
    out["mean"] = round(float(np.mean(list(out.values()))), 3)
    return out


def _chance_pairs(f: np.ndarray, reps: int = 200) -> float:
    """Pairs within 100 ms that independent lines give: the same number of first blinks drawn
    uniformly over the observed range (what any process with independent lines scores)."""
    r = np.random.default_rng(0)
    iu = np.triu_indices(len(f), 1)
    sim = []
    for _ in range(reps):
        g = r.uniform(0, max(f.max(), 1e-3), len(f))
        sim.append((np.abs(g[:, None] - g[None])[iu] < 0.1).sum())
    return float(np.mean(sim))


def blink_bounds_seeds(tracks: list, audios: list, seeds) -> dict:
    """Per-line rate bound on every line >= 4 s (all clips, not only the first 20) and the first
    blinks of the first 20 lines, for several seeds (offline plan, re-planned from the drivers)."""
    from emoanim_server.face.drivers import drivers_for_track
    from emoanim_server.face.eyes import EyesConfig, line_seed, plan_eyes

    drivers = [drivers_for_track(tr, au.samples) for tr, au in zip(tracks, audios)]
    out: dict = {"per_seed": {}}
    for seed in seeds:
        bl = [plan_eyes(d, EyesConfig(), line_seed(seed, au.samples)).blinks for d, au in zip(drivers, audios)]
        rates = [len(b) / tr.duration * 60 for b, tr in zip(bl, tracks) if tr.duration >= 4]
        f = np.array([b[0].t for b in bl[:20] if b])
        iu = np.triu_indices(len(f), 1)
        fa = np.array([b[0].t for b in bl if b])
        iua = np.triu_indices(len(fa), 1)
        out["per_seed"][str(seed)] = {
            "lines_ge_4s": len(rates), "share_in_10_30": round(float(np.mean([(10 <= x <= 30) for x in rates])), 3),
            "rate_min": round(min(rates), 1), "rate_max": round(max(rates), 1),
            "first_blink_pairs_within_100ms": int((np.abs(f[:, None] - f[None])[iu] < 0.1).sum()),
            "pairs": len(iu[0]), "chance": round(_chance_pairs(f), 1),
            "all_lines_first_blink_pairs_within_100ms": int((np.abs(fa[:, None] - fa[None])[iua] < 0.1).sum()),
            "all_lines_pairs": len(iua[0]), "all_lines_chance": round(_chance_pairs(fa), 1)}
    ps = out["per_seed"].values()
    # the expected count for THESE lines under the model: its mean over seeds (each seed is a
    # fresh draw of every line's blinks), next to independent uniform times over the same range
    out["first_blink_pairs_20_lines"] = {"mean_over_seeds": round(float(np.mean([p["first_blink_pairs_within_100ms"] for p in ps])), 2),
                                         "uniform_chance_mean": round(float(np.mean([p["chance"] for p in ps])), 2),
                                         "seeds_with_none": sum(p["first_blink_pairs_within_100ms"] == 0 for p in ps),
                                         "seeds": len(ps)}
    out["first_blink_pairs_all_lines"] = {"lines": len(tracks),
                                          "mean_over_seeds": round(float(np.mean([p["all_lines_first_blink_pairs_within_100ms"] for p in ps])), 2),
                                          "uniform_chance_mean": round(float(np.mean([p["all_lines_chance"] for p in ps])), 2)}
    return out


def blink_continuous(tracks: list, audios: list, seeds, win: float = TAKE_S) -> dict:
    """Interval CV the way the real figure is taken: one continuous take (the clips' drivers
    joined into one stream, one line seed), cut into 20 s windows, intervals pooled inside them.
    (Gluing independently bounded 4-10 s lines into takes, as ``ibi_cv_20s_takes`` does, caps
    the spread: each line must hold 1-5 blinks, so no stare outlasts ~2 lines.)"""
    from emoanim_server.face.drivers import Drivers, drivers_for_track
    from emoanim_server.face.eyes import EyesConfig, line_seed, plan_eyes

    ds = [drivers_for_track(tr, au.samples) for tr, au in zip(tracks, audios)]
    d = Drivers(np.concatenate([x.speech for x in ds]), np.concatenate([x.arousal for x in ds]),
                np.concatenate([x.emotion for x in ds]))
    key = np.concatenate([au.samples[:4000] for au in audios])
    cvs, rates, wr, pooled = {}, [], [], []
    for seed in seeds:
        t = np.array([b.t for b in plan_eyes(d, EyesConfig(), line_seed(seed, key)).blinks])
        ib = []
        for w0 in np.arange(0.0, d.duration - win + 1e-9, win):
            tt = t[(t >= w0) & (t < w0 + win)]
            ib += list(np.diff(tt))
            wr.append(len(tt) / win * 60)
        ib = np.array(ib)
        pooled += list(ib)
        cvs[str(seed)] = round(float(ib.std() / ib.mean()), 3)
        rates.append(len(t) / d.duration * 60)
    edges = np.geomspace(0.1, 20.0, 24)
    pooled = np.array(pooled)
    return {"ibi_hist_edges_s": [round(float(e), 3) for e in edges],
            "ibi_hist_counts": [int(c) for c in np.histogram(pooled, edges)[0]],
            "ibi_share_under_1s": round(float(np.mean(pooled < 1.0)), 3),
            "ibi_p10_p50_p90_s": [round(float(x), 2) for x in np.percentile(pooled, [10, 50, 90])],
            "seconds": round(d.duration, 1), "ibi_cv_20s_windows": cvs,
            "ibi_cv_mean": round(float(np.mean(list(cvs.values()))), 3),
            "rate_per_min": round(float(np.mean(rates)), 1),
            "window_rate_p10_p50_p90": [round(float(x), 1) for x in np.percentile(wr, [10, 50, 90])]}


def blink_live(tracks: list, audios: list, seeds, chunk_ticks: int = 2) -> dict:
    """LIVE: the causal eyes model (look-ahead 0, as face/eyes_head.EyesHeadStream runs it) fed
    each line in 20 ms chunks; per-line rate bound on lines >= 4 s, pooled rate, glued-take CV."""
    from emoanim_server.face.drivers import TICK_S, drivers_for_track
    from emoanim_server.face.eyes import EyesConfig, EyesModel, line_seed

    ds = [drivers_for_track(tr, au.samples) for tr, au in zip(tracks, audios)]
    out: dict = {}
    for seed in seeds:
        bl = []
        for d, au in zip(ds, audios):
            m = EyesModel(EyesConfig(lookahead_s=0.0), line_seed(seed, au.samples))
            for k in range(0, d.n_ticks, chunk_ticks):
                m.feed(d.speech[k:k + chunk_ticks], d.arousal[k:k + chunk_ticks], d.emotion[k:k + chunk_ticks])
                m.step(m.n_fed * TICK_S)
            m.close()
            m.step(m.n_fed * TICK_S)
            bl.append([b.t for b in m.blinks])
        rates = [len(b) / tr.duration * 60 for b, tr in zip(bl, tracks) if tr.duration >= 4]
        out[str(seed)] = {"share_in_10_30": round(float(np.mean([(10 <= x <= 30) for x in rates])), 3),
                          "below_10": int(sum(x < 10 for x in rates)), "above_30": int(sum(x > 30 for x in rates)),
                          "rate_pooled": round(sum(map(len, bl)) / sum(tr.duration for tr in tracks) * 60, 1)}
    out["share_in_10_30_mean"] = round(float(np.mean([v["share_in_10_30"] for v in out.values()])), 3)
    return out


def blink_batch(audios: list, tracks: list, seed: int, n: int = 20) -> dict:
    """The same first lines baked as ONE manifest by ``emoanim batch`` (one seed, 1 worker):
    their first blinks and the pairs within 100 ms, and whether each equals the line's single
    bake (a line's blinks depend only on its own audio + seed, so a manifest changes nothing)."""
    import tempfile

    from emoanim_server.cli import main as cli_main

    with tempfile.TemporaryDirectory() as tmp:
        man = os.path.join(tmp, "lines.jsonl")
        with open(man, "w") as f:
            for i, au in enumerate(audios[:n]):
                f.write(json.dumps({"id": f"line{i:02d}", "audio": os.path.abspath(str(au.source))}) + "\n")
        out = os.path.join(tmp, "out")
        rc = cli_main(["batch", man, "-o", out, "-j", "1", "-q", "--seed", str(seed), "--format", "json"])
        firsts, same = [], []
        for i, tr in enumerate(tracks[:n]):
            with open(os.path.join(out, f"line{i:02d}.json")) as f:
                ev = json.load(f)["events"].get("blinks", [])
            firsts.append(ev[0][0] if ev else None)
            same.append([round(e[0], 4) for e in ev] == [b[0] for b in tr.events.get("blinks", [])])
    f = np.array([x for x in firsts if x is not None])
    iu = np.triu_indices(len(f), 1)
    return {"rc": rc, "lines": n, "first_blink_s": firsts,
            "first_blink_pairs_within_100ms": int((np.abs(f[:, None] - f[None])[iu] < 0.1).sum()),
            "pairs": len(iu[0]), "lines_equal_to_single_bake": int(sum(same))}


def blink_stats(line_tracks: list, take_tracks: list, seed_check, all_tracks: list | None = None) -> dict:
    firsts = [t.events["blinks"][0][0] if t.events.get("blinks") else None for t in line_tracks]
    f = np.array([x for x in firsts if x is not None])
    d = np.abs(f[:, None] - f[None])
    iu = np.triu_indices(len(f), 1)
    close_pairs = int((d[iu] < 0.1).sum())
    # chance level: the same first-blink times shuffled independently per line (uniform over
    # each line's observed range) - what independent random lines give
    r = np.random.default_rng(0)
    sim = []
    for _ in range(200):
        g = r.uniform(0, max(f.max(), 1e-3), len(f))
        dd = np.abs(g[:, None] - g[None])[iu]
        sim.append((dd < 0.1).sum())
    rates = [len(t.events.get("blinks", [])) / t.duration * 60 for t in line_tracks if t.duration >= 4]
    short_tr = [t for t in (all_tracks or line_tracks) if t.duration < 4]
    short = sum(len(t.events.get("blinks", [])) for t in short_tr) / max(sum(t.duration for t in short_tr), 1e-9) * 60
    amps = np.array([b[3] for t in line_tracks + take_tracks for b in t.events.get("blinks", [])])
    ibis = []
    for t in take_tracks:
        bt = [b[0] for b in t.events.get("blinks", [])]
        ibis += list(np.diff(bt))
    ibis = np.array(ibis)
    total_blinks = sum(len(t.events.get("blinks", [])) for t in line_tracks)
    total_min = sum(t.duration for t in line_tracks) / 60
    return {"lines": len(line_tracks), "first_blink_s": [None if x is None else round(x, 3) for x in firsts],
            "first_blink_pairs_within_100ms": close_pairs, "pairs": len(iu[0]),
            "first_blink_pairs_within_100ms_chance": round(float(np.mean(sim)), 1),
            "max_lines_sharing_a_100ms_bin": int(np.bincount((f / 0.1).astype(int)).max()) if len(f) else 0,
            "rate_per_min_lines_ge_4s": [round(x, 1) for x in rates],
            "rate_per_min_lines_ge_4s_median": round(float(np.median(rates)), 1) if rates else None,
            "rate_per_min_lines_ge_4s_share_in_10_30": round(float(np.mean([(10 <= x <= 30) for x in rates])), 3) if rates else None,
            "rate_per_min_all_lines_pooled": round(total_blinks / total_min, 1),
            "rate_per_min_short_lines_pooled": round(float(short), 1) if short_tr else None,
            "short_lines": len(short_tr), "short_lines_without_blink": sum(not t.events.get("blinks") for t in short_tr),
            "peak_mean": round(float(amps.mean()), 3), "peak_sd": round(float(amps.std()), 3),
            "peak_p10_p90": [round(float(x), 3) for x in np.percentile(amps, [10, 90])],
            "ibi_n": int(len(ibis)), "ibi_cv_20s_takes": round(float(ibis.std() / ibis.mean()), 3) if len(ibis) > 2 else None,
            "same_line_same_seed_same_blinks": seed_check, "real": REAL_BLINK}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--emotions", action="store_true", help="also the closure under every emotion")
    ap.add_argument("--cache", default=os.path.join(os.path.expanduser("~"), ".cache", "emoanim_face_alive"))
    ap.add_argument("--out", default=os.path.join(HERE, "results", "face_alive.json"))
    ap.add_argument("--plot", action="store_true", help="write docs/face_alive_*.png")
    ap.add_argument("--batch", action="store_true", help="also bake the first 20 lines as one manifest (emoanim batch)")
    a = ap.parse_args()
    cached_recognise(a.cache)
    chk = _checker()
    items = list(csv.DictReader(open(os.path.join(DATA, "index.csv"))))[: a.limit or None]
    t0, c0, load0 = time.time(), time.process_time(), os.getloadavg()[0]
    tracks, refs, audios = [], [], []
    for it in items:
        audio = load_audio(os.path.join(DATA, it["wav_path"]))
        audios.append(audio)
        tracks.append(pipeline.bake(audio, pipeline.BakeOptions(seed=a.seed)))
        refs.append(chk.textgrid_phones(os.path.join(DATA, it["label_path"])))
    res: dict = {"corpus": f"ljspeech_mfa ({len(items)} clips, {sum(t.duration for t in tracks):.0f} s), neutral bake, seed {a.seed}",
                 "machine": f"{platform.machine()} {os.cpu_count()} cpu (shared)", "date": time.strftime("%Y-%m-%d"), "seed": a.seed,
                 "spreads": spreads(tracks)}
    again = pipeline.bake(audios[0], pipeline.BakeOptions(seed=a.seed))
    same = again.events["blinks"] == tracks[0].events["blinks"]
    res["blinks"] = blink_stats(tracks[:20], [], same, tracks)
    all_rates = [len(t.events.get("blinks", [])) / t.duration * 60 for t in tracks if t.duration >= 4]
    res["blinks"]["rate_per_min_all_lines_ge_4s_share_in_10_30"] = round(float(np.mean([(10 <= x <= 30) for x in all_rates])), 3)
    res["blinks"]["rate_per_min_all_lines_ge_4s_min_max"] = [round(min(all_rates), 1), round(max(all_rates), 1)]
    tk_blinks = []
    for c in _take_groups(tracks):
        bt, off = [], 0.0
        for t in c:
            bt += [b[0] + off for b in t.events.get("blinks", [])]
            off += t.duration
        tk_blinks += list(np.diff(bt))
    ibis = np.array(tk_blinks)
    res["blinks"]["ibi_n"] = int(len(ibis))
    res["blinks"]["ibi_cv_20s_takes"] = round(float(ibis.std() / ibis.mean()), 3)
    res["blinks"]["ibi_cv_20s_takes_seeds_0_4"] = ibi_cv_seeds(tracks, audios, range(5))
    res["blinks"]["bounds_seeds_0_99"] = blink_bounds_seeds(tracks, audios, range(100))
    res["blinks"]["continuous_take"] = blink_continuous(tracks, audios, range(20))
    res["blinks"]["live_causal_20ms_chunks"] = blink_live(tracks, audios, range(5))
    if a.batch:
        res["blinks"]["batch_manifest_20_lines"] = blink_batch(audios, tracks, a.seed)
    cl, op = blink_kinematics(tracks, audios, a.seed)
    res["blinks"]["close_ms"], res["blinks"]["open_ms"] = round(cl, 1), round(op, 1)
    res["contacts"] = {"neutral": _score(chk, tracks, refs)}
    if a.emotions:
        from emoanim_server.emotion import CATEGORIES

        for c in CATEGORIES[1:]:
            tr = [pipeline.bake(au, pipeline.BakeOptions(seed=a.seed, extra={"emotion": f"{c}:1"})) for au in audios]
            res["contacts"][c] = _score(chk, tr, refs)
        tr = [pipeline.bake(au, pipeline.BakeOptions(seed=a.seed, extra={"emotion": "auto"})) for au in audios]
        res["contacts"]["auto"] = _score(chk, tr, refs)
    res["seconds"] = round(time.time() - t0, 1)
    res["cpu_s"] = round(time.process_time() - c0, 1)
    res["loadavg_start_end"] = [round(load0, 2), round(os.getloadavg()[0], 2)]
    save(res, a.out)
    if a.plot:
        from face_alive_plots import plot_all

        plot_all(tracks, res, os.path.join(ROOT, "docs"))


def _take_groups(tracks: list) -> list[list]:
    out, cur, dur = [], [], 0.0
    for t in tracks:
        cur.append(t)
        dur += t.duration
        if dur >= TAKE_S:
            out.append(cur)
            cur, dur = [], 0.0
    return out


def _score(chk, tracks: list, refs: list) -> dict:
    agg = {k: [] for k in KEYS}
    for tr, ref in zip(tracks, refs):
        grid = np.arange(0, ref[-1][1], 1 / chk.GRID)
        gap = lip_gap(tr.curves)
        rnd = np.maximum(tr.curve("mouthPucker"), tr.curve("mouthFunnel"))
        fv = tr.curve("mouthRollLower")
        s = chk.score(grid, *(np.interp(grid, tr.times, x) for x in (gap, rnd, fv)), ref)
        for k in KEYS:
            agg[k] += s[k]
    return {k: round(float(np.mean(v)), 4) for k, v in agg.items()}


if __name__ == "__main__":
    main()

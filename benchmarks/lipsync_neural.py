#!/usr/bin/env python3
"""The learned lip-sync engine against the shared judge's definitions (lipsync_check.py).

Sections (each writes into one result file with machine + date):

  lj       the judge's real English (ljspeech_mfa, never trained on): LIVE-equivalent streaming
           (NeuralLipsync fed 20 ms chunks, 60 fps) and the whole-input bake path; 1-LSB dither
           (max curve difference); silence / music / noise -> rest
  espeak   espeak-ng speech with exact phone timing in >= 10 languages, voices held out of
           training (and three languages held out entirely)
  sppas    real French / Catalan speech with SPPAS automatic phone alignments (GPL-3 samples of
           the SPPAS distribution; evaluation only, never trained on): --sppas DIR (a checkout)
  cost     CPU seconds per audio second: the ONNX model alone and the whole engine (1 thread)
  rest     real recordings that are not speech (music of several kinds, a song, street noise,
           a bird, a whale; public domain / CC BY, evaluation only) plus the synthetic chord: max
           and p95 of the mouth curves per clip, with and without the learned speech gate
           (neural.Decoding.learned_gate); real speech with and without it (LibriSpeech clips,
           LJ mixed with the real street noise at 10 dB SNR). Session 9's two earlier gate candidates
           (a spectral-hold music gate, a logistic speech gate; not shipped, removed) were measured
           here: their figures are in results/lipsync_neural_music_gate.md / _speech_gate.md (git
           log for the code)
  restdev  the same on real CC0 music that is NOT reported (Sonic Pi's sample library: loops, beats,
           guitar, piano, pads, bass; each looped to 8 s): the place to choose a music gate or
           rest-training settings on, so that the rest section stays a report set
  heldout  real speech never trained on, 5 languages (FLEURS + VCTK, CC BY 4.0; Kathleen CC0) with
           forced-aligned transcripts (tools/artic_heldout.py builds it); test half = the figure,
           dev half = where neural.DECODING was chosen (tools/artic_decode.py)

Usage: python benchmarks/lipsync_neural.py [--sections lj,espeak,sppas,cost,rest] [--sppas DIR]
       [--learned-gate | --no-learned-gate]  (every section with the learned speech gate of
       neural.Decoding on / off; on is the default since session 9)
"""
from __future__ import annotations

import argparse
import csv
import dataclasses
import datetime
import os
import platform
import re
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
#: ../shared next to the checkout (/work/main) or two levels up (a worktree in /work/wt/NAME)
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
              ROOT.parent / "shared")
sys.path.insert(0, str(SHARED / "tools"))
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from lipsync_check import GRID, score, textgrid_phones  # noqa: E402

from _results import judge_signals, save  # noqa: E402
from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.face.lipsync import neural  # noqa: E402
from emoanim_server.track import ARKIT_INDEX as AI  # noqa: E402

KEYS = ("closure", "closure_m", "open", "round", "fv")


def score_curves(curves, fps, phones, agg):
    t, gap, rnd, fv = judge_signals(curves, fps)
    grid = np.arange(0, phones[-1][1], 1 / GRID)
    s = score(grid, *(np.interp(grid, t, x) for x in (gap, rnd, fv)), phones)
    for k in KEYS:
        agg.setdefault(k, []).extend(s[k])


#: vowels the lips must not shut in / must not round (ARPAbet, as the phone sets of all labels)
VOWELS = {"aa", "ae", "ah", "ao", "aw", "ay", "eh", "er", "ey", "ih", "iy", "ow", "oy", "uh", "uw"}
UNROUNDED = {"aa", "ae", "ah", "ay", "eh", "ey", "ih", "iy"}
FALSE_KEYS = ("false_closure", "false_round", "false_fv", "false_closure_cons")
#: consonants the lips do not shut on (the tongue or the glottis makes them)
NON_LABIAL = {"t", "d", "k", "g", "ch", "jh", "s", "z", "sh", "zh", "th", "dh", "n", "ng", "l", "r", "y", "hh"}


def false_rates(curves, fps, phones, agg):
    """The errors the judge does not count: lips shut in the middle half of a non-labial
    consonant >= 40 ms (t, k, s, n, ...: the tongue makes them), and lips shut (gap <= 0.06) in the middle half of a
    vowel >= 60 ms, a lower-lip tuck >= 0.2 there, and rounding >= 0.3 in the middle half of an
    unrounded vowel >= 60 ms."""
    from lipsync_check import CLOSED, FV_T, ROUND_T

    t, gap, rnd, fv = judge_signals(curves, fps)
    grid = np.arange(0, phones[-1][1], 1 / GRID)
    gap, rnd, fv = np.interp(grid, t, gap), np.interp(grid, t, rnd), np.interp(grid, t, fv)
    for a, b, p in phones:
        if p in NON_LABIAL and b - a >= 0.04:
            m = (grid >= a + 0.25 * (b - a)) & (grid <= b - 0.25 * (b - a))
            if m.any():
                agg.setdefault("false_closure_cons", []).append(bool(gap[m].min() <= CLOSED))
        if b - a < 0.06 or p not in VOWELS:
            continue
        m = (grid >= a + 0.25 * (b - a)) & (grid <= b - 0.25 * (b - a))
        if not m.any():
            continue
        agg.setdefault("false_closure", []).append(bool(gap[m].min() <= CLOSED))
        agg.setdefault("false_fv", []).append(bool(fv[m].max() >= FV_T))
        if p in UNROUNDED:
            agg.setdefault("false_round", []).append(bool(rnd[m].max() >= ROUND_T))


def summarise(agg) -> dict:
    out = {}
    for k in KEYS + FALSE_KEYS:
        if k in FALSE_KEYS and k not in agg:
            continue
        v = agg.get(k, [])
        out[k] = round(float(np.mean(v)), 3) if v else None
        out[k + "_n"] = len(v)
    return out


def stream(x: np.ndarray, fps: int, chunk: int) -> np.ndarray:
    s = neural.NeuralLipsync(fps)
    parts = [s.feed(x[i:i + chunk]) for i in range(0, len(x), chunk)] + [s.flush()]
    return np.concatenate(parts)


MOUTH = [AI[n] for n in ("jawOpen", "mouthClose", "mouthFunnel", "mouthPucker", "mouthRollLower",
                         "mouthLowerDownLeft", "mouthUpperUpLeft")]


def section_lj(a) -> dict:
    data = SHARED / "data" / "speech" / "ljspeech_mfa"
    items = list(csv.DictReader(open(data / "index.csv")))[: a.limit or None]
    live, whole, raw = {}, {}, {}
    dither = []
    rng = np.random.default_rng(0)
    more_rngs = {int(sd): np.random.default_rng(int(sd)) for sd in a.dither_seeds.split(",") if sd and int(sd) != 0}
    more: dict = {sd: [] for sd in more_rngs}
    for it in items:
        x = load_audio(str(data / it["wav_path"])).samples.astype(np.float32)
        phones = textgrid_phones(str(data / it["label_path"]))
        y_live = stream(x, 60, 320)
        score_curves(y_live, 60, phones, live)
        if a.plot and it is items[0]:
            from lipsync_real import plot

            from emoanim_server.track import AnimationTrack
            plot((it["utt_id"] + " (learned engine, LIVE 20 ms chunks)", AnimationTrack(fps=60, curves=y_live),
                  phones), a.plot)
        y = neural.neural_curves(x, 60)
        score_curves(y, 60, phones, whole)
        false_rates(y, 60, phones, whole)
        y_raw = neural.neural_curves(x, 60, decoding=neural.RAW)
        score_curves(y_raw, 60, phones, raw)
        false_rates(y_raw, 60, phones, raw)
        d = x + rng.choice([-1.0, 1.0], len(x)).astype(np.float32) / 32768.0
        dither.append(float(np.abs(neural.neural_curves(d, 60) - y).max()))
        for sd, r in more_rngs.items():  # the same bar with other dither draws (session 7: one seed missed a tail)
            d = x + r.choice([-1.0, 1.0], len(x)).astype(np.float32) / 32768.0
            more[sd].append(float(np.abs(neural.neural_curves(d, 60) - y).max()))
    rest = {}
    n = 4 * 16000
    t = np.arange(n) / 16000
    for kind in ("silence", "noise", "music"):
        if kind == "silence":
            x = np.zeros(n, np.float32)
        elif kind == "noise":
            x = (0.01 * rng.standard_normal(n)).astype(np.float32)
        else:  # a pulsing A-major-ish chord with harmonics (not in the training set)
            x = sum(0.1 / h * np.sin(2 * np.pi * f * h * t) * (np.sin(2 * np.pi * 2 * t) > 0)
                    for f in (220, 277, 330, 440) for h in (1, 2, 3)).astype(np.float32)
        rest[kind] = round(float(neural.neural_curves(x, 60)[:, MOUTH].max()), 3)
    return {"utterances": len(items), "live_20ms_chunks_60fps": summarise(live),
            "whole_input_60fps": summarise(whole), "whole_input_60fps_v1.1_decoding": summarise(raw),
            "decoding": dataclasses.asdict(neural.DECODING), "dither_1lsb_max_curve_diff": round(max(dither), 4),
            "rest_max_mouth_curve": rest,
            **({"dither_1lsb_max_by_seed": {"0": round(max(dither), 4), **{str(k): round(max(v), 4) for k, v in more.items()}}}
               if more else {})}


#: real non-speech recordings for the rest section: (name, kind, mirror git dir, path, licence, source).
#: Evaluation only (never trained on, nothing of them ships). librosa's example data
#: (github:librosa/data @ 450cdd8a) states a licence per file; the non-commercial ones (CC BY-NC:
#: the waltz, the ragtime piano, the drum-and-bass excerpt, the dog) are left out. The Berlin
#: Noise dataset (github:thomasrosen/berlin_noise @ b3caa8c2, CC BY 4.0, Thomas Rosen) has only a
#: few of its recordings as plain files in the mirror; the others are pointers.
LIBROSA = "/work/.mirror/librosa+data/repo"
BERLIN = "/work/.mirror/thomasrosen+berlin_noise/repo"
REST_CLIPS = (
    ("brahms_hungarian_dance_5", "music: orchestra (strings)", LIBROSA,
     "audio/Hungarian_Dance_number_5_-_Allegro_in_F_sharp_minor_(string_orchestra).ogg",
     "public domain (US Army Strings, via Musopen)", "librosa/data"),
    ("sugar_plum_fairy", "music: orchestral (Kevin MacLeod arrangement)", LIBROSA,
     "audio/Kevin_MacLeod_-_P_I_Tchaikovsky_Dance_of_the_Sugar_Plum_Fairy.ogg", "CC BY 3.0 (Kevin MacLeod)", "librosa/data"),
    ("vibe_ace", "music: jazz with drums (Kevin MacLeod)", LIBROSA, "audio/Kevin_MacLeod_-_Vibe_Ace.ogg",
     "CC BY 3.0 (Kevin MacLeod)", "librosa/data"),
    ("solo_trumpet", "music: solo instrument (trumpet)", LIBROSA, "audio/sorohanro_-_solo-trumpet-06.ogg",
     "CC BY 3.0 (Mihai Sorohan, freesound 77711)", "librosa/data"),
    ("lets_go_fishin", "song: voice + band (Karissa Hobbs)", LIBROSA, "audio/Karissa_Hobbs_-_Lets_Go_Fishin.ogg",
     "CC BY 3.0 (Karissa Hobbs, Free Music Archive)", "librosa/data"),
    ("robin", "non-speech: a bird", LIBROSA, "audio/456440__inspectorj__bird-whistling-robin-single-13.ogg",
     "CC BY 3.0 (InspectorJ, freesound 456440)", "librosa/data"),
    ("humpback_whale", "non-speech: whale song", LIBROSA, "audio/glacier-bay-humpback.ogg",
     "public domain (US National Park Service)", "librosa/data"),
    ("berlin_fireworks", "noise: street, fireworks", BERLIN, "audio/35EF0BF2-F402-4DBA-88E3-D107C060E2F4.wav",
     "CC BY 4.0 (Thomas Rosen, Berlin Noise)", "thomasrosen/berlin_noise"),
    ("berlin_market_bells", "noise: market packing up, church bells", BERLIN,
     "audio/64710754-D31E-453D-9BDA-F66386AA6731.wav", "CC BY 4.0 (Thomas Rosen, Berlin Noise)", "thomasrosen/berlin_noise"),
    ("berlin_wind_street", "noise: wind, passers-by, cars, crows", BERLIN,
     "audio/A7B4879B-6791-4E01-B612-F8F60193BC66.wav", "CC BY 4.0 (Thomas Rosen, Berlin Noise)", "thomasrosen/berlin_noise"),
    ("berlin_ice_rink", "noise: children shouting on the ice", BERLIN,
     "audio/5B6DDD39-911B-4EDB-A227-46887E497740.wav", "CC BY 4.0 (Thomas Rosen, Berlin Noise)", "thomasrosen/berlin_noise"),
)
#: real speech for the rest section's "the mouth still moves" check (LibriSpeech, CC BY 4.0)
REST_SPEECH = ("audio/198-209-0000.ogg", "audio/3436-172162-0000.ogg", "audio/5703-47212-0000.ogg")
#: the Berlin clips mixed under LJ at 10 dB SNR (street noise: no music, no intelligible speech)
NOISE_FOR_LJ = ("berlin_fireworks", "berlin_market_bells", "berlin_wind_street")


def _git_audio(gitdir: str, path: str) -> np.ndarray | None:
    import subprocess
    import tempfile

    r = subprocess.run(["git", "--git-dir", gitdir, "show", f"HEAD:{path}"], capture_output=True)
    if r.returncode or not r.stdout:
        return None
    with tempfile.NamedTemporaryFile(suffix=Path(path).suffix) as f:
        f.write(r.stdout)
        f.flush()
        return load_audio(f.name).samples.astype(np.float32)


def _mouth_stats(curves: np.ndarray) -> dict:
    m = curves[:, MOUTH].max(axis=1)
    late = m[60:] if len(m) > 60 else m[:0]
    return {"max": round(float(m.max()), 3), "p95": round(float(np.percentile(m, 95)), 3),
            "max_after_1s": round(float(late.max()), 3) if len(late) else None}


def section_rest(a) -> dict:
    """Mouth on real non-speech: the decoding without the learned speech gate ("shipped": the
    name the session-9 results use for it) vs with it."""
    shipped = dataclasses.replace(neural.DECODING, learned_gate=False)
    decs = (("shipped", shipped), ("learned_gate", dataclasses.replace(shipped, learned_gate=True)))
    out: dict = {"clips": {}, "speech": {}, "decodings": {k: dataclasses.asdict(d) for k, d in decs}}
    rng = np.random.default_rng(0)
    n = 4 * 16000
    t = np.arange(n) / 16000
    chord = sum(0.1 / h * np.sin(2 * np.pi * f * h * t) * (np.sin(2 * np.pi * 2 * t) > 0)
                for f in (220, 277, 330, 440) for h in (1, 2, 3)).astype(np.float32)
    sig = {"synthetic_chord": ("music: synthetic pulsing chord (the lj section's)", chord, "made in code"),
           "white_noise": ("noise: white, 0.01 rms (the lj section's)", (0.01 * rng.standard_normal(n)).astype(np.float32),
                           "made in code")}
    for name, kind, git, path, lic, repo in REST_CLIPS:
        x = _git_audio(git, path)
        if x is None:
            out["clips"][name] = {"kind": kind, "missing": f"github:{repo} {path}"}
            continue
        sig[name] = (kind, x, f"{lic}; github:{repo} {path}")
    noise = {}
    for name, (kind, x, src) in sig.items():
        row = {"kind": kind, "source": src, "seconds": round(len(x) / 16000, 1)}
        for label, d in decs:
            row[label] = _mouth_stats(neural.neural_curves(x, 60, decoding=d))
        out["clips"][name] = row
        if name in NOISE_FOR_LJ:
            noise[name] = x
        print(name, row, flush=True)
    for path in REST_SPEECH:
        x = _git_audio(LIBROSA, path)
        if x is None:
            continue
        row = {label: _mouth_stats(neural.neural_curves(x, 60, decoding=d)) for label, d in decs}
        out["speech"]["librispeech:" + Path(path).stem] = row
        print(path, row, flush=True)
    if noise:  # LJ in real street noise, 10 dB SNR, judge scores with and without the gate
        data = SHARED / "data" / "speech" / "ljspeech_mfa"
        items = list(csv.DictReader(open(data / "index.csv")))[: a.limit or None]
        aggs: dict = {label: {} for label, _ in decs}
        kept = []
        names = sorted(noise)
        for i, it in enumerate(items):
            x = load_audio(str(data / it["wav_path"])).samples.astype(np.float32)
            b = noise[names[i % len(names)]]
            b = np.resize(b, len(x) + 16000)[int(rng.integers(0, 16000)):][: len(x)]
            xb = (x + b * np.sqrt(np.mean(x ** 2) / (np.mean(b ** 2) + 1e-12) / 10.0)).astype(np.float32)
            phones = textgrid_phones(str(data / it["label_path"]))
            ys = {}
            for label, d in decs:
                ys[label] = neural.neural_curves(xb, 60, decoding=d)
                score_curves(ys[label], 60, phones, aggs[label])
            kept.append(float(ys[decs[-1][0]][:, MOUTH].max(axis=1).sum() / max(1e-9, ys["shipped"][:, MOUTH].max(axis=1).sum())))
        out["lj_in_street_noise_10db"] = {label: summarise(v) for label, v in aggs.items()}
        out["lj_in_street_noise_10db"]["mouth_kept_by_gate_mean"] = round(float(np.mean(kept)), 4)
        out["lj_in_street_noise_10db"]["noises"] = names
        print("lj in noise", out["lj_in_street_noise_10db"], flush=True)
    return out


#: the dev set for music (restdev): Sonic Pi's bundled samples, CC0 (freesound.org uploads and
#: Arovane's donated beats, etc/samples/README.md), github:sonic-pi-net/sonic-pi @ c0002065.
#: Commercially usable, so they could also be training data; never mixed into the rest section.
SONICPI = "/work/.mirror/sonic-pi-net+sonic-pi/repo"
RESTDEV_CLIPS = ("arovane_beat_a", "arovane_beat_b", "arovane_beat_c", "arovane_beat_d", "arovane_beat_e",
                 "loop_amen_full", "loop_compus", "loop_garzul", "loop_mika", "loop_safari", "loop_tabla",
                 "loop_drone_g_97", "loop_weirdo", "guit_em9", "guit_e_fifths", "guit_e_slide", "guit_harmonics",
                 "ambi_piano", "ambi_drone", "ambi_glass_hum", "ambi_haunted_hum", "ambi_lunar_land",
                 "bass_thick_c", "bass_woodsy_c", "perc_bell", "loop_3d_printer", "ambi_sauna")


def section_restdev(a) -> dict:
    """Mouth on the CC0 dev music (looped to 8 s, -6 dB peak), without vs with the learned gate."""
    off = dataclasses.replace(neural.DECODING, learned_gate=False)
    decs = (("shipped", off), ("learned_gate", dataclasses.replace(off, learned_gate=True)))
    out: dict = {"source": "github:sonic-pi-net/sonic-pi etc/samples/*.flac, CC0", "clips": {}}
    for name in RESTDEV_CLIPS:
        x = _git_audio(SONICPI, f"etc/samples/{name}.flac")
        if x is None:
            out["clips"][name] = {"missing": True}
            continue
        x = (np.resize(x, 8 * 16000) / (np.abs(x).max() + 1e-9) * 0.5).astype(np.float32)
        out["clips"][name] = {label: _mouth_stats(neural.neural_curves(x, 60, decoding=d)) for label, d in decs}
    got = [v for v in out["clips"].values() if "shipped" in v]
    for label, _ in decs:
        out[f"median_p95_{label}"] = round(float(np.median([v[label]["p95"] for v in got])), 3) if got else None
        out[f"median_max_{label}"] = round(float(np.median([v[label]["max"] for v in got])), 3) if got else None
    return out


def section_espeak(a) -> dict:
    import artic_data as D
    words = D.word_lists(Path(a.espeak_src))
    rng = np.random.default_rng(123)
    out = {}
    langs = {**{k: v for k, v in D.TRAIN_LANGS.items()}, **D.VAL_LANGS}
    for lang, wl in langs.items():
        agg: dict = {}
        for v in D.VAL_VOICES:
            for _ in range(a.per_voice):
                c = D.espeak_clip(rng, lang, v, words[wl], 1.0)
                ph = [(p.start, p.end, p.phone) for p in c.phones]
                score_curves(neural.neural_curves(c.x, 60), 60, ph, agg)
        r = summarise(agg)
        r["held_out"] = "language+voices" if lang in D.VAL_LANGS else "voices"
        out[lang] = r
        print(lang, r, flush=True)
    return out


#: SPPAS X-SAMPA labels -> IPA (for ipa.py)
SAMPA = {"E": "ɛ", "O": "ɔ", "2": "ø", "9": "œ", "@": "ə", "S": "ʃ", "Z": "ʒ", "J": "ɲ", "N": "ŋ",
         "R": "ʁ", "H": "ɥ", "4": "ɾ", "L": "ʎ", "B": "β", "D": "ð", "G": "ɣ", "T": "θ", "rr": "r",
         "a~": "ɑ̃", "o~": "ɔ̃", "O~": "ɔ̃", "A/": "a", "O/": "o", "E/": "e", "U~/": "ɛ̃", "e~": "ɛ̃", "U~": "ɛ̃", "9~": "œ̃", "A": "ɑ", "I": "ɪ", "U": "ʊ", "V": "ʌ",
         "Q": "ɒ", "{": "æ", "3": "ɜ", "tS": "tʃ", "dZ": "dʒ", "ts": "ts", "x": "x"}
SIL = {"#", "+", "*", "@@", "dummy", "gb", "sil", "", "fp", "lg"}


def _xra_phones(path: Path) -> list[tuple[float, float, str]]:
    from emoanim_server.face.lipsync.ipa import ipa_to_phones

    txt = path.read_text("utf-8")
    tier = re.search(r'tiername="PhonAlign">(.*?)</Tier>', txt, re.S).group(1)
    out = []
    for b, e, tag in re.findall(r'<Begin midpoint="([\d.]+)".*?<End midpoint="([\d.]+)".*?<Tag>([^<]*)</Tag>',
                                tier, re.S):
        b, e = float(b), float(e)
        tag = tag.strip()
        if tag in SIL:
            out.append((b, e, "sil"))
            continue
        ph = ipa_to_phones(SAMPA.get(tag, tag)) or ["sil"]
        d = (e - b) / len(ph)
        out += [(b + i * d, b + (i + 1) * d, p) for i, p in enumerate(ph)]
    return out


def section_sppas(a) -> dict:
    import subprocess
    import tempfile

    src = Path(a.sppas)
    git = ["git", "--git-dir", str(src)]
    names = subprocess.run(git + ["ls-tree", "-r", "--name-only", "HEAD"], capture_output=True, text=True,
                           check=True).stdout.splitlines()
    out = {}
    tmp = Path(tempfile.mkdtemp())
    for lang in ("fra", "cat"):
        agg: dict = {}
        n = 0
        for pa in [x for x in names if x.startswith(f"samples/annotation-results/samples-{lang}/")
                   and x.endswith("-palign.xra")]:
            stem = pa.split("/")[-1][: -len("-palign.xra")]
            wav = f"samples/samples-{lang}/{stem}.wav"
            if wav not in names:
                continue
            (tmp / "a.wav").write_bytes(subprocess.run(git + ["show", f"HEAD:{wav}"], capture_output=True,
                                                       check=True).stdout)
            (tmp / "a.xra").write_bytes(subprocess.run(git + ["show", f"HEAD:{pa}"], capture_output=True,
                                                       check=True).stdout)
            try:
                x = load_audio(str(tmp / "a.wav")).samples.astype(np.float32)
            except Exception as e:  # noqa: BLE001 - a corrupt sample file is reported, not fatal
                print("skip", wav, e)
                continue
            phones = _xra_phones(tmp / "a.xra")
            score_curves(stream(x, 60, 320), 60, phones, agg)
            n += 1
        out[lang] = {"utterances": n, **summarise(agg)}
        print(lang, out[lang], flush=True)
    return out


def section_heldout(a) -> dict:
    """Real speech never trained on, in 5 languages (tools/artic_heldout.py: FLEURS en/de/fr/es/pt
    and VCTK, CC BY 4.0; Kathleen's held-out lines, CC0), labels = the transcript's forced
    alignment. The decoding was chosen on the dev half: the test half is the figure to quote."""
    import artic_decode as AD
    import artic_heldout as H

    items = [it for it in H.read() if it["transcript_used"]]
    out: dict = {}
    for half in ("test", "dev"):
        for label, dec in (("shipped", neural.DECODING), ("v1.1_decoding", neural.RAW)):
            groups: dict = {}
            for it in items:
                if it["half"] != half:
                    continue
                x = AD.audio(it)
                y = neural.neural_curves(x, 60, decoding=dec)
                for g in ("all", it["set"] + ":" + it["language"]):
                    agg = groups.setdefault(g, {})
                    score_curves(y, 60, it["phones"], agg)
                    false_rates(y, 60, it["phones"], agg)
                    agg.setdefault("_lines", []).append(1)
            out[f"{half}_{label}"] = {g: {"lines": len(v.pop("_lines")), **summarise(v)} for g, v in sorted(groups.items())}
            print(half, label, out[f"{half}_{label}"]["all"], flush=True)
    return out


def section_fused(a) -> dict:
    """English bake without transcript: the phonetic path alone vs the phonetic path + learned
    contacts (neural.fused_curves) on the judge's LJ files."""
    from emoanim_server.audio import frame_db
    from emoanim_server.face.lipsync import get_recognizer
    from emoanim_server.face.lipsync.animate import articulate, to_arkit
    from emoanim_server.track import n_frames_for

    data = SHARED / "data" / "speech" / "ljspeech_mfa"
    items = list(csv.DictReader(open(data / "index.csv")))[: a.limit or None]
    import json

    from emoanim_server.face.lipsync.phones import Phone

    rec = get_recognizer()
    cache_p = ROOT / "build" / "artic" / "lj_recognised_phones.json"  # the phonetic path's own output
    cache = json.loads(cache_p.read_text()) if cache_p.is_file() else {}
    phon, fused = {}, {}
    for it in items:
        x = load_audio(str(data / it["wav_path"])).samples.astype(np.float32)
        ref = textgrid_phones(str(data / it["label_path"]))
        if it["utt_id"] not in cache:
            cache[it["utt_id"]] = [(p.start, p.end, p.phone, p.word) for p in rec.phones(x)]
        ph = [Phone(*p) for p in cache[it["utt_id"]]]
        times = np.arange(n_frames_for(len(x) / 16000, 60)) / 60
        db = frame_db(x, 0.01)
        art = articulate(ph, times, 60, db, np.arange(len(db)) * 0.01)
        score_curves(to_arkit(art), 60, ref, phon)
        score_curves(neural.fused_curves(art, x, 60), 60, ref, fused)
    cache_p.parent.mkdir(parents=True, exist_ok=True)
    cache_p.write_text(json.dumps(cache))
    return {"utterances": len(items), "phonetic": summarise(phon), "phonetic+learned_contacts": summarise(fused)}


def section_cost(a) -> dict:
    import onnxruntime as ort

    x = load_audio(str(ROOT / "tests" / "data" / "real_en.wav")).samples.astype(np.float32)
    dur = len(x) / 16000
    reps = 5
    so = ort.SessionOptions()
    so.intra_op_num_threads = so.inter_op_num_threads = 1
    path, _ = neural._model()
    sess = ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])
    st = {i.name: np.zeros([d if isinstance(d, int) else 1 for d in i.shape], np.float32)
          for i in sess.get_inputs() if i.name != "mel"}
    mel = neural.MelStream()
    m = np.concatenate([mel.feed(x), mel.flush()])[None]
    res = {}
    for label, ch in (("model_whole", m.shape[1]), ("model_40ms_chunks", 4), ("model_20ms_chunks", 2)):
        t0 = time.process_time()
        for _ in range(reps):
            s = dict(st)
            for i in range(0, m.shape[1], ch):
                o = sess.run(None, {"mel": m[:, i:i + ch], **s})
                s = {"c1": o[1], "c2": o[2], "h": o[3]}
        res[label + "_cpu_s_per_audio_s"] = round((time.process_time() - t0) / reps / dur, 5)
    # LIVE's way: N sessions' 20 ms chunks in one run() (neural.run_batch), model CPU per stream
    n_streams = 16
    t0 = time.process_time()
    streams = [neural.NeuralLipsync(60) for _ in range(n_streams)]
    for i in range(0, len(x), 320):
        for k, st_ in enumerate(streams):
            st_.begin(x[i:i + 320] * (0.5 + 0.03 * k))
        neural.run_batch(streams)
        for st_ in streams:
            st_.end()
    res[f"engine_live_20ms_batched{n_streams}_cpu_s_per_audio_s_per_stream"] = round(
        (time.process_time() - t0) / n_streams / dur, 5)
    feeds = [{"mel": m[:, i:i + 2]} for i in range(0, m.shape[1] - 1, 2)]
    stb = {k: np.concatenate([v] * n_streams, axis=1 if k == "h" else 0) for k, v in st.items()}
    t0 = time.process_time()
    s = dict(stb)
    for f in feeds:
        o = sess.run(None, {"mel": np.repeat(f["mel"], n_streams, axis=0), **s})
        s = {"c1": o[1], "c2": o[2], "h": o[3]}
    res[f"model_20ms_chunks_batched{n_streams}_cpu_s_per_audio_s_per_stream"] = round(
        (time.process_time() - t0) / n_streams / dur, 5)
    t0 = time.process_time()
    for _ in range(reps):
        neural.neural_curves(x, 60)
    res["engine_whole_cpu_s_per_audio_s"] = round((time.process_time() - t0) / reps / dur, 5)
    t0 = time.process_time()
    for _ in range(reps):
        stream(x, 60, 320)
    res["engine_live_20ms_cpu_s_per_audio_s"] = round((time.process_time() - t0) / reps / dur, 5)
    res["model_bytes"] = os.path.getsize(path)
    # issue 10: the learned speech gate's cost, interleaved in-process A/B (the decoding without
    # it vs with it), LIVE's batched path (16 streams, 20 ms) and the whole-input bake path
    off = dataclasses.replace(neural.DECODING, learned_gate=False)
    decs = {"shipped": off, "learned_gate": dataclasses.replace(off, learned_gate=True)}
    ab: dict = {k: {"live_batched16": [], "whole": []} for k in decs}
    for _ in range(reps):
        for label, dec in decs.items():
            t0 = time.process_time()
            streams = [neural.NeuralLipsync(60, dec) for _ in range(n_streams)]
            for i in range(0, len(x), 320):
                for k, st_ in enumerate(streams):
                    st_.begin(x[i:i + 320] * (0.5 + 0.03 * k))
                neural.run_batch(streams)
                for st_ in streams:
                    st_.end()
            ab[label]["live_batched16"].append((time.process_time() - t0) / n_streams / dur)
            t0 = time.process_time()
            neural.neural_curves(x, 60, decoding=dec)
            ab[label]["whole"].append((time.process_time() - t0) / dur)
    res["gate_ab_cpu_s_per_audio_s"] = {k: {m: round(float(np.median(v)), 5) for m, v in d.items()} for k, d in ab.items()}
    res["learned_gate_ab_ratio"] = {m: round(float(np.median(ab["learned_gate"][m]) / np.median(ab["shipped"][m])), 3)
                                    for m in ("live_batched16", "whole")}
    return res


def _cpu() -> str:
    """The CPU as lscpu names it (model name, family, model): figures are only comparable on one."""
    try:
        info = dict(ln.split(":", 1) for ln in open("/proc/cpuinfo").read().split("\n\n")[0].splitlines() if ":" in ln)
        info = {k.strip(): v.strip() for k, v in info.items()}
        return f"{info.get('model name', '?')} family {info.get('cpu family', '?')} model {info.get('model', '?')}"
    except OSError:
        return platform.processor() or "cpu unknown"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sections", default="lj,espeak,cost")
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--plot", default="", help="PNG of the first LJ line's curves vs its phones")
    ap.add_argument("--per-voice", type=int, default=2)
    ap.add_argument("--dither-seeds", default="0", help="lj: the 1-LSB dither bar with these rng seeds (0 = the "
                    "figure dither_1lsb_max_curve_diff; more: dither_1lsb_max_by_seed), e.g. 0,1,2")
    ap.add_argument("--espeak-src", default="/work/.mirror/espeak-ng+espeak-ng/repo")
    ap.add_argument("--sppas", default="/work/.mirror/mirfan899+sppas/repo")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "lipsync_neural.json"))
    ap.add_argument("--learned-gate", action="store_true", help="the same with neural.Decoding.learned_gate "
                    "(issue 10's third candidate, models/speech_gate_net.onnx); rest: shipped vs it only")
    ap.add_argument("--no-learned-gate", action="store_true", help="every section with the learned gate off "
                    "(neural.DECODING before session 9's default; the A/B partner of --learned-gate)")
    a = ap.parse_args()
    if a.no_learned_gate:
        neural.DECODING = dataclasses.replace(neural.DECODING, learned_gate=False)
    if a.learned_gate:
        neural.DECODING = dataclasses.replace(neural.DECODING, learned_gate=True)
    out_p = Path(a.out)
    import json

    res = json.loads(out_p.read_text()) if out_p.is_file() else {}
    res.update({"machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu, loaded shared host, {_cpu()}",
                "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
                "model": neural.model_info(), "loadavg_at_start": [round(v, 1) for v in os.getloadavg()],
                "learned_gate": neural.DECODING.learned_gate})
    fns = {"rest": section_rest, "restdev": section_restdev, "fused": section_fused, "lj": section_lj, "heldout": section_heldout, "espeak": section_espeak, "sppas": section_sppas, "cost": section_cost}
    for s in a.sections.split(","):
        t0 = time.time()
        res[s] = fns[s](a)
        res[s + "_wall_s"] = round(time.time() - t0, 1)
        print(s, res[s], flush=True)
    save(res, str(out_p), echo=False)


if __name__ == "__main__":
    main()

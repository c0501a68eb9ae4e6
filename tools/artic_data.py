"""Training data for the learned articulation model: audio -> (log-mel, teacher articulators).

Teacher = the phonetic path's own coarticulation (:func:`animate.articulate`, contacts
enforced) on phones whose timing we trust:

* real English speech with transcripts (``../shared/data/speech``, never ``ljspeech_mfa``: that
  is the judge's set) -> PocketSphinx forced alignment of the transcript (the bake's
  transcript path, 99.7 % closure on the judge) -> phones;
* espeak-ng speech in many languages -> exact phone timing from the library's phoneme events
  -> IPA -> phones through :mod:`emoanim_server.face.lipsync.ipa` (the table the transcript /
  G2P path uses);
* pure noise / synthetic music -> the resting mouth.

Every clip is augmented for real rooms and voices: vocal-tract length / pitch (resampling),
espeak voice variants, rate, pitch range, reverb (synthetic RIRs), noise (white/pink/brown,
babble from other clips), band limits (telephone, low-pass), mu-law codec, gain from -35 dB to
clipping, 1-LSB dither. Targets always come from the clean clip.

Held out: espeak voices in :data:`VAL_VOICES`, languages :data:`VAL_LANGS`, and the last
:data:`REAL_VAL` real English lines.
"""
from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import butter, fftconvolve, resample_poly, sosfilt

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from emoanim_server.audio import frame_db, load_audio  # noqa: E402
from emoanim_server.face.lipsync.animate import _contact_weight, articulate  # noqa: E402
from emoanim_server.face.lipsync.ipa import ipa_to_phones  # noqa: E402
from emoanim_server.face.lipsync.neural import HOP, WIN, MelStream  # noqa: E402
from emoanim_server.face.lipsync.phones import Phone  # noqa: E402
from emoanim_server.face.lipsync.visemes import BILABIALS, LABIODENTALS  # noqa: E402

SR = 16000
SPEECH = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
              ROOT.parent / "shared") / "data" / "speech"

#: espeak-ng voice -> the dictsource word list its text is drawn from
TRAIN_LANGS = {
    "en-US": "en", "en": "en", "de": "de", "fr": "fr", "pt": "pt", "pt-BR": "pt", "es": "es",
    "it": "it", "nl": "nl", "pl": "pl", "sv": "sv", "ru": "ru", "cs": "cs", "tr": "tr", "fi": "fi",
    "hu": "hu", "el": "el", "da": "da", "vi": "vi", "sk": "sk",
}
VAL_LANGS = {"ro": "ro", "hr": "hr", "id": "id"}
TRAIN_VOICES = ["", "m1", "m2", "m3", "m4", "m5", "m6", "f1", "f2", "f3", "f4", "adam", "benjamin",
                "david", "edward", "john", "max", "paul", "quincy", "robert", "steph", "linda",
                "anika", "annie", "aunty", "belinda", "boris", "gene", "grandma", "grandpa", "iven",
                "michel", "miguel", "pablo", "norbert", "victor", "klatt", "klatt2", "Andy", "Lee"]
VAL_VOICES = ["m7", "f5", "Andrea", "Denis", "Hugo", "Marco", "klatt3", "Alicia"]
REAL_VAL = 12  # last lines of the Kathleen set


@dataclass
class Clip:
    x: np.ndarray  # 16 kHz float32, clean
    phones: list[Phone]
    source: str  # "espeak:<lang>:<voice>" | "real:<set>:<utt>" | "rest:<kind>"


# ---------------------------------------------------------------- text for espeak
def word_lists(src: Path) -> dict[str, list[str]]:
    """Words of espeak-ng's ``dictsource/<lang>_list`` files (first column; comments, rules
    and multi-word entries dropped). ``src``: an espeak-ng source checkout or git dir."""
    out: dict[str, list[str]] = {}
    for lang in sorted(set(TRAIN_LANGS.values()) | set(VAL_LANGS.values())):
        rel = f"dictsource/{lang}_list"
        if (src / rel).is_file():
            txt = (src / rel).read_text("utf-8", "replace")
        else:
            txt = subprocess.run(["git", "--git-dir", str(src), "show", f"HEAD:{rel}"],
                                 capture_output=True, text=True, check=True).stdout
        words = []
        for line in txt.splitlines():
            line = line.split("//")[0].strip()
            if not line or line.startswith(("$", "(", "?", "_")):
                continue
            w = line.split()[0]
            if re.fullmatch(r"[^\W\d_]{2,}", w):
                words.append(w.lower())
        out[lang] = sorted(set(words))
    return out


def random_text(rng: np.random.Generator, words: list[str]) -> str:
    n = int(rng.integers(5, 14))
    ws = list(rng.choice(words, n))
    for i in range(1, n - 1):
        if rng.random() < 0.1:
            ws[i] += ","
    return " ".join(ws) + rng.choice([".", ".", "?", "!"])


def espeak_clip(rng: np.random.Generator, lang: str, voice: str, words: list[str],
                vtln: float) -> Clip:
    """One espeak-ng sentence; ``vtln`` > 1 shortens the vocal tract (resample trick). Phones
    from :func:`espeak_speech.synth` (the project's one espeak-ng reader: a stop's silent closure
    belongs to the stop, as in real speech's alignments, not to the phone before it)."""
    from espeak_speech import synth

    name = lang + (f"+{voice}" if voice else "")
    x, sr, ev = synth(random_text(rng, words), name, rate_wpm=int(rng.integers(120, 240)),
                      pitch=int(rng.integers(15, 85)), prange=int(rng.integers(20, 95)))
    # source rate sr * vtln -> 16 kHz: all times scale by 1 / vtln
    down = int(round(sr / 50 * vtln))
    y = resample_poly(x.astype(np.float32), 320, down).astype(np.float32)
    k = sr / 50 / down
    phones: list[Phone] = []
    for a, b, ipa in ev:
        ph = ipa_to_phones(ipa) or ["sil"]
        d = (b - a) * k / len(ph)
        for j, p in enumerate(ph):
            phones.append(Phone(a * k + j * d, a * k + (j + 1) * d, p))
    return Clip(y, _fill(phones, len(y) / SR), f"espeak:{lang}:{voice or 'default'}")


def _fill(phones: list[Phone], dur: float) -> list[Phone]:
    from emoanim_server.face.lipsync.recognize import _fill_silence

    return _fill_silence(phones, dur)


# ---------------------------------------------------------------- real speech
def real_items() -> list[tuple[str, Path, str]]:
    """(id, wav, transcript) of the commercially usable real English lines with transcripts."""
    out = []
    for folder in ("cmu_arctic_prompts_kathleen_cc0", "cmu_arctic_pyroomacoustics",
                   "librivox_pocketsphinx", "praatio_examples"):
        idx = SPEECH / folder / "index.csv"
        if not idx.is_file():
            continue
        for r in csv.DictReader(open(idx)):
            out.append((f"{folder}:{r['utt_id']}", SPEECH / folder / r["wav_path"], r["transcript"]))
    return out


def real_clip(uid: str, wav: Path, transcript: str) -> Clip:
    from emoanim_server.face.lipsync import get_recognizer

    x = load_audio(str(wav)).samples.astype(np.float32)
    phones = get_recognizer().phones(x, transcript)
    return Clip(x, phones, "real:" + uid)


# ---------------------------------------------------------------- rest (no speech)
def _music(rng: np.random.Generator, n: int) -> np.ndarray:
    """Synthetic music, unit peak: melodic notes or sustained chords (several notes at once),
    harmonics, decays or gated pulses, optional drum hits. Rest (and a background under speech)
    for the model: music must not move the mouth."""
    t = np.arange(n) / SR
    y = np.zeros(n, np.float32)
    chords = rng.random() < 0.5
    pos = 0
    while pos < n:
        ln = int(rng.uniform(0.15, 0.6) * SR) if not chords else int(rng.uniform(0.4, 2.0) * SR)
        seg = np.zeros(min(ln, n - pos))
        tt = np.arange(len(seg)) / SR
        root = int(rng.integers(0, 36))
        notes = [root] if not chords else [root + k for k in rng.choice([0, 3, 4, 7, 10, 12, 16, 19], 
                                                                          int(rng.integers(2, 5)), replace=False)]
        for nt in notes:
            f0 = 110 * 2 ** (nt / 12)
            for h in range(1, 8):
                if f0 * h < SR / 2:
                    seg += rng.uniform(0.2, 1.0) / h * np.sin(2 * np.pi * f0 * h * tt + rng.uniform(0, 6))
        if chords and rng.random() < 0.5:  # gated / pulsing pad
            env = (np.sin(2 * np.pi * rng.uniform(1, 6) * tt + rng.uniform(0, 6)) > rng.uniform(-0.5, 0.5)).astype(float)
        else:
            env = np.exp(-tt * rng.uniform(0.3 if chords else 1, 8))
        y[pos:pos + len(seg)] += (seg * env).astype(np.float32)
        if rng.random() < 0.5:  # a drum hit
            k = min(int(0.08 * SR), n - pos)
            y[pos:pos + k] += (rng.standard_normal(k) * np.exp(-np.arange(k) / (0.015 * SR))).astype(np.float32)
        pos += ln
    if rng.random() < 0.3:  # vibrato / tremolo
        y *= (1 + 0.3 * np.sin(2 * np.pi * rng.uniform(3, 7) * t)).astype(np.float32)
    return (y / (np.abs(y).max() + 1e-9)).astype(np.float32)


def _pluck(rng: np.random.Generator, f0: float, n: int) -> np.ndarray:
    """A plucked string (Karplus-Strong: a noise burst through a damped delay loop)."""
    p = max(2, int(SR / f0))
    buf = rng.uniform(-1, 1, p)
    out = np.empty(n)
    damp = rng.uniform(0.985, 0.999)
    for i in range(0, n, p):  # one period at a time (vectorised per period)
        k = min(p, n - i)
        out[i:i + k] = buf[:k]
        buf = damp * 0.5 * (buf + np.roll(buf, -1))
    return out


def music2(rng: np.random.Generator, n: int) -> np.ndarray:
    """More procedural music (session 8), unit peak, no voice in it: plucked strings, bowed /
    organ tones (saw or square waves with vibrato, slow attack), gated chords at 1-6 Hz, drum
    loops (kick = a falling sine, snare / hat = filtered noise) -- alone or mixed. Why: v1.2
    opens the mouth to 0.52 on a pulsing chord and v1.4 to 0.61; :func:`_music` has only sine
    partials with random amplitudes. Never a sung vowel: that is speech-like and the mouth may
    move for it."""
    t = np.arange(n) / SR
    y = np.zeros(n)
    parts = rng.choice(["pluck", "bow", "gated", "drums"], int(rng.integers(1, 4)), replace=False)
    for part in parts:
        if part == "pluck":
            pos = 0
            while pos < n:
                ln = min(int(rng.uniform(0.12, 0.7) * SR), n - pos)
                y[pos:pos + ln] += _pluck(rng, 82 * 2 ** (rng.integers(0, 30) / 12), ln)
                pos += ln
        elif part == "bow":
            pos = 0
            while pos < n:
                ln = min(int(rng.uniform(0.4, 2.0) * SR), n - pos)
                tt = np.arange(ln) / SR
                f0 = 65 * 2 ** (rng.integers(0, 36) / 12)
                ph = 2 * np.pi * f0 * (tt + 0.003 * np.sin(2 * np.pi * rng.uniform(4, 7) * tt) / (2 * np.pi))
                w = (((ph / (2 * np.pi)) % 1.0) * 2 - 1) if rng.random() < 0.6 else np.sign(np.sin(ph))
                att = np.minimum(1.0, tt / rng.uniform(0.02, 0.3))
                y[pos:pos + ln] += w * att * np.exp(-tt * rng.uniform(0, 1.5))
                pos += ln
        elif part == "gated":
            # a continuous root (not on the semitone grid): lipsync_neural.py's test chord
            # (A 220 Hz major, 2 Hz gate) is this family's kind of sound but never one of its draws
            root = 55 * 2 ** (rng.uniform(0, 30) / 12)
            ch = sum(np.sin(2 * np.pi * root * 2 ** (k / 12) * h * t + rng.uniform(0, 6)) / h
                     for k in rng.choice([0, 3, 4, 7, 9, 10, 12, 16], int(rng.integers(2, 5)), replace=False)
                     for h in range(1, int(rng.integers(2, 6))))
            rate = rng.uniform(1, 6)
            gate = np.sin(2 * np.pi * rate * t + rng.uniform(0, 6)) > rng.uniform(-0.6, 0.6)
            if rng.random() < 0.5:  # soft gate edges
                gate = sosfilt(butter(1, rng.uniform(8, 40), fs=SR, output="sos"), gate.astype(float))
            y += ch * gate
        else:
            bpm = rng.uniform(70, 160)
            beat = int(SR * 60 / bpm / 2)
            for i, pos in enumerate(range(0, n, beat)):
                k = min(int(0.25 * SR), n - pos)
                tt = np.arange(k) / SR
                if i % 4 == 0 or rng.random() < 0.2:  # kick
                    y[pos:pos + k] += 1.5 * np.sin(2 * np.pi * (50 + 100 * np.exp(-tt * 30)) * tt) * np.exp(-tt * 12)
                if i % 4 == 2:  # snare
                    y[pos:pos + k] += rng.standard_normal(k) * np.exp(-tt * 25)
                kk = min(int(0.05 * SR), n - pos)  # hat
                hat = sosfilt(butter(2, 6000, "highpass", fs=SR, output="sos"), rng.standard_normal(kk))
                y[pos:pos + kk] += 0.3 * hat * np.exp(-np.arange(kk) / SR * 80)
    if rng.random() < 0.3:  # a room
        y = fftconvolve(y, _rir(rng))[:n]
    return (y / (np.abs(y).max() + 1e-9)).astype(np.float32)


def music_clip(rng: np.random.Generator, dur: float = 3.0) -> Clip:
    """A rest clip of :func:`music2` at -45..-3 dB peak (PCM16 + 1-LSB dither half the time)."""
    n = int(dur * SR)
    y = (music2(rng, n) * 10 ** (rng.uniform(-45, -3) / 20)).astype(np.float32)
    if rng.random() < 0.5:
        y = (np.round(y * 32767 + rng.uniform(-1, 1, n)) / 32767).astype(np.float32)
    return Clip(y, [Phone(0.0, dur, "sil")], "rest:music2")


def rest_clip(rng: np.random.Generator, dur: float = 3.0) -> Clip:
    n = int(dur * SR)
    t = np.arange(n) / SR
    kind = rng.choice(["music", "music", "music", "noise", "silence", "hum"])
    if kind == "music":
        y = _music(rng, n)
    elif kind == "noise":
        y = _colored(rng, n, rng.choice([0.0, 1.0, 2.0]))
    elif kind == "hum":
        y = np.sin(2 * np.pi * rng.choice([50, 60]) * t) + 0.3 * np.sin(2 * np.pi * 3 * 50 * t)
    else:
        y = np.zeros(n)
    y = (y * 10 ** (rng.uniform(-45, -6) / 20)).astype(np.float32)
    if kind == "silence" and rng.random() < 0.5:  # digital silence as PCM16 with 1-LSB dither
        y = (np.round(rng.uniform(-1, 1, n)) / 32767).astype(np.float32)
    return Clip(y, [Phone(0.0, dur, "sil")], f"rest:{kind}")


# ---------------------------------------------------------------- augmentation
def _colored(rng, n, beta) -> np.ndarray:
    """1/f^beta noise (0 white, 1 pink, 2 brown), unit peak."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.maximum(np.fft.rfftfreq(n, 1 / SR), 20.0)
    y = np.fft.irfft(spec / f ** (beta / 2), n)
    return (y / (np.abs(y).max() + 1e-9)).astype(np.float32)


def _rir(rng) -> np.ndarray:
    rt60 = rng.uniform(0.15, 0.9)
    n = int(rt60 * SR)
    t = np.arange(n) / SR
    h = rng.standard_normal(n) * np.exp(-6.9 * t / rt60)
    h[: int(rng.uniform(0.001, 0.01) * SR)] = 0
    h[0] = 1.0 / rng.uniform(0.3, 1.0)  # direct path
    return (h / np.sqrt(np.sum(h ** 2))).astype(np.float32)


#: share of augmented clips through :func:`dark` (0: v1.2's data; the session-6 candidate run used
#: 0.14 via ``artic_train.py data --dark-p 0.14``)
DARK_P = 0.0
#: a dark clip is always PCM16-quantised + dithered (session 7, ``--dark-pcm``): v1.4's dark clips
#: were float half the time, their low-passed high bands far below any real recording's 1-LSB
#: floor, and v1.4 became 1-LSB-dither sensitive (0.029 -> 0.056 on LJ) -- the hypothesis is
#: that it learned to read those bands' exact level; False = v1.4's data
DARK_PCM = False


def dark(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """A dark, muffled channel: a gentle (1st/2nd-order) low-pass at 500-2000 Hz, the spectral
    tilt of a cheap or covered microphone or an old corpus. Why: the held-out SPPAS-IPU
    recordings are 10-30 dB darker above 1 kHz than the training voices, and model v1.2 read that
    tilt as "lips closed / rounded" (false closures and roundings mid-vowel on 30-60 % of their
    vowels; low-passing a VCTK line reproduces it): the steep 3.5-7 kHz low-pass above never
    removed the 1-4 kHz band the model relied on."""
    return sosfilt(butter(int(rng.integers(1, 3)), rng.uniform(500, 2000), "lowpass", fs=SR, output="sos"),
                   y).astype(np.float32)


def augment(rng: np.random.Generator, x: np.ndarray, others: list[np.ndarray]) -> np.ndarray:
    y = x.astype(np.float32).copy()
    was_dark = False
    if rng.random() < 0.45:
        y = fftconvolve(y, _rir(rng))[: len(y)].astype(np.float32)
    if rng.random() < 0.6:
        lvl = np.sqrt(np.mean(y ** 2)) + 1e-9
        snr = rng.uniform(3, 40)
        if others and rng.random() < 0.3:  # babble
            o = others[int(rng.integers(len(others)))]
            o = np.resize(o, len(y))
        elif rng.random() < 0.3:  # music under the speech
            o = _music(rng, len(y))
        else:
            o = _colored(rng, len(y), rng.choice([0.0, 1.0, 2.0]))
        o = o / (np.sqrt(np.mean(o ** 2)) + 1e-9)
        y = y + o * lvl * 10 ** (-snr / 20)
    r = rng.random()
    if r < 0.15:
        y = sosfilt(butter(4, [300, 3400], "bandpass", fs=SR, output="sos"), y)
    elif r < 0.3:
        y = sosfilt(butter(6, rng.uniform(3500, 7000), "lowpass", fs=SR, output="sos"), y)
    elif r < 0.38:
        y = sosfilt(butter(2, rng.uniform(100, 400), "highpass", fs=SR, output="sos"), y)
    elif r < 0.38 + DARK_P:
        y = dark(rng, y)
        was_dark = True
    if rng.random() < 0.1:  # mu-law 8 bit (telephony codec)
        mu = 255.0
        z = np.clip(y / (np.abs(y).max() + 1e-9), -1, 1)
        q = np.round(np.sign(z) * np.log1p(mu * np.abs(z)) / np.log1p(mu) * 127) / 127
        y = np.sign(q) * np.expm1(np.abs(q) * np.log1p(mu)) / mu * np.abs(y).max()
    peak = np.abs(y).max() + 1e-9
    g = 10 ** (rng.uniform(-38, 0) / 20) / peak
    if rng.random() < 0.08:
        g = rng.uniform(1.5, 6.0) / peak  # clipped
    y = np.clip(y * g, -1.0, 1.0)
    if rng.random() < 0.5 or (DARK_PCM and was_dark):  # PCM16 quantisation + dither
        y = np.round(y * 32767 + rng.uniform(-1, 1, len(y))) / 32767
    return y.astype(np.float32)


def stretch(clip: Clip, f: float) -> Clip:
    """Resample by ``f`` (> 1 shorter, higher pitch and formants): the voice-tract-length trick
    for real clips; phone times scale with it."""
    up, down = 100, int(round(100 * f))
    y = resample_poly(clip.x, up, down).astype(np.float32)
    k = up / down
    ph = [Phone(p.start * k, p.end * k, p.phone, p.word) for p in clip.phones]
    return Clip(y, _fill(ph, len(y) / SR), clip.source)


# ---------------------------------------------------------------- features + targets
def features(x: np.ndarray) -> np.ndarray:
    m = MelStream()
    return np.concatenate([m.feed(x), m.flush()])


#: judged events (shared/tools/lipsync_check.py scores events, not frame averages): lips meet
#: somewhere in each p/b/m, the lower lip tucks in each f/v, the lips round in each rounded
#: vowel / w; each is an interval +- EVENT_PAD_S, like the judge's window
ROUND_PHONES = frozenset({"uw", "ow", "w", "uh", "ao"})
EVENT_PAD_S = 0.02
EVENT_KINDS = (BILABIALS, LABIODENTALS, ROUND_PHONES)


def events(clip: Clip, n: int) -> np.ndarray:
    """(n, 3) int32 event ids per 100 Hz frame (0 = none): bilabial, labiodental, rounding
    intervals of the clip's phones (rounding only >= 40 ms), padded by :data:`EVENT_PAD_S`."""
    ev = np.zeros((n, len(EVENT_KINDS)), np.int32)
    t = np.arange(n) * 0.01
    for j, kinds in enumerate(EVENT_KINDS):
        k = 0
        for p in clip.phones:
            if p.phone not in kinds or (j == 2 and p.end - p.start < 0.04):
                continue
            k += 1
            m = (t >= p.start - EVENT_PAD_S) & (t <= p.end + EVENT_PAD_S)
            if not m.any():
                m[min(n - 1, int(round(p.mid * 100)))] = True
            ev[m, j] = k
    return ev


def targets(clip: Clip, n: int) -> np.ndarray:
    """(n, 13): the teacher's articulators at 100 Hz (contacts enforced) + the two contact
    weights, from the clean clip."""
    times = np.arange(n) * 0.01
    db = frame_db(clip.x, 0.01)
    art = articulate(clip.phones, times, 100.0, db, np.arange(len(db)) * 0.01)
    wb = _contact_weight(clip.phones, BILABIALS, times, 100.0)
    wf = _contact_weight(clip.phones, LABIODENTALS, times, 100.0)
    return np.concatenate([art, wb[:, None], wf[:, None]], axis=1).astype(np.float32)


#: session 8: also store the features of a dithered twin of every clip (``artic_train.py data
#: --twin``), for the dither-consistency loss (``train --cons-weight``). Its own generator, so
#: turning it on leaves every other draw of the data (and so v1.4's data) as it was.
TWIN = False
TWIN_RNG = np.random.default_rng(8)


def twin(rng: np.random.Generator, y: np.ndarray) -> np.ndarray:
    """The same audio after a change no viewer should see in the mouth: 1 LSB (1/32768) of
    dither added in the audio domain, as the 1-LSB bar does it (a random sign per sample, 60 %),
    or uniform in +-1 LSB (25 %), or uniform dither plus a gain of +-0.25 dB (15 %). The
    features are then computed by the runtime's front-end (:func:`features`), so what the
    network sees is exactly what a dithered input gives it -- the sub-LSB bands of dark or quiet
    clips included, where v1.4 read one window's exact floor as rounding."""
    r = rng.random()
    if r < 0.6:
        d = rng.choice(np.array([-1.0, 1.0], np.float32), len(y)) / 32768.0
        return (y + d).astype(np.float32)
    d = rng.uniform(-1, 1, len(y)).astype(np.float32) / 32768.0
    g = 10 ** (rng.uniform(-0.25, 0.25) / 20) if r >= 0.85 else 1.0
    return (y * g + d).astype(np.float32)


def example(rng, clip: Clip, others, aug: bool) -> tuple:
    """(features, targets, events) of one clip, augmented or not; with :data:`TWIN` a fourth
    item, the features of :func:`twin` of the same (augmented) audio."""
    y = augment(rng, clip.x, others) if aug else clip.x
    f = features(y)
    out = (f.astype(np.float16), targets(clip, len(f)), events(clip, len(f)))
    if TWIN:
        f2 = features(twin(TWIN_RNG, y))
        assert len(f2) == len(f)
        out += (f2.astype(np.float16),)
    return out


assert HOP == 160 and WIN == 400

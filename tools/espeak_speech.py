"""espeak-ng speech with exact phone timing, for the language benchmark and tests.

Why the C library here (and only here, never at run time): the ``espeak-ng`` command prints
phonemes but not when they are spoken; the library's synth callback reports a PHONEME event
(IPA, with ``espeakINITIALIZE_PHONEME_IPA``) at the first sample of each phone, so the reference
alignment is exact by construction. Each phone's class comes from the shared IPA table
(emoanim_server/face/lipsync/ipa.py), which is how the judge's definitions (p/b/m closure,
rounding, f/v) are applied to every language.
"""
from __future__ import annotations

import ctypes
import threading

import numpy as np

_SYNCHRONOUS, _PHONEME_EVENTS, _PHONEME_IPA = 2, 0x1, 0x2
_END, _WORD, _PHONEME, _MSG_END = 0, 1, 7, 6
_UTF8 = 1


class _Voice(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("languages", ctypes.c_char_p), ("identifier", ctypes.c_char_p),
                ("gender", ctypes.c_ubyte), ("age", ctypes.c_ubyte), ("variant", ctypes.c_ubyte),
                ("xx1", ctypes.c_ubyte), ("score", ctypes.c_int), ("spare", ctypes.c_void_p)]


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                             ctypes.POINTER(_Event))
_LOCK = threading.Lock()
_STATE: dict = {}


def _lib():
    if "lib" not in _STATE:
        lib = ctypes.CDLL("libespeak-ng.so.1")
        rate = lib.espeak_Initialize(_SYNCHRONOUS, 500, None, _PHONEME_EVENTS | _PHONEME_IPA)
        if rate <= 0:
            raise RuntimeError("espeak_Initialize failed")

        def cb(wav, n, ev):
            if n > 0:
                _STATE["buf"].append(np.ctypeslib.as_array(wav, (n,)).copy())
            i = 0
            while ev[i].type != _END:
                e = ev[i]
                if e.type == _PHONEME:
                    _STATE["events"].append((int(e.sample), e.id.decode("utf-8", "replace")))
                i += 1
            return 0

        _STATE["cb"] = _CALLBACK(cb)  # keep a reference: the library calls it later
        lib.espeak_SetSynthCallback(_STATE["cb"])
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        _STATE.update(lib=lib, rate=rate)
    return _STATE["lib"], _STATE["rate"]


def available() -> bool:
    try:
        _lib()
        return True
    except OSError:
        return False


def synth(text: str, voice: str, rate_wpm: int = 160, pitch: int = 50,
          prange: int = 50) -> tuple[np.ndarray, int, list[tuple[float, float, str]]]:
    """(float32 samples, sample rate, [(start s, end s, IPA phone)]) for ``text`` in ``voice``
    (``pitch`` / ``prange``: espeak's 0-100 pitch and pitch range). The one espeak-ng reader of
    the project: the language benchmark, the test lines and the learned model's training data
    (tools/artic_data.py) all get the same phone timing, stop closures included.

    Pauses (espeak's empty phone events, and gaps) are left out of the phone list.
    """
    with _LOCK:
        lib, sr = _lib()
        _STATE["buf"], _STATE["events"] = [], []
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            # language-style names the command accepts ("fr-fr", "pt-br") are chosen by language
            v = _Voice(languages=voice.encode())
            if lib.espeak_SetVoiceByProperties(ctypes.byref(v)) != 0:
                raise ValueError(f"espeak-ng voice {voice!r} not found")
        # every parameter explicitly: a voice otherwise inherits what the last one left behind
        # (same text after a German line came out 2% longer)
        for param, value in ((1, rate_wpm), (2, 100), (3, pitch), (4, prange), (5, 0), (6, 0), (7, 0)):
            lib.espeak_SetParameter(param, int(value), 0)
        b = text.encode("utf-8")
        lib.espeak_Synth(b, len(b) + 1, 0, 0, 0, _UTF8, None, None)
        lib.espeak_Synchronize()
        x = (np.concatenate(_STATE["buf"]) if _STATE["buf"] else np.zeros(0, np.int16)).astype(np.float32) / 32768
        ev = list(_STATE["events"])
    end = len(x) / sr
    phones = []
    for i, (s, ph) in enumerate(ev):
        e = ev[i + 1][0] if i + 1 < len(ev) else len(x)
        ph = ph.strip()
        if ph and e > s:
            phones.append([s / sr, min(e, len(x)) / sr, ph])
    _closures_into_stops(x, sr, phones)
    return x, sr, [tuple(p) for p in phones if p[0] < end]


_STOPS = set("pbtdkgcɟqɢʈɖ")
_HOP_S = 0.005


def _closures_into_stops(x: np.ndarray, sr: int, phones: list[list]) -> None:
    """espeak-ng's event for a stop is at its *release*; the silent closure before it is
    reported as part of the previous phone. Phonetically (and in MFA's labels, which the judge
    was built on) the closure belongs to the stop - it is when the lips are shut for p/b - so
    each stop's start moves back over the quiet stretch just before it (at most 120 ms)."""
    hop = int(sr * _HOP_S)
    if len(x) < hop:
        return
    n = len(x) // hop
    db = 20 * np.log10(np.sqrt(np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1)) + 1e-9)
    quiet = db < (np.percentile(db, 95) - 35.0)
    for i in range(1, len(phones)):
        a, b, ph = phones[i]
        if ph[0] not in _STOPS:
            continue
        f = int(a / _HOP_S) - 1
        start = a
        while f >= 0 and quiet[f] and a - f * _HOP_S <= 0.12 and f * _HOP_S > phones[i - 1][0] + 0.01:
            start = f * _HOP_S
            f -= 1
        if start < a:
            phones[i][0] = start
            phones[i - 1][1] = start


def write_line(text: str, voice: str, stem: str, lead_s: float = 0.3, noise: float = 3e-4,
               rate_wpm: int = 160) -> None:
    """One test line: ``stem.flac`` (16 kHz, a little room noise, ``lead_s`` of it before and
    after the speech) and ``stem.json`` (text, voice, reference phones in seconds). espeak-ng
    varies its timing slightly from run to run, so tests read committed lines, not fresh ones."""
    import json

    import soundfile as sf
    from scipy.signal import resample_poly

    x, sr, ref = synth(text, voice, rate_wpm=rate_wpm)
    y = resample_poly(x, 160, sr // 100).astype(np.float32)
    pad = np.zeros(int(lead_s * 16000), np.float32)
    y = np.concatenate([pad, y, pad])
    y += np.random.default_rng(0).normal(0, noise, len(y)).astype(np.float32)
    sf.write(stem + ".flac", y, 16000, subtype="PCM_16")
    with open(stem + ".json", "w", encoding="utf-8") as f:
        json.dump({"text": text, "voice": voice, "sample_rate": 16000,
                   "phones": [(round(a + lead_s, 5), round(b + lead_s, 5), p) for a, b, p in ref]},
                  f, ensure_ascii=False, indent=0)


#: the committed test lines (tests/data/lang/): language family, espeak-ng voice, text
TEST_LINES = [
    ("de", "Germanic", "de", "Peter und Paul backen Brot mit Butter. Die Mutter wohnt im Haus."),
    ("nl", "Germanic", "nl", "Mijn moeder bakt brood met boter."),
    ("en_oov", "Germanic", "en-us", "Zorblax Quimbleton paid 42 dollars to Doctor Vexmoor for the bomb."),
    ("en_mixed", "Germanic", "en-us", "I met my brother"),
    ("fr_mixed", "Romance", "fr", "bonjour mon petit ami"),
    ("fr", "Romance", "fr", "Bonjour mon ami, le petit bateau va vers la mer bleue."),
    ("es", "Romance", "es", "Mi madre compra pan y manzanas en el mercado."),
    ("pt-BR", "Romance", "pt-br", "Bom dia, minha mãe bebe muito pouco vinho."),
    ("ru", "Slavic", "ru", "Мама мыла раму. Папа пошёл в парк."),
    ("pl", "Slavic", "pl", "Pani Maria pije mleko w parku."),
    ("ja", "East Asian", "ja", "ぼくは まいにち みずを のみます。"),
    ("zh", "East Asian", "cmn-latn-pinyin", "我们明天去北京买面包。"),
]
#: fast lines (stem, family, voice, text, words per minute): a long Chinese line said quickly, with
#: no room for a word the script has and the speaker did not say (tests/test_alignment.py gives it
#: a Latin-script name the speaker skipped)
FAST_LINES = [
    ("zh_fast", "East Asian", "cmn-latn-pinyin", "我的朋友上个星期去了西班牙的马德里看了一场足球比赛然后坐火车回到巴黎", 230),
]

if __name__ == "__main__":
    import argparse
    import os

    ap = argparse.ArgumentParser(description="write the committed espeak-ng test lines")
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "tests", "data", "lang"))
    ap.add_argument("--only", default="", help="comma-separated stems to write (default all)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    only = {x for x in a.only.split(",") if x}
    for stem, _family, voice, text, *rate in TEST_LINES + FAST_LINES:
        if only and stem not in only:
            continue
        write_line(text, voice, os.path.join(a.out, stem), rate_wpm=rate[0] if rate else 160)
        print(stem)

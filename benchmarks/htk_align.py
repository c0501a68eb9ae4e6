#!/usr/bin/env python3
"""A small forced aligner for HTK monophone models: phone-level REFERENCES for evaluation only.

Why: real non-English speech with phone labels is scarce (the SPPAS French/Catalan samples were
all we had), but recordings with a transcript exist in more languages (SPPAS's own samples with
utterance-level text; Google's FLEURS, CC-BY-4.0). To score lip-sync on them by the shared judge's
definitions the phones need times from an aligner that is *not* EmoAnim's (PocketSphinx en-US
through the IPA table): this one uses SPPAS's language-specific acoustic models (HTK monophones,
one Gaussian per state, MFCC_0_D_N_Z features), the models SPPAS itself aligns with. Nothing here
ships or runs in the product; the models' licences (GPL-3 / CC-BY-NC-SA, resources/models/*/
COPYRIGHT.txt in SPPAS) allow this evaluation use only.

Pronunciations: the SPPAS dictionary where the snapshot has it (Spanish, Portuguese, Catalan,
Japanese, Mandarin, ...), else espeak-ng's IPA mapped onto the model's SAMPA phone set
(:func:`ipa_to_model`) -- the same G2P the product uses, so only the *timing* is independent there.

Checked against SPPAS's own alignments of its French samples (``--check``): see
benchmarks/results/lipsync_real_languages.md.
"""
from __future__ import annotations

import re
import subprocess
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

#: HTK feature extraction as in SPPAS's model configs (MFCC_0_D_N_Z, 25 ms Hamming, 10 ms)
FS = 16000
WIN, HOP, NFFT, NCHAN, NCEP, LIFTER, PREEMPH = 400, 160, 512, 26, 12, 22, 0.97
#: frame t spans samples [160 t, 160 t + 400), centred 12.5 ms after 10 t ms: a boundary between
#: frames t-1 and t sits at 10 t ms + 7.5 ms (HTK writes 10 t ms; SPPAS's own French alignments
#: came out a median 10 ms later than HTK's convention, 2.5 ms with this shift)
BOUNDARY_S = 0.0075


def _git(gitdir: str, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", gitdir, *args], capture_output=True, check=True).stdout


def _mel(f):
    return 1127.0 * np.log(1.0 + np.asarray(f, np.float64) / 700.0)


@lru_cache(maxsize=1)
def _fbank_matrix() -> np.ndarray:
    """HTK's triangular mel filters over |FFT| bins 1..N/2 (0 Hz to Nyquist, equal mel spacing)."""
    cf = np.linspace(_mel(0.0), _mel(FS / 2), NCHAN + 2)
    m = _mel(np.arange(NFFT // 2 + 1) * FS / NFFT)
    W = np.zeros((NCHAN, NFFT // 2 + 1))
    for c in range(NCHAN):
        lo, mid, hi = cf[c], cf[c + 1], cf[c + 2]
        W[c] = np.clip(np.minimum((m - lo) / (mid - lo), (hi - m) / (hi - mid)), 0.0, None)
    W[:, 0] = 0.0  # HTK starts at bin 1
    return W


def htk_features(x: np.ndarray) -> np.ndarray:
    """16 kHz float audio -> (T, 25): c1..c12 (utterance mean removed), their deltas and delta c0."""
    s = np.asarray(x, np.float64) * 32768.0  # HTK works on 16-bit sample values
    n = 1 + (len(s) - WIN) // HOP if len(s) >= WIN else 0
    if n <= 0:
        return np.zeros((0, 25))
    fr = np.lib.stride_tricks.sliding_window_view(s, WIN)[::HOP][:n].copy()
    fr[:, 1:] -= PREEMPH * fr[:, :-1].copy()
    fr[:, 0] *= 1.0 - PREEMPH
    fr *= np.hamming(WIN)
    mag = np.abs(np.fft.rfft(fr, NFFT, axis=1))
    fb = np.log(np.maximum(mag @ _fbank_matrix().T, 1.0))
    j = np.arange(1, NCHAN + 1)
    dct = np.sqrt(2.0 / NCHAN) * np.cos(np.pi * np.arange(NCEP + 1)[:, None] / NCHAN * (j - 0.5)[None, :])
    cep = fb @ dct.T  # (n, 13): c0..c12
    lift = 1.0 + (LIFTER / 2.0) * np.sin(np.pi * np.arange(1, NCEP + 1) / LIFTER)
    static = np.concatenate([cep[:, 1:] * lift, cep[:, :1]], axis=1)  # HTK order c1..c12, c0
    static -= static.mean(axis=0)  # _Z
    p = np.pad(static, ((2, 2), (0, 0)), mode="edge")
    d = (1 * (p[3:-1] - p[1:-3]) + 2 * (p[4:] - p[:-4])) / 10.0
    return np.concatenate([static[:, :NCEP], d], axis=1)  # _N: absolute c0 dropped


@dataclass
class HMM:
    means: np.ndarray     # (S, 25) emitting states
    ivars: np.ndarray     # (S, 25)
    gconst: np.ndarray    # (S,)
    logA: np.ndarray      # (S+2, S+2) log transitions, entry 0 and exit S+1 non-emitting
    #: Gaussian mixtures where a state has more than one (SPPAS's Japanese model: 16): per state
    #: (log weights (M,), means (M, 25), inverse variances (M, 25), gconsts (M,)); None: one each
    mixtures: list | None = None

    def log_emission(self, k: int, feats: np.ndarray) -> np.ndarray:
        """log p(frame | state k) for every frame (T, 25) -> (T,)."""
        if self.mixtures is None or self.mixtures[k] is None:
            dlt = feats - self.means[k]
            return -0.5 * (self.gconst[k] + np.sum(dlt * dlt * self.ivars[k], axis=1))
        logw, mu, iv, gc = self.mixtures[k]
        dlt = feats[:, None, :] - mu[None]
        comp = logw[None] - 0.5 * (gc[None] + np.sum(dlt * dlt * iv[None], axis=2))
        top = comp.max(axis=1)
        return top + np.log(np.exp(comp - top[:, None]).sum(axis=1))


def _floats(tok: list[str], i: int, k: int) -> tuple[np.ndarray, int]:
    return np.array([float(t) for t in tok[i:i + k]]), i + k


def load_hmms(text: str) -> dict[str, HMM]:
    """An HTK MMF (single Gaussian per state, shared ``~s`` states allowed) -> models by name."""
    tok = re.findall(r'"[^"]*"|<[^>]+>|~\w|[^\s<>"]+', text)
    states: dict[str, tuple] = {}
    out: dict[str, HMM] = {}
    i = 0

    def gaussian(i: int):
        mean = var = g = None
        while i < len(tok):
            t = tok[i].lower()
            if t == "<mean>":
                mean, i = _floats(tok, i + 2, int(tok[i + 1]))
            elif t == "<variance>":
                var, i = _floats(tok, i + 2, int(tok[i + 1]))
            elif t == "<gconst>":
                g, i = float(tok[i + 1]), i + 2
            else:
                break
        if g is None:
            g = len(var) * np.log(2 * np.pi) + float(np.sum(np.log(var)))
        return (mean, var, g), i

    def state(i: int):
        """(mean, var, gconst) of a one-Gaussian state, or (mean, var, gconst, mixtures) where
        the state has <NumMixes> > 1: mixtures a list of (weight, mean, var, gconst)."""
        if tok[i].lower() != "<nummixes>":
            return gaussian(i)
        n, i = int(tok[i + 1]), i + 2
        mix = []
        for _ in range(n):
            w = 1.0
            if tok[i].lower() == "<mixture>":
                w, i = float(tok[i + 2]), i + 3
            gss, i = gaussian(i)
            mix.append((w, *gss))
        best = max(mix, key=lambda m: m[0])
        return (best[1], best[2], best[3], mix), i

    while i < len(tok):
        t = tok[i]
        if t == "~s":
            name = tok[i + 1].strip('"')
            states[name], i = state(i + 2)
        elif t == "~h":
            name = tok[i + 1].strip('"')
            i += 2
            sts: dict[int, tuple] = {}
            A = None
            while tok[i].lower() != "<endhmm>":
                tl = tok[i].lower()
                if tl == "<state>":
                    k = int(tok[i + 1])
                    i += 2
                    if tok[i] == "~s":
                        sts[k] = states[tok[i + 1].strip('"')]
                        i += 2
                    else:
                        sts[k], i = state(i)
                elif tl == "<transp>":
                    nst = int(tok[i + 1])
                    A, i = _floats(tok, i + 2, nst * nst)
                    A = A.reshape(nst, nst)
                else:
                    i += 1
            ks = sorted(sts)
            with np.errstate(divide="ignore"):
                logA = np.log(A)
            mixtures = None
            if any(len(sts[k]) > 3 for k in ks):
                mixtures = [None if len(sts[k]) == 3 else
                            (np.log(np.array([m[0] for m in sts[k][3]])), np.array([m[1] for m in sts[k][3]]),
                             1.0 / np.array([m[2] for m in sts[k][3]]), np.array([m[3] for m in sts[k][3]]))
                            for k in ks]
            out[name] = HMM(np.array([sts[k][0] for k in ks]), 1.0 / np.array([sts[k][1] for k in ks]),
                            np.array([sts[k][2] for k in ks]), logA, mixtures)
            i += 1
        else:
            i += 1
    return out


@dataclass
class Model:
    """One SPPAS language model: HMMs by model name and SAMPA -> model name."""
    lang: str
    hmms: dict[str, HMM]
    sampa: dict[str, str]   # SAMPA label -> model name
    name_sampa: dict[str, str]
    dictionary: dict[str, list[list[str]]]


@lru_cache(maxsize=None)
def load_model(gitdir: str, lang: str) -> Model:
    base = f"resources/models/models-{lang}/"
    hmms = load_hmms(_git(gitdir, "show", f"HEAD:{base}hmmdefs").decode("utf-8"))
    sampa: dict[str, str] = {}
    try:
        for line in _git(gitdir, "show", f"HEAD:{base}monophones.repl").decode("utf-8").splitlines():
            p = line.split()
            if len(p) == 2:
                sampa[p[1]] = p[0]
    except subprocess.CalledProcessError:
        pass
    name_sampa = {v: k for k, v in sampa.items()}
    for name in hmms:
        sampa.setdefault(name, name)
        name_sampa.setdefault(name, name)
    dictionary: dict[str, list[list[str]]] = {}
    try:
        for line in _git(gitdir, "show", f"HEAD:resources/dict/{lang}.dict").decode("utf-8").splitlines():
            m = re.match(r"(\S+)\s+\[[^\]]*\]\s+(.*)", line)
            if m:
                word = re.sub(r"\(\d+\)$", "", m.group(1)).lower()
                dictionary.setdefault(word, []).append(m.group(2).split())
    except subprocess.CalledProcessError:
        pass
    return Model(lang, hmms, sampa, name_sampa, dictionary)


#: IPA -> SAMPA (SPPAS's sampa-ipa table, the common letters; length and diacritics handled below)
IPA_SAMPA = {"aɪ": "aI", "aʊ": "aU", "ɔʏ": "OY", "ɔø": "OY", "ɔɪ": "OY", "ə": "@", "ɐ": "6", "ɛ": "E", "ɔ": "O", "ø": "2", "œ": "9", "ʃ": "S", "ʒ": "Z", "ɲ": "J",
             "ŋ": "N", "ʁ": "R", "ʀ": "R", "ɥ": "H", "ɾ": "4", "ʎ": "L", "β": "B", "ð": "D", "ɣ": "G",
             "θ": "T", "ç": "C", "ɪ": "I", "ʊ": "U", "ʏ": "Y", "ʌ": "V", "ɒ": "Q", "æ": "{", "ɑ": "A",
             "ʔ": "?", "χ": "X", "ɡ": "g", "ɹ": "r", "ʋ": "v", "ɫ": "l", "ɨ": "1", "ɯ": "M", "ɜ": "3",
             "tʃ": "tS", "dʒ": "dZ", "ts": "ts", "dz": "dz", "pf": "pf", "ɕ": "s\\", "ʑ": "z\\", "tɕ": "ts\\",
             "dʑ": "dz\\", "ʂ": "S", "ʐ": "Z", "ʈʂ": "tS", "ɖʐ": "dZ", "ɟ": "J\\", "c": "c", "ʝ": "j"}
#: what to try, in order, when the model has no phone for a SAMPA label (nearest sound; none: dropped)
FALLBACK = {
    "a": ["A/", "A", "a:"], "A": ["a", "A/"], "6": ["a", "A/", "@"], "V": ["a", "A/"], "{": ["E", "a", "A/"],
    "o": ["O/", "O", "o:"], "O": ["o", "O/", "o:"], "Q": ["O", "o", "O/"], "e": ["E/", "E", "e:"],
    "E": ["e", "E/", "E:"], "@": ["e", "E", "6"], "3": ["6", "@", "e"], "2": ["e", "E/", "2:"], "9": ["E", "e", "E/"],
    "i": ["I", "i:"], "I": ["i"], "1": ["i", "I"], "u": ["U", "u:"], "U": ["u"], "M": ["u", "U"],
    "y": ["i", "Y", "y:"], "Y": ["y", "i"], "a~": ["A~", "a", "A/"], "A~": ["a~", "a", "A/"],
    "o~": ["O~", "o", "O/"], "O~": ["o~", "O", "O/"], "E~": ["U~/", "e~", "E", "e"], "e~": ["E~", "e"],
    "9~": ["U~/", "E~", "E"], "u~": ["u", "U"],
    "B": ["b"], "D": ["d"], "G": ["g"], "T": ["s", "t"], "C": ["x", "S", "h"], "X": ["x", "R", "h"],
    "R": ["r", "R\\"], "r": ["R", "4", "R\\"], "4": ["r", "R", "d"], "H": ["w", "j"], "L": ["l", "j"],
    "J": ["n", "n'"], "N": ["n", "ng"], "pf": ["f"], "dZ": ["Z", "z"], "tS": ["S", "ts"], "Z": ["z"],
    "S": ["s"], "ts": ["s"], "dz": ["z"], "x": ["h", "k"], "h": [], "j": ["i", "I"], "w": ["u", "U"],
    "c": ["k"], "J\\": ["g"], "s\\": ["S", "s"], "z\\": ["Z", "z"], "ts\\": ["tS", "ts"], "dz\\": ["dZ", "dz"],
    "?": [],
}
_NASAL = "\u0303"


def ipa_to_model(ipa: str, model: Model) -> list[str]:
    """espeak-ng IPA of one word -> model names (long vowels / nasal vowels where the model has
    them, else the nearest phone the model has)."""
    from emoanim_server.face.lipsync.ipa import _MULTI  # affricates the product treats as one

    s = re.sub(r"\([a-z-]+\)", "", unicodedata.normalize("NFC", ipa)).replace("\u0361", "")
    multi = [m for m in _MULTI if "\u0361" not in m] + ["aɪ", "aʊ", "ɔʏ", "ɔø", "ɔɪ"]
    segs: list[str] = []
    i = 0
    while i < len(s):
        for mlt in multi:
            if s.startswith(mlt, i):
                segs.append(mlt)
                i += len(mlt)
                break
        else:
            ch = s[i]
            i += 1
            d = unicodedata.normalize("NFD", ch)
            if ch == _NASAL and segs:
                segs[-1] += "~"
            elif ch == "ː" and segs:
                segs[-1] += ":"
            elif unicodedata.category(ch) in ("Mn", "Lm", "Sk", "Zs", "Po", "Pd") or ch in "ˈˌ.-_ ‿|":
                continue
            elif len(d) > 1 and ch not in IPA_SAMPA:  # precomposed: base letter (+ nasal)
                segs.append(d[0] + ("~" if _NASAL in d else ""))
            else:
                segs.append(ch)
    out = []
    for seg in segs:
        base, mods = seg.rstrip(":~"), seg[len(seg.rstrip(":~")):]
        sam = IPA_SAMPA.get(base, base)
        nasal = sam + ("~" if "~" in mods else "")
        cands = [sam + mods, nasal, *FALLBACK.get(nasal, []), sam, *FALLBACK.get(sam, [])]
        got = next((c for c in cands if c in model.sampa), None)
        if got:
            out.append(model.sampa[got])
    return out


def _espeak_ipa(words: list[str], voice: str) -> list[str]:
    r = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", voice], input="\n".join(words),
                       capture_output=True, text=True, check=True)
    lines = [_fixed(x.strip(), voice) for x in r.stdout.splitlines()]
    return (lines + [""] * len(words))[: len(words)]


def _fixed(ipa: str, voice: str) -> str:
    """espeak-ng's IPA with the product's corrections of a voice's phoneme names (g2p.VOICE_IPA:
    pt-br ``y`` is the unstressed [ɪ], not IPA [y]): the reference reads espeak-ng as EmoAnim does."""
    from emoanim_server.face.lipsync.g2p import fix_ipa

    return fix_ipa(ipa, voice)


def _in_context(words: list[str], voice: str) -> list[str] | None:
    """espeak-ng's IPA of each word as it reads the whole line (one-letter words are *said*
    there: Polish "w tym" is "f tɨm", where "w" alone is spelled "vɨ"), or None when the
    line's reading does not split into one token per word (numbers read as several words)."""
    r = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", voice], input=" ".join(words),
                       capture_output=True, text=True, check=True)
    toks = [_fixed(t, voice) for t in r.stdout.split()]
    return toks if len(toks) == len(words) else None


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
#: kana and kanji: a one-character word in these scripts is a syllable, not a spelled letter
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def _kana(word: str) -> str:
    """A Japanese word with kanji the dictionary lacks, as janome's IPADIC reads it (katakana), for
    espeak-ng (which reads kana only); the word itself where there is no kanji or no janome."""
    if not _HAN.search(word):
        return word
    from emoanim_server.face.lipsync.g2p import japanese_readings

    got = japanese_readings(word)
    return "".join(r for _, r in got) if got else word


def _letter_in_context(words: list[str], i: int, voice: str) -> str:
    """espeak-ng's IPA of the one-letter word ``words[i]`` read together with a neighbour (the
    next word, or the one before at the end), or '' where that reading is not two tokens."""
    j = i + 1 if i + 1 < len(words) else i - 1
    if j < 0:
        return ""
    pair = [words[i], words[j]] if j > i else [words[j], words[i]]
    r = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", voice], input=" ".join(pair),
                       capture_output=True, text=True, check=True)
    toks = [_fixed(t, voice) for t in r.stdout.split()]
    return "" if len(toks) != 2 else toks[0 if j > i else 1]


def pronounce(words: list[str], model: Model, voice: str, use_dictionary: bool = True) -> list[list[str]]:
    """Model phone names per word: the SPPAS dictionary's first variant (unless
    ``use_dictionary`` is off: a dialect the dictionary does not describe), else espeak-ng; a
    one-letter word as espeak-ng reads it in the line (alone it would be spelled)."""
    out: list[list[str] | None] = []
    missing = []
    for w in words:
        v = model.dictionary.get(w.lower()) if use_dictionary else None
        if v:
            out.append([model.sampa[p] for p in v[0] if p in model.sampa])
        else:
            out.append(None)
            missing.append(w)
    said = [_kana(w) if voice.startswith("ja") else w for w in missing]
    ipa = _espeak_ipa(said, voice) if missing else []
    if any(len(w) == 1 and w.isalpha() and not _CJK.match(w) for w in missing):
        ctx = _in_context(words, voice)
        if ctx is None:
            # the line's reading does not split one token per word (a number or an abbreviation
            # read as several words, or two words read as one: pt-br "a.c. a" -> "ˌasˌeˈa"): read
            # each one-letter word with its neighbour instead (pt-br "é" alone is spelled "é agudo")
            ctx = [_letter_in_context(words, i, voice) if len(w) == 1 and w.isalpha() and not _CJK.match(w) else ""
                   for i, w in enumerate(words)]
        spoken = iter([c for w, c, o in zip(words, ctx, out) if o is None])
        ipa = [c if (len(w) == 1 and w.isalpha() and not _CJK.match(w) and c) else i
               for w, i, c in zip(missing, ipa, spoken)]
    it = iter(ipa)
    return [o if o is not None else ipa_to_model(next(it), model) for o in out]


def viterbi(feats: np.ndarray, seq: list[tuple[str, bool]], hmms: dict[str, HMM]) -> list[tuple[int, int, int]] | None:
    """Forced alignment of a sequence of (model, optional) -> (item index, first frame, last frame)
    per item that got frames; None when no path fits the frames. (A chain: :func:`viterbi_graph`
    with each item entered from the one before it, or from further back over optional ones.)"""
    preds: list[list[int]] = []
    for it in range(len(seq)):
        p, j = [], it - 1
        while j >= 0:
            p.append(j)
            if not seq[j][1]:
                break
            j -= 1
        preds.append(p)
    starts = set()
    for it, (_, opt) in enumerate(seq):
        starts.add(it)
        if not opt:
            break
    ends = set()
    for it in range(len(seq) - 1, -1, -1):
        ends.add(it)
        if not seq[it][1]:
            break
    return viterbi_graph(feats, [n for n, _ in seq], preds, starts, ends, hmms)


def viterbi_graph(feats: np.ndarray, names: list[str], preds: list[list[int]], starts: set[int], ends: set[int],
                  hmms: dict[str, HMM], max_state_frames: int = 0,
                  uncapped: set[int] | frozenset = frozenset()) -> list[tuple[int, int, int]] | None:
    """Forced alignment over a graph of models: item ``i`` (model ``names[i]``) is entered from the
    exit of any item in ``preds[i]``, the path starts in an item of ``starts`` and ends in one of
    ``ends``. Why a graph: a word with several pronunciations (SPPAS's dictionaries list variants:
    Spanish "un" is u m | u n | u l | u s) is one branch per variant, and the audio picks the branch,
    as SPPAS's own aligner does. -> (item, first frame, last frame) per item on the best path.

    ``max_state_frames`` (0: none): no emitting state of an item outside ``uncapped`` (the pauses)
    stays more than that many frames, so no phone outlasts 3 x that. Why: an HMM without a
    duration model may park one vowel on a second of speech it explains slightly better than the
    words said there (FLEURS pt-BR fleurs-pt-001: the European-Portuguese model held the "u" of
    "construída" 1.26 s and squeezed "pelos egípcios no século" into the next second, every
    phone after it 1 s late); read speech has no such phones. Each capped state becomes a chain
    of that many copies (self-loop -> next copy), so the cap is exact, not a penalty."""
    st_item, st_model, st_k = [], [], []
    first: list[int] = []
    #: per item and state: the global indices of its copies (one unless capped)
    copies: list[list[list[int]]] = []
    for it, name in enumerate(names):
        first.append(len(st_item))
        n_copy = max_state_frames if max_state_frames > 0 and it not in uncapped else 1
        per_state = []
        for k in range(len(hmms[name].means)):
            per_state.append(list(range(len(st_item), len(st_item) + n_copy)))
            for _ in range(n_copy):
                st_item.append(it)
                st_model.append(name)
                st_k.append(k)
        copies.append(per_state)
    G = len(st_item)
    T = len(feats)
    if G == 0 or T == 0:
        return None
    # emissions, computed once per distinct (model, state) pair
    emis = np.empty((T, G))
    cache: dict[tuple[str, int], np.ndarray] = {}
    for g in range(G):
        key = (st_model[g], st_k[g])
        if key not in cache:
            cache[key] = hmms[key[0]].log_emission(key[1], feats)
        emis[:, g] = cache[key]
    # predecessors: within a model (HTK transp) and from the exits of the item's predecessors
    pl: list[list[tuple[int, float]]] = [[] for _ in range(G)]
    entry_init = np.full(G, -np.inf)
    exit_final = np.full(G, -np.inf)

    def exits(it: int) -> list[tuple[int, float]]:
        h = hmms[names[it]]
        S = len(h.means)
        return [(c, h.logA[k + 1, S + 1]) for k in range(S) if np.isfinite(h.logA[k + 1, S + 1])
                for c in copies[it][k]]

    for it, name in enumerate(names):
        h = hmms[name]
        S = len(h.means)
        for k in range(S):
            cs = copies[it][k]
            g = cs[0]  # a state is entered at its first copy
            for j in range(S):
                if j != k and np.isfinite(h.logA[j + 1, k + 1]):
                    pl[g].extend((c, h.logA[j + 1, k + 1]) for c in copies[it][j])
            if np.isfinite(h.logA[k + 1, k + 1]):  # staying: the next copy (the same one if uncapped)
                loop = h.logA[k + 1, k + 1]
                if len(cs) == 1:
                    pl[g].append((g, loop))
                else:
                    for a, b in zip(cs, cs[1:]):
                        pl[b].append((a, loop))
            a0 = h.logA[0, k + 1]
            if not np.isfinite(a0):
                continue
            for j in preds[it]:
                for src, lp in exits(j):
                    pl[g].append((src, lp + a0))
            if it in starts:
                entry_init[g] = a0
    for it in ends:
        for src, lp in exits(it):
            exit_final[src] = lp
    K = max(len(p) for p in pl)
    P = np.zeros((G, K), int)
    L = np.full((G, K), -np.inf)
    for g, p in enumerate(pl):
        for k, (src, lp) in enumerate(p):
            P[g, k], L[g, k] = src, lp
    delta = entry_init + emis[0]
    back = np.zeros((T, G), np.int32)
    for t in range(1, T):
        cand = delta[P] + L
        b = cand.argmax(axis=1)
        back[t] = P[np.arange(G), b]
        delta = cand[np.arange(G), b] + emis[t]
    fin = delta + exit_final
    g = int(np.argmax(fin))
    if not np.isfinite(fin[g]):
        return None
    path = np.empty(T, int)
    for t in range(T - 1, -1, -1):
        path[t] = g
        g = back[t, g]
    items = np.array(st_item)[path]
    out = []
    s = 0
    for t in range(1, T + 1):
        if t == T or items[t] != items[s]:
            out.append((int(items[s]), s, t - 1))
            s = t
    return out


def segment(text: str, model: Model, longest: int = 8) -> list[str]:
    """Unspaced text (Chinese) -> the dictionary's words, longest match first, left to right; a
    character the dictionary lacks (a digit) is a word of its own; spaces split too."""
    out: list[str] = []
    text = "".join(" " if unicodedata.category(c).startswith("P") else c for c in text)
    for chunk in text.split():
        i = 0
        while i < len(chunk):
            if chunk[i] == "ー" and out:  # Japanese long-vowel mark: lengthens the word before it
                out[-1] += chunk[i]
                i += 1
                continue
            for n in range(min(longest, len(chunk) - i), 0, -1):
                if n == 1 or chunk[i:i + n].lower() in model.dictionary:
                    if n == 1 and _HAN.match(chunk[i]) and chunk[i] not in model.dictionary:
                        # a kanji the dictionary lacks keeps its kana ending (滴り, not 滴 + り):
                        # its reading depends on the word (see _kana)
                        while n < 4 and i + n < len(chunk) and "\u3041" <= chunk[i + n] <= "\u309f":
                            n += 1
                    out.append(chunk[i:i + n])
                    i += n
                    break
    return out


def _abbreviation(word: str, voice: str) -> str | None:
    """What a written abbreviation stands for in ``voice``'s language (EmoAnim's g2p.ABBREVIATIONS,
    matched ignoring case), or None."""
    from emoanim_server.face.lipsync.g2p import ABBREVIATIONS

    table = ABBREVIATIONS.get(voice.split("-")[0].lower(), {})
    w = word.lower().rstrip(".")
    return next((said for k, said in table.items() if k.lower().rstrip(".") == w), None)


def pronounce_variants(words: list[str], model: Model, voice: str, use_dictionary: bool = True) -> list[list[list[str]]]:
    """Every pronunciation the reference may choose from, per word (model phone names): first what
    :func:`pronounce` gives (the dictionary's first variant, or espeak-ng), then the dictionary's
    other variants, then, for a written abbreviation ("a.c.", "z.B."), the words it stands for.

    Why: the audio, not the order of a dictionary's lines, should decide how a word was said.
    SPPAS's dictionaries list variants in no order of likelihood (Spanish "un": u m | u n | u l |
    u s; "con": k o l | ...; "en": e | ...), and taking the first forced a bilabial onto every
    Spanish "un" of the FLEURS and SPPAS-IPU references. And a reader says an abbreviation as the
    words it stands for ("a.C.": "antes de Cristo"), where espeak-ng spells it; both are offered,
    the acoustic model picks (the same table EmoAnim uses, but the reference is not told which
    reading EmoAnim took: its own likelihood chooses)."""
    first = pronounce(words, model, voice, use_dictionary)
    out: list[list[list[str]]] = []
    for w, p in zip(words, first):
        vs = [p] if p else []
        if use_dictionary:
            for v in model.dictionary.get(w.lower(), [])[1:]:
                q = [model.sampa[x] for x in v if x in model.sampa]
                if q and q not in vs:
                    vs.append(q)
        said = _abbreviation(w, voice) if "." in w else None
        if said:
            q = [x for part in pronounce(said.split(), model, voice, use_dictionary) for x in part]
            if q and q not in vs:
                vs.append(q)
        out.append(vs)
    return out


#: the longest an emitting state of a phone may last, in 10 ms frames (viterbi_graph); 0: no cap.
#: Session 10 (2026-12-02), rule written before any EmoAnim figure: the smallest cap in 15/20/25/30
#: whose ``--check`` (SPPAS's own French/Catalan alignments) stays within 0.002 of uncapped on
#: starts within 20 ms and frames with the same label. Uncapped 0.849 / 0.841; 10: 0.838 / 0.820;
#: 15: 0.842 / 0.829; 20: 0.844 / 0.833; 25: 0.848 / 0.841; 30: 0.848 / 0.841 -> 25 passes. FLEURS
#: dev half: reference phones over 0.5 s outside pauses 8 -> 0 (fleurs-pt-000 "u" 1.17 s, pt-004 /
#: pt-006 "p" 0.66 / 0.84 s, de-008 "n" 1.64 s); SPPAS-IPU had none. fleurs-pt-001 with 25: "a.c."
#: read "antes de Cristo", "construída" 1.73-2.47 s (uncapped 1.73-3.80 s, the audio's pauses say
#: the former). On since session 11, with benchmarks/lipsync_real_languages.py re-scored on it
#: (docs/languages.md; the capped graph costs ~6 s a FLEURS line).
MAX_STATE_FRAMES = 25


def align(x: np.ndarray, words: list[str], model: Model, voice: str, t0: float = 0.0,
          prons: list[list[str]] | None = None, use_dictionary: bool = True,
          variants: bool = True, max_state_frames: int | None = None) -> list[tuple[float, float, str]] | None:
    """Audio (16 kHz) + its words -> [(start, end, SAMPA label)] with optional pauses between
    words and at the ends (labelled ``#``); None where no path exists. ``variants``: each word may
    take any of :func:`pronounce_variants`'s pronunciations, the likeliest on the audio (False: the
    first only, the references before session 9); ``prons`` given: exactly those.
    ``max_state_frames``: :func:`viterbi_graph`'s cap on a phone state (None: :data:`MAX_STATE_FRAMES`;
    0: none, the references before session 10)."""
    if max_state_frames is None:
        max_state_frames = MAX_STATE_FRAMES
    if prons is not None:
        alts = [[p] for p in prons]
    elif variants:
        alts = pronounce_variants(words, model, voice, use_dictionary)
    else:
        alts = [[p] for p in pronounce(words, model, voice, use_dictionary)]
    sil = "sil" if "sil" in model.hmms else next(k for k, v in model.sampa.items() if v == "#")
    names: list[str] = [sil]
    preds: list[list[int]] = [[]]
    starts, ends = {0}, set()
    prev_last: list[int] = []  # last items of the previous word's variants
    prev_sil = 0               # the optional pause before this word
    first_word = True
    for vs in alts:
        vs = [[q for q in v if q in model.hmms] for v in vs]
        vs = [v for i, v in enumerate(vs) if v and v not in vs[:i]]
        if not vs:
            continue
        lasts = []
        for v in vs:
            for k, q in enumerate(v):
                names.append(q)
                if k == 0:
                    preds.append(prev_last + [prev_sil])
                    if first_word:
                        starts.add(len(names) - 1)
                else:
                    preds.append([len(names) - 2])
            lasts.append(len(names) - 1)
        names.append(sil)
        preds.append(list(lasts))
        prev_last, prev_sil, first_word = lasts, len(names) - 1, False
    if first_word:
        return None
    ends = set(prev_last) | {prev_sil}
    feats = htk_features(x)
    got = None
    if max_state_frames:
        pauses = {i for i, n in enumerate(names) if n == sil}
        got = viterbi_graph(feats, names, preds, starts, ends, model.hmms, max_state_frames, pauses)
    if got is None:  # no path within the cap (or none asked): the uncapped alignment
        got = viterbi_graph(feats, names, preds, starts, ends, model.hmms)
    if got is None:
        return None
    out = []
    for it, a, b in got:
        name = names[it]
        lab = "#" if name == sil else model.name_sampa.get(name, name)
        out.append((t0 + a * HOP / FS + BOUNDARY_S, t0 + (b + 1) * HOP / FS + BOUNDARY_S, lab))
    return out


def check(gitdir: str, variants: bool = True, max_state_frames: int | None = None) -> dict:
    """How closely this aligner reproduces SPPAS's own phone alignments (``*-palign.xra``) of its
    French and Catalan samples, aligning each stretch of SPPAS's token tier between pauses (as the
    held-out references align each IPU). The benchmark never runs it; it is how a change to the
    reference aligner is judged without looking at EmoAnim's output: share of SPPAS's phone starts
    with one of ours of the same label within 20 / 40 ms, and share of 10 ms frames (inside SPPAS's
    speech) with the same label."""
    import sys as _sys
    from pathlib import Path

    here = Path(__file__).resolve().parent
    _sys.path.insert(0, str(here.parent))
    _sys.path.insert(0, str(here))
    import lipsync_real_languages as lrl
    from emoanim_server.audio import load_audio
    import tempfile

    names = _git(gitdir, "ls-tree", "-r", "--name-only", "-z", "HEAD").decode("utf-8").split("\0")
    tmp = Path(tempfile.mkdtemp())
    n20 = n40 = n = 0
    fr_same = fr_n = 0
    lines = 0
    for folder, voice in (("fra", "fr"), ("cat", "ca")):
        model = load_model(gitdir, folder)
        for pa in sorted(x for x in names if x.startswith(f"samples/annotation-results/samples-{folder}/")
                         and x.endswith("-palign.xra")):
            stem = pa.split("/")[-1][: -len("-palign.xra")]
            wav = f"samples/samples-{folder}/{stem}.wav"
            if wav not in names:
                continue
            xra = _git(gitdir, "show", f"HEAD:{pa}").decode("utf-8")
            (tmp / "a.wav").write_bytes(_git(gitdir, "show", f"HEAD:{wav}"))
            x = load_audio(str(tmp / "a.wav")).samples
            segs, cur = [], []
            for a, b, t in lrl._tier(xra, "TokensAlign") + [(0.0, 0.0, "#")]:
                if t in lrl.SPPAS_SIL or t == "@":
                    if cur:
                        segs.append((cur[0][0], cur[-1][1], " ".join(w for _, _, w in cur)))
                    cur = []
                else:
                    w = t.strip("{}").replace("_", " ").strip()
                    if w:
                        cur.append((a, b, w))
            ours: list[tuple[float, float, str]] = []
            for a, b, text in segs:
                a0 = max(0.0, a - 0.05)
                got = align(x[int(a0 * FS): int((b + 0.05) * FS)], text.split(), model, voice, t0=a0, variants=variants,
                            max_state_frames=max_state_frames)
                if got:
                    ours += [g for g in got if g[2] != "#"]
            ref = [(a, b, t) for a, b, t in lrl._tier(xra, "PhonAlign") if t not in lrl.SPPAS_SIL]
            lines += 1
            for a, _, t in ref:
                d = min((abs(s - a) for s, _, q in ours if q == t), default=9.0)
                n += 1
                n20 += d <= 0.02
                n40 += d <= 0.04
            for a, b, t in ref:
                for f in np.arange(a + 0.005, b, 0.01):
                    lab = next((q for s, e, q in ours if s <= f < e), "#")
                    fr_n += 1
                    fr_same += lab == t
    return {"lines": lines, "phones": n, "starts_within_20ms": round(n20 / n, 3), "starts_within_40ms": round(n40 / n, 3),
            "frames_same_label": round(fr_same / fr_n, 3), "variants": variants,
            "max_state_frames": MAX_STATE_FRAMES if max_state_frames is None else max_state_frames}


if __name__ == "__main__":
    import argparse
    import json

    ap = argparse.ArgumentParser(description="check the reference aligner against SPPAS's own alignments")
    ap.add_argument("--check", action="store_true", required=True)
    ap.add_argument("--sppas", default="/work/.mirror/mirfan899+sppas/repo")
    ap.add_argument("--first-variant", action="store_true", help="each word's first dictionary variant only")
    ap.add_argument("--max-state-frames", type=int, default=None,
                    help="cap on a phone state's frames (default MAX_STATE_FRAMES; 0: none)")
    a = ap.parse_args()
    print(json.dumps(check(a.sppas, variants=not a.first_variant, max_state_frames=a.max_state_frames)))

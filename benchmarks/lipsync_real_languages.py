#!/usr/bin/env python3
"""Lip-sync with transcripts on REAL non-English speech, per language, against the shared judge.

Why a separate benchmark from lipsync_languages.py: espeak-ng speech has exact timing but a
voice the en-US acoustic model never meets in a product; recorded speech is what the transcript
path must hold up on. Real non-English speech with phone-level labels is scarce; the sets here:

* ``sppas``: the sample recordings of the SPPAS distribution (French: 13 lines, 9 speakers;
  Catalan: 3 lines) with SPPAS's own *automatic* phone alignments (``*-palign.xra``, X-SAMPA).
  Licence: GPL-3 (samples/COPYRIGHT.txt of SPPAS) -- evaluation only, nothing here ships or is
  trained on. Source: github.com/mirfan899/sppas (a mirror of SPPAS 2.x, commit c0e5932c).
  The transcript given to EmoAnim is SPPAS's token tier (what the speaker said, disfluencies
  such as "chort- sortir" included).
* ``sppas-ipu`` (held out): SPPAS samples with utterance-level (IPU) text only -- German,
  Spanish, European Portuguese, Polish and (since session 9) Mandarin (3 read passages in
  characters) and Japanese (1 line with kanji); the transcript is the IPUs' text without SPPAS's
  markup.
* ``fleurs-cjk`` (held out, since session 9): three FLEURS clips in Mandarin and Japanese
  (CC-BY-4.0) as kept by github.com/victorchentw/WhisperSTT (commit eb374d6), never trained on.
* ``fleurs`` (held out): Google FLEURS read sentences (CC-BY-4.0), 10 each in German,
  Latin-American Spanish, Brazilian Portuguese and French, as kept by
  github.com/sebastian-software/cuttledoc (packages/cuttledoc/fixtures, commit e0c58788). Only
  the 5 odd-numbered lines per language are scored since model v1.2 (session 5): the even ones
  are now the learned model's training data.

The held-out sets have no phone labels: their reference phones come from benchmarks/htk_align.py,
a Viterbi aligner over SPPAS's own HTK models for the language (not EmoAnim's aligner), checked
against SPPAS's alignments of the French/Catalan samples (89 % of phone starts within 20 ms).
All three sets with four modes take ~15 min of one core (~780 s of audio).

Every line is baked in-process four ways and scored with the judge's own ``score()``
(../shared/tools/lipsync_check.py: closure on p/b/m, jaw open, rounding on uw/ow/w, f/v tuck):

* ``transcript``: transcript + ``--language`` with the default engine (``auto``);
* ``transcript_phonetic``: the same with ``--lipsync phonetic`` (the alignment alone, no
  learned contacts) -- shows what the alignment itself contributes;
* ``audio``: ``--language`` without a transcript (the "never worse" baseline: what the same user
  gets without the script);
* ``audio_en``: no transcript, no language (the English default).

The reference phones get the judge's labels through ipa.py's one table (X-SAMPA -> IPA ->
phones), so "round" means the judge's uw/ow/w (French u, o, y, w, ɥ), "open" aa/ae (a), etc.
The references are automatic alignments: treat a few points as noise.

Usage: python benchmarks/lipsync_real_languages.py [--sppas GITDIR] [--fleurs GITDIR]
       [--sets sppas,sppas-ipu,fleurs] [--langs fra,cat]
       [--modes transcript,transcript_phonetic,audio,audio_en] [--limit N]
       [--out benchmarks/results/lipsync_real_languages.json]
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = next((p for p in (ROOT.parent / "shared", ROOT.parent.parent / "shared") if p.is_dir()),
              ROOT.parent / "shared")
for p in (ROOT, ROOT / "benchmarks", SHARED / "tools"):
    sys.path.insert(0, str(p))
os.environ.setdefault("OMP_NUM_THREADS", "1")

from lipsync_check import GRID, score  # noqa: E402
from _results import judge_signals  # noqa: E402

from emoanim_server.audio import load_audio  # noqa: E402
from emoanim_server.face.lipsync.ipa import ipa_to_phones  # noqa: E402
from emoanim_server.pipeline import BakeOptions, bake  # noqa: E402

METRICS = ("closure", "closure_m", "open", "round", "fv")
BARS = {"closure": 0.95, "round": 0.90, "fv": 0.85}
MODES = ("transcript", "transcript_phonetic", "audio", "audio_en")
DEFAULT_SPPAS = "/work/.mirror/mirfan899+sppas/repo"
#: where the SPPAS acoustic models and dictionaries for the reference aligner come from
SPPAS_MODELS = DEFAULT_SPPAS
#: SPPAS sample folder -> our language tag
SPPAS_LANGS = {"fra": "fr", "cat": "ca"}

#: SPPAS X-SAMPA phone labels -> IPA (SPPAS's phone sets, Packager/doc/04_resources); a label not
#: listed is already IPA-like (p, b, m, a, i, u, ...)
SAMPA = {"E": "ɛ", "O": "ɔ", "2": "ø", "9": "œ", "@": "ə", "S": "ʃ", "Z": "ʒ", "J": "ɲ", "N": "ŋ",
         "R": "ʁ", "H": "ɥ", "4": "ɾ", "L": "ʎ", "B": "β", "D": "ð", "G": "ɣ", "T": "θ", "rr": "r",
         "a~": "ɑ̃", "o~": "ɔ̃", "O~": "ɔ̃", "A/": "a", "O/": "o", "E/": "e", "U~/": "ɛ̃",
         "U~": "ɛ̃", "9~": "œ̃", "A": "ɑ", "I": "ɪ", "U": "ʊ", "V": "ʌ", "Q": "ɒ", "{": "æ", "3": "ɜ",
         "tS": "tʃ", "dZ": "dʒ", "ts": "ts", "x": "x",
         # labels of SPPAS's German, Spanish, Portuguese and Polish models (htk_align.py references)
         "aI": "aɪ", "aU": "aʊ", "OY": "ɔʏ", "6": "ɐ", "C": "ç", "?": "ʔ", "2:": "øː", "E:": "ɛː", "j\\": "ʝ",
         "s\\": "ɕ", "z\\": "ʑ", "ts\\": "tɕ", "dz\\": "dʑ", "n'": "ɲ", "R\\": "r", "I\\": "ɨ", "E~": "ɛ̃",
         "e~": "ẽ", "u~": "ũ"}
#: where a model's SAMPA letter means something else than standard X-SAMPA: European Portuguese and
#: Polish ``y`` is the unrounded ɨ ("que" k y, "czy" tS y), not the rounded front vowel
LANG_SAMPA = {"por": {"y": "ɨ"}, "pol": {"y": "ɨ"},
              # SPPAS's Mandarin model's own labels (resources/models/models-cmn, dictionary cmn.dict):
              # S is the mid vowel of "sheng" s` S N, not ʃ; i` / i_d the apical vowels of "shi" / "si";
              # _h aspiration; tss / ss / ts_hs the alveolo-palatals of "ji" / "xi" / "qi"
              "cmn": {"S": "ə", "i`": "ɨ", "i_d": "ɨ", "@`": "ɚ", "p_h": "p", "t_h": "t", "k_h": "k",
                      "ts_h": "ts", "ts_h`": "ʈʂ", "ts`": "ʈʂ", "s`": "ʂ", "z`": "ʐ", "tss": "tɕ",
                      "ts_hs": "tɕ", "ss": "ɕ", "x": "x", "N": "ŋ"},
              # SPPAS's Japanese model (models-jpn: romaji-like names, no monophones.repl): u is the
              # unrounded ɯ, f the bilabial ɸ, y the glide j, j the affricate dʒ, q the geminate's
              # closure, Cy palatalised consonants, N the moraic nasal
              "jpn": {"u": "ɯ", "u:": "ɯː", "a:": "aː", "e:": "eː", "i:": "iː", "o:": "oː", "f": "ɸ",
                      "y": "j", "j": "dʒ", "r": "ɾ", "q": "ʔ", "ch": "tɕ", "sh": "ɕ", "ts": "ts",
                      "by": "bʲ", "my": "mʲ", "py": "pʲ", "ky": "kʲ", "gy": "ɡʲ", "ny": "ɲ", "ry": "ɾʲ",
                      "hy": "ç", "dy": "dʲ", "N": "ɴ", "silE": "sil"}}
#: models whose language is written without spaces: the reference splits a segment's text into the
#: dictionary's words by longest match (benchmarks/htk_align.segment), as SPPAS's tokenizer does
UNSPACED = {"cmn", "jpn"}
#: SPPAS's silence / noise / filler labels; "noise" and "laugh" are event labels in the phone tier
#: (until 2026-12-01 15:10 they were read as the IPA letters n-o-i-s-e / l-a-u-g-h, which put six
#: rounded vowels into the reference where the speaker laughed or made a noise)
SPPAS_SIL = {"#", "+", "*", "@@", "dummy", "gb", "sil", "", "fp", "lg", "sp", "noise", "laugh"}


def _git(gitdir: str, *args: str) -> bytes:
    return subprocess.run(["git", "--git-dir", gitdir, *args], capture_output=True, check=True).stdout


def _tier(xra: str, name: str) -> list[tuple[float, float, str]]:
    m = re.search(rf'tiername="{name}">(.*?)</Tier>', xra, re.S)
    if not m:
        return []
    return [(float(b), float(e), t.strip()) for b, e, t in re.findall(
        r'<Begin midpoint="([\d.]+)".*?<End midpoint="([\d.]+)".*?<Tag>([^<]*)</Tag>', m.group(1), re.S)]


def sampa_phones(tier: list[tuple[float, float, str]]) -> list[tuple[float, float, str]]:
    """X-SAMPA intervals -> judge-labelled phones (a multi-phone label shares its interval)."""
    out = []
    for b, e, tag in tier:
        if tag in SPPAS_SIL:
            out.append((b, e, "sil"))
            continue
        ph = ipa_to_phones(SAMPA.get(tag, tag)) or ["sil"]
        d = (e - b) / len(ph)
        out += [(b + i * d, b + (i + 1) * d, p) for i, p in enumerate(ph)]
    return out


def sppas_items(gitdir: str, langs: list[str]) -> list[dict]:
    """(language, name, wav bytes, transcript, reference phones) of SPPAS's aligned samples."""
    names = _git(gitdir, "ls-tree", "-r", "--name-only", "-z", "HEAD").decode("utf-8").split("\0")
    out = []
    for folder, tag in SPPAS_LANGS.items():
        if langs and folder not in langs and tag not in langs:
            continue
        for pa in sorted(x for x in names if x.startswith(f"samples/annotation-results/samples-{folder}/")
                         and x.endswith("-palign.xra")):
            stem = pa.split("/")[-1][: -len("-palign.xra")]
            wav = f"samples/samples-{folder}/{stem}.wav"
            if wav not in names:
                continue
            xra = _git(gitdir, "show", f"HEAD:{pa}").decode("utf-8")
            # SPPAS's transcription markup is not speech: @ laughter, * noise, + short pause,
            # {...} brackets around a comment's words, _ joins a multi-word token
            toks = [t.strip("{}") for _, _, t in _tier(xra, "TokensAlign") if t not in SPPAS_SIL | {"@"}]
            text = " ".join(t for t in toks if t).replace("_", " ")
            out.append({"language": tag, "set": "sppas", "name": stem, "wav": _git(gitdir, "show", f"HEAD:{wav}"),
                        "transcript": text, "phones": sampa_phones(_tier(xra, "PhonAlign"))})
    return out


#: SPPAS samples with utterance-level (IPU) text only: folder -> (our tag, espeak-ng voice, SPPAS model)
SPPAS_IPU_LANGS = {"deu": ("de", "de", "deu"), "spa": ("es", "es", "spa"), "por": ("pt", "pt", "por"),
                   "pol": ("pl", "pl", "pol"),
                   # session 9: Mandarin (3 read passages in characters; p8 is in pinyin only), Japanese
                   "cmn": ("zh", "cmn-latn-pinyin", "cmn"), "jpn": ("ja", "ja", "jpn")}
# not here: ita (the snapshot lacks its hmmdefs), kor (a model assembled from Min Nan and English
# phones, a 127-word dictionary, and the snapshot lacks sample-korean.wav), yue (no IPU text)
#: Google FLEURS sentences (CC-BY-4.0) kept as test fixtures by github.com/sebastian-software/cuttledoc
#: (packages/cuttledoc/fixtures, commit e0c58788): 10 read sentences per language, Opus 24 kbps
DEFAULT_FLEURS = "/work/.mirror/sebastian-software+cuttledoc/repo"
FLEURS_DIR = "packages/cuttledoc/fixtures"
#: FLEURS language -> (our tag, espeak-ng voice, SPPAS model); FLEURS es is es_419, pt is pt_br
FLEURS_LANGS = {"de": ("de", "de", "deu"), "es": ("es-419", "es-419", "spa"), "pt": ("pt-BR", "pt-br", "por"),
                "fr": ("fr", "fr", "fra")}
#: languages whose reference must not take SPPAS's dictionary: SPPAS's Portuguese dictionary (and
#: model) are European Portuguese; Brazilian speakers say "de" [dʒi], "Brasil" [bɾaziw], "c" [se]
#: (the dictionary has [k]), so a fair pt-BR reference takes espeak-ng's pt-br pronunciations (the
#: timing still comes from SPPAS's European-Portuguese acoustic model). Until 2026-12-01 session 5
#: the pt-BR reference used the pt-PT dictionary (``--reference-dictionary`` reproduces that).
NO_DICTIONARY = {"pt-BR"}
#: SPPAS transcription markup that is not a word: pauses, noises, breaths, truncation marks
_MARKUP = re.compile(r"\{[^}]*\}|__|[+*#@]|\bipu_\d+\b|[?!.,;:«»\"]")
#: a written abbreviation with inner periods ("a.c.", "z.B.", "p.ej."): kept whole in a FLEURS
#: line's reference words, so the reference may say it as the words it stands for (htk_align)
_ABBREV = re.compile(r"(?<!\S)(?:[^\W\d_]{1,4}\.){2,}(?!\S)")


def reference_text(text: str) -> str:
    """A FLEURS line's words for the reference aligner: markup and punctuation removed as for
    SPPAS's text, but written abbreviations kept as written ("a.c.", not the letters "a c")."""
    keep = {f"\ue000{i}\ue001": m for i, m in enumerate(_ABBREV.findall(text))}
    for k, m in keep.items():
        text = text.replace(m, f" {k} ", 1)
    text = " ".join(_MARKUP.sub(" ", text).split())
    for k, m in keep.items():
        text = text.replace(k, m)
    return " ".join(text.split())


def textgrid_intervals(text: str) -> dict[str, list[tuple[float, float, str]]]:
    """Interval tiers of a Praat TextGrid (long or short text format) by name."""
    out = {}
    for block in re.split(r'"IntervalTier"', text)[1:]:
        block = re.sub(r"\[\d+\]", "", block)
        toks = re.findall(r'"((?:[^"]|"")*)"|(-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)', block)
        name = toks[0][0]
        vals = toks[1:]
        n = int(float(vals[2][1]))
        iv = []
        for k in range(n):
            a, b, t = vals[3 + 3 * k: 6 + 3 * k]
            iv.append((float(a[1]), float(b[1]), t[0].replace('""', '"').strip()))
        out[name] = iv
    return out


def _htk_reference(x: np.ndarray, segments: list[tuple[float, float, str]], model_lang: str, voice: str,
                   gitdir: str, use_dictionary: bool = True, variants: bool = True) -> list[tuple[float, float, str]] | None:
    """Judge-labelled reference phones from benchmarks/htk_align.py (SPPAS's acoustic model for the
    language), one alignment per segment of text; None where a segment finds no path."""
    import htk_align

    model = htk_align.load_model(gitdir, model_lang)
    ref: list[tuple[float, float, str]] = []
    for a, b, text in segments:
        a0 = max(0.0, a - 0.05)
        words = htk_align.segment(text, model) if model_lang in UNSPACED else text.split()
        got = htk_align.align(x[int(a0 * 16000): int((b + 0.05) * 16000)], words, model, voice, t0=a0,
                              use_dictionary=use_dictionary, variants=variants)
        if got is None:
            return None
        ref += [(s, e, LANG_SAMPA.get(model_lang, {}).get(lab, lab)) for s, e, lab in got]
    return sampa_phones(ref)


def sppas_ipu_items(gitdir: str, langs: list[str], variants: bool = True) -> list[dict]:
    """SPPAS samples with IPU text: the transcript is the IPUs' text, the reference phones come from
    aligning each IPU with SPPAS's model for the language (benchmarks/htk_align.py)."""
    names = _git(gitdir, "ls-tree", "-r", "--name-only", "-z", "HEAD").decode("utf-8").split("\0")
    out = []
    tmp = Path(tempfile.mkdtemp())
    for folder, (tag, voice, model) in SPPAS_IPU_LANGS.items():
        if langs and folder not in langs and tag not in langs:
            continue
        for tg in sorted(x for x in names if x.startswith(f"samples/samples-{folder}/") and x.endswith(".TextGrid")):
            wav = tg[: -len(".TextGrid")] + ".wav"
            if wav not in names:
                continue
            tiers = textgrid_intervals(_git(gitdir, "show", f"HEAD:{tg}").decode("utf-8-sig"))
            best = []
            for iv in tiers.values():
                segs = [(a, b, " ".join(_MARKUP.sub(" ", t.replace("\ufeff", "")).split())) for a, b, t in iv]
                segs = [x for x in segs if x[2]]
                if sum(len(x[2]) for x in segs) > sum(len(x[2]) for x in best):
                    best = segs
            if not best or all(w.isupper() for x in best for w in x[2].split()):  # logatomes (ita S1A1)
                continue
            if model == "cmn" and not any("\u4e00" <= c <= "\u9fff" for x in best for c in x[2]):
                continue  # Mandarin p8: pinyin only; a transcript is written in characters
            data = _git(gitdir, "show", f"HEAD:{wav}")
            (tmp / "a.wav").write_bytes(data)
            x = load_audio(str(tmp / "a.wav")).samples
            ref = _htk_reference(x, best, model, voice, gitdir, variants=variants)
            if ref is None:
                print(f"no reference alignment for {wav}", file=sys.stderr)
                continue
            out.append({"language": tag, "set": "sppas-ipu", "name": tg.split("/")[-1][: -len(".TextGrid")],
                        "wav": data, "transcript": " ".join(t for _, _, t in best), "phones": ref})
    return out


def fleurs_items(gitdir: str, langs: list[str], dictionary_always: bool = False, half: str = "test",
                 variants: bool = True) -> list[dict]:
    """FLEURS sentences of the test half (odd-numbered: the even ones train the learned model): the
    transcript is FLEURS's, the reference phones come from aligning it with SPPAS's model for the
    language (benchmarks/htk_align.py). ``half="dev"``: the even-numbered lines instead, for
    looking into the transcript path's misses without reading the test half (the learned model
    trained on these, so audio-only and fused figures there read high)."""
    names = _git(gitdir, "ls-tree", "-r", "--name-only", "-z", "HEAD", FLEURS_DIR).decode("utf-8").split("\0")
    out = []
    tmp = Path(tempfile.mkdtemp())
    for fl, (tag, voice, model) in FLEURS_LANGS.items():
        if langs and fl not in langs and tag not in langs:
            continue
        for ogg in sorted(x for x in names if re.search(rf"/fleurs-{fl}-\d+\.ogg$", x)):
            # only the test half (odd-numbered lines): since model v1.2 the even-numbered lines
            # are the learned model's training data (tools/artic_heldout.py's dev half, taken up by
            # tools/artic_real.py), and never train on what you report on
            if int(re.search(r"-(\d+)\.ogg$", ogg).group(1)) % 2 == (0 if half == "test" else 1):
                continue
            txt = ogg[: -len(".ogg")] + ".txt"
            if txt not in names:
                continue
            raw = _git(gitdir, "show", f"HEAD:{txt}").decode("utf-8")
            # EmoAnim gets the line as written (a user's script keeps its punctuation: "a.c."
            # must reach the G2P as an abbreviation, not as the letters "a c", which it was
            # until session 9); the reference its words (reference_text)
            text = " ".join(raw.split())
            data = _git(gitdir, "show", f"HEAD:{ogg}")
            (tmp / "a.ogg").write_bytes(data)
            x = load_audio(str(tmp / "a.ogg")).samples
            ref = _htk_reference(x, [(0.0, len(x) / 16000, reference_text(raw) if variants
                                                        else " ".join(_MARKUP.sub(" ", raw).split()))], model, voice, SPPAS_MODELS,
                                 use_dictionary=dictionary_always or tag not in NO_DICTIONARY, variants=variants)
            if ref is None:
                print(f"no reference alignment for {ogg}", file=sys.stderr)
                continue
            out.append({"language": tag, "set": "fleurs" if half == "test" else "fleurs-dev", "name": ogg.split("/")[-1][: -len(".ogg")],
                        "wav": data, "suffix": ".ogg", "transcript": text, "phones": ref})
    return out


#: FLEURS clips in Mandarin and Japanese (CC-BY-4.0, google/fleurs cmn_hans_cn 1883, ja_jp 1837; one
#: Mandarin clip of two sentences with Latin-script names, 1805 + 1830) as kept by
#: github.com/victorchentw/WhisperSTT (WhisperiOS/Models/benchmark-clips, commit eb374d6):
#: clip -> (our tag, espeak-ng voice, SPPAS model). Never trained on (the learned model's FLEURS lines
#: are cuttledoc's de/es/pt/fr ones).
DEFAULT_FLEURS_CJK = "/work/.mirror/victorchentw+WhisperSTT/repo"
FLEURS_CJK_DIR = "WhisperiOS/Models/benchmark-clips"
FLEURS_CJK = {"fleurs_zh_1883_clip5": ("zh", "cmn-latn-pinyin", "cmn"),
              "fleurs_zh_en_mix_1805_1830_clip6": ("zh", "cmn-latn-pinyin", "cmn"),
              "fleurs_ja_1837_clip4": ("ja", "ja", "jpn")}


def fleurs_cjk_items(gitdir: str, langs: list[str], variants: bool = True) -> list[dict]:
    """The FLEURS Mandarin / Japanese clips (FLEURS_CJK): the transcript is the clip's text, the
    reference phones come from SPPAS's model for the language (benchmarks/htk_align.py, the text
    split by SPPAS's dictionary), aligned whole."""
    out = []
    tmp = Path(tempfile.mkdtemp())
    for name, (tag, voice, model) in FLEURS_CJK.items():
        if langs and tag not in langs and model not in langs:
            continue
        try:
            raw = _git(gitdir, "show", f"HEAD:{FLEURS_CJK_DIR}/{name}.txt").decode("utf-8")
            data = _git(gitdir, "show", f"HEAD:{FLEURS_CJK_DIR}/{name}.wav")
        except subprocess.CalledProcessError:
            continue
        (tmp / "a.wav").write_bytes(data)
        x = load_audio(str(tmp / "a.wav")).samples
        text = " ".join(raw.split())
        ref = _htk_reference(x, [(0.0, len(x) / 16000, " ".join(_MARKUP.sub(" ", raw).split()))], model, voice,
                             SPPAS_MODELS, variants=variants)
        if ref is None:
            print(f"no reference alignment for {name}", file=sys.stderr)
            continue
        out.append({"language": tag, "set": "fleurs-cjk", "name": name, "wav": data, "transcript": text,
                    "phones": ref})
    return out


def outside_speech(phones, x: np.ndarray, pad_s: float = 0.15):
    """The reference with phones that lie wholly before the recording's first stretch of speech or
    after its last (more than ``pad_s`` away; energy VAD) relabelled ``sil``, and how many.

    Why: where a recording stops before its sentence does (FLEURS ``fleurs-pt-000`` ends in 0.8 s
    of silence before "... com a família da vítima"), the reference aligner still has to place
    every word and crams them, 30 ms a phone, into the silence; no mouth can be judged against
    speech that is not in the audio. Both modes are scored on the same reference. Speech: 10 ms
    frames a quarter of the way from the recording's floor (10th percentile dB) to its level (95th),
    in runs of at least 50 ms (a deliberately low bar: quiet FLEURS recordings peak near -52 dBFS)."""
    from emoanim_server.audio import frame_db

    db = frame_db(x, 0.01)
    floor, loud = np.percentile(db, 10), np.percentile(db, 95)
    on = np.convolve(db > floor + 0.25 * (loud - floor), np.ones(5), "same") >= 5
    if not on.any():
        return phones, 0
    idx = np.flatnonzero(on)
    lo, hi = (idx[0] - 2) * 0.01 - pad_s, (idx[-1] + 3) * 0.01 + pad_s
    out, n = [], 0
    for a, b, p in phones:
        if p != "sil" and (b < lo or a > hi):
            out.append((a, b, "sil"))
            n += 1
        else:
            out.append((a, b, p))
    return out, n


def judge(curves: np.ndarray, fps: int, phones) -> dict[str, list[bool]]:
    t, gap, rnd, fv = judge_signals(curves, fps)
    grid = np.arange(0, phones[-1][1], 1 / GRID)
    return score(grid, *(np.interp(grid, t, x) for x in (gap, rnd, fv)), phones)


def event_spans(phones) -> dict[str, list[tuple[float, float, str]]]:
    """The judge's events per metric as (start, end, phone), in the order ``score()`` lists them
    (the same conditions), so its per-event results can be paired across modes, with word scores
    and with our own alignment."""
    grid = np.arange(0, phones[-1][1], 1 / GRID)
    out: dict[str, list[tuple[float, float, str]]] = {k: [] for k in ("closure", "open", "round", "fv")}
    for a, b, p in phones:
        if not ((grid >= a - 0.02) & (grid <= b + 0.02)).any():
            continue
        if p in ("p", "b", "m"):
            out["closure"].append((a, b, p))
        if p in ("aa", "ae", "aw", "ay", "ao") and b - a >= 0.06:
            out["open"].append((a, b, p))
        if p in ("uw", "ow", "w") and b - a >= 0.05:
            out["round"].append((a, b, p))
        if p in ("f", "v"):
            out["fv"].append((a, b, p))
    return out


def event_times(phones) -> dict[str, list[float]]:
    """Mid-times of :func:`event_spans`."""
    return {k: [0.5 * (a + b) for a, b, _ in v] for k, v in event_spans(phones).items()}


#: which of OUR aligned phones serve each judged metric (ipa.py's classes)
OUR_CLASS = {"closure": "bilabial", "round": "rounded", "fv": "labiodental", "open": "open"}
#: how far our nearest phone of the event's class lies from a missed reference event (s)
MISS_BINS = ((0.0, "ours overlaps (+-20 ms)"), (0.1, "ours < 0.1 s away"), (1.0, "ours 0.1-1 s away"),
             (1e9, "none within 1 s"))


#: which learned-model contact probability witnesses each metric (neural_outputs' columns after the
#: articulators): p(lips meet) for closures, p(tuck) for f/v
MODEL_CONTACT = {"closure": 0, "fv": 1}


def judge_window(a: float, b: float, rate: int = 100) -> slice:
    """Frames of a ``rate``-Hz signal inside a reference segment +-20 ms, the judge's window."""
    return slice(max(0, int(np.floor((a - 0.02) * rate))), int(np.ceil((b + 0.02) * rate)) + 1)


def miss_details(ref_spans, hits, track, metric: str, model_y: np.ndarray | None = None) -> list[dict]:
    """Every event of ``metric`` the track missed, with where OUR alignment put the nearest phone
    of that class (distance from the reference segment +-20 ms, the judge's window), our phone
    and word at the reference's mid-time: a miss with our phone overlapping is a mouth that did
    not get there; one 0.1-1 s away is a timing disagreement between the reference and us; none
    within 1 s is a phone our pronunciation lacks.

    ``model_y`` (the learned model's raw outputs at 100 Hz, audio only): for closures and f/v, the
    model's peak contact probability inside the reference's segment and inside our nearest phone
    (each +-20 ms), a third witness of who placed the contact where the audio has it (on the
    FLEURS test half the model never trained on those lines)."""
    from emoanim_server.face.lipsync.ipa import phone_class
    from emoanim_server.face.lipsync.neural import N_ART

    ours = [(a, b) for a, b, p in track.events.get("phones", []) if phone_class(p) == OUR_CLASS[metric]]
    words = track.events.get("words", [])
    col = MODEL_CONTACT.get(metric)

    def peak(a: float, b: float) -> float | None:
        if model_y is None or col is None:
            return None
        v = model_y[judge_window(a, b), N_ART + col]
        return round(float(v.max()), 2) if v.size else None

    out = []
    for (a, b, p), hit in zip(ref_spans, hits):
        if hit:
            continue
        lo, hi, mid = a - 0.02, b + 0.02, 0.5 * (a + b)
        d = min((0.0 if (s < hi and e > lo) else min(abs(s - hi), abs(lo - e)) for s, e in ours), default=None)
        near = min(ours, key=lambda q: abs(0.5 * (q[0] + q[1]) - mid), default=None)
        at = [q for s, e, q in track.events.get("phones", []) if s <= mid < e]
        w = [q for s, e, q in words if s <= mid < e]
        out.append({"t": round(mid, 3), "ref": p, "distance_s": None if d is None else round(d, 3),
                    "ours_at": at[0] if at else None, "word_at": w[0] if w else None,
                    "model_p_ref": peak(a, b), "model_p_ours": None if near is None else peak(*near)})
    return out


#: the contact probability a witness must reach: the learned engine's lips threshold
#: (neural.DECODING.bilabial_threshold), used for tucks too (stricter than their 0.45)
WITNESS_P = 0.65


def witness_table(misses: dict) -> dict:
    """Per set/language, for missed closures and f/v: how many the learned model (audio only) closes
    or tucks at the reference's segment, at our nearest phone, at both or at neither (p >= WITNESS_P)."""
    out = {}
    for key, per_metric in misses.items():
        for k, ms in per_metric.items():
            ms = [m for m in ms if m.get("model_p_ref") is not None]
            if not ms:
                continue
            r = [m["model_p_ref"] >= WITNESS_P for m in ms]
            o = [(m["model_p_ours"] or 0.0) >= WITNESS_P for m in ms]
            out.setdefault(key, {})[k] = {"misses": len(ms), "model_at_reference_only": sum(a and not b for a, b in zip(r, o)),
                                          "model_at_ours_only": sum(b and not a for a, b in zip(r, o)),
                                          "both": sum(a and b for a, b in zip(r, o)),
                                          "neither": sum(not a and not b for a, b in zip(r, o))}
    return out


def miss_table(misses: dict) -> dict:
    """Per set/language and metric: missed events binned by MISS_BINS."""
    out = {}
    for key, per_metric in misses.items():
        for k, ms in per_metric.items():
            row = {lab: 0 for _, lab in MISS_BINS}
            for m in ms:
                d = 1e9 if m["distance_s"] is None or m["distance_s"] > 1.0 else m["distance_s"]
                lab = next(lab for lim, lab in MISS_BINS if d <= lim)
                row[lab] += 1
            out.setdefault(key, {})[k] = row
    return out


#: bins of the aligned word's score (per frame against the free phone loop) for the confidence table
CONF_BINS = (-1e9, -80.0, -60.0, -40.0, -20.0, 1e9)


def confidence_table(conf: dict[str, list[tuple[float | None, bool, bool]]]) -> dict:
    """Per metric and bin of the word's alignment score: events, hit rate with the transcript and
    audio-only, and how many events each gets that the other misses -- what a per-word fallback to
    the audio-only engine below a score would gain (audio_only_better) and lose (transcript_better)."""
    out = {}
    for k, ev in conf.items():
        rows = []
        for lo, hi in zip(CONF_BINS[:-1], CONF_BINS[1:]):
            b = [e for e in ev if e[0] is not None and lo <= e[0] < hi]
            if b:
                rows.append({"score_from": None if lo < -1e8 else lo, "score_to": None if hi > 1e8 else hi, "n": len(b),
                             "transcript": round(float(np.mean([e[1] for e in b])), 3),
                             "audio": round(float(np.mean([e[2] for e in b])), 3),
                             "audio_only_better": sum((not e[1]) and e[2] for e in b),
                             "transcript_better": sum(e[1] and not e[2] for e in b)})
        out[k] = rows
    return out


def mode_options(mode: str, item: dict) -> BakeOptions:
    if mode == "transcript":
        return BakeOptions(transcript=item["transcript"], language=item["language"])
    if mode == "transcript_phonetic":
        return BakeOptions(transcript=item["transcript"], language=item["language"], lipsync="phonetic")
    if mode == "audio":
        return BakeOptions(language=item["language"])
    if mode == "audio_en":
        return BakeOptions()
    raise ValueError(mode)


def summarise(agg: dict[str, list[bool]]) -> dict:
    out = {}
    for k in METRICS:
        v = agg.get(k, [])
        out[k] = round(float(np.mean(v)), 3) if v else None
        out[k + "_n"] = len(v)
    return out


def markdown(res: dict) -> str:
    f = lambda v: "–" if v is None else f"{v:.2f}"  # noqa: E731
    out = [f"# Lip-sync with transcripts on real non-English speech ({res['date']})", "",
           f"{res['machine']} · load {res['loadavg']} · `{res['command']}`", "",
           "Judge definitions (../shared/tools/lipsync_check.py) on automatic phone alignments of real "
           "recordings (sources and licences in the JSON; evaluation only). Bars: closure ≥ 0.95, "
           "round ≥ 0.90, f/v ≥ 0.85; with the transcript never worse than without.", "",
           "| language | set | lines | mode | closure | open | round | f/v | transcript used |",
           "|---|---|---|---|---|---|---|---|---|"]
    for tag, r in res["per_language"].items():
        for m, s in r["modes"].items():
            out.append(f"| {r.get('language', tag)} | {r['set']} | {r['lines']} | {m} | {f(s['closure'])} ({s['closure_n']}) | "
                       f"{f(s['open'])} ({s['open_n']}) | {f(s['round'])} ({s['round_n']}) | "
                       f"{f(s['fv'])} ({s['fv_n']}) | {s.get('transcript_used', '–')} |")
    out += ["", "Pooled over languages:", "", "| mode | closure | open | round | f/v |", "|---|---|---|---|---|"]
    for m, s in res["overall"].items():
        out.append(f"| {m} | {f(s['closure'])} ({s['closure_n']}) | {f(s['open'])} ({s['open_n']}) | "
                   f"{f(s['round'])} ({s['round_n']}) | {f(s['fv'])} ({s['fv_n']}) |")
    if len(res.get("overall_by_set", {})) > 1:
        out += ["", "Pooled per set (sppas: SPPAS's own phone alignments; sppas-ipu, fleurs: references from "
                "benchmarks/htk_align.py):", "", "| set | mode | closure | open | round | f/v |", "|---|---|---|---|---|---|"]
        for st, ms in res["overall_by_set"].items():
            for m, s in ms.items():
                out.append(f"| {st} | {m} | {f(s['closure'])} ({s['closure_n']}) | {f(s['open'])} ({s['open_n']}) | "
                           f"{f(s['round'])} ({s['round_n']}) | {f(s['fv'])} ({s['fv_n']}) |")
    if res.get("confidence"):
        out += ["", "Per-word confidence (the aligned word's score per frame against the free phone loop): events "
                "the audio-only engine gets and the transcript misses (audio better) vs the reverse; a fallback to "
                "the audio-only engine for low-scoring words would win the first and lose the second:", "",
                "| set | metric | word score | events | with transcript | audio only | audio better | transcript better |",
                "|---|---|---|---|---|---|---|---|"]
        for st, k, r in ((st, k, r) for st, tab in res["confidence"].items() for k, rows in tab.items() for r in rows):
            lo = "" if r["score_from"] is None else f"{r['score_from']:.0f}"
            hi = "" if r["score_to"] is None else f"{r['score_to']:.0f}"
            out.append(f"| {st} | {k} | [{lo}, {hi}) | {r['n']} | {r['transcript']:.2f} | {r['audio']:.2f} | "
                       f"{r['audio_only_better']} | {r['transcript_better']} |")
    for m, tab in res.get("misses", {}).items():
        out += ["", f"Missed events in mode {m}, by where OUR alignment put the nearest phone of the event's class "
                "(reference segment +-20 ms; per event in the JSON's items):", "",
                "| language set | metric | " + " | ".join(lab for _, lab in MISS_BINS) + " |",
                "|---|---|" + "---|" * len(MISS_BINS)]
        for key, per_metric in tab.items():
            for k, row in per_metric.items():
                if sum(row.values()):
                    out.append(f"| {key} | {k} | " + " | ".join(str(row[lab]) for _, lab in MISS_BINS) + " |")
    for m, tab in res.get("misses_witness", {}).items():
        out += ["", f"Missed closures and f/v in mode {m}: where the learned model (audio only; it never trained on the "
                f"FLEURS test half) has the contact, p >= {WITNESS_P} within the reference's segment or our nearest phone "
                "(+-20 ms):", "", "| language set | metric | misses | model at reference only | model at ours only | both | neither |",
                "|---|---|---|---|---|---|---|"]
        for key, per_metric in tab.items():
            for k, r in per_metric.items():
                out.append(f"| {key} | {k} | {r['misses']} | {r['model_at_reference_only']} | {r['model_at_ours_only']} | "
                           f"{r['both']} | {r['neither']} |")
    if res.get("worse_than_audio"):
        out += ["", "With the transcript worse than without (language: metric): "
                + ", ".join(res["worse_than_audio"])]
    return "\n".join(out) + "\n"


def _cpu() -> str:
    """The CPU as lscpu names it (model name, family, model): timings are only comparable on one."""
    try:
        first = open("/proc/cpuinfo").read().split("\n\n")[0].splitlines()
        info = {k.strip(): v.strip() for k, v in (ln.split(":", 1) for ln in first if ":" in ln)}
        return f"{info.get('model name', '?')} family {info.get('cpu family', '?')} model {info.get('model', '?')}"
    except OSError:
        return platform.processor() or "cpu unknown"


def load_items(sets: list[str], langs: list[str], sppas: str = DEFAULT_SPPAS, fleurs: str = DEFAULT_FLEURS,
               fleurs_cjk: str = DEFAULT_FLEURS_CJK, reference_dictionary: bool = False, fleurs_half: str = "test",
               variants: bool = True) -> list[dict]:
    """The lines of ``sets`` (sppas, sppas-ipu, fleurs-cjk, fleurs: in that order) whose snapshot
    is here, each with its reference phones; ``langs`` empty: every language."""
    items = sppas_items(sppas, langs) if "sppas" in sets and Path(sppas).exists() else []
    if "sppas-ipu" in sets and Path(sppas).exists():
        items += sppas_ipu_items(sppas, langs, variants)
    if "fleurs-cjk" in sets and Path(fleurs_cjk).exists():
        items += fleurs_cjk_items(fleurs_cjk, langs, variants)
    if "fleurs" in sets and Path(fleurs).exists():
        items += fleurs_items(fleurs, langs, reference_dictionary, fleurs_half, variants)
    return items


def item_audio(item: dict, tmp: Path):
    """An item's recording (its original bytes, written under ``tmp``) as EmoAnim's loader reads it."""
    src = tmp / ("a" + item.get("suffix", ".wav"))
    src.write_bytes(item["wav"])
    return load_audio(str(src))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sppas", default=DEFAULT_SPPAS, help="git dir of a SPPAS snapshot")
    ap.add_argument("--fleurs", default=DEFAULT_FLEURS, help="git dir of the cuttledoc snapshot (FLEURS fixtures)")
    ap.add_argument("--sets", default="sppas,sppas-ipu,fleurs,fleurs-cjk",
                    help="sppas (phone labels), sppas-ipu, fleurs, fleurs-cjk")
    ap.add_argument("--fleurs-cjk", default=DEFAULT_FLEURS_CJK,
                    help="git dir of the WhisperSTT snapshot (FLEURS Mandarin/Japanese clips)")
    ap.add_argument("--fleurs-half", default="test", choices=("test", "dev"),
                    help="FLEURS lines scored: test (odd-numbered, default) or dev (even: the learned model's "
                         "training lines; for looking into the alignment's misses, not for reporting)")
    ap.add_argument("--langs", default="", help="comma-separated (fra,cat or fr,ca); default all")
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--limit", type=int, default=0, help="lines per language")
    ap.add_argument("--reference-dictionary", action="store_true",
                    help="pt-BR reference with SPPAS's (European) dictionary, as before session 5")
    ap.add_argument("--first-variant", action="store_true",
                    help="references with each word's first SPPAS-dictionary variant and written abbreviations "
                         "spelled, as before session 9 (htk_align.pronounce_variants)")
    ap.add_argument("--ptbr-model", default="por", choices=("por", "fra", "spa"),
                    help="SPPAS model timing the FLEURS pt-BR reference (por: European Portuguese, the default; "
                         "see benchmarks/results/lipsync_real_languages_ptbr_reference_rule.md)")
    ap.add_argument("--out", default="")
    a = ap.parse_args()
    if a.ptbr_model != "por":
        FLEURS_LANGS["pt"] = (*FLEURS_LANGS["pt"][:2], a.ptbr_model)
    langs = [x for x in a.langs.split(",") if x]
    modes = a.modes.split(",")
    sets = a.sets.split(",")
    items = load_items(sets, langs, a.sppas, a.fleurs, a.fleurs_cjk, a.reference_dictionary, a.fleurs_half,
                       not a.first_variant)
    if not items:
        sys.exit(f"no labelled real speech found (--sppas {a.sppas})")
    tmp = Path(tempfile.mkdtemp())
    per: dict[str, dict] = {}
    total = {m: {} for m in modes}
    wall = {m: 0.0 for m in modes}
    cpu = {m: 0.0 for m in modes}
    audio_s = 0.0
    counts: dict[str, int] = {}
    by_set: dict[str, dict] = {}
    conf: dict[str, dict[str, list]] = {}
    misses: dict[str, dict] = {}
    for it in items:
        key = f"{it['language']} {it['set']}"
        if a.limit and counts.get(key, 0) >= a.limit:
            continue
        counts[key] = counts.get(key, 0) + 1
        audio = item_audio(it, tmp)
        audio_s += audio.duration
        rec = per.setdefault(key, {"language": it["language"], "set": it["set"], "lines": 0, "modes": {}, "_agg": {}, "_used": {},
                                              "items": []})
        rec["lines"] += 1
        ref, dropped = outside_speech(it["phones"], audio.samples)
        it = {**it, "phones": ref}
        line = {"name": it["name"], "seconds": round(audio.duration, 2), "words": len(it["transcript"].split()),
                "reference_phones_outside_speech": dropped}
        per_mode: dict[str, dict] = {}
        word_scores: list = []
        model_y = None
        if any(m.startswith("transcript") for m in modes):
            from emoanim_server.face.lipsync.neural import neural_available, neural_outputs

            model_y = neural_outputs(audio.samples, 100) if neural_available() else None  # the misses' witness
        for m in modes:
            t0, c0 = time.perf_counter(), time.process_time()
            track = bake(audio, mode_options(m, it))
            wall[m] += time.perf_counter() - t0
            cpu[m] += time.process_time() - c0
            s = judge(track.curves, track.fps, it["phones"])
            per_mode[m] = s
            if m.startswith("transcript"):
                spans = event_spans(it["phones"])
                for k in ("closure", "round", "fv"):
                    md = miss_details(spans[k], s[k], track, k, model_y)
                    line.setdefault("misses", {}).setdefault(m, {})[k] = md
                    misses.setdefault(m, {}).setdefault(f"{it['language']} {it['set']}", {}).setdefault(k, []).extend(md)
            if m == "transcript" and track.metadata.get("lipsync", {}).get("transcript_used"):
                word_scores = list(track.metadata["lipsync"].get("word_scores") or [])
            agg = rec["_agg"].setdefault(m, {})
            bs = by_set.setdefault(it["set"], {}).setdefault(m, {})
            for k in METRICS:
                agg.setdefault(k, []).extend(s[k])
                total[m].setdefault(k, []).extend(s[k])
                bs.setdefault(k, []).extend(s[k])
            lip = track.metadata.get("lipsync", {})
            if m.startswith("transcript"):
                rec["_used"].setdefault(m, []).append(bool(lip.get("transcript_used")))
            line[m] = {**{k: (round(float(np.mean(s[k])), 3) if s[k] else None) for k in METRICS},
                       "method": lip.get("method"), "transcript_used": lip.get("transcript_used"),
                       "alignment_score": lip.get("alignment_score"), "fallback": lip.get("fallback")}
        if word_scores and "audio" in per_mode:
            for k, ts in event_times(it["phones"]).items():
                for t, ht, ha in zip(ts, per_mode["transcript"][k], per_mode["audio"][k]):
                    cov = [sc for a0, a1, sc in word_scores if a0 <= t < a1]
                    conf.setdefault(it["set"], {}).setdefault(k, []).append((cov[0] if cov else None, bool(ht), bool(ha)))
        rec["items"].append(line)
        print(it["language"], it["name"], {m: {k: line[m][k] for k in ("closure", "round", "fv")} for m in modes},
              flush=True)
    worse = []
    for tag, rec in per.items():
        for m, agg in rec.pop("_agg").items():
            rec["modes"][m] = summarise(agg)
        for m, u in rec.pop("_used").items():
            rec["modes"][m]["transcript_used"] = f"{sum(u)}/{len(u)}"
        if "transcript" in rec["modes"] and "audio" in rec["modes"]:
            for k in ("closure", "open", "round", "fv"):
                t, b = rec["modes"]["transcript"][k], rec["modes"]["audio"][k]
                if t is not None and b is not None and t < b:
                    worse.append(f"{tag}: {k} {t:.2f} < {b:.2f}")
    res = {
        "benchmark": "lipsync_real_languages", "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": f"{platform.node()} {platform.machine()} {os.cpu_count()} cpu ({_cpu()}), Python {platform.python_version()}",
        "loadavg": " ".join(f"{x:.1f}" for x in os.getloadavg()),
        "command": "python benchmarks/lipsync_real_languages.py " + " ".join(sys.argv[1:]),
        "sources": {"sppas": {"what": "SPPAS sample recordings + SPPAS automatic phone alignments (palign)",
                              "where": "github.com/mirfan899/sppas @ c0e5932c (mirror of SPPAS), samples/",
                              "licence": "GPL-3.0 (samples/COPYRIGHT.txt); evaluation only, not shipped"},
                    "sppas-ipu": {"what": "SPPAS sample recordings with utterance (IPU) text; reference phones "
                                          "from benchmarks/htk_align.py with SPPAS's model for the language",
                                  "where": "github.com/mirfan899/sppas @ c0e5932c, samples/samples-{deu,spa,por,pol,cmn,jpn}",
                                  "licence": "recordings GPL-3.0; models resources/models/*/COPYRIGHT.txt "
                                             "(GPL-3 / CC-BY-NC-SA-4.0); evaluation only, not shipped"},
                    "fleurs": {"what": "Google FLEURS read sentences with their transcripts (10 per language); "
                                       "reference phones from benchmarks/htk_align.py with SPPAS's models",
                               "where": "github.com/sebastian-software/cuttledoc @ e0c58788, packages/cuttledoc/fixtures",
                               "licence": "FLEURS CC-BY-4.0 (Google); models as above; evaluation only, not shipped"},
                    "fleurs-cjk": {"what": "Google FLEURS clips in Mandarin (cmn_hans_cn 1883; 1805 + 1830 joined, "
                                           "with Latin-script names) and Japanese (ja_jp 1837); reference phones from "
                                           "benchmarks/htk_align.py with SPPAS's cmn / jpn models and dictionaries",
                                   "where": "github.com/victorchentw/WhisperSTT @ eb374d6, WhisperiOS/Models/benchmark-clips",
                                   "licence": "FLEURS CC-BY-4.0 (Google; SOURCES.md there); models as above; "
                                              "evaluation only, not shipped"}},
        "bars": BARS, "audio_s": round(audio_s, 1),
        "cost": {m: {"wall_s_per_audio_s": round(wall[m] / audio_s, 3), "cpu_s_per_audio_s": round(cpu[m] / audio_s, 3)}
                 for m in modes},
        "overall": {m: summarise(total[m]) for m in modes},
        "overall_by_set": {st: {m: summarise(agg) for m, agg in by_set[st].items()} for st in by_set},
        "per_language": per, "worse_than_audio": worse,
        "confidence": {st: confidence_table(c) for st, c in conf.items()},
        "misses": {m: miss_table(v) for m, v in misses.items()},
        "misses_witness": {m: witness_table(v) for m, v in misses.items()},
    }
    print(json.dumps(res["overall"], indent=1))
    if a.out:
        Path(a.out).write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        Path(a.out).with_suffix(".md").write_text(markdown(res), encoding="utf-8")


if __name__ == "__main__":
    main()

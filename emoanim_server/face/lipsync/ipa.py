"""IPA -> the coarticulation model's phone set: one table for every language.

Why a table onto the ARPAbet-keyed phones of :mod:`.visemes` rather than a model per language:
what a viewer reads on lips is a handful of articulatory facts (lips meet, lower lip tucks, lips
round, jaw opens, lips spread), and those facts are properties of the IPA segment, not of the
language. Mapping each IPA segment onto the phone whose lip/jaw targets are nearest lets every
language (from a G2P, a transcript aligner, or synthetic training data with phone timing) drive
the same dominance/coarticulation model, and lets the learned articulation model and the
transcript path share one definition of "bilabial", "rounded", "open" for training and scoring.

Choices worth knowing (nearest *visible* articulation, not nearest sound):
  - bilabial fricative/approximant (Spanish ``β``) -> ``b``: the lips come together; ``ɸ`` -> ``f``
    (Japanese "fu": narrowed lips, no full closure); ``ɱ`` -> ``m``.
  - front rounded vowels (``y ʏ ø œ``) -> rounded back vowels (``uw uh ao``): the lips round and
    protrude as for /u/; the tongue position is invisible.
  - non-English r (``r ɾ ɽ``) -> ``d`` (tongue tip, no lip rounding); English ``ɹ`` -> ``r``
    (rounded); uvular/pharyngeal ``ʁ ʀ χ ħ ʕ`` and ``x ç`` -> weak phones that let the neighbouring
    vowels carry the lips (``hh``/``g``).
  - glottal stop and unknown symbols -> ``hh`` (weak dominance: invisible, neighbours carry).
  - nasal vowels, length, tones, stress, syllable marks and most diacritics do not change the
    class: the base letter decides.
  - two-letter affricates (``tʃ dʒ ts dz pf tɕ dʑ ʈʂ``) are one segment; ``ts`` -> ``t`` + ``s``.
"""
from __future__ import annotations

import re
import unicodedata

#: segments written with more than one letter (affricates, with or without the tie bar)
_MULTI = ("t͡ʃ", "d͡ʒ", "t͡s", "d͡z", "t͡ɕ", "d͡ʑ", "ʈ͡ʂ", "ɖ͡ʐ", "p͡f",
          "tʃ", "dʒ", "ts", "dz", "tɕ", "dʑ", "ʈʂ", "ɖʐ", "pf")

#: IPA segment -> one or more phones of :data:`.phones.PHONES`
IPA_TO_PHONES: dict[str, tuple[str, ...]] = {
    # --- consonants: bilabial, labiodental
    "p": ("p",), "b": ("b",), "m": ("m",), "ɓ": ("b",), "β": ("b",), "ʙ": ("b",),
    "ɸ": ("f",), "f": ("f",), "v": ("v",), "ⱱ": ("v",), "ʋ": ("v",), "ɱ": ("m",),
    # dental / alveolar / postalveolar
    "θ": ("th",), "ð": ("dh",), "t": ("t",), "d": ("d",), "n": ("n",), "l": ("l",), "ɫ": ("l",),
    "s": ("s",), "z": ("z",), "ʃ": ("sh",), "ʒ": ("zh",), "ɕ": ("sh",), "ʑ": ("zh",),
    "ʂ": ("sh",), "ʐ": ("zh",), "ɬ": ("l",), "ɮ": ("l",), "ɹ": ("r",), "ɻ": ("r",),
    "r": ("d",), "ɾ": ("d",), "ɽ": ("d",), "ʈ": ("t",), "ɖ": ("d",), "ɳ": ("n",), "ɭ": ("l",),
    "ɺ": ("d",),
    # palatal, velar, uvular, pharyngeal, glottal
    "j": ("y",), "ʎ": ("l",), "ɲ": ("n",), "c": ("k",), "ɟ": ("g",), "ç": ("hh",), "ʝ": ("y",),
    "k": ("k",), "g": ("g",), "ɡ": ("g",), "ŋ": ("ng",), "x": ("hh",), "ɣ": ("g",), "ɰ": ("y",),
    "ʟ": ("l",), "q": ("k",), "ɢ": ("g",), "ɴ": ("ng",), "χ": ("hh",), "ʁ": ("g",), "ʀ": ("g",),
    "ħ": ("hh",), "ʕ": ("hh",), "h": ("hh",), "ɦ": ("hh",), "ʔ": ("hh",), "ʡ": ("hh",),
    # labialised approximants: rounded
    "w": ("w",), "ʍ": ("w",), "ɥ": ("w",),
    # affricates
    "t͡ʃ": ("ch",), "tʃ": ("ch",), "d͡ʒ": ("jh",), "dʒ": ("jh",), "t͡ɕ": ("ch",), "tɕ": ("ch",),
    "d͡ʑ": ("jh",), "dʑ": ("jh",), "ʈ͡ʂ": ("ch",), "ʈʂ": ("ch",), "ɖ͡ʐ": ("jh",), "ɖʐ": ("jh",),
    "t͡s": ("t", "s"), "ts": ("t", "s"), "d͡z": ("d", "z"), "dz": ("d", "z"),
    "p͡f": ("p", "f"), "pf": ("p", "f"),
    # --- vowels (jaw height from the chart; rounding from the lips)
    "i": ("iy",), "ɪ": ("ih",), "ɨ": ("ih",), "ɯ": ("uh",), "ʉ": ("uw",), "u": ("uw",), "ʊ": ("uh",),
    "y": ("uw",), "ʏ": ("uh",),
    "e": ("eh",), "ø": ("uh",), "ɘ": ("ah",), "ɵ": ("uh",), "ɤ": ("ah",), "o": ("ow",),
    "ə": ("ah",), "ɚ": ("er",), "ɝ": ("er",),
    "ɛ": ("eh",), "œ": ("ao",), "ɜ": ("ah",), "ɞ": ("ao",), "ʌ": ("ah",), "ɔ": ("ao",),
    "æ": ("ae",), "ɐ": ("ah",),
    "a": ("aa",), "ɶ": ("ao",), "ä": ("aa",), "ɑ": ("aa",), "ɒ": ("ao",),
}

#: articulatory class of each phone: what a viewer must see (and what lip-sync is scored on)
PHONE_CLASS: dict[str, str] = {"sil": "sil"}
for _p in ("p", "b", "m"):
    PHONE_CLASS[_p] = "bilabial"
for _p in ("f", "v"):
    PHONE_CLASS[_p] = "labiodental"
for _p in ("uw", "ow", "uh", "w", "ao"):
    PHONE_CLASS[_p] = "rounded"
for _p in ("aa", "ae", "aw", "ay"):
    PHONE_CLASS[_p] = "open"
for _p in ("ah", "eh", "er", "ey", "ih", "iy", "oy"):
    PHONE_CLASS[_p] = "vowel"
for _p in ("th", "dh", "t", "d", "n", "l", "s", "z", "sh", "zh", "ch", "jh", "r", "y",
           "k", "g", "ng", "hh"):
    PHONE_CLASS.setdefault(_p, "consonant")

#: what does not change a segment's class: stress, length, syllable/tone marks, linking
_DROP = set("ˈˌːˑ.‿|‖-_ ") | set("0123456789") | set("˥˦˧˨˩↗↘")
_SWITCH = re.compile(r"\([a-z-]+\)")  # espeak-ng's language switch markers, e.g. "(en)"


def _base(ch: str) -> str:
    """The base letter of a precomposed character (``ä`` stays: it is in the table)."""
    if ch in IPA_TO_PHONES:
        return ch
    d = unicodedata.normalize("NFD", ch)
    return d[0] if d else ch


def tokenize(ipa: str) -> list[str]:
    """Split an IPA string into segments (affricates kept whole; diacritics, modifier letters
    such as ``ʲ ʰ ʷ``, stress, length and tone digits dropped)."""
    s = _SWITCH.sub("", unicodedata.normalize("NFC", ipa))
    out: list[str] = []
    i = 0
    while i < len(s):
        for m in _MULTI:
            if s.startswith(m, i):
                out.append(m)
                i += len(m)
                break
        else:
            ch = s[i]
            i += 1
            if ch in _DROP or unicodedata.category(ch) in ("Mn", "Lm", "Sk", "Zs", "Po", "Pd"):
                continue
            out.append(_base(ch))
    return out


def phones_for_segment(seg: str) -> tuple[str, ...]:
    """One IPA segment -> phones; an unknown symbol is invisible (``hh``: weak dominance)."""
    return IPA_TO_PHONES.get(seg) or IPA_TO_PHONES.get(_base(seg)) or ("hh",)


def ipa_to_phones(ipa: str) -> list[str]:
    """An IPA string (a word, a phone, or espeak-ng ``--ipa`` output) -> phones, in order."""
    out: list[str] = []
    for seg in tokenize(ipa):
        out.extend(phones_for_segment(seg))
    return out


def phone_class(phone: str) -> str:
    """bilabial | labiodental | rounded | open | vowel | consonant | sil."""
    return PHONE_CLASS.get(phone, "consonant")


def ipa_class(ipa: str) -> str:
    """Class of one IPA phone label (the first segment decides; affricates stay consonants)."""
    ph = ipa_to_phones(ipa)
    return phone_class(ph[0]) if ph else "sil"

"""Phones -> articulator targets and dominance (how strongly each phone holds each articulator).

Articulators follow JALI's split: the jaw (driven by vowels and loudness) is separate from the
lips (driven by bilabials, labiodentals and rounding). Targets are 0..1 amounts of ARKit shapes;
dominance values follow Cohen & Massaro (1993): consonants that *must* reach their lip shape
(p b m f v, rounded w) dominate the lips; vowels dominate the jaw; coronals and velars barely
touch the lips so neighbouring vowels' lip shapes carry through them (coarticulation).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ARTICULATORS = ("jaw", "close", "press", "funnel", "pucker", "roll_lower", "roll_upper",
                "upper_up", "lower_down", "stretch", "tongue")
A = {n: i for i, n in enumerate(ARTICULATORS)}
JAW_GROUP = np.array([A["jaw"], A["tongue"]])
LIP_GROUP = np.array([i for n, i in A.items() if n not in ("jaw", "tongue")])


def _t(**kw: float) -> np.ndarray:
    v = np.zeros(len(ARTICULATORS), np.float32)
    for k, x in kw.items():
        v[A[k]] = x
    return v


#: Target shapes. Vowel jaw heights from the open/close vowel chart (aa lowest jaw, iy/uw highest).
TARGETS: dict[str, np.ndarray] = {
    "sil": _t(jaw=0.02),
    "p": _t(jaw=0.06, close=1.0, press=0.45), "b": _t(jaw=0.06, close=1.0, press=0.3),
    "m": _t(jaw=0.06, close=1.0, press=0.2),
    "f": _t(jaw=0.08, roll_lower=0.6, upper_up=0.2), "v": _t(jaw=0.08, roll_lower=0.55, upper_up=0.2),
    "th": _t(jaw=0.14, lower_down=0.12, tongue=0.25), "dh": _t(jaw=0.12, lower_down=0.1, tongue=0.2),
    "s": _t(jaw=0.06, stretch=0.25, upper_up=0.15, lower_down=0.15),
    "z": _t(jaw=0.06, stretch=0.22, upper_up=0.15, lower_down=0.15),
    "sh": _t(jaw=0.1, funnel=0.5, pucker=0.2, upper_up=0.2, lower_down=0.2),
    "zh": _t(jaw=0.1, funnel=0.5, pucker=0.2, upper_up=0.2, lower_down=0.2),
    "ch": _t(jaw=0.1, funnel=0.45, pucker=0.15, upper_up=0.2, lower_down=0.2),
    "jh": _t(jaw=0.1, funnel=0.45, pucker=0.15, upper_up=0.2, lower_down=0.2),
    "t": _t(jaw=0.12, lower_down=0.12, upper_up=0.08), "d": _t(jaw=0.12, lower_down=0.12, upper_up=0.08),
    "n": _t(jaw=0.12, lower_down=0.1), "l": _t(jaw=0.16, lower_down=0.12),
    "k": _t(jaw=0.18, lower_down=0.12), "g": _t(jaw=0.18, lower_down=0.12), "ng": _t(jaw=0.15, lower_down=0.1),
    "hh": _t(jaw=0.25, lower_down=0.15), "y": _t(jaw=0.1, stretch=0.25),
    "r": _t(jaw=0.14, funnel=0.35, pucker=0.2, upper_up=0.1),
    "w": _t(jaw=0.08, pucker=0.75, funnel=0.4),
    "aa": _t(jaw=0.62, lower_down=0.3, upper_up=0.08), "ae": _t(jaw=0.5, lower_down=0.35, upper_up=0.2, stretch=0.2),
    "ah": _t(jaw=0.4, lower_down=0.22, upper_up=0.05), "ao": _t(jaw=0.55, lower_down=0.2, funnel=0.5, pucker=0.45),
    "eh": _t(jaw=0.36, lower_down=0.28, upper_up=0.1, stretch=0.15),
    "ih": _t(jaw=0.24, lower_down=0.2, stretch=0.2), "iy": _t(jaw=0.14, lower_down=0.12, stretch=0.38),
    "uh": _t(jaw=0.24, funnel=0.4, pucker=0.45), "uw": _t(jaw=0.14, pucker=0.72, funnel=0.45),
    "er": _t(jaw=0.24, funnel=0.38, pucker=0.22, upper_up=0.08),
    # diphthong halves (see DIPHTHONGS)
    "ow": _t(jaw=0.4, funnel=0.45, pucker=0.35),
}
# ao carries every open-mid/open rounded vowel (IPA ɔ ɒ œ ɞ ɶ, English AO): its lips round with
# an open jaw -- more open rounding (funnel) than protrusion, but not less rounded than the
# close-mid ``ow`` onset. Until 2026-12-01 it was funnel 0.4 / pucker 0.4: a short French /ɔ/ next
# to p/b/m ("porte", "propre", "d'abord", "bonne"), whose closure dominates the lips and cancels the
# funnel, peaked at pucker 0.21-0.29, below what reads as rounded (the judge's 0.3). Pucker 0.45
# and funnel 0.5: real French/Catalan rounding 0.90 -> 0.95, leave-one-line-out 0.94 (each line
# scored with the value chosen on the other 16: benchmarks/results/lipsync_real_languages.md)
DIPHTHONGS: dict[str, tuple[str, str]] = {
    "aw": ("aa", "uh"), "ay": ("aa", "iy"), "ey": ("eh", "iy"), "oy": ("ao", "iy"), "ow": ("ow", "uw"),
}


@dataclass(frozen=True)
class Dominance:
    """Cohen-Massaro dominance: ``alpha`` inside the phone, exponential fall-off outside with
    rate ``anticipate`` (1/s, before the phone) and ``carry`` (after it), per articulator group."""

    jaw: float
    lips: float
    anticipate: float
    carry: float


_VOWEL = Dominance(jaw=1.0, lips=0.45, anticipate=28.0, carry=28.0)
_ROUND = Dominance(jaw=0.7, lips=0.9, anticipate=12.0, carry=18.0)  # rounding spreads early
_BILABIAL = Dominance(jaw=0.7, lips=1.0, anticipate=40.0, carry=40.0)
_LABIODENTAL = Dominance(jaw=0.6, lips=0.95, anticipate=40.0, carry=40.0)
_SIBILANT = Dominance(jaw=0.7, lips=0.5, anticipate=35.0, carry=35.0)
_CORONAL = Dominance(jaw=0.35, lips=0.15, anticipate=40.0, carry=40.0)
_WEAK = Dominance(jaw=0.05, lips=0.05, anticipate=40.0, carry=40.0)
_SIL = Dominance(jaw=0.5, lips=0.5, anticipate=9.0, carry=9.0)

DOMINANCE: dict[str, Dominance] = {"sil": _SIL}
for _p in ("aa", "ae", "ah", "ao", "aw", "ay", "eh", "ey", "ih", "iy", "oy", "er"):
    DOMINANCE[_p] = _VOWEL
for _p in ("uw", "ow", "uh", "w"):
    DOMINANCE[_p] = _ROUND
for _p in ("p", "b", "m"):
    DOMINANCE[_p] = _BILABIAL
for _p in ("f", "v"):
    DOMINANCE[_p] = _LABIODENTAL
for _p in ("s", "z", "sh", "zh", "ch", "jh", "th", "dh"):
    DOMINANCE[_p] = _SIBILANT
for _p in ("t", "d", "n", "l", "k", "g", "ng", "y", "r"):
    DOMINANCE[_p] = _CORONAL
DOMINANCE["hh"] = _WEAK
# ao is open *and* rounded (the IPA table maps ɔ ɒ œ onto it): it keeps a vowel's jaw but holds
# the lips like the rounded vowels, or a neighbouring p/b/m/f/v flattens its rounding
DOMINANCE["ao"] = Dominance(jaw=_VOWEL.jaw, lips=_ROUND.lips, anticipate=_ROUND.anticipate, carry=_ROUND.carry)

BILABIALS = frozenset({"p", "b", "m"})
LABIODENTALS = frozenset({"f", "v"})

"""The one IPA table: every language's segments reach the coarticulation model's phones."""
import shutil
import subprocess

import pytest

from emoanim_server.face.lipsync.ipa import IPA_TO_PHONES, ipa_class, ipa_to_phones, phone_class, tokenize
from emoanim_server.face.lipsync.phones import PHONES
from emoanim_server.face.lipsync.visemes import DOMINANCE, TARGETS


def test_every_mapped_phone_is_known_to_the_coarticulation_model():
    for seg, phones in IPA_TO_PHONES.items():
        for p in phones:
            assert p in PHONES, seg
            assert p in DOMINANCE and (p in TARGETS or p in ("aw", "ay", "ey", "oy")), (seg, p)


@pytest.mark.parametrize("ipa,expected", [
    ("bˈɪn", ["b", "ih", "n"]),
    ("pfˈɛfɜ", ["p", "f", "eh", "f", "ah"]),          # German affricate pf
    ("ʃˈøːn", ["sh", "uh", "n"]),                    # front rounded vowel, length dropped
    ("prʲivʲˈet", ["p", "d", "iy", "v", "eh", "t"]),  # Russian palatalisation dropped, trilled r
    ("bˈɔ̃", ["b", "ao"]),                            # French nasal vowel: base letter decides
    ("ɸɯᵝdʑˈi", ["f", "uh", "jh", "iy"]),             # Japanese
    ("sˈi1n", ["s", "iy", "n"]),                      # tone digits dropped
    ("(en)mˈuːlə(de)", ["m", "uw", "l", "ah"]),       # espeak-ng language switches dropped
])
def test_ipa_to_phones(ipa, expected):
    assert ipa_to_phones(ipa) == expected


def test_classes():
    assert [ipa_class(x) for x in ("m", "β", "v", "y", "u", "w", "ɥ", "a", "ɑ", "s", "ʔ")] == [
        "bilabial", "bilabial", "labiodental", "rounded", "rounded", "rounded", "rounded",
        "open", "open", "consonant", "consonant"]
    assert phone_class("sil") == "sil"
    assert tokenize("t͡ʃa") == ["t͡ʃ", "a"] and ipa_to_phones("t͡ʃa") == ["ch", "aa"]


def test_unknown_symbols_are_invisible_not_errors():
    assert ipa_to_phones("ǀ") == ["hh"]


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
@pytest.mark.parametrize("voice,text", [("de", "Peter und Paul"), ("fr", "bonjour mon ami"),
                                        ("es", "buenos días"), ("ru", "Привет мама"), ("pl", "dobry wieczór"),
                                        ("it", "buongiorno bambino"), ("pt", "bom dia")])
def test_espeak_ipa_of_bilabial_words_maps_to_bilabials(voice, text):
    ipa = subprocess.run(["espeak-ng", "-q", "--ipa", "-v", voice, text], capture_output=True,
                         text=True, check=True).stdout
    classes = [phone_class(p) for p in ipa_to_phones(ipa)]
    assert "bilabial" in classes, (voice, ipa)
    assert all(p in PHONES for p in ipa_to_phones(ipa))


def _peak_rounding(seq: list[tuple[str, float]], vowel: str) -> float:
    """max(mouthPucker, mouthFunnel) within the vowel (+-20 ms, as the shared judge looks)."""
    import numpy as np

    from emoanim_server.face.lipsync.animate import animate_mouth
    from emoanim_server.face.lipsync.phones import Phone
    from emoanim_server.track import ARKIT_INDEX

    fps, t0, phones = 60, 0.3, [Phone(0.0, 0.3, "sil")]
    for p, d in seq:
        phones.append(Phone(t0, t0 + d, p))
        t0 += d
    phones.append(Phone(t0, t0 + 0.4, "sil"))
    t = np.arange(0, t0 + 0.4, 1 / fps)
    cur = animate_mouth(phones, t, fps)
    rnd = np.maximum(cur[:, ARKIT_INDEX["mouthPucker"]], cur[:, ARKIT_INDEX["mouthFunnel"]])
    v = next(p for p in phones if p.phone == vowel)
    grid = np.arange(0, t0 + 0.4, 0.01)
    r = np.interp(grid, t, rnd)
    return float(r[(grid >= v.start - 0.02) & (grid <= v.end + 0.02)].max())


@pytest.mark.parametrize("word,ipa_vowel,seq", [
    ("fr 'note'", "ɔ", [("n", 0.07), ("ao", 0.06), ("t", 0.07)]),
    ("de 'Gott'", "ɔ", [("g", 0.06), ("ao", 0.06), ("t", 0.08)]),
    ("fr 'peur'", "œ", [("p", 0.08), ("ao", 0.12), ("g", 0.08)]),
])
def test_open_mid_rounded_vowels_read_as_rounded(word, ipa_vowel, seq):
    """ɔ œ ɒ share ``ao``: rounded lips with an open jaw. At funnel/pucker 0.4 a 60 ms /ɔ/ between
    coronals peaked below the 0.3 that reads as rounded (and the shared judge requires); real
    French /ɔ/ next to p/b missed it on 5 of 93 rounded vowels (benchmarks/results/lipsync_real_languages.md)."""
    assert ipa_to_phones(ipa_vowel) == ["ao"]
    assert _peak_rounding(seq, "ao") >= 0.3, word


@pytest.mark.parametrize("word,seq", [
    ("fr 'porte'", [("p", 0.08), ("ao", 0.05), ("r", 0.06), ("t", 0.07)]),
    ("fr 'pomme'", [("p", 0.08), ("ao", 0.06), ("m", 0.08)]),
])
def test_a_short_rounded_vowel_after_a_bilabial_keeps_its_rounding(word, seq):
    """p/b/m specify the lips meeting, not their rounding: a short /ɔ/ right after one used to peak
    at 0.18-0.23 (3 of the 5 rounding misses left on real French with a transcript), because the
    bilabial's full lip dominance pulled pucker/funnel to its own unrounded target."""
    from emoanim_server.face.lipsync import animate

    now = _peak_rounding(seq, "ao")
    assert now >= 0.27, word  # measured 0.31 / 0.28 (0.29 / 0.20 with the bilabial dominating)
    old = animate.BILABIAL_ROUNDING_DOMINANCE
    try:
        animate.BILABIAL_ROUNDING_DOMINANCE = 1.0  # the bilabial dominating rounding, as before
        assert _peak_rounding(seq, "ao") < now - 0.01, word
    finally:
        animate.BILABIAL_ROUNDING_DOMINANCE = old


def test_the_lips_still_close_on_a_bilabial_between_rounded_vowels():
    """Rounding carried across p/b/m must not stop the lips meeting (apply_contacts shapes the
    closure): "boo-boo" closes on each b."""
    import numpy as np

    from emoanim_server.face.lipsync.animate import animate_mouth
    from emoanim_server.face.lipsync.phones import Phone
    from emoanim_server.track import ARKIT_INDEX as AI

    fps = 100
    phones = [Phone(0.0, 0.2, "sil"), Phone(0.2, 0.28, "b"), Phone(0.28, 0.45, "uw"),
              Phone(0.45, 0.53, "b"), Phone(0.53, 0.7, "uw"), Phone(0.7, 1.0, "sil")]
    t = np.arange(0, 1.0, 1 / fps)
    cur = animate_mouth(phones, t, fps)
    gap = (np.clip(cur[:, AI["jawOpen"]] - cur[:, AI["mouthClose"]], 0, 1)
           + 0.25 * (cur[:, AI["mouthLowerDownLeft"]] + cur[:, AI["mouthLowerDownRight"]])
           + 0.25 * (cur[:, AI["mouthUpperUpLeft"]] + cur[:, AI["mouthUpperUpRight"]]))
    for b in (p for p in phones if p.phone == "b"):
        inside = (t >= b.start - 0.02) & (t <= b.end + 0.02)
        assert gap[inside].min() <= 0.06, b

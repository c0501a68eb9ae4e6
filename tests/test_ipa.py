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

"""Pronunciation from text in many languages (espeak-ng as a process), English OOV and numbers."""
import pytest

from emoanim_server.face.lipsync import get_recognizer
from emoanim_server.face.lipsync.g2p import (G2PUnavailable, espeak_command, espeak_version,
                                             ipa_to_arpabet, ipa_words, pronounce, split_words)
from emoanim_server.face.lipsync.ipa import phone_class
from emoanim_server.face.lipsync.language import LANGUAGES, language
from emoanim_server.face.lipsync.phones import PHONES

needs_espeak = pytest.mark.skipif(espeak_command() is None,
                                  reason="espeak-ng not installed (apt-get install espeak-ng)")


def classes(words):
    return [phone_class(p) for w in words for p in w.phones]


@needs_espeak
@pytest.mark.parametrize("lang,text,expect", [
    ("de", "Mutter baut Brot", ["bilabial", "rounded"]),              # Germanic
    ("nl", "Moeder bakt brood", ["bilabial", "rounded"]),
    ("fr", "bonjour mon petit ami", ["bilabial", "rounded"]),        # Romance
    ("es", "buenos días, mamá", ["bilabial"]),
    ("pt-BR", "bom dia, meu povo", ["bilabial", "labiodental"]),
    ("it", "buongiorno bambino", ["bilabial", "rounded"]),
    ("ru", "Мама мыла раму, папа пошёл в парк", ["bilabial", "labiodental"]),  # Slavic
    ("pl", "Pani Maria pije mleko w parku", ["bilabial", "labiodental"]),
    ("cs", "Maminka peče buchty", ["bilabial"]),
    ("ja", "ぼくは まいにち みずを のみます", ["bilabial"]),           # East Asian
    ("zh", "我们明天去北京买面包", ["bilabial", "rounded"]),
    ("ko", "무엇을 먹을까요", ["bilabial", "rounded"]),
    ("el", "Μπορώ να πάω", ["bilabial"]),
    ("tr", "Bu bir bebek", ["bilabial"]),
])
def test_languages_pronounce_to_known_phones(lang, text, expect):
    words = pronounce(text, lang)
    assert words and all(w.language == language(lang).tag for w in words)
    assert all(w.phones and all(p in PHONES for p in w.phones) for w in words), words
    got = classes(words)
    for c in expect:
        assert c in got, (lang, c, [(w.text, w.ipa) for w in words])


@needs_espeak
def test_every_supported_language_pronounces_a_word():
    for lang in LANGUAGES.values():
        sample = {"East Asian": {"ja": "まま", "zh": "妈妈", "yue": "媽媽", "ko": "엄마"}}.get(lang.family, {})
        text = sample.get(lang.tag.lower(), "mama")
        words = pronounce(text, lang.tag)
        assert words[0].phones and "bilabial" in classes(words), (lang.tag, words)


@needs_espeak
def test_english_oov_words_and_numbers_get_pronunciations():
    lex = get_recognizer()._lexicon
    words = pronounce("Zorblax Quimbleton paid 42 dollars to Dr. Vexmoor", "en", lex)
    by = {w.text: w for w in words}
    assert [w.text for w in words] == ["Zorblax", "Quimbleton", "paid", "42", "dollars", "to", "Dr", "Vexmoor"]
    assert by["paid"].source == "cmudict" and by["paid"].phones == ("p", "ey", "d")
    assert by["Zorblax"].source == "espeak-ng" and "b" in by["Zorblax"].phones
    assert by["Vexmoor"].phones[0] == "v" and "m" in by["Vexmoor"].phones
    # numbers as the G2P reads them: "forty two"
    assert by["42"].phones[:2] == ("f", "ow") and by["42"].phones[-2:] == ("t", "uw")
    assert by["Dr"].phones[:2] == ("d", "aa")  # "doctor"


def test_without_espeak_english_keeps_cmudict_and_other_languages_say_what_to_install(monkeypatch):
    monkeypatch.setenv("EMOANIM_ESPEAK_NG", "/nonexistent/espeak-ng")
    from emoanim_server.face.lipsync import g2p

    monkeypatch.setattr(g2p, "_CACHE", {})  # words an earlier test pronounced must not answer
    assert espeak_command() is None and espeak_version() is None
    words = pronounce("hello Zorblaxity", "en", get_recognizer()._lexicon)
    assert words[0].source == "cmudict" and words[1].source == "none" and not words[1].phones
    with pytest.raises(G2PUnavailable, match="apt install espeak-ng"):
        pronounce("Guten Morgen", "de")


@needs_espeak
def test_code_switching_pronounces_each_span_in_its_language():
    words = pronounce("I said <fr>bonjour</fr> to <de>Herrn Müller</de>", "en", get_recognizer()._lexicon)
    assert [(w.text, w.language) for w in words] == [
        ("I", "en"), ("said", "en"), ("bonjour", "fr"), ("to", "en"), ("Herrn", "de"), ("Müller", "de")]
    assert words[2].phones[0] == "b" and "zh" in words[2].phones  # French bɔ̃ʒuʁ, not English


@needs_espeak
def test_kanji_are_read_per_word_from_the_reading_dictionary():
    pytest.importorskip("janome", reason="the Japanese reading dictionary is optional: pip install emoanim[ja]")
    words = pronounce("日曜日は東京へ行きました。", "ja")
    assert [w.text for w in words][:4] == ["日曜日", "は", "東京", "へ"]
    assert all(w.phones and w.source == "espeak-ng" for w in words)
    ipa = {w.text: w.ipa for w in words}
    assert "b" in ipa["日曜日"]            # 日 is "bi" in this word (not "hi" or "ni")
    assert ipa["は"].startswith("w")      # the particle は is said "wa"
    assert "bilabial" in classes(words)


@needs_espeak
def test_kanji_without_the_reading_dictionary_get_no_pronunciation(monkeypatch):
    from emoanim_server.face.lipsync import g2p

    monkeypatch.setattr(g2p, "japanese_readings", lambda text: None)
    words = pronounce("世界", "ja")
    assert all(w.source == "none" and not w.phones for w in words)


def test_word_splitting_keeps_numbers_abbreviations_and_cjk_units():
    assert split_words("It's 3.5% of $1,200 - e.g. J.R.R. Tolkien's!", language("en")) == [
        "It's", "3.5%", "of", "$1,200", "e.g", "J.R.R", "Tolkien's"]
    assert split_words("你好，世界", language("zh")) == ["你", "好", "世", "界"]
    assert split_words("ありがとう、世界 iPhone", language("ja")) == ["ありがとう", "世", "界", "iPhone"]


def test_ipa_diphthongs_stay_one_phone():
    assert ipa_to_arpabet("həlˈoʊ") == ["hh", "ah", "l", "ow"]
    assert ipa_to_arpabet("nˈaɪn") == ["n", "ay", "n"]
    assert ipa_to_arpabet("ʃtˈaʊ") == ["sh", "t", "aw"]
    assert ipa_to_arpabet("(en)bˈɜːd(de)") == ["b", "er", "d"]


@needs_espeak
@pytest.mark.parametrize("lang,text,word,said", [
    ("de", "Das ist z.B. ein Test.", "z.B", "zum Beispiel"),
    ("de", "Z.B. heute", "Z.B", "zum Beispiel"),         # sentence start
    ("fr", "M. Dupont est là", "M", "Monsieur"),          # a one-letter word, not read in context
    ("pt-BR", "no século 3 a.C. já", "a.C", "antes de Cristo"),
    ("pt-BR", "no século 3 a.c. a grande", "a.c", "antes de Cristo"),  # lower case (FLEURS writes it so)
    ("de", "das ist z.b. gut", "z.b", "zum Beispiel"),
    ("en", "a name, e.g. Zork", "e.g", "for example"),     # English: CMUdict lacks it, espeak spells it
    ("ru", "и т.д.", "т.д", "так далее"),
])
def test_abbreviations_espeak_misreads_are_said_as_they_stand_for(lang, text, word, said):
    """espeak-ng spells these ("z.B." -> "zet be"): the lips would say letters nobody says. The
    word keeps its spelling for the subtitles; its phones are the expansion's."""
    got = {w.text: w for w in pronounce(text, lang)}
    expected = ipa_to_arpabet(ipa_words([said], language(lang).voice)[0])  # the phrase, as espeak-ng says it
    assert got[word].phones == tuple(expected) and got[word].source == "espeak-ng"
    spelled = ipa_to_arpabet(ipa_words([word], language(lang).voice)[0])
    assert got[word].phones != tuple(spelled)


@needs_espeak
def test_a_one_letter_abbreviation_does_not_match_in_lower_case():
    # French "M." is "Monsieur", but "m." is a metre: the lower-case form is left to espeak-ng
    monsieur = tuple(p for w in pronounce("Monsieur", "fr") for p in w.phones)
    assert pronounce("M. Dupont", "fr")[0].phones == monsieur
    assert pronounce("10 m. plus loin", "fr")[1].phones != monsieur


@needs_espeak
def test_an_abbreviation_key_needs_its_period_and_others_stay_espeak_ngs():
    # "usw" without its period is not the abbreviation; Spanish "Dr." espeak-ng already reads "doctor"
    assert pronounce("usw", "de")[0].phones != tuple(p for w in pronounce("und so weiter", "de") for p in w.phones)
    assert pronounce("el Dr. López", "es")[1].phones == tuple(p for w in pronounce("doctor", "es") for p in w.phones)


def test_a_latin_word_in_a_non_latin_script_line_is_foreign_script_outside_markup():
    from emoanim_server.face.lipsync.g2p import foreign_script

    rec = get_recognizer()
    zh = {w.text: foreign_script(w) for w in rec.pronounce("我们去辛特拉 sintra 坐 403 路车", "zh")}
    assert zh["sintra"] is True and zh["403"] is False and zh["辛"] is False
    assert not any(foreign_script(w) for w in rec.pronounce("我们去 <en>sintra</en> 看看", "zh"))
    assert not any(foreign_script(w) for w in rec.pronounce("Nous allons à Sintra demain", "fr"))
    assert [w.text for w in rec.pronounce("Мы были в Sintra", "ru") if foreign_script(w)] == ["Sintra"]


@needs_espeak
def test_brazilian_final_e_is_an_unrounded_vowel_not_espeak_ngs_phoneme_name_y():
    """espeak-ng's pt-br ``--ipa`` writes its phoneme name ``y`` for the unstressed [ɪ] of final -e;
    read as IPA it is a rounded vowel, and every "de" / "grande" got rounded lips."""
    words = pronounce("de grande pirâmide leite", "pt-BR")
    for w in words:
        assert "y" not in w.ipa, w
        last_vowel = [p for p in w.phones if phone_class(p) in ("vowel", "rounded", "open")][-1]
        assert phone_class(last_vowel) == "vowel", w  # spread/neutral, not rounded
    # European Portuguese's final ɨ was already unrounded; the fix is for pt-br only
    assert all(phone_class(p) != "rounded" for p in pronounce("de", "pt")[0].phones)
    # the real rounded vowels of Brazilian Portuguese stay rounded
    assert "rounded" in classes(pronounce("muito povo", "pt-BR"))

"""Language tags, auto detection and code-switching markup (no G2P needed)."""
import pytest

from emoanim_server.errors import InputError
from emoanim_server.face.lipsync.language import (LANGUAGES, detect_language, normalise_language,
                                                  split_spans)


@pytest.mark.parametrize("tag,expected", [
    (None, "en"), ("", "en"), ("en", "en"), ("EN-us", "en"), ("en_GB", "en-GB"), ("de", "de"),
    ("de-AT", "de"), ("fr-FR", "fr"), ("fr-CA", "fr"), ("pt-BR", "pt-BR"), ("pt_br", "pt-BR"),
    ("pt-PT", "pt"), ("es-MX", "es-419"), ("ja", "ja"), ("ja-JP", "ja"), ("zh-Hans-CN", "zh"),
    ("zh-HK", "yue"), ("no", "nb"), ("auto", "auto"), ("AUTO", "auto"),
])
def test_bcp47_tags_are_normalised(tag, expected):
    assert normalise_language(tag) == expected


@pytest.mark.parametrize("tag", ["xx", "zz-FR", "english", "12"])
def test_unknown_tags_are_clear_errors(tag):
    with pytest.raises(InputError, match="language.*not supported for transcripts.*docs/languages.md"):
        normalise_language(tag)


def test_at_least_30_languages_in_four_families():
    assert len(LANGUAGES) >= 30
    fams = {x.family for x in LANGUAGES.values()}
    assert {"Germanic", "Romance", "Slavic", "East Asian"} <= fams


@pytest.mark.parametrize("text,expected", [
    ("Hello, how are you today? I think that is fine.", "en"),
    ("Guten Morgen, ich bin nicht müde und du?", "de"),
    ("Bonjour, je suis très content de vous voir avec nous.", "fr"),
    ("¿Dónde está la biblioteca? No lo sé, señor.", "es"),
    ("Dzień dobry, jak się masz? To jest mój dom.", "pl"),
    ("Eu não sei o que você está fazendo.", "pt"),
    ("Привет, как дела?", "ru"),
    ("Привіт, як справи? Їжак і ґанок.", "uk"),
    ("Καλημέρα σας", "el"),
    ("こんにちは、世界", "ja"),
    ("今日は良い天気ですね", "ja"),       # kanji with kana: Japanese
    ("你好，世界", "zh"),
    ("안녕하세요", "ko"),
    ("שלום עולם", "he"),
    ("مرحبا بالعالم", "ar"),
    ("नमस्ते दुनिया", "hi"),
    ("12 34", "en"),                     # nothing to go on: the default
])
def test_detect_language(text, expected):
    assert detect_language(text) == expected


def test_spans_follow_markup_and_the_line_language():
    spans = split_spans("I said <fr>bonjour mon ami</fr> to Bob", "en")
    assert [(s.text.strip(), s.language, s.marked) for s in spans] == [
        ("I said", "en", False), ("bonjour mon ami", "fr", True), ("to Bob", "en", False)]
    # region tags, any case, and auto for the unmarked rest
    spans = split_spans("<DE-at>Guten Tag</de-AT> und nicht mehr, ich bin müde", "auto")
    assert [(s.language, s.marked) for s in spans] == [("de", True), ("de", False)]
    assert [s.language for s in split_spans("<ja>ありがとう</ja> thank you")] == ["ja", "en"]


@pytest.mark.parametrize("bad,match", [
    ("<fr>bonjour", "never closed"), ("bonjour</fr>", "closes no open"),
    ("<fr>a <de>b</de></fr>", "do not nest"), ("<xx>hmm</xx>", "unsupported language"),
    ("<fr>a</de>", "closes no open"),
])
def test_malformed_markup_is_an_input_error(bad, match):
    with pytest.raises(InputError, match=match):
        split_spans(bad, "en")

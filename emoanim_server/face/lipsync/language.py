"""Transcript languages: BCP-47 tags, ``auto`` detection, and inline code-switching spans.

Why a fixed table rather than passing tags straight to the G2P: a tag the product accepts must
be one whose pronunciations were checked (docs/languages.md, benchmarks/lipsync_languages.py);
a typo such as ``--language fr_FR`` or an unsupported tag must be a clear error, not a silent
English fallback. Tags are matched case-insensitively, ``_`` is read as ``-``, and a region that
has no voice of its own falls back to the language (``de-AT`` -> ``de``, ``fr-CA`` -> ``fr``).

Code-switching markup (docs/languages.md): ``<fr>bonjour</fr> and hello`` - a span in angle
brackets named by a tag from :data:`LANGUAGES`; spans do not nest; text outside spans is in the
line's language.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from ...errors import InputError

DEFAULT_LANGUAGE = "en"
AUTO = "auto"


@dataclass(frozen=True)
class Language:
    tag: str        # canonical BCP-47 tag
    name: str
    voice: str      # espeak-ng voice
    family: str     # for docs/tests: Germanic, Romance, Slavic, ...
    spaced: bool = True  # words separated by spaces (False: CJK, Thai)


def _l(tag: str, name: str, voice: str, family: str, spaced: bool = True) -> Language:
    return Language(tag, name, voice, family, spaced)


#: every language the transcript path accepts; the benchmark covers each one
LANGUAGES: dict[str, Language] = {x.tag.lower(): x for x in (
    _l("en", "English (US)", "en-us", "Germanic"),
    _l("en-GB", "English (UK)", "en-gb", "Germanic"),
    _l("de", "German", "de", "Germanic"),
    _l("nl", "Dutch", "nl", "Germanic"),
    _l("sv", "Swedish", "sv", "Germanic"),
    _l("da", "Danish", "da", "Germanic"),
    _l("nb", "Norwegian Bokmål", "nb", "Germanic"),
    _l("is", "Icelandic", "is", "Germanic"),
    _l("af", "Afrikaans", "af", "Germanic"),
    _l("fr", "French", "fr-fr", "Romance"),
    _l("es", "Spanish (Spain)", "es", "Romance"),
    _l("es-419", "Spanish (Latin America)", "es-419", "Romance"),
    _l("it", "Italian", "it", "Romance"),
    _l("pt", "Portuguese (Portugal)", "pt", "Romance"),
    _l("pt-BR", "Portuguese (Brazil)", "pt-br", "Romance"),
    _l("ro", "Romanian", "ro", "Romance"),
    _l("ca", "Catalan", "ca", "Romance"),
    _l("ru", "Russian", "ru", "Slavic"),
    _l("uk", "Ukrainian", "uk", "Slavic"),
    _l("pl", "Polish", "pl", "Slavic"),
    _l("cs", "Czech", "cs", "Slavic"),
    _l("sk", "Slovak", "sk", "Slavic"),
    _l("bg", "Bulgarian", "bg", "Slavic"),
    _l("sr", "Serbian", "sr", "Slavic"),
    _l("hr", "Croatian", "hr", "Slavic"),
    _l("sl", "Slovenian", "sl", "Slavic"),
    _l("el", "Greek", "el", "Hellenic"),
    _l("fi", "Finnish", "fi", "Uralic"),
    _l("et", "Estonian", "et", "Uralic"),
    _l("hu", "Hungarian", "hu", "Uralic"),
    _l("lt", "Lithuanian", "lt", "Baltic"),
    _l("lv", "Latvian", "lv", "Baltic"),
    _l("tr", "Turkish", "tr", "Turkic"),
    _l("ar", "Arabic", "ar", "Semitic"),
    _l("he", "Hebrew", "he", "Semitic"),
    _l("fa", "Persian", "fa", "Iranian"),
    _l("hi", "Hindi", "hi", "Indo-Aryan"),
    _l("bn", "Bengali", "bn", "Indo-Aryan"),
    _l("ur", "Urdu", "ur", "Indo-Aryan"),
    _l("ta", "Tamil", "ta", "Dravidian"),
    _l("id", "Indonesian", "id", "Austronesian"),
    _l("ms", "Malay", "ms", "Austronesian"),
    _l("vi", "Vietnamese", "vi", "Austroasiatic"),
    _l("sw", "Swahili", "sw", "Bantu"),
    _l("ja", "Japanese (kana)", "ja", "East Asian", spaced=False),
    _l("zh", "Chinese (Mandarin)", "cmn-latn-pinyin", "East Asian", spaced=False),
    _l("yue", "Chinese (Cantonese)", "yue", "East Asian", spaced=False),
    _l("ko", "Korean", "ko", "East Asian"),
)}

#: other spellings of a supported language
_ALIASES = {"en-us": "en", "en-ca": "en", "en-au": "en-gb", "en-nz": "en-gb", "en-ie": "en-gb",
            "en-uk": "en-gb", "fr-fr": "fr", "es-es": "es", "es-mx": "es-419", "es-us": "es-419",
            "pt-pt": "pt", "no": "nb", "nn": "nb", "iw": "he", "in": "id", "zh-cn": "zh",
            "zh-hans": "zh", "cmn": "zh", "zh-tw": "zh", "zh-hant": "zh", "zh-hk": "yue",
            "ja-jp": "ja", "ko-kr": "ko", "de-de": "de", "it-it": "it", "ru-ru": "ru"}


def normalise_language(tag: str | None) -> str:
    """A BCP-47 tag (any case, ``_`` or ``-``) -> the canonical tag of :data:`LANGUAGES`, or
    ``auto``. ``None``/empty means the documented default, English."""
    if tag is None or not str(tag).strip():
        return DEFAULT_LANGUAGE
    t = str(tag).strip().replace("_", "-").lower()
    if t == AUTO:
        return AUTO
    t = _ALIASES.get(t, t)
    while t:
        if t in LANGUAGES:
            return LANGUAGES[t].tag
        if t in _ALIASES:
            return LANGUAGES[_ALIASES[t]].tag
        t = t.rpartition("-")[0]  # drop the last subtag: de-AT -> de, zh-Hans-CN -> zh-hans -> zh
    raise InputError(f"language {tag!r} is not supported for transcripts; expected 'auto' or one of "
                     f"{', '.join(x.tag for x in LANGUAGES.values())} (docs/languages.md)")


def language(tag: str) -> Language:
    """The :class:`Language` of a canonical or user tag (not ``auto``)."""
    return LANGUAGES[normalise_language(tag).lower()]


# --- auto: script first, then common words -------------------------------------------------
_SCRIPT_LANG = (  # (first code point, last code point, language)
    (0x3040, 0x30FF, "ja"), (0x31F0, 0x31FF, "ja"), (0xFF66, 0xFF9F, "ja"),
    (0xAC00, 0xD7AF, "ko"), (0x1100, 0x11FF, "ko"), (0x3130, 0x318F, "ko"),
    (0x4E00, 0x9FFF, "zh"), (0x3400, 0x4DBF, "zh"),
    (0x0370, 0x03FF, "el"), (0x1F00, 0x1FFF, "el"),
    (0x0590, 0x05FF, "he"), (0x0600, 0x06FF, "ar"), (0x0750, 0x077F, "ar"),
    (0x0900, 0x097F, "hi"), (0x0980, 0x09FF, "bn"), (0x0B80, 0x0BFF, "ta"),
    (0x0400, 0x04FF, "ru"),
)
#: Latin-script languages told apart by frequent short words and letters only they use
_WORDS: dict[str, tuple[str, str]] = {
    "en": ("the and is are you of to in it that this with was for have not what my your i", ""),
    "de": ("der die das und ist nicht ich du sie wir ein eine zu mit auf für den dem es was", "ä ö ü ß"),
    "nl": ("de het een en is niet ik je jij we zijn van op met voor dat wat", "ij"),
    "fr": ("le la les et est un une je tu il nous vous pas que qui des du au avec pour c'est", "ç œ è ê à ù"),
    "es": ("el la los las y es un una yo tú que no de en con por para está muy", "ñ ¿ ¡ á ó í"),
    "it": ("il lo la gli le e è un una io tu che non di con per sono questo", "ò ì"),
    "pt": ("o a os as e é um uma eu você que não de em com para está muito", "ã õ ç"),
    "pl": ("i w z na nie jest to się że jak ale co tak", "ł ą ę ś ź ż ć ń"),
    "cs": ("a je v na se to že jak ale co tak jsem", "ě ř ů č"),
    "sv": ("och är en ett jag du inte det att som på med för", "å"),
    "tr": ("ve bir bu da de ne ben sen için çok", "ğ ı ş"),
    "fi": ("ja on ei se että minä sinä hän", ""),
    "ro": ("și este un o nu eu tu că pe cu", "ă ș ț"),
    "id": ("dan yang di ini itu tidak saya anda dengan untuk", ""),
}
_WORD_SETS = {k: set(v[0].split()) for k, v in _WORDS.items()}
_LETTERS = {k: v[1].split() for k, v in _WORDS.items()}
_UKRAINIAN = set("іїєґ")
_SERBIAN = set("ђћџљњј")
_BULGARIAN_WORDS = {"съм", "това", "какво", "не", "и"}


def detect_language(text: str, default: str = DEFAULT_LANGUAGE) -> str:
    """Best language for ``text`` from its script, then its words; ``default`` when unclear.

    Script decides first (kana -> ja even among kanji, Hangul -> ko, Han alone -> zh,
    Cyrillic -> ru unless Ukrainian/Serbian letters appear). Latin text is scored by how many of
    its words are each candidate's frequent words, plus letters only that language uses.
    """
    counts: dict[str, int] = {}
    for ch in text:
        o = ord(ch)
        for a, b, lang in _SCRIPT_LANG:
            if a <= o <= b:
                counts[lang] = counts.get(lang, 0) + 1
                break
    if counts:
        if counts.get("ja"):
            return "ja"
        best = max(counts, key=counts.get)
        if best == "ru":
            low = set(text.lower())
            if low & _UKRAINIAN:
                return "uk"
            if low & _SERBIAN:
                return "sr"
        return best
    low = unicodedata.normalize("NFC", text.lower())
    words = re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", low)
    if not words:
        return default
    score = {}
    for lang, vocab in _WORD_SETS.items():
        s = sum(w in vocab for w in words)
        s += 2 * sum(low.count(c) for c in _LETTERS[lang])
        score[lang] = s
    best = max(score, key=lambda k: (score[k], k == default))
    return best if score[best] > 0 else default


# --- code-switching spans ------------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    text: str
    language: str  # canonical tag
    marked: bool = False  # came from explicit markup


_TAG = re.compile(r"<\s*(/?)\s*([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})*)\s*>")


def split_spans(transcript: str, language: str | None = None) -> list[Span]:
    """Transcript (with optional ``<xx>...</xx>`` markup) -> spans with a canonical language.

    ``language`` is the line's language (None -> English, the documented default; ``auto`` ->
    detected per unmarked span). Malformed markup (unclosed, nested, mismatched) is an InputError
    naming the tag, since silently reading ``<fr>`` as a word would misalign the line.
    """
    line = normalise_language(language)
    out: list[Span] = []
    pos = 0
    open_tag: tuple[str, int] | None = None

    def add(text: str, lang: str, marked: bool) -> None:
        if text.strip():
            if lang == AUTO:
                lang = detect_language(text)
            out.append(Span(text, lang, marked))

    for m in _TAG.finditer(transcript):
        closing, raw = m.group(1) == "/", m.group(2)
        try:
            tag = normalise_language(raw)
        except InputError:
            raise InputError(f"transcript: markup <{m.group(1)}{raw}> names an unsupported language; "
                             "expected e.g. <fr>bonjour</fr> with a tag from docs/languages.md") from None
        if not closing:
            if open_tag is not None:
                raise InputError(f"transcript: <{raw}> opened inside <{open_tag[0]}>: language spans do not nest")
            add(transcript[pos:m.start()], line, False)
            open_tag = (raw, m.end())
        else:
            if open_tag is None or normalise_language(open_tag[0]) != tag:
                raise InputError(f"transcript: </{raw}> closes no open <{raw}> span")
            add(transcript[open_tag[1]:m.start()], tag, True)
            open_tag = None
        pos = m.end()
    if open_tag is not None:
        raise InputError(f"transcript: <{open_tag[0]}> is never closed (expected </{open_tag[0]}>)")
    add(transcript[pos:], line, False)
    return out

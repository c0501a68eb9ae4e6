"""Phone recognition with PocketSphinx's en-US acoustic model (the engine Rhubarb Lip Sync uses).

Two paths, both ending in a phone-level forced alignment:

* transcript given (any supported language, see :mod:`.g2p`): align the transcript's words
  directly (most accurate). Words get CMUdict pronunciations (English) or espeak-ng's, mapped
  through the one IPA table (:mod:`.ipa`) onto the en-US acoustic model's phones; the alignment
  is scored against the free phone loop, and a transcript that does not match the audio is
  reported (``report['fallback']``) and replaced by the audio-only path below;
* no transcript: recognise words with the en-US language model, then align those words. Words
  constrain the phone sequence to real pronunciations, which finds bilabials far more reliably
  than a free phone loop (measured on LJ Speech: ~80% vs ~50% of p/b/m found), and a wrong word
  usually still has the right mouth shapes. Where alignment fails, the free phone loop
  (allphone) is the fallback, so every stretch of speech gets phones.

Audio is cut at pauses into chunks of at most ``MAX_CHUNK_S`` so memory and decode time stay
linear in the input length and one bad stretch cannot spoil a whole file.
"""
from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass
from typing import Callable, Iterable

import numpy as np

from ...audio import SAMPLE_RATE, frame_db, frame_rms, speech_threshold_db, to_pcm16
from ...errors import InputError
from .g2p import HAN, Word, foreign_script, languages_of, pronounce
from .ipa import phone_class
from .phones import PHONES, Phone, normalise

MAX_CHUNK_S = 20.0
MIN_PAUSE_S = 0.3
CHUNK_PAD_S = 0.15
MAX_TRANSCRIPT_AUDIO_S = 300.0
#: forced alignment's acoustic score per 10 ms frame minus the free phone loop's. Measured on LJ
#: Speech: the right transcript scores -10..-19, another line's transcript -50..-64 (or fails);
#: espeak-ng speech in 48 languages with its own transcript -17..-37; REAL French speech with its
#: own transcript -35..-57 (a native voice fits the en-US model worse than espeak-ng does), so the
#: score alone cannot tell "wrong words" from "a language the model fits poorly". At or above
#: this the transcript is used at once...
MISMATCH_SCORE_SOFT = -25.0
#: ...below this it is taken not to match...
MISMATCH_SCORE_FLOOR = -90.0
#: ...and in between it must beat every decoy that aligns (the same phones in the wrong order)
#: by this much per frame: wrong transcripts beat theirs by -9..+4, right ones by +9..+37 or the
#: decoys find no path at all (benchmarks/results/transcript_mismatch.json)
DECOY_MARGIN = 6.0
#: ...and where no decoy aligns, the share of its p/b/m on which the learned model also closes
#: the lips must reach this (see _align_transcript)...
CONTACT_AGREEMENT = 0.25
#: (``contact_chance``, the share of the line's other phones on which the model closes the lips
#: just as well, is reported but decides nothing: requiring the agreement to beat it caught a
#: wrong espeak-ng Urdu transcript but rejected a right real German one, 50 % vs 51 %)
#: lines up to this many words get the leave-one-out retry when no alignment path exists
#: (Recognizer._leave_one_out; one alignment per word, so it is bounded)
MAX_LEAVE_ONE_OUT_WORDS = 24
#: beams of the third aligner (Recognizer._make_widest), tried only when the default and the wide
#: beams (1e-80) both found no path. The right words of fast spontaneous French (SPPAS
#: YM_track_0182) first align at 1e-120 (0.27 CPU-s for 7.5 s); its decoys find no path there.
WIDEST_BEAM = 1e-120
#: a path only the widest beams find is a last resort, and wrong transcripts find one there too
#: (SPPAS French: another line's 42 words on SR_track_631, -63.7 per frame; espeak-ng Bulgarian and
#: Hindi: another line, -55.1 and -48.3), where their decoys find none. So such a path must score at
#: least WIDEST_SCORE_FLOOR (right and added-word transcripts that needed it: -43.8 .. -51.9, one
#: at -56.8) and the learned model must close the lips on its p/b/m at least
#: WIDEST_CONTACT_LEAD more often than on its other phones (right / added words: +0.14 .. +0.30;
#: the wrong ones +0.04 and +0.03, Bulgarian +0.24; Serbian, whose decoy aligned 6.5 worse, +0.02:
#: so this holds whether or not a decoy aligns). Chosen on SPPAS + the espeak-ng mismatch set
#: (benchmarks/transcript_mismatch.py); no held-out line needs the widest beams.
WIDEST_SCORE_FLOOR = -53.0
#: at most this many Latin-script words of a non-Latin-script line are tried left out
#: (Recognizer._leave_foreign_out: one alignment each, then one without all of them)
MAX_FOREIGN_LEFT_OUT = 6
WIDEST_CONTACT_LEAD = 0.1
_FRAME_S = 0.01
#: PocketSphinx frame f spans samples [f*160, f*160+410): its centre is 12.8 ms after f*10 ms, so
#: a boundary *between* frames f-1 and f sits at f*10 ms + 7.8 ms. Measured on LJ Speech without
#: this shift our phone boundaries came a median 10 ms early against MFA alignments.
BOUNDARY_OFFSET_S = 0.0078


def _model_dir() -> str:
    from pocketsphinx import get_model_path

    return os.path.join(get_model_path(), "en-us")


@dataclass
class Alignment:
    """One forced alignment: its phones and what its score is made of (returned, not kept on the
    recogniser, so concurrent or nested alignments never read each other's numbers)."""

    phones: list[Phone]
    #: total acoustic score of the path (PocketSphinx log units; silences included)
    score: int
    #: (start frame, frames, acoustic score) of each aligned word, in time order
    words: list[tuple[int, int, int]]
    #: which aligner found the path: "default", "wide" or "widest" (decoys are searched no wider)
    beam: str = "default"


@dataclass
class SpeechRegion:
    start: float
    end: float


def speech_regions(x: np.ndarray, min_pause_s: float = MIN_PAUSE_S,
                   max_chunk_s: float = MAX_CHUNK_S) -> list[SpeechRegion]:
    """Energy VAD: stretches of speech separated by pauses, merged into decoder-sized chunks.

    The threshold adapts to the recording (noise floor vs speech level) so quiet or loud
    recordings cut alike; silence or pure noise gives no regions.
    """
    db = frame_db(x, _FRAME_S)
    thr = speech_threshold_db(db)
    if thr is None:
        return []
    active = db > thr
    # close short gaps so a pause must last min_pause_s to split
    idx = np.flatnonzero(active)
    if idx.size == 0:
        return []
    regions: list[list[int]] = [[idx[0], idx[0]]]
    gap = int(min_pause_s / _FRAME_S)
    for i in idx[1:]:
        if i - regions[-1][1] <= gap:
            regions[-1][1] = i
        else:
            regions.append([i, i])
    regions = [r for r in regions if (r[1] - r[0]) >= 5]  # drop < 50 ms clicks
    out: list[SpeechRegion] = []
    for a, b in regions:
        # split overlong regions at their quietest frame
        stack = [(a, b)]
        while stack:
            s, e = stack.pop(0)
            if (e - s) * _FRAME_S <= max_chunk_s:
                out.append(SpeechRegion(s * _FRAME_S, (e + 1) * _FRAME_S))
                continue
            lo, hi = s + int(0.3 * (e - s)), s + int(0.7 * (e - s))
            cut = lo + int(np.argmin(db[lo:hi]))
            stack[:0] = [(s, cut), (cut + 1, e)]
    # merge neighbours while the chunk stays short: fewer decoder restarts, more LM context
    merged: list[SpeechRegion] = []
    for r in out:
        if merged and r.end - merged[-1].start <= max_chunk_s * 0.5 and r.start - merged[-1].end < 1.0:
            merged[-1] = SpeechRegion(merged[-1].start, r.end)
        else:
            merged.append(r)
    return merged


#: Speech level (95th percentile of 10 ms RMS) each chunk is scaled to before decoding. The
#: aligner's beams failed on loud input (espeak at -15 dBFS RMS failed, the same audio at 0.3x
#: aligned), so every chunk is brought to one moderate level; quiet input is boosted likewise.
TARGET_SPEECH_RMS = 0.06


#: dither (in full-scale units, ~2 LSB of PCM16) added before decoding: stretches of exact
#: digital zeros (synthetic speech, gated recordings) give -inf log energies that made the
#: aligner fail every German espeak-ng line; seeded, so the same input decodes the same way
_DITHER = 6e-5
#: a recording with DIGITAL silence (10 ms frames below ~1 LSB of PCM16: TTS output such as
#: espeak-ng's, a noise gate, edited voice-over) gets this noise floor instead, relative to the
#: normalised speech level (-36 dB below TARGET_SPEECH_RMS). Why: the en-US acoustic model never
#: met a 60 dB gap between speech and "silence"; with only the 2-LSB dither the aligner's beam
#: lost the exact transcript of 20 of 97 raw espeak-ng CLI lines in 48 languages (German "Guten
#: Morgen, wir fahren heute mit dem Boot nach Bremen." among them) and the word-dropping retry then
#: spent 10-13 s before rejecting the right words; with this floor 96 of 97 align at once.
#: Recordings with a recorded noise floor (LJ Speech, SPPAS: quietest frames 1.5e-4 .. 9e-4 raw)
#: are decoded exactly as before; FLEURS lines with edited digital-zero pauses (10 of the 20
#: test-half lines) get the floor: es-419 closure +1 event, French open and f/v -1 each.
_SILENCE_FLOOR = 1e-3
_DIGITAL_SILENCE_RMS = 3e-5
_DIGITAL_SILENCE_FRAMES = 3


def _pcm16(x: np.ndarray) -> bytes:
    """Level-normalised, dithered PCM16 for the decoders (see TARGET_SPEECH_RMS, _DITHER,
    _SILENCE_FLOOR)."""
    if len(x):
        rms = frame_rms(x, _FRAME_S)
        level = float(np.percentile(rms, 95))
        if level > 1e-4:
            x = x * min(TARGET_SPEECH_RMS / level, 30.0)
        silent = int((rms < _DIGITAL_SILENCE_RMS).sum()) >= _DIGITAL_SILENCE_FRAMES
        noise = _SILENCE_FLOOR if silent and level > 1e-4 else _DITHER
        x = x + np.random.default_rng(len(x)).normal(0.0, noise, len(x)).astype(np.float32)
    return to_pcm16(x)


_WORD_RE = re.compile(r"[a-z]+(?:'[a-z]+)*")
#: phones the en-US acoustic model has (all of ours but the pause)
_ACOUSTIC = frozenset(PHONES) - {"sil"}


def allphone_decoder():
    """A new free phone-loop decoder: the offline fallback and the live server's incremental
    recogniser (one per live session) share this one configuration."""
    from pocketsphinx import Decoder

    m = _model_dir()
    return Decoder(allphone=os.path.join(m, "en-us-phone.lm.bin"), lw=2.0, pip=0.3,
                   beam=1e-20, pbeam=1e-20, hmm=os.path.join(m, "en-us"), loglevel="FATAL")


class Recognizer:
    """Holds the PocketSphinx decoders (loading the LM takes ~0.5 s, so reuse one instance).

    Decoders are not thread-safe; calls are serialised by a lock.
    """

    def __init__(self, fast: bool = False) -> None:
        from pocketsphinx import Decoder

        m = _model_dir()
        hmm, dic = os.path.join(m, "en-us"), os.path.join(m, "cmudict-en-us.dict")
        common = dict(hmm=hmm, loglevel="FATAL")
        # No second (flat) pass, pruned HMM/word counts: ~2x faster than the defaults with the
        # same bilabial hit rate after alignment. The fast mode also scores every other frame
        # (ds=2) and prunes harder: ~45% less CPU for the whole bake, 4 points fewer p/b/m found
        # on LJ Speech (85.9% vs 89.7%), so it is opt-in (``--fast``), for bulk baking.
        speed = dict(ds=2, maxhmmpf=1000) if fast else dict(ds=1, maxhmmpf=2000)
        # the word decoder (0.5 s to load the LM) and the phone loop are built on first use: a
        # transcript bake from the CLI never loads the LM (the phone loop scores the alignment)
        self._make_words = lambda: Decoder(dict=dic, lm=os.path.join(m, "en-us.lm.bin"), fwdflat=False,
                                           bestpath=False, maxwpf=5, pl_window=10, **speed, **common)
        self._words_dec = None
        self._allphone_dec = None
        # bestpath off: with it, the state aligner failed on 9 of 43 LJ Speech lines ("impossible
        # duration"); without it, none failed. Built on first use too (loading CMUdict takes ~0.5 s,
        # which a bake of a silent line, or one with nothing to align, should not pay)
        self._make_align = lambda: Decoder(dict=dic, lm=None, bestpath=False, **common)
        self._align_dec = None
        self._build_lock = threading.Lock()
        # the same aligner with much wider beams, tried only when the first gives up: non-English
        # speech fits the en-US model less well, and the default beams failed on 1 in 6 espeak-ng
        # lines (French "mer" with a uvular r), all of which the wide beams aligned
        self._make_wide = lambda: Decoder(dict=dic, lm=None, bestpath=False, beam=1e-80, pbeam=1e-80,
                                          wbeam=1e-70, **common)
        self._wide_dec = None
        # and a third, wider still, tried only when both give up: on fast spontaneous speech the
        # right words can have no path inside the wide beams (SPPAS French YM_track_0182, 42 words
        # in 7.5 s, 108 phones) and the line fell back to audio-only; see WIDEST_BEAM
        self._make_widest = lambda: Decoder(dict=dic, lm=None, bestpath=False, beam=WIDEST_BEAM,
                                            pbeam=WIDEST_BEAM, wbeam=WIDEST_BEAM, **common)
        self._widest_dec = None
        self._lock = threading.Lock()
        self.fast = fast
        self.version = "pocketsphinx-en-us" + ("-fast" if fast else "")

    @property
    def _words(self):
        if self._words_dec is None:
            self._words_dec = self._make_words()
        return self._words_dec

    @property
    def _align(self):
        """The forced aligner (CMUdict + the G2P words added to it), loaded on first use."""
        if self._align_dec is None:
            with self._build_lock:
                if self._align_dec is None:
                    self._align_dec = self._make_align()
        return self._align_dec

    @property
    def _allphone(self):
        if self._allphone_dec is None:
            self._allphone_dec = allphone_decoder()
        return self._allphone_dec

    def warm_up(self) -> "Recognizer":
        """Load every decoder now (servers: no first-request stall)."""
        _ = self._words, self._allphone, self._align
        return self

    # -- single-chunk primitives -------------------------------------------------------------
    def _decode(self, dec, pcm: bytes) -> None:
        # The front end adapts across utterances (live CMN, noise estimates): without a reset the
        # same line decodes differently depending on what the process decoded before, which
        # breaks "same input + seed = same output" for batches and server sessions. ~0.1 ms.
        dec.reinit_feat()
        dec.start_utt()
        dec.process_raw(pcm, full_utt=True)
        dec.end_utt()

    def recognise_words(self, pcm: bytes) -> list[str]:
        self._decode(self._words, pcm)
        words = []
        for s in self._words.seg() or ():  # None when nothing was decoded
            w = re.sub(r"\(\d+\)$", "", s.word)
            if w.startswith(("<", "[", "+")) or w == "</s>":
                continue
            words.append(w)
        return words

    def align_words(self, pcm: bytes, words: list[str], labels: list[str] | None = None,
                    wide: bool = False) -> list[Phone] | None:
        """Phone-level forced alignment; None when the aligner gives up (beam failure).

        ``labels``: what to call each word in the result (the word as written in the
        transcript) instead of its dictionary entry; one per word, in order. ``wide``: retry
        with the wide-beam aligner when the default one gives up.
        """
        got = self.align(pcm, words, labels, wide)
        return got.phones if got else None

    def align(self, pcm: bytes, words: list[str], labels: list[str] | None = None,
              wide: bool = False, stats: dict | None = None, both: bool = False,
              widest: bool = False) -> Alignment | None:
        """:meth:`align_words` with the path's scores; ``stats['alignments']`` (when given) counts
        the decoder runs, so a caller can report what a line cost. ``both``: run the wide-beam
        aligner even where the default one found a path, and keep the better-scoring path (see
        ``_align_transcript``). ``widest``: when neither found a path, try the widest beams
        (:data:`WIDEST_BEAM`) too."""
        got = self._align_with(self._align, pcm, words, labels, stats)
        if (got is None and (wide or widest)) or both:
            if self._wide_dec is None:
                self._wide_dec = self._make_wide()
            other = self._align_with(self._with_entries(self._wide_dec, words), pcm, words, labels, stats, "wide")
            if got is None or (other is not None and other.phones and other.score > got.score):
                got = other
        if got is None and widest:
            got = self._align_widest(pcm, words, labels, stats)
        return got

    def _align_widest(self, pcm: bytes, words: list[str], labels: list[str] | None,
                      stats: dict | None) -> Alignment | None:
        """The widest-beam aligner alone (only ever after the default and wide ones found no path,
        so every line that aligned before aligns the same)."""
        if self._widest_dec is None:
            self._widest_dec = self._make_widest()
        return self._align_with(self._with_entries(self._widest_dec, words), pcm, words, labels, stats, "widest")

    def _with_entries(self, dec, words: list[str]):
        """``dec`` with the G2P (and decoy) entries of ``words`` copied in: they are added to the
        first aligner's dictionary only."""
        for w in words:
            if not dec.lookup_word(w) and self._align.lookup_word(w):
                dec.add_word(w, self._align.lookup_word(w), True)
        return dec

    def _align_with(self, dec, pcm: bytes, words: list[str], labels: list[str] | None,
                    stats: dict | None = None, beam: str = "default") -> Alignment | None:
        keep = [i for i, w in enumerate(words) if dec.lookup_word(w)]
        if not keep:
            return None
        names = [labels[i] for i in keep] if labels is not None else None
        words = [words[i] for i in keep]
        if stats is not None:
            stats["alignments"] = stats.get("alignments", 0) + 1
        try:
            dec.set_align_text(" ".join(words))
            self._decode(dec, pcm)
            dec.set_alignment()
            self._decode(dec, pcm)
            out = []
            k = 0
            total = 0
            spans: list[tuple[int, int, int]] = []
            for w in dec.get_alignment():
                total += w.score
                if not w.name.startswith(("<", "[", "+")) and w.duration > 0:
                    spans.append((w.start, w.duration, w.score))
                word = re.sub(r"\(\d+\)$", "", w.name)  # "our(3)": 3rd pronunciation of "our"
                if word.startswith(("<", "[", "+")):
                    word = ""
                elif names is not None:
                    word = names[k] if k < len(names) else word
                    k += 1
                for p in w:
                    out.append(Phone(p.start * _FRAME_S + BOUNDARY_OFFSET_S,
                                     (p.start + p.duration) * _FRAME_S + BOUNDARY_OFFSET_S,
                                     normalise(p.name), word))
            return Alignment(out, total, spans, beam)
        except RuntimeError:
            return None

    def allphone(self, pcm: bytes) -> list[Phone]:
        self._decode(self._allphone, pcm)
        return [Phone(s.start_frame * _FRAME_S + BOUNDARY_OFFSET_S,
                      (s.end_frame + 1) * _FRAME_S + BOUNDARY_OFFSET_S, normalise(s.word))
                for s in self._allphone.seg() or ()]

    # -- transcript -> words the aligner knows ------------------------------------------------
    def _lexicon(self, word: str) -> tuple[str, ...] | None:
        """CMUdict pronunciation (first variant) of an English word, or None."""
        if not _WORD_RE.fullmatch(word):
            return None
        p = self._align.lookup_word(word)
        phones = tuple(normalise(x) for x in p.split()) if p else ()
        # an entry without a vowel is an abbreviation CMUdict spells out oddly ("dr" = D R):
        # the G2P reads those as words ("doctor")
        return phones if any(phone_class(x) not in ("consonant", "bilabial", "labiodental")
                             for x in phones if x != "w") else None

    def _dict_word(self, w: Word) -> str | None:
        """The aligner-dictionary entry for ``w``: the CMUdict word itself (all its variants),
        or an entry named after its G2P phones, added once (bounded by distinct pronunciations)."""
        if w.source == "cmudict":
            return w.text.lower()
        phones = [p for p in w.phones if p in _ACOUSTIC]
        if not phones:
            return None
        name = "g2p_" + "_".join(phones)
        if not self._align.lookup_word(name):
            self._align.add_word(name, " ".join(p.upper() for p in phones), True)
        return name

    def pronounce(self, transcript: str, language: str | None = None) -> list[Word]:
        """Transcript -> pronounced words (markup spans, CMUdict for English, espeak-ng else)."""
        return pronounce(transcript, language, self._lexicon)

    def _phone_loop_scores(self, pcm: bytes) -> np.ndarray:
        """Acoustic score per 10 ms frame of the free phone loop: the best any phone sequence
        can do, the yardstick a transcript's alignment is measured against."""
        self._decode(self._allphone, pcm)
        segs = list(self._allphone.seg() or ())
        out = np.zeros(segs[-1].end_frame + 1 if segs else 0)
        for sg in segs:
            n = sg.end_frame - sg.start_frame + 1
            if n > 0:
                out[sg.start_frame: sg.end_frame + 1] += sg.ascore / n
        return out

    def _align_transcript(self, x: np.ndarray, words: list[Word], report: dict) -> list[Phone] | None:
        """Forced alignment of the pronounced words, or None (and ``report['fallback']``) when the
        aligner fails or the transcript does not match the audio."""
        entries = [(self._dict_word(w), w) for w in words]
        report["words_unpronounced"] = [w.text for e, w in entries if not e][:50]
        if any(w.language == "ja" and HAN.search(w.text) for e, w in entries if not e):
            report["hint"] = "kanji are read with the optional reading dictionary: pip install 'emoanim[ja]'"
        usable = [(e, w) for e, w in entries if e]
        if not usable:
            report["fallback"] = "no word of the transcript could be pronounced"
            return None
        pcm = _pcm16(x)
        # Outside English both beams are searched and the better path kept: the en-US model fits
        # foreign speech loosely, many paths score alike, and the default beam pruned the right one
        # on real Brazilian Portuguese (FLEURS dev half: "e exemplos recentes" put before a 1.4 s
        # pause instead of after it, two p/m 1.1 s off; both beams: pt-BR closure 0.83 -> 0.90 of
        # 48, alignment alone). English keeps one search (its metrics are at the ceiling).
        both = any(w.language.split("-")[0] != "en" for _, w in usable)
        al = self.align(pcm, [e for e, _ in usable], [w.text for _, w in usable], wide=True, stats=report,
                        both=both)
        loop = None
        whole = usable
        if not (al and al.phones):
            if 2 <= len(usable) <= MAX_LEAVE_ONE_OUT_WORDS:
                al, usable = self._leave_one_out(pcm, usable, report)
            if al and al.phones:
                loop = self._phone_loop_scores(pcm)
            if not (al and al.phones) or (al.score - float(loop.sum())) / max(len(loop), 1) < MISMATCH_SCORE_SOFT:
                # no path, or only a weak one without a word: every word through the widest beams
                # (a word the speaker added is squeezed in as in any other alignment); such a path
                # meets stricter bars below (WIDEST_SCORE_FLOOR, WIDEST_CONTACT_LEAD)
                far = self._align_widest(pcm, [e for e, _ in whole], [w.text for _, w in whole], report)
                if far is not None and far.phones:
                    al, usable = far, whole
                    report.pop("words_left_out", None)
        got = self._judge(x, pcm, al, usable, loop, report, both)
        if got is None and (not (al and al.phones) or al.beam == "widest" or "words_left_out" in report):
            # no path, or one only a retry found, and it failed its bars: a Latin-script word in a
            # non-Latin-script line (a name) may be one the speaker did not say or said otherwise;
            # leave such words out, at any line length, and let that path meet the same bars as a
            # path with every word (see _leave_foreign_out). Lines without such a word: as before.
            trial: dict = {"alignments": report.get("alignments", 0)}
            far = self._leave_foreign_out(pcm, whole, trial, both)
            report["alignments"] = trial["alignments"]
            if far is not None:
                again = self._judge(x, pcm, far[0], far[1], None, trial, both, foreign_out=True)
                report["alignments"] = trial["alignments"]
                if again is not None:
                    for k in ("fallback", "decoy_margin", "contact_agreement", "contact_chance"):
                        report.pop(k, None)
                    report.update(trial)
                    return again
        return got

    def _judge(self, x: np.ndarray, pcm: bytes, al: Alignment | None, usable: list, loop: np.ndarray | None,
               report: dict, both: bool, foreign_out: bool = False) -> list[Phone] | None:
        """The alignment's phones if it passes the mismatch checks (score against the free phone
        loop, decoys, the learned model's contacts; stricter for a path only the widest beams
        found), else None with ``report['fallback']`` saying why. ``foreign_out``: the path left
        out Latin-script words of a non-Latin-script line (_leave_foreign_out), which need not fit
        outright as other left-out paths must."""
        if not (al and al.phones):
            report["fallback"] = "the transcript does not match the audio (no alignment path)"
            return None
        got, score = al.phones, al.score
        loop = self._phone_loop_scores(pcm) if loop is None else loop
        frames = max(len(loop), 1)
        llr = (score - float(loop.sum())) / frames
        per_word = [(sc - float(loop[st:st + du].sum())) / du for st, du, sc in al.words]
        word_median = float(np.median(per_word)) if per_word else llr
        report["alignment_score"] = round(llr, 2)
        report["alignment_word_median"] = round(word_median, 1)
        # per word: [start s, end s, score per frame against the free phone loop] in the track's
        # metadata (benchmarks/lipsync_real_languages.py's confidence analysis reads it there; it
        # decides nothing: the audio-only engine is not better where a word's score is low, see
        # docs/languages.md)
        report["word_scores"] = [[round(st * _FRAME_S + BOUNDARY_OFFSET_S, 4),
                                  round((st + du) * _FRAME_S + BOUNDARY_OFFSET_S, 4), round(s, 1)]
                                 for (st, du, _), s in zip(al.words, per_word)]
        if llr >= MISMATCH_SCORE_SOFT:
            return got
        if "words_left_out" in report and not foreign_out:
            # a path found only by leaving a word out is taken only where it fits outright: on
            # weaker paths the decoys cannot tell (wrong transcripts found one too, in 3 of 6
            # languages tried, and their decoys found none)
            report["fallback"] = (f"the transcript does not match the audio (no alignment path with every "
                                  f"word; without {report['words_left_out'][0]!r} only a weak one, {llr:.1f} "
                                  "per frame against the free phone loop)")
            return None
        last_resort = al.beam == "widest"
        if llr < (WIDEST_SCORE_FLOOR if last_resort else MISMATCH_SCORE_FLOOR):
            report["fallback"] = (f"the transcript does not match the audio (alignment score {llr:.1f} "
                                  "per frame against the free phone loop"
                                  + (", found only with the widest beams)" if last_resort else ")"))
            return None
        # ambiguous: the en-US model fits this speech poorly, or the words are wrong. Decoys
        # (the same phones backwards; the same words rotated by half the line) fit the audio
        # about as well as the transcript where its words are wrong (margins -9..+4 per frame),
        # and far worse -- most often not at all -- where they are right (+9..+37, or no path):
        # benchmarks/results/transcript_mismatch.json
        margins = [(score - d) / frames for d in self._decoy_scores(pcm, [e for e, _ in usable], report, both,
                                                                   al.beam == "widest")]
        report["decoy_margin"] = round(min(margins), 2) if margins else None
        if margins and min(margins) < DECOY_MARGIN:
            report["fallback"] = (f"the transcript does not match the audio (alignment score {llr:.1f} "
                                  f"per frame against the free phone loop, only {min(margins):.1f} better than "
                                  "the same phones in the wrong order)")
            return None
        if not margins or last_resort:
            # no decoy aligned: most often a right transcript, but once in 17 real lines a wrong one
            # too. Then a second, independent witness: the learned model hears lips meet (from the
            # audio alone, in any language) on most p/b/m a right alignment places (0.33..0.89
            # of them on real French/Catalan), on few of a wrong one's (0.12..0.33). A last-resort
            # path needs the witness even where a decoy aligned (espeak-ng Serbian, another line's
            # words: margin 6.5, lips closing on 75 % of its p/b/m and 73 % of its other phones)
            w = _contact_agreement(x, got)
            agree, chance = (w[0], w[1]) if w is not None else (None, None)
            report["contact_agreement"] = None if agree is None else round(agree, 2)
            report["contact_chance"] = None if chance is None else round(chance, 2)
            if not margins and agree is not None and agree < CONTACT_AGREEMENT:
                report["fallback"] = (f"the transcript does not match the audio (alignment score {llr:.1f} "
                                      f"per frame; the lips close on only {agree:.0%} of its p/b/m)")
                return None
            if last_resort and agree is not None and agree - chance < WIDEST_CONTACT_LEAD:
                report["fallback"] = (f"the transcript does not match the audio (a path only with the widest "
                                      f"beams, and the lips close on {agree:.0%} of its p/b/m, about as often "
                                      f"as on its other phones, {chance:.0%})")
                return None
        return got

    def _leave_one_out(self, pcm: bytes, usable: list, report: dict):
        """A word the script has but the speaker did not say must still get >= 30 ms per phone
        (three HMM states of 10 ms) between its neighbours; in fast speech without a pause there
        is no room, and no alignment path exists at all (5 of 48 espeak-ng lines, 4 of 17 real
        French/Catalan ones with one added word). So, once the whole transcript failed, each word
        is left out in turn and the best-scoring path is kept (the word left out is reported in
        ``words_left_out``); that path is used only where it fits outright (score at or above
        ``MISMATCH_SCORE_SOFT``)."""
        best = None
        for i in range(len(usable)):
            cand = usable[:i] + usable[i + 1:]
            g = self.align(pcm, [e for e, _ in cand], [w.text for _, w in cand], wide=True, stats=report)
            if g and g.phones and (best is None or g.score > best[0].score):
                best = (g, i)
        if best is None:
            return None, usable
        report["words_left_out"] = [usable[best[1]][1].text]
        return best[0], usable[:best[1]] + usable[best[1] + 1:]

    def _leave_foreign_out(self, pcm: bytes, whole: list, report: dict, both: bool):
        """(alignment, words) without a Latin-script word of a non-Latin-script line
        (:func:`.g2p.foreign_script`), or None. Each such word is left out in turn, through every
        beam, and the best-scoring path is kept; all of them at once only where none alone gives
        a path. Why: a script with foreign names is normal, and the speaker may say the name as it is said in the line's language,
        not as that language's G2P reads Latin letters, or not at all (FLEURS writes the Latin
        name after the Chinese one: "辛特拉 sintra"); on a line past MAX_LEAVE_ONE_OUT_WORDS
        (Chinese counts a word per character) no word could be left out before. Only such long
        lines: on shorter ones _leave_one_out already tried every word, and with the usual bars a
        short wrong transcript without its name passed (dev set, benchmarks/transcript_names.py:
        a 6-word Japanese line's words minus "starbucks" on another line's audio, -46 per frame,
        decoys 10 worse). Bounded: at most MAX_FOREIGN_LEFT_OUT such words are tried. Lines
        without such a word never decode here."""
        if len(whole) <= MAX_LEAVE_ONE_OUT_WORDS:
            return None  # _leave_one_out tried every word, this one too, and its bar holds
        idx = [i for i, (_, w) in enumerate(whole) if foreign_script(w)]
        if not idx or len(idx) > MAX_FOREIGN_LEFT_OUT:
            return None
        best = None
        # one word out first, all of them only where no single one gives a path: a path with fewer
        # words scores higher for its freedom alone, and a name the speaker did say should keep
        # its phones (the joined FLEURS clip: all three names out scored best, "sintra" alone
        # out also aligns)
        for trials in ([[i] for i in idx], [idx] if len(idx) > 1 else []):
            for out in trials:
                cand = [u for i, u in enumerate(whole) if i not in out]
                g = self.align(pcm, [e for e, _ in cand], [w.text for _, w in cand], wide=True, stats=report,
                               both=both, widest=True)
                if g and g.phones and (best is None or g.score > best[0].score):
                    best = (g, out, cand)
            if best is not None:
                break
        if best is None:
            return None
        report["words_left_out"] = [whole[i][1].text for i in best[1]]
        return best[0], best[2]

    def _decoy_scores(self, pcm: bytes, entries: list[str], stats: dict | None = None,
                      both: bool = False, widest: bool = False) -> list[float]:
        """Acoustic scores of the decoys that align: the transcript's phones in reverse order
        (each word backwards, words backwards: same phones, wrong order) and, with two words or
        more, its words rotated by half the line. A decoy the wide beams find no path for is
        left out (it fits far worse than the transcript)."""
        names = []
        for e in reversed(entries):
            pron = self._align.lookup_word(e)
            if not pron:
                continue
            rev = " ".join(reversed(pron.split()))
            name = "rev_" + rev.lower().replace(" ", "_")
            if not self._align.lookup_word(name):
                self._align.add_word(name, rev, True)
            names.append(name)
        decoys = [names] if names else []
        if len(entries) >= 2:
            k = len(entries) // 2
            decoys.append(entries[k:] + entries[:k])
        out = []
        for d in decoys:
            # searched as the transcript was (the widest beams only where the transcript needed them)
            got = self.align(pcm, d, wide=True, stats=stats, both=both, widest=widest)
            if got is not None:
                out.append(float(got.score))
        return out

    # -- whole input ---------------------------------------------------------------------------
    def phones(self, x: np.ndarray, transcript: str | None = None,
               progress: Callable[[float], None] | None = None, language: str | None = None,
               report: dict | None = None) -> list[Phone]:
        """Phones for 16 kHz mono ``x``; times in seconds from its start, gaps filled with sil.

        ``language``: the transcript's BCP-47 tag, ``auto`` or None (English); ``report``, when
        given, is filled with what happened (languages, words without pronunciation, whether the
        transcript was used or the audio-only path took over and why) for the track metadata.
        """
        duration = len(x) / SAMPLE_RATE
        report = report if report is not None else {}
        with self._lock:
            if transcript is not None:
                words = self.pronounce(transcript, language)
                report["languages"] = languages_of(words)
                report["words"] = len(words)
                if not any(w.phones for w in words):
                    raise InputError("transcript: no word could be pronounced "
                                     f"({' '.join(w.text for w in words[:5])})")
                if duration <= MAX_TRANSCRIPT_AUDIO_S:
                    got = self._align_transcript(x, words, report)
                    if got:
                        report["transcript_used"] = True
                        if progress:
                            progress(1.0)
                        return _fill_silence(got, duration)
                else:
                    report["fallback"] = f"audio longer than {MAX_TRANSCRIPT_AUDIO_S:.0f} s"
                report["transcript_used"] = False
                # fall through to recognition when alignment fails or the audio is very long
            out: list[Phone] = []
            regions = speech_regions(x)
            for i, r in enumerate(regions):
                a = max(0.0, r.start - CHUNK_PAD_S)
                b = min(duration, r.end + CHUNK_PAD_S)
                pcm = _pcm16(x[int(a * SAMPLE_RATE): int(b * SAMPLE_RATE)])
                got = self.align_words(pcm, self.recognise_words(pcm))
                if not got:
                    got = self.allphone(pcm)
                out.extend(Phone(p.start + a, p.end + a, p.phone, p.word) for p in got
                           if p.phone != "sil")
                if progress:
                    progress((i + 1) / len(regions))
            return _fill_silence(out, duration)


def _contact_agreement(x: np.ndarray, phones: list[Phone]) -> tuple[float, float, int] | None:
    """(agreement, chance, n): the share of the ``n`` aligned p/b/m segments (+-20 ms) in which the
    learned articulation model, run on the audio alone, closes the lips (contact weight > 0.5),
    and the share of all aligned phones on which it does so in a window as long as the line's
    median p/b/m (what a transcript whose p/b/m are in the wrong places scores). None without the
    model or without a bilabial. Language-independent: the model never sees the text."""
    from .neural import calibrated, neural_available, neural_outputs

    segs = [(p.start, p.end) for p in phones if p.phone in ("p", "b", "m")]
    if not segs or not neural_available():
        return None
    fps = 100
    _, wb, _ = calibrated(neural_outputs(x, fps))
    t = np.arange(len(wb)) / fps

    def closes(a: float, b: float) -> bool:
        m = (t >= a - 0.02) & (t <= b + 0.02)
        return bool(m.any() and wb[m].max() > 0.5)

    half = 0.5 * float(np.median([b - a for a, b in segs]))
    others = [closes(p.mid - half, p.mid + half) for p in phones if p.phone != "sil"]
    return float(np.mean([closes(a, b) for a, b in segs])), float(np.mean(others)), len(segs)


#: articulator groups the articulation witness correlates (visemes.ARTICULATORS names): the jaw,
#: lips shut, rounding, lower-lip tuck
_WITNESS_GROUPS = (("jaw",), ("close", "press"), ("funnel", "pucker"), ("roll_lower",))
#: shifts (s) of the alignment against the audio that give the witness's chance level
_WITNESS_SHIFTS_S = (-0.5, -0.3, 0.3, 0.5)


def articulation_agreement(x: np.ndarray, phones: list[Phone], y: np.ndarray | None = None) -> dict | None:
    """How well the articulation of an alignment tracks the learned model's, from the audio alone:
    ``r``, the mean over articulator groups (jaw, lips shut, rounding, tuck) of Pearson's r over the
    alignment's speech frames between :func:`.animate.articulate` of ``phones`` and the model's raw
    articulators (``y``: :func:`.neural.neural_outputs` at 100 fps, computed when not given);
    ``r_shift``, the same with the alignment moved by +-0.3 / +-0.5 s (an alignment out of place on
    this voice); ``lead = r - r_shift``. The model was trained to predict exactly this articulation
    of right alignments, in any language, so a right transcript's phones track it and a wrong
    one's only by chance. None without the model or with too little speech.

    Measured as a mismatch witness (benchmarks/transcript_articulation_witness.py, session 13) and
    not used: on real non-English voices right transcripts lead as low as wrong ones."""
    from .animate import articulate
    from .neural import neural_available, neural_outputs
    from .visemes import A

    if not neural_available():
        return None
    fps = 100
    y = neural_outputs(x, fps) if y is None else y
    n = len(y)
    times = np.arange(n) / fps
    speech = [p for p in phones if p.phone != "sil"]
    if not speech or n < fps:
        return None
    teach = articulate(_fill_silence(phones, n / fps), times, fps)
    mask = np.zeros(n, bool)
    for p in speech:
        mask[max(0, int(p.start * fps)): int(np.ceil(p.end * fps))] = True
    groups = [[A[k] for k in g] for g in _WITNESS_GROUPS]
    tg = np.stack([teach[:, g].sum(1) for g in groups], 1)
    mg = np.stack([y[:, g].sum(1) for g in groups], 1)

    def mean_r(k: int) -> float | None:
        idx = np.flatnonzero(mask)
        idx = idx[(idx + k >= 0) & (idx + k < n)]
        if len(idx) < fps // 2:
            return None
        rs = []
        for j in range(tg.shape[1]):
            a, b = tg[idx, j], mg[idx + k, j]
            if a.std() > 1e-6 and b.std() > 1e-6:
                rs.append(float(np.corrcoef(a, b)[0, 1]))
        return float(np.mean(rs)) if rs else None

    r = mean_r(0)
    sh = [v for v in (mean_r(int(round(s * fps))) for s in _WITNESS_SHIFTS_S) if v is not None]
    if r is None or not sh:
        return None
    return {"r": round(r, 3), "r_shift": round(float(np.mean(sh)), 3), "lead": round(r - float(np.mean(sh)), 3)}


def _fill_silence(phones: Iterable[Phone], duration: float) -> list[Phone]:
    """Sorted, non-overlapping, covering [0, duration]; pauses become explicit ``sil``."""
    out: list[Phone] = []
    t = 0.0
    for p in sorted(phones, key=lambda p: p.start):
        s, e = max(p.start, t), min(p.end, duration)
        if e <= s:
            continue
        if s - t > 1e-6:
            out.append(Phone(t, s, "sil"))
        if p.phone == "sil" and out and out[-1].phone == "sil":
            out[-1] = Phone(out[-1].start, e, "sil")
        else:
            out.append(Phone(s, e, p.phone, p.word))
        t = e
    if duration - t > 1e-6:
        if out and out[-1].phone == "sil":
            out[-1] = Phone(out[-1].start, duration, "sil")
        else:
            out.append(Phone(t, duration, "sil"))
    return out


_RECOGNIZERS: dict[bool, Recognizer] = {}
_RLOCK = threading.Lock()


def get_recognizer(fast: bool = False) -> Recognizer:
    """The process-wide recogniser per speed mode (decoders are loaded once and reused)."""
    with _RLOCK:
        if fast not in _RECOGNIZERS:
            _RECOGNIZERS[fast] = Recognizer(fast)
        return _RECOGNIZERS[fast]

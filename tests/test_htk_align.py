"""The held-out references' aligner (benchmarks/htk_align.py): a word's pronunciation variants
are branches the audio chooses between, not the dictionary's first line."""
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import htk_align  # noqa: E402
from htk_align import HMM, Model, pronounce_variants, viterbi, viterbi_graph  # noqa: E402


def _hmm(mean: float) -> HMM:
    """One emitting state with a self-loop, unit variance, mean ``mean`` in every dimension."""
    logA = np.full((3, 3), -np.inf)
    logA[0, 1] = 0.0
    logA[1, 1] = np.log(0.8)
    logA[1, 2] = np.log(0.2)
    return HMM(np.full((1, 25), mean), np.ones((1, 25)), np.array([25 * np.log(2 * np.pi)]), logA)


HMMS = {"sil": _hmm(0.0), "a": _hmm(3.0), "m": _hmm(-3.0), "n": _hmm(6.0)}


def _frames(*runs: tuple[str, int]) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.concatenate([HMMS[p].means[0] + 0.3 * rng.standard_normal((k, 25)) for p, k in runs])


def test_the_audio_picks_a_words_variant_whichever_is_listed_first():
    # graph: sil -> (a m | a n) -> sil; the frames say "a n" though "a m" is the first branch
    names = ["sil", "a", "m", "a", "n", "sil"]
    preds = [[], [0], [1], [0], [3], [2, 4]]
    feats = _frames(("sil", 8), ("a", 10), ("n", 10), ("sil", 8))
    got = viterbi_graph(feats, names, preds, {0, 1, 3}, {2, 4, 5}, HMMS)
    assert [names[i] for i, _, _ in got] == ["sil", "a", "n", "sil"]
    assert [i for i, _, _ in got][1:3] == [3, 4]  # the second branch, frame for frame
    feats = _frames(("sil", 8), ("a", 10), ("m", 10), ("sil", 8))
    got = viterbi_graph(feats, names, preds, {0, 1, 3}, {2, 4, 5}, HMMS)
    assert [names[i] for i, _, _ in got] == ["sil", "a", "m", "sil"]


def test_a_chain_is_the_graph_with_optional_pauses():
    seq = [("sil", True), ("a", False), ("m", False), ("sil", True), ("n", False), ("sil", True)]
    feats = _frames(("a", 6), ("m", 6), ("n", 6), ("sil", 5))  # no leading pause, none between words
    got = viterbi(feats, seq, HMMS)
    assert [seq[i][0] for i, _, _ in got] == ["a", "m", "n", "sil"]
    assert got[0][1] == 0 and got[-1][2] == len(feats) - 1


def test_dictionary_variants_are_all_offered_in_order_without_repeats():
    model = Model("spa", HMMS, {"a": "a", "m": "m", "n": "n"}, {"a": "a", "m": "m", "n": "n"},
                  {"an": [["a", "m"], ["a", "n"], ["a", "m"]], "na": [["n", "a"]]})
    assert pronounce_variants(["an", "na"], model, "es") == [[["a", "m"], ["a", "n"]], [["n", "a"]]]
    assert htk_align.pronounce(["an"], model, "es") == [["a", "m"]]  # the first alone, as before


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_a_written_abbreviation_may_also_be_said_as_what_it_stands_for():
    sampa = {p: p for p in "abdeikmnorstu"}
    model = Model("spa", HMMS, sampa, sampa, {"antes": [list("antes")], "de": [list("de")], "cristo": [list("kristo")]})
    vs = pronounce_variants(["a.c."], model, "es-419")[0]
    assert vs[-1] == list("antes") + list("de") + list("kristo")
    assert len(vs) == 2  # espeak-ng's reading of the letters first


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_a_one_letter_word_is_said_not_spelled_where_the_line_does_not_split_into_words():
    # pt-br reads "a.c. a" as one token, so the line's reading has fewer tokens than words; the
    # one-letter "é" must still be the vowel, not its name "é agudo" (as it is read alone)
    sampa = {p: p for p in ("E", "a", "g", "u", "d", "U", "e", "s", "m", "i", "p", "r", "4", "N", "Z")}
    model = Model("por", HMMS, sampa, sampa, {})
    words = "grande pirâmide é uma".split()
    alone = htk_align.pronounce(["é"], model, "pt-br")[0]
    assert len(alone) > 2  # spelled
    assert htk_align.pronounce(["3", "a.c.", "a"] + words, model, "pt-br")[-2] == ["E"]


def test_unspaced_text_is_split_into_the_dictionarys_longest_words():
    model = Model("cmn", HMMS, {}, {}, {"北京": [["p"]], "北": [["p"]], "京": [["t"]], "交通": [["t"]], "交": [["t"]]})
    assert htk_align.segment("北京交通台，8月", model) == ["北京", "交通", "台", "8", "月"]


def test_a_japanese_long_vowel_mark_and_a_kanjis_kana_ending_stay_with_their_word():
    model = Model("jpn", HMMS, {}, {}, {"ソフト": [["s"]], "落ち": [["o"]], "て": [["t"]]})
    assert htk_align.segment("ソフトナー滴り落ちて", model) == ["ソフト", "ナー", "滴り", "落ち", "て"]


def test_a_mixture_state_scores_the_log_sum_of_its_weighted_gaussians():
    # SPPAS's Japanese model has 16 Gaussians per state; one state of two here
    hmm = htk_align.load_hmms(
        '~h "a" <BeginHMM> <NumStates> 3 <State> 2 <NumMixes> 2 '
        '<Mixture> 1 0.25 <Mean> 2 0 0 <Variance> 2 1 1 '
        '<Mixture> 2 0.75 <Mean> 2 4 4 <Variance> 2 1 1 '
        '<TransP> 3 0 1 0 0 0.5 0.5 0 0 0 <EndHMM>')["a"]
    x = np.array([[0.0, 0.0], [4.0, 4.0], [2.0, 2.0]])
    g = lambda m: -0.5 * (2 * np.log(2 * np.pi) + np.sum((x - m) ** 2, axis=1))  # noqa: E731
    want = np.log(0.25 * np.exp(g(np.zeros(2))) + 0.75 * np.exp(g(np.full(2, 4.0))))
    assert np.allclose(hmm.log_emission(0, x), want)


def test_a_capped_phone_state_never_outlasts_the_cap_and_uncapped_is_unchanged():
    # sil -> a -> sil over 30 frames of "a": uncapped, "a" takes them all; capped at 10 frames a
    # state, "a" takes at most 10 and the pauses (uncapped) the rest -- the cap is exact
    names = ["sil", "a", "sil"]
    preds = [[], [0], [1]]
    feats = _frames(("sil", 5), ("a", 30), ("sil", 5))
    free = viterbi_graph(feats, names, preds, {0, 1}, {1, 2}, HMMS)
    assert [(names[i], b - a + 1) for i, a, b in free] == [("sil", 5), ("a", 30), ("sil", 5)]
    assert viterbi_graph(feats, names, preds, {0, 1}, {1, 2}, HMMS, 0, {0, 2}) == free
    capped = viterbi_graph(feats, names, preds, {0, 1}, {1, 2}, HMMS, 10, {0, 2})
    a = [b - s + 1 for i, s, b in capped if names[i] == "a"]
    assert a == [10]
    assert sum(b - s + 1 for _, s, b in capped) == len(feats)

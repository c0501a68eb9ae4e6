"""Lip-sync + expression -> one face, with articulation winning where it must.

Why rules and not a plain sum: a smile, a sneer or a surprised jaw added on top of speech
opens lips that must be shut (p/b/m), un-tucks the lower lip on f/v and flattens rounded
vowels - the errors viewers notice first. The rules, in the order :func:`mix` applies them:

1. **Upper face is emotion's.** Brows, eyes (squint/wide), cheeks and nose are not touched by
   lip-sync: expression offsets are added as they are.
2. **Arousal scales articulation.** Aroused speech is hyper-articulated, low-arousal speech
   hypo-articulated: jaw opening and lip opening from lip-sync are scaled by
   ``1 + ARTICULATION_GAIN * arousal`` (0.85..1.15). ``mouthClose`` is scaled *with*
   ``jawOpen`` so lips that meet still meet (ARKit's mouthClose is relative to jawOpen).
3. **Speech owns the lip gap.** Expression offsets on the channels that open the lips
   (``jawOpen``, ``mouthLowerDown*``, ``mouthUpperUp*``) are cut to ``SPEECH_GAP_SHARE`` while
   someone is speaking and to 0 around bilabial closures; in pauses they act fully (a
   surprised face hangs its jaw between phrases, not on top of every vowel). Where lip-sync
   itself has the lips nearly together while speaking or about to (its lip gap below
   ``NEAR_CLOSED_GAP``; full from halfway up the ramp out of a pause, since a word-initial
   "m" closes before voicing starts), neither the expression nor the arousal gain may open
   them: that keeps closures the phones do not label (coarticulation, a missed "m").
4. **Bilabials close, always.** Within each p/b/m phone (+-10 ms, raised-cosine ramps of
   ``CLOSURE_RAMP_S`` outside it) the lip gap is exactly lip-sync's: expression can add
   nothing to it, so ``jawOpen - mouthClose + 0.25*(lowerDown L+R) + 0.25*(upperUp L+R)``
   stays <= 0.06 under any emotion. Tension channels (press) still add: angry lips press
   harder on "b", which is right. Expression never writes ``mouthClose`` anywhere: lip
   contact is articulation's alone.
5. **f/v tuck survives.** Within f/v phones ``mouthRollLower`` never falls below lip-sync's
   value and expression cannot pull the lower lip down (``mouthLowerDown*``).
6. **Rounding survives.** ``mouthPucker``/``mouthFunnel`` never fall below lip-sync; the
   corner-spreading expression channels (smile, stretch, dimple) are halved where the lips
   round (orbicularis oris and zygomaticus/risorius pull against each other), so happy speech
   keeps smiling corners without flattening "oo".
7. **Everything else adds.** Smile, frown, dimple, press, shrug and the rest are lip-sync +
   expression, clipped to 0..1; finally ``mouthClose <= jawOpen`` (ARKit's constraint).

The closure zones come from the phones (``track.events['phones']``); without phones rules
4-5 cannot know where contacts are and only rules 1-3, 6, 7 apply.
"""
from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from ..track import ARKIT_INDEX, N_ARKIT
from .lipsync.phones import _FEW_TIMES, interval_weight, interval_weight_list
from .lipsync.visemes import BILABIALS, LABIODENTALS

ARTICULATION_GAIN = 0.15
SPEECH_GAP_SHARE = 0.3
CLOSURE_RAMP_S = 0.06
#: lip-sync lip gap below which (while speaking) the lips count as together / above which free
NEAR_CLOSED_GAP = (0.06, 0.12)
_CONTACT_PAD_S = 0.01
_ROUND_FULL = 0.3  # lip-sync rounding at which the round zone weight reaches 1


_I = ARKIT_INDEX
UPPER_FACE = np.array([i for n, i in _I.items()
                       if n.startswith(("brow", "eye", "cheek", "nose"))])
GAP_OPENERS = np.array([_I["jawOpen"], _I["mouthLowerDownLeft"], _I["mouthLowerDownRight"],
                        _I["mouthUpperUpLeft"], _I["mouthUpperUpRight"]])
LIP_OPENERS = np.array([_I["mouthLowerDownLeft"], _I["mouthLowerDownRight"],
                        _I["mouthUpperUpLeft"], _I["mouthUpperUpRight"]])
SPREADERS = np.array([_I[n] for n in ("mouthSmileLeft", "mouthSmileRight", "mouthStretchLeft",
                                      "mouthStretchRight", "mouthDimpleLeft", "mouthDimpleRight")])
ROUNDERS = np.array([_I["mouthPucker"], _I["mouthFunnel"]])


def lip_gap(curves: np.ndarray) -> np.ndarray:
    """The lip-gap measure of tools/lipsync_check.py: <= 0.06 means the lips meet."""
    c = lambda n: curves[:, _I[n]]  # noqa: E731
    return (np.clip(c("jawOpen") - c("mouthClose"), 0, 1)
            + 0.25 * (c("mouthLowerDownLeft") + c("mouthLowerDownRight"))
            + 0.25 * (c("mouthUpperUpLeft") + c("mouthUpperUpRight")))


def contact_weight(phones: Iterable[Sequence], kinds: frozenset, times: np.ndarray,
                   ramp_s: float = CLOSURE_RAMP_S, pad_s: float = _CONTACT_PAD_S) -> np.ndarray:
    """(N,) 1 inside each phone of ``kinds`` (+-pad), raised-cosine ramps of ``ramp_s`` outside.

    Wider than lip-sync's own contact ramps on purpose, so no expression leaks into the
    frames where lip-sync is still closing.
    """
    spans = [(float(p[0]) - pad_s, float(p[1]) + pad_s) for p in phones if str(p[2]) in kinds]
    return interval_weight(spans, times, ramp_s)


def speaking_weight(phones: Iterable[Sequence], times: np.ndarray, ramp_s: float = 0.15) -> np.ndarray:
    """(N,) 1 while a non-silence phone is being spoken, smooth ramps into pauses."""
    return interval_weight([(float(p[0]), float(p[1])) for p in phones if str(p[2]) != "sil"], times, ramp_s)


def mix(lips: np.ndarray, expression: np.ndarray, times: np.ndarray,
        phones: Sequence[Sequence] | None = None, arousal: np.ndarray | None = None) -> np.ndarray:
    """Compose lip-sync curves and expression offsets (both (N, 52)) by the module's rules."""
    return mix_many([(lips, expression, times, phones, arousal)])[0]


def _zones(lips: np.ndarray, ex: np.ndarray, times: np.ndarray, phones, arousal) -> tuple:
    """One window's inputs of the rules, checked: its rows (lips, expression as float64), the
    contact / speaking weights of its phones at its times, and its arousal (zeros: no gain)."""
    lips = np.asarray(lips, np.float64)
    ex = np.asarray(ex, np.float64)
    n = lips.shape[0]
    if lips.shape != (n, N_ARKIT) or ex.shape != (n, N_ARKIT):
        raise ValueError(f"mix: lips {lips.shape} and expression {ex.shape} must both be ({n}, {N_ARKIT})")
    phones = list(phones or [])
    t = np.asarray(times, np.float64)
    wb = contact_weight(phones, BILABIALS, t)
    wf = contact_weight(phones, LABIODENTALS, t, ramp_s=0.04)
    speaking = speaking_weight(phones, t) if phones else np.zeros(n)
    ar = np.zeros(n) if arousal is None else np.asarray(arousal, np.float64).reshape(n)
    return lips, ex, wb, wf, speaking, ar


def _zones_stacked(items: Sequence[tuple]) -> tuple:
    """:func:`_zones` of many windows, stacked: (lips, expression, contact, tuck, speaking,
    arousal, rows per window). The same values as each window's own :func:`_zones`, with fewer
    calls: a window of a few times (a LIVE tick's 1-2 frames) has its weights in Python floats
    (``phones.interval_weight_list``, :func:`interval_weight`'s bits) and every window's rows go
    into one array per input; longer windows take the array functions."""
    lips_l, ex_l, ar_l, counts = [], [], [], []
    wb: list[float] = []
    wf: list[float] = []
    sp: list[float] = []
    for lips, ex, times, phones, arousal in items:
        lips = lips if isinstance(lips, np.ndarray) else np.asarray(lips, np.float64)
        ex = ex if isinstance(ex, np.ndarray) else np.asarray(ex, np.float64)
        n = lips.shape[0]
        if lips.shape != (n, N_ARKIT) or ex.shape != (n, N_ARKIT):
            raise ValueError(f"mix: lips {lips.shape} and expression {ex.shape} must both be ({n}, {N_ARKIT})")
        phones = list(phones or [])
        t = np.asarray(times, np.float64)
        lb = lf = ls = None
        if t.ndim == 1 and len(t) <= _FEW_TIMES:
            tl = t.tolist()
            pad = _CONTACT_PAD_S
            sb, sf, ss = [], [], []  # (contact_weight's / speaking_weight's spans, in one pass)
            for p in phones:
                lab, p0, p1 = str(p[2]), float(p[0]), float(p[1])
                if lab in BILABIALS:
                    sb.append((p0 - pad, p1 + pad))
                if lab in LABIODENTALS:
                    sf.append((p0 - pad, p1 + pad))
                if lab != "sil":
                    ss.append((p0, p1))
            lb = interval_weight_list(sb, tl, CLOSURE_RAMP_S)
            lf = interval_weight_list(sf, tl, 0.04)
            ls = interval_weight_list(ss, tl, 0.15) if phones else [0.0] * len(tl)
        wb.extend(contact_weight(phones, BILABIALS, t).tolist() if lb is None else lb)
        wf.extend(contact_weight(phones, LABIODENTALS, t, ramp_s=0.04).tolist() if lf is None else lf)
        sp.extend((speaking_weight(phones, t) if phones else np.zeros(n)).tolist() if ls is None else ls)
        ar_l.append(np.zeros(n) if arousal is None else np.asarray(arousal, np.float64).reshape(n))
        lips_l.append(lips)
        ex_l.append(ex)
        counts.append(n)
    if not (len(wb) == len(wf) == len(sp) == sum(counts)):
        raise ValueError("mix: each window needs one time per row")
    return (np.concatenate(lips_l, dtype=np.float64), np.concatenate(ex_l, dtype=np.float64),
            np.array(wb, np.float64), np.array(wf, np.float64), np.array(sp, np.float64),
            np.concatenate(ar_l), counts)


def mix_many(items: Sequence[tuple]) -> list[np.ndarray]:
    """:func:`mix` of many windows (``items``: (lips, expression, times, phones, arousal) each,
    as ``mix`` takes them) in one pass: each window's zones from its own phones and times, then
    the rules on all rows stacked. Every rule is a per-row operation (the rounding zone a max
    over the row's two rounders), so each window gets exactly what it gets alone; LIVE sessions
    with emotion keys mix 1-2 frames each per tick, and the rules' ~40 array calls were the
    mixer's cost."""
    if len(items) == 1:
        lips, ex, wb, wf, speaking, arousal = _zones(*items[0])
        counts = None
    else:
        lips, ex, wb, wf, speaking, arousal, counts = _zones_stacked(items)
    wr = np.clip(lips[:, ROUNDERS].max(axis=1) / _ROUND_FULL, 0.0, 1.0)

    # where speech itself has the lips (nearly) together, emotion must not part them: covers
    # closures the phones do not label (coarticulation, recogniser misses)
    x = np.clip((NEAR_CLOSED_GAP[1] - lip_gap(lips)) / (NEAR_CLOSED_GAP[1] - NEAR_CLOSED_GAP[0]), 0.0, 1.0)
    # (saturates halfway up the speech ramp: the lips of a word-initial "m" meet before the
    # voicing starts, while the ramp from the pause is still rising)
    near_closed = np.minimum(1.0, 2.0 * speaking) * x * x * (3.0 - 2.0 * x)

    out = lips.copy()
    # rule 2: articulation gain from arousal (jawOpen and mouthClose together); no arousal is
    # arousal 0, a gain of exactly 1
    g = np.clip(1.0 + ARTICULATION_GAIN * arousal, 0.85, 1.15)
    g = 1.0 + (g - 1.0) * (1.0 - near_closed)
    jaw, close = _I["jawOpen"], _I["mouthClose"]
    out[:, jaw] = lips[:, jaw] * g
    out[:, close] = lips[:, close] * g
    out[:, LIP_OPENERS] = lips[:, LIP_OPENERS] * g[:, None]
    # rule 3 + 4: expression's share of the lip gap
    gap_share = (1.0 - (1.0 - SPEECH_GAP_SHARE) * speaking) * (1.0 - wb) * (1.0 - near_closed)
    e = ex.copy()
    e[:, GAP_OPENERS] *= gap_share[:, None]
    e[:, _I["mouthClose"]] = 0.0  # lip contact is articulation's alone
    # rule 5: the lower lip stays tucked on f/v
    e[:, [_I["mouthLowerDownLeft"], _I["mouthLowerDownRight"]]] *= (1.0 - wf)[:, None]
    # rule 6: rounding narrows spreading corners
    e[:, SPREADERS] *= (1.0 - 0.5 * wr)[:, None]
    # rules 1 + 7: add
    out = out + e
    # rule 4 (hard): inside closures the gap is lip-sync's own, whatever happened above
    core = wb >= 1.0 - 1e-9
    out[core, jaw] = lips[core, jaw] * g[core]
    out[core, close] = lips[core, close] * g[core]
    out[np.ix_(core, LIP_OPENERS)] = lips[np.ix_(core, LIP_OPENERS)] * g[core, None]
    # rules 5 + 6 (hard): articulatory floors
    ri = _I["mouthRollLower"]
    out[:, ri] = np.maximum(out[:, ri], lips[:, ri])
    out[:, ROUNDERS] = np.maximum(out[:, ROUNDERS], lips[:, ROUNDERS])
    out = np.clip(out, 0.0, 1.0)
    out[:, _I["mouthClose"]] = np.minimum(out[:, _I["mouthClose"]], out[:, _I["jawOpen"]])
    out = out.astype(np.float32)
    return [out] if counts is None else _row_pieces(out, counts)


def _row_pieces(a: np.ndarray, counts: Sequence[int]) -> list[np.ndarray]:
    """``np.split(a, np.cumsum(counts)[:-1])`` (views of consecutive rows), without its
    per-piece overhead."""
    out, at = [], 0
    for k in counts:
        out.append(a[at:at + k])
        at += k
    return out


__all__ = ["mix", "mix_many", "lip_gap", "contact_weight", "speaking_weight", "ARTICULATION_GAIN",
           "SPEECH_GAP_SHARE", "NEAR_CLOSED_GAP", "UPPER_FACE"]

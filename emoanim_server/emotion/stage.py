"""The emotion stage of the pipeline: controls -> per-frame state -> expression -> mixer.

Why a single entry point (:func:`apply_emotion`): offline bake and the server run the same
stage; both hand it the track after lip-sync and the BakeOptions, and it leaves behind
everything later stages need to read (``track.events['emphasis']``,
``track.events['emotion']``, ``track.metadata['emotion']``).

``BakeOptions.extra['emotion']`` may be an :class:`EmotionControls`, an :class:`EmotionState`,
an :class:`EmotionTimeline`, a spec string (``"happy:0.7"``, ``"auto"``, ``"auto,sad:0.3"``),
a timeline dict (the JSON schema of docs/emotion.md) or None (neutral).
"""
from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InputError
from .space import CATEGORIES, N_CATEGORIES, NEUTRAL, EmotionState, vad_to_weights
from .timeline import (DEFAULT_TRANSITION_S, EmotionTimeline, Keyframe, parse_emotion, sample_keyframes,
                       timeline_from_json)

if TYPE_CHECKING:  # typing only: the pipeline imports this module, not the other way round
    from ..audio import Audio
    from ..audio.prosody import Prosody
    from ..options import StageOptions as BakeOptions
    from ..track import AnimationTrack

#: share of the auto-estimated VAD that becomes category weights (expression); the rest of
#: auto's effect is through arousal (articulation gain, emphasis brows). Prosody says "more
#: activated", not "surprised", so it should not paint a full prototype on the face.
AUTO_EXPRESSION_SHARE = 0.5
#: control points of ``track.events['emotion']`` are sampled at this rate and then thinned
EVENT_HOP_S = 0.05
_EVENT_TOL = 2e-3


@dataclass(frozen=True)
class EmotionControls:
    """What the user asked for: a timeline (a constant emotion is a one-key timeline) and
    whether prosody should drive arousal on top of it (``auto``)."""

    timeline: EmotionTimeline
    auto: bool = False
    source: str = "neutral"  # neutral | category | mixture | vad | timeline (+auto)
    #: the speaker's neutral cues for auto (emotion.auto.speaker_baseline); None = population
    auto_baseline: dict | None = None

    def to_dict(self) -> dict:
        d: dict[str, Any] = {"source": self.source + ("+auto" if self.auto and self.source != "neutral" else "")}
        if self.auto and self.source == "neutral":
            d["source"] = "auto"
        d.update(self.timeline.to_dict())
        return d


def controls_from(value: Any) -> EmotionControls:
    """Normalise any accepted form of ``extra['emotion']`` (see module doc)."""
    if value is None:
        return EmotionControls(EmotionTimeline.constant(NEUTRAL))
    if isinstance(value, EmotionControls):
        return value
    if isinstance(value, EmotionState):
        return EmotionControls(EmotionTimeline.constant(value), source=_kind(value))
    if isinstance(value, EmotionTimeline):
        return EmotionControls(value, source="timeline" if not value.is_constant else _kind(value.keyframes[0].state))
    if isinstance(value, str):
        state, auto = parse_emotion(value, "emotion")
        if state is None:
            return EmotionControls(EmotionTimeline.constant(NEUTRAL), auto=auto)
        return EmotionControls(EmotionTimeline.constant(state), auto=auto, source=_kind(state))
    if isinstance(value, (dict, list)):
        return EmotionControls(timeline_from_json(value, "emotion"), source="timeline")
    raise InputError(f"emotion: cannot use a {type(value).__name__} as emotion controls")


def _kind(state: EmotionState) -> str:
    nz = sum(1 for w in state.weights[1:] if w > 1e-9)
    return "neutral" if nz == 0 else ("category" if nz == 1 else "mixture")


def controls_state(controls: EmotionControls, times: np.ndarray,
                   auto_vad: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(N, 3) VAD and (N, 8) weights at ``times``; ``auto_vad`` (N, 3) is added as an offset
    to the explicit VAD (the explicit emotion is the bias) and contributes
    AUTO_EXPRESSION_SHARE of its derived category weights."""
    vad, w = controls.timeline.sample(times)
    if auto_vad is not None:
        vad = np.clip(vad + auto_vad, -1.0, 1.0)
        wa = vad_to_weights(auto_vad) * AUTO_EXPRESSION_SHARE
        w = w.copy()
        w[:, 1:] += wa[:, 1:]
        total = w[:, 1:].sum(axis=1)
        over = total > 1.0
        w[over, 1:] /= total[over, None]
        w[:, 0] = 1.0 - w[:, 1:].sum(axis=1)
    return vad, w


def apply_emotion(track: "AnimationTrack", audio: "Audio", options: "BakeOptions",
                  prosody: "Prosody | None" = None) -> None:
    """Pipeline stage: reads lip-sync curves + phones on ``track``, writes the mixed face.

    Also runs prosody once (unless ``prosody``, an audio.prosody.Prosody of the same audio, is
    given) and exposes ``track.events['emphasis']`` for head and gesture.
    """
    from ..audio.prosody import analyse
    from ..face.expression import expression_offsets
    from ..face.mixer import mix
    from .auto import estimate

    controls = controls_from(options.emotion)
    times = track.times
    if prosody is None:
        prosody = analyse(audio.samples)
    auto_vad = None
    auto_info = None
    if controls.auto:
        est = estimate(prosody, controls.auto_baseline, text=options.transcript, words=track.events.get("words"))
        auto_vad = est.at(times)
        auto_info = est.summary()
        auto_info["reference"] = "speaker baseline" if controls.auto_baseline else "population (neutral read speech)"
    vad, w = controls_state(controls, times, auto_vad)
    expr = expression_offsets(w, vad, times, seed=options.seed, emphasis=prosody.emphasis)
    track.curves[:] = mix(track.curves, expr, times, track.events.get("phones"), arousal=vad[:, 1])
    track.events["emphasis"] = list(prosody.emphasis)
    track.events["emotion"] = state_events(times, vad, w)
    meta = controls.to_dict()
    meta["columns"] = list(EVENT_COLUMNS)
    if auto_info is not None:
        meta["auto"] = auto_info
    meta["mean_vad"] = [round(float(x), 4) for x in vad.mean(axis=0)]
    track.metadata["emotion"] = meta


#: layout of one ``track.events['emotion']`` entry
EVENT_COLUMNS: tuple[str, ...] = ("time_s", "valence", "arousal", "dominance", *CATEGORIES)


def state_events(times: np.ndarray, vad: np.ndarray, w: np.ndarray) -> list[tuple[float, ...]]:
    """Per-frame state -> piecewise-linear control points (thinned where linear): what
    ``track.events['emotion']`` holds and :func:`emotion_at` reads back."""
    t = np.asarray(times, np.float64)
    if len(t) == 0:
        return []
    grid = np.arange(t[0], t[-1] + 1e-9, EVENT_HOP_S)
    if grid[-1] < t[-1] - 1e-9:
        grid = np.append(grid, t[-1])
    x = np.concatenate([vad, w], axis=1)
    xs = np.stack([np.interp(grid, t, x[:, j]) for j in range(x.shape[1])], axis=1)
    keep = [0]
    for i in range(1, len(grid) - 1):
        a = keep[-1]
        # drop i when it lies on the line from the last kept point to the next one
        f = (grid[i] - grid[a]) / (grid[i + 1] - grid[a])
        pred = xs[a] + f * (xs[i + 1] - xs[a])
        if np.max(np.abs(pred - xs[i])) > _EVENT_TOL:
            keep.append(i)
    if len(grid) > 1:
        keep.append(len(grid) - 1)
    return [tuple([round(float(grid[i]), 4)] + [round(float(v), 4) for v in xs[i]]) for i in keep]


def emotion_at(source: Any, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Emotion state at ``times`` -> ((N, 3) VAD, (N, 8) category weights, CATEGORIES order).

    ``source`` is a baked AnimationTrack (reads ``events['emotion']``, including what auto
    mode estimated), BakeOptions / its ``extra`` dict / anything :func:`controls_from`
    accepts (explicit controls only: auto needs the audio, so there it gives the bias).
    Later stages use it: eyes (sad looks down), head (amplitude by arousal), gestures.
    """
    t = np.atleast_1d(np.asarray(times, np.float64))
    events = getattr(source, "events", None)
    if isinstance(events, dict):
        ev = events.get("emotion")
        if not ev:
            vad, w = EmotionTimeline.constant(NEUTRAL).sample(t)
            return vad, w
        arr = np.asarray(ev, np.float64)
        out = np.stack([np.interp(t, arr[:, 0], arr[:, j]) for j in range(1, arr.shape[1])], axis=1)
        return out[:, :3], out[:, 3:3 + N_CATEGORIES]
    extra = getattr(source, "extra", None)
    if isinstance(extra, dict):  # StageOptions: its typed field
        source = getattr(source, "emotion", None)
    elif isinstance(source, dict) and "keyframes" not in source and "emotion" in source:
        source = source["emotion"]
    return controls_state(controls_from(source), t)


#: windows of at most this many times in a hold are cached by :meth:`LiveTimeline.sample`
#: (LIVE's 1-8 frames or ticks per call)
_HELD_MAX = 8


class LiveTimeline:
    """Emotion keyframes that arrive one at a time (the server's EmotionUpdate messages).

    Why not rebuild an :class:`EmotionTimeline` per update: that is O(n) per message and
    sampling is O(n) per frame window, so a client that floods updates makes every later audio
    chunk slower (issue 14 item 1). Here an insertion costs O(log n) plus the few later keys
    it pushes, and :meth:`sample` reads only the keys whose transitions touch the times asked
    for, so per-chunk work does not grow with the number of updates.

    Semantics equal the batch rule the server always had: keys are ordered by requested time
    (arrival order among equal times); a key whose centred transition would overlap the
    previous one is moved later just enough (``prev_end + transition/2``, where the first key
    only holds). The result samples exactly like ``EmotionTimeline`` of the same adjusted keys.
    """

    def __init__(self, initial: EmotionState | None = None) -> None:
        self._req: list[float] = []  # requested times, sorted
        self._keys: list[Keyframe] = []  # adjusted keyframes, same order
        self._starts: list[float] = []  # transition window start per key (sorted: no overlaps)
        self._ends: list[float] = []
        #: {(base key index, number of times): (vad, weights)} of windows in a hold (no key's
        #: transition touches them); cleared whenever a key is inserted (see :meth:`sample`)
        self._held: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
        #: {id(cached weights): (those weights, the hold's one-row (vad, weights))}: held_row's
        self._held_ids: dict[int, tuple[np.ndarray, tuple[np.ndarray, np.ndarray]]] = {}
        self._held_one: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        #: the hold :meth:`sample` last answered: (lower, upper, its rows by window length, its
        #: key): the windows t with lower <= min(t) and max(t) < upper lie in it
        self._last_hold: tuple[float, float, dict, int] | None = None
        if initial is not None:  # the session's starting emotion holds from 0
            self._insert(0, 0.0, initial, DEFAULT_TRANSITION_S)

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, t: float, state: EmotionState, transition: float) -> float:
        """Insert a keyframe requested at ``t``; returns the time it was placed at. A key
        :class:`EmotionTimeline` would reject (time, transition) is refused here, once, so that
        sampling can trust every key."""
        EmotionTimeline([Keyframe(t, state, transition)], "LIVE emotion key")
        if not self._keys:  # the first keyframe holds from 0: start from neutral explicitly
            self._insert(0, 0.0, NEUTRAL, DEFAULT_TRANSITION_S)
        i = bisect.bisect_right(self._req, t)
        self._insert(i, t, state, transition)
        return self._keys[i].time

    def _insert(self, i: int, t: float, state: EmotionState, tr: float) -> None:
        self._held, self._held_ids, self._held_one = {}, {}, {}
        self._last_hold = None
        self._req.insert(i, t)
        self._keys.insert(i, Keyframe(t, state, tr))
        self._starts.insert(i, t)
        self._ends.insert(i, t)
        for j in range(i, len(self._keys)):  # re-place keys from i on while they move
            k = self._keys[j]
            tj = self._req[j]
            if j > 0:
                prev = self._keys[j - 1]
                prev_end = prev.time + (prev.transition / 2 if j > 1 else 0.0)
                tj = max(tj, prev_end + k.transition / 2 + 1e-6, prev.time + 1e-6)
            if j > i and tj == k.time:
                break
            self._keys[j] = Keyframe(tj, k.state, k.transition)
            self._starts[j] = tj - k.transition / 2
            self._ends[j] = tj + k.transition / 2

    def sample(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Same values as ``EmotionTimeline(keys).sample(times)``, from the keys that matter."""
        h = self._last_hold
        if h is not None and type(times) is np.ndarray and times.ndim == 1 and times.dtype.char == "d":
            # (LIVE's next window usually lies in the hold of the last: its rows without the search)
            lt = times.tolist()
            if 0 < len(lt) <= _HELD_MAX and math.isfinite(sum(lt)) and h[0] <= min(lt) and max(lt) < h[1]:
                rows = h[2].get(len(lt))
                if rows is not None:
                    return rows
        t = np.asarray(times, np.float64).reshape(-1)
        if not self._keys:
            return EmotionTimeline.constant(NEUTRAL).sample(t)
        if len(t) == 0:
            return sample_keyframes(self._keys[:1], t)
        # (a LIVE window is 1-2 times: Python's min / max of the finite values, which select the
        # same floats as numpy's reductions at a fraction of their per-call cost)
        lt = t.tolist() if len(t) <= 32 else None
        if lt is not None and math.isfinite(sum(lt)):
            t0, t1 = min(lt), max(lt)
        else:
            t0, t1 = float(t.min()), float(t.max())
        # keys 1.. whose window ends before t0 are complete: the latest of them is the base
        lo = max(1, bisect.bisect_right(self._ends, t0, lo=1))
        hi = bisect.bisect_right(self._starts, t1, lo=lo)
        if hi > lo or len(t) > _HELD_MAX:
            return sample_keyframes(self._keys[lo - 1:hi], t)
        # a hold: one key (lo - 1) and no transition, so every row is that key's state whatever
        # the times (sample_keyframes of one key): the rows of a window length are built once per
        # hold by sample_keyframes itself (the same bits) and shared, read-only. LIVE samples a
        # session's emotion twice a tick and, with keys every second or two, is in a hold most
        # of the time; every LIVE reader only reads or copies them (as the fixed-emotion rows)
        ck = (lo - 1, len(t))
        rows = self._held.get(ck)
        if rows is None:  # (copies that own their data: face.expression memoises on such)
            rows = tuple(np.array(a) for a in sample_keyframes(self._keys[lo - 1:hi], t))
            for a in rows:
                a.flags.writeable = False
            if len(self._held) < 64:
                self._held[ck] = rows
                one = self._held_one.setdefault(lo - 1, (rows[0][:1], rows[1][:1]))
                self._held_ids[id(rows[1])] = (rows[1], one)
        # the hold of key b = lo - 1 holds the windows [t0, t1] with (b == 0 or ends[b] <= t0) and
        # (b is the last key or t1 < starts[b + 1]): there the search above gives lo - 1 == b and
        # hi == lo (the ends past b are later than their starts, so later than t1 >= t0)
        b = lo - 1
        lower = self._ends[b] if b >= 1 else -math.inf
        upper = self._starts[b + 1] if b + 1 < len(self._keys) else math.inf
        h = self._last_hold
        if h is None or h[3] != b:
            h = self._last_hold = (lower, upper, {}, b)
        if len(h[2]) < 16:
            h[2][len(t)] = rows
        return rows

    def held_row(self, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
        """When ``weights`` are rows :meth:`sample` gave for a hold (all rows one key's state),
        that hold's one row as (vad (1, 3), weights (1, 8)), read-only and the same objects for
        every window of the hold; None otherwise. LIVE's upper face then takes a hold's ticks as
        one row repeated (``feed_emotion_repeated``: the same numbers, computed once per hold)."""
        e = self._held_ids.get(id(weights))
        return e[1] if e is not None and e[0] is weights else None

    def timeline(self) -> EmotionTimeline:
        """All keys as an EmotionTimeline (CLIP mode hands this to the offline pipeline)."""
        return EmotionTimeline(self._keys) if self._keys else EmotionTimeline.constant(NEUTRAL)

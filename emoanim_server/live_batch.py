"""Many LIVE stage graphs advanced together: one learned-model call for all of them.

Why: a LIVE session gets 20 ms of audio at a time, i.e. two 100 Hz model frames. Run alone, the
articulation model's onnxruntime call, the mel front end and the articulator -> ARKit step each
cost a fixed overhead that dwarfs the arithmetic on two frames (benchmarks/results/live_capacity.md
has the profile). Ticked together, N sessions pay that overhead once: their pending mel frames
go through the model as one batch (the streaming state tensors stacked along the model's batch
axis), and their new articulator frames through :func:`~.face.lipsync.neural.to_curves` as one
array. The other stages do the same with their own many-session calls: the upper face's pitch,
step and offsets, and the eyes + head (``face.eyes_head.feed_many``: the eyes decide per session,
all heads step in one pass of array operations; ``render_many``: every session's new frames
rendered as rows of one window set). What stays per session is the sequencing in Python and the
per-tick decisions (blinks, saccades, onsets); per-stage costs are listed in the benchmark.

The numbers do not depend on the batching: a session's state and frames are exactly its own, and
batched == one-by-one within float rounding (tests/test_live_batch.py). The server's ticker
(``server/ticker.py``) calls :func:`tick`; a single graph's ``feed`` is ``tick`` of one.

The model split is the lip-sync stage's own public API (``NeuralLipsync.begin`` / ``run_model``
/ ``end_raw`` and ``neural.run_batch``); likewise the upper face's pitch analysis (YIN) of all
graphs runs as one call (rows independent). This module only
sequences the stages' own APIs across graphs: a stage-level module (no sockets, no edges).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .batching import batched
from .face.lipsync.neural import NeuralLipsync, end_raw_many, run_batch, to_curves

__all__ = ["tick"]


def tick(items: Sequence[tuple[object, np.ndarray]]) -> list:
    """Advance many LIVE graphs (``pipeline.LiveGraph``) by one audio piece each, together.

    ``items``: (graph, 16 kHz float32 samples). Returns, per item, what ``graph.feed(samples)``
    returns (a ``LiveFrames`` or None) or the exception that graph raised: one bad session never
    stops the others."""
    results: list = [None] * len(items)
    begun: list[int] = []
    for i, (g, x) in enumerate(items):
        try:
            if g.begin(x):
                begun.append(i)
        except Exception as e:  # noqa: BLE001 - isolated per session, reported by the caller
            results[i] = e
    lips = [items[i][0].lip for i in begun if isinstance(items[i][0].lip, NeuralLipsync)]
    ran = batched(_run_models, lips)
    failed: dict[int, Exception] = {id(s): e for s, e in zip(lips, ran) if isinstance(e, Exception)}
    # the articulator -> ARKit step for all new frames at once (a per-frame function)
    raws, owners = _lips_end_raw(items, begun, failed, results)
    lip_curves: dict[int, np.ndarray] = {}
    if raws:
        allc = to_curves(np.concatenate(raws))
        at = 0
        for i, r in zip(owners, raws):
            lip_curves[i] = allc[at:at + len(r)]
            at += len(r)
    fronted = _end_front(items, begun, lip_curves, results)
    early = _upper_early([items[i][0] for i in fronted])
    _upper_bands([items[i][0] for i in fronted], early)
    _upper_pitch([items[i][0] for i in fronted])
    for i, e in _upper_steps([items[i][0] for i in fronted], early).items():
        results[fronted[i]] = e
    ok = [i for i in fronted if results[i] is None]
    _eyes_head_feeds([items[i][0] for i in ok], ok, results)
    ok = [i for i in ok if results[i] is None]
    _emit([items[i][0] for i in ok], ok, results)
    return results


def _end_front(items, begun: list[int], lip_curves: dict, results: list) -> list[int]:
    """Each graph's ``end_front``: its lip-sync frames taken in (``end_lips``), the speech
    activity of every graph's new audio in one call (``face.drivers.speech_feed_many``: each
    stream's own state, the same ticks as alone), the stages driven (``end_speech``). Returns
    the items that got through; a failure is its graph's result."""
    from .face.drivers import speech_feed_many

    lipped, xs = [], []
    for i in begun:
        if results[i] is not None:
            continue
        try:
            xs.append(items[i][0].end_lips(lip_curves.get(i)))
            lipped.append(i)
        except Exception as e:  # noqa: BLE001
            results[i] = e
    ticks = batched(lambda its: speech_feed_many([items[i][0].speech for i, _ in its], [x for _, x in its]),
                    list(zip(lipped, xs)))
    fronted: list[int] = []
    for i, t in zip(lipped, ticks):
        if isinstance(t, Exception):
            results[i] = t
            continue
        try:
            items[i][0].end_speech(t)
            fronted.append(i)
        except Exception as e:  # noqa: BLE001
            results[i] = e
    return fronted


def _eyes_head_feeds(graphs: list, idx: list[int], results: list) -> None:
    """The eyes + head feeds this tick's frames need, of every graph in one call
    (``face.eyes_head.feed_many``: the eyes decide per stream, the heads step together); a
    failure is its graph's result."""
    from .face.eyes_head import feed_many

    todo, feeds, could = [], [], []
    for g, i in zip(graphs, idx):
        try:
            p = g.eyes_head_request()
            if p is None and g.eyes_head_can_early():
                could.append((g, i))
        except Exception as e:  # noqa: BLE001 - isolated per session
            results[i] = e
            continue
        if p is not None:
            todo.append(i)
            feeds.append((g.eyes_head,) + tuple(p) + (False,))
    # the minority fed early, as the upper faces step early (_upper_early): a session's eyes +
    # head are fed every ~4 chunks (they need no lookahead, the lips 75 ms), so sessions at
    # different chunk phases were fed on different ticks, each feed_many call with a quarter of
    # the rows paying its fixed cost (~0.6 ms, Xeon VM); fed with the majority once, a session
    # falls due with it. Exact where eyes_head_can_early allows it (neutral emotion rows).
    if could and len(todo) >= len(could):
        for g, i in could:
            try:
                p = g.eyes_head_early_request()
            except Exception as e:  # noqa: BLE001
                results[i] = e
                continue
            if p is not None:
                todo.append(i)
                feeds.append((g.eyes_head,) + tuple(p) + (False,))
    if feeds:
        for i, e in zip(todo, feed_many(feeds)):
            if e is not None:
                results[i] = e


def _upper_early(graphs: list) -> set[int]:
    """The graphs (by ``id``) whose upper face steps early this tick: when more graphs' frames
    drive their upper face now (``LiveGraph.upper_due``) than there are others that could step,
    those others step too. Why: a session's upper face steps every other chunk (it needs less
    lookahead than the lips), so sessions at different chunk phases -- spread arrivals -- step
    on alternate ticks, and every batched call of the stage (band-pass, pitch, step) ran twice as
    often with half the rows, paying its fixed cost each time (~0.6 ms a step call, Xeon VM).
    Once stepped with the majority a session falls due with it from then on; the majority rule
    keeps one late joiner from moving everyone. Exact: the upper face gives the same ticks
    whatever its steps (tests/test_live_batch.py compares spread batches with each graph alone)."""
    due, could = 0, []
    for g in graphs:
        try:
            d = g.upper_due()
        except Exception:  # noqa: BLE001 - its own requests meet (and report) the same problem
            continue
        if d:
            due += 1
        elif d is not None:
            could.append(id(g))
    return set(could) if could and due >= len(could) else set()


def _upper_bands(graphs: list, early: set[int] = frozenset()) -> None:
    """The upper faces' audio-rate band-pass of every graph about to give its upper face audio
    (``LiveGraph.upper_audio_request``; ``early``: the graphs stepping early, :func:`_upper_early`),
    in one call (``dsp.bandpass_many``: each filter's own
    state, the same samples as alone); each graph then takes its audio in with its band
    (``upper_audio_in``) and :func:`_upper_pitch` asks for its pitch frames as before. A failure
    leaves the graph to filter its own audio (the same numbers, then or at its step)."""
    from .dsp import bandpass_many

    reqs = []
    for g in graphs:
        try:
            x = g.upper_audio_request(id(g) in early) if early else g.upper_audio_request()
        except Exception:  # noqa: BLE001 - the pitch / emit step meets (and reports) the same problem
            continue
        if x is not None:
            reqs.append((g, x))
    if not reqs:
        return
    # non-finite samples are zeroed by the upper face first: those graphs filter their own
    fin = [np.isfinite(x).all() and len(x) > 0 for _, x in reqs]
    bands = batched(lambda its: bandpass_many([g.upper._bandpass for g, _ in its], [x for _, x in its]),
                    [r for r, f in zip(reqs, fin) if f])
    it = iter(bands)
    for (g, x), f in zip(reqs, fin):
        b = next(it) if f else None
        try:
            g.upper_audio_in(x, None if isinstance(b, Exception) else b)
        except Exception:  # noqa: BLE001 - reported by the graph's later steps
            pass


def _emit(graphs: list, idx: list[int], results: list) -> None:
    """Each graph's ``end_emit``, in its phases: the frames that may leave and their curves per
    graph, then the eyes + head render of every graph in one call (``face.eyes_head.render_many``:
    rows stacked, each stream's own numbers), then each graph's frames completed. A failure
    stays with its graph (a failed shared render falls back to one render per graph)."""
    from .face.expression import expression_offsets_many
    from .face.eyes_head import render_many
    from .face.mixer import mix_many

    outs: dict[int, object] = {}
    counts: dict[int, tuple] = {}
    reqs: dict[int, tuple] = {}
    for g, i in zip(graphs, idx):
        try:
            n = g.emit_count()
            if n > 0:
                counts[i] = (g, n)
                r = g.mix_request(n, lazy=True)
                if r is not None:
                    reqs[i] = r
        except Exception as e:  # noqa: BLE001
            results[i] = e
            counts.pop(i, None)
    # the expression offsets of every graph with emotion keys in one call
    # (face.expression.expression_offsets_many: each window's own numbers), then their emotion
    # mixer in one call (face.mixer.mix_many: each window's own zones, per-row rules)
    mixed: dict[int, object] = {}
    for i, ex in zip(list(reqs), batched(expression_offsets_many, [r[1] for r in reqs.values()])):
        if isinstance(ex, Exception):
            mixed[i] = ex
            del reqs[i]
        else:
            r = reqs[i]
            reqs[i] = (r[0], ex) + tuple(r[2:])
    mixed.update(zip(reqs, batched(mix_many, list(reqs.values()))))
    for i, (g, n) in counts.items():
        m = mixed.get(i)
        if isinstance(m, Exception):
            results[i] = m
            continue
        try:
            outs[i] = (g, g.emit_curves(n, add_upper=False, mixed=(m,)))
        except Exception as e:  # noqa: BLE001
            results[i] = e
    _upper_add(outs, results)
    eh = [i for i, (g, _) in outs.items() if g.eyes_head is not None]
    rendered: dict[int, tuple] = {}
    for i, r in zip(eh, batched(render_many, [(outs[i][0].eyes_head, outs[i][1].curves, outs[i][1].first) for i in eh])):
        if isinstance(r, Exception):
            results[i] = r
        else:
            rendered[i] = r
    for i, (g, out) in outs.items():
        if results[i] is not None:
            continue
        try:
            results[i] = g.emit_done(out, rendered.get(i))
        except Exception as e:  # noqa: BLE001
            results[i] = e


def _upper_pitch(graphs: list) -> None:
    """The upper faces' pitch analysis (YIN) of every graph that needs it now in one call: a
    LIVE step analyses 1-4 ticks, so the per-call cost was most of the stage's pitch work. Rows
    are computed independently (face.upper.yin): each gets what it would alone. A
    graph whose request fails is left to analyse its own audio when it emits."""
    reqs: list[tuple[object, np.ndarray]] = []
    for g in graphs:
        req = getattr(g, "upper_pitch_request", None)
        if req is None:
            continue
        try:
            fr = req()
        except Exception:  # noqa: BLE001 - the emit step meets (and reports) the same problem
            continue
        if fr is not None:
            reqs.append((g, fr))
    for (g, _), r in zip(reqs, batched(_yin_rows, [fr for _, fr in reqs])):
        if not isinstance(r, Exception):  # a failed graph analyses its own audio when it emits
            g.upper.take_pitch(*r)


def _run_models(streams: list) -> list[None]:
    """The learned lips' model for every stream in one ``neural.run_batch`` call (each stream
    keeps its outputs; nothing to hand back, so one None per stream for ``batched``)."""
    run_batch(streams)
    return [None] * len(streams)


def _yin_rows(frames: list[np.ndarray]) -> list[tuple[np.ndarray, np.ndarray]]:
    """(f0, aperiodicity) of each graph's YIN frames, all in one ``face.upper.yin`` call."""
    from .face.upper import yin

    f0, ap = yin(np.concatenate(frames) if len(frames) > 1 else frames[0])
    at, out = 0, []
    for fr in frames:
        out.append((f0[at:at + len(fr)], ap[at:at + len(fr)]))
        at += len(fr)
    return out


def _upper_steps(graphs: list, early: set[int] = frozenset()) -> dict[int, Exception]:
    """The upper faces' steps of every graph that needs one now, their rendering in one call
    (``face.upper.step_many``: per-tick decisions per session, then every session's new ticks
    through one set of array operations; rows are independent, so each gets what it would
    alone; ``early``: the graphs stepping early, :func:`_upper_early`). Returns {position in
    ``graphs``: exception} for graphs whose step failed (reported as their result; the others go on)."""
    from .face.upper import step_many

    failed: dict[int, Exception] = {}
    at, models, untils = [], [], []
    for j, g in enumerate(graphs):
        req = getattr(g, "upper_step_request", None)
        if req is None:
            continue
        try:
            until = req(True) if id(g) in early else req()
        except Exception as e:  # noqa: BLE001 - isolated per session
            failed[j] = e
            continue
        if until is not None:
            at.append(j)
            models.append(g.upper)
            untils.append(until)
    if not models:
        return failed
    for j, out in zip(at, step_many(models, untils)):
        if isinstance(out, Exception):
            failed[j] = out
        else:
            graphs[j].upper_take(out)
    return failed


def _lips_end_raw(items, begun: list[int], failed: dict, results: list) -> tuple[list, list[int]]:
    """The learned lip-sync's ``end_raw`` (decoding + interpolation to the output rate) of every
    begun graph in one call (``neural.end_raw_many``: each stream gets exactly its own frames);
    if that call fails, each stream alone, a failure staying with its own graph. Returns the raw
    frames and the item indices they belong to; failures go into ``results``."""
    owners, lips = [], []
    for i in begun:
        lip = items[i][0].lip
        if isinstance(lip, NeuralLipsync):
            if id(lip) in failed:
                results[i] = failed[id(lip)]
            else:
                owners.append(i)
                lips.append(lip)
    raws, ok = [], []
    for i, r in zip(owners, batched(end_raw_many, lips)):
        if isinstance(r, Exception):
            results[i] = r
        else:
            raws.append(r)
            ok.append(i)
    return raws, ok


def _upper_add(outs: dict, results: list) -> None:
    """The upper face added to every graph's new frames in one call (``face.upper.add_to_frames``:
    rows stacked, each window's own numbers), between ``emit_curves(n, add_upper=False)`` and the
    eyes + head render; a failure falls back to each graph alone and stays with its graph."""
    from .face.upper import add_to_frames

    todo = []
    for i, (g, out) in outs.items():
        try:
            w = g.upper_window(out)
        except Exception as e:  # noqa: BLE001
            results[i] = e
            continue
        if w is not None:
            todo.append((i, g, out, w))
    added = batched(add_to_frames, [w for _, _, _, w in todo])
    for (i, g, out, w), c in zip(todo, added):
        if isinstance(c, Exception):
            results[i] = c
            continue
        out.curves = c
        g.upper_sent(w[1])

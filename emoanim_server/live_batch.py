"""Many LIVE stage graphs advanced together: one learned-model call for all of them.

Why: a LIVE session gets 20 ms of audio at a time, i.e. two 100 Hz model frames. Run alone, the
articulation model's onnxruntime call, the mel front end and the articulator -> ARKit step each
cost a fixed overhead that dwarfs the arithmetic on two frames (benchmarks/results/live_capacity.md
has the profile). Ticked together, N sessions pay that overhead once: their pending mel frames
go through the model as one batch (the streaming state tensors stacked along the model's batch
axis), and their new articulator frames through :func:`~.face.lipsync.neural.to_curves` as one
array. Every other stage stays per session (their per-call costs are listed in the benchmark).

The numbers do not depend on the batching: a session's state and frames are exactly its own, and
batched == one-by-one within float rounding (tests/test_live_batch.py). The server's ticker
(``server/ticker.py``) calls :func:`tick`; a single graph's ``feed`` is ``tick`` of one.

This is a stage-level module (no sockets, no edges): it imports the lip-sync stage only.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np

from .face.lipsync.neural import NeuralLipsync, to_curves

__all__ = ["BatchedNeuralLipsync", "run_model", "tick"]


class BatchedNeuralLipsync(NeuralLipsync):
    """The learned lip-sync runner with its model call split out, so that many streams can share
    one call: ``begin(samples)`` (mel front end), the model (:meth:`run_pending` alone, or
    :func:`run_model` for many), ``end()`` (the frames that became final). ``feed`` is the three
    in a row, exactly :class:`NeuralLipsync.feed`."""

    def __init__(self, fps: int) -> None:
        super().__init__(fps)
        self._pending: np.ndarray | None = None  # mel frames waiting for the model

    def begin(self, samples: np.ndarray) -> None:
        if self._done:
            raise RuntimeError("NeuralLipsync: feed() after flush(); start a new stream")
        x = np.asarray(samples, np.float32).reshape(-1)
        if x.size and not np.all(np.isfinite(x)):
            raise ValueError("samples: expected finite float32 audio, got NaN/inf")
        mel = self._mel.feed(x)
        self._pending = mel if self._pending is None else np.concatenate([self._pending, mel])

    def run_pending(self) -> None:
        """The model on this stream's pending mel frames, alone."""
        mel, self._pending = self._pending, None
        if mel is not None:
            self._run(mel)

    def end_raw(self) -> np.ndarray:
        """(k, N_ART + 2) raw outputs at the output frames that became final."""
        return self._emit_raw(final=False)

    def end(self) -> np.ndarray:
        return to_curves(self.end_raw())

    def feed(self, samples: np.ndarray) -> np.ndarray:
        self.begin(samples)
        self.run_pending()
        return self.end()

    def _accept(self, outs: dict[str, np.ndarray]) -> None:
        """Bookkeeping of :meth:`NeuralLipsync._run` for outputs computed elsewhere (one row of
        a batched call): new state, warm-up frames skipped, articulator frames appended."""
        for n, v in outs.items():
            if n.endswith("_out"):
                self._state[n[:-4]] = v
        y = outs["y"][0]
        skip = max(0, self._delay - self._seen)
        self._seen += len(y)
        if skip < len(y):
            self._art = np.concatenate([self._art, y[skip:]])


def _batch_axes(sess) -> dict[str, int] | None:
    """Input name -> its batch axis (the one named in the ONNX graph, e.g. "B"), or None when the
    model was exported with a fixed batch of 1 (then every stream runs alone)."""
    axes: dict[str, int] = {}
    for i in sess.get_inputs():
        named = [k for k, d in enumerate(i.shape) if isinstance(d, str) and d != "T"]
        if i.name == "mel":
            named = [k for k in named if k != 1]
        if len(named) != 1:
            return None
        axes[i.name] = named[0]
    return axes


_AXES: dict[int, dict[str, int] | None] = {}


def run_model(lips: Sequence[BatchedNeuralLipsync], max_batch: int = 64) -> int:
    """The model on every stream's pending mel frames; streams with the same number of new
    frames share one call (on a steady 20 ms feed that is all of them). Returns the number of
    onnxruntime calls made."""
    todo = [s for s in lips if s._pending is not None and len(s._pending)]
    for s in lips:
        if s._pending is not None and not len(s._pending):
            s._pending = None
    if not todo:
        return 0
    sess = todo[0]._sess
    key = id(sess)
    if key not in _AXES:
        _AXES[key] = _batch_axes(sess)
    axes = _AXES[key]
    if axes is None or len(todo) == 1:
        for s in todo:
            s.run_pending()
        return len(todo)
    names = [o.name for o in sess.get_outputs()]
    groups: dict[int, list[BatchedNeuralLipsync]] = {}
    for s in todo:
        groups.setdefault(len(s._pending), []).append(s)
    calls = 0
    for group in groups.values():
        for a in range(0, len(group), max_batch):
            part = group[a:a + max_batch]
            if len(part) == 1:
                part[0].run_pending()
                calls += 1
                continue
            feeds = {"mel": np.stack([s._pending for s in part]).astype(np.float32)}
            for name, ax in axes.items():
                if name != "mel":
                    feeds[name] = np.concatenate([s._state[name] for s in part], axis=ax)
            outs = sess.run(None, feeds)
            calls += 1
            out_axes = {n: (0 if n == "y" else axes.get(n[:-4], 0)) for n in names}
            for b, s in enumerate(part):
                s._pending = None
                s._accept({n: np.take(v, [b], axis=out_axes[n]) for n, v in zip(names, outs)})
    return calls


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
    lips = [items[i][0].lip for i in begun if isinstance(items[i][0].lip, BatchedNeuralLipsync)]
    failed: dict[int, Exception] = {}
    try:
        run_model(lips)
    except Exception:  # noqa: BLE001 - a failed batched call: each stream alone, errors its own
        for s in lips:
            try:
                s.run_pending()
            except Exception as e:  # noqa: BLE001
                s._pending = None
                failed[id(s)] = e
    # the articulator -> ARKit step for all new frames at once (a per-frame function)
    raws, owners = [], []
    for i in begun:
        lip = items[i][0].lip
        if isinstance(lip, BatchedNeuralLipsync):
            try:
                if id(lip) in failed:
                    raise failed[id(lip)]
                raws.append(lip.end_raw())
                owners.append(i)
            except Exception as e:  # noqa: BLE001
                results[i] = e
    lip_curves: dict[int, np.ndarray] = {}
    if raws:
        allc = to_curves(np.concatenate(raws))
        at = 0
        for i, r in zip(owners, raws):
            lip_curves[i] = allc[at:at + len(r)]
            at += len(r)
    for i in begun:
        if results[i] is not None:
            continue
        g = items[i][0]
        try:
            results[i] = g.end(lip_curves.get(i))
        except Exception as e:  # noqa: BLE001
            results[i] = e
    return results

"""LIVE eyes + head keep a bounded state: a session's memory is flat in its length (issue 10:
<= 15 MB per session for any length), and forgetting what the causal models no longer read
changes no frame."""
from __future__ import annotations

import numpy as np
import pytest

from emoanim_server.face import eyes as eyes_mod
from emoanim_server.face.drivers import TICK_S
from emoanim_server.face.eyes import EyesConfig, _Grow
from emoanim_server.face.eyes_head import EyesHeadStream
from emoanim_server.face.head import HeadConfig

FPS = 60


def _drivers(n_ticks: int, seed: int = 5) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Speech in runs of 0.3-3 s with pauses of 0.1-1.5 s (onsets, boundaries, hesitations), a
    drifting arousal and a slowly changing emotion mix: every part of both models is used."""
    rng = np.random.default_rng(seed)
    speech = np.zeros(n_ticks, bool)
    k = 0
    while k < n_ticks:
        run = int(rng.uniform(0.3, 3.0) / TICK_S)
        speech[k:k + run] = True
        k += run + int(rng.uniform(0.1, 1.5) / TICK_S)
    t = np.arange(n_ticks) * TICK_S
    vad = np.zeros((n_ticks, 3))
    vad[:, 1] = 0.6 * np.sin(2 * np.pi * t / 37.0)
    w = np.zeros((n_ticks, 8))
    w[:, 0] = 0.5 + 0.5 * np.cos(2 * np.pi * t / 53.0)
    w[:, 1] = 1.0 - w[:, 0]
    return speech, vad, w


def _run(seconds: float, check_at: tuple[float, ...] = ()) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Feed a LIVE eyes + head stream 80 ms of driver ticks at a time and render every frame
    that became ready; returns curves, head, eyes and the state's size at ``check_at`` seconds."""
    st = EyesHeadStream(FPS, 11, EyesConfig(), HeadConfig())
    speech, vad, w = _drivers(int(seconds / TICK_S))
    step = 8
    done = 0
    outs, sizes = [], {}
    for k in range(0, len(speech), step):
        st.feed(speech[k:k + step], vad[k:k + step], w[k:k + step])
        ready = int(np.floor(st.ready_until * FPS + 1e-9)) + 1
        if ready > done:
            outs.append(st.render(np.zeros((ready - done, 52), np.float32), done))
            done = ready
        for c in check_at:
            if k // step == int(c / TICK_S) // step:
                sizes[c] = _state_bytes(st)
    cat = [np.concatenate([o[j] for o in outs]) for j in range(3)]
    return cat[0], cat[1], cat[2], sizes


def _state_bytes(st: EyesHeadStream) -> int:
    """Bytes held by the stream's growing parts: every _Grow buffer, the saccade and gesture
    lists (~200 bytes an event), the head's tick buffer."""
    n = 0
    for model in (st.eyes, st.head):
        n += sum(v.a.nbytes for v in vars(model).values() if isinstance(v, _Grow))
    n += 200 * (len(st.eyes.saccades) + len(st.head.gestures)) + st._head_deg.nbytes
    return n


def test_state_is_flat_in_session_length():
    *_, sizes = _run(150.0, check_at=(30.0, 149.0))
    # 2 minutes more: the same buffers (without forgetting they grew ~16 KB per audio second,
    # 2 MB here; the whole graph's figure at 300 / 900 s is in benchmarks/live_capacity.py)
    assert sizes[149.0] <= sizes[30.0] + 60_000, sizes
    assert sizes[149.0] < 400_000, sizes


def test_forgetting_changes_no_frame(monkeypatch):
    short_drop = 8  # drop saccades often so the trimming is exercised within a short run
    monkeypatch.setattr(EyesHeadStream, "_SACC_DROP", short_drop)
    trimmed = _run(40.0)[:3]
    monkeypatch.setattr(_Grow, "drop", lambda self, before: None)
    monkeypatch.setattr(EyesHeadStream, "_SACC_DROP", 10 ** 9)
    kept = _run(40.0)[:3]
    for a, b in zip(trimmed, kept):
        assert a.shape == b.shape and np.array_equal(a, b)


def test_grow_reads_by_absolute_index():
    g = _Grow(2)
    g.extend(np.arange(20.0).reshape(10, 2))
    g.drop(6)
    g.extend(np.arange(20.0, 2100.0).reshape(-1, 2))  # grows after a drop: kept rows move along
    assert g.n == 1050 and g.off == 6
    assert np.array_equal(g.since(6, 8), [[12, 13], [14, 15]])
    assert np.array_equal(g.at(1049), [2098, 2099])
    assert np.array_equal(g.first, [0, 1])
    with pytest.raises(IndexError):
        g.since(5)
    with pytest.raises(IndexError):
        _ = g.view
    assert eyes_mod._Grow is _Grow

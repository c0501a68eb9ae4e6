"""LIVE eyes + head streams fed and rendered together (face.eyes_head.feed_many / render_many,
face.head.step_many: one pass of array operations for all sessions of a tick) give each stream
exactly what it gives alone, whatever its config."""
from __future__ import annotations

import numpy as np

from emoanim_server.face import head as head_mod
from emoanim_server.face.eyes import EyesConfig
from emoanim_server.face.eyes_head import EyesHeadStream, feed_many, render_many
from emoanim_server.face.head import HeadConfig

from test_eyes_head_memory import _drivers

FPS = 60
CONFIGS = [
    (EyesConfig(), HeadConfig()),
    (EyesConfig(gaze=False), HeadConfig(scale=1.7)),
    (EyesConfig(blink=False, gaze_target=(6.0, -3.0)), HeadConfig(follow_gaze=False)),
    (EyesConfig(target_distance_m=0.5), HeadConfig(enabled=False)),
    (EyesConfig(blink_rate=2.0), HeadConfig(scale=0.5)),
]


def _streams() -> list[EyesHeadStream]:
    return [EyesHeadStream(FPS, 100 + k, e, h) for k, (e, h) in enumerate(CONFIGS)]


def _run(together: bool, seconds: float = 20.0, step: int = 4) -> list[list[np.ndarray]]:
    sts = _streams()
    drivers = [_drivers(int(seconds * 100), seed=k) for k in range(len(sts))]
    done = [0] * len(sts)
    outs: list[list] = [[] for _ in sts]
    n = len(drivers[0][0])
    for k in range(0, n, step):
        closed = k + step >= n
        feeds = [(st, sp[k:k + step], v[k:k + step], w[k:k + step], closed) for st, (sp, v, w) in zip(sts, drivers)]
        if together:
            assert feed_many(feeds) == [None] * len(sts)
        else:
            for f in feeds:
                f[0].feed(*f[1:4], closed=f[4])
        items = []
        for j, st in enumerate(sts):
            ready = int(np.floor(st.ready_until * FPS + 1e-9)) + 1
            if ready > done[j]:
                curves = np.full((ready - done[j], 52), 0.1 + 0.01 * j, np.float32)
                items.append((j, (st, curves, done[j])))
                done[j] = ready
        rendered = (render_many([it for _, it in items]) if together
                    else [it[0].render(it[1], it[2]) for _, it in items])
        for (j, _), r in zip(items, rendered):
            outs[j].append(r)
    return [[np.concatenate([r[i] for r in o]) for i in range(3)] for o in outs]


def test_streams_together_equal_each_alone(monkeypatch):
    calls = []
    orig = head_mod._filt2_bank

    def spy(models, *a, **k):
        calls.append(len(models))
        return orig(models, *a, **k)
    monkeypatch.setattr(head_mod, "_filt2_bank", spy)
    together = _run(True)
    assert max(calls) >= 4  # the heads really were filtered together (one head is off)
    alone = _run(False)
    for t, a in zip(together, alone):
        for x, y in zip(t, a):
            assert x.shape == y.shape and np.array_equal(x, y)
    # and the configs matter (the comparison is not of identical streams)
    assert not np.array_equal(together[0][1], together[1][1])
    assert not together[3][1].any()  # head off: still
    assert not together[1][2].any()  # gaze off: eyes still


def test_streams_fed_unequal_tick_counts_together_equal_each_alone(monkeypatch):
    """Sessions fed different numbers of ticks in one call (clients with other chunk sizes, lazy
    feeds that fall on other ticks): every head's smoothers still run in one pass (a stream past
    its last tick keeps its state) and each stream gets exactly what it gets alone."""
    calls = []
    orig = head_mod._filt2_bank

    def spy(models, ns, *a, **k):
        calls.append(len(set(ns)))
        return orig(models, ns, *a, **k)
    monkeypatch.setattr(head_mod, "_filt2_bank", spy)
    steps = [3, 4, 5, 7, 2]  # ticks per feed, per stream

    def run(together: bool) -> list[list[np.ndarray]]:
        sts = _streams()
        drivers = [_drivers(1500, seed=k) for k in range(len(sts))]
        outs: list[list] = [[] for _ in sts]
        pos, done = [0] * len(sts), [0] * len(sts)
        while any(p < len(d[0]) for p, d in zip(pos, drivers)):
            feeds = []
            for j, (st, (sp, v, w)) in enumerate(zip(sts, drivers)):
                if pos[j] < len(sp):
                    a, b = pos[j], pos[j] + steps[j]
                    feeds.append((st, sp[a:b], v[a:b], w[a:b], b >= len(sp)))
                    pos[j] = b
            if together:
                assert feed_many(feeds) == [None] * len(feeds)
            else:
                for f in feeds:
                    f[0].feed(*f[1:4], closed=f[4])
            items = []
            for j, st in enumerate(sts):
                if st.ready_frames > done[j]:
                    curves = np.full((st.ready_frames - done[j], 52), 0.2, np.float32)
                    items.append((j, (st, curves, done[j])))
                    done[j] = st.ready_frames
            rendered = (render_many([it for _, it in items]) if together
                        else [it[0].render(it[1], it[2]) for _, it in items])
            for (j, _), r in zip(items, rendered):
                outs[j].append(r)
        return [[np.concatenate([r[i] for r in o]) for i in range(3)] for o in outs]

    together = run(True)
    assert max(calls) >= 3  # unequal tick counts really were filtered in one pass
    alone = run(False)
    for t, a in zip(together, alone):
        for x, y in zip(t, a):
            assert x.shape == y.shape and np.array_equal(x, y)

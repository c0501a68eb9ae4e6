"""One call for many LIVE sessions, with each session's failure kept as its own.

Why: LIVE ticks many sessions together so that a stage's per-call cost is paid once per tick
(``live_batch``). Every such batched call needs the same guard: if the shared call raises, run
each session alone, so one bad session never takes the others down, and hand its exception back
as that session's result. This module is that guard, once (stage-level: no I/O, no edges).
"""
from __future__ import annotations

from typing import Any, Callable, Sequence

__all__ = ["batched"]


def batched(fn: Callable[[list], Sequence[Any]], items: Sequence[Any]) -> list:
    """``fn(items)`` (one result per item, in order); if it raises, ``fn([item])[0]`` for each
    item alone, where an item that raises gets its exception as its result."""
    items = list(items)
    if not items:
        return []
    try:
        return list(fn(items))
    except Exception:  # noqa: BLE001 - each alone: a failure stays with its own item
        out: list = []
        for it in items:
            try:
                out.append(fn([it])[0])
            except Exception as e:  # noqa: BLE001
                out.append(e)
        return out

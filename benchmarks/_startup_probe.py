#!/usr/bin/env python3
"""Run ``emoanim ARGV`` as the real CLI does and record when the bake starts processing audio.

Used by benchmarks/cli_startup.py (one fresh process per run). "First sample" is the moment the
bake's stage graph receives the decoded audio (``pipeline._bake_line`` is entered): interpreter
start, imports, argument parsing, options and decoding are behind it; what follows is per-line
work (including lazily built models, which the short line's total then shows). After the CLI has
finished, the same line is baked once more in the now warm process: ``total - warm`` is the
fixed cost a user pays per call.

It hooks the pipeline module when it is first imported (an import-system finder, so nothing is
imported earlier or in another order than in a plain run) and writes one JSON object to the file
named by ``EMOANIM_PROBE_OUT``. ``EMOANIM_PROBE_T0`` is the parent's ``time.time()`` just before
it started this process.
"""
from __future__ import annotations

import importlib.abc
import importlib.util
import json
import os
import sys
import time

T0 = float(os.environ["EMOANIM_PROBE_T0"])
REC: dict = {}


class _Hook(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "emoanim_server.pipeline":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            inner = module._bake_line

            def bake_line(*a, **k):
                if "first_sample_wall_s" not in REC:
                    REC["first_sample_wall_s"] = time.time() - T0
                    REC["first_sample_cpu_s"] = time.process_time()
                    REC["_args"] = a, k
                    t, c = time.perf_counter(), time.process_time()
                    out = inner(*a, **k)
                    REC["bake_wall_s"], REC["bake_cpu_s"] = time.perf_counter() - t, time.process_time() - c
                    return out
                return inner(*a, **k)

            module._bake_line = bake_line
            REC["_inner"] = inner

        spec.loader.exec_module = exec_module
        return spec


def main() -> int:
    sys.meta_path.insert(0, _Hook())
    from emoanim_server.cli import main as emoanim

    rc = emoanim(sys.argv[1:])
    REC["cli_done_wall_s"], REC["cli_done_cpu_s"] = time.time() - T0, time.process_time()
    if "_args" in REC:  # the same line again, warm: the per-line work alone
        a, k = REC.pop("_args")
        k = dict(k, progress=None) if "progress" in k else k
        t, c = time.perf_counter(), time.process_time()
        REC.pop("_inner")(*a, **k)
        REC["warm_bake_wall_s"], REC["warm_bake_cpu_s"] = time.perf_counter() - t, time.process_time() - c
    REC.pop("_inner", None)
    with open(os.environ["EMOANIM_PROBE_OUT"], "w") as f:
        json.dump({k: round(v, 4) for k, v in REC.items()}, f)
    return rc


if __name__ == "__main__":
    raise SystemExit(main())

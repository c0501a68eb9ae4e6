"""``emoanim batch``: manifests or audio files -> animation files, resumable, parallel, reported.

Registered through cli.PLUGIN_MODULES. ``emoanim batch a.wav b.wav -o DIR`` (one line per file)
and ``emoanim batch lines.csv|lines.jsonl [-o DIR]`` (docs/batch.md) run the same code.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time

from .. import __version__, cli
from ..errors import InputError, OutputError
from .manifest import assign_outputs, is_manifest, lines_from_inputs
from .runner import Job, Journal, code_version, prepare, run_local, run_ray

STATE_DIR = ".emoanim-batch"


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def _batch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", help="audio files, or manifests (.csv / .jsonl: docs/batch.md)")
    p.add_argument("-o", "--out-dir", help="folder for the outputs (created if missing); needed with audio inputs")
    p.add_argument("--format", default="json",
                   help="format of lines without outputs: any bake format, json | csv | npz | bvh | fbx | glb | usda (default json)")
    p.add_argument("--transcripts", action="store_true",
                   help="use LINE.txt beside each LINE.wav as its transcript when present")
    p.add_argument("-j", "--jobs", type=int, default=_cores(),
                   help=f"worker processes, each loads the models once (default: one per core, {_cores()})")
    p.add_argument("--ray", metavar="ADDRESS", help="run the lines on an existing Ray cluster (e.g. 127.0.0.1:6379)")
    p.add_argument("--force", action="store_true", help="bake every line even when its outputs are up to date")
    p.add_argument("--state", metavar="FILE", help=f"resume journal (default OUTDIR/{STATE_DIR}/state.jsonl)")
    p.add_argument("--report", metavar="FILE", help=f"summary report JSON (default OUTDIR/{STATE_DIR}/report.json)")
    cli._stage_args(p)


def _terminate(signum, frame) -> None:
    raise KeyboardInterrupt


@cli.command("batch", "many lines -> animation files: resumable, one worker per core, with a report", _batch_args)
def run_batch(args: argparse.Namespace) -> int:
    """Failed lines are listed with their reason and the others still bake; exit 3 if any failed,
    130 when interrupted (what finished is kept: a re-run resumes)."""
    from ..export import format_for_path
    from ..rigs import load_rig

    if args.jobs < 1:
        raise InputError(f"--jobs {args.jobs}: expected 1 or more")
    fmt = format_for_path("x." + args.format, args.format)
    load_rig(args.rig, args.naming)  # a bad command-line rig fails every line: say so once, now
    cli.bake_options(args)  # the same for bad command-line option values
    lines = lines_from_inputs(args.inputs, args.out_dir, args.transcripts)
    assign_outputs(lines, fmt)
    first_manifest = next((i for i in args.inputs if is_manifest(i)), None)
    base = os.path.abspath(args.out_dir) if args.out_dir else os.path.dirname(os.path.abspath(first_manifest))
    state_path = args.state or os.path.join(base, STATE_DIR, "state.jsonl")
    report_path = args.report or os.path.join(base, STATE_DIR, "report.json")
    for d in {base, os.path.dirname(os.path.abspath(state_path)), os.path.dirname(os.path.abspath(report_path))}:
        try:
            os.makedirs(d, exist_ok=True)
        except OSError as e:
            raise OutputError(f"{d}: cannot create the folder ({e.strerror})") from None

    started = time.time()
    version = code_version()
    jobs = [prepare(ln, i, args, version) for i, ln in enumerate(lines)]
    journal = Journal(state_path)
    results: dict[int, dict] = {}
    todo: list[Job] = []
    for j in jobs:
        if j.error:
            results[j.index] = {"index": j.index, "ok": False, "reason": j.error}
        elif not args.force and journal.up_to_date(j):
            results[j.index] = {"index": j.index, "ok": True, "skipped": True,
                                "outputs": journal.entries[j.key]["outputs"]}
        else:
            todo.append(j)
    workers = 1 if args.ray else max(1, min(args.jobs, len(todo)))
    # a bar only on a terminal, or --progress json lines for tools (cli.Progress, as bake)
    bar = cli.progress_for(args, "batch") if todo else None
    old_term = signal.signal(signal.SIGTERM, _terminate) if _main_thread() else None
    interrupted = False
    c0 = _children_cpu()
    specs = [j.spec() for j in todo]
    info: dict = {}
    finished = 0
    stream = run_ray(specs, args.ray, args.fast, info) if args.ray else run_local(specs, workers, args.fast)
    try:
        for r in stream:
            results[r["index"]] = r
            if r["ok"]:
                journal.record(jobs[r["index"]], r["outputs"])
            finished += 1
            if bar is not None:
                bar(finished / len(todo))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        stream.close()  # stops the workers now if we were interrupted
        if bar is not None:
            bar.close()
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)
        journal.close(compact=not interrupted)
    workers = info.get("workers", workers)
    report = _report(args, jobs, results, started, workers, interrupted, _children_cpu() - c0, state_path)
    _write_report(report, report_path)
    _print_summary(report, report_path, args.quiet)
    if interrupted:
        return 130
    return InputError.exit_code if report["counts"]["failed"] else 0


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


def _children_cpu() -> float:
    """CPU seconds of this process and its finished workers (what the batch cost the machine)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _report(args, jobs: list[Job], results: dict[int, dict], started: float, workers: int,
            interrupted: bool, cpu_s: float, state_path: str) -> dict:
    lines = []
    for j in jobs:
        r = results.get(j.index)
        status = "not run" if r is None else "up to date" if r.get("skipped") else "baked" if r["ok"] else "failed"
        e = {"line": j.line.where, "audio": j.line.audio, "status": status,
             "outputs": [p for p, _ in j.outputs] or j.line.outputs}
        if j.line.id:
            e["id"] = j.line.id
        if r and not r["ok"]:
            e["reason"] = r.get("reason", "")
        if r and "wall_s" in r:
            e.update(wall_s=r["wall_s"], cpu_s=r["cpu_s"])
        lines.append(e)
    counts = {k: sum(1 for e in lines if e["status"] == v) for k, v in
              (("baked", "baked"), ("up_to_date", "up to date"), ("failed", "failed"), ("not_run", "not run"))}
    counts["total"] = len(lines)
    wall = time.time() - started
    return {"emoanim": __version__, "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "wall_s": round(wall, 3), "cpu_s": round(cpu_s, 3), "workers": workers,
            "executor": f"ray {args.ray}" if args.ray else "local", "interrupted": interrupted,
            "state": state_path, "counts": counts,
            "failures": [e for e in lines if e["status"] == "failed"], "lines": lines}


def _write_report(report: dict, path: str) -> None:
    from ..export import atomic_write

    with atomic_write(path) as f:
        json.dump(report, f, indent=1)
        f.write("\n")


def _print_summary(report: dict, path: str, quiet: bool) -> None:
    """Failures always (stderr); the one-line summary unless -q."""
    c = report["counts"]
    parts = [f"{c['baked']} baked", f"{c['up_to_date']} up to date", f"{c['failed']} failed"]
    if c["not_run"]:
        parts.append(f"{c['not_run']} not run (interrupted: run again to resume)")
    if not quiet:
        print(f"emoanim batch: {c['total']} lines: {', '.join(parts)} in {report['wall_s']:.1f} s "
              f"({report['workers']} worker{'s' if report['workers'] != 1 else ''}); report: {path}", file=sys.stderr)
    for e in report["failures"][:20]:
        where = "" if e["reason"].startswith(e["line"]) else f"{e['line']}: "
        print(f"emoanim batch: error: {where}{e['reason']}", file=sys.stderr)
    if len(report["failures"]) > 20:
        print(f"emoanim batch: ... and {len(report['failures']) - 20} more failures in {path}", file=sys.stderr)

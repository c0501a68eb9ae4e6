"""Run a batch: decide what is up to date, bake the rest in worker processes (or on Ray), report.

Why a content-hash journal: a studio re-runs the same 50,000-line manifest after changing 30
lines; only those may cost CPU. A line is up to date when the journal holds its key (a hash of the
audio bytes, transcript, emotion/timeline/rig/override file contents, every bake option, the
emoanim version and the model checksums) *and* every output still has the content hash recorded
when it was written. The journal is appended after each line, so a run killed half-way resumes
where it stopped (at most the lines in flight are baked again).
"""
from __future__ import annotations

import argparse
import copy
import hashlib
import json
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

from .. import __version__
from ..errors import EmoAnimError, InputError
from .manifest import Line

#: argparse fields that do not change what a line bakes to (kept out of the key)
NON_SEMANTIC = {"inputs", "out_dir", "quiet", "jobs", "ray", "state", "report", "force", "command", "_run",
                "transcripts", "format", "progress", "output", "transcript", "transcript_file"}
#: options whose value is a file: its content goes into the key, not only its name
FILE_OPTIONS = ("emotion_timeline", "emotion_baseline", "overrides", "character")


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _file_digest(path: str, what: str) -> str:
    try:
        return file_sha256(path)
    except OSError as e:
        raise InputError(f"{path}: cannot read {what} ({e.strerror or e})") from None


def code_version() -> dict:
    """What besides the inputs decides the output: package version and shipped model checksums."""
    from ..models import list_models, load_card

    models = {}
    for m in list_models():
        try:
            models[m["name"]] = load_card(m["name"]).get("sha256", "")
        except EmoAnimError:
            models[m["name"]] = m["status"]
    return {"emoanim": __version__, "models": models}


@dataclass
class Job:
    """A line made ready to bake: a per-line argparse namespace, its key and its outputs."""

    line: Line
    index: int
    ns: argparse.Namespace | None = None
    transcript: str | None = None
    outputs: list[tuple[str, str]] = field(default_factory=list)  # (path, format)
    key: str = ""
    error: str | None = None

    def spec(self) -> dict:
        """What a worker needs (plain, picklable)."""
        return {"index": self.index, "ns": self.ns, "audio": self.line.audio, "transcript": self.transcript,
                "outputs": self.outputs}


def prepare(line: Line, index: int, args: argparse.Namespace, version: dict) -> Job:
    """Per-line options over the command line's; a problem with this line fails only this line."""
    from ..export import format_for_path

    job = Job(line, index)
    try:
        ns = copy.copy(args)
        if line.seed is not None:
            ns.seed = line.seed
        if line.rig is not None:
            ns.rig = line.rig
        if line.emotion is not None or line.timeline is not None:
            ns.emotion, ns.vad, ns.emotion_timeline = line.emotion, None, line.timeline
        if line.overrides is not None:
            ns.overrides = line.overrides
        if line.language is not None:
            ns.language = line.language  # checked by bake_options, in the worker: a bad tag fails that line
        if line.transcript_file is not None:
            from ..cli import _read_text

            job.transcript = _read_text(line.transcript_file)
        else:
            job.transcript = line.transcript
        job.outputs = [(o, format_for_path(o)) for o in line.outputs]
        bvh = [o for o, f in job.outputs if f == "bvh"]
        ns.output = bvh[0] if bvh else job.outputs[0][0]  # a .bvh output implies --body, as for bake
        ns.transcript = ns.transcript_file = None
        job.ns = ns
        files = {}
        for name in FILE_OPTIONS:
            v = getattr(ns, name, None)
            for p in (v if isinstance(v, list) else [v] if v else []):
                files[p] = _file_digest(p, name.replace("_", " "))
        if ns.rig not in ("arkit", "metahuman"):
            files[ns.rig] = _file_digest(ns.rig, "rig mapping")
        opts = {k: v for k, v in sorted(vars(ns).items()) if k not in NON_SEMANTIC}
        key = {"version": version, "audio": _file_digest(line.audio, "audio"), "transcript": job.transcript,
               "files": files, "options": opts, "outputs": job.outputs, "output_implies": ns.output.endswith(".bvh")}
        job.key = hashlib.sha256(json.dumps(key, sort_keys=True, default=str).encode()).hexdigest()
    except EmoAnimError as e:
        job.error = str(e)
    return job


# ------------------------------------------------------------------------------------- worker side
_RIGS: dict[tuple[str, str], Any] = {}


def init_worker(fast: bool = False, threads: int = 1) -> None:
    """Once per worker process: one thread per process, models loaded now (not per line)."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(var, str(threads))
    # the parent decides when to stop: Ctrl-C goes to it; SIGTERM unwinds (temp files removed)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda signum, frame: os._exit(128 + signum))  # nothing to clean yet
    _load_stages(fast)
    signal.signal(signal.SIGTERM, _exit_on_term)


def _load_stages(fast: bool) -> None:
    from .. import cli
    from ..face.lipsync import get_recognizer

    cli._load_plugins()  # the stages' option hooks (a spawned process starts with none)
    get_recognizer(fast)


def _exit_on_term(signum, frame) -> None:
    raise SystemExit(128 + signum)  # unwinds atomic_write: its temp file is removed


def bake_line(spec: dict) -> dict:
    """Bake one line and write its outputs; never raises for a bad line (the reason is returned)."""
    from .. import cli
    from ..audio import load_audio
    from ..export import write_track
    from ..pipeline import bake
    from ..rigs import load_rig

    t0, c0 = time.perf_counter(), time.process_time()
    res: dict[str, Any] = {"index": spec["index"], "ok": False, "pid": os.getpid()}
    try:
        ns = spec["ns"]
        rk = (ns.rig, ns.naming)
        if rk not in _RIGS:
            _RIGS[rk] = load_rig(*rk)
        opts = cli.bake_options(ns, spec["transcript"])
        track = bake(load_audio(spec["audio"]), opts)
        digests = {}
        for path, fmt in spec["outputs"]:
            d = os.path.dirname(os.path.abspath(path))
            try:
                os.makedirs(d, exist_ok=True)
            except OSError as e:
                raise InputError(f"{path}: cannot create the output folder ({e.strerror})") from None
            write_track(track, path, fmt, _RIGS[rk])
            digests[path] = file_sha256(path)
        res.update(ok=True, outputs=digests, frames=track.n_frames, duration_s=round(track.duration, 3))
    except EmoAnimError as e:
        res["reason"] = str(e)
    except Exception as e:  # a bug on one line must not stop the other 49,999
        res["reason"] = f"internal error: {type(e).__name__}: {e}"
    res["wall_s"] = round(time.perf_counter() - t0, 4)
    res["cpu_s"] = round(time.process_time() - c0, 4)
    return res


# ------------------------------------------------------------------------------------- journal
class Journal:
    """Append-only JSON Lines: ``{"key", "outputs": {path: sha256}}`` per baked line."""

    def __init__(self, path: str):
        self.path = path
        self.entries: dict[str, dict] = {}
        try:
            with open(path, encoding="utf-8") as f:
                for raw in f:
                    try:
                        e = json.loads(raw)
                        self.entries[e["key"]] = e
                    except (json.JSONDecodeError, KeyError, TypeError):
                        continue  # a line cut by a kill: that line is simply baked again
        except FileNotFoundError:
            pass
        except OSError as e:
            raise InputError(f"{path}: cannot read the batch state ({e.strerror})") from None
        self._f = None

    def up_to_date(self, job: Job) -> bool:
        e = self.entries.get(job.key)
        if not e or set(e.get("outputs", {})) != {p for p, _ in job.outputs}:
            return False
        for p, digest in e["outputs"].items():
            try:
                if file_sha256(p) != digest:
                    return False
            except OSError:
                return False
        return True

    def record(self, job: Job, outputs: dict) -> None:
        if self._f is None:
            os.makedirs(os.path.dirname(os.path.abspath(self.path)), exist_ok=True)
            self._f = open(self.path, "a", encoding="utf-8")
        e = {"key": job.key, "where": job.line.where, "outputs": outputs}
        self.entries[job.key] = e
        self._f.write(json.dumps(e) + "\n")
        self._f.flush()

    def close(self, compact: bool = True) -> None:
        if self._f is not None:
            self._f.close()
            self._f = None
        if compact and self.entries:
            from ..export import atomic_write

            with atomic_write(self.path) as f:
                for e in self.entries.values():
                    f.write(json.dumps(e) + "\n")


# ------------------------------------------------------------------------------------- executors
def run_local(specs: list[dict], jobs: int, fast: bool) -> Iterable[dict]:
    """Yield results as lines finish; ``jobs`` worker processes (spawned: same on every OS)."""
    if jobs <= 1:
        for s in specs:
            yield bake_line(s)
        return
    import multiprocessing as mp
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    pending = {s["index"]: s for s in specs}
    restarts = 0
    while pending:
        ex = ProcessPoolExecutor(max_workers=min(jobs, len(pending)), mp_context=mp.get_context("spawn"),
                                 initializer=init_worker, initargs=(fast,))
        try:
            futs = {ex.submit(bake_line, s): i for i, s in pending.items()}
            broken = False
            while futs and not broken:
                done, _ = wait(futs, return_when=FIRST_COMPLETED)
                for f in done:
                    i = futs.pop(f)
                    try:
                        r = f.result()
                    except BrokenProcessPool:
                        broken = True
                        continue
                    pending.pop(i, None)
                    yield r
            if broken:
                restarts += 1
                if restarts > 3:  # something kills workers whatever runs: report, do not loop
                    for i in list(pending):
                        yield {"index": i, "ok": False, "reason": "worker process died (killed or crashed)"}
                    pending.clear()
        except BaseException:
            _stop(ex)
            raise
        ex.shutdown(wait=True)


def _stop(ex) -> None:
    """Stop workers now (SIGTERM unwinds them, so no temp file is left) and wait for them."""
    procs = list((getattr(ex, "_processes", None) or {}).values())
    for p in procs:
        if p.is_alive():
            p.terminate()
    ex.shutdown(wait=True, cancel_futures=True)


def run_ray(specs: list[dict], address: str, fast: bool, info: dict | None = None) -> Iterable[dict]:
    """The same line function as Ray tasks (one CPU each) on an existing cluster.

    Paths travel as given: on a multi-machine cluster inputs and outputs must be on storage every
    node sees under the same path (docs/batch.md). Ray reuses its worker processes, so the
    recogniser loads once per worker, as in :func:`run_local`. ``info["workers"]`` gets the
    cluster's CPU count.
    """
    try:
        import ray
    except ImportError:
        raise InputError("--ray: Ray is not installed (pip install 'emoanim[ray]')") from None
    _probe(address)
    try:
        ray.init(address=address, logging_level="ERROR", log_to_driver=False)
    except Exception as e:  # ConnectionError and Ray's own errors
        raise InputError(f"--ray {address}: cannot connect to the Ray cluster ({type(e).__name__}: {e})") from None
    try:
        if info is not None:
            info["workers"] = int(ray.cluster_resources().get("CPU", 0))
        task = ray.remote(num_cpus=1, max_retries=1)(_ray_bake_line)
        refs = {task.remote(s, fast): s["index"] for s in specs}
        while refs:
            done, _ = ray.wait(list(refs), num_returns=1)
            for ref in done:
                i = refs.pop(ref)
                try:
                    yield ray.get(ref)
                except Exception as e:  # the node or the worker died
                    yield {"index": i, "ok": False, "reason": f"ray task failed: {type(e).__name__}: {e}"}
    finally:
        ray.shutdown()


def _probe(address: str, timeout: float = 10.0) -> None:
    """Ray retries an unreachable GCS for minutes: say at once that nothing listens there."""
    import socket

    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or "://" in address:
        return  # "auto", "ray://..." and the like: Ray's own resolution
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout).close()
    except OSError as e:
        raise InputError(f"--ray {address}: no Ray cluster answers there ({e.strerror or e}); "
                         "start one with `ray start --head`") from None


def _ray_bake_line(spec: dict, fast: bool) -> dict:
    _load_stages(fast)
    return bake_line(spec)

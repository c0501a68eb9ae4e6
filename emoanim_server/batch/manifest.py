"""Batch manifests: one line per voice line, CSV or JSON Lines, turned into :class:`Line` objects.

Why a manifest and not just file names: a localisation batch carries per-line facts (the script,
its language, the emotion the director asked for, a seed, the character's rig, where the results
go) that must travel with the audio, and must be checked before hours of baking start.

Columns / keys (only ``audio`` is required; docs/batch.md):
``id, audio, transcript, transcript_file, language, emotion, timeline, seed, rig, outputs,
overrides``. Relative paths are relative to the manifest's folder; outputs relative to ``-o DIR``
when given, else to the manifest's folder. In CSV, several outputs are separated by ``;``.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
from dataclasses import dataclass, field

from ..errors import InputError

#: manifest columns (CSV header names / JSON Lines keys)
COLUMNS = ("id", "audio", "transcript", "transcript_file", "language", "emotion", "timeline", "seed",
           "rig", "outputs", "overrides")
MANIFEST_EXTENSIONS = (".csv", ".jsonl", ".ndjson")


@dataclass
class Line:
    """One voice line to bake; ``where`` names it in every message (``lines.csv:12``)."""

    where: str
    audio: str
    id: str | None = None
    transcript: str | None = None
    transcript_file: str | None = None
    language: str | None = None
    emotion: str | None = None
    timeline: str | None = None
    seed: int | None = None
    rig: str | None = None
    outputs: list[str] = field(default_factory=list)
    overrides: str | None = None
    #: folder relative outputs are placed in
    out_dir: str = "."

    def identity(self) -> str:
        """A stable text for this line's content (names de-duplicated outputs deterministically)."""
        d = {k: getattr(self, k) for k in COLUMNS}
        d["audio"] = os.path.normpath(self.audio)
        return json.dumps(d, sort_keys=True)


def is_manifest(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in MANIFEST_EXTENSIONS


def _resolve(base: str, p: str | None) -> str | None:
    if p is None or p == "":
        return None
    p = os.path.expanduser(p)
    return p if os.path.isabs(p) else os.path.normpath(os.path.join(base, p))


def _line_from(raw: dict, where: str, base: str, out_base: str) -> Line:
    unknown = sorted(k for k in raw if k not in COLUMNS)
    if unknown:
        raise InputError(f"{where}: unknown column(s) {unknown}; expected some of {list(COLUMNS)}")
    vals = {k: (None if v is None or (isinstance(v, str) and v.strip() == "") else v) for k, v in raw.items()}
    for k, v in vals.items():
        if v is not None and k not in ("seed", "outputs") and not isinstance(v, str):
            raise InputError(f"{where}: {k} must be a string, got {v!r}")
    if vals.get("audio") is None:
        raise InputError(f"{where}: no audio file given (the 'audio' column is required)")
    if vals.get("transcript") is not None and vals.get("transcript_file") is not None:
        raise InputError(f"{where}: give transcript or transcript_file, not both")
    if vals.get("emotion") is not None and vals.get("timeline") is not None:
        raise InputError(f"{where}: give emotion or timeline, not both")
    seed = vals.get("seed")
    if seed is not None:
        try:
            if isinstance(seed, bool) or (isinstance(seed, float) and not seed.is_integer()):
                raise ValueError
            seed = int(seed)
        except (TypeError, ValueError):
            raise InputError(f"{where}: seed must be an integer, got {seed!r}") from None
    outs = vals.get("outputs")
    if outs is None:
        outs = []
    elif isinstance(outs, str):
        outs = [o.strip() for o in outs.split(";") if o.strip()]
    elif isinstance(outs, list) and all(isinstance(o, str) and o.strip() for o in outs):
        outs = [o.strip() for o in outs]
    else:
        raise InputError(f"{where}: outputs must be a path, 'a.csv;b.json' or a list of paths, got {outs!r}")
    rig = vals.get("rig")
    if rig is not None and rig not in ("arkit", "metahuman"):
        rig = _resolve(base, rig)
    return Line(where=where, id=vals.get("id"), audio=_resolve(base, vals["audio"]),
                transcript=vals.get("transcript"), transcript_file=_resolve(base, vals.get("transcript_file")),
                language=vals.get("language"), emotion=vals.get("emotion"),
                timeline=_resolve(base, vals.get("timeline")), seed=seed, rig=rig,
                outputs=[_resolve(out_base, o) for o in outs], overrides=_resolve(base, vals.get("overrides")),
                out_dir=out_base)


def read_manifest(path: str, out_dir: str | None = None) -> list[Line]:
    """Parse a whole manifest up front; a malformed one fails before any line is baked."""
    base = os.path.dirname(os.path.abspath(path))
    out_base = os.path.abspath(out_dir) if out_dir else base
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read the manifest ({getattr(e, 'strerror', None) or e})") from None
    name = os.path.basename(path)
    lines: list[Line] = []
    if path.lower().endswith(".csv"):
        reader = csv.DictReader(text.splitlines())
        if not reader.fieldnames or "audio" not in reader.fieldnames:
            raise InputError(f"{path}: CSV manifest needs a header row with an 'audio' column "
                             f"(columns: {', '.join(COLUMNS)})")
        for row in reader:
            where = f"{name}:{reader.line_num}"
            if None in row:
                raise InputError(f"{where}: more fields than the header has columns")
            if all((v or "").strip() == "" for v in row.values()):
                continue
            lines.append(_line_from(row, where, base, out_base))
    else:
        for i, raw_line in enumerate(text.splitlines(), 1):
            if not raw_line.strip() or raw_line.lstrip().startswith("#"):
                continue
            where = f"{name}:{i}"
            try:
                row = json.loads(raw_line)
            except json.JSONDecodeError as e:
                raise InputError(f"{where}: not valid JSON ({e.msg})") from None
            if not isinstance(row, dict):
                raise InputError(f"{where}: expected a JSON object per line")
            lines.append(_line_from(row, where, base, out_base))
    if not lines:
        raise InputError(f"{path}: the manifest has no lines")
    return lines


def lines_from_inputs(inputs: list[str], out_dir: str | None, transcripts: bool = False) -> list[Line]:
    """``emoanim batch a.wav b.wav -o DIR`` and manifests, in the order given."""
    lines: list[Line] = []
    for src in inputs:
        if is_manifest(src):
            lines += read_manifest(src, out_dir)
            continue
        if out_dir is None:
            raise InputError(f"{src}: audio inputs need -o DIR (the folder for their outputs)")
        txt = os.path.splitext(src)[0] + ".txt"
        lines.append(Line(where=src, audio=src, out_dir=os.path.abspath(out_dir),
                          transcript_file=txt if transcripts and os.path.isfile(txt) else None))
    return lines


def _key(path: str) -> str:
    """How the file system compares names (case-insensitive ones fold case)."""
    return os.path.normcase(os.path.abspath(path)).casefold()


def assign_outputs(lines: list[Line], default_format: str) -> None:
    """Give every line without explicit outputs a unique, deterministic name and refuse collisions.

    A stem used by one line keeps its plain name (``x.json``); a stem several lines share gets a
    suffix from a hash of the line's own content (``x_1f3a9c0e.json``), so a name never depends on
    the order of lines or on a counter, and a re-run gives the same names (issue 14 item 8).
    """
    explicit: dict[str, Line] = {}
    for ln in lines:
        for o in ln.outputs:
            k = _key(o)
            if k in explicit and explicit[k] is not ln:
                raise InputError(f"{ln.where}: output {o} is also written by {explicit[k].where}")
            explicit[k] = ln
    todo = [ln for ln in lines if not ln.outputs]
    stems: dict[str, list[Line]] = {}
    for ln in todo:
        stem = ln.id or os.path.splitext(os.path.basename(ln.audio))[0]
        stems.setdefault(_key(os.path.join(ln.out_dir, stem)), []).append(ln)
    taken = set(explicit)
    for group in stems.values():
        for ln in group:
            stem = ln.id or os.path.splitext(os.path.basename(ln.audio))[0]
            name = stem
            if len(group) > 1:
                name = f"{stem}_{hashlib.sha1(ln.identity().encode()).hexdigest()[:8]}"
            path = os.path.join(ln.out_dir, f"{name}.{default_format}")
            if _key(path) in taken:
                other = explicit.get(_key(path))
                raise InputError(f"{ln.where}: its output {path} is also written by "
                                 f"{other.where if other else 'another line (the same line twice?)'}")
            taken.add(_key(path))
            ln.outputs = [path]

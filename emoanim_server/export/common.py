"""Format dispatch and all-or-nothing file writing."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from typing import IO, Callable, Iterator

from ..errors import InputError, OutputError
from ..rigs import Rig, load_rig
from ..track import AnimationTrack

#: extension -> format name
FORMATS: dict[str, str] = {".json": "json", ".csv": "csv", ".npz": "npz"}
#: modules whose import registers a writer (see :func:`register`)
WRITER_MODULES = ("emoanim_server.export.json_export", "emoanim_server.export.livelink_csv",
                  "emoanim_server.export.npz_export", "emoanim_server.export.bvh",
                  "emoanim_server.export.gltf")


def _load_writers() -> None:
    """Import the writer modules (each registers its format and extensions)."""
    import importlib

    for mod in WRITER_MODULES:
        importlib.import_module(mod)


def format_for_path(path: str, explicit: str | None = None) -> str:
    _load_writers()
    if explicit:
        if explicit not in set(FORMATS.values()) | set(_WRITERS):
            raise InputError(f"--format {explicit!r}: expected one of {sorted(set(FORMATS.values()) | set(_WRITERS))}")
        return explicit
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise InputError(f"{path}: cannot tell the format from the extension {ext!r}; "
                         f"use one of {sorted(FORMATS)} or --format")
    return FORMATS[ext]


@contextmanager
def atomic_write(path: str, mode: str = "w") -> Iterator[IO]:
    """Write to a temp file beside ``path`` and rename on success: readers never see a half
    file, and a failure leaves neither a partial output nor the temp file."""
    d = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(d):
        raise OutputError(f"{path}: output folder {d} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=d)
    except OSError as e:
        raise OutputError(f"{path}: cannot write there ({e.strerror})") from None
    try:
        with os.fdopen(fd, mode, **({"newline": "", "encoding": "utf-8"} if "b" not in mode else {})) as f:
            yield f
        os.replace(tmp, path)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise OutputError(f"{path}: write failed ({e.strerror or e})") from None
        raise


Writer = Callable[[AnimationTrack, str, Rig], None]
_WRITERS: dict[str, Writer] = {}


def register(fmt: str, *extensions: str) -> Callable[[Writer], Writer]:
    """Exporters register themselves so adding a format touches one module."""
    def deco(fn: Writer) -> Writer:
        _WRITERS[fmt] = fn
        for e in extensions:
            FORMATS[e] = fmt
        return fn
    return deco


def write_track(track: AnimationTrack, path: str, fmt: str | None = None,
                rig: Rig | str = "arkit", naming: str = "arkit") -> str:
    """Write ``track`` to ``path`` in ``fmt`` (default: from the extension); returns the format."""
    fmt = format_for_path(path, fmt)
    if isinstance(rig, str):
        rig = load_rig(rig, naming)
    if os.path.isdir(path):
        raise OutputError(f"{path}: is a directory, expected an output file path")
    track.validate()
    _WRITERS[fmt](track, path, rig)
    return fmt

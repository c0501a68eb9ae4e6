"""Format dispatch and all-or-nothing file writing."""
from __future__ import annotations

import io
import os
import stat
import sys
import tempfile
from contextlib import contextmanager
from typing import IO, Callable, Iterator, Sequence

from ..errors import InputError, OutputError
from ..rigs import Rig, load_rig
from ..track import AnimationTrack

#: extension -> format name
FORMATS: dict[str, str] = {".json": "json", ".csv": "csv", ".npz": "npz"}
#: modules whose import registers a writer (see :func:`register`)
WRITER_MODULES = ("emoanim_server.export.json_export", "emoanim_server.export.livelink_csv",
                  "emoanim_server.export.npz_export", "emoanim_server.export.bvh",
                  "emoanim_server.export.gltf", "emoanim_server.export.fbx", "emoanim_server.export.usd")


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
    if path == STDOUT:
        return "json"  # -o - without --format
    ext = os.path.splitext(path)[1].lower()
    if ext not in FORMATS:
        raise InputError(f"{path}: cannot tell the format from the extension {ext!r}; "
                         f"use one of {sorted(FORMATS)} or --format")
    return FORMATS[ext]


#: ``-o -``: standard output (text formats only, see :func:`register`)
STDOUT = "-"


def _umask() -> int:
    """The process umask, read without changing it where the OS allows (Linux)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)  # elsewhere: set and restore (briefly process-wide)
    os.umask(old)
    return old


def _temp_prefix(path: str) -> str:
    return "." + os.path.basename(path) + "."


def _sweep_stale_temps(path: str) -> None:
    """Remove temp files of ``path`` left by a writer that was killed (SIGKILL, power loss):
    their names carry the writer's pid, and only those of dead processes are removed, so a
    concurrent writer of the same target is left alone."""
    d, prefix = os.path.dirname(path) or ".", _temp_prefix(path)
    try:
        names = [n for n in os.listdir(d) if n.startswith(prefix) and n.endswith(".tmp")]
    except OSError:
        return
    for n in names:
        pid = n[len(prefix):].split(".", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # alive (or not ours to signal): leave it
        except ProcessLookupError:
            pass
        except OSError:
            continue
        try:
            os.unlink(os.path.join(d, n))
        except OSError:
            pass


def resolve_output(path: str, inputs: Sequence[str] = (), fmt: str | None = None) -> str:
    """Check an output path before any work is done and return the file to replace.

    * ``-`` is standard output, for text formats only (a binary format is refused);
    * a symlink is written *through*: the file it points to is replaced, the link stays;
    * the target must be a regular file or not exist yet: a device node, FIFO, socket or
      folder is refused (an atomic rename would replace ``/dev/null`` by a regular file);
    * the target must not be one of ``inputs`` (same inode: ``-o line.wav`` on ``line.wav``);
    * its folder must exist and be writable.
    Raises :class:`OutputError` naming the path."""
    if path == STDOUT:
        if fmt is not None and fmt not in TEXT_FORMATS:
            raise OutputError(f"-o -: {fmt} is a binary format; standard output takes only "
                              f"{sorted(TEXT_FORMATS)} (write {fmt} to a file)")
        return path
    real = os.path.realpath(path)
    try:
        st = os.stat(real)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise OutputError(f"{path}: cannot inspect the output path ({e.strerror})") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"{path}: is a directory, expected an output file path")
        if not stat.S_ISREG(st.st_mode):
            raise OutputError(f"{path}: is not a regular file (a device, FIFO or socket); "
                              "refusing to replace it - give a file path, or -o - for standard output")
        for src in inputs:
            try:
                if os.path.samefile(src, real):
                    raise OutputError(f"{path}: is the input file {src}; refusing to overwrite the input "
                                      "(choose another output name)")
            except OSError:
                continue
    d = os.path.dirname(real)
    if not os.path.isdir(d):
        raise OutputError(f"{path}: output folder {os.path.dirname(os.path.abspath(path))} does not exist")
    if not os.access(d, os.W_OK | os.X_OK):
        raise OutputError(f"{path}: output folder {d} is not writable")
    return real


@contextmanager
def atomic_write(path: str, mode: str = "w") -> Iterator[IO]:
    """Write to a temp file beside ``path`` and rename on success: readers never see a half
    file, and a failure (or SIGTERM/SIGINT, which the CLI turns into exceptions) leaves neither a
    partial output nor the temp file; temps of a killed earlier run of the same target are swept.
    The result gets the permissions a plain ``open()`` would give: an existing file's mode, or
    0666 less the umask (``mkstemp`` alone makes every output 0600). ``-`` writes to standard
    output (text modes). See :func:`resolve_output` for what is refused."""
    text_kw = {"newline": "", "encoding": "utf-8"} if "b" not in mode else {}
    if path == STDOUT:
        if "b" in mode:
            raise OutputError("-o -: this format is binary; standard output takes only text formats")
        sys.stdout.flush()
        out = io.TextIOWrapper(sys.stdout.buffer, write_through=True, **text_kw)
        try:
            yield out
            out.flush()
        finally:
            out.detach()  # never close the process's stdout
        return
    real = resolve_output(path)
    d = os.path.dirname(real)
    _sweep_stale_temps(real)
    try:
        st = os.stat(real)
        perm = stat.S_IMODE(st.st_mode)
    except OSError:
        perm = 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f"{_temp_prefix(real)}{os.getpid()}.", suffix=".tmp", dir=d)
    except OSError as e:
        raise OutputError(f"{path}: cannot write there ({e.strerror})") from None
    try:
        os.fchmod(fd, perm)
        with os.fdopen(fd, mode, **text_kw) as f:
            yield f
        os.replace(tmp, real)
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


#: formats whose writer produces text, so ``-o -`` may send them to standard output
TEXT_FORMATS: set[str] = set()


def register(fmt: str, *extensions: str, text: bool = False) -> Callable[[Writer], Writer]:
    """Exporters register themselves so adding a format touches one module. ``text=True``:
    the writer writes text through :func:`atomic_write` (so ``-o -`` can stream it)."""
    def deco(fn: Writer) -> Writer:
        _WRITERS[fmt] = fn
        if text:
            TEXT_FORMATS.add(fmt)
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
    resolve_output(path, fmt=fmt)
    track.validate()
    _WRITERS[fmt](track, path, rig)
    return fmt

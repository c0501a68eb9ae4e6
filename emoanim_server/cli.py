"""Command line: ``emoanim bake | info`` (more subcommands register in ``build_parser``).

Exit codes: 0 success; 1 internal error; 2 usage error (bad flags, an fps outside the allowed
set); 3 bad input (audio, transcript, emotion, rig...); 4 output could not be written; 130
interrupted (SIGINT); 143 terminated (SIGTERM). Errors are one line on stderr naming the input
and what was expected; no partial output file is ever left, not even on SIGTERM.

Start-up matters (one process per line in many pipelines; issue 14 asks <= 0.5 s for ``--help``,
``info`` and bakes without the recogniser): this module and the plugins' argument functions
import nothing heavy at module level; numpy, scipy, onnxruntime and the decoders load inside the
commands that use them (benchmarks/cli_startup.py measures it).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
from typing import Callable, Sequence

from . import __version__
from .errors import EmoAnimError, InputError

#: subcommand name -> (help, add-arguments function, run function); stages' issues add theirs
Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, add_args: Callable[[argparse.ArgumentParser], None]):
    def deco(run: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = (help, add_args, run)
        return run
    return deco


# ---------------------------------------------------------------------------------- bake
#: stages' flags, wired in by this edge: (module, adds the flags, fills the typed StageOptions).
#: The stage modules define them and never import the CLI (docs/architecture.md).
STAGE_FLAGS: list[tuple[str, str, str]] = [
    ("emoanim_server.emotion.cli", "add_emotion_args", "emotion_options"),
    ("emoanim_server.face.eyes_head_cli", "add_args", "to_options"),
    ("emoanim_server.face.upper_cli", "add_args", "to_options"),
]


def _stage_flag_functions(which: int):
    import importlib

    return [getattr(importlib.import_module(mod), names[which - 1]) for mod, *names in STAGE_FLAGS]


#: older plugin hooks that add flags and fill ``StageOptions.extra`` (stages without a typed
#: option yet); new stage options go into options.StageOptions + STAGE_FLAGS instead
BAKE_ARG_HOOKS: list[Callable[[argparse.ArgumentParser], None]] = []
BAKE_OPTION_HOOKS: list[Callable[[argparse.Namespace, dict], None]] = []


def _bake_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="audio file (WAV, FLAC, OGG, MP3...)")
    p.add_argument("-o", "--output", help="output file (default: INPUT with .json); '-' = standard output "
                                          "(text formats: json, csv, bvh). A symlink is written through")
    p.add_argument("--format", help="json | csv (Live Link Face) | npz | bvh (default: from the extension)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--transcript", help="what is said; gives forced alignment instead of recognition")
    g.add_argument("--transcript-file", help="text file with what is said")
    _stage_args(p)


def _stage_args(p: argparse.ArgumentParser) -> None:
    """Options shared by ``bake`` and ``batch``: one line or many, the same animation."""
    p.add_argument("--fps", type=_fps_arg, default=60, help="frames per second: 24, 25, 30, 50 or 60 (default 60)")
    p.add_argument("--rig", default="arkit", help="arkit | metahuman | path to a mapping JSON (default arkit)")
    p.add_argument("--naming", default="arkit", choices=["arkit", "pascal", "lr"],
                   help="ARKit curve naming: camelCase (arkit), PascalCase, or _L/_R (default arkit)")
    p.add_argument("--seed", type=int, default=0, help="seed for every stochastic part (default 0)")
    p.add_argument("--fast", action="store_true",
                   help=f"faster speech recognition ({FAST_HELP}), a few %% fewer lip closures found")
    p.add_argument("--lipsync", choices=["auto", "phonetic", "neural"], default="auto",
                   help="lip-sync engine: auto (per line: phonetic for English, the learned model for "
                        "other languages), phonetic (English recogniser), neural (learned, any language)")
    p.add_argument("--language", default=None,
                   help="transcript language: BCP-47 tag (de, fr-FR, pt-BR, ja...) or auto; default English; "
                        "<fr>...</fr> marks a span in another language (docs/languages.md)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--progress", choices=PROGRESS_MODES, default="auto",
                   help="auto: a bar only when stderr is a terminal; bar; json: one JSON object per line "
                        "on stderr ({\"progress\": 0.42}) for tools; none (default auto)")
    for add in _stage_flag_functions(1):
        add(p)
    for hook in BAKE_ARG_HOOKS:
        hook(p)


#: what ``--fast`` saves, as measured on 12 LJ Speech lines (benchmarks/fast_mode.py ->
#: benchmarks/results/fast_mode.json: CPU RTF 0.143 -> 0.108, 24.9 %); issue 14: the text must
#: match the measurement)
FAST_HELP = "~25%% less CPU on typical lines"
PROGRESS_MODES = ("auto", "bar", "json", "none")


def _fps_arg(text: str) -> int:
    """``--fps``: an fps outside the allowed set is a usage error (exit 2), like an unknown flag."""
    from .track import ALLOWED_FPS

    try:
        fps = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if fps not in ALLOWED_FPS:
        raise argparse.ArgumentTypeError(f"{fps} is not supported; expected one of "
                                         f"{', '.join(map(str, ALLOWED_FPS))}")
    return fps


class Progress:
    """Progress reporting for long commands: a tqdm bar only on a terminal (``auto``), never
    into logs; ``json`` writes ``{"progress": f}`` lines on stderr (machine-readable, like
    Rhubarb's ``--machineReadable``), at most one per percent."""

    def __init__(self, mode: str, desc: str, stream=None) -> None:
        self.stream = stream or sys.stderr
        if mode == "auto":
            isatty = getattr(self.stream, "isatty", None)
            mode = "bar" if isatty is not None and isatty() else "none"
        self.mode = mode
        self.desc = desc
        self._bar = None
        self._last = -1

    def __call__(self, frac: float) -> None:
        pct = int(100 * min(max(frac, 0.0), 1.0))
        if pct == self._last:
            return
        self._last = pct
        if self.mode == "json":
            self.stream.write(f'{{"progress": {pct / 100:.2f}, "stage": "{self.desc}"}}\n')
            self.stream.flush()
        elif self.mode == "bar":
            if self._bar is None:
                from tqdm import tqdm

                self._bar = tqdm(total=100, desc=self.desc, unit="%", file=self.stream, leave=False)
            self._bar.n = pct
            self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()


def progress_for(args: argparse.Namespace, desc: str, long_enough: bool = True) -> Progress | None:
    """The progress reporter the flags ask for (None: report nothing)."""
    mode = "none" if getattr(args, "quiet", False) else getattr(args, "progress", "auto")
    if mode == "none" or (mode in ("auto", "bar") and not long_enough):
        return None
    p = Progress(mode, desc)
    return None if p.mode == "none" else p


def check_input_file(path: str) -> None:
    """An input must be a regular file: a FIFO with no writer would block forever, a device
    would be read without end."""
    import stat

    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as e:
        raise InputError(f"{path}: cannot read ({e.strerror})") from None
    if stat.S_ISDIR(st.st_mode):
        raise InputError(f"{path}: is a directory, expected an audio file")
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"{path}: is not a regular file (a FIFO, device or socket); expected an audio file")


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: cannot read transcript ({e})") from None


def _read_transcript(args: argparse.Namespace) -> str | None:
    if getattr(args, "transcript_file", None):
        return _read_text(args.transcript_file)
    return getattr(args, "transcript", None)


def bake_options(args: argparse.Namespace, transcript: str | None = None):
    from .face.lipsync.language import normalise_language
    from .pipeline import BakeOptions

    language = normalise_language(getattr(args, "language", None))  # a bad tag fails before the slow part
    extra: dict = {}
    for hook in BAKE_OPTION_HOOKS:
        hook(args, extra)
    try:
        opts = BakeOptions(fps=args.fps, transcript=transcript or _read_transcript(args), seed=args.seed,
                           fast=args.fast, language=language, lipsync=getattr(args, "lipsync", "auto"),
                           extra=extra)
    except ValueError as e:
        raise InputError(f"--fps: {e}") from None
    for fill in _stage_flag_functions(2):
        fill(args, opts)
    return opts


def warn_transcript(src: str, track) -> None:
    """A transcript that was not used (it did not match, or could not be aligned) is said on
    stderr even with -q: the result is the audio-only animation, which the user did not ask for."""
    lip = track.metadata.get("lipsync", {})
    why = lip.get("fallback")
    if why:
        print(f"emoanim: warning: {src}: transcript not used: {why}; animated from the audio alone",
              file=sys.stderr)
    if lip.get("words_unpronounced"):
        hint = f" ({lip['hint']})" if lip.get("hint") else ""
        print(f"emoanim: warning: {src}: no pronunciation for {', '.join(lip['words_unpronounced'][:5])}"
              f"{hint}", file=sys.stderr)


@command("bake", "audio file -> animation file", _bake_args)
def run_bake(args: argparse.Namespace) -> int:
    from .audio import load_audio
    from .export import format_for_path, resolve_output, write_track
    from .pipeline import bake
    from .rigs import load_rig

    out = args.output or os.path.splitext(args.input)[0] + ".json"
    fmt = format_for_path(out, args.format)
    check_input_file(args.input)
    # every output problem is found before the slow part: folder, device node, input == output
    resolve_output(out, [args.input] + [f for f in (getattr(args, "transcript_file", None), args.rig) if f], fmt)
    rig = load_rig(args.rig, args.naming)  # fail on a bad rig before the slow part
    opts = bake_options(args)
    audio = load_audio(args.input)
    progress = progress_for(args, "bake", long_enough=audio.duration > 20)
    try:
        track = bake(audio, opts, progress)
    finally:
        if progress is not None:
            progress.close()
    warn_transcript(args.input, track)
    write_track(track, out, fmt, rig)
    if not args.quiet:
        print(f"{'(stdout)' if out == '-' else out}: {track.n_frames} frames at {track.fps} fps "
              f"({audio.duration:.2f} s, {fmt}, rig {rig.name})", file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------- batch
# ``emoanim batch`` lives in emoanim_server/batch/ (manifests, resume, workers, Ray; docs/batch.md)


# ---------------------------------------------------------------------------------- info
def _g2p_version() -> str:
    from .face.lipsync.g2p import espeak_version

    return espeak_version() or "missing: non-English transcripts need espeak-ng (docs/languages.md)"


@command("info", "versions, shipped models, devices", lambda p: p.add_argument("--json", action="store_true"))
def run_info(args: argparse.Namespace) -> int:
    import json
    import platform
    from importlib.metadata import PackageNotFoundError, version

    import onnxruntime  # its provider list is the "devices" answer; numpy and the decoder stay unloaded

    from .models import list_models

    def dist(name: str) -> str:  # the installed version without importing the package (start-up)
        try:
            return version(name)
        except PackageNotFoundError:
            return "missing"

    info = {
        "emoanim": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": dist("numpy"),
        "onnxruntime": onnxruntime.__version__,
        "onnx_providers": onnxruntime.get_available_providers(),
        "pocketsphinx": dist("pocketsphinx"),
        "g2p": _g2p_version(),  # espeak-ng for non-English transcripts (docs/languages.md)
        "cpu_count": os.cpu_count(),
        "models": list_models(),
    }
    if args.json:
        print(json.dumps(info, indent=1))
    else:
        for k, v in info.items():
            if k == "models":
                print("models:")
                for m in v:
                    print(f"  {m['name']}: {m['file']} ({m['status']})")
            else:
                print(f"{k}: {v}")
    return 0


# ---------------------------------------------------------------------------------- main
def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; given ``argv``, only the named subcommand gets its arguments (the others
    are listed with their help): their argument functions import the stages' option modules, and
    ``emoanim --help`` / ``emoanim info`` should not pay for bake's (issue 14's start-up bar)."""
    _load_plugins()
    chosen = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    p = argparse.ArgumentParser(prog="emoanim", description="Speech + emotion -> game-ready animation")
    p.add_argument("--version", action="version", version=f"emoanim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for name, (help, add_args, run) in COMMANDS.items():
        sp = sub.add_parser(name, help=help, description=help)
        if chosen is None or chosen == name:
            add_args(sp)
        sp.set_defaults(_run=run)
    return p


def _load_plugins() -> None:
    """Import the modules that register extra subcommands / bake options (if present)."""
    import importlib

    for mod in PLUGIN_MODULES:
        try:
            m = importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if not (e.name and mod.startswith(e.name)):
                raise
            continue
        # a module that must not import the CLI (the server) lists its subcommands instead
        for name, help, add_args, run in getattr(m, "SUBCOMMANDS", ()):
            COMMANDS.setdefault(name, (help, add_args, run))


#: modules that call ``command(...)``, list ``SUBCOMMANDS`` (name, help, add_args, run) or append
#: to the BAKE_*_HOOKS at import time
PLUGIN_MODULES: list[str] = [
    "emoanim_server.server.cli",
    "emoanim_server.gesture.cli",
    "emoanim_server.batch.cli",
    "emoanim_server.overrides_cli",
    "emoanim_server.livelink_cli",
    "emoanim_server.preview.cli",
    "emoanim_server.export.cli",
]


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so ``finally`` blocks and the temp-file cleanup of
    :func:`~emoanim_server.export.common.atomic_write` run (the default action kills the process
    and leaves ``.out.*.tmp`` files behind)."""


def _on_sigterm(signum, frame) -> None:
    raise Terminated()


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread (embedding): keep the default
        previous = None
    try:
        rc = args._run(args)
        sys.stdout.flush()  # a reader that went away shows here, in the handler below, not at exit
        return rc
    except BrokenPipeError:
        # the reader of our standard output closed it (`emoanim info | head -1`, `grep -q`): not
        # an error of ours, so no traceback; stop as Unix tools do (128 + SIGPIPE), with Python's
        # exit-time flush pointed at /dev/null so it cannot print one either
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except EmoAnimError as e:
        print(f"emoanim {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"emoanim {args.command}: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print(f"emoanim {args.command}: terminated (SIGTERM); no partial output left", file=sys.stderr)
        return 143
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


if __name__ == "__main__":
    sys.exit(main())

"""Command line: ``emoanim bake | info`` (more subcommands register in ``build_parser``).

Exit codes: 0 success; 1 internal error; 2 usage error (bad flags); 3 bad input (audio,
transcript, emotion, rig...); 4 output could not be written; 130 interrupted. Errors are one line
on stderr naming the input and what was expected; no partial output file is ever left.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Sequence

from . import __version__
from .errors import EmoAnimError, InputError, OutputError

#: subcommand name -> (help, add-arguments function, run function); stages' issues add theirs
Command = tuple[str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int]]
COMMANDS: dict[str, Command] = {}


def command(name: str, help: str, add_args: Callable[[argparse.ArgumentParser], None]):
    def deco(run: Callable[[argparse.Namespace], int]):
        COMMANDS[name] = (help, add_args, run)
        return run
    return deco


# ---------------------------------------------------------------------------------- bake
#: hooks that add stage options to ``bake`` and turn parsed args into BakeOptions.extra
BAKE_ARG_HOOKS: list[Callable[[argparse.ArgumentParser], None]] = []
BAKE_OPTION_HOOKS: list[Callable[[argparse.Namespace, dict], None]] = []


def _bake_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="audio file (WAV, FLAC, OGG, MP3...)")
    p.add_argument("-o", "--output", help="output file (default: INPUT with .json)")
    p.add_argument("--format", help="json | csv (Live Link Face) | npz | bvh (default: from the extension)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--transcript", help="what is said; gives forced alignment instead of recognition")
    g.add_argument("--transcript-file", help="text file with what is said")
    _stage_args(p)


def _stage_args(p: argparse.ArgumentParser) -> None:
    """Options shared by ``bake`` and ``batch``: one line or many, the same animation."""
    p.add_argument("--fps", type=int, default=60, help="frames per second: 24, 25, 30, 50 or 60 (default 60)")
    p.add_argument("--rig", default="arkit", help="arkit | metahuman | path to a mapping JSON (default arkit)")
    p.add_argument("--naming", default="arkit", choices=["arkit", "pascal", "lr"],
                   help="ARKit curve naming: camelCase (arkit), PascalCase, or _L/_R (default arkit)")
    p.add_argument("--seed", type=int, default=0, help="seed for every stochastic part (default 0)")
    p.add_argument("--fast", action="store_true",
                   help="faster speech recognition (~45%% less CPU), a few %% fewer lip closures found")
    p.add_argument("--language", default=None,
                   help="transcript language: BCP-47 tag (de, fr-FR, pt-BR, ja...) or auto; default English; "
                        "<fr>...</fr> marks a span in another language (docs/languages.md)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")
    for hook in BAKE_ARG_HOOKS:
        hook(p)


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
    try:
        opts = BakeOptions(fps=args.fps, transcript=transcript or _read_transcript(args), seed=args.seed,
                           fast=args.fast, language=language)
    except ValueError as e:
        raise InputError(f"--fps: {e}") from None
    for hook in BAKE_OPTION_HOOKS:
        hook(args, opts.extra)
    return opts


def _warn_transcript(src: str, track) -> None:
    """A transcript that was not used (it did not match, or could not be aligned) is said on
    stderr even with -q: the result is the audio-only animation, which the user did not ask for."""
    why = track.metadata.get("lipsync", {}).get("fallback")
    if why:
        print(f"emoanim: warning: {src}: transcript not used: {why}; animated from the audio alone",
              file=sys.stderr)


@command("bake", "audio file -> animation file", _bake_args)
def run_bake(args: argparse.Namespace) -> int:
    from .audio import load_audio
    from .export import format_for_path, write_track
    from .pipeline import bake
    from .rigs import load_rig

    out = args.output or os.path.splitext(args.input)[0] + ".json"
    fmt = format_for_path(out, args.format)
    rig = load_rig(args.rig, args.naming)  # fail on a bad rig before the slow part
    opts = bake_options(args)
    audio = load_audio(args.input)
    bar = None
    progress = None
    if not args.quiet and audio.duration > 20:
        from tqdm import tqdm

        bar = tqdm(total=100, desc="bake", unit="%", file=sys.stderr, leave=False)

        def progress(frac: float) -> None:
            bar.n = int(100 * frac)
            bar.refresh()
    try:
        track = bake(audio, opts, progress)
    finally:
        if bar is not None:
            bar.close()
    _warn_transcript(args.input, track)
    write_track(track, out, fmt, rig)
    if not args.quiet:
        print(f"{out}: {track.n_frames} frames at {track.fps} fps ({audio.duration:.2f} s, {fmt}, rig {rig.name})",
              file=sys.stderr)
    return 0


# ---------------------------------------------------------------------------------- batch
def _batch_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", help="audio files")
    p.add_argument("-o", "--out-dir", required=True, help="folder for the outputs (created if missing)")
    p.add_argument("--format", default="json", help="json | csv | npz | bvh (default json)")
    p.add_argument("--transcripts", action="store_true",
                   help="use LINE.txt beside each LINE.wav as its transcript when present")
    _stage_args(p)


@command("batch", "many audio files -> animation files, one process (decoders load once)", _batch_args)
def run_batch(args: argparse.Namespace) -> int:
    """A failed line is reported and skipped; the others still bake. Exit 3 if any failed."""
    from .audio import load_audio
    from .export import format_for_path, write_track
    from .pipeline import bake
    from .rigs import load_rig

    rig = load_rig(args.rig, args.naming)
    fmt = format_for_path("x." + args.format, args.format)
    try:
        os.makedirs(args.out_dir, exist_ok=True)
    except OSError as e:
        raise OutputError(f"{args.out_dir}: cannot create the output folder ({e.strerror})") from None
    failed = 0
    items = args.inputs
    it = items
    if not args.quiet:
        from tqdm import tqdm

        it = tqdm(items, desc="batch", unit="line", file=sys.stderr)
    seen: set[str] = set()
    for src in it:
        stem = os.path.splitext(os.path.basename(src))[0]
        name = stem if stem not in seen else f"{stem}_{len(seen)}"
        seen.add(name)
        out = os.path.join(args.out_dir, f"{name}.{args.format}")
        try:
            txt_path = os.path.splitext(src)[0] + ".txt"
            text = _read_text(txt_path) if args.transcripts and os.path.isfile(txt_path) else None
            track = bake(load_audio(src), bake_options(args, text))
            _warn_transcript(src, track)
            write_track(track, out, fmt, rig)
        except EmoAnimError as e:
            failed += 1
            print(f"emoanim batch: error: {e}", file=sys.stderr)
    if not args.quiet:
        print(f"{len(items) - failed} of {len(items)} lines baked to {args.out_dir}", file=sys.stderr)
    return InputError.exit_code if failed else 0


# ---------------------------------------------------------------------------------- info
@command("info", "versions, shipped models, devices", lambda p: p.add_argument("--json", action="store_true"))
def run_info(args: argparse.Namespace) -> int:
    import json
    import platform

    import numpy
    import onnxruntime
    import pocketsphinx

    from .models import list_models

    info = {
        "emoanim": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "numpy": numpy.__version__,
        "onnxruntime": onnxruntime.__version__,
        "onnx_providers": onnxruntime.get_available_providers(),
        "pocketsphinx": getattr(pocketsphinx, "__version__", "5"),
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
def build_parser() -> argparse.ArgumentParser:
    _load_plugins()
    p = argparse.ArgumentParser(prog="emoanim", description="Speech + emotion -> game-ready animation")
    p.add_argument("--version", action="version", version=f"emoanim {__version__}")
    sub = p.add_subparsers(dest="command", required=True)
    for name, (help, add_args, run) in COMMANDS.items():
        sp = sub.add_parser(name, help=help, description=help)
        add_args(sp)
        sp.set_defaults(_run=run)
    return p


def _load_plugins() -> None:
    """Import the modules that register extra subcommands / bake options (if present)."""
    import importlib

    for mod in PLUGIN_MODULES:
        try:
            importlib.import_module(mod)
        except ModuleNotFoundError as e:
            if not (e.name and mod.startswith(e.name)):
                raise


#: modules that call ``command(...)`` or append to the BAKE_*_HOOKS at import time
PLUGIN_MODULES: list[str] = [
    "emoanim_server.emotion.cli",
    "emoanim_server.face.eyes_head_cli",
    "emoanim_server.server.cli",
    "emoanim_server.gesture.cli",
]


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args._run(args)
    except EmoAnimError as e:
        print(f"emoanim {args.command}: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print(f"emoanim {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

"""``emoanim serve`` and ``emoanim client``.

The CLI edge registers them (cli.PLUGIN_MODULES reads :data:`SUBCOMMANDS`): the server never
imports the CLI, so the dependency runs one way, edge -> server (docs/architecture.md)."""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import fields

from ..errors import InputError
from .limits import DEFAULT_HOST, DEFAULT_PORT, ServerLimits, limit_help


class _NoTokenValue(argparse.Action):
    """``--token VALUE`` is refused: a command line is visible to every user of the machine
    (``ps``, /proc/PID/cmdline). The token comes from a file or the environment only."""

    def __call__(self, parser, namespace, values, option_string=None):
        parser.error(f"{option_string}: a token on the command line is visible to every user (ps); "
                     "use --token-file FILE or the EMOANIM_TOKEN environment variable")


def add_token_args(p: argparse.ArgumentParser, what: str) -> None:
    p.add_argument("--token-file", metavar="FILE",
                   help=f"file holding the shared secret {what} (first line; default: env EMOANIM_TOKEN)")
    p.add_argument("--token", action=_NoTokenValue, help=argparse.SUPPRESS)


def read_token(args: argparse.Namespace) -> str | None:
    """The token from --token-file, else $EMOANIM_TOKEN, else None."""
    path = getattr(args, "token_file", None)
    if path:
        try:
            with open(path, encoding="utf-8") as f:
                token = f.readline().strip()
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"--token-file {path}: cannot read ({e})") from None
        if not token:
            raise InputError(f"--token-file {path}: the first line is empty; expected the token")
        return token
    return os.environ.get("EMOANIM_TOKEN") or None


def _serve_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default=DEFAULT_HOST,
                   help=f"address to bind (default {DEFAULT_HOST}; anything not loopback requires a token: --token-file)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 = any free port)")
    add_token_args(p, "clients must present (Authorization: Bearer, or StartSession.auth_token)")
    p.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                   help="allow WebSocket/HTTP requests carrying this Origin header (repeatable; default none: "
                        "browser pages cannot connect)")
    p.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    g = p.add_argument_group("limits (docs/protocol.md section 6)")
    helps = limit_help()
    for f in fields(ServerLimits):
        if isinstance(f.default, bool):  # --live-batch / --no-live-batch (bool("False") is True)
            g.add_argument("--" + f.name.replace("_", "-"), action=argparse.BooleanOptionalAction,
                           default=f.default, help=f"{helps.get(f.name, '')} (default {f.default})")
            continue
        g.add_argument("--" + f.name.replace("_", "-"), type=type(f.default), default=f.default,
                       help=f"{helps.get(f.name, '')} (default {f.default})")
    from ..livelink_cli import add_serve_args

    add_serve_args(p)  # --livelink HOST:PORT (Unreal Live Link Face source, docs/livelink.md)


def run_serve(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from ..livelink_cli import serve_tap
    from .app import ServerConfig, serve_forever

    logging.basicConfig(level=args.log_level, format="%(asctime)s %(name)s %(levelname)s: %(message)s",
                        stream=sys.stderr)
    if args.log_level != "DEBUG":  # one line per health poll / connection is noise
        logging.getLogger("websockets").setLevel(logging.WARNING)
    try:
        limits = ServerLimits(**{f.name: getattr(args, f.name) for f in fields(ServerLimits)})
        config = ServerConfig(host=args.host, port=args.port, token=read_token(args),
                              allow_origins=list(args.allow_origin), limits=limits,
                              message_tap=serve_tap(args))
        config.check()
    except ValueError as e:
        raise InputError(f"serve: {e}") from None

    def announce(server) -> None:
        print(f"emoanim serve: listening on ws://{args.host}:{server.port}/ "
              f"(health: http://{args.host}:{server.port}/health)", file=sys.stderr, flush=True)

    try:
        asyncio.run(serve_forever(config, announce=announce))
    except OSError as e:
        raise InputError(f"serve: cannot listen on {args.host}:{args.port} ({e.strerror or e})") from None
    print("emoanim serve: stopped", file=sys.stderr, flush=True)
    _exit_without_waiting_for_workers()
    return 0


def _exit_without_waiting_for_workers() -> None:
    """End the process right after a graceful stop. Worker threads may still be inside a long
    CLIP computation for a connection that is already closed, and the interpreter would join
    them at exit; native decoder objects finalised while such threads are frozen have hung
    finalisation for minutes (issue 14: SIGTERM needed SIGKILL). Every client has had its
    SessionEnded and close by now; nothing else is left to do."""
    import logging

    from .app import end_child_processes

    end_child_processes()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _client_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("input", help="audio file to stream")
    p.add_argument("--url", default=f"ws://{DEFAULT_HOST}:{DEFAULT_PORT}/", help="server URL")
    p.add_argument("-o", "--output", help="write received frames (.json/.csv/.npz, as `emoanim bake`)")
    p.add_argument("--clip", action="store_true", help="CLIP mode (offline quality) instead of LIVE")
    p.add_argument("--realtime", action="store_true", help="send audio at real-time pace (like a microphone)")
    p.add_argument("--chunk-ms", type=float, default=20.0, help="audio chunk length (default 20 ms)")
    p.add_argument("--fps", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--transcript", default="", help="CLIP mode: what is said")
    p.add_argument("--lipsync", default="auto", choices=["auto", "phonetic", "neural"],
                   help="lip-sync engine (StartSession.lipsync; auto: the server chooses)")
    p.add_argument("--language", default="", help="BCP-47 language of the speech (StartSession.language)")
    p.add_argument("--emotion-at", action="append", default=[], metavar="TIME:CATEGORY[:INTENSITY]",
                   help="send an EmotionUpdate when the audio reaches TIME seconds (repeatable)")
    add_token_args(p, "the server expects")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-batch printing")


def run_client_cmd(args: argparse.Namespace) -> int:
    import asyncio

    import numpy as np

    from websockets.exceptions import WebSocketException

    from ..errors import EmoAnimError
    from . import emoanim_pb2 as pb
    from .client import run_client

    emotions = []
    for spec in args.emotion_at:
        parts = spec.split(":")
        try:
            emotions.append((float(parts[0]), parts[1], float(parts[2]) if len(parts) > 2 else 1.0))
        except (IndexError, ValueError):
            raise InputError(f"--emotion-at {spec!r}: expected TIME:CATEGORY[:INTENSITY], e.g. 1.5:happy:0.8") from None
    if not os.path.isfile(args.input):
        raise InputError(f"{args.input}: no such file")
    try:
        res = run_client(args.url, args.input, mode=pb.MODE_CLIP if args.clip else pb.MODE_LIVE,
                         realtime=args.realtime, chunk_ms=args.chunk_ms, fps=args.fps, emotions=emotions,
                         token=read_token(args) or "", transcript=args.transcript, seed=args.seed,
                         lipsync={"auto": pb.LIPSYNC_AUTO, "phonetic": pb.LIPSYNC_PHONETIC,
                                  "neural": pb.LIPSYNC_NEURAL}[args.lipsync], language=args.language)
    except (OSError, TimeoutError, asyncio.TimeoutError, WebSocketException) as e:
        raise EmoAnimError(f"cannot talk to {args.url} ({e}); is `emoanim serve` running?") from None
    for err in res.errors:
        print(f"server error {err.code_name}: {err.message}", file=sys.stderr)
    if res.started is None:
        return 3
    if not args.quiet:
        for f in res.frames:
            top = max(range(len(f.curves)), key=lambda i: f.curves[i]) if len(f.curves) else 0
            print(f"frame {f.index:5d} t={f.time:7.3f}s  {res.started.curve_names[top]}={f.curves[top]:.2f}")
    if res.ended is not None:
        e = res.ended
        lat = res.latencies()
        # Frame latency means something only when audio arrives as a microphone's would: sent as
        # fast as possible, chunks queue at the server and the figure measures the queue.
        if not args.realtime:
            timing = ", audio sent faster than real time (--realtime for frame latency)"
        elif len(lat):
            # what a viewer sees is a sample's arrival to the frame showing it: the lookahead the
            # frame waits for, then the processing measured here (alone, "4 ms" read as the whole)
            la = 1e3 * res.started.lookahead_s
            med, p99 = 1e3 * float(np.median(lat)), 1e3 * float(np.percentile(lat, 99))
            timing = (f", frame latency median {med:.0f} ms, p99 {p99:.0f} ms after the {la:.0f} ms lookahead"
                      f" (audio to frame: median {la + med:.0f} ms, p99 {la + p99:.0f} ms)")
        else:
            timing = ""
        engine = pb.LipsyncEngine.Name(res.started.lipsync).removeprefix("LIPSYNC_").lower()
        print(f"session {e.session_id}: {e.reason}, {e.frames_sent} frames, {e.audio_seconds:.2f} s audio, "
              f"lip-sync {engine}{' (' + res.started.language + ')' if res.started.language else ''}, "
              f"{e.emotion_updates} emotion updates, server compute {e.processing_seconds:.2f} s" + timing,
              file=sys.stderr)
    if args.output and res.frames:
        from ..export import write_track

        fmt = write_track(res.track(), args.output)
        print(f"{args.output}: {len(res.frames)} frames ({fmt})", file=sys.stderr)
    return 0 if res.ended is not None and res.ended.reason == "completed" else 1


#: (name, help, add-arguments, run) of this module's subcommands, registered by the CLI edge
SUBCOMMANDS = [
    ("serve", "live server: protobuf over WebSocket to game engines", _serve_args, run_serve),
    ("client", "reference client: stream an audio file to `emoanim serve`, print/save frames", _client_args,
     run_client_cmd),
]

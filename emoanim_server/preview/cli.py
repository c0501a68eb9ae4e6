"""Registers ``emoanim preview`` (see :mod:`emoanim_server.preview`)."""
from __future__ import annotations

import argparse
import sys
import time

from ..cli import command


def _args(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", help="a GLB written by `emoanim bake ... -o LINE.glb`")
    p.add_argument("--audio", help="audio to play with it (default: the baked source beside the GLB, or LINE.wav)")
    p.add_argument("--port", type=int, default=0, help="local port (default: any free one)")
    p.add_argument("--no-browser", action="store_true", help="only print the URL")


@command("preview", "play a baked GLB with its audio in the browser (local page, three.js)", _args)
def run_preview(args: argparse.Namespace) -> int:
    from . import find_audio, serve

    audio = find_audio(args.file, args.audio)
    httpd = serve(args.file, audio, args.port)
    url = f"http://127.0.0.1:{httpd.server_address[1]}/"
    print(f"emoanim preview: {url} ({args.file}" + (f" + {audio}" if audio else ", no audio found") + "); Ctrl-C stops",
          file=sys.stderr, flush=True)
    if not args.no_browser:
        import webbrowser

        webbrowser.open(url)
    try:
        while True:
            time.sleep(3600)
    finally:
        httpd.shutdown()

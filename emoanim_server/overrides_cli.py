"""``--overrides FILE`` for ``bake`` and ``batch`` (via cli.BAKE_ARG_HOOKS / BAKE_OPTION_HOOKS).

The file is read here, at the edge; the bake applies the parsed layer as its last step
(pipeline.bake -> overrides.apply_overrides), so every re-bake keeps the animator's edits.
"""
from __future__ import annotations

import argparse

from . import cli


def add_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--overrides", metavar="JSON",
                   help="hand-edit override layer (keyed offsets, holds) re-applied to the bake (docs/overrides.md)")


def to_extra(args: argparse.Namespace, extra: dict) -> None:
    path = getattr(args, "overrides", None)
    if path:
        from .overrides import load_overrides

        extra["overrides"] = load_overrides(path)


if add_args not in cli.BAKE_ARG_HOOKS:
    cli.BAKE_ARG_HOOKS.append(add_args)
    cli.BAKE_OPTION_HOOKS.append(to_extra)

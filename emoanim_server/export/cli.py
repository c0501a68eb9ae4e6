"""``--character FILE`` for ``bake`` / ``batch``: the FBX, GLB and USD writers put the animation
on that character (default: the bundled proxy). Checked before the slow bake."""
from __future__ import annotations

import argparse

from ..cli import BAKE_ARG_HOOKS, BAKE_OPTION_HOOKS


def _add(p: argparse.ArgumentParser) -> None:
    p.add_argument("--character", help="FBX / GLB / OBJ / PLY character for .fbx/.glb/.usda outputs "
                                        "(blendshapes matched through --rig); default: the bundled ARKit proxy")


def _opt(args: argparse.Namespace, extra: dict) -> None:
    spec = getattr(args, "character", None)
    if spec:
        from .character import load_character

        load_character(spec)  # a bad file fails now, not after the bake
        extra["character"] = spec


BAKE_ARG_HOOKS.append(_add)
BAKE_OPTION_HOOKS.append(_opt)

"""Retarget canonical ARKit-52 curves to a character's curve set.

A rig is a table ``target <- sum(weight * arkit_curve)``, clipped to [0, 1]. A term written
``a/b`` means ``a / max(b, 0.02)``: ARKit's mouthClose is defined relative to jawOpen, while most
rigs (MetaHuman's lipsTogether) want "how closed are the lips", which is that ratio.

User mapping file (JSON)::

    {"name": "my_character", "version": 1,
     "curves": {"Mouth_Open": {"jawOpen": 1.0},
                "Smile": {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5}}}

Source names may use any ARKit alias (``JawOpen``, ``eyeBlink_L``).
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources

import numpy as np

from ..errors import InputError
from ..track import ARKIT_INDEX, ARKIT_NAMES, N_ARKIT
from .arkit import NAMING_STYLES, arkit_name, parse_arkit_name


@dataclass
class Rig:
    name: str
    names: list[str]
    matrix: np.ndarray  # (M, 52) linear part
    ratios: list[tuple[int, int, int, float]]  # (target row, numerator, denominator, weight)
    derived: bool = False
    description: str = ""

    def apply(self, curves: np.ndarray) -> np.ndarray:
        """(N, 52) ARKit -> (N, M) rig curves in [0, 1]."""
        out = curves @ self.matrix.T
        for row, a, b, w in self.ratios:
            out[:, row] += w * curves[:, a] / np.maximum(curves[:, b], 0.02)
        return np.clip(out, 0.0, 1.0).astype(np.float32)

    @property
    def is_arkit(self) -> bool:
        return self.matrix.shape == (N_ARKIT, N_ARKIT) and not self.ratios and np.allclose(
            self.matrix, np.eye(N_ARKIT))


def arkit_rig(style: str = "arkit") -> Rig:
    return Rig(f"arkit-{style}" if style != "arkit" else "arkit",
               [arkit_name(n, style) for n in ARKIT_NAMES], np.eye(N_ARKIT, dtype=np.float32), [])


def rig_from_table(table: dict, source: str) -> Rig:
    """Build a rig from a mapping table (see module docstring); errors name the entry."""
    if not isinstance(table, dict) or not isinstance(table.get("curves"), dict) or not table["curves"]:
        raise InputError(f"{source}: expected a JSON object with a non-empty \"curves\" object")
    names = list(table["curves"])
    mat = np.zeros((len(names), N_ARKIT), np.float32)
    ratios: list[tuple[int, int, int, float]] = []
    for row, (target, terms) in enumerate(table["curves"].items()):
        if not isinstance(terms, dict) or not terms:
            raise InputError(f"{source}: curve {target!r}: expected an object of ARKit name -> weight")
        for src, w in terms.items():
            if not isinstance(w, (int, float)) or not np.isfinite(w):
                raise InputError(f"{source}: curve {target!r}: weight for {src!r} must be a number")
            try:
                if "/" in src:
                    a, b = (parse_arkit_name(s) for s in src.split("/", 1))
                    ratios.append((row, ARKIT_INDEX[a], ARKIT_INDEX[b], float(w)))
                else:
                    mat[row, ARKIT_INDEX[parse_arkit_name(src)]] += float(w)
            except KeyError as e:
                raise InputError(f"{source}: curve {target!r}: {e.args[0]}") from None
    return Rig(str(table.get("name", os.path.basename(source))), names, mat, ratios,
               derived=True, description=str(table.get("description", "")))


def load_rig(spec: str = "arkit", naming: str = "arkit") -> Rig:
    """``arkit`` (with a naming style), ``metahuman`` (shipped derived table) or a JSON file path."""
    if naming not in NAMING_STYLES:
        raise InputError(f"naming {naming!r} unknown; expected one of {list(NAMING_STYLES)}")
    if spec == "arkit":
        return arkit_rig(naming)
    if spec == "metahuman":
        text = resources.files("emoanim_server.rigs").joinpath("maps/metahuman.json").read_text()
        return rig_from_table(json.loads(text), "metahuman")
    if not os.path.isfile(spec):
        raise InputError(f"rig {spec!r}: expected 'arkit', 'metahuman' or a mapping JSON file")
    try:
        with open(spec, encoding="utf-8") as f:
            table = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{spec}: not a readable JSON mapping file ({e})") from None
    return rig_from_table(table, spec)

"""Retarget canonical ARKit-52 curves to a character's curve set.

A rig is a table ``target <- sum(weight * arkit_curve)``, clipped to [0, 1]. A term written
``a/b`` means ``a / max(b, 0.02)``: ARKit's mouthClose is defined relative to jawOpen, while most
rigs (MetaHuman's lipsTogether) want "how closed are the lips", which is that ratio.

User mapping file (JSON)::

    {"name": "my_character", "version": 1,
     "curves": {"Mouth_Open": {"jawOpen": 1.0},
                "Smile": {"mouthSmileLeft": 0.5, "mouthSmileRight": 0.5}}}

Source names may use any ARKit alias (``JawOpen``, ``eyeBlink_L``).

A mapping comes from users and, over the wire (``StartSession.custom_rig_json``), from any
client, so every property that later code relies on is checked here, with an
:class:`InputError` naming the entry (never an internal error): at most ``MAX_RIG_CURVES``
curves of at most ``MAX_TERMS_PER_CURVE`` terms (a rig multiplies every frame's size), finite
weights with ``|w| <= MAX_RIG_WEIGHT`` (a float32 result must stay finite: 1e39 overflows to
inf/NaN), curve names that are non-empty printable text of at most ``MAX_CURVE_NAME_CHARS``
characters and valid Unicode (a lone surrogate cannot be encoded into a frame message), and JSON
nested no deeper than Python can parse.
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


#: bounds on a mapping (see the module docstring for why); MetaHuman's face board has ~250 curves
MAX_RIG_CURVES = 1024
MAX_TERMS_PER_CURVE = 64
MAX_RIG_WEIGHT = 1000.0
MAX_CURVE_NAME_CHARS = 128
#: largest mapping document accepted (the shipped MetaHuman table is ~20 kB)
MAX_RIG_JSON_BYTES = 512 * 1024


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


def _check_name(name: object, what: str, source: str) -> str:
    if not isinstance(name, str) or not name or len(name) > MAX_CURVE_NAME_CHARS:
        raise InputError(f"{source}: {what} {_shown(name)}: expected a name of 1..{MAX_CURVE_NAME_CHARS} characters")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{source}: {what} {_shown(name)}: not valid Unicode (lone surrogate)") from None
    if not name.isprintable():
        raise InputError(f"{source}: {what} {_shown(name)}: contains control characters")
    return name


def _shown(value: object, cap: int = 40) -> str:
    """A short, escaped rendering of a user value for an error message."""
    text = ascii(value)
    return text if len(text) <= cap else text[:cap] + "...'"


def _weight(w: object, target: str, src: str, source: str) -> float:
    if isinstance(w, bool) or not isinstance(w, (int, float)):
        raise InputError(f"{source}: curve {_shown(target)}: weight for {_shown(src)} must be a number")
    try:
        f = float(w)
    except OverflowError:
        f = float("inf")
    if not (np.isfinite(f) and abs(f) <= MAX_RIG_WEIGHT):
        raise InputError(f"{source}: curve {_shown(target)}: weight for {_shown(src)} is {_shown(w, 24)}; "
                         f"expected a finite number with |w| <= {MAX_RIG_WEIGHT:g}")
    return f


def rig_from_json(text: str | bytes, source: str) -> Rig:
    """A mapping document (text) -> Rig; every problem is an :class:`InputError` naming ``source``."""
    if len(text) > MAX_RIG_JSON_BYTES:
        raise InputError(f"{source}: {len(text)} bytes; a mapping may have at most {MAX_RIG_JSON_BYTES} bytes")
    try:
        table = json.loads(text)
    except RecursionError:
        raise InputError(f"{source}: JSON nested too deeply") from None
    except (ValueError, UnicodeDecodeError) as e:  # JSONDecodeError, int digit limit, bad bytes
        raise InputError(f"{source}: not valid JSON ({_shown(str(e), 120)})") from None
    return rig_from_table(table, source)


def rig_from_table(table: dict, source: str) -> Rig:
    """Build a rig from a mapping table (see module docstring); errors name the entry."""
    if not isinstance(table, dict) or not isinstance(table.get("curves"), dict) or not table["curves"]:
        raise InputError(f"{source}: expected a JSON object with a non-empty \"curves\" object")
    if len(table["curves"]) > MAX_RIG_CURVES:
        raise InputError(f"{source}: {len(table['curves'])} curves; a rig may have at most {MAX_RIG_CURVES}")
    names = [_check_name(n, "curve", source) for n in table["curves"]]
    mat = np.zeros((len(names), N_ARKIT), np.float32)
    ratios: list[tuple[int, int, int, float]] = []
    for row, (target, terms) in enumerate(table["curves"].items()):
        if not isinstance(terms, dict) or not terms:
            raise InputError(f"{source}: curve {_shown(target)}: expected an object of ARKit name -> weight")
        if len(terms) > MAX_TERMS_PER_CURVE:
            raise InputError(f"{source}: curve {_shown(target)}: {len(terms)} terms; at most {MAX_TERMS_PER_CURVE}")
        for src, w in terms.items():
            w = _weight(w, target, src, source)
            try:
                if "/" in src:
                    a, b = (parse_arkit_name(s) for s in src.split("/", 1))
                    ratios.append((row, ARKIT_INDEX[a], ARKIT_INDEX[b], float(w)))
                else:
                    mat[row, ARKIT_INDEX[parse_arkit_name(src)]] += float(w)
            except KeyError as e:
                raise InputError(f"{source}: curve {_shown(target)}: {_shown(e.args[0], 80)}") from None
    # the sum of |weights| bounds every output before clipping: keep it finite in float32
    bound = np.abs(mat).sum(axis=1)
    for row, _, _, w in ratios:
        bound[row] += abs(w) * 50.0  # a ratio term is at most 1 / 0.02
    if not np.all(np.isfinite(bound.astype(np.float32))):
        raise InputError(f"{source}: weights too large (a curve's value would not be finite)")
    name = table.get("name", os.path.basename(source))
    name = name if isinstance(name, str) else str(name)
    return Rig(_check_name(name[:MAX_CURVE_NAME_CHARS] or "custom", "rig name", source), names, mat, ratios,
               derived=True, description=str(table.get("description", ""))[:1000])


def load_rig(spec: str = "arkit", naming: str = "arkit") -> Rig:
    """``arkit`` (with a naming style), ``metahuman`` (shipped derived table) or a JSON file path."""
    if naming not in NAMING_STYLES:
        raise InputError(f"naming {naming!r} unknown; expected one of {list(NAMING_STYLES)}")
    if spec == "arkit":
        return arkit_rig(naming)
    if spec == "metahuman":
        text = resources.files("emoanim_server.rigs").joinpath("maps/metahuman.json").read_text(encoding="utf-8")
        return rig_from_json(text, "metahuman")
    if not os.path.isfile(spec):
        raise InputError(f"rig {spec!r}: expected 'arkit', 'metahuman' or a mapping JSON file")
    try:
        with open(spec, "rb") as f:
            data = f.read(MAX_RIG_JSON_BYTES + 1)
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(f"{spec}: not a readable JSON mapping file ({e})") from None
    return rig_from_json(text, spec)

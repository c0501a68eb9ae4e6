"""ARKit curve names and their aliases (PascalCase for Live Link Face/Unreal/Unity, ``_L/_R``)."""
from __future__ import annotations

import re

from ..track import ARKIT_INDEX, ARKIT_NAMES

NAMING_STYLES = ("arkit", "pascal", "lr")


def arkit_name(name: str, style: str = "arkit") -> str:
    """Canonical camelCase -> the requested style (``jawOpen`` -> ``JawOpen`` / ``jawOpen``;
    ``eyeBlinkLeft`` -> ``eyeBlink_L`` in the ``lr`` style)."""
    if style == "arkit":
        return name
    if style == "pascal":
        return name[0].upper() + name[1:]
    if style == "lr":
        return re.sub(r"(Left|Right)$", lambda m: "_" + m.group(1)[0], name)
    raise ValueError(f"naming style {style!r} unknown; expected one of {list(NAMING_STYLES)}")


_LOOKUP: dict[str, str] = {}
for _n in ARKIT_NAMES:
    for _s in NAMING_STYLES:
        _LOOKUP[arkit_name(_n, _s).lower()] = _n


def parse_arkit_name(name: str) -> str:
    """Any alias (case-insensitive, optional ``blendShape1.``-style prefix) -> canonical name."""
    key = name.strip().split(".")[-1].lower()
    try:
        return _LOOKUP[key]
    except KeyError:
        raise KeyError(f"{name!r} is not an ARKit blendshape name") from None


assert len(_LOOKUP) >= len(ARKIT_INDEX)

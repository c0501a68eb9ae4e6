"""The Unity package keeps its own copy of the ARKit name table (it has no Python to import);
this pins it to the canonical one so the two cannot drift."""
import re
from pathlib import Path

from emoanim_server.track import ARKIT_NAMES

CS = Path(__file__).resolve().parent.parent / "unity_client" / "Runtime" / "Core" / "ArkitNames.cs"


def test_csharp_arkit_table_equals_track_names():
    src = CS.read_text()
    block = src[src.index("Names =") : src.index("};", src.index("Names ="))]
    assert tuple(re.findall(r'"([A-Za-z]+)"', block)) == ARKIT_NAMES
    assert "Count = 52" in src

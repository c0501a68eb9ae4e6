"""Issue 14: the MetaHuman rig uses the face board's real curve names and accounts for all of them.

The reference list (rigs/maps/metahuman_face_board.txt) is the face board's curve set as Epic's
MetaHuman plugin checks it; failed before: 4 of the 69 shipped names (mouth{Upper,Lower}LipShrug
L/R) are in no MetaHuman curve list, and 182 board curves were not accounted for.
"""
from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np

from emoanim_server.rigs.mapping import load_rig
from emoanim_server.track import ARKIT_NAMES

ROOT = Path(__file__).resolve().parent.parent
MAPS = resources.files("emoanim_server.rigs").joinpath("maps")


def board() -> list[str]:
    lines = MAPS.joinpath("metahuman_face_board.txt").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def table() -> dict:
    return json.loads(MAPS.joinpath("metahuman.json").read_text(encoding="utf-8"))


def test_face_board_reference_is_the_full_set():
    names = board()
    assert len(names) == len(set(names)) == 251
    assert all(n.startswith("CTRL_expressions_") for n in names)


def test_every_rig_curve_is_a_real_face_board_curve():
    rig = load_rig("metahuman")
    assert sorted(set(rig.names) - set(board())) == []
    assert not any("LipShrug" in n for n in rig.names)


def test_every_face_board_curve_is_driven_or_says_why_not():
    t, names = table(), board()
    driven, not_driven = set(t["curves"]), t["not_driven"]
    assert driven.isdisjoint(not_driven)
    assert driven | set(not_driven) == set(names)
    assert all(isinstance(r, str) and len(r) > 10 for r in not_driven.values())
    assert set(t["why"]) == driven and all(t["why"].values())
    assert len(driven) >= 85  # was 65 real names (26 %)


def test_shipped_table_is_what_the_tool_writes(tmp_path):
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import metahuman_map
    finally:
        sys.path.pop(0)
    assert metahuman_map.build(board()) == table()


def _apply(**arkit) -> dict[str, float]:
    rig = load_rig("metahuman")
    cur = np.zeros((1, 52), np.float32)
    for k, v in arkit.items():
        cur[0, ARKIT_NAMES.index(k)] = v
    return dict(zip(rig.names, rig.apply(cur)[0]))


def test_sides_and_chin_follow_the_action_units():
    out = _apply(mouthSmileLeft=0.8, mouthShrugLower=0.6, mouthShrugUpper=0.3, eyeLookOutLeft=0.5,
                 eyeLookInRight=0.4)
    assert out["CTRL_expressions_mouthCornerPullL"] == np.float32(0.8)
    assert out["CTRL_expressions_mouthCornerPullR"] == 0.0
    assert out["CTRL_expressions_jawChinRaiseDL"] == out["CTRL_expressions_jawChinRaiseDR"] == np.float32(0.6)
    assert out["CTRL_expressions_jawChinRaiseUL"] == np.float32(0.3)
    # both eyes look to the character's left
    assert out["CTRL_expressions_eyeLookLeftL"] == np.float32(0.5)
    assert out["CTRL_expressions_eyeLookLeftR"] == np.float32(0.4)
    assert out["CTRL_expressions_eyeLookRightL"] == out["CTRL_expressions_eyeLookRightR"] == 0.0
    # every ARKit curve reaches at least one face-board curve
    rig = load_rig("metahuman")
    unused = [ARKIT_NAMES[i] for i in range(52) if not np.any(rig.matrix[:, i])
              and not any(a == i or b == i for _, a, b, _ in rig.ratios)]
    assert unused == []

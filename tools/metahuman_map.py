"""Write ``emoanim_server/rigs/maps/metahuman.json``: ARKit-52 -> MetaHuman face-board curves.

Run ``python tools/metahuman_map.py`` after changing the tables below; tests/test_metahuman_map.py
checks the written file against ``metahuman_face_board.txt``.

Why a table here and not a hand-edited JSON: every one of the 251 face-board curves must be
accounted for (driven from ARKit, with the FACS reason, or listed as not driven, with the reason),
and the left/right pairs are written once.

Where the names come from: ``emoanim_server/rigs/maps/metahuman_face_board.txt`` is the face
board's curve set as Epic's MetaHuman plugin lists it (``VerifyMetaHumanCharacter.cpp``,
``GetFdsCurves()``: the curves a MetaHuman face must carry), cross-checked against an independent
published list of the same 251 names (Convai's MetaHuman mappings reference). The correspondence
itself is DERIVED: Epic ships an ARKit -> face-board pose asset (``mh_arkit_mapping_pose``, used by
the Live Link Face AnimBP) but publishes no table of its values; each row below pairs controls that
move the same FACS action unit, and weights below 1 mark a secondary effect of that unit.
"""
from __future__ import annotations

import json
from pathlib import Path

MAPS = Path(__file__).resolve().parent.parent / "emoanim_server" / "rigs" / "maps"
PREFIX = "CTRL_expressions_"

#: sided rows: MetaHuman name without prefix and L/R -> ({ARKit name with {S} for Left/Right: weight}, why)
SIDED: dict[str, tuple[dict[str, float], str]] = {
    # eyes (ARKit eyeLookIn/Out are towards/away from the nose; MetaHuman looks are screen-free
    # directions of the character: the left eye looking out looks to the character's left)
    "eyeBlink": ({"eyeBlink{S}": 1.0}, "AU45 blink"),
    "eyeLookUp": ({"eyeLookUp{S}": 1.0}, "gaze up"),
    "eyeLookDown": ({"eyeLookDown{S}": 1.0}, "gaze down"),
    "eyeSquintInner": ({"eyeSquint{S}": 1.0}, "AU7 lid tightener"),
    "eyeLowerLidUp": ({"eyeSquint{S}": 0.5}, "AU7 also raises the lower lid"),
    "eyeWiden": ({"eyeWide{S}": 1.0}, "AU5 upper-lid raiser"),
    "eyeCheekRaise": ({"cheekSquint{S}": 1.0}, "AU6 cheek raiser"),
    "eyeFaceScrunch": ({"noseSneer{S}": 0.4}, "AU9 bunches the face around the eye"),
    # brows
    "browDown": ({"browDown{S}": 1.0}, "AU4 brow lowerer"),
    "browLateral": ({"browDown{S}": 0.5}, "AU4 also draws the brows together"),
    "browRaiseIn": ({"browInnerUp": 1.0}, "AU1 inner-brow raiser (one ARKit curve for both sides)"),
    "browRaiseOuter": ({"browOuterUp{S}": 1.0}, "AU2 outer-brow raiser"),
    # nose
    "noseWrinkle": ({"noseSneer{S}": 1.0}, "AU9 nose wrinkler"),
    "noseWrinkleUpper": ({"noseSneer{S}": 0.5}, "AU9 wrinkles the upper nose too"),
    "noseNasolabialDeepen": ({"mouthUpperUp{S}": 0.5}, "AU10 deepens the nasolabial furrow (FACS)"),
    # mouth corners
    "mouthCornerPull": ({"mouthSmile{S}": 1.0}, "AU12 lip-corner puller"),
    "mouthCornerDepress": ({"mouthFrown{S}": 1.0}, "AU15 lip-corner depressor"),
    "mouthDimple": ({"mouthDimple{S}": 1.0}, "AU14 dimpler"),
    "mouthStretch": ({"mouthStretch{S}": 1.0}, "AU20 lip stretcher"),
    # lips
    "mouthUpperLipRaise": ({"mouthUpperUp{S}": 1.0}, "AU10 upper-lip raiser"),
    "mouthLowerLipDepress": ({"mouthLowerDown{S}": 1.0}, "AU16 lower-lip depressor"),
    "mouthLipsPress": ({"mouthPress{S}": 1.0}, "AU24 lip pressor"),
    "mouthCheekBlow": ({"cheekPuff": 1.0}, "AU34 puff (one ARKit curve for both sides)"),
    "mouthUpperLipRollIn": ({"mouthRollUpper": 1.0}, "AU28 lip suck, upper"),
    "mouthLowerLipRollIn": ({"mouthRollLower": 1.0}, "AU28 lip suck, lower (also the f/v tuck)"),
}

#: rows per lip quadrant (U/D = upper/lower lip, then L/R): ({ARKit: weight}, why)
QUADRANT: dict[str, tuple[dict[str, float], str]] = {
    "mouthLipsTogether": ({"mouthClose/jawOpen": 1.0},
                          "ARKit mouthClose is relative to jawOpen: the ratio is how closed the lips are"),
    "mouthFunnel": ({"mouthFunnel": 1.0}, "AU22 lip funneler"),
    "mouthLipsPurse": ({"mouthPucker": 1.0}, "AU18 lip pucker"),
    "mouthLipsTowards": ({"mouthPucker": 0.5}, "AU18 also draws the lips towards each other"),
    "mouthLipsTighten": ({"mouthPress{S}": 0.3}, "AU23 tightener comes with the AU24 press"),
}

#: per-lip rows with side suffix: U = upper lip from mouthShrugUpper, D = lower from mouthShrugLower
CHIN = {
    "jawChinRaiseU": ({"mouthShrugUpper": 1.0}, "ARKit mouthShrugUpper: the AU17 chin raiser pushing the upper lip"),
    "jawChinRaiseD": ({"mouthShrugLower": 1.0}, "AU17 chin raiser (ARKit mouthShrugLower)"),
}

#: unsided rows
CENTRE: dict[str, tuple[dict[str, float], str]] = {
    "jawOpen": ({"jawOpen": 1.0}, "AU26/27 jaw drop"),
    "jawLeft": ({"jawLeft": 1.0}, "AU30 jaw sideways"),
    "jawRight": ({"jawRight": 1.0}, "AU30 jaw sideways"),
    "jawFwd": ({"jawForward": 1.0}, "AU29 jaw thrust"),
    "mouthLeft": ({"mouthLeft": 1.0}, "both lips to the character's left"),
    "mouthRight": ({"mouthRight": 1.0}, "both lips to the character's right"),
    "tongueOut": ({"tongueOut": 1.0}, "AU19 tongue show"),
}

#: face-board curves ARKit-52 has no information for, by group: why they stay undriven
NOT_DRIVEN: list[tuple[tuple[str, ...], str]] = [
    (("earUp",), "no ear movement in ARKit"),
    (("eyeLidPress", "eyeRelax", "eyeLowerLidDown", "eyeUpperLidUp"),
     "no separate lid press/relax/lid-only motion in ARKit (blink, squint and wide carry the lids)"),
    (("eyePupilNarrow", "eyePupilWide", "eyeParallelLookDirection"), "no pupil size or vergence mode in ARKit"),
    (("eyelashes",), "eyelash shaping controls, not an expression"),
    (("jawBack", "jawOpenExtreme", "jawClench", "jawChinCompress"),
     "no jaw retraction, clench or chin compression in ARKit; the extreme jaw is a corrective past jawOpen=1"),
    (("mouthCheekSuck",), "no cheek suck in ARKit"),
    (("mouthCornerDown", "mouthCornerUp", "mouthCornerWide", "mouthCornerNarrow", "mouthCornerRounder",
      "mouthCornerSharpen", "mouthSharpCornerPull"),
     "corner fine-positioning and AU13: ARKit's smile/frown/stretch already move the corners"),
    (("mouthUp", "mouthDown", "mouthUpperLipShift", "mouthLowerLipShift"),
     "whole-mouth and single-lip shifts: ARKit moves both lips together (mouthLeft/Right)"),
    (("mouthLipsBlow", "mouthLipsPull", "mouthLipsPush", "mouthLipsThick", "mouthLipsThin", "mouthLipsSticky",
      "mouthSticky", "mouthPress", "mouthStretchLipsClose", "mouthUpperLipRollOut", "mouthLowerLipRollOut",
      "mouthUpperLipBite", "mouthLowerLipBite", "mouthUpperLipTowardsTeeth", "mouthLowerLipTowardsTeeth"),
     "lip shape, stickiness and lip-teeth contact: no ARKit curve (the f/v tuck is carried by mouthRollLower)"),
    (("neck",), "no neck or throat in ARKit"),
    (("noseNostril",), "no nostril curves in ARKit"),
    (("teeth",), "teeth placement controls, not an expression"),
    (("tongue",), "ARKit has only tongueOut"),
]


def build(board: list[str]) -> dict:
    curves: dict[str, dict[str, float]] = {}
    why: dict[str, str] = {}

    def put(name: str, terms: dict[str, float], reason: str, side: str = "") -> None:
        full = PREFIX + name
        curves[full] = {k.replace("{S}", side): w for k, w in terms.items()}
        why[full] = reason

    for base, (terms, reason) in SIDED.items():
        for s, side in (("L", "Left"), ("R", "Right")):
            put(base + s, terms, reason, side)
    for base, (terms, reason) in QUADRANT.items():
        for q in ("UL", "UR", "DL", "DR"):
            put(base + q, terms, reason, "Left" if q.endswith("L") else "Right")
    for base, (terms, reason) in CHIN.items():
        for s, side in (("L", "Left"), ("R", "Right")):
            put(base + s, terms, reason, side)
    put("eyeLookLeftL", {"eyeLookOutLeft": 1.0}, "left eye looking away from the nose: to the character's left")
    put("eyeLookRightL", {"eyeLookInLeft": 1.0}, "left eye looking towards the nose: to the character's right")
    put("eyeLookLeftR", {"eyeLookInRight": 1.0}, "right eye looking towards the nose: to the character's left")
    put("eyeLookRightR", {"eyeLookOutRight": 1.0}, "right eye looking away from the nose: to the character's right")
    for name, (terms, reason) in CENTRE.items():
        put(name, terms, reason)

    unknown = sorted(set(curves) - set(board))
    if unknown:
        raise SystemExit(f"not face-board curves: {unknown}")
    not_driven: dict[str, str] = {}
    for name in board:
        if name in curves:
            continue
        short = name[len(PREFIX):]
        reason = next((r for prefixes, r in NOT_DRIVEN if short.startswith(prefixes)), None)
        if reason is None:
            raise SystemExit(f"{name}: neither driven nor given a reason")
        not_driven[name] = reason
    order = {n: i for i, n in enumerate(board)}
    return {
        "name": "metahuman",
        "description": (
            "ARKit-52 -> MetaHuman CTRL_expressions_* face-board curves. DERIVED, not official: Epic ships an "
            "ARKit->face-board pose asset (mh_arkit_mapping_pose) but publishes no table of it. Names are the "
            "face board's own (metahuman_face_board.txt, from Epic's MetaHuman plugin). Each row pairs controls "
            "that move the same FACS action unit (see 'why'); curves ARKit has no information for are listed "
            "in 'not_driven' with the reason. ARKit Left/Right and MetaHuman L/R are both the character's "
            "sides. mouthClose in ARKit is relative to jawOpen, so lipsTogether uses mouthClose/jawOpen."),
        "version": 2,
        "source": "tools/metahuman_map.py",
        "face_board_curves": len(board),
        "curves": {n: curves[n] for n in sorted(curves, key=order.__getitem__)},
        "why": {n: why[n] for n in sorted(why, key=order.__getitem__)},
        "not_driven": not_driven,
    }


def read_board() -> list[str]:
    lines = (MAPS / "metahuman_face_board.txt").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def main() -> None:
    table = build(read_board())
    (MAPS / "metahuman.json").write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(f"{len(table['curves'])} of {table['face_board_curves']} face-board curves driven, "
          f"{len(table['not_driven'])} not driven (with reasons)")


if __name__ == "__main__":
    main()

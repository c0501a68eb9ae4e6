"""Issue 14 items 9 and 10: hostile or careless rig mappings are a one-line bad-input error
(CLI exit 3, server BAD_PARAMETER), never a traceback, NaN frames or a 300x blow-up."""
from __future__ import annotations

import json

import numpy as np
import pytest

from emoanim_server import cli
from emoanim_server.errors import InputError
from emoanim_server.rigs import load_rig, rig_from_json
from emoanim_server.rigs.mapping import MAX_RIG_CURVES

BAD = {
    "400-digit weight": '{"curves": {"A": {"jawOpen": 1' + "0" * 400 + "}}}",
    "nesting": '{"curves": {"A": ' + "[" * 5000 + "]" * 5000 + "}}",
    "lone surrogate name": '{"curves": {"\\ud800": {"jawOpen": 1}}}',
    "float32 overflow": '{"curves": {"A": {"jawOpen": 1e39}}}',
    "non-finite": '{"curves": {"A": {"jawOpen": NaN}}}',
    "bool weight": '{"curves": {"A": {"jawOpen": true}}}',
    "control chars": '{"curves": {"A\\n2026-01-01 INFO forged": {"jawOpen": 1}}}',
    "too many curves": json.dumps({"curves": {f"c{i}": {"jawOpen": 1} for i in range(40000)}}),
    "empty name": '{"curves": {"": {"jawOpen": 1}}}',
    "unknown source": '{"curves": {"A": {"notAShape": 1}}}',
    "not json": "{curves",
    "huge int digits": '{"curves": {"A": {"jawOpen": ' + "9" * 5000 + "}}}",
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_mapping_is_input_error(name):
    with pytest.raises(InputError) as e:
        rig_from_json(BAD[name], "custom_rig_json")
    msg = str(e.value)
    assert msg.startswith("custom_rig_json") and "\n" not in msg and len(msg) < 400, msg
    msg.encode("utf-8")  # printable in any log or Error message


@pytest.mark.parametrize("name", ["400-digit weight", "nesting", "lone surrogate name", "float32 overflow"])
def test_cli_rig_file_exits_3_with_one_line(tmp_path, capsys, name, real_wav):
    rig = tmp_path / "rig.json"
    rig.write_text(BAD[name], encoding="utf-8", errors="surrogatepass")
    code = cli.main(["bake", str(real_wav), "--rig", str(rig), "-o", str(tmp_path / "x.json"), "-q"])
    err = capsys.readouterr().err
    assert code == 3 and err.count("\n") == 1 and "Traceback" not in err, err
    assert str(rig) in err and not (tmp_path / "x.json").exists()


def test_largest_allowed_rig_stays_finite():
    table = {"curves": {f"c{i}": {"jawOpen": 1000.0, "mouthClose/jawOpen": 1000.0} for i in range(MAX_RIG_CURVES)}}
    rig = rig_from_json(json.dumps(table), "big")
    out = rig.apply(np.random.default_rng(0).random((10, 52)).astype(np.float32))
    assert out.shape == (10, MAX_RIG_CURVES) and np.isfinite(out).all()


def test_shipped_rigs_still_load():
    assert len(load_rig("metahuman").names) >= 60 and len(load_rig("arkit").names) == 52

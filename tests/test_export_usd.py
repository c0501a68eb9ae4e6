"""USD export (UsdSkel): `emoanim bake line.wav --body -o line.usda` passes usdchecker's
validators (usd-core's UsdValidation registry: all registered validators, what `usdchecker`
runs) with 0 errors, and UsdSkel's own queries read the face curves by blendshape name at every
time code (time code i = frame i, timeCodesPerSecond = fps) and the joint animation."""
from __future__ import annotations

import os

import numpy as np
import pytest

from _export_util import baked_track, cli_bake

pxr = pytest.importorskip("pxr", reason="usd-core not installed (pip install 'emoanim[formats]')")
from pxr import Usd, UsdGeom, UsdSkel, UsdValidation  # noqa: E402

from emoanim_server.track import ARKIT_NAMES  # noqa: E402


def usdchecker_errors(stage) -> list[str]:
    ctx = UsdValidation.ValidationContext(UsdValidation.ValidationRegistry().GetOrLoadAllValidators())
    return [f"{e.GetName()}: {e.GetMessage()}" for e in ctx.Validate(stage)]


@pytest.fixture(scope="module", params=[".usda", ".usdc"])
def usd_path(request, tmp_path_factory):
    """The CLI's .usda, and the binary crate written from the same track (saves a bake)."""
    if request.param == ".usda":
        return cli_bake(".usda")
    from emoanim_server.export import write_track

    out = tmp_path_factory.mktemp("usdc") / "line.usdc"
    write_track(baked_track(), str(out))
    return out


def test_usdchecker_clean(usd_path):
    stage = Usd.Stage.Open(str(usd_path))
    assert usdchecker_errors(stage) == []


def test_checker_can_fail(tmp_path):
    """The same validators do flag a stage without units / up axis (so 'clean' means something)."""
    st = Usd.Stage.CreateNew(str(tmp_path / "bad.usda"))
    UsdGeom.Mesh.Define(st, "/M")
    st.SetDefaultPrim(st.GetPrimAtPath("/M"))
    assert usdchecker_errors(st)


def test_usdskel_reads_blendshape_weights_and_joints(usd_path):
    from emoanim_server.gesture import rotations as R

    track = baked_track()
    stage = Usd.Stage.Open(str(usd_path))
    assert stage.GetTimeCodesPerSecond() == 60 and UsdGeom.GetStageUpAxis(stage) == "Y"
    assert UsdGeom.GetStageMetersPerUnit(stage) == 1.0
    assert stage.GetEndTimeCode() == track.n_frames - 1
    cache = UsdSkel.Cache()
    root = UsdSkel.Root(stage.GetDefaultPrim())
    cache.Populate(root, Usd.TraverseInstanceProxies())
    skel = UsdSkel.Skeleton(stage.GetPrimAtPath("/EmoAnim/Skeleton"))
    query = cache.GetSkelQuery(skel)
    anim = query.GetAnimQuery()
    names = list(anim.GetBlendShapeOrder())
    assert sorted(names) == sorted(ARKIT_NAMES)
    face = UsdSkel.BindingAPI(stage.GetPrimAtPath("/EmoAnim/Face"))
    assert sorted(face.GetBlendShapesAttr().Get()) == sorted(ARKIT_NAMES)
    assert len(face.GetBlendShapeTargetsRel().GetTargets()) == 52
    assert anim.GetBlendShapeWeightTimeSamples() == pytest.approx(list(range(track.n_frames)))
    w = np.array([anim.ComputeBlendShapeWeights(Usd.TimeCode(i)) for i in range(track.n_frames)])
    for n in ("jawOpen", "mouthClose", "eyeBlinkLeft", "mouthSmileRight"):
        np.testing.assert_allclose(w[:, names.index(n)], track.curve(n), atol=1e-6)
    # a half frame is interpolated linearly between the two frames
    mid = np.array(anim.ComputeBlendShapeWeights(Usd.TimeCode(10.5)))
    np.testing.assert_allclose(mid[names.index("jawOpen")], track.curve("jawOpen")[10:12].mean(), atol=1e-6)
    joint = list(query.GetJointOrder()).index("Hips/Spine/Chest/UpperChest/LeftShoulder/LeftUpperArm")
    j = track.skeleton.names.index("LeftUpperArm")
    for i in (0, 100, 300):
        m = np.array(query.ComputeJointLocalTransforms(Usd.TimeCode(i)))[joint]
        q = R.matrix_to_quat(m[:3, :3].T)  # Gf matrices are row-vector: transpose to column form
        assert abs(np.dot(q, R.normalize(track.joint_rotations[i, j]))) > 1 - 1e-5
    (binding,) = cache.ComputeSkelBindings(root, Usd.TraverseInstanceProxies())
    sq = {q.GetPrim().GetName(): q for q in binding.GetSkinningTargets()}
    assert set(sq) == {"Body", "Face"}
    assert sq["Body"].HasJointInfluences() and sq["Face"].HasBlendShapes() and sq["Face"].HasJointInfluences()


def test_usd_references_the_audio(usd_path):
    from pxr import UsdMedia

    stage = Usd.Stage.Open(str(usd_path))
    audio = UsdMedia.SpatialAudio(stage.GetPrimAtPath("/EmoAnim/Audio"))
    p = audio.GetFilePathAttr().Get()
    assert audio and p.path.endswith("line.wav" if usd_path.suffix == ".usda" else "real_en.wav")
    assert os.path.isfile(p.resolvedPath)

// Component behaviour under the stub UnityEngine (Mono only: uses the stubs' test hooks).
using System.Collections.Generic;
using EmoAnim.Unity;
using NUnit.Framework;
using UnityEngine;

namespace EmoAnim.Tests.Mono
{
    class FixedSource : MonoBehaviour, IEmoAnimPoseSource
    {
        public PoseFrame Pose = new PoseFrame();
        public float Weight = 1f;
        public string[] Names;
        public int[] Parents;
        public PoseFrame CurrentPose { get { return Pose; } }
        public float PoseWeight { get { return Weight; } }
        public string[] JointNames { get { return Names; } }
        public int[] JointParents { get { return Parents; } }
    }

    [TestFixture]
    public class ComponentTests
    {
        static SkinnedMeshRenderer MakeMesh(GameObject parent, string name, params string[] shapes)
        {
            var go = new GameObject(name);
            go.transform.parent = parent.transform;
            var r = go.AddComponent<SkinnedMeshRenderer>();
            r.sharedMesh = new Mesh();
            r.sharedMesh.StubBlendShapeNames.AddRange(shapes);
            return r;
        }

        [Test]
        public void FaceDriverWritesWeightsOnEveryMatchingMesh()
        {
            var root = new GameObject("Character");
            var src = root.AddComponent<FixedSource>();
            var head = MakeMesh(root, "Wolf3D_Head", "jawOpen", "eyeBlinkLeft", "viseme_aa");
            var teeth = MakeMesh(root, "Wolf3D_Teeth", "blendShape1.JawOpen");
            var face = root.AddComponent<EmoAnimFaceDriver>();
            face.source = src;
            var map = ScriptableObject.CreateInstance<EmoAnimBlendshapeMap>();
            map.entries.Add(new BlendshapeMapEntry("mouthFunnel", "viseme_aa", 0.5f));
            face.mapping = map;
            face.StubInvoke("OnEnable");
            Assert.AreEqual(4, face.BoundShapeCount);
            src.Pose.Curves[17] = 0.6f; src.Pose.Curves[0] = 1f; src.Pose.Curves[19] = 0.8f;
            face.StubInvoke("LateUpdate");
            Assert.AreEqual(60f, head.GetBlendShapeWeight(0), 1e-4);
            Assert.AreEqual(100f, head.GetBlendShapeWeight(1), 1e-4);
            Assert.AreEqual(40f, head.GetBlendShapeWeight(2), 1e-4);
            Assert.AreEqual(60f, teeth.GetBlendShapeWeight(0), 1e-4);
            // half weight (fading out) blends with the resting value (0 here)
            src.Weight = 0.5f;
            face.StubInvoke("LateUpdate");
            Assert.AreEqual(30f, head.GetBlendShapeWeight(0), 1e-4);
            // idle: back to rest, and then left alone
            src.Weight = 0f; src.Pose.Curves[17] = 1f;
            face.StubInvoke("LateUpdate");
            Assert.AreEqual(0f, head.GetBlendShapeWeight(0), 1e-4);
            head.SetBlendShapeWeight(0, 12f);
            face.StubInvoke("LateUpdate");
            Assert.AreEqual(12f, head.GetBlendShapeWeight(0), 1e-4);
        }

        [Test]
        public void EyeHeadDriverRotatesAboutCharacterAxes()
        {
            var root = new GameObject("Character");
            var src = root.AddComponent<FixedSource>();
            var anim = root.AddComponent<Animator>();
            var headGo = new GameObject("Head"); headGo.transform.parent = root.transform;
            var eyeGo = new GameObject("LeftEye"); eyeGo.transform.parent = headGo.transform;
            anim.StubBones[HumanBodyBones.Head] = headGo.transform;
            anim.StubBones[HumanBodyBones.LeftEye] = eyeGo.transform;
            // a bone with a non-identity rest orientation (as in Mixamo rigs)
            var rest = Quaternion.AngleAxis(90, new Vector3(1, 0, 0));
            headGo.transform.rotation = rest;
            var d = root.AddComponent<EmoAnimEyeHeadDriver>();
            d.source = src;
            d.StubInvoke("OnEnable");
            src.Pose.HasHead = true; src.Pose.HeadYaw = (float)(System.Math.PI / 2);
            d.StubInvoke("LateUpdate");
            // the bone's rest-forward (rest * +Z) must now point to the character's left (-X)
            var fwdRest = rest * new Vector3(0, 0, 1);
            var yawed = Quaternion.AngleAxis(-90, new Vector3(0, 1, 0)) * fwdRest;
            var now = headGo.transform.rotation * new Vector3(0, 0, 1);
            Assert.AreEqual(yawed.x, now.x, 1e-4); Assert.AreEqual(yawed.y, now.y, 1e-4); Assert.AreEqual(yawed.z, now.z, 1e-4);
            Assert.AreEqual(1f, eyeGo.transform.localRotation.w, 1e-6);   // eyes not set: local rotation untouched
        }

        [Test]
        public void BodyDriverRetargetsByNameOntoAGenericHierarchy()
        {
            var root = new GameObject("Character");
            var src = root.AddComponent<FixedSource>();
            var hips = new GameObject("mixamorig:Hips"); hips.transform.parent = root.transform;
            var arm = new GameObject("mixamorig:LeftArm"); arm.transform.parent = hips.transform;
            // Mixamo-like left arm: bone +Y points along the arm, which is -X in Unity at rest.
            arm.transform.rotation = Quaternion.AngleAxis(90, new Vector3(0, 0, 1));
            var body = root.AddComponent<EmoAnimBodyDriver>();
            body.source = src;
            body.StubInvoke("OnEnable");
            src.Names = new[] { "pelvis", "upper_arm.L" };
            src.Parents = new[] { -1, 0 };
            // server: lower the left arm (+X) by -90 deg about +Z -> points down
            var q = Quat.AxisAngle(new Vec3(0, 0, 1), (float)(-System.Math.PI / 2));
            src.Pose.JointRotations = new[] { Quat.Identity, q };
            for (int i = 0; i < 3; i++) body.StubInvoke("LateUpdate");   // repeated frames do not accumulate
            Assert.AreEqual(2, body.BoundJointCount);
            var dir = arm.transform.rotation * new Vector3(0, 1, 0);
            Assert.AreEqual(0f, dir.x, 1e-4); Assert.AreEqual(-1f, dir.y, 1e-4); Assert.AreEqual(0f, dir.z, 1e-4);
            // idle: the arm goes back to its T-pose (no Animator here to do it)
            src.Weight = 0f;
            body.StubInvoke("LateUpdate");
            dir = arm.transform.rotation * new Vector3(0, 1, 0);
            Assert.AreEqual(-1f, dir.x, 1e-4); Assert.AreEqual(0f, dir.y, 1e-4);
        }

        [Test]
        public void WithoutAnAnimatorNothingAccumulatesAndIdleRestores()
        {
            var root = new GameObject("Character");
            var src = root.AddComponent<FixedSource>();
            var mesh = MakeMesh(root, "Face", "jawOpen");
            mesh.SetBlendShapeWeight(0, 5f);                     // authored resting value
            var headGo = new GameObject("Head"); headGo.transform.parent = root.transform;
            var face = root.AddComponent<EmoAnimFaceDriver>(); face.source = src; face.StubInvoke("OnEnable");
            var eh = root.AddComponent<EmoAnimEyeHeadDriver>(); eh.source = src; eh.head = headGo.transform; eh.neckShare = 0; eh.StubInvoke("OnEnable");
            src.Pose.HasHead = true; src.Pose.HeadYaw = 0.3f; src.Pose.Curves[17] = 0.5f;
            for (int i = 0; i < 5; i++) { face.StubInvoke("LateUpdate"); eh.StubInvoke("LateUpdate"); }
            // five frames of the same pose = the pose, not five times the offset
            Assert.Less(Quat.Angle(Quat.AxisAngle(new Vec3(0, 1, 0), -0.3f), ToQuat(headGo.transform.rotation)), 1e-4);
            Assert.AreEqual(50f, mesh.GetBlendShapeWeight(0), 1e-4);
            // half faded: halfway between the resting value and the pose
            src.Weight = 0.5f;
            face.StubInvoke("LateUpdate"); eh.StubInvoke("LateUpdate");
            Assert.AreEqual(27.5f, mesh.GetBlendShapeWeight(0), 1e-4);
            Assert.Less(Quat.Angle(Quat.AxisAngle(new Vec3(0, 1, 0), -0.15f), ToQuat(headGo.transform.rotation)), 1e-4);
            // idle: back to the resting values
            src.Weight = 0f;
            face.StubInvoke("LateUpdate"); eh.StubInvoke("LateUpdate");
            Assert.AreEqual(5f, mesh.GetBlendShapeWeight(0), 1e-4);
            Assert.AreEqual(1f, headGo.transform.rotation.w, 1e-6);
        }

        [Test]
        public void AnAnimatorWritingEveryFrameIsBlendedOnTop()
        {
            var root = new GameObject("Character");
            var src = root.AddComponent<FixedSource>();
            var mesh = MakeMesh(root, "Face", "jawOpen");
            var face = root.AddComponent<EmoAnimFaceDriver>(); face.source = src; face.StubInvoke("OnEnable");
            src.Pose.Curves[17] = 1f; src.Weight = 0.25f;
            for (int i = 0; i < 3; i++)
            {
                mesh.SetBlendShapeWeight(0, 20f);                // "the Animator" writes its value each frame
                face.StubInvoke("LateUpdate");
                Assert.AreEqual(40f, mesh.GetBlendShapeWeight(0), 1e-4);   // 20 + (100 - 20) * 0.25
            }
        }

        static Quat ToQuat(Quaternion q) { return new Quat(q.x, q.y, q.z, q.w); }

        [Test]
        public void StubAssemblyCompilesEditorBakeCurves()
        {
            // The bake window's curve writer, end to end on the stubs.
            var frames = new List<PoseFrame> { new PoseFrame(), new PoseFrame() };
            frames[1].Curves[17] = 1f;
            var c = new BakeCurves(2, 30);
            c.AddBlendshapes("Head", ArkitNames.Names, null, true, frames);
            var clip = new AnimationClip();
            EmoAnim.Editor.EmoAnimBakeWindow.WriteCurves(clip, c);
            Assert.AreEqual(52, clip.StubCurves.Count);
            Assert.IsTrue(clip.StubCurves.Contains("Head|SkinnedMeshRenderer|blendShape.jawOpen"));
        }
    }
}

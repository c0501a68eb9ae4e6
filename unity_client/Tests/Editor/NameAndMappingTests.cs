using System.Collections.Generic;
using NUnit.Framework;

namespace EmoAnim.Tests
{
    [TestFixture]
    public class ArkitNamesTests
    {
        [Test]
        public void FiftyTwoUniqueNamesInAppleOrder()
        {
            Assert.AreEqual(52, ArkitNames.Names.Length);
            Assert.AreEqual(52, new HashSet<string>(ArkitNames.Names).Count);
            Assert.AreEqual("eyeBlinkLeft", ArkitNames.Names[0]);
            Assert.AreEqual("jawOpen", ArkitNames.Names[17]);
            Assert.AreEqual("tongueOut", ArkitNames.Names[51]);
        }

        [Test]
        public void EveryNameMatchesItselfInEveryStyle()
        {
            for (int i = 0; i < 52; i++)
            {
                string n = ArkitNames.Names[i];
                Assert.AreEqual(i, ArkitNames.Match(n), n);
                Assert.AreEqual(i, ArkitNames.Match(ArkitNames.Pascal(n)), n);
                Assert.AreEqual(i, ArkitNames.Match(ArkitNames.LeftRight(n)), n);
                Assert.AreEqual(i, ArkitNames.Match(n.ToUpperInvariant()), n);
                Assert.AreEqual(i, ArkitNames.Match("blendShape1." + n), n);
            }
        }

        [Test]
        public void CommonRigSpellings()
        {
            Assert.AreEqual(17, ArkitNames.Match("jawOpen"));
            Assert.AreEqual(17, ArkitNames.Match("JawOpen"));
            Assert.AreEqual(17, ArkitNames.Match("jaw_open"));
            Assert.AreEqual(17, ArkitNames.Match("Wolf3D_Head.jawOpen"));      // Ready Player Me via FBX import prefix
            Assert.AreEqual(17, ArkitNames.Match("blendShape2.JawOpen"));
            Assert.AreEqual(17, ArkitNames.Match("A25_Jaw_Open"));            // Character Creator ARKit export
            Assert.AreEqual(0, ArkitNames.Match("eyeBlink_L"));
            Assert.AreEqual(7, ArkitNames.Match("EyeBlink_R"));
            Assert.AreEqual(0, ArkitNames.Match("eye_blink_left"));
            Assert.AreEqual(23, ArkitNames.Match("mouthSmile_L"));
            Assert.AreEqual(43, ArkitNames.Match("  browInnerUp "));
        }

        [Test]
        public void NonArkitShapesDoNotMatch()
        {
            Assert.AreEqual(-1, ArkitNames.Match("viseme_aa"));        // RPM Oculus visemes
            Assert.AreEqual(-1, ArkitNames.Match("mouthOpen"));        // RPM legacy, not ARKit
            Assert.AreEqual(-1, ArkitNames.Match("Fcl_MTH_A"));        // VRoid native expressions
            Assert.AreEqual(-1, ArkitNames.Match(""));
            Assert.AreEqual(-1, ArkitNames.Match(null));
            Assert.AreEqual(-1, ArkitNames.Match("eyeBlink"));
        }
    }

    [TestFixture]
    public class BlendshapeBinderTests
    {
        static readonly string[] Mesh = { "blendShape1.jawOpen", "blendShape1.EyeBlink_L", "Smile", "mouthSmileLeft", "unrelated" };

        [Test]
        public void AutoMatchBindsArkitNamedShapes()
        {
            var b = BlendshapeBinder.Bind(Mesh, null, true, null);
            Assert.AreEqual(3, b.Count);
            Assert.AreEqual(17, b[0].CurveIndex); Assert.AreEqual(0, b[0].ShapeIndex);
            Assert.AreEqual(0, b[1].CurveIndex); Assert.AreEqual(1, b[1].ShapeIndex);
            Assert.AreEqual(23, b[2].CurveIndex); Assert.AreEqual(3, b[2].ShapeIndex);
        }

        [Test]
        public void UserMapAddsAndOverrides()
        {
            var map = new List<BlendshapeMapEntry>
            {
                new BlendshapeMapEntry("mouthSmileLeft", "smile", 0.5f),   // case-insensitive shape name
                new BlendshapeMapEntry("mouthSmileRight", "Smile", 0.5f),  // two curves drive one shape: max
                new BlendshapeMapEntry("MouthClose", "mouthSmileLeft"),    // overrides the automatic match of that shape
                new BlendshapeMapEntry("notAName", "Smile"),
                new BlendshapeMapEntry("jawOpen", "missingOnThisMesh"),
            };
            var warnings = new List<string>();
            var b = BlendshapeBinder.Bind(Mesh, map, true, warnings);
            Assert.AreEqual(1, warnings.Count);
            var curves = new float[52];
            curves[23] = 0.4f; curves[24] = 0.8f; curves[18] = 0.3f; curves[17] = 1f; curves[0] = 0.25f;
            var w = new float[Mesh.Length]; var touched = new bool[Mesh.Length];
            BlendshapeBinder.Evaluate(b, curves, 100f, 1f, w, touched);
            Assert.AreEqual(100f, w[0], 1e-4);           // jawOpen
            Assert.AreEqual(25f, w[1], 1e-4);            // eyeBlinkLeft
            Assert.AreEqual(40f, w[2], 1e-4);            // max(0.4*0.5, 0.8*0.5)
            Assert.AreEqual(30f, w[3], 1e-4);            // mouthClose, not mouthSmileLeft
            Assert.IsFalse(touched[4]);
        }

        [Test]
        public void WeightsAreClampedAndScaled()
        {
            var b = BlendshapeBinder.Bind(new[] { "jawOpen" }, new List<BlendshapeMapEntry> { new BlendshapeMapEntry("jawOpen", "jawOpen", 3f) }, false, null);
            var curves = new float[52]; curves[17] = 0.5f;
            var w = new float[1]; var t = new bool[1];
            BlendshapeBinder.Evaluate(b, curves, 100f, 1f, w, t);
            Assert.AreEqual(100f, w[0], 1e-5);
            curves[17] = -0.2f;
            BlendshapeBinder.Evaluate(b, curves, 100f, 1f, w, t);
            Assert.AreEqual(0f, w[0], 1e-6);
            curves[17] = 0.1f;
            BlendshapeBinder.Evaluate(b, curves, 1f, 0.5f, w, t);  // 0..1 scale (e.g. VRM), half intensity
            Assert.AreEqual(0.15f, w[0], 1e-6);
        }

        [Test]
        public void FindShapeFallsBackToCaseAndPrefix()
        {
            var names = new[] { "Head.jawOpen", "JAWFORWARD" };
            Assert.AreEqual(0, BlendshapeBinder.FindShape(names, "Head.jawOpen"));
            Assert.AreEqual(0, BlendshapeBinder.FindShape(names, "jawopen"));
            Assert.AreEqual(1, BlendshapeBinder.FindShape(names, "jawForward"));
            Assert.AreEqual(-1, BlendshapeBinder.FindShape(names, "jawLeft"));
        }
    }

    [TestFixture]
    public class HumanoidNamesTests
    {
        [Test]
        public void ServerSkeletonNamesAreUnityHumanoidNames()
        {
            // emoanim_server/gesture/skeleton.py uses Unity's HumanBodyBones names
            foreach (var n in new[] { "Hips", "Spine", "Chest", "UpperChest", "Neck", "Head", "LeftShoulder", "LeftUpperArm",
                                      "LeftLowerArm", "LeftHand", "RightUpperLeg", "RightLowerLeg", "RightFoot", "RightToes" })
                Assert.AreEqual(n, HumanoidNames.ToHumanoid(n));
        }

        [Test]
        public void MixamoRigifyAndHumanoidNames()
        {
            Assert.AreEqual("Hips", HumanoidNames.ToHumanoid("mixamorig:Hips"));
            Assert.AreEqual("LeftUpperArm", HumanoidNames.ToHumanoid("mixamorig:LeftArm"));
            Assert.AreEqual("LeftLowerArm", HumanoidNames.ToHumanoid("mixamorig:LeftForeArm"));
            Assert.AreEqual("RightUpperLeg", HumanoidNames.ToHumanoid("mixamorig:RightUpLeg"));
            Assert.AreEqual("Chest", HumanoidNames.ToHumanoid("mixamorig:Spine1"));
            Assert.AreEqual("UpperChest", HumanoidNames.ToHumanoid("Spine2"));
            Assert.AreEqual("LeftUpperArm", HumanoidNames.ToHumanoid("upper_arm.L"));
            Assert.AreEqual("RightLowerLeg", HumanoidNames.ToHumanoid("shin.R"));
            Assert.AreEqual("Chest", HumanoidNames.ToHumanoid("spine.001"));
            Assert.AreEqual("Hips", HumanoidNames.ToHumanoid("pelvis"));
            Assert.AreEqual("Head", HumanoidNames.ToHumanoid("face"));
            Assert.AreEqual("LeftUpperArm", HumanoidNames.ToHumanoid("LeftUpperArm"));
            Assert.AreEqual("RightHand", HumanoidNames.ToHumanoid("J_Bip_R_Hand".Replace("J_Bip_R_", "Right")));
            Assert.AreEqual("LeftIndexProximal", HumanoidNames.ToHumanoid("LeftIndexProximal"));
            Assert.AreEqual("RightLittleDistal", HumanoidNames.ToHumanoid("mixamorig:RightHandPinky3"));
            Assert.IsNull(HumanoidNames.ToHumanoid("pelvis.L"));
            Assert.IsNull(HumanoidNames.ToHumanoid("Wolf3D_Head"));
        }
    }
}
